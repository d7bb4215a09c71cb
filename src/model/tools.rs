//! Package managers and build tools that keep a download cache: which of their commands use
//! it, where each cache is for a given user and environment, how a command can be pointed at
//! another directory, and what disables or empties it. One row per tool; the effects
//! builder reads the rows, rules read the effects.
//!
//! Sources: each tool's documentation and source, checked against the tools themselves in
//! `tests/cache_dirs.rs` where they can be installed here.

/// Options that make a tool print its version or usage and exit.
const INFORMATIONAL: &[&str] = &["--version", "-version", "-v", "-V", "--help", "-help", "-h"];

/// One tool.
pub struct Tool {
    pub name: &'static str,
    /// Program names (after wrappers and `python -m` are read).
    programs: &'static [&'static str],
    /// `pip3.12`-style version suffixes on a program name.
    versioned: bool,
    /// Leading operands of the commands that download (`["install"]`, `["pip", "install"]`).
    uses: &'static [&'static [&'static str]],
    /// A command with no operand downloads too (`yarn` is `yarn install`).
    bare: bool,
    /// Every command may download (maven goals, gradle tasks, sbt commands).
    any: bool,
    /// Options with which nothing is downloaded.
    offline: &'static [&'static str],
    /// Options that take the next argument as their value (to find the operands).
    valued_options: &'static [&'static str],
    pub caches: &'static [Cache],
    /// Options that disable the cache.
    disabling: &'static [Flag],
    /// Environment variables that disable the cache when set.
    pub disabling_env: &'static [&'static str],
    /// The commands that empty caches.
    purges: &'static [Purge],
    /// The tool expands `~` in a directory it is given (pip does, with `expanduser`).
    expands_tilde: bool,
    /// Options a program of the tool needs once its cache is a mount: to keep what it
    /// downloads (`apt` deletes the packages it installed unless told otherwise, dnf unless
    /// `keepcache`), or to read fresh indexes from it (an index in a mount can be hours old).
    pub keep_options: &'static [KeepOption],
    /// Its cache mounts are known from the tool's documentation and source only: no build
    /// here proves them (the tool's packages cannot be fetched here), so its fixes are unsafe.
    pub unproved: bool,
    /// Inline settings a command needs once its cache is a mount (uv cannot hard-link
    /// across file systems and says so on every file: `UV_LINK_MODE=copy`).
    pub mount_env: &'static [(&'static str, &'static str)],
    /// The tool runs the command its operands name (`ccache gcc -c x.c`): any command with
    /// an operand uses the cache.
    launches: bool,
    /// The tool runs inside a build another program configures (`cmake
    /// -DCMAKE_C_COMPILER_LAUNCHER=ccache`): `programs` are that program's names.
    through: Option<Through>,
}

/// Options of a program that configures a build to run the tool: `NAME=VALUE` (or
/// `NAME:TYPE=VALUE`) where VALUE names one of `names`. Without one of them, the program
/// does not run the tool.
pub struct Through {
    options: &'static [&'static str],
    names: &'static [&'static str],
}

/// A command that empties caches: its leading operands, an option it needs (`go clean
/// -cache`), and the keys of the caches it empties (all of the tool's when empty).
pub struct Purge {
    operands: &'static [&'static str],
    with: Option<&'static str>,
    caches: &'static [&'static str],
}

/// Empties every cache of the tool.
const fn purge(operands: &'static [&'static str]) -> Purge {
    Purge {
        operands,
        with: None,
        caches: &[],
    }
}

/// An option a program needs with a cache mount, unless one of `given` is already there.
pub struct KeepOption {
    pub program: &'static str,
    pub option: &'static str,
    pub given: &'static [&'static str],
}

impl KeepOption {
    pub fn is_given(&self, args: &[&str]) -> bool {
        args.iter()
            .any(|a| *a == self.option || self.given.contains(a))
    }
}

/// An option as a tool reads it.
pub enum Flag {
    Exact(&'static str),
    /// optparse-style: any unambiguous prefix of the long option, down to `min` characters.
    Abbreviated {
        option: &'static str,
        min: usize,
    },
}

impl Flag {
    fn matches(&self, arg: &str) -> bool {
        match self {
            Flag::Exact(option) => arg == *option,
            Flag::Abbreviated { option, min } => arg.len() >= *min && option.starts_with(arg),
        }
    }
}

/// One cache of a tool.
pub struct Cache {
    /// What it holds ("packages", "build cache").
    pub what: &'static str,
    /// A short name for a directory of its own (`/var/cache/<key>`).
    pub key: &'static str,
    pub dir: Dir,
    /// The tool locks it against concurrent writers: `sharing=locked`.
    pub locked: bool,
    /// Leading operands of the commands that use this cache; empty for every command that
    /// uses the tool's caches.
    used_by: &'static [&'static [&'static str]],
    /// Later commands read what it holds (apt's package lists): a mount hides that from the
    /// RUNs after this one, so it is equivalent only when the RUN removes it anyway.
    pub outlives_run: bool,
    /// What it holds: downloads, what the tool compiled, or the build's output.
    pub holds: Holds,
    /// The tool writes the directory the cache is in (`.next` holds Next.js's build output
    /// around `.next/cache`). A builder creates a mount's missing parents as root, so a
    /// non-root user's build could not write there.
    pub parent_written: bool,
    /// A directory under HOME that the tool uses instead when it exists (ccache's
    /// `~/.ccache`, kept by ccache 4 for older setups): a mount there creates it, and serves.
    pub instead_when_present: Option<&'static str>,
    /// The option that points a command at another directory (`{}` is the directory), for
    /// caches no variable moves.
    pub pin_option: Option<&'static str>,
    /// Why the tool's own directory cannot serve as the mount, so that only a pinned one
    /// can (Debian's `docker-clean` deletes every downloaded `.deb` from apt's archive; apk
    /// keeps packages only in a cache directory it is given).
    pub pinned_only: Option<&'static str>,
    /// How the classic advice keeps it out of the layer, for builders without cache mounts.
    pub clean: Clean,
}

/// What a cache holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// Downloads: packages, modules, indexes.
    Downloads,
    /// What the tool compiled, keyed by its inputs (the toolchain and target platform
    /// included): go's build cache, ccache's objects, Next.js's build cache. Builds for
    /// several platforms can share it.
    Compiled,
    /// The build's output itself (cargo's `target`). A mount hides it from the image, so a
    /// command uses it as a cache only when the same RUN copies what it needs out of it
    /// (`cp target/release/app /usr/local/bin/`). It is built for one platform, and builds
    /// for several platforms run at once: each platform gets a cache of its own (a shared one
    /// could hand the copy another platform's binary).
    Output,
}

impl Holds {
    /// A mount's `id` must name the platform.
    pub fn per_platform(self) -> bool {
        self == Holds::Output
    }
}

/// Keeping a cache out of the layer without a mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clean {
    /// An option after the program (`pip --no-cache-dir install …`).
    Option(&'static str),
    /// A command appended to the RUN (`&& npm cache clean --force`).
    Append(&'static str),
    /// Advice only (removing a toolchain's caches is the author's call).
    Advice(&'static str),
}

/// Where a cache is.
pub enum Dir {
    /// `option DIR`, else the first variable of `env` that is set, else
    /// `$XDG_CACHE_HOME/<xdg>` when `xdg` is given and the variable set, else `$HOME/<home>`;
    /// for root, `root` when given (yarn classic).
    User {
        option: Option<&'static str>,
        env: &'static [&'static str],
        xdg: Option<&'static str>,
        home: &'static str,
        root: Option<&'static str>,
    },
    /// `option DIR`, else the first variable of `env` that is set, else `<base>/<sub>` where
    /// base is the first variable of `base` that is set, else `$VAR/<path>` when `xdg` is
    /// `(VAR, path)` and VAR is set, else `$HOME/<home>/<sub>` (unknown when `home` is empty).
    Under {
        option: Option<&'static str>,
        env: &'static [&'static str],
        base: &'static [&'static str],
        xdg: Option<(&'static str, &'static str)>,
        home: &'static str,
        sub: &'static str,
    },
    /// A directory of the system (`/var/cache/apt/archives`).
    Fixed(&'static str),
    /// A directory of the system that a configuration option given with `-o NAME=DIR`
    /// moves (apt's `Dir::Cache::Archives`).
    Configured {
        path: &'static str,
        option: &'static str,
    },
    /// A directory of the system that an option moves (`--cache-dir DIR`,
    /// `--setopt=cachedir=DIR`).
    Moved {
        path: &'static str,
        option: &'static str,
    },
    /// `option DIR`, else the first variable of `env` that is set, else `path` relative to
    /// the working directory (`.next/cache`, cargo's `target`).
    Workdir {
        option: Option<&'static str>,
        env: &'static [&'static str],
        path: &'static str,
    },
}

/// How a command can be pointed at another directory for one cache, nothing else moving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pin {
    /// An inline variable before the command (`PIP_CACHE_DIR=/var/cache/pip pip …`).
    Env(&'static str),
    /// An option after the program (`apt-get -o Dir::Cache::Archives=/var/cache/apt-archives/ …`).
    Option(&'static str),
}

impl Cache {
    /// What a table entry leaves out: a download cache in a directory of its own, used the
    /// same way in every setup, with nothing locked, pinned or kept after the RUN. Entries
    /// name only what differs.
    const DEFAULTS: Cache = Cache {
        what: "",
        key: "",
        dir: Dir::Fixed(""),
        locked: false,
        used_by: &[],
        outlives_run: false,
        holds: Holds::Downloads,
        parent_written: false,
        instead_when_present: None,
        pin_option: None,
        pinned_only: None,
        clean: Clean::Advice(""),
    };

    pub fn pin(&self) -> Option<Pin> {
        // The RUN reads the output from where it is built.
        if self.holds == Holds::Output {
            return None;
        }
        match (&self.dir, self.pin_option) {
            (_, Some(option)) => Some(Pin::Option(option)),
            (Dir::User { env, .. } | Dir::Under { env, .. } | Dir::Workdir { env, .. }, None) => {
                env.first().copied().map(Pin::Env)
            }
            (Dir::Fixed(_) | Dir::Configured { .. } | Dir::Moved { .. }, None) => None,
        }
    }
}

pub static PIP: Tool = Tool {
    name: "pip",
    programs: &["pip"],
    versioned: true,
    uses: &[&["install"], &["wheel"], &["download"]],
    offline: &["--no-index"],
    valued_options: &[
        "--cache-dir",
        "--log",
        "--proxy",
        "--retries",
        "--timeout",
        "--exists-action",
        "--trusted-host",
        "--cert",
        "--client-cert",
        "--python",
        "--use-feature",
        "--use-deprecated",
        "--root-user-action",
        "--keyring-provider",
        "--index-url",
        "-i",
        "--extra-index-url",
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "-e",
        "--editable",
        "-t",
        "--target",
        "--prefix",
        "--root",
        "-f",
        "--find-links",
    ],
    caches: &[Cache {
        what: "packages",
        key: "pip",
        dir: Dir::User {
            option: Some("--cache-dir"),
            env: &["PIP_CACHE_DIR"],
            xdg: Some("pip"),
            home: ".cache/pip",
            root: None,
        },
        clean: Clean::Option("--no-cache-dir"),
        ..Cache::DEFAULTS
    }],
    // pip reads options with optparse, which takes any unambiguous prefix of a long option:
    // `--no-cache`, … down to `--no-ca` (`--no-c` could also be `--no-color`).
    disabling: &[Flag::Abbreviated {
        option: "--no-cache-dir",
        min: 7,
    }],
    disabling_env: &["PIP_NO_CACHE_DIR"],
    purges: &[purge(&["cache", "purge"]), purge(&["cache", "remove"])],
    expands_tilde: true,
    unproved: false,
    ..Tool::DEFAULTS
};

pub static UV: Tool = Tool {
    name: "uv",
    programs: &["uv"],
    uses: &[
        &["pip", "install"],
        &["pip", "sync"],
        &["pip", "compile"],
        &["sync"],
        &["add"],
        &["lock"],
        &["run"],
        &["tool", "install"],
        &["tool", "run"],
        &["python", "install"],
        &["venv"],
        &["export"],
    ],
    offline: &["--offline"],
    valued_options: &[
        "--cache-dir",
        "--python",
        "-p",
        "--directory",
        "--project",
        "--index-url",
        "-i",
        "--extra-index-url",
        "--find-links",
        "-f",
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "--extra",
        "--group",
        "--package",
        "--with",
        "--target",
        "--prefix",
        "--config-file",
    ],
    caches: &[Cache {
        what: "packages",
        key: "uv",
        dir: Dir::User {
            option: Some("--cache-dir"),
            env: &["UV_CACHE_DIR"],
            xdg: Some("uv"),
            home: ".cache/uv",
            root: None,
        },
        clean: Clean::Option("--no-cache"),
        ..Cache::DEFAULTS
    }],
    // `--no-cache-dir`: a hidden alias for pip's users (astral-sh/uv#1380).
    disabling: &[
        Flag::Exact("--no-cache"),
        Flag::Exact("-n"),
        Flag::Exact("--no-cache-dir"),
    ],
    disabling_env: &["UV_NO_CACHE"],
    purges: &[purge(&["cache", "clean"])],
    unproved: false,
    mount_env: &[("UV_LINK_MODE", "copy")],
    ..Tool::DEFAULTS
};

pub static POETRY: Tool = Tool {
    name: "poetry",
    programs: &["poetry"],
    uses: &[&["install"], &["sync"], &["add"], &["update"], &["lock"]],
    valued_options: &[
        "--directory",
        "-C",
        "--project",
        "-P",
        "--with",
        "--without",
        "--only",
        "-E",
        "--extras",
    ],
    caches: &[Cache {
        what: "packages",
        key: "pypoetry",
        dir: Dir::User {
            option: None,
            env: &["POETRY_CACHE_DIR"],
            xdg: Some("pypoetry"),
            home: ".cache/pypoetry",
            root: None,
        },
        locked: true,
        clean: Clean::Option("--no-cache"),
        ..Cache::DEFAULTS
    }],
    disabling: &[Flag::Exact("--no-cache")],
    purges: &[purge(&["cache", "clear"])],
    unproved: false,
    ..Tool::DEFAULTS
};

pub static PIPENV: Tool = Tool {
    name: "pipenv",
    programs: &["pipenv"],
    uses: &[&["install"], &["sync"], &["lock"], &["update"]],
    valued_options: &["--python", "-r", "--requirements"],
    caches: &[
        Cache {
            what: "package metadata",
            key: "pipenv",
            dir: Dir::User {
                option: None,
                env: &["PIPENV_CACHE_DIR"],
                xdg: Some("pipenv"),
                home: ".cache/pipenv",
                root: None,
            },
            locked: true,
            clean: Clean::Advice("set PIPENV_CACHE_DIR and PIP_NO_CACHE_DIR, or remove ~/.cache/pipenv in the same RUN"),
            ..Cache::DEFAULTS
        },
        Cache {
            what: "packages (through pip)",
            key: "pip",
            dir: Dir::User {
                option: None,
                env: &["PIP_CACHE_DIR"],
                xdg: Some("pip"),
                home: ".cache/pip",
                root: None,
            },
            clean: Clean::Option("--no-cache-dir"),
            ..Cache::DEFAULTS
        },
    ],
    disabling_env: &["PIP_NO_CACHE_DIR"],
    purges: &[Purge {
        operands: &[],
        with: Some("--clear"),
        caches: &[],
    }],
    unproved: false,
    ..Tool::DEFAULTS
};

pub static CONDA: Tool = Tool {
    name: "conda",
    programs: &["conda", "mamba", "micromamba"],
    uses: &[
        &["install"],
        &["create"],
        &["update"],
        &["upgrade"],
        &["env", "create"],
        &["env", "update"],
    ],
    offline: &["--offline"],
    valued_options: &[
        "-n",
        "--name",
        "-p",
        "--prefix",
        "-c",
        "--channel",
        "-f",
        "--file",
        "-r",
        "--root-prefix",
    ],
    caches: &[Cache {
        what: "packages",
        key: "conda",
        dir: Dir::Under {
            option: None,
            env: &["CONDA_PKGS_DIRS"],
            base: &["MAMBA_ROOT_PREFIX", "CONDA_DIR"],
            xdg: None,
            home: "",
            sub: "pkgs",
        },
        locked: true,
        clean: Clean::Advice("run `conda clean --all --yes` (or `micromamba clean --all --yes`) at the end of the RUN"),
        ..Cache::DEFAULTS
    }],
    purges: &[purge(&["clean"])],
    unproved: false,
    ..Tool::DEFAULTS
};

pub static NPM: Tool = Tool {
    name: "npm",
    programs: &["npm"],
    uses: &[
        &["ci"],
        &["install"],
        &["i"],
        &["add"],
        &["in"],
        &["ins"],
        &["inst"],
        &["insta"],
        &["instal"],
        &["isnt"],
        &["isnta"],
        &["isntal"],
        &["isntall"],
        &["install-ci-test"],
        &["cit"],
        &["install-test"],
        &["it"],
        &["update"],
        &["up"],
        &["upgrade"],
        &["udpate"],
    ],
    offline: &["--offline"],
    valued_options: &[
        "--cache",
        "--prefix",
        "-w",
        "--workspace",
        "--registry",
        "--omit",
        "--include",
    ],
    caches: &[Cache {
        what: "packages",
        key: "npm",
        dir: Dir::User {
            option: Some("--cache"),
            env: &["npm_config_cache", "NPM_CONFIG_CACHE"],
            xdg: None,
            home: ".npm",
            root: None,
        },
        clean: Clean::Append("npm cache clean --force"),
        ..Cache::DEFAULTS
    }],
    purges: &[purge(&["cache", "clean"])],
    unproved: false,
    ..Tool::DEFAULTS
};

/// Yarn classic (1.x). Berry keeps its cache elsewhere and is not recognised here.
pub static YARN: Tool = Tool {
    name: "yarn",
    programs: &["yarn", "yarnpkg"],
    uses: &[&["install"], &["add"], &["upgrade"], &["import"]],
    bare: true,
    offline: &["--offline"],
    valued_options: &[
        "--cache-folder",
        "--modules-folder",
        "--cwd",
        "--registry",
        "--network-timeout",
    ],
    caches: &[Cache {
        what: "packages",
        key: "yarn",
        dir: Dir::User {
            option: Some("--cache-folder"),
            env: &["YARN_CACHE_FOLDER"],
            xdg: Some("yarn"),
            home: ".cache/yarn",
            root: Some("/usr/local/share/.cache/yarn"),
        },
        locked: true,
        clean: Clean::Append("yarn cache clean"),
        ..Cache::DEFAULTS
    }],
    purges: &[purge(&["cache", "clean"])],
    unproved: false,
    ..Tool::DEFAULTS
};

pub static PNPM: Tool = Tool {
    name: "pnpm",
    programs: &["pnpm"],
    uses: &[
        &["install"],
        &["i"],
        &["add"],
        &["fetch"],
        &["update"],
        &["up"],
    ],
    bare: true,
    offline: &["--offline"],
    valued_options: &["--store-dir", "--filter", "-F", "--dir", "-C", "--registry"],
    caches: &[Cache {
        what: "packages",
        key: "pnpm-store",
        dir: Dir::Under {
            option: Some("--store-dir"),
            // pnpm 11 and later read `pnpm_config_*` variables, pnpm 10 and earlier
            // `npm_config_*` (either case).
            env: &[
                "pnpm_config_store_dir",
                "PNPM_CONFIG_STORE_DIR",
                "npm_config_store_dir",
                "NPM_CONFIG_STORE_DIR",
            ],
            base: &["PNPM_HOME"],
            xdg: Some(("XDG_DATA_HOME", "pnpm/store")),
            home: ".local/share/pnpm",
            sub: "store",
        },
        clean: Clean::Advice(
            "point the store at a directory you remove at the end of the RUN (`--store-dir`)",
        ),
        ..Cache::DEFAULTS
    }],
    purges: &[purge(&["store", "prune"])],
    unproved: false,
    ..Tool::DEFAULTS
};

pub static BUN: Tool = Tool {
    name: "bun",
    programs: &["bun"],
    uses: &[&["install"], &["i"], &["add"]],
    valued_options: &["--cwd", "--registry", "--cache-dir"],
    caches: &[Cache {
        what: "packages",
        key: "bun",
        dir: Dir::Under {
            option: Some("--cache-dir"),
            env: &["BUN_INSTALL_CACHE_DIR"],
            base: &["BUN_INSTALL"],
            xdg: Some(("XDG_CACHE_HOME", ".bun/install/cache")),
            home: ".bun",
            sub: "install/cache",
        },
        clean: Clean::Option("--no-cache"),
        ..Cache::DEFAULTS
    }],
    disabling: &[Flag::Exact("--no-cache")],
    purges: &[purge(&["pm", "cache", "rm"])],
    unproved: false,
    ..Tool::DEFAULTS
};

const GO_BUILDS: &[&[&str]] = &[
    &["build"],
    &["install"],
    &["test"],
    &["run"],
    &["generate"],
    &["vet"],
];

pub static GO: Tool = Tool {
    name: "go",
    programs: &["go"],
    uses: &[
        &["build"],
        &["install"],
        &["test"],
        &["run"],
        &["generate"],
        &["vet"],
        &["mod", "download"],
        &["get"],
        &["list"],
    ],
    valued_options: &[
        "-o",
        "-C",
        "-ldflags",
        "-gcflags",
        "-tags",
        "-p",
        "-mod",
        "-modfile",
        "-trimpath",
        "-buildvcs",
    ],
    caches: &[
        Cache {
            what: "modules",
            key: "go-mod",
            dir: Dir::Under {
                option: None,
                env: &["GOMODCACHE"],
                base: &["GOPATH"],
                xdg: None,
                home: "go",
                sub: "pkg/mod",
            },
            clean: Clean::Advice("run `go clean -modcache` at the end of the RUN, or build in a stage you do not ship"),
            ..Cache::DEFAULTS
        },
        Cache {
            what: "build cache",
            key: "go-build",
            dir: Dir::User {
                option: None,
                env: &["GOCACHE"],
                xdg: Some("go-build"),
                home: ".cache/go-build",
                root: None,
            },
            used_by: GO_BUILDS,
            clean: Clean::Advice("run `go clean -cache` at the end of the RUN, or build in a stage you do not ship"),
            ..Cache::DEFAULTS
        },
    ],
    purges: &[
        Purge {
            operands: &["clean"],
            with: Some("-modcache"),
            caches: &["go-mod"],
        },
        Purge {
            operands: &["clean"],
            with: Some("-cache"),
            caches: &["go-build"],
        },
        Purge {
            operands: &["clean"],
            with: Some("-testcache"),
            caches: &["go-build"],
        },
    ],
    unproved: false,
    ..Tool::DEFAULTS
};

const CARGO_DOWNLOADS: &[&[&str]] = &[
    &["build"],
    &["b"],
    &["install"],
    &["fetch"],
    &["test"],
    &["t"],
    &["run"],
    &["r"],
    &["check"],
    &["c"],
    &["doc"],
    &["vendor"],
    &["update"],
    &["generate-lockfile"],
    &["clippy"],
];

pub static CARGO: Tool = Tool {
    name: "cargo",
    programs: &["cargo"],
    uses: CARGO_DOWNLOADS,
    offline: &["--offline", "--frozen"],
    valued_options: &[
        "-p",
        "--package",
        "--bin",
        "--target",
        "--target-dir",
        "--features",
        "-F",
        "-j",
        "--jobs",
        "--manifest-path",
        "--profile",
        "--root",
        "--path",
        "--git",
    ],
    caches: &[
        Cache {
            what: "registry index and crates",
            key: "cargo-registry",
            dir: Dir::Under {
                option: None,
                env: &[],
                base: &["CARGO_HOME"],
                xdg: None,
                home: ".cargo",
                sub: "registry",
            },
            clean: Clean::Advice("build in a stage you do not ship, or remove $CARGO_HOME/registry at the end of the RUN"),
            ..Cache::DEFAULTS
        },
        Cache {
            what: "git dependencies",
            key: "cargo-git",
            dir: Dir::Under {
                option: None,
                env: &[],
                base: &["CARGO_HOME"],
                xdg: None,
                home: ".cargo",
                sub: "git/db",
            },
            clean: Clean::Advice("build in a stage you do not ship, or remove $CARGO_HOME/git at the end of the RUN"),
            ..Cache::DEFAULTS
        },
        Cache {
            what: "build output",
            key: "cargo-target",
            dir: Dir::Workdir {
                option: Some("--target-dir"),
                env: &["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"],
                path: "target",
            },
            used_by: &[&["build"], &["b"]],
            holds: Holds::Output,
            clean: Clean::Advice("build in a stage you do not ship: the target directory stays in the layer"),
            ..Cache::DEFAULTS
        },
    ],
    unproved: false,
    ..Tool::DEFAULTS
};

pub static MAVEN: Tool = Tool {
    name: "maven",
    programs: &["mvn", "mvnw"],
    bare: true,
    any: true,
    offline: &["-o", "--offline"],
    valued_options: &[
        "-f",
        "--file",
        "-s",
        "--settings",
        "-pl",
        "--projects",
        "-P",
        "--activate-profiles",
        "-T",
        "--threads",
    ],
    caches: &[Cache {
        what: "dependencies and plugins",
        key: "maven",
        dir: Dir::Under {
            option: None,
            env: &[],
            base: &[],
            xdg: None,
            home: ".m2",
            sub: "repository",
        },
        locked: true,
        clean: Clean::Advice(
            "build in a stage you do not ship: the local repository stays in the layer",
        ),
        ..Cache::DEFAULTS
    }],
    purges: &[purge(&["dependency:purge-local-repository"])],
    unproved: false,
    ..Tool::DEFAULTS
};

pub static GRADLE: Tool = Tool {
    name: "gradle",
    programs: &["gradle", "gradlew"],
    bare: true,
    any: true,
    offline: &["--offline"],
    valued_options: &[
        "-p",
        "--project-dir",
        "-x",
        "--exclude-task",
        "-b",
        "--build-file",
        "-c",
        "--settings-file",
        "-D",
        "-P",
    ],
    caches: &[Cache {
        what: "dependencies and build cache",
        key: "gradle",
        dir: Dir::Under {
            option: None,
            env: &[],
            base: &["GRADLE_USER_HOME"],
            xdg: None,
            home: ".gradle",
            sub: "caches",
        },
        locked: true,
        clean: Clean::Advice("build in a stage you do not ship: Gradle's caches stay in the layer"),
        ..Cache::DEFAULTS
    }],
    unproved: false,
    ..Tool::DEFAULTS
};

pub static SBT: Tool = Tool {
    name: "sbt",
    programs: &["sbt"],
    bare: true,
    any: true,
    caches: &[
        Cache {
            what: "dependencies (coursier)",
            key: "coursier",
            dir: Dir::User {
                option: None,
                env: &["COURSIER_CACHE"],
                xdg: Some("coursier"),
                home: ".cache/coursier",
                root: None,
            },
            locked: true,
            clean: Clean::Advice(
                "build in a stage you do not ship: the coursier cache stays in the layer",
            ),
            ..Cache::DEFAULTS
        },
        Cache {
            what: "dependencies (ivy)",
            key: "ivy2",
            dir: Dir::Under {
                option: None,
                env: &[],
                base: &[],
                xdg: None,
                home: ".ivy2",
                sub: "cache",
            },
            locked: true,
            clean: Clean::Advice(
                "build in a stage you do not ship: the ivy cache stays in the layer",
            ),
            ..Cache::DEFAULTS
        },
    ],
    unproved: false,
    ..Tool::DEFAULTS
};

/// RubyGems and Bundler keep downloaded `.gem` files in `$GEM_HOME/cache` (the gems
/// themselves are installed beside it, and must stay in the image).
pub static GEM: Tool = Tool {
    name: "bundler",
    programs: &["bundle", "bundler", "gem"],
    uses: &[&["install"], &["update"]],
    bare: true,
    offline: &["--local"],
    valued_options: &[
        "--gemfile",
        "--jobs",
        "-j",
        "--retry",
        "--path",
        "--without",
        "--with",
        "-v",
        "--version",
        "-i",
        "--install-dir",
    ],
    caches: &[Cache {
        what: "gems",
        key: "gems",
        dir: Dir::Under {
            option: None,
            env: &[],
            base: &["BUNDLE_PATH", "GEM_HOME"],
            xdg: None,
            home: "",
            sub: "cache",
        },
        locked: true,
        clean: Clean::Advice(
            "remove the gem cache (`rm -rf $GEM_HOME/cache`) at the end of the RUN",
        ),
        ..Cache::DEFAULTS
    }],
    unproved: false,
    ..Tool::DEFAULTS
};

pub static COMPOSER: Tool = Tool {
    name: "composer",
    programs: &["composer", "composer.phar"],
    uses: &[
        &["install"],
        &["i"],
        &["update"],
        &["u"],
        &["upgrade"],
        &["require"],
        &["create-project"],
    ],
    valued_options: &["--working-dir", "-d"],
    caches: &[Cache {
        what: "packages",
        key: "composer",
        dir: Dir::Under {
            option: None,
            env: &["COMPOSER_CACHE_DIR"],
            base: &["COMPOSER_HOME"],
            // Otherwise composer caches in `$XDG_CACHE_HOME/composer` when an XDG variable is
            // set, or `~/.cache/composer` when the image has /etc/xdg, else `~/.composer/cache`:
            // the image decides, and the fix points composer at the mount.
            xdg: Some(("XDG_CACHE_HOME", "composer")),
            home: "",
            sub: "cache",
        },
        clean: Clean::Option("--no-cache"),
        ..Cache::DEFAULTS
    }],
    disabling: &[Flag::Exact("--no-cache")],
    purges: &[
        purge(&["clear-cache"]),
        purge(&["clearcache"]),
        purge(&["cc"]),
    ],
    unproved: false,
    ..Tool::DEFAULTS
};

pub static DOTNET: Tool = Tool {
    name: "dotnet",
    programs: &["dotnet"],
    uses: &[
        &["restore"],
        &["build"],
        &["publish"],
        &["test"],
        &["run"],
        &["pack"],
        &["tool", "install"],
    ],
    offline: &["--no-restore"],
    valued_options: &[
        "-c",
        "--configuration",
        "-o",
        "--output",
        "-r",
        "--runtime",
        "-f",
        "--framework",
        "-s",
        "--source",
        "-a",
        "--arch",
        "--os",
    ],
    caches: &[Cache {
        what: "NuGet packages",
        key: "nuget",
        dir: Dir::User {
            option: Some("--packages"),
            env: &["NUGET_PACKAGES"],
            xdg: None,
            home: ".nuget/packages",
            root: None,
        },
        locked: true,
        clean: Clean::Advice("build in a stage you do not ship, or run `dotnet nuget locals all --clear` at the end of the RUN"),
        ..Cache::DEFAULTS
    }],
    disabling: &[Flag::Exact("--no-cache"), Flag::Exact("--no-http-cache")],
    purges: &[purge(&["nuget", "locals"])],
    unproved: false,
    ..Tool::DEFAULTS
};

pub(crate) const APT_DOWNLOADS: &[&[&str]] = &[
    &["install"],
    &["upgrade"],
    &["dist-upgrade"],
    &["full-upgrade"],
    &["build-dep"],
    &["reinstall"],
    &["source"],
    &["download"],
];

pub static APT: Tool = Tool {
    name: "apt",
    programs: &["apt-get", "apt", "aptitude"],
    uses: &[
        &["update"],
        &["install"],
        &["upgrade"],
        &["dist-upgrade"],
        &["full-upgrade"],
        &["build-dep"],
        &["reinstall"],
        &["source"],
        &["download"],
    ],
    valued_options: &[
        "-o",
        "--option",
        "-c",
        "--config-file",
        "-t",
        "--target-release",
    ],
    caches: &[
        Cache {
            what: "packages",
            key: "apt-archives",
            dir: Dir::Configured {
                path: "/var/cache/apt/archives",
                option: "Dir::Cache::Archives",
            },
            locked: true,
            used_by: APT_DOWNLOADS,
            pin_option: Some("-o Dir::Cache::Archives={}/"),
            pinned_only: Some(
                "Debian's `docker-clean` deletes every downloaded package from it after each install",
            ),
            clean: Clean::Append("apt-get clean"),
            ..Cache::DEFAULTS
        },
        Cache {
            what: "package lists",
            key: "apt-lists",
            dir: Dir::Fixed("/var/lib/apt/lists"),
            locked: true,
            used_by: &[&["update"]],
            outlives_run: true,
            clean: Clean::Append("rm -rf /var/lib/apt/lists/*"),
            ..Cache::DEFAULTS
        },
    ],
    purges: &[
        Purge {
            operands: &["clean"],
            with: None,
            caches: &["apt-archives"],
        },
        Purge {
            operands: &["autoclean"],
            with: None,
            caches: &["apt-archives"],
        },
        // apt 2.7 and later: the package lists too.
        purge(&["dist-clean"]),
    ],
    keep_options: &[KeepOption {
        program: "apt",
        option: "-o APT::Keep-Downloaded-Packages=true",
        given: &[],
    }],
    unproved: false,
    ..Tool::DEFAULTS
};

/// apk (Alpine). Its cache directory is `/etc/apk/cache` when that exists, or the one
/// `--cache-dir` names: then it keeps indexes and packages there. Otherwise it keeps only
/// indexes, in `/var/cache/apk` (apk-tools 2 and 3, `setup_cache` in `database.c`).
pub static APK: Tool = Tool {
    name: "apk",
    programs: &["apk"],
    uses: &[&["add"], &["update"], &["upgrade"], &["fix"]],
    offline: &["--no-network"],
    valued_options: &[
        "-X",
        "--repository",
        "-t",
        "--virtual",
        "-p",
        "--root",
        "--cache-dir",
        "--arch",
    ],
    caches: &[Cache {
        what: "packages and indexes",
        key: "apk",
        dir: Dir::Moved {
            path: "/var/cache/apk",
            option: "--cache-dir",
        },
        locked: true,
        pin_option: Some("--cache-dir {}"),
        pinned_only: Some(
            "apk keeps packages only in a cache directory it is given (`--cache-dir`) or in /etc/apk/cache, which the image lacks",
        ),
        clean: Clean::Option("--no-cache"),
        ..Cache::DEFAULTS
    }],
    disabling: &[Flag::Exact("--no-cache")],
    purges: &[purge(&["cache", "clean"]), purge(&["cache", "purge"])],
    // Without it, apk installs from an index in the mount up to four hours old, where the
    // build without the mount fetched a fresh one.
    keep_options: &[KeepOption {
        program: "apk",
        option: "-U",
        given: &["--update-cache", "--update"],
    }],
    ..Tool::DEFAULTS
};

/// An rpm-based package manager. Packages are kept after a transaction only with
/// `keepcache`; metadata is used until it expires (`--refresh` expires it first, as a build
/// without the mount, which starts with no metadata, effectively does).
macro_rules! rpm_tool {
    ($static:ident, $name:literal, $program:literal, $dir:literal, $pinned:expr, $keep:expr) => {
        pub static $static: Tool = Tool {
            name: $name,
            programs: &[$program],
            uses: &[
                &["install"],
                &["upgrade"],
                &["update"],
                &["makecache"],
                &["groupinstall"],
                &["reinstall"],
                &["builddep"],
            ],
            offline: &["-C", "--cacheonly"],
            valued_options: &[
                "--setopt",
                "--enablerepo",
                "--disablerepo",
                "--releasever",
                "--installroot",
                "-x",
                "--exclude",
                "--repo",
            ],
            caches: &[Cache {
                what: "metadata and packages",
                key: $name,
                dir: Dir::Moved {
                    path: $dir,
                    option: "--setopt=cachedir",
                },
                locked: true,
                pin_option: Some("--setopt=cachedir={}"),
                pinned_only: $pinned,
                clean: Clean::Append(concat!($program, " clean all")),
                ..Cache::DEFAULTS
            }],
            purges: &[purge(&["clean"])],
            keep_options: $keep,
            ..Tool::DEFAULTS
        };
    };
}

const KEEP_RPMS: KeepOption = KeepOption {
    program: "",
    option: "--setopt=keepcache=1",
    given: &["--setopt=keepcache=True", "--setopt=keepcache=true"],
};
const REFRESH: KeepOption = KeepOption {
    program: "",
    option: "--refresh",
    given: &[],
};

// `dnf` is dnf 4 on RHEL, UBI, Rocky, Alma, Amazon Linux 2023 and dnf 5 on Fedora 41 and
// later, which keeps /var/cache/libdnf5: a pinned directory serves both.
rpm_tool!(
    DNF,
    "dnf",
    "dnf",
    "/var/cache/dnf",
    Some("`dnf` is dnf 5 on Fedora 41 and later, whose cache is /var/cache/libdnf5"),
    &[KEEP_RPMS, REFRESH]
);
rpm_tool!(
    DNF5,
    "dnf5",
    "dnf5",
    "/var/cache/libdnf5",
    None,
    &[KEEP_RPMS, REFRESH]
);
// yum has no `--refresh`: its metadata may be older in the mount than a fresh build's.
rpm_tool!(
    YUM,
    "yum",
    "yum",
    "/var/cache/yum",
    Some("`yum` is dnf on RHEL 8 and later, whose cache is /var/cache/dnf"),
    &[KEEP_RPMS]
);
rpm_tool!(
    MICRODNF,
    "microdnf",
    "microdnf",
    "/var/cache/yum",
    Some("microdnf's default directory differs between its versions"),
    &[KEEP_RPMS, REFRESH]
);
rpm_tool!(
    TDNF,
    "tdnf",
    "tdnf",
    "/var/cache/tdnf",
    None,
    &[KEEP_RPMS, REFRESH]
);

/// zypper keeps packages only for repositories marked `keeppackages`, a setting of the
/// image's repository files: advice only.
pub static ZYPPER: Tool = Tool {
    name: "zypper",
    programs: &["zypper"],
    uses: &[
        &["install"],
        &["in"],
        &["update"],
        &["up"],
        &["dist-upgrade"],
        &["dup"],
        &["refresh"],
        &["ref"],
    ],
    valued_options: &["--root", "-R", "--repo", "-r"],
    caches: &[Cache {
        what: "metadata and packages",
        key: "zypp",
        dir: Dir::Fixed("/var/cache/zypp"),
        locked: true,
        pinned_only: Some(
            "zypper keeps packages only for repositories marked to (`zypper modifyrepo --keep-packages --all`, a change to the image's repository files); then mount /var/cache/zypp with `sharing=locked`",
        ),
        clean: Clean::Append("zypper clean --all"),
        ..Cache::DEFAULTS
    }],
    purges: &[purge(&["clean"])],
    ..Tool::DEFAULTS
};

/// Files and commands that make a tool run as another major version, whose caches are
/// elsewhere: Yarn 2+ ("berry") keeps packages in `~/.yarn/berry/cache` or the project's
/// `.yarn/cache`, and with Plug'n'Play loads them from there when the app runs, so no mount
/// may take them out of the image. The global `yarn` of the Node images is Yarn 1; a
/// project's `.yarnrc.yml` (`yarnPath`) or corepack switches it.
struct Switch {
    tool: &'static str,
    /// Context files that switch it (a directory or glob source may hold them too).
    files: &'static [&'static str],
    /// Commands that switch it: the program and its leading operands.
    commands: &'static [&'static [&'static str]],
    /// What the other version does with its cache.
    then: &'static str,
}

static SWITCHES: &[Switch] = &[Switch {
    tool: "yarn",
    files: &[".yarnrc.yml", ".yarn"],
    commands: &[&["corepack"], &["yarn", "set"], &["yarn", "policies"]],
    then: "Yarn 2 and later keep packages elsewhere, and with Plug'n'Play load them from that cache when the app runs",
}];

/// A COPY or ADD source that may switch a tool: one of its files, or a source that may
/// hold one (the context's root, a directory, a glob). The tool, and the reason, written
/// only if asked for: a stage keeps the first reason for each tool, and a COPY of many
/// files asks for few.
pub fn switched_by_source(source: &str) -> Option<(&'static str, impl FnOnce() -> String + '_)> {
    let path = source.trim_start_matches("./").trim_end_matches('/');
    let name = super::commands::basename(path);
    let opaque = path.is_empty()
        || path == "."
        || source.ends_with('/')
        || path.contains(['*', '?', '['])
        || !name.contains('.');
    let switch = SWITCHES
        .iter()
        .find(|s| opaque || s.files.contains(&name))?;
    let reason = move || {
        if opaque {
            format!("`{source}` from the build context may hold a {} that switches {} to another version: {}", switch.files[0], switch.tool, switch.then)
        } else {
            format!(
                "the build context's {name} may switch {} to another version: {}",
                switch.tool, switch.then
            )
        }
    };
    Some((switch.tool, reason))
}

/// Whether `program` starts a command of [`switched_by_command`].
pub fn may_switch(program: &str) -> bool {
    SWITCHES
        .iter()
        .any(|s| s.commands.iter().any(|c| c[0] == program))
}

/// A command that switches a tool to another version.
pub fn switched_by_command(program: &str, args: &[&str]) -> Option<(&'static str, String)> {
    SWITCHES.iter().find_map(|s| {
        s.commands
            .iter()
            .find(|c| c[0] == program && args.len() + 1 >= c.len() && c[1..] == args[..c.len() - 1])
            .map(|c| {
                (
                    s.tool,
                    format!(
                        "`{}` may switch {} to another version: {}",
                        c.join(" "),
                        s.tool,
                        s.then
                    ),
                )
            })
    })
}

/// Next.js keeps its build cache in `.next/cache` under the project (the working
/// directory). `next build` empties the rest of `.next`, its output, and keeps `cache`: the
/// mount goes there, never on `.next`. No variable moves it.
pub static NEXT: Tool = Tool {
    name: "next",
    programs: &["next"],
    uses: &[&["build"]],
    caches: &[Cache {
        what: "build cache",
        key: "next",
        dir: Dir::Workdir {
            option: None,
            env: &[],
            path: ".next/cache",
        },
        locked: true,
        holds: Holds::Compiled,
        parent_written: true,
        clean: Clean::Advice(
            "build in a stage you do not ship, or remove .next/cache at the end of the RUN",
        ),
        ..Cache::DEFAULTS
    }],
    ..Tool::DEFAULTS
};

/// ccache 4 keeps compiled objects in `CCACHE_DIR`, else `~/.ccache` when that exists, else
/// `$XDG_CACHE_HOME/ccache`, else `~/.cache/ccache`. Entries are keyed by the compiler, its
/// options and the preprocessed source, and ccache locks them itself.
const CCACHE_CACHE: Cache = Cache {
    what: "compiler cache",
    key: "ccache",
    dir: Dir::User {
        option: None,
        env: &["CCACHE_DIR"],
        xdg: Some("ccache"),
        home: ".cache/ccache",
        root: None,
    },
    holds: Holds::Compiled,
    instead_when_present: Some(".ccache"),
    clean: Clean::Advice(
        "build in a stage you do not ship, or run `ccache -C` at the end of the RUN",
    ),
    ..Cache::DEFAULTS
};

const CCACHE_PURGES: &[Purge] = &[
    Purge {
        operands: &[],
        with: Some("-C"),
        caches: &[],
    },
    Purge {
        operands: &[],
        with: Some("--clear"),
        caches: &[],
    },
];

/// `ccache gcc -c x.c`: ccache runs the compiler its operands name.
pub static CCACHE: Tool = Tool {
    name: "ccache",
    programs: &["ccache"],
    valued_options: &[
        "-M",
        "--max-size",
        "-F",
        "--max-files",
        "-o",
        "--set-config",
        "-d",
        "--dir",
        "--config-path",
    ],
    caches: &[CCACHE_CACHE],
    disabling_env: &["CCACHE_DISABLE"],
    purges: CCACHE_PURGES,
    unproved: false,
    launches: true,
    ..Tool::DEFAULTS
};

/// CMake's compiler launcher: the build `cmake` configures runs every compiler through
/// ccache (`make`, `ninja` or `cmake --build` then compile, in this RUN or a later one).
pub static CCACHE_CMAKE: Tool = Tool {
    name: "ccache",
    programs: &["cmake"],
    caches: &[CCACHE_CACHE],
    disabling_env: &["CCACHE_DISABLE"],
    unproved: false,
    through: Some(Through {
        options: &[
            "-DCMAKE_C_COMPILER_LAUNCHER",
            "-DCMAKE_CXX_COMPILER_LAUNCHER",
            "-DCMAKE_CUDA_COMPILER_LAUNCHER",
            "-DCMAKE_HIP_COMPILER_LAUNCHER",
            "-DCMAKE_OBJC_COMPILER_LAUNCHER",
            "-DCMAKE_OBJCXX_COMPILER_LAUNCHER",
            "-DCMAKE_Fortran_COMPILER_LAUNCHER",
        ],
        names: &["ccache"],
    }),
    ..Tool::DEFAULTS
};

/// Every tool whose cache docklint mounts.
pub static TOOLS: &[&Tool] = &[
    &PIP,
    &UV,
    &POETRY,
    &PIPENV,
    &CONDA,
    &NPM,
    &YARN,
    &PNPM,
    &BUN,
    &GO,
    &CARGO,
    &MAVEN,
    &GRADLE,
    &SBT,
    &GEM,
    &COMPOSER,
    &DOTNET,
    &APT,
    &APK,
    &DNF,
    &DNF5,
    &YUM,
    &MICRODNF,
    &TDNF,
    &ZYPPER,
    &NEXT,
    &CCACHE,
    &CCACHE_CMAKE,
];

/// What one command line of a tool does with its caches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheCommand {
    /// Downloads through these caches (indices into [`Tool::caches`]).
    Uses(Vec<usize>),
    /// Empties these caches.
    Purges(Vec<usize>),
    /// Installs offline from what these caches hold (`dotnet publish --no-restore`,
    /// `cargo build --offline`, `mvn -o`).
    Reads(Vec<usize>),
}

impl Through {
    /// `-DCMAKE_CXX_COMPILER_LAUNCHER=ccache`, `-DCMAKE_C_COMPILER_LAUNCHER:FILEPATH=/usr/bin/ccache`.
    fn configures(&self, args: &[&str]) -> bool {
        args.iter().any(|arg| {
            self.options.iter().any(|option| {
                arg.strip_prefix(option)
                    .and_then(|rest| rest.split_once('='))
                    .is_some_and(|(kind, value)| {
                        let name = value.trim_matches(['"', '\'']);
                        let name = super::commands::basename(name);
                        (kind.is_empty() || kind.starts_with(':')) && self.names.contains(&name)
                    })
            })
        })
    }
}

impl std::fmt::Debug for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.what)
    }
}

impl Tool {
    /// What a table entry leaves out: a tool that is its own program (not a launcher, not
    /// run by a build system), with no option, variable or command known to touch its
    /// caches. Its mounts are unproved until an entry says a build here proves them: the
    /// one field that decides whether a fix is safe defaults to unsafe. Entries name only
    /// what differs.
    const DEFAULTS: Tool = Tool {
        name: "",
        programs: &[],
        versioned: false,
        uses: &[],
        bare: false,
        any: false,
        offline: &[],
        valued_options: &[],
        caches: &[],
        disabling: &[],
        disabling_env: &[],
        purges: &[],
        expands_tilde: false,
        keep_options: &[],
        unproved: true,
        mount_env: &[],
        launches: false,
        through: None,
    };

    pub fn expands_tilde(&self) -> bool {
        self.expands_tilde
    }

    /// Marks in `table` the first byte of each of this tool's programs: a name that starts
    /// with none of the marked bytes is none of their programs ([`Tool::runs_as`]; a
    /// versioned program starts as its plain one does).
    pub fn mark_first_bytes(&self, table: &mut [bool; 256]) {
        for program in self.programs {
            if let Some(&first) = program.as_bytes().first() {
                table[usize::from(first)] = true;
            }
        }
    }

    /// Whether `name` (a basename) is one of this tool's programs.
    pub fn runs_as(&self, name: &str) -> bool {
        // Asked of every tool for every command: the first byte rules most out.
        let first = name.as_bytes().first();
        self.programs.iter().any(|p| {
            p.as_bytes().first() == first
                && (name == *p
                    || (self.versioned
                        && name.strip_prefix(p).is_some_and(|v| {
                            !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.')
                        })))
        })
    }

    /// What `args` (after the program) do with the caches; `None` for anything else.
    pub fn command(&self, args: &[&str]) -> Option<CacheCommand> {
        if let Some(through) = &self.through {
            return through
                .configures(args)
                .then(|| CacheCommand::Uses((0..self.caches.len()).collect()));
        }
        let operands = self.operands(args);
        let starts =
            |prefix: &[&str]| operands.len() >= prefix.len() && operands[..prefix.len()] == *prefix;
        let purged: Vec<usize> = self
            .purges
            .iter()
            .filter(|p| starts(p.operands) && p.with.is_none_or(|option| args.contains(&option)))
            .flat_map(|p| {
                self.caches
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| p.caches.is_empty() || p.caches.contains(&c.key))
                    .map(|(i, _)| i)
            })
            .collect();
        if !purged.is_empty() {
            let mut purged = purged;
            purged.sort_unstable();
            purged.dedup();
            return Some(CacheCommand::Purges(purged));
        }
        // `yarn --version` and `mvn -v` print and exit: a bare command downloads only when
        // it is not asked about the tool itself.
        let informational = operands.is_empty() && args.iter().any(|a| INFORMATIONAL.contains(a));
        let uses = !informational
            && (self.any
                || (self.launches && !operands.is_empty())
                || (self.bare && operands.is_empty())
                || self.uses.iter().any(|u| starts(u)));
        if !uses {
            return None;
        }
        let caches = self
            .caches
            .iter()
            .enumerate()
            .filter(|(_, c)| c.used_by.is_empty() || c.used_by.iter().any(|u| starts(u)))
            .map(|(i, _)| i)
            .collect::<Vec<_>>();
        if caches.is_empty() {
            return None;
        }
        if args.iter().any(|a| self.offline.contains(a)) {
            // Offline, a tool installs from what its cache already holds (pip's `--no-index`
            // reads a directory of its own instead); what it compiles is not in question.
            let downloads: Vec<usize> = caches
                .into_iter()
                .filter(|&i| self.caches[i].holds == Holds::Downloads)
                .collect();
            return (self.name != "pip" && !downloads.is_empty())
                .then_some(CacheCommand::Reads(downloads));
        }
        Some(CacheCommand::Uses(caches))
    }

    /// An inline setting before the command reaches the tool (not so when the command only
    /// configures a build that runs it later).
    pub fn reached_inline(&self) -> bool {
        self.through.is_none()
    }

    /// Arguments that are neither options nor option values.
    pub fn operands<'a>(&self, args: &[&'a str]) -> Vec<&'a str> {
        self.operand_indices(args)
            .into_iter()
            .map(|i| args[i])
            .collect()
    }

    /// Indices of the arguments that are neither options nor option values.
    pub fn operand_indices(&self, args: &[&str]) -> Vec<usize> {
        let mut out = Vec::new();
        let mut skip = false;
        for (i, arg) in args.iter().enumerate() {
            if std::mem::take(&mut skip) {
                continue;
            }
            if arg.starts_with('-') {
                skip = self.valued_options.contains(arg);
            } else {
                out.push(i);
            }
        }
        out
    }

    /// Indices of the arguments that disable the cache.
    pub fn disabling_args(&self, args: &[&str]) -> Vec<usize> {
        args.iter()
            .enumerate()
            .filter(|(_, a)| self.disabling.iter().any(|f| f.matches(a)))
            .map(|(i, _)| i)
            .collect()
    }
}

impl Dir {
    /// The directory given on the command line: `(argument index, value)`.
    pub fn argument(&self, args: &[&str]) -> Option<(usize, String)> {
        if let Dir::Configured { option, .. } = self {
            // `-o NAME=DIR`, `--option NAME=DIR`, `-oNAME=DIR`.
            let mut found = None;
            for (i, arg) in args.iter().enumerate() {
                let setting = match *arg {
                    "-o" | "--option" => args.get(i + 1).copied(),
                    a => a.strip_prefix("-o"),
                };
                if let Some(value) = setting
                    .and_then(|s| s.strip_prefix(option))
                    .and_then(|r| r.strip_prefix('='))
                {
                    found = Some((i, value.to_string()));
                }
            }
            return found;
        }
        let (Dir::User {
            option: Some(option),
            ..
        }
        | Dir::Under {
            option: Some(option),
            ..
        }
        | Dir::Workdir {
            option: Some(option),
            ..
        }
        | Dir::Moved { option, .. }) = self
        else {
            return None;
        };
        let mut found = None;
        for (i, arg) in args.iter().enumerate() {
            if arg == option {
                found = args.get(i + 1).map(|v| (i + 1, v.to_string()));
            } else if let Some(value) = arg.strip_prefix(option).and_then(|r| r.strip_prefix('=')) {
                found = Some((i, value.to_string()));
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_commands_and_options() {
        assert_eq!(
            PIP.command(&["install", "flask"]),
            Some(CacheCommand::Uses(vec![0]))
        );
        assert_eq!(
            PIP.command(&["--cache-dir", "/x", "wheel", "."]),
            Some(CacheCommand::Uses(vec![0]))
        );
        assert_eq!(PIP.command(&["install", "--no-index", "x"]), None);
        assert_eq!(
            CARGO.command(&["build", "--offline"]),
            Some(CacheCommand::Reads(vec![0, 1]))
        );
        assert_eq!(
            PIP.command(&["cache", "purge"]),
            Some(CacheCommand::Purges(vec![0]))
        );
        assert_eq!(PIP.command(&["freeze"]), None);
        assert_eq!(
            PIP.disabling_args(&["install", "--no-cache", "--no-color", "x"]),
            [1]
        );
        assert!(PIP.disabling_args(&["--no-c"]).is_empty());
        assert_eq!(
            PIP.caches[0]
                .dir
                .argument(&["install", "--cache-dir=/c", "x"]),
            Some((1, "/c".into()))
        );
        assert!(PIP.runs_as("pip3.12") && PIP.runs_as("pip") && !PIP.runs_as("pipx"));
        assert_eq!(
            PNPM.caches[0]
                .dir
                .argument(&["install", "--store-dir", "/s", "--frozen-lockfile"]),
            Some((2, "/s".into()))
        );
    }

    #[test]
    fn subcommands_pick_their_caches() {
        assert_eq!(
            GO.command(&["mod", "download"]),
            Some(CacheCommand::Uses(vec![0]))
        );
        assert_eq!(
            GO.command(&["build", "-o", "/app", "./cmd"]),
            Some(CacheCommand::Uses(vec![0, 1]))
        );
        assert_eq!(APT.command(&["update"]), Some(CacheCommand::Uses(vec![1])));
        assert_eq!(
            APT.command(&["install", "-y", "curl"]),
            Some(CacheCommand::Uses(vec![0]))
        );
        assert_eq!(
            UV.command(&["pip", "install", "--system", "x"]),
            Some(CacheCommand::Uses(vec![0]))
        );
        assert_eq!(
            UV.command(&["cache", "clean"]),
            Some(CacheCommand::Purges(vec![0]))
        );
        assert_eq!(
            GO.command(&["clean", "-cache"]),
            Some(CacheCommand::Purges(vec![1]))
        );
        assert_eq!(GO.command(&["clean", "./..."]), None);
        assert_eq!(APT.command(&["clean"]), Some(CacheCommand::Purges(vec![0])));
        assert_eq!(YARN.command(&[]), Some(CacheCommand::Uses(vec![0])));
        assert_eq!(YARN.command(&["build"]), None);
        assert_eq!(YARN.command(&["--version"]), None);
        assert_eq!(MAVEN.command(&["-v"]), None);
        assert_eq!(
            MAVEN.command(&["-V", "package"]),
            Some(CacheCommand::Uses(vec![0]))
        );
        assert_eq!(
            MAVEN.command(&["-B", "package"]),
            Some(CacheCommand::Uses(vec![0]))
        );
        assert_eq!(
            MAVEN.command(&["-o", "package"]),
            Some(CacheCommand::Reads(vec![0]))
        );
        assert_eq!(NPM.command(&["run", "build"]), None);
    }

    #[test]
    fn build_caches_are_used_by_the_commands_that_compile() {
        assert_eq!(
            CCACHE.command(&["gcc", "-c", "x.c"]),
            Some(CacheCommand::Uses(vec![0]))
        );
        assert_eq!(CCACHE.command(&["-s"]), None);
        assert_eq!(CCACHE.command(&["-M", "5G"]), None);
        assert_eq!(CCACHE.command(&["-C"]), Some(CacheCommand::Purges(vec![0])));
        assert_eq!(
            CCACHE_CMAKE.command(&["-B", "b", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache", "."]),
            Some(CacheCommand::Uses(vec![0]))
        );
        assert_eq!(CCACHE_CMAKE.command(&["-B", "b", "."]), None);
        assert_eq!(
            CCACHE_CMAKE.command(&["-DCMAKE_C_COMPILER_LAUNCHER=sccache"]),
            None
        );
        assert_eq!(NEXT.command(&["build"]), Some(CacheCommand::Uses(vec![0])));
        assert_eq!(NEXT.command(&["start"]), None);
        // cargo's target is used by builds, and not read offline: only downloads are.
        assert_eq!(
            CARGO.command(&["build", "--release"]),
            Some(CacheCommand::Uses(vec![0, 1, 2]))
        );
        assert_eq!(
            CARGO.command(&["fetch"]),
            Some(CacheCommand::Uses(vec![0, 1]))
        );
        assert_eq!(CARGO.caches[2].pin(), None);
        assert!(CARGO.caches[2].holds.per_platform() && !GO.caches[1].holds.per_platform());
    }
}
