//! Finding Dockerfiles under the given paths, and linting them in parallel.
//!
//! Directories are walked with the `ignore` crate, so `.gitignore` is honoured;
//! `.dockerignore` never decides what is linted. Results come back in a stable order.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

/// Where a file to lint comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Input {
    File(PathBuf),
    /// Standard input, shown under this name.
    Stdin(PathBuf),
}

impl Input {
    pub fn path(&self) -> &Path {
        match self {
            Input::File(p) | Input::Stdin(p) => p,
        }
    }
}

/// Last extensions that say a file named like a Dockerfile is another kind of file, by kind.
pub const OTHER_KINDS: &[(&str, &[&str])] = &[
    (
        "templates",
        &[
            "j2",
            "jinja",
            "jinja2",
            "tmpl",
            "tpl",
            "template",
            "gotmpl",
            "hbs",
            "handlebars",
            "mustache",
            "erb",
            "ejs",
            "njk",
            "liquid",
            "m4",
            "in",
        ],
    ),
    (
        "patch, merge and editor leftovers",
        &[
            "orig", "rej", "bak", "old", "swp", "swo", "tmp", "backup", "save", "patch", "diff",
        ],
    ),
    ("documentation", &["md", "txt", "rst", "adoc", "html"]),
    (
        "scripts and code",
        &[
            "sh", "bash", "ps1", "bat", "cmd", "go", "py", "rs", "js", "ts", "rb",
        ],
    ),
    (
        "data and configuration",
        &["json", "yml", "yaml", "toml", "xml", "ini", "lock"],
    ),
    ("ignore files", &["dockerignore", "gitignore"]),
];

/// The one rule that decides which files a directory walk lints: `Dockerfile` or
/// `Containerfile` (any case, digits may follow) is a whole part of the name, parts being
/// separated by `.`, `-` and `_` (`Dockerfile`, `Dockerfile.dev`, `Containerfile2`,
/// `Dockerfile-prod`, `api.Dockerfile`, `build_Dockerfile`), and the last extension is not
/// one of [`OTHER_KINDS`] (`Dockerfile.md`, `Dockerfile.tmpl`, `Dockerfile.rej`,
/// `x.dockerignore` are not linted). A file given by name is always linted.
pub fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let named = lower.split(['.', '-', '_']).any(|part| {
        let base = part.trim_end_matches(|c: char| c.is_ascii_digit());
        base == "dockerfile" || base == "containerfile"
    });
    let extension = lower.rsplit_once('.').map_or("", |(_, e)| e);
    named
        && !OTHER_KINDS
            .iter()
            .any(|(_, extensions)| extensions.contains(&extension))
}

/// What discovery found, in the order of the command line (each directory sorted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Lint(Input),
    /// A path that cannot be linted: it does not exist, or cannot be read.
    Failed {
        path: PathBuf,
        message: String,
    },
    /// Something the walk could not use but that does not stop it (a bad `.gitignore`).
    Warning(String),
}

/// Expands the command-line paths into what to lint, lazily, in the order of the command
/// line, each directory in path order (so output is stable and nothing is held for a
/// large tree). A path that cannot be read is reported where it was met, and the walk
/// goes on. A file named twice is linted once (the inputs are remembered only when more
/// than one path is given).
pub fn discover<'a>(
    paths: &'a [PathBuf],
    stdin_name: Option<&'a Path>,
) -> impl Iterator<Item = Found> + 'a {
    let mut seen = (paths.len() > 1).then(std::collections::HashSet::new);
    paths
        .iter()
        .flat_map(move |path| expand(path, stdin_name))
        .filter(move |found| match (found, &mut seen) {
            (Found::Lint(input), Some(seen)) => seen.insert(input.clone()),
            _ => true,
        })
}

fn expand(path: &Path, stdin_name: Option<&Path>) -> Box<dyn Iterator<Item = Found>> {
    if path.as_os_str() == "-" {
        let name = stdin_name.map_or_else(|| PathBuf::from("-"), Path::to_path_buf);
        return Box::new(std::iter::once(Found::Lint(Input::Stdin(name))));
    }
    let found = match std::fs::metadata(path) {
        Err(e) => Found::Failed {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
        Ok(m) if m.is_dir() => return Box::new(walk_dir(path)),
        Ok(_) if is_dockerignore_name(path) => return Box::new(users_of_dockerignore(path)),
        Ok(_) => Found::Lint(Input::File(path.to_path_buf())),
    };
    Box::new(std::iter::once(found))
}

/// `.dockerignore` or `<dockerfile>.dockerignore`.
fn is_dockerignore_name(path: &Path) -> bool {
    path.file_name().is_some_and(|n| {
        n.to_string_lossy()
            .to_ascii_lowercase()
            .ends_with(".dockerignore")
    })
}

/// A `.dockerignore` given by name (a pre-commit hook passes the changed ones) is linted
/// through the Dockerfiles that use it: `<name>.dockerignore` through `<name>` beside it,
/// `.dockerignore` through the Dockerfiles in its directory. With none, nothing is linted.
fn users_of_dockerignore(path: &Path) -> impl Iterator<Item = Found> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let stem = name
        .as_deref()
        .and_then(|n| n.get(..n.len() - ".dockerignore".len()))
        .unwrap_or_default()
        .to_string();
    let mut users: Vec<PathBuf> = if stem.is_empty() {
        let listed = std::fs::read_dir(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &dir
        });
        listed
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter(|e| is_dockerfile_name(&e.file_name().to_string_lossy()))
            .map(|e| dir.join(e.file_name()))
            .collect()
    } else {
        let dockerfile = dir.join(&stem);
        vec![dockerfile]
            .into_iter()
            .filter(|p| p.is_file())
            .collect()
    };
    users.sort();
    users.into_iter().map(|p| Found::Lint(Input::File(p)))
}

fn walk_dir(dir: &Path) -> impl Iterator<Item = Found> {
    ignore::WalkBuilder::new(dir)
        .hidden(false)
        // .gitignore applies whether or not the tree is a git checkout.
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        // Depth first with each directory's entries sorted is path order.
        .sort_by_file_name(|a, b| a.cmp(b))
        .build()
        .filter_map(|entry| match entry {
            Ok(entry) => {
                let is_file = entry.file_type().is_some_and(|t| t.is_file());
                let named = is_dockerfile_name(&entry.file_name().to_string_lossy());
                (is_file && named).then(|| Found::Lint(Input::File(entry.into_path())))
            }
            Err(e) => Some(match (walk_error_path(&e), e.io_error()) {
                (Some(path), Some(io)) => Found::Failed {
                    path,
                    message: io.to_string(),
                },
                _ => Found::Warning(e.to_string()),
            }),
        })
}

/// The path an error of the walk is about.
fn walk_error_path(error: &ignore::Error) -> Option<PathBuf> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

/// Runs `work` on every item in parallel; results keep the items' order.
pub fn par_map<I: Sync, T: Send>(items: &[I], work: impl Fn(&I) -> T + Sync + Send) -> Vec<T> {
    items.par_iter().map(work).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_names() {
        for yes in [
            "Dockerfile",
            "dockerfile",
            "Containerfile",
            "Dockerfile.dev",
            "api.Dockerfile",
            "x.dockerfile",
            "Dockerfile.alpine-3.20",
            "Dockerfile-prod",
            "Dockerfile_dev",
            "build_Dockerfile",
            "Containerfile2",
        ] {
            assert!(is_dockerfile_name(yes), "{yes}");
        }
        for no in [
            "Dockerfile.dockerignore",
            "app.Dockerfile.dockerignore",
            ".dockerignore",
            "Dockerfile.md",
            "Dockerfile.j2",
            "README",
            "dockerfiles",
            "docker-compose.yml",
            "build-dockerfile.sh",
            "Dockerfile.tmpl",
            "Dockerfile.gotmpl",
            "Dockerfile.hbs",
            "Dockerfile.orig",
            "Dockerfile.rej",
            "Dockerfile.in",
        ] {
            assert!(!is_dockerfile_name(no), "{no}");
        }
    }
}
