//! A package manager runs without a BuildKit cache mount on the directory it really uses.
//!
//! pip: the cache directory is `--cache-dir`, else `$PIP_CACHE_DIR`, else
//! `$XDG_CACHE_HOME/pip`, else `$HOME/.cache/pip` of the user the RUN executes as.

use crate::config::CacheStrategy;
use crate::fix::{Edit, Fix};
use crate::model::{Certainty, Run, Value, Vars};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};
use crate::source::Span;
use crate::syntax::dockerfile::{Command, Instruction};
use crate::syntax::shell;

pub struct MissingCacheMount;

static META: Meta = Meta {
    name: "missing-cache-mount",
    family: "cache",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    aliases: &[],
    doc: include_str!("missing_cache_mount.md"),
};

impl Rule for MissingCacheMount {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        if cx.settings.cache_strategy == CacheStrategy::Clean {
            return;
        }
        for run in &cx.model.runs {
            let instruction = &cx.df.instructions[run.instruction];
            let installs: Vec<PipInstall> = run.commands().iter().filter_map(|c| PipInstall::of(c, run)).collect();
            let mut dirs: Vec<&CacheDir> = Vec::new();
            for install in &installs {
                if !dirs.contains(&&install.dir) {
                    dirs.push(&install.dir);
                }
            }
            for dir in dirs {
                let group: Vec<&PipInstall> = installs.iter().filter(|i| &i.dir == dir).collect();
                report(cx, run, instruction, dir, &group);
            }
        }
    }
}

/// Where pip puts its cache in one RUN, and how sure we are.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CacheDir {
    /// (directory, certainty of the directory)
    At(String, Certainty),
    /// HOME (or a variable the path needs) is unknown.
    Unknown,
}

/// A `pip install|wheel|download` (also `python -m pip`).
struct PipInstall<'c> {
    command: &'c shell::Command,
    dir: CacheDir,
    /// `--no-cache-dir` options and inline `PIP_NO_CACHE_DIR=` assignments.
    disablers: Vec<Span>,
}

impl<'c> PipInstall<'c> {
    fn of(command: &'c shell::Command, run: &Run) -> Option<PipInstall<'c>> {
        let args = pip_arguments(command)?;
        let subcommand = subcommand(args)?;
        if !matches!(subcommand.value.as_str(), "install" | "wheel" | "download") || args.iter().any(|w| w.value == "--no-index") {
            return None;
        }
        // Inline `NAME=value pip ...` assignments, laid over the RUN's environment.
        let mut inline = Vars::default();
        let mut disablers = Vec::new();
        for assignment in &command.env {
            if let Some((name, value)) = assignment.value.split_once('=') {
                let value = if assignment.literal { Value::Known(value.to_string()) } else { Value::Unknown };
                inline.set(name, value);
                if name == "PIP_NO_CACHE_DIR" {
                    disablers.push(assignment.span.clone());
                }
            }
        }
        let mut option_dir = None;
        for (i, word) in args.iter().enumerate() {
            if word.value == "--no-cache-dir" {
                disablers.push(word.span.clone());
            } else if let Some(dir) = word.value.strip_prefix("--cache-dir=") {
                option_dir = Some(dir.to_string());
            } else if word.value == "--cache-dir" {
                option_dir = args.get(i + 1).map(|w| w.value.clone());
            }
        }
        let dir = match option_dir {
            Some(dir) => CacheDir::At(crate::model::resolve_path(&run.workdir, &dir), Certainty::Known),
            None => default_cache_dir(&inline, run),
        };
        Some(PipInstall { command, dir, disablers })
    }
}

/// The arguments after `pip`, `pip3.12`, `python -m pip` and the like.
fn pip_arguments(command: &shell::Command) -> Option<&[shell::Word]> {
    let program = command.program.value.rsplit('/').next()?;
    if is_versioned(program, "pip") {
        return Some(&command.args);
    }
    if is_versioned(program, "python") {
        let m = command.args.iter().position(|w| w.value == "-m" || w.value == "-mpip")?;
        let module = if command.args[m].value == "-mpip" { m } else { m + 1 };
        return (command.args.get(module)?.value.ends_with("pip")).then(|| &command.args[module + 1..]);
    }
    None
}

/// `pip`, `pip3`, `pip3.12` (and likewise for `python`).
fn is_versioned(program: &str, name: &str) -> bool {
    program.strip_prefix(name).is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// The pip subcommand: the first word that is neither an option nor an option's value.
fn subcommand(args: &[shell::Word]) -> Option<&shell::Word> {
    const WITH_VALUE: &[&str] = &[
        "--cache-dir", "--log", "--proxy", "--retries", "--timeout", "--exists-action", "--trusted-host", "--cert",
        "--client-cert", "--python", "--use-feature", "--use-deprecated", "--root-user-action", "--keyring-provider",
        "--index-url", "-i", "--extra-index-url",
    ];
    let takes_value = |i: usize| i > 0 && WITH_VALUE.contains(&args[i - 1].value.as_str());
    args.iter().enumerate().find(|&(i, w)| !w.value.starts_with('-') && !takes_value(i)).map(|(_, w)| w)
}

fn default_cache_dir(inline: &Vars, run: &Run) -> CacheDir {
    let known_dir = |name: &str| match inline.get(name).or_else(|| run.env.get(name)) {
        Some(Value::Known(v)) if v.starts_with('/') => Some(Some(v.trim_end_matches('/').to_string())),
        Some(Value::Known(_)) | None => Some(None),
        Some(Value::Unknown) => None,
    };
    match (known_dir("PIP_CACHE_DIR"), known_dir("XDG_CACHE_HOME")) {
        (Some(Some(dir)), _) => CacheDir::At(dir, Certainty::Known),
        (None, _) | (Some(None), None) => CacheDir::Unknown,
        (Some(None), Some(Some(xdg))) => CacheDir::At(format!("{xdg}/pip"), Certainty::Known),
        (Some(None), Some(None)) => match &run.user.home {
            Some(home) if run.user.home_certainty > Certainty::Unknown => {
                let home = home.trim_end_matches('/');
                CacheDir::At(format!("{home}/.cache/pip"), run.user.home_certainty)
            }
            _ => CacheDir::Unknown,
        },
    }
}

fn report(cx: &mut Ctx, run: &Run, instruction: &Instruction, dir: &CacheDir, installs: &[&PipInstall]) {
    let CacheDir::At(path, dir_certainty) = dir else {
        let first = installs[0];
        cx.report(first.command.span.clone(), "pip runs without a cache mount, and its cache directory depends on a HOME docklint cannot tell")
            .help(format!(
                "the RUN executes as `{}`; set `ENV PIP_CACHE_DIR=/tmp/pip-cache` and add `--mount=type=cache,target=/tmp/pip-cache` (with `uid`/`gid` of that user)",
                run.user.name
            ));
        return;
    };
    if run.cache_mount_covering(path).is_some() {
        return;
    }
    let first = installs[0];
    let user = match (run.user.is_root(), run.user.id_certainty) {
        (true, Certainty::Known) => "root".to_string(),
        (true, _) => "root (assumed: docklint does not know this base image's user)".to_string(),
        (false, Certainty::Known) => format!("`{}`", run.user.name),
        (false, _) => format!("`{}` (its uid is a guess)", run.user.name),
    };
    let message = format!("pip runs without a cache mount on {path}: every build downloads and builds all packages again");
    let mount = mount_flag(path, run);
    // ENV/ARG PIP_NO_CACHE_DIR also governs other RUNs: advise, do not edit.
    let env_disables = run.env.get("PIP_NO_CACHE_DIR").is_some();
    let help = if env_disables {
        format!("`PIP_NO_CACHE_DIR` is set by ENV or ARG and disables the cache: remove it and add `{mount}` to the RUNs that install")
    } else {
        format!("pip runs as {user} and caches in {path}; add `{mount}` so downloads are reused and stay out of the image")
    };
    let fix = if env_disables { None } else { fix(cx, run, instruction, path, *dir_certainty, &mount, installs) };
    let diagnostic = cx.report(first.command.span.clone(), message).help(help);
    for other in &installs[1..] {
        diagnostic.label(other.command.span.clone(), "also uses pip's cache");
    }
    for install in installs {
        for disabler in &install.disablers {
            diagnostic.label(disabler.clone(), "disables pip's cache");
        }
    }
    for mount in run.mounts.iter().filter(|m| m.kind == crate::model::MountKind::Cache) {
        diagnostic.label(mount.span.clone(), format!("a cache mount, but not on {path}"));
    }
    if let Some(fix) = fix {
        diagnostic.fix(fix);
    }
}

fn mount_flag(path: &str, run: &Run) -> String {
    let mut flag = format!("--mount=type=cache,target={path}");
    if !run.user.is_root() {
        if let Some(uid) = run.user.uid {
            flag.push_str(&format!(",uid={uid},gid={}", run.user.gid.unwrap_or(uid)));
        }
    }
    flag
}

/// Adds the mount and removes what disables the cache, in one fix: either alone would make
/// the build slower or the image bigger. Safe only when the directory and the user's ids
/// are known; a guess gives an unsafe fix, and nothing known gives none.
fn fix(cx: &Ctx, run: &Run, instruction: &Instruction, path: &str, dir_certainty: Certainty, mount: &str, installs: &[&PipInstall]) -> Option<Fix> {
    let id_certainty = if run.user.is_root() { Certainty::Known } else { run.user.id_certainty };
    let certainty = dir_certainty.min(id_certainty);
    // A path that would need quoting inside the flag's CSV value gets advice only.
    let plain_path = !path.contains(|c: char| c.is_whitespace() || matches!(c, ',' | '"' | '\'' | '\\' | '$' | '='));
    if certainty == Certainty::Unknown || run.user.uid.is_none() || !plain_path {
        return None;
    }
    let exec_form = matches!(instruction.command(), Some(Command::Exec(_)));
    let mut edits = vec![Edit::insert(instruction.args_text.to_file(0), format!("{mount} "))];
    for install in installs {
        for disabler in &install.disablers {
            edits.push(if exec_form { remove_json_element(&cx.file.text, disabler)? } else { remove_word(&cx.file.text, disabler) });
        }
    }
    let title = if installs.iter().any(|i| !i.disablers.is_empty()) {
        format!("Add a pip cache mount on {path} and stop disabling the cache")
    } else {
        format!("Add a pip cache mount on {path}")
    };
    Some(match certainty {
        Certainty::Known => Fix::safe(title, edits),
        _ => Fix::unsafe_(title, edits),
    })
}

/// Deletes a shell word with the blank after it (or before it); a word alone on a
/// continued line goes with its line.
fn remove_word(text: &str, span: &Span) -> Edit {
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[span.end..].find('\n').map_or(text.len(), |i| span.end + i + 1);
    let before = &text[line_start..span.start];
    let after = text[span.end..line_end].trim_end_matches(['\n', '\r']);
    if before.trim().is_empty() && after.trim() == "\\" {
        return Edit::delete(line_start..line_end);
    }
    let following = after.len() - after.trim_start_matches([' ', '\t']).len();
    if following > 0 && !after.trim().is_empty() {
        return Edit::delete(span.start..span.end + following);
    }
    let preceding = before.len() - before.trim_end_matches([' ', '\t']).len();
    Edit::delete(span.start - preceding..span.end + following)
}

/// Deletes a JSON array element (`"--no-cache-dir", `) given the span of its content.
fn remove_json_element(text: &str, span: &Span) -> Option<Edit> {
    let open = span.start.checked_sub(1).filter(|&i| text.as_bytes().get(i) == Some(&b'"'))?;
    let close = (text.as_bytes().get(span.end) == Some(&b'"')).then_some(span.end + 1)?;
    let after = &text[close..];
    let trimmed = after.trim_start();
    if let Some(rest) = trimmed.strip_prefix(',') {
        let end = close + (after.len() - trimmed.len()) + 1 + (rest.len() - rest.trim_start().len());
        return Some(Edit::delete(open..end));
    }
    let before = text[..open].trim_end();
    let comma = before.strip_suffix(',')?;
    Some(Edit::delete(comma.len()..close))
}
