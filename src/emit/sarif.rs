//! `--format sarif`: one SARIF 2.1.0 log, the format of GitHub code scanning. Every rule
//! is described (its `.md` is the help), results carry their fixes as SARIF `fixes`, and
//! paths that could not be linted are tool notifications. No `partialFingerprints`:
//! GitHub's upload action computes them, and a line-based one supplied here would stop it.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::json::{write_indented, ArrayWriter};
use super::{range, FileReport};
use crate::rule::{Diagnostic, Meta, Severity};
use crate::source::{SourceFile, Span};

/// GitHub reads at most 1,024 characters of a rule's full description.
const FULL_DESCRIPTION_MAX: usize = 1024;

/// Spaces before the members of the run object, and so before `"results"`.
const RUN_INDENT: usize = 6;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<RuleDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleDescriptor {
    id: &'static str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    help_uri: String,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: &'static str,
    markdown: &'static str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: [&'static str; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [Location; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: SnippetRegion,
}

/// A result's region, with the text it points at (shown where the file is not at hand).
#[derive(Serialize)]
struct SnippetRegion {
    #[serde(flatten)]
    region: Region,
    snippet: Text,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix {
    description: Text,
    artifact_changes: [ArtifactChange; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    deleted_region: Region,
    inserted_content: InsertedContent,
}

#[derive(Serialize)]
struct InsertedContent {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
    locations: [NotificationLocation; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationLocation {
    physical_location: NotificationPlace,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationPlace {
    artifact_location: ArtifactLocation,
}

/// A SARIF log written a result at a time: the rules first, the results as files are
/// linted, the invocation (with the paths that could not be linted) at the end.
#[derive(Default)]
pub struct Writer {
    started: bool,
    results: Option<ArrayWriter>,
    failures: Vec<Notification>,
}

impl Writer {
    fn start(&mut self, out: &mut impl Write) -> io::Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        let driver = Driver {
            name: "docklint",
            version: env!("CARGO_PKG_VERSION"),
            semantic_version: env!("CARGO_PKG_VERSION"),
            information_uri: env!("CARGO_PKG_REPOSITORY"),
            rules: crate::lints::rules()
                .iter()
                .map(|r| descriptor(r.meta()))
                .collect(),
        };
        out.write_all(
            b"{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \
              \"version\": \"2.1.0\",\n  \"runs\": [\n    {\n      \"tool\": {\n        \"driver\": ",
        )?;
        write_indented(out, &driver, RUN_INDENT + 2)?;
        out.write_all(
            b"\n      },\n      \"columnKind\": \"unicodeCodePoints\",\n      \"results\": ",
        )?;
        self.results = Some(ArrayWriter::nested(RUN_INDENT));
        Ok(())
    }

    pub fn file(&mut self, out: &mut impl Write, report: &FileReport) -> io::Result<()> {
        self.start(out)?;
        let results = self.results.as_mut().expect("started");
        for d in &report.diagnostics {
            results.item(out, &result(&report.file, d))?;
        }
        Ok(())
    }

    /// A path that could not be linted: an error notification of the invocation.
    pub fn failure(&mut self, path: &Path, message: &str) {
        self.failures.push(Notification {
            level: "error",
            message: Text {
                text: sentence(&format!("{}: {message}", path.to_string_lossy())),
            },
            locations: [NotificationLocation {
                physical_location: NotificationPlace {
                    artifact_location: ArtifactLocation { uri: uri(path) },
                },
            }],
        });
    }

    pub fn finish(mut self, out: &mut impl Write) -> io::Result<()> {
        self.start(out)?;
        self.results.take().expect("started").finish(out)?;
        let invocation = Invocation {
            execution_successful: self.failures.is_empty(),
            tool_execution_notifications: std::mem::take(&mut self.failures),
        };
        out.write_all(b",\n      \"invocations\": [\n        ")?;
        write_indented(out, &invocation, RUN_INDENT + 2)?;
        out.write_all(b"\n      ]\n    }\n  ]\n}\n")
    }
}

fn descriptor(meta: &'static Meta) -> RuleDescriptor {
    let summary = meta.summary();
    RuleDescriptor {
        id: meta.name,
        name: pascal_case(meta.name),
        short_description: Text {
            text: first_sentence(&summary),
        },
        full_description: Text {
            text: truncate(&sentence(&summary), FULL_DESCRIPTION_MAX),
        },
        help: Help {
            text: meta.doc,
            markdown: meta.doc,
        },
        help_uri: meta.docs_url(),
        default_configuration: Configuration {
            level: level(meta.severity),
        },
        properties: RuleProperties {
            tags: [meta.family],
        },
    }
}

fn result(file: &SourceFile, d: &Diagnostic) -> SarifResult {
    let uri = uri(&file.path);
    let mut text = sentence(&d.message);
    if let Some(help) = &d.help {
        text.push(' ');
        text.push_str(&sentence(help));
    }
    // A fix that edits another file (a `.dockerignore`) carries no edit of this one, and
    // SARIF wants at least one replacement per change: such fixes are left to `--fix`.
    let fixes = d
        .fix
        .iter()
        .filter(|fix| !fix.edits.is_empty())
        .map(|fix| SarifFix {
            description: Text {
                text: sentence(&fix.offered_title()),
            },
            artifact_changes: [ArtifactChange {
                artifact_location: ArtifactLocation { uri: uri.clone() },
                replacements: fix
                    .edits
                    .iter()
                    .map(|e| Replacement {
                        deleted_region: region(file, &e.span),
                        inserted_content: InsertedContent {
                            text: e.content.to_string(),
                        },
                    })
                    .collect(),
            }],
        })
        .collect();
    SarifResult {
        rule_id: d.rule,
        rule_index: crate::lints::rules()
            .iter()
            .position(|r| r.meta().name == d.rule)
            .unwrap_or_default(),
        level: level(d.severity),
        message: Text { text },
        locations: [Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation { uri },
                region: SnippetRegion {
                    region: region(file, &d.span),
                    snippet: Text {
                        text: file.text.get(d.span.clone()).unwrap_or("").to_string(),
                    },
                },
            },
        }],
        fixes,
    }
}

fn region(file: &SourceFile, span: &Span) -> Region {
    let (start, end) = range(file, span);
    Region {
        start_line: start.line,
        start_column: start.column,
        end_line: end.line,
        end_column: end.column,
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A path as a URI reference: relative paths stay relative (GitHub resolves them against
/// the repository root), absolute ones become `file://` URIs; bytes outside RFC 3986's
/// path characters are percent-encoded.
pub fn uri(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let text = text.trim_start_matches("./");
    let mut out = String::with_capacity(text.len() + 8);
    if text.starts_with('/') {
        out.push_str("file://");
    }
    for b in text.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// SARIF viewers expect messages to be sentences: trimmed, ending in a full stop.
fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.ends_with(['.', '!', '?']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

fn first_sentence(text: &str) -> String {
    let end = text
        .match_indices(". ")
        .next()
        .map_or(text.len(), |(i, _)| i + 1);
    sentence(&text[..end])
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{}…", cut.trim_end())
}

/// `missing-cache-mount` → `MissingCacheMount`, the form SARIF gives rule names.
fn pascal_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or(String::new(), |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri(Path::new("./app/Dockerfile")), "app/Dockerfile");
        assert_eq!(
            uri(Path::new("my app/Docker file")),
            "my%20app/Docker%20file"
        );
        assert_eq!(
            uri(Path::new("/srv/x#1/Dockerfile")),
            "file:///srv/x%231/Dockerfile"
        );
        assert_eq!(uri(Path::new("é")), "%C3%A9");
    }

    #[test]
    fn descriptions_are_sentences_within_limits() {
        assert_eq!(sentence(" A thing "), "A thing.");
        assert_eq!(first_sentence("One. Two."), "One.");
        assert_eq!(truncate(&"x".repeat(2000), 1024).chars().count(), 1024);
        assert_eq!(pascal_case("missing-cache-mount"), "MissingCacheMount");
    }
}
