//! `--format json`: one array, an object per diagnostic (DESIGN.md §2).

use serde::Serialize;

use super::{range, FileReport};
use crate::fix::Applicability;
use crate::rule::{Diagnostic, Severity};
use crate::source::{SourceFile, Span};

#[derive(Serialize)]
pub struct JsonDiagnostic<'a> {
    pub rule: &'a str,
    pub family: &'a str,
    pub severity: Severity,
    pub path: String,
    #[serde(flatten)]
    pub range: JsonRange,
    pub message: &'a str,
    pub help: Option<&'a str>,
    pub fix: Option<JsonFix<'a>>,
}

#[derive(Serialize)]
pub struct JsonRange {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

#[derive(Serialize)]
pub struct JsonFix<'a> {
    pub applicability: Applicability,
    pub title: &'a str,
    pub edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
pub struct JsonEdit<'a> {
    pub path: String,
    #[serde(flatten)]
    pub range: JsonRange,
    pub content: &'a str,
}

pub fn render(reports: &[FileReport]) -> String {
    let items: Vec<JsonDiagnostic> = reports
        .iter()
        .flat_map(|r| r.diagnostics.iter().map(move |d| diagnostic(&r.file, d)))
        .collect();
    let mut out = serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into());
    out.push('\n');
    out
}

fn json_range(file: &SourceFile, span: &Span) -> JsonRange {
    let (start, end) = range(file, span);
    JsonRange {
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
    }
}

pub fn diagnostic<'a>(file: &SourceFile, d: &'a Diagnostic) -> JsonDiagnostic<'a> {
    let path = file.path.to_string_lossy().into_owned();
    let fix = d.fix.as_ref().map(|fix| JsonFix {
        applicability: fix.applicability,
        title: &fix.title,
        edits: fix
            .edits
            .iter()
            .map(|e| JsonEdit {
                path: path.clone(),
                range: json_range(file, &e.span),
                content: &e.content,
            })
            .chain(fix.file_edits.iter().map(|e| JsonEdit {
                path: e.path.to_string_lossy().into_owned(),
                range: JsonRange {
                    line: e.start.line,
                    column: e.start.column,
                    end_line: e.end.line,
                    end_column: e.end.column,
                },
                content: &e.edit.content,
            }))
            .collect(),
    });
    JsonDiagnostic {
        rule: d.rule,
        family: d.family,
        severity: d.severity,
        range: json_range(file, &d.span),
        path,
        message: &d.message,
        help: d.help.as_deref(),
        fix,
    }
}
