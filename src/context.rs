//! What a build context holds once `.dockerignore` is applied: the files Docker sends, their
//! sizes, and what the ignore file keeps out (with the bytes that saves).
//!
//! The walk is Docker's: every entry under the context, hidden ones included; `.gitignore`
//! means nothing to Docker; symlinks are sent as links, never followed; the `.dockerignore`
//! that BuildKit picks decides, directory by directory (see [`dockerignore`]).

use std::fmt::{self, Write as _};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Serialize, Serializer};

use crate::emit::escape::{self, escape_line};
use crate::source::Span;
use crate::syntax::dockerignore::{self, DirMatches, DockerIgnore};

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
    /// Entries that could not be read; they are counted nowhere.
    #[serde(skip)]
    pub unreadable: Vec<Unreadable>,
}

/// A path relative to the context (`/`-separated) and the bytes it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub path: String,
    pub bytes: u64,
}

/// An entry the walk could not read (permissions, a race with a deletion).
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
    let found = walk(context, &ignore);
    Ok(found.into_report(context.to_path_buf(), dockerignore))
}

/// Files of a build context looked up one by one, as Docker sends them: for rules that
/// check or read a few named files (a manifest), where a walk of the context would be waste.
#[derive(Debug)]
pub struct ContextFiles {
    root: PathBuf,
    ignore: DockerIgnore,
}

/// Files larger than this are not read as text.
const READ_LIMIT: u64 = 1 << 20;

impl ContextFiles {
    /// The context `context` of the Dockerfile `dockerfile`, with the `.dockerignore` BuildKit
    /// picks.
    pub fn open(context: &Path, dockerfile: Option<&Path>) -> Result<ContextFiles, ContextError> {
        if !context.is_dir() {
            let message = "the build context is not a directory".to_string();
            return Err(ContextError {
                path: context.to_path_buf(),
                line: None,
                span: None,
                message,
            });
        }
        let ignore = match dockerignore::locate(dockerfile, context) {
            Some(path) => load_dockerignore(&path)?,
            None => DockerIgnore::default(),
        };
        Ok(ContextFiles {
            root: context.to_path_buf(),
            ignore,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the context sends a file (or a directory, with `dir`) at `path`, relative to
    /// the context root and `/`-separated.
    pub fn sends(&self, path: &str, dir: bool) -> bool {
        let path = path.trim_start_matches("./").trim_end_matches('/');
        if path.is_empty() || path.split('/').any(|c| c == "..") {
            return false;
        }
        let found = fs::symlink_metadata(self.root.join(path));
        found.is_ok_and(|m| m.is_dir() == dir) && !self.ignore.is_excluded_in_walk(path)
    }

    /// The text of a file the context sends (`None`: not sent, not text, or over 1 MiB).
    pub fn read(&self, path: &str) -> Option<String> {
        if !self.sends(path, false) {
            return None;
        }
        let full = self.root.join(path.trim_start_matches("./"));
        if fs::metadata(&full).ok()?.len() > READ_LIMIT {
            return None;
        }
        fs::read_to_string(full).ok()
    }
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

/// What the walk found; tasks fill their own and merge it once per directory.
#[derive(Default)]
struct Findings {
    sent: Vec<Entry>,
    /// Top-most excluded paths, with the counter their excluded content is charged to.
    excluded: Vec<(String, Arc<AtomicU64>)>,
    unreadable: Vec<Unreadable>,
}

impl Findings {
    fn append(&mut self, other: Findings) {
        self.sent.extend(other.sent);
        self.excluded.extend(other.excluded);
        self.unreadable.extend(other.unreadable);
    }

    fn unreadable(&mut self, path: &str, error: &io::Error) {
        let path = if path.is_empty() {
            ".".to_string()
        } else {
            path.to_string()
        };
        self.unreadable.push(Unreadable {
            path,
            message: error.to_string(),
        });
    }

    fn into_report(self, context: PathBuf, dockerignore: Option<PathBuf>) -> ContextReport {
        let mut sent = self.sent;
        sent.sort_by(|a, b| a.path.cmp(&b.path));
        let mut excluded: Vec<Entry> = self
            .excluded
            .into_iter()
            .map(|(path, bytes)| Entry {
                path,
                bytes: bytes.load(Ordering::Relaxed),
            })
            .collect();
        excluded.sort_by(largest_first);
        let mut unreadable = self.unreadable;
        unreadable.sort_by(|a, b| a.path.cmp(&b.path));
        let mut largest = sent.clone();
        largest.sort_by(largest_first);
        largest.truncate(LARGEST_KEPT);
        ContextReport {
            context,
            dockerignore,
            files: sent.len() as u64,
            total_bytes: sent.iter().map(|e| e.bytes).sum(),
            sent,
            excluded,
            largest,
            unreadable,
        }
    }
}

/// One directory to visit: `path` is relative to the context ("" for the context itself).
enum Task {
    /// Decide every entry: sent, excluded, or a directory to visit. `charge` is the counter
    /// of the top-most excluded ancestor, if the directory lies inside one.
    Walk {
        dir: PathBuf,
        path: String,
        matches: DirMatches,
        charge: Option<Arc<AtomicU64>>,
    },
    /// A pruned directory: only its bytes count.
    Measure {
        dir: PathBuf,
        path: String,
        charge: Arc<AtomicU64>,
    },
}

/// Walks the context, one task per directory on the rayon pool. Tasks are spawned, not
/// nested, so a deep tree cannot exhaust a stack.
fn walk(context: &Path, ignore: &DockerIgnore) -> Findings {
    let found = Mutex::new(Findings::default());
    let root = Task::Walk {
        dir: context.to_path_buf(),
        path: String::new(),
        matches: ignore.root_matches(),
        charge: None,
    };
    rayon::scope(|scope| run(scope, ignore, &found, root));
    found.into_inner().unwrap_or_else(PoisonError::into_inner)
}

fn run<'s>(
    scope: &rayon::Scope<'s>,
    ignore: &'s DockerIgnore,
    found: &'s Mutex<Findings>,
    task: Task,
) {
    let mut local = Findings::default();
    let mut spawn = |task: Task| scope.spawn(move |scope| run(scope, ignore, found, task));
    match task {
        Task::Walk {
            dir,
            path,
            matches,
            charge,
        } => walk_directory(
            ignore,
            &mut local,
            &mut spawn,
            &dir,
            &path,
            &matches,
            charge.as_ref(),
        ),
        Task::Measure { dir, path, charge } => {
            measure_directory(&mut local, &mut spawn, &dir, &path, &charge)
        }
    }
    found
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .append(local);
}

fn walk_directory(
    ignore: &DockerIgnore,
    found: &mut Findings,
    spawn: &mut impl FnMut(Task),
    dir: &Path,
    path: &str,
    matches: &DirMatches,
    charge: Option<&Arc<AtomicU64>>,
) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return found.unreadable(path, &e),
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                found.unreadable(path, &e);
                continue;
            }
        };
        let child = join(path, &entry.file_name().to_string_lossy());
        // `file_type` does not follow symlinks: a link to a directory is sent as a link.
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => {
                let task = subdirectory(ignore, found, entry.path(), child, matches, charge);
                spawn(task);
            }
            Ok(_) => file(ignore, found, &entry, child, matches, charge),
            Err(e) => found.unreadable(&child, &e),
        }
    }
}

/// The task for a subdirectory: a walk, or a measurement when Docker prunes it.
fn subdirectory(
    ignore: &DockerIgnore,
    found: &mut Findings,
    dir: PathBuf,
    path: String,
    parent: &DirMatches,
    charge: Option<&Arc<AtomicU64>>,
) -> Task {
    let matches = ignore.matches_in_dir(&path, parent);
    if !matches.is_excluded() {
        // Re-included (or never excluded): its excluded content is reported on its own.
        return Task::Walk {
            dir,
            path,
            matches,
            charge: None,
        };
    }
    let charge = charge.cloned().unwrap_or_else(|| {
        let counter = Arc::new(AtomicU64::new(0));
        found.excluded.push((path.clone(), Arc::clone(&counter)));
        counter
    });
    if ignore.may_reinclude_in(&path, &matches) {
        Task::Walk {
            dir,
            path,
            matches,
            charge: Some(charge),
        }
    } else {
        // Pruned as Docker prunes it, but still measured: that is what the file saves.
        Task::Measure { dir, path, charge }
    }
}

fn file(
    ignore: &DockerIgnore,
    found: &mut Findings,
    entry: &fs::DirEntry,
    path: String,
    parent: &DirMatches,
    charge: Option<&Arc<AtomicU64>>,
) {
    // On Unix `DirEntry::metadata` does not follow symlinks: a link weighs its own size.
    let bytes = match entry.metadata() {
        Ok(metadata) => metadata.len(),
        Err(e) => return found.unreadable(&path, &e),
    };
    if !ignore.is_excluded_in(&path, parent) {
        found.sent.push(Entry { path, bytes });
    } else if let Some(counter) = charge {
        counter.fetch_add(bytes, Ordering::Relaxed);
    } else {
        found.excluded.push((path, Arc::new(AtomicU64::new(bytes))));
    }
}

/// Adds the bytes of the non-directory entries of `dir` to `charge`; subdirectories
/// become tasks of their own.
fn measure_directory(
    found: &mut Findings,
    spawn: &mut impl FnMut(Task),
    dir: &Path,
    path: &str,
    charge: &Arc<AtomicU64>,
) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return found.unreadable(path, &e),
    };
    let mut bytes = 0;
    for entry in entries {
        let typed = entry.and_then(|entry| Ok((entry.file_type()?, entry)));
        match typed {
            Ok((kind, entry)) => {
                let child = join(path, &entry.file_name().to_string_lossy());
                if kind.is_dir() {
                    spawn(Task::Measure {
                        dir: entry.path(),
                        path: child,
                        charge: Arc::clone(charge),
                    });
                } else {
                    match entry.metadata() {
                        Ok(metadata) => bytes += metadata.len(),
                        Err(e) => found.unreadable(&child, &e),
                    }
                }
            }
            Err(e) => found.unreadable(path, &e),
        }
    }
    charge.fetch_add(bytes, Ordering::Relaxed);
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}

fn largest_first(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path))
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
        let _ = writeln!(out, "Build context: {}", escape::path(&self.context));
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
            let _ = writeln!(out, "\nUnreadable (not counted):");
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
    for part in relative.split('/').filter(|p| !p.is_empty() && *p != ".") {
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
