//! `--format junit`: a JUnit XML report, which CI systems show as test results (GitLab's
//! `artifacts:reports:junit`, Jenkins, Azure Pipelines): a `<testsuite>` per linted file,
//! a failing `<testcase>` per diagnostic, and one passing `<testcase>` for a clean file.

use super::xml::{escape, DECLARATION};
use super::{range, FileReport};

pub fn start(out: &mut String) {
    out.push_str(DECLARATION);
    out.push_str("<testsuites name=\"docklint\">\n");
}

pub const FOOTER: &str = "</testsuites>\n";

pub fn render_file(report: &FileReport, out: &mut String) {
    let path = escape(&report.file.path.to_string_lossy());
    let count = report.diagnostics.len();
    out.push_str(&format!(
        "  <testsuite name=\"{path}\" tests=\"{}\" failures=\"{count}\" errors=\"0\" skipped=\"0\">\n",
        count.max(1)
    ));
    if count == 0 {
        out.push_str(&format!(
            "    <testcase name=\"docklint\" classname=\"{path}\"/>\n"
        ));
    }
    for d in &report.diagnostics {
        let (start, _) = range(&report.file, &d.span);
        let body = format!(
            "{}:{}:{}: {} [{}] {}",
            report.file.path.to_string_lossy(),
            start.line,
            start.column,
            d.severity.as_str(),
            d.rule,
            d.message_and_help()
        );
        out.push_str(&format!(
            "    <testcase name=\"{} at line {}, column {}\" classname=\"{path}\">\n      \
             <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
            d.rule,
            start.line,
            start.column,
            escape(&d.message),
            d.rule,
            escape(&body)
        ));
    }
    out.push_str("  </testsuite>\n");
}

/// A path that could not be linted: a suite whose one test is in error.
pub fn render_failure(path: &str, message: &str, out: &mut String) {
    let path = escape(path);
    out.push_str(&format!(
        "  <testsuite name=\"{path}\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n    \
         <testcase name=\"docklint\" classname=\"{path}\">\n      \
         <error message=\"{}\" type=\"{}\"/>\n    </testcase>\n  </testsuite>\n",
        escape(message),
        super::json::IO_ERROR
    ));
}
