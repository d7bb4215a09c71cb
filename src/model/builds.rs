//! Commands that build artefacts and commands that install a project's dependencies: the
//! ecosystem each belongs to, where a build puts its output when the command line says, and
//! whether an install brings the project's development dependencies.
//!
//! The stage rules read these tables: a build in a stage that ships its toolchain wants a
//! builder stage (`missing-multistage-split`); an install of development dependencies in the
//! final image wants a production-only install (`dev-dependencies-in-final-stage`).

use super::commands::basename;
use super::effects::Step;
use super::paths::resolve_path;
use super::Run;
use crate::syntax::shell::Script;

/// A language ecosystem, as far as building goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ecosystem {
    Go,
    Rust,
    Node,
    Python,
    Java,
    Dotnet,
    /// Compiled with make, cmake, gcc …
    Native,
}

impl Ecosystem {
    pub fn name(self) -> &'static str {
        match self {
            Ecosystem::Go => "Go",
            Ecosystem::Rust => "Rust",
            Ecosystem::Node => "Node.js",
            Ecosystem::Python => "Python",
            Ecosystem::Java => "Java",
            Ecosystem::Dotnet => ".NET",
            Ecosystem::Native => "C/C++",
        }
    }

    /// What the final image carries when the build runs in it.
    pub fn shipped(self) -> &'static str {
        match self {
            Ecosystem::Go => "the Go toolchain and the build cache",
            Ecosystem::Rust => "the Rust toolchain and the target directory",
            Ecosystem::Node => "the development dependencies and the sources",
            Ecosystem::Python => "the compilers and headers that built the wheels",
            Ecosystem::Java => "the JDK, the build tool and its repository",
            Ecosystem::Dotnet => "the .NET SDK",
            Ecosystem::Native => "the compilers, headers and sources",
        }
    }
}

/// How a build command is recognised.
struct BuildCommand {
    programs: &'static [&'static str],
    /// The command builds when its operands start with one of these (none: every command
    /// line builds). An operand ending in `*` matches a prefix (`build*` is `build:prod`).
    starts: &'static [&'static [&'static str]],
    /// Or when any operand is one of these (maven goals, gradle tasks).
    any_operand: &'static [&'static str],
    /// Options that take the next argument as their value (to find the operands).
    valued: &'static [&'static str],
    ecosystem: Ecosystem,
}

const NPM_VALUED: &[&str] = &[
    "--prefix",
    "-w",
    "--workspace",
    "-C",
    "--dir",
    "--cwd",
    "--filter",
    "-F",
];

const BUILD_COMMANDS: &[BuildCommand] = &[
    BuildCommand {
        programs: &["go"],
        starts: &[&["build"], &["install"]],
        any_operand: &[],
        valued: &["-C"],
        ecosystem: Ecosystem::Go,
    },
    BuildCommand {
        programs: &["cargo"],
        starts: &[&["build"], &["b"], &["install"], &["rustc"]],
        any_operand: &[],
        valued: &["-C", "--config", "-Z"],
        ecosystem: Ecosystem::Rust,
    },
    BuildCommand {
        programs: &["rustc"],
        starts: &[],
        any_operand: &[],
        valued: &[],
        ecosystem: Ecosystem::Rust,
    },
    BuildCommand {
        programs: &["npm", "pnpm", "bun"],
        starts: &[&["run", "build*"], &["run-script", "build*"], &["build*"]],
        any_operand: &[],
        valued: NPM_VALUED,
        ecosystem: Ecosystem::Node,
    },
    BuildCommand {
        programs: &["yarn", "yarnpkg"],
        starts: &[
            &["build*"],
            &["run", "build*"],
            &["workspaces", "foreach", "run", "build*"],
        ],
        any_operand: &[],
        valued: NPM_VALUED,
        ecosystem: Ecosystem::Node,
    },
    BuildCommand {
        programs: &[
            "next",
            "vite",
            "ng",
            "nuxt",
            "react-scripts",
            "remix",
            "astro",
        ],
        starts: &[&["build"]],
        any_operand: &[],
        valued: &[],
        ecosystem: Ecosystem::Node,
    },
    BuildCommand {
        programs: &["tsc", "webpack", "esbuild", "rollup"],
        starts: &[],
        any_operand: &[],
        valued: &[],
        ecosystem: Ecosystem::Node,
    },
    BuildCommand {
        programs: &["mvn", "mvnw"],
        starts: &[],
        any_operand: &["package", "install", "verify", "deploy"],
        valued: &[
            "-f",
            "--file",
            "-s",
            "--settings",
            "-P",
            "-pl",
            "--projects",
            "-T",
        ],
        ecosystem: Ecosystem::Java,
    },
    BuildCommand {
        programs: &["gradle", "gradlew"],
        starts: &[],
        any_operand: &[
            "build",
            "assemble",
            "jar",
            "bootJar",
            "shadowJar",
            "war",
            "bootWar",
            "installDist",
            "distTar",
            "distZip",
        ],
        valued: &["-p", "-b", "-x", "--exclude-task", "-c", "-g", "-I"],
        ecosystem: Ecosystem::Java,
    },
    BuildCommand {
        programs: &["dotnet"],
        starts: &[&["publish"], &["build"]],
        any_operand: &[],
        valued: &[],
        ecosystem: Ecosystem::Dotnet,
    },
    BuildCommand {
        programs: &["pip", "pip3"],
        starts: &[&["wheel"]],
        any_operand: &[],
        valued: &[
            "-w",
            "--wheel-dir",
            "-r",
            "--requirement",
            "-c",
            "--constraint",
        ],
        ecosystem: Ecosystem::Python,
    },
    // `python -m build` (the effects read `python -m` through to the module).
    BuildCommand {
        programs: &["build"],
        starts: &[],
        any_operand: &[],
        valued: &[],
        ecosystem: Ecosystem::Python,
    },
    BuildCommand {
        programs: &["make", "gmake", "cmake", "ninja", "configure", "meson"],
        starts: &[],
        any_operand: &[],
        valued: &[],
        ecosystem: Ecosystem::Native,
    },
    BuildCommand {
        programs: &["gcc", "g++", "cc", "c++", "clang", "clang++"],
        starts: &[],
        any_operand: &[],
        valued: &[],
        ecosystem: Ecosystem::Native,
    },
];

/// `python setup.py <command>` commands that compile.
const SETUP_PY_BUILDS: &[&str] = &["build", "build_ext", "bdist_wheel", "bdist_egg", "install"];

/// Where a build puts what it makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// One file (`go build -o /usr/local/bin/app`).
    File(String),
    /// A directory the artefacts land in, named after the program (`cargo build --release`
    /// puts `app` in `target/release`).
    Dir(String),
}

/// A command of a RUN that builds artefacts.
#[derive(Debug, Clone)]
pub struct BuildStep {
    /// Index in the RUN's `effects.steps`.
    pub step: usize,
    pub ecosystem: Ecosystem,
    /// The command as a user names it (`go build`, `npm run build`).
    pub label: String,
    /// Where its output goes, when the command line (and the environment) says.
    pub output: Option<Output>,
}

/// The values of a step's arguments, as far as they are known (`\0` for an unknown one).
pub fn arg_values(step: &Step, script: &Script) -> Vec<String> {
    step.args(script)
        .iter()
        .map(|w| {
            if w.literal {
                w.value.to_string()
            } else {
                step.env.expand(&w.value).unwrap_or_else(|| "\u{0}".into())
            }
        })
        .collect()
}

/// Operand indices of a command line: arguments that are not options nor option values.
fn operand_indices(args: &[String], valued: &[&str]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut skip = false;
    for (i, arg) in args.iter().enumerate() {
        if std::mem::take(&mut skip) {
            continue;
        }
        if arg.starts_with('-') || arg.starts_with('+') {
            skip = valued.contains(&arg.as_str());
        } else {
            out.push(i);
        }
    }
    out
}

fn operand_matches(pattern: &str, operand: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => operand.starts_with(prefix),
        None => operand == pattern,
    }
}

/// The program a step runs and its arguments, with `npx`/`bunx`/`pnpm exec` read through.
fn program_and_args(step: &Step, script: &Script) -> (String, Vec<String>) {
    let mut name = basename(&step.name).to_string();
    let mut args = arg_values(step, script);
    for _ in 0..2 {
        let Some(skip) = runner_skip(&name, args.first().map(String::as_str)) else {
            break;
        };
        let rest: Vec<String> = args.split_off(skip);
        let Some(at) = rest.iter().position(|a| !a.starts_with('-')) else {
            break;
        };
        name = basename(&rest[at]).to_string();
        args = rest[at + 1..].to_vec();
    }
    (name, args)
}

/// How many arguments of a runner (`npx tool`, `pnpm exec tool`) come before the program
/// it runs; `None` for a program that runs no other.
fn runner_skip(name: &str, first: Option<&str>) -> Option<usize> {
    match (name, first) {
        ("npx" | "bunx" | "pnpx", _) => Some(0),
        ("pnpm" | "yarn" | "bun", Some("exec" | "dlx" | "x")) => Some(1),
        _ => None,
    }
}

/// The commands of `run` that build artefacts.
pub fn build_steps(run: &Run) -> Vec<BuildStep> {
    let Some(script) = &run.script else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (index, step) in run.effects.steps.iter().enumerate() {
        let (name, args) = program_and_args(step, script);
        let found = if super::commands::is_python(&name) {
            let builds = args.first().is_some_and(|a| a.ends_with("setup.py"))
                && args
                    .get(1)
                    .is_some_and(|c| SETUP_PY_BUILDS.contains(&c.as_str()));
            builds.then(|| (Ecosystem::Python, format!("python {}", args[..2].join(" "))))
        } else {
            BUILD_COMMANDS
                .iter()
                .find(|c| c.programs.contains(&name.as_str()) && builds(c, &args))
                .map(|c| (c.ecosystem, label(&name, &args, c)))
        };
        if let Some((ecosystem, label)) = found {
            let output = output(ecosystem, step, &args);
            out.push(BuildStep {
                step: index,
                ecosystem,
                label,
                output,
            });
        }
    }
    out
}

fn builds(command: &BuildCommand, args: &[String]) -> bool {
    if args
        .iter()
        .any(|a| matches!(a.as_str(), "--version" | "-v" | "-V" | "--help" | "-h"))
    {
        return false;
    }
    let operands: Vec<&str> = operand_indices(args, command.valued)
        .into_iter()
        .map(|i| args[i].as_str())
        .collect();
    if command.starts.is_empty() && command.any_operand.is_empty() {
        return true;
    }
    command.starts.iter().any(|start| {
        operands.len() >= start.len()
            && start
                .iter()
                .zip(&operands)
                .all(|(p, o)| operand_matches(p, o))
    }) || operands.iter().any(|o| command.any_operand.contains(o))
}

fn label(name: &str, args: &[String], command: &BuildCommand) -> String {
    let operands: Vec<&str> = operand_indices(args, command.valued)
        .into_iter()
        .map(|i| args[i].as_str())
        .collect();
    let words = command
        .starts
        .iter()
        .map(|s| s.len())
        .find(|&n| n > 0 && operands.len() >= n)
        .map_or(0, |n| n.min(operands.len()));
    if command.any_operand.is_empty() && words > 0 {
        format!("{name} {}", operands[..words].join(" "))
    } else {
        let goal = operands.iter().find(|o| command.any_operand.contains(o));
        match goal {
            Some(goal) => format!("{name} {goal}"),
            None => name.to_string(),
        }
    }
}

/// The value of option `name` (`-o X`, `-o=X`, `--root X`, `--root=X`).
fn option_value<'a>(args: &'a [String], names: &[&str]) -> Option<&'a str> {
    let mut found = None;
    for (i, arg) in args.iter().enumerate() {
        for name in names {
            if arg == name {
                found = args.get(i + 1).map(String::as_str);
            } else if let Some(v) = arg.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
                found = Some(v);
            }
        }
    }
    found.filter(|v| !v.contains('\u{0}'))
}

/// Where a build step's output goes, when its command line and environment say.
fn output(ecosystem: Ecosystem, step: &Step, args: &[String]) -> Option<Output> {
    let cwd = step.cwd.as_deref()?;
    let env = |name: &str| step.env.known(name).filter(|v| !v.is_empty());
    let subcommand = args
        .iter()
        .find(|a| !a.starts_with('-'))
        .map(String::as_str);
    match (ecosystem, subcommand) {
        (Ecosystem::Go, Some("build")) => {
            let out = option_value(args, &["-o"])?;
            let path = resolve_path(cwd, out);
            Some(if out.ends_with('/') {
                Output::Dir(path)
            } else {
                Output::File(path)
            })
        }
        (Ecosystem::Go, Some("install")) => {
            let bin = match (env("GOBIN"), env("GOPATH"), env("HOME")) {
                (Some(bin), _, _) => bin.to_string(),
                (None, Some(path), _) => format!("{}/bin", path.split(':').next()?),
                (None, None, Some(home)) => format!("{home}/go/bin"),
                _ => return None,
            };
            Some(Output::Dir(resolve_path(cwd, &bin)))
        }
        (Ecosystem::Rust, Some("build" | "b")) => {
            let target_dir = option_value(args, &["--target-dir"])
                .or_else(|| env("CARGO_TARGET_DIR"))
                .unwrap_or("target");
            let profile = match option_value(args, &["--profile"]) {
                Some("dev") | Some("test") => "debug".to_string(),
                Some(profile) => profile.to_string(),
                None if args.iter().any(|a| a == "--release" || a == "-r") => "release".into(),
                None => "debug".into(),
            };
            let mut dir = resolve_path(cwd, target_dir);
            if let Some(triple) = option_value(args, &["--target"]) {
                dir = format!("{}/{triple}", dir.trim_end_matches('/'));
            }
            Some(Output::Dir(format!(
                "{}/{profile}",
                dir.trim_end_matches('/')
            )))
        }
        (Ecosystem::Rust, Some("install")) => {
            let root = match option_value(args, &["--root"]) {
                Some(root) => root.to_string(),
                None => match (env("CARGO_INSTALL_ROOT"), env("CARGO_HOME"), env("HOME")) {
                    (Some(root), _, _) | (None, Some(root), _) => root.to_string(),
                    (None, None, Some(home)) => format!("{home}/.cargo"),
                    _ => return None,
                },
            };
            Some(Output::Dir(format!(
                "{}/bin",
                resolve_path(cwd, &root).trim_end_matches('/')
            )))
        }
        _ => None,
    }
}

/// The manager of a dependency install.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Manager {
    Npm,
    Yarn,
    Pnpm,
    Bun,
    Pip,
    Poetry,
    Uv,
    Pipenv,
}

impl Manager {
    pub fn name(self) -> &'static str {
        match self {
            Manager::Npm => "npm",
            Manager::Yarn => "yarn",
            Manager::Pnpm => "pnpm",
            Manager::Bun => "bun",
            Manager::Pip => "pip",
            Manager::Poetry => "poetry",
            Manager::Uv => "uv",
            Manager::Pipenv => "pipenv",
        }
    }

    /// The manifest whose development dependencies the install brings.
    pub fn manifest(self) -> &'static str {
        match self {
            Manager::Npm | Manager::Yarn | Manager::Pnpm | Manager::Bun => "package.json",
            Manager::Poetry | Manager::Uv => "pyproject.toml",
            Manager::Pipenv => "Pipfile",
            Manager::Pip => "requirements file",
        }
    }

    /// The option that leaves development dependencies out.
    pub fn production_option(self) -> Option<&'static str> {
        match self {
            Manager::Npm => Some("--omit=dev"),
            Manager::Yarn => Some("--production"),
            Manager::Pnpm => Some("--prod"),
            Manager::Bun => Some("--production"),
            Manager::Poetry => Some("--only main"),
            Manager::Uv => Some("--no-dev"),
            Manager::Pip | Manager::Pipenv => None,
        }
    }
}

/// An install that brings development dependencies.
#[derive(Debug, Clone)]
pub struct DevInstall {
    /// Index in the RUN's `effects.steps`.
    pub step: usize,
    pub manager: Manager,
    /// What asks for them: the manifest's dev dependencies by default (`None`), or an
    /// argument (`-r requirements-dev.txt`, `.[dev]`, `--dev`): its index in the arguments.
    pub named_by: Option<usize>,
}

/// Options and environment under which each JavaScript manager leaves dev dependencies out.
const NODE_PRODUCTION_OPTIONS: &[&str] = &[
    "--omit=dev",
    "--production",
    "--prod",
    "-P",
    "--only=prod",
    "--only=production",
    "-p",
];

/// Installs in `run` that bring development dependencies: JavaScript installs without a
/// production option (dev dependencies come when the project declares some), Python
/// installs that name a development requirements file or extra, `poetry install` without
/// `--only main` / `--without dev`, `uv sync` without `--no-dev`, `pipenv install --dev`.
pub fn dev_installs(run: &Run) -> Vec<DevInstall> {
    let Some(script) = &run.script else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (index, step) in run.effects.steps.iter().enumerate() {
        // Nothing else installs: skipped before its arguments are gathered.
        if !is_installer_or_runner(basename(&step.name)) {
            continue;
        }
        let (name, args) = program_and_args(step, script);
        let env_is = |var: &str, values: &[&str]| {
            step.env
                .known(var)
                .is_some_and(|v| values.iter().any(|x| v.eq_ignore_ascii_case(x)))
        };
        let operands = operand_indices(&args, NPM_VALUED);
        let first = operands.first().map(|&i| args[i].as_str());
        let has = |option: &str| args.iter().any(|a| a == option);
        let node_production = || {
            args.iter()
                .zip(args.iter().skip(1).chain(std::iter::once(&String::new())))
                .any(|(a, next)| {
                    NODE_PRODUCTION_OPTIONS.contains(&a.as_str())
                        || (a == "--omit" && next == "dev")
                        || (a == "--only" && next.starts_with("prod"))
                })
                || (env_is("NODE_ENV", &["production"]) && !has("--include=dev"))
                || env_is("npm_config_omit", &["dev"])
                || env_is("NPM_CONFIG_OMIT", &["dev"])
                || env_is("npm_config_production", &["true"])
                || env_is("NPM_CONFIG_PRODUCTION", &["true"])
                || env_is("YARN_PRODUCTION", &["true"])
        };
        let manager = match (name.as_str(), first) {
            // `npm install <package>` adds a package; only a bare install reads the manifest.
            ("npm", Some("ci" | "clean-install" | "install-clean"))
            | ("npm", Some("install" | "i"))
                if operands.len() == 1 =>
            {
                Some(Manager::Npm)
            }
            ("yarn" | "yarnpkg", None) | ("yarn" | "yarnpkg", Some("install"))
                if operands.len() <= 1 =>
            {
                Some(Manager::Yarn)
            }
            ("pnpm", Some("install" | "i")) if operands.len() == 1 => Some(Manager::Pnpm),
            ("bun", Some("install" | "i")) if operands.len() == 1 => Some(Manager::Bun),
            _ => None,
        };
        if let Some(manager) = manager {
            if !node_production() {
                out.push(DevInstall {
                    step: index,
                    manager,
                    named_by: None,
                });
            }
            continue;
        }
        let python = match (name.as_str(), first) {
            (n, Some("install")) if is_pip(n) => Some(Manager::Pip),
            ("uv", Some("pip")) if operands.get(1).is_some_and(|&i| args[i] == "install") => {
                Some(Manager::Pip)
            }
            ("poetry", Some("install")) => Some(Manager::Poetry),
            ("uv", Some("sync")) => Some(Manager::Uv),
            ("pipenv", Some("install" | "sync")) => Some(Manager::Pipenv),
            _ => None,
        };
        let dev = match python {
            Some(Manager::Pip) => args
                .iter()
                .position(|a| {
                    let file = a
                        .strip_prefix("--requirement=")
                        .or_else(|| a.strip_prefix("-r"));
                    is_dev_requirements(file.unwrap_or(a))
                })
                .map(|i| (Manager::Pip, Some(i))),
            Some(Manager::Poetry) => {
                let excluded = args
                    .iter()
                    .zip(args.iter().skip(1).chain(std::iter::once(&String::new())))
                    .any(|(a, next)| {
                        matches!(
                            a.as_str(),
                            "--no-dev" | "--only-root" | "--only=main" | "--without=dev"
                        ) || (a == "--only" && next == "main")
                            || (a == "--without" && next.split(',').any(|g| g == "dev"))
                            || a.strip_prefix("--without=")
                                .is_some_and(|g| g.split(',').any(|g| g == "dev"))
                    });
                let named = args
                    .iter()
                    .position(|a| a == "--with" || a.starts_with("--with=") || a == "--all-groups");
                match (excluded, named) {
                    (_, Some(i)) => Some((Manager::Poetry, Some(i))),
                    (false, None) => Some((Manager::Poetry, None)),
                    (true, None) => None,
                }
            }
            Some(Manager::Uv) => {
                let excluded = args.iter().any(|a| {
                    matches!(
                        a.as_str(),
                        "--no-dev" | "--no-default-groups" | "--only-group" | "--no-group=dev"
                    )
                }) || args
                    .windows(2)
                    .any(|w| w[0] == "--no-group" && w[1] == "dev")
                    || env_is("UV_NO_DEV", &["1", "true"]);
                // Extras are optional runtime features (`--all-extras`), unless one is
                // named for development (`--extra test`).
                let dev_name = |n: &str| is_dev_requirements(&format!("[{n}]"));
                let named = args.iter().enumerate().position(|(i, a)| {
                    matches!(a.as_str(), "--dev" | "--all-groups" | "--group=dev")
                        || a.strip_prefix("--extra=").is_some_and(dev_name)
                        || ((a == "--extra" || a == "--group")
                            && args.get(i + 1).is_some_and(|n| dev_name(n)))
                });
                // Name the extra or group itself (`test`), not the option before it.
                let named = named
                    .map(|i| i + usize::from(matches!(args[i].as_str(), "--extra" | "--group")));
                match (excluded, named) {
                    (_, Some(i)) => Some((Manager::Uv, Some(i))),
                    (false, None) => Some((Manager::Uv, None)),
                    (true, None) => None,
                }
            }
            Some(Manager::Pipenv) => args
                .iter()
                .position(|a| a == "--dev" || a == "-d")
                .map(|i| (Manager::Pipenv, Some(i))),
            _ => None,
        };
        if let Some((manager, named_by)) = dev {
            out.push(DevInstall {
                step: index,
                manager,
                named_by,
            });
        }
    }
    out
}

/// The package managers whose installs [`dev_installs`] reads (the names its two matches
/// take), and the runners [`program_and_args`] looks through to find one.
fn is_installer_or_runner(name: &str) -> bool {
    matches!(
        name,
        "npm" | "yarn" | "yarnpkg" | "pnpm" | "bun" | "uv" | "poetry" | "pipenv"
    ) || is_pip(name)
        || runner_skip(name, Some("exec")).is_some()
}

fn is_pip(name: &str) -> bool {
    name == "pip"
        || name
            .strip_prefix("pip")
            .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// A requirements file or extra of development dependencies: `requirements-dev.txt`,
/// `requirements/test.txt`, `dev-requirements.txt`, `.[dev]`, `-e .[dev,test]`.
pub fn is_dev_requirements(arg: &str) -> bool {
    const DEV: &[&str] = &[
        "dev",
        "develop",
        "development",
        "test",
        "tests",
        "testing",
        "lint",
    ];
    if let Some((_, extras)) = arg.split_once('[') {
        return extras
            .trim_end_matches(']')
            .split(',')
            .any(|e| DEV.contains(&e.trim()));
    }
    let file = basename(arg);
    let Some(stem) = file
        .strip_suffix(".txt")
        .or_else(|| file.strip_suffix(".in"))
    else {
        return false;
    };
    let parent_is_requirements = arg.contains("requirements/");
    let words: Vec<&str> = stem.split(['-', '_', '.']).collect();
    (parent_is_requirements || words.contains(&"requirements") || words.contains(&"reqs"))
        && words.iter().any(|w| DEV.contains(w))
}

/// The last command of an image's RUNs that removes the development dependencies an install
/// brought: `npm prune --omit=dev`, `pnpm prune --prod`, a production `yarn install`,
/// `bun install --production`. Found once for all the installs and builds of the image
/// (asked of each against the RUNs after it, an image of n installs took n² steps).
#[derive(Debug, Clone, Copy)]
pub struct LastPrune(Option<(usize, usize)>);

impl LastPrune {
    /// The last prune of `runs` (an image's RUNs, in order).
    pub fn of(runs: &[&Run]) -> LastPrune {
        LastPrune(runs.iter().enumerate().rev().find_map(|(r, run)| {
            let script = run.script.as_ref()?;
            let step = run
                .effects
                .steps
                .iter()
                .rposition(|step| prunes(step, script))?;
            Some((r, step))
        }))
    }

    /// Whether a command after step `step` of the RUN at `r` (an index into the RUNs this
    /// was found of) removes the development dependencies.
    pub fn after(self, r: usize, step: usize) -> bool {
        self.0.is_some_and(|last| last > (r, step))
    }
}

fn prunes(step: &Step, script: &Script) -> bool {
    // Asked of every step of an image: arguments are gathered only for the programs that
    // prune.
    let npm = match basename(&step.name) {
        "npm" | "pnpm" => true,
        "yarn" | "yarnpkg" | "bun" => false,
        _ => return false,
    };
    let args = arg_values(step, script);
    let has = |a: &str| args.iter().any(|x| x == a);
    let production = has("--omit=dev")
        || has("--production")
        || has("--prod")
        || has("-P")
        || (has("--omit") && has("dev"))
        || step.env.known("NODE_ENV") == Some("production");
    match npm {
        true => has("prune") && production,
        false => production && !has("add"),
    }
}

/// Commands of `run` that install Python packages (whose sdists compile with whatever
/// compilers the image has).
pub fn python_installs(run: &Run) -> Vec<usize> {
    let Some(script) = &run.script else {
        return Vec::new();
    };
    run.effects
        .steps
        .iter()
        .enumerate()
        .filter(|(_, step)| {
            let (name, args) = program_and_args(step, script);
            let first = args
                .iter()
                .find(|a| !a.starts_with('-'))
                .map(String::as_str);
            match (name.as_str(), first) {
                (n, Some("install")) if is_pip(n) => true,
                ("uv", Some("pip" | "sync")) | ("poetry", Some("install")) => true,
                ("pipenv", Some("install" | "sync")) => true,
                _ => false,
            }
        })
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_requirement_files_and_extras() {
        for dev in [
            "requirements-dev.txt",
            "requirements_dev.txt",
            "dev-requirements.txt",
            "requirements/dev.txt",
            "requirements/test.txt",
            "requirements-test.txt",
            ".[dev]",
            ".[dev,test]",
        ] {
            assert!(is_dev_requirements(dev), "{dev}");
        }
        for not_dev in [
            "requirements.txt",
            "requirements/base.txt",
            ".[server]",
            "devtools.txt",
            ".",
        ] {
            assert!(!is_dev_requirements(not_dev), "{not_dev}");
        }
    }
}
