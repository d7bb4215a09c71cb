//! Output formats. Every format reads the same reports; positions are 1-based lines and
//! character columns, end columns exclusive. Files are written out as they are linted,
//! so a run over many files never holds all of its output.

pub mod concise;
pub mod diff;
pub mod escape;
pub mod excerpt;
pub mod json;
pub mod paint;
pub mod statistics;
pub mod summary;
pub mod text;

use std::io::{self, Write};
use std::path::Path;

use crate::rule::Diagnostic;
use crate::source::{Position, SourceFile, Span};
use summary::Totals;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Concise,
    Json,
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub format: Format,
    pub style: text::Style,
    /// Counts per rule instead of each diagnostic.
    pub statistics: bool,
}

/// Writes diagnostics file by file, in the chosen format, and counts them.
pub struct Printer<W: Write> {
    out: W,
    options: Options,
    array: json::ArrayWriter,
    pub totals: Totals,
}

impl<W: Write> Printer<W> {
    pub fn new(out: W, options: Options) -> Self {
        Printer {
            out,
            options,
            array: json::ArrayWriter::default(),
            totals: Totals::default(),
        }
    }

    /// Writes a file's diagnostics (unless only statistics are wanted) and counts them,
    /// with `fixed` problems that fixes removed from it.
    pub fn file(&mut self, report: &FileReport, fixed: usize) -> io::Result<()> {
        self.totals.add(&report.diagnostics, fixed);
        if self.options.statistics || report.diagnostics.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        match self.options.format {
            Format::Json => return json::write_file(&mut self.array, &mut self.out, report),
            Format::Text => text::render_file(report, self.options.style, &mut text),
            Format::Concise => concise::render_file(
                report,
                paint::Paint::new(self.options.style.color),
                &mut text,
            ),
        }
        self.out.write_all(text.as_bytes())
    }

    /// A path that could not be linted (the caller says why on standard error): in JSON it
    /// is an `io-error` element, so the array names every file that was not linted.
    pub fn failure(&mut self, path: &Path, message: &str) -> io::Result<()> {
        self.totals.failed += 1;
        if self.options.format == Format::Json && !self.options.statistics {
            return self
                .array
                .item(&mut self.out, &json::failure(path, message));
        }
        Ok(())
    }

    /// Ends the output: closes the JSON array, or prints the statistics.
    pub fn finish(mut self) -> io::Result<(W, Totals)> {
        match (self.options.format, self.options.statistics) {
            (Format::Json, true) => {
                for row in statistics::rows(&self.totals) {
                    self.array.item(&mut self.out, &row)?;
                }
                self.array.finish(&mut self.out)?;
            }
            (Format::Json, false) => self.array.finish(&mut self.out)?,
            (_, true) => self
                .out
                .write_all(statistics::render_text(&self.totals).as_bytes())?,
            (_, false) => {}
        }
        self.out.flush()?;
        Ok((self.out, self.totals))
    }
}
