//! What a build reads from its context: the local sources of COPY and ADD (not `--from`,
//! not URLs or git references, not heredocs) and the bind mounts of RUN without `from`.
//!
//! BuildKit transfers only these paths of the context (`FollowPaths`), so they decide what
//! a build sends, and what a COPY needs.

use crate::source::Span;
use crate::syntax::dockerfile::{CopyArgs, Instruction, Keyword};

use super::vars::{expand, Vars};
use super::{Mount, MountKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadKind {
    Copy,
    Add,
    /// `RUN --mount=type=bind` without `from`.
    BindMount,
}

/// One instruction's reads of the context.
#[derive(Debug, Clone)]
pub struct ContextRead {
    pub instruction: usize,
    pub stage: usize,
    pub kind: ReadKind,
    pub sources: Vec<ContextSource>,
    /// `COPY --parents`: the sources' directories are kept.
    pub parents: bool,
}

/// A source path of a context read.
#[derive(Debug, Clone)]
pub struct ContextSource {
    /// The source as written (the whole `--mount` flag for a bind mount).
    pub span: Span,
    pub written: String,
    /// Relative to the context root, `/`-separated and clean (`.` for the root), as
    /// BuildKit joins it to `/`: a source cannot leave the context. `None` when it holds a
    /// variable whose value is unknown.
    pub path: Option<String>,
}

impl ContextSource {
    /// The source names files by pattern (`*`, `?`, `[`), as Go's `filepath.Match` reads it.
    pub fn is_wildcard(&self) -> bool {
        self.path.as_deref().is_some_and(has_wildcard)
    }

    /// The whole context: `.`, `/`, `./`.
    pub fn is_root(&self) -> bool {
        self.path.as_deref() == Some(".")
    }
}

pub fn has_wildcard(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

/// The reads of a COPY or ADD, or `None` when it copies from a stage, an image or a named
/// context (`--from`), or only from URLs, git or heredocs.
pub(super) fn of_copy(
    index: usize,
    stage: usize,
    instruction: &Instruction,
    args: &CopyArgs,
    vars: &Vars,
    (escape, windows): (char, bool),
) -> Option<ContextRead> {
    if instruction.flag("from").is_some() {
        return None;
    }
    let kind = if instruction.keyword == Keyword::Add {
        ReadKind::Add
    } else {
        ReadKind::Copy
    };
    // Sized to the sources: kept for the whole run, and a filtered list would start with
    // room for four.
    let mut sources = Vec::with_capacity(args.sources.len());
    sources.extend(
        args.sources
            .iter()
            .filter(|s| !(kind == ReadKind::Add && is_remote(&s.value)))
            .map(|s| ContextSource {
                span: s.span.clone(),
                written: s.value.clone(),
                path: expand(&s.value, vars, escape).map(|v| {
                    if windows {
                        context_path(&windows_path(&v))
                    } else {
                        context_path(&v)
                    }
                }),
            }),
    );
    let parents = instruction
        .flag("parents")
        .is_some_and(|f| f.value.as_deref().is_none_or(|v| v != "false"));
    (!sources.is_empty()).then_some(ContextRead {
        instruction: index,
        stage,
        kind,
        sources,
        parents,
    })
}

/// The reads of a RUN's bind mounts from the context (`source` defaults to the root).
pub(super) fn of_mounts(
    index: usize,
    stage: usize,
    mounts: &[Mount],
    vars: &Vars,
    escape: char,
) -> Option<ContextRead> {
    let sources: Vec<ContextSource> = mounts
        .iter()
        .filter(|m| m.kind == MountKind::Bind && m.option("from").is_none())
        .map(|m| {
            let written = m.option("source").unwrap_or(".").to_string();
            ContextSource {
                span: m.span.clone(),
                path: expand(&written, vars, escape).map(|v| context_path(&v)),
                written,
            }
        })
        .collect();
    (!sources.is_empty()).then_some(ContextRead {
        instruction: index,
        stage,
        kind: ReadKind::BindMount,
        sources,
        parents: false,
    })
}

/// ADD's remote sources: URLs and git references, quoted or not (BuildKit removes the
/// quotes of a source before it looks at it).
fn is_remote(source: &str) -> bool {
    let lower = source.trim_start_matches(['"', '\'']).to_ascii_lowercase();
    ["http://", "https://", "git://", "git@", "ssh://"]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// A Windows source as BuildKit normalizes it: no drive letter, `/` separators.
fn windows_path(source: &str) -> String {
    let bytes = source.as_bytes();
    let rest = if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        &source[2..]
    } else {
        source
    };
    rest.replace('\\', "/")
}

/// `path.Join("/", src)` made relative: `./a/../b/` is `b`, `..` stays at the root, and the
/// root is `.`. The `/./` pivot of `--parents` cleans away.
pub fn context_path(source: &str) -> String {
    match super::paths::resolve_path("/", source).as_str() {
        "/" => ".".to_string(),
        path => path[1..].to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::context_path;

    #[test]
    fn quoted_urls_are_remote() {
        assert!(super::is_remote("\"https://github.com/a/b.git#$V\""));
        assert!(super::is_remote("'git@github.com:a/b.git'"));
        assert!(!super::is_remote("\"./https\""));
    }

    #[test]
    fn sources_are_joined_to_the_root() {
        assert_eq!(context_path("."), ".");
        assert_eq!(context_path("./"), ".");
        assert_eq!(context_path("/"), ".");
        assert_eq!(context_path("../../etc/passwd"), "etc/passwd");
        assert_eq!(context_path("./src/../app/"), "app");
        assert_eq!(context_path("a/./b"), "a/b");
        assert_eq!(context_path(&super::windows_path("C:\\src\\")), "src");
    }
}
