//! `--format json`: one array, an object per diagnostic (DESIGN.md §2).

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::{range, FileReport};
use crate::fix::Applicability;
use crate::rule::{Diagnostic, Severity};
use crate::source::{SourceFile, Span};

#[derive(Serialize)]
pub struct JsonDiagnostic<'a> {
    pub rule: &'a str,
    pub family: &'a str,
    pub severity: Severity,
    pub path: String,
    #[serde(flatten)]
    pub range: JsonRange,
    pub message: &'a str,
    pub help: Option<&'a str>,
    pub fix: Option<JsonFix<'a>>,
}

#[derive(Serialize)]
pub struct JsonRange {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

#[derive(Serialize)]
pub struct JsonFix<'a> {
    pub applicability: Applicability,
    pub title: &'a str,
    pub edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
pub struct JsonEdit<'a> {
    pub path: String,
    #[serde(flatten)]
    pub range: JsonRange,
    pub content: &'a str,
}

/// Writes one JSON array an element at a time, so that no run holds its whole output:
/// `[]` when empty, else pretty-printed elements one level deeper than the array.
#[derive(Debug, Default)]
pub struct ArrayWriter {
    items: usize,
    /// Spaces before the array's closing bracket: 0 for a document that is one array,
    /// more for an array inside a document (SARIF's results).
    indent: usize,
    /// One element's text, kept between elements to save its allocations.
    buffer: Vec<u8>,
}

impl ArrayWriter {
    /// An array that is the value of a member `indent` spaces deep in a document.
    pub fn nested(indent: usize) -> Self {
        ArrayWriter {
            indent,
            ..ArrayWriter::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items == 0
    }

    pub fn item(&mut self, out: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
        self.buffer.clear();
        serde_json::to_writer_pretty(&mut self.buffer, value).map_err(io::Error::other)?;
        out.write_all(if self.items == 0 { b"[\n" } else { b",\n" })?;
        write_spaces(out, self.indent + 2)?;
        write_indented(out, &self.buffer, self.indent + 2)?;
        self.items += 1;
        Ok(())
    }

    pub fn finish(self, out: &mut impl Write) -> io::Result<()> {
        if self.items == 0 {
            out.write_all(b"[]")?;
        } else {
            out.write_all(b"\n")?;
            write_spaces(out, self.indent)?;
            out.write_all(b"]")?;
        }
        if self.indent == 0 {
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}

/// Pretty-printed JSON with every line after the first `indent` spaces deeper (strings
/// hold no raw line breaks in JSON, so every line break is serde_json's).
pub fn write_indented(out: &mut impl Write, json: &[u8], indent: usize) -> io::Result<()> {
    // Indented in memory, written once: a write per line cost more than serialising.
    let lines = json.iter().filter(|&&b| b == b'\n').count();
    let mut indented = Vec::with_capacity(json.len() + lines * indent);
    for (i, line) in json.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            indented.push(b'\n');
            write_spaces(&mut indented, indent)?;
        }
        indented.extend_from_slice(line);
    }
    out.write_all(&indented)
}

/// `n` spaces, without allocating them (one call per line of output).
fn write_spaces(out: &mut impl Write, mut n: usize) -> io::Result<()> {
    const SPACES: &[u8; 32] = &[b' '; 32];
    while n > 0 {
        let chunk = n.min(SPACES.len());
        out.write_all(&SPACES[..chunk])?;
        n -= chunk;
    }
    Ok(())
}

/// The diagnostics of one file, as array elements.
pub fn write_file(
    array: &mut ArrayWriter,
    out: &mut impl Write,
    report: &FileReport,
) -> io::Result<()> {
    for d in &report.diagnostics {
        array.item(out, &diagnostic(&report.file, d))?;
    }
    Ok(())
}

/// The rule name of the element that stands for a path that could not be linted. It is
/// not a rule: it cannot be selected or ignored, and it always comes with exit code 2.
pub const IO_ERROR: &str = "io-error";

/// A path that could not be linted, as an element of the array.
pub fn failure<'a>(path: &Path, message: &'a str) -> JsonDiagnostic<'a> {
    JsonDiagnostic {
        rule: IO_ERROR,
        family: "core",
        severity: Severity::Error,
        path: path.to_string_lossy().into_owned(),
        range: JsonRange {
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
        },
        message,
        help: None,
        fix: None,
    }
}

fn json_range(file: &SourceFile, span: &Span) -> JsonRange {
    let (start, end) = range(file, span);
    JsonRange {
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
    }
}

pub fn diagnostic<'a>(file: &SourceFile, d: &'a Diagnostic) -> JsonDiagnostic<'a> {
    let path = file.path.to_string_lossy().into_owned();
    let fix = d.fix.as_ref().map(|fix| JsonFix {
        applicability: fix.applicability,
        title: &fix.title,
        edits: fix
            .edits
            .iter()
            .map(|e| JsonEdit {
                path: path.clone(),
                range: json_range(file, &e.span),
                content: &e.content,
            })
            .chain(fix.file_edits.iter().map(|e| JsonEdit {
                path: e.path.to_string_lossy().into_owned(),
                range: JsonRange {
                    line: e.start.line,
                    column: e.start.column,
                    end_line: e.end.line,
                    end_column: e.end.column,
                },
                content: &e.edit.content,
            }))
            .collect(),
    });
    JsonDiagnostic {
        rule: d.rule,
        family: d.family,
        severity: d.severity,
        range: json_range(file, &d.span),
        path,
        message: &d.message,
        help: d.help.as_deref(),
        fix,
    }
}
