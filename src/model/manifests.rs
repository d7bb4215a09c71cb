//! Dependency installs and the manifest files they read: what a Dockerfile can copy alone
//! before the install, so that editing the sources keeps the install's layer cached.

use super::tools::{self, Tool};

/// One way of installing a project's dependencies from its manifests.
pub struct Installer {
    pub tool: &'static Tool,
    /// Leading operands of the install command; `&[]` is the bare command (`yarn`).
    commands: &'static [&'static [&'static str]],
    /// The manifest files it reads from the working directory, the first one required.
    pub manifests: &'static [&'static str],
    /// Options whose value names a manifest it reads (`pip install -r FILE`); for these
    /// installers one such option is required, and the files named are the manifests.
    file_options: &'static [&'static str],
    /// Operands after the command name packages to add (`npm install express`): then it is
    /// not an install from the manifests.
    operands_are_packages: bool,
    /// The install also builds or installs the project itself, which needs the sources,
    /// unless one of these options is given (`poetry install --no-root`). `None`: it never does.
    pub needs_sources_unless: Option<&'static [&'static str]>,
    /// Files or directories that mean the manifests alone are not enough (workspaces,
    /// Yarn's Plug'n'Play, a gemspec the Gemfile loads): no fix.
    pub layouts: &'static [&'static str],
    /// What the install writes into the project directory: copied after the install, the
    /// context's own copy would replace it.
    pub outputs: &'static [&'static str],
}

const NODE_LAYOUTS: &[&str] = &[
    ".yarn",
    ".pnp.cjs",
    "pnpm-workspace.yaml",
    "lerna.json",
    "nx.json",
    "turbo.json",
];

pub static INSTALLERS: &[Installer] = &[
    Installer {
        tool: &tools::NPM,
        commands: &[&["ci"], &["install"], &["i"], &["clean-install"]],
        manifests: &[
            "package.json",
            "package-lock.json",
            "npm-shrinkwrap.json",
            ".npmrc",
        ],
        file_options: &[],
        operands_are_packages: true,
        needs_sources_unless: None,
        layouts: NODE_LAYOUTS,
        outputs: &["node_modules"],
    },
    Installer {
        tool: &tools::YARN,
        commands: &[&[], &["install"]],
        manifests: &[
            "package.json",
            "yarn.lock",
            ".yarnrc",
            ".yarnrc.yml",
            ".npmrc",
        ],
        file_options: &[],
        operands_are_packages: true,
        needs_sources_unless: None,
        layouts: NODE_LAYOUTS,
        outputs: &["node_modules", ".yarn"],
    },
    Installer {
        tool: &tools::PNPM,
        commands: &[&["install"], &["i"]],
        manifests: &["package.json", "pnpm-lock.yaml", ".npmrc", ".pnpmfile.cjs"],
        file_options: &[],
        operands_are_packages: true,
        needs_sources_unless: None,
        layouts: NODE_LAYOUTS,
        outputs: &["node_modules"],
    },
    Installer {
        tool: &tools::BUN,
        commands: &[&["install"], &["i"]],
        manifests: &["package.json", "bun.lock", "bun.lockb", "bunfig.toml"],
        file_options: &[],
        operands_are_packages: true,
        needs_sources_unless: None,
        layouts: NODE_LAYOUTS,
        outputs: &["node_modules"],
    },
    Installer {
        tool: &tools::PIP,
        commands: &[&["install"]],
        manifests: &[],
        file_options: &["-r", "--requirement", "-c", "--constraint"],
        operands_are_packages: false,
        needs_sources_unless: None,
        layouts: &[],
        outputs: &[],
    },
    Installer {
        tool: &tools::UV,
        commands: &[&["pip", "install"], &["pip", "sync"]],
        manifests: &[],
        file_options: &[
            "-r",
            "--requirement",
            "--requirements",
            "-c",
            "--constraint",
            "--constraints",
        ],
        operands_are_packages: false,
        needs_sources_unless: None,
        layouts: &[],
        outputs: &[".venv"],
    },
    Installer {
        tool: &tools::UV,
        commands: &[&["sync"]],
        manifests: &["pyproject.toml", "uv.lock", "uv.toml", ".python-version"],
        file_options: &[],
        operands_are_packages: true,
        needs_sources_unless: Some(&["--no-install-project"]),
        layouts: &[],
        outputs: &[".venv"],
    },
    Installer {
        tool: &tools::POETRY,
        commands: &[&["install"]],
        manifests: &["pyproject.toml", "poetry.lock", "poetry.toml"],
        file_options: &[],
        operands_are_packages: true,
        needs_sources_unless: Some(&["--no-root"]),
        layouts: &[],
        outputs: &[".venv"],
    },
    Installer {
        tool: &tools::PIPENV,
        commands: &[&["install"], &["sync"]],
        manifests: &["Pipfile", "Pipfile.lock"],
        file_options: &[],
        operands_are_packages: true,
        needs_sources_unless: None,
        layouts: &[],
        outputs: &[".venv"],
    },
    Installer {
        tool: &tools::GO,
        commands: &[&["mod", "download"]],
        manifests: &["go.mod", "go.sum"],
        file_options: &[],
        operands_are_packages: true,
        needs_sources_unless: None,
        layouts: &["go.work"],
        outputs: &["vendor"],
    },
    Installer {
        tool: &tools::CARGO,
        commands: &[&["fetch"], &["build"]],
        manifests: &["Cargo.toml", "Cargo.lock"],
        file_options: &[],
        operands_are_packages: false,
        // A manifest without its targets does not load: cargo needs the sources, or a
        // recipe of them (cargo-chef).
        needs_sources_unless: Some(&[]),
        layouts: &[],
        outputs: &["target"],
    },
    Installer {
        tool: &tools::GEM,
        commands: &[&["install"]],
        manifests: &["Gemfile", "Gemfile.lock"],
        file_options: &[],
        operands_are_packages: true,
        needs_sources_unless: None,
        layouts: &[".bundle"],
        outputs: &["vendor", ".bundle"],
    },
    Installer {
        tool: &tools::COMPOSER,
        commands: &[&["install"]],
        manifests: &["composer.json", "composer.lock"],
        file_options: &[],
        operands_are_packages: true,
        // The autoloader maps the sources' classes, and scripts may run them.
        needs_sources_unless: Some(&["--no-autoloader"]),
        layouts: &[],
        outputs: &["vendor"],
    },
    Installer {
        tool: &tools::MAVEN,
        commands: &[&["dependency:go-offline"], &["dependency:resolve"]],
        manifests: &["pom.xml"],
        file_options: &[],
        operands_are_packages: false,
        needs_sources_unless: None,
        layouts: &[".mvn"],
        outputs: &["target"],
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
        let command = self
            .commands
            .iter()
            .find(|c| operands.starts_with(c) && (!c.is_empty() || operands.is_empty()))?;
        let rest = &operands[command.len()..];
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
        })
    }
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
}
