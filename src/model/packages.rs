//! System packages: what a RUN installs and removes with apt, apk, dnf, yum, microdnf, tdnf
//! and zypper; which packages are build tools (compilers, headers, build systems, language
//! toolchains, the VCS client that fetches sources); and the runtime library a `-dev`
//! package stands for, for a runtime stage that needs the library without its headers.

use super::builds::{arg_values, Ecosystem};
use super::commands::basename;
use super::tools::{Tool, APK, APT, DNF, DNF5, MICRODNF, TDNF, YUM, ZYPPER};
use super::Run;
use crate::source::Span;
use crate::syntax::shell::{Process, Script, StateKind};

/// The system package managers, with the programs and options of their rows in `tools`.
const MANAGERS: &[&Tool] = &[&APT, &APK, &DNF, &DNF5, &YUM, &MICRODNF, &TDNF, &ZYPPER];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Install,
    Remove,
    /// `apt-get autoremove`, `apt-get purge --auto-remove`, `dnf autoremove`: removes what
    /// was installed only as a dependency, or marked so.
    AutoRemove,
    /// `apt-mark auto`: the packages installed so far become removable by an autoremove.
    MarkAuto,
}

/// A package named on a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The name, without version, release, architecture or repository tag.
    pub name: String,
    /// The word as written (one `$buildDeps` word stands for several packages).
    pub raw: String,
    pub span: Span,
    /// Named by a variable the image keeps in its ENV (`$PHPIZE_DEPS` of the official `php`
    /// images): a list the image offers to the images built on it.
    pub published: bool,
}

/// One command that installs or removes packages.
#[derive(Debug, Clone)]
pub struct PackageChange {
    /// The tool's name in `tools` (`apt`, `apk`, `dnf` …).
    pub manager: &'static str,
    pub change: Change,
    /// Index in the RUN's `effects.steps`.
    pub step: usize,
    pub packages: Vec<Package>,
    /// `apk add --virtual NAME`: the name that removes them together.
    pub group: Option<String>,
}

/// The package installs and removals of `run`, in order.
pub fn package_changes(run: &Run) -> Vec<PackageChange> {
    let Some(script) = &run.script else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (index, step) in run.effects.steps.iter().enumerate() {
        let name = basename(&step.name);
        let values = arg_values(step, script);
        let args: Vec<&str> = values.iter().map(String::as_str).collect();
        if name == "apt-mark" && args.first() == Some(&"auto") {
            out.push(PackageChange {
                manager: "apt",
                change: Change::MarkAuto,
                step: index,
                packages: Vec::new(),
                group: None,
            });
            continue;
        }
        let Some(tool) = MANAGERS.iter().find(|t| t.runs_as(name)) else {
            continue;
        };
        let operands = tool.operand_indices(&args);
        let Some((&first, rest)) = operands.split_first() else {
            continue;
        };
        let auto_remove = args
            .iter()
            .any(|a| matches!(*a, "--auto-remove" | "--autoremove"));
        let change = match (tool.name, args[first]) {
            (_, "install" | "in" | "groupinstall") | ("apk", "add") => Change::Install,
            ("apk", "del") | (_, "remove" | "purge" | "erase" | "rm") if auto_remove => {
                Change::AutoRemove
            }
            ("apk", "del") | (_, "remove" | "purge" | "erase" | "rm") => Change::Remove,
            (_, "autoremove") => Change::AutoRemove,
            _ => continue,
        };
        let words = step.args(script);
        let mut packages = Vec::new();
        for &i in rest {
            let word = &words[i];
            let (names, published) = word_values(run, script, step.command, word, &values[i]);
            for value in names {
                packages.push(Package {
                    name: package_name(tool.name, &value),
                    raw: word.raw.to_string(),
                    span: word.span.clone(),
                    published,
                });
            }
        }
        let group = (tool.name == "apk")
            .then(|| option_value(&args, &["-t", "--virtual"]))
            .flatten();
        out.push(PackageChange {
            manager: tool.name,
            change,
            step: index,
            packages,
            group,
        });
    }
    out
}

fn option_value(args: &[&str], names: &[&str]) -> Option<String> {
    args.iter().enumerate().find_map(|(i, a)| {
        names.iter().find_map(|n| {
            if a == n {
                args.get(i + 1).map(|v| v.to_string())
            } else {
                a.strip_prefix(n)
                    .and_then(|r| r.strip_prefix('='))
                    .map(str::to_string)
            }
        })
    })
}

/// The package names one word stands for: itself, or the words of the shell variable it
/// expands (`$buildDeps` with `buildDeps='gcc make'` earlier in the RUN), split as the
/// shell splits an unquoted expansion; and whether the variable is one the image keeps in
/// its ENV.
fn word_values(
    run: &Run,
    script: &Script,
    command: usize,
    word: &crate::syntax::shell::Word,
    value: &str,
) -> (Vec<String>, bool) {
    let name = word
        .value
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .or_else(|| word.value.strip_prefix('$'))
        .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    let before = script.commands[command].span.start;
    let in_run = name.and_then(|name| {
        script
            .states
            .iter()
            .filter(|s| s.span.start < before && s.context.process == Process::Main)
            .filter_map(|s| match &s.kind {
                StateKind::Assignment(w) => w.value.strip_prefix(name)?.strip_prefix('='),
                _ => None,
            })
            .next_back()
            .map(str::to_string)
    });
    let published = in_run.is_none() && name.is_some_and(|name| run.scope.is_env(name));
    if !value.contains('\u{0}') {
        let words = value.split_whitespace().map(str::to_string).collect();
        return (words, published);
    }
    let Some(name) = name else {
        return (vec![word.raw.to_string()], false);
    };
    match in_run.or_else(|| run.env().known(name).map(str::to_string)) {
        Some(value) if !value.contains('$') => (
            value.split_whitespace().map(str::to_string).collect(),
            published,
        ),
        _ => (vec![word.raw.to_string()], false),
    }
}

/// A package name without what pins it: `gcc=4:12.2.0-3`, `gcc/bookworm`, `gcc:amd64`
/// (apt), `gcc>=12`, `gcc@edge` (apk).
fn package_name(manager: &str, word: &str) -> String {
    let cut: &[char] = match manager {
        "apt" => &['=', '/', ':'],
        "apk" => &['=', '<', '>', '~', '@'],
        _ => &['<', '>', '='],
    };
    word.split(cut).next().unwrap_or(word).to_string()
}

/// What a build-tool package brings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildTool {
    /// Compilers and the tools around them (`build-essential`, `gcc`, `make`, `cmake`).
    Compiler,
    /// Headers and static libraries (`-dev`, `-devel`).
    Headers,
    /// A language toolchain (`golang-go`, `rustc`, `openjdk-17-jdk`, `maven`).
    Toolchain(Ecosystem),
    /// A version-control client that fetched sources (`git`).
    Fetch,
}

/// Build-tool packages of Debian, Ubuntu, Alpine, Fedora and openSUSE by name; a trailing
/// `*` matches a prefix. `-dev` and `-devel` packages are headers (see [`build_tool`]).
const BUILD_TOOLS: &[(&str, BuildTool)] = &[
    ("build-essential", BuildTool::Compiler),
    ("build-base", BuildTool::Compiler),
    ("@development-tools", BuildTool::Compiler),
    ("@c-development", BuildTool::Compiler),
    ("Development Tools", BuildTool::Compiler),
    ("gcc", BuildTool::Compiler),
    ("gcc-*", BuildTool::Compiler),
    ("g++", BuildTool::Compiler),
    ("g++-*", BuildTool::Compiler),
    ("gfortran", BuildTool::Compiler),
    ("clang", BuildTool::Compiler),
    ("clang-*", BuildTool::Compiler),
    ("make", BuildTool::Compiler),
    ("cmake", BuildTool::Compiler),
    ("ninja-build", BuildTool::Compiler),
    ("samurai", BuildTool::Compiler),
    ("meson", BuildTool::Compiler),
    ("autoconf", BuildTool::Compiler),
    ("automake", BuildTool::Compiler),
    ("libtool", BuildTool::Compiler),
    ("pkg-config", BuildTool::Compiler),
    ("pkgconf", BuildTool::Compiler),
    ("pkgconfig", BuildTool::Compiler),
    ("dpkg-dev", BuildTool::Compiler),
    ("bison", BuildTool::Compiler),
    ("flex", BuildTool::Compiler),
    ("swig", BuildTool::Compiler),
    ("nasm", BuildTool::Compiler),
    ("yasm", BuildTool::Compiler),
    ("ccache", BuildTool::Compiler),
    ("redhat-rpm-config", BuildTool::Compiler),
    ("linux-headers", BuildTool::Headers),
    ("linux-headers-*", BuildTool::Headers),
    ("kernel-headers", BuildTool::Headers),
    ("golang", BuildTool::Toolchain(Ecosystem::Go)),
    ("golang-*", BuildTool::Toolchain(Ecosystem::Go)),
    ("go", BuildTool::Toolchain(Ecosystem::Go)),
    ("rustc", BuildTool::Toolchain(Ecosystem::Rust)),
    ("cargo", BuildTool::Toolchain(Ecosystem::Rust)),
    ("rust", BuildTool::Toolchain(Ecosystem::Rust)),
    ("default-jdk", BuildTool::Toolchain(Ecosystem::Java)),
    (
        "default-jdk-headless",
        BuildTool::Toolchain(Ecosystem::Java),
    ),
    ("openjdk-*-jdk", BuildTool::Toolchain(Ecosystem::Java)),
    (
        "openjdk-*-jdk-headless",
        BuildTool::Toolchain(Ecosystem::Java),
    ),
    ("openjdk*-jdk", BuildTool::Toolchain(Ecosystem::Java)),
    ("maven", BuildTool::Toolchain(Ecosystem::Java)),
    ("gradle", BuildTool::Toolchain(Ecosystem::Java)),
    ("dotnet-sdk-*", BuildTool::Toolchain(Ecosystem::Dotnet)),
    ("git", BuildTool::Fetch),
];

/// What a build-tool package brings; `None` for any other package.
pub fn build_tool(name: &str) -> Option<BuildTool> {
    let found = BUILD_TOOLS.iter().find(|(pattern, _)| {
        if let Some(prefix) = pattern.strip_suffix('*') {
            name.starts_with(prefix)
        } else if let Some((start, end)) = pattern.split_once('*') {
            name.starts_with(start) && name.ends_with(end) && name.len() > pattern.len()
        } else {
            name == *pattern
        }
    });
    // `openjdk-17-jdk-headless` before `openjdk-*-jdk`; a `-dev`/`-devel` name of a listed
    // toolchain (`golang-1.22-go` is one, `golang-github-…-dev` is headers).
    match found {
        Some(&(_, tool)) if !(matches!(tool, BuildTool::Toolchain(_)) && is_headers(name)) => {
            Some(tool)
        }
        _ if is_headers(name) => Some(BuildTool::Headers),
        _ => None,
    }
}

fn is_headers(name: &str) -> bool {
    name.ends_with("-dev") || name.ends_with("-devel") || name.ends_with("-headers")
}

/// The package a runtime stage needs for what a `-dev` package provided: `Some(None)` when
/// the runtime needs nothing (the headers of a library every image has), `None` when the
/// library is not in the table. Names are Debian bookworm's and Alpine's.
pub fn runtime_library(manager: &str, dev: &str) -> Option<Option<&'static str>> {
    let table: &[(&str, Option<&str>)] = match manager {
        "apt" => &[
            ("libpq-dev", Some("libpq5")),
            ("default-libmysqlclient-dev", Some("libmariadb3")),
            ("libmariadb-dev", Some("libmariadb3")),
            ("libmariadb-dev-compat", Some("libmariadb3")),
            ("libxml2-dev", Some("libxml2")),
            ("libxslt1-dev", Some("libxslt1.1")),
            ("libjpeg-dev", Some("libjpeg62-turbo")),
            ("libjpeg62-turbo-dev", Some("libjpeg62-turbo")),
            ("libpng-dev", Some("libpng16-16")),
            ("libyaml-dev", Some("libyaml-0-2")),
            ("libsqlite3-dev", Some("libsqlite3-0")),
            ("libmagic-dev", Some("libmagic1")),
            ("libssl-dev", Some("libssl3")),
            ("libffi-dev", Some("libffi8")),
            ("libgeos-dev", Some("libgeos-c1v5")),
            ("libfreetype6-dev", Some("libfreetype6")),
            ("libfreetype-dev", Some("libfreetype6")),
            ("liblcms2-dev", Some("liblcms2-2")),
            ("libwebp-dev", Some("libwebp7")),
            ("libzstd-dev", Some("libzstd1")),
            ("libsnappy-dev", Some("libsnappy1v5")),
            ("unixodbc-dev", Some("unixodbc")),
            ("libsasl2-dev", Some("libsasl2-2")),
            ("libbz2-dev", Some("libbz2-1.0")),
            ("liblzma-dev", Some("liblzma5")),
            ("zlib1g-dev", None),
            ("python3-dev", None),
            ("python-dev", None),
            ("libc6-dev", None),
            ("linux-libc-dev", None),
        ],
        "apk" => &[
            ("postgresql-dev", Some("libpq")),
            ("libpq-dev", Some("libpq")),
            ("mariadb-dev", Some("mariadb-connector-c")),
            ("mariadb-connector-c-dev", Some("mariadb-connector-c")),
            ("libffi-dev", Some("libffi")),
            ("jpeg-dev", Some("libjpeg-turbo")),
            ("libjpeg-turbo-dev", Some("libjpeg-turbo")),
            ("libpng-dev", Some("libpng")),
            ("libxml2-dev", Some("libxml2")),
            ("libxslt-dev", Some("libxslt")),
            ("yaml-dev", Some("yaml")),
            ("sqlite-dev", Some("sqlite-libs")),
            ("freetype-dev", Some("freetype")),
            ("libstdc++-dev", Some("libstdc++")),
            ("openssl-dev", None),
            ("zlib-dev", None),
            ("python3-dev", None),
            ("musl-dev", None),
            ("libc-dev", None),
            ("linux-headers", None),
        ],
        _ => &[],
    };
    table.iter().find(|(d, _)| *d == dev).map(|&(_, lib)| lib)
}

/// A package a RUN installed that nothing removes later: not in the same RUN (by name, by
/// the variable that named it, by its `--virtual` group, by `apt-mark auto` and an
/// autoremove), nor in a later RUN of the same runs.
#[derive(Debug, Clone)]
pub struct Installed {
    /// Index into the runs given.
    pub run: usize,
    pub manager: &'static str,
    pub package: Package,
    /// The installing command's span.
    pub command: Span,
}

/// The packages installed by `runs` (in build order) that stay in the image.
pub fn installed(runs: &[&Run]) -> Vec<Installed> {
    let changes: Vec<Vec<PackageChange>> = runs.iter().map(|r| package_changes(r)).collect();
    let mut out = Vec::new();
    for (r, run_changes) in changes.iter().enumerate() {
        for (c, install) in run_changes.iter().enumerate() {
            if install.change != Change::Install {
                continue;
            }
            for package in &install.packages {
                let removed_later_in_run =
                    run_changes[c + 1..].iter().enumerate().any(|(k, later)| {
                        removes(later, install, package)
                            || (later.change == Change::MarkAuto
                                && run_changes[c + 1 + k + 1..]
                                    .iter()
                                    .any(|l| l.change == Change::AutoRemove && l.manager == "apt"))
                    });
                let removed_by_later_run = changes[r + 1..]
                    .iter()
                    .flatten()
                    .any(|later| removes(later, install, package));
                if removed_later_in_run || removed_by_later_run {
                    continue;
                }
                let Some(script) = &runs[r].script else {
                    continue;
                };
                let command = runs[r].effects.steps[install.step].command;
                out.push(Installed {
                    run: r,
                    manager: install.manager,
                    package: package.clone(),
                    command: script.commands[command].span.clone(),
                });
            }
        }
    }
    out
}

fn removes(later: &PackageChange, install: &PackageChange, package: &Package) -> bool {
    matches!(later.change, Change::Remove | Change::AutoRemove)
        && later.manager == install.manager
        && later.packages.iter().any(|p| {
            p.name == package.name
                || (p.raw == package.raw && p.raw.contains('$'))
                || install.group.as_deref() == Some(p.name.as_str())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::syntax::dockerfile::parse;

    fn kept(text: &str) -> Vec<String> {
        let model = Model::build(&parse(text));
        let runs: Vec<&Run> = model.runs.iter().collect();
        installed(&runs)
            .into_iter()
            .map(|i| i.package.name)
            .collect()
    }

    #[test]
    fn installs_and_what_removes_them() {
        assert_eq!(
            kept("FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends gcc=4:12 libpq-dev:amd64 curl\n"),
            ["gcc", "libpq-dev", "curl"]
        );
        assert_eq!(
            kept("FROM alpine\nRUN apk add --no-cache --virtual .build-deps gcc musl-dev && pip install x && apk del .build-deps\n"),
            Vec::<String>::new()
        );
        assert_eq!(
            kept("FROM debian\nRUN buildDeps='gcc make' && apt-get install -y $buildDeps curl && make && apt-get purge -y --auto-remove $buildDeps\n"),
            ["curl"]
        );
        assert_eq!(
            kept("FROM debian\nRUN savedAptMark=\"$(apt-mark showmanual)\"; apt-get install -y gcc; make; apt-mark auto '.*' > /dev/null; apt-mark manual $savedAptMark; apt-get purge -y --auto-remove -o APT::AutoRemove::RecommendsImportant=false\n"),
            Vec::<String>::new()
        );
        assert_eq!(
            kept("FROM fedora\nRUN dnf install -y gcc-c++ python3-devel && dnf clean all\nRUN dnf remove -y gcc-c++\n"),
            ["python3-devel"]
        );
    }

    #[test]
    fn build_tools_by_name() {
        assert_eq!(build_tool("build-essential"), Some(BuildTool::Compiler));
        assert_eq!(build_tool("gcc-12"), Some(BuildTool::Compiler));
        assert_eq!(build_tool("libpq-dev"), Some(BuildTool::Headers));
        assert_eq!(build_tool("python3-devel"), Some(BuildTool::Headers));
        assert_eq!(
            build_tool("golang-1.22-go"),
            Some(BuildTool::Toolchain(Ecosystem::Go))
        );
        assert_eq!(
            build_tool("openjdk-17-jdk-headless"),
            Some(BuildTool::Toolchain(Ecosystem::Java))
        );
        assert_eq!(build_tool("openjdk-17-jre-headless"), None);
        assert_eq!(
            build_tool("golang-github-foo-dev"),
            Some(BuildTool::Headers)
        );
        assert_eq!(build_tool("curl"), None);
        assert_eq!(build_tool("libpq5"), None);
        assert_eq!(build_tool("udev"), None);
        assert_eq!(runtime_library("apt", "libpq-dev"), Some(Some("libpq5")));
        assert_eq!(runtime_library("apt", "python3-dev"), Some(None));
        assert_eq!(runtime_library("apt", "libfoo-dev"), None);
    }
}
