//! `COPY . .` before the stage installs its dependencies: the install's layer depends on
//! every file of the context, so any source edit re-runs it. Which installs read which
//! manifests is the model's table (`model::manifests`).

use std::collections::HashMap;

use crate::context::BuildContext;
use crate::fix::{Edit, Fix};
use crate::model::copies::ContextCopy;
use crate::model::effects::Step;
use crate::model::manifests::{self, Install};
use crate::model::tools::Tool;
use crate::model::{path_is_within, resolve_path, Run};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};
use crate::source::Span;
use crate::syntax::dockerfile::Args;
use crate::syntax::shell::Script;

pub struct CopyAllBeforeInstall;

static META: Meta = Meta {
    name: "copy-all-before-install",
    family: "layers",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    aliases: &[],
    doc: include_str!("copy_all_before_install.md"),
};

impl Rule for CopyAllBeforeInstall {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        let model = cx.model;
        let mut stages: HashMap<usize, StageSteps> = HashMap::new();
        for copy in model.copies.iter().filter(|c| c.copies_everything()) {
            // A destination with a variable docklint cannot resolve.
            let dest = copy.dest.as_str();
            if dest.contains('$') {
                continue;
            }
            let steps = stages
                .entry(copy.stage)
                .or_insert_with(|| StageSteps::of(model.runs_of(copy.stage)));
            let Some(found) = first_install(steps, copy, dest) else {
                continue;
            };
            report(cx, copy, dest, &found, cx.sent_context());
        }
    }
}

/// A stage's steps, each with the install it is, read once for all the stage's `COPY . .`:
/// a stage of n such COPYs, each before an install, read every install n times.
struct StageSteps<'m> {
    /// Each step with its RUN and the RUN's script.
    steps: Vec<(&'m Run, &'m Script, &'m Step, Option<Install>)>,
    /// The steps that install, by index in `steps`.
    installs: Vec<usize>,
    /// Per tool, the first step that installs with it.
    first_install: HashMap<&'static str, usize>,
    /// Per tool that installs here, the first step that runs it without installing.
    first_run: HashMap<&'static str, usize>,
}

impl<'m> StageSteps<'m> {
    fn of(runs: &'m [Run]) -> Self {
        let mut steps: Vec<(&Run, &Script, &Step, Option<Install>)> = Vec::new();
        let mut installs = Vec::new();
        let mut first_install = HashMap::new();
        let mut tools: Vec<&'static Tool> = Vec::new();
        for run in runs {
            let Some(script) = run.script.as_ref() else {
                continue;
            };
            for step in &run.effects.steps {
                let args: Vec<&str> = step.args(script).iter().map(|w| w.value.as_str()).collect();
                let install = manifests::install(&step.name, &args);
                if let Some(install) = &install {
                    let tool = install.installer.tool;
                    first_install.entry(tool.name).or_insert_with(|| {
                        tools.push(tool);
                        steps.len()
                    });
                    installs.push(steps.len());
                }
                steps.push((run, script, step, install));
            }
        }
        // A pass over the steps for each tool that installs (a stage has a few).
        let first_run = tools
            .iter()
            .filter_map(|tool| {
                let at = steps.iter().position(|(_, _, step, install)| {
                    install.is_none() && tool.runs_as(&step.name)
                })?;
                Some((tool.name, at))
            })
            .collect();
        StageSteps {
            steps,
            installs,
            first_install,
            first_run,
        }
    }

    /// Whether a step before `end` installed with `tool`, or, for a tool whose build needs
    /// the sources (`builds`), ran it at all.
    fn ran_before(&self, end: usize, tool: &'static Tool, builds: bool) -> bool {
        let before_end =
            |first: &HashMap<&str, usize>| first.get(tool.name).is_some_and(|&at| at < end);
        before_end(&self.first_install) || (builds && before_end(&self.first_run))
    }
}

/// An install after the COPY that reads manifests the COPY brought.
struct Found<'m> {
    run: &'m Run,
    step: &'m Step,
    /// The install command in the file.
    command: Span,
    install: Install,
    /// The project's directory relative to the COPY's destination (`""`, `backend`): the
    /// working directory, or the one an option named (`mvn -f backend/pom.xml`). The
    /// manifests are named on the command line, or the installer's in this directory.
    dir: String,
}

/// How many installs after a `COPY . .` are weighed for the one that reads what it brought:
/// a stage of n such COPYs, then n installs in other directories, weighed n² pairs.
const MAX_INSTALLS_WEIGHED: usize = 64;

/// The first install of the COPY's stage after it that reads its manifests from what the
/// COPY brought, among the first [`MAX_INSTALLS_WEIGHED`]; `None` when there is none, or
/// the stage layered it already: it installed with the same tool before the COPY (`npm ci`
/// after copying package.json), or, for a tool whose build needs the sources, ran it at all
/// (`cargo chef cook`).
fn first_install<'m>(stage: &StageSteps<'m>, copy: &ContextCopy, dest: &str) -> Option<Found<'m>> {
    let after = stage
        .steps
        .partition_point(|(run, _, _, _)| run.instruction < copy.instruction);
    let first = stage.installs.partition_point(|&i| i < after);
    for &i in stage.installs[first..].iter().take(MAX_INSTALLS_WEIGHED) {
        let (run, script, step, Some(install)) = &stage.steps[i] else {
            continue;
        };
        let (run, script, step) = (*run, *script, *step);
        let tool = install.installer.tool;
        let builds = install
            .installer
            .needs_sources_unless
            .is_some_and(|u| u.is_empty());
        if stage.ran_before(after, tool, builds) {
            return None;
        }
        let Some(cwd) = step.cwd.as_deref() else {
            continue;
        };
        // A local project installed with its sources (`pip install .`) is no manifest install.
        if install.needs_sources && install.installer.needs_sources_unless.is_none() {
            continue;
        }
        let dirs: Vec<String> = match install.named.is_empty() {
            true => vec![cwd.to_string()],
            false => install
                .named
                .iter()
                .map(|f| resolve_path(cwd, f))
                .map(|p| {
                    p.rsplit_once('/')
                        .map_or(String::new(), |(d, _)| d.to_string())
                })
                .collect(),
        };
        if !dirs.iter().all(|d| path_is_within(d, dest))
            || (install.named.is_empty() && !path_is_within(cwd, dest))
        {
            continue;
        }
        // The project's own directory: where the layout files and outputs are.
        let project = install
            .project
            .as_deref()
            .map_or(cwd.to_string(), |p| resolve_path(cwd, p));
        if install.project.is_some() && !path_is_within(&project, dest) {
            continue;
        }
        let dir = relative(&project, dest);
        let command = script.commands[step.command].span.clone();
        return Some(Found {
            run,
            step,
            command,
            install: install.clone(),
            dir,
        });
    }
    None
}

/// `path` relative to `dir` (`path` within it), `""` for `dir` itself.
fn relative(path: &str, dir: &str) -> String {
    path.strip_prefix(dir.trim_end_matches('/'))
        .unwrap_or("")
        .trim_start_matches('/')
        .to_string()
}

/// `name` in the directory `dir` of the context (`""`: its root).
fn in_dir(dir: &str, name: &str) -> String {
    match dir {
        "" => name.to_string(),
        dir => format!("{dir}/{name}"),
    }
}

/// The manifests of an install as paths relative to the context root.
fn manifest_paths(found: &Found, dest: &str) -> Vec<String> {
    let join = |name: &str| in_dir(&found.dir, name);
    match found.install.named.is_empty() {
        true => found
            .install
            .installer
            .manifests
            .iter()
            .map(|m| join(m))
            .collect(),
        false => {
            let cwd = found.step.cwd.as_deref().unwrap_or(dest);
            found
                .install
                .named
                .iter()
                .map(|f| relative(&resolve_path(cwd, f), dest))
                .collect()
        }
    }
}

fn report(
    cx: &mut Ctx,
    copy: &ContextCopy,
    dest: &str,
    found: &Found,
    context: Option<&BuildContext>,
) {
    let instruction = &cx.df.instructions[copy.instruction];
    let command_span = found.command.clone();
    let command = cx.text(command_span.clone()).to_string();
    let all = manifest_paths(found, dest);
    let present: Vec<String> = match context {
        Some(context) => all
            .iter()
            .filter(|m| context.sends(m, false))
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    // Without the context's view, the files the install needs (or names).
    let required: Vec<String> = match found.install.named.is_empty() {
        true => found
            .install
            .installer
            .required
            .iter()
            .map(|r| in_dir(&found.dir, r))
            .collect(),
        false => all.clone(),
    };
    let (named, separator) = match present.is_empty() {
        true if found.install.named.is_empty() => (&required, " or "),
        true => (&required, ", "),
        false => (&present, ", "),
    };
    let listed = named
        .iter()
        .map(|m| format!("`{m}`"))
        .collect::<Vec<_>>()
        .join(separator);
    let fix = move_fix(cx, copy, found, &present, context);
    let mut help =
        format!("copy only the manifests first ({listed}), run the install, then copy the rest");
    if found.install.needs_sources {
        if let Some(unless) = found
            .install
            .installer
            .needs_sources_unless
            .filter(|u| !u.is_empty())
        {
            help.push_str(&format!(
                "; the install before the full copy needs `{}` (it installs the project itself, which needs the sources), the one after it installs the project",
                unless.join(" ")
            ));
        } else {
            help.push_str(&format!(
                " (the build itself needs the sources: to fetch the dependencies alone first, {})",
                found.install.installer.fetch_first
            ));
        }
    }
    match &fix {
        Ok(_) => help.push_str("; the fix is unsafe: the install no longer sees the other files (a lifecycle script or a path dependency may need them)"),
        Err(_) if found.install.needs_sources => {}
        Err(why) => help.push_str(&format!("; no fix: {why}")),
    }
    let diagnostic = cx
        .report(
            instruction.keyword_span.start..instruction.line_end,
            format!("this COPY brings the whole build context before `{command}`: any edit to any file re-runs the install"),
        )
        .label(command_span, "re-runs whenever a file of the context changes")
        .help(help);
    if let Ok(fix) = fix {
        diagnostic.fix(fix);
    }
}

/// The fix: copy the manifests the context has to the same place, move the install RUN
/// (directly after the COPY, installs only) before the full copy.
fn move_fix(
    cx: &Ctx,
    copied: &ContextCopy,
    found: &Found,
    present: &[String],
    context: Option<&BuildContext>,
) -> Result<Fix, String> {
    let context = context.ok_or("the build context cannot be read")?;
    let installer = found.install.installer;
    if found.install.needs_sources {
        return Err("the install builds the project itself".into());
    }
    let in_project = |name: &str| in_dir(&found.dir, name);
    let required = match found.install.named.is_empty() {
        true => installer
            .required
            .iter()
            .any(|r| present.contains(&in_project(r))),
        false => present.len() == found.install.named.len(),
    };
    if !required {
        return Err("the context lacks the manifest the install reads".into());
    }
    for manifest in present {
        let text = context.read_text(manifest).unwrap_or_default();
        if let Some(word) = installer.refers.find(&text, &found.install.args) {
            return Err(format!(
                "`{manifest}` has `{word}`: the install needs more of the project than its manifests"
            ));
        }
    }
    if let Some(layout) = installer.layouts.iter().find(|l| {
        context.sends(&in_project(l), false)
            || context.sends(&in_project(l), true)
            || context.sends(l, false)
    }) {
        return Err(format!(
            "the context has `{layout}`: the manifests alone may not be enough"
        ));
    }
    if let Some(output) = installer
        .outputs
        .iter()
        .find(|o| context.sends(&in_project(o), true))
    {
        return Err(format!(
            "the context sends `{}`, which the full copy would lay over what the install made (add it to .dockerignore)",
            in_project(output)
        ));
    }
    let run_instruction = &cx.df.instructions[found.run.instruction];
    if found.run.instruction != copied.instruction + 1 {
        return Err("the install is not the instruction right after the COPY".into());
    }
    let script = found
        .run
        .script
        .as_ref()
        .ok_or("the RUN is not a shell script")?;
    // Installs, and `cd` into the directories the manifests were copied to.
    let only_installs = script.commands.iter().enumerate().all(|(i, command)| {
        if command.program.value == "cd" {
            return true;
        }
        found
            .run
            .effects
            .steps
            .iter()
            .filter(|s| s.command == i)
            .all(|s| {
                let args: Vec<&str> = s.args(script).iter().map(|w| w.value.as_str()).collect();
                manifests::install(&s.name, &args).is_some_and(|i| !i.needs_sources)
            })
            && found.run.effects.steps.iter().any(|s| s.command == i)
    });
    if !only_installs {
        return Err("the RUN does more than install".into());
    }
    let copy = &cx.df.instructions[copied.instruction];
    let (Args::Copy(args) | Args::Add(args)) = &copy.args else {
        return Err("not a COPY".into());
    };
    let dest = args.dest.as_ref().ok_or("the COPY has no destination")?;
    let text = &cx.file.text;
    let newline = cx.file.newline();
    let flags: String = copy
        .flags
        .iter()
        .map(|f| format!("{} ", &text[f.span.clone()]))
        .collect();
    let keyword = &text[copy.keyword_span.clone()];
    // One COPY per directory, so each manifest keeps its place.
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for manifest in present {
        let (dir, _) = manifest.rsplit_once('/').unwrap_or(("", manifest));
        match groups.iter_mut().find(|(d, _)| d == dir) {
            Some((_, files)) => files.push(manifest),
            None => groups.push((dir.to_string(), vec![manifest])),
        }
    }
    let dest_dir = dest.value.trim_end_matches('/');
    let mut inserted = String::new();
    for (dir, files) in &groups {
        let target = match (dest_dir, dir.as_str()) {
            ("" | "/", "") => "/".to_string(),
            (".", "") => "./".to_string(),
            (d, "") => format!("{d}/"),
            (".", sub) => format!("./{sub}/"),
            (d, sub) => format!("{d}/{sub}/"),
        };
        if files
            .iter()
            .chain([&target.as_str()])
            .any(|w| w.contains([' ', '"', '\'', '$', '\\']))
        {
            return Err("a path would need quoting".into());
        }
        inserted.push_str(&format!(
            "{keyword} {flags}{} {target}{newline}",
            files.join(" ")
        ));
    }
    let copy_line_start = text[..copy.span.start].rfind('\n').map_or(0, |i| i + 1);
    let after_copy = text[copy.span.end..]
        .find('\n')
        .map_or(text.len(), |i| copy.span.end + i + 1);
    let run_end = text[run_instruction.span.end..]
        .find('\n')
        .map_or(text.len(), |i| run_instruction.span.end + i + 1);
    let moved = &text[after_copy..run_end];
    if !moved.ends_with('\n') {
        return Err("the install ends the file without a newline".into());
    }
    inserted.push_str(moved);
    Ok(Fix::unsafe_(
        "Copy the manifests and install before copying the rest",
        vec![
            Edit::insert(copy_line_start, inserted),
            Edit::delete(after_copy..run_end),
        ],
    ))
}
