//! A package manager runs without a BuildKit cache mount on the directory it really uses.
//!
//! Where the tool caches, what disables its cache and what the rest of the RUN does to the
//! directory are the model's (`model::effects`, `model::tools`); the mount to add is planned
//! by `model::mounts`. This rule reports and turns the plan into edits.

use crate::config::{CacheStrategy, Settings};
use crate::fix::{Edit, Fix};
use crate::model::effects::CacheUse;
use crate::model::mounts::{self, MountPlan, Plan};
use crate::model::{Certainty, MountKind, Run};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};
use crate::source::Span;

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

    fn applies(&self, settings: &Settings) -> bool {
        settings.cache_strategy == CacheStrategy::Mount
    }

    fn check(&self, cx: &mut Ctx) {
        for run in &cx.model.runs {
            let uncovered: Vec<&CacheUse> = run
                .effects
                .caches
                .iter()
                .filter(|c| c.dir.as_deref().is_none_or(|dir| run.cache_mount_covering(dir).is_none()))
                .collect();
            // One finding per tool, directory and user.
            let mut groups: Vec<Vec<&CacheUse>> = Vec::new();
            for cache in uncovered {
                let user = &run.effects.steps[cache.step].user;
                match groups.iter_mut().find(|g| {
                    g[0].tool.name == cache.tool.name
                        && g[0].cache.key == cache.cache.key
                        && g[0].dir == cache.dir
                        && run.effects.steps[g[0].step].user == *user
                }) {
                    Some(group) => group.push(cache),
                    None => groups.push(vec![cache]),
                }
            }
            for group in groups {
                report(cx, run, &group);
            }
        }
    }
}

fn report(cx: &mut Ctx, run: &Run, uses: &[&CacheUse]) {
    let first = uses[0];
    let tool = first.tool.name;
    let Some(script) = run.script.as_ref() else { return };
    let command_span = |u: &CacheUse| script.commands[run.effects.steps[u.step].command].span.clone();
    let step = &run.effects.steps[first.step];
    let what = first.cache.what;
    let message = match &first.dir {
        Some(dir) => format!("{tool} runs without a cache mount on {dir}: every build downloads its {what} again"),
        None => format!("{tool} runs without a cache mount for its {what}, and their directory depends on a HOME or variable docklint cannot tell"),
    };
    let env_disabler = uses.iter().find_map(|u| u.disabled_by_env.clone());
    let (help, fix) = match (&env_disabler, mounts::plan(run, uses)) {
        // ENV/ARG settings govern other RUNs too: advice, no edit.
        (Some(var), _) => (
            format!("`{var}` is set by ENV, ARG or earlier in the RUN and disables {tool}'s cache: remove it and add a cache mount to the RUNs that install"),
            None,
        ),
        (None, Plan::Advice(why)) => (format!("no fix: {why}"), None),
        (None, Plan::Mount(plan)) => {
            let help = help_for(tool, step.user.name.as_str(), run, first, &plan);
            (help, fix(cx, run, uses, &plan))
        }
    };
    let diagnostic = cx.report(command_span(first), message).help(help);
    for other in &uses[1..] {
        diagnostic.label(command_span(other), format!("also uses {tool}'s cache"));
    }
    for disabler in uses.iter().flat_map(|u| &u.disablers) {
        diagnostic.label(disabler.clone(), format!("disables {tool}'s cache"));
    }
    for mount in run.mounts.iter().filter(|m| m.kind == MountKind::Cache) {
        diagnostic.label(mount.span.clone(), "a cache mount, but not where this tool caches");
    }
    if let Some(fix) = fix {
        diagnostic.fix(fix);
    }
}

fn help_for(tool: &str, user: &str, run: &Run, first: &CacheUse, plan: &MountPlan) -> String {
    let who = match (run.effects.steps[first.step].user.uid, first.certainty) {
        (Some(0), Certainty::Known) => "root".to_string(),
        (Some(0), _) => "root (assumed)".to_string(),
        _ => format!("`{user}`"),
    };
    let mut help = match (&first.dir, plan.pin) {
        (Some(dir), None) => format!("{tool} runs as {who} and caches in {dir}; add `{}` so downloads are reused and stay out of the image", plan.flag()),
        (_, Some(var)) => format!(
            "{tool} runs as {who}; {}. The fix mounts a cache on {} and points {tool} there with `{var}`, so downloads are reused and stay out of the image",
            plan.moved.as_deref().unwrap_or("its usual directory cannot be mounted"),
            plan.target
        ),
        (None, None) => format!("add `{}`", plan.flag()),
    };
    if let Some(doubt) = plan.doubts.first() {
        help.push_str(&format!(". The fix is unsafe: {doubt}"));
    }
    help.push_str(". A cache mount pays off on a builder that keeps its cache (local, or persistent CI runners); fresh CI builders start empty unless the cache is exported");
    help
}

/// Adds the mount, pins the tool when the plan moves its cache, and removes what disables
/// the cache, in one fix: any of these alone would make the build slower or the image bigger.
fn fix(cx: &Ctx, run: &Run, uses: &[&CacheUse], plan: &MountPlan) -> Option<Fix> {
    let instruction = &cx.df.instructions[run.instruction];
    // A flag value that would need quoting gets advice only.
    if plan.target.contains(|c: char| c.is_whitespace() || matches!(c, ',' | '"' | '\'' | '\\' | '$' | '=')) {
        return None;
    }
    let script = run.script.as_ref()?;
    let mut edits = Vec::new();
    if !plan.exists {
        edits.push(Edit::insert(instruction.args_text.to_file(0), format!("{} ", plan.flag())));
    }
    for cache in uses {
        let step = &run.effects.steps[cache.step];
        let command = &script.commands[step.command];
        // Settings the command needs: the pin, and what the tool needs under a mount.
        let mut prefix = String::new();
        if let Some(var) = plan.pin {
            prefix.push_str(&format!("{var}={} ", plan.target));
        }
        for (name, value) in cache.tool.mount_env {
            if step.env.get(name).is_none() && !run.exec_form {
                prefix.push_str(&format!("{name}={value} "));
            }
        }
        if !prefix.is_empty() {
            if !word_is_in_file(&cx.file.text, &command.program.span, &command.program.raw) {
                return None;
            }
            edits.push(Edit::insert(command.span.start, prefix));
        }
        for disabler in &cache.disablers {
            let word = command.env.iter().chain(&command.args).find(|w| w.span == *disabler)?;
            if !word_is_in_file(&cx.file.text, disabler, &word.raw) && !run.exec_form {
                return None;
            }
            edits.push(if run.exec_form { remove_json_element(&cx.file.text, disabler)? } else { remove_word(&cx.file.text, disabler) });
        }
    }
    edits.sort_by_key(|e| e.span.start);
    edits.dedup();
    let tool = uses[0].tool.name;
    let disables = uses.iter().any(|u| !u.disablers.is_empty());
    let title = match (plan.pin, disables) {
        (None, false) => format!("Add a {tool} cache mount on {}", plan.target),
        (None, true) => format!("Add a {tool} cache mount on {} and stop disabling the cache", plan.target),
        (Some(_), false) => format!("Cache {tool} downloads in a mount on {}", plan.target),
        (Some(_), true) => format!("Cache {tool} downloads in a mount on {} and stop disabling the cache", plan.target),
    };
    Some(if plan.is_safe() { Fix::safe(title, edits) } else { Fix::unsafe_(title, edits) })
}

/// The file holds the word's text at its span (not a word rebuilt from an escaped payload).
fn word_is_in_file(text: &str, span: &Span, raw: &str) -> bool {
    text.get(span.clone()) == Some(raw)
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
