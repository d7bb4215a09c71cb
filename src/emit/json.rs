//! `--format json`: one array, an object per diagnostic (DESIGN.md §2).

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use smallvec::SmallVec;

use super::pretty::Object;
use super::{range, FileReport};
use crate::fix::Applicability;
use crate::rule::{Diagnostic, Severity};
use crate::source::{SourceFile, Span};

/// One element of the array (written by [`JsonDiagnostic::write`]).
pub struct JsonDiagnostic<'a> {
    pub rule: &'a str,
    pub family: &'a str,
    pub severity: Severity,
    pub path: Cow<'a, str>,
    pub range: JsonRange,
    pub message: &'a str,
    pub help: Option<&'a str>,
    pub fix: Option<JsonFix<'a>>,
}

pub struct JsonRange {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

pub struct JsonFix<'a> {
    pub applicability: Applicability,
    pub title: &'a str,
    /// Most fixes have one edit: held inline, with no allocation for each of a file's
    /// millions of findings.
    pub edits: SmallVec<[JsonEdit<'a>; 1]>,
}

pub struct JsonEdit<'a> {
    pub path: Cow<'a, str>,
    pub range: JsonRange,
    pub content: &'a str,
}

impl JsonDiagnostic<'_> {
    /// The element as serde_json would pretty-print it, `indent` spaces deep.
    fn write(&self, out: &mut Vec<u8>, indent: usize) {
        let mut object = Object::open(out, indent);
        object.string("rule", self.rule);
        object.string("family", self.family);
        object.string("severity", self.severity.as_str());
        object.string("path", &self.path);
        self.range.write(&mut object);
        object.string("message", self.message);
        object.optional("help", self.help);
        match &self.fix {
            Some(fix) => fix.write(object.object("fix")),
            None => object.optional("fix", None),
        }
        object.close();
    }
}

impl JsonRange {
    fn write(&self, object: &mut Object) {
        object.number("line", self.line);
        object.number("column", self.column);
        object.number("end_line", self.end_line);
        object.number("end_column", self.end_column);
    }
}

impl JsonFix<'_> {
    fn write(&self, mut object: Object) {
        let applicability = match self.applicability {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
        };
        object.string("applicability", applicability);
        object.string("title", self.title);
        let mut edits = object.array("edits");
        for edit in &self.edits {
            let mut object = edits.object();
            object.string("path", &edit.path);
            edit.range.write(&mut object);
            object.string("content", edit.content);
            object.close();
        }
        edits.close();
        object.close();
    }
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
        self.element(out, |buffer, indent| write_indented(buffer, value, indent))
    }

    pub fn diagnostic(&mut self, out: &mut impl Write, d: &JsonDiagnostic) -> io::Result<()> {
        self.element(out, |buffer, indent| {
            d.write(buffer, indent);
            Ok(())
        })
    }

    /// An element that `write` puts in a buffer, indented by the spaces it is given.
    fn element(
        &mut self,
        out: &mut impl Write,
        write: impl FnOnce(&mut Vec<u8>, usize) -> io::Result<()>,
    ) -> io::Result<()> {
        self.buffer.clear();
        write(&mut self.buffer, self.indent + 2)?;
        out.write_all(if self.items == 0 { b"[\n" } else { b",\n" })?;
        write_spaces(out, self.indent + 2)?;
        out.write_all(&self.buffer)?;
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

/// `value` as pretty-printed JSON whose every line after the first is `indent` spaces
/// deeper: an element or member of an enclosing document, in one pass.
pub fn write_indented(
    out: &mut impl Write,
    value: &impl Serialize,
    indent: usize,
) -> io::Result<()> {
    let formatter = Indented {
        base: indent,
        level: 0,
        has_value: false,
    };
    let mut serializer = serde_json::Serializer::with_formatter(out, formatter);
    value.serialize(&mut serializer).map_err(io::Error::other)
}

/// serde_json's `PrettyFormatter` (two spaces a level) with every line break followed by
/// `base` more spaces.
struct Indented {
    base: usize,
    level: usize,
    has_value: bool,
}

impl Indented {
    fn new_line<W: ?Sized + Write>(&self, out: &mut W) -> io::Result<()> {
        out.write_all(b"\n")?;
        write_spaces(out, self.base + 2 * self.level)
    }

    fn open<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        out.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.new_line(out)?;
        }
        out.write_all(bracket)
    }

    fn next<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        if !first {
            out.write_all(b",")?;
        }
        self.new_line(out)
    }
}

impl serde_json::ser::Formatter for Indented {
    fn begin_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.open(out, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.close(out, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.next(out, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.open(out, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        self.close(out, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> io::Result<()> {
        self.next(out, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> io::Result<()> {
        out.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// `n` spaces, without allocating them (one call per line of output).
fn write_spaces<W: ?Sized + Write>(out: &mut W, mut n: usize) -> io::Result<()> {
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
    let (first, indent) = (array.items, array.indent + 2);
    // Once for the file, not for each of its findings.
    let path = report.file.path.to_string_lossy();
    super::write_rendered(out, &report.diagnostics, |at, chunk, text: &mut Vec<u8>| {
        // Room for the usual finding up front, as for text (`super::Printer::file`).
        text.reserve(chunk.len() * 1024);
        for (k, d) in chunk.iter().enumerate() {
            // As `ArrayWriter::element` writes each element.
            text.extend_from_slice(if first + at + k == 0 { b"[\n" } else { b",\n" });
            text.resize(text.len() + indent, b' ');
            diagnostic(&report.file, &path, d).write(text, indent);
        }
    })?;
    array.items += report.diagnostics.len();
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
        path: Cow::Owned(path.to_string_lossy().into_owned()),
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

/// The element of `d`, a diagnostic of `file`, whose path reads `path`.
pub fn diagnostic<'a>(
    file: &'a SourceFile,
    path: &Cow<'a, str>,
    d: &'a Diagnostic,
) -> JsonDiagnostic<'a> {
    let path = path.clone();
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
                path: e.path.to_string_lossy(),
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
