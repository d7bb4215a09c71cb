//! The build context: which directory it is ([`resolve`]), what it holds once
//! `.dockerignore` is applied ([`scan`], the `docklint context` report), and what rules see
//! of it ([`BuildContext`]).
//!
//! The walk is Docker's (see [`walk`]): every entry under the context, hidden ones
//! included; `.gitignore` means nothing to Docker; symlinks are sent as links, never
//! followed; the `.dockerignore` that BuildKit picks decides, directory by directory.

pub mod bake;
pub mod compose;
mod disk;
pub mod knowledge;
pub mod reads;
pub mod resolve;
mod view;
pub mod walk;

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};

use crate::emit::escape::{self, escape_line};
use crate::source::Span;
use crate::syntax::dockerignore::{self, DockerIgnore};

pub use resolve::ContextOrigin;
pub use view::{BuildContext, ContextCache, ContextIndex, Overlay, Reach};

/// How many of the largest sent files a report keeps.
const LARGEST_KEPT: usize = 10;
/// How many excluded entries the text summary shows.
const EXCLUDED_SHOWN: usize = 10;

/// The build context as Docker would send it. Serializes to the `docklint context` JSON
/// object (keys in the documented order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContextReport {
    /// The context directory as given.
    #[serde(serialize_with = "lossy_path")]
    pub context: PathBuf,
    /// Where that directory came from (`from docker-bake.hcl (target api)`), when docklint
    /// found it for a Dockerfile.
    #[serde(rename = "context_origin", skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The `.dockerignore` applied, as located from the given paths.
    #[serde(serialize_with = "lossy_optional_path")]
    pub dockerignore: Option<PathBuf>,
    /// Number of files sent (regular files, symlinks and other non-directories).
    pub files: u64,
    pub total_bytes: u64,
    /// Every file sent, by path.
    pub sent: Vec<Entry>,
    /// Top-most excluded paths with the bytes they hold, largest first.
    pub excluded: Vec<Entry>,
    /// The largest files sent, largest first.
    pub largest: Vec<Entry>,
    /// Entries that could not be read (counted nowhere), and sent entries that are not
    /// plain files or sound links (sockets, link loops).
    #[serde(skip)]
    pub unreadable: Vec<Unreadable>,
}

/// A path relative to the context (`/`-separated) and the bytes it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub path: String,
    pub bytes: u64,
}

/// An entry the walk could not read (permissions, a race with a deletion), or one that is
/// not a plain file or a sound link (a socket, a link loop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// Relative to the context; `.` for the context itself.
    pub path: String,
    pub message: String,
}

/// Why a context could not be scanned: the context is not a readable directory, or its
/// `.dockerignore` cannot be read or is one Docker rejects (then `line` and `span` say where).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub span: Option<Span>,
    pub message: String,
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ContextError {}

impl ContextError {
    fn io(path: &Path, error: &io::Error) -> Self {
        Self {
            path: path.to_path_buf(),
            line: None,
            span: None,
            message: error.to_string(),
        }
    }
}

/// Scans the build context `context` for the Dockerfile `dockerfile` (which picks a
/// `<name>.dockerignore` beside it over the context's `.dockerignore`).
pub fn scan(context: &Path, dockerfile: Option<&Path>) -> Result<ContextReport, ContextError> {
    let metadata = fs::metadata(context).map_err(|e| ContextError::io(context, &e))?;
    if !metadata.is_dir() {
        let message = "the build context is not a directory".to_string();
        return Err(ContextError {
            path: context.to_path_buf(),
            line: None,
            span: None,
            message,
        });
    }
    let dockerignore = dockerignore::locate(dockerfile, context);
    let ignore = match &dockerignore {
        Some(path) => load_dockerignore(path)?,
        None => DockerIgnore::default(),
    };
    let options = walk::Options {
        keep_files: true,
        measure_excluded: true,
        largest: LARGEST_KEPT,
    };
    let walked = walk::walk(context, &ignore, options);
    Ok(ContextReport {
        context: context.to_path_buf(),
        origin: None,
        dockerignore,
        files: walked.files,
        total_bytes: walked.bytes,
        sent: walked.sent,
        excluded: walked.excluded,
        largest: walked.largest,
        unreadable: walked.unreadable,
    })
}

fn load_dockerignore(path: &Path) -> Result<DockerIgnore, ContextError> {
    let bytes = fs::read(path).map_err(|e| ContextError::io(path, &e))?;
    // Docker reads bytes; a stray invalid byte only turns into U+FFFD here.
    let text = String::from_utf8_lossy(&bytes);
    DockerIgnore::parse(&text).map_err(|e| ContextError {
        path: path.to_path_buf(),
        line: Some(e.line),
        span: Some(e.span),
        message: e.message,
    })
}

fn lossy_path<S: Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

fn lossy_optional_path<S: Serializer>(
    path: &Option<PathBuf>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match path {
        Some(path) => lossy_path(path, serializer),
        None => serializer.serialize_none(),
    }
}

impl ContextReport {
    /// The `docklint context --format json` object (serializing the report itself keeps
    /// the documented key order; a `Value` sorts keys).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// A human summary: where, which `.dockerignore`, how much is sent, the largest files,
    /// and what the ignore file keeps out. Paths are escaped (a file name can hold control
    /// characters).
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let ignore = self
            .dockerignore
            .as_ref()
            .map_or("none".into(), |p| escape::path(p));
        let origin = self
            .origin
            .as_deref()
            .map_or(String::new(), |o| format!(" ({})", escape_line(o)));
        let _ = writeln!(
            out,
            "Build context: {}{origin}",
            escape::path(&self.context)
        );
        let _ = writeln!(out, ".dockerignore: {ignore}");
        let _ = writeln!(
            out,
            "Sent: {} {}, {}",
            self.files,
            if self.files == 1 { "file" } else { "files" },
            human_bytes(self.total_bytes)
        );
        if !self.largest.is_empty() {
            let _ = writeln!(out, "\nLargest files sent:");
            write_entries(&mut out, &self.largest);
        }
        if !self.excluded.is_empty() {
            let excluded_bytes: u64 = self.excluded.iter().map(|e| e.bytes).sum();
            let _ = writeln!(
                out,
                "\nExcluded by .dockerignore ({}):",
                human_bytes(excluded_bytes)
            );
            write_entries(
                &mut out,
                &self.excluded[..self.excluded.len().min(EXCLUDED_SHOWN)],
            );
            if let Some(rest) = self
                .excluded
                .get(EXCLUDED_SHOWN..)
                .filter(|r| !r.is_empty())
            {
                let bytes = rest.iter().map(|e| e.bytes).sum();
                let _ = writeln!(
                    out,
                    "  ... and {} more ({})",
                    rest.len(),
                    human_bytes(bytes)
                );
            }
        }
        if !self.unreadable.is_empty() {
            let _ = writeln!(out, "\nProblems:");
            for entry in &self.unreadable {
                let _ = writeln!(
                    out,
                    "  {}: {}",
                    escape_line(&entry.path),
                    escape_line(&entry.message)
                );
            }
        }
        out
    }
}

fn write_entries(out: &mut String, entries: &[Entry]) {
    for entry in entries {
        let _ = writeln!(
            out,
            "  {:>10}  {}",
            human_bytes(entry.bytes),
            escape_line(&entry.path)
        );
    }
}

/// `512 B`, `1.5 KiB`, `12.3 MiB`, ...
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Largest build-context file a rule reads (a script, a manifest): anything bigger is none.
pub const MAX_READ_BYTES: u64 = 1 << 20;

/// The text of the file at `relative` (`/`-separated) in the build context `context`, for
/// rules that read project files (scripts a RUN executes, go.mod, pyproject.toml): `None`
/// unless it is a regular file inside the context, reached without a symbolic link (Docker
/// sends links as links), at most [`MAX_READ_BYTES`], and UTF-8. `.dockerignore` is not
/// consulted: a COPY of an excluded file fails the build anyway.
pub fn read_file(context: &Path, relative: &str) -> Option<String> {
    let mut path = context.to_path_buf();
    for part in relative_parts(relative) {
        if part == ".." {
            return None;
        }
        path.push(part);
        if fs::symlink_metadata(&path).ok()?.file_type().is_symlink() {
            return None;
        }
    }
    let metadata = fs::symlink_metadata(&path).ok()?;
    if !metadata.is_file() || metadata.len() > MAX_READ_BYTES {
        return None;
    }
    String::from_utf8(fs::read(&path).ok()?).ok()
}

/// The parts of a path relative to the context that [`read_file`] follows: `./go.mod` and
/// `go.mod` are one file.
pub fn relative_parts(relative: &str) -> impl Iterator<Item = &str> {
    relative.split('/').filter(|p| !p.is_empty() && *p != ".")
}

/// `relative` as one key for its file (its [`relative_parts`] joined by `/`): most paths
/// are already that, and are not copied.
pub fn relative_key(relative: &str) -> Cow<'_, str> {
    if relative_parts(relative).eq(relative.split('/')) {
        return Cow::Borrowed(relative);
    }
    Cow::Owned(relative_parts(relative).collect::<Vec<_>>().join("/"))
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn human_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.0 KiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(12_897_485), "12.3 MiB");
        assert_eq!(human_bytes(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn context_files_are_read_inside_the_context_only() {
        let dir = std::env::temp_dir().join(format!("docklint-read-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("ctx/src")).unwrap();
        std::fs::write(dir.join("ctx/src/get.py"), "x = 1\n").unwrap();
        std::fs::write(dir.join("secret"), "no").unwrap();
        let ctx = dir.join("ctx");
        assert_eq!(
            super::read_file(&ctx, "src/get.py").as_deref(),
            Some("x = 1\n")
        );
        assert_eq!(
            super::read_file(&ctx, "./src//get.py").as_deref(),
            Some("x = 1\n")
        );
        assert_eq!(super::read_file(&ctx, "../secret"), None);
        assert_eq!(super::read_file(&ctx, "src"), None);
        assert_eq!(super::read_file(&ctx, "missing.py"), None);
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.join("secret"), ctx.join("link")).unwrap();
            assert_eq!(super::read_file(&ctx, "link"), None);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
