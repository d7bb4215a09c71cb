//! The `docklint` command line (DESIGN.md §2).

mod cli;

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use cli::args::{Cli, Command, DataFormat};
use cli::{failed, EXIT_CLEAN, EXIT_FAILED};
use docklint::config::{Overrides, Resolver};
use docklint::emit::escape;
use docklint::source::SourceFile;

// Linting allocates many small, short-lived values per instruction from rayon's worker
// threads; glibc's per-thread arenas grow by mprotect a page run at a time, which cost a
// third of the time of a 100,000-line file.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keeps the memory the process frees for its own later allocations instead of handing it
/// back to the system 10 ms later. A big file frees a phase's memory (parse-ahead windows,
/// rendered batches) while the next phase allocates: given back, every page is faulted in
/// and zeroed again, which cost a third of the time of a 10 MB file. A one-shot command
/// lives no longer than its peak; the language server, which lives on, keeps the default.
fn keep_freed_memory() {
    // `mi_option_purge_delay` in mimalloc.h (the same in v2 and v3): -1 never purges.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets an option; mimalloc reads it at each purge, from any thread.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
}

/// Faults the process's memory in 4 KiB pages: mimalloc asks for transparent huge pages on
/// its arenas, and faulting in a 2 MiB page can cost the kernel far more than the 512 small
/// pages it replaces. On the README's 54 MB file of RUNs (3 GiB), warm, small pages took a
/// steady 0.7–1.8 s of system time where huge pages took anywhere from 0.4 to 6.7 s.
fn use_small_pages() {
    #[cfg(target_os = "linux")]
    // Only a hint: a kernel without the setting keeps its pages.
    let _ = rustix::thread::disable_transparent_huge_pages(true);
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let args: Vec<String> = std::env::args().collect();
            if e.use_stderr() && cli::args::wants_json_check(&args) {
                println!("[]");
            }
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                EXIT_FAILED
            } else {
                EXIT_CLEAN
            });
        }
    };
    if !matches!(cli.command, Command::Lsp) {
        keep_freed_memory();
        use_small_pages();
    }
    ExitCode::from(match cli.command {
        Command::Check(args) => cli::check::run(args),
        Command::Rules { format } => rules(format),
        Command::Explain { rule } => explain(&rule),
        Command::Context {
            dir,
            dockerfile,
            format,
        } => context(dir, dockerfile.as_deref(), format),
        Command::Lsp => match docklint::lsp::run_stdio() {
            Ok(()) => EXIT_CLEAN,
            Err(e) => failed(format!("language server: {e}")),
        },
        Command::DebugParse { files } => debug_parse(&files),
        Command::DebugDockerignore => debug_dockerignore(),
        Command::DebugEffects { files } => debug_effects(&files),
    })
}

fn rules(format: DataFormat) -> u8 {
    let rules = docklint::lints::rules();
    let out = match format {
        DataFormat::Json => {
            let list: Vec<serde_json::Value> = rules
                .iter()
                .map(|r| {
                    let m = r.meta();
                    serde_json::json!({"name": m.name, "family": m.family, "severity": m.severity, "fix": m.fix, "summary": m.summary()})
                })
                .collect();
            serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"
        }
        DataFormat::Text => {
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
    match docklint::config::find_rule(name) {
        Some(rule) => {
            let doc = docklint::emit::explain::render(rule.meta());
            let _ = std::io::stdout().write_all(doc.as_bytes());
            EXIT_CLEAN
        }
        None => failed(format!(
            "unknown rule `{}`; `docklint rules` lists them",
            escape::escape_line(name)
        )),
    }
}

fn context(dir: Option<PathBuf>, dockerfile: Option<&Path>, format: DataFormat) -> u8 {
    // Without a directory, the Dockerfile's context as `check` finds it.
    let (dir, origin) = match (dir, dockerfile) {
        (Some(dir), _) => (dir, None),
        (None, Some(file)) => {
            let mut resolver = Resolver::new(None, false, Overrides::default());
            match resolver.settings_for(file) {
                Ok(settings) => (
                    settings.context.unwrap_or_else(|| PathBuf::from(".")),
                    settings.context_origin.map(|o| o.describe()),
                ),
                Err(e) => return cli::config_failed(&e, std::io::stderr().is_terminal()),
            }
        }
        (None, None) => (PathBuf::from("."), None),
    };
    let report = match docklint::context::scan(&dir, dockerfile) {
        Ok(report) => docklint::context::ContextReport { origin, ..report },
        Err(e) => return failed(e),
    };
    match format {
        DataFormat::Json => {
            // The JSON object keeps its documented keys; what could not be read is said
            // on standard error.
            for problem in &report.unreadable {
                eprintln!(
                    "{}: {}",
                    escape::escape_line(&problem.path),
                    escape::escape_line(&problem.message)
                );
            }
            // Written as it is serialized: a listing of every sent file is not held twice.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let _ = serde_json::to_writer_pretty(&mut out, &report)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"))
                .and_then(|()| out.flush());
        }
        DataFormat::Text => {
            let _ = std::io::stdout().write_all(report.render_text().as_bytes());
        }
    }
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
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return failed(format!("{}: {e}", path.display())),
        };
        let file = SourceFile::from_bytes(path, bytes);
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
                exit = failed(format!("{}: {e}", escape::path(path)));
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
