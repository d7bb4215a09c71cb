//! `--format concise`: one line per diagnostic, `path:line:col: severity [rule] message`,
//! the shape compilers and editors' problem matchers read.

use super::escape::{self, escape_line};
use super::paint::Paint;
use super::{range, FileReport};

pub fn render_file(report: &FileReport, paint: Paint, out: &mut String) {
    let path = escape::path(&report.file.path);
    for d in &report.diagnostics {
        let (start, _) = range(&report.file, &d.span);
        out.push_str(&format!(
            "{}:{}:{}: {} [{}] {}\n",
            paint.bold(&path),
            start.line,
            start.column,
            paint.severity(d.severity),
            d.rule,
            escape_line(&d.message)
        ));
    }
}
