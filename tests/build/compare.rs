//! Whether a variant of a Dockerfile builds like the original: same outcome, same file
//! system (but for the differences a cache mount is meant to make), no bigger.

use docklint::model::{path_is_within, Model, MountKind};
use docklint::syntax::dockerfile;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::builder::{Build, Outcome};
use crate::tree::{differences, Difference, Kind, Tree};

/// Paths whose content differs between two builds of the same Dockerfile, found by
/// building every case's original twice (`DOCKLINT_BUILD_CALIBRATE=1`). Kept as small as
/// the builds allow; a difference in content alone (same type, mode and owner) at one of
/// these paths is not reported.
pub const VOLATILE: &[(&str, &str)] = &[
    (
        "**/__pycache__/*.pyc",
        "byte code pip compiles at install: its header holds the source's modification time, \
         which is the time of the install",
    ),
    (
        "/var/log/dpkg.log",
        "dpkg logs each package operation with a time stamp",
    ),
    (
        "/var/log/alternatives.log",
        "update-alternatives logs each change with a time stamp",
    ),
    (
        "/var/log/apt/{history,term}.log",
        "apt logs each run with its start and end times",
    ),
    (
        "/var/cache/ldconfig/aux-cache",
        "ldconfig's cache keys libraries by inode and change time",
    ),
];

pub fn volatile_set() -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for (pattern, _why) in VOLATILE {
        builder.add(
            GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .expect("valid volatile pattern"),
        );
    }
    builder.build().expect("volatile patterns compile")
}

/// A difference in content alone (same type, mode and owner) at a volatile path.
pub fn is_volatile(volatile: &GlobSet, difference: &Difference) -> bool {
    let (Some(before), Some(after)) = (&difference.before, &difference.after) else {
        return false;
    };
    before.kind == Kind::File
        && after.kind == Kind::File
        && (before.mode, before.uid, before.gid) == (after.mode, after.uid, after.gid)
        && volatile.is_match(&difference.path)
}

/// A mount of a RUN of the variant.
struct MountOf {
    kind: MountKind,
    target: String,
    /// The USER of the RUN, as written (`root` when none).
    user: String,
    line: usize,
}

fn mounts(text: &str) -> Vec<MountOf> {
    let df = dockerfile::parse(text);
    let model = Model::build(&df);
    let mut out = Vec::new();
    for run in &model.runs {
        let line = df
            .instructions
            .get(run.instruction)
            .map_or(0, |i| text[..i.span.start].matches('\n').count() + 1);
        for mount in &run.mounts {
            if let Some(target) = &mount.target {
                out.push(MountOf {
                    kind: mount.kind,
                    target: target.clone(),
                    user: run.user.name.to_string(),
                    line,
                });
            }
        }
    }
    out
}

/// How a variant compares with the original.
#[derive(Debug, Default)]
pub struct Verdict {
    /// What makes the variant build differently; empty when it is equivalent.
    pub problems: Vec<String>,
    /// Paths that differ inside the variant's cache mounts (content moved out on purpose).
    pub in_cache_mounts: usize,
    /// Directories the builder left for the variant's mounts.
    pub stubs: Vec<String>,
    /// Paths that differ only as they do between two builds of one file.
    pub volatile: usize,
    /// Bytes of regular files, original and variant, when both built.
    pub bytes: Option<(u64, u64)>,
    pub outcomes: (&'static str, &'static str),
    /// A build was killed at the timeout: neither equivalent nor a difference to trust.
    pub hung: bool,
}

impl Verdict {
    pub fn equivalent(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn brief(&self) -> String {
        let mut parts = Vec::new();
        if self.outcomes.0 != "built" || self.outcomes.1 != "built" {
            parts.push(format!("{} / {}", self.outcomes.0, self.outcomes.1));
        }
        if let Some((before, after)) = self.bytes {
            if before != after {
                parts.push(format!("{before} -> {after} bytes"));
            }
        }
        if self.in_cache_mounts > 0 {
            parts.push(format!(
                "{} paths moved into cache mounts",
                self.in_cache_mounts
            ));
        }
        if !self.stubs.is_empty() {
            parts.push(format!("{} mount stubs", self.stubs.len()));
        }
        if !self.problems.is_empty() {
            parts.push(format!("{} differences", self.problems.len()));
        }
        if parts.is_empty() {
            parts.push("same files".to_string());
        }
        parts.join("; ")
    }
}

/// Compares two builds, each with the Dockerfile text it was built from.
pub fn compare(
    (original, original_text): (&Build, &str),
    (variant, variant_text): (&Build, &str),
    volatile: &GlobSet,
) -> Verdict {
    let mut verdict = Verdict {
        outcomes: (original.outcome.word(), variant.outcome.word()),
        ..Verdict::default()
    };
    for (which, build) in [("original", original), ("variant", variant)] {
        if let Outcome::TimedOut { log } = &build.outcome {
            verdict.hung = true;
            verdict.problems.push(format!(
                "the {which} timed out after {:.0} s (a hang)\n{log}",
                build.seconds
            ));
        }
    }
    let (before, after) = match (&original.outcome, &variant.outcome) {
        (Outcome::Built(before), Outcome::Built(after)) => (before, after),
        (Outcome::Failed { .. }, Outcome::Failed { .. }) => return verdict,
        (Outcome::Built(_), Outcome::Failed { log }) => {
            verdict.problems.push(format!(
                "the original builds, the variant fails: {}\n{log}",
                cause(log)
            ));
            return verdict;
        }
        (Outcome::Failed { log }, Outcome::Built(_)) => {
            verdict.problems.push(format!(
                "the original fails ({}), the variant builds\n{log}",
                cause(log)
            ));
            return verdict;
        }
        _ => return verdict,
    };

    let original_mounts = mounts(original_text);
    let mounts = mounts(variant_text);
    let moved = if mounts.iter().any(|m| m.kind == MountKind::Cache) {
        tool_cache_dirs(original_text)
    } else {
        Vec::new()
    };
    for difference in differences(before, after) {
        if is_volatile(volatile, &difference) {
            verdict.volatile += 1;
        } else if mounts
            .iter()
            .any(|m| m.kind == MountKind::Cache && path_is_within(&difference.path, &m.target))
            || left_by_a_moved_cache(&difference, before, &moved)
        {
            verdict.in_cache_mounts += 1;
        } else if let Some(note) = original_stub(&difference, before, &original_mounts) {
            verdict.stubs.push(note);
        } else if let Some(note) = stub(&difference, after, &mounts) {
            match note {
                Stub::Harmless(note) => verdict.stubs.push(note),
                Stub::InUsersHome(note) => verdict.problems.push(format!("stub {note}")),
            }
        } else {
            verdict.problems.push(difference.describe());
        }
    }
    let skip = |path: &str| volatile.is_match(path);
    let bytes = (before.file_bytes(skip), after.file_bytes(skip));
    if bytes.1 > bytes.0 {
        verdict.problems.push(format!(
            "the image grows: {} -> {} bytes of regular files",
            bytes.0, bytes.1
        ));
    }
    verdict.bytes = Some(bytes);
    verdict
}

/// Where the original's package managers keep their caches (the model's reading of them):
/// a fix that mounts a cache elsewhere and points the tool there moves that content out.
fn tool_cache_dirs(text: &str) -> Vec<String> {
    let model = Model::build(&dockerfile::parse(text));
    model
        .runs
        .iter()
        .flat_map(|r| &r.effects.caches)
        .filter_map(|c| c.dir.clone())
        .collect()
}

/// A path inside a cache directory the fix moved, or an empty directory the tool made on
/// the way to it, present only in the original.
fn left_by_a_moved_cache(difference: &Difference, before: &Tree, moved: &[String]) -> bool {
    let path = difference.path.as_str();
    if moved.iter().any(|dir| path_is_within(path, dir)) {
        return true;
    }
    let made_on_the_way = difference.after.is_none()
        && difference
            .before
            .as_ref()
            .is_some_and(|e| e.kind == Kind::Dir)
        && moved.iter().any(|dir| path_is_within(dir, path))
        && before
            .children(path)
            .into_iter()
            .all(|child| moved.iter().any(|dir| path_is_within(dir, child)));
    made_on_the_way
}

/// The line of a build log that says why it failed: the last one that is not buildah's
/// own wrapping of the exit status.
pub fn cause(log: &str) -> &str {
    let wrapping = [
        "subprocess exited",
        "Error: building at STEP",
        "error building at STEP",
    ];
    log.lines()
        .rev()
        .find(|l| !l.trim().is_empty() && !wrapping.iter().any(|w| l.starts_with(w)))
        .or_else(|| log.lines().last())
        .unwrap_or("")
}

enum Stub {
    Harmless(String),
    /// Owned by someone else inside the home of the non-root user the RUN ran as: that
    /// user can no longer create what belongs there (`~/.cache/...`).
    InUsersHome(String),
}

/// A directory the builder made for a mount: a mount target or one of its parents, owned
/// by root (buildah makes them so), empty but for the way to the target (or, when the
/// original has it too, differing in owner and mode: the builder made it before the RUN
/// could).
fn stub(difference: &Difference, after: &Tree, mounts: &[MountOf]) -> Option<Stub> {
    let path = difference.path.as_str();
    let entry = difference.after.as_ref()?;
    if entry.kind != Kind::Dir || (entry.uid, entry.gid) != (0, 0) {
        return None;
    }
    let on_the_way = |p: &str| mounts.iter().any(|m| path_is_within(&m.target, p));
    let mount = mounts.iter().find(|m| path_is_within(&m.target, path))?;
    let is_stub = match &difference.before {
        None => after.children(path).into_iter().all(on_the_way),
        Some(before) => before.kind == Kind::Dir,
    };
    if !is_stub {
        return None;
    }
    let note = format!(
        "{path} (owner {}:{}, mode {:o}) for the mount on {} of the RUN on line {} (user {})",
        entry.uid, entry.gid, entry.mode, mount.target, mount.line, mount.user
    );
    let in_home = mounts
        .iter()
        .filter(|m| path_is_within(&m.target, path))
        .filter_map(|m| after.account(&m.user))
        .any(|(uid, home)| {
            uid != 0 && home != "/" && path_is_within(path, home) && entry.uid != uid
        });
    Some(if in_home {
        Stub::InUsersHome(format!(
            "{note}: a directory inside the user's home that the user does not own"
        ))
    } else {
        Stub::Harmless(note)
    })
}

/// A directory the builder left for one of the original's mounts that the variant no
/// longer makes (a fix moved the mount): only in the original, owned by root, empty but for
/// the way to a mount target. The variant is the smaller image, not a different build.
fn original_stub(difference: &Difference, before: &Tree, mounts: &[MountOf]) -> Option<String> {
    let path = difference.path.as_str();
    let entry = difference.before.as_ref()?;
    if difference.after.is_some() || entry.kind != Kind::Dir || (entry.uid, entry.gid) != (0, 0) {
        return None;
    }
    let on_the_way = |p: &str| mounts.iter().any(|m| path_is_within(&m.target, p));
    let mount = mounts.iter().find(|m| path_is_within(&m.target, path))?;
    before.children(path).into_iter().all(on_the_way).then(|| {
        format!(
            "{path} left only by the original's mount on {} (line {})",
            mount.target, mount.line
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Entry;

    fn dir(uid: u32) -> Entry {
        Entry {
            kind: Kind::Dir,
            mode: 0o755,
            uid,
            gid: uid,
            size: 0,
            hash: 0,
            link: None,
        }
    }

    fn file(size: u64, hash: u64) -> Entry {
        Entry {
            kind: Kind::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size,
            hash,
            link: None,
        }
    }

    fn built(entries: &[(&str, Entry)]) -> Build {
        let mut tree = Tree::default();
        for (path, entry) in entries {
            tree.entries.insert(path.to_string(), entry.clone());
        }
        tree.accounts = vec![
            ("root".into(), 0, "/root".into()),
            ("app".into(), 1000, "/home/app".into()),
        ];
        Build {
            outcome: Outcome::Built(tree),
            seconds: 0.0,
        }
    }

    const BASE: &[(&str, Entry)] = &[];

    #[test]
    fn content_moved_into_a_cache_mount_and_its_stub_are_allowed() {
        let original = built(&[
            ("/root", dir(0)),
            ("/root/.cache", dir(0)),
            ("/root/.cache/pip", dir(0)),
            ("/root/.cache/pip/x.whl", file(10, 1)),
        ]);
        let fixed = built(&[("/root", dir(0)), ("/root/.cache", dir(0))]);
        let text =
            "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\n";
        let verdict = compare((&original, text), (&fixed, text), &volatile_set());
        assert!(verdict.equivalent(), "{:?}", verdict.problems);
        assert_eq!(verdict.in_cache_mounts, 2);
        assert_eq!(verdict.bytes, Some((10, 0)));
    }

    #[test]
    fn a_stub_only_the_originals_mount_left_is_allowed_but_not_its_content() {
        let original_text =
            "FROM python:3.12\nENV PIP_CACHE_DIR=/var/cache/pip\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\n";
        let fixed_text =
            "FROM python:3.12\nENV PIP_CACHE_DIR=/var/cache/pip\nRUN --mount=type=cache,target=/var/cache/pip pip install x\n";
        let original = built(&[("/root", dir(0)), ("/root/.cache", dir(0))]);
        let fixed = built(&[("/root", dir(0))]);
        let verdict = compare(
            (&original, original_text),
            (&fixed, fixed_text),
            &volatile_set(),
        );
        assert!(verdict.equivalent(), "{:?}", verdict.problems);
        assert_eq!(verdict.stubs.len(), 1);

        let with_a_file = built(&[
            ("/root", dir(0)),
            ("/root/.cache", dir(0)),
            ("/root/.cache/notes", file(3, 7)),
        ]);
        let verdict = compare(
            (&with_a_file, original_text),
            (&fixed, fixed_text),
            &volatile_set(),
        );
        assert!(!verdict.equivalent());
    }

    #[test]
    fn a_root_owned_stub_in_the_users_home_is_a_difference() {
        let original = built(&[("/home/app", dir(1000))]);
        let fixed = built(&[("/home/app", dir(1000)), ("/home/app/.cache", dir(0))]);
        let text = "FROM python:3.12\nUSER app\nRUN --mount=type=cache,target=/home/app/.cache/pip,uid=1000 pip install x\n";
        let verdict = compare((&original, text), (&fixed, text), &volatile_set());
        assert_eq!(verdict.problems.len(), 1, "{:?}", verdict.problems);
        assert!(verdict.problems[0].contains("/home/app/.cache"));

        let root_stub = built(&[("/root/.cache", dir(0))]);
        let as_root =
            "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\n";
        let verdict = compare(
            (&built(BASE), as_root),
            (&root_stub, as_root),
            &volatile_set(),
        );
        assert!(verdict.equivalent(), "{:?}", verdict.problems);
        assert_eq!(verdict.stubs.len(), 1);
    }

    #[test]
    fn volatile_paths_may_change_content_but_not_appear() {
        let pyc = "/usr/lib/python3/__pycache__/a.cpython-311.pyc";
        let text = "FROM python:3.12\nRUN true\n";
        let verdict = compare(
            (&built(&[(pyc, file(5, 1))]), text),
            (&built(&[(pyc, file(5, 2))]), text),
            &volatile_set(),
        );
        assert!(verdict.equivalent(), "{:?}", verdict.problems);
        assert_eq!(verdict.volatile, 1);
        let verdict = compare(
            (&built(BASE), text),
            (&built(&[(pyc, file(5, 2))]), text),
            &volatile_set(),
        );
        assert!(!verdict.equivalent());
    }

    #[test]
    fn outcomes_and_growth_are_differences() {
        let text = "FROM debian:12\nRUN true\n";
        let failed = Build {
            outcome: Outcome::Failed {
                log: "rm: cannot remove '/x': Device or resource busy\nsubprocess exited with status 1".into(),
            },
            seconds: 0.0,
        };
        let verdict = compare((&built(BASE), text), (&failed, text), &volatile_set());
        assert!(verdict.problems[0].contains("Device or resource busy"));
        assert!(compare((&failed, text), (&failed.clone(), text), &volatile_set()).equivalent());
        let grown = compare(
            (&built(&[("/a", file(1, 1))]), text),
            (&built(&[("/a", file(2, 2))]), text),
            &volatile_set(),
        );
        assert!(grown.problems.iter().any(|p| p.contains("grows")));
    }

    #[test]
    fn an_empty_directory_a_moved_cache_leaves_behind_is_allowed() {
        // `pip install … && rm -rf /root/.cache/pip` leaves an empty /root/.cache; pinned to
        // a mount, pip never makes it.
        let original_text = "FROM python:3.12\nRUN pip install x && rm -rf /root/.cache/pip\n";
        let fixed_text = "FROM python:3.12\nRUN --mount=type=cache,target=/var/cache/pip PIP_CACHE_DIR=/var/cache/pip pip install x && rm -rf /root/.cache/pip\n";
        let original = built(&[("/root/.cache", dir(0))]);
        let verdict = compare(
            (&original, original_text),
            (&built(BASE), fixed_text),
            &volatile_set(),
        );
        assert!(verdict.equivalent(), "{:?}", verdict.problems);
        // Anything else left there is a difference.
        let original = built(&[("/root/.cache", dir(0)), ("/root/.cache/other", file(3, 1))]);
        let verdict = compare(
            (&original, original_text),
            (&built(BASE), fixed_text),
            &volatile_set(),
        );
        assert!(!verdict.equivalent());
    }
}
