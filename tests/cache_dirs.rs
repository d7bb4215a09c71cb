//! The cache directories docklint mounts are the ones the package managers really use.
//!
//! For each scenario, the environment a RUN would see is written down by hand (HOME from
//! the user the Dockerfile switches to, ENV, inline variables), the real package manager is
//! asked where its cache is under exactly that environment (`env -i`, plus PATH), and
//! docklint must report the same directory. pip is asked directly; the other tools (uv,
//! poetry, npm, yarn classic, pnpm, bun, go, cargo, composer) in a sandbox where they run as
//! the RUN's user and may create what they need. A tool that is not installed is skipped
//! with a NOTE naming it, unless `DOCKLINT_REQUIRE_TOOLS=1` (CI) makes that a failure.

mod common;

use std::io::Write;
use std::process::Command;

use common::check_json;

struct Scenario {
    name: &'static str,
    dockerfile: &'static str,
    /// What the RUN's pip sees: HOME and the variables that matter.
    env: &'static [(&'static str, &'static str)],
    /// Extra pip options on the command line.
    pip_options: &'static [&'static str],
}

const SCENARIOS: &[Scenario] = &[
    Scenario { name: "root", dockerfile: "FROM python:3.12\nRUN pip install flask\n", env: &[("HOME", "/root")], pip_options: &[] },
    Scenario {
        name: "user created with a home",
        dockerfile: "FROM python:3.12\nRUN useradd -m -u 1000 app\nUSER app\nRUN pip install --user flask\n",
        env: &[("HOME", "/home/app")],
        pip_options: &[],
    },
    Scenario {
        name: "user with another home directory",
        dockerfile: "FROM python:3.12\nRUN useradd -u 1000 -d /srv/app app\nUSER app\nRUN pip install flask\n",
        env: &[("HOME", "/srv/app")],
        pip_options: &[],
    },
    Scenario {
        name: "uid without an account (Docker sets HOME=/)",
        dockerfile: "FROM python:3.12\nUSER 4242\nRUN pip install flask\n",
        env: &[("HOME", "/")],
        pip_options: &[],
    },
    Scenario {
        name: "ENV HOME",
        dockerfile: "FROM python:3.12\nRUN useradd -u 1000 app\nUSER app\nENV HOME=/data\nRUN pip install flask\n",
        env: &[("HOME", "/data")],
        pip_options: &[],
    },
    Scenario {
        name: "PIP_CACHE_DIR",
        dockerfile: "FROM python:3.12\nENV PIP_CACHE_DIR=/var/cache/pip\nRUN pip install flask\n",
        env: &[("HOME", "/root"), ("PIP_CACHE_DIR", "/var/cache/pip")],
        pip_options: &[],
    },
    Scenario {
        name: "XDG_CACHE_HOME",
        dockerfile: "FROM python:3.12\nENV XDG_CACHE_HOME=/cache\nRUN pip install flask\n",
        env: &[("HOME", "/root"), ("XDG_CACHE_HOME", "/cache")],
        pip_options: &[],
    },
    Scenario {
        name: "PIP_CACHE_DIR wins over XDG_CACHE_HOME",
        dockerfile: "FROM python:3.12\nENV XDG_CACHE_HOME=/cache PIP_CACHE_DIR=/pc\nRUN pip install flask\n",
        env: &[("HOME", "/root"), ("XDG_CACHE_HOME", "/cache"), ("PIP_CACHE_DIR", "/pc")],
        pip_options: &[],
    },
    Scenario {
        name: "an ARG is in the RUN's environment",
        dockerfile: "FROM python:3.12\nARG PIP_CACHE_DIR=/build/pip\nRUN pip install flask\n",
        env: &[("HOME", "/root"), ("PIP_CACHE_DIR", "/build/pip")],
        pip_options: &[],
    },
    Scenario {
        name: "inline variable",
        dockerfile: "FROM python:3.12\nRUN PIP_CACHE_DIR=/opt/pc pip install flask\n",
        env: &[("HOME", "/root"), ("PIP_CACHE_DIR", "/opt/pc")],
        pip_options: &[],
    },
    Scenario {
        name: "HOME set inline on the command",
        dockerfile: "FROM python:3.12\nRUN HOME=/tmp pip install --no-cache-dir flask\n",
        env: &[("HOME", "/tmp")],
        pip_options: &[],
    },
    Scenario {
        name: "PIP_CACHE_DIR exported earlier in the RUN",
        dockerfile: "FROM python:3.12\nRUN export PIP_CACHE_DIR=/opt/exported && pip install flask\n",
        env: &[("HOME", "/root"), ("PIP_CACHE_DIR", "/opt/exported")],
        pip_options: &[],
    },
    Scenario {
        name: "a home moved with usermod",
        dockerfile: "FROM python:3.12\nRUN useradd -m -u 1000 app && usermod -d /srv/app -m app\nUSER app\nRUN pip install flask\n",
        env: &[("HOME", "/srv/app")],
        pip_options: &[],
    },
    Scenario {
        name: "a user switched with su",
        dockerfile: "FROM python:3.12\nRUN useradd -m -u 1000 app\nRUN su app -c 'pip install --user flask'\n",
        env: &[("HOME", "/home/app")],
        pip_options: &[],
    },
    Scenario {
        name: "--cache-dir with a tilde pip expands itself",
        dockerfile: "FROM python:3.12\nWORKDIR /app\nRUN pip install --cache-dir=~/pc flask\n",
        env: &[("HOME", "/root")],
        pip_options: &["--cache-dir=~/pc"],
    },
    Scenario {
        name: "--cache-dir option",
        dockerfile: "FROM python:3.12\nRUN pip install --cache-dir /tmp/wheels flask\n",
        env: &[("HOME", "/root")],
        pip_options: &["--cache-dir", "/tmp/wheels"],
    },
];

fn pip_available() -> bool {
    let ok = Command::new("python3")
        .args(["-m", "pip", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let failure = missing(
            "pip",
            "`python3 -m pip` is not available, the cache directories cannot be checked against pip",
        );
        assert!(failure.is_none(), "{}", failure.unwrap_or_default());
    }
    ok
}

/// Runs pip with exactly `env` (plus PATH), the way a RUN would.
fn pip(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new("python3");
    command
        .args(["-m", "pip"])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PYTHONNOUSERSITE", "1");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run pip")
}

/// The directory docklint's diagnostic names: "... without a cache mount on <dir>: ...".
fn docklint_dir(dockerfile: &str) -> String {
    let diagnostics = check_json(dockerfile, &["--select", "missing-cache-mount"]);
    let message = diagnostics
        .first()
        .and_then(|d| d["message"].as_str())
        .unwrap_or_default()
        .to_string();
    message
        .split(" on ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap_or("")
        .to_string()
}

#[test]
fn pip_cache_dirs_match_pip() {
    if !pip_available() {
        return;
    }
    let mut failures = Vec::new();
    for scenario in SCENARIOS {
        let mut args = vec!["cache", "dir"];
        args.extend(scenario.pip_options);
        let out = pip(&args, scenario.env);
        let real = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let ours = docklint_dir(scenario.dockerfile);
        if !out.status.success() || real != ours {
            failures.push(format!(
                "{}: pip says {real:?} ({}), docklint says {ours:?}",
                scenario.name,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

#[test]
fn any_pip_no_cache_dir_value_disables_the_cache_and_docklint_gives_no_fix() {
    if !pip_available() {
        return;
    }
    for value in ["1", "true", "0", "false", "off"] {
        let out = pip(
            &["cache", "dir"],
            &[("HOME", "/root"), ("PIP_NO_CACHE_DIR", value)],
        );
        assert!(
            !out.status.success(),
            "PIP_NO_CACHE_DIR={value} should disable pip's cache"
        );
        let dockerfile =
            format!("FROM python:3.12\nENV PIP_NO_CACHE_DIR={value}\nRUN pip install flask\n");
        let diagnostics = check_json(&dockerfile, &["--select", "missing-cache-mount"]);
        assert_eq!(diagnostics.len(), 1, "PIP_NO_CACHE_DIR={value}");
        assert!(
            diagnostics[0]["fix"].is_null(),
            "an ENV that disables the cache is advice, not an edit"
        );
        assert!(diagnostics[0]["help"]
            .as_str()
            .unwrap_or_default()
            .contains("PIP_NO_CACHE_DIR"));
    }
}

// Every other package manager is asked in a sandbox: a private mount namespace whose root is
// an overlay of this machine's, so the tool can create the accounts and directories a RUN
// would, and nothing it writes outlives the question.

/// How to ask a tool where one of its caches is.
struct Oracle {
    /// The program that must be installed.
    program: &'static str,
    /// docklint's name for the cache (`Cache::key` in `src/model/tools.rs`).
    cache: &'static str,
    /// Shell command that prints the directory; `{options}` is replaced by the case's
    /// command-line options.
    query: &'static str,
    /// The tool prints the cache's root followed by its layout version (yarn's `v6`, pnpm's
    /// `v10`): docklint mounts the root.
    versioned: bool,
}

const fn oracle(program: &'static str, cache: &'static str, query: &'static str) -> Oracle {
    Oracle {
        program,
        cache,
        query,
        versioned: false,
    }
}

const UV: Oracle = oracle("uv", "uv", "uv cache dir {options}");
const POETRY: Oracle = oracle("poetry", "pypoetry", "poetry config cache-dir");
const NPM: Oracle = oracle("npm", "npm", "npm config get cache {options}");
const YARN: Oracle = Oracle {
    versioned: true,
    ..oracle("yarn", "yarn", "yarn cache dir {options}")
};
const PNPM: Oracle = Oracle {
    versioned: true,
    ..oracle("pnpm", "pnpm-store", "pnpm store path {options}")
};
const BUN: Oracle = oracle("bun", "bun", "bun pm cache {options}");
const GO_MODULES: Oracle = oracle("go", "go-mod", "go env GOMODCACHE");
const GO_BUILD: Oracle = oracle("go", "go-build", "go env GOCACHE");
const COMPOSER: Oracle = oracle("composer", "composer", "composer config --global cache-dir");
/// cargo has no query: the manifest it reads for a registry crate is under
/// `<registry>/src/`, and a git dependency is cloned into `<git>/db/<name>-<hash>`.
const CARGO_PROBE: &str = "mkdir -p dep/src probe/src && : > dep/src/lib.rs && : > probe/src/lib.rs \
    && printf '[package]\\nname = \"dep\"\\nversion = \"0.1.0\"\\n' > dep/Cargo.toml \
    && git init -q dep && git -C dep add . && git -C dep -c user.name=t -c user.email=t commit -qm dep \
    && printf '[package]\\nname = \"probe\"\\nversion = \"0.0.0\"\\n[dependencies]\\ncfg-if = \"1\"\\ndep = { git = \"file:///tmp/dep\" }\\n' > probe/Cargo.toml \
    && cargo metadata -q --format-version 1 --manifest-path probe/Cargo.toml | tr , '\\n' | grep '\"manifest_path\"' > manifests";
const CARGO_REGISTRY: Oracle = oracle(
    "cargo",
    "cargo-registry",
    "{probe} && grep /cfg-if- manifests | sed 's|.*:\"||; s|/src/.*||'",
);
const CARGO_GIT: Oracle = oracle(
    "cargo",
    "cargo-git",
    "{probe} && ls -d \"$(grep /git/checkouts/ manifests | sed 's|.*:\"||; s|/checkouts/.*||')\"/db/dep-* | sed 's|/[^/]*$||'",
);

/// What docklint must say.
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    /// The directory the tool names.
    Same,
    /// No directory: the tool's answer depends on the image's files, which a Dockerfile does
    /// not show (the fix then points the tool at the mount with a variable).
    Unknown,
}

struct Case {
    oracle: &'static Oracle,
    name: &'static str,
    /// Its last RUN is the one asked about.
    dockerfile: &'static str,
    /// What the Dockerfile's earlier instructions did that the tool can see, as root
    /// (`useradd -m -u 1000 app`, or the account an image ships).
    setup: &'static str,
    /// The account the RUN runs as; root when `None`.
    user: Option<&'static str>,
    /// The RUN's environment: HOME and the variables that matter.
    env: &'static [(&'static str, &'static str)],
    /// The command-line options of the RUN's command that move the cache.
    options: &'static str,
    expect: Expect,
}

const fn case(
    oracle: &'static Oracle,
    name: &'static str,
    dockerfile: &'static str,
    env: &'static [(&'static str, &'static str)],
) -> Case {
    Case {
        oracle,
        name,
        dockerfile,
        setup: "",
        user: None,
        env,
        options: "",
        expect: Expect::Same,
    }
}

impl Case {
    /// The RUN runs as `user`, which `setup` creates.
    const fn user(self, user: &'static str, setup: &'static str) -> Case {
        Case {
            user: Some(user),
            setup,
            ..self
        }
    }

    const fn setup(self, setup: &'static str) -> Case {
        Case { setup, ..self }
    }

    const fn options(self, options: &'static str) -> Case {
        Case { options, ..self }
    }

    const fn unknown(self) -> Case {
        Case {
            expect: Expect::Unknown,
            ..self
        }
    }
}

const ROOT: &[(&str, &str)] = &[("HOME", "/root")];
const APP: &[(&str, &str)] = &[("HOME", "/home/app")];
const ADD_APP: &str = "useradd -m -u 1000 app";
/// The account `node` images ship (uid 1000, home /home/node).
const ADD_NODE: &str = "useradd -m -u 1000 node";

#[rustfmt::skip]
const CASES: &[Case] = &[
    // uv
    case(&UV, "root", "FROM python:3.12\nRUN uv pip install --system flask\n", ROOT),
    case(&UV, "root in uv's image", "FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim\nRUN uv sync --locked\n", ROOT),
    case(&UV, "user with a home", "FROM python:3.12\nRUN useradd -m -u 1000 app\nUSER app\nRUN uv sync\n", APP).user("app", ADD_APP),
    case(&UV, "uid without an account (HOME=/)", "FROM python:3.12\nUSER 4242\nRUN uv sync\n", &[("HOME", "/")]).user("4242", ""),
    case(&UV, "UV_CACHE_DIR", "FROM python:3.12\nENV UV_CACHE_DIR=/var/cache/uv\nRUN uv sync\n", &[("HOME", "/root"), ("UV_CACHE_DIR", "/var/cache/uv")]),
    case(&UV, "XDG_CACHE_HOME", "FROM python:3.12\nENV XDG_CACHE_HOME=/cache\nRUN uv sync\n", &[("HOME", "/root"), ("XDG_CACHE_HOME", "/cache")]),
    case(&UV, "UV_CACHE_DIR wins over XDG_CACHE_HOME", "FROM python:3.12\nENV XDG_CACHE_HOME=/cache UV_CACHE_DIR=/uvc\nRUN uv sync\n", &[("HOME", "/root"), ("XDG_CACHE_HOME", "/cache"), ("UV_CACHE_DIR", "/uvc")]),
    case(&UV, "--cache-dir", "FROM python:3.12\nRUN uv pip install --cache-dir /tmp/uvc --system flask\n", ROOT).options("--cache-dir /tmp/uvc"),
    // poetry
    case(&POETRY, "root", "FROM python:3.12\nRUN poetry install --no-root\n", ROOT),
    case(&POETRY, "user with a home", "FROM python:3.12\nRUN useradd -m -u 1000 app\nUSER app\nRUN poetry install\n", APP).user("app", ADD_APP),
    case(&POETRY, "POETRY_CACHE_DIR", "FROM python:3.12\nENV POETRY_CACHE_DIR=/opt/poetry-cache\nRUN poetry install\n", &[("HOME", "/root"), ("POETRY_CACHE_DIR", "/opt/poetry-cache")]),
    case(&POETRY, "XDG_CACHE_HOME", "FROM python:3.12\nENV XDG_CACHE_HOME=/cache\nRUN poetry install\n", &[("HOME", "/root"), ("XDG_CACHE_HOME", "/cache")]),
    // npm
    case(&NPM, "root", "FROM node:20\nRUN npm ci\n", ROOT),
    case(&NPM, "the image's user node", "FROM node:20\nUSER node\nRUN npm ci\n", &[("HOME", "/home/node")]).user("node", ADD_NODE),
    case(&NPM, "user with a home", "FROM node:20-bookworm-slim\nRUN useradd -m -u 1001 app\nUSER app\nRUN npm ci\n", APP).user("app", "useradd -m -u 1001 app"),
    case(&NPM, "uid without an account (HOME=/)", "FROM node:20\nUSER 4242\nRUN npm ci\n", &[("HOME", "/")]).user("4242", ""),
    case(&NPM, "npm_config_cache", "FROM node:20\nENV npm_config_cache=/var/cache/npm\nRUN npm ci\n", &[("HOME", "/root"), ("npm_config_cache", "/var/cache/npm")]),
    case(&NPM, "NPM_CONFIG_CACHE", "FROM node:20\nENV NPM_CONFIG_CACHE=/var/cache/npm\nRUN npm ci\n", &[("HOME", "/root"), ("NPM_CONFIG_CACHE", "/var/cache/npm")]),
    case(&NPM, "XDG_CACHE_HOME is not npm's", "FROM node:20\nENV XDG_CACHE_HOME=/cache\nRUN npm ci\n", &[("HOME", "/root"), ("XDG_CACHE_HOME", "/cache")]),
    case(&NPM, "--cache", "FROM node:20\nRUN npm ci --cache /tmp/npmc\n", ROOT).options("--cache /tmp/npmc"),
    // yarn classic
    case(&YARN, "root (yarn classic's /usr/local/share)", "FROM node:20\nRUN yarn install --frozen-lockfile\n", ROOT),
    case(&YARN, "the image's user node", "FROM node:20\nUSER node\nRUN yarn install\n", &[("HOME", "/home/node")]).user("node", ADD_NODE),
    case(&YARN, "user with a home", "FROM node:20\nRUN useradd -m -u 1001 app\nUSER app\nRUN yarn install\n", APP).user("app", "useradd -m -u 1001 app"),
    case(&YARN, "YARN_CACHE_FOLDER", "FROM node:20\nENV YARN_CACHE_FOLDER=/var/cache/yarn\nRUN yarn install\n", &[("HOME", "/root"), ("YARN_CACHE_FOLDER", "/var/cache/yarn")]),
    case(&YARN, "XDG_CACHE_HOME as root", "FROM node:20\nENV XDG_CACHE_HOME=/cache\nRUN yarn install\n", &[("HOME", "/root"), ("XDG_CACHE_HOME", "/cache")]),
    case(&YARN, "XDG_CACHE_HOME as a user", "FROM node:20\nENV XDG_CACHE_HOME=/tmp/cache\nUSER node\nRUN yarn install\n", &[("HOME", "/home/node"), ("XDG_CACHE_HOME", "/tmp/cache")]).user("node", ADD_NODE),
    case(&YARN, "--cache-folder", "FROM node:20\nRUN yarn install --cache-folder /tmp/yc\n", ROOT).options("--cache-folder /tmp/yc"),
    // pnpm
    case(&PNPM, "root", "FROM node:20\nRUN pnpm install --frozen-lockfile\n", ROOT),
    case(&PNPM, "user with a home", "FROM node:20\nUSER node\nRUN pnpm install\n", &[("HOME", "/home/node")]).user("node", ADD_NODE),
    case(&PNPM, "PNPM_HOME (pnpm's Docker recipe)", "FROM node:20\nENV PNPM_HOME=/pnpm\nRUN pnpm install\n", &[("HOME", "/root"), ("PNPM_HOME", "/pnpm")]),
    case(&PNPM, "pnpm_config_store_dir", "FROM node:20\nENV pnpm_config_store_dir=/var/cache/pnpm\nRUN pnpm install\n", &[("HOME", "/root"), ("pnpm_config_store_dir", "/var/cache/pnpm")]),
    case(&PNPM, "XDG_DATA_HOME", "FROM node:20\nENV XDG_DATA_HOME=/data\nRUN pnpm install\n", &[("HOME", "/root"), ("XDG_DATA_HOME", "/data")]),
    case(&PNPM, "--store-dir", "FROM node:20\nRUN pnpm install --store-dir /tmp/ps\n", ROOT).options("--store-dir /tmp/ps"),
    // bun
    case(&BUN, "root", "FROM oven/bun:1\nRUN bun install\n", ROOT),
    case(&BUN, "user with a home", "FROM oven/bun:1\nRUN useradd -m -u 1001 app\nUSER app\nRUN bun install\n", APP).user("app", "useradd -m -u 1001 app"),
    case(&BUN, "BUN_INSTALL_CACHE_DIR", "FROM oven/bun:1\nENV BUN_INSTALL_CACHE_DIR=/var/cache/bun\nRUN bun install\n", &[("HOME", "/root"), ("BUN_INSTALL_CACHE_DIR", "/var/cache/bun")]),
    case(&BUN, "BUN_INSTALL", "FROM oven/bun:1\nENV BUN_INSTALL=/opt/bun\nRUN bun install\n", &[("HOME", "/root"), ("BUN_INSTALL", "/opt/bun")]),
    case(&BUN, "XDG_CACHE_HOME", "FROM oven/bun:1\nENV XDG_CACHE_HOME=/cache\nRUN bun install\n", &[("HOME", "/root"), ("XDG_CACHE_HOME", "/cache")]),
    case(&BUN, "--cache-dir", "FROM oven/bun:1\nRUN bun install --cache-dir /tmp/bc\n", ROOT).options("--cache-dir /tmp/bc"),
    // go
    case(&GO_MODULES, "golang image (GOPATH=/go)", "FROM golang:1.23\nRUN go mod download\n", &[("HOME", "/root"), ("GOPATH", "/go")]),
    case(&GO_BUILD, "golang image (GOPATH=/go)", "FROM golang:1.23\nRUN go build ./...\n", &[("HOME", "/root"), ("GOPATH", "/go")]),
    case(&GO_MODULES, "root without GOPATH", "FROM debian:12\nRUN go mod download\n", ROOT),
    case(&GO_MODULES, "user with a home", "FROM debian:12\nRUN useradd -m -u 1000 app\nUSER app\nRUN go build ./...\n", APP).user("app", ADD_APP),
    case(&GO_BUILD, "user with a home", "FROM golang:1.23\nRUN useradd -m -u 1000 app\nUSER app\nRUN go build ./...\n", &[("HOME", "/home/app"), ("GOPATH", "/go")]).user("app", ADD_APP),
    case(&GO_BUILD, "uid without an account (HOME=/)", "FROM golang:1.23\nUSER 4242\nRUN go build\n", &[("HOME", "/"), ("GOPATH", "/go")]).user("4242", ""),
    case(&GO_MODULES, "GOPATH", "FROM debian:12\nENV GOPATH=/opt/go\nRUN go mod download\n", &[("HOME", "/root"), ("GOPATH", "/opt/go")]),
    case(&GO_MODULES, "GOMODCACHE", "FROM golang:1.23\nENV GOMODCACHE=/var/cache/gomod\nRUN go mod download\n", &[("HOME", "/root"), ("GOPATH", "/go"), ("GOMODCACHE", "/var/cache/gomod")]),
    case(&GO_BUILD, "GOCACHE", "FROM golang:1.23\nENV GOCACHE=/var/cache/go-build\nRUN go build ./...\n", &[("HOME", "/root"), ("GOPATH", "/go"), ("GOCACHE", "/var/cache/go-build")]),
    case(&GO_BUILD, "XDG_CACHE_HOME", "FROM golang:1.23\nENV XDG_CACHE_HOME=/cache\nRUN go build ./...\n", &[("HOME", "/root"), ("GOPATH", "/go"), ("XDG_CACHE_HOME", "/cache")]),
    // cargo
    case(&CARGO_REGISTRY, "root without CARGO_HOME", "FROM debian:12\nRUN cargo build --release\n", ROOT),
    case(&CARGO_REGISTRY, "rust image (CARGO_HOME=/usr/local/cargo)", "FROM rust:1.82\nRUN cargo build --release\n", &[("HOME", "/root"), ("CARGO_HOME", "/usr/local/cargo")]),
    case(&CARGO_REGISTRY, "user with a home", "FROM debian:12\nRUN useradd -m -u 1000 app\nUSER app\nRUN cargo build\n", APP).user("app", ADD_APP),
    case(&CARGO_REGISTRY, "CARGO_HOME", "FROM debian:12\nENV CARGO_HOME=/opt/cargo\nRUN cargo fetch\n", &[("HOME", "/root"), ("CARGO_HOME", "/opt/cargo")]),
    case(&CARGO_GIT, "rust image (CARGO_HOME=/usr/local/cargo)", "FROM rust:1.82\nRUN cargo build --release\n", &[("HOME", "/root"), ("CARGO_HOME", "/usr/local/cargo")]),
    case(&CARGO_GIT, "user with a home", "FROM debian:12\nRUN useradd -m -u 1000 app\nUSER app\nRUN cargo build\n", APP).user("app", ADD_APP),
    // composer
    case(&COMPOSER, "composer image (COMPOSER_HOME=/tmp)", "FROM composer:2\nRUN composer install\n", &[("HOME", "/root"), ("COMPOSER_HOME", "/tmp")]),
    case(&COMPOSER, "COMPOSER_CACHE_DIR", "FROM php:8.3-cli\nENV COMPOSER_CACHE_DIR=/var/cache/composer\nRUN composer install\n", &[("HOME", "/root"), ("COMPOSER_CACHE_DIR", "/var/cache/composer")]),
    case(&COMPOSER, "COMPOSER_HOME", "FROM php:8.3-cli\nENV COMPOSER_HOME=/opt/composer\nRUN composer install\n", &[("HOME", "/root"), ("COMPOSER_HOME", "/opt/composer")]),
    case(&COMPOSER, "XDG_CACHE_HOME", "FROM php:8.3-cli\nENV XDG_CACHE_HOME=/cache\nRUN composer install\n", &[("HOME", "/root"), ("XDG_CACHE_HOME", "/cache")]),
    // Without COMPOSER_HOME or an XDG variable, composer caches in ~/.cache/composer when
    // the image has /etc/xdg, else in ~/.composer/cache.
    case(&COMPOSER, "root, image with /etc/xdg", "FROM php:8.3-cli\nRUN composer install\n", ROOT).setup("mkdir -p /etc/xdg").unknown(),
    case(&COMPOSER, "root, image without /etc/xdg", "FROM php:8.3-cli\nRUN composer install\n", ROOT).setup("rm -rf /etc/xdg").unknown(),
];

/// Makes the sandbox and asks the tool: `bash -c SANDBOX sandbox TOP SETUP USER QUERY
/// NAME=VALUE...`, in a private mount namespace.
const SANDBOX: &str = r#"
set -eu
top=$1 setup=$2 user=$3 query=$4
shift 4
mount -t tmpfs tmpfs "$top"
mkdir "$top/upper" "$top/work" "$top/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$top/upper,workdir=$top/work" "$top/root"
mount --rbind /proc "$top/root/proc"
mount --rbind /dev "$top/root/dev"
# An image's accounts (root's and the system's), and root's home without this machine's
# settings. Its toolchains stay, reachable by other users as an image's /usr/local would be.
chroot "$top/root" /bin/sh -ec '
  awk -F: "\$3 >= 1000 && \$3 < 65534 { print \$1 }" /etc/passwd | xargs -r -n1 userdel -r 2>/dev/null
  rm -rf /root/.npmrc /root/.yarnrc /root/.config /root/.cache /root/.local /root/.composer
  chmod 711 /root'
chroot "$top/root" /bin/sh -ec "$setup"
as=
if [ "$user" != root ]; then as="setpriv --reuid=$user --regid=$user --clear-groups"; fi
exec chroot "$top/root" $as env -i "$@" /bin/sh -c "cd /tmp && $query"
"#;

/// PATH inside the sandbox: Python's scripts (uv, poetry), the Rust toolchain's own cargo
/// (rustup's proxy would look for its home in HOME), then the system's.
fn sandbox_path() -> String {
    let output = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let mut path = Vec::new();
    if let Some(scripts) = output(
        "python3",
        &[
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ],
    ) {
        path.push(scripts);
    }
    if let Some(sysroot) = output("rustc", &["--print", "sysroot"]) {
        path.push(format!("{sysroot}/bin"));
    }
    path.push("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    path.join(":")
}

/// Runs `query` in a fresh sandbox; stdout and stderr.
fn ask(
    path: &str,
    setup: &str,
    user: &str,
    query: &str,
    env: &[(&str, &str)],
) -> std::process::Output {
    let top = common::TempDir::new("sandbox");
    let mut command = Command::new("unshare");
    command
        .args([
            "--mount",
            "--propagation",
            "private",
            "bash",
            "-c",
            SANDBOX,
            "sandbox",
        ])
        .arg(top.path())
        .args([setup, user, query])
        .arg(format!("PATH={path}"))
        .args(env.iter().map(|(k, v)| format!("{k}={v}")));
    command.output().expect("run unshare")
}

/// A tool that is not here is skipped by name, or fails the test with
/// `DOCKLINT_REQUIRE_TOOLS=1`.
fn missing(what: &str, why: &str) -> Option<String> {
    let message = format!("{what}: {why}");
    if std::env::var("DOCKLINT_REQUIRE_TOOLS").as_deref() == Ok("1") {
        return Some(format!("{message} (DOCKLINT_REQUIRE_TOOLS=1 requires it)"));
    }
    // Straight to stderr: libtest hides what passing tests print with eprintln!.
    let _ = writeln!(
        std::io::stderr(),
        "NOTE: skipping {message}; set DOCKLINT_REQUIRE_TOOLS=1 to make this a failure"
    );
    None
}

/// The directory docklint gives the last RUN's cache `key`: `None` when docklint does not
/// see the tool use that cache at all.
fn docklint_cache_dir(dockerfile: &str, key: &str) -> Option<Option<String>> {
    let model = docklint::model::Model::build(&docklint::syntax::dockerfile::parse(dockerfile));
    let run = model.runs.last()?;
    run.effects
        .caches
        .iter()
        .find(|c| c.cache.key == key)
        .map(|c| c.dir.clone())
}

/// The tool names `ours`, or (for a versioned layout) `ours/v<N>`.
fn same_directory(real: &str, ours: &str, versioned: bool) -> bool {
    real == ours
        || (versioned
            && real
                .strip_prefix(ours)
                .and_then(|rest| rest.strip_prefix("/v"))
                .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit())))
}

/// Asks the tool for one case: whether it agrees with docklint, and the table row.
fn check(path: &str, case: &Case) -> (bool, String, String) {
    let query = case
        .oracle
        .query
        .replace("{probe}", CARGO_PROBE)
        .replace("{options}", case.options);
    let user = case.user.unwrap_or("root");
    let out = ask(path, case.setup, user, &query, case.env);
    let real = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let ours = docklint_cache_dir(case.dockerfile, case.oracle.cache);
    let agree = match (&ours, case.expect) {
        (Some(Some(ours)), Expect::Same) => {
            out.status.success() && same_directory(&real, ours, case.oracle.versioned)
        }
        (Some(None), Expect::Unknown) => true,
        _ => false,
    };
    let shown = match &ours {
        Some(Some(dir)) => dir.clone(),
        Some(None) => "(cannot tell)".into(),
        None => "(no cache use)".into(),
    };
    let (program, cache) = (case.oracle.program, case.oracle.cache);
    let row = format!(
        "| {program} ({cache}) | {} | {real} | {shown} | {} |",
        case.name,
        if agree { "yes" } else { "NO" }
    );
    let failure = format!(
        "{program} ({cache}), {}: the tool says {real:?} ({}), docklint says {shown}",
        case.name,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    (agree, row, failure)
}

/// `cargo test --test cache_dirs -- --nocapture` prints the agreement table.
#[test]
fn cache_dirs_match_the_real_tools() {
    let path = sandbox_path();
    if !ask(&path, "", "root", "true", &[]).status.success() {
        let failure = missing(
            "every tool but pip",
            "no sandbox (unshare, a mount namespace and overlayfs need root)",
        );
        assert!(failure.is_none(), "{}", failure.unwrap_or_default());
        return;
    }
    let mut failures = Vec::new();
    let mut programs: Vec<&str> = CASES.iter().map(|c| c.oracle.program).collect();
    programs.sort_unstable();
    programs.dedup();
    let installed: Vec<&str> = programs
        .into_iter()
        .filter(|program| {
            let here = ask(&path, "", "root", &format!("command -v {program}"), &[])
                .status
                .success();
            if !here {
                failures.extend(missing(
                    program,
                    "not installed, its cache directories are not checked",
                ));
            }
            here
        })
        .collect();
    let cases: Vec<&Case> = CASES
        .iter()
        .filter(|c| installed.contains(&c.oracle.program))
        .collect();
    // Most of the time is the tools starting: one worker per core.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let results: Vec<(usize, (bool, String, String))> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let (cases, path) = (&cases, &path);
                scope.spawn(move || {
                    (worker..cases.len())
                        .step_by(workers)
                        .map(|i| (i, check(path, cases[i])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<_> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker panicked"))
            .collect();
        all.sort_by_key(|(i, _)| *i);
        all
    });
    println!("| tool (cache) | scenario | the tool says | docklint says | agree |\n|---|---|---|---|---|");
    for (_, (agree, row, failure)) in results {
        println!("{row}");
        if !agree {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}
