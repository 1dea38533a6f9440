//! Comment syntax per language, chosen by file name, extension or shebang.
//!
//! Each language is a name plus a static `Syntax` table that the one
//! generic lexer in [`crate::lexer`] interprets; adding a language means
//! adding a table row, never a lexer.

use std::fmt;
use std::sync::Arc;

#[rustfmt::skip]
mod linguist;

/// A language's comment and string syntax, as the lexer needs it.
#[derive(Clone, Copy)]
pub struct Language {
    /// Human-readable name shown in outputs (`"Rust"`, `"Shell"`, `"YAML"`).
    pub name: &'static str,
    pub(crate) syntax: &'static Syntax,
}

/// Names are unique (a test checks it), so they identify a language.
impl PartialEq for Language {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Language {}

impl fmt::Debug for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Language")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Where a line-comment marker may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum At {
    Anywhere,
    /// After white space, `;` or the start of the line (shell `#`, so that
    /// `$#` and `${#var}` are not comments).
    WordStart,
    /// After white space or the start of the line (YAML `#`, so that
    /// `http://host/#anchor` is not a comment).
    AfterSpace,
    /// Only white space before it on its line (Dockerfile, INI).
    LineStart,
    /// In the first column (fixed-form Fortran `C`).
    Column1,
    /// Anywhere but the sixth column, where fixed-form Fortran marks a
    /// continuation line with any character, `!` included.
    NotColumn6,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct LineMarker {
    pub text: &'static str,
    pub at: At,
    /// Match ASCII case-insensitively (`REM`).
    pub ci: bool,
    /// Bytes that, right after the marker (and its repeats), mean this is not
    /// a comment: Haskell's `-->` operator, PHP's `#[` attribute.
    pub not_before: &'static [u8],
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockMarker {
    pub open: &'static str,
    pub close: &'static str,
    pub nests: bool,
    /// Open and close only count at the start of a line (Ruby `=begin`,
    /// Perl POD, MATLAB `%{`); the closing line is not part of the text.
    pub line_start: bool,
}

/// When a string opener is really a string opener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guard {
    Always,
    /// Not after a value (MATLAB's `a'` is a transpose).
    NotAfterValue,
    /// Only where a YAML scalar can start (`don't` is a plain scalar).
    ValueStart,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct StringRule {
    pub open: &'static str,
    /// Empty: the string runs to the end of the line (Zig `\\`).
    pub close: &'static str,
    pub escape: Option<u8>,
    /// `''` inside `'…'` is a quote, not the end (SQL, VB, Pascal).
    pub doubled: bool,
    /// May span lines; otherwise an unterminated string ends at the line end.
    pub multiline: bool,
    pub guard: Guard,
}

/// Here-documents the lexer skips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Heredoc {
    None,
    /// `<<EOF`, `<<-EOF`, `<< 'EOF'`.
    Shell,
    /// `<<~EOS`, `<<-EOS`, `<<"EOS"`, `<<EOS` (upper-case word): Ruby, Perl, HCL.
    Script,
    /// `<<<EOT`, `<<<'EOT'`.
    Php,
}

/// Raw string literals whose delimiters need counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Raw {
    None,
    /// `r"…"`, `r#"…"#`, `br##"…"##`.
    Rust,
    /// `#"…"#`, `#"""…"""#`.
    Swift,
    /// `R"delim(…)delim"`, `u8R"(…)"`.
    Cpp,
}

/// Everything the lexer needs to know about one language.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Syntax {
    pub line: &'static [LineMarker],
    pub blocks: &'static [BlockMarker],
    /// Tried in order: list `"""` before `"`.
    pub strings: &'static [StringRule],
    /// `'x'` is a character literal, but `'a` (lifetime, type variable) and
    /// `x'` (prime, transpose, digit separator) are not strings.
    pub char_literals: bool,
    /// Outside strings this byte escapes the next one (shell `\#`, TeX `\%`,
    /// Clojure `\;`).
    pub escape: Option<u8>,
    /// Outside strings this byte, when it starts a token, makes the next
    /// character a literal (Erlang `$"`, Elixir `?#`).
    pub char_prefix: Option<u8>,
    pub heredoc: Heredoc,
    pub raw: Raw,
    /// Lua/CMake long brackets: `[==[ … ]==]` strings, and a line marker
    /// followed by one is a block comment.
    pub long_brackets: bool,
    /// `/re/` regular expression literals (JavaScript family, Ruby, Perl).
    pub js_regex: bool,
    /// JavaScript template literals: `` `…${ expr }…` ``, where the
    /// expression is code again and may hold other template literals.
    pub js_templates: bool,
    /// Ruby `%q(…)`, `%w[…]`, `%r{…}`, `%(…)` literals.
    pub ruby_percent: bool,
    /// Perl quote-like operators: `q(…)`, `qq{…}`, `qw//`, `m{…}`, `qr//`,
    /// `s{…}{…}`, `tr/…/…/`, `y///`.
    pub perl_quotes: bool,
    /// PostgreSQL dollar quoting: `$$…$$`, `$tag$…$tag$`. After `AS` or
    /// `DO` it is a function body, lexed as code (its comments are real);
    /// anywhere else it is a string.
    pub dollar_quotes: bool,
    /// reStructuredText comments: `..` at the start of a line, its text on
    /// that line and/or on the following lines indented further, unless
    /// explicit markup (a directive, target, footnote or substitution)
    /// follows the `..`.
    pub rst_comments: bool,
}

const fn lm(text: &'static str) -> LineMarker {
    LineMarker {
        text,
        at: At::Anywhere,
        ci: false,
        not_before: b"",
    }
}

const fn lm_at(text: &'static str, at: At) -> LineMarker {
    LineMarker {
        text,
        at,
        ci: false,
        not_before: b"",
    }
}

const IDENT_BYTES: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";
/// Haskell symbol characters: `--` followed by one is an operator.
const HASKELL_SYMBOLS: &[u8] = b"!#$%&*+./<=>?@\\^|~:";

const fn word_ci(text: &'static str, at: At) -> LineMarker {
    LineMarker {
        text,
        at,
        ci: true,
        not_before: IDENT_BYTES,
    }
}

const fn blk(open: &'static str, close: &'static str) -> BlockMarker {
    BlockMarker {
        open,
        close,
        nests: false,
        line_start: false,
    }
}

const fn nested(open: &'static str, close: &'static str) -> BlockMarker {
    BlockMarker {
        open,
        close,
        nests: true,
        line_start: false,
    }
}

const fn line_block(open: &'static str, close: &'static str) -> BlockMarker {
    BlockMarker {
        open,
        close,
        nests: false,
        line_start: true,
    }
}

const fn st(
    open: &'static str,
    close: &'static str,
    escape: Option<u8>,
    multiline: bool,
) -> StringRule {
    StringRule {
        open,
        close,
        escape,
        doubled: false,
        multiline,
        guard: Guard::Always,
    }
}

const fn doubled(open: &'static str, close: &'static str, multiline: bool) -> StringRule {
    StringRule {
        open,
        close,
        escape: None,
        doubled: true,
        multiline,
        guard: Guard::Always,
    }
}

const BS: Option<u8> = Some(b'\\');
const DQ: StringRule = st("\"", "\"", BS, false);
const SQ: StringRule = st("'", "'", BS, false);
const DQ_ML: StringRule = st("\"", "\"", BS, true);
const SQ_ML: StringRule = st("'", "'", BS, true);
const BT_ML: StringRule = st("`", "`", BS, true);
const BT_RAW: StringRule = st("`", "`", None, true);
const TDQ: StringRule = st("\"\"\"", "\"\"\"", BS, true);
const TSQ: StringRule = st("'''", "'''", BS, true);
const TDQ_RAW: StringRule = st("\"\"\"", "\"\"\"", None, true);

const SLASHES: LineMarker = lm("//");
const HASH: LineMarker = lm("#");
const DASHES: LineMarker = lm("--");
const C_BLOCK: BlockMarker = blk("/*", "*/");
const C_NESTED: BlockMarker = nested("/*", "*/");
const HTML_BLOCK: BlockMarker = blk("<!--", "-->");

const BASE: Syntax = Syntax {
    line: &[],
    blocks: &[],
    strings: &[],
    char_literals: false,
    escape: None,
    char_prefix: None,
    heredoc: Heredoc::None,
    raw: Raw::None,
    long_brackets: false,
    js_regex: false,
    js_templates: false,
    ruby_percent: false,
    perl_quotes: false,
    dollar_quotes: false,
    rst_comments: false,
};

const C_LIKE: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[C_BLOCK],
    strings: &[DQ],
    char_literals: true,
    raw: Raw::Cpp,
    ..BASE
};
const C_SHARP: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[C_BLOCK],
    strings: &[
        st("\"\"\"", "\"\"\"", None, true),
        doubled("@$\"", "\"", true),
        doubled("@\"", "\"", true),
        DQ,
    ],
    char_literals: true,
    ..BASE
};
const JAVA: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[C_BLOCK],
    strings: &[TDQ, DQ, SQ],
    ..BASE
};
const KOTLIN: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[C_NESTED],
    strings: &[TDQ_RAW, DQ, SQ],
    ..BASE
};
const SCALA: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[C_NESTED],
    strings: &[TDQ_RAW, DQ],
    char_literals: true,
    ..BASE
};
const GROOVY: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[C_BLOCK],
    strings: &[TDQ, TSQ, DQ, SQ],
    ..BASE
};
const GO: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[C_BLOCK],
    strings: &[DQ, BT_RAW, SQ],
    ..BASE
};
const RUST: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[C_NESTED],
    strings: &[DQ_ML],
    char_literals: true,
    raw: Raw::Rust,
    ..BASE
};
const SWIFT: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[C_NESTED],
    strings: &[TDQ, DQ],
    raw: Raw::Swift,
    ..BASE
};
const DART: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[C_NESTED],
    strings: &[TDQ, TSQ, DQ, SQ],
    ..BASE
};
const JS: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[C_BLOCK],
    strings: &[DQ, SQ],
    js_regex: true,
    js_templates: true,
    ..BASE
};
const JSONC: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[C_BLOCK],
    strings: &[DQ],
    ..BASE
};
const PHP: Syntax = Syntax {
    line: &[
        SLASHES,
        LineMarker {
            not_before: b"[",
            ..HASH
        },
    ],
    blocks: &[C_BLOCK],
    strings: &[DQ_ML, SQ_ML, BT_ML],
    heredoc: Heredoc::Php,
    ..BASE
};
const PYTHON: Syntax = Syntax {
    line: &[HASH],
    strings: &[TDQ, TSQ, DQ, SQ],
    ..BASE
};
const RUBY: Syntax = Syntax {
    line: &[HASH],
    blocks: &[line_block("=begin", "=end")],
    strings: &[DQ_ML, SQ_ML, BT_ML],
    heredoc: Heredoc::Script,
    js_regex: true,
    ruby_percent: true,
    ..BASE
};
const PERL: Syntax = Syntax {
    line: &[lm_at("#", At::WordStart)],
    blocks: &[
        line_block("=pod", "=cut"),
        line_block("=head", "=cut"),
        line_block("=begin", "=cut"),
        line_block("=over", "=cut"),
        line_block("=item", "=cut"),
        line_block("=for", "=cut"),
        line_block("=encoding", "=cut"),
    ],
    strings: &[DQ_ML, SQ_ML, BT_ML],
    heredoc: Heredoc::Script,
    js_regex: true,
    perl_quotes: true,
    ..BASE
};
const LUA: Syntax = Syntax {
    line: &[DASHES],
    strings: &[DQ, SQ],
    long_brackets: true,
    ..BASE
};
const R: Syntax = Syntax {
    line: &[HASH],
    strings: &[DQ_ML, SQ_ML, st("`", "`", BS, false)],
    ..BASE
};
const JULIA: Syntax = Syntax {
    line: &[HASH],
    blocks: &[nested("#=", "=#")],
    strings: &[TDQ, DQ_ML, BT_ML],
    char_literals: true,
    ..BASE
};
const HASKELL: Syntax = Syntax {
    line: &[LineMarker {
        not_before: HASKELL_SYMBOLS,
        ..DASHES
    }],
    blocks: &[nested("{-", "-}")],
    strings: &[DQ],
    char_literals: true,
    ..BASE
};
const OCAML: Syntax = Syntax {
    blocks: &[nested("(*", "*)")],
    strings: &[DQ_ML],
    char_literals: true,
    ..BASE
};
const FSHARP: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[nested("(*", "*)")],
    strings: &[TDQ_RAW, doubled("@\"", "\"", true), DQ_ML],
    char_literals: true,
    ..BASE
};
const ELIXIR: Syntax = Syntax {
    line: &[HASH],
    strings: &[TDQ, TSQ, DQ_ML, SQ_ML],
    char_prefix: Some(b'?'),
    ..BASE
};
const ERLANG: Syntax = Syntax {
    line: &[lm("%")],
    strings: &[DQ_ML, SQ],
    char_prefix: Some(b'$'),
    ..BASE
};
const CLOJURE: Syntax = Syntax {
    line: &[lm(";")],
    strings: &[DQ_ML],
    escape: BS,
    ..BASE
};
const LISP: Syntax = Syntax {
    line: &[lm(";")],
    blocks: &[nested("#|", "|#")],
    strings: &[DQ_ML],
    escape: BS,
    ..BASE
};
const ZIG: Syntax = Syntax {
    line: &[SLASHES],
    strings: &[st("\\\\", "", None, false), DQ, SQ],
    ..BASE
};
const NIM: Syntax = Syntax {
    line: &[HASH],
    blocks: &[nested("##[", "]##"), nested("#[", "]#")],
    strings: &[TDQ_RAW, DQ],
    char_literals: true,
    ..BASE
};
const D: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[C_BLOCK, nested("/+", "+/")],
    strings: &[DQ_ML, BT_RAW],
    char_literals: true,
    ..BASE
};
const FORTRAN: Syntax = Syntax {
    line: &[lm("!")],
    strings: &[doubled("'", "'", false), doubled("\"", "\"", false)],
    ..BASE
};
const FORTRAN_FIXED: Syntax = Syntax {
    line: &[
        lm_at("!", At::NotColumn6),
        LineMarker {
            text: "c",
            at: At::Column1,
            ci: true,
            not_before: b"",
        },
        lm_at("*", At::Column1),
    ],
    ..FORTRAN
};
const PASCAL: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[blk("{", "}"), blk("(*", "*)")],
    strings: &[doubled("'", "'", false)],
    ..BASE
};
const ADA: Syntax = Syntax {
    line: &[DASHES],
    strings: &[doubled("\"", "\"", false)],
    char_literals: true,
    ..BASE
};
const VB: Syntax = Syntax {
    line: &[lm("'"), word_ci("rem", At::WordStart)],
    strings: &[doubled("\"", "\"", false)],
    ..BASE
};
const POWERSHELL: Syntax = Syntax {
    line: &[lm_at("#", At::WordStart)],
    blocks: &[blk("<#", "#>")],
    strings: &[
        st("@\"", "\"@", None, true),
        st("@'", "'@", None, true),
        StringRule {
            doubled: true,
            ..st("\"", "\"", Some(b'`'), true)
        },
        doubled("'", "'", true),
    ],
    ..BASE
};
const SHELL: Syntax = Syntax {
    line: &[lm_at("#", At::WordStart)],
    strings: &[st("'", "'", None, true), DQ_ML, BT_ML],
    escape: BS,
    heredoc: Heredoc::Shell,
    ..BASE
};
const FISH: Syntax = Syntax {
    strings: &[SQ_ML, DQ_ML],
    heredoc: Heredoc::None,
    ..SHELL
};
/// ANSI SQL with the dialects' additions: MySQL `#` comments (but not
/// T-SQL `#temp` tables), PostgreSQL `E'\''` escape strings and dollar
/// quoting.
const SQL: Syntax = Syntax {
    line: &[
        DASHES,
        LineMarker {
            text: "#",
            at: At::WordStart,
            ci: false,
            not_before: IDENT_BYTES,
        },
    ],
    blocks: &[C_BLOCK],
    strings: &[
        StringRule {
            guard: Guard::NotAfterValue,
            ..st("E'", "'", BS, true)
        },
        StringRule {
            guard: Guard::NotAfterValue,
            ..st("e'", "'", BS, true)
        },
        doubled("'", "'", true),
        doubled("\"", "\"", true),
        st("`", "`", None, false),
    ],
    dollar_quotes: true,
    ..BASE
};
const SOLIDITY: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[C_BLOCK],
    strings: &[DQ, SQ],
    ..BASE
};
const VERILOG: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[C_BLOCK],
    strings: &[DQ],
    ..BASE
};
const VHDL: Syntax = Syntax {
    line: &[DASHES],
    blocks: &[C_BLOCK],
    strings: &[doubled("\"", "\"", false)],
    char_literals: true,
    ..BASE
};
const MATLAB: Syntax = Syntax {
    line: &[lm("%")],
    blocks: &[line_block("%{", "%}")],
    strings: &[
        StringRule {
            guard: Guard::NotAfterValue,
            ..doubled("'", "'", false)
        },
        doubled("\"", "\"", false),
    ],
    ..BASE
};
/// `;` (NASM, MASM), `//` and `#` (GNU as), `@` (GNU as for ARM; not
/// `foo@PLT` or `,@function`).
const ASSEMBLY: Syntax = Syntax {
    line: &[
        lm(";"),
        SLASHES,
        lm_at("#", At::LineStart),
        lm_at("@", At::WordStart),
    ],
    blocks: &[C_BLOCK],
    strings: &[DQ],
    ..BASE
};
const HCL: Syntax = Syntax {
    line: &[HASH, SLASHES],
    blocks: &[C_BLOCK],
    strings: &[DQ],
    heredoc: Heredoc::Script,
    ..BASE
};
const PROTOBUF: Syntax = Syntax {
    line: &[SLASHES],
    blocks: &[C_BLOCK],
    strings: &[DQ, SQ],
    ..BASE
};
const GRAPHQL: Syntax = Syntax {
    line: &[HASH],
    strings: &[TDQ, DQ],
    ..BASE
};
const VUE: Syntax = Syntax {
    line: &[lm_at("//", At::WordStart)],
    blocks: &[HTML_BLOCK, C_BLOCK],
    strings: &[DQ, SQ],
    js_templates: true,
    ..BASE
};
const CSS: Syntax = Syntax {
    blocks: &[C_BLOCK],
    strings: &[DQ, SQ],
    ..BASE
};
const SCSS: Syntax = Syntax {
    line: &[lm_at("//", At::WordStart)],
    ..CSS
};
/// Jinja/Nunjucks `{# #}`, Handlebars `{{!-- --}}`, ERB `<%# %>`, and HTML.
const TEMPLATE: Syntax = Syntax {
    blocks: &[
        HTML_BLOCK,
        blk("{#", "#}"),
        blk("{{!--", "--}}"),
        blk("{{!", "}}"),
        blk("<%#", "%>"),
    ],
    ..BASE
};
/// HTML comments, except inside code fences and code spans (examples of
/// annotations in documentation are not debt).
const MARKDOWN: Syntax = Syntax {
    blocks: &[HTML_BLOCK],
    strings: &[
        st("```", "```", None, true),
        st("~~~", "~~~", None, true),
        st("`", "`", None, false),
    ],
    ..BASE
};
const MDX: Syntax = Syntax {
    blocks: &[HTML_BLOCK, C_BLOCK],
    ..BASE
};
const HTML: Syntax = Syntax {
    blocks: &[HTML_BLOCK],
    ..BASE
};
const YAML: Syntax = Syntax {
    line: &[lm_at("#", At::AfterSpace)],
    strings: &[
        StringRule {
            guard: Guard::ValueStart,
            ..DQ
        },
        StringRule {
            guard: Guard::ValueStart,
            ..doubled("'", "'", false)
        },
    ],
    ..BASE
};
const TOML: Syntax = Syntax {
    line: &[HASH],
    strings: &[
        TDQ,
        st("'''", "'''", None, true),
        DQ,
        st("'", "'", None, false),
    ],
    ..BASE
};
const INI: Syntax = Syntax {
    line: &[lm_at("#", At::LineStart), lm_at(";", At::LineStart)],
    ..BASE
};
const PROPERTIES: Syntax = Syntax {
    line: &[lm_at("#", At::LineStart), lm_at("!", At::LineStart)],
    ..BASE
};
/// `#` at the start of a line: ignore files, Dockerfile.
const HASH_LINES: Syntax = Syntax {
    line: &[lm_at("#", At::LineStart)],
    ..BASE
};
/// `#` starting a word, `;` starting a line: `.conf`, `.env`, `.editorconfig`.
const CONF: Syntax = Syntax {
    line: &[lm_at("#", At::WordStart), lm_at(";", At::LineStart)],
    ..BASE
};
/// `#` starting a word: pip requirements, where `url#egg=x` is no comment.
const HASH_WORDS: Syntax = Syntax {
    line: &[lm_at("#", At::WordStart)],
    ..BASE
};
const MAKE: Syntax = Syntax {
    line: &[HASH],
    strings: &[DQ, SQ],
    escape: BS,
    ..BASE
};
const CMAKE: Syntax = Syntax {
    line: &[HASH],
    strings: &[DQ_ML],
    long_brackets: true,
    ..BASE
};
const NIX: Syntax = Syntax {
    line: &[HASH],
    blocks: &[C_BLOCK],
    strings: &[DQ_ML, st("''", "''", None, true)],
    ..BASE
};
const BATCH: Syntax = Syntax {
    line: &[
        word_ci("rem", At::LineStart),
        word_ci("@rem", At::LineStart),
        lm_at("::", At::LineStart),
    ],
    ..BASE
};
const TEX: Syntax = Syntax {
    line: &[lm("%")],
    escape: BS,
    ..BASE
};
const VIM: Syntax = Syntax {
    line: &[lm_at("\"", At::LineStart)],
    ..BASE
};
const COFFEE: Syntax = Syntax {
    line: &[HASH],
    blocks: &[blk("###", "###")],
    strings: &[TDQ, TSQ, DQ_ML, SQ_ML],
    ..BASE
};
const JSONNET: Syntax = Syntax {
    line: &[SLASHES, HASH],
    blocks: &[C_BLOCK],
    strings: &[st("|||", "|||", None, true), DQ, SQ],
    ..BASE
};

/// Data and prose formats: known, and without comments.
const NO_COMMENTS: Syntax = BASE;
/// reStructuredText: see [`Syntax::rst_comments`].
const RST: Syntax = Syntax {
    rst_comments: true,
    ..BASE
};

const fn lang(name: &'static str, syntax: &'static Syntax) -> Language {
    Language { name, syntax }
}

const L_C: Language = lang("C", &C_LIKE);
const L_CPP: Language = lang("C++", &C_LIKE);
const L_CUDA: Language = lang("CUDA", &C_LIKE);
const L_OBJC: Language = lang("Objective-C", &C_LIKE);
const L_CSHARP: Language = lang("C#", &C_SHARP);
const L_JAVA: Language = lang("Java", &JAVA);
const L_KOTLIN: Language = lang("Kotlin", &KOTLIN);
const L_SCALA: Language = lang("Scala", &SCALA);
const L_GROOVY: Language = lang("Groovy", &GROOVY);
const L_GRADLE: Language = lang("Gradle", &GROOVY);
const L_GO: Language = lang("Go", &GO);
const L_RUST: Language = lang("Rust", &RUST);
const L_SWIFT: Language = lang("Swift", &SWIFT);
const L_DART: Language = lang("Dart", &DART);
const L_JS: Language = lang("JavaScript", &JS);
const L_TS: Language = lang("TypeScript", &JS);
const L_JSONC: Language = lang("JSON with comments", &JSONC);
const L_PHP: Language = lang("PHP", &PHP);
const L_PYTHON: Language = lang("Python", &PYTHON);
const L_STARLARK: Language = lang("Starlark", &PYTHON);
const L_RUBY: Language = lang("Ruby", &RUBY);
const L_PERL: Language = lang("Perl", &PERL);
const L_LUA: Language = lang("Lua", &LUA);
const L_R: Language = lang("R", &R);
const L_JULIA: Language = lang("Julia", &JULIA);
const L_HASKELL: Language = lang("Haskell", &HASKELL);
const L_ELM: Language = lang("Elm", &HASKELL);
const L_OCAML: Language = lang("OCaml", &OCAML);
const L_FSHARP: Language = lang("F#", &FSHARP);
const L_ELIXIR: Language = lang("Elixir", &ELIXIR);
const L_ERLANG: Language = lang("Erlang", &ERLANG);
const L_CLOJURE: Language = lang("Clojure", &CLOJURE);
const L_LISP: Language = lang("Lisp", &LISP);
const L_SCHEME: Language = lang("Scheme", &LISP);
const L_RACKET: Language = lang("Racket", &LISP);
const L_EMACS_LISP: Language = lang("Emacs Lisp", &LISP);
const L_ZIG: Language = lang("Zig", &ZIG);
const L_NIM: Language = lang("Nim", &NIM);
const L_D: Language = lang("D", &D);
const L_FORTRAN: Language = lang("Fortran", &FORTRAN);
const L_FORTRAN_FIXED: Language = lang("Fortran (fixed form)", &FORTRAN_FIXED);
const L_PASCAL: Language = lang("Pascal", &PASCAL);
const L_ADA: Language = lang("Ada", &ADA);
const L_VB: Language = lang("Visual Basic", &VB);
const L_POWERSHELL: Language = lang("PowerShell", &POWERSHELL);
const L_SHELL: Language = lang("Shell", &SHELL);
const L_FISH: Language = lang("Fish", &FISH);
const L_SQL: Language = lang("SQL", &SQL);
const L_SOLIDITY: Language = lang("Solidity", &SOLIDITY);
const L_VERILOG: Language = lang("Verilog", &VERILOG);
const L_SYSTEMVERILOG: Language = lang("SystemVerilog", &VERILOG);
const L_VHDL: Language = lang("VHDL", &VHDL);
const L_MATLAB: Language = lang("MATLAB", &MATLAB);
const L_ASSEMBLY: Language = lang("Assembly", &ASSEMBLY);
const L_HCL: Language = lang("HCL", &HCL);
const L_TERRAFORM: Language = lang("Terraform", &HCL);
const L_PROTOBUF: Language = lang("Protocol Buffers", &PROTOBUF);
const L_THRIFT: Language = lang("Thrift", &JSONNET);
const L_GRAPHQL: Language = lang("GraphQL", &GRAPHQL);
const L_VUE: Language = lang("Vue", &VUE);
const L_SVELTE: Language = lang("Svelte", &VUE);
const L_ASTRO: Language = lang("Astro", &VUE);
const L_CSS: Language = lang("CSS", &CSS);
const L_SCSS: Language = lang("SCSS", &SCSS);
const L_LESS: Language = lang("Less", &SCSS);
const L_HTML: Language = lang("HTML", &HTML);
const L_XML: Language = lang("XML", &HTML);
const L_MARKDOWN: Language = lang("Markdown", &MARKDOWN);
const L_YAML: Language = lang("YAML", &YAML);
const L_TOML: Language = lang("TOML", &TOML);
const L_INI: Language = lang("INI", &INI);
const L_PROPERTIES: Language = lang("Properties", &PROPERTIES);
const L_CONFIG: Language = lang("Config", &CONF);
const L_IGNORE: Language = lang("Ignore list", &HASH_LINES);
const L_DOCKERFILE: Language = lang("Dockerfile", &HASH_LINES);
const L_MAKEFILE: Language = lang("Makefile", &MAKE);
const L_CMAKE: Language = lang("CMake", &CMAKE);
const L_NIX: Language = lang("Nix", &NIX);
const L_BATCH: Language = lang("Batch", &BATCH);
const L_TEX: Language = lang("TeX", &TEX);
const L_VIM: Language = lang("Vim script", &VIM);
const L_COFFEE: Language = lang("CoffeeScript", &COFFEE);
const L_JSONNET: Language = lang("Jsonnet", &JSONNET);
const L_AWK: Language = lang("Awk", &MAKE);
const L_TEMPLATE: Language = lang("Template", &TEMPLATE);
const L_MDX: Language = lang("MDX", &MDX);
const L_TCL: Language = lang("Tcl", &HASH_WORDS);
const L_GDSCRIPT: Language = lang("GDScript", &PYTHON);
const L_HAXE: Language = lang("Haxe", &JS);
const L_CRYSTAL: Language = lang("Crystal", &RUBY);
const L_PURESCRIPT: Language = lang("PureScript", &HASKELL);
const L_SML: Language = lang("Standard ML", &OCAML);
const L_PRISMA: Language = lang("Prisma", &JSONC);
const L_RST: Language = lang("reStructuredText", &RST);
const L_REQUIREMENTS: Language = lang("pip requirements", &HASH_WORDS);

/// Every language paydown knows, for [`language_by_name`].
const ALL: &[Language] = &[
    L_C,
    L_CPP,
    L_CUDA,
    L_OBJC,
    L_CSHARP,
    L_JAVA,
    L_KOTLIN,
    L_SCALA,
    L_GROOVY,
    L_GRADLE,
    L_GO,
    L_RUST,
    L_SWIFT,
    L_DART,
    L_JS,
    L_TS,
    L_JSONC,
    L_PHP,
    L_PYTHON,
    L_STARLARK,
    L_RUBY,
    L_PERL,
    L_LUA,
    L_R,
    L_JULIA,
    L_HASKELL,
    L_ELM,
    L_OCAML,
    L_FSHARP,
    L_ELIXIR,
    L_ERLANG,
    L_CLOJURE,
    L_LISP,
    L_SCHEME,
    L_RACKET,
    L_EMACS_LISP,
    L_ZIG,
    L_NIM,
    L_D,
    L_FORTRAN,
    L_FORTRAN_FIXED,
    L_PASCAL,
    L_ADA,
    L_VB,
    L_POWERSHELL,
    L_SHELL,
    L_FISH,
    L_SQL,
    L_SOLIDITY,
    L_VERILOG,
    L_SYSTEMVERILOG,
    L_VHDL,
    L_MATLAB,
    L_ASSEMBLY,
    L_HCL,
    L_TERRAFORM,
    L_PROTOBUF,
    L_THRIFT,
    L_GRAPHQL,
    L_VUE,
    L_SVELTE,
    L_ASTRO,
    L_CSS,
    L_SCSS,
    L_LESS,
    L_HTML,
    L_XML,
    L_MARKDOWN,
    L_YAML,
    L_TOML,
    L_INI,
    L_PROPERTIES,
    L_CONFIG,
    L_IGNORE,
    L_DOCKERFILE,
    L_MAKEFILE,
    L_CMAKE,
    L_NIX,
    L_BATCH,
    L_TEX,
    L_VIM,
    L_COFFEE,
    L_JSONNET,
    L_AWK,
    L_REQUIREMENTS,
    L_MDX,
    L_TEMPLATE,
    L_TCL,
    L_GDSCRIPT,
    L_HAXE,
    L_CRYSTAL,
    L_PURESCRIPT,
    L_SML,
    L_PRISMA,
    L_RST,
];

/// Every language paydown knows, for listings such as `--help` or a README.
pub fn all_languages() -> &'static [Language] {
    ALL
}

/// The language with this display name (ASCII case-insensitive), for
/// configuration that maps file patterns to languages.
pub fn language_by_name(name: &str) -> Option<Language> {
    ALL.iter()
        .chain(linguist::LANGUAGES)
        .copied()
        .find(|l| l.name.eq_ignore_ascii_case(name))
}

/// The language of a file, or `None` when paydown does not know its type
/// or the type has no comment syntax (JSON, CSV, plain text).
///
/// Tried in order: paydown's own table by exact file name (`Dockerfile`,
/// `CMakeLists.txt`, `.bashrc`) and extension (case-insensitive), then
/// GitHub Linguist's file names and extensions (content heuristics where
/// an extension is shared), then the shebang line, then an Emacs or Vim
/// modeline in the first or last lines.
pub fn language_for_path(path: &str, text: &str) -> Option<Language> {
    detect(path, text).filter(Language::has_comments)
}

/// What the path alone says about a file, before it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathClass {
    /// A binary format by its extension (images, archives, fonts,
    /// compiled code): the file need not be read.
    Binary,
    /// The name or extension settles it, and the type has no comments
    /// (JSON, CSV, images' text formats…): the file need not be read.
    NoComments,
    /// Anything else: read the file and ask [`language_for_path`].
    ReadIt,
}

/// Whether a file can be skipped unread: its name or extension is known,
/// its type has no comment syntax, and (having an extension that settles
/// its type) no shebang or modeline is consulted for it.
pub fn classify_path(path: &str) -> PathClass {
    let name = path.rsplit('/').next().unwrap_or(path);
    if by_file_name(name).is_some() {
        return PathClass::ReadIt;
    }
    if is_binary_extension(name) {
        return PathClass::Binary;
    }
    match linguist_by_name_or_extension(name, None) {
        Some(lang) if !lang.has_comments() => PathClass::NoComments,
        _ => PathClass::ReadIt,
    }
}

/// Extensions of binary formats Linguist does not list (it lists only
/// text), which never hold comments.
fn is_binary_extension(name: &str) -> bool {
    const BINARY: &[&str] = &[
        "7z", "a", "avif", "bin", "bmp", "bz2", "class", "dll", "dylib", "eot", "exe", "gif", "gz",
        "ico", "jar", "jpeg", "jpg", "lib", "mo", "mp3", "mp4", "o", "obj", "otf", "pdf", "png",
        "pyc", "pyd", "pyo", "so", "tar", "tgz", "ttf", "wasm", "webm", "webp", "whl", "woff",
        "woff2", "xz", "zip", "zst",
    ];
    // Compared lowercased byte by byte: asked of every file of a scan, a
    // lowercased copy of the name cost an allocation each.
    let Some(dot) = name.rfind('.').filter(|&d| d > 0) else {
        return false;
    };
    let ext = &name.as_bytes()[dot + 1..];
    BINARY
        .binary_search_by(|b| b.bytes().cmp(ext.iter().map(|c| c.to_ascii_lowercase())))
        .is_ok()
}

fn lower_extension(name: &str) -> Option<String> {
    let dot = name.rfind('.').filter(|&d| d > 0)?;
    Some(name[dot + 1..].to_ascii_lowercase())
}

/// The language `.gitattributes` names with `linguist-language=NAME`:
/// a display name or one of Linguist's aliases, case-insensitively.
pub fn language_by_alias(alias: &str) -> Option<Language> {
    language_by_name(alias).or_else(|| {
        let key = alias.to_ascii_lowercase().replace(' ', "-");
        let k = key.as_str();
        linguist::ALIASES
            .binary_search_by(|(a, _)| a.cmp(&k))
            .ok()
            .map(|i| linguist::LANGUAGES[usize::from(linguist::ALIASES[i].1)])
    })
}

/// Whether `language_for_path` would find a language with comments,
/// without the content heuristics for extensions paydown's own table
/// already maps: enough to count a file without keywords as scanned.
pub fn is_known_type(path: &str, text: &str) -> bool {
    detect_with(path, text, false).is_some_and(|l| l.has_comments())
}

fn detect(path: &str, text: &str) -> Option<Language> {
    detect_with(path, text, true)
}

fn detect_with(path: &str, text: &str, heuristics: bool) -> Option<Language> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if heuristics
        && by_file_name(name).is_none()
        && let Some(decided) = overriding_heuristic(name, text)
    {
        return decided;
    }
    by_file_name(name)
        .or_else(|| by_extension(name, text))
        .or_else(|| linguist_by_name_or_extension(name, Some(text)))
        .or_else(|| by_shebang(text))
        .or_else(|| by_modeline(text))
        .or_else(|| detect_with(template_source(name)?, text, heuristics))
}

/// The file a configure-style template (`arrow.spec.in`, `config.h.in`,
/// `Makefile.in`) becomes: its own type is that file's.
fn template_source(name: &str) -> Option<&str> {
    name.strip_suffix(".in").filter(|n| !n.is_empty())
}

impl Language {
    /// False for data and prose formats without comment syntax.
    pub fn has_comments(&self) -> bool {
        !self.syntax.line.is_empty() || !self.syntax.blocks.is_empty() || self.syntax.rst_comments
    }
}

/// Linguist's content rules for one group of extensions.
pub(crate) struct Heuristic {
    pub extensions: &'static [&'static str],
    pub rules: &'static [Rule],
}

/// One rule: when every term holds (pattern found, or for a negative term
/// absent), the file is the first of `languages` (none: a language
/// paydown cannot read).
pub(crate) struct Rule {
    pub languages: &'static [u16],
    pub terms: &'static [(&'static str, bool)],
}

fn lookup(table: &'static [(&'static str, &'static [u16])], key: &str) -> &'static [u16] {
    table
        .binary_search_by(|(k, _)| (*k).cmp(key))
        .map_or(&[], |i| table[i].1)
}

fn linguist_language(i: u16) -> Language {
    linguist::LANGUAGES[usize::from(i)]
}

/// Linguist's file name table, then its extensions from the longest
/// (`d.ts`, `blade.php`) to the last. `text` is `None` when the file is
/// not read yet: then a shared extension whose candidates differ in
/// comment syntax gives `None`, so the caller reads the file.
fn linguist_by_name_or_extension(name: &str, text: Option<&str>) -> Option<Language> {
    if let Some(lang) = pick(name, lookup(linguist::FILE_NAMES, name), text) {
        return Some(lang);
    }
    // (On the stack for all but absurdly long names: this runs for every
    // file of a scan.)
    let mut buf = [0u8; 128];
    let heap;
    let lower: &str = match buf.get_mut(..name.len()) {
        Some(stack) => {
            stack.copy_from_slice(name.as_bytes());
            stack.make_ascii_lowercase();
            // Lowercasing ASCII letters keeps UTF-8 valid.
            std::str::from_utf8(stack).unwrap_or(name)
        }
        None => {
            heap = name.to_ascii_lowercase();
            &heap
        }
    };
    let mut from = 0;
    while let Some(k) = lower[from..].find('.') {
        let dot = from + k;
        from = dot + 1;
        if dot == 0 {
            continue;
        }
        let ext = &lower[dot + 1..];
        let candidates = lookup(linguist::EXTENSIONS, ext);
        if !candidates.is_empty() {
            return pick(ext, candidates, text);
        }
    }
    None
}

fn pick(ext: &str, candidates: &[u16], text: Option<&str>) -> Option<Language> {
    let (&first, rest) = candidates.split_first()?;
    let first = linguist_language(first);
    if rest
        .iter()
        .all(|&i| std::ptr::eq(linguist_language(i).syntax, first.syntax))
    {
        return Some(first);
    }
    let text = text?;
    heuristic(ext, candidates, text).unwrap_or(Some(first))
}

/// Linguist's content rules also decide for extensions paydown's own
/// table maps to one language (`.f` is Forth or Fortran, `.r` R, Rebol or
/// Rez, `.ts` TypeScript or a Qt translation, `.cls` TeX or Apex).
fn overriding_heuristic(name: &str, text: &str) -> Option<Option<Language>> {
    let ext = lower_extension(name)?;
    let own = by_extension(name, text)?;
    let candidates = lookup(linguist::EXTENSIONS, &ext);
    // When every rule would name a language read like paydown's own (`.h`
    // as Objective-C, C++ or C), the answer is known without running the
    // rules' regexes over the file, which cost as much as lexing it.
    let rules = linguist::HEURISTICS
        .iter()
        .find(|h| h.extensions.contains(&ext.as_str()))?
        .rules;
    if rules.iter().all(|rule| {
        rule_language(rule, candidates).is_some_and(|l| std::ptr::eq(l.syntax, own.syntax))
    }) {
        return None;
    }
    let decided = heuristic(&ext, candidates, text)?;
    // Where the syntax is the same (`.h` as C or C++), paydown's own name
    // stands.
    match decided {
        Some(lang) if std::ptr::eq(lang.syntax, own.syntax) => None,
        other => Some(other),
    }
}

/// `Some(answer)` when one of Linguist's rules for `ext` decides; the
/// answer is `None` when it names a language paydown cannot read.
fn heuristic(ext: &str, candidates: &[u16], text: &str) -> Option<Option<Language>> {
    let head = &text[..floor_char_boundary(text, 64 * 1024)];
    let h = linguist::HEURISTICS
        .iter()
        .find(|h| h.extensions.contains(&ext))?;
    for rule in h.rules {
        let holds = rule
            .terms
            .iter()
            .all(|&(pattern, negative)| match cached_regex(pattern) {
                Some(re) => re.is_match(head) != negative,
                // A Ruby-only construct Rust's regex lacks: the rule is not
                // trusted.
                None => false,
            });
        if holds {
            return Some(rule_language(rule, candidates));
        }
    }
    None
}

/// The language a rule names when it holds, among the extension's
/// `candidates` where it names several; `None` for one paydown cannot read.
fn rule_language(rule: &Rule, candidates: &[u16]) -> Option<Language> {
    rule.languages
        .iter()
        .find(|i| rule.languages.len() == 1 || candidates.contains(i))
        .or(rule.languages.first())
        .map(|&i| linguist_language(i))
        .filter(Language::has_comments)
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn cached_regex(pattern: &'static str) -> Option<Arc<regex::Regex>> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    // Shared, not cloned: a cloned `Regex` gets a pool of its own, so each
    // use started with an empty search cache (and rebuilt its lazy DFA).
    type Cache = HashMap<&'static str, Option<Arc<regex::Regex>>>;
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    cache
        .entry(pattern)
        .or_insert_with(|| {
            regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
                .ok()
                .map(Arc::new)
        })
        .clone()
}

/// Emacs `-*- mode: python -*-` or `-*- C++ -*-`, Vim `vim: set ft=ruby:`
/// or `vi: filetype=sh`, in the first or last five lines, as Linguist reads
/// them; the mode is a language name or alias.
fn by_modeline(text: &str) -> Option<Language> {
    let head = text.lines().take(5);
    let tail = text.lines().rev().take(5);
    head.chain(tail)
        .find_map(|line| emacs_mode(line).or_else(|| vim_filetype(line)))
        .and_then(language_by_alias)
}

fn emacs_mode(line: &str) -> Option<&str> {
    let start = line.find("-*-")? + 3;
    let inner = &line[start..start + line[start..].find("-*-")?];
    let mode = if inner.contains(':') {
        inner
            .split(';')
            .filter_map(|kv| kv.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("mode"))?
            .1
    } else {
        inner
    };
    let mode = mode.trim();
    (!mode.is_empty()).then_some(mode)
}

fn vim_filetype(line: &str) -> Option<&str> {
    let at = ["vim:", "vi:", "ex:", "Vim:"]
        .iter()
        .filter_map(|m| line.find(m).map(|i| i + m.len()))
        .min()?;
    let rest = &line[at..];
    for word in rest.split([' ', ':', '\t']) {
        if let Some(v) = word.strip_prefix("ft=").or_else(|| {
            word.strip_prefix("filetype=")
                .or_else(|| word.strip_prefix("syntax="))
        }) {
            return (!v.is_empty()).then_some(v);
        }
    }
    None
}

fn by_file_name(name: &str) -> Option<Language> {
    let lang = match name {
        "Dockerfile" | "dockerfile" | "Containerfile" | "containerfile" => L_DOCKERFILE,
        "Makefile" | "makefile" | "GNUmakefile" | "BSDmakefile" | "Kbuild" => L_MAKEFILE,
        "CMakeLists.txt" => L_CMAKE,
        "Jenkinsfile" => L_GROOVY,
        "Gemfile" | "Rakefile" | "Vagrantfile" | "Podfile" | "Fastfile" | "Appfile"
        | "Brewfile" | "Guardfile" | "Capfile" | "Berksfile" | "Dangerfile" | "Puppetfile"
        | "Steepfile" | ".irbrc" | ".pryrc" => L_RUBY,
        "BUILD" | "BUILD.bazel" | "WORKSPACE" | "WORKSPACE.bazel" | "WORKSPACE.bzlmod"
        | "MODULE.bazel" | "Tiltfile" | "BUCK" => L_STARLARK,
        "SConstruct" | "SConscript" | "Snakefile" | "wscript" => L_PYTHON,
        ".bashrc" | ".bash_profile" | ".bash_logout" | ".bash_aliases" | ".zshrc" | ".zshenv"
        | ".zprofile" | ".zlogin" | ".profile" | ".envrc" | "PKGBUILD" | "APKBUILD" => L_SHELL,
        ".gitignore" | ".dockerignore" | ".npmignore" | ".prettierignore" | ".eslintignore"
        | ".hgignore" | ".ignore" | ".rgignore" | ".gcloudignore" | ".helmignore"
        | ".gitattributes" | "CODEOWNERS" => L_IGNORE,
        ".editorconfig" | ".gitconfig" | ".gitmodules" | ".npmrc" | ".yarnrc" | ".env"
        | "Procfile" | "Caddyfile" | "justfile" | "Justfile" | ".justfile" | "requirements.in" => {
            L_CONFIG
        }
        "requirements.txt" | "constraints.txt" => L_REQUIREMENTS,
        "Pipfile" | "Cargo.lock" | "poetry.lock" => L_TOML,
        ".clang-format" | ".clang-tidy" | ".yamllint" => L_YAML,
        "go.mod" | "go.work" => L_GO,
        ".vimrc" | ".gvimrc" | "_vimrc" => L_VIM,
        "meson.build" | "meson_options.txt" => L_PYTHON,
        _ => {
            if name.starts_with("Dockerfile.") || name.starts_with("Containerfile.") {
                L_DOCKERFILE
            } else if name.starts_with("Makefile.") || name.starts_with("makefile.") {
                L_MAKEFILE
            } else if name.starts_with(".env.") {
                L_CONFIG
            } else if name.starts_with("requirements") && name.ends_with(".txt") {
                L_REQUIREMENTS
            } else {
                return None;
            }
        }
    };
    Some(lang)
}

fn by_extension(name: &str, text: &str) -> Option<Language> {
    let dot = name.rfind('.')?;
    if dot == 0 {
        return None;
    }
    let ext = &name[dot + 1..];
    let mut buf = [0u8; 12];
    if ext.is_empty() || ext.len() > buf.len() {
        return None;
    }
    buf[..ext.len()].copy_from_slice(ext.as_bytes());
    buf[..ext.len()].make_ascii_lowercase();
    let ext = std::str::from_utf8(&buf[..ext.len()]).ok()?;
    let lang = match ext {
        "c" => L_C,
        "h" | "cc" | "cpp" | "cxx" | "c++" | "hh" | "hpp" | "hxx" | "h++" | "ipp" | "inl"
        | "tpp" | "tcc" | "ino" => L_CPP,
        "cu" | "cuh" => L_CUDA,
        "mm" => L_OBJC,
        "m" => {
            if looks_like_objective_c(text) {
                L_OBJC
            } else {
                L_MATLAB
            }
        }
        "cs" | "csx" | "cake" => L_CSHARP,
        "java" => L_JAVA,
        "kt" | "kts" | "ktm" => L_KOTLIN,
        "scala" | "sc" | "sbt" => L_SCALA,
        "groovy" | "gvy" | "jenkinsfile" => L_GROOVY,
        "gradle" => L_GRADLE,
        "go" => L_GO,
        "rs" => L_RUST,
        "swift" => L_SWIFT,
        "dart" => L_DART,
        "js" | "jsx" | "mjs" | "cjs" => L_JS,
        "ts" | "tsx" | "mts" | "cts" => L_TS,
        "jsonc" | "json5" => L_JSONC,
        "php" | "phtml" | "php3" | "php4" | "php5" | "php7" | "php8" | "phps" => L_PHP,
        "py" | "pyi" | "pyw" | "pyx" | "pxd" | "gyp" | "gypi" => L_PYTHON,
        "bzl" | "star" | "bazel" | "sky" => L_STARLARK,
        "rb" | "rake" | "gemspec" | "ru" | "podspec" | "jbuilder" | "thor" => L_RUBY,
        "pl" | "pm" | "t" | "pod" | "psgi" => L_PERL,
        "lua" | "rockspec" => L_LUA,
        "r" | "rprofile" => L_R,
        "jl" => L_JULIA,
        "hs" | "hsc" => L_HASKELL,
        "elm" => L_ELM,
        "ml" | "mli" | "mll" | "mly" => L_OCAML,
        "fs" | "fsi" | "fsx" => L_FSHARP,
        "ex" | "exs" => L_ELIXIR,
        "erl" | "hrl" | "escript" => L_ERLANG,
        "clj" | "cljs" | "cljc" | "edn" | "bb" => L_CLOJURE,
        "lisp" | "lsp" | "asd" => L_LISP,
        "scm" | "ss" | "sld" => L_SCHEME,
        "rkt" => L_RACKET,
        "el" => L_EMACS_LISP,
        "zig" => L_ZIG,
        "nim" | "nims" | "nimble" => L_NIM,
        "d" | "di" => L_D,
        "f90" | "f95" | "f03" | "f08" => L_FORTRAN,
        "f" | "for" | "f77" | "ftn" => L_FORTRAN_FIXED,
        "pas" | "dpr" | "lpr" | "dpk" => L_PASCAL,
        "adb" | "ads" | "ada" => L_ADA,
        "vb" | "vbs" | "bas" => L_VB,
        "ps1" | "psm1" | "psd1" => L_POWERSHELL,
        "sh" | "bash" | "zsh" | "ksh" | "bats" | "ebuild" => L_SHELL,
        "fish" => L_FISH,
        "sql" | "psql" | "pgsql" | "ddl" | "dml" => L_SQL,
        "sol" => L_SOLIDITY,
        "v" | "vh" => L_VERILOG,
        "sv" | "svh" => L_SYSTEMVERILOG,
        "vhd" | "vhdl" => L_VHDL,
        "asm" | "s" | "nasm" | "masm" => L_ASSEMBLY,
        "tf" | "tfvars" => L_TERRAFORM,
        "hcl" | "nomad" => L_HCL,
        "proto" => L_PROTOBUF,
        "thrift" => L_THRIFT,
        "graphql" | "gql" | "graphqls" => L_GRAPHQL,
        "vue" => L_VUE,
        "svelte" => L_SVELTE,
        "astro" => L_ASTRO,
        "css" => L_CSS,
        "scss" | "sass" => L_SCSS,
        "less" => L_LESS,
        "html" | "htm" | "xhtml" => L_HTML,
        "erb" | "hbs" | "handlebars" | "mustache" | "jinja" | "jinja2" | "j2" | "njk" | "twig"
        | "liquid" => L_TEMPLATE,
        "xml" | "svg" | "xsd" | "xsl" | "xslt" | "plist" | "csproj" | "vbproj" | "fsproj"
        | "vcxproj" | "props" | "targets" | "resx" | "xaml" | "wsdl" | "pom" => L_XML,
        "md" | "markdown" | "mdown" | "mkd" => L_MARKDOWN,
        "yml" | "yaml" => L_YAML,
        "toml" => L_TOML,
        "ini" | "cfg" | "cnf" | "inf" | "reg" => L_INI,
        "conf" | "env" | "gitignore" | "dockerignore" => L_CONFIG,
        "properties" => L_PROPERTIES,
        "dockerfile" | "containerfile" => L_DOCKERFILE,
        "mk" | "mak" | "make" => L_MAKEFILE,
        "cmake" => L_CMAKE,
        "nix" => L_NIX,
        "bat" | "cmd" => L_BATCH,
        "tex" | "sty" | "cls" | "ltx" | "dtx" | "bib" => L_TEX,
        "vim" => L_VIM,
        "coffee" => L_COFFEE,
        "jsonnet" | "libsonnet" => L_JSONNET,
        "awk" => L_AWK,
        "mdx" => L_MDX,
        "tcl" | "tk" => L_TCL,
        "gd" => L_GDSCRIPT,
        "hx" => L_HAXE,
        "cr" => L_CRYSTAL,
        "purs" => L_PURESCRIPT,
        "sml" | "sig" => L_SML,
        "prisma" => L_PRISMA,
        _ => return None,
    };
    Some(lang)
}

/// `.m` is both Objective-C and MATLAB; Objective-C files nearly always
/// import a header or declare a class near the top.
fn looks_like_objective_c(text: &str) -> bool {
    let head = text.as_bytes();
    let head = &head[..head.len().min(64 * 1024)];
    [
        "#import",
        "#include",
        "@interface",
        "@implementation",
        "@protocol",
    ]
    .iter()
    .any(|needle| memchr::memmem::find(head, needle.as_bytes()).is_some())
}

fn by_shebang(text: &str) -> Option<Language> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text.strip_prefix("#!")?;
    let line = rest.lines().next().unwrap_or("");
    let mut words = line.split_whitespace();
    let mut program = basename(words.next()?);
    if program == "env" {
        // `env -S deno run`, `env FOO=1 python3`: the program is the first
        // word that is neither an option nor an assignment.
        program = basename(words.find(|w| !w.starts_with('-') && !w.contains('='))?);
    }
    let full = program;
    let program = program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let lang = match program {
        "sh" | "bash" | "zsh" | "ksh" | "dash" | "ash" | "mksh" | "busybox" => L_SHELL,
        "fish" => L_FISH,
        "python" | "pypy" => L_PYTHON,
        "node" | "nodejs" | "deno" | "bun" | "zx" | "qjs" => L_JS,
        "ts-node" | "tsx" => L_TS,
        "ruby" | "jruby" | "truffleruby" => L_RUBY,
        "perl" => L_PERL,
        "php" => L_PHP,
        "lua" | "luajit" | "texlua" => L_LUA,
        "Rscript" | "R" => L_R,
        "julia" => L_JULIA,
        "elixir" => L_ELIXIR,
        "escript" => L_ERLANG,
        "runhaskell" | "runghc" | "stack" => L_HASKELL,
        "swift" => L_SWIFT,
        "groovy" => L_GROOVY,
        "scala" => L_SCALA,
        "dart" => L_DART,
        "ocaml" => L_OCAML,
        "make" | "gmake" => L_MAKEFILE,
        "pwsh" | "powershell" => L_POWERSHELL,
        "awk" | "gawk" | "mawk" => L_AWK,
        "bb" | "clojure" => L_CLOJURE,
        "racket" => L_RACKET,
        "guile" | "csi" => L_SCHEME,
        "sbcl" => L_LISP,
        "tclsh" | "wish" => L_TCL,
        "crystal" => L_CRYSTAL,
        _ => {
            return [full, program].into_iter().find_map(|p| {
                let ids = lookup(linguist::INTERPRETERS, p);
                ids.first().map(|&i| linguist_language(i))
            });
        }
    };
    Some(lang)
}

fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(path: &str, text: &str) -> Option<&'static str> {
        language_for_path(path, text).map(|l| l.name)
    }

    #[test]
    fn given_well_known_file_names_then_the_name_wins_over_the_extension() {
        let cases = [
            ("Dockerfile", "Dockerfile"),
            ("docker/Dockerfile.dev", "Dockerfile"),
            ("api.dockerfile", "Dockerfile"),
            ("Containerfile", "Dockerfile"),
            ("Makefile", "Makefile"),
            ("src/GNUmakefile", "Makefile"),
            ("rules.mk", "Makefile"),
            ("CMakeLists.txt", "CMake"),
            ("cmake/Find.cmake", "CMake"),
            ("Jenkinsfile", "Groovy"),
            ("Gemfile", "Ruby"),
            ("Rakefile", "Ruby"),
            ("Vagrantfile", "Ruby"),
            ("BUILD", "Starlark"),
            ("pkg/BUILD.bazel", "Starlark"),
            ("WORKSPACE", "Starlark"),
            ("defs.bzl", "Starlark"),
            (".bashrc", "Shell"),
            ("home/.zshrc", "Shell"),
            (".gitignore", "Ignore list"),
            (".env", "Config"),
            (".env.local", "Config"),
            ("requirements-dev.txt", "pip requirements"),
            ("go.mod", "Go"),
            (".github/CODEOWNERS", "Ignore list"),
        ];
        for (path, want) in cases {
            assert_eq!(name(path, ""), Some(want), "{path}");
        }
    }

    #[test]
    fn given_extensions_then_case_does_not_matter() {
        let cases = [
            ("a.c", "C"),
            ("a.H", "C++"),
            ("a.hpp", "C++"),
            ("a.cs", "C#"),
            ("a.java", "Java"),
            ("a.kts", "Kotlin"),
            ("a.scala", "Scala"),
            ("a.groovy", "Groovy"),
            ("build.gradle", "Gradle"),
            ("a.go", "Go"),
            ("a.rs", "Rust"),
            ("a.swift", "Swift"),
            ("a.mm", "Objective-C"),
            ("a.dart", "Dart"),
            ("a.JSX", "JavaScript"),
            ("a.mjs", "JavaScript"),
            ("a.cjs", "JavaScript"),
            ("a.tsx", "TypeScript"),
            ("a.php", "PHP"),
            ("a.py", "Python"),
            ("a.rb", "Ruby"),
            ("a.pm", "Perl"),
            ("a.lua", "Lua"),
            ("a.R", "R"),
            ("a.jl", "Julia"),
            ("a.hs", "Haskell"),
            ("a.ml", "OCaml"),
            ("a.fsx", "F#"),
            ("a.exs", "Elixir"),
            ("a.erl", "Erlang"),
            ("a.cljs", "Clojure"),
            ("a.lisp", "Lisp"),
            ("a.scm", "Scheme"),
            ("a.rkt", "Racket"),
            ("a.elm", "Elm"),
            ("a.zig", "Zig"),
            ("a.nim", "Nim"),
            ("a.d", "D"),
            ("a.F90", "Fortran"),
            ("a.pas", "Pascal"),
            ("a.adb", "Ada"),
            ("a.vb", "Visual Basic"),
            ("a.ps1", "PowerShell"),
            ("a.sh", "Shell"),
            ("a.fish", "Fish"),
            ("a.SQL", "SQL"),
            ("a.sol", "Solidity"),
            ("a.v", "Verilog"),
            ("a.sv", "SystemVerilog"),
            ("a.vhd", "VHDL"),
            ("a.asm", "Assembly"),
            ("main.tf", "Terraform"),
            ("a.proto", "Protocol Buffers"),
            ("a.graphql", "GraphQL"),
            ("a.vue", "Vue"),
            ("a.svelte", "Svelte"),
            ("a.css", "CSS"),
            ("a.scss", "SCSS"),
            ("a.less", "Less"),
            ("a.html", "HTML"),
            ("a.svg", "XML"),
            ("README.md", "Markdown"),
            ("ci.yml", "YAML"),
            ("Cargo.toml", "TOML"),
            ("setup.cfg", "INI"),
            ("app.properties", "Properties"),
            ("nginx.conf", "Config"),
            ("default.nix", "Nix"),
            ("run.bat", "Batch"),
            ("paper.tex", "TeX"),
            ("plugin.vim", "Vim script"),
        ];
        for (path, want) in cases {
            assert_eq!(name(path, ""), Some(want), "{path}");
        }
    }

    #[test]
    fn given_a_dot_m_file_then_its_content_tells_objective_c_from_matlab() {
        assert_eq!(
            name("a.m", "#import <UIKit/UIKit.h>\n"),
            Some("Objective-C")
        );
        assert_eq!(
            name("a.m", "@implementation Foo\n@end\n"),
            Some("Objective-C")
        );
        assert_eq!(
            name("a.m", "function y = f(x)\n  y = x';\nend\n"),
            Some("MATLAB")
        );
    }

    #[test]
    fn given_an_extensionless_script_then_the_shebang_decides() {
        let cases = [
            ("#!/usr/bin/env python3\n", Some("Python")),
            ("#!/usr/bin/python3.11 -u\n", Some("Python")),
            ("#!/bin/sh\n", Some("Shell")),
            ("#!/bin/bash -e\n", Some("Shell")),
            ("#!/usr/bin/env zsh\n", Some("Shell")),
            ("#!/usr/bin/env fish\n", Some("Fish")),
            ("#!/usr/bin/env node\n", Some("JavaScript")),
            (
                "#!/usr/bin/env -S deno run --allow-net\n",
                Some("JavaScript"),
            ),
            ("#!/usr/bin/env ruby\n", Some("Ruby")),
            ("#!/usr/bin/perl -w\n", Some("Perl")),
            ("#!/usr/bin/env php\n", Some("PHP")),
            ("#!/usr/bin/env lua5.1\n", Some("Lua")),
            ("#!/usr/bin/env Rscript\n", Some("R")),
            ("#!/usr/bin/env LANG=C bash\n", Some("Shell")),
            ("#!/usr/bin/env pwsh\r\n", Some("PowerShell")),
            ("#!/usr/bin/make -f\n", Some("Makefile")),
            ("\u{feff}#!/bin/bash\n", Some("Shell")),
            ("#!/usr/bin/env unknown-tool\n", None),
            ("#!\n", None),
            ("echo no shebang\n", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(name("bin/tool", text), want, "{text:?}");
        }
        // An unknown extension also falls back to the shebang.
        assert_eq!(name("cgi/index.cgi", "#!/usr/bin/perl\n"), Some("Perl"));
        // A known extension is not overridden by a shebang.
        assert_eq!(name("x.rb", "#!/usr/bin/env python\n"), Some("Ruby"));
    }

    #[test]
    fn given_unknown_or_binary_types_then_no_language() {
        for path in [
            "a.png",
            "a.json",
            "notes.txt",
            "LICENSE",
            "a.",
            "dir/.hidden",
            "a.verylongextension",
        ] {
            assert_eq!(name(path, "plain text\n"), None, "{path}");
        }
    }

    #[test]
    fn given_a_configure_template_then_the_file_it_becomes_decides() {
        let spec = "Name: arrow\n%define x 1\n";
        assert!(name("yum/arrow.spec.in", spec).is_some());
        assert_eq!(
            name("yum/arrow.spec.in", spec),
            name("yum/arrow.spec", spec)
        );
        // (C or C++ by Linguist's rules: the same comment syntax.)
        assert!(matches!(
            name("config.h.in", "#undef X\n"),
            Some("C" | "C++")
        ));
        assert_eq!(name("notes.txt.in", "plain\n"), None);
        assert_eq!(name(".in", "plain\n"), None);
    }

    #[test]
    fn given_a_display_name_then_the_language_is_found_case_insensitively() {
        assert_eq!(language_by_name("rust").map(|l| l.name), Some("Rust"));
        assert_eq!(
            language_by_name("Objective-C").map(|l| l.name),
            Some("Objective-C")
        );
        assert_eq!(language_by_name("Klingon"), None);
        assert_eq!(language_by_name("Rust"), language_for_path("lib.rs", ""));
        assert_ne!(language_by_name("C"), language_by_name("C++"));
    }

    #[test]
    fn every_language_table_is_well_formed() {
        for lang in ALL {
            let syn = lang.syntax;
            assert!(syn.line.iter().all(|m| !m.text.is_empty()), "{}", lang.name);
            assert!(
                syn.blocks
                    .iter()
                    .all(|b| !b.open.is_empty() && !b.close.is_empty()),
                "{}",
                lang.name
            );
            assert!(
                syn.strings.iter().all(|s| !s.open.is_empty()),
                "{}",
                lang.name
            );
            assert_eq!(
                language_by_name(lang.name),
                Some(*lang),
                "names must be unique"
            );
        }
        assert!(ALL.len() >= 60);
    }

    #[test]
    fn linguist_tables_are_sorted_for_binary_search_and_point_at_real_languages() {
        let n = linguist::LANGUAGES.len();
        for table in [
            linguist::EXTENSIONS,
            linguist::FILE_NAMES,
            linguist::INTERPRETERS,
        ] {
            assert!(table.windows(2).all(|w| w[0].0 < w[1].0));
            assert!(table.iter().flat_map(|e| e.1).all(|&i| usize::from(i) < n));
        }
        assert!(linguist::ALIASES.windows(2).all(|w| w[0].0 < w[1].0));
        let mut binary = vec![];
        for ext in ["7z", "zst", "png"] {
            binary.push(is_binary_extension(&format!("a.{ext}")));
        }
        assert_eq!(binary, [true, true, true]);
        let readable = linguist::LANGUAGES
            .iter()
            .filter(|l| l.has_comments())
            .count();
        assert!(readable >= 500, "{readable}");
    }

    #[test]
    fn most_linguist_heuristics_compile_as_rust_regexes() {
        let terms: Vec<&str> = linguist::HEURISTICS
            .iter()
            .flat_map(|h| h.rules)
            .flat_map(|r| r.terms)
            .map(|t| t.0)
            .collect();
        let compiled = terms.iter().filter(|p| cached_regex(p).is_some()).count();
        // The rest use Ruby-only constructs (look-around, `\h`); their rules
        // are never taken, and the first candidate stands.
        assert!(
            compiled * 10 >= terms.len() * 8,
            "{compiled} of {}",
            terms.len()
        );
    }
}
