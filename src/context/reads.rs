//! A Dockerfile's reads of its context ([`crate::model::context_reads`]) against the context
//! on disk: what they send, which paths they name on purpose, where a diagnostic about a
//! sent path belongs, and which new `.dockerignore` lines spare everything they need.

use super::knowledge::Category;
use super::resolve::{self, ContextOrigin};
use super::view::{BuildContext, Reach};
use super::walk::Notable;
use crate::model::context_reads::ContextSource;
use crate::model::Model;
use crate::rule::Ctx;
use crate::syntax::dockerfile::Keyword;
use crate::syntax::dockerignore::DockerIgnore;

/// Every source whose path is known, with its read's `--parents`.
pub fn sources(model: &Model) -> impl Iterator<Item = (&ContextSource, bool)> {
    model
        .context_reads
        .iter()
        .flat_map(|r| r.sources.iter().map(move |s| (s, r.parents)))
        .filter(|(s, _)| s.path.is_some())
}

/// A source that sends the whole context: `.`, `./`, `/` or a lone `*`.
pub fn is_broad(source: &ContextSource) -> bool {
    matches!(source.path.as_deref(), Some(".") | Some("*"))
}

/// What all the reads send together to the lint's build context (`None` without one):
/// worked out once a lint, for every rule that asks.
pub fn reach<'c>(cx: &Ctx<'c>) -> Option<&'c Reach> {
    let context = cx.context?;
    Some(
        cx.shared
            .reach
            .get_or_init(|| context.reach(sources(cx.model))),
    )
}

/// The paths the reads name on purpose: what every source but a broad one expands to.
pub fn named_paths(context: &BuildContext, model: &Model) -> Vec<String> {
    let mut named: Vec<String> = sources(model)
        .filter(|(s, _)| !is_broad(s))
        .filter_map(|(s, parents)| context.expand(s, parents))
        .flatten()
        .collect();
    named.sort();
    named.dedup();
    named
}

/// The first source (in file order) that sends `path`.
pub fn first_reaching<'m>(
    context: &BuildContext,
    model: &'m Model,
    path: &str,
) -> Option<&'m ContextSource> {
    sources(model)
        .find(|(source, parents)| context.reach([(*source, *parents)]).covers(path))
        .map(|(source, _)| source)
}

/// A context defaulted to the Dockerfile's directory, without a `.dockerignore`, below a
/// directory that has one: the Dockerfile is most likely built from there, so what this
/// context lacks says little. Rules about a missing `.dockerignore` stay silent.
pub fn built_from_above(context: &BuildContext, cx: &Ctx) -> bool {
    context.dockerignore().is_none()
        && cx.settings.context_origin == Some(ContextOrigin::DockerfileDir)
        && resolve::ancestor_dockerignore(context.root()).is_some()
}

/// Whether a named path is `path` itself or lies inside it: the path is copied on purpose.
/// `named` is sorted ([`named_paths`]): the paths inside `path` follow each other there.
pub fn names(named: &[String], path: &str) -> bool {
    let dir = path.trim_end_matches('/');
    let inside = format!("{dir}/");
    let first_inside = named.partition_point(|n| n.as_str() < inside.as_str());
    (dir.is_empty() && !named.is_empty())
        || named.binary_search_by(|n| n.as_str().cmp(dir)).is_ok()
        || named
            .get(first_inside)
            .is_some_and(|n| n.starts_with(&inside))
}

/// The entries of the knowledge table the reads send without naming them (weights are
/// apart: see [`ContextIndex::weights`](super::ContextIndex)). Version-control data is left
/// out when a RUN reads it.
pub fn unwanted<'c>(context: &'c BuildContext, cx: &Ctx) -> Vec<&'c Notable> {
    let Some(reach) = reach(cx) else {
        return Vec::new();
    };
    let mut notable: Vec<&Notable> = context
        .index()
        .notable
        .iter()
        .filter(|n| reach.covers(&n.path))
        .collect();
    // Expanded only when something is sent: most contexts send nothing notable.
    if !notable.is_empty() {
        let named = named_paths(context, cx.model);
        notable.retain(|n| !names(&named, &n.path));
    }
    // Read every RUN only when version-control data is among them.
    if notable.iter().any(|n| n.kind.category == Category::Vcs) && reads_version_control(cx) {
        notable.retain(|n| n.kind.category != Category::Vcs);
    }
    notable
}

/// Commands and tools that read a repository's history or state: a RUN holding one of them
/// (as a word) needs the `.git` the context sends, as BuildKit's and buildx's own
/// Dockerfiles do for their version stamps.
const VCS_READERS: &[&str] = &[
    "git describe",
    "git rev-parse",
    "git log",
    "git status",
    "git show",
    "git diff",
    "git tag",
    "git symbolic-ref",
    "setuptools_scm",
    "setuptools-scm",
    "hatch-vcs",
    "versioneer",
    "-buildvcs",
];

/// Whether a RUN of the Dockerfile reads version-control data.
fn reads_version_control(cx: &Ctx) -> bool {
    cx.df
        .instructions
        .iter()
        .filter(|i| i.keyword == Keyword::Run)
        .filter_map(|i| cx.file.text.get(i.span.clone()))
        .any(|text| VCS_READERS.iter().any(|r| text.contains(r)))
}

/// The `.dockerignore` lines that keep `notable` out, sparing every named path: `**/name`
/// where it fits, else each entry's own path.
pub fn exclusion_lines(context: &BuildContext, model: &Model, notable: &[&Notable]) -> Vec<String> {
    let named = named_paths(context, model);
    let mut lines = Vec::new();
    for n in notable {
        let line = exclusion_line(n, notable);
        if sparing(context, vec![line.clone()], &named).is_empty() {
            lines.push(n.path.clone());
        } else {
            lines.push(line);
        }
    }
    sparing(context, lines, &named)
}

/// `` `.git` (git repository, 12.0 MiB), `.env` (environment file, 120 B) and 3 more ``.
pub fn describe(context: &BuildContext, notable: &[&Notable]) -> String {
    const SHOWN: usize = 4;
    let index = context.index();
    let mut parts: Vec<String> = notable
        .iter()
        .take(SHOWN)
        .map(|n| {
            format!(
                "`{}` ({}, {})",
                n.path,
                n.kind.what,
                super::human_bytes(index.notable_bytes(n))
            )
        })
        .collect();
    if notable.len() > SHOWN {
        parts.push(format!("{} more", notable.len() - SHOWN));
    }
    match parts.len() {
        0 => String::new(),
        1 => parts.remove(0),
        n => {
            let last = parts.remove(n - 1);
            format!("{} and {last}", parts.join(", "))
        }
    }
}

/// Who may need the entries, kind by kind: "a git repository may be needed by ...; an
/// environment file by ...". `None` when tools make them all again.
pub fn who_needs(notable: &[&Notable]) -> Option<String> {
    let mut seen: Vec<&str> = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    for n in notable {
        let Some(needed_by) = n.kind.needed_by else {
            continue;
        };
        if seen.contains(&n.kind.what) {
            continue;
        }
        seen.push(n.kind.what);
        parts.push(if parts.is_empty() {
            format!("`{}` may be needed by {needed_by}", n.path)
        } else {
            format!("`{}` by {needed_by}", n.path)
        });
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Whether excluding all of `notable` is sure not to change what a build does: every one
/// is something tools regenerate.
pub fn safe_to_exclude(notable: &[&Notable]) -> bool {
    notable.iter().all(|n| n.kind.needed_by.is_none())
}

/// The `.dockerignore` line that excludes a notable entry: `**/name` for kinds found at any
/// depth when one lies below the root, its name at the root, else its path.
pub fn exclusion_line(notable: &Notable, all: &[&Notable]) -> String {
    if !notable.kind.anywhere {
        return notable.path.clone();
    }
    let name = notable.path.rsplit('/').next().unwrap_or(&notable.path);
    let pattern = if notable.is_dir {
        name.to_string()
    } else {
        // Files are named by their extension (`*.pyc`).
        name.rsplit_once('.')
            .map_or(name.to_string(), |(_, ext)| format!("*.{ext}"))
    };
    let deep = all
        .iter()
        .any(|n| std::ptr::eq(n.kind, notable.kind) && n.path.contains('/'));
    if deep || !notable.is_dir && notable.path.contains('/') {
        format!("**/{pattern}")
    } else {
        pattern
    }
}

/// Of `lines` (in order, duplicates dropped), those whose addition to the `.dockerignore`
/// leaves out none of `needed` that it sends now.
pub fn sparing(context: &BuildContext, lines: Vec<String>, needed: &[String]) -> Vec<String> {
    let current = context.dockerignore().map_or("", |f| f.text.as_str());
    let mut kept: Vec<String> = Vec::new();
    for line in lines {
        if kept.contains(&line) {
            continue;
        }
        let text = format!("{current}\n{line}\n");
        let Ok(after) = DockerIgnore::parse(&text) else {
            continue;
        };
        let breaks = needed
            .iter()
            .any(|p| !context.is_excluded(p) && after.is_excluded_in_walk(p));
        if !breaks {
            kept.push(line);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::knowledge;

    #[test]
    fn a_named_path_inside_a_path_is_found_as_path_is_within_says() {
        let named: Vec<String> = ["a-x", "a.txt", "a/b", "ab", "c", "d/e/f"]
            .iter()
            .map(|n| n.to_string())
            .collect();
        for path in [
            "a", "a/", "a/b", "a/b/c", "ab", "b", "c", "d", "d/e", "d/e/f/g", "",
        ] {
            let scanned = named.iter().any(|n| crate::model::path_is_within(n, path));
            assert_eq!(names(&named, path), scanned, "{path:?}");
        }
        assert!(!names(&[], ""));
    }

    #[test]
    fn lines_for_notables() {
        let git = knowledge::classify_dir(".git", &[]).unwrap();
        let modules = knowledge::classify_dir("node_modules", &[]).unwrap();
        let pyc = knowledge::classify_file("a.pyc", || None).unwrap();
        let n = |path: &str, kind, is_dir| Notable {
            path: path.into(),
            kind,
            is_dir,
            bytes: 0,
        };
        let root_modules = n("node_modules", modules, true);
        let deep_modules = n("web/node_modules", modules, true);
        assert_eq!(exclusion_line(&n(".git", git, true), &[]), ".git");
        assert_eq!(
            exclusion_line(&root_modules, &[&root_modules]),
            "node_modules"
        );
        assert_eq!(
            exclusion_line(&root_modules, &[&root_modules, &deep_modules]),
            "**/node_modules"
        );
        assert_eq!(exclusion_line(&n("a/b.pyc", pyc, false), &[]), "**/*.pyc");
    }
}
