//! A RUN that deletes what an earlier RUN of the stage left in its layer: the earlier layer
//! keeps the files, so the image does not shrink. What a RUN leaves (files it writes, tool
//! caches it fills) and what it deletes are the model's effects; this matches the two.

use crate::fix::{merge, Fix};
use crate::model::effects::{PathEffect, PathKind};
use crate::model::paths::{PathIndex, PathPattern, MAX_NEAR};
use crate::model::tools;
use crate::model::{self, merge::Join, path_is_within, Run};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};
use crate::source::Span;
use crate::syntax::dockerfile::Keyword;
use std::collections::{HashMap, HashSet};

pub struct CleanupInLaterLayer;

static META: Meta = Meta {
    name: "cleanup-in-later-layer",
    family: "layers",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    aliases: &[],
    doc: include_str!("cleanup_in_later_layer.md"),
};

impl Rule for CleanupInLaterLayer {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        let ships = cx.model.stages_reaching_final(&cx.settings.targets);
        let mut moves = MoveFixes::default();
        for stage in cx.model.stages.iter().filter(|s| ships[s.index]) {
            // What earlier layers of the stage hold, until a RUN deletes it.
            let mut held = Held::default();
            for run in cx.model.runs_of(stage.index) {
                // Per removing command, what it deletes, and whether all of it was weighed.
                let mut deleted: Vec<(Span, Vec<Leftover>, bool)> = Vec::new();
                let mut by_command: HashMap<Span, usize> = HashMap::new();
                for removal in run.effects.paths.iter().filter(|p| p.kind.removes()) {
                    let (hit, complete) = held.take_deleted_by(removal);
                    if hit.is_empty() && complete {
                        continue;
                    }
                    match by_command.get(&removal.span) {
                        Some(&at) => {
                            deleted[at].1.extend(hit);
                            deleted[at].2 &= complete;
                        }
                        None => {
                            by_command.insert(removal.span.clone(), deleted.len());
                            deleted.push((removal.span.clone(), hit, complete));
                        }
                    }
                }
                for (command, leftovers, complete) in deleted {
                    if !leftovers.is_empty() {
                        report(cx, run, command, &leftovers, complete, &mut moves);
                    }
                }
                for leftover in leftovers(run) {
                    held.add(leftover);
                }
            }
        }
    }
}

/// What the earlier layers of a stage hold, filed by path: a removal weighs what it may
/// reach, not all that was left before it.
#[derive(Default)]
struct Held {
    /// In the order they were left; `None` once deleted.
    leftovers: Vec<Option<Leftover>>,
    index: PathIndex,
}

impl Held {
    fn add(&mut self, leftover: Leftover) {
        self.index.insert(leftover.path());
        self.leftovers.push(Some(leftover));
    }

    /// What `removal` deletes, taken out in the order it was left, and whether all it may
    /// reach was weighed ([`PathIndex::take_reached`]).
    fn take_deleted_by(&mut self, removal: &PathEffect) -> (Vec<Leftover>, bool) {
        let leftovers = &mut self.leftovers;
        let (reached, complete) = self.index.take_reached(&removal.path, |id| {
            leftovers[id]
                .as_ref()
                .is_some_and(|l| l.deleted_by(removal))
        });
        let hit = reached
            .into_iter()
            .filter_map(|id| leftovers[id].take())
            .collect();
        (hit, complete)
    }
}

/// Something a RUN leaves in its layer.
struct Leftover {
    /// The RUN's instruction index.
    instruction: usize,
    /// The command that leaves it.
    span: Span,
    what: Left,
}

enum Left {
    /// A file written at this path, and by what.
    File(String, String),
    /// Files of unknown names written inside this directory, and by what.
    Inside(String, String),
    /// A tool's cache directory: (directory, "apt-get's package lists").
    Cache(String, String),
}

impl Leftover {
    fn deleted_by(&self, removal: &PathEffect) -> bool {
        let path = &removal.path;
        if matches!(path, PathPattern::Unknown) {
            return false;
        }
        match &self.what {
            Left::File(file, _) => path.may_remove(file),
            // Only a removal of the directory or of all it holds: what else sits under it
            // may come from elsewhere.
            Left::Inside(dir, _) => path.may_remove(dir) || empties(removal, dir),
            Left::Cache(dir, _) => path.may_remove(dir) || path.may_be_within(dir),
        }
    }

    fn path(&self) -> &str {
        match &self.what {
            Left::File(path, _) | Left::Inside(path, _) | Left::Cache(path, _) => path,
        }
    }

    fn describe(&self) -> String {
        match &self.what {
            Left::File(file, by) => format!("{by} writes {file}"),
            Left::Inside(dir, by) => format!("{by} writes files into {dir}"),
            Left::Cache(dir, what) => format!("leaves {what} in {dir}"),
        }
    }
}

/// Whether `removal` deletes everything inside `dir` (`rm -rf dir/*`, `find dir -delete`).
fn empties(removal: &PathEffect, dir: &str) -> bool {
    match (&removal.path, removal.kind) {
        (PathPattern::Exact(p), PathKind::RemoveInside) => p == dir,
        (PathPattern::Glob(g), _) => g.strip_suffix("/*").is_some_and(|d| d == dir),
        _ => false,
    }
}

/// What `run` leaves in its layer that it does not delete itself.
fn leftovers(run: &Run) -> Vec<Leftover> {
    // Past the mounts judged, any path may be under one: nothing is told left over.
    let mounted = |p: &str| {
        !run.mounts_judged()
            || run
                .mounts
                .iter()
                .any(|m| m.target.as_deref().is_some_and(|t| path_is_within(p, t)))
    };
    let special = |p: &str| {
        ["/dev", "/proc", "/sys"]
            .iter()
            .any(|d| path_is_within(p, d))
    };
    // What the RUN writes, then what it deletes after writing it.
    let mut written: Vec<(&PathEffect, &String, Left)> = Vec::new();
    for effect in &run.effects.paths {
        let PathPattern::Exact(path) = &effect.path else {
            continue;
        };
        let what = match effect.kind {
            PathKind::Write { .. } => Left::File(path.clone(), effect.by.clone()),
            PathKind::WriteInside { .. } => Left::Inside(path.clone(), effect.by.clone()),
            _ => continue,
        };
        if path == "/" || mounted(path) || special(path) {
            continue;
        }
        written.push((effect, path, what));
    }
    let targets: Vec<(&str, Option<usize>)> = written
        .iter()
        .map(|(effect, path, _)| (path.as_str(), Some(effect.span.start)))
        .collect();
    // Past the files followed, none is told left over.
    let deleted = (run.effects.removes_each(&targets)).unwrap_or_else(|| vec![true; targets.len()]);
    let mut out: Vec<Leftover> = written
        .into_iter()
        .zip(deleted)
        .filter(|(_, deleted)| !deleted)
        .map(|((effect, _, what), _)| Leftover {
            instruction: run.instruction,
            span: effect.span.clone(),
            what,
        })
        .collect();
    let Some(script) = &run.script else {
        return out;
    };
    for cache in run.kept_caches() {
        // Debian and Ubuntu images delete apt's downloads after each install: unless the
        // RUN is known to run without `docker-clean`, nothing is left to delete.
        let apt_archive =
            std::ptr::eq(cache.tool, &tools::APT) && cache.cache.key == "apt-archives";
        if apt_archive && run.docker_clean != Some(false) {
            continue;
        }
        let Some(dir) = cache.dir.clone() else {
            continue;
        };
        let step = &run.effects.steps[cache.step];
        out.push(Leftover {
            instruction: run.instruction,
            span: script.commands[step.command].span.clone(),
            what: Left::Cache(dir, format!("{}'s {}", step.name, cache.cache.what)),
        });
    }
    out
}

fn report(
    cx: &mut Ctx,
    run: &Run,
    command: Span,
    leftovers: &[Leftover],
    complete: bool,
    moves: &mut MoveFixes,
) {
    let text = cx.text(command.clone()).to_string();
    let fix = match complete {
        true => move_fix(cx, run, leftovers, moves),
        false => Err(format!(
            "it reaches more than {MAX_NEAR} files, more than docklint follows"
        )),
    };
    let (fix, why_not) = match fix {
        Ok(fix) => (Some(fix), None),
        Err(why) => (None, Some(why)),
    };
    let mut help = "delete them in the RUN that creates them, or keep them out of the layer (a cache mount, a bind mount of the build context)".to_string();
    match why_not {
        Some(why) => help.push_str(&format!("; no fix: {why}")),
        None => help.push_str("; the fix moves this cleanup to the end of that RUN, and is unsafe: the files are gone for whatever comes between"),
    }
    let diagnostic = cx
        .report(
            command,
            format!("`{text}` deletes what an earlier layer created: that layer keeps the files, so the image does not shrink"),
        )
        .help(help);
    let mut labelled: Vec<&Span> = Vec::new();
    for leftover in leftovers {
        if labelled.contains(&&leftover.span) || labelled.len() == 3 {
            continue;
        }
        labelled.push(&leftover.span);
        diagnostic.label(
            leftover.span.clone(),
            format!("left in this layer: {}", leftover.describe()),
        );
    }
    if let Some(fix) = fix {
        diagnostic.fix(fix);
    }
}

/// Instructions that may stand between the creating RUN and the cleanup when the cleanup
/// moves up: they touch no file and change nothing a cleanup command reads.
const INERT: &[Keyword] = &[
    Keyword::Label,
    Keyword::Expose,
    Keyword::Maintainer,
    Keyword::Stopsignal,
    Keyword::Healthcheck,
    Keyword::Cmd,
    Keyword::Entrypoint,
];

/// The fix moving `run` (only cleanup commands) to the end of the one RUN that created
/// everything it deletes; `Err` says why there is none.
fn move_fix(
    cx: &Ctx,
    run: &Run,
    leftovers: &[Leftover],
    moves: &mut MoveFixes,
) -> Result<Fix, String> {
    let creator = leftovers[0].instruction;
    if leftovers.iter().any(|l| l.instruction != creator) {
        return Err("several earlier RUNs created what it deletes".into());
    }
    if let Some(fix) = moves.judged.get(&(creator, run.instruction)) {
        return fix.clone();
    }
    let fix = move_into_creator(cx, run, creator, moves);
    moves.judged.insert((creator, run.instruction), fix.clone());
    fix
}

/// What the move fixes of a file have judged, kept so that a file of n cleanups does not
/// weigh n times what they share.
#[derive(Default)]
struct MoveFixes {
    /// By (creating RUN, cleanup RUN): each cleanup of a RUN moves the same way.
    judged: HashMap<(usize, usize), Result<Fix, String>>,
    /// By RUN: it does nothing but clean up.
    cleanup_only: HashMap<usize, bool>,
    /// By creating RUN: the first instruction after it that is not inert.
    next_active: HashMap<usize, Option<usize>>,
    /// The file's chaining style, found once (a scan of the file).
    house: std::cell::OnceCell<merge::Style>,
}

/// The fix moving `run` (only cleanup commands) to the end of RUN `creator`.
fn move_into_creator(
    cx: &Ctx,
    run: &Run,
    creator: usize,
    moves: &mut MoveFixes,
) -> Result<Fix, String> {
    let script = run.script.as_ref().ok_or("the RUN is not a shell script")?;
    let only_cleanup = *moves
        .cleanup_only
        .entry(run.instruction)
        .or_insert_with(|| {
            let removing: HashSet<&Span> = run
                .effects
                .paths
                .iter()
                .filter(|p| p.kind.removes())
                .map(|p| &p.span)
                .collect();
            script.commands.iter().all(|c| removing.contains(&c.span))
                && run.effects.opaque.is_empty()
                && run.effects.caches.is_empty()
        });
    if !only_cleanup {
        return Err("the RUN does more than clean up".into());
    }
    let df = cx.df;
    let (first, later) = (&df.instructions[creator], &df.instructions[run.instruction]);
    if !later.flags.is_empty() || !first.flags.is_empty() {
        return Err("a RUN has builder flags (mounts)".into());
    }
    let next_active = *moves.next_active.entry(creator).or_insert_with(|| {
        let after = df.instructions.get(creator + 1..).unwrap_or_default();
        let next = after.iter().position(|i| !INERT.contains(&i.keyword));
        next.map(|k| creator + 1 + k)
    });
    if let Some(between) = next_active
        .filter(|&k| k < run.instruction)
        .map(|k| &df.instructions[k])
    {
        return Err(format!(
            "the {} between the two RUNs may use or change what it deletes",
            between.keyword.name().to_ascii_uppercase()
        ));
    }
    let created = cx
        .model
        .run_at(creator)
        .ok_or("the creating RUN is not a shell RUN")?;
    let subshell = match model::merge::join(df, created, run) {
        Join::Impossible(why) => return Err(why),
        Join::Possible { doubts, .. } if !doubts.is_empty() => {
            return Err(format!("joined, {}", doubts[0].reason))
        }
        Join::Possible { subshell, .. } => !subshell.is_empty(),
    };
    let house = moves.house.get_or_init(|| merge::Style::house(cx.file, df));
    let edits = if creator + 1 == run.instruction {
        merge::join_adjacent(cx.file, df, first, later, subshell, None, house)
    } else {
        merge::move_into(cx.file, df, first, later, subshell, house)
    }
    .ok_or("the two RUNs cannot be joined as written")?;
    Ok(Fix::unsafe_(
        "Move the cleanup into the RUN that creates the files",
        edits,
    ))
}
