//! The build entries of Compose files: which Dockerfile each service builds, with which
//! context.
//!
//! `build: DIR` or `build: {context: DIR, dockerfile: FILE}`: the context is relative to the
//! Compose file's directory (`.` when left out), the Dockerfile relative to the context
//! (`Dockerfile` when left out). Variables are interpolated with their `${VAR:-default}` /
//! `${VAR-default}` defaults only: an entry that needs a value from the environment is
//! skipped, so the result does not depend on who runs docklint. Git contexts,
//! `dockerfile_inline` and the `<<` merge key (one level) are handled.

use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

/// The names Compose looks for, in its order.
pub const COMPOSE_FILE_NAMES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// A build that a Compose service or a Bake target names (`name`), with paths joined to
/// the file's directory (not canonical).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedBuild {
    pub name: String,
    pub context: PathBuf,
    pub dockerfile: PathBuf,
}

/// The builds of the Compose file `text` found in `dir`. A file that is not YAML, or not a
/// Compose file, has none.
pub fn builds(text: &str, dir: &Path) -> Vec<NamedBuild> {
    let Ok(documents) = YamlLoader::load_from_str(text) else {
        return Vec::new();
    };
    let Some(Yaml::Hash(services)) = documents.first().map(|d| &d["services"]) else {
        return Vec::new();
    };
    let mut out: Vec<NamedBuild> = services
        .iter()
        .filter_map(|(name, service)| {
            let service_name = name.as_str()?.to_string();
            let build = merged(service, "build")?;
            let (context, dockerfile) = match build {
                Yaml::String(context) => (interpolate(context)?, "Dockerfile".to_string()),
                Yaml::Hash(_) => {
                    if !build["dockerfile_inline"].is_badvalue() {
                        return None;
                    }
                    let context = match &build["context"] {
                        Yaml::String(c) => interpolate(c)?,
                        Yaml::BadValue | Yaml::Null => ".".to_string(),
                        _ => return None,
                    };
                    let dockerfile = match &build["dockerfile"] {
                        Yaml::String(d) => interpolate(d)?,
                        Yaml::BadValue | Yaml::Null => "Dockerfile".to_string(),
                        _ => return None,
                    };
                    (context, dockerfile)
                }
                _ => return None,
            };
            if is_remote(&context) {
                return None;
            }
            let context = dir.join(context);
            let dockerfile = context.join(dockerfile);
            Some(NamedBuild {
                name: service_name,
                context,
                dockerfile,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// `service[key]`, or the key from the mappings its `<<` merge key names.
fn merged<'a>(service: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    let own = &service[key];
    if !own.is_badvalue() {
        return Some(own);
    }
    match &service["<<"] {
        hash @ Yaml::Hash(_) => Some(&hash[key]).filter(|v| !v.is_badvalue()),
        Yaml::Array(list) => list.iter().map(|h| &h[key]).find(|v| !v.is_badvalue()),
        _ => None,
    }
}

/// A Git or URL context: nothing on disk to read.
pub(super) fn is_remote(context: &str) -> bool {
    context.contains("://") || context.starts_with("git@") || context.ends_with(".git")
}

/// Compose interpolation with defaults only: `$$` is `$`; `${VAR:-x}` and `${VAR-x}` are
/// `x`; any other reference makes the value unknown.
fn interpolate(value: &str) -> Option<String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}')?;
            let (_, default) = body[..end]
                .split_once(":-")
                .or_else(|| body[..end].split_once('-'))?;
            out.push_str(default);
            rest = &body[end + 1..];
        } else {
            return None;
        }
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_forms_and_defaults() {
        let text = r#"
x-common: &common
  build:
    context: ./shared
services:
  api:
    build: ./services/api
  worker:
    build:
      context: ${ROOT:-.}
      dockerfile: docker/worker.Dockerfile
  db:
    image: postgres
  inline:
    build:
      dockerfile_inline: "FROM scratch"
  env:
    build: ${FROM_ENV}
  merged:
    <<: *common
  remote:
    build: https://github.com/a/b.git
  plain:
    build: {}
"#;
        let dir = Path::new("/repo");
        let got = builds(text, dir);
        let got: Vec<(&str, &Path, &Path)> = got
            .iter()
            .map(|b| (b.name.as_str(), b.context.as_path(), b.dockerfile.as_path()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "api",
                    Path::new("/repo/./services/api"),
                    Path::new("/repo/./services/api/Dockerfile")
                ),
                (
                    "merged",
                    Path::new("/repo/./shared"),
                    Path::new("/repo/./shared/Dockerfile")
                ),
                (
                    "plain",
                    Path::new("/repo/."),
                    Path::new("/repo/./Dockerfile")
                ),
                (
                    "worker",
                    Path::new("/repo/."),
                    Path::new("/repo/./docker/worker.Dockerfile")
                ),
            ]
        );
    }

    #[test]
    fn not_compose_is_nothing() {
        assert!(builds("- a\n- b\n", Path::new(".")).is_empty());
        assert!(builds("services: [\n", Path::new(".")).is_empty());
        assert!(builds("", Path::new(".")).is_empty());
    }

    #[test]
    fn interpolation() {
        assert_eq!(interpolate("a$$b").as_deref(), Some("a$b"));
        assert_eq!(interpolate("${X:-d}/e").as_deref(), Some("d/e"));
        assert_eq!(interpolate("${X-d}").as_deref(), Some("d"));
        assert_eq!(interpolate("${X}"), None);
        assert_eq!(interpolate("$X"), None);
    }
}
