//! Output formats. Every format reads the same reports; positions are 1-based lines and
//! character columns, end columns exclusive. Files are written out as they are linted,
//! so a run over many files never holds all of its output.

pub mod checkstyle;
pub mod concise;
pub mod diff;
pub mod escape;
pub mod excerpt;
pub mod explain;
pub mod github;
pub mod gitlab;
mod graphical;
pub mod json;
pub mod junit;
pub mod paint;
mod pretty;
pub mod sarif;
pub mod statistics;
pub mod summary;
pub mod text;
mod xml;

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

/// Writes `diagnostics` in order, as `render` appends the text of a run of them (starting at
/// the index it is given) to a buffer. A file with thousands of diagnostics (a 50 MB file
/// can have millions) is rendered a batch at a time, each batch spread over the cores and
/// written before the next is made: its output is neither made on one core nor held whole.
/// The batches reuse their buffers: fresh ones would be fresh memory, which the system
/// zeroes page by page, for every batch.
fn write_rendered<B: Buffer>(
    out: &mut impl Write,
    diagnostics: &[Diagnostic],
    render: impl Fn(usize, &[Diagnostic], &mut B) + Sync,
) -> io::Result<()> {
    use rayon::prelude::*;
    const CHUNK: usize = 1024;
    const BATCH: usize = 64 * CHUNK;
    if diagnostics.len() <= CHUNK {
        // Most files: no hand-off to other threads.
        let mut buffer = B::default();
        render(0, diagnostics, &mut buffer);
        return out.write_all(buffer.bytes());
    }
    let mut buffers: Vec<B> = (0..BATCH / CHUNK).map(|_| B::default()).collect();
    for (b, batch) in diagnostics.chunks(BATCH).enumerate() {
        let used = batch.len().div_ceil(CHUNK);
        batch
            .par_chunks(CHUNK)
            .zip(buffers[..used].par_iter_mut())
            .enumerate()
            .for_each(|(c, (chunk, buffer))| {
                buffer.clear();
                render(b * BATCH + c * CHUNK, chunk, buffer);
            });
        for buffer in &buffers[..used] {
            out.write_all(buffer.bytes())?;
        }
    }
    Ok(())
}

/// What [`write_rendered`] renders into: text for the human formats, bytes for JSON.
trait Buffer: Default + Send {
    fn clear(&mut self);
    fn bytes(&self) -> &[u8];
}

impl Buffer for String {
    fn clear(&mut self) {
        String::clear(self)
    }

    fn bytes(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Buffer for Vec<u8> {
    fn clear(&mut self) {
        Vec::clear(self)
    }

    fn bytes(&self) -> &[u8] {
        self
    }
}

/// Start and end (exclusive) positions of a span.
pub fn range(file: &SourceFile, span: &Span) -> (Position, Position) {
    let start = file.position(span.start);
    (start, file.position_after(start, span.end))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Concise,
    Json,
    Sarif,
    Github,
    Gitlab,
    Checkstyle,
    Junit,
}

impl Format {
    /// Formats read by programs: standard output holds the report alone (the summary goes
    /// to standard error), and a run that fails early still prints an empty report.
    pub fn is_report(self) -> bool {
        !matches!(self, Format::Text | Format::Concise)
    }

    /// Formats that can show `--statistics`.
    pub fn has_statistics(self) -> bool {
        matches!(self, Format::Text | Format::Concise | Format::Json)
    }
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
    sarif: sarif::Writer,
    /// Whether an XML report's opening was written.
    started: bool,
    pub totals: Totals,
}

impl<W: Write> Printer<W> {
    pub fn new(out: W, options: Options) -> Self {
        Printer {
            out,
            options,
            array: json::ArrayWriter::default(),
            sarif: sarif::Writer::default(),
            started: false,
            totals: Totals::default(),
        }
    }

    /// Writes a file's diagnostics (unless only statistics are wanted) and counts them,
    /// with `fixed` problems that fixes removed from it.
    pub fn file(&mut self, report: &FileReport, fixed: usize) -> io::Result<()> {
        self.totals.add(&report.diagnostics, fixed);
        // A clean file is a passing test in JUnit; other formats list problems only.
        let shown = !report.diagnostics.is_empty() || self.options.format == Format::Junit;
        if self.options.statistics || !shown {
            return Ok(());
        }
        let mut text = self.start();
        let (file, style) = (&report.file, self.options.style);
        match self.options.format {
            Format::Json => return json::write_file(&mut self.array, &mut self.out, report),
            Format::Text => {
                return write_rendered::<String>(
                    &mut self.out,
                    &report.diagnostics,
                    |_, chunk, out| {
                        // Room for the usual finding up front: growing a chunk's text by
                        // doubling copied it over and over into fresh memory.
                        out.reserve(chunk.len() * 1024);
                        text::render_diagnostics(file, chunk, style, out);
                    },
                );
            }
            Format::Concise => {
                return write_rendered::<String>(
                    &mut self.out,
                    &report.diagnostics,
                    |_, chunk, out| {
                        out.reserve(chunk.len() * 256);
                        let paint = paint::Paint::new(style.color);
                        concise::render_diagnostics(file, chunk, paint, out);
                    },
                )
            }
            Format::Sarif => return self.sarif.file(&mut self.out, report),
            Format::Gitlab => {
                for issue in gitlab::issues(report) {
                    self.array.item(&mut self.out, &issue)?;
                }
                return Ok(());
            }
            Format::Github => github::render_file(report, &mut text),
            Format::Checkstyle => checkstyle::render_file(report, &mut text),
            Format::Junit => junit::render_file(report, &mut text),
        }
        self.out.write_all(text.as_bytes())
    }

    /// The opening of an XML report, the first time only.
    fn start(&mut self) -> String {
        let mut text = String::new();
        if !self.started {
            self.started = true;
            match self.options.format {
                Format::Checkstyle => checkstyle::start(&mut text),
                Format::Junit => junit::start(&mut text),
                _ => {}
            }
        }
        text
    }

    /// A path that could not be linted (the caller says why on standard error): in the
    /// report formats it is in the report too (an `io-error` element in JSON, a tool
    /// notification in SARIF), so the report names every file that was not linted.
    pub fn failure(&mut self, path: &Path, message: &str) -> io::Result<()> {
        self.totals.failed += 1;
        if self.options.statistics {
            return Ok(());
        }
        let shown = path.to_string_lossy();
        let mut text = self.start();
        match self.options.format {
            Format::Json => {
                return self
                    .array
                    .diagnostic(&mut self.out, &json::failure(path, message))
            }
            Format::Sarif => self.sarif.failure(path, message),
            Format::Checkstyle => checkstyle::render_failure(&shown, message, &mut text),
            Format::Junit => junit::render_failure(&shown, message, &mut text),
            // GitLab's report holds code issues only; the other formats are for people,
            // who read standard error.
            Format::Gitlab | Format::Text | Format::Concise | Format::Github => {}
        }
        self.out.write_all(text.as_bytes())
    }

    /// Ends the output: closes the JSON array, or prints the statistics.
    pub fn finish(mut self) -> io::Result<(W, Totals)> {
        let mut text = self.start();
        match (self.options.format, self.options.statistics) {
            (Format::Json, true) => {
                for row in statistics::rows(&self.totals) {
                    self.array.item(&mut self.out, &row)?;
                }
                self.array.finish(&mut self.out)?;
            }
            (Format::Json | Format::Gitlab, false) => self.array.finish(&mut self.out)?,
            (Format::Sarif, false) => self.sarif.finish(&mut self.out)?,
            (Format::Checkstyle, false) => text.push_str(checkstyle::FOOTER),
            (Format::Junit, false) => text.push_str(junit::FOOTER),
            (_, true) => text.push_str(&statistics::render_text(&self.totals)),
            (Format::Text | Format::Concise | Format::Github, false) => {}
        }
        self.out.write_all(text.as_bytes())?;
        self.out.flush()?;
        Ok((self.out, self.totals))
    }

    /// The report of a run that failed before linting anything: an empty report in the
    /// report formats (so a step that uploads it finds a file), nothing in the others.
    pub fn empty_report(format: Format) -> Vec<u8> {
        let options = Options {
            format,
            style: text::Style {
                color: false,
                width: 80,
            },
            statistics: false,
        };
        match Printer::new(Vec::new(), options).finish() {
            Ok((out, _)) => out,
            Err(_) => Vec::new(),
        }
    }
}
