//! Paths as RUN commands name them: exact, glob patterns, or unknown; and how they relate
//! to a directory (a cache mount target, a home, the shell binary).

use std::collections::HashMap;

use foldhash::fast::FixedState;
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
            // What the glob matches starts with its text before the first pattern
            // character, and so does each path below that.
            PathPattern::Glob(glob) => {
                let glob = glob.trim_end_matches('/');
                target.starts_with(before_pattern(glob))
                    && ancestors(target).any(|a| components_match(glob, a))
            }
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
                    || path_is_within(literal_prefix(glob), target)
            }
            PathPattern::Unknown => true,
        }
    }

    /// Whether this path may be `target` or inside it.
    pub fn may_be_within(&self, target: &str) -> bool {
        match self {
            PathPattern::Exact(path) => path_is_within(path, target),
            PathPattern::Glob(glob) => {
                glob_matches(glob, target) || path_is_within(literal_prefix(glob), target)
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
///
/// A tree of directories, one node per path component: a removal walks down to its
/// directory once (each step a hash lookup of one component) and meets its parents on the
/// way. A node whose items are all taken is cut from the tree, so a search inside a
/// directory meets only paths that still hold an item.
#[derive(Debug)]
pub struct PathIndex {
    /// `nodes[0]` is `/`; relative paths hang under its child named `""` (no absolute
    /// path has an empty component), so that `/` holds every path, as a removal of `/`
    /// reaches them all.
    nodes: Vec<Node>,
    /// Each item's node, by id (ids are given in order).
    node_of: Vec<u32>,
}

#[derive(Debug, Default)]
struct Node {
    parent: u32,
    /// The component naming this node in its parent's `children`.
    name: Box<str>,
    /// Seeded the same in every run: a search cut short at [`MAX_NEAR`] items weighs the
    /// same ones each time.
    children: HashMap<Box<str>, u32, FixedState>,
    /// The items filed at this path, in id order.
    ids: Vec<usize>,
    /// The items filed at or inside this path.
    held: usize,
}

impl Default for PathIndex {
    fn default() -> Self {
        PathIndex {
            nodes: vec![Node::default()],
            node_of: Vec::new(),
        }
    }
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
        let id = self.node_of.len();
        let mut node = 0;
        for name in components(index_key(path)) {
            self.nodes[node].held += 1;
            node = match self.nodes[node].children.get(name) {
                Some(&child) => child as usize,
                None => {
                    let child = self.nodes.len();
                    self.nodes.push(Node {
                        parent: node as u32,
                        name: name.into(),
                        ..Node::default()
                    });
                    self.nodes[node].children.insert(name.into(), child as u32);
                    child
                }
            };
        }
        self.nodes[node].held += 1;
        self.nodes[node].ids.push(id);
        self.node_of.push(node as u32);
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
            self.take(id);
        }
        (taken, near.complete)
    }

    /// Takes item `id` out, and cuts the nodes left holding nothing.
    fn take(&mut self, id: usize) {
        let mut node = self.node_of[id] as usize;
        self.nodes[node].ids.retain(|&i| i != id);
        loop {
            let current = &mut self.nodes[node];
            current.held -= 1;
            if node == 0 {
                break;
            }
            let parent = current.parent as usize;
            // Its children, each emptied before it, are cut already.
            if current.held == 0 {
                let name = std::mem::take(&mut current.name);
                self.nodes[parent].children.remove(&name);
            }
            node = parent;
        }
    }

    /// Every item whose path a removal of `pattern` may remove ([`PathPattern::may_remove`]),
    /// lie within ([`PathPattern::may_be_within`]) or empty, and maybe others: the paths at
    /// or inside the removal's directory (a glob's literal one), and its parents. The caller
    /// tells which it reaches.
    fn near(&self, pattern: &PathPattern) -> Near {
        let root = match pattern {
            PathPattern::Exact(path) => index_key(path),
            PathPattern::Glob(glob) => literal_prefix(glob),
            PathPattern::Unknown => {
                return Near {
                    ids: Vec::new(),
                    complete: true,
                }
            }
        };
        // The directory's parents, met on the way down to it: `/` first.
        let mut ids: Vec<usize> = self.nodes[0].ids.clone();
        let mut node = Some(0);
        for name in components(root) {
            node = node.and_then(|n| self.nodes[n].children.get(name).map(|&c| c as usize));
            match node {
                Some(n) => ids.extend(&self.nodes[n].ids),
                None => break,
            }
        }
        // What lies inside it, up to MAX_NEAR items.
        let mut complete = true;
        let mut weighed = 0;
        // Depth first, each directory's children read as the search goes: a directory of a
        // million names costs no more than MAX_NEAR of them. Every node met holds an item,
        // so the nodes met are at most the depths of the items weighed.
        let mut pending: Vec<_> = node
            .map(|n| self.nodes[n].children.values())
            .into_iter()
            .collect();
        while let Some(children) = pending.last_mut() {
            let Some(&child) = children.next() else {
                pending.pop();
                continue;
            };
            let found = &self.nodes[child as usize];
            weighed += found.ids.len();
            if weighed > MAX_NEAR {
                complete = false;
                break;
            }
            ids.extend(&found.ids);
            if !found.children.is_empty() {
                pending.push(found.children.values());
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Near { ids, complete }
    }
}

/// The components of a path as the index files it: `/a/b` is `a`, `b`; a relative `a/b`
/// is `""`, `a`, `b`; `/` is none.
fn components(key: &str) -> impl Iterator<Item = &str> {
    let relative = (!key.starts_with('/')).then_some("");
    relative
        .into_iter()
        .chain(key.split('/').filter(|part| !part.is_empty()))
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

/// A glob's text before its first pattern character: what every path it matches starts
/// with (once a trailing `/` is off both).
fn before_pattern(glob: &str) -> &str {
    &glob[..glob.find(['*', '?', '[']).unwrap_or(glob.len())]
}

/// The directories of a glob before its first pattern character.
fn literal_prefix(glob: &str) -> &str {
    match before_pattern(glob).rfind('/') {
        Some(0) | None => "/",
        Some(i) => &glob[..i],
    }
}

/// Shell pathname matching: `*` and `?` stay within a component; `[…]` is a class. A
/// leading `.` is matched by a pattern too (conservative: `.*` and `*` both may hit it).
pub fn glob_matches(glob: &str, path: &str) -> bool {
    let (glob, path) = (glob.trim_end_matches('/'), path.trim_end_matches('/'));
    path.starts_with(before_pattern(glob)) && components_match(glob, path)
}

/// [`glob_matches`] for a glob without a trailing `/`, once the path is known to start with
/// its text before the first pattern character. A removal weighs up to MAX_NEAR paths, each
/// against the glob at every one of its depths: the components are matched in step,
/// without collecting them.
fn components_match(glob: &str, path: &str) -> bool {
    let mut globs = glob.split('/');
    let mut parts = path.trim_end_matches('/').split('/');
    loop {
        match (globs.next(), parts.next()) {
            (None, None) => return true,
            (Some(g), Some(p)) if component_matches(g.as_bytes(), p.as_bytes()) => {}
            _ => return false,
        }
    }
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

    /// A glob removes a path when it matches the path or one of its parents: the quick
    /// answers (the text before the first pattern character) agree with matching each
    /// component of each parent in turn.
    #[test]
    fn globs_remove_what_they_or_a_parent_match() {
        let by_components = |glob: &str, path: &str| {
            let globs: Vec<&str> = glob.trim_end_matches('/').split('/').collect();
            let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
            globs.len() == parts.len()
                && globs
                    .iter()
                    .zip(&parts)
                    .all(|(g, p)| component_by_search(g.as_bytes(), p.as_bytes()))
        };
        let globs = every_joining(&["/", "a", "*", "?", "[ab]", "b"], 4);
        let paths = every_joining(&["/", "a", "b", "ab"], 4);
        for glob in &globs {
            for path in &paths {
                let expected = ancestors(path).any(|a| by_components(glob, a));
                let pattern = PathPattern::Glob(glob.clone());
                assert_eq!(pattern.may_remove(path), expected, "{glob} {path}");
                assert_eq!(
                    glob_matches(glob, path),
                    by_components(glob, path),
                    "{glob} {path}"
                );
            }
        }
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
            // Now and then a relative path, as a word the model cannot anchor may be.
            if !glob && next(10) == 0 {
                p.remove(0);
            }
            p
        };
        for _ in 0..300 {
            let paths: Vec<String> = (0..40).map(|_| path(&mut next, false)).collect();
            let mut index = PathIndex::default();
            for p in &paths {
                index.insert(p);
            }
            let mut held = vec![true; paths.len()];
            for _ in 0..20 {
                let pattern = match next(3) {
                    0 => PathPattern::Glob(path(&mut next, true)),
                    1 => PathPattern::Exact("/".into()),
                    _ => PathPattern::Exact(path(&mut next, false)),
                };
                let near = index.near(&pattern);
                assert!(near.complete);
                assert!(
                    near.ids.iter().all(|&id| held[id]),
                    "{pattern:?}: a taken item"
                );
                for (id, p) in paths.iter().enumerate().filter(|&(id, _)| held[id]) {
                    let empties = match &pattern {
                        PathPattern::Glob(g) => g.strip_suffix("/*") == Some(p.as_str()),
                        _ => pattern.display() == p,
                    };
                    if pattern.may_remove(p) || pattern.may_be_within(p) || empties {
                        assert!(near.ids.contains(&id), "{pattern:?} misses {p}");
                    }
                }
                // Now and then the removal takes what it removes: later searches must
                // neither meet those items nor miss the others.
                if next(3) == 0 {
                    let (taken, complete) =
                        index.take_reached(&pattern, |id| pattern.may_remove(&paths[id]));
                    assert!(complete);
                    for id in taken {
                        assert!(std::mem::take(&mut held[id]), "{id} taken twice");
                    }
                }
            }
        }
    }

    /// Past MAX_NEAR items inside a directory the search stops and says so, weighing the
    /// same items in every run; once enough are taken, it is complete again.
    #[test]
    fn a_search_past_the_limit_stops_and_weighs_the_same_items_each_time() {
        let build = || {
            let mut index = PathIndex::default();
            for i in 0..3 * MAX_NEAR {
                index.insert(&format!("/d/{}/f{i}", i % 7));
            }
            index.insert("/d");
            index
        };
        let removal = PathPattern::Exact("/d".into());
        let (mut index, again) = (build(), build());
        let near = index.near(&removal);
        assert!(!near.complete);
        assert!(near.ids.len() <= MAX_NEAR + 1 && near.ids.contains(&(3 * MAX_NEAR)));
        assert_eq!(near.ids, again.near(&removal).ids);
        // Each removal takes at most what it weighed; the next one weighs the rest.
        let mut rounds = Vec::new();
        loop {
            let (taken, complete) = index.take_reached(&removal, |_| true);
            rounds.push(taken.len());
            if complete {
                break;
            }
        }
        assert_eq!(rounds.iter().sum::<usize>(), 3 * MAX_NEAR + 1, "{rounds:?}");
        assert!(rounds.len() <= 4, "{rounds:?}");
    }
}
