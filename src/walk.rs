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

/// Extensions of files that are named like Dockerfiles but are templates, scripts or notes.
const NOT_DOCKERFILES: &[&str] = &[
    "md",
    "txt",
    "rst",
    "j2",
    "jinja",
    "jinja2",
    "tmpl",
    "tpl",
    "template",
    "erb",
    "mustache",
    "sh",
    "ps1",
    "go",
    "py",
    "rs",
    "js",
    "ts",
    "bak",
    "orig",
    "swp",
    "dockerignore",
    "json",
    "yml",
    "yaml",
    "toml",
    "lock",
    "patch",
    "diff",
];

/// A file is a Dockerfile when `Dockerfile` or `Containerfile` (any case) is a whole part of
/// its name (digits may follow), parts being separated by `.`, `-` and `_`: `Dockerfile`,
/// `Dockerfile.dev`, `Containerfile2`,
/// `Dockerfile-prod`, `api.Dockerfile`, `build_Dockerfile`; not when the extension says it
/// is something else (`Dockerfile.md`, `Dockerfile.j2`, `x.dockerignore`).
pub fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let named = lower.split(['.', '-', '_']).any(|part| {
        let base = part.trim_end_matches(|c: char| c.is_ascii_digit());
        base == "dockerfile" || base == "containerfile"
    });
    let extension = lower.rsplit_once('.').map_or("", |(_, e)| e);
    named && !NOT_DOCKERFILES.contains(&extension)
}

/// Expands the command-line paths into the files to lint, sorted, without duplicates.
/// A path that does not exist is an error.
pub fn discover(paths: &[PathBuf], stdin_name: Option<&Path>) -> Result<Vec<Input>, String> {
    let mut inputs = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin(
                stdin_name.map_or_else(|| PathBuf::from("-"), Path::to_path_buf),
            ));
            continue;
        }
        let metadata = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if metadata.is_file() {
            inputs.push(Input::File(path.clone()));
            continue;
        }
        let walker = ignore::WalkBuilder::new(path)
            .hidden(false)
            // .gitignore applies whether or not the tree is a git checkout.
            .require_git(false)
            .filter_entry(|e| e.file_name() != ".git")
            .build();
        let mut found = Vec::new();
        for entry in walker {
            let entry = entry.map_err(|e| e.to_string())?;
            let is_file = entry.file_type().is_some_and(|t| t.is_file());
            if is_file && is_dockerfile_name(&entry.file_name().to_string_lossy()) {
                found.push(Input::File(entry.into_path()));
            }
        }
        found.sort();
        inputs.extend(found);
    }
    let mut seen = std::collections::HashSet::new();
    inputs.retain(|i| seen.insert(i.clone()));
    Ok(inputs)
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
        ] {
            assert!(!is_dockerfile_name(no), "{no}");
        }
    }
}
