//! The command line's shape (DESIGN.md §2), parsed by clap.

use std::path::PathBuf;

use clap::{ArgGroup, Parser, Subcommand, ValueEnum};

use docklint::config::FailOn;
use docklint::emit::Format;

#[derive(Parser)]
#[command(
    name = "docklint",
    version,
    about = "A Dockerfile linter and optimizer: cache mounts, layers, stages, model downloads, build contexts"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Lint Dockerfiles (files, directories, or - for standard input).
    Check(CheckArgs),
    /// List every rule: name, family, severity, fix availability.
    Rules {
        #[arg(long, value_enum, default_value_t = DataFormat::Text)]
        format: DataFormat,
    },
    /// Print a rule's documentation (by name or alias).
    Explain { rule: String },
    /// Show what the build context holds after .dockerignore.
    Context {
        /// The build context directory (default: the one `check` finds for --dockerfile,
        /// else ".").
        dir: Option<PathBuf>,
        /// The Dockerfile (its `<name>.dockerignore` takes precedence).
        #[arg(long)]
        dockerfile: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = DataFormat::Text)]
        format: DataFormat,
    },
    /// Run the language server on standard input and output (diagnostics, quick fixes,
    /// rule documentation on hover).
    Lsp,
    /// Print BuildKit's view of the parse (keywords, flags, lines, heredocs), one JSON line
    /// per file. Used by the corpus check.
    #[command(hide = true)]
    DebugParse { files: Vec<PathBuf> },
    /// Check .dockerignore matching cases (JSON lines on stdin). Used by the corpus check.
    #[command(hide = true)]
    DebugDockerignore,
    /// Print what the model knows of each RUN (JSON lines). Used by the corpus check.
    #[command(hide = true)]
    DebugEffects { files: Vec<PathBuf> },
}

/// Formats of `rules` and `context`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DataFormat {
    Text,
    Json,
}

/// Formats of `check`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Each diagnostic with the lines it points at, and a summary.
    Text,
    /// One line per diagnostic: `path:line:col: severity [rule] message`.
    Concise,
    /// One JSON array.
    Json,
    /// A SARIF 2.1.0 log (GitHub code scanning), with rule documentation and fixes.
    Sarif,
    /// GitHub Actions workflow commands: annotations on the lines.
    Github,
    /// GitLab's Code Quality report (JSON).
    Gitlab,
    /// Checkstyle XML.
    Checkstyle,
    /// JUnit XML: a test suite per file, a failing test per diagnostic.
    Junit,
}

impl From<CheckFormat> for Format {
    fn from(f: CheckFormat) -> Format {
        match f {
            CheckFormat::Text => Format::Text,
            CheckFormat::Concise => Format::Concise,
            CheckFormat::Json => Format::Json,
            CheckFormat::Sarif => Format::Sarif,
            CheckFormat::Github => Format::Github,
            CheckFormat::Gitlab => Format::Gitlab,
            CheckFormat::Checkstyle => Format::Checkstyle,
            CheckFormat::Junit => Format::Junit,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When the output is a terminal and NO_COLOR is not set.
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FailOnArg {
    Error,
    Warning,
    Info,
    Never,
}

impl From<FailOnArg> for FailOn {
    fn from(f: FailOnArg) -> FailOn {
        match f {
            FailOnArg::Error => FailOn::Error,
            FailOnArg::Warning => FailOn::Warning,
            FailOnArg::Info => FailOn::Info,
            FailOnArg::Never => FailOn::Never,
        }
    }
}

#[derive(clap::Args)]
#[command(group(ArgGroup::new("apply").args(["fix", "diff"])))]
pub struct CheckArgs {
    /// Files or directories to lint ("-" reads standard input).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Apply safe fixes in place.
    #[arg(long)]
    pub fix: bool,
    /// Also apply (with --fix) or show (with --diff) unsafe fixes.
    #[arg(long, requires = "apply")]
    pub unsafe_fixes: bool,
    /// Print the unified diff of the fixes; change nothing.
    #[arg(long, conflicts_with_all = ["fix", "statistics"])]
    pub diff: bool,
    /// Output format (default text).
    #[arg(long, value_enum)]
    pub format: Option<CheckFormat>,
    /// Counts per rule (and how many are fixable) instead of each diagnostic.
    #[arg(long)]
    pub statistics: bool,
    /// Diagnostics only: no summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Colour in the output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Use this configuration file for every Dockerfile.
    #[arg(long, conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Ignore every lint.toml: use the defaults.
    #[arg(long)]
    pub no_config: bool,
    /// Rules (names or aliases) or families to run, comma-separated; replaces the
    /// configured selection.
    #[arg(long, value_delimiter = ',')]
    pub select: Option<Vec<String>>,
    /// Rules (names or aliases) or families to skip, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOnArg>,
    /// Build context for the given Dockerfile(s).
    #[arg(long)]
    pub context: Option<PathBuf>,
    /// Name shown for standard input (needs "-" among the paths).
    #[arg(long)]
    pub stdin_filename: Option<PathBuf>,
}

impl CheckArgs {
    pub fn format(&self) -> Format {
        self.format.unwrap_or(CheckFormat::Text).into()
    }

    pub fn reads_stdin(&self) -> bool {
        self.paths.iter().any(|p| p.as_os_str() == "-")
    }
}

/// Whether a command line that clap refused asked for JSON from `check`: its standard
/// output is then still one JSON array (empty), as in every other run of `check`.
pub fn wants_json_check(args: &[String]) -> bool {
    let is_check = args.iter().skip(1).find(|a| !a.starts_with('-')) == Some(&"check".into());
    let json = args
        .windows(2)
        .any(|w| w[0] == "--format" && w[1] == "json")
        || args.iter().any(|a| a == "--format=json");
    is_check && json
}
