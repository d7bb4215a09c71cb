//! Output formats. Every format reads the same reports; positions are 1-based lines and
//! character columns, end columns exclusive.

pub mod json;
pub mod text;

use crate::rule::Diagnostic;
use crate::source::{Position, SourceFile, Span};

/// One linted file and what was found in it.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub file: SourceFile,
    pub diagnostics: Vec<Diagnostic>,
}

/// Start and end (exclusive) positions of a span.
pub fn range(file: &SourceFile, span: &Span) -> (Position, Position) {
    (file.position(span.start), file.position(span.end))
}
