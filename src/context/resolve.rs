//! Which directory is a Dockerfile's build context: `--context`, else the `[context]` entry
//! of its lint.toml, else the Compose service or Bake target that builds it (a Compose or
//! Bake file beside the Dockerfile or in a directory above it, up to the repository root;
//! Compose first), else the Dockerfile's own directory, which is what
//! `docker build -f DIR/Dockerfile DIR` uses.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use super::bake::{self, BAKE_FILE_NAMES};
use super::compose::{self, NamedBuild, COMPOSE_FILE_NAMES};

/// Where a Dockerfile's build context comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextOrigin {
    /// `--context` on the command line.
    CommandLine,
    /// The `[context]` table of this lint.toml.
    Config(PathBuf),
    /// A service of this Compose file builds the Dockerfile.
    Compose { file: PathBuf, service: String },
    /// A target of this Bake file builds the Dockerfile.
    Bake { file: PathBuf, target: String },
    /// The Dockerfile's directory.
    DockerfileDir,
}

impl ContextOrigin {
    /// A few words for messages: "from compose.yaml (service api)".
    pub fn describe(&self) -> String {
        match self {
            ContextOrigin::CommandLine => "from --context".into(),
            ContextOrigin::Config(file) => format!("from [context] in {}", file.display()),
            ContextOrigin::Compose { file, service } => {
                format!("from {} (service {service})", file.display())
            }
            ContextOrigin::Bake { file, target } => {
                format!("from {} (target {target})", file.display())
            }
            ContextOrigin::DockerfileDir => "the Dockerfile's directory".into(),
        }
    }
}

/// How far up from a Dockerfile Compose files are looked for, at most.
const MAX_LEVELS: usize = 32;

/// The Compose and Bake files read so far, by directory (a repository's many Dockerfiles
/// share them).
#[derive(Debug, Default)]
pub struct BuildFiles {
    by_dir: HashMap<PathBuf, Vec<BuildFile>>,
}

/// The builds one Compose or Bake file names.
#[derive(Debug)]
struct BuildFile {
    path: PathBuf,
    bake: bool,
    builds: Vec<NamedBuild>,
}

impl BuildFiles {
    fn in_dir(&mut self, dir: &Path) -> &[BuildFile] {
        self.by_dir.entry(dir.to_path_buf()).or_insert_with(|| {
            let names = COMPOSE_FILE_NAMES.iter().map(|n| (*n, false));
            names
                .chain(BAKE_FILE_NAMES.iter().map(|n| (*n, true)))
                .filter_map(|(name, bake)| {
                    let path = dir.join(name);
                    let text = std::fs::read_to_string(&path).ok()?;
                    let builds = if bake {
                        bake::builds(&text, name, dir)
                    } else {
                        compose::builds(&text, dir)
                    };
                    let builds = builds
                        .into_iter()
                        .map(|b| NamedBuild {
                            context: normalize(&b.context),
                            dockerfile: normalize(&b.dockerfile),
                            ..b
                        })
                        .collect();
                    Some(BuildFile { path, bake, builds })
                })
                .collect()
        })
    }
}

/// The context of a Dockerfile on disk, when nothing names one explicitly: the nearest
/// Compose service or Bake target building it, else its directory. `None` for a path that is not a file.
pub fn discover(dockerfile: &Path, files: &mut BuildFiles) -> Option<(PathBuf, ContextOrigin)> {
    if !dockerfile.is_file() {
        return None;
    }
    let absolute = normalize(&std::path::absolute(dockerfile).ok()?);
    let mut dir = absolute.parent();
    for _ in 0..MAX_LEVELS {
        let Some(current) = dir else { break };
        for found in files.in_dir(current) {
            if let Some(build) = found.builds.iter().find(|b| b.dockerfile == absolute) {
                let file = shorten(&found.path);
                let name = build.name.clone();
                let origin = if found.bake {
                    ContextOrigin::Bake { file, target: name }
                } else {
                    ContextOrigin::Compose {
                        file,
                        service: name,
                    }
                };
                return Some((shorten(&build.context), origin));
            }
        }
        if current.join(".git").exists() {
            break;
        }
        dir = current.parent();
    }
    let parent = dockerfile
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Some((parent.to_path_buf(), ContextOrigin::DockerfileDir))
}

/// A `.dockerignore` in a directory above `dir`, up to the repository root: a sign that a
/// Dockerfile whose context was defaulted to `dir` is really built from that directory
/// (`docker build -f sub/Dockerfile .`, from a Makefile or CI script docklint cannot read).
pub fn ancestor_dockerignore(dir: &Path) -> Option<PathBuf> {
    let absolute = normalize(&std::path::absolute(dir).ok()?);
    if absolute.join(".git").exists() {
        return None;
    }
    let mut current = absolute.parent();
    for _ in 0..MAX_LEVELS {
        let here = current?;
        let candidate = here.join(".dockerignore");
        if candidate.is_file() {
            return Some(shorten(&candidate));
        }
        if here.join(".git").exists() {
            return None;
        }
        current = here.parent();
    }
    None
}

/// `.` and `..` resolved without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !matches!(out.components().next_back(), Some(Component::RootDir)) {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// An absolute path relative to the working directory when it lies inside it or is one of
/// its ancestors (`../..`), as the paths given on the command line usually are.
fn shorten(path: &Path) -> PathBuf {
    let Ok(cwd) = std::env::current_dir() else {
        return path.to_path_buf();
    };
    if let Ok(rest) = path.strip_prefix(&cwd) {
        return if rest.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            rest.to_path_buf()
        };
    }
    match cwd.strip_prefix(path) {
        Ok(below) => below.components().map(|_| Component::ParentDir).collect(),
        Err(_) => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_lexically() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), Path::new("/a/c"));
        assert_eq!(normalize(Path::new("./")), Path::new("."));
        assert_eq!(normalize(Path::new("../x")), Path::new("../x"));
        assert_eq!(normalize(Path::new("../../x")), Path::new("../../x"));
        assert_eq!(normalize(Path::new("a/../../x")), Path::new("../x"));
        assert_eq!(normalize(Path::new("/../x")), Path::new("/x"));
    }
}
