//! Human output through miette: `path:line:col`, the rule, the lines of the file with the
//! span underlined, help, and the fix on offer. miette sees an [`Excerpt`] of the file, so
//! each diagnostic costs the same whatever the file's size, and hidden characters are
//! escaped in everything taken from the file. Without colour, a finding whose spans each
//! lie on one line is drawn straight in miette's layout (`graphical`), not through miette.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode, ThemeCharacters};

use super::escape::{self, escape, escape_line};
use super::excerpt::Excerpt;
use super::graphical;
use super::FileReport;
use crate::fix::Applicability;
use crate::rule::{Diagnostic, Severity};
use crate::source::{SourceFile, Span};

#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

fn handler(style: Style) -> GraphicalReportHandler {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    // Help text holds flags to copy; wrapping would break them.
    GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_width(style.width)
        .with_wrap_lines(false)
}

/// Renders every diagnostic of every file, then the summary line (what `check` prints).
pub fn render(reports: &[FileReport], style: Style) -> String {
    let mut out = String::new();
    let mut totals = super::summary::Totals::default();
    for report in reports {
        render_file(report, style, &mut out);
        totals.add(&report.diagnostics, 0);
    }
    out.push_str(&totals.check_summary());
    out
}

/// Renders one file's diagnostics, each with the lines it points at.
pub fn render_file(report: &FileReport, style: Style, out: &mut String) {
    render_diagnostics(&report.file, &report.diagnostics, style, out);
}

/// Renders diagnostics of `file`, each with the lines it points at.
pub fn render_diagnostics(
    file: &SourceFile,
    diagnostics: &[Diagnostic],
    style: Style,
    out: &mut String,
) {
    // Without colour, the common case is drawn straight; miette draws the rest.
    let drawing = match style.color {
        true => Drawing::Miette,
        false => Drawing::Plain,
    };
    render_with(file, diagnostics, style, drawing, out);
}

/// The ways of drawing a diagnostic, each tried before the next: the tests compare each
/// with miette's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Drawing {
    Miette,
    /// Straight, from an excerpt of the file (`graphical::Drawer::render`).
    Excerpt,
    /// Straight, from the file's own lines (`graphical::Drawer::render_plain`).
    Plain,
}

/// How many diagnostics [`render_with`] drew each straight way.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Drawn {
    pub plain: usize,
    pub excerpt: usize,
}

/// Renders `diagnostics`, trying the ways of drawing from `drawing` down.
pub(super) fn render_with(
    file: &SourceFile,
    diagnostics: &[Diagnostic],
    style: Style,
    drawing: Drawing,
    out: &mut String,
) -> Drawn {
    let handler = handler(style);
    // The characters of both themes `handler` uses.
    let mut drawer = graphical::Drawer::new(ThemeCharacters::unicode());
    let mut drawn = Drawn::default();
    let name = escape::path(&file.path);
    for diagnostic in diagnostics {
        if drawing >= Drawing::Plain && drawer.render_plain(out, &name, file, diagnostic) {
            drawn.plain += 1;
            out.push('\n');
            continue;
        }
        let spans: Vec<Span> = std::iter::once(diagnostic.span.clone())
            .chain(diagnostic.labels.iter().map(|l| l.span.clone()))
            .collect();
        let (excerpt, ranges) = Excerpt::new(name.as_str(), file, &spans);
        let shown = Shown {
            diagnostic,
            message: escape(&diagnostic.message),
            excerpt,
            ranges,
        };
        if drawing >= Drawing::Excerpt && drawer.render(out, &shown, &shown.excerpt) {
            drawn.excerpt += 1;
        } else {
            let _ = handler.render_report(out, &shown);
        }
        out.push('\n');
    }
    drawn
}

/// A diagnostic as miette sees it: its text escaped, its spans in an excerpt.
struct Shown<'a> {
    diagnostic: &'a Diagnostic,
    message: Cow<'a, str>,
    excerpt: Excerpt<'a>,
    /// The primary span, then each label's, in the excerpt.
    ranges: Vec<Range<usize>>,
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Shown<'_> {}

impl miette::Diagnostic for Shown<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diagnostic.rule))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(miette_severity(self.diagnostic.severity))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        // Built in one string: a 50 MB file can have millions of these.
        let mut text = String::new();
        help_text(self.diagnostic, &mut text).then(|| Box::new(text) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.excerpt)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let at = |range: &Range<usize>| (range.start, range.len());
        let primary = LabeledSpan::new_primary_with_span(None, at(&self.ranges[0]));
        let others = self
            .diagnostic
            .labels
            .iter()
            .zip(&self.ranges[1..])
            .map(move |(l, range)| {
                LabeledSpan::new_with_span(Some(escape_line(&l.message).into_owned()), at(range))
            });
        Some(Box::new(std::iter::once(primary).chain(others)))
    }
}

/// How miette names the severity of a diagnostic (its icon).
pub(super) fn miette_severity(severity: Severity) -> miette::Severity {
    match severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    }
}

/// Writes the help of `d` to `text`, which starts empty, escaped: its help, then the fix
/// on offer and how to apply it, on a line of its own. False when it has neither.
pub(super) fn help_text(d: &Diagnostic, text: &mut String) -> bool {
    if let Some(help) = &d.help {
        text.push_str(help);
    }
    if let Some(fix) = &d.fix {
        if d.help.is_some() {
            text.push('\n');
        }
        let how = match fix.applicability {
            Applicability::Safe => "safe; `--fix` applies it",
            Applicability::Unsafe => "unsafe; `--fix --unsafe-fixes` applies it",
        };
        text.push_str("fix: ");
        text.push_str(&fix.title);
        text.push_str(" (");
        text.push_str(how);
        text.push(')');
    }
    if let Cow::Owned(escaped) = escape(text) {
        *text = escaped;
    }
    d.help.is_some() || d.fix.is_some()
}

/// A lint.toml problem, with the offending key underlined.
pub fn render_config_error(e: &crate::config::ConfigError, style: Style) -> String {
    let handler = handler(style);
    let file = SourceFile::new(e.path.clone(), e.text.clone());
    let spans: Vec<Span> = e.span.iter().cloned().collect();
    let (source, ranges) = Excerpt::new(escape::path(&e.path), &file, &spans);
    let shown = ConfigProblem {
        e,
        source,
        range: ranges.into_iter().next(),
    };
    let mut out = String::new();
    let _ = handler.render_report(&mut out, &shown);
    out
}

struct ConfigProblem<'a> {
    e: &'a crate::config::ConfigError,
    source: Excerpt<'a>,
    range: Option<Range<usize>>,
}

impl fmt::Debug for ConfigProblem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape(&self.e.message))
    }
}

impl fmt::Display for ConfigProblem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid configuration in {}: {}",
            escape::path(&self.e.path),
            escape(&self.e.message)
        )
    }
}

impl std::error::Error for ConfigProblem<'_> {}

impl miette::Diagnostic for ConfigProblem<'_> {
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.range
            .is_some()
            .then_some(&self.source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let range = self.range.clone()?;
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(
                Some(escape_line(&self.e.message).into_owned()),
                (range.start, range.len()),
            ),
        )))
    }
}
