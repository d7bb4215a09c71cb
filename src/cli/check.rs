//! `docklint check`: finds the files, lints or fixes them in parallel a chunk at a time,
//! and writes each file's output as soon as its chunk is done, so memory stays flat
//! however many files there are. A path that cannot be linted is an error on standard
//! error (and an `io-error` element in JSON); the other files are still linted, and the
//! exit code is 2 at the end.

use std::collections::HashSet;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use docklint::config::{Config, FailOn, Overrides, Resolver, Settings};
use docklint::emit::escape;
use docklint::emit::paint::Paint;
use docklint::emit::{self, FileReport, Format, Options, Printer};
use docklint::fix::Applicability;
use docklint::rule::Diagnostic;
use docklint::source::SourceFile;
use docklint::syntax::dockerignore;
use docklint::walk::{self, Found, Input};
use docklint::FixOutcome;

use super::args::{CheckArgs, ColorChoice};
use super::write_back::{write_back, write_file_change};
use super::{config_failed, failed, warn, EXIT_CLEAN, EXIT_FAILED, EXIT_FOUND};

/// Files linted in parallel before their output is written; what a run holds at once.
const CHUNK: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Lint,
    Fix(Applicability),
    Diff(Applicability),
}

pub fn run(args: CheckArgs) -> u8 {
    // Every run of `check --format json` prints one array, even one that fails early (and
    // the other report formats one report).
    let empty_array = || {
        if args.format().is_report() {
            let _ = io::stdout().write_all(&Printer::<Vec<u8>>::empty_report(args.format()));
        }
    };
    let refuse = |message: String| {
        empty_array();
        failed(message)
    };
    let refuse_config = |e: &docklint::config::ConfigError| {
        empty_array();
        config_failed(e, colored(args.color, io::stderr().is_terminal()))
    };
    if let Some(problem) = misuse(&args) {
        return refuse(problem);
    }
    let overrides = Overrides {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        fail_on: args.fail_on.map(Into::into),
        context: args.context.clone(),
    };
    let overrides = match overrides.validate() {
        Ok(o) => o,
        Err(e) => return refuse(e),
    };
    if let Some(dir) = &args.context {
        if !dir.is_dir() {
            return refuse(format!("--context {}: not a directory", escape::path(dir)));
        }
    }
    let explicit = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(c) => Some(c),
            Err(e) => return refuse_config(&e),
        },
        None => None,
    };
    let found = walk::discover(&args.paths, args.stdin_filename.as_deref());
    let mut resolver = Resolver::new(explicit, args.no_config, overrides);
    let stdin = if args.reads_stdin() {
        let mut bytes = Vec::new();
        if let Err(e) = io::stdin().read_to_end(&mut bytes) {
            return refuse(format!("reading standard input: {e}"));
        }
        Some(bytes)
    } else {
        None
    };
    let mode = match (args.fix, args.diff) {
        (true, _) => Mode::Fix(min_applicability(&args)),
        (_, true) => Mode::Diff(min_applicability(&args)),
        _ => Mode::Lint,
    };
    let mut run = Run::new(&args, mode, stdin.clone());
    let result = run.all(found, &mut resolver, stdin.as_deref());
    match result {
        Ok(()) => run.finish(),
        // A closed pipe (`docklint check | head`) ends the run quietly.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_FAILED,
        Err(e) => failed(format!("writing the output: {e}")),
    }
}

/// Combinations the command line accepts but that cannot do what they say.
fn misuse(args: &CheckArgs) -> Option<String> {
    if args.stdin_filename.is_some() && !args.reads_stdin() {
        return Some("--stdin-filename names standard input: add \"-\" to the paths".into());
    }
    if args.diff && args.format() != Format::Text {
        return Some(
            "--diff prints a unified diff, in no other format; `--format json` alone gives \
             every fix as edits"
                .into(),
        );
    }
    if args.fix && args.reads_stdin() && args.format().is_report() {
        return Some(
            "--fix with \"-\" prints the fixed file on standard output, where the report would \
             go; use --diff, or the report format without --fix"
                .into(),
        );
    }
    if args.statistics && !args.format().has_statistics() {
        return Some("--statistics is shown as text, concise or json".into());
    }
    None
}

fn min_applicability(args: &CheckArgs) -> Applicability {
    if args.unsafe_fixes {
        Applicability::Unsafe
    } else {
        Applicability::Safe
    }
}

/// Colour for a stream: `--color`, else a terminal without `NO_COLOR` (https://no-color.org).
fn colored(choice: ColorChoice, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
}

/// A file read and linted (or fixed), ready to be written out.
enum Processed {
    Failed { path: PathBuf, message: String },
    Done(Box<Done>),
}

struct Done {
    file: SourceFile,
    /// Where --fix writes (none for standard input).
    on_disk: Option<PathBuf>,
    fail_on: FailOn,
    /// What `check` reports (lint mode).
    diagnostics: Vec<Diagnostic>,
    /// What fixing did (fix and diff modes).
    outcome: Option<FixOutcome>,
    /// The file's `.dockerignore` (when `syntax-error` is on), and the settings it is
    /// linted with.
    dockerignore: Option<(PathBuf, Settings)>,
}

/// One run's output and counts.
struct Run {
    mode: Mode,
    format: Format,
    quiet: bool,
    /// Diagnostics; absent with --diff, which prints diffs only.
    printer: Option<Printer<Box<dyn Write + Send>>>,
    /// Standard output when it carries files, not diagnostics (--diff, --fix of stdin).
    data: Box<dyn Write + Send>,
    paint: Paint,
    totals: emit::summary::Totals,
    found_problem: bool,
    failed: bool,
    reported_dockerignores: HashSet<PathBuf>,
    /// Build-context files (a `.dockerignore`) whose diff is shown: a file several
    /// Dockerfiles share is shown once.
    diffed_files: HashSet<PathBuf>,
    /// `lint.toml` files already shown as unusable.
    reported_configs: HashSet<PathBuf>,
    stderr_color: bool,
    /// Standard input as read: what `--fix -` prints back when it cannot rewrite it.
    stdin: Option<Vec<u8>>,
}

impl Run {
    fn new(args: &CheckArgs, mode: Mode, stdin: Option<Vec<u8>>) -> Run {
        let stdout = || Box::new(io::BufWriter::new(io::stdout())) as Box<dyn Write + Send>;
        let stdout_terminal = io::stdout().is_terminal();
        // Diagnostics go to standard output, except with --fix of standard input, whose
        // output is the fixed file; --diff prints diffs only.
        let (diagnostics_out, diagnostics_terminal, data) = match mode {
            Mode::Diff(_) => (None, false, stdout()),
            Mode::Fix(_) if args.reads_stdin() => (
                Some(Box::new(io::stderr()) as Box<dyn Write + Send>),
                io::stderr().is_terminal(),
                stdout(),
            ),
            _ => (
                Some(stdout()),
                stdout_terminal,
                Box::new(io::sink()) as Box<dyn Write + Send>,
            ),
        };
        let options = Options {
            format: args.format(),
            style: emit::text::Style {
                color: colored(args.color, diagnostics_terminal),
                width: width(),
            },
            statistics: args.statistics,
        };
        let printer = diagnostics_out.map(|out| Printer::new(out, options));
        Run {
            mode,
            format: args.format(),
            quiet: args.quiet,
            printer,
            data,
            paint: Paint::new(colored(args.color, stdout_terminal)),
            totals: emit::summary::Totals::default(),
            found_problem: false,
            failed: false,
            reported_dockerignores: HashSet::new(),
            diffed_files: HashSet::new(),
            reported_configs: HashSet::new(),
            stderr_color: colored(args.color, io::stderr().is_terminal()),
            stdin,
        }
    }

    /// Lints the files a chunk at a time; each chunk is written out while the next one
    /// is being linted.
    fn all(
        &mut self,
        mut found: impl Iterator<Item = Found>,
        resolver: &mut Resolver,
        stdin: Option<&[u8]>,
    ) -> io::Result<()> {
        let mode = self.mode;
        let mut pending: Vec<(Found, Option<Processed>)> = Vec::new();
        loop {
            let jobs: Vec<(Found, Option<Settings>)> = found
                .by_ref()
                .take(CHUNK)
                .map(|item| self.with_settings(item, resolver))
                .collect();
            if jobs.is_empty() {
                break;
            }
            let previous = std::mem::take(&mut pending);
            let (processed, written) = rayon::join(
                || {
                    walk::par_map(&jobs, |(item, settings)| match (item, settings) {
                        (Found::Lint(input), Some(settings)) => {
                            Some(process(input, settings, stdin, mode))
                        }
                        _ => None,
                    })
                },
                || self.write_out(previous),
            );
            written?;
            pending = jobs
                .into_iter()
                .map(|(item, _)| item)
                .zip(processed)
                .collect();
        }
        self.write_out(pending)
    }

    /// The settings a file is linted with. A file under a `lint.toml` that cannot be used
    /// is not linted: the problem is shown once, and the file is a failed path.
    fn with_settings(&mut self, item: Found, resolver: &mut Resolver) -> (Found, Option<Settings>) {
        let Found::Lint(input) = &item else {
            return (item, None);
        };
        match resolver.settings_for(input.path()) {
            Ok(settings) => (item, Some(settings)),
            Err(e) => {
                if self.reported_configs.insert(e.path.clone()) {
                    config_failed(&e, self.stderr_color);
                }
                let failed = Found::Failed {
                    path: input.path().to_path_buf(),
                    message: format!("not linted: {} cannot be used", escape::path(&e.path)),
                };
                (failed, None)
            }
        }
    }

    fn write_out(&mut self, chunk: Vec<(Found, Option<Processed>)>) -> io::Result<()> {
        for (item, processed) in chunk {
            match (item, processed) {
                (Found::Warning(message), _) => warn(&message),
                (Found::Failed { path, message }, _)
                | (_, Some(Processed::Failed { path, message })) => {
                    self.failure(&path, &message)?
                }
                (_, Some(Processed::Done(done))) => self.done(*done)?,
                (Found::Lint(_), None) => {}
            }
        }
        Ok(())
    }

    fn failure(&mut self, path: &Path, message: &str) -> io::Result<()> {
        eprintln!(
            "docklint: {}: {}",
            escape::path(path),
            escape::escape(message)
        );
        self.failed = true;
        match &mut self.printer {
            Some(printer) => printer.failure(path, message),
            None => {
                self.totals.failed += 1;
                Ok(())
            }
        }
    }

    fn done(&mut self, done: Done) -> io::Result<()> {
        let Done {
            file,
            on_disk,
            fail_on,
            diagnostics,
            outcome,
            dockerignore,
        } = done;
        // Each .dockerignore is read once, however many Dockerfiles use it.
        if let Some((path, settings)) = dockerignore {
            if self.reported_dockerignores.insert(path.clone()) {
                if let Some(report) = rejected_dockerignore(path, &settings) {
                    self.report(report, 0, fail_on)?;
                }
            }
        }
        let Some(outcome) = outcome else {
            return self.report(FileReport { file, diagnostics }, 0, fail_on);
        };
        explain_fixing(&file, &outcome, self.mode);
        match self.mode {
            Mode::Diff(min) => {
                let fixed = SourceFile::new(file.path.clone(), outcome.text.clone());
                let mut diff = String::new();
                let regions = outcome.changes.regions(file.text.len());
                emit::diff::render(&file.path, &file, &fixed, &regions, self.paint, &mut diff);
                for change in &outcome.files {
                    if self.diffed_files.insert(change.path.clone()) {
                        let before = change.original.as_deref();
                        emit::diff::render_file(
                            &change.path,
                            before,
                            &change.text,
                            self.paint,
                            &mut diff,
                        );
                    }
                }
                self.data.write_all(diff.as_bytes())?;
                self.found_problem |= fails(&outcome.found, fail_on);
                self.totals.add(&outcome.found, outcome.fixed(min));
                Ok(())
            }
            Mode::Fix(min) => {
                self.write_file_changes(&outcome);
                self.fixed(file, on_disk, outcome, min, fail_on)
            }
            Mode::Lint => Ok(()),
        }
    }

    /// Writes the build-context files the fixes changed or created (the `.dockerignore`).
    fn write_file_changes(&mut self, outcome: &FixOutcome) {
        for change in &outcome.files {
            if let Err(e) = write_file_change(change) {
                eprintln!(
                    "docklint: {}: cannot write the fixed file: {e}",
                    escape::path(&change.path)
                );
                self.failed = true;
            }
        }
    }

    /// Writes a fixed file back (or to standard output) and reports what remains in it.
    fn fixed(
        &mut self,
        file: SourceFile,
        on_disk: Option<PathBuf>,
        outcome: FixOutcome,
        min: Applicability,
        fail_on: FailOn,
    ) -> io::Result<()> {
        let changed = outcome.text != file.text;
        let Some(path) = on_disk else {
            // Text that is not UTF-8 is never rewritten: its bytes go back as they came.
            match (&self.stdin, file.lossy) {
                (Some(bytes), true) => self.data.write_all(bytes)?,
                _ => self.data.write_all(outcome.text.as_bytes())?,
            }
            let fixed = outcome.fixed(min);
            let report = FileReport {
                file: SourceFile::new(file.path.clone(), outcome.text),
                diagnostics: outcome.remaining,
            };
            return self.report(report, fixed, fail_on);
        };
        if !changed {
            // Fixes of build-context files (a `.dockerignore`) leave the Dockerfile as it is.
            let fixed = outcome.fixed(min);
            let report = FileReport {
                file,
                diagnostics: outcome.remaining,
            };
            return self.report(report, fixed, fail_on);
        }
        match write_back(&path, &outcome.text) {
            Ok(written) => {
                let links = written.other_hard_links;
                if links > 0 {
                    warn(&format!(
                        "{}: written as a new file; {links} other hard link{} to the old one {} \
                         the old text",
                        escape::path(&path),
                        if links == 1 { "" } else { "s" },
                        if links == 1 { "keeps" } else { "keep" },
                    ));
                }
                let fixed = outcome.fixed(min);
                let report = FileReport {
                    file: SourceFile::new(file.path.clone(), outcome.text),
                    diagnostics: outcome.remaining,
                };
                self.report(report, fixed, fail_on)
            }
            Err(e) => {
                eprintln!(
                    "docklint: {}: cannot write the fixed file: {e}; it is unchanged",
                    escape::path(&path)
                );
                self.failed = true;
                // Nothing was fixed: what was found still stands.
                let report = FileReport {
                    file,
                    diagnostics: outcome.found,
                };
                self.report(report, 0, fail_on)
            }
        }
    }

    fn report(&mut self, report: FileReport, fixed: usize, fail_on: FailOn) -> io::Result<()> {
        self.found_problem |= fails(&report.diagnostics, fail_on);
        let written = match &mut self.printer {
            Some(printer) => printer.file(&report, fixed),
            None => {
                self.totals.add(&report.diagnostics, fixed);
                Ok(())
            }
        };
        if report.diagnostics.len() >= docklint::release::BIG {
            docklint::release::release(report);
        }
        written
    }

    /// Ends the output with the summary, and gives the exit code.
    fn finish(mut self) -> u8 {
        let written = (|| -> io::Result<()> {
            self.data.flush()?;
            let summary_to_stderr = self.format.is_report();
            let (mut out, totals) = match self.printer.take() {
                Some(printer) => {
                    let (out, totals) = printer.finish()?;
                    (Some(out), totals)
                }
                None => (None, std::mem::take(&mut self.totals)),
            };
            let summary = match self.mode {
                // Workflow commands are read in a job log, beside the summary.
                Mode::Lint if summary_to_stderr && self.format != Format::Github => None,
                Mode::Lint => Some(totals.check_summary()),
                Mode::Fix(min) => Some(totals.fix_summary(min)),
                Mode::Diff(min) => Some(totals.diff_summary(min)),
            };
            match (summary, &mut out) {
                (None, _) => {}
                (Some(_), _) if self.quiet => {}
                (Some(line), Some(out)) if !summary_to_stderr => {
                    out.write_all(line.as_bytes())?;
                    out.flush()?;
                }
                (Some(line), _) => eprint!("{line}"),
            }
            Ok(())
        })();
        match written {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                failed(format!("writing the output: {e}"));
                EXIT_FAILED
            }
            Err(_) => EXIT_FAILED,
            Ok(()) if self.failed => EXIT_FAILED,
            Ok(()) if self.found_problem => EXIT_FOUND,
            Ok(()) => EXIT_CLEAN,
        }
    }
}

fn fails(diagnostics: &[Diagnostic], fail_on: FailOn) -> bool {
    diagnostics.iter().any(|d| fail_on.fails(d.severity))
}

/// Says on standard error what fixing could not do for a file.
fn explain_fixing(file: &SourceFile, outcome: &FixOutcome, mode: Mode) {
    let path = escape::path(&file.path);
    if file.lossy {
        warn(&format!(
            "{path}: not rewritten: it is not valid UTF-8, so a rewrite could corrupt it"
        ));
    }
    let verb = if matches!(mode, Mode::Diff(_)) {
        "would not be"
    } else {
        "was not"
    };
    for record in &outcome.reverted {
        warn(&format!(
            "{path}: the fix \"{}\" ({}) {verb} applied: the file would no longer parse",
            escape::escape_line(&record.title),
            record.rule
        ));
    }
    if !outcome.converged {
        warn(&format!(
            "{path}: fixes did not settle after {} passes; some remain",
            docklint::MAX_FIX_PASSES
        ));
    }
}

/// Reads and lints (or fixes) one file.
fn process(input: &Input, settings: &Settings, stdin: Option<&[u8]>, mode: Mode) -> Processed {
    let (bytes, on_disk) = match input {
        Input::Stdin(_) => (stdin.unwrap_or_default().to_vec(), None),
        Input::File(path) => match std::fs::read(path) {
            Ok(bytes) => (bytes, Some(path.clone())),
            Err(e) => {
                return Processed::Failed {
                    path: path.clone(),
                    message: e.to_string(),
                }
            }
        },
    };
    let file = SourceFile::from_bytes(input.path(), bytes);
    let dockerignore = on_disk
        .as_deref()
        .and_then(|path| dockerignore_of(path, settings));
    let (diagnostics, outcome) = match mode {
        Mode::Lint => (docklint::lint(&file, settings), None),
        Mode::Fix(min) | Mode::Diff(min) => (Vec::new(), Some(docklint::fix(&file, settings, min))),
    };
    Processed::Done(Box::new(Done {
        file,
        on_disk,
        fail_on: settings.fail_on,
        diagnostics,
        outcome,
        dockerignore,
    }))
}

/// The `.dockerignore` Docker would use for this Dockerfile (none when `syntax-error`,
/// the only rule that reads it, is off).
fn dockerignore_of(dockerfile: &Path, settings: &Settings) -> Option<(PathBuf, Settings)> {
    let rule = docklint::lints::find("syntax-error")?.meta();
    if !settings.is_enabled(rule) {
        return None;
    }
    let context = settings.context.clone().unwrap_or_else(|| {
        dockerfile
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    });
    let path = dockerignore::locate(Some(dockerfile), &context)?;
    Some((path, settings.clone()))
}

/// A `.dockerignore` Docker rejects, as a `syntax-error` at the line it refuses; none when
/// Docker accepts it.
fn rejected_dockerignore(path: PathBuf, settings: &Settings) -> Option<FileReport> {
    let file = SourceFile::from_bytes(&path, std::fs::read(&path).ok()?);
    let diagnostics = docklint::lint_dockerignore(&file, settings);
    (!diagnostics.is_empty()).then_some(FileReport { file, diagnostics })
}
