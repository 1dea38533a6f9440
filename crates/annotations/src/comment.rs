//! The lexer's output and the grammar's input: comments with positions.

/// How a comment was written, which decides how its body continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentKind {
    /// A run of line comments (`//`, `#`, `--`…) on consecutive lines, each
    /// alone on its line, or a single trailing line comment after code.
    Line,
    /// One block comment (`/* … */`, `<!-- … -->`, `{- … -}`…), possibly
    /// spanning several lines.
    Block,
}

/// One comment (or a run of adjacent line comments) in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment<'a> {
    /// Whether this is a run of line comments or one block comment.
    pub kind: CommentKind,
    /// One entry per source line the comment covers, in order.
    pub lines: Vec<CommentLine<'a>>,
}

/// The text of one comment line, after the comment marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentLine<'a> {
    /// 1-based line number in the file.
    pub line: u32,
    /// 1-based column (in characters) of the first character of `text`.
    pub column: u32,
    /// The line's comment text after the marker (and, in block comments,
    /// after decoration such as a leading `*`), with its leading white space
    /// kept so indentation can be compared. Never contains the closing
    /// marker or a line break.
    pub text: &'a str,
}
