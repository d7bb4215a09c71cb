//! A cache mount that misses the directory the tool really uses: another user's home, `~` or
//! an undefined `$HOME` in the target, a relative target, a cache moved by ENV or by the RUN.

use crate::fix::{Edit, Fix};
use crate::model::mounts::{self, Misplaced, Plan};
use crate::model::tools::Holds;
use crate::model::Run;
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};

pub struct CacheMountWrongTarget;

static META: Meta = Meta {
    name: "cache-mount-wrong-target",
    family: "cache",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    aliases: &[],
    doc: include_str!("cache_mount_wrong_target.md"),
};

impl Rule for CacheMountWrongTarget {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        for run in &cx.model.runs {
            for misplaced in mounts::misplaced(run) {
                report(cx, run, &misplaced);
            }
        }
    }
}

fn report(cx: &mut Ctx, run: &Run, misplaced: &Misplaced) {
    let tool = misplaced.uses[0].tool.name;
    let fix = match mounts::plan(cx.model, run, &misplaced.uses) {
        // The mount is moved where the tool caches; a plan that needs the tool pointed
        // elsewhere is `missing-cache-mount`'s to add.
        Plan::Mount(plan) if plan.pin.is_none() && plan.undo.is_empty() => {
            let ids = plan.uid.as_ref().map(|uid| {
                (
                    uid.to_string(),
                    plan.gid.as_ref().unwrap_or(uid).to_string(),
                )
            });
            retarget(cx, misplaced, &plan.target, ids).map(|edits| {
                let title = format!("Mount the cache on {}", plan.target);
                if plan.is_safe() {
                    Fix::safe(title, edits)
                } else {
                    Fix::unsafe_(title, edits)
                }
            })
        }
        _ => None,
    };
    let diagnostic = cx
        .report(misplaced.mount.span.clone(), format!("this cache mount misses {tool}'s cache: {}", misplaced.why))
        .help(if misplaced.hides_output {
            format!("what {tool} builds there is missing from the image; mount only the directory of its cache")
        } else {
            let again = match misplaced.uses[0].cache.holds {
                Holds::Downloads => "downloads",
                Holds::Compiled | Holds::Output => "compiles everything",
            };
            format!("{tool} never writes there, so every build {again} again; mount the directory it uses")
        });
    if let Some(fix) = fix {
        diagnostic.fix(fix);
    }
}

/// Replaces the mount's `target=` (or `dst=`/`destination=`) value, adding the user's ids
/// when the mount has none.
fn retarget(
    cx: &Ctx,
    misplaced: &Misplaced,
    target: &str,
    ids: Option<(String, String)>,
) -> Option<Vec<Edit>> {
    let span = misplaced.mount.span.clone();
    let text = cx.file.text.get(span.clone())?;
    let (name, value) = text.split_once('=')?;
    if value.contains('"') {
        return None;
    }
    let mut fields: Vec<String> = Vec::new();
    for field in value.split(',') {
        let key = field.split('=').next().unwrap_or("").to_ascii_lowercase();
        if matches!(key.as_str(), "target" | "dst" | "destination") {
            fields.push(format!("{key}={target}"));
        } else {
            fields.push(field.to_string());
        }
    }
    if let Some((uid, gid)) = ids.filter(|_| misplaced.mount.option("uid").is_none()) {
        fields.push(format!("uid={uid}"));
        fields.push(format!("gid={gid}"));
    }
    Some(vec![Edit::replace(
        span,
        format!("{name}={}", fields.join(",")),
    )])
}
