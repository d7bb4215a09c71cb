//! A package manager runs without a BuildKit cache mount on the directory it really uses.
//!
//! Where the tool caches, what disables its cache and what the rest of the RUN does to the
//! directory are the model's (`model::effects`, `model::tools`); the mounts to add are
//! planned by `model::mounts`. This rule reports one finding per tool and user in a RUN and
//! turns the plans into edits.

use crate::config::{CacheStrategy, Settings};
use crate::fix::shell::{remove_json_element, remove_word, undo_edit, word_is_in_file};
use crate::fix::{Edit, Fix};
use crate::model::effects::CacheUse;
use crate::model::mounts::{self, MountPlan, Plan};
use crate::model::tools::{Holds, Pin};
use crate::model::{Certainty, MountKind, Run};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};
use crate::source::Span;
use crate::syntax::shell::Script;

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
        let model = cx.model;
        cx.check_each(&model.runs, |cx, run| {
            if !run.mounts_judged() {
                return;
            }
            // A mount meant for the cache that `cache-mount-wrong-target` moves into place.
            let retargeted: Vec<&CacheUse> = mounts::misplaced(run)
                .into_iter()
                .filter(|m| matches!(mounts::plan(cx.model, run, &m.uses), Plan::Mount(p) if p.pin.is_none() && p.undo.is_empty()))
                .flat_map(|m| m.uses)
                .collect();
            let uncovered = run
                .effects
                .caches
                .iter()
                .filter(|c| c.dir.is_none() || run.cache_mount_for(c).is_none())
                .filter(|c| !retargeted.iter().any(|r| std::ptr::eq(*r, *c)));
            // One finding per tool and user; within it, one mount per cache and directory.
            let mut findings: Vec<Vec<Vec<&CacheUse>>> = Vec::new();
            for cache in uncovered {
                let user = &run.effects.steps[cache.step].user;
                let same_tool = |g: &&mut Vec<Vec<&CacheUse>>| {
                    g[0][0].tool.name == cache.tool.name
                        && run.effects.steps[g[0][0].step].user == *user
                };
                match findings.iter_mut().find(same_tool) {
                    Some(finding) => match finding
                        .iter_mut()
                        .find(|g| g[0].cache.key == cache.cache.key && g[0].dir == cache.dir)
                    {
                        Some(group) => group.push(cache),
                        None => finding.push(vec![cache]),
                    },
                    None => findings.push(vec![vec![cache]]),
                }
            }
            for finding in findings {
                report(cx, run, &finding);
            }
        });
    }
}

fn report(cx: &mut Ctx, run: &Run, groups: &[Vec<&CacheUse>]) {
    let Some(script) = run.script.as_ref() else {
        return;
    };
    let first = groups[0][0];
    let tool = first.tool.name;
    let command_span = |u: &CacheUse| {
        script.commands[run.effects.steps[u.step].command]
            .span
            .clone()
    };
    let dirs: Vec<String> = groups.iter().filter_map(|g| g[0].dir.clone()).collect();
    let guessed = groups
        .iter()
        .flatten()
        .any(|u| u.certainty < Certainty::Known);
    let what = first.cache.what;
    // Downloads are fetched again; what a tool compiled is made again.
    let downloads = groups.iter().any(|g| g[0].cache.holds == Holds::Downloads);
    let (again, everything) = if downloads {
        (
            "downloaded again on every build",
            "every build downloads everything again",
        )
    } else {
        (
            "made again on every build",
            "every build compiles everything again",
        )
    };
    let message = match (dirs.as_slice(), groups.len()) {
        ([dir], 1) if guessed => format!(
            "{tool} runs without a cache mount on {dir}: that is where it keeps its {what} if the HOME docklint assumes is right, {again}"
        ),
        ([dir], 1) if downloads => format!("{tool} runs without a cache mount on {dir}: every build downloads its {what} again"),
        ([dir], 1) => format!("{tool} runs without a cache mount on {dir}: every build starts without its {what} and compiles everything again"),
        (_, 1) => format!(
            "{tool} runs without a cache mount for its {what}, and their directory depends on a HOME or variable docklint cannot tell"
        ),
        ([], _) => format!(
            "{tool} runs without cache mounts for its {}, and their directories depend on a HOME or variable docklint cannot tell",
            groups.iter().map(|g| g[0].cache.what).collect::<Vec<_>>().join(" and ")
        ),
        _ => format!("{tool} runs without cache mounts on {}: {everything}", dirs.join(" and ")),
    };
    let env_disabler = groups
        .iter()
        .flatten()
        .find_map(|u| u.disabled_by_env.clone());
    let plans: Vec<Plan> = groups
        .iter()
        .map(|g| mounts::plan(cx.model, run, g))
        .collect();
    let (help, fix) = match &env_disabler {
        // ENV/ARG settings govern other RUNs too: advice, no edit.
        Some(var) => (
            format!("`{var}` is set by ENV, ARG or earlier in the RUN and disables {tool}'s cache: remove it and add a cache mount to the RUNs that install"),
            None,
        ),
        None => {
            let mounted: Vec<(&Vec<&CacheUse>, &MountPlan)> = groups
                .iter()
                .zip(&plans)
                .filter_map(|(g, p)| match p {
                    Plan::Mount(plan) => Some((g, plan)),
                    Plan::Advice(_) => None,
                })
                .collect();
            let advice: Vec<&str> = plans
                .iter()
                .filter_map(|p| match p {
                    Plan::Advice(why) => Some(why.as_str()),
                    Plan::Mount(_) => None,
                })
                .collect();
            let help = if mounted.is_empty() {
                format!("No fix: {}", advice.join("; "))
            } else {
                let mut help = help_for(run, first, &mounted);
                for why in &advice {
                    help.push_str(&format!(". No fix for one cache: {why}"));
                }
                help
            };
            (help, if mounted.is_empty() { None } else { fix(cx, run, script, &mounted) })
        }
    };
    let diagnostic = cx.report(command_span(first), message).help(help);
    for other in groups.iter().flatten().skip(1) {
        if command_span(other) != command_span(first) {
            diagnostic.label(command_span(other), format!("also uses {tool}'s cache"));
        }
    }
    let mut disablers: Vec<&Span> = groups.iter().flatten().flat_map(|u| &u.disablers).collect();
    disablers.dedup();
    for disabler in disablers {
        diagnostic.label(disabler.clone(), format!("disables {tool}'s cache"));
    }
    for mount in run.mounts.iter().filter(|m| m.kind == MountKind::Cache) {
        diagnostic.label(
            mount.span.clone(),
            "a cache mount, but not where this tool caches",
        );
    }
    if let Some(fix) = fix {
        diagnostic.fix(fix);
    }
}

fn help_for(run: &Run, first: &CacheUse, mounted: &[(&Vec<&CacheUse>, &MountPlan)]) -> String {
    let tool = first.tool.name;
    let user = &run.effects.steps[first.step].user;
    let who = match (user.uid, first.certainty) {
        (Some(0), Certainty::Known) => "root".to_string(),
        (Some(0), _) => "root (assumed)".to_string(),
        _ => format!("`{}`", user.name),
    };
    let mut parts = Vec::new();
    for (group, plan) in mounted {
        let what = group[0].cache.what;
        parts.push(match (&group[0].dir, plan.pin) {
            (Some(dir), None) => format!("it keeps its {what} in {dir}: add `{}`", plan.flag()),
            (_, Some(pin)) => {
                format!(
                "{}; the fix mounts a cache on {} for its {what} and points {tool} there with {}",
                plan.moved.as_deref().unwrap_or("its usual directory cannot be mounted"),
                plan.target,
                match pin {
                    Pin::Env(var) => format!("`{var}`"),
                    Pin::Option(option) => format!("`{}`", option.replace("{}", &plan.target)),
                }
            )
            }
            (None, None) => format!("add `{}`", plan.flag()),
        });
        if !plan.undo.is_empty() {
            parts.push(
                "the fix also drops the removal of what the mount now keeps out of the image"
                    .to_string(),
            );
        }
    }
    let kept = match mounted.iter().map(|(g, _)| g[0].cache.holds).max_by_key(|h| *h as u8) {
        Some(Holds::Output) => "so what it compiled is reused, and only what the RUN copies out of the mount stays in the image",
        Some(Holds::Compiled) if mounted.iter().all(|(g, _)| g[0].cache.holds != Holds::Downloads) => {
            "so what it compiled is reused and stays out of the image"
        }
        _ => "so downloads are reused and stay out of the image",
    };
    let mut help = format!("{tool} runs as {who}; {}, {kept}", parts.join("; "));
    if mounted.iter().any(|(_, p)| p.id.is_some()) {
        help.push_str(". The mount's id names the target platform: builds for several platforms run at once, and each needs its own output");
    }
    if let Some(doubt) = mounted.iter().flat_map(|(_, p)| &p.doubts).next() {
        help.push_str(&format!(". The fix is unsafe: {doubt}"));
    }
    help.push_str(". A cache mount pays off on a builder that keeps its cache (local, or persistent CI runners); fresh CI builders start empty unless the cache is exported (GitHub Actions does not keep cache mounts in its cache by default)");
    help
}

/// Adds the mounts, points the tool at them when a plan moves a cache, and removes what
/// disables the cache or would empty it, in one fix: any of these alone would make the
/// build slower, the image bigger or the build fail.
fn fix(
    cx: &Ctx,
    run: &Run,
    script: &Script,
    mounted: &[(&Vec<&CacheUse>, &MountPlan)],
) -> Option<Fix> {
    let instruction = &cx.df.instructions[run.instruction];
    let text = &cx.file.text;
    let mut edits = Vec::new();
    let mut flags = String::new();
    for (_, plan) in mounted {
        // A flag value that would need quoting gets advice only.
        if plan.target.contains(|c: char| {
            c.is_whitespace() || matches!(c, ',' | '"' | '\'' | '\\' | '$' | '=')
        }) {
            return None;
        }
        if !plan.exists {
            flags.push_str(&plan.flag());
            flags.push(' ');
        }
    }
    if !flags.is_empty() {
        edits.push(Edit::insert(instruction.args_text.to_file(0), flags));
    }
    // A per-platform id expands an argument the stage must declare.
    if let Some(arg) = mounted.iter().find_map(|(_, p)| p.declares) {
        let line_start = text[..instruction.span.start]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        if !text[line_start..instruction.span.start].trim().is_empty() {
            return None;
        }
        let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
        edits.push(Edit::insert(
            line_start,
            format!(
                "ARG {arg}{eol}{}",
                &text[line_start..instruction.span.start]
            ),
        ));
    }
    // Per command: settings before it, options after its program, disablers out.
    let mut prefixes: Vec<(usize, String)> = Vec::new();
    let mut options: Vec<(usize, String)> = Vec::new();
    for (group, plan) in mounted {
        for cache in group.iter() {
            let step = &run.effects.steps[cache.step];
            let command = &script.commands[step.command];
            let program = match step.args_from.checked_sub(1).filter(|_| step.wrapped) {
                Some(i) => command.args.get(i)?,
                None => &command.program,
            };
            if !word_is_in_file(text, &program.span, &program.raw) {
                return None;
            }
            let mut prefix = String::new();
            let mut option = String::new();
            match plan.pin {
                Some(Pin::Env(var)) => prefix.push_str(&format!("{var}={} ", plan.target)),
                Some(Pin::Option(template)) => {
                    option.push(' ');
                    option.push_str(&template.replace("{}", &plan.target));
                }
                None => {}
            }
            for (name, value) in cache.tool.mount_env {
                if step.env.get(name).is_none() && !run.exec_form {
                    prefix.push_str(&format!("{name}={value} "));
                }
            }
            for keep in cache.tool.keep_options {
                let args: Vec<&str> = command.args[step.args_from..]
                    .iter()
                    .map(|w| w.raw.as_str())
                    .collect();
                if (keep.program.is_empty() || step.name == keep.program) && !keep.is_given(&args) {
                    option.push(' ');
                    option.push_str(keep.option);
                }
            }
            if !prefix.is_empty()
                && !prefixes
                    .iter()
                    .any(|(at, p)| *at == command.span.start && p.contains(&prefix))
            {
                prefixes.push((command.span.start, prefix));
            }
            if !option.is_empty() {
                if run.exec_form {
                    return None;
                }
                if !options
                    .iter()
                    .any(|(at, o)| *at == program.span.end && o.contains(option.trim()))
                {
                    options.push((program.span.end, option));
                }
            }
            for disabler in &cache.disablers {
                let word = command
                    .env
                    .iter()
                    .chain(&command.args)
                    .find(|w| w.span == *disabler)?;
                if !word_is_in_file(text, disabler, &word.raw) && !run.exec_form {
                    return None;
                }
                edits.push(if run.exec_form {
                    remove_json_element(text, disabler)?
                } else {
                    remove_word(text, disabler)
                });
            }
        }
        for undo in &plan.undo {
            edits.push(undo_edit(text, script, undo)?);
        }
    }
    edits.extend(prefixes.into_iter().map(|(at, p)| Edit::insert(at, p)));
    edits.extend(options.into_iter().map(|(at, o)| Edit::insert(at, o)));
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    edits.dedup();
    if edits.windows(2).any(|w| w[0].span.end > w[1].span.start) {
        return None;
    }
    let tool = mounted[0].0[0].tool.name;
    let targets: Vec<&str> = mounted.iter().map(|(_, p)| p.target.as_str()).collect();
    let disables = mounted
        .iter()
        .any(|(g, _)| g.iter().any(|u| !u.disablers.is_empty()));
    let title = format!(
        "Add {tool} cache mount{} on {}{}",
        if targets.len() > 1 { "s" } else { "" },
        targets.join(" and "),
        if disables {
            " and stop disabling the cache"
        } else {
            ""
        }
    );
    let safe = mounted.iter().all(|(_, p)| p.is_safe());
    Some(if safe {
        Fix::safe(title, edits)
    } else {
        Fix::unsafe_(title, edits)
    })
}
