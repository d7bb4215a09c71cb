//! A cache mount used by a non-root user without that user's `uid`/`gid`: BuildKit creates
//! the cache owned by root (0755), so the tool gets "permission denied" or quietly turns its
//! cache off.

use crate::fix::{Edit, Fix};
use crate::model::{Certainty, Mount, MountKind, Run};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};

pub struct CacheMountPermissions;

static META: Meta = Meta {
    name: "cache-mount-permissions",
    family: "cache",
    severity: Severity::Warning,
    fix: FixAvailability::Always,
    aliases: &[],
    doc: include_str!("cache_mount_permissions.md"),
};

impl Rule for CacheMountPermissions {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        for run in cx.model.runs_judging_mounts() {
            for mount in run.mounts.iter().filter(|m| m.kind == MountKind::Cache) {
                check_mount(cx, run, mount);
            }
        }
    }
}

fn check_mount(cx: &mut Ctx, run: &Run, mount: &Mount) {
    // The user of the first command that caches under this mount.
    let Some(cache) = run
        .effects
        .caches
        .iter()
        .find(|c| run.cache_mount_for(c).is_some_and(|m| m.span == mount.span))
    else {
        return;
    };
    let user = &run.effects.steps[cache.step].user;
    if user.uid == Some(0) || mount_is_open(mount) {
        return;
    }
    let mount_uid = mount.option("uid").and_then(|u| resolve_id(u, run));
    if mount_uid.is_some() && mount_uid == user.uid {
        return;
    }
    if mount.option("uid").is_some() && user.uid.is_none() {
        // A uid docklint cannot check against an unknown user.
        return;
    }
    let tool = cache.tool.name;
    let owner = match mount.option("uid") {
        Some(uid) => format!("uid {uid}"),
        None => "root".to_string(),
    };
    let who = match user.uid {
        Some(uid) => format!("`{}` (uid {uid})", user.name),
        None => format!("`{}`", user.name),
    };
    let (addition, certain) = match (user.uid, user.id_certainty) {
        (Some(uid), Certainty::Known) => {
            (format!(",uid={uid},gid={}", user.gid.unwrap_or(uid)), true)
        }
        _ => (",mode=0777".to_string(), false),
    };
    let fix = fix(cx, mount, &addition).map(|edits| {
        let title = format!(
            "Make the cache mount {}",
            if certain {
                "owned by the user"
            } else {
                "writable by every user"
            }
        );
        if certain && mount.option("uid").is_none() && mount.option("gid").is_none() {
            Fix::safe(title, edits)
        } else {
            Fix::unsafe_(title, edits)
        }
    });
    let diagnostic = cx
        .report(mount.span.clone(), format!("the cache mount is owned by {owner}, but {tool} runs as {who}: it cannot write there"))
        .help(format!("add `{}` to the mount, so the user can write its cache", addition.trim_start_matches(',')));
    if let Some(fix) = fix {
        diagnostic.fix(fix);
    }
}

/// `mode=0777` (or 1777): any user can write.
fn mount_is_open(mount: &Mount) -> bool {
    mount
        .option("mode")
        .and_then(|m| u32::from_str_radix(m.trim_start_matches("0o"), 8).ok())
        .is_some_and(|mode| mode & 0o002 != 0)
}

/// A uid option's number (`uid=$UID` read through the RUN's variables).
fn resolve_id(value: &str, run: &Run) -> Option<u32> {
    crate::model::expand(value, run.env(), '\\')?.parse().ok()
}

/// Appends the options to the flag's value, or replaces its `uid=`/`gid=`.
fn fix(cx: &Ctx, mount: &Mount, addition: &str) -> Option<Vec<Edit>> {
    let text = cx.file.text.get(mount.span.clone())?;
    if text.ends_with('"') || text.ends_with('\'') {
        return None;
    }
    if mount.option("uid").is_none() && mount.option("gid").is_none() {
        return Some(vec![Edit::insert(mount.span.end, addition)]);
    }
    // Rewrite the value without its uid/gid fields, then add the right ones.
    let (name, value) = text.split_once('=')?;
    let kept: Vec<&str> = value
        .split(',')
        .filter(|field| !field.starts_with("uid=") && !field.starts_with("gid="))
        .collect();
    Some(vec![Edit::replace(
        mount.span.clone(),
        format!("{name}={}{addition}", kept.join(",")),
    )])
}
