//! What the disk says of a context's paths, asked once each.
//!
//! Rules ask about the same few paths (`package.json`, `go.mod`) stage after stage, and an
//! editor lints on every keystroke, so each answer is kept. A file of a million COPYs asks
//! about a million paths, nearly all in a few directories, and most of them missing: each
//! `stat` of a missing name is a system call that leaves the kernel a negative dentry. A
//! directory asked about often is listed once instead, and a name its listing lacks is
//! missing without asking the disk.

use std::cell::RefCell;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

// foldhash's maps: each candidate path a rule asks about is hashed (a file of many COPYs
// and RUNs asks millions), and foldhash is seeded and several times faster than SipHash.
use foldhash::{HashMap, HashMapExt, HashSet};

/// Names the disk did not find in one directory before it is listed (a few `stat`s are
/// cheaper than a listing).
const LIST_AFTER: u32 = 64;
/// Entries a listing may read per miss so far: a listing never costs more than the misses
/// that led to it, times this. A larger directory is tried again after twice the misses.
const ENTRIES_PER_MISS: usize = 64;

/// A path of the context, as `lstat` and `stat` see it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Stat {
    /// Something is there (a link counts, whatever it points to).
    pub exists: bool,
    pub link: bool,
    /// What it is, links followed; `None` for nothing there or a dangling link.
    pub target: Option<Target>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Target {
    pub dir: bool,
    pub file: bool,
    pub len: u64,
}

impl Target {
    fn of(metadata: &fs::Metadata) -> Target {
        Target {
            dir: metadata.is_dir(),
            file: metadata.is_file(),
            len: metadata.len(),
        }
    }
}

impl Stat {
    const MISSING: Stat = Stat {
        exists: false,
        link: false,
        target: None,
    };

    /// One `lstat`, and a `stat` for a link.
    fn of(full: &Path) -> Stat {
        let Ok(own) = fs::symlink_metadata(full) else {
            return Stat::MISSING;
        };
        let link = own.file_type().is_symlink();
        let target = if link {
            fs::metadata(full).ok().map(|m| Target::of(&m))
        } else {
            Some(Target::of(&own))
        };
        Stat {
            exists: true,
            link,
            target,
        }
    }

    pub fn is_dir(&self) -> bool {
        self.target.is_some_and(|t| t.dir)
    }

    /// The size of a regular file (links followed).
    pub fn file_len(&self) -> Option<u64> {
        self.target.filter(|t| t.file).map(|t| t.len)
    }
}

/// A directory's names, when a listing can answer for it.
enum Listing {
    /// Not listed yet: `misses` names were not there; to be listed at `next`.
    Pending { misses: u32, next: u32 },
    /// Its names, ASCII lowercased: a case-insensitive file system finds `F` for `f`, so a
    /// name found here in any case goes to the disk.
    Names(Arc<Names>),
    /// Answered by the disk only: unreadable, or holding names that are not ASCII (whose
    /// case folding and normalization belong to the file system).
    DiskOnly,
}

type Names = HashSet<Box<str>>;

thread_local! {
    /// The listing this thread last answered from, by disk and directory. A file of a
    /// million COPYs asks about the names of one directory, from rules on every core: the
    /// shared maps' locks, taken for each name, moved their cache line from core to core
    /// (a fifth of such a lint's time).
    static LAST_LISTING: RefCell<Option<LastListing>> = const { RefCell::new(None) };
}

struct LastListing {
    disk: u64,
    dir: Box<str>,
    names: Arc<Names>,
}

/// Tells disks apart in [`LAST_LISTING`] (an address can be reused once a disk is dropped).
static NEXT_DISK: AtomicU64 = AtomicU64::new(0);

pub(super) struct Disk {
    id: u64,
    root: PathBuf,
    stats: RwLock<HashMap<String, Stat>>,
    listings: RwLock<HashMap<String, Listing>>,
    /// The entries of each directory read whole; `None` for what is not a directory that
    /// can be read.
    directories: RwLock<HashMap<String, Option<Arc<Directory>>>>,
}

/// The entries of a directory, read once: a file may COPY a million names that are not in
/// one directory, or a million wildcards to match against it.
#[derive(Debug)]
pub(super) struct Directory {
    /// Sorted; a name that is not UTF-8 with its invalid bytes replaced.
    names: Vec<String>,
    /// The index in `names` of the first name of each lowercase form, made on first use.
    by_lowercase: OnceLock<HashMap<String, usize>>,
}

impl Directory {
    fn read(dir: &Path) -> Option<Directory> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .ok()?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        Some(Directory {
            names,
            by_lowercase: OnceLock::new(),
        })
    }

    /// The names that start with `prefix`.
    pub fn starting_with(&self, prefix: &str) -> &[String] {
        let from = self.names.partition_point(|n| n.as_str() < prefix);
        let to = from + self.names[from..].partition_point(|n| n.starts_with(prefix));
        &self.names[from..to]
    }

    /// The name that is `name` but for case, the first in sorted order (`name` itself when
    /// it is there).
    pub fn named_alike(&self, name: &str) -> Option<&str> {
        let by_lowercase = self.by_lowercase.get_or_init(|| {
            let mut by_lowercase = HashMap::with_capacity(self.names.len());
            for (i, name) in self.names.iter().enumerate() {
                by_lowercase.entry(name.to_lowercase()).or_insert(i);
            }
            by_lowercase
        });
        let at = *by_lowercase.get(&name.to_lowercase())?;
        Some(&self.names[at])
    }
}

impl Disk {
    pub fn new(root: &Path) -> Disk {
        Disk {
            id: NEXT_DISK.fetch_add(1, Ordering::Relaxed),
            root: root.to_path_buf(),
            stats: RwLock::default(),
            listings: RwLock::default(),
            directories: RwLock::default(),
        }
    }

    pub fn full(&self, path: &str) -> PathBuf {
        if path == "." {
            self.root.clone()
        } else {
            self.root.join(path)
        }
    }

    /// `path` (clean, relative to the root) on disk.
    pub fn stat(&self, path: &str) -> Stat {
        let place = listable(path);
        if let Some(stat) = self.kept(path, place) {
            return stat;
        }
        // Nothing is in a directory that is not there: its one `lstat` answers for every
        // name under it (`COPY src/f1 …` for a million files without `src`, or the go.mod
        // and pyproject.toml a rule looks for beside each of them).
        if let Some((parent, _)) = place.filter(|(parent, _)| *parent != ".") {
            let missing = directories_above(parent)
                .take(MAX_DIRECTORIES_ABOVE)
                .any(|dir| !self.stat_in_place(dir).exists);
            if missing {
                return Stat::MISSING;
            }
        }
        self.ask(path, place)
    }

    /// `path` on disk, without asking about its directory first.
    fn stat_in_place(&self, path: &str) -> Stat {
        let place = listable(path);
        self.kept(path, place)
            .unwrap_or_else(|| self.ask(path, place))
    }

    /// What is known of `path` without the disk: missing from the listing this thread last
    /// answered from, or asked before. (A name a listing lacks is not kept, so the listing
    /// is asked first.) `place` is its [`listable`] directory and name.
    fn kept(&self, path: &str, place: Option<(&str, &str)>) -> Option<Stat> {
        if let Some((parent, name)) = place {
            if self.last_listing_holds(parent, name) == Some(false) {
                return Some(Stat::MISSING);
            }
        }
        self.known(path)
    }

    /// What the disk said of `path` when it was asked before.
    fn known(&self, path: &str) -> Option<Stat> {
        self.stats
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(path)
            .copied()
    }

    /// `path` from its directory's listing, or else from the disk, whose answer is kept;
    /// `place` is its [`listable`] directory and name.
    fn ask(&self, path: &str, place: Option<(&str, &str)>) -> Stat {
        if let Some((parent, name)) = place {
            let listings = self.listings.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(Listing::Names(names)) = listings.get(parent) {
                LAST_LISTING.set(Some(LastListing {
                    disk: self.id,
                    dir: parent.into(),
                    names: Arc::clone(names),
                }));
                if !holds(names, name) {
                    return Stat::MISSING;
                }
            }
        }
        // The disk is asked without the lock: rules on other threads go on reading.
        let stat = Stat::of(&self.full(path));
        self.stats
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(path.to_string(), stat);
        if let (false, Some((parent, _))) = (stat.exists, place) {
            self.missed_in(parent);
        }
        stat
    }

    /// The entries of directory `dir`, read on the first ask.
    pub fn directory(&self, dir: &str) -> Option<Arc<Directory>> {
        let known = self
            .directories
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(dir)
            .cloned();
        if let Some(directory) = known {
            return directory;
        }
        let directory = self
            .stat(dir)
            .is_dir()
            .then(|| Directory::read(&self.full(dir)))
            .flatten()
            .map(Arc::new);
        self.directories
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(dir.to_string(), directory.clone());
        directory
    }

    /// Whether `parent` holds `name`, if this thread answered from its listing last (no
    /// lock, and no count of the listing's owners, is touched).
    fn last_listing_holds(&self, parent: &str, name: &str) -> Option<bool> {
        LAST_LISTING.with_borrow(|last| match last {
            Some(last) if last.disk == self.id && *last.dir == *parent => {
                Some(holds(&last.names, name))
            }
            _ => None,
        })
    }

    /// Counts a name the disk did not find in `parent`, and lists `parent` once the misses
    /// pay for it: names that are there need their `stat` anyway.
    fn missed_in(&self, parent: &str) {
        let misses = {
            let mut listings = self
                .listings
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let Some(listing) = listings.get_mut(parent) else {
                let first = Listing::Pending {
                    misses: 1,
                    next: LIST_AFTER,
                };
                listings.insert(parent.to_string(), first);
                return;
            };
            let Listing::Pending { misses, next } = listing else {
                return;
            };
            *misses += 1;
            if *misses < *next {
                return;
            }
            *misses
        };
        let listing = list(&self.full(parent), misses as usize * ENTRIES_PER_MISS);
        let mut listings = self
            .listings
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        match listing {
            Some(listing) => {
                listings.insert(parent.to_string(), listing);
            }
            None => {
                if let Some(Listing::Pending { misses, next }) = listings.get_mut(parent) {
                    *next = misses.saturating_mul(2);
                }
            }
        }
    }
}

/// Directories above a path that are asked about before it, the top ones: a path of many
/// parts costs no more than its length.
const MAX_DIRECTORIES_ABOVE: usize = 8;

/// `parent` and the directories above it, from the top: `a`, `a/b`, `a/b/c` for `a/b/c`.
fn directories_above(parent: &str) -> impl Iterator<Item = &str> {
    parent
        .match_indices('/')
        .map(|(at, _)| &parent[..at])
        .chain(std::iter::once(parent))
}

/// The directory and name of `path`, when a listing of the directory can answer for it.
fn listable(path: &str) -> Option<(&str, &str)> {
    let (parent, name) = match path.rfind('/') {
        Some(at) => (&path[..at], &path[at + 1..]),
        None => (".", path),
    };
    // Unix only: elsewhere a name can reach an entry of another name (Windows drops
    // trailing dots, and has short names).
    let plain = name.is_ascii() && !matches!(name, "" | "." | "..") && !parent.is_empty();
    (cfg!(unix) && plain).then_some((parent, name))
}

/// Whether `names` (lowercased) holds `name` in any ASCII case.
fn holds(names: &Names, name: &str) -> bool {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        names.contains(name.to_ascii_lowercase().as_str())
    } else {
        names.contains(name)
    }
}

/// The listing of the directory `full`; `None` when it has more than `budget` entries.
fn list(full: &Path, budget: usize) -> Option<Listing> {
    let entries = match fs::read_dir(full) {
        Ok(entries) => entries,
        // Nothing can be inside a missing directory, or inside a file.
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            return Some(Listing::Names(Arc::default()));
        }
        Err(_) => return Some(Listing::DiskOnly),
    };
    let mut names = Names::default();
    for entry in entries {
        if names.len() >= budget {
            return None;
        }
        let Ok(entry) = entry else {
            return Some(Listing::DiskOnly);
        };
        match entry.file_name().to_str() {
            Some(name) if name.is_ascii() => {
                names.insert(name.to_ascii_lowercase().into_boxed_str());
            }
            _ => return Some(Listing::DiskOnly),
        }
    }
    Some(Listing::Names(Arc::new(names)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("docklint-disk-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("d")).unwrap();
        dir
    }

    #[test]
    fn listed_answers_agree_with_the_disk() {
        let root = scratch("agree");
        for i in 0..10 {
            fs::write(root.join(format!("d/f{i}")), "x").unwrap();
        }
        fs::write(root.join("Upper"), "x").unwrap();
        fs::create_dir(root.join("d/sub")).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("f1", root.join("d/link")).unwrap();
            std::os::unix::fs::symlink("nowhere", root.join("d/dangling")).unwrap();
        }
        let asked = |disk: &Disk, path: &str| (disk.stat(path), Stat::of(&disk.full(path)));
        let disk = Disk::new(&root);
        // Enough asks that every directory asked about is listed, then the same again.
        for round in 0..2 {
            for i in 0..200 {
                for path in [
                    format!("d/f{}", i % 12),
                    format!("d/missing{i}"),
                    format!("missing{i}"),
                    format!("nodir/x{i}"),
                    format!("Upper/x{i}"),
                    "Upper".to_string(),
                    "upper".to_string(),
                    "d/sub".to_string(),
                    "d/link".to_string(),
                    "d/dangling".to_string(),
                    "d/LINK".to_string(),
                ] {
                    let (answer, disk_says) = asked(&disk, &path);
                    assert_eq!(answer, disk_says, "{path} (round {round})");
                }
            }
        }
        let listings = disk.listings.read().unwrap();
        for dir in [".", "d", "Upper"] {
            assert!(
                matches!(listings.get(dir), Some(Listing::Names(_))),
                "{dir} was not listed"
            );
        }
        // A missing directory's one `lstat` answered for every name in it.
        assert!(listings.get("nodir").is_none());
        let stats = disk.stats.read().unwrap();
        assert!(stats.contains_key("nodir"));
        assert!(!stats.keys().any(|path| path.starts_with("nodir/")));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_directory_is_read_once_for_names_alike_and_prefixes() {
        let root = scratch("alike");
        for name in ["d/Readme.md", "d/README.md", "d/other", "d/re", "file"] {
            fs::write(root.join(name), "").unwrap();
        }
        let disk = Disk::new(&root);
        let alike = |dir: &str, name: &str| {
            disk.directory(dir)
                .and_then(|d| d.named_alike(name).map(str::to_string))
        };
        // The first in sorted order, the name itself included; none in what is no directory.
        assert_eq!(alike("d", "readme.MD").as_deref(), Some("README.md"));
        assert_eq!(alike("d", "Readme.md").as_deref(), Some("README.md"));
        assert_eq!(alike(".", "FILE").as_deref(), Some("file"));
        assert_eq!(alike("d", "missing"), None);
        assert!(disk.directory("nodir").is_none() && disk.directory("file").is_none());
        let d = disk.directory("d").unwrap();
        assert_eq!(d.starting_with("R"), ["README.md", "Readme.md"]);
        assert_eq!(d.starting_with("re"), ["re"]);
        assert_eq!(d.starting_with(""), d.names.as_slice());
        assert!(d.starting_with("x").is_empty());
        // Read once: a name written later is not seen.
        fs::write(root.join("d/Later"), "").unwrap();
        assert_eq!(alike("d", "later"), None);
        fs::remove_dir_all(&root).unwrap();
    }

    /// A thread answers from the listing it used last only for the same disk: two contexts
    /// with a directory of the same name, linted one after the other, do not mix.
    #[test]
    fn a_listing_answers_for_its_own_disk_only() {
        let (first, second) = (scratch("own-a"), scratch("own-b"));
        fs::write(first.join("d/a"), "").unwrap();
        fs::write(second.join("d/b"), "").unwrap();
        let misses = |disk: &Disk| {
            for i in 0..2 * LIST_AFTER {
                assert!(!disk.stat(&format!("d/missing{i}")).exists);
            }
        };
        let disk = Disk::new(&first);
        misses(&disk);
        assert!(disk.stat("d/a").exists && !disk.stat("d/b").exists);
        drop(disk);
        let disk = Disk::new(&second);
        assert!(disk.stat("d/b").exists && !disk.stat("d/a").exists);
        misses(&disk);
        assert!(disk.stat("d/b").exists && !disk.stat("d/a").exists);
        for root in [first, second] {
            fs::remove_dir_all(root).unwrap();
        }
    }

    #[test]
    fn a_directory_is_listed_only_once_its_misses_pay_for_it() {
        let root = scratch("large");
        let entries = LIST_AFTER as usize * ENTRIES_PER_MISS + 1;
        for i in 0..entries {
            fs::write(root.join(format!("d/f{i}")), "").unwrap();
        }
        let disk = Disk::new(&root);
        let state = |disk: &Disk| match disk.listings.read().unwrap().get("d") {
            Some(Listing::Pending { misses, next }) => format!("pending {misses}/{next}"),
            Some(Listing::Names(names)) => format!("listed {}", names.len()),
            Some(Listing::DiskOnly) => "disk".to_string(),
            None => "none".to_string(),
        };
        // Names that are there need their `stat` anyway: a listing would be wasted.
        for i in 0..entries {
            assert_eq!(disk.stat(&format!("d/f{i}")).file_len(), Some(0));
        }
        assert_eq!(state(&disk), "none");
        for i in 0..LIST_AFTER {
            assert!(!disk.stat(&format!("d/missing{i}")).exists);
        }
        assert_eq!(
            state(&disk),
            format!("pending {LIST_AFTER}/{}", 2 * LIST_AFTER)
        );
        for i in LIST_AFTER..2 * LIST_AFTER {
            assert!(!disk.stat(&format!("d/missing{i}")).exists);
        }
        assert_eq!(state(&disk), format!("listed {entries}"));
        assert!(disk.stat("d/f7").exists);
        fs::remove_dir_all(&root).unwrap();
    }
}
