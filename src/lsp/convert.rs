//! Between the engine and the protocol: byte offsets and LSP positions (0-based lines,
//! UTF-16 columns), `file:` URIs and paths, diagnostics.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use lsp_types::{
    CodeDescription, DiagnosticSeverity, NumberOrString, Position, Range, TextEdit, Uri,
};

use crate::fix::Edit;
use crate::rule::{Diagnostic, Severity};
use crate::source::{bom_len, SourceFile, Span};

/// Where the server's diagnostics say they come from.
pub const SOURCE: &str = "docklint";

pub fn position(file: &SourceFile, offset: usize) -> Position {
    let p = file.position(offset);
    Position::new(to_u32(p.line - 1), to_u32(p.column_utf16 - 1))
}

pub fn range(file: &SourceFile, span: &Span) -> Range {
    Range::new(position(file, span.start), position(file, span.end))
}

/// The byte offset of an LSP position; a column past the line's end is its end, a line
/// past the text's end is the end of the text (clients send such positions).
pub fn offset(file: &SourceFile, at: Position) -> usize {
    let text = &file.text;
    let Some(mut start) = file.lines.line_start(at.line as usize) else {
        return text.len();
    };
    if at.line == 0 {
        start = start.max(bom_len(text));
    }
    let end = file
        .lines
        .line_start(at.line as usize + 1)
        .unwrap_or(text.len());
    let line = text[start..end].trim_end_matches(['\n', '\r']);
    let mut units = 0;
    for (i, c) in line.char_indices() {
        if units >= at.character as usize {
            return start + i;
        }
        units += c.len_utf16();
    }
    start + line.len()
}

pub fn span(file: &SourceFile, range: Range) -> Span {
    offset(file, range.start)..offset(file, range.end)
}

pub fn text_edit(file: &SourceFile, edit: &Edit) -> TextEdit {
    TextEdit::new(range(file, &edit.span), edit.content.to_string())
}

pub fn severity(severity: Severity) -> DiagnosticSeverity {
    match severity {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

pub fn diagnostic(file: &SourceFile, d: &Diagnostic) -> lsp_types::Diagnostic {
    let href = docs_href(d.rule).cloned();
    let message = d.message_and_help();
    lsp_types::Diagnostic {
        range: range(file, &d.span),
        severity: Some(severity(d.severity)),
        code: Some(NumberOrString::String(d.rule.to_string())),
        code_description: href.map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_string()),
        message,
        related_information: None,
        tags: None,
        data: None,
    }
}

/// The link to a rule's docs, parsed once per rule (a document may have hundreds of
/// diagnostics, published on every keystroke).
fn docs_href(rule: &str) -> Option<&'static Uri> {
    static HREFS: OnceLock<HashMap<&'static str, Uri>> = OnceLock::new();
    let hrefs = HREFS.get_or_init(|| {
        crate::lints::rules()
            .iter()
            .filter_map(|r| Some((r.meta().name, r.meta().docs_url().parse().ok()?)))
            .collect()
    });
    hrefs.get(rule)
}

/// The path of a `file:` URI (percent-decoded); none for other schemes.
pub fn path_of(uri: &Uri) -> Option<PathBuf> {
    let text = uri.as_str();
    let rest = text.strip_prefix("file://")?;
    // `file:///x` or `file://localhost/x`.
    let path = &rest[rest.find('/')?..];
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let mut bytes = Vec::with_capacity(path.len());
    let raw = path.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        let decoded = (raw[i] == b'%')
            .then(|| raw.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(b) => {
                bytes.push(b);
                i += 3;
            }
            None => {
                bytes.push(raw[i]);
                i += 1;
            }
        }
    }
    Some(PathBuf::from(String::from_utf8_lossy(&bytes).into_owned()))
}

/// The `file:` URI of an absolute path, percent-encoding what a URI path cannot hold.
pub fn uri_of(path: &Path) -> Option<Uri> {
    let mut uri = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                uri.push(b as char)
            }
            _ => uri.push_str(&format!("%{b:02X}")),
        }
    }
    uri.parse().ok()
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_utf16_and_round_trip() {
        let file = SourceFile::new("Dockerfile", "FROM a\nRUN echo 😀é x\n".into());
        let x = file.text.find(" x").unwrap() + 1;
        let at = position(&file, x);
        // "RUN echo " is 9 units, the emoji 2, é 1, the space 1.
        assert_eq!(at, Position::new(1, 13));
        assert_eq!(offset(&file, at), x);
        assert_eq!(offset(&file, Position::new(1, 400)), file.text.len() - 1);
        assert_eq!(offset(&file, Position::new(9, 0)), file.text.len());
    }

    #[test]
    fn file_uris_and_paths_round_trip() {
        let path = Path::new("/tmp/a dir/Dockerfile.é");
        let uri = uri_of(path).unwrap();
        assert_eq!(uri.as_str(), "file:///tmp/a%20dir/Dockerfile.%C3%A9");
        assert_eq!(path_of(&uri).unwrap(), path);
        assert_eq!(path_of(&"untitled:Untitled-1".parse().unwrap()), None);
    }
}
