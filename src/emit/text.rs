//! Human output through miette: `path:line:col`, the rule, the source with the span
//! underlined, help, and the fix on offer.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode};

use super::FileReport;
use crate::fix::Applicability;
use crate::rule::{Diagnostic, Severity};

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

/// Renders every diagnostic of every file, then a summary line.
pub fn render(reports: &[FileReport], style: Style) -> String {
    let handler = handler(style);
    let mut out = String::new();
    for report in reports.iter().filter(|r| !r.diagnostics.is_empty()) {
        // miette counts columns from the text it is given: leave the BOM out.
        let bom = report.file.content_start();
        let source = NamedSource::new(
            report.file.path.to_string_lossy(),
            report.file.text[bom..].to_string(),
        );
        for diagnostic in &report.diagnostics {
            let shown = Shown {
                diagnostic,
                source: &source,
                shift: bom,
            };
            let _ = handler.render_report(&mut out, &shown);
            out.push('\n');
        }
    }
    out.push_str(&summary(reports));
    out
}

pub fn summary(reports: &[FileReport]) -> String {
    let all: Vec<&Diagnostic> = reports.iter().flat_map(|r| &r.diagnostics).collect();
    if all.is_empty() {
        let files = reports.len();
        return format!(
            "No problems found in {files} file{}.\n",
            if files == 1 { "" } else { "s" }
        );
    }
    let count = |s: Severity| all.iter().filter(|d| d.severity == s).count();
    let mut parts = Vec::new();
    for (severity, name) in [
        (Severity::Error, "error"),
        (Severity::Warning, "warning"),
        (Severity::Info, "info"),
    ] {
        let n = count(severity);
        if n > 0 {
            parts.push(format!(
                "{n} {name}{}",
                if n > 1 && severity != Severity::Info {
                    "s"
                } else {
                    ""
                }
            ));
        }
    }
    let fixable = |a: Applicability| {
        all.iter()
            .filter(|d| d.fix.as_ref().is_some_and(|f| f.applicability == a))
            .count()
    };
    let with_problems = reports.iter().filter(|r| !r.diagnostics.is_empty()).count();
    let mut line = format!(
        "Found {} problem{} ({}) in {with_problems} of {} file{}.",
        all.len(),
        if all.len() == 1 { "" } else { "s" },
        parts.join(", "),
        reports.len(),
        if reports.len() == 1 { "" } else { "s" },
    );
    match (fixable(Applicability::Safe), fixable(Applicability::Unsafe)) {
        (0, 0) => {}
        (safe, 0) => line.push_str(&format!(" {safe} fixable with `--fix`.")),
        (0, unsafe_) => line.push_str(&format!(" {unsafe_} fixable with `--fix --unsafe-fixes`.")),
        (safe, unsafe_) => line.push_str(&format!(
            " {safe} fixable with `--fix`, {unsafe_} more with `--unsafe-fixes`."
        )),
    }
    line.push('\n');
    line
}

/// A diagnostic as miette sees it.
struct Shown<'a> {
    diagnostic: &'a Diagnostic,
    source: &'a NamedSource<String>,
    shift: usize,
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Shown<'_> {}

impl miette::Diagnostic for Shown<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diagnostic.rule))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let d = self.diagnostic;
        let fix = d.fix.as_ref().map(|fix| match fix.applicability {
            Applicability::Safe => format!("fix: {} (safe; `--fix` applies it)", fix.title),
            Applicability::Unsafe => format!(
                "fix: {} (unsafe; `--fix --unsafe-fixes` applies it)",
                fix.title
            ),
        });
        let text: Vec<String> = d.help.iter().cloned().chain(fix).collect();
        (!text.is_empty()).then(|| Box::new(text.join("\n")) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let len = self.source.inner().len();
        let at = move |span: &std::ops::Range<usize>| {
            let start = span.start.saturating_sub(self.shift).min(len);
            let end = span.end.saturating_sub(self.shift).clamp(start, len);
            (start, end - start)
        };
        let primary = LabeledSpan::new_primary_with_span(None, at(&self.diagnostic.span));
        let others = self
            .diagnostic
            .labels
            .iter()
            .map(move |l| LabeledSpan::new_with_span(Some(l.message.clone()), at(&l.span)));
        Some(Box::new(std::iter::once(primary).chain(others)))
    }
}

/// A lint.toml problem, with the offending key underlined.
pub fn render_config_error(e: &crate::config::ConfigError, style: Style) -> String {
    let handler = handler(style);
    let shown = ConfigProblem {
        e,
        source: NamedSource::new(e.path.to_string_lossy(), e.text.clone()),
    };
    let mut out = String::new();
    let _ = handler.render_report(&mut out, &shown);
    out
}

struct ConfigProblem<'a> {
    e: &'a crate::config::ConfigError,
    source: NamedSource<String>,
}

impl fmt::Debug for ConfigProblem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e.message)
    }
}

impl fmt::Display for ConfigProblem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid configuration in {}: {}",
            self.e.path.display(),
            self.e.message
        )
    }
}

impl std::error::Error for ConfigProblem<'_> {}

impl miette::Diagnostic for ConfigProblem<'_> {
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.e
            .span
            .is_some()
            .then_some(&self.source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.e.span.clone()?;
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(Some(self.e.message.clone()), span),
        )))
    }
}
