//! Cache mounts a fix may add, planned from what the RUN does: the directory the tool really
//! uses, or one the fix pins the tool to when the natural one is unusable; the ids of the
//! user; and whether the plan is proved (safe) or rests on something docklint cannot see.
//!
//! A cache mount is a real directory while the RUN runs, set up before its first command:
//! - removing it or a parent fails the build (EBUSY), emptying it makes it useless;
//! - `mkdir` of it or a missing parent fails (it exists), files written under it are lost;
//! - the builder creates missing parents as root, and buildah leaves them in the image: a
//!   mount inside a non-root user's home would leave a root-owned `~/.cache` there, so such
//!   users get a mount outside their home, the tool pinned to it;
//! - a mount under a home the same RUN creates is created first, as root, and breaks
//!   `useradd -m`.

use super::effects::{CacheUse, PathKind, Undo};
use super::paths::path_is_within;
use super::paths::PathPattern;
use super::tools::{Cache, Holds, Pin};
use super::users::Certainty;
use super::{Model, MountKind, Run};

/// A uid or gid for the mount: a number, or a build argument (`uid=${UID}`) so that
/// `--build-arg` keeps them in step with `useradd -u $UID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Id {
    Number(u32),
    Arg(String),
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Id::Number(n) => write!(f, "{n}"),
            Id::Arg(name) => write!(f, "${{{name}}}"),
        }
    }
}

/// A cache mount to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountPlan {
    pub target: String,
    /// How each command is pointed at `target`; `None` when `target` is where the tool
    /// caches anyway.
    pub pin: Option<Pin>,
    pub uid: Option<Id>,
    pub gid: Option<Id>,
    /// `mode=0777` when the user's uid is unknown: any uid can write.
    pub world_writable: bool,
    /// `sharing=locked`: the tool does not share its cache with concurrent builds.
    pub locked: bool,
    /// The RUN already has this cache mount (another command was pinned to it): only the
    /// pin is added.
    pub exists: bool,
    /// Why the cache is not mounted where the tool would put it (set when `pin` is).
    pub moved: Option<String>,
    /// Removals the mount makes pointless (they would empty the cache), taken out in the
    /// same fix.
    pub undo: Vec<Undo>,
    /// What keeps the plan from being proved; empty for a safe fix.
    pub doubts: Vec<String>,
    /// The mount's `id` names the target platform ([`Holds::per_platform`]): a cache of
    /// its own per platform.
    ///
    /// [`Holds::per_platform`]: super::tools::Holds::per_platform
    pub id: Option<String>,
    /// The stage does not declare the build argument the `id` expands: BuildKit expands
    /// `TARGETPLATFORM` only after `ARG TARGETPLATFORM` in the stage (else to nothing), so
    /// the fix declares it before the RUN.
    pub declares: Option<&'static str>,
}

/// The predefined argument a per-platform `id` names.
const PLATFORM_ARG: &str = "TARGETPLATFORM";

impl MountPlan {
    /// The `--mount=...` flag.
    pub fn flag(&self) -> String {
        let mut flag = format!("--mount=type=cache,target={}", self.target);
        if let Some(id) = &self.id {
            flag.push_str(&format!(",id={id}"));
        }
        if let Some(uid) = &self.uid {
            flag.push_str(&format!(",uid={uid}"));
        }
        if let Some(gid) = &self.gid {
            flag.push_str(&format!(",gid={gid}"));
        }
        if self.world_writable {
            flag.push_str(",mode=0777");
        }
        if self.locked {
            flag.push_str(",sharing=locked");
        }
        flag
    }

    pub fn is_safe(&self) -> bool {
        self.doubts.is_empty()
    }
}

/// What the fix can do for one tool's cache in a RUN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Mount(MountPlan),
    /// No fix: why.
    Advice(String),
}

/// Plans one mount for `uses` (the same cache of one tool, directory and user in one RUN).
///
/// What a mount holds is gone from the image: a later RUN that reads the same cache (`go
/// build` after `go mod download`, `dotnet publish --no-restore` after `dotnet restore`) must
/// see the same mount, or it downloads everything again, or fails offline.
pub fn plan(model: &Model, run: &Run, uses: &[&CacheUse]) -> Plan {
    match plan_in_run(run, uses) {
        Plan::Mount(mut plan) => {
            if let Some(first) = uses.first() {
                if let Some(doubt) = later_readers(model, run, first, &plan.target) {
                    plan.doubts.push(doubt);
                }
            }
            Plan::Mount(plan)
        }
        advice => advice,
    }
}

/// The RUNs after `run` in its stage and in the stages built on it, in file order: not a
/// pass over every later RUN of the file.
fn later_runs<'m>(model: &'m Model, run: &Run) -> impl Iterator<Item = &'m Run> {
    let after = run.instruction;
    model.stages_built_on(run.stage).flat_map(move |s| {
        let runs = model.runs_of(s);
        &runs[runs.partition_point(|r| r.instruction <= after)..]
    })
}

/// How many later RUNs reading one cache are followed (the check stays linear in the file).
const MAX_LATER_READERS: usize = 32;

/// Later RUNs of the stage (or of stages built on it) that read the cache a mount on
/// `target` would hold, and would not see that mount.
fn later_readers(model: &Model, run: &Run, first: &CacheUse, target: &str) -> Option<String> {
    if first.cache.holds == Holds::Output {
        if let Some(doubt) = later_output_readers(model, run, target) {
            return Some(doubt);
        }
    }
    let same_cache =
        |u: &CacheUse| u.tool.name == first.tool.name && u.cache.key == first.cache.key;
    // Found first, and only then judged: past the limit none is (judging one plans its own
    // mount, and a file of many such RUNs would plan each of them that many times).
    let readers: Vec<&Run> = later_runs(model, run)
        .filter(|r| {
            r.effects.caches.iter().any(same_cache) || r.effects.cache_reads.iter().any(same_cache)
        })
        .take(MAX_LATER_READERS + 1)
        .collect();
    if readers.len() > MAX_LATER_READERS {
        return Some(format!(
            "more than {MAX_LATER_READERS} later RUNs use the {} too: docklint does not follow them all",
            first.cache.what
        ));
    }
    for later in readers {
        let mounted_there = later
            .mounts
            .iter()
            .any(|m| m.kind == MountKind::Cache && m.target.as_deref() == Some(target));
        if mounted_there {
            continue;
        }
        let program = |u: &CacheUse| later.effects.steps[u.step].name.clone();
        if let Some(read) = later.effects.cache_reads.iter().find(|u| same_cache(u)) {
            return Some(format!(
                "a later RUN runs `{}` offline from the {} this mount would take out of the image",
                program(read),
                first.cache.what
            ));
        }
        // It gets the same mount from its own fix, when that is safe.
        let uses: Vec<&CacheUse> = later
            .effects
            .caches
            .iter()
            .filter(|u| same_cache(u))
            .collect();
        let same_mount = matches!(
            plan_in_run(later, &uses),
            Plan::Mount(p) if p.target == target && p.is_safe()
        );
        if let Some(use_) = uses.first().filter(|_| !same_mount) {
            return Some(format!(
                "a later RUN runs `{}` on the {} too, and would not find in the image what this mount keeps",
                program(use_),
                first.cache.what
            ));
        }
    }
    None
}

/// Later instructions that would miss the build output a mount on `target` takes out of
/// the image: a COPY `--from` this stage (or one built on it) of a path in or above it, a
/// later RUN of the stage that touches it. (A later RUN of the same build only compiles
/// again.)
fn later_output_readers(model: &Model, run: &Run, target: &str) -> Option<String> {
    let after = model
        .stage_copies
        .partition_point(|c| c.instruction <= run.instruction);
    for copy in model.stage_copies[after..].iter().take(MAX_LATER_PATHS) {
        let from_here = match copy.from {
            Some(stage) => model.descends_from(stage, run.stage),
            None => copy.from_unknown,
        };
        let read = copy.sources.iter().find(|source| {
            source
                .as_deref()
                .is_none_or(|s| path_is_within(s, target) || path_is_within(target, s))
        });
        if let Some(source) = read.filter(|_| from_here) {
            return Some(format!(
                "a later COPY --from reads {}, and the mount keeps the build output in {target} out of the image",
                source.as_deref().unwrap_or("a path docklint cannot tell")
            ));
        }
    }
    let mut paths = later_runs(model, run).flat_map(|r| &r.effects.paths);
    // The scan is bounded: each finding stays linear in the file.
    for p in paths.by_ref().take(MAX_LATER_PATHS) {
        if p.path.may_overlap(target) || p.path.may_be_within(target) {
            return Some(format!(
                "a later RUN's `{}` uses {}, which the mount keeps out of the image",
                p.by,
                p.path.display()
            ));
        }
    }
    paths.next().map(|_| {
        format!("later RUNs touch more than {MAX_LATER_PATHS} paths: docklint does not follow them all to {target}")
    })
}

/// How many paths of later RUNs are checked against a mount on a build's output.
const MAX_LATER_PATHS: usize = 1024;

/// [`plan`] within the RUN alone.
fn plan_in_run(run: &Run, uses: &[&CacheUse]) -> Plan {
    let Some(first) = uses.first() else {
        return Plan::Advice(String::new());
    };
    let tool = first.tool;
    let cache = first.cache;
    let effects = &run.effects;
    let user = &effects.steps[first.step].user;
    let pin = cache.pin().filter(|pin| {
        !run.exec_form
            && uses.iter().all(|u| {
                let step = &effects.steps[u.step];
                !u.explicit
                    && u.tool.reached_inline()
                    && match pin {
                        Pin::Env(_) => {
                            step.inline_env_reaches
                                && run
                                    .script
                                    .as_ref()
                                    .is_some_and(|script| assignable(script, step.command))
                        }
                        Pin::Option(_) => true,
                    }
            })
    });

    let mut doubts = Vec::new();
    let root = user.uid == Some(0);
    if cache.parent_written && !root {
        return Plan::Advice(format!(
            "a builder creates the missing parents of a mount as root, and {} writes its output beside its {} as `{}`, which could not write there",
            tool.name, cache.what, user.name
        ));
    }
    if let Some(configure) = uses.iter().find(|u| !u.tool.reached_inline()) {
        doubts.push(format!(
            "`{}` configures a build that runs {}; docklint does not follow that build to where it compiles (and its settings)",
            effects.steps[configure.step].name, tool.name
        ));
    }
    let (uid, gid, world_writable) = match (root, user.id_certainty) {
        (true, Certainty::Known) => (None, None, false),
        (true, _) => {
            doubts.push(
                "the RUN is assumed to run as root: docklint does not know this base image's user"
                    .to_string(),
            );
            (None, None, false)
        }
        (false, Certainty::Known) => {
            let (uid_arg, gid_arg) = user
                .id_args
                .clone()
                .filter(|(uid_arg, _)| run.scope.is_arg(uid_arg))
                .map_or((None, None), |(u, g)| {
                    (Some(u), g.filter(|g| run.scope.is_arg(g)))
                });
            let uid = uid_arg.map(Id::Arg).or(user.uid.map(Id::Number));
            // A user's own group has the uid's number: it follows the same argument.
            let gid = match (gid_arg, user.gid) {
                (Some(arg), _) => Some(Id::Arg(arg)),
                (None, Some(gid)) if Some(gid) == user.uid => uid.clone(),
                (None, Some(gid)) => Some(Id::Number(gid)),
                (None, None) => uid.clone(),
            };
            (uid, gid, false)
        }
        (false, _) => {
            doubts.push(format!(
                "the uid of `{}` is not in the file: the mount is made writable by every user instead",
                user.name
            ));
            (None, None, true)
        }
    };

    let home = user.home.as_deref().filter(|_| !root);
    let created_home = |target: &str| {
        run.effects
            .steps
            .iter()
            .map(|s| &s.user)
            .chain([user])
            .filter(|u| u.created_at == Some(run.instruction))
            .filter_map(|u| u.home.as_deref())
            .any(|h| path_is_within(target, h))
    };
    let natural = uses
        .iter()
        .all(|u| u.dir == first.dir && u.certainty == Certainty::Known)
        .then(|| first.dir.clone())
        .flatten();
    let mut candidates: Vec<(String, Option<Pin>)> = Vec::new();
    let moved = match &natural {
        Some(dir) if cache.pinned_only.is_some() => Some(format!(
            "{dir} cannot serve as the mount: {}",
            cache.pinned_only.unwrap_or_default()
        )),
        Some(dir) if home.is_some_and(|h| path_is_within(dir, h)) => Some(format!(
            "{dir} is in the home of `{}`, where a mount would leave a root-owned directory in the image",
            user.name
        )),
        Some(dir) if created_home(dir) => Some(format!("{dir} is under a home this RUN creates")),
        Some(dir) => {
            let found = conflicts(run, Some(cache), dir, false);
            candidates.push((dir.clone(), None));
            found
                .fatal
                .first()
                .or(found.doubts.first())
                .cloned()
                .or_else(|| found.undone.first().map(|r| format!("{} in this RUN", r.what)))
        }
        None => Some(format!(
            "{}'s cache directory depends on a HOME docklint cannot be sure of",
            tool.name
        )),
    };
    if let Some(pin) = pin {
        for dir in [
            format!("/var/cache/{}", cache.key),
            format!("/tmp/{}-cache", cache.key),
        ] {
            if !candidates.iter().any(|(c, _)| *c == dir) {
                candidates.push((dir, Some(pin)));
            }
        }
    }
    let advice = |why: Option<String>| {
        Plan::Advice(format!(
            "{}, and {} cannot be pointed elsewhere from this command{}",
            why.unwrap_or_else(|| format!("no directory for {}'s cache can be proved", tool.name)),
            tool.name,
            match cache.pin() {
                Some(Pin::Env(var)) => format!(": set `{var}` and mount that directory"),
                _ => String::new(),
            }
        ))
    };
    if candidates.is_empty() {
        return advice(moved);
    }
    let opaque: Vec<String> = effects
        .opaque
        .iter()
        .map(|o| {
            format!(
                "`{}` runs code docklint cannot see, which may remove or fill the mounted directory",
                o.name
            )
        })
        .take(1)
        .collect();
    let mut best: Option<MountPlan> = None;
    let mut fatal = None;
    for (target, pin) in candidates {
        let found = conflicts(run, Some(cache), &target, pin.is_some());
        if let Some(reason) = found.fatal.into_iter().next() {
            fatal.get_or_insert(reason);
            continue;
        }
        let mut plan_doubts = doubts.clone();
        if let Some((_, why)) = run.switched.iter().find(|(t, _)| *t == tool.name) {
            plan_doubts.push(why.clone());
        }
        if tool.unproved {
            plan_doubts.push(format!(
                "{}'s cache mount follows its documentation and source; no build here proves it",
                tool.name
            ));
        }
        plan_doubts.extend(found.doubts);
        plan_doubts.extend(opaque.iter().cloned());
        let exists = run
            .mounts
            .iter()
            .any(|m| m.kind == MountKind::Cache && m.target.as_deref() == Some(target.as_str()));
        let plan = MountPlan {
            id: cache
                .holds
                .per_platform()
                .then(|| format!("{}-${{{PLATFORM_ARG}}}", cache.key)),
            declares: (cache.holds.per_platform() && !run.scope.is_arg(PLATFORM_ARG))
                .then_some(PLATFORM_ARG),
            moved: pin.and(moved.clone()),
            target,
            pin,
            uid: uid.clone(),
            gid: gid.clone(),
            world_writable,
            locked: cache.locked,
            exists,
            undo: found.undo,
            doubts: plan_doubts,
        };
        // Fewest doubts; then the plan that leaves the user's commands as they are (a mount
        // elsewhere rather than taking a removal out).
        let score = |p: &MountPlan| (p.doubts.len(), p.undo.len());
        if best.as_ref().is_none_or(|b| score(&plan) < score(b)) {
            best = Some(plan);
        }
    }
    match best {
        Some(plan) => Plan::Mount(plan),
        None => advice(fatal),
    }
}

/// Whether `NAME=value ` can be written before the command: it starts a command in the RUN's
/// text, or in a quoted `sh -c`/`su -c` payload or a heredoc (an unquoted payload is one
/// word: a blank would split it).
fn assignable(script: &crate::syntax::shell::Script, command: usize) -> bool {
    let Some(c) = script.commands.get(command) else {
        return false;
    };
    if c.context.process != crate::syntax::shell::Process::Child {
        return true;
    }
    let Some(parent) = c.parent.and_then(|p| script.commands.get(p)) else {
        return false;
    };
    match parent
        .args
        .iter()
        .find(|w| w.span.start <= c.span.start && c.span.start < w.span.end)
    {
        Some(payload) => payload.raw.starts_with(['\'', '"']),
        None => true,
    }
}

/// What in the RUN would break a cache mount on `target` or make it useless: `fatal` ones
/// (the build would fail, or the cache be emptied: never a fix, not even an unsafe one),
/// removals of what the mount now holds, which the fix takes out (`undo`), and doubts (a
/// path docklint cannot resolve, a write that may land in the cache).
/// A removal in the RUN of what a cache mount holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// The command's span.
    pub span: crate::source::Span,
    /// For messages: `` `rm` removes /root/.cache/pip ``.
    pub what: String,
    /// It removes the mount point itself, which fails the build (the mount is busy).
    pub removes_mount_point: bool,
}

pub struct Conflicts {
    pub fatal: Vec<String>,
    pub undo: Vec<Undo>,
    /// What each `undo` takes out.
    pub undone: Vec<Removal>,
    pub doubts: Vec<String>,
}

/// What a RUN does against a cache mount it already has on `target`.
pub fn against_existing(run: &Run, target: &str) -> Conflicts {
    conflicts(run, None, target, false)
}

fn conflicts(run: &Run, cache: Option<&Cache>, target: &str, pinned: bool) -> Conflicts {
    let mut out = Conflicts {
        fatal: Vec::new(),
        undo: Vec::new(),
        undone: Vec::new(),
        doubts: Vec::new(),
    };
    let mut emptied = false;
    for effect in &run.effects.paths {
        let path = &effect.path;
        let resolved = !matches!(path, PathPattern::Unknown);
        let is_target = matches!(path, PathPattern::Exact(p) if p == target);
        // A pinned target is used by the pinned commands only: a purge by a command the fix
        // does not pin empties the tool's usual directory, not the mount.
        let unpinned_purge = pinned && effect.purge && !is_target;
        match effect.kind {
            PathKind::Remove | PathKind::RemoveInside if !resolved => out.doubts.push(format!(
                "`{}` removes a path docklint cannot resolve, which may be the mounted directory",
                effect.by
            )),
            PathKind::Remove | PathKind::RemoveInside
                if (is_target || (path.may_be_within(target) && !path.may_remove(target)))
                    && !unpinned_purge =>
            {
                // It removes the cache itself or what is in it: pointless once that is a mount.
                match &effect.undo {
                    Some(undo) => {
                        emptied = true;
                        if !out.undo.contains(undo) {
                            out.undo.push(undo.clone());
                            let removes_mount_point = is_target && effect.kind == PathKind::Remove;
                            let verb = if effect.kind == PathKind::Remove { "removes" } else { "empties" };
                            out.undone.push(Removal {
                                span: effect.span.clone(),
                                what: format!("`{}` {verb} {}", effect.by, path.display()),
                                removes_mount_point,
                            });
                        }
                    }
                    None => out.fatal.push(format!(
                        "`{}` empties the cache at {}, which would make the mount useless",
                        effect.by,
                        path.display()
                    )),
                }
            }
            PathKind::Remove | PathKind::RemoveInside if path.may_remove(target) => out.fatal.push(format!(
                "`{}` removes {}, a parent of the mounted directory, and the build would fail (device or resource busy)",
                effect.by,
                path.display()
            )),
            PathKind::CreateDirectory { must_not_exist: true } if resolved && path.may_remove(target) => {
                out.fatal.push(format!(
                    "`{}` creates {}, which the mount would already have created: `mkdir` would fail",
                    effect.by,
                    path.display()
                ))
            }
            PathKind::CreateDirectory { must_not_exist: true }
            | PathKind::Write { .. }
            | PathKind::WriteInside { .. }
                if path.may_overlap(target) =>
            {
                out.doubts.push(format!(
                    "`{}` writes {}, which with a mount on {target} could fail or land in the cache instead of the image",
                    effect.by,
                    path.display()
                ))
            }
            _ => {}
        }
    }
    if cache.is_some_and(|c| c.outlives_run) && !emptied {
        out.doubts.push(format!(
            "later RUNs read the {} from {target} (and so would images built on this one), and a mount would leave none there: the RUN does not remove them itself",
            cache.map_or("", |c| c.what)
        ));
    }
    for mount in &run.mounts {
        if mount.kind != MountKind::Cache {
            if let Some(t) = &mount.target {
                if path_is_within(target, t) || path_is_within(t, target) {
                    out.fatal.push(format!("another mount is on {t}"));
                }
            }
        }
    }
    out
}

/// A cache mount meant for a tool's cache that misses it.
#[derive(Debug)]
pub struct Misplaced<'r> {
    pub mount: &'r crate::model::Mount,
    /// The commands it was meant for (one cache of one tool and user).
    pub uses: Vec<&'r CacheUse>,
    /// Why it misses.
    pub why: String,
    /// It is on a parent of the cache that holds the tool's output: the output is missing
    /// from the image.
    pub hides_output: bool,
}

/// The RUN's cache mounts that cover none of its caches but were meant for one: the same
/// tail of path (`.cache/pip`, `pkg/mod`), or a target with `~`, an undefined `$HOME`, or a
/// relative path.
pub fn misplaced(run: &Run) -> Vec<Misplaced<'_>> {
    let mut out: Vec<Misplaced> = Vec::new();
    if !run.mounts_judged() {
        return out;
    }
    let covers_a_use = |target: &str| run.effects.caches.iter().any(|c| c.served_by(target));
    for mount in run.mounts.iter().filter(|m| m.kind == MountKind::Cache) {
        let (Some(target), Some(raw)) = (mount.target.as_deref(), mount.option("target")) else {
            continue;
        };
        if covers_a_use(target) {
            continue;
        }
        let unexpanded = raw.contains('~')
            || raw.contains("$HOME")
            || raw.contains("${HOME}")
            || !raw.starts_with(['/', '$']);
        for cache in &run.effects.caches {
            let Some(dir) = cache.dir.as_deref() else {
                continue;
            };
            // A directory that rests on a guessed HOME proves no mount wrong.
            let sure = cache.certainty == Certainty::Known || unexpanded;
            // On a parent the tool writes its output in: too wide, not beside the point.
            let wide = cache.cache.parent_written && path_is_within(dir, target) && dir != target;
            if !sure
                || run.cache_mount_for(cache).is_some()
                || !(target.ends_with(tail(cache.cache)) || wide)
            {
                continue;
            }
            if let Some(found) = out
                .iter_mut()
                .find(|m| m.mount.span == mount.span && m.uses[0].cache.key == cache.cache.key)
            {
                found.uses.push(cache);
                continue;
            }
            let home_in_scope = run.env().get("HOME").is_some();
            let why = if wide {
                format!(
                    "{} keeps its {} in {dir} and writes its output beside it: a mount on {target} takes that output out of the image",
                    cache.tool.name, cache.cache.what
                )
            } else if raw.contains('~') {
                format!("`~` is not expanded in a mount target: this mounts {target}")
            } else if (raw.contains("$HOME") || raw.contains("${HOME}")) && !home_in_scope {
                format!("BuildKit expands `$HOME` in a mount only from ARG or ENV, and neither sets it here: this mounts {target}")
            } else if !raw.starts_with('/') && !raw.starts_with('$') {
                format!("a relative target is joined to WORKDIR: this mounts {target}")
            } else {
                let user = &run.effects.steps[cache.step].user;
                format!(
                    "{} runs as `{}` and keeps its {} in {dir}, not in {target}",
                    cache.tool.name, user.name, cache.cache.what
                )
            };
            out.push(Misplaced {
                mount,
                uses: vec![cache],
                why,
                hides_output: wide,
            });
        }
    }
    out
}

/// The end of a cache's usual path, which a mount meant for it shares (`.cache/pip`).
fn tail(cache: &Cache) -> &'static str {
    use crate::model::tools::Dir;
    match &cache.dir {
        Dir::User { home, .. } => home,
        Dir::Under { sub, .. } => sub,
        Dir::Fixed(path)
        | Dir::Configured { path, .. }
        | Dir::Moved { path, .. }
        | Dir::Workdir { path, .. } => path,
    }
}
