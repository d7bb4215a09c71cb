//! `--format github`: GitHub Actions workflow commands, one per diagnostic, which the
//! runner turns into annotations on the pull request's lines:
//! `::warning file=…,line=…,col=…,endLine=…,endColumn=…,title=<rule>::<message>`.

use super::{range, FileReport};
use crate::rule::Severity;

pub fn render_file(report: &FileReport, out: &mut String) {
    let path = report.file.path.to_string_lossy();
    let path = path.trim_start_matches("./");
    for d in &report.diagnostics {
        let (start, end) = range(&report.file, &d.span);
        let message = d.message_and_help();
        out.push_str(&format!(
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            command(d.severity),
            property(path),
            start.line,
            start.column,
            end.line,
            end.column,
            property(d.rule),
            data(&message)
        ));
    }
}

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

/// A command's message: `%`, CR and LF are escaped (the runner's `escapeData`); any other
/// control character is shown escaped, so nothing from a file reaches the log raw.
fn data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match (c, super::escape::escape_of(c)) {
            ('%', _) => out.push_str("%25"),
            ('\r', _) => out.push_str("%0D"),
            ('\n', _) => out.push_str("%0A"),
            (_, Some(escaped)) => out.push_str(&escaped),
            (c, None) => out.push(c),
        }
    }
    out
}

/// A property value: also `:` and `,`, which end values (the runner's `escapeProperty`).
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_are_escaped_as_the_runner_unescapes_them() {
        assert_eq!(data("50% a\nb\r"), "50%25 a%0Ab%0D");
        assert_eq!(property("a,b:c"), "a%2Cb%3Ac");
        assert_eq!(data("x\x1b[2J"), "x\\x1b[2J");
    }
}
