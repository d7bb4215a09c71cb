//! Paths as RUN commands name them: exact, glob patterns, or unknown; and how they relate
//! to a directory (a cache mount target, a home, the shell binary).

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
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{base}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
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
    match glob.first() {
        None => text.is_empty(),
        Some(b'*') => (0..=text.len()).any(|k| component_matches(&glob[1..], &text[k..])),
        Some(b'?') => !text.is_empty() && component_matches(&glob[1..], &text[1..]),
        Some(b'[') => match glob.iter().position(|&c| c == b']').filter(|&end| end > 1) {
            Some(end) => {
                let class = &glob[1..end];
                let (negated, class) = match class.first() {
                    Some(b'!' | b'^') => (true, &class[1..]),
                    _ => (false, class),
                };
                !text.is_empty()
                    && class_contains(class, text[0]) != negated
                    && component_matches(&glob[end + 1..], &text[1..])
            }
            None => text.first() == Some(&b'[') && component_matches(&glob[1..], &text[1..]),
        },
        Some(&c) => text.first() == Some(&c) && component_matches(&glob[1..], &text[1..]),
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
        assert_eq!(resolve_path("/app", "../x/./y"), "/x/y");
        assert!(path_is_within("/a/b", "/a") && !path_is_within("/ab", "/a"));
    }
}
