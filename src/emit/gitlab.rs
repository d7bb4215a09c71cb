//! `--format gitlab`: GitLab's Code Quality report, one JSON array. GitLab shows one issue
//! per fingerprint and compares fingerprints between the branch and its target, so a
//! fingerprint depends on the rule, the path and the text the diagnostic points at, never
//! on its line: a finding keeps its fingerprint when lines are added above it.

use std::collections::HashMap;

use serde::Serialize;

use super::{range, FileReport};
use crate::rule::{Diagnostic, Severity};
use crate::source::SourceFile;

#[derive(Serialize)]
pub struct Issue {
    description: String,
    check_name: &'static str,
    fingerprint: String,
    severity: &'static str,
    location: Location,
}

#[derive(Serialize)]
struct Location {
    path: String,
    positions: Positions,
}

#[derive(Serialize)]
struct Positions {
    begin: Position,
    end: Position,
}

#[derive(Serialize)]
struct Position {
    line: usize,
    column: usize,
}

/// The issues of one file; the same finding twice in a file (the same rule on the same
/// text) gets the occurrence number in its fingerprint, so each stays unique.
pub fn issues(report: &FileReport) -> Vec<Issue> {
    let path = report.file.path.to_string_lossy();
    let path = path.trim_start_matches("./").to_string();
    let mut seen: HashMap<u128, usize> = HashMap::new();
    report
        .diagnostics
        .iter()
        .map(|d| {
            let key = finding_key(&path, &report.file, d);
            let occurrence = seen.entry(key).or_default();
            *occurrence += 1;
            issue(&path, &report.file, d, key, *occurrence)
        })
        .collect()
}

fn issue(path: &str, file: &SourceFile, d: &Diagnostic, key: u128, occurrence: usize) -> Issue {
    let (start, end) = range(file, &d.span);
    let mut fingerprint = Fnv::default();
    fingerprint.write(&key.to_le_bytes());
    fingerprint.write(&occurrence.to_le_bytes());
    Issue {
        // GitLab does not show `check_name`: the description names the rule.
        description: format!("{}: {}", d.rule, d.message),
        check_name: d.rule,
        fingerprint: format!("{:032x}", fingerprint.0),
        severity: match d.severity {
            Severity::Error => "major",
            Severity::Warning => "minor",
            Severity::Info => "info",
        },
        location: Location {
            path: path.to_string(),
            positions: Positions {
                begin: Position {
                    line: start.line,
                    column: start.column,
                },
                end: Position {
                    line: end.line,
                    column: end.column,
                },
            },
        },
    }
}

/// What identifies a finding wherever it moves: rule, path, and the text it points at
/// with its whitespace collapsed (re-indenting or re-wrapping a line keeps it).
fn finding_key(path: &str, file: &SourceFile, d: &Diagnostic) -> u128 {
    let mut hash = Fnv::default();
    hash.write(d.rule.as_bytes());
    hash.write(&[0]);
    hash.write(path.as_bytes());
    hash.write(&[0]);
    let text = file.text.get(d.span.clone()).unwrap_or("");
    for word in text.split_whitespace() {
        hash.write(word.as_bytes());
        hash.write(b" ");
    }
    hash.0
}

/// 128-bit FNV-1a: stable across Rust releases and platforms, unlike `DefaultHasher`.
struct Fnv(u128);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0x6c62_272e_07bb_0142_62b8_2175_6295_c58d)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u128::from(b);
            self.0 = self
                .0
                .wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
        }
    }
}
