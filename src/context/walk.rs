//! The walk over a build context that Docker makes: every entry, hidden ones included;
//! `.gitignore` means nothing; symlinks are sent as links, never followed; the
//! `.dockerignore` decides directory by directory ([`DirMatches`]), and an excluded
//! directory is skipped whole when no `!` exception can re-include anything inside it.
//!
//! One task per directory on the rayon pool (spawned, not nested, so a deep tree cannot
//! exhaust a stack); each task keeps its findings and merges them once.

use std::borrow::Cow;
use std::ffi::{CStr, OsStr};
use std::io;
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rustix::fs as sys;
use rustix::io::Errno;

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

/// How many listed directories stay open at once for their subdirectories (a wide tree
/// must not exhaust the process's descriptors; past this, children open by full path).
const MAX_KEPT_OPEN: usize = 64;

/// Where a directory is. It is opened relative to its parent's descriptor while the parent
/// is kept open for its children (the kernel looks up one name, not the whole path), else
/// by its full path.
struct Place<'w> {
    full: PathBuf,
    parent: Option<Arc<OpenDir<'w>>>,
}

impl Place<'_> {
    /// Opens the directory; the parent is let go as soon as the child is open.
    fn open(self) -> io::Result<sys::Dir> {
        let flags = sys::OFlags::RDONLY | sys::OFlags::DIRECTORY | sys::OFlags::CLOEXEC;
        let mode = sys::Mode::empty();
        let fd = match (&self.parent, self.full.file_name()) {
            (Some(parent), Some(name)) => sys::openat(parent.dir.fd()?, name, flags, mode)?,
            _ => sys::openat(sys::CWD, &self.full, flags, mode)?,
        };
        Ok(sys::Dir::new(fd)?)
    }

    /// The place of the entry `name` of the directory at `dir`, opened through `open`.
    fn child<'w>(dir: &Path, open: &Option<Arc<OpenDir<'w>>>, name: &OsStr) -> Place<'w> {
        Place {
            full: dir.join(name),
            parent: open.clone(),
        }
    }
}

/// A listed directory, kept open while its entries are measured and, when `kept` is set,
/// for its subdirectories' tasks (`kept` counts those directories).
struct OpenDir<'w> {
    dir: sys::Dir,
    kept: Option<&'w AtomicUsize>,
}

impl Drop for OpenDir<'_> {
    fn drop(&mut self) {
        if let Some(kept) = self.kept {
            kept.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// A directory's entries, their names back to back in one buffer (NUL-terminated, as the
/// system calls take them): two allocations per directory, none per entry.
#[derive(Default)]
struct Listing {
    names: Vec<u8>,
    entries: Vec<Listed>,
}

#[derive(Clone, Copy)]
struct Listed {
    start: usize,
    /// The end of the name, before its NUL.
    end: usize,
    /// From the directory entry: no stat needed to tell a directory (`Unknown` on file
    /// systems that do not say).
    kind: sys::FileType,
}

impl Listing {
    fn read(dir: &mut sys::Dir, found: &mut Findings, path: &str) -> Self {
        let mut listing = Listing::default();
        while let Some(entry) = dir.read() {
            match entry {
                Ok(entry) => {
                    let name = entry.file_name().to_bytes_with_nul();
                    if name == b".\0" || name == b"..\0" {
                        continue;
                    }
                    let start = listing.names.len();
                    listing.names.extend_from_slice(name);
                    listing.entries.push(Listed {
                        start,
                        end: listing.names.len() - 1,
                        kind: entry.file_type(),
                    });
                }
                Err(e) => found.unreadable(path, cannot_read(&e.into())),
            }
        }
        listing
    }

    fn bytes(&self, entry: &Listed) -> &[u8] {
        &self.names[entry.start..entry.end]
    }

    fn c_name(&self, entry: &Listed) -> &CStr {
        CStr::from_bytes_with_nul(&self.names[entry.start..=entry.end]).unwrap_or_default()
    }

    fn os_name(&self, entry: &Listed) -> &OsStr {
        OsStr::from_bytes(self.bytes(entry))
    }

    /// The name as the report writes it (invalid UTF-8 replaced).
    fn name(&self, entry: &Listed) -> Cow<'_, str> {
        String::from_utf8_lossy(self.bytes(entry))
    }

    /// Whether an entry may be a directory (a task of its own).
    fn has_subdirectories(&self) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(e.kind, sys::FileType::Directory | sys::FileType::Unknown))
    }
}

/// One directory to visit: `path` is relative to the context ("" for the context itself).
enum Task<'w> {
    /// Decide every entry: sent, excluded, or a directory to visit. `charge` is the counter
    /// of the top-most excluded ancestor, if the directory lies inside one.
    Walk {
        place: Place<'w>,
        path: String,
        matches: DirMatches,
        charge: Option<Arc<AtomicU64>>,
        /// Inside a notable directory: nothing more is classified.
        in_notable: bool,
    },
    /// An excluded directory nothing can re-include: only its bytes count. No place: a
    /// pruned directory left unvisited.
    Measure {
        place: Option<Place<'w>>,
        path: String,
        charge: Arc<AtomicU64>,
    },
}

struct Walker<'a> {
    ignore: &'a DockerIgnore,
    options: Options,
    found: Mutex<Findings>,
    /// Directories kept open for their children now.
    kept: AtomicUsize,
}

pub fn walk(context: &Path, ignore: &DockerIgnore, options: Options) -> Walked {
    let walker = Walker {
        ignore,
        options,
        found: Mutex::new(Findings::default()),
        kept: AtomicUsize::new(0),
    };
    let root = Task::Walk {
        place: Place {
            full: context.to_path_buf(),
            parent: None,
        },
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
    fn run<'s>(&'s self, scope: &rayon::Scope<'s>, task: Task<'s>)
    where
        'a: 's,
    {
        let mut local = Findings::default();
        let mut spawn = |task: Task<'s>| scope.spawn(move |scope| self.run(scope, task));
        match task {
            Task::Walk {
                place,
                path,
                matches,
                charge,
                in_notable,
            } => self.walk_directory(
                &mut local,
                &mut spawn,
                place,
                &path,
                &matches,
                charge.as_ref(),
                in_notable,
            ),
            Task::Measure {
                place: Some(place),
                path,
                charge,
            } => self.measure_directory(&mut local, &mut spawn, place, &path, &charge),
            Task::Measure { place: None, .. } => {}
        }
        self.found
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .append(local, self.options.largest);
    }

    /// Opens and lists a directory, and keeps it open for its subdirectories while few
    /// directories are.
    fn list<'s>(
        &'s self,
        found: &mut Findings,
        place: Place<'s>,
        path: &str,
    ) -> Option<(Arc<OpenDir<'s>>, Listing, Option<Arc<OpenDir<'s>>>)> {
        let mut dir = match place.open() {
            Ok(dir) => dir,
            Err(e) => {
                found.unreadable(path, cannot_read(&e));
                return None;
            }
        };
        let listing = Listing::read(&mut dir, found, path);
        let keep = listing.has_subdirectories() && {
            let kept = self.kept.fetch_add(1, Ordering::Relaxed) < MAX_KEPT_OPEN;
            if !kept {
                self.kept.fetch_sub(1, Ordering::Relaxed);
            }
            kept
        };
        let open = Arc::new(OpenDir {
            dir,
            kept: keep.then_some(&self.kept),
        });
        let shared = keep.then(|| Arc::clone(&open));
        Some((open, listing, shared))
    }

    #[allow(clippy::too_many_arguments)]
    fn walk_directory<'s>(
        &'s self,
        found: &mut Findings,
        spawn: &mut impl FnMut(Task<'s>),
        place: Place<'s>,
        path: &str,
        matches: &DirMatches,
        charge: Option<&Arc<AtomicU64>>,
        in_notable: bool,
    ) {
        let full = place.full.clone();
        let Some((open, listing, shared)) = self.list(found, place, path) else {
            return;
        };
        let fd = match open.dir.fd() {
            Ok(fd) => fd,
            Err(e) => return found.unreadable(path, cannot_read(&e.into())),
        };
        let mut in_notable = in_notable;
        // The context itself is never one of the named directories: it is what is sent.
        if !in_notable && !path.is_empty() && !matches.is_excluded() {
            let names: Vec<Cow<'_, str>> =
                listing.entries.iter().map(|e| listing.name(e)).collect();
            let names: Vec<&str> = names.iter().map(|n| n.as_ref()).collect();
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
        // The child's path is built in one buffer and copied only when it is kept.
        let mut child = String::with_capacity(path.len() + 64);
        child.push_str(path);
        if !path.is_empty() {
            child.push('/');
        }
        let prefix = child.len();
        let (mut files, mut bytes) = (0, 0);
        for entry in &listing.entries {
            let name = listing.name(entry);
            child.truncate(prefix);
            child.push_str(&name);
            let c_name = listing.c_name(entry);
            // The entry's type does not follow symlinks: a link to a directory is sent as
            // a link, and a link weighs its own size.
            let (kind, size) = match stat(fd, c_name, entry.kind) {
                Ok(found) => found,
                Err(e) => {
                    found.unreadable(&child, cannot_read(&e));
                    continue;
                }
            };
            if kind == sys::FileType::Directory {
                let place = Place::child(&full, &shared, listing.os_name(entry));
                spawn(self.subdirectory(found, place, child.clone(), matches, charge, in_notable));
                continue;
            }
            if self.ignore.is_excluded_in(&child, matches) {
                match charge {
                    Some(counter) => {
                        counter.fetch_add(size, Ordering::Relaxed);
                    }
                    None if self.options.measure_excluded => {
                        found
                            .excluded
                            .push((child.clone(), Arc::new(AtomicU64::new(size))));
                    }
                    None => {}
                }
                continue;
            }
            if let Some(problem) = special(kind, fd, c_name) {
                found.unreadable(&child, problem);
                if kind != sys::FileType::Symlink {
                    continue;
                }
            }
            files += 1;
            bytes += size;
            if !in_notable {
                self.classify_file(found, &name, &child, size, fd, c_name);
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
                    path: child.clone(),
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

    fn classify_file(
        &self,
        found: &mut Findings,
        name: &str,
        path: &str,
        size: u64,
        dir: BorrowedFd<'_>,
        c_name: &CStr,
    ) {
        if knowledge::is_weight_file(name, size) {
            found.weights.push(Entry {
                path: path.to_string(),
                bytes: size,
            });
            return;
        }
        let sniff = || read_prefix(dir, c_name, knowledge::KEY_SNIFF_BYTES);
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
    fn subdirectory<'s>(
        &self,
        found: &mut Findings,
        place: Place<'s>,
        path: String,
        parent: &DirMatches,
        charge: Option<&Arc<AtomicU64>>,
        in_notable: bool,
    ) -> Task<'s> {
        let matches = self.ignore.matches_in_dir(&path, parent);
        if !matches.is_excluded() {
            // Re-included (or never excluded): its excluded content is reported on its own.
            return Task::Walk {
                place,
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
                place,
                path,
                matches,
                charge: Some(charge),
                in_notable,
            }
        } else {
            // Pruned as Docker prunes it; measured only when asked (that is what the
            // `.dockerignore` saves).
            Task::Measure {
                place: self.options.measure_excluded.then_some(place),
                path,
                charge,
            }
        }
    }

    /// Adds the bytes of the non-directory entries of a directory to `charge`;
    /// subdirectories become tasks of their own.
    fn measure_directory<'s>(
        &'s self,
        found: &mut Findings,
        spawn: &mut impl FnMut(Task<'s>),
        place: Place<'s>,
        path: &str,
        charge: &Arc<AtomicU64>,
    ) {
        let full = place.full.clone();
        let Some((open, listing, shared)) = self.list(found, place, path) else {
            return;
        };
        let fd = match open.dir.fd() {
            Ok(fd) => fd,
            Err(e) => return found.unreadable(path, cannot_read(&e.into())),
        };
        let mut bytes = 0;
        for entry in &listing.entries {
            match stat(fd, listing.c_name(entry), entry.kind) {
                Ok((sys::FileType::Directory, _)) => spawn(Task::Measure {
                    place: Some(Place::child(&full, &shared, listing.os_name(entry))),
                    path: join(path, &listing.name(entry)),
                    charge: Arc::clone(charge),
                }),
                Ok((_, size)) => bytes += size,
                Err(e) => {
                    let child = join(path, &listing.name(entry));
                    found.unreadable(&child, cannot_read(&e));
                }
            }
        }
        charge.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// An entry's type and, unless it is a directory, its size: one `lstat` relative to the
/// open directory (none for a directory whose entry says so).
fn stat(
    dir: BorrowedFd<'_>,
    name: &CStr,
    listed: sys::FileType,
) -> io::Result<(sys::FileType, u64)> {
    if listed == sys::FileType::Directory {
        return Ok((listed, 0));
    }
    let stat = sys::statat(dir, name, sys::AtFlags::SYMLINK_NOFOLLOW)?;
    let kind = sys::FileType::from_raw_mode(stat.st_mode);
    Ok((kind, u64::try_from(stat.st_size).unwrap_or(0)))
}

/// A sent entry that is not a regular file or a sound link: sockets, fifos and devices
/// are not sent; a link that loops is sent, but a COPY that follows it fails.
fn special(kind: sys::FileType, dir: BorrowedFd<'_>, name: &CStr) -> Option<String> {
    match kind {
        sys::FileType::Socket => Some("a socket: not sent".into()),
        sys::FileType::Fifo => Some("a named pipe: not sent".into()),
        sys::FileType::BlockDevice | sys::FileType::CharacterDevice => {
            Some("a device: not sent".into())
        }
        // ELOOP: the link resolves to itself, through however many links.
        sys::FileType::Symlink
            if sys::statat(dir, name, sys::AtFlags::empty()).err() == Some(Errno::LOOP) =>
        {
            Some("a symbolic link loop: sent as a link, but a COPY that follows it fails".into())
        }
        _ => None,
    }
}

fn cannot_read(error: &io::Error) -> String {
    format!("cannot read: {error}")
}

fn read_prefix(dir: BorrowedFd<'_>, name: &CStr, limit: usize) -> Option<String> {
    use std::io::Read;
    let flags = sys::OFlags::RDONLY | sys::OFlags::CLOEXEC;
    let file = std::fs::File::from(sys::openat(dir, name, flags, sys::Mode::empty()).ok()?);
    let mut buffer = Vec::new();
    file.take(limit as u64).read_to_end(&mut buffer).ok()?;
    Some(String::from_utf8_lossy(&buffer).into_owned())
}

pub fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        let mut path = String::with_capacity(parent.len() + 1 + name.len());
        path.push_str(parent);
        path.push('/');
        path.push_str(name);
        path
    }
}
