//! `--format checkstyle`: Checkstyle's XML report, which Jenkins (warnings-ng), reviewdog
//! and many CI dashboards read: a `<file>` per linted file with an `<error>` per
//! diagnostic; `source` is `docklint.<rule>`.

use super::xml::{escape, DECLARATION};
use super::{range, FileReport};

pub const FOOTER: &str = "</checkstyle>\n";

pub fn start(out: &mut String) {
    out.push_str(DECLARATION);
    out.push_str("<checkstyle version=\"4.3\">\n");
}

pub fn render_file(report: &FileReport, out: &mut String) {
    out.push_str(&format!(
        "  <file name=\"{}\">\n",
        escape(&report.file.path.to_string_lossy())
    ));
    for d in &report.diagnostics {
        let (start, _) = range(&report.file, &d.span);
        let message = d.message_and_help();
        out.push_str(&format!(
            "    <error line=\"{}\" column=\"{}\" severity=\"{}\" message=\"{}\" source=\"docklint.{}\"/>\n",
            start.line,
            start.column,
            d.severity.as_str(),
            escape(&message),
            d.rule
        ));
    }
    out.push_str("  </file>\n");
}

/// A path that could not be linted: an error of the `io-error` source.
pub fn render_failure(path: &str, message: &str, out: &mut String) {
    out.push_str(&format!(
        "  <file name=\"{}\">\n    <error line=\"1\" severity=\"error\" message=\"{}\" source=\"docklint.{}\"/>\n  </file>\n",
        escape(path),
        escape(message),
        super::json::IO_ERROR
    ));
}
