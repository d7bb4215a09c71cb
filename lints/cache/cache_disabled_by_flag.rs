//! A cache mount the RUN itself makes useless: the tool is told not to use its cache, or the
//! RUN removes or empties the mounted directory (which, for the directory itself or a parent,
//! also fails the build: a mount point cannot be removed).

use crate::fix::shell::{remove_json_element, remove_word, undo_edit, word_is_in_file};
use crate::fix::Fix;
use crate::model::mounts;
use crate::model::{Mount, MountKind, Run};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};

pub struct CacheDisabledByFlag;

static META: Meta = Meta {
    name: "cache-disabled-by-flag",
    family: "cache",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    aliases: &[],
    doc: include_str!("cache_disabled_by_flag.md"),
};

impl Rule for CacheDisabledByFlag {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        for run in cx.model.runs_judging_mounts() {
            for mount in run.mounts.iter().filter(|m| m.kind == MountKind::Cache) {
                let Some(target) = mount.target.as_deref() else {
                    continue;
                };
                check_mount(cx, run, mount, target);
            }
        }
    }
}

fn check_mount(cx: &mut Ctx, run: &Run, mount: &Mount, target: &str) {
    let Some(script) = run.script.as_ref() else {
        return;
    };
    let text = &cx.file.text;
    let covered: Vec<_> = run
        .effects
        .caches
        .iter()
        .filter(|c| run.cache_mount_for(c).is_some_and(|m| m.span == mount.span))
        .collect();
    // Options and inline variables that switch the cache off: the fix drops them.
    for cache in &covered {
        let step = &run.effects.steps[cache.step];
        let command = &script.commands[step.command];
        if let Some(var) = &cache.disabled_by_env {
            cx.report(command.span.clone(), format!("`{var}` disables {}'s cache, so the cache mount on {target} is never used", cache.tool.name))
                .label(mount.span.clone(), "this mount")
                .help(format!("`{var}` comes from ENV, ARG or an export: remove it (other RUNs may rely on it, so docklint does not)"));
            continue;
        }
        for disabler in &cache.disablers {
            let Some(word) = command
                .env
                .iter()
                .chain(&command.args)
                .find(|w| w.span == *disabler)
            else {
                continue;
            };
            let edit = if run.exec_form {
                remove_json_element(text, disabler)
            } else {
                word_is_in_file(text, disabler, &word.raw).then(|| remove_word(text, disabler))
            };
            let diagnostic = cx
                .report(disabler.clone(), format!("`{}` disables {}'s cache, so the cache mount on {target} is never used", word.value, cache.tool.name))
                .label(mount.span.clone(), "this mount")
                .help("the mount keeps the cache out of the image already: drop the option so downloads are reused");
            if let Some(edit) = edit {
                diagnostic.fix(Fix::safe(format!("Remove `{}`", word.value), vec![edit]));
            }
        }
    }
    // Removals of the mounted directory, a parent or what is in it.
    let found = mounts::against_existing(run, target);
    for reason in &found.fatal {
        cx.report(mount.span.clone(), format!("{reason}: the mount on {target} is a mount point for the whole RUN"))
            .help("remove the directory before or after this RUN, or mount the cache elsewhere and point the tool there");
    }
    for (undo, removal) in found.undo.iter().zip(&found.undone) {
        let fails = removal.removes_mount_point;
        let message = if fails {
            format!("{}, the mount point of the cache on {target}: the build fails (device or resource busy)", removal.what)
        } else {
            format!(
                "{}, the cache mounted on {target}: it is thrown away on every build",
                removal.what
            )
        };
        let diagnostic = cx
            .report(removal.span.clone(), message)
            .label(mount.span.clone(), "this mount")
            .help("what the mount holds never reaches the image: the removal only throws the cache away");
        if let Some(edit) = undo_edit(text, script, undo) {
            // Taking out a removal that failed the build makes it pass: not the same build.
            diagnostic.fix(if fails {
                Fix::unsafe_(
                    "Keep the mounted cache (the build no longer fails)",
                    vec![edit],
                )
            } else {
                Fix::safe("Keep the mounted cache", vec![edit])
            });
        }
    }
}
