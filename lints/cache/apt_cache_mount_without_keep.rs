//! An apt cache mount that keeps nothing: Debian's and Ubuntu's `docker-clean` deletes every
//! downloaded package from apt's archive after each install, mounted or not.

use crate::fix::shell::word_is_in_file;
use crate::fix::{Edit, Fix};
use crate::model::tools::APT;
use crate::model::{Mount, MountKind, Run};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};

pub struct AptCacheMountWithoutKeep;

static META: Meta = Meta {
    name: "apt-cache-mount-without-keep",
    family: "cache",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    aliases: &[],
    doc: include_str!("apt_cache_mount_without_keep.md"),
};

/// Where downloads are kept inside an existing mount: `docker-clean` deletes
/// `/var/cache/apt/archives/*.deb` and `…/partial/*.deb`, not the files of another directory.
const KEPT: &str = "kept";

impl Rule for AptCacheMountWithoutKeep {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        for run in cx.model.runs_judging_mounts() {
            if run.docker_clean != Some(true) {
                continue;
            }
            let archives = run.effects.caches.iter().filter(|c| {
                std::ptr::eq(c.tool, &APT) && c.cache.key == "apt-archives" && !c.explicit
            });
            let mut reported: Vec<&Mount> = Vec::new();
            for cache in archives {
                let Some(dir) = cache.dir.as_deref() else {
                    continue;
                };
                let Some(mount) = run.cache_mount_covering(dir) else {
                    continue;
                };
                if mount.kind != MountKind::Cache || reported.iter().any(|m| m.span == mount.span) {
                    continue;
                }
                reported.push(mount);
                report(cx, run, mount);
            }
        }
    }
}

fn report(cx: &mut Ctx, run: &Run, mount: &Mount) {
    let Some(target) = mount.target.as_deref() else {
        return;
    };
    let Some(script) = run.script.as_ref() else {
        return;
    };
    let kept = format!("{}/{KEPT}/", target.trim_end_matches('/'));
    let option = format!(" -o Dir::Cache::Archives={kept}");
    // Every apt command of the RUN that downloads into the archive gets the option.
    let mut edits = Vec::new();
    for cache in run
        .effects
        .caches
        .iter()
        .filter(|c| std::ptr::eq(c.tool, &APT) && c.cache.key == "apt-archives" && !c.explicit)
    {
        let step = &run.effects.steps[cache.step];
        let command = &script.commands[step.command];
        let program = match step.args_from.checked_sub(1).filter(|_| step.wrapped) {
            Some(i) => command.args.get(i),
            None => Some(&command.program),
        };
        let Some(program) = program.filter(|p| word_is_in_file(&cx.file.text, &p.span, &p.raw))
        else {
            edits.clear();
            break;
        };
        let mut insertion = option.clone();
        for keep in APT.keep_options {
            if step.name == keep.program {
                insertion.push(' ');
                insertion.push_str(keep.option);
            }
        }
        edits.push(Edit::insert(program.span.end, insertion));
    }
    edits.dedup();
    let diagnostic = cx
        .report(mount.span.clone(), format!("the apt cache mount on {target} keeps nothing: the image's docker-clean deletes every downloaded package after each install"))
        .help(format!(
            "point apt at a directory of the mount that docker-clean does not clean (`apt-get -o Dir::Cache::Archives={kept} install …`), or remove /etc/apt/apt.conf.d/docker-clean in an earlier RUN and keep downloaded packages, as Docker's reference example does (that changes the image for every later RUN and for images built on it)"
        ));
    if !edits.is_empty() && !run.exec_form {
        diagnostic.fix(Fix::safe(format!("Keep apt's downloads in {kept}"), edits));
    }
}
