//! The walk over a build context that Docker makes: every entry, hidden ones included;
//! `.gitignore` means nothing; symlinks are sent as links, never followed; the
//! `.dockerignore` decides directory by directory ([`DirMatches`]), and an excluded
//! directory is skipped whole when no `!` exception can re-include anything inside it.
//!
//! One task per directory on the rayon pool (spawned, not nested, so a deep tree cannot
//! exhaust a stack); each task keeps its findings and merges them once.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::knowledge::{self, Kind};
use super::{Entry, Unreadable};
use crate::syntax::dockerignore::{DirMatches, DockerIgnore};

/// What a walk keeps besides totals.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Every sent file (`docklint context` lists them).
    pub keep_files: bool,
    /// Measure what the `.dockerignore` keeps out, which means visiting excluded
    /// directories (without deciding anything inside them).
    pub measure_excluded: bool,
    /// How many of the largest files to keep.
    pub largest: usize,
}

/// A directory holding sent files, with those files' count and bytes (not its
/// subdirectories').
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirTotal {
    pub path: String,
    pub files: u64,
    pub bytes: u64,
}

/// An entry the knowledge table names ([`knowledge::classify_dir`], `classify_file`). Entries
/// inside a notable directory are not looked at (they are part of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notable {
    pub path: String,
    pub kind: &'static Kind,
    pub is_dir: bool,
    /// A file's bytes; a directory's come from the [`DirTotal`]s under it.
    pub bytes: u64,
}

#[derive(Debug, Default)]
pub struct Walked {
    pub sent: Vec<Entry>,
    /// Top-most excluded paths with the bytes they hold (0 unless measured).
    pub excluded: Vec<Entry>,
    pub dirs: Vec<DirTotal>,
    pub notable: Vec<Notable>,
    /// Sent model weights (see [`knowledge::is_weight_file`]).
    pub weights: Vec<Entry>,
    /// The largest sent files, largest first.
    pub largest: Vec<Entry>,
    pub unreadable: Vec<Unreadable>,
    pub files: u64,
    pub bytes: u64,
}

/// Per-task findings, merged under a lock once per directory.
#[derive(Default)]
struct Findings {
    sent: Vec<Entry>,
    excluded: Vec<(String, Arc<AtomicU64>)>,
    dirs: Vec<DirTotal>,
    notable: Vec<Notable>,
    weights: Vec<Entry>,
    largest: Vec<Entry>,
    unreadable: Vec<Unreadable>,
    files: u64,
    bytes: u64,
}

impl Findings {
    fn append(&mut self, other: Findings, largest: usize) {
        self.sent.extend(other.sent);
        self.excluded.extend(other.excluded);
        self.dirs.extend(other.dirs);
        self.notable.extend(other.notable);
        self.weights.extend(other.weights);
        self.unreadable.extend(other.unreadable);
        self.files += other.files;
        self.bytes += other.bytes;
        if !other.largest.is_empty() {
            self.largest.extend(other.largest);
            keep_largest(&mut self.largest, largest);
        }
    }

    fn unreadable(&mut self, path: &str, message: String) {
        let path = if path.is_empty() { "." } else { path };
        self.unreadable.push(Unreadable {
            path: path.to_string(),
            message,
        });
    }
}

fn keep_largest(entries: &mut Vec<Entry>, n: usize) {
    if entries.len() > n {
        entries.select_nth_unstable_by(n, largest_first);
        entries.truncate(n);
    }
}

pub fn largest_first(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path))
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
        /// Inside a notable directory: nothing more is classified.
        in_notable: bool,
    },
    /// An excluded directory nothing can re-include: only its bytes count.
    Measure {
        dir: PathBuf,
        path: String,
        charge: Arc<AtomicU64>,
    },
}

struct Walker<'a> {
    ignore: &'a DockerIgnore,
    options: Options,
    found: Mutex<Findings>,
}

pub fn walk(context: &Path, ignore: &DockerIgnore, options: Options) -> Walked {
    let walker = Walker {
        ignore,
        options,
        found: Mutex::new(Findings::default()),
    };
    let root = Task::Walk {
        dir: context.to_path_buf(),
        path: String::new(),
        matches: ignore.root_matches(),
        charge: None,
        in_notable: false,
    };
    rayon::scope(|scope| walker.run(scope, root));
    let found = walker
        .found
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    finish(found, options)
}

fn finish(found: Findings, options: Options) -> Walked {
    let mut sent = found.sent;
    sent.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    let mut excluded: Vec<Entry> = found
        .excluded
        .into_iter()
        .map(|(path, bytes)| Entry {
            path,
            bytes: bytes.load(Ordering::Relaxed),
        })
        .collect();
    excluded.sort_by(largest_first);
    let mut dirs = found.dirs;
    dirs.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    let mut notable = found.notable;
    notable.sort_by(|a, b| a.path.cmp(&b.path));
    let mut weights = found.weights;
    weights.sort_by(|a, b| a.path.cmp(&b.path));
    let mut largest = found.largest;
    keep_largest(&mut largest, options.largest);
    largest.sort_by(largest_first);
    let mut unreadable = found.unreadable;
    unreadable.sort_by(|a, b| a.path.cmp(&b.path));
    Walked {
        sent,
        excluded,
        dirs,
        notable,
        weights,
        largest,
        unreadable,
        files: found.files,
        bytes: found.bytes,
    }
}

impl<'a> Walker<'a> {
    fn run<'s>(&'s self, scope: &rayon::Scope<'s>, task: Task)
    where
        'a: 's,
    {
        let mut local = Findings::default();
        let mut spawn = |task: Task| scope.spawn(move |scope| self.run(scope, task));
        match task {
            Task::Walk {
                dir,
                path,
                matches,
                charge,
                in_notable,
            } => self.walk_directory(
                &mut local,
                &mut spawn,
                &dir,
                &path,
                &matches,
                charge.as_ref(),
                in_notable,
            ),
            Task::Measure { dir, path, charge } => {
                measure_directory(&mut local, &mut spawn, &dir, &path, &charge)
            }
        }
        self.found
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .append(local, self.options.largest);
    }

    #[allow(clippy::too_many_arguments)]
    fn walk_directory(
        &self,
        found: &mut Findings,
        spawn: &mut impl FnMut(Task),
        dir: &Path,
        path: &str,
        matches: &DirMatches,
        charge: Option<&Arc<AtomicU64>>,
        in_notable: bool,
    ) {
        let listing = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return found.unreadable(path, cannot_read(&e)),
        };
        let mut entries = Vec::new();
        for entry in listing {
            match entry.and_then(|e| Ok((e.file_type()?, e))) {
                Ok((kind, entry)) => entries.push((
                    entry.file_name().to_string_lossy().into_owned(),
                    kind,
                    entry,
                )),
                Err(e) => found.unreadable(path, cannot_read(&e)),
            }
        }
        let mut in_notable = in_notable;
        // The context itself is never one of the named directories: it is what is sent.
        if !in_notable && !path.is_empty() && !matches.is_excluded() {
            let names: Vec<&str> = entries.iter().map(|(n, _, _)| n.as_str()).collect();
            let name = path.rsplit('/').next().unwrap_or(path);
            if let Some(kind) = knowledge::classify_dir(name, &names) {
                found.notable.push(Notable {
                    path: path.to_string(),
                    kind,
                    is_dir: true,
                    bytes: 0,
                });
                in_notable = true;
            }
        }
        let (mut files, mut bytes) = (0, 0);
        for (name, kind, entry) in entries {
            let child = join(path, &name);
            // `file_type` does not follow symlinks: a link to a directory is sent as a link.
            if kind.is_dir() {
                spawn(self.subdirectory(found, entry.path(), child, matches, charge, in_notable));
                continue;
            }
            // On Unix `DirEntry::metadata` does not follow symlinks: a link weighs its own size.
            let size = match entry.metadata() {
                Ok(metadata) => metadata.len(),
                Err(e) => {
                    found.unreadable(&child, cannot_read(&e));
                    continue;
                }
            };
            if self.ignore.is_excluded_in(&child, matches) {
                match charge {
                    Some(counter) => {
                        counter.fetch_add(size, Ordering::Relaxed);
                    }
                    None if self.options.measure_excluded => {
                        found.excluded.push((child, Arc::new(AtomicU64::new(size))));
                    }
                    None => {}
                }
                continue;
            }
            if let Some(problem) = special(&kind, &entry.path()) {
                found.unreadable(&child, problem);
                if !kind.is_symlink() {
                    continue;
                }
            }
            files += 1;
            bytes += size;
            if !in_notable {
                self.classify_file(found, &name, &child, size, &entry.path());
            }
            if self.options.largest > 0 {
                found.largest.push(Entry {
                    path: child.clone(),
                    bytes: size,
                });
                if found.largest.len() >= 2 * self.options.largest {
                    keep_largest(&mut found.largest, self.options.largest);
                }
            }
            if self.options.keep_files {
                found.sent.push(Entry {
                    path: child,
                    bytes: size,
                });
            }
        }
        if files > 0 {
            found.dirs.push(DirTotal {
                path: path.to_string(),
                files,
                bytes,
            });
            found.files += files;
            found.bytes += bytes;
        }
    }

    fn classify_file(&self, found: &mut Findings, name: &str, path: &str, size: u64, full: &Path) {
        if knowledge::is_weight_file(name, size) {
            found.weights.push(Entry {
                path: path.to_string(),
                bytes: size,
            });
            return;
        }
        let sniff = || read_prefix(full, knowledge::KEY_SNIFF_BYTES);
        if let Some(kind) = knowledge::classify_file(name, sniff) {
            found.notable.push(Notable {
                path: path.to_string(),
                kind,
                is_dir: false,
                bytes: size,
            });
        }
    }

    /// The task for a subdirectory: a walk, or a measurement (or nothing) when Docker
    /// prunes it.
    fn subdirectory(
        &self,
        found: &mut Findings,
        dir: PathBuf,
        path: String,
        parent: &DirMatches,
        charge: Option<&Arc<AtomicU64>>,
        in_notable: bool,
    ) -> Task {
        let matches = self.ignore.matches_in_dir(&path, parent);
        if !matches.is_excluded() {
            // Re-included (or never excluded): its excluded content is reported on its own.
            return Task::Walk {
                dir,
                path,
                matches,
                charge: None,
                in_notable,
            };
        }
        let charge = charge.cloned().unwrap_or_else(|| {
            let counter = Arc::new(AtomicU64::new(0));
            if self.options.measure_excluded {
                found.excluded.push((path.clone(), Arc::clone(&counter)));
            }
            counter
        });
        if self.ignore.may_reinclude_in(&path, &matches) {
            Task::Walk {
                dir,
                path,
                matches,
                charge: Some(charge),
                in_notable,
            }
        } else {
            // Pruned as Docker prunes it; measured only when asked (that is what the
            // `.dockerignore` saves).
            Task::Measure {
                dir: if self.options.measure_excluded {
                    dir
                } else {
                    PathBuf::new()
                },
                path,
                charge,
            }
        }
    }
}

/// Adds the bytes of the non-directory entries of `dir` to `charge`; subdirectories
/// become tasks of their own. An empty `dir` is a pruned directory left unvisited.
fn measure_directory(
    found: &mut Findings,
    spawn: &mut impl FnMut(Task),
    dir: &Path,
    path: &str,
    charge: &Arc<AtomicU64>,
) {
    if dir.as_os_str().is_empty() {
        return;
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return found.unreadable(path, cannot_read(&e)),
    };
    let mut bytes = 0;
    for entry in entries {
        match entry.and_then(|e| Ok((e.file_type()?, e))) {
            Ok((kind, entry)) if kind.is_dir() => spawn(Task::Measure {
                dir: entry.path(),
                path: join(path, &entry.file_name().to_string_lossy()),
                charge: Arc::clone(charge),
            }),
            Ok((_, entry)) => match entry.metadata() {
                Ok(metadata) => bytes += metadata.len(),
                Err(e) => {
                    let child = join(path, &entry.file_name().to_string_lossy());
                    found.unreadable(&child, cannot_read(&e));
                }
            },
            Err(e) => found.unreadable(path, cannot_read(&e)),
        }
    }
    charge.fetch_add(bytes, Ordering::Relaxed);
}

/// A sent entry that is not a regular file or a sound link: sockets, fifos and devices
/// are not sent; a link that loops is sent, but a COPY that follows it fails.
fn special(kind: &fs::FileType, full: &Path) -> Option<String> {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_socket() {
        return Some("a socket: not sent".into());
    }
    if kind.is_fifo() {
        return Some("a named pipe: not sent".into());
    }
    if kind.is_block_device() || kind.is_char_device() {
        return Some("a device: not sent".into());
    }
    if kind.is_symlink() {
        // ELOOP: the link resolves to itself, through however many links.
        if let Err(e) = fs::metadata(full) {
            if e.raw_os_error() == Some(40) {
                return Some(
                    "a symbolic link loop: sent as a link, but a COPY that follows it fails".into(),
                );
            }
        }
    }
    None
}

fn cannot_read(error: &io::Error) -> String {
    format!("cannot read: {error}")
}

fn read_prefix(path: &Path, limit: usize) -> Option<String> {
    use std::io::Read;
    let mut buffer = Vec::new();
    fs::File::open(path)
        .ok()?
        .take(limit as u64)
        .read_to_end(&mut buffer)
        .ok()?;
    Some(String::from_utf8_lossy(&buffer).into_owned())
}

pub fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}
