//! An open document, and what linting its current text found.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use lsp_types::{DiagnosticSeverity, NumberOrString, Range};

use super::convert;
use crate::config::{ConfigError, Settings};
use crate::rule::Diagnostic;
use crate::source::SourceFile;

/// Past this size a document is not linted as it is typed (`docklint check` still lints
/// it): linting is linear, but an editor must never wait on a generated monster.
pub const MAX_LINTED_BYTES: usize = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Dockerfile,
    DockerIgnore,
}

impl Kind {
    /// `.dockerignore` and `<name>.dockerignore` are ignore files; the client sends only
    /// what it was set up for, so everything else is a Dockerfile.
    pub fn of(path: &Path) -> Kind {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase());
        match name {
            Some(name) if name.ends_with(".dockerignore") || name == ".dockerignore" => {
                Kind::DockerIgnore
            }
            _ => Kind::Dockerfile,
        }
    }
}

pub struct Document {
    pub version: i32,
    pub kind: Kind,
    /// The text as the editor has it; its path is the file's on disk (configuration and
    /// context are found from it), or `Dockerfile` in the server's directory for a buffer
    /// that is not a file.
    pub file: SourceFile,
    /// What the last lint found; `None` when the text changed since.
    pub linted: Option<Linted>,
}

/// The diagnostics of one version of a document.
pub struct Linted {
    /// The engine's diagnostics (their fixes are the quick fixes).
    pub found: Vec<Diagnostic>,
    /// Problems with linting itself (an unusable `lint.toml`, an internal error).
    pub problems: Vec<lsp_types::Diagnostic>,
}

impl Document {
    pub fn new(path: Option<PathBuf>, version: i32, text: String) -> Document {
        let path = path.unwrap_or_else(|| PathBuf::from("Dockerfile"));
        Document {
            version,
            kind: Kind::of(&path),
            file: SourceFile::new(path, text),
            linted: None,
        }
    }

    pub fn set_text(&mut self, version: i32, text: String) {
        self.version = version;
        self.file = SourceFile::new(self.file.path.clone(), text);
        self.linted = None;
    }

    /// Lints the text with the settings its `lint.toml` gives (or the reason it has none).
    pub fn lint(&mut self, settings: Result<Settings, ConfigError>) -> &Linted {
        let linted = match settings {
            Err(e) => Linted {
                found: Vec::new(),
                problems: vec![problem(
                    DiagnosticSeverity::ERROR,
                    "config-error",
                    format!(
                        "not linted: {} cannot be used: {}",
                        e.path.display(),
                        e.message
                    ),
                )],
            },
            Ok(_) if self.file.text.len() > MAX_LINTED_BYTES => Linted {
                found: Vec::new(),
                problems: vec![problem(
                    DiagnosticSeverity::INFORMATION,
                    "too-large",
                    format!(
                        "not linted as you type: larger than {} MiB; `docklint check` lints it",
                        MAX_LINTED_BYTES >> 20
                    ),
                )],
            },
            Ok(settings) => {
                let (file, kind) = (&self.file, self.kind);
                // A bug in a rule must not take the editor's server down with it.
                let result = panic::catch_unwind(AssertUnwindSafe(|| match kind {
                    Kind::Dockerfile => crate::lint(file, &settings),
                    Kind::DockerIgnore => crate::lint_dockerignore(file, &settings),
                }));
                match result {
                    Ok(found) => Linted {
                        found,
                        problems: Vec::new(),
                    },
                    Err(_) => Linted {
                        found: Vec::new(),
                        problems: vec![problem(
                            DiagnosticSeverity::ERROR,
                            INTERNAL_ERROR,
                            "docklint failed on this text (a bug: please report it with the \
                             file); the log has the details"
                                .into(),
                        )],
                    },
                }
            }
        };
        self.linted.insert(linted)
    }

    /// Everything to publish for the current text (empty before it is linted).
    pub fn diagnostics(&self) -> Vec<lsp_types::Diagnostic> {
        let Some(linted) = &self.linted else {
            return Vec::new();
        };
        linted
            .problems
            .iter()
            .cloned()
            .chain(
                linted
                    .found
                    .iter()
                    .map(|d| convert::diagnostic(&self.file, d)),
            )
            .collect()
    }
}

/// The code of the diagnostic published when linting panicked.
pub const INTERNAL_ERROR: &str = "internal-error";

/// A diagnostic about linting itself, on the first line.
fn problem(severity: DiagnosticSeverity, code: &str, message: String) -> lsp_types::Diagnostic {
    lsp_types::Diagnostic {
        range: Range::default(),
        severity: Some(severity),
        code: Some(NumberOrString::String(code.into())),
        source: Some(convert::SOURCE.into()),
        message,
        ..Default::default()
    }
}
