//! Paths as RUN commands name them: exact, glob patterns, or unknown; and how they relate
//! to a directory (a cache mount target, a home, the shell binary).

use std::collections::BTreeMap;
use std::ops::Bound;

use smallvec::SmallVec;

use crate::syntax::wildcard::matches_in_one_pass;

/// A path a command touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPattern {
    Exact(String),
    /// A glob (`*`, `?`, `[…]`) the shell expands.
    Glob(String),
    /// A word docklint cannot resolve (an unknown variable, a substitution).
    Unknown,
}

impl PathPattern {
    /// Whether removing this path (recursively) may remove `target` or a directory above it.
    pub fn may_remove(&self, target: &str) -> bool {
        match self {
            PathPattern::Exact(path) => path_is_within(target, path),
            PathPattern::Glob(glob) => ancestors(target).any(|a| glob_matches(glob, a)),
            PathPattern::Unknown => true,
        }
    }

    /// Whether this path and `target` may be one inside the other (or the same).
    pub fn may_overlap(&self, target: &str) -> bool {
        match self {
            PathPattern::Exact(path) => {
                path_is_within(target, path) || path_is_within(path, target)
            }
            PathPattern::Glob(glob) => {
                ancestors(target).any(|a| glob_matches(glob, a))
                    || path_is_within(&literal_prefix(glob), target)
            }
            PathPattern::Unknown => true,
        }
    }

    /// Whether this path may be `target` or inside it.
    pub fn may_be_within(&self, target: &str) -> bool {
        match self {
            PathPattern::Exact(path) => path_is_within(path, target),
            PathPattern::Glob(glob) => {
                glob_matches(glob, target) || path_is_within(&literal_prefix(glob), target)
            }
            PathPattern::Unknown => true,
        }
    }

    pub fn display(&self) -> &str {
        match self {
            PathPattern::Exact(p) | PathPattern::Glob(p) => p,
            PathPattern::Unknown => "(a path docklint cannot resolve)",
        }
    }
}

/// Items filed under the paths they concern, so that a removal finds those it may reach
/// without weighing them all: a stage of n RUNs that each write a file, then n RUNs that
/// each delete one, must not weigh n² pairs.
#[derive(Debug, Default)]
pub struct PathIndex {
    by_path: BTreeMap<String, Vec<usize>>,
    /// Each item's key, by id (ids are given in order).
    keys: Vec<String>,
    /// The bounds of the last range searched: kept, a removal costs no allocation for them.
    bounds: String,
}

/// How many items inside one directory a removal is weighed against; past it the search
/// stops, and says so.
pub const MAX_NEAR: usize = 1024;

/// The items a removal may concern ([`PathIndex::near`]).
struct Near {
    /// In the order they were filed (ids ascending), each once.
    ids: Vec<usize>,
    /// `false`: more items sit inside the removed directory than [`MAX_NEAR`].
    complete: bool,
}

impl PathIndex {
    /// Files an item under `path`; its id is the number of items filed before it.
    pub fn insert(&mut self, path: &str) -> usize {
        let id = self.keys.len();
        let key = index_key(path).to_string();
        self.by_path.entry(key.clone()).or_default().push(id);
        self.keys.push(key);
        id
    }

    /// The items a removal of `pattern` reaches, as `reaches` tells of each it may reach:
    /// taken out of the index, in id order. `false` when the search stopped past
    /// [`MAX_NEAR`] items inside the removed directory.
    pub fn take_reached(
        &mut self,
        pattern: &PathPattern,
        mut reaches: impl FnMut(usize) -> bool,
    ) -> (Vec<usize>, bool) {
        let near = self.near(pattern);
        let taken: Vec<usize> = near.ids.into_iter().filter(|&id| reaches(id)).collect();
        for &id in &taken {
            let key = self.keys[id].as_str();
            if let Some(ids) = self.by_path.get_mut(key) {
                ids.retain(|&i| i != id);
                if ids.is_empty() {
                    self.by_path.remove(key);
                }
            }
        }
        (taken, near.complete)
    }

    /// Every item whose path a removal of `pattern` may remove ([`PathPattern::may_remove`]),
    /// lie within ([`PathPattern::may_be_within`]) or empty, and maybe others: the paths at
    /// or inside the removal's directory (a glob's literal one), and its parents. The caller
    /// tells which it reaches.
    fn near(&mut self, pattern: &PathPattern) -> Near {
        let owned;
        let root = match pattern {
            PathPattern::Exact(path) => index_key(path),
            PathPattern::Glob(glob) => {
                owned = literal_prefix(glob);
                owned.as_str()
            }
            PathPattern::Unknown => {
                return Near {
                    ids: Vec::new(),
                    complete: true,
                }
            }
        };
        let mut ids: Vec<usize> = Vec::new();
        let mut complete = true;
        let inside: Box<dyn Iterator<Item = &Vec<usize>>> = if root == "/" {
            Box::new(self.by_path.values())
        } else {
            // The keys that start with `root/`: `0` follows `/`.
            self.bounds.clear();
            self.bounds.extend([root, "/", root, "0"]);
            let (from, to) = self.bounds.split_at(root.len() + 1);
            let keys = (Bound::Included(from), Bound::Excluded(to));
            Box::new(self.by_path.range::<str, _>(keys).map(|(_, v)| v))
        };
        let mut weighed = 0;
        for found in inside {
            weighed += found.len();
            if weighed > MAX_NEAR {
                complete = false;
                break;
            }
            ids.extend(found);
        }
        // The directory itself and its parents; `/` holds every path, even a relative one.
        for dir in ancestors(root).chain(["/"]) {
            ids.extend(self.by_path.get(dir).into_iter().flatten());
        }
        ids.sort_unstable();
        ids.dedup();
        Near { ids, complete }
    }
}

/// A path as the index files it: without a trailing `/`, but `/` itself.
fn index_key(path: &str) -> &str {
    match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    }
}

/// `path` is `dir` or inside it (both absolute, clean).
pub fn path_is_within(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    dir.is_empty()
        || path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Linux's PATH_MAX: a longer directory cannot be made or entered, so a build that names one
/// fails. The model stops following a directory past it (each step would copy a path that
/// grows with the file: 40,000 lines of `WORKDIR d` would copy 40,000 paths of up to 80 kB).
const MAX_PATH_LEN: usize = 4096;

/// The directory `path` names from `base` ([`resolve_path`]), or `None` past PATH_MAX (the
/// build fails there). `base` is told too long without a join unless `..` or an absolute
/// `path` could shorten it.
pub fn resolve_dir(base: &str, path: &str) -> Option<String> {
    let may_fit = path.starts_with('/')
        || path.split('/').any(|part| part == "..")
        || base.len() + 1 + path.len() <= MAX_PATH_LEN;
    may_fit
        .then(|| resolve_path(base, path))
        .filter(|dir| dir.len() <= MAX_PATH_LEN)
}

/// Joins `path` to `base` like BuildKit does for WORKDIR and mount targets, and cleans it.
pub fn resolve_path(base: &str, path: &str) -> String {
    let base = if path.starts_with('/') { "" } else { base };
    // The parts first, then one string of their exact size: paths are kept by the million.
    let mut parts: SmallVec<[&str; 16]> = SmallVec::new();
    for part in base.split('/').chain(path.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    let mut out = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum::<usize>().max(1));
    for part in parts {
        out.push('/');
        out.push_str(part);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// `/a/b/c`, `/a/b`, `/a`, `/`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(path);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current.rfind('/') {
            Some(0) if current != "/" => Some("/"),
            Some(0) | None => None,
            Some(i) => Some(&current[..i]),
        };
        Some(current)
    })
}

/// The directories of a glob before its first pattern character.
fn literal_prefix(glob: &str) -> String {
    let first = glob.find(['*', '?', '[']).unwrap_or(glob.len());
    match glob[..first].rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(i) => glob[..i].to_string(),
    }
}

/// Shell pathname matching: `*` and `?` stay within a component; `[…]` is a class. A
/// leading `.` is matched by a pattern too (conservative: `.*` and `*` both may hit it).
pub fn glob_matches(glob: &str, path: &str) -> bool {
    let globs: Vec<&str> = glob.trim_end_matches('/').split('/').collect();
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    globs.len() == parts.len()
        && globs
            .iter()
            .zip(&parts)
            .all(|(g, p)| component_matches(g.as_bytes(), p.as_bytes()))
}

fn component_matches(glob: &[u8], text: &[u8]) -> bool {
    matches_in_one_pass(
        text,
        glob.len(),
        |g| glob[g] == b'*',
        |g, c| one_byte(&glob[g..], c).map(|len| g + len),
    )
}

/// The length of the glob's first element when it matches byte `c` (a `*` never does):
/// `?`, a class (`[!…]` or `[^…]` negated; a `[` without its `]` is itself), or a byte.
fn one_byte(glob: &[u8], c: u8) -> Option<usize> {
    match glob.first()? {
        b'*' => None,
        b'?' => Some(1),
        b'[' => match glob.iter().position(|&c| c == b']').filter(|&end| end > 1) {
            Some(end) => {
                let class = &glob[1..end];
                let (negated, class) = match class.first() {
                    Some(b'!' | b'^') => (true, &class[1..]),
                    _ => (false, class),
                };
                (class_contains(class, c) != negated).then_some(end + 1)
            }
            None => (c == b'[').then_some(1),
        },
        &literal => (literal == c).then_some(1),
    }
}

fn class_contains(class: &[u8], c: u8) -> bool {
    let mut i = 0;
    while i < class.len() {
        if i + 2 < class.len() && class[i + 1] == b'-' {
            if (class[i]..=class[i + 2]).contains(&c) {
                return true;
            }
            i += 3;
        } else {
            if class[i] == c {
                return true;
            }
            i += 1;
        }
    }
    false
}

/// Every string of at most `up_to` of `parts`, sorted, each once: inputs for a test that
/// tries a matcher on all of them.
#[cfg(test)]
pub(crate) fn every_joining(parts: &[&str], up_to: usize) -> Vec<String> {
    let mut all = vec![String::new()];
    for _ in 0..up_to {
        let longer: Vec<String> = all
            .iter()
            .flat_map(|s| parts.iter().map(move |p| format!("{s}{p}")))
            .collect();
        all.extend(longer);
    }
    all.sort();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_reaches_targets_and_their_parents() {
        let cache = "/root/.cache/pip";
        assert!(PathPattern::Exact("/root/.cache".into()).may_remove(cache));
        assert!(PathPattern::Exact(cache.into()).may_remove(cache));
        assert!(!PathPattern::Exact("/root/.cache/pip/http".into()).may_remove(cache));
        assert!(PathPattern::Glob("/root/.cache/*".into()).may_remove(cache));
        assert!(PathPattern::Glob("/root/.*".into()).may_remove(cache));
        assert!(!PathPattern::Glob("/tmp/*".into()).may_remove(cache));
        assert!(!PathPattern::Glob("/root/.cache/pip/*".into()).may_remove(cache));
        assert!(PathPattern::Glob("/root/.cache/pip/*".into()).may_be_within(cache));
        assert!(PathPattern::Unknown.may_remove(cache));
    }

    #[test]
    fn globs_and_paths() {
        assert!(glob_matches(
            "/var/lib/apt/lists/*",
            "/var/lib/apt/lists/x_y"
        ));
        assert!(glob_matches("/tmp/[a-c]*", "/tmp/b1"));
        assert!(!glob_matches("/tmp/[!a-c]*", "/tmp/b1"));
        assert_eq!(ancestors("/a/b").collect::<Vec<_>>(), ["/a/b", "/a", "/"]);
        assert!(path_is_within("/a/b", "/a") && !path_is_within("/ab", "/a"));
    }

    /// What a glob component means, tried every way: every split of the text at every `*`.
    fn component_by_search(glob: &[u8], text: &[u8]) -> bool {
        match glob.first() {
            None => text.is_empty(),
            Some(b'*') => (0..=text.len()).any(|k| component_by_search(&glob[1..], &text[k..])),
            Some(_) => {
                !text.is_empty()
                    && one_byte(glob, text[0])
                        .is_some_and(|len| component_by_search(&glob[len..], &text[1..]))
            }
        }
    }

    #[test]
    fn globs_match_as_a_search_of_every_split_does() {
        let globs = every_joining(&["*", "a", "b", "?", "[ab]", "[!a]", "[", "]"], 4);
        let texts = every_joining(&["a", "b", "["], 4);
        for glob in &globs {
            for text in &texts {
                assert_eq!(
                    component_matches(glob.as_bytes(), text.as_bytes()),
                    component_by_search(glob.as_bytes(), text.as_bytes()),
                    "{glob} {text}"
                );
            }
        }
        // Many stars that all fail: a search of every split takes 2^stars steps.
        let glob = format!("{}*b", "*a".repeat(30));
        assert!(!glob_matches(&glob, &"a".repeat(200)));
        assert!(glob_matches(&glob, &format!("{}b", "a".repeat(200))));
    }

    /// Joined and cleaned as Go's `path.Join` then `path.Clean` do: `..` stops at the root,
    /// an absolute path ignores the base.
    #[test]
    fn paths_resolve_like_buildkit() {
        let cases = [
            ("/app", "../x/./y", "/x/y"),
            ("/app/", "src/", "/app/src"),
            ("/", ".", "/"),
            ("/a/b", "../../../..", "/"),
            ("/a", "..//b/../c", "/c"),
            ("/a", "/etc//x/", "/etc/x"),
            ("", "rel", "/rel"),
            ("/a/b", "..", "/a"),
        ];
        for (base, path, resolved) in cases {
            assert_eq!(resolve_path(base, path), resolved, "{base} + {path}");
        }
    }

    /// The index finds every path a removal may remove, lie within or empty, as a scan of
    /// them all does: paths and patterns of a few components, globs among them.
    #[test]
    fn the_index_finds_what_a_scan_of_every_path_finds() {
        let parts = ["a", "b", "ab", "a.b", ".c", "a0", "a-b"];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let path = |next: &mut dyn FnMut(usize) -> usize, glob: bool| {
            let mut p = String::new();
            for _ in 0..next(4) + 1 {
                p.push('/');
                p.push_str(match (glob, next(5)) {
                    (true, 0) => "*",
                    (true, 1) => "a*",
                    (true, 2) => "[ab]",
                    _ => parts[next(parts.len())],
                });
            }
            if next(6) == 0 {
                p.push('/');
            }
            p
        };
        for _ in 0..300 {
            let paths: Vec<String> = (0..40).map(|_| path(&mut next, false)).collect();
            let mut index = PathIndex::default();
            for p in &paths {
                index.insert(p);
            }
            for _ in 0..20 {
                let pattern = match next(3) {
                    0 => PathPattern::Glob(path(&mut next, true)),
                    1 => PathPattern::Exact("/".into()),
                    _ => PathPattern::Exact(path(&mut next, false)),
                };
                let near = index.near(&pattern);
                assert!(near.complete);
                for (id, p) in paths.iter().enumerate() {
                    let empties = match &pattern {
                        PathPattern::Glob(g) => g.strip_suffix("/*") == Some(p.as_str()),
                        _ => pattern.display() == p,
                    };
                    if pattern.may_remove(p) || pattern.may_be_within(p) || empties {
                        assert!(near.ids.contains(&id), "{pattern:?} misses {p}");
                    }
                }
            }
        }
    }
}
