//! `--format json`: one array, an object per diagnostic (DESIGN.md §2).

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use smallvec::SmallVec;

use super::pretty::{self, Object};
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

/// A value an element's [`Template`] leaves a hole for.
#[derive(Debug, Clone, Copy)]
enum Slot<'a> {
    /// Written between quotes that the template holds. `lasting`: borrowed from what lives
    /// as long as the file's findings (not made for the element), so its place names it.
    Str {
        value: &'a str,
        lasting: bool,
    },
    Number(usize),
}

impl<'a> Slot<'a> {
    fn lasting(value: &'a str) -> Self {
        Slot::Str {
            value,
            lasting: true,
        }
    }

    fn path(path: &'a Cow<'a, str>) -> Self {
        Slot::Str {
            value: path,
            lasting: matches!(path, Cow::Borrowed(_)),
        }
    }
}

/// What makes elements' fixed text alike: the values written as words, and which members
/// and how many edits there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    severity: Severity,
    help: bool,
    /// The fix's applicability and number of edits.
    fix: Option<(Applicability, usize)>,
}

impl JsonDiagnostic<'_> {
    fn shape(&self) -> Shape {
        Shape {
            severity: self.severity,
            help: self.help.is_some(),
            fix: self.fix.as_ref().map(|f| (f.applicability, f.edits.len())),
        }
    }

    /// Gives `each` the values a template holds no text of, in the order
    /// [`JsonDiagnostic::write`] writes them.
    fn each_slot<'s>(&'s self, mut each: impl FnMut(Slot<'s>)) {
        let range = |each: &mut dyn FnMut(Slot<'s>), r: &JsonRange| {
            [r.line, r.column, r.end_line, r.end_column]
                .into_iter()
                .for_each(|n| each(Slot::Number(n)));
        };
        each(Slot::lasting(self.rule));
        each(Slot::lasting(self.family));
        each(Slot::path(&self.path));
        range(&mut each, &self.range);
        each(Slot::lasting(self.message));
        if let Some(help) = self.help {
            each(Slot::lasting(help));
        }
        if let Some(fix) = &self.fix {
            each(Slot::lasting(fix.title));
            for edit in &fix.edits {
                each(Slot::path(&edit.path));
                range(&mut each, &edit.range);
                each(Slot::lasting(edit.content));
            }
        }
    }
}

/// An element's text with a hole for each value: the pieces [`JsonDiagnostic::write`]
/// writes around the values of an element of one shape, cut from an element it wrote with
/// a marker for each value. A file's findings are mostly of a few shapes; written from a
/// template, a finding is its values and a copy of each piece between them, where each
/// member took a handful of copies of a few bytes (a third of the time of the output).
struct Template {
    /// One more than the holes.
    pieces: Vec<Box<[u8]>>,
    /// For each hole, the place and length of the last string written there that needed
    /// no escape. Most are the same text for every finding of a rule (a name, a message):
    /// met again, it is copied without looking for characters to escape.
    clean: Vec<(usize, usize)>,
}

impl Template {
    /// Marks a string's hole; no key, keyword or indent holds it.
    const STRING_MARK: &'static str = "@";
    /// Marks a number's hole; no key, keyword or indent holds a digit.
    const NUMBER_MARK: u8 = b'0';
    /// Elements with more edits than this are written member by member.
    const MAX_EDITS: usize = 4;

    /// The template of elements shaped as `shape`, `indent` spaces deep; `None` for a shape
    /// with more edits than [`Template::MAX_EDITS`].
    fn of(shape: Shape, indent: usize) -> Option<Template> {
        let mark = Self::STRING_MARK;
        let range = || JsonRange {
            line: 0,
            column: 0,
            end_line: 0,
            end_column: 0,
        };
        let fix = match shape.fix {
            Some((_, edits)) if edits > Self::MAX_EDITS => return None,
            Some((applicability, edits)) => Some(JsonFix {
                applicability,
                title: mark,
                edits: (0..edits)
                    .map(|_| JsonEdit {
                        path: Cow::Borrowed(mark),
                        range: range(),
                        content: mark,
                    })
                    .collect(),
            }),
            None => None,
        };
        let probe = JsonDiagnostic {
            rule: mark,
            family: mark,
            severity: shape.severity,
            path: Cow::Borrowed(mark),
            range: range(),
            message: mark,
            help: shape.help.then_some(mark),
            fix,
        };
        let mut text = Vec::new();
        probe.write(&mut text, indent);
        let marks = [Self::STRING_MARK.as_bytes()[0], Self::NUMBER_MARK];
        let pieces: Vec<Box<[u8]>> = text.split(|b| marks.contains(b)).map(Box::from).collect();
        // A mark where none was meant would put a value in the wrong place: then no template.
        let mut holes = 0;
        probe.each_slot(|_| holes += 1);
        (pieces.len() == holes + 1).then_some(Template {
            pieces,
            clean: vec![(0, 0); holes],
        })
    }

    /// `d`, which has this template's shape.
    fn write(&mut self, d: &JsonDiagnostic, out: &mut Vec<u8>) {
        let mut hole = 0;
        d.each_slot(|slot| {
            if let Some(piece) = self.pieces.get(hole) {
                out.extend_from_slice(piece);
            }
            match slot {
                // Lasting, the same place and length is the same text.
                Slot::Str { value, lasting } => {
                    let place = (value.as_ptr() as usize, value.len());
                    match self.clean.get_mut(hole) {
                        Some(clean) if lasting && *clean == place => {
                            out.extend_from_slice(value.as_bytes())
                        }
                        clean => {
                            let escaped = !pretty::string_content(out, value);
                            if let Some(clean) = clean.filter(|_| lasting && !escaped) {
                                *clean = place;
                            }
                        }
                    }
                }
                Slot::Number(value) => pretty::number(out, value),
            }
            hole += 1;
        });
        if let Some(last) = self.pieces.get(hole) {
            out.extend_from_slice(last);
        }
    }
}

/// The templates of the shapes a run of elements has shown, each made at its first
/// element; the elements of a shape with none are written member by member.
struct Templates {
    indent: usize,
    made: Vec<(Shape, Option<Template>)>,
}

impl Templates {
    fn new(indent: usize) -> Self {
        Templates {
            indent,
            made: Vec::new(),
        }
    }

    fn write(&mut self, d: &JsonDiagnostic, out: &mut Vec<u8>) {
        let shape = d.shape();
        let at = match self.made.iter().position(|(s, _)| *s == shape) {
            Some(at) => at,
            None => {
                self.made.push((shape, Template::of(shape, self.indent)));
                self.made.len() - 1
            }
        };
        match &mut self.made[at].1 {
            Some(template) => template.write(d, out),
            None => d.write(out, self.indent),
        }
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
        let mut templates = Templates::new(indent);
        // Looked up again only where the rule changes: a big file's findings are mostly
        // one rule's, one after another.
        let mut family = ("", "");
        for (k, d) in chunk.iter().enumerate() {
            // As `ArrayWriter::element` writes each element.
            text.extend_from_slice(if first + at + k == 0 { b"[\n" } else { b",\n" });
            text.resize(text.len() + indent, b' ');
            if family.0 != d.rule {
                family = (d.rule, crate::lints::family_of(d.rule));
            }
            templates.write(&diagnostic(&report.file, &path, d, family.1), text);
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

/// The element of `d`, a diagnostic of `file` by a rule of `family`, whose path reads
/// `path`.
pub fn diagnostic<'a>(
    file: &'a SourceFile,
    path: &Cow<'a, str>,
    d: &'a Diagnostic,
    family: &'a str,
) -> JsonDiagnostic<'a> {
    let path = path.clone();
    let fix = d.fix.as_ref().map(|fix| {
        // Pushed, not collected from a chain: a file may have millions of fixes.
        let mut edits = SmallVec::with_capacity(fix.edits.len() + fix.file_edits.len());
        for e in &fix.edits {
            edits.push(JsonEdit {
                path: path.clone(),
                range: json_range(file, &e.span),
                content: &e.content,
            });
        }
        for e in &fix.file_edits {
            edits.push(JsonEdit {
                path: e.path.to_string_lossy(),
                range: JsonRange {
                    line: e.start.line,
                    column: e.start.column,
                    end_line: e.end.line,
                    end_column: e.end.column,
                },
                content: &e.edit.content,
            });
        }
        JsonFix {
            applicability: fix.applicability,
            title: &fix.title,
            edits,
        }
    });
    JsonDiagnostic {
        rule: d.rule,
        family,
        severity: d.severity,
        range: json_range(file, &d.span),
        path,
        message: &d.message,
        help: d.help.as_deref(),
        fix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(n: usize) -> JsonRange {
        JsonRange {
            line: n,
            column: n + 10,
            end_line: n + 100,
            end_column: n + 1000,
        }
    }

    fn edit<'a>(path: Cow<'a, str>, content: &'a str, n: usize) -> JsonEdit<'a> {
        JsonEdit {
            path,
            range: range(n),
            content,
        }
    }

    /// Elements of every shape a template is made for and of one it is not, with texts that
    /// need escapes, in the same hole as texts that do not.
    fn elements<'a>(owned: &'a str) -> Vec<JsonDiagnostic<'a>> {
        let fix = |applicability, edits: Vec<JsonEdit<'a>>| JsonFix {
            applicability,
            title: "Merge \"them\"",
            edits: edits.into_iter().collect(),
        };
        let element = |message, help, fix, path: Cow<'a, str>| JsonDiagnostic {
            rule: "consecutive-run",
            family: "layers",
            severity: Severity::Info,
            path,
            range: range(7),
            message,
            help,
            fix,
        };
        let plain = Cow::Borrowed("dir/Dockerfile");
        let many: Vec<JsonEdit> = (0..Template::MAX_EDITS + 1)
            .map(|n| edit(plain.clone(), "x", n))
            .collect();
        vec![
            element("a message", Some("help"), None, plain.clone()),
            element("a message", None, None, plain.clone()),
            element("say \"x\"\n", Some("tab\there"), None, plain.clone()),
            element(
                "a message",
                Some("help"),
                Some(fix(
                    Applicability::Safe,
                    vec![edit(plain.clone(), " \\\n && ", 3)],
                )),
                plain.clone(),
            ),
            element(
                "a message",
                Some("help"),
                Some(fix(
                    Applicability::Safe,
                    vec![edit(plain.clone(), "plain", 4)],
                )),
                plain.clone(),
            ),
            element(
                "a message",
                None,
                Some(fix(
                    Applicability::Unsafe,
                    vec![
                        edit(plain.clone(), "", 1),
                        edit(Cow::Borrowed("other/\"file\""), "\u{1}", 2),
                    ],
                )),
                Cow::Borrowed(owned),
            ),
            element(
                "a message",
                None,
                Some(fix(Applicability::Safe, many)),
                plain.clone(),
            ),
            element(
                "a message",
                Some("help"),
                None,
                Cow::Owned(owned.to_owned()),
            ),
            element(
                "a message",
                Some("help"),
                None,
                Cow::Owned("quote\"d".to_owned()),
            ),
        ]
    }

    #[test]
    fn templates_write_what_the_members_write() {
        let owned = String::from("path \\ with a backslash");
        let elements = elements(&owned);
        for indent in [0, 2, 6] {
            let mut templates = Templates::new(indent);
            // Twice over: the second time, every shape has its template and its known texts.
            for d in elements.iter().chain(&elements) {
                let (mut by_template, mut by_member) = (Vec::new(), Vec::new());
                templates.write(d, &mut by_template);
                d.write(&mut by_member, indent);
                assert_eq!(
                    String::from_utf8_lossy(&by_template),
                    String::from_utf8_lossy(&by_member)
                );
            }
            // Shapes with more edits than a template holds are written member by member.
            let made = |shape: &Shape| {
                templates
                    .made
                    .iter()
                    .find(|(s, _)| s == shape)
                    .map(|(_, t)| t.is_some())
            };
            let shapes: Vec<Shape> = elements.iter().map(JsonDiagnostic::shape).collect();
            assert_eq!(made(&shapes[6]), Some(false));
            assert!(shapes.iter().all(|s| made(s).is_some()));
            assert_eq!(made(&shapes[0]), Some(true));
        }
    }
}
