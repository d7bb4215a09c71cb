//! `--format concise`: one line per diagnostic, `path:line:col: severity [rule] message`,
//! the shape compilers and editors' problem matchers read.

use super::escape::{self, escape_line};
use super::paint::Paint;
use super::range;
use crate::rule::Diagnostic;
use crate::source::SourceFile;

pub fn render_diagnostics(
    file: &SourceFile,
    diagnostics: &[Diagnostic],
    paint: Paint,
    out: &mut String,
) {
    let path = escape::path(&file.path);
    for d in diagnostics {
        let (start, _) = range(file, &d.span);
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
