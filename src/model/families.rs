//! Base image families by weight: language SDKs (`golang`, `rust`, `maven`, the .NET SDK),
//! CUDA's `-devel` images, and the full variants of images that have a `-slim` one; with the
//! lighter image that runs the same program, and the toolchains each one ships.

use super::builds::Ecosystem;
use super::images::{repository, repository_matches, split_reference};

/// Why an image is heavy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    /// A language SDK: compilers and build tools a runtime does not need.
    Sdk,
    /// CUDA's `-devel` tags: nvcc and headers on top of the runtime libraries.
    Devel,
    /// Compilers, headers and VCS clients (`python:3.12` on `buildpack-deps`), or just
    /// documentation and locales (`debian:bookworm`), where a `-slim` tag exists.
    Full,
}

/// What docklint knows of a heavy image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heavy {
    pub weight: Weight,
    /// What it is, for messages ("the Go SDK").
    pub what: &'static str,
    /// Toolchains it ships: builds of these ecosystems need nothing installed.
    pub toolchains: &'static [Ecosystem],
    /// The lighter image for the same tag, when one maps exactly.
    pub lighter: Option<String>,
    /// What to use instead, in words (with the lighter image named).
    pub advice: String,
}

/// Debian (and Ubuntu) release names that appear in official tags.
pub const SUITES: &[&str] = &[
    "buster", "bullseye", "bookworm", "trixie", "forky", "focal", "jammy", "noble",
];

const COMPILERS: &[Ecosystem] = &[Ecosystem::Native];

/// A family row: the repository, whether a tag is the heavy variant, and how to describe it.
struct Family {
    repository: &'static str,
    heavy_tag: fn(&str) -> bool,
    weight: Weight,
    what: &'static str,
    toolchains: &'static [Ecosystem],
    /// The lighter reference for a tag (`None`: no exact mapping).
    lighter: fn(repository: &str, tag: &str) -> Option<String>,
    advice: &'static str,
}

fn any_tag(_: &str) -> bool {
    true
}

fn not_slim(tag: &str) -> bool {
    !["slim", "alpine", "windowsservercore", "nanoserver"]
        .iter()
        .any(|l| tag.contains(l))
}

fn devel(tag: &str) -> bool {
    tag.split('-').any(|w| w == "devel" || w.ends_with("devel"))
}

fn jdk(tag: &str) -> bool {
    !tag.contains("jre") && !tag.contains("alpine-slim")
}

fn full_buildpack(tag: &str) -> bool {
    !tag.ends_with("-curl") && !tag.ends_with("-scm") && tag != "curl" && tag != "scm"
}

fn no_mapping(_: &str, _: &str) -> Option<String> {
    None
}

/// `python:3.12` → `python:3.12-slim`, `python:3.12-bookworm` → `python:3.12-slim-bookworm`.
fn slim_before_suite(repository: &str, tag: &str) -> Option<String> {
    let tag = match tag {
        "" | "latest" => "slim".to_string(),
        t if SUITES.contains(&t) => format!("slim-{t}"),
        t => match SUITES.iter().find(|s| t.ends_with(&format!("-{s}"))) {
            Some(suite) => format!("{}-slim-{suite}", &t[..t.len() - suite.len() - 1]),
            None => format!("{t}-slim"),
        },
    };
    Some(format!("{repository}:{tag}"))
}

/// `node:20` → `node:20-slim`, `node:20-bookworm` → `node:20-bookworm-slim`, `debian:12` →
/// `debian:12-slim`.
fn slim_after(repository: &str, tag: &str) -> Option<String> {
    Some(match tag {
        "" | "latest" if repository == "debian" => "debian:stable-slim".to_string(),
        "" | "latest" => format!("{repository}:slim"),
        t => format!("{repository}:{t}-slim"),
    })
}

/// `12.4.1-cudnn-devel-ubuntu22.04` → `12.4.1-cudnn-runtime-ubuntu22.04`.
fn devel_to_runtime(repository: &str, tag: &str) -> Option<String> {
    Some(format!(
        "{repository}:{}",
        tag.replacen("devel", "runtime", 1)
    ))
}

/// `eclipse-temurin:21` → `21-jre`, `21-jdk-jammy` → `21-jre-jammy`, `21-jammy` →
/// `21-jre-jammy`.
fn temurin_jre(repository: &str, tag: &str) -> Option<String> {
    let tag = if tag.contains("jdk") {
        tag.replacen("jdk", "jre", 1)
    } else if tag.is_empty() || tag == "latest" {
        return None;
    } else {
        match tag.split_once('-') {
            Some((version, rest)) => format!("{version}-jre-{rest}"),
            None => format!("{tag}-jre"),
        }
    };
    Some(format!("{repository}:{tag}"))
}

/// `mcr.microsoft.com/dotnet/sdk:8.0` → `mcr.microsoft.com/dotnet/aspnet:8.0`.
fn dotnet_runtime(repository: &str, tag: &str) -> Option<String> {
    let base = repository.strip_suffix("/sdk")?;
    Some(match tag {
        "" => format!("{base}/aspnet"),
        t => format!("{base}/aspnet:{t}"),
    })
}

const FAMILIES: &[Family] = &[
    Family {
        repository: "golang",
        heavy_tag: any_tag,
        weight: Weight::Sdk,
        what: "the Go SDK",
        toolchains: &[Ecosystem::Go, Ecosystem::Native],
        lighter: no_mapping,
        advice: "build in a `golang` stage and copy the binary onto gcr.io/distroless/static-debian12, scratch or alpine",
    },
    Family {
        repository: "rust",
        heavy_tag: any_tag,
        weight: Weight::Sdk,
        what: "the Rust toolchain",
        toolchains: &[Ecosystem::Rust, Ecosystem::Native],
        lighter: no_mapping,
        advice: "build in a `rust` stage and copy the binary onto debian:<suite>-slim (the builder's Debian release) or gcr.io/distroless/cc-debian12",
    },
    Family {
        repository: "maven",
        heavy_tag: any_tag,
        weight: Weight::Sdk,
        what: "Maven and a JDK",
        toolchains: &[Ecosystem::Java],
        lighter: no_mapping,
        advice: "build in a `maven` stage and copy the jar onto eclipse-temurin:<java>-jre",
    },
    Family {
        repository: "gradle",
        heavy_tag: any_tag,
        weight: Weight::Sdk,
        what: "Gradle and a JDK",
        toolchains: &[Ecosystem::Java],
        lighter: no_mapping,
        advice: "build in a `gradle` stage and copy the jar onto eclipse-temurin:<java>-jre",
    },
    Family {
        repository: "eclipse-temurin",
        heavy_tag: jdk,
        weight: Weight::Sdk,
        what: "a JDK",
        toolchains: &[Ecosystem::Java],
        lighter: temurin_jre,
        advice: "`{lighter}` runs the same Java without the compiler",
    },
    Family {
        repository: "openjdk",
        heavy_tag: jdk,
        weight: Weight::Sdk,
        what: "a JDK",
        toolchains: &[Ecosystem::Java],
        lighter: no_mapping,
        advice: "run on eclipse-temurin:<java>-jre (the openjdk images are deprecated)",
    },
    Family {
        repository: "mcr.microsoft.com/dotnet/sdk",
        heavy_tag: any_tag,
        weight: Weight::Sdk,
        what: "the .NET SDK",
        toolchains: &[Ecosystem::Dotnet],
        lighter: dotnet_runtime,
        advice: "`{lighter}` runs the published app (`mcr.microsoft.com/dotnet/runtime` for a console app)",
    },
    Family {
        repository: "gcc",
        heavy_tag: any_tag,
        weight: Weight::Sdk,
        what: "GCC",
        toolchains: COMPILERS,
        lighter: no_mapping,
        advice: "compile in a `gcc` stage and copy the program onto debian:<suite>-slim",
    },
    Family {
        repository: "buildpack-deps",
        heavy_tag: full_buildpack,
        weight: Weight::Full,
        what: "buildpack-deps, with compilers, headers and VCS clients",
        toolchains: COMPILERS,
        lighter: no_mapping,
        advice: "build in a buildpack-deps stage and run on debian:<suite>-slim",
    },
    Family {
        repository: "python",
        heavy_tag: not_slim,
        weight: Weight::Full,
        what: "the full Python image with compilers, headers and VCS clients",
        toolchains: COMPILERS,
        lighter: slim_before_suite,
        advice: "`{lighter}` runs the same Python without them",
    },
    Family {
        repository: "ruby",
        heavy_tag: not_slim,
        weight: Weight::Full,
        what: "the full Ruby image with compilers, headers and VCS clients",
        toolchains: COMPILERS,
        lighter: slim_before_suite,
        advice: "`{lighter}` runs the same Ruby without them",
    },
    Family {
        repository: "node",
        heavy_tag: not_slim,
        weight: Weight::Full,
        what: "the full Node.js image with compilers, headers and VCS clients",
        toolchains: COMPILERS,
        lighter: slim_after,
        advice: "`{lighter}` runs the same Node.js without them",
    },
    Family {
        repository: "debian",
        heavy_tag: not_slim,
        weight: Weight::Full,
        what: "the full Debian image with documentation and locales",
        toolchains: &[],
        lighter: slim_after,
        advice: "`{lighter}` is the same release without them",
    },
    Family {
        repository: "nvidia/cuda",
        heavy_tag: devel,
        weight: Weight::Devel,
        what: "a CUDA devel image with nvcc, headers and static libraries",
        toolchains: COMPILERS,
        lighter: devel_to_runtime,
        advice: "`{lighter}` has the same CUDA libraries without them",
    },
    Family {
        repository: "nvcr.io/nvidia/cuda",
        heavy_tag: devel,
        weight: Weight::Devel,
        what: "a CUDA devel image with nvcc, headers and static libraries",
        toolchains: COMPILERS,
        lighter: devel_to_runtime,
        advice: "`{lighter}` has the same CUDA libraries without them",
    },
    Family {
        repository: "pytorch/pytorch",
        heavy_tag: devel,
        weight: Weight::Devel,
        what: "a PyTorch devel image with nvcc, headers and static libraries",
        toolchains: COMPILERS,
        lighter: devel_to_runtime,
        advice: "`{lighter}` has the same PyTorch and CUDA libraries without them",
    },
];

/// What makes `image` (a reference, variables expanded) heavy; `None` for an image not in
/// the table, a light tag, or a reference pinned by digest (its tag may not be what runs).
pub fn heavy(image: &str) -> Option<Heavy> {
    if image.contains('@') || image.contains('$') {
        return None;
    }
    let (repository, tag) = split_reference(image);
    let family = FAMILIES
        .iter()
        .find(|f| repository_matches(repository, f.repository))?;
    if !(family.heavy_tag)(tag) {
        return None;
    }
    let lighter = (family.lighter)(repository, tag);
    let advice = family
        .advice
        .replace("{lighter}", lighter.as_deref().unwrap_or("a lighter tag"));
    Some(Heavy {
        weight: family.weight,
        what: family.what,
        toolchains: family.toolchains,
        lighter,
        advice,
    })
}

/// Images meant to be worked in, not shipped: dev containers (a `.devcontainer` folder, or a
/// stage on a dev container image) and files named for development (`Dockerfile.dev`,
/// `dev.Dockerfile`, `Dockerfile-devel`), and Jupyter notebook images, workbenches whose
/// users compile packages. Build tools are their purpose.
pub fn is_dev_environment(path: &std::path::Path, model: &super::Model) -> bool {
    let named_for_development = path.file_name().is_some_and(|name| {
        name.to_string_lossy()
            .to_ascii_lowercase()
            .split(['.', '-', '_'])
            .any(|word| matches!(word, "dev" | "devel" | "development" | "devcontainer"))
    });
    named_for_development
        || path.components().any(|c| c.as_os_str() == ".devcontainer")
        || model.stages.iter().any(|s| {
            let repo = repository(s.base_expanded.as_deref().unwrap_or(&s.base));
            [
                "mcr.microsoft.com/devcontainers/",
                "mcr.microsoft.com/vscode/devcontainers/",
                "jupyter/",
                "quay.io/jupyter/",
            ]
            .iter()
            .any(|prefix| repository_matches(repo, prefix))
        })
}

/// Operating system and language images whose default command is a shell or a REPL: an
/// image built on one without a CMD or ENTRYPOINT of its own runs no program of its own. It
/// is a base or a build environment for others to build on (the official `golang`, `rust`
/// and `php` images keep their compilers on purpose).
const SHELL_IMAGES: &[&str] = &[
    "debian",
    "ubuntu",
    "alpine",
    "busybox",
    "fedora",
    "centos",
    "rockylinux",
    "almalinux",
    "amazonlinux",
    "archlinux",
    "oraclelinux",
    "opensuse/",
    "redhat/",
    "registry.access.redhat.com/",
    "mcr.microsoft.com/azurelinux/",
    "mcr.microsoft.com/cbl-mariner/",
    "buildpack-deps",
    "python",
    "node",
    "golang",
    "rust",
    "gcc",
    "ruby",
    "php",
    "perl",
    "openjdk",
    "eclipse-temurin",
    "amazoncorretto",
    "maven",
    "gradle",
    "nvidia/cuda",
    "nvcr.io/nvidia/",
    "pytorch/pytorch",
    "rocm/",
    "mcr.microsoft.com/dotnet/sdk",
];

/// Whether an image built on `base` (variables expanded) without a CMD or ENTRYPOINT of its
/// own is a base or build environment rather than an application: `base` runs a shell or a
/// REPL by default, or docklint cannot tell what it is (a variable).
pub fn is_toolbox_base(base: &str) -> bool {
    let repo = repository(base);
    base.contains('$')
        || SHELL_IMAGES
            .iter()
            .any(|prefix| repository_matches(repo, prefix))
}

/// Shells and REPLs: an image whose command is one of them alone (`bash`, `php -a`,
/// `python3`) is meant to be worked in or built on, like an image without a command.
const INTERACTIVE: &[&str] = &[
    "sh",
    "bash",
    "ash",
    "zsh",
    "dash",
    "fish",
    "python",
    "python3",
    "ipython",
    "node",
    "php",
    "irb",
    "ruby",
    "jshell",
    "ghci",
    "iex",
    "erl",
    "pwsh",
    "powershell",
    "cmd",
];

/// Entry points that only start the command they are given (`docker-php-entrypoint`,
/// `tini --`).
fn is_wrapper(word: &str) -> bool {
    let name = super::commands::basename(word);
    (name.starts_with("docker-") && name.contains("entrypoint"))
        || matches!(name, "entrypoint.sh" | "tini" | "dumb-init" | "--")
}

/// Test runners: an image whose command runs one is a test environment, where development
/// dependencies and toolchains are the point.
const TEST_RUNNERS: &[&str] = &["pytest", "py.test", "tox", "nox", "jest", "vitest", "mocha"];

/// Whether the words of an image's command (see `image_command`) make it a place to work
/// or test in rather than a program to run: only a shell or a REPL (`bash`, `php -a`), or
/// a test runner (`pytest`, `python -m pytest`, `npm test`, `go test`).
pub fn is_workbench_command(words: &[String]) -> bool {
    let rest: Vec<&str> = words
        .iter()
        .map(|w| super::commands::basename(w))
        .skip_while(|w| is_wrapper(w))
        .collect();
    let interactive = !rest.is_empty()
        && rest
            .iter()
            .all(|w| w.starts_with('-') || INTERACTIVE.contains(w));
    let tests = match rest.as_slice() {
        [first, ..] if TEST_RUNNERS.contains(first) => true,
        [_, "-m", module, ..] => TEST_RUNNERS.contains(module),
        [tool, "test", ..] => {
            matches!(
                *tool,
                "npm" | "yarn" | "pnpm" | "bun" | "go" | "cargo" | "make"
            )
        }
        _ => false,
    };
    interactive || tests
}

/// A base, build or test environment, where compilers, development dependencies and full
/// images are the point: an image that runs no program of its own on an OS or language
/// image (`golang`, `rust`), whose command is a shell, a REPL or a test runner, or a stage
/// named for development or tests (`dev-image`, `ci`), a target for those.
pub fn is_base_for_others(
    df: &crate::syntax::dockerfile::Dockerfile,
    model: &super::Model,
    stage: usize,
) -> bool {
    let root = &model.stages[model.stage_chain(stage)[0]];
    let base = root.base_expanded.as_deref().unwrap_or(&root.base);
    let named_for_work = model.stages[stage].name.as_deref().is_some_and(|name| {
        name.to_ascii_lowercase()
            .split(['-', '_', '.'])
            .any(|word| {
                matches!(
                    word,
                    "dev" | "devel" | "development" | "ci" | "test" | "tests"
                )
            })
    });
    named_for_work
        || (super::image_programs(df, model, stage).is_empty() && is_toolbox_base(base))
        || is_workbench_command(&super::image_command(df, model, stage))
}

/// The Debian or Ubuntu release a tag names (`1.22-bookworm` → `bookworm`).
pub fn suite_of(image: &str) -> Option<&'static str> {
    let tag = split_reference(image).1;
    SUITES
        .iter()
        .find(|s| tag.split('-').any(|w| w == **s))
        .copied()
}

/// The Alpine release a tag names (`1.22-alpine3.20` → `3.20`, `alpine` → ``).
pub fn alpine_of(image: &str) -> Option<&str> {
    let tag = split_reference(image).1;
    tag.split('-')
        .find_map(|w| w.strip_prefix("alpine"))
        .filter(|v| v.is_empty() || v.starts_with(|c: char| c.is_ascii_digit()))
}

/// (repository, tag) of a reference: `docker.io/library/` dropped, no digest.
pub fn repository_and_tag(image: &str) -> (&str, &str) {
    split_reference(image)
}

/// The reference with its tag replaced: `docker.io/library/python:3.12` with `3.12-slim`.
pub fn with_tag(image: &str, tag: &str) -> String {
    let without = match image.rsplit_once(':') {
        Some((repo, old)) if !old.contains('/') => repo,
        _ => image,
    };
    format!("{without}:{tag}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lighter(image: &str) -> Option<String> {
        heavy(image).and_then(|h| h.lighter)
    }

    #[test]
    fn lighter_variants() {
        assert_eq!(lighter("python:3.12").as_deref(), Some("python:3.12-slim"));
        assert_eq!(
            lighter("python:3.12-bookworm").as_deref(),
            Some("python:3.12-slim-bookworm")
        );
        assert_eq!(lighter("python").as_deref(), Some("python:slim"));
        assert_eq!(heavy("python:3.12-slim"), None);
        assert_eq!(heavy("python:3.12-alpine"), None);
        assert_eq!(
            lighter("node:20-bookworm").as_deref(),
            Some("node:20-bookworm-slim")
        );
        assert_eq!(
            lighter("debian:bookworm").as_deref(),
            Some("debian:bookworm-slim")
        );
        assert_eq!(lighter("debian").as_deref(), Some("debian:stable-slim"));
        assert_eq!(
            lighter("nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04").as_deref(),
            Some("nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04")
        );
        assert_eq!(heavy("nvidia/cuda:12.4.1-runtime-ubuntu22.04"), None);
        assert_eq!(
            lighter("eclipse-temurin:21-jdk-jammy").as_deref(),
            Some("eclipse-temurin:21-jre-jammy")
        );
        assert_eq!(
            lighter("eclipse-temurin:21").as_deref(),
            Some("eclipse-temurin:21-jre")
        );
        assert_eq!(
            lighter("mcr.microsoft.com/dotnet/sdk:8.0").as_deref(),
            Some("mcr.microsoft.com/dotnet/aspnet:8.0")
        );
        assert_eq!(heavy("golang:1.22").map(|h| h.weight), Some(Weight::Sdk));
        assert_eq!(heavy("buildpack-deps:bookworm-curl"), None);
        assert_eq!(heavy("python:3.12@sha256:abc"), None);
        assert_eq!(heavy("ubuntu:22.04"), None);
        assert_eq!(suite_of("rust:1.78-slim-bookworm"), Some("bookworm"));
        assert_eq!(alpine_of("golang:1.22-alpine3.20"), Some("3.20"));
        assert_eq!(
            with_tag("docker.io/library/python:3.12", "3.12-slim"),
            "docker.io/library/python:3.12-slim"
        );
        assert_eq!(with_tag("localhost:5000/app", "x"), "localhost:5000/app:x");
    }
}
