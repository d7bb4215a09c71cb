//! Dependency installs and the manifest files they read: what a Dockerfile can copy alone
//! before the install, so that editing the sources keeps the install's layer cached.

use super::tools::{self, Tool};

/// One way of installing a project's dependencies from its manifests.
pub struct Installer {
    pub tool: &'static Tool,
    /// Leading operands of the install command; `&[]` is the bare command (`yarn`).
    commands: &'static [&'static [&'static str]],
    /// The commands are goals or tasks, named anywhere among the operands
    /// (`mvn -B clean dependency:go-offline`).
    goals: bool,
    /// The manifest files it reads from the working directory.
    pub manifests: &'static [&'static str],
    /// One of these must be there for the install to run.
    pub required: &'static [&'static str],
    /// Options whose value names a manifest it reads (`pip install -r FILE`); for these
    /// installers one such option is required, and the files named are the manifests.
    file_options: &'static [&'static str],
    /// Options whose value is the manifest to read instead of the working directory's
    /// (`mvn -f backend/pom.xml`); a value without an extension is a directory, read for
    /// the first `required` file (`mvn -f backend` reads `backend/pom.xml`).
    manifest_options: &'static [&'static str],
    /// Operands after the command name packages to add (`npm install express`): then it is
    /// not an install from the manifests.
    operands_are_packages: bool,
    /// The install also builds or installs the project itself, which needs the sources,
    /// unless one of these options is given (`poetry install --no-root`). `None`: it never does.
    pub needs_sources_unless: Option<&'static [&'static str]>,
    /// For a build that needs the sources whatever its options: how to fetch the
    /// dependencies alone before copying them.
    pub fetch_first: &'static str,
    /// Files or directories that mean the manifests alone are not enough (workspaces,
    /// Yarn's Plug'n'Play, a gemspec the Gemfile loads): no fix.
    pub layouts: &'static [&'static str],
    /// What the install writes into the project directory: copied after the install, the
    /// context's own copy would replace it.
    pub outputs: &'static [&'static str],
    /// Text in a manifest that points at other files of the project (a workspace, a path
    /// dependency, an install script, an included requirements file): the manifests alone
    /// are not enough.
    pub refers: Refers,
}

/// How a manifest's text says it needs more than itself.
pub struct Refers {
    /// Anywhere in the text.
    pub contains: &'static [&'static str],
    /// At the start of a line (after blanks).
    pub line_starts: &'static [&'static str],
    /// Scripts the install runs, anywhere in the text…
    pub scripts: &'static [&'static str],
    /// …unless one of these options is given (`npm ci --ignore-scripts`).
    pub scripts_off: &'static [&'static str],
}

impl Refers {
    const NONE: Refers = Refers {
        contains: &[],
        line_starts: &[],
        scripts: &[],
        scripts_off: &[],
    };

    /// The first word of `text` that points elsewhere, given the install's `args`.
    pub fn find(&self, text: &str, args: &[String]) -> Option<&'static str> {
        let scripts_off = args.iter().any(|a| self.scripts_off.contains(&a.as_str()));
        let scripts: &[&'static str] = if scripts_off { &[] } else { self.scripts };
        let contained = self
            .contains
            .iter()
            .chain(scripts)
            .find(|w| text.contains(**w));
        contained.copied().or_else(|| {
            text.lines().find_map(|line| {
                let line = line.trim_start();
                self.line_starts
                    .iter()
                    .find(|w| line.starts_with(**w))
                    .copied()
            })
        })
    }
}

const NODE_LAYOUTS: &[&str] = &[
    ".yarn",
    ".pnp.cjs",
    "pnpm-workspace.yaml",
    "lerna.json",
    "nx.json",
    "turbo.json",
];

/// Workspaces, local packages and install scripts of a package.json.
const NODE_REFERS: Refers = Refers {
    contains: &[
        "\"workspaces\"",
        "\"file:",
        "\"link:",
        "\"portal:",
        "\"workspace:",
    ],
    line_starts: &[],
    scripts: &[
        "\"preinstall\"",
        "\"install\"",
        "\"postinstall\"",
        "\"prepare\"",
    ],
    scripts_off: &["--ignore-scripts"],
};

/// `-r other.txt`, `-e .`, `./local`, `file:` lines of a requirements file.
const REQUIREMENTS_REFERS: Refers = Refers {
    contains: &[" @ file:"],
    line_starts: &[
        "-r",
        "-c",
        "-e",
        "--requirement",
        "--constraint",
        "--editable",
        ".",
        "/",
        "file:",
    ],
    scripts: &[],
    scripts_off: &[],
};

pub static INSTALLERS: &[Installer] = &[
    Installer {
        tool: &tools::NPM,
        commands: &[&["ci"], &["install"], &["i"], &["clean-install"]],
        goals: false,
        manifests: &["package.json", "package-lock.json", "npm-shrinkwrap.json", ".npmrc"],
        required: &["package.json"],
        file_options: &[],
        manifest_options: &[],
        operands_are_packages: true,
        needs_sources_unless: None,
        fetch_first: "",
        layouts: NODE_LAYOUTS,
        outputs: &["node_modules"],
        refers: NODE_REFERS,
    },
    Installer {
        tool: &tools::YARN,
        commands: &[&[], &["install"]],
        goals: false,
        manifests: &["package.json", "yarn.lock", ".yarnrc", ".yarnrc.yml", ".npmrc"],
        required: &["package.json"],
        file_options: &[],
        manifest_options: &[],
        operands_are_packages: true,
        needs_sources_unless: None,
        fetch_first: "",
        layouts: NODE_LAYOUTS,
        outputs: &["node_modules", ".yarn"],
        refers: NODE_REFERS,
    },
    Installer {
        tool: &tools::PNPM,
        commands: &[&["install"], &["i"]],
        goals: false,
        manifests: &["package.json", "pnpm-lock.yaml", ".npmrc", ".pnpmfile.cjs"],
        required: &["package.json"],
        file_options: &[],
        manifest_options: &[],
        operands_are_packages: true,
        needs_sources_unless: None,
        fetch_first: "",
        layouts: NODE_LAYOUTS,
        outputs: &["node_modules"],
        refers: NODE_REFERS,
    },
    Installer {
        tool: &tools::BUN,
        commands: &[&["install"], &["i"]],
        goals: false,
        manifests: &["package.json", "bun.lock", "bun.lockb", "bunfig.toml"],
        required: &["package.json"],
        file_options: &[],
        manifest_options: &[],
        operands_are_packages: true,
        needs_sources_unless: None,
        fetch_first: "",
        layouts: NODE_LAYOUTS,
        outputs: &["node_modules"],
        refers: NODE_REFERS,
    },
    Installer {
        tool: &tools::PIP,
        commands: &[&["install"]],
        goals: false,
        manifests: &[],
        required: &[],
        file_options: &["-r", "--requirement", "-c", "--constraint"],
        manifest_options: &[],
        operands_are_packages: false,
        needs_sources_unless: None,
        fetch_first: "",
        layouts: &[],
        outputs: &[],
        refers: REQUIREMENTS_REFERS,
    },
    Installer {
        tool: &tools::UV,
        commands: &[&["pip", "install"], &["pip", "sync"]],
        goals: false,
        manifests: &[],
        required: &[],
        file_options: &[
            "-r",
            "--requirement",
            "--requirements",
            "-c",
            "--constraint",
            "--constraints",
        ],
        manifest_options: &[],
        operands_are_packages: false,
        needs_sources_unless: None,
        fetch_first: "",
        layouts: &[],
        outputs: &[".venv"],
        refers: REQUIREMENTS_REFERS,
    },
    Installer {
        tool: &tools::UV,
        commands: &[&["sync"]],
        goals: false,
        manifests: &["pyproject.toml", "uv.lock", "uv.toml", ".python-version"],
        required: &["pyproject.toml"],
        file_options: &[],
        manifest_options: &[],
        operands_are_packages: true,
        needs_sources_unless: Some(&["--no-install-project"]),
        fetch_first: "",
        layouts: &[],
        outputs: &[".venv"],
        refers: Refers {
            contains: &["[tool.uv.workspace]", "path = ", "editable = true"],
            ..Refers::NONE
        },
    },
    Installer {
        tool: &tools::POETRY,
        commands: &[&["install"]],
        goals: false,
        manifests: &["pyproject.toml", "poetry.lock", "poetry.toml"],
        required: &["pyproject.toml"],
        file_options: &[],
        manifest_options: &[],
        operands_are_packages: true,
        needs_sources_unless: Some(&["--no-root"]),
        fetch_first: "",
        layouts: &[],
        outputs: &[".venv"],
        refers: Refers {
            contains: &["path = ", "{ path"],
            ..Refers::NONE
        },
    },
    Installer {
        tool: &tools::PIPENV,
        commands: &[&["install"], &["sync"]],
        goals: false,
        manifests: &["Pipfile", "Pipfile.lock"],
        required: &["Pipfile"],
        file_options: &[],
        manifest_options: &[],
        operands_are_packages: true,
        needs_sources_unless: None,
        fetch_first: "",
        layouts: &[],
        outputs: &[".venv"],
        refers: Refers {
            contains: &["path = ", "editable = true"],
            ..Refers::NONE
        },
    },
    Installer {
        tool: &tools::GO,
        commands: &[&["mod", "download"]],
        goals: false,
        manifests: &["go.mod", "go.sum"],
        required: &["go.mod"],
        file_options: &[],
        manifest_options: &[],
        operands_are_packages: true,
        needs_sources_unless: None,
        fetch_first: "",
        layouts: &["go.work"],
        outputs: &["vendor"],
        // A module replaced by a directory of the project.
        refers: Refers {
            contains: &["=> ./", "=> ../", "=> /"],
            ..Refers::NONE
        },
    },
    Installer {
        tool: &tools::CARGO,
        commands: &[&["fetch"], &["build"]],
        goals: false,
        manifests: &["Cargo.toml", "Cargo.lock"],
        required: &["Cargo.toml"],
        file_options: &[],
        manifest_options: &[],
        operands_are_packages: false,
        // A manifest without its targets does not load: cargo needs the sources, or a
        // recipe of them (cargo-chef).
        needs_sources_unless: Some(&[]),
        fetch_first: "copy the manifests with a stub `src/main.rs` and run `cargo fetch`, or cook a cargo-chef recipe",
        layouts: &[],
        outputs: &["target"],
        refers: Refers::NONE,
    },
    Installer {
        tool: &tools::GEM,
        commands: &[&["install"]],
        goals: false,
        manifests: &["Gemfile", "Gemfile.lock"],
        required: &["Gemfile"],
        file_options: &[],
        manifest_options: &[],
        operands_are_packages: true,
        needs_sources_unless: None,
        fetch_first: "",
        layouts: &[".bundle"],
        outputs: &["vendor", ".bundle"],
        // `gemspec` loads the project's own .gemspec; `path:` a local gem.
        refers: Refers {
            contains: &["path:", ":path =>", "eval_gemfile"],
            line_starts: &["gemspec"],
            ..Refers::NONE
        },
    },
    Installer {
        tool: &tools::COMPOSER,
        commands: &[&["install"]],
        goals: false,
        manifests: &["composer.json", "composer.lock", "auth.json"],
        required: &["composer.json"],
        file_options: &[],
        manifest_options: &[],
        operands_are_packages: true,
        // The autoloader maps the sources' classes, and scripts may run them.
        needs_sources_unless: Some(&["--no-autoloader"]),
        fetch_first: "",
        layouts: &[],
        outputs: &["vendor"],
        refers: Refers {
            contains: &["\"type\": \"path\""],
            scripts: &["\"scripts\""],
            scripts_off: &["--no-scripts"],
            ..Refers::NONE
        },
    },
    Installer {
        tool: &tools::MAVEN,
        commands: &[&["dependency:go-offline"], &["dependency:resolve"], &["dependency:resolve-plugins"]],
        goals: true,
        manifests: &["pom.xml"],
        required: &["pom.xml"],
        file_options: &[],
        manifest_options: &["-f", "--file"],
        operands_are_packages: false,
        needs_sources_unless: None,
        fetch_first: "",
        layouts: &[".mvn"],
        outputs: &["target"],
        // A multi-module build needs every module's pom.
        refers: Refers {
            contains: &["<modules>"],
            ..Refers::NONE
        },
    },
    Installer {
        tool: &tools::MAVEN,
        commands: &[&["package"], &["install"], &["verify"]],
        goals: true,
        manifests: &["pom.xml"],
        required: &["pom.xml"],
        file_options: &[],
        manifest_options: &["-f", "--file"],
        operands_are_packages: false,
        // The build itself: resolving the dependencies first is a separate step.
        needs_sources_unless: Some(&[]),
        fetch_first: "copy `pom.xml` and run `mvn dependency:go-offline`",
        layouts: &[".mvn"],
        outputs: &["target"],
        refers: Refers::NONE,
    },
    Installer {
        tool: &tools::GRADLE,
        commands: &[&["dependencies"]],
        goals: true,
        manifests: &[
            "settings.gradle",
            "settings.gradle.kts",
            "build.gradle",
            "build.gradle.kts",
            "gradle.properties",
            "gradle/libs.versions.toml",
            "gradle/wrapper/gradle-wrapper.jar",
            "gradle/wrapper/gradle-wrapper.properties",
            "gradlew",
        ],
        required: &["build.gradle", "build.gradle.kts"],
        file_options: &[],
        manifest_options: &[],
        operands_are_packages: false,
        needs_sources_unless: None,
        fetch_first: "",
        layouts: &["buildSrc"],
        outputs: &["build", ".gradle"],
        // A multi-project build needs every project's build file.
        refers: Refers {
            contains: &["include(", "include '", "include \"", "includeBuild"],
            ..Refers::NONE
        },
    },
    Installer {
        tool: &tools::GRADLE,
        commands: &[&["build"], &["assemble"], &["bootJar"], &["installDist"], &["shadowJar"]],
        goals: true,
        manifests: &["settings.gradle", "settings.gradle.kts", "build.gradle", "build.gradle.kts"],
        required: &["build.gradle", "build.gradle.kts"],
        file_options: &[],
        manifest_options: &[],
        operands_are_packages: false,
        needs_sources_unless: Some(&[]),
        fetch_first: "copy the build and settings files and run `gradle dependencies`",
        layouts: &["buildSrc"],
        outputs: &["build", ".gradle"],
        refers: Refers::NONE,
    },
];

/// An install found on a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    pub installer: &'static Installer,
    /// Manifest files named on the command line (`-r requirements.txt`), as written.
    pub named: Vec<String>,
    /// It needs the project's sources (it installs the project too).
    pub needs_sources: bool,
    /// The project's directory, relative to the working directory, when an option moved it
    /// there (`mvn -f backend/pom.xml`: `backend`): where its layout files and outputs are.
    pub project: Option<String>,
    /// The install's arguments.
    pub args: Vec<String>,
}

impl PartialEq for Installer {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}
impl Eq for Installer {}

impl std::fmt::Debug for Installer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Installer({})", self.tool.name)
    }
}

/// The install `program` with `args` runs, if it installs from manifests.
pub fn install(program: &str, args: &[&str]) -> Option<Install> {
    INSTALLERS
        .iter()
        .filter(|i| i.tool.runs_as(program))
        .find_map(|i| i.read(args))
}

impl Installer {
    fn read(&'static self, args: &[&str]) -> Option<Install> {
        if args
            .iter()
            .any(|a| matches!(*a, "--help" | "-h" | "--version"))
        {
            return None;
        }
        let operands = self.tool.operands(args);
        let rest: Vec<&str> = if self.goals {
            self.commands
                .iter()
                .find(|c| c.iter().all(|g| operands.contains(g)))?;
            Vec::new()
        } else {
            let command = self
                .commands
                .iter()
                .find(|c| operands.starts_with(c) && (!c.is_empty() || operands.is_empty()))?;
            operands[command.len()..].to_vec()
        };
        let mut named = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            for option in self.file_options {
                if arg == option {
                    named.extend(args.get(i + 1).map(|v| v.to_string()));
                } else if let Some(value) =
                    arg.strip_prefix(option).and_then(|v| v.strip_prefix('='))
                {
                    named.push(value.to_string());
                } else if option.len() == 2
                    && !option.starts_with("--")
                    && arg.len() > 2
                    && arg.starts_with(option)
                {
                    named.push(arg[2..].to_string());
                }
            }
        }
        let mut project = None;
        if let Some(value) = option_value(args, self.manifest_options).filter(|v| !v.is_empty()) {
            let file_name = value.rsplit('/').next().unwrap_or("");
            let directory = matches!(file_name, "" | "." | "..") || !file_name.contains('.');
            let (dir, manifest) = match self.required.first() {
                Some(manifest) if directory => {
                    let dir = value.trim_end_matches('/');
                    (dir.to_string(), format!("{dir}/{manifest}"))
                }
                _ => (
                    value.rsplit_once('/').map_or(".", |(d, _)| d).to_string(),
                    value.to_string(),
                ),
            };
            project = Some(if dir.is_empty() { "/".to_string() } else { dir });
            named.push(manifest);
        }
        let named_files: Vec<&str> = named.iter().map(String::as_str).collect();
        // Operands that are not a named manifest: packages, or paths of local projects.
        let others: Vec<&&str> = rest.iter().filter(|o| !named_files.contains(o)).collect();
        if !self.file_options.is_empty() && named.is_empty() {
            return None;
        }
        if self.operands_are_packages && !others.is_empty() {
            return None;
        }
        let local_path = others.iter().any(|o| {
            o.starts_with('.') || o.starts_with('/') || o.contains("/") || o.starts_with("file:")
        });
        let needs_sources = local_path
            || self
                .needs_sources_unless
                .is_some_and(|unless| !args.iter().any(|a| unless.contains(a)));
        Some(Install {
            installer: self,
            named,
            needs_sources,
            project,
            args: args.iter().map(|a| a.to_string()).collect(),
        })
    }
}

/// The value of the last of the options `names` (`-f X`, `--file X`, `--file=X`).
fn option_value<'a>(args: &[&'a str], names: &[&str]) -> Option<&'a str> {
    let mut found = None;
    for (i, arg) in args.iter().enumerate() {
        for name in names {
            if arg == name {
                found = args.get(i + 1).copied();
            } else if let Some(value) = arg.strip_prefix(name).and_then(|v| v.strip_prefix('=')) {
                found = Some(value);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(program: &str, args: &[&str]) -> Option<(&'static str, Vec<String>, bool)> {
        install(program, args).map(|i| (i.installer.tool.name, i.named, i.needs_sources))
    }

    #[test]
    fn installs_from_manifests() {
        assert_eq!(read("npm", &["ci"]), Some(("npm", vec![], false)));
        assert_eq!(read("npm", &["install", "express"]), None);
        assert_eq!(
            read("yarn", &["--frozen-lockfile"]),
            Some(("yarn", vec![], false))
        );
        assert_eq!(read("yarn", &["build"]), None);
        assert_eq!(
            read(
                "pip",
                &["install", "--no-cache-dir", "-r", "requirements.txt"]
            ),
            Some(("pip", vec!["requirements.txt".into()], false))
        );
        assert_eq!(read("pip", &["install", "flask"]), None);
        assert_eq!(
            read("pip", &["install", "-r", "requirements.txt", "."]).map(|r| r.2),
            Some(true)
        );
        assert_eq!(read("poetry", &["install"]).map(|r| r.2), Some(true));
        assert_eq!(
            read("poetry", &["install", "--no-root"]).map(|r| r.2),
            Some(false)
        );
        assert_eq!(
            read("go", &["mod", "download"]),
            Some(("go", vec![], false))
        );
        assert_eq!(
            read("bundle", &["install", "--jobs", "4"]).map(|r| r.0),
            Some("bundler")
        );
        assert_eq!(
            read("cargo", &["build", "--release"]).map(|r| r.2),
            Some(true)
        );
    }

    #[test]
    fn goals_and_tasks_anywhere_among_the_operands() {
        let maven = read(
            "mvn",
            &["-B", "-f", "pom.xml", "clean", "dependency:go-offline"],
        );
        assert_eq!(maven, Some(("maven", vec!["pom.xml".to_string()], false)));
        assert_eq!(
            read("mvn", &["-B", "clean", "package"]).map(|r| r.2),
            Some(true)
        );
        assert_eq!(read("mvn", &["-B", "test"]), None);
        // Maven reads the pom `-f` names, or the one in the directory it names.
        for (file, pom) in [
            ("backend/pom.xml", "backend/pom.xml"),
            ("backend", "backend/pom.xml"),
            ("backend/", "backend/pom.xml"),
            (".", "./pom.xml"),
            ("build.xml", "build.xml"),
        ] {
            assert_eq!(
                read("mvn", &["-B", "-f", file, "dependency:go-offline"]),
                Some(("maven", vec![pom.to_string()], false)),
                "-f {file}"
            );
        }
        assert_eq!(
            read("mvn", &["--file=api/pom.xml", "-o", "package"]),
            Some(("maven", vec!["api/pom.xml".to_string()], true))
        );
        assert_eq!(
            read("gradle", &["dependencies", "--no-daemon"]).map(|r| r.2),
            Some(false)
        );
        assert_eq!(
            read("gradlew", &["clean", "bootJar"]).map(|r| r.2),
            Some(true)
        );
        assert_eq!(read("gradle", &["test"]), None);
    }

    #[test]
    fn manifests_that_point_elsewhere() {
        let npm = &INSTALLERS[0].refers;
        let scripts = r#"{"scripts": {"postinstall": "node x.js"}}"#;
        assert_eq!(npm.find(scripts, &[]), Some("\"postinstall\""));
        assert_eq!(
            npm.find(scripts, &["ci".into(), "--ignore-scripts".into()]),
            None
        );
        let workspaces = r#"{"workspaces": ["a"]}"#;
        assert_eq!(
            npm.find(workspaces, &["--ignore-scripts".into()]),
            Some("\"workspaces\"")
        );
        assert_eq!(npm.find(r#"{"scripts": {"start": "node ."}}"#, &[]), None);
        let pip = &REQUIREMENTS_REFERS;
        assert_eq!(pip.find("flask==3.0\n  -r base.txt\n", &[]), Some("-r"));
        assert_eq!(pip.find("flask==3.0\n# -r is a comment here\n", &[]), None);
        assert_eq!(pip.find("pkg @ file:///src/pkg\n", &[]), Some(" @ file:"));
        let go = &INSTALLERS
            .iter()
            .find(|i| i.tool.name == "go")
            .unwrap()
            .refers;
        assert_eq!(go.find("module m\nreplace a => ./a\n", &[]), Some("=> ./"));
        assert_eq!(go.find("module m\nreplace a => b v1.0.0\n", &[]), None);
    }
}
