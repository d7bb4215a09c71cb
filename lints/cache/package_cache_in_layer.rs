//! With `cache-strategy = "clean"` (builders without `--mount`: kaniko, the legacy builder):
//! a package manager leaves its downloads in the layer. The classic advice applies: tell the
//! tool not to cache (`--no-cache-dir`, `apk --no-cache`) or clean up in the same RUN.

use crate::config::{CacheStrategy, Settings};
use crate::fix::shell::word_is_in_file;
use crate::fix::{Edit, Fix};
use crate::model::effects::CacheUse;
use crate::model::tools::{Clean, Holds};
use crate::model::Run;
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};
use crate::syntax::dockerfile::Command;
use std::collections::HashSet;

pub struct PackageCacheInLayer;

static META: Meta = Meta {
    name: "package-cache-in-layer",
    family: "cache",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    aliases: &[],
    doc: include_str!("package_cache_in_layer.md"),
};

impl Rule for PackageCacheInLayer {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn applies(&self, settings: &Settings) -> bool {
        settings.cache_strategy == CacheStrategy::Clean
    }

    fn check(&self, cx: &mut Ctx) {
        for run in &cx.model.runs {
            // One finding per tool, with each cache of each command once.
            let mut findings: Vec<Vec<&CacheUse>> = Vec::new();
            let mut listed: HashSet<(&str, &str, usize)> = HashSet::new();
            for cache in run.kept_caches() {
                if !listed.insert((cache.tool.name, cache.cache.key, cache.step)) {
                    continue;
                }
                match findings
                    .iter_mut()
                    .find(|f| f[0].tool.name == cache.tool.name)
                {
                    Some(finding) => finding.push(cache),
                    None => findings.push(vec![cache]),
                }
            }
            for finding in findings {
                report(cx, run, &finding);
            }
        }
    }
}

fn report(cx: &mut Ctx, run: &Run, caches: &[&CacheUse]) {
    let Some(script) = run.script.as_ref() else {
        return;
    };
    let first = caches[0];
    let tool = first.tool.name;
    // Each directory once: several commands of the tool share its cache.
    let mut seen = HashSet::new();
    let dirs: Vec<&str> = caches
        .iter()
        .filter_map(|c| c.dir.as_deref())
        .filter(|dir| seen.insert(*dir))
        .collect();
    let command_span = script.commands[run.effects.steps[first.step].command]
        .span
        .clone();
    let mut edits = Vec::new();
    let mut appended: Vec<&str> = Vec::new();
    let mut advice: Vec<&str> = Vec::new();
    let mut unsafe_because = None;
    for cache in caches {
        match cache.cache.clean {
            Clean::Option(option) => {
                let step = &run.effects.steps[cache.step];
                let command = &script.commands[step.command];
                let program = match step.args_from.checked_sub(1).filter(|_| step.wrapped) {
                    Some(i) => command.args.get(i),
                    None => Some(&command.program),
                };
                match program
                    .filter(|p| word_is_in_file(&cx.file.text, &p.span, &p.raw) && !run.exec_form)
                {
                    Some(program) => {
                        edits.push(Edit::insert(program.span.end, format!(" {option}")))
                    }
                    None if !advice.contains(&option) => advice.push(option),
                    None => {}
                }
            }
            Clean::Append(command) => {
                if !appended.contains(&command) {
                    appended.push(command);
                }
                if cache.cache.outlives_run {
                    unsafe_because = Some(format!(
                        "later RUNs (and images built on this one) may read the {} this removes",
                        cache.cache.what
                    ));
                }
            }
            Clean::Advice(text) if !advice.contains(&text) => advice.push(text),
            Clean::Advice(_) => {}
        }
    }
    if !appended.is_empty() {
        match append_at(cx, run) {
            Some(at) => edits.push(Edit::insert(
                at,
                appended
                    .iter()
                    .map(|c| format!(" && {c}"))
                    .collect::<String>(),
            )),
            None => advice.extend(appended.iter().copied()),
        }
    }
    edits.sort_by_key(|e| e.span.start);
    edits.dedup();
    // A build cache (go's, ccache's, Next.js's, cargo's target) is not a download.
    let (kept, stays) = if caches.iter().any(|c| c.cache.holds == Holds::Downloads) {
        (
            "downloads",
            "stay in the layer and in every image built from it; keep them out",
        )
    } else {
        (
            "build cache",
            "stays in the layer and in every image built from it; keep it out",
        )
    };
    let mut help = format!("{tool}'s {kept} {stays} in the same RUN");
    if !advice.is_empty() {
        help.push_str(&format!(": {}", advice.join("; ")));
    }
    if let Some(why) = &unsafe_because {
        help.push_str(&format!(". The fix is unsafe: {why}"));
    }
    let diagnostic = cx
        .report(
            command_span,
            format!(
                "{tool} leaves its {kept} in the layer ({})",
                dirs.join(", ")
            ),
        )
        .help(help);
    if !edits.is_empty() {
        let title = format!("Keep {tool}'s {kept} out of the layer");
        diagnostic.fix(match unsafe_because {
            None => Fix::safe(title, edits),
            Some(_) => Fix::unsafe_(title, edits),
        });
    }
}

/// Where ` && command` can be appended: the end of a shell-form body without heredocs that
/// does not end in a comment or an operator.
fn append_at(cx: &Ctx, run: &Run) -> Option<usize> {
    let instruction = &cx.df.instructions[run.instruction];
    let Some(Command::Shell(body)) = instruction.command() else {
        return None;
    };
    if !instruction.heredocs.is_empty() {
        return None;
    }
    let shape = run.shape(cx.df)?;
    (!shape.comment && !shape.trailing_operator).then(|| body.to_file(body.len()))
}
