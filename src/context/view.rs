//! What rules see of a build context: its `.dockerignore`, the paths on disk, what the build
//! sends, and a summary of the sent tree ([`ContextIndex`]) made by one walk, shared by every
//! Dockerfile that uses the same context and `.dockerignore`.
//!
//! Paths are relative to the context root, `/`-separated and clean (`.` is the root), as
//! [`crate::model::context_reads`] gives them. Files that fixes edited are read from the
//! [`Overlay`], so a rule sees the `.dockerignore` a fix has just written.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::disk::Disk;
use super::walk::{self, DirTotal, Notable};
use super::{dockerignore, Entry, Unreadable};
use crate::fix::{Edit, FileEdit};
use crate::model::context_reads::{has_wildcard, ContextSource};
use crate::model::path_is_within;
use crate::syntax::dockerignore::{DockerIgnore, DockerIgnoreError};
use crate::syntax::wildcard::matches_in_one_pass;

/// Files as fixes left them, by path: read instead of the disk.
pub type Overlay = BTreeMap<PathBuf, String>;

/// How many of the largest sent files the index keeps.
const LARGEST_INDEXED: usize = 32;
/// Files larger than this are not read as text by [`BuildContext::read_text`].
pub const MAX_TEXT_BYTES: u64 = 1024 * 1024;
/// Paths a `--parents` pattern is tried on before its expansion is given up as unknown.
const MAX_PARENTS_SCAN: usize = 100_000;
/// Contexts (root and `.dockerignore` text) a cache remembers at most.
const MAX_CACHED: usize = 64;

/// The sent tree of a context, summarised: totals per directory, the entries the knowledge
/// table names, model weights, the largest files. Its size grows with directories and
/// named entries, not with files.
#[derive(Debug, Default)]
pub struct ContextIndex {
    /// Directories holding sent files, by path.
    pub dirs: Vec<DirTotal>,
    /// Named entries (`.git`, `node_modules`, `.env`, ...), by path, outermost only.
    pub notable: Vec<Notable>,
    pub weights: Vec<Entry>,
    /// The largest sent files, largest first.
    pub largest: Vec<Entry>,
    pub unreadable: Vec<Unreadable>,
    pub files: u64,
    pub bytes: u64,
}

impl ContextIndex {
    /// The directory totals at or under `dir`.
    pub fn dirs_under(&self, dir: &str) -> &[DirTotal] {
        if dir == "." {
            return &self.dirs;
        }
        // Sorted paths that start with `dir` are contiguous; siblings such as `dir-x` are
        // among them, and `sent_under` filters them out.
        let start = self.dirs.partition_point(|d| d.path.as_str() < dir);
        let end = start + self.dirs[start..].partition_point(|d| d.path.starts_with(dir));
        &self.dirs[start..end]
    }

    /// Files and bytes sent at or under the directory `dir`.
    pub fn sent_under(&self, dir: &str) -> (u64, u64) {
        self.dirs_under(dir)
            .iter()
            .filter(|d| dir == "." || path_is_within(&d.path, dir))
            .fold((0, 0), |(f, b), d| (f + d.files, b + d.bytes))
    }

    /// The bytes sent under a notable directory, or a file's own.
    pub fn notable_bytes(&self, notable: &Notable) -> u64 {
        if notable.is_dir {
            self.sent_under(&notable.path).1
        } else {
            notable.bytes
        }
    }
}

type CacheKey = (PathBuf, Option<String>);
/// An index made once, by whichever file needs it first.
type SharedIndex = Arc<OnceLock<Arc<ContextIndex>>>;

/// Indexes already made, by context root and `.dockerignore` text, and `.dockerignore`
/// files already compiled, by text (every Dockerfile of a directory shares one); cloning
/// shares it.
#[derive(Clone, Default)]
pub struct ContextCache {
    indexes: Arc<Mutex<HashMap<CacheKey, SharedIndex>>>,
    compiled: Arc<Mutex<HashMap<String, Parsed>>>,
}

type Parsed = Result<DockerIgnore, DockerIgnoreError>;

impl fmt::Debug for ContextCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContextCache")
    }
}

impl ContextCache {
    fn slot(&self, key: CacheKey) -> Arc<OnceLock<Arc<ContextIndex>>> {
        let mut map = self.indexes.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_CACHED && !map.contains_key(&key) {
            map.clear();
        }
        Arc::clone(map.entry(key).or_default())
    }

    /// `text` compiled, once per text (compiling its patterns cost a tenth of a corpus run).
    fn compile(&self, text: &str) -> Parsed {
        if let Some(parsed) = self
            .compiled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(text)
        {
            return parsed.clone();
        }
        let parsed = DockerIgnore::parse(text);
        let mut map = self.compiled.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_CACHED {
            map.clear();
        }
        map.insert(text.to_string(), parsed.clone());
        parsed
    }
}

/// The `.dockerignore` in effect.
#[derive(Debug)]
pub struct IgnoreFile {
    pub path: PathBuf,
    pub text: String,
    /// Docker's verdict on it: a rejected file fails every build.
    pub parsed: Result<DockerIgnore, DockerIgnoreError>,
}

/// A Dockerfile's build context, as rules see it.
pub struct BuildContext {
    root: PathBuf,
    ignore_file: Option<IgnoreFile>,
    /// The matcher in effect: the file's, or an empty one.
    ignore: DockerIgnore,
    overlay: Overlay,
    cache: Option<ContextCache>,
    index: OnceLock<Arc<ContextIndex>>,
    /// What the disk says of the paths rules ask about.
    disk: Disk,
}

impl fmt::Debug for BuildContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuildContext")
            .field("root", &self.root)
            .field("dockerignore", &self.ignore_file.as_ref().map(|i| &i.path))
            .finish()
    }
}

impl BuildContext {
    /// The context at `root` for `dockerfile` (whose `<name>.dockerignore` wins over the
    /// root's `.dockerignore`), reading edited files from `overlay`. `None` when `root` is
    /// not a directory.
    pub fn open(
        root: &Path,
        dockerfile: Option<&Path>,
        overlay: &Overlay,
        cache: Option<&ContextCache>,
    ) -> Option<BuildContext> {
        if !root.is_dir() {
            return None;
        }
        let ignore_file = locate(root, dockerfile, overlay).and_then(|path| {
            let text = match overlay.get(&path) {
                Some(text) => text.clone(),
                None => String::from_utf8_lossy(&fs::read(&path).ok()?).into_owned(),
            };
            let parsed = match cache {
                Some(cache) => cache.compile(&text),
                None => DockerIgnore::parse(&text),
            };
            Some(IgnoreFile { path, text, parsed })
        });
        let ignore = match &ignore_file {
            Some(IgnoreFile {
                parsed: Ok(ignore), ..
            }) => ignore.clone(),
            _ => DockerIgnore::default(),
        };
        Some(BuildContext {
            root: root.to_path_buf(),
            ignore_file,
            ignore,
            overlay: overlay.clone(),
            cache: cache.cloned(),
            index: OnceLock::new(),
            disk: Disk::new(root),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The `.dockerignore` in effect, if any.
    pub fn dockerignore(&self) -> Option<&IgnoreFile> {
        self.ignore_file.as_ref()
    }

    /// The `.dockerignore` exists but Docker rejects it: every build fails, and nothing can
    /// be said of what it sends.
    pub fn dockerignore_rejected(&self) -> bool {
        self.ignore_file.as_ref().is_some_and(|f| f.parsed.is_err())
    }

    /// The matcher in effect (empty without a `.dockerignore`).
    pub fn ignore(&self) -> &DockerIgnore {
        &self.ignore
    }

    fn full(&self, path: &str) -> PathBuf {
        self.disk.full(path)
    }

    /// Whether `path` exists in the context directory (a link counts, whatever it points to).
    pub fn exists(&self, path: &str) -> bool {
        self.disk.stat(path).exists
    }

    /// The entry of directory `dir` named `name` but for case (the first in sorted order).
    pub fn named_alike(&self, dir: &str, name: &str) -> Option<String> {
        Some(self.disk.directory(dir)?.named_alike(name)?.to_string())
    }

    /// Whether `path` is a directory (following links, as COPY does for its sources).
    pub fn is_dir(&self, path: &str) -> bool {
        self.disk.stat(path).is_dir()
    }

    /// Whether the `.dockerignore` leaves `path` out (as the build's walk decides).
    pub fn is_excluded(&self, path: &str) -> bool {
        path != "." && self.ignore.is_excluded_in_walk(path)
    }

    /// Whether the build receives anything at `path`: a file that is not excluded, or a
    /// directory with something sent in it (or itself not excluded).
    pub fn is_sent(&self, path: &str) -> bool {
        if !self.exists(path) {
            return false;
        }
        if !self.is_excluded(path) {
            return true;
        }
        self.is_dir(path)
            && self.ignore.may_reinclude_under(path)
            && self.index().sent_under(path).0 > 0
    }

    /// Whether the build receives a file (or, with `dir`, a directory) at `path`, written
    /// relative to the context (`./` and a trailing `/` allowed; never above the root).
    pub fn sends(&self, path: &str, dir: bool) -> bool {
        let path = path.trim_start_matches("./").trim_end_matches('/');
        if path.is_empty() || path.split('/').any(|c| c == "..") {
            return false;
        }
        self.is_dir(path) == dir && self.is_sent(path)
    }

    /// The text of a sent file (at most [`MAX_TEXT_BYTES`]; invalid UTF-8 replaced), as
    /// fixes left it. `None` for a file that is missing, excluded, a directory or too big.
    pub fn read_text(&self, path: &str) -> Option<String> {
        let full = self.full(path);
        if let Some(text) = self.overlay.get(&full) {
            return Some(text.clone());
        }
        if self.is_excluded(path) {
            return None;
        }
        if self.disk.stat(path).file_len()? > MAX_TEXT_BYTES {
            return None;
        }
        Some(String::from_utf8_lossy(&fs::read(&full).ok()?).into_owned())
    }

    /// The summary of what is sent, made on first use (one walk per context and
    /// `.dockerignore`, shared through the cache).
    pub fn index(&self) -> &ContextIndex {
        self.index.get_or_init(|| {
            let build = || Arc::new(self.build_index());
            match &self.cache {
                Some(cache) => {
                    let key = (
                        self.root.clone(),
                        self.ignore_file.as_ref().map(|f| f.text.clone()),
                    );
                    Arc::clone(cache.slot(key).get_or_init(build))
                }
                None => build(),
            }
        })
    }

    fn build_index(&self) -> ContextIndex {
        let options = walk::Options {
            keep_files: false,
            measure_excluded: false,
            largest: LARGEST_INDEXED,
        };
        let walked = walk::walk(&self.root, &self.ignore, options);
        ContextIndex {
            dirs: walked.dirs,
            notable: walked.notable,
            weights: walked.weights,
            largest: walked.largest,
            unreadable: walked.unreadable,
            files: walked.files,
            bytes: walked.bytes,
        }
    }

    /// The paths on disk a COPY source names: itself, or what its wildcards match (Go's
    /// `filepath.Match`, one path segment at a time, as BuildKit resolves them). With
    /// `--parents`, wildcards are patterns over whole paths (`**` included). Excluded paths
    /// are included; `None` when the expansion was given up (too many paths to try).
    pub fn expand(&self, source: &ContextSource, parents: bool) -> Option<Vec<String>> {
        let path = source.path.as_deref()?;
        if !has_wildcard(path) {
            return Some(if self.exists(path) {
                vec![path.to_string()]
            } else {
                Vec::new()
            });
        }
        if parents {
            return self.expand_pattern(path);
        }
        let mut found = vec![String::from(".")];
        for segment in path.split('/') {
            let mut next = Vec::new();
            if !has_wildcard(segment) {
                for dir in &found {
                    let candidate = walk::join(if dir == "." { "" } else { dir }, segment);
                    if self.exists(&candidate) {
                        next.push(candidate);
                    }
                }
            } else {
                // Read once for every directory it is tried in; a malformed one matches
                // nothing.
                let Some(pattern) = GoPattern::parse(segment) else {
                    return Some(Vec::new());
                };
                let prefix = pattern.literal_prefix();
                for dir in &found {
                    let Some(entries) = self.disk.directory(dir) else {
                        continue;
                    };
                    for name in entries.starting_with(&prefix) {
                        if pattern.matches(name) {
                            next.push(walk::join(if dir == "." { "" } else { dir }, name));
                        }
                    }
                }
            }
            found = next;
        }
        found.sort();
        Some(found)
    }

    /// `--parents` sources: every path under the pattern's literal directories that the
    /// pattern matches as an include pattern does (patternmatcher, parents matching).
    fn expand_pattern(&self, pattern: &str) -> Option<Vec<String>> {
        let matcher = DockerIgnore::from_patterns(&[pattern]).ok()?;
        let segments: Vec<&str> = pattern.split('/').collect();
        let literal = segments.iter().take_while(|s| !has_wildcard(s)).count();
        let start = if literal == 0 {
            ".".to_string()
        } else {
            segments[..literal].join("/")
        };
        // In the pattern's first directory, only names that start with the literal text of
        // its next segment can match, or hold a match.
        let first_prefix = segments.get(literal).map_or("", |s| {
            &s[..s.find(['*', '?', '[', '\\']).unwrap_or(s.len())]
        });
        let mut found = Vec::new();
        let mut pending = vec![(start, first_prefix)];
        let mut tried = 0;
        while let Some((dir, prefix)) = pending.pop() {
            let Some(entries) = self.disk.directory(&dir) else {
                continue;
            };
            for name in entries.starting_with(prefix) {
                tried += 1;
                if tried > MAX_PARENTS_SCAN {
                    return None;
                }
                let path = walk::join(if dir == "." { "" } else { &dir }, name);
                if matcher.is_excluded(&path) {
                    found.push(path);
                } else {
                    // Into directories, not links to them.
                    let stat = self.disk.stat(&path);
                    if stat.is_dir() && !stat.link {
                        pending.push((path, ""));
                    }
                }
            }
        }
        found.sort();
        Some(found)
    }

    /// What the given sources send, together: the paths they name (wildcards expanded,
    /// nested ones dropped) and the files and bytes under them.
    pub fn reach<'s>(&self, sources: impl IntoIterator<Item = (&'s ContextSource, bool)>) -> Reach {
        let mut roots: Vec<String> = Vec::new();
        let mut unknown = false;
        for (source, parents) in sources {
            match self.expand(source, parents) {
                Some(paths) => roots.extend(paths),
                None => unknown = true,
            }
        }
        roots.sort();
        roots.dedup();
        let mut kept: Vec<String> = Vec::new();
        for root in roots {
            // Sorted: a root's ancestors come before it, so `kept` is sorted too.
            if !within_any(&root, &kept) {
                kept.push(root);
            }
        }
        let index = self.index();
        let (mut files, mut bytes) = (0, 0);
        for root in &kept {
            let stat = self.disk.stat(root);
            if stat.is_dir() && !stat.link {
                let (f, b) = index.sent_under(root);
                files += f;
                bytes += b;
            } else if let Some(target) = stat.target.filter(|_| !self.is_excluded(root)) {
                files += 1;
                bytes += target.len;
            }
        }
        Reach {
            roots: kept,
            unknown,
            files,
            bytes,
        }
    }

    /// A path for messages: relative to the context root when inside it, else its name.
    pub fn display(&self, path: &Path) -> String {
        match path.strip_prefix(&self.root) {
            Ok(relative) if !relative.as_os_str().is_empty() => relative.display().to_string(),
            _ => path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
        }
    }

    /// Where a fix edits the `.dockerignore`: the one in effect, or a new one at the root.
    pub fn dockerignore_target(&self) -> PathBuf {
        self.ignore_file
            .as_ref()
            .map_or_else(|| self.root.join(".dockerignore"), |f| f.path.clone())
    }

    /// An edit that adds `lines` at the end of the `.dockerignore` (creating it when there
    /// is none), in the file's line endings.
    pub fn append_to_dockerignore(&self, lines: &[String]) -> FileEdit {
        let text = self.ignore_file.as_ref().map_or("", |f| f.text.as_str());
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let mut content = String::new();
        if !text.is_empty() && !text.ends_with('\n') {
            content.push_str(newline);
        }
        for line in lines {
            content.push_str(line);
            content.push_str(newline);
        }
        FileEdit::new(
            self.dockerignore_target(),
            text,
            Edit::insert(text.len(), content),
        )
    }
}

/// The `.dockerignore` BuildKit would use, counting the files fixes created.
fn locate(root: &Path, dockerfile: Option<&Path>, overlay: &Overlay) -> Option<PathBuf> {
    let beside = dockerfile.and_then(|file| {
        let mut name = file.file_name()?.to_os_string();
        name.push(".dockerignore");
        Some(file.with_file_name(name))
    });
    let at_root = root.join(".dockerignore");
    beside
        .into_iter()
        .chain([at_root])
        .find(|c| overlay.contains_key(c) || c.is_file())
        .or_else(|| dockerignore::locate(dockerfile, root))
}

/// What a set of context reads sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    /// The paths read whole (`.` for the whole context), outermost only, sorted.
    pub roots: Vec<String>,
    /// A wildcard's expansion was given up: more may be sent.
    pub unknown: bool,
    pub files: u64,
    pub bytes: u64,
}

impl Reach {
    /// Whether `path` is sent by these reads (it is a root or inside one).
    pub fn covers(&self, path: &str) -> bool {
        within_any(path, &self.roots)
    }
}

/// Whether `path` is one of `sorted` (clean context paths, sorted) or lies inside one, `.`
/// holding everything: a lookup of each of its ancestors, not a pass over the list (a file
/// can COPY a million paths).
fn within_any(path: &str, sorted: &[String]) -> bool {
    let listed = |p: &str| sorted.binary_search_by(|s| s.as_str().cmp(p)).is_ok();
    let ancestors = path.match_indices('/').map(|(at, _)| &path[..at]);
    listed(".") || ancestors.chain([path]).any(listed)
}

/// A pattern of Go's `filepath.Match` for one path segment: `*` any run, `?` one
/// character, `[...]` a class (`^` negates, ranges, `\` escapes). Read once for all the
/// names it is tried on.
#[derive(Debug)]
pub struct GoPattern {
    parts: Vec<Part>,
}

#[derive(Debug)]
enum Part {
    Star,
    Any,
    Char(char),
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl GoPattern {
    /// `None` for a pattern Go rejects (`ErrBadPattern`).
    pub fn parse(pattern: &str) -> Option<GoPattern> {
        let pattern: Vec<char> = pattern.chars().collect();
        let mut rest = pattern.as_slice();
        let mut parts = Vec::new();
        while let Some(&c) = rest.first() {
            let (part, after) = match c {
                '*' => (Part::Star, &rest[1..]),
                '?' => (Part::Any, &rest[1..]),
                '[' => class(&rest[1..])?,
                '\\' => (Part::Char(*rest.get(1)?), &rest[2..]),
                c => (Part::Char(c), &rest[1..]),
            };
            parts.push(part);
            rest = after;
        }
        Some(GoPattern { parts })
    }

    /// Whether `name` matches, in one pass ([`matches_in_one_pass`]).
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        let parts = &self.parts;
        matches_in_one_pass(
            &name,
            parts.len(),
            |p| matches!(parts[p], Part::Star),
            |p, c| parts[p].accepts(c).then_some(p + 1),
        )
    }

    /// The text every name it matches starts with.
    pub fn literal_prefix(&self) -> String {
        self.parts
            .iter()
            .map_while(|part| match part {
                Part::Char(c) => Some(*c),
                _ => None,
            })
            .collect()
    }
}

impl Part {
    fn accepts(&self, c: char) -> bool {
        match self {
            Part::Star => false,
            Part::Any => true,
            Part::Char(own) => *own == c,
            Part::Class { negated, ranges } => {
                ranges.iter().any(|&(low, high)| low <= c && c <= high) != *negated
            }
        }
    }
}

/// A class after its `[`, and the pattern after its `]`.
fn class(pattern: &[char]) -> Option<(Part, &[char])> {
    let (negated, mut rest) = match pattern.first() {
        Some('^') => (true, &pattern[1..]),
        _ => (false, pattern),
    };
    let mut ranges = Vec::new();
    loop {
        match rest.first() {
            None => return None,
            Some(']') if !ranges.is_empty() => {
                return Some((Part::Class { negated, ranges }, &rest[1..]))
            }
            _ => {}
        }
        let (low, after) = class_char(rest)?;
        let (high, after) = match after.first() {
            Some('-') => class_char(&after[1..])?,
            _ => (low, after),
        };
        ranges.push((low, high));
        rest = after;
    }
}

fn class_char(pattern: &[char]) -> Option<(char, &[char])> {
    match pattern.first() {
        None | Some('-') | Some(']') => None,
        Some('\\') => Some((*pattern.get(1)?, &pattern[2..])),
        Some(&c) => Some((c, &pattern[1..])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::paths::every_joining;

    #[test]
    fn a_path_is_within_a_sorted_root_as_path_is_within_says() {
        // Siblings that sort between a directory and its contents (`a-x`, `a.txt`) too.
        let paths = [
            "a", "a-x", "a.txt", "a/b", "a/b/c", "ab", "b", "b/a", "z/y/x",
        ];
        for roots in [
            &["a"][..],
            &["a-x", "b/a"],
            &["a/b", "ab"],
            &["-x", "."],
            &[],
        ] {
            let roots: Vec<String> = roots.iter().map(|r| r.to_string()).collect();
            for path in paths {
                let scanned = roots.iter().any(|r| r == "." || path_is_within(path, r));
                assert_eq!(within_any(path, &roots), scanned, "{path} in {roots:?}");
            }
        }
    }

    /// Go's `filepath.Match` on one path segment; `None` for a malformed pattern.
    fn go_match(pattern: &str, name: &str) -> Option<bool> {
        Some(GoPattern::parse(pattern)?.matches(name))
    }

    /// What a pattern means, tried every way: every split of the name at every `*`.
    fn by_search(parts: &[Part], name: &[char]) -> bool {
        match parts.first() {
            None => name.is_empty(),
            Some(Part::Star) => (0..=name.len()).any(|k| by_search(&parts[1..], &name[k..])),
            Some(part) => {
                name.first().is_some_and(|&c| part.accepts(c)) && by_search(&parts[1..], &name[1..])
            }
        }
    }

    #[test]
    fn patterns_match_as_a_search_of_every_split_does() {
        let patterns = every_joining(&["*", "a", "b", "?", "[ab]", "[^a]", "\\*"], 4);
        let names = every_joining(&["a", "b", "*", "é"], 4);
        for pattern in &patterns {
            let parsed = GoPattern::parse(pattern).unwrap();
            for name in &names {
                let chars: Vec<char> = name.chars().collect();
                assert_eq!(
                    parsed.matches(name),
                    by_search(&parsed.parts, &chars),
                    "{pattern} {name}"
                );
            }
        }
        // Many stars that all fail: a search of every split takes 2^stars steps.
        let pattern = GoPattern::parse(&format!("{}*b", "*a".repeat(30))).unwrap();
        assert!(!pattern.matches(&"a".repeat(200)));
        assert!(pattern.matches(&format!("{}b", "a".repeat(200))));
        assert_eq!(GoPattern::parse("ab[c]*").unwrap().literal_prefix(), "ab");
        assert_eq!(GoPattern::parse("a\\*b*").unwrap().literal_prefix(), "a*b");
    }

    /// Every path under `start` that `pattern` matches as `--parents` does, found by
    /// walking everything there (links not followed).
    fn parents_by_walk(root: &Path, start: &str, pattern: &str) -> Vec<String> {
        let matcher = DockerIgnore::from_patterns(&[pattern]).unwrap();
        let mut found = Vec::new();
        let mut pending = vec![start.to_string()];
        while let Some(dir) = pending.pop() {
            let Ok(entries) = fs::read_dir(root.join(&dir)) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = walk::join(&dir, &entry.file_name().to_string_lossy());
                if matcher.is_excluded(&path) {
                    found.push(path);
                } else if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    pending.push(path);
                }
            }
        }
        found.sort();
        found
    }

    #[test]
    fn parents_patterns_find_what_a_walk_of_everything_finds() {
        let root = std::env::temp_dir().join(format!("docklint-parents-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for file in [
            "src/a1/x",
            "src/a2/x",
            "src/b1/x",
            "src/m5x/x",
            "src/a1/deep/x",
            "src/ab/y",
        ] {
            fs::create_dir_all(root.join(file).parent().unwrap()).unwrap();
            fs::write(root.join(file), "").unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink("a1", root.join("src/a3")).unwrap();
        let context = BuildContext::open(&root, None, &Overlay::new(), None).unwrap();
        for pattern in [
            "src/a*/x",
            "src/m5*/x",
            "src/*/x",
            "src/**/x",
            "src/[ab]1/x",
            "src/a?/x",
            "src/?1/x",
            "src/a*",
            "src/*1/*/x",
            "*/a1/x",
            "src/z*/x",
        ] {
            assert_eq!(
                context.expand_pattern(pattern),
                Some(parents_by_walk(
                    &root,
                    if pattern.starts_with('*') { "" } else { "src" },
                    pattern
                )),
                "{pattern}"
            );
        }
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn go_filepath_match() {
        for (pattern, name, want) in [
            ("*", "abc", Some(true)),
            ("*", ".env", Some(true)),
            ("a*c", "abbc", Some(true)),
            ("a?c", "abc", Some(true)),
            ("a?c", "ac", Some(false)),
            ("[a-c]x", "bx", Some(true)),
            ("[^a-c]x", "bx", Some(false)),
            ("[!a]x", "!x", Some(true)),
            ("\\*", "*", Some(true)),
            ("\\*", "x", Some(false)),
            ("*.lock*", "yarn.lock", Some(true)),
            ("[", "x", None),
            ("[]", "x", None),
        ] {
            assert_eq!(go_match(pattern, name), want, "{pattern} {name}");
        }
    }

    #[test]
    fn dirs_under_skips_siblings_sorting_between() {
        let index = ContextIndex {
            dirs: ["a", "a-b", "a/b", "a/c", "ab"]
                .iter()
                .map(|p| DirTotal {
                    path: p.to_string(),
                    files: 1,
                    bytes: 10,
                })
                .collect(),
            ..ContextIndex::default()
        };
        assert_eq!(index.sent_under("a"), (3, 30));
        assert_eq!(index.sent_under("."), (5, 50));
        assert_eq!(index.sent_under("a/b"), (1, 10));
        assert_eq!(index.sent_under("zz"), (0, 0));
    }
}
