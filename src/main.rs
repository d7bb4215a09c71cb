//! The `docklint` command line (DESIGN.md §2).

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use docklint::config::{Config, ConfigError, FailOn, Overrides, Resolver, Settings};
use docklint::emit::{self, FileReport};
use docklint::fix::Applicability;
use docklint::source::SourceFile;
use docklint::walk::{self, Input};

#[derive(Parser)]
#[command(
    name = "docklint",
    version,
    about = "A Dockerfile linter and optimizer: cache mounts, layers, stages, model downloads, build contexts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lint Dockerfiles (files, directories, or - for standard input).
    Check(CheckArgs),
    /// List every rule: name, family, severity, fix availability.
    Rules {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print a rule's documentation.
    Explain { rule: String },
    /// Show what the build context holds after .dockerignore.
    Context {
        /// The build context directory (default: the one `check` finds for --dockerfile,
        /// else ".").
        dir: Option<PathBuf>,
        /// The Dockerfile (its `<name>.dockerignore` takes precedence).
        #[arg(long)]
        dockerfile: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
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

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Files or directories to lint ("-" reads standard input).
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Apply safe fixes in place.
    #[arg(long)]
    fix: bool,
    /// Also apply (with --fix) or show (with --diff) unsafe fixes.
    #[arg(long)]
    unsafe_fixes: bool,
    /// Print the unified diff of the fixes; change nothing.
    #[arg(long, conflicts_with = "fix")]
    diff: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Use this configuration file for every Dockerfile.
    #[arg(long, conflicts_with = "no_config")]
    config: Option<PathBuf>,
    /// Ignore every lint.toml: use the defaults.
    #[arg(long)]
    no_config: bool,
    /// Rules or families to run (comma-separated); replaces the configured selection.
    #[arg(long, value_delimiter = ',')]
    select: Option<Vec<String>>,
    /// Rules or families to skip (comma-separated).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum)]
    fail_on: Option<FailOnArg>,
    /// Build context for the given Dockerfile(s).
    #[arg(long)]
    context: Option<PathBuf>,
    /// Name shown for standard input.
    #[arg(long)]
    stdin_filename: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOnArg {
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

const EXIT_CLEAN: u8 = 0;
const EXIT_FOUND: u8 = 1;
const EXIT_FAILED: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                EXIT_FAILED
            } else {
                EXIT_CLEAN
            });
        }
    };
    ExitCode::from(match cli.command {
        Command::Check(args) => check(args),
        Command::Rules { format } => rules(format),
        Command::Explain { rule } => explain(&rule),
        Command::Context {
            dir,
            dockerfile,
            format,
        } => context(dir, dockerfile.as_deref(), format),
        Command::DebugParse { files } => debug_parse(&files),
        Command::DebugDockerignore => debug_dockerignore(),
        Command::DebugEffects { files } => debug_effects(&files),
    })
}

fn failed(message: impl std::fmt::Display) -> u8 {
    eprintln!("docklint: {message}");
    EXIT_FAILED
}

fn style() -> emit::text::Style {
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100);
    emit::text::Style { color, width }
}

fn config_failed(e: &ConfigError) -> u8 {
    eprint!("{}", emit::text::render_config_error(e, style()));
    EXIT_FAILED
}

/// A file to lint, read, with the settings that apply to it.
struct Job {
    file: SourceFile,
    settings: Settings,
    /// Written back by --fix (not for standard input).
    on_disk: Option<PathBuf>,
}

fn check(args: CheckArgs) -> u8 {
    let overrides = Overrides {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        fail_on: args.fail_on.map(Into::into),
        context: args.context.clone(),
    };
    if let Err(e) = overrides.validate() {
        return failed(e);
    }
    if let Some(dir) = &args.context {
        if !dir.is_dir() {
            return failed(format!("--context {}: not a directory", dir.display()));
        }
    }
    let explicit = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(c) => Some(c),
            Err(e) => return config_failed(&e),
        },
        None => None,
    };
    let inputs = match walk::discover(&args.paths, args.stdin_filename.as_deref()) {
        Ok(inputs) => inputs,
        Err(e) => return failed(e),
    };
    let mut resolver = Resolver::new(explicit, args.no_config, overrides);
    let mut settings = Vec::with_capacity(inputs.len());
    for input in &inputs {
        match resolver.settings_for(input.path()) {
            Ok(s) => settings.push(s),
            Err(e) => return config_failed(&e),
        }
    }
    let mut stdin_text = None;
    if inputs.iter().any(|i| matches!(i, Input::Stdin(_))) {
        let mut bytes = Vec::new();
        if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
            return failed(format!("reading standard input: {e}"));
        }
        stdin_text = Some(bytes);
    }
    let pairs: Vec<(Input, Settings)> = inputs.into_iter().zip(settings).collect();
    let read: Vec<Result<Job, String>> = walk::par_map(&pairs, |(input, settings)| {
        let (bytes, on_disk) = match input {
            Input::Stdin(_) => (stdin_text.clone().unwrap_or_default(), None),
            Input::File(path) => (
                std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?,
                Some(path.clone()),
            ),
        };
        Ok(Job {
            file: SourceFile::from_bytes(input.path(), bytes),
            settings: settings.clone(),
            on_disk,
        })
    });
    let mut exit = EXIT_CLEAN;
    let jobs: Vec<Job> = read
        .into_iter()
        .filter_map(|r| r.map_err(|e| exit = failed(e)).ok())
        .collect();
    let min = if args.unsafe_fixes {
        Applicability::Unsafe
    } else {
        Applicability::Safe
    };
    let code = if args.diff {
        diff(&jobs, min)
    } else if args.fix {
        fix(&jobs, min, args.format)
    } else {
        lint(&jobs, args.format)
    };
    exit.max(code)
}

fn exit_for(reports: &[FileReport], jobs: &[Job]) -> u8 {
    let found = reports.iter().zip(jobs).any(|(r, j)| {
        r.diagnostics
            .iter()
            .any(|d| j.settings.fail_on.fails(d.severity))
    });
    if found {
        EXIT_FOUND
    } else {
        EXIT_CLEAN
    }
}

fn print(reports: &[FileReport], format: Format) {
    let out = match format {
        Format::Json => emit::json::render(reports),
        Format::Text => emit::text::render(reports, style()),
    };
    let _ = std::io::stdout().write_all(out.as_bytes());
}

fn lint(jobs: &[Job], format: Format) -> u8 {
    let reports: Vec<FileReport> = walk::par_map(jobs, |job| FileReport {
        file: job.file.clone(),
        diagnostics: docklint::lint(&job.file, &job.settings),
    });
    print(&reports, format);
    exit_for(&reports, jobs)
}

fn fix(jobs: &[Job], min: Applicability, format: Format) -> u8 {
    let outcomes = walk::par_map(jobs, |job| docklint::fix(&job.file, &job.settings, min));
    let mut exit = EXIT_CLEAN;
    let mut reports = Vec::new();
    let mut fixed = 0;
    for (job, outcome) in jobs.iter().zip(&outcomes) {
        for record in &outcome.reverted {
            eprintln!(
                "docklint: {}: the fix \"{}\" ({}) was not applied: the file would no longer parse",
                job.file.path.display(),
                record.title,
                record.rule
            );
        }
        if !outcome.converged {
            eprintln!(
                "docklint: {}: fixes did not settle after {} passes",
                job.file.path.display(),
                docklint::MAX_FIX_PASSES
            );
        }
        fixed += outcome.applied.len();
        for change in &outcome.files {
            if let Err(e) = write_file_change(change) {
                exit = failed(format!("{}: {e}", change.path.display()));
            }
        }
        let changed = outcome.text != job.file.text;
        match &job.on_disk {
            Some(path) if changed => {
                if let Err(e) = write_atomically(path, &outcome.text) {
                    exit = failed(format!(
                        "{}: cannot write the fixed file: {e}",
                        path.display()
                    ));
                }
            }
            None => {
                let _ = std::io::stdout().write_all(outcome.text.as_bytes());
            }
            _ => {}
        }
        let file = SourceFile::new(job.file.path.clone(), outcome.text.clone());
        reports.push(FileReport {
            file,
            diagnostics: outcome.remaining.clone(),
        });
    }
    if jobs.iter().all(|j| j.on_disk.is_some()) {
        print(&reports, format);
    }
    if fixed > 0 {
        eprintln!(
            "Fixed {fixed} problem{}.",
            if fixed == 1 { "" } else { "s" }
        );
    }
    exit.max(exit_for(&reports, jobs))
}

/// Replaces the file in one step (temporary file + rename), keeping its permissions.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let permissions = std::fs::metadata(path)?.permissions();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.docklint-{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::set_permissions(&temp, permissions)?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Writes a build-context file a fix changed (the `.dockerignore`), or creates it. Several
/// Dockerfiles can share one: a change made against text that is no longer on disk is left
/// for the next run.
fn write_file_change(change: &docklint::fix::FileChange) -> std::io::Result<()> {
    let on_disk = std::fs::read(&change.path)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    if on_disk == Some(change.text.clone()) {
        return Ok(());
    }
    if on_disk != change.original {
        return Err(std::io::Error::other(
            "changed by another fix in this run; run again to fix the rest",
        ));
    }
    match on_disk {
        Some(_) => write_atomically(&change.path, &change.text),
        None => std::fs::write(&change.path, &change.text),
    }
}

fn diff(jobs: &[Job], min: Applicability) -> u8 {
    let outcomes = walk::par_map(jobs, |job| docklint::fix(&job.file, &job.settings, min));
    let mut pending = 0;
    let mut out = String::new();
    let mut shown = std::collections::HashSet::new();
    for (job, outcome) in jobs.iter().zip(&outcomes) {
        pending += outcome.applied.len();
        if outcome.text != job.file.text {
            out.push_str(&unified_diff(
                &job.file.path,
                true,
                &job.file.text,
                &outcome.text,
            ));
        }
        // A .dockerignore shared by several Dockerfiles is shown once.
        for change in outcome
            .files
            .iter()
            .filter(|c| shown.insert(c.path.clone()))
        {
            let before = change.original.as_deref().unwrap_or("");
            out.push_str(&unified_diff(
                &change.path,
                change.original.is_some(),
                before,
                &change.text,
            ));
        }
    }
    let _ = std::io::stdout().write_all(out.as_bytes());
    if pending > 0 {
        eprintln!(
            "{pending} fix{} pending; run with --fix to apply.",
            if pending == 1 { "" } else { "es" }
        );
        EXIT_FOUND
    } else {
        EXIT_CLEAN
    }
}

/// A unified diff of one file; a file that did not exist is compared with /dev/null.
fn unified_diff(path: &Path, existed: bool, before: &str, after: &str) -> String {
    // `./x` is shown as `x`.
    let path: PathBuf = path
        .components()
        .skip_while(|c| matches!(c, std::path::Component::CurDir))
        .collect();
    let name = path.display().to_string();
    // git-style a/ b/ prefixes for paths below the working directory; others stay as they are.
    let below = matches!(
        path.components().next(),
        Some(std::path::Component::Normal(_))
    );
    let (old, new) = if !below {
        (name.clone(), name)
    } else {
        (format!("a/{name}"), format!("b/{name}"))
    };
    let old = if existed {
        old
    } else {
        "/dev/null".to_string()
    };
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&old, &new)
        .to_string()
}

fn rules(format: Format) -> u8 {
    let rules = docklint::lints::rules();
    let out = match format {
        Format::Json => {
            let list: Vec<serde_json::Value> = rules
                .iter()
                .map(|r| {
                    let m = r.meta();
                    serde_json::json!({"name": m.name, "family": m.family, "severity": m.severity, "fix": m.fix, "summary": m.summary()})
                })
                .collect();
            serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"
        }
        Format::Text => {
            let mut out = String::new();
            for r in rules {
                let m = r.meta();
                let fix = match m.fix {
                    docklint::rule::FixAvailability::Always => "fix",
                    docklint::rule::FixAvailability::Sometimes => "fix (sometimes)",
                    docklint::rule::FixAvailability::None => "",
                };
                out.push_str(&format!(
                    "{:<24} {:<8} {:<8} {:<16} {}\n",
                    m.name,
                    m.family,
                    m.severity.as_str(),
                    fix,
                    m.summary()
                ));
            }
            out
        }
    };
    let _ = std::io::stdout().write_all(out.as_bytes());
    EXIT_CLEAN
}

fn explain(name: &str) -> u8 {
    match docklint::lints::find(name) {
        Some(rule) => {
            let _ = std::io::stdout().write_all(rule.meta().doc.as_bytes());
            EXIT_CLEAN
        }
        None => failed(format!(
            "unknown rule `{name}`; `docklint rules` lists them"
        )),
    }
}

fn context(dir: Option<PathBuf>, dockerfile: Option<&Path>, format: Format) -> u8 {
    // Without a directory, the Dockerfile's context as `check` finds it.
    let dir = match (dir, dockerfile) {
        (Some(dir), _) => dir,
        (None, Some(file)) => {
            let mut resolver = Resolver::new(None, false, Overrides::default());
            match resolver.settings_for(file) {
                Ok(settings) => settings.context.unwrap_or_else(|| PathBuf::from(".")),
                Err(e) => return config_failed(&e),
            }
        }
        (None, None) => PathBuf::from("."),
    };
    let report = match docklint::context::scan(&dir, dockerfile) {
        Ok(report) => report,
        Err(e) => return failed(e),
    };
    let out = match format {
        Format::Json => {
            // The JSON object keeps its documented keys; what could not be read is said
            // on standard error.
            for problem in &report.unreadable {
                eprintln!("{}: {}", problem.path, problem.message);
            }
            serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
        }
        Format::Text => report.render_text(),
    };
    let _ = std::io::stdout().write_all(out.as_bytes());
    EXIT_CLEAN
}

/// Evaluates moby/patternmatcher cases (JSON lines on stdin: patterns, path, expect,
/// error) and prints whether each agrees. Used by the corpus check.
fn debug_dockerignore() -> u8 {
    use docklint::syntax::dockerignore::DockerIgnore;
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        return failed(format!("reading standard input: {e}"));
    }
    let mut out = std::io::stdout().lock();
    for (n, line) in input
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let case: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => return failed(format!("line {}: {e}", n + 1)),
        };
        let patterns: Vec<String> = case["patterns"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str().map(String::from))
            .collect();
        let path = case["path"].as_str().unwrap_or_default();
        let (excluded, error) = match DockerIgnore::from_patterns(&patterns) {
            Ok(ignore) => (Some(ignore.is_excluded(path)), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let agrees = match (&case["error"], excluded) {
            (serde_json::Value::Null, Some(excluded)) => Some(excluded) == case["expect"].as_bool(),
            (serde_json::Value::Null, None) => false,
            (_, excluded) => excluded.is_none(),
        };
        let result = serde_json::json!({"case": n + 1, "agrees": agrees, "excluded": excluded, "error": error});
        let _ = writeln!(out, "{result}");
    }
    EXIT_CLEAN
}

fn debug_effects(files: &[PathBuf]) -> u8 {
    let mut out = std::io::stdout().lock();
    for path in files {
        let Ok(bytes) = std::fs::read(path) else {
            eprintln!("docklint: cannot read {}", path.display());
            return EXIT_FAILED;
        };
        let file = docklint::source::SourceFile::from_bytes(path.clone(), bytes);
        let df = docklint::syntax::dockerfile::parse(&file.text);
        let model = docklint::model::Model::build(&df);
        let mut line = model.effects_json(&df, &file.text);
        line["file"] = serde_json::Value::String(path.display().to_string());
        if writeln!(out, "{line}").is_err() {
            return EXIT_FAILED;
        }
    }
    EXIT_CLEAN
}

fn debug_parse(files: &[PathBuf]) -> u8 {
    let mut out = std::io::stdout().lock();
    let mut exit = EXIT_CLEAN;
    for path in files {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                exit = failed(format!("{}: {e}", path.display()));
                continue;
            }
        };
        let file = SourceFile::from_bytes(path, bytes);
        let df = docklint::syntax::dockerfile::parse(&file.text);
        let errors: Vec<serde_json::Value> = df
            .errors
            .iter()
            .map(|e| serde_json::json!({"line": file.position(e.span.start).line, "message": e.message}))
            .collect();
        let line = serde_json::json!({
            "file": path,
            "escape": df.escape.to_string(),
            "insts": df.buildkit_view(&file.lines),
            "errors": errors,
        });
        let _ = writeln!(out, "{line}");
    }
    exit
}
