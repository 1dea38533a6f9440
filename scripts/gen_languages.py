#!/usr/bin/env python3
"""Regenerate crates/annotations/src/languages/linguist.rs.

Usage: scripts/gen_languages.py LINGUIST_DIR TOKEI_DIR

LINGUIST_DIR is a checkout of github-linguist/linguist (MIT licence): its
lib/linguist/languages.yml gives every language GitHub recognises with its
extensions, file names, interpreters and aliases, and heuristics.yml the
content rules that tell languages sharing an extension apart.

TOKEI_DIR is a checkout of XAMPPRocky/tokei (MIT OR Apache-2.0): its
languages.json gives comment markers and quotes for some 330 languages.

A language's comment syntax is, in order of preference:
1. paydown's hand-tuned table (crates/annotations/src/languages.rs), for the
   languages in HAND below: those carry string, heredoc and raw-string
   rules no database has;
2. tokei's markers, matched by name;
3. the syntax of Linguist's parent language (`group`), or of the family its
   editor mode (`ace_mode`) names, for the modes in ACE below;
4. no comment syntax: data and prose formats (JSON, CSV, Text) are "known,
   without comments", and files of those types are skipped unread; the rest
   are left unknown.

The output is deterministic (sorted), so a regeneration shows as a plain diff.
Only data is taken from these projects, never code.
"""
import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates", "annotations", "src", "languages", "linguist.rs")

# Linguist name -> paydown hand-tuned language constant.
HAND = {
    "C": "L_C", "C++": "L_CPP", "Cuda": "L_CUDA", "Objective-C": "L_OBJC",
    "Objective-C++": "L_OBJC", "C#": "L_CSHARP", "Java": "L_JAVA",
    "Kotlin": "L_KOTLIN", "Scala": "L_SCALA", "Groovy": "L_GROOVY",
    "Gradle": "L_GRADLE", "Go": "L_GO", "Go Module": "L_GO", "Go Workspace": "L_GO",
    "Rust": "L_RUST", "Swift": "L_SWIFT", "Dart": "L_DART",
    "JavaScript": "L_JS", "TypeScript": "L_TS", "TSX": "L_TS",
    "JSON with Comments": "L_JSONC", "JSON5": "L_JSONC", "PHP": "L_PHP",
    "Python": "L_PYTHON", "Starlark": "L_STARLARK", "Ruby": "L_RUBY",
    "Perl": "L_PERL", "Lua": "L_LUA", "R": "L_R", "Julia": "L_JULIA",
    "Haskell": "L_HASKELL", "Elm": "L_ELM", "OCaml": "L_OCAML", "F#": "L_FSHARP",
    "Elixir": "L_ELIXIR", "Erlang": "L_ERLANG", "Clojure": "L_CLOJURE",
    "Common Lisp": "L_LISP", "Scheme": "L_SCHEME", "Racket": "L_RACKET",
    "Emacs Lisp": "L_EMACS_LISP", "Zig": "L_ZIG", "Nim": "L_NIM", "D": "L_D",
    "Fortran": "L_FORTRAN_FIXED", "Fortran Free Form": "L_FORTRAN",
    "Pascal": "L_PASCAL", "Ada": "L_ADA", "Visual Basic .NET": "L_VB",
    "VBScript": "L_VB", "VBA": "L_VB", "PowerShell": "L_POWERSHELL",
    "Shell": "L_SHELL", "fish": "L_FISH", "SQL": "L_SQL", "PLpgSQL": "L_SQL",
    "TSQL": "L_SQL", "PLSQL": "L_SQL", "SQLPL": "L_SQL", "Solidity": "L_SOLIDITY",
    "Verilog": "L_VERILOG", "SystemVerilog": "L_SYSTEMVERILOG", "VHDL": "L_VHDL",
    "MATLAB": "L_MATLAB", "Assembly": "L_ASSEMBLY", "Unix Assembly": "L_ASSEMBLY",
    "HCL": "L_HCL", "Terraform Template": "L_TERRAFORM",
    "Protocol Buffer": "L_PROTOBUF", "Thrift": "L_THRIFT", "GraphQL": "L_GRAPHQL",
    "Vue": "L_VUE", "Svelte": "L_SVELTE", "Astro": "L_ASTRO", "CSS": "L_CSS",
    "SCSS": "L_SCSS", "Sass": "L_SCSS", "Less": "L_LESS", "HTML": "L_HTML",
    "XML": "L_XML", "SVG": "L_XML", "XML Property List": "L_XML",
    "Markdown": "L_MARKDOWN", "YAML": "L_YAML", "TOML": "L_TOML", "INI": "L_INI",
    "Java Properties": "L_PROPERTIES", "Dockerfile": "L_DOCKERFILE",
    "Makefile": "L_MAKEFILE", "CMake": "L_CMAKE", "Nix": "L_NIX",
    "Batchfile": "L_BATCH", "TeX": "L_TEX", "Vim Script": "L_VIM",
    "CoffeeScript": "L_COFFEE", "Jsonnet": "L_JSONNET", "Awk": "L_AWK",
    "MDX": "L_MDX", "Tcl": "L_TCL", "GDScript": "L_GDSCRIPT", "Haxe": "L_HAXE",
    "Crystal": "L_CRYSTAL", "PureScript": "L_PURESCRIPT",
    "Standard ML": "L_SML", "Prisma": "L_PRISMA", "Ignore List": "L_IGNORE",
    "Git Attributes": "L_IGNORE", "Dotenv": "L_CONFIG", "EditorConfig": "L_CONFIG",
    "Git Config": "L_CONFIG", "Pip Requirements": "L_REQUIREMENTS",
    "Jinja": "L_TEMPLATE", "Handlebars": "L_TEMPLATE", "Twig": "L_TEMPLATE",
    "Liquid": "L_TEMPLATE", "HTML+ERB": "L_TEMPLATE", "Mustache": "L_TEMPLATE",
    "Nunjucks": "L_TEMPLATE", "RMarkdown": "L_MARKDOWN", "Cython": "L_PYTHON",
    "reStructuredText": "L_RST",
}

# Editor modes whose comment syntax is one of the hand-tuned families.
ACE = {
    "c_cpp": "C_LIKE", "java": "JAVA", "csharp": "C_SHARP", "golang": "GO",
    "rust": "RUST", "javascript": "JS", "typescript": "JS", "php": "PHP",
    "python": "PYTHON", "ruby": "RUBY", "perl": "PERL", "lua": "LUA",
    "haskell": "HASKELL", "ocaml": "OCAML", "lisp": "LISP", "clojure": "CLOJURE",
    "sh": "SHELL", "sql": "SQL", "pascal": "PASCAL", "verilog": "VERILOG",
    "xml": "HTML", "html": "HTML", "yaml": "YAML", "toml": "TOML", "ini": "INI",
    "properties": "PROPERTIES", "gitignore": "HASH_LINES", "batchfile": "BATCH",
    "latex": "TEX", "tex": "TEX", "markdown": "MARKDOWN", "coffee": "COFFEE",
    "tcl": "HASH_WORDS", "apache_conf": "CONF", "scss": "SCSS", "less": "SCSS",
    "css": "CSS", "fortran": "FORTRAN", "matlab": "MATLAB", "erlang": "ERLANG",
    "elixir": "ELIXIR", "scala": "SCALA", "kotlin": "KOTLIN", "swift": "SWIFT",
    "dart": "DART", "groovy": "GROOVY", "powershell": "POWERSHELL",
    "makefile": "MAKE", "dockerfile": "HASH_LINES", "assembly_x86": "ASSEMBLY",
}

# Languages neither table covers, from their reference manuals: a hand
# family, or markers in tokei's shape (quotes default to `"`).
C = {"line_comment": ["//"], "multi_line_comments": [["/*", "*/"]], "quotes": [["\\\"", "\\\""]]}
HASHW = "HASH_WORDS"
def spec(line=(), blocks=(), nested=False, quotes=(("\\\"", "\\\""),)):
    return {"line_comment": list(line), "multi_line_comments": [list(b) for b in blocks],
            "nested": nested, "quotes": [list(q) for q in quotes]}
SLASH = spec(["//"])
SEMI = spec([";"])
PCT = spec(["%"])
PASCAL_ML = spec(blocks=[("(*", "*)")], nested=True)
OVERRIDES = {
    # data formats with comments
    "Caddyfile": "CONF", "HAProxy": "CONF", "Nginx": "CONF", "Hosts File": HASHW,
    "Kickstart": "SHELL", "RPM Spec": "HASH_LINES", "Robots Exclusion Rules": HASHW,
    "Ninja": "HASH_LINES", "Cabal Config": spec(["--"]), "Browserslist": HASHW,
    "HOCON": "JSONNET", "Avro IDL": C, "SPARQL": HASHW, "Turtle": HASHW, "Proguard": HASHW,
    "Protocol Buffer Text Format": HASHW, "SELinux Policy": HASHW,
    "Debian Package Control File": "HASH_LINES", "dircolors": HASHW, "Soong": C,
    "YANG": C, "Kusto": C, "Lark": C, "NEON": HASHW, "Redirect Rules": "HASH_LINES",
    "HXML": "HASH_LINES", "DNS Zone": SEMI, "Graphviz (DOT)": C, "Godot Resource": "INI",
    "EBNF": PASCAL_ML, "Zmodel": C, "Type Language": C, "SpiceDB Schema": C, "TMDL": SLASH,
    # programming languages
    "1C Enterprise": SLASH, "4D": SLASH, "ABAP CDS": C, "AIDL": C, "AL": C, "ANTLR": C,
    "AngelScript": C, "Apex": "JAVA", "AppleScript": spec(["--", "#"], [("(*", "*)")], True),
    "AspectJ": "JAVA", "Answer Set Programming": PCT, "Arc": "LISP", "Berry": HASHW,
    "Bison": C, "BlitzMax": spec(["'"]), "Boo": "PYTHON", "Cadence": C, "Cairo Zero": SLASH,
    "Cap'n Proto": HASHW, "Carbon": SLASH, "CartoCSS": C, "Cypher": C, "Dafny": C,
    "Dylan": C, "E": HASHW, "ECL": C, "ECLiPSe": PCT, "Eiffel": spec(["--"]),
    "Euphoria": spec(["--"]), "Fantom": C, "Filterscript": "C_LIKE", "Flix": C,
    "FreeBASIC": "VB", "GAP": HASHW, "Genie": C, "Gnuplot": HASHW, "Golo": HASHW, "Gosu": C,
    "Hare": SLASH, "HyPhy": C, "IGOR Pro": SLASH, "ImageJ Macro": C, "Imba": HASHW, "Ink": C,
    "Inno Setup": spec([";", "//"]), "Io": spec(["//", "#"], [("/*", "*/")]), "JASS": SLASH,
    "JFlex": C, "JSONiq": spec(blocks=[("(:", ":)")], nested=True), "Jac": HASHW,
    "Jison": C, "Jison Lex": C, "Jolie": C, "KCL": "PYTHON", "KRL": SLASH, "KerboScript": SLASH,
    "LSL": C, "Langium": C, "Lean 4": spec(["--"], [("/-", "-/")], True), "Leo": C,
    "LiveCode Script": spec(["--", "#", "//"], [("/*", "*/")]), "Logos": "C_LIKE",
    "MAXScript": spec(["--"], [("/*", "*/")]), "MLIR": SLASH, "Mercury": PCT, "MiniD": C,
    "MiniScript": SLASH, "MiniZinc": spec(["%"], [("/*", "*/")]), "Modula-2": PASCAL_ML,
    "Modula-3": PASCAL_ML, "Motoko": spec(["//"], [("/*", "*/")], True), "Move": C,
    "NASL": HASHW, "NSIS": spec(["#", ";"], [("/*", "*/")]), "Nasal": HASHW, "Nearley": HASHW,
    "Nemerle": C, "NetLinx": C, "Nickel": HASHW, "Nit": HASHW, "Nu": HASHW,
    "OMNeT++ MSG": C, "OMNeT++ NED": C, "Oberon": PASCAL_ML, "ObjectScript": C,
    "OpenEdge ABL": spec(["//"], [("/*", "*/")], True), "Ox": C, "Oxygene": "PASCAL",
    "P4": C, "PDDL": SEMI, "POV-Ray SDL": C, "Pawn": C, "Pike": C, "Pkl": C,
    "PostScript": PCT, "Power Query": C, "PowerBuilder": C, "Praat": HASHW, "Promela": C,
    "PureBasic": SEMI, "Q#": SLASH, "QuakeC": C, "QuickBASIC": "VB", "REALbasic": "VB",
    "REXX": spec(blocks=[("/*", "*/")]), "RPGLE": SLASH, "Rascal": C, "Rebol": SEMI,
    "Red": SEMI, "RenderScript": "C_LIKE", "Ring": spec(["#", "//"], [("/*", "*/")]),
    "RobotFramework": HASHW, "Rocq Prover": PASCAL_ML, "SMT": SEMI, "Sail": C,
    "Scilab": SLASH, "Sieve": spec(["#"], [("/*", "*/")]), "Singularity": "SHELL",
    "Slice": C, "Smali": HASHW, "Smithy": SLASH, "SourcePawn": C, "SuperCollider": C,
    "TLA": spec(["\\*"], [("(*", "*)")], True), "Talon": HASHW, "Toit": C, "Tolk": C,
    "Tree-sitter Query": SEMI, "TypeSpec": C, "VCL": spec(["#", "//"], [("/*", "*/")]),
    "Verse": HASHW, "Visual Basic 6.0": "VB", "Volt": C, "Vyper": "PYTHON", "WDL": HASHW,
    "WebIDL": C, "Whiley": C, "Witcher Script": C, "Wolfram Language": PASCAL_ML,
    "Wren": C, "X10": C, "XQuery": spec(blocks=[("(:", ":)")], nested=True),
    "Xmake": "LUA", "Xonsh": "PYTHON", "YARA": C, "Yacc": C, "Yul": C, "ZenScript": C,
    "Zeek": HASHW, "Zimpl": HASHW, "eC": "C_LIKE", "hoon": spec(["::"]),
    "kvlang": HASHW, "mcfunction": "HASH_LINES", "nesC": "C_LIKE", "ooc": C,
    "sed": HASHW, "Earthly": "HASH_LINES", "Vim Snippet": "HASH_LINES", "YASnippet": "HASH_LINES",
    "BibTeX Style": PCT, "LilyPond": PCT, "Csound": SEMI, "G-code": SEMI,
    "QMake": HASHW, "SAS": spec(blocks=[("/*", "*/")]), "Genero 4gl": spec(["#", "--"], [("{", "}")]), "Quint": C, "Pact": SEMI,
    "Papyrus": SEMI, "Redcode": SEMI, "mIRC Script": SEMI, "ZIL": SEMI,
}

# Types whose files have no comments unless a table above gives them some.
NO_COMMENT_TYPES = {"data", "prose"}


def unescape(s):
    return s.replace('\\"', '"').replace("\\\\", "\\")


def rust_str(s):
    return json.dumps(s, ensure_ascii=False)


def marker(text):
    """A line-marker expression; uncommon markers only count at line start."""
    if text in ("//", "--", "%", "%%", "///"):
        return f"lm({rust_str(text)})"
    if text in ("#", ";", ";;"):
        return f"lm_at({rust_str(text)}, At::WordStart)"
    if text.isalpha():
        return f"word_ci({rust_str(text)}, At::LineStart)"
    return f"lm_at({rust_str(text)}, At::LineStart)"


def tokei_syntax(t):
    lines = [marker(unescape(m)) for m in t.get("line_comment", [])]
    nested = t.get("nested", False)
    blocks = []
    for o, c in t.get("multi_line_comments", []):
        f = "nested" if nested else "blk"
        blocks.append(f"{f}({rust_str(unescape(o))}, {rust_str(unescape(c))})")
    for o, c in t.get("nested_comments", []):
        blocks.append(f"nested({rust_str(unescape(o))}, {rust_str(unescape(c))})")
    if not lines and not blocks:
        return None
    strings = []
    quotes = [(unescape(o), unescape(c), "doc") for o, c in t.get("doc_quotes", [])]
    quotes += [(unescape(o), unescape(c), "raw") for o, c in t.get("verbatim_quotes", [])]
    quotes += [(unescape(o), unescape(c), "q") for o, c in t.get("quotes", [])]
    markers = {unescape(m) for m in t.get("line_comment", [])}
    if not quotes and '"' not in markers:
        # tokei leaves out quotes where it has no need of them; nearly every
        # language has `"` strings, and reading one as code would report
        # the annotations written inside it.
        quotes = [('"', '"', "q")]
    # Longer openers first, so `"""` is tried before `"`.
    quotes.sort(key=lambda q: -len(q[0]))
    for o, c, kind in quotes:
        if kind == "doc":
            strings.append(f"st({rust_str(o)}, {rust_str(c)}, BS, true)")
        elif kind == "raw":
            strings.append(f"st({rust_str(o)}, {rust_str(c)}, None, true)")
        else:
            # Single-line: a quote the table gets wrong costs one line at most.
            strings.append(f"st({rust_str(o)}, {rust_str(c)}, BS, false)")
    return (
        "Syntax {\n"
        f"    line: &[{', '.join(lines)}],\n"
        f"    blocks: &[{', '.join(blocks)}],\n"
        f"    strings: &[{', '.join(strings)}],\n"
        "    ..BASE\n}"
    )


def ruby_pattern(p):
    """A Linguist (Ruby) regex as a Rust `regex` pattern: `^`/`$` are
    per-line in Ruby. Patterns Rust cannot compile are dropped at run time."""
    if isinstance(p, list):
        p = "|".join(p)
    return "(?m)" + p


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    linguist_dir, tokei_dir = sys.argv[1], sys.argv[2]
    with open(os.path.join(linguist_dir, "lib/linguist/languages.yml")) as f:
        langs = yaml.safe_load(f)
    with open(os.path.join(linguist_dir, "lib/linguist/heuristics.yml")) as f:
        heur = yaml.safe_load(f)
    with open(os.path.join(tokei_dir, "languages.json")) as f:
        tokei = json.load(f)["languages"]
    def rev(d):
        try:
            return subprocess.run(["git", "-C", d, "rev-parse", "HEAD"], capture_output=True,
                                  text=True, check=True).stdout.strip()
        except Exception:
            return "unknown"

    tokei_by_name = {}
    for key, t in tokei.items():
        for n in (key, t.get("name", key)):
            tokei_by_name[n.lower().replace(" ", "")] = t
    hand_ci = {k.lower(): v for k, v in HAND.items()}

    syntaxes = {}  # rendered syntax -> const name
    entries = []  # (linguist name, rust expression of its Language)
    known = 0
    for name in sorted(langs):
        info = langs[name]
        expr = None
        if name.lower() in hand_ci:
            expr = hand_ci[name.lower()]
        elif isinstance(OVERRIDES.get(name), str):
            expr = f"lang({rust_str(name)}, &{OVERRIDES[name]})"
        else:
            t = OVERRIDES.get(name) or tokei_by_name.get(name.lower().replace(" ", ""))
            rendered = tokei_syntax(t) if t else None
            family = None
            if rendered is None:
                group = info.get("group")
                if group and group.lower() in hand_ci:
                    expr = f"lang({rust_str(name)}, {hand_ci[group.lower()]}.syntax)"
                else:
                    family = ACE.get(info.get("ace_mode"))
            if rendered is not None:
                const = syntaxes.setdefault(rendered, f"S{len(syntaxes)}")
                expr = f"lang({rust_str(name)}, &{const})"
            elif family is not None:
                expr = f"lang({rust_str(name)}, &{family})"
            elif expr is None and info["type"] in NO_COMMENT_TYPES:
                expr = f"lang({rust_str(name)}, &NO_COMMENTS)"
        if expr is None:
            continue
        known += 1
        entries.append((name, info, expr))

    index = {name: i for i, (name, _, _) in enumerate(entries)}
    extensions, filenames, interpreters, aliases = {}, {}, {}, {}
    for name, info, _ in entries:
        i = index[name]
        for ext in info.get("extensions", []):
            extensions.setdefault(ext.lower().lstrip("."), []).append(i)
        for fn in info.get("filenames", []):
            filenames.setdefault(fn, []).append(i)
        for it in info.get("interpreters", []):
            interpreters.setdefault(it, []).append(i)
        for alias in [name.lower().replace(" ", "-")] + info.get("aliases", []):
            aliases.setdefault(alias.lower(), i)
        aliases.setdefault(name.lower(), i)

    named = heur.get("named_patterns", {})

    def rule_terms(rule):
        terms = []
        for key, neg in (("pattern", False), ("negative_pattern", True)):
            if key in rule:
                terms.append((ruby_pattern(rule[key]), neg))
        if "named_pattern" in rule:
            terms.append((ruby_pattern(named[rule["named_pattern"]]), False))
        for sub in rule.get("and", []):
            terms.extend(rule_terms(sub))
        return terms

    heuristics = []
    for d in heur["disambiguations"]:
        rules = []
        for rule in d["rules"]:
            targets = rule["language"]
            targets = targets if isinstance(targets, list) else [targets]
            ids = [index[t] for t in targets if t in index]
            rules.append((ids, rule_terms(rule)))
        exts = [e.lower().lstrip(".") for e in d["extensions"]]
        heuristics.append((exts, rules))

    out = []
    w = out.append
    w("// @generated by scripts/gen_languages.py; do not edit by hand.\n")
    w(f"// Data from github-linguist/linguist {rev(linguist_dir)} (lib/linguist/languages.yml,\n")
    w("// heuristics.yml; MIT licence, Copyright (c) 2017 GitHub, Inc.) and from\n")
    w(f"// XAMPPRocky/tokei {rev(tokei_dir)} (languages.json; MIT OR Apache-2.0).\n\n")
    w("use super::*;\n\n")
    for rendered, const in sorted(syntaxes.items(), key=lambda kv: int(kv[1][1:])):
        w(f"const {const}: Syntax = {rendered};\n")
    w(f"\n/// Every Linguist language paydown can read ({known} of {len(langs)}), by index.\n")
    w("pub(super) const LANGUAGES: &[Language] = &[\n")
    for name, _, expr in entries:
        w(f"    {expr},\n")
    w("];\n\n")

    def table(title, doc, items):
        w(f"/// {doc}\npub(super) const {title}: &[(&str, &[u16])] = &[\n")
        for key in sorted(items):
            ids = ", ".join(str(i) for i in items[key])
            w(f"    ({rust_str(key)}, &[{ids}]),\n")
        w("];\n\n")

    table("EXTENSIONS", "Lower-case extension (without the dot) -> candidate languages.", extensions)
    table("FILE_NAMES", "Exact file name -> candidate languages.", filenames)
    table("INTERPRETERS", "Shebang interpreter -> languages.", interpreters)
    w("/// Lower-case name or alias (modelines, `linguist-language`) -> language.\n")
    w("pub(super) const ALIASES: &[(&str, u16)] = &[\n")
    for key in sorted(aliases):
        w(f"    ({rust_str(key)}, {aliases[key]}),\n")
    w("];\n\n")
    w("/// Linguist's content rules: for these extensions, the first rule whose\n")
    w("/// terms all hold (a pattern found, or a negative pattern absent) names\n")
    w("/// the language.\n")
    w("pub(super) const HEURISTICS: &[Heuristic] = &[\n")
    for exts, rules in heuristics:
        w("    Heuristic {\n")
        w(f"        extensions: &[{', '.join(rust_str(e) for e in exts)}],\n")
        w("        rules: &[\n")
        for ids, terms in rules:
            ts = ", ".join(f"({rust_str(p)}, {'true' if n else 'false'})" for p, n in terms)
            w(f"            Rule {{ languages: &[{', '.join(map(str, ids))}], terms: &[{ts}] }},\n")
        w("        ],\n    },\n")
    w("];\n")
    with open(OUT, "w") as f:
        f.write("".join(out))
    print(f"{known} of {len(langs)} Linguist languages, {len(syntaxes)} derived syntaxes -> {OUT}")


if __name__ == "__main__":
    main()
