//! Where a file of a stage came from: the build-context file a COPY or ADD put at a path of
//! the image, so rules can read the project's manifests (`package.json`, `pyproject.toml`,
//! `next.config.js`) the way the build sees them.

use std::path::{Path, PathBuf};

use super::paths::{glob_matches, path_is_within, resolve_path};
use super::{expand, Model};
use crate::syntax::dockerfile::{Args, Dockerfile};

/// The context file that holds `path` (absolute, in the image) when instruction `before`
/// of `stage` runs: the latest COPY/ADD from the context (in the stage or the stages it is
/// built on) that could have put it there, checked against the files under `context`.
/// `None` when no such COPY is found or the file is not in the context.
pub fn context_file(
    df: &Dockerfile,
    model: &Model,
    stage: usize,
    before: usize,
    path: &str,
    context: &Path,
) -> Option<PathBuf> {
    let mut at = Some(stage);
    while let Some(s) = at {
        let st = &model.stages[s];
        let end = before.min(st.instructions.end);
        for n in (st.instructions.start..end).rev() {
            let instruction = &df.instructions[n];
            let (Args::Copy(copy) | Args::Add(copy)) = &instruction.args else {
                continue;
            };
            if instruction.flag("from").is_some() || !instruction.heredocs.is_empty() {
                continue;
            }
            let Some(dest) = &copy.dest else { continue };
            let vars = model
                .runs
                .iter()
                .rev()
                .find(|r| r.instruction < n && r.stage == s)
                .map(|r| r.env.clone())
                .unwrap_or_default();
            let Some(dest_value) = expand(&dest.value, &vars, df.escape) else {
                continue;
            };
            let dest_dir = dest_value.ends_with('/') || copy.sources.len() > 1;
            let dest_path = resolve_path(model.workdir_at(n), &dest_value);
            for source in copy.sources.iter().rev() {
                let source = source
                    .value
                    .trim_start_matches("./")
                    .trim_start_matches('/');
                if source.contains("://") || source.starts_with("git@") || source.contains('$') {
                    continue;
                }
                for candidate in candidates(source, &dest_path, dest_dir, path) {
                    let file = context.join(&candidate);
                    if file.is_file() {
                        return Some(file);
                    }
                }
            }
        }
        at = st.parent.filter(|&p| p < s);
    }
    None
}

/// Context paths a source may put at `path` with destination `dest`.
fn candidates(source: &str, dest: &str, dest_dir: bool, path: &str) -> Vec<String> {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let dir = if dir.is_empty() { "/" } else { dir };
    let source = source.trim_end_matches('/');
    let source_name = source.rsplit('/').next().unwrap_or(source);
    let mut out = Vec::new();
    let is_glob = source.contains(['*', '?', '[']);
    if is_glob {
        // `COPY package*.json ./`: files matched by the glob land in the destination.
        if resolve_path(dest, ".") == dir && glob_matches(source_name, name) {
            let parent = source.rsplit_once('/').map_or("", |(p, _)| p);
            out.push(join(parent, name));
        }
        return out;
    }
    // The source is a file: it lands in the destination when that is a directory (a
    // trailing `/`, several sources, or a directory of the image), else at it.
    let lands = resolve_path(dest, source_name) == path || (!dest_dir && dest == path);
    if lands && !source.is_empty() && source != "." {
        out.push(source.to_string());
    }
    // The source is a directory: its content lands in the destination.
    if path_is_within(path, dest) && path != dest {
        let relative = path[dest.trim_end_matches('/').len()..].trim_start_matches('/');
        let base = if source == "." { "" } else { source };
        out.push(join(base, relative));
    }
    out
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_that_put_a_file_in_place() {
        // A source without a glob may be a file or a directory: both readings are
        // candidates, and the context tells which exists.
        let both = ["package.json", "package.json/package.json"];
        assert_eq!(
            candidates("package.json", "/app", true, "/app/package.json"),
            both
        );
        assert_eq!(
            candidates("package.json", "/app", false, "/app/package.json"),
            both
        );
        assert_eq!(
            candidates("package*.json", "/app", true, "/app/package.json"),
            ["package.json"]
        );
        assert_eq!(
            candidates("web/package*.json", "/app/", true, "/app/package.json"),
            ["web/package.json"]
        );
        assert_eq!(
            candidates(".", "/app", false, "/app/package.json"),
            ["package.json"]
        );
        assert_eq!(
            candidates("frontend", "/app", false, "/app/package.json"),
            ["frontend/package.json"]
        );
        assert_eq!(
            candidates(
                "pyproject.toml",
                "/app/pyproject.toml",
                false,
                "/app/pyproject.toml"
            ),
            ["pyproject.toml"]
        );
        assert!(
            candidates("requirements.txt", "/app", true, "/app/package.json")
                .iter()
                .all(|c| c.starts_with("requirements.txt/"))
        );
    }
}
