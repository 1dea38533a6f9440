//! Finds the comments in one file's text, skipping strings and docstrings.
//!
//! One byte-level state machine serves every language: it is driven by the
//! language's `Syntax` table (comment markers, string rules, a few flags
//! for raw strings, heredocs and the like). Bytes that cannot start anything
//! are skipped through a 256-entry table, strings and comment ends are found
//! with `memchr`, and line/column numbers are computed lazily only for the
//! comments emitted, so a scan is linear in the file size.

use memchr::{memchr, memchr2, memchr3, memmem};

use crate::comment::{Comment, CommentKind, CommentLine};
use crate::languages::{
    At, BlockMarker, Guard, Heredoc, Language, LineMarker, Raw, StringRule, Syntax,
};

/// Every comment in `text`, in order.
pub fn comments<'a>(text: &'a str, language: Language) -> Vec<Comment<'a>> {
    Lexer::new(text, language.syntax).run(text.len())
}

/// The comments of `text` that start before `stop`, each whole (a run of
/// line comments with the lines that continue it): what the grammar needs
/// when no keyword starts at or after `stop`. The rest of the file is not
/// lexed.
pub(crate) fn comments_before(text: &str, language: Language, stop: usize) -> Vec<Comment<'_>> {
    Lexer::new(text, language.syntax).run(stop)
}

/// A run of stand-alone line comments still open for more lines.
struct Run<'a> {
    index: usize,
    marker: &'a [u8],
    line: u32,
}

/// Line and column of a byte position, advanced monotonically.
struct Cursor {
    pos: usize,
    line: u32,
    line_start: usize,
    /// Column of `pos` (1-based, in characters).
    col: u32,
}

struct Lexer<'a> {
    text: &'a str,
    b: &'a [u8],
    syn: &'static Syntax,
    hot: [bool; 256],
    out: Vec<Comment<'a>>,
    cursor: Cursor,
    run: Option<Run<'a>>,
    /// A heredoc whose body starts after the newline at `.0`; skip to `.1`.
    heredoc: Option<(usize, usize)>,
    /// Set after a heredoc opener had no terminator: later ones are not
    /// trusted (and cannot cost another scan to the end of the file).
    heredoc_off: bool,
    /// No regex literal is tried before this position (the rest of a line
    /// on which one failed), which keeps `/` handling linear.
    regex_off_until: usize,
    /// Open `${` expressions of template literals, innermost last: the
    /// depth of `{` braces inside each.
    templates: Vec<u32>,
    /// The tag (`$$`, `$fn$`) of the PostgreSQL function body being lexed.
    dollar_body: Option<&'a [u8]>,
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn char_count(bytes: &[u8]) -> u32 {
    let n = bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn starts_with_ci(hay: &[u8], needle: &[u8], ci: bool) -> bool {
    if ci {
        hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
    } else {
        prefix_is(hay, needle)
    }
}

/// Finds the next byte that may start something (a "hot" byte). Most of
/// a file's bytes are passed over here: the few bytes just ahead are looked
/// up in the table, then, for a language with at most nine hot bytes,
/// memchr's vector search runs for them three at a time, each search's
/// answer kept until the lexer has gone past it.
struct Skip {
    hot: [bool; 256],
    /// The hot bytes in threes (the last padded by repeating its first).
    groups: [[u8; 3]; 3],
    count: usize,
    /// Per group, the next position holding one of its bytes as last
    /// searched (`usize::MAX`: none), or `None` before the first search.
    found: [Option<usize>; 3],
}

impl Skip {
    /// Bytes looked up one by one before a vector search starts (hot
    /// bytes often come close together, where a search costs more).
    const NEAR: usize = 8;

    fn new(hot: &[bool; 256]) -> Self {
        let bytes: Vec<u8> = (0..=255u8).filter(|&c| hot[usize::from(c)]).collect();
        let mut groups = [[0u8; 3]; 3];
        let mut count = 0;
        if bytes.len() <= 9 {
            for (group, three) in groups.iter_mut().zip(bytes.chunks(3)) {
                *group = [three[0], three[1 % three.len()], three[2 % three.len()]];
                count += 1;
            }
        }
        Skip {
            hot: *hot,
            groups,
            count,
            found: [None; 3],
        }
    }

    fn next(&mut self, b: &[u8], i: usize) -> Option<usize> {
        let near = b.get(i..)?;
        let near = &near[..near.len().min(Self::NEAR)];
        if let Some(k) = near.iter().position(|&c| self.hot[usize::from(c)]) {
            return Some(i + k);
        }
        let from = i + near.len();
        if self.count == 0 {
            return b[from..]
                .iter()
                .position(|&c| self.hot[usize::from(c)])
                .map(|k| from + k);
        }
        let mut first = usize::MAX;
        for g in 0..self.count {
            let found = match self.found[g] {
                Some(at) if at >= from => at,
                _ => {
                    let [x, y, z] = self.groups[g];
                    let at = memchr3(x, y, z, &b[from..]).map_or(usize::MAX, |k| from + k);
                    self.found[g] = Some(at);
                    at
                }
            };
            first = first.min(found);
        }
        (first != usize::MAX).then_some(first)
    }
}

/// `hay.starts_with(needle)` for the few bytes of a marker or delimiter,
/// compared inline: `starts_with` calls `memcmp`, which cost more than the
/// comparison at every marker-like byte of a file.
#[inline]
fn prefix_is(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay.iter().zip(needle).all(|(a, b)| a == b)
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str, syn: &'static Syntax) -> Self {
        let mut hot = [false; 256];
        let mut mark = |b: u8, ci: bool| {
            hot[usize::from(b)] = true;
            if ci {
                hot[usize::from(b.to_ascii_lowercase())] = true;
                hot[usize::from(b.to_ascii_uppercase())] = true;
            }
        };
        if syn.heredoc != Heredoc::None {
            // Newlines only matter for releasing a pending heredoc body.
            mark(b'\n', false);
        }
        for m in syn.line {
            mark(m.text.as_bytes()[0], m.ci);
        }
        for blk in syn.blocks {
            mark(blk.open.as_bytes()[0], false);
        }
        for s in syn.strings {
            mark(s.open.as_bytes()[0], false);
        }
        if syn.char_literals {
            mark(b'\'', false);
        }
        for b in [syn.escape, syn.char_prefix].into_iter().flatten() {
            mark(b, false);
        }
        match syn.raw {
            Raw::None => {}
            // Rust's `r#"` is found from its `#` (or `"`), not from the
            // `r`: identifiers are full of `r`s.
            Raw::Rust | Raw::Swift => mark(b'#', false),
            Raw::Cpp => mark(b'R', false),
        }
        if syn.heredoc != Heredoc::None {
            mark(b'<', false);
        }
        if syn.long_brackets {
            mark(b'[', false);
        }
        if syn.js_regex {
            mark(b'/', false);
        }
        if syn.js_templates {
            for b in *b"`{}" {
                mark(b, false);
            }
        }
        if syn.ruby_percent {
            mark(b'%', false);
        }
        if syn.perl_quotes {
            for b in *b"qmsty" {
                mark(b, false);
            }
        }
        if syn.rst_comments {
            mark(b'.', false);
        }
        if syn.dollar_quotes {
            mark(b'$', false);
        }
        Lexer {
            text,
            b: text.as_bytes(),
            syn,
            hot,
            out: Vec::new(),
            cursor: Cursor {
                pos: 0,
                line: 1,
                line_start: 0,
                col: 1,
            },
            run: None,
            heredoc: None,
            heredoc_off: false,
            regex_off_until: 0,
            templates: Vec::new(),
            dollar_body: None,
        }
    }

    fn run(mut self, stop: usize) -> Vec<Comment<'a>> {
        let n = self.b.len();
        // A shebang line is an interpreter directive, not a comment (`#![`
        // is a Rust inner attribute, which is code).
        let mut i = if self.b.starts_with(b"#!") && self.b.get(2) != Some(&b'[') {
            memchr(b'\n', self.b).unwrap_or(n)
        } else {
            0
        };
        let mut skip = Skip::new(&self.hot);
        while i < n {
            match skip.next(self.b, i) {
                Some(k) => i = k,
                None => break,
            }
            if i >= stop && self.complete(i) {
                break;
            }
            i = self.step(i).max(i + 1);
        }
        self.out
    }

    /// Whether the comments found so far are complete, seen from `i`
    /// outside any comment or string: true unless the last one is a run of
    /// line comments that a comment on the next line could still continue.
    fn complete(&mut self, i: usize) -> bool {
        match &self.run {
            Some(run) if run.index + 1 == self.out.len() => {
                let line = run.line;
                self.locate(i).0 > line + 1
            }
            _ => true,
        }
    }

    /// Handles the construct starting at `i`; returns where to go on.
    fn step(&mut self, i: usize) -> usize {
        let b = self.b;
        let c = b[i];
        let syn = self.syn;
        if c == b'\n' && self.syn.heredoc != Heredoc::None {
            return self.newline(i);
        }
        if Some(c) == syn.escape {
            return i + 2;
        }
        if let Some(end) = self.raw_string(i) {
            return end;
        }
        if syn.rst_comments
            && c == b'.'
            && let Some(end) = self.rst_comment(i)
        {
            return end;
        }
        for blk in syn.blocks {
            if let Some(start) = self.block_open(i, blk) {
                return self.block(start, blk);
            }
        }
        for m in syn.line {
            if let Some(start) = self.line_marker(i, m) {
                if syn.long_brackets {
                    let after = i + m.text.len();
                    if let Some((open_len, level)) = self.long_bracket(after) {
                        return self.long_comment(after + open_len, level);
                    }
                }
                return self.line_comment(i, start);
            }
        }
        if syn.js_templates
            && let Some(end) = self.template(i)
        {
            return end;
        }
        if syn.ruby_percent
            && c == b'%'
            && let Some(end) = self.ruby_percent(i)
        {
            return end;
        }
        if syn.perl_quotes
            && let Some(end) = self.perl_quote(i)
        {
            return end;
        }
        if syn.dollar_quotes
            && c == b'$'
            && let Some(end) = self.dollar_quote(i)
        {
            return end;
        }
        for s in syn.strings {
            if self.string_opens(i, s) {
                return self.skip_string(i + s.open.len(), s);
            }
        }
        if syn.char_literals && c == b'\'' {
            return self.char_literal(i);
        }
        if Some(c) == syn.char_prefix && (i == 0 || !is_ident(b[i - 1])) {
            return if b.get(i + 1) == Some(&b'\\') {
                i + 3
            } else {
                i + 2
            };
        }
        if syn.long_brackets
            && c == b'['
            && let Some((open_len, level)) = self.long_bracket(i)
        {
            let close = self.long_close(i + open_len, level);
            return close.map_or(b.len(), |(_, end)| end);
        }
        if c == b'<'
            && let Some(end) = self.heredoc_open(i)
        {
            return end;
        }
        if syn.js_regex
            && c == b'/'
            && let Some(end) = self.regex(i)
        {
            return end;
        }
        i + 1
    }

    fn newline(&mut self, i: usize) -> usize {
        if let Some((nl, resume)) = self.heredoc {
            if nl == i {
                self.heredoc = None;
                return resume;
            }
            if i > nl {
                self.heredoc = None;
            }
        }
        i + 1
    }

    // ---- positions -------------------------------------------------------

    /// Line and column of byte `pos`; positions must be asked in order.
    fn locate(&mut self, pos: usize) -> (u32, u32) {
        let b = self.b;
        let cur = &mut self.cursor;
        if pos < cur.pos {
            // Never happens with in-order emission; recover by recounting.
            *cur = Cursor {
                pos: 0,
                line: 1,
                line_start: 0,
                col: 1,
            };
        }
        let span = &b[cur.pos..pos];
        // (memchr's vectorised count, then one search back: visiting every
        // line end between two comments cost more.)
        if let Some(k) = memchr::memrchr(b'\n', span) {
            let newlines = memchr::memchr_iter(b'\n', &span[..k]).count() + 1;
            cur.line = cur
                .line
                .saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
            cur.line_start = cur.pos + k + 1;
            cur.col = 1 + char_count(&b[cur.line_start..pos]);
        } else {
            cur.col += char_count(span);
        }
        cur.pos = pos;
        (cur.line, cur.col)
    }

    /// Only white space between the start of the line and `i`.
    fn at_line_start(&self, i: usize) -> bool {
        let mut p = i;
        while p > 0 && is_blank(self.b[p - 1]) {
            p -= 1;
        }
        p == 0 || self.b[p - 1] == b'\n'
    }

    fn position_ok(&self, i: usize, at: At) -> bool {
        let prev = if i == 0 { None } else { Some(self.b[i - 1]) };
        match at {
            At::Anywhere => true,
            At::WordStart => matches!(prev, None | Some(b' ' | b'\t' | b'\n' | b'\r' | b';')),
            At::AfterSpace => matches!(prev, None | Some(b' ' | b'\t' | b'\n' | b'\r')),
            At::LineStart => self.at_line_start(i),
            At::Column1 => matches!(prev, None | Some(b'\n')),
            At::NotColumn6 => {
                let line_start = memchr::memrchr(b'\n', &self.b[..i]).map_or(0, |k| k + 1);
                i - line_start != 5
            }
        }
    }

    /// End of the line's text: the `\n` at or after `from` (or the end),
    /// without a trailing `\r`.
    fn line_end(&self, from: usize) -> (usize, usize) {
        let nl = memchr(b'\n', &self.b[from..]).map_or(self.b.len(), |k| from + k);
        (self.trim_cr(from, nl), nl)
    }

    fn trim_cr(&self, start: usize, end: usize) -> usize {
        if end > start && self.b[end - 1] == b'\r' {
            end - 1
        } else {
            end
        }
    }

    // ---- comments --------------------------------------------------------

    /// Where the text of a line comment starts, when `m` opens one at `i`.
    fn line_marker(&self, i: usize, m: &LineMarker) -> Option<usize> {
        let b = self.b;
        let t = m.text.as_bytes();
        if !starts_with_ci(&b[i..], t, m.ci) || !self.position_ok(i, m.at) {
            return None;
        }
        let mut j = i + t.len();
        let last = t[t.len() - 1];
        if !last.is_ascii_alphanumeric() {
            // `///`, `##`, `---`, `;;;`: doc and banner variants of the marker.
            while j < b.len() && b[j] == last {
                j += 1;
            }
            if t == b"//" && b.get(j) == Some(&b'!') {
                j += 1;
            }
        }
        if b.get(j).is_some_and(|x| m.not_before.contains(x)) {
            return None;
        }
        Some(j)
    }

    fn line_comment(&mut self, i: usize, start: usize) -> usize {
        let (end, nl) = self.line_end(start);
        let standalone = self.at_line_start(i);
        let (line, column) = self.locate(start);
        let cl = CommentLine {
            line,
            column,
            text: &self.text[start..end],
        };
        let marker = &self.b[i..start];
        if standalone
            && let Some(run) = &mut self.run
            && run.index + 1 == self.out.len()
            && run.marker == marker
            && run.line + 1 == line
        {
            self.out[run.index].lines.push(cl);
            run.line = line;
            return nl;
        }
        self.out.push(Comment {
            kind: CommentKind::Line,
            lines: vec![cl],
        });
        self.run = standalone.then(|| Run {
            index: self.out.len() - 1,
            marker,
            line,
        });
        nl
    }

    /// Where the text of a block comment starts, when `blk` opens one at `i`.
    fn block_open(&self, i: usize, blk: &BlockMarker) -> Option<usize> {
        let b = self.b;
        let open = blk.open.as_bytes();
        if !prefix_is(&b[i..], open) {
            return None;
        }
        if blk.line_start && !self.at_line_start(i) {
            return None;
        }
        let mut j = i + open.len();
        // `(*)` is the multiplication operator in OCaml and F#.
        if open == b"(*" && b.get(j) == Some(&b')') {
            return None;
        }
        let last = open[open.len() - 1];
        let close = blk.close.as_bytes();
        if !last.is_ascii_alphanumeric() {
            // `/**`, `/*!`, `(**`: doc variants, unless the close follows.
            while j < b.len() && b[j] == last && !prefix_is(&b[j..], close) {
                j += 1;
            }
            if open == b"/*" && b.get(j) == Some(&b'!') {
                j += 1;
            }
        }
        Some(j)
    }

    /// Emits the block comment whose text starts at `start`; returns the
    /// position after its close (or the end of the file).
    fn block(&mut self, start: usize, blk: &BlockMarker) -> usize {
        let b = self.b;
        let close = blk.close.as_bytes();
        let (text_end, resume) = if blk.line_start {
            self.line_block_close(start, close)
        } else if blk.nests {
            self.nested_close(start, blk.open.as_bytes(), close)
        } else {
            match memmem::find(&b[start..], close) {
                Some(k) => (start + k, start + k + close.len()),
                None => (b.len(), b.len()),
            }
        };
        self.emit_block(start, text_end, close);
        resume
    }

    /// For `=begin`…`=end` style blocks: the text ends before the newline
    /// that precedes the closing line; lexing resumes at that line's end.
    fn line_block_close(&self, start: usize, close: &[u8]) -> (usize, usize) {
        let b = self.b;
        let mut nl = start;
        while let Some(k) = memchr(b'\n', &b[nl..]) {
            let line = nl + k + 1;
            let mut p = line;
            while p < b.len() && is_blank(b[p]) {
                p += 1;
            }
            if prefix_is(&b[p..], close) {
                let (_, end) = self.line_end(p);
                return (nl + k, end);
            }
            nl = line;
        }
        (b.len(), b.len())
    }

    fn nested_close(&self, start: usize, open: &[u8], close: &[u8]) -> (usize, usize) {
        let b = self.b;
        let (o, c) = (open[0], close[0]);
        let mut depth = 1u32;
        let mut j = start;
        while j < b.len() {
            let Some(k) = memchr2(o, c, &b[j..]) else {
                break;
            };
            let k = j + k;
            if prefix_is(&b[k..], close) {
                depth -= 1;
                if depth == 0 {
                    return (k, k + close.len());
                }
                j = k + close.len();
            } else if prefix_is(&b[k..], open) {
                depth += 1;
                j = k + open.len();
            } else {
                j = k + 1;
            }
        }
        (b.len(), b.len())
    }

    /// Pushes one `Block` comment covering `start..end`, one line per source
    /// line, stripping `*` decoration from continuation lines.
    fn emit_block(&mut self, start: usize, end: usize, close: &[u8]) {
        let b = self.b;
        let mut lines = Vec::new();
        let mut s = start;
        loop {
            let nl = memchr(b'\n', &b[s..end]).map(|k| s + k);
            let line_end = nl.unwrap_or(end);
            let text_end = self.trim_cr(s, line_end);
            let (line, column) = self.locate(s);
            lines.push(CommentLine {
                line,
                column,
                text: &self.text[s..text_end],
            });
            let Some(nl) = nl else { break };
            s = nl + 1;
            let mut p = s;
            while p < end && is_blank(b[p]) {
                p += 1;
            }
            if p < end && b[p] == b'*' && !prefix_is(&b[p..], close) {
                s = p + 1;
            }
        }
        self.out.push(Comment {
            kind: CommentKind::Block,
            lines,
        });
        self.run = None;
    }

    /// An reStructuredText comment at `i`: `..` first on its line, then its
    /// text on the same line and on the following blank or further-indented
    /// lines (`..` alone, `   TODO: …` below it is a comment too). Pushed as
    /// one `Block` comment, so its indented lines are the body. `None` for
    /// explicit markup that is not a comment (`.. note::`, `.. _target:`,
    /// `.. [1]`, `.. |sub|`), whose indented content is document text.
    fn rst_comment(&mut self, i: usize) -> Option<usize> {
        let b = self.b;
        if !prefix_is(&b[i..], b"..") || !self.at_line_start(i) {
            return None;
        }
        if !matches!(b.get(i + 2), None | Some(b' ' | b'\t' | b'\r' | b'\n')) {
            return None;
        }
        let line_start = memchr::memrchr(b'\n', &b[..i]).map_or(0, |k| k + 1);
        let indent = i - line_start;
        let (first_end, mut nl) = self.line_end(i + 2);
        let first = self.text[i + 2..first_end].trim_start();
        if first.starts_with(['_', '[', '|']) || first.contains("::") {
            return None;
        }
        let (line, column) = self.locate(i + 2);
        let mut lines = vec![CommentLine {
            line,
            column,
            text: &self.text[i + 2..first_end],
        }];
        let mut end = first_end;
        // Lines after the `..` line: blank ones are kept only when an
        // indented line follows them.
        let mut pending = Vec::new();
        while nl < b.len() {
            let s = nl + 1;
            let (text_end, next_nl) = self.line_end(s);
            let mut p = s;
            while p < text_end && is_blank(b[p]) {
                p += 1;
            }
            if p == text_end {
                pending.push(s);
            } else if p - s > indent {
                for blank in pending.drain(..) {
                    let (line, column) = self.locate(blank);
                    lines.push(CommentLine {
                        line,
                        column,
                        text: "",
                    });
                }
                let (line, column) = self.locate(s);
                lines.push(CommentLine {
                    line,
                    column,
                    text: &self.text[s..text_end],
                });
                end = text_end;
            } else {
                break;
            }
            nl = next_nl;
        }
        self.out.push(Comment {
            kind: CommentKind::Block,
            lines,
        });
        self.run = None;
        Some(end)
    }

    /// `[[`, `[==[` at `i`: the opener's length and its `=` count.
    fn long_bracket(&self, i: usize) -> Option<(usize, usize)> {
        let b = self.b;
        if b.get(i) != Some(&b'[') {
            return None;
        }
        let mut j = i + 1;
        while j < b.len() && b[j] == b'=' {
            j += 1;
        }
        (b.get(j) == Some(&b'[')).then_some((j + 1 - i, j - i - 1))
    }

    /// The `]==]` matching a long bracket of `level`: (its start, its end).
    fn long_close(&self, from: usize, level: usize) -> Option<(usize, usize)> {
        let b = self.b;
        let mut j = from;
        while let Some(k) = memchr(b']', &b[j..]) {
            let k = j + k;
            let mut p = k + 1;
            while p < b.len() && b[p] == b'=' {
                p += 1;
            }
            if p - k - 1 == level && b.get(p) == Some(&b']') {
                return Some((k, p + 1));
            }
            j = k + 1;
        }
        None
    }

    fn long_comment(&mut self, start: usize, level: usize) -> usize {
        let (text_end, resume) = self
            .long_close(start, level)
            .unwrap_or((self.b.len(), self.b.len()));
        self.emit_block(start, text_end, b"]");
        resume
    }

    // ---- strings ---------------------------------------------------------

    fn string_opens(&self, i: usize, s: &StringRule) -> bool {
        let b = self.b;
        if !prefix_is(&b[i..], s.open.as_bytes()) {
            return false;
        }
        let prev = if i == 0 { None } else { Some(b[i - 1]) };
        match s.guard {
            Guard::Always => true,
            Guard::NotAfterValue => {
                !matches!(prev, Some(p) if is_ident(p) || matches!(p, b')' | b']' | b'}' | b'.' | b'\''))
            }
            Guard::ValueStart => matches!(
                prev,
                None | Some(b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b',' | b':')
            ),
        }
    }

    /// Skips a string body starting at `from`; returns the position after
    /// the close, the line end (single-line strings), or the file end.
    fn skip_string(&self, from: usize, s: &StringRule) -> usize {
        let b = self.b;
        let n = b.len();
        let close = s.close.as_bytes();
        let Some(&c0) = close.first() else {
            return memchr(b'\n', &b[from..]).map_or(n, |k| from + k);
        };
        let mut j = from;
        while j < n {
            let found = match (s.escape, s.multiline) {
                (Some(e), true) => memchr2(c0, e, &b[j..]),
                (Some(e), false) => memchr3(c0, e, b'\n', &b[j..]),
                (None, true) => memchr(c0, &b[j..]),
                (None, false) => memchr2(c0, b'\n', &b[j..]),
            };
            let Some(k) = found else { return n };
            let k = j + k;
            let x = b[k];
            if x == c0 && prefix_is(&b[k..], close) {
                let end = k + close.len();
                if s.doubled && prefix_is(&b[end..], close) {
                    j = end + close.len();
                    continue;
                }
                return end;
            }
            if Some(x) == s.escape {
                j = k + 2;
            } else if x == b'\n' && !s.multiline {
                return k;
            } else {
                j = k + 1;
            }
        }
        n
    }

    /// `'x'`, `'\n'`, `'\u{1F600}'` are skipped; a lone `'` (lifetime, type
    /// variable, prime, digit separator) is just stepped over.
    fn char_literal(&self, i: usize) -> usize {
        let b = self.b;
        if i > 0 && is_ident(b[i - 1]) && !self.char_prefix_ident(i) {
            return i + 1;
        }
        match b.get(i + 1) {
            Some(b'\\') => {
                let window = b.get(i + 3..(i + 16).min(b.len())).unwrap_or(&[]);
                match memchr2(b'\'', b'\n', window) {
                    Some(k) if window[k] == b'\'' => i + 3 + k + 1,
                    _ => i + 1,
                }
            }
            Some(&lead) if lead != b'\n' && lead != b'\'' => {
                let len = match lead {
                    0xF0..=0xFF => 4,
                    0xE0..=0xEF => 3,
                    0xC0..=0xDF => 2,
                    _ => 1,
                };
                if b.get(i + 1 + len) == Some(&b'\'') {
                    i + 2 + len
                } else {
                    i + 1
                }
            }
            _ => i + 1,
        }
    }

    /// `b'x'`, `L'x'`, `u8'x'`: an identifier-like prefix of a char literal.
    fn char_prefix_ident(&self, i: usize) -> bool {
        let b = self.b;
        let mut p = i;
        while p > 0 && is_ident(b[p - 1]) && i - p < 3 {
            p -= 1;
        }
        if p > 0 && is_ident(b[p - 1]) {
            return false;
        }
        matches!(&b[p..i], b"b" | b"L" | b"u" | b"U" | b"u8")
    }

    fn raw_string(&self, i: usize) -> Option<usize> {
        let b = self.b;
        let prev_ident = |p: usize| p > 0 && is_ident(b[p - 1]);
        match self.syn.raw {
            Raw::None => None,
            Raw::Rust => {
                // r"…", r#"…"#, br"…", cr#"…"#, seen from the `#` or `"`.
                if !matches!(b[i], b'#' | b'"') || i == 0 || b[i - 1] != b'r' {
                    return None;
                }
                let r = i - 1;
                let prefix_ok =
                    !prev_ident(r) || (matches!(b[r - 1], b'b' | b'c') && !prev_ident(r - 1));
                if !prefix_ok {
                    return None;
                }
                self.hashed_raw(i)
            }
            Raw::Swift => {
                if b[i] != b'#' {
                    return None;
                }
                self.hashed_raw(i)
            }
            Raw::Cpp => {
                if b[i] != b'R' || b.get(i + 1) != Some(&b'"') {
                    return None;
                }
                let mut p = i;
                while p > 0 && is_ident(b[p - 1]) && i - p < 2 {
                    p -= 1;
                }
                let prefix_ok = (p == 0 || !is_ident(b[p - 1]))
                    && matches!(&b[p..i], b"" | b"u8" | b"u" | b"U" | b"L");
                if !prefix_ok {
                    return None;
                }
                let open = i + 2;
                let paren = memchr(b'(', &b[open..b.len().min(open + 17)])? + open;
                let delim = &b[open..paren];
                if delim
                    .iter()
                    .any(|&c| c.is_ascii_whitespace() || c == b')' || c == b'\\')
                {
                    return None;
                }
                let mut close = Vec::with_capacity(delim.len() + 2);
                close.push(b')');
                close.extend_from_slice(delim);
                close.push(b'"');
                Some(
                    memmem::find(&b[paren + 1..], &close)
                        .map_or(b.len(), |k| paren + 1 + k + close.len()),
                )
            }
        }
    }

    /// `#*"` at `at` (Rust after the `r`, Swift at the first `#`): skips to
    /// the `"` followed by as many `#`. Swift's `#"""` closes with `"""#`.
    fn hashed_raw(&self, at: usize) -> Option<usize> {
        let b = self.b;
        let mut q = at;
        while q < b.len() && b[q] == b'#' {
            q += 1;
        }
        let hashes = q - at;
        if b.get(q) != Some(&b'"') || (self.syn.raw == Raw::Swift && hashes == 0) {
            return None;
        }
        let triple = self.syn.raw == Raw::Swift && prefix_is(&b[q..], b"\"\"\"");
        let mut close = Vec::with_capacity(hashes + 3);
        close.extend_from_slice(if triple { b"\"\"\"" } else { b"\"" });
        close.extend(std::iter::repeat_n(b'#', hashes));
        let from = q + if triple { 3 } else { 1 };
        Some(memmem::find(&b[from..], &close).map_or(b.len(), |k| from + k + close.len()))
    }

    fn heredoc_open(&mut self, i: usize) -> Option<usize> {
        let b = self.b;
        if self.heredoc_off || self.heredoc.is_some() {
            return None;
        }
        let style = self.syn.heredoc;
        let mut j = i;
        match style {
            Heredoc::None => return None,
            Heredoc::Shell | Heredoc::Script => {
                if !prefix_is(&b[j..], b"<<") || b.get(j + 2) == Some(&b'<') {
                    return None;
                }
                j += 2;
                if style == Heredoc::Shell {
                    if b.get(j) == Some(&b'-') {
                        j += 1;
                    }
                    while j < b.len() && is_blank(b[j]) {
                        j += 1;
                    }
                } else if matches!(b.get(j), Some(b'-' | b'~')) {
                    j += 1;
                }
            }
            Heredoc::Php => {
                if !prefix_is(&b[j..], b"<<<") {
                    return None;
                }
                j += 3;
                while j < b.len() && is_blank(b[j]) {
                    j += 1;
                }
            }
        }
        if style == Heredoc::Shell && b.get(j) == Some(&b'\\') {
            // `<<\EOF` quotes the delimiter like `<<'EOF'`.
            j += 1;
        }
        let quote = match b.get(j) {
            Some(&q @ (b'"' | b'\'')) => {
                j += 1;
                Some(q)
            }
            _ => None,
        };
        let id_start = j;
        let first = *b.get(j)?;
        if !(first.is_ascii_alphabetic() || first == b'_') {
            return None;
        }
        if quote.is_none()
            && style != Heredoc::Shell
            && !(first.is_ascii_uppercase() || first == b'_')
        {
            return None;
        }
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
            j += 1;
        }
        let id = &b[id_start..j];
        if let Some(q) = quote {
            if b.get(j) != Some(&q) {
                return None;
            }
            j += 1;
        }
        let Some(nl) = memchr(b'\n', &b[j..]).map(|k| j + k) else {
            self.heredoc_off = true;
            return None;
        };
        let mut line = nl + 1;
        while line < b.len() {
            let mut p = line;
            while p < b.len() && is_blank(b[p]) {
                p += 1;
            }
            let (_, end) = self.line_end(p);
            if prefix_is(&b[p..], id) && !b.get(p + id.len()).is_some_and(|&c| is_ident(c)) {
                self.heredoc = Some((nl, end));
                return Some(j);
            }
            line = end + 1;
        }
        self.heredoc_off = true;
        None
    }

    /// A backtick opens a template literal; `{` and `}` count braces in
    /// its `${…}` expressions, and the `}` closing one resumes the literal.
    fn template(&mut self, i: usize) -> Option<usize> {
        match self.b[i] {
            b'`' => Some(self.template_text(i + 1)),
            b'{' => {
                *self.templates.last_mut()? += 1;
                Some(i + 1)
            }
            b'}' => {
                let depth = self.templates.last_mut()?;
                *depth -= 1;
                if *depth > 0 {
                    return Some(i + 1);
                }
                self.templates.pop();
                Some(self.template_text(i + 1))
            }
            _ => None,
        }
    }

    /// Skips template text from `from` to the closing backtick, or to a
    /// `${`, after which the lexer reads code again.
    fn template_text(&mut self, from: usize) -> usize {
        let b = self.b;
        let mut j = from;
        while let Some(k) = memchr3(b'`', b'\\', b'$', &b[j..]) {
            let k = j + k;
            match b[k] {
                b'`' => return k + 1,
                b'\\' => j = k + 2,
                _ if b.get(k + 1) == Some(&b'{') => {
                    self.templates.push(1);
                    return k + 2;
                }
                _ => j = k + 1,
            }
            if j >= b.len() {
                break;
            }
        }
        b.len()
    }

    /// Ruby `%q(…)`, `%w[…]`, `%(…)`: `%` where a value can start, an
    /// optional type letter, then a delimiter (brackets nest).
    fn ruby_percent(&self, i: usize) -> Option<usize> {
        let b = self.b;
        let mut j = i + 1;
        if b.get(j).is_some_and(|c| b"qQwWiIrsx".contains(c)) {
            j += 1;
        }
        let open = *b.get(j)?;
        if open.is_ascii_alphanumeric() || open.is_ascii_whitespace() || open == b'=' {
            return None;
        }
        // After a value, `%` is the modulo operator unless spacing says
        // otherwise (`puts %w[a b]` but `x % (y)` and `x%(y)`).
        let mut p = i;
        while p > 0 && is_blank(b[p - 1]) {
            p -= 1;
        }
        let after_value = p > 0 && (is_ident(b[p - 1]) || b")]}\"'".contains(&b[p - 1]));
        if after_value && (p == i || j > i + 1 && !b"([{<".contains(&open)) {
            return None;
        }
        if after_value && b.get(j + 1).is_some_and(|c| c.is_ascii_whitespace()) {
            return None;
        }
        Some(self.delimited(j, 1))
    }

    /// Perl's quote-like operators, found from their first letter.
    fn perl_quote(&self, i: usize) -> Option<usize> {
        let b = self.b;
        if i > 0 && (is_ident(b[i - 1]) || b"$@%&*-:>".contains(&b[i - 1])) {
            return None;
        }
        let mut w = i;
        while w < b.len() && is_ident(b[w]) {
            w += 1;
        }
        let parts = match &b[i..w] {
            b"q" | b"qq" | b"qw" | b"qr" | b"m" => 1,
            b"s" | b"tr" | b"y" => 2,
            _ => return None,
        };
        let mut j = w;
        while j < b.len() && is_blank(b[j]) {
            j += 1;
        }
        let open = *b.get(j)?;
        // `q #…#` is a comment, `y => 1` a hash key, `s = 1` no quote.
        if open.is_ascii_alphanumeric()
            || open.is_ascii_whitespace()
            || b"=,;)]}>".contains(&open)
            || (open == b'#' && j > w)
        {
            return None;
        }
        Some(self.delimited(j, parts))
    }

    /// Skips `parts` delimited sections starting with the delimiter at
    /// `j`: bracket pairs nest and each part has its own pair
    /// (`s{a} {b}`); other delimiters are shared (`s/a/b/`).
    fn delimited(&self, j: usize, parts: u32) -> usize {
        let b = self.b;
        let open = b[j];
        let close = match open {
            b'(' => b')',
            b'[' => b']',
            b'{' => b'}',
            b'<' => b'>',
            c => c,
        };
        let mut k = j + 1;
        let mut depth = 1u32;
        let mut left = parts;
        while k < b.len() {
            let c = b[k];
            if c == b'\\' {
                k += 2;
                continue;
            }
            if c == close && depth == 1 {
                left -= 1;
                if left == 0 {
                    return k + 1;
                }
                if open == close {
                    k += 1;
                    continue;
                }
                // The next part opens with its own bracket.
                k += 1;
                while k < b.len() && b[k].is_ascii_whitespace() {
                    k += 1;
                }
                if b.get(k) != Some(&open) {
                    return k;
                }
                k += 1;
                continue;
            }
            if open != close && c == open {
                depth += 1;
            } else if open != close && c == close {
                depth -= 1;
            }
            k += 1;
        }
        b.len()
    }

    /// `$tag$` at `i`: closes the open function body with that tag, opens
    /// one after `AS`/`DO`, else is a string skipped to its closing tag.
    fn dollar_quote(&mut self, i: usize) -> Option<usize> {
        let b = self.b;
        if i > 0 && (is_ident(b[i - 1]) || b[i - 1] == b'$') {
            return None;
        }
        let mut j = i + 1;
        if b.get(j)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        {
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
        }
        if b.get(j) != Some(&b'$') {
            return None;
        }
        let tag = &b[i..=j];
        if self.dollar_body == Some(tag) {
            self.dollar_body = None;
            return Some(j + 1);
        }
        let mut p = i;
        while p > 0 && b[p - 1].is_ascii_whitespace() {
            p -= 1;
        }
        let word_start = b[..p]
            .iter()
            .rposition(|&c| !c.is_ascii_alphabetic())
            .map_or(0, |k| k + 1);
        let word = &b[word_start..p];
        if self.dollar_body.is_none()
            && (word.eq_ignore_ascii_case(b"as") || word.eq_ignore_ascii_case(b"do"))
        {
            self.dollar_body = Some(tag);
            return Some(j + 1);
        }
        let body = j + 1;
        Some(memmem::find(&b[body..], tag).map_or(b.len(), |k| body + k + tag.len()))
    }

    fn regex(&mut self, i: usize) -> Option<usize> {
        let b = self.b;
        if i < self.regex_off_until {
            return None;
        }
        let mut p = i;
        while p > 0 && is_blank(b[p - 1]) {
            p -= 1;
        }
        let after_operator = p == 0
            || matches!(
                b[p - 1],
                b'(' | b','
                    | b'='
                    | b':'
                    | b'['
                    | b'!'
                    | b'&'
                    | b'|'
                    | b'?'
                    | b'{'
                    | b'}'
                    | b';'
                    | b'\n'
                    | b'+'
                    | b'-'
                    | b'*'
                    | b'%'
                    | b'~'
                    | b'^'
            );
        // `return /x/`, Ruby's `if /x/`, Perl's `split /,/`.
        const BEFORE_REGEX: &[&[u8]] = &[
            b"return", b"typeof", b"if", b"unless", b"elsif", b"while", b"until", b"and", b"or",
            b"not", b"when", b"split", b"grep", b"map", b"case", b"yield", b"in", b"of",
        ];
        let word_start = b[..p]
            .iter()
            .rposition(|&c| !is_ident(c))
            .map_or(0, |k| k + 1);
        let after_keyword = BEFORE_REGEX.contains(&&b[word_start..p])
            && (word_start == 0 || b[word_start - 1] != b'.');
        if !after_operator && !after_keyword {
            return None;
        }
        let mut class = false;
        let mut j = i + 1;
        while j < b.len() {
            match b[j] {
                b'\\' => j += 1,
                b'[' => class = true,
                b']' => class = false,
                b'/' if !class => return Some(j + 1),
                b'\n' => break,
                _ => {}
            }
            j += 1;
        }
        self.regex_off_until = j;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language_for_path;

    /// Each comment as its lines' trimmed texts joined with `|`.
    fn lex(path: &str, src: &str) -> Vec<String> {
        let lang = language_for_path(path, src).unwrap_or_else(|| panic!("no language for {path}"));
        comments(src, lang)
            .iter()
            .map(|c| {
                c.lines
                    .iter()
                    .map(|l| l.text.trim())
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect()
    }

    /// (path, source, expected comments). Every row mixes a real comment
    /// with look-alikes in strings or code that must not be reported.
    const CASES: &[(&str, &str, &[&str])] = &[
        // C family
        (
            "a.c",
            "int x; // TODO: a\n/* FIXME b */\nchar *s = \"// not\";\n",
            &["TODO: a", "FIXME b"],
        ),
        ("a.c", "char c = '\"'; // real\n", &["real"]),
        ("a.c", "/* a /* b */ c */ x; // d\n", &["a /* b", "d"]),
        ("a.h", "/**\n * TODO: doc\n */\n", &["|TODO: doc|"]),
        (
            "a.cpp",
            "auto s = R\"x(// not )\" still)x\"; // yes\n",
            &["yes"],
        ),
        ("a.cpp", "int n = 1'000'000; // sep\n", &["sep"]),
        (
            "a.cpp",
            "auto w = L'\"'; auto u = u8R\"(\")\"; // c\n",
            &["c"],
        ),
        ("a.cs", "var p = @\"C:\\dir\\\"; // c\n", &["c"]),
        (
            "a.cs",
            "var q = @\"say \"\"hi // no\"\"\"; var r = \"\"\"\n// no\n\"\"\"; // c\n",
            &["c"],
        ),
        (
            "a.java",
            "String s = \"\\\"// no\"; char q = '\"'; // c\n",
            &["c"],
        ),
        (
            "a.java",
            "String t = \"\"\"\n  // no\n  \"\"\"; /** d */\n",
            &["d"],
        ),
        (
            "a.kt",
            "val s = \"\"\"\n// not\n\"\"\" /* a /* b */ c */\n",
            &["a /* b */ c"],
        ),
        ("a.scala", "val s = 'sym; val c = '\"' // c\n", &["c"]),
        ("Jenkinsfile", "sh 'echo // no' // c\n", &["c"]),
        ("build.gradle", "def s = '''// no''' // c\n", &["c"]),
        ("a.go", "s := `// raw\n`\nr := '\"' // c\n", &["c"]),
        (
            "a.dart",
            "var s = r'// no'; /* a /* b */ c */\n",
            &["a /* b */ c"],
        ),
        (
            "a.swift",
            "/* a /* b */ c */ let s = #\"// \"no\" \"#; // d\n",
            &["a /* b */ c", "d"],
        ),
        ("a.swift", "let m = \"\"\"\n// no\n\"\"\" // d\n", &["d"]),
        (
            "a.d",
            "/+ a /+ b +/ c +/ auto s = `// no`; // d\n",
            &["a /+ b +/ c", "d"],
        ),
        ("a.zig", "const s = \\\\ // not\n; // d\n", &["d"]),
        ("a.sol", "string s = \"// no\"; // c\n", &["c"]),
        (
            "a.proto",
            "string s = 1 [default = \"//no\"]; // c\n",
            &["c"],
        ),
        ("a.sv", "assign a = \"//no\"; // c\n", &["c"]),
        (
            "a.m",
            "#import <Foundation/Foundation.h>\nNSString *s = @\"// no\"; // c\n",
            &["c"],
        ),
        // Rust
        (
            "a.rs",
            "fn f<'a>(x: &'a str) -> char { 'x' } // TODO\n",
            &["TODO"],
        ),
        ("a.rs", "let s = r#\"// \"not\" \"#; // yes\n", &["yes"]),
        (
            "a.rs",
            "/* outer /* inner */ still */ code // after\n",
            &["outer /* inner */ still", "after"],
        ),
        (
            "a.rs",
            "let q = '\"'; let b = b'\"'; let e = '\\''; // c\n",
            &["c"],
        ),
        ("a.rs", "/// doc TODO\n//! inner\n", &["doc TODO", "inner"]),
        ("a.rs", "let s = \"multi\n// not\n\"; // yes\n", &["yes"]),
        ("a.rs", "let u = '\\u{1F600}'; let e = 'é'; // c\n", &["c"]),
        (
            "a.rs",
            "let p = r\"C:\\\"; let q = br#\"\"//\"#; // c\n",
            &["c"],
        ),
        (
            "a.rs",
            "#[cfg(test)] // c\nlet r#type = 1; // d\n",
            &["c", "d"],
        ),
        // JavaScript family
        ("a.js", "const u = 'http://x.com'; // c\n", &["c"]),
        ("a.js", "const t = `a\n// not\n`; // yes\n", &["yes"]),
        ("a.js", "const r = /\\/\\/ not[/]/g; // yes\n", &["yes"]),
        ("a.ts", "let a = b / c; // div\n", &["div"]),
        (
            "a.tsx",
            "const x = <a href=\"http://x\">{/* c */}</a>;\n",
            &["c"],
        ),
        ("a.jsonc", "{\"u\": \"http://x\" // c\n}\n", &["c"]),
        // Template literals nest through `${…}`, across lines.
        (
            "a.js",
            "const a = `x ${ `y // no ${z} // no` } w // no`; // yes\n",
            &["yes"],
        ),
        (
            "a.ts",
            "const q = `a ${b.map(c => `\n  // no\n  ${ {k: '}'}.k }`)}\n// no\n`;\n// real\n",
            &["real"],
        ),
        (
            "a.js",
            "f(`${ /* c */ x }`); const s = `\\${ // no`; // d\n",
            &["c", "d"],
        ),
        (
            "a.vue",
            "<script>\nconst s = `${a}` // c\n</script>\n",
            &["c"],
        ),
        // PHP
        (
            "a.php",
            "#[Attr]\n$x = \"# no\"; # yes\n// two\n",
            &["yes", "two"],
        ),
        ("a.php", "$s = <<<EOT\n// not\nEOT;\n// yes\n", &["yes"]),
        // Python and friends
        (
            "a.py",
            "s = \"\"\"\n# not a comment\n\"\"\"\nx = '#' # real\n",
            &["real"],
        ),
        (
            "a.py",
            "def f():\n    '''doc TODO'''\n    # TODO: a\n    #   more\n",
            &["TODO: a|more"],
        ),
        ("a.py", "s = f\"{x}#no\" + rb'#no' # c\n", &["c"]),
        ("BUILD.bazel", "cc_library(name = \"#no\") # c\n", &["c"]),
        (
            "a.nim",
            "#[ a #[ b ]# c ]#\necho \"#no\" # d\n",
            &["a #[ b ]# c", "d"],
        ),
        (
            "a.jl",
            "#= a #= b =# c =#\nx = a' * \"#no\" # d\n",
            &["a #= b =# c", "d"],
        ),
        ("a.R", "s <- \"# no\" # c\n", &["c"]),
        ("a.graphql", "\"\"\"\n# no\n\"\"\"\ntype A # c\n", &["c"]),
        // Shell
        ("a.sh", "echo ${#arr} $# a#b # c\n", &["c"]),
        ("a.sh", "cat <<EOF\n# not\nEOF\n# yes\n", &["yes"]),
        ("a.sh", "cat <<-'EOF' # c\n\t# not\n\tEOF\n", &["c"]),
        ("a.sh", "echo '# no' \"# no\" \\# # c\n", &["c"]),
        ("a.sh", "echo $((1<<3)) # c\n", &["c"]),
        ("a.sh", "cat <<\\END\n# not\nEND\n# c\n", &["c"]),
        ("run", "#!/usr/bin/env bash\necho hi # c\n", &["c"]),
        ("a.py", "#!/usr/bin/env python\n# TODO: a\n", &["TODO: a"]),
        ("a.rs", "#![allow(x)] // c\n", &["c"]),
        ("a.fish", "echo 'it\\'s # no' # c\n", &["c"]),
        ("a.ps1", "<# a #>\n$s = \"`\"# no\" # c\n", &["a", "c"]),
        (
            "a.bat",
            "@echo off\nREM c\n:: d\n@rem e\necho remark\n",
            &["c", "d", "e"],
        ),
        // Ruby, Perl
        (
            "a.rb",
            "=begin\nTODO: x\n=end\nputs \"#{a} # no\" # c\n",
            &["|TODO: x", "c"],
        ),
        ("a.rb", "x = <<~SQL\n  # not\n  SQL\n# y\n", &["y"]),
        // Ruby percent literals and regexes.
        (
            "a.rb",
            "a = %q(it's (# no)) # c\nb = %w[# no] + %r{#no}i # d\n",
            &["c", "d"],
        ),
        ("a.rb", "puts %(x # no) # c\ny = 10 % 3 # d\n", &["c", "d"]),
        ("a.rb", "if line =~ /#\\s*no'/ then x end # c\n", &["c"]),
        (
            "a.rb",
            "x = a / b # c\nreturn /#'no/ if y # d\n",
            &["c", "d"],
        ),
        // Perl quote-like operators and regexes.
        (
            "a.pl",
            "my $s = q{it's # no}; # c\n$x =~ s{#no}{'}g; # d\n",
            &["c", "d"],
        ),
        (
            "a.pl",
            "my @w = qw/a #b/; my %h = (y => 1, s => 2); # c\n",
            &["c"],
        ),
        (
            "a.pl",
            "my @p = split /'#/, $l; $t =~ tr/#'/ab/; # c\nprint $h{s}; # d\n",
            &["c", "d"],
        ),
        (
            "a.pl",
            "my $n = $#arr; # c\n=pod\n\nTODO doc\n\n=cut\nprint 1;\n",
            &["c", "||TODO doc|"],
        ),
        // Lua
        (
            "a.lua",
            "--[[ block\nTODO ]] x = \"--no\" -- c\n",
            &["block|TODO", "c"],
        ),
        (
            "a.lua",
            "s = [==[ -- no ]==] --[==[ a ]] b ]==]\n",
            &["a ]] b"],
        ),
        ("a.lua", "---doc\n", &["doc"]),
        // SQL
        ("a.sql", "SELECT 'it''s -- no' -- c\n/* b */\n", &["c", "b"]),
        // PostgreSQL: a function body is code, other dollar quotes strings.
        (
            "a.sql",
            "CREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  -- c\n  RETURN 1;\nEND;\n$$ LANGUAGE plpgsql;\n-- d\n",
            &["c", "d"],
        ),
        (
            "a.sql",
            "COMMENT ON TABLE t IS $$Don't -- no$$; -- c\nSELECT $q$ -- no ' $q$; -- d\n",
            &["c", "d"],
        ),
        (
            "a.sql",
            "DO $body$ BEGIN PERFORM $x$ ' -- no $x$; END $body$; -- c\n",
            &["c"],
        ),
        ("a.sql", "SELECT E'it\\'s -- no' FROM t; -- c\n", &["c"]),
        // MySQL `#` comments, but not T-SQL `#temp` tables.
        (
            "a.sql",
            "# c\nSELECT 1; # d\nSELECT * FROM #temp; SELECT '# no';\n",
            &["c", "d"],
        ),
        // ML, Haskell, Lisp, BEAM
        (
            "a.hs",
            "x --> y -- c\n{- a {- b -} c -}\nf x' = 'a' -- d\n",
            &["c", "a {- b -} c", "d"],
        ),
        ("a.elm", "x = a |> b --| c\ny = 1 -- d\n", &["d"]),
        (
            "a.ml",
            "let f = ( * ) (* a (* b *) c *) \"(* no\"\n",
            &["a (* b *) c"],
        ),
        ("a.fs", "let m = (*) // c\n", &["c"]),
        ("a.ex", "c = ?# # d\n", &["d"]),
        ("a.erl", "C = $%, % d\n", &["d"]),
        ("a.clj", "(str \\; \"; no\") ; d\n", &["d"]),
        (
            "a.lisp",
            "#| a #| b |# c |# (x #\\;) ; d\n",
            &["a #| b |# c", "d"],
        ),
        // Fortran, Pascal, Ada, VB, VHDL, MATLAB, assembly
        ("a.f90", "print *, 'it''s ! no' ! d\n", &["d"]),
        ("a.f", "C     fixed\n      X = 1\n", &["fixed"]),
        // Fixed form: `C`, `c`, `*`, `!` in column 1; `!` anywhere but in
        // column 6, where it marks a continuation line.
        (
            "a.f",
            "c     a\n*     b\n      X = 'A!B' ! c\n     !  + Y\n! d\nCALL F\n",
            &["a", "b", "c", "d", "ALL F"],
        ),
        (
            "a.pas",
            "{ a } (* b *) s := 'x // y'; // c\n",
            &["a", "b", "c"],
        ),
        ("a.adb", "X := Y'First; -- c\n", &["c"]),
        // reStructuredText: `..` comments, with their text on the same line
        // or on the further-indented lines below; directives, targets,
        // footnotes and substitutions are markup, and their indented content
        // is document text.
        (
            "a.rst",
            ".. TODO: a\n   more\n\nText .. not\n..\n    FIXME: b\n\n    c\nTODO text\n",
            &["TODO: a|more", "|FIXME: b||c"],
        ),
        (
            "a.rst",
            ".. note::\n   TODO not\n.. _t: http://x\n.. [1] TODO n\n.. |s| image:: x\n..comment\n",
            &[],
        ),
        (
            "a.rst",
            "- item\n\n  .. TODO: nested\n  para\n",
            &["TODO: nested"],
        ),
        (
            "a.vb",
            "Dim s = \"it's\" ' c\nREM d\nDim remark = 1\n",
            &["c", "d"],
        ),
        ("a.vhd", "if clk'event then -- c\n", &["c"]),
        (
            "a.m",
            "x = a'; s = 'it''s % no'; % c\n%{\nblock\n%}\n",
            &["c", "|block"],
        ),
        ("a.asm", "mov eax, 1 ; c\n", &["c"]),
        (
            "a.S",
            "\tmov r0, r1 @ c\n.type f,@function\n\tbl f@PLT\n@ d\n",
            &["c", "d"],
        ),
        // Markup
        (
            "a.vue",
            "<!-- a -->\n<a href=\"http://x\">http://y</a>\n<script>\n// c\n</script>\n",
            &["a", "c"],
        ),
        ("a.css", "a { background: url(//cdn) } /* c */\n", &["c"]),
        ("a.scss", "a { b: url(http://x); } // c\n", &["c"]),
        ("a.html", "<p>// no # no</p><!-- c\nd -->\n", &["c|d"]),
        (
            "README.md",
            "# Title\n<!-- TODO: c -->\n`// no`\n",
            &["TODO: c"],
        ),
        (
            "a.mdx",
            "see http://x // no\n{/* c */}\n<!-- d -->\n",
            &["c", "d"],
        ),
        (
            "a.j2",
            "{{ x }} {# a #} {{!-- b --}} <%# c %> <!-- d -->",
            &["a", "b", "c", "d"],
        ),
        (
            "docs/x.md",
            "```html\n<!-- TODO: example -->\n```\nuse `<!-- x -->` <!-- c -->\n~~~\n<!-- no -->\n~~~\n",
            &["c"],
        ),
        ("a.tex", "50\\% done % c\n", &["c"]),
        ("a.vim", "\" c\nlet s = \"x\"\n", &["c"]),
        // Config
        (
            "a.yml",
            "url: http://x/#anchor # c\ns: \"# no\"\nt: don't # d\n",
            &["c", "d"],
        ),
        ("a.toml", "a = \"# no\" # c\nb = '''\n# no\n'''\n", &["c"]),
        ("a.ini", "; c\nkey = a;b # no\n# d\n", &["c", "d"]),
        ("a.properties", "! c\nk = v#no\n", &["c"]),
        ("Dockerfile", "# c\nRUN echo # not\n", &["c"]),
        ("Makefile", "all: # c\n\techo \\# \"#\"\n", &["c"]),
        (
            "CMakeLists.txt",
            "#[[ a\nb ]] set(X \"#no\") # c\n",
            &["a|b", "c"],
        ),
        ("a.nix", "s = ''\n # no\n''; # c\n/* d */\n", &["c", "d"]),
        (
            "a.tf",
            "a = \"#no\" # c\nb = <<EOT\n# no\nEOT\n// d\n",
            &["c", "d"],
        ),
        ("requirements.txt", "git+https://x#egg=y # c\n", &["c"]),
        (".gitignore", "# c\nfoo#bar\n", &["c"]),
        (
            "nginx.conf",
            "listen 80; # c\nroot /a#b;\n; d\n",
            &["c", "d"],
        ),
        (".env", "A=x#no\nB=y # c\n", &["c"]),
    ];

    #[test]
    fn each_language_finds_its_comments_and_skips_look_alikes_in_strings_and_code() {
        let mut failures = Vec::new();
        for (path, src, want) in CASES {
            let got = lex(path, src);
            if got != *want {
                failures.push(format!("{path}: {src:?}\n  want {want:?}\n  got  {got:?}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{} failing cases:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    fn rust() -> Language {
        language_for_path("a.rs", "").unwrap()
    }

    fn line(line: u32, column: u32, text: &str) -> CommentLine<'_> {
        CommentLine { line, column, text }
    }

    #[test]
    fn given_adjacent_standalone_line_comments_when_lexed_then_they_form_one_comment() {
        let src = "x = 1 // trailing\n// TODO: a\n//   b\n\n// c\n/// d\n";
        let got = comments(src, rust());
        assert_eq!(got.len(), 4);
        assert!(got.iter().all(|c| c.kind == CommentKind::Line));
        assert_eq!(got[0].lines, vec![line(1, 9, " trailing")]);
        assert_eq!(
            got[1].lines,
            vec![line(2, 3, " TODO: a"), line(3, 3, "   b")]
        );
        assert_eq!(got[2].lines, vec![line(5, 3, " c")]);
        assert_eq!(got[3].lines, vec![line(6, 4, " d")]);
    }

    #[test]
    fn given_a_trailing_comment_above_a_standalone_one_then_they_stay_apart() {
        let got = comments("x // a\n// b\n    // c\n", rust());
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].lines, vec![line(2, 3, " b"), line(3, 7, " c")]);
    }

    #[test]
    fn given_a_decorated_block_comment_then_stars_are_stripped_and_columns_kept() {
        let src = "  /* first\n   * second\n   plain\n   *no/\n   */ code";
        let got = comments(src, rust());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].kind, CommentKind::Block);
        assert_eq!(
            got[0].lines,
            vec![
                line(1, 5, " first"),
                line(2, 5, " second"),
                line(3, 1, "   plain"),
                line(4, 5, "no/"),
                line(5, 1, "   "),
            ]
        );
    }

    #[test]
    fn given_crlf_line_ends_then_no_text_contains_a_carriage_return() {
        let src = "// a\r\n// b\r\n/* c\r\n d */\r\nx // e\r\n";
        let got = comments(src, rust());
        let texts: Vec<Vec<&str>> = got
            .iter()
            .map(|c| c.lines.iter().map(|l| l.text).collect())
            .collect();
        assert_eq!(texts, vec![vec![" a", " b"], vec![" c", " d "], vec![" e"]]);
        assert_eq!(got[2].lines[0].line, 5);
    }

    #[test]
    fn given_multibyte_text_then_columns_count_characters() {
        let got = comments("let é = \"ü\"; // c", rust());
        assert_eq!(got[0].lines, vec![line(1, 16, " c")]);
    }

    #[test]
    fn given_unterminated_constructs_then_lexing_ends_sensibly() {
        // A block comment runs to the end of the file.
        assert_eq!(lex("a.rs", "x /* a\nb"), vec!["a|b"]);
        // A string that cannot span lines ends at the line end.
        assert_eq!(lex("a.c", "s = \"abc\n// c\n"), vec!["c"]);
        assert_eq!(lex("a.py", "s = 'abc\n# c\n"), vec!["c"]);
        // A triple-quoted string can span lines, so it swallows the rest.
        assert!(lex("a.py", "s = '''abc\n# c\n").is_empty());
        // A heredoc without terminator is not trusted.
        assert_eq!(lex("a.sh", "cat <<EOF\n# c\n"), vec!["c"]);
        // Empty input and a lone marker at the end.
        assert!(lex("a.rs", "").is_empty());
        assert_eq!(lex("a.rs", "//"), vec![""]);
        assert_eq!(lex("a.lua", "--[["), vec![""]);
    }

    #[test]
    fn given_random_snippets_in_every_language_then_no_panic_and_output_is_well_formed() {
        const PIECES: &[&str] = &[
            "/*", "*/", "//", "#", "--", "\"", "'", "`", "\\", "\n", "\r\n", " ", "\t", "TODO",
            "é", "ü'", "{-", "-}", "(*", "*)", "<!--", "-->", "[[", "]]", "[=[", "]=]", "<<EOF",
            "EOF", "<<<X", "r#\"", "\"#", "R\"(", ")\"", "\"\"\"", "'''", "@\"", "=begin", "=end",
            "%{", "%}", "#[", "]#", "#=", "=#", "/+", "+/", "#|", "|#", "<#", "#>", "?", "$", ";",
            "REM ", "::", "!", "%", "/", "x", "1",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let names: Vec<&str> = crate::languages::all_languages()
            .iter()
            .map(|l| l.name)
            .collect();
        for round in 0..3000 {
            let len = (next() % 60) as usize;
            let src: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            let name = names[round % names.len()];
            let lang = crate::languages::language_by_name(name).unwrap();
            for c in comments(&src, lang) {
                assert!(!c.lines.is_empty());
                for w in c.lines.windows(2) {
                    assert_eq!(w[1].line, w[0].line + 1, "{name}: {src:?}");
                }
                for l in &c.lines {
                    assert!(!l.text.contains(['\n', '\r']), "{name}: {src:?} -> {l:?}");
                    assert!(l.column >= 1 && l.line >= 1);
                    // The text is where its position says it is.
                    let source_line = src.split('\n').nth(l.line as usize - 1).unwrap();
                    let rest: String = source_line.chars().skip(l.column as usize - 1).collect();
                    assert!(rest.starts_with(l.text), "{name}: {src:?} -> {l:?}");
                }
            }
        }
    }

    #[test]
    fn given_pathological_input_then_lexing_stays_linear() {
        let unit = [
            "\"", "/*", "'", "<<A ", "r#\"", "R\"(", "(/", "[[", "{-", "--[==[",
        ];
        for (path, piece) in [
            ("a.rs", unit[0]),
            ("a.rs", unit[1]),
            ("a.rs", unit[2]),
            ("a.rs", unit[4]),
            ("a.sh", unit[3]),
            ("a.cpp", unit[5]),
            ("a.js", unit[6]),
            ("a.lua", unit[7]),
            ("a.hs", unit[8]),
            ("a.lua", unit[9]),
            ("a.rs", "/* "),
            ("a.rs", "// x\n"),
            ("a.c", "/* a */"),
            ("a.js", "`${"),
            ("a.js", "{}`"),
            ("a.rb", "%q("),
            ("a.rb", "x %w["),
            ("a.pl", "s{a}"),
            ("a.sql", "AS $$ "),
            ("a.f", "     ! "),
        ] {
            let src = piece.repeat(1_000_000 / piece.len());
            let started = std::time::Instant::now();
            let lang = language_for_path(path, "").unwrap();
            let _ = comments(&src, lang);
            // Generous for unoptimised test builds; a quadratic scan of 1 MB
            // would take hours.
            assert!(
                started.elapsed().as_secs() < 5,
                "{path} {piece:?} took {:?}",
                started.elapsed()
            );
        }
    }
}
