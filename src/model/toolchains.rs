//! Toolchains of official base images and the versions projects ask for: which image carries
//! which toolchain and in which tag variants, which project files state a minimum version
//! (go.mod, pyproject.toml, `.python-version`, package.json, `.nvmrc`, rust-toolchain.toml,
//! Cargo.toml), and how to read them.

use super::context_reads::has_wildcard;
use super::copies::ProjectFiles;
use super::Model;

/// A version as written: `1.22`, `3.11.4`, `20`.
pub type Version = Vec<u64>;

/// A toolchain shipped by official images.
#[derive(Debug)]
pub struct Toolchain {
    /// Its name in messages: "Go", "Python".
    pub name: &'static str,
    /// Image repositories (Docker Hub official images) that carry it, in their tag.
    pub images: &'static [&'static str],
    /// Tag variants published for every current version of the image: a tag raised within
    /// these exists. A variant not listed (`-alpine3.18`, `-bullseye`) may not exist for the
    /// newer version.
    pub lasting_variants: &'static [&'static str],
    /// Project files that state the version the project needs, in order of authority.
    pub files: &'static [ProjectFile],
}

/// A project file that states a minimum toolchain version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectFile {
    /// `go 1.22.3` in go.mod. Official golang images set `GOTOOLCHAIN=local`: an older Go
    /// refuses the module (from Go 1.21; see [`ProjectFile::refuses`]). (The `toolchain` line
    /// only suggests a toolchain; a local one at least as new as `go` builds the module.)
    GoMod,
    /// `[project] requires-python`, or Poetry's `[tool.poetry.dependencies] python`.
    PyProject,
    /// pyenv/uv's `.python-version`.
    PythonVersion,
    /// `engines.node` of package.json.
    PackageJson,
    /// nvm's `.nvmrc`.
    Nvmrc,
    /// `[toolchain] channel` of rust-toolchain.toml (or the legacy `rust-toolchain`).
    RustToolchain,
    /// `rust-version` of Cargo.toml (`[package]` or `[workspace.package]`).
    CargoToml,
}

impl ProjectFile {
    /// The file names it is found under.
    pub fn names(self) -> &'static [&'static str] {
        match self {
            ProjectFile::GoMod => &["go.mod"],
            ProjectFile::PyProject => &["pyproject.toml"],
            ProjectFile::PythonVersion => &[".python-version"],
            ProjectFile::PackageJson => &["package.json"],
            ProjectFile::Nvmrc => &[".nvmrc"],
            ProjectFile::RustToolchain => &["rust-toolchain.toml", "rust-toolchain"],
            ProjectFile::CargoToml => &["Cargo.toml"],
        }
    }

    /// Whether a toolchain at version `tag`, older than the `minimum` the file asks for, stops
    /// on it. Go before 1.21 read the `go` line as advisory (it builds, and fails only where
    /// the code needs the newer Go), except that Go 1.19.13+ and 1.20.8+ refuse modules
    /// declaring Go 1.22 or later (go.dev/doc/toolchain).
    pub fn refuses(self, tag: &[u64], minimum: &[u64]) -> bool {
        match self {
            ProjectFile::GoMod => {
                let backported = match tag {
                    [1, 19, ..] => provides(tag, &[1, 19, 13]),
                    [1, 20, ..] => provides(tag, &[1, 20, 8]),
                    _ => false,
                };
                provides(tag, &[1, 21]) || (backported && minimum >= &[1, 22][..])
            }
            _ => true,
        }
    }

    /// What goes wrong when the image's toolchain is older than the file asks for.
    pub fn consequence(self) -> &'static str {
        match self {
            ProjectFile::GoMod => {
                "official golang images set `GOTOOLCHAIN=local`, so `go build` stops with \"go.mod requires go >= …\""
            }
            ProjectFile::PyProject => {
                "pip and uv refuse to install a project whose `requires-python` excludes the interpreter"
            }
            ProjectFile::PythonVersion => {
                "uv and pyenv read it: uv downloads the requested Python during the build (or fails offline), pyenv fails"
            }
            ProjectFile::PackageJson => {
                "yarn 1, and npm or pnpm with `engine-strict`, fail the install; npm warns and installs packages that may not run"
            }
            ProjectFile::Nvmrc => "the project is developed and tested on that Node.js",
            ProjectFile::RustToolchain => {
                "rustup in the image downloads the pinned toolchain during the build (hundreds of MB) instead of using the image's"
            }
            ProjectFile::CargoToml => "cargo refuses to build a package whose `rust-version` is newer than rustc",
        }
    }

    /// The minimum version the file asks for, and how it says it (`go 1.22.3`,
    /// `requires-python = ">=3.11"`), with its 1-based line.
    pub fn requirement(self, text: &str) -> Option<Requirement> {
        match self {
            ProjectFile::GoMod => text.lines().enumerate().find_map(|(i, line)| {
                let line = line.split("//").next().unwrap_or("").trim();
                let version = line.strip_prefix("go ")?.trim();
                Some(Requirement::new(parse_version(version)?, line, i + 1))
            }),
            ProjectFile::PyProject => {
                let table: toml::Table = text.parse().ok()?;
                let (key, spec) = if let Some(spec) = table
                    .get("project")
                    .and_then(|p| p.get("requires-python"))
                    .and_then(|v| v.as_str())
                {
                    ("requires-python", spec)
                } else {
                    let poetry = table.get("tool")?.get("poetry")?.get("dependencies")?;
                    ("python", poetry.get("python")?.as_str()?)
                };
                let min = python_minimum(spec)?;
                Some(Requirement::new(
                    min,
                    &format!("{key} = \"{spec}\""),
                    line_of(text, key),
                ))
            }
            ProjectFile::PythonVersion => first_line(text).and_then(|(line, n)| {
                let version = line
                    .strip_prefix("cpython-")
                    .or(line.strip_prefix("python"))
                    .unwrap_or(line);
                let version = version.split(['-', '+']).next()?;
                Some(Requirement::new(parse_version(version)?, line, n))
            }),
            ProjectFile::PackageJson => {
                let json: serde_json::Value = serde_json::from_str(text).ok()?;
                let spec = json.get("engines")?.get("node")?.as_str()?;
                let min = semver_minimum(spec)?;
                let said = format!("\"engines\": {{\"node\": \"{spec}\"}}");
                Some(Requirement::new(min, &said, line_of(text, "\"node\"")))
            }
            ProjectFile::Nvmrc => first_line(text).and_then(|(line, n)| {
                let version = match line.strip_prefix("lts/") {
                    Some(codename) => vec![node_codename(codename)?],
                    None => parse_version(line.trim_start_matches('v'))?,
                };
                Some(Requirement::new(version, line, n))
            }),
            ProjectFile::RustToolchain => {
                let channel = match text.parse::<toml::Table>() {
                    Ok(table) => table
                        .get("toolchain")?
                        .get("channel")?
                        .as_str()?
                        .to_string(),
                    Err(_) => first_line(text)?.0.to_string(),
                };
                let min = parse_version(&channel)?;
                Some(Requirement::new(
                    min,
                    &format!("channel = \"{channel}\""),
                    line_of(text, &channel),
                ))
            }
            ProjectFile::CargoToml => {
                let table: toml::Table = text.parse().ok()?;
                let version = table
                    .get("package")
                    .and_then(|p| p.get("rust-version"))
                    .or_else(|| table.get("workspace")?.get("package")?.get("rust-version"))?
                    .as_str()?;
                let said = format!("rust-version = \"{version}\"");
                Some(Requirement::new(
                    parse_version(version)?,
                    &said,
                    line_of(text, "rust-version"),
                ))
            }
        }
    }
}

/// A minimum version a project file asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub minimum: Version,
    /// The words of the file that say it.
    pub said: String,
    pub line: usize,
}

impl Requirement {
    fn new(minimum: Version, said: &str, line: usize) -> Requirement {
        Requirement {
            minimum,
            said: said.to_string(),
            line,
        }
    }
}

pub const TOOLCHAINS: &[Toolchain] = &[
    Toolchain {
        name: "Go",
        images: &["golang"],
        lasting_variants: &["", "alpine", "bookworm", "trixie"],
        files: &[ProjectFile::GoMod],
    },
    Toolchain {
        name: "Python",
        images: &["python"],
        lasting_variants: &[
            "",
            "slim",
            "alpine",
            "bookworm",
            "slim-bookworm",
            "trixie",
            "slim-trixie",
        ],
        files: &[ProjectFile::PyProject, ProjectFile::PythonVersion],
    },
    Toolchain {
        name: "Node.js",
        images: &["node"],
        lasting_variants: &[
            "",
            "slim",
            "alpine",
            "bookworm",
            "bookworm-slim",
            "trixie",
            "trixie-slim",
        ],
        files: &[ProjectFile::PackageJson, ProjectFile::Nvmrc],
    },
    Toolchain {
        name: "Rust",
        images: &["rust"],
        lasting_variants: &[
            "",
            "slim",
            "alpine",
            "bookworm",
            "slim-bookworm",
            "trixie",
            "slim-trixie",
        ],
        files: &[ProjectFile::CargoToml, ProjectFile::RustToolchain],
    },
];

/// Node.js LTS codenames (`lts/iron`, `node:iron-alpine`) and their major versions.
const NODE_CODENAMES: &[(&str, u64)] = &[
    ("argon", 4),
    ("boron", 6),
    ("carbon", 8),
    ("dubnium", 10),
    ("erbium", 12),
    ("fermium", 14),
    ("gallium", 16),
    ("hydrogen", 18),
    ("iron", 20),
    ("jod", 22),
    ("krypton", 24),
];

fn node_codename(name: &str) -> Option<u64> {
    let name = name.trim().to_ascii_lowercase();
    NODE_CODENAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
}

/// An official image reference read for its toolchain: `golang:1.21.5-alpine`.
#[derive(Debug, Clone)]
pub struct ImageTag {
    pub toolchain: &'static Toolchain,
    /// The version in the tag (`1.21`: the newest 1.21.x).
    pub version: Version,
    /// The tag's version text (`1.21`, or a codename `iron`).
    pub version_text: String,
    /// What follows the version: `alpine`, `slim-bookworm`, `` (no dash).
    pub variant: String,
    /// The reference pins a digest: a new tag needs a new digest.
    pub digest: bool,
}

/// Reads an image reference for a toolchain version; `None` for other images, `latest`, a
/// variant-only tag (`golang:alpine`), or a pre-release (`1.23rc1`).
pub fn image_tag(reference: &str) -> Option<ImageTag> {
    let (reference, digest) = match reference.split_once('@') {
        Some((name, _)) => (name, true),
        None => (reference, false),
    };
    let (name, tag) = match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => return None,
    };
    let name = name
        .trim_start_matches("docker.io/")
        .trim_start_matches("index.docker.io/")
        .trim_start_matches("library/");
    let toolchain = TOOLCHAINS.iter().find(|t| t.images.contains(&name))?;
    let (version_text, variant) = tag.split_once('-').unwrap_or((tag, ""));
    let version = match parse_version(version_text) {
        Some(v) => v,
        None if toolchain.name == "Node.js" => vec![node_codename(version_text)?],
        None => return None,
    };
    Some(ImageTag {
        toolchain,
        version,
        version_text: version_text.to_string(),
        variant: variant.to_string(),
        digest,
    })
}

/// `1.22`, `v20.11.0`, `go1.23.1` → components; `None` for anything else (`stable`,
/// `1.23rc1`, `3.x`).
pub fn parse_version(text: &str) -> Option<Version> {
    let text = text.trim().trim_start_matches("go").trim_start_matches('v');
    let parts: Option<Version> = text.split('.').map(|p| p.parse().ok()).collect();
    parts.filter(|p| (1..=4).contains(&p.len()))
}

/// Whether a tag version provides `minimum`: a tag without a patch (`1.21`) is the newest
/// release of its line, so missing components of the tag satisfy anything.
pub fn provides(tag: &[u64], minimum: &[u64]) -> bool {
    for (i, need) in minimum.iter().enumerate() {
        match tag.get(i) {
            None => return true,
            Some(have) if have > need => return true,
            Some(have) if have < need => return false,
            Some(_) => {}
        }
    }
    true
}

/// The smallest tag version of the same precision as `tag` that provides `minimum`:
/// `1.21` for `go 1.21.5` stays `1.21`, `1.20` becomes `1.22` for `go 1.22.3`.
pub fn raised(tag: &[u64], minimum: &[u64]) -> Version {
    (0..tag.len())
        .map(|i| minimum.get(i).copied().unwrap_or(0))
        .collect()
}

pub fn version_text(version: &[u64]) -> String {
    version
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// The lowest Python a PEP 440 specifier (`>=3.10,<3.13`, `~=3.11`, `==3.12.*`) or a Poetry
/// constraint (`^3.11`, `>=3.9,<4.0 || ^3.12`) admits; `None` when it sets no lower bound.
fn python_minimum(spec: &str) -> Option<Version> {
    alternatives_minimum(
        spec,
        |clause| {
            let clause = clause.trim();
            let op_end = clause
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(clause.len());
            let (op, version) = clause.split_at(op_end);
            let version = parse_version(version.trim_end_matches(".*"))?;
            match op.trim() {
                ">=" | ">" | "~=" | "==" | "===" | "^" | "~" | "" => Some(version),
                _ => None,
            }
        },
        &[','],
    )
}

/// The lowest Node.js a semver range (`>=18.17`, `^20 || ^22`, `18.x`, `16 - 20`) admits.
fn semver_minimum(spec: &str) -> Option<Version> {
    // `>= 18 < 23`: an operator may stand apart from its version.
    let mut glued = String::with_capacity(spec.len());
    for c in spec.chars() {
        if !(c == ' ' && glued.ends_with(['>', '<', '=', '^', '~'])) {
            glued.push(c);
        }
    }
    alternatives_minimum(
        &glued,
        |clause| {
            let clause = clause.trim().trim_start_matches('v');
            let op_end = clause
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(clause.len());
            let (op, version) = clause.split_at(op_end);
            let version: Version = version
                .split('.')
                .take_while(|p| !matches!(*p, "x" | "X" | "*"))
                .map(|p| p.trim_start_matches('v').parse().ok())
                .collect::<Option<_>>()?;
            if version.is_empty() {
                return None;
            }
            match op.trim() {
                ">=" | ">" | "^" | "~" | "=" | "" => Some(version),
                _ => None,
            }
        },
        &[' '],
    )
}

/// Alternatives split by `||` (the lowest wins); within one, clauses split by `and` (the
/// highest lower bound wins; a clause without one says nothing). A hyphen range `a - b`
/// keeps `a`.
fn alternatives_minimum(
    spec: &str,
    lower_bound: impl Fn(&str) -> Option<Version>,
    and: &[char],
) -> Option<Version> {
    let mut lowest: Option<Version> = None;
    for alternative in spec.split("||").flat_map(|a| a.split(" or ")) {
        let alternative = alternative.split(" - ").next().unwrap_or("");
        let bounds = alternative
            .split(and)
            .filter(|c| !c.trim().is_empty())
            .filter_map(&lower_bound)
            .max();
        let bound = bounds?;
        if lowest.as_ref().is_none_or(|l| bound < *l) {
            lowest = Some(bound);
        }
    }
    lowest
}

fn first_line(text: &str) -> Option<(&str, usize)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (l.trim(), i + 1))
        .find(|(l, _)| !l.is_empty() && !l.starts_with('#'))
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(1, |i| i + 1)
}

/// A project file a stage builds from, with what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectNeed {
    /// Context path of the file.
    pub path: String,
    pub file: ProjectFile,
    pub requirement: Requirement,
}

impl Model {
    /// What the project files a stage receives from the build context ask of `toolchain`:
    /// files its COPYs name, those in the directories they copy, and those beside the files
    /// they copy (the `.nvmrc` of a copied package.json). A file elsewhere in the context (a
    /// root pyproject.toml when the stage copies `services/api/requirements.txt`) belongs to
    /// another project. The first file of the toolchain's list that states a version decides.
    pub fn project_need(
        &self,
        stage: usize,
        toolchain: &Toolchain,
        files: &dyn ProjectFiles,
    ) -> Option<ProjectNeed> {
        let sources: Vec<&str> = self
            .stage_chain(stage)
            .into_iter()
            .flat_map(|s| self.copies_of(s))
            .flat_map(|c| &c.sources)
            .map(|s| s.trim_end_matches('/'))
            .collect();
        // Whether the context may hold anything at each source, asked once and not for each
        // file name: a source that is not there brings no project file, itself or in it (a
        // stage of 300,000 COPYs asked the disk about millions of paths under them).
        let held: Vec<bool> = sources.iter().map(|s| files.may_hold(s)).collect();
        // In the sources' order, each path once.
        for file in toolchain.files {
            for name in file.names() {
                let mut tried = foldhash::HashSet::default();
                let paths = sources
                    .iter()
                    .zip(&held)
                    .flat_map(|(source, &held)| candidates(source, name, held));
                for path in paths {
                    if tried.contains(&path) {
                        continue;
                    }
                    if let Some(requirement) = files.read(&path).and_then(|t| file.requirement(&t))
                    {
                        return Some(ProjectNeed {
                            path,
                            file: *file,
                            requirement,
                        });
                    }
                    tried.insert(path);
                }
            }
        }
        None
    }
}

/// Where a COPY of `source` may bring the project file `name`: `source` itself, in it (a
/// directory), or beside it; only beside it when the context holds nothing at `source`
/// (`held` false).
fn candidates(source: &str, name: &str, held: bool) -> impl Iterator<Item = String> {
    let (parent, last) = match source.rsplit_once('/') {
        Some((parent, last)) => (Some(parent), last),
        None => (None, source),
    };
    let (itself, inside, beside) = if last == name {
        (held.then(|| source.to_string()), None, None)
    } else {
        let inside =
            (held && !has_wildcard(last) && !last.is_empty()).then(|| format!("{source}/{name}"));
        let beside = match parent {
            Some(parent) if !has_wildcard(parent) => Some(format!("{parent}/{name}")),
            Some(_) => None,
            None => Some(name.to_string()),
        };
        (None, inside, beside)
    };
    itself.into_iter().chain(inside).chain(beside)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_name_a_toolchain_version_and_a_variant() {
        let tag = image_tag("golang:1.21.5-alpine3.19").unwrap();
        assert_eq!(
            (
                tag.toolchain.name,
                tag.version.clone(),
                tag.variant.as_str()
            ),
            ("Go", vec![1, 21, 5], "alpine3.19")
        );
        let tag = image_tag("docker.io/library/python:3.11-slim-bookworm@sha256:abc").unwrap();
        assert_eq!(
            (tag.version.clone(), tag.variant.as_str(), tag.digest),
            (vec![3, 11], "slim-bookworm", true)
        );
        assert_eq!(image_tag("node:iron-alpine").unwrap().version, vec![20]);
        assert!(image_tag("golang:alpine").is_none());
        assert!(image_tag("golang").is_none());
        assert!(image_tag("golang:1.23rc1").is_none());
        assert!(image_tag("myorg/golang:1.21").is_none());
        assert!(image_tag("registry:5000/python").is_none());
    }

    #[test]
    fn a_tag_without_a_patch_is_the_newest_of_its_line() {
        assert!(provides(&[1, 21], &[1, 21, 5]));
        assert!(!provides(&[1, 21, 3], &[1, 21, 5]));
        assert!(!provides(&[1, 21], &[1, 22]));
        assert!(provides(&[3], &[3, 12]));
        assert!(provides(&[22], &[20, 11]));
        assert_eq!(raised(&[1, 20], &[1, 22, 3]), vec![1, 22]);
        assert_eq!(raised(&[1, 20, 1], &[1, 22]), vec![1, 22, 0]);
        assert_eq!(raised(&[18], &[20, 11, 0]), vec![20]);
    }

    #[test]
    fn go_before_1_21_reads_the_go_line_as_advisory() {
        let refuses = |tag: &[u64], minimum: &[u64]| ProjectFile::GoMod.refuses(tag, minimum);
        assert!(refuses(&[1, 21, 0], &[1, 22]));
        assert!(refuses(&[1, 22], &[1, 23, 1]));
        assert!(!refuses(&[1, 11], &[1, 13]));
        assert!(!refuses(&[1, 20], &[1, 21]));
        // The backport: the newest 1.19 and 1.20 releases refuse Go 1.22 and later.
        assert!(refuses(&[1, 20], &[1, 22, 3]));
        assert!(refuses(&[1, 19, 13], &[1, 22]));
        assert!(!refuses(&[1, 20, 7], &[1, 22]));
        assert!(!refuses(&[1, 18], &[1, 22]));
        assert!(ProjectFile::PyProject.refuses(&[3, 10], &[3, 11]));
    }

    #[test]
    fn project_files_state_their_minimum() {
        let req = |f: ProjectFile, t: &str| f.requirement(t).map(|r| r.minimum);
        assert_eq!(
            req(
                ProjectFile::GoMod,
                "module x\n\ngo 1.22.3 // pinned\ntoolchain go1.23.1\n"
            ),
            Some(vec![1, 22, 3])
        );
        assert_eq!(
            req(
                ProjectFile::PyProject,
                "[project]\nrequires-python = \">=3.10,<3.13\"\n"
            ),
            Some(vec![3, 10])
        );
        assert_eq!(
            req(
                ProjectFile::PyProject,
                "[project]\nrequires-python = \"~=3.11.2\"\n"
            ),
            Some(vec![3, 11, 2])
        );
        assert_eq!(
            req(
                ProjectFile::PyProject,
                "[project]\nrequires-python = \"<3.13\"\n"
            ),
            None
        );
        assert_eq!(
            req(
                ProjectFile::PyProject,
                "[tool.poetry.dependencies]\npython = \"^3.12\"\n"
            ),
            Some(vec![3, 12])
        );
        assert_eq!(
            req(
                ProjectFile::PyProject,
                "[tool.poetry.dependencies]\npython = \">=3.9,<4.0 || ^3.12\"\n"
            ),
            Some(vec![3, 9])
        );
        assert_eq!(
            req(ProjectFile::PythonVersion, "# pinned\n3.12.4\n"),
            Some(vec![3, 12, 4])
        );
        assert_eq!(req(ProjectFile::PythonVersion, "pypy3.10\n"), None);
        assert_eq!(
            req(
                ProjectFile::PackageJson,
                r#"{"engines": {"node": ">=18.17.0"}}"#
            ),
            Some(vec![18, 17, 0])
        );
        assert_eq!(
            req(
                ProjectFile::PackageJson,
                r#"{"engines": {"node": "^20 || ^22"}}"#
            ),
            Some(vec![20])
        );
        assert_eq!(
            req(ProjectFile::PackageJson, r#"{"engines": {"node": "20.x"}}"#),
            Some(vec![20])
        );
        assert_eq!(
            req(
                ProjectFile::PackageJson,
                r#"{"engines": {"node": ">= 18 < 23"}}"#
            ),
            Some(vec![18])
        );
        assert_eq!(
            req(ProjectFile::PackageJson, r#"{"engines": {"node": "*"}}"#),
            None
        );
        assert_eq!(req(ProjectFile::Nvmrc, "v20.11.0\n"), Some(vec![20, 11, 0]));
        assert_eq!(req(ProjectFile::Nvmrc, "lts/iron\n"), Some(vec![20]));
        assert_eq!(req(ProjectFile::Nvmrc, "lts/*\n"), None);
        assert_eq!(
            req(
                ProjectFile::RustToolchain,
                "[toolchain]\nchannel = \"1.78.0\"\n"
            ),
            Some(vec![1, 78, 0])
        );
        assert_eq!(req(ProjectFile::RustToolchain, "stable\n"), None);
        assert_eq!(req(ProjectFile::RustToolchain, "1.80\n"), Some(vec![1, 80]));
        assert_eq!(
            req(
                ProjectFile::CargoToml,
                "[package]\nname = \"x\"\nrust-version = \"1.74\"\n"
            ),
            Some(vec![1, 74])
        );
        assert_eq!(
            req(
                ProjectFile::CargoToml,
                "[workspace.package]\nrust-version = \"1.81\"\n"
            ),
            Some(vec![1, 81])
        );
        assert_eq!(req(ProjectFile::CargoToml, "not toml ["), None);
    }
}

#[cfg(test)]
mod project_files {
    use super::*;
    use crate::syntax::dockerfile::parse;
    use std::collections::HashMap;

    struct Files(HashMap<&'static str, &'static str>);

    impl ProjectFiles for Files {
        fn read(&self, relative: &str) -> Option<String> {
            self.0.get(relative).map(|t| t.to_string())
        }
    }

    fn need(dockerfile: &str, files: &[(&'static str, &'static str)]) -> Option<String> {
        let model = Model::build(&parse(dockerfile));
        let toolchain = image_tag(&model.stages[0].base)?.toolchain;
        let files = Files(files.iter().copied().collect());
        model
            .project_need(0, toolchain, &files)
            .map(|n| format!("{}:{}", n.path, n.requirement.said))
    }

    #[test]
    fn the_stage_copies_the_project_or_sits_beside_it() {
        let root = [
            (
                "pyproject.toml",
                "[project]\nrequires-python = \">=3.11\"\n",
            ),
            ("services/worker/requirements.txt", "requests\n"),
            ("web/package.json", "{\"name\": \"web\"}"),
            ("web/.nvmrc", "22\n"),
        ];
        // Another project's file: the root pyproject.toml is not the worker's.
        assert_eq!(
            need(
                "FROM python:3.9\nCOPY services/worker/requirements.txt .\n",
                &root
            ),
            None
        );
        assert_eq!(
            need("FROM python:3.9\nCOPY . /app\n", &root).as_deref(),
            Some("pyproject.toml:requires-python = \">=3.11\"")
        );
        assert_eq!(
            need(
                "FROM python:3.9\nCOPY requirements.txt pyproject.toml ./\n",
                &root
            )
            .as_deref(),
            Some("pyproject.toml:requires-python = \">=3.11\"")
        );
        // The .nvmrc beside a copied package.json (engines says nothing), and through a glob.
        assert_eq!(
            need("FROM node:18\nCOPY web/package.json ./\n", &root).as_deref(),
            Some("web/.nvmrc:22")
        );
        assert_eq!(
            need("FROM node:18\nCOPY web/package*.json ./\n", &root).as_deref(),
            Some("web/.nvmrc:22")
        );
        assert_eq!(need("FROM node:18\nRUN npm i -g pnpm\n", &root), None);
    }

    /// Reads what it is asked, and remembers the asks.
    struct Asked(std::cell::RefCell<Vec<String>>);

    impl ProjectFiles for Asked {
        fn read(&self, relative: &str) -> Option<String> {
            self.0.borrow_mut().push(relative.to_string());
            None
        }
    }

    #[test]
    fn each_place_is_asked_once_in_the_sources_order() {
        let model = Model::build(&parse("FROM python:3.9\nCOPY a/x a/y /app/\n"));
        let toolchain = image_tag(&model.stages[0].base).unwrap().toolchain;
        let asked = Asked(Default::default());
        assert!(model.project_need(0, toolchain, &asked).is_none());
        // In each copied path, then beside it: `a/` once for both.
        assert_eq!(
            asked.0.into_inner(),
            [
                "a/x/pyproject.toml",
                "a/pyproject.toml",
                "a/y/pyproject.toml",
                "a/x/.python-version",
                "a/.python-version",
                "a/y/.python-version",
            ]
        );
    }
}
