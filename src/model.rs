//! The semantic model of a Dockerfile: what each instruction runs with, and what each RUN
//! does.
//!
//! Stages (names, `FROM <stage>` inheritance, which ones the final target reaches), the
//! variables in scope (ARG and ENV, expanded where their values are known), WORKDIR, SHELL
//! and the user a RUN executes as, with the HOME and uid that decide where package managers
//! put their caches; and, per RUN, its [`effects`]: the commands it runs with their
//! environment, the state it leaves, the paths it touches. What cannot be known from the
//! file is marked as a guess or unknown, so rules can downgrade a fix instead of making a
//! wrong one. Knowledge of commands lives in [`commands`] and [`tools`], nowhere else.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Arc;

use thin_vec::ThinVec;

use crate::source::Span;
use crate::syntax::dockerfile::{Args, Command, Dockerfile, Instruction, Keyword};
use crate::syntax::shell::{self, Script, Shape, ShapeCell};
use crate::text::SharedStr;

pub mod builds;
pub mod commands;
pub mod context_reads;
pub mod copies;
pub mod cost;
pub mod effects;
pub mod families;
pub mod heap;
pub mod images;
pub mod indexes;
pub mod manifests;
pub mod merge;
pub mod models;
pub mod mounts;
pub mod packages;
pub mod paths;
pub mod toolchains;
pub mod tools;
mod users;
mod vars;

pub use effects::Effects;
pub use paths::{path_is_within, resolve_path};
pub use users::{Certainty, User};
pub use vars::{expand, Scope, Value, ValueLog, Vars};

#[derive(Debug)]
pub struct Model {
    pub stages: Vec<Stage>,
    /// One entry per top-level RUN instruction, in file order.
    pub runs: Vec<Run>,
    /// ARGs declared before the first FROM (usable in FROM lines).
    pub global_args: Vars,
    /// What the build reads from its context, in file order.
    pub context_reads: Vec<context_reads::ContextRead>,
    /// Per instruction, the working directory it runs in (`/` before the first FROM), shared
    /// with the stage's state and its RUNs.
    pub workdirs: Vec<SharedStr>,
    /// Each USER instruction, with the account it selects.
    pub users: Vec<(usize, User)>,
    /// COPY and ADD of build-context files, in file order.
    pub copies: Vec<copies::ContextCopy>,
    /// COPY and ADD `--from` a stage or image, in file order.
    pub stage_copies: Vec<StageCopy>,
    /// Stage name (lowercase) → the stages with that name, in order: a reference resolves in
    /// O(log n), so a file of n stages is not quadratic.
    stage_names: HashMap<String, Vec<usize>>,
    /// CMD, ENTRYPOINT and HEALTHCHECK with a command, as (stage, instruction index), in
    /// file order: what an image runs is read from these, not from a pass over millions of
    /// RUNs.
    image_commands: Vec<(usize, usize)>,
}

/// A COPY or ADD `--from` another stage (or an image): what it reads there.
#[derive(Debug, Clone)]
pub struct StageCopy {
    pub instruction: usize,
    /// The stage it reads; `None` for an image, or a reference docklint cannot tell.
    pub from: Option<usize>,
    /// The reference could not be told: it may name any earlier stage.
    pub from_unknown: bool,
    /// Absolute paths it reads (sources are relative to the other stage's root); `None` for
    /// one docklint cannot expand.
    pub sources: Vec<Option<String>>,
}

#[derive(Debug, Clone)]
pub struct Stage {
    pub index: usize,
    pub name: Option<String>,
    /// Instruction index of the FROM.
    pub from: usize,
    /// Instruction indices of the stage, its FROM included.
    pub instructions: Range<usize>,
    /// The base image as written, and expanded when its variables are known.
    pub base: String,
    pub base_expanded: Option<String>,
    /// The stage this one starts from (`FROM builder`).
    pub parent: Option<usize>,
    /// The stages that start from this one, in file order.
    pub children: Vec<usize>,
    /// Its place in a walk of the stages that visits each stage's descendants right after
    /// it, and the place past its last descendant: a stage descends from this one when its
    /// place is in this range ([`Model::descends_from`] in constant time).
    tree: Range<usize>,
    /// The final stage needs it (it is the final stage, or one it copies or mounts from).
    pub reached: bool,
    /// The stages this one needs: the one it starts from, and those it copies or mounts from.
    pub needs: Vec<usize>,
    /// A `FROM`, `--from` or `from=` whose value docklint cannot tell: it may name any
    /// earlier stage.
    pub needs_unknown: bool,
    /// Windows stage: RUN bodies are not sh.
    pub windows: bool,
}

#[derive(Debug, Clone)]
pub struct Run {
    pub instruction: usize,
    pub stage: usize,
    /// Commands of the RUN; `None` when the body is not sh (Windows, a non-shell `#!` script).
    pub script: Option<Script>,
    /// `RUN ["…"]`: no shell runs the command line.
    pub exec_form: bool,
    pub mounts: ThinVec<Mount>,
    /// Shared with the stage and the RUNs before it while nothing changes it.
    pub user: Arc<User>,
    pub workdir: SharedStr,
    /// The stage's variables at this RUN (ARG or ENV: an ARG can change with `--build-arg`);
    /// shared with the stage and the RUNs before it while nothing changes them.
    pub scope: Arc<Scope>,
    /// The shell that runs the body; shared with the stage and the RUNs before it while
    /// nothing changes it.
    pub shell: Arc<RunShell>,
    /// What the body does, command by command (empty without a script).
    pub effects: Effects,
    /// Debian's `docker-clean` is in force when the RUN starts (`None`: unknown).
    pub docker_clean: Option<bool>,
    /// Tools that may run as another major version with other caches, and why: the stage
    /// (or this RUN) copied a file or ran a command that switches them (`.yarnrc.yml`,
    /// `corepack`).
    pub switched: ThinVec<(&'static str, String)>,
    /// The shape of the shell-form body ([`Run::shape`]).
    shape: ShapeCell,
}

/// The shell a RUN's body runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunShell {
    /// SHELL, or `/bin/sh -c`; shared by the RUNs it runs.
    pub argv: Arc<[String]>,
    pub kind: ShellKind,
    /// `-e` / `-o errexit` in SHELL: a failing command ends the shell.
    pub errexit: bool,
    /// An earlier RUN of the stage may have replaced the shell binary (`ln -sf bash /bin/sh`).
    pub replaced_at: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellKind {
    /// `sh` (dash, BusyBox ash) or bash: docklint reads the body.
    Posix,
    /// PowerShell, cmd, fish, csh, zsh …: another language.
    Other,
}

impl RunShell {
    fn default_linux() -> RunShell {
        RunShell {
            argv: Arc::new(["/bin/sh".into(), "-c".into()]),
            kind: ShellKind::Posix,
            errexit: false,
            replaced_at: None,
        }
    }

    fn of_argv(argv: Vec<String>) -> RunShell {
        let program = argv.first().map(String::as_str).unwrap_or("");
        let name = commands::basename(program).to_ascii_lowercase();
        let kind = if matches!(name.as_str(), "sh" | "bash" | "dash" | "ash") {
            ShellKind::Posix
        } else {
            ShellKind::Other
        };
        let mut errexit = false;
        let mut i = 1;
        while let Some(arg) = argv.get(i) {
            i += 1;
            match arg.strip_prefix('-') {
                Some("o") if argv.get(i).is_some_and(|o| o == "errexit") => errexit = true,
                Some(flags) if !flags.starts_with('-') => errexit |= flags.contains('e'),
                _ => {}
            }
            if arg.starts_with('-') && arg.ends_with('o') {
                i += 1;
            }
        }
        RunShell {
            argv: argv.into(),
            kind,
            errexit,
            replaced_at: None,
        }
    }

    pub fn program(&self) -> &str {
        self.argv.first().map_or("/bin/sh", String::as_str)
    }
}

/// The items of `stage` in a list in file order (so sorted by stage).
fn of_stage<T>(items: &[T], stage: usize, stage_of: impl Fn(&T) -> usize) -> &[T] {
    &items[items.partition_point(|i| stage_of(i) < stage)
        ..items.partition_point(|i| stage_of(i) <= stage)]
}

/// Past this many `--mount` flags on one RUN, no rule judges its mounts or what they cache:
/// each cache mount is weighed against every cache and path of the RUN, a product that one
/// 60 kB line of 1,000 mounts and 1,000 installs made last minutes. Real RUNs have a few.
pub const MAX_JUDGED_MOUNTS: usize = 64;

impl Run {
    /// The [`Shape`] of the body of this RUN of `df`; `None` for an exec-form RUN too. Found
    /// once: rules that join RUNs ask it of most RUNs twice.
    pub fn shape(&self, df: &Dockerfile) -> Option<Shape> {
        self.shape
            .get_or_find(|| match df.instructions[self.instruction].command()? {
                Command::Shell(body) => Shape::of(body.as_str()),
                _ => None,
            })
    }

    /// Whether rules judge this RUN's mounts and caches ([`MAX_JUDGED_MOUNTS`]).
    pub fn mounts_judged(&self) -> bool {
        self.mounts.len() <= MAX_JUDGED_MOUNTS
    }

    /// The environment the command sees: ENV, and ARGs (build args are environment
    /// variables of RUN commands).
    pub fn env(&self) -> &Vars {
        self.scope.visible()
    }

    pub fn commands(&self) -> &[shell::Command] {
        self.script.as_ref().map_or(&[], |s| &s.commands)
    }

    /// The caches whose downloads are still in the layer when the RUN ends, in order: not
    /// in a cache mount, not disabled, not deleted (by Debian's `docker-clean` or `apt` for
    /// apt's archive, or by the RUN itself). The RUN's removals are weighed against the
    /// cache directories filed by path, not each against each. None past the mounts judged
    /// ([`Run::mounts_judged`]), or when a removal reaches more directories than are followed.
    pub fn kept_caches(&self) -> Vec<&effects::CacheUse> {
        if !self.mounts_judged() {
            return Vec::new();
        }
        let candidates: Vec<(&effects::CacheUse, &str)> = self
            .effects
            .caches
            .iter()
            .filter_map(|cache| Some((cache, cache.dir.as_deref()?)))
            .filter(|(cache, _)| !self.cache_held_elsewhere(cache))
            .collect();
        let targets: Vec<(&str, Option<usize>)> =
            candidates.iter().map(|(_, dir)| (*dir, None)).collect();
        let Some(removed) = self.effects.removes_each(&targets) else {
            return Vec::new();
        };
        candidates
            .into_iter()
            .zip(removed)
            .filter(|(_, removed)| !removed)
            .map(|((cache, _), _)| cache)
            .collect()
    }

    /// A cache kept out of the layer otherwise than by the RUN's removals: a cache mount,
    /// an option or variable that disables it, or what deletes apt's archive.
    fn cache_held_elsewhere(&self, cache: &effects::CacheUse) -> bool {
        if self.cache_mount_for(cache).is_some()
            || !cache.disablers.is_empty()
            || cache.disabled_by_env.is_some()
        {
            return true;
        }
        let is_apt_archive =
            std::ptr::eq(cache.tool, &tools::APT) && cache.cache.key == "apt-archives";
        is_apt_archive
            && (self.docker_clean == Some(true) || self.effects.steps[cache.step].name == "apt")
    }

    /// The cache mount that holds what a command keeps in its tool's cache
    /// ([`effects::CacheUse::served_by`]).
    pub fn cache_mount_for(&self, cache: &effects::CacheUse) -> Option<&Mount> {
        self.mounts
            .iter()
            .filter(|m| m.kind == MountKind::Cache)
            .find(|m| m.target.as_deref().is_some_and(|t| cache.served_by(t)))
    }

    /// Cache mounts whose target is `dir` or a parent of it.
    pub fn cache_mount_covering(&self, dir: &str) -> Option<&Mount> {
        self.mounts
            .iter()
            .filter(|m| m.kind == MountKind::Cache)
            .find(|m| m.target.as_deref().is_some_and(|t| path_is_within(dir, t)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountKind {
    Bind,
    Cache,
    Tmpfs,
    Secret,
    Ssh,
    Other,
}

#[derive(Debug, Clone)]
pub struct Mount {
    pub kind: MountKind,
    /// Absolute target (relative targets joined to WORKDIR, variables expanded); `None` if
    /// it could not be resolved.
    pub target: Option<String>,
    /// The `--mount=...` flag in the file.
    pub span: Span,
    /// Every option as written (`dst`/`destination` read as `target`, `src` as `source`).
    pub options: BTreeMap<String, String>,
}

impl Mount {
    /// An option as written: `id`, `sharing`, `from`, `uid`, `gid`, `target`, ...
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options.get(key).map(String::as_str)
    }
}

impl Model {
    pub fn build(df: &Dockerfile) -> Model {
        let (builder, froms) = Builder::new(df);
        builder.build(&froms)
    }

    /// Whether stage `stage` is `ancestor` or built on it (`FROM ancestor`, transitively).
    /// Asked for each RUN of a chain of stages each built on the one before, a walk up the
    /// chain would cost the square of its length.
    pub fn descends_from(&self, stage: usize, ancestor: usize) -> bool {
        match (self.stages.get(stage), self.stages.get(ancestor)) {
            (Some(stage), Some(ancestor)) => ancestor.tree.contains(&stage.tree.start),
            _ => stage == ancestor,
        }
    }

    /// The stages built as final images: the last one, and those named in `targets` (the
    /// stages built with `--target`).
    pub fn final_stages(&self, targets: &[String]) -> Vec<usize> {
        // Each name once: a name given n times, of n stages, would list n² stages.
        let mut names: Vec<String> = targets.iter().map(|t| t.to_ascii_lowercase()).collect();
        names.sort_unstable();
        names.dedup();
        let mut finals: Vec<usize> = names
            .iter()
            .filter_map(|name| self.stage_names.get(name))
            .flatten()
            .copied()
            .collect();
        finals.sort_unstable();
        finals.dedup();
        if let Some(last) = self.stages.len().checked_sub(1) {
            if !finals.contains(&last) {
                finals.push(last);
            }
        }
        finals
    }

    /// Per stage, whether its layers are in a final image: it is a final stage (see
    /// [`Model::final_stages`]) or one a final stage is built on (`FROM <stage>`,
    /// transitively). Stages used only through `COPY --from` or `RUN --mount=from=` are not:
    /// what their RUNs leave behind never ships.
    pub fn stages_reaching_final(&self, targets: &[String]) -> Vec<bool> {
        let mut reaching = vec![false; self.stages.len()];
        for stage in self.final_stages(targets) {
            let mut at = Some(stage);
            while let Some(s) = at.filter(|&s| !reaching[s]) {
                reaching[s] = true;
                at = self.stages[s].parent.filter(|&p| p < s);
            }
        }
        reaching
    }

    /// Per stage, whether building the final stages needs it (`FROM`, `COPY --from`, `RUN
    /// --mount=from=`, transitively). A reference docklint cannot resolve may name any
    /// earlier stage, so every one of them counts as needed.
    pub fn stages_needed(&self, targets: &[String]) -> Vec<bool> {
        let mut needed = vec![false; self.stages.len()];
        let mut todo = self.final_stages(targets);
        while let Some(s) = todo.pop() {
            if std::mem::replace(&mut needed[s], true) {
                continue;
            }
            todo.extend(&self.stages[s].needs);
            if self.stages[s].needs_unknown {
                todo.extend(0..s);
            }
        }
        needed
    }

    /// The stage and the stages built on it (`FROM <stage>`, transitively), in file order,
    /// found as they are asked for: a search that stops early visits only the first ones.
    pub fn stages_built_on(&self, stage: usize) -> impl Iterator<Item = usize> + '_ {
        use std::cmp::Reverse;
        let mut next = std::collections::BinaryHeap::from([Reverse(stage)]);
        std::iter::from_fn(move || {
            let Reverse(s) = next.pop()?;
            // A child comes after its parent: the smallest waiting is the next in file order.
            let children = self.stages.get(s).map_or(&[][..], |st| &st.children);
            next.extend(children.iter().map(|&c| Reverse(c)));
            Some(s)
        })
    }

    /// The stage and the stages it is built on (`FROM <stage>`), the first-built first.
    pub fn stage_chain(&self, stage: usize) -> Vec<usize> {
        let mut chain = Vec::new();
        let mut at = Some(stage);
        while let Some(s) = at {
            chain.push(s);
            at = self.stages[s].parent.filter(|&p| p < s);
        }
        chain.reverse();
        chain
    }

    /// The RUNs whose layers make up the image of `stage`: its own and those of the stages
    /// it is built on, in build order.
    pub fn runs_in_image(&self, stage: usize) -> Vec<&Run> {
        let chain = self.stage_chain(stage);
        chain.iter().flat_map(|&s| self.runs_of(s)).collect()
    }

    /// The RUNs of `stage`. They are in file order, so a stage's sit together: found by
    /// binary search, not by a pass over every RUN of the file for each stage.
    pub fn runs_of(&self, stage: usize) -> &[Run] {
        of_stage(&self.runs, stage, |r| r.stage)
    }

    /// The COPY and ADD of build-context files in `stage`, found as [`Self::runs_of`].
    pub fn copies_of(&self, stage: usize) -> &[copies::ContextCopy] {
        of_stage(&self.copies, stage, |c| c.stage)
    }

    /// The CMD, ENTRYPOINT and HEALTHCHECK (with a command) of `stage`, in order.
    fn image_commands_of<'d>(
        &self,
        df: &'d Dockerfile,
        stage: usize,
    ) -> impl Iterator<Item = &'d Instruction> + use<'d, '_> {
        of_stage(&self.image_commands, stage, |&(s, _)| s)
            .iter()
            .map(move |&(_, n)| &df.instructions[n])
    }

    /// The RUNs whose mounts and caches rules judge ([`Run::mounts_judged`]).
    pub fn runs_judging_mounts(&self) -> impl Iterator<Item = &Run> {
        self.runs.iter().filter(|run| run.mounts_judged())
    }

    /// The working directory instruction `instruction` runs in.
    pub fn workdir_at(&self, instruction: usize) -> &str {
        self.workdirs.get(instruction).map_or("/", |w| w)
    }

    pub fn run_at(&self, instruction: usize) -> Option<&Run> {
        let at = self.runs.partition_point(|r| r.instruction < instruction);
        self.runs.get(at).filter(|r| r.instruction == instruction)
    }

    /// The stage a `--from` / `FROM` reference names: a stage name or index before `before`.
    pub fn stage_named(&self, reference: &str, before: usize) -> Option<usize> {
        let before = before.min(self.stages.len());
        let named = self.stage_names.get(&reference.to_ascii_lowercase());
        let latest = named.and_then(|indices| {
            let earlier = indices.partition_point(|&i| i < before);
            earlier.checked_sub(1).map(|at| indices[at])
        });
        latest.or_else(|| reference.parse::<usize>().ok().filter(|&i| i < before))
    }
}

/// Per-stage state carried from instruction to instruction.
#[derive(Debug, Clone)]
struct StageState {
    scope: Arc<Scope>,
    workdir: SharedStr,
    user: Arc<User>,
    windows: bool,
    shell: Arc<RunShell>,
    /// Users created by RUN commands in this stage or its ancestors.
    users: users::Accounts,
    /// Debian's `docker-clean` deletes what apt downloads: `Some(true)` in images known to
    /// carry it, `Some(false)` once a RUN removed it or in images known not to have apt.
    docker_clean: Option<bool>,
    /// See [`Run::switched`].
    switched: ThinVec<(&'static str, String)>,
    /// The environment the last RUN's shell started with, and the variables and user it was
    /// made from: the next RUN shares it while they are the same (most RUNs of a stage).
    shell_env: Option<(Vars, Arc<User>, Arc<effects::Env>)>,
}

impl StageState {
    /// The environment a RUN's shell starts with ([`effects::Env::starting`]).
    fn shell_env(&mut self, vars: &Vars, user: &Arc<User>) -> Arc<effects::Env> {
        match &self.shell_env {
            Some((v, u, env)) if v.same_as(vars) && Arc::ptr_eq(u, user) => env.clone(),
            _ => {
                let env = Arc::new(effects::Env::starting(vars, user));
                self.shell_env = Some((vars.clone(), Arc::clone(user), env.clone()));
                env
            }
        }
    }
}

struct Builder<'a> {
    df: &'a Dockerfile,
    model: Model,
    states: Vec<StageState>,
    /// RUN bodies parsed ahead of the walk ([`ParsedAhead`]).
    parsed: ParsedAhead,
    /// RUN instructions in the file.
    runs: usize,
    /// The values the file's ENV and ARG set, shared by its stages' scopes.
    values: Arc<ValueLog>,
}

/// The shell bodies of a file with many RUNs, parsed a window of instructions ahead of the
/// walk on the other cores while the walk goes through the window before: a parse reads its
/// body and the command table, nothing the walk builds up. The walk takes each script when
/// it reaches its RUN (a stage whose shell is not sh drops it). Only two windows of scripts
/// are held at a time.
#[derive(Default)]
struct ParsedAhead {
    /// Instruction index of the first script.
    from: usize,
    /// By instruction index from `from`; empty for a file parsed in the walk.
    scripts: Vec<Option<Script>>,
}

impl ParsedAhead {
    /// Below this many RUNs a file is parsed in the walk: the language server re-lints small
    /// files on every keystroke, and handing them to other threads costs more than it saves.
    const MIN_RUNS: usize = 2048;
    /// Instructions in a window.
    const WINDOW: usize = 16 * 1024;

    /// The scripts of the RUNs among `instructions`, parsed on every core.
    fn parse(df: &Dockerfile, instructions: Range<usize>) -> ParsedAhead {
        use rayon::prelude::*;
        let scripts = df.instructions[instructions.clone()]
            .par_iter()
            .with_min_len(256)
            .map(|instruction| match &instruction.args {
                Args::Run(command) => parse_command(instruction.command_of(command)),
                _ => None,
            })
            .collect();
        ParsedAhead {
            from: instructions.start,
            scripts,
        }
    }

    /// The script of the RUN at instruction `n`, if it was parsed ahead.
    fn take(&mut self, n: usize) -> Option<Script> {
        self.scripts.get_mut(n.checked_sub(self.from)?)?.take()
    }
}

/// The script of a RUN's command as sh reads it (`None` for a `#!` script).
fn parse_command(command: Command) -> Option<Script> {
    match command {
        Command::Shell(body) => Some(shell::parse_with(body, &commands::Launchers)),
        Command::Exec(argv) => Some(shell::parse_exec(argv, &commands::Launchers)),
        Command::Script { .. } => None,
    }
}

impl<'a> Builder<'a> {
    /// The builder of `df`'s model, and where its stages start (its FROM instructions).
    fn new(df: &'a Dockerfile) -> (Self, Vec<usize>) {
        // Sized up front: a `Run` is large, and growing a vector of 100,000 of them by
        // doubling copied and zeroed more memory than building them. So are the lists of
        // what COPYs read and copy: an entry a COPY at most (a RUN's bind mount adds a read).
        // One pass over millions of instructions, before the walk can start.
        let (mut runs, mut copies, mut froms) = (0, 0, Vec::new());
        for (n, instruction) in df.instructions.iter().enumerate() {
            match instruction.keyword {
                Keyword::Run => runs += 1,
                Keyword::Copy | Keyword::Add => copies += 1,
                Keyword::From => froms.push(n),
                _ => {}
            }
        }
        let builder = Builder {
            df,
            model: Model {
                stages: Vec::new(),
                runs: Vec::with_capacity(runs),
                stage_names: HashMap::new(),
                global_args: Vars::default(),
                context_reads: Vec::with_capacity(copies),
                workdirs: Vec::with_capacity(df.instructions.len()),
                users: Vec::new(),
                copies: Vec::with_capacity(copies),
                stage_copies: Vec::new(),
                image_commands: Vec::new(),
            },
            states: Vec::new(),
            parsed: ParsedAhead::default(),
            runs,
            values: Arc::default(),
        };
        (builder, froms)
    }

    fn build(mut self, froms: &[usize]) -> Model {
        let (df, count) = (self.df, self.df.instructions.len());
        if self.runs < ParsedAhead::MIN_RUNS {
            self.walk(0..count, froms);
        } else {
            let window = |from: usize| from..(from + ParsedAhead::WINDOW).min(count);
            let mut next = ParsedAhead::parse(df, window(0));
            for from in (0..count).step_by(ParsedAhead::WINDOW) {
                self.parsed = next;
                let walked = window(from);
                let ahead = window(walked.end);
                next = rayon::join(
                    || self.walk(walked, froms),
                    || ParsedAhead::parse(df, ahead),
                )
                .1;
            }
            self.parsed = ParsedAhead::default();
        }
        self.place_stages();
        self.stage_copies();
        self.mark_reached();
        self.model
    }

    /// Numbers the stages in a walk that visits each one's descendants right after it
    /// ([`Stage::tree`]): parents come before their children in the file, so each stage's
    /// number of descendants is summed from the last stage up, and each child takes the
    /// next free places after its parent's.
    fn place_stages(&mut self) {
        let stages = &mut self.model.stages;
        let parent = |stages: &[Stage], s: usize| stages[s].parent.filter(|&p| p < s);
        let mut sizes = vec![1; stages.len()];
        for s in (0..stages.len()).rev() {
            if let Some(p) = parent(stages, s) {
                sizes[p] += sizes[s];
            }
        }
        // The next free place inside each stage's range, and after the last tree.
        let mut next = vec![0; stages.len()];
        let mut next_tree = 0;
        for s in 0..stages.len() {
            let start = match parent(stages, s) {
                Some(p) => &mut next[p],
                None => &mut next_tree,
            };
            let place = *start;
            *start += sizes[s];
            stages[s].tree = place..place + sizes[s];
            next[s] = place + 1;
        }
    }

    /// Goes through `instructions` (`froms`: where the stages start).
    fn walk(&mut self, instructions: Range<usize>, froms: &[usize]) {
        for n in instructions {
            let instruction = &self.df.instructions[n];
            if froms.first().is_none_or(|&first| n < first) {
                if let Args::Arg(args) = &instruction.args {
                    self.model.global_args.declare_global_args(args);
                }
                self.model.workdirs.push("/".into());
                continue;
            }
            if instruction.keyword == Keyword::From {
                let next = froms.partition_point(|&f| f <= n);
                let end = froms
                    .get(next)
                    .copied()
                    .unwrap_or(self.df.instructions.len());
                self.start_stage(n, end);
            } else {
                self.instruction(n, instruction);
            }
            let stage = self.states.len() - 1;
            self.model.workdirs.push(self.states[stage].workdir.clone());
        }
    }

    fn start_stage(&mut self, from: usize, end: usize) {
        let instruction = &self.df.instructions[from];
        let (image, name) = match &instruction.args {
            Args::From(from) => (
                from.image.value.clone(),
                from.name.as_ref().map(|n| n.value.clone()),
            ),
            _ => (
                instruction
                    .args_text
                    .as_str()
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_string(),
                None,
            ),
        };
        let index = self.model.stages.len();
        let base_expanded = expand(&image, &self.model.global_args, '\\');
        let parent = self
            .model
            .stage_named(base_expanded.as_deref().unwrap_or(&image), index);
        // `FROM ${BASE}` with a value the file cannot tell may name an earlier stage.
        let base_unknown = base_expanded.is_none() && index > 0;
        let base_ref = base_expanded.clone().unwrap_or_else(|| image.clone());
        let state = match parent {
            Some(p) => {
                let parent = &self.states[p];
                StageState {
                    scope: Arc::new(Scope::inheriting(&parent.scope)),
                    ..parent.clone()
                }
            }
            None => {
                let windows = is_windows_image(&base_ref);
                StageState {
                    scope: Arc::new(Scope::from_image(
                        images::image_env(&base_ref),
                        &self.values,
                    )),
                    workdir: "/".into(),
                    user: Arc::new(User::image_default(&base_ref)),
                    windows,
                    shell: Arc::new(if windows {
                        RunShell {
                            argv: Arc::new(["cmd".into(), "/S".into(), "/C".into()]),
                            kind: ShellKind::Other,
                            errexit: false,
                            replaced_at: None,
                        }
                    } else {
                        RunShell::default_linux()
                    }),
                    users: users::Accounts::of_image(&base_ref),
                    docker_clean: images::has_docker_clean(&base_ref),
                    switched: ThinVec::new(),
                    shell_env: None,
                }
            }
        };
        let windows = state.windows;
        self.states.push(state);
        if let Some(p) = parent.filter(|&p| p < index) {
            self.model.stages[p].children.push(index);
        }
        if let Some(name) = &name {
            let indices = self.model.stage_names.entry(name.to_ascii_lowercase());
            indices.or_default().push(index);
        }
        self.model.stages.push(Stage {
            index,
            name,
            from,
            instructions: from..end,
            base: image,
            base_expanded,
            parent,
            children: Vec::new(),
            tree: 0..0,
            reached: false,
            needs: Vec::new(),
            needs_unknown: base_unknown,
            windows,
        });
    }

    fn instruction(&mut self, n: usize, instruction: &Instruction) {
        let stage = self.model.stages.len() - 1;
        let escape = self.df.escape;
        let state = &mut self.states[stage];
        match &instruction.args {
            Args::Arg(args) => {
                Arc::make_mut(&mut state.scope).declare_args(args, &self.model.global_args, escape)
            }
            Args::Env(pairs) => Arc::make_mut(&mut state.scope).set_env(pairs, escape),
            Args::Workdir(dir) => {
                let dir = expand(&dir.value, state.scope.visible(), escape)
                    .unwrap_or_else(|| dir.value.clone());
                // Past PATH_MAX the build fails; the model keeps the last directory it could.
                if let Some(resolved) = paths::resolve_dir(&state.workdir, &dir) {
                    state.workdir = resolved.into();
                }
            }
            Args::User(user) => {
                let spec = expand(&user.value, state.scope.visible(), escape)
                    .unwrap_or_else(|| user.value.clone());
                state.user = Arc::new(state.users.resolve(&spec));
                self.model.users.push((n, User::clone(&state.user)));
            }
            Args::Shell(argv) => {
                let program = argv
                    .first()
                    .map(|a| a.value.to_ascii_lowercase())
                    .unwrap_or_default();
                state.windows = ["cmd", "powershell", "pwsh"]
                    .iter()
                    .any(|w| program.trim_end_matches(".exe").ends_with(w));
                state.shell = Arc::new(RunShell::of_argv(
                    argv.iter().map(|a| a.value.clone()).collect(),
                ));
            }
            Args::Run(command) => self.run(n, stage, instruction, instruction.command_of(command)),
            Args::Copy(args) | Args::Add(args) if instruction.flag("from").is_none() => {
                for source in &args.sources {
                    if let Some((tool, reason)) = tools::switched_by_source(&source.value) {
                        push_switch(&mut state.switched, tool, reason);
                    }
                }
                let read = context_reads::of_copy(
                    n,
                    stage,
                    instruction,
                    args,
                    state.scope.visible(),
                    (escape, state.windows),
                );
                // Where the sources land: the read's sources (expanded once, there) with
                // the destination.
                let dest = args.dest.as_ref().map(|d| {
                    expand(&d.value, state.scope.visible(), escape)
                        .unwrap_or_else(|| d.value.clone())
                });
                if let (Some(read), Some(dest)) = (&read, dest) {
                    let sources: Vec<&str> = read
                        .sources
                        .iter()
                        .filter_map(|s| s.path.as_deref())
                        .collect();
                    let add = instruction.keyword == Keyword::Add;
                    let copy =
                        copies::ContextCopy::new(n, stage, add, &sources, &dest, &state.workdir);
                    self.model.copies.extend(copy);
                }
                self.model.context_reads.extend(read);
            }
            Args::Cmd(_) | Args::Entrypoint(_) | Args::Healthcheck(Some(_)) => {
                self.model.image_commands.push((stage, n));
            }
            _ => {}
        }
    }

    fn run(&mut self, n: usize, stage: usize, instruction: &Instruction, command: Command) {
        let state = &self.states[stage];
        let scope = Arc::clone(&state.scope);
        let env = scope.visible();
        let posix = state.shell.kind == ShellKind::Posix && !state.windows;
        let ahead = self.parsed.take(n);
        let script = match posix {
            true => ahead.or_else(|| parse_command(command)),
            false => None,
        };
        let mounts: ThinVec<Mount> = instruction
            .flags_named("mount")
            .filter_map(|flag| {
                Some(parse_mount(
                    flag.value.as_deref()?,
                    flag.span.clone(),
                    &state.workdir,
                    env,
                    self.df.escape,
                ))
            })
            .collect();
        let user = state.user.with_env(env);
        let shell = state.shell.clone();
        let workdir = state.workdir.clone();
        let state = &mut self.states[stage];
        let effects = match &script {
            Some(script) => effects::build(
                script,
                &effects::Start {
                    instruction: n,
                    env,
                    user: &user,
                    workdir: &workdir,
                    shell_program: shell.program(),
                    shell_env: state.shell_env(env, &user),
                },
                &mut state.users,
            ),
            None => Effects::default(),
        };
        if !effects.rewrites_shell.is_empty() {
            Arc::make_mut(&mut state.shell).replaced_at = Some(n);
        }
        if let Some(script) = &script {
            for step in effects.steps.iter().filter(|s| tools::may_switch(&s.name)) {
                let args: Vec<&str> = step.args(script).iter().map(|w| w.value.as_str()).collect();
                if let Some((tool, reason)) = tools::switched_by_command(&step.name, &args) {
                    push_switch(&mut state.switched, tool, || reason);
                }
            }
        }
        let docker_clean = state.docker_clean;
        let read = context_reads::of_mounts(n, stage, &mounts, env, self.df.escape);
        self.model.context_reads.extend(read);
        if effects
            .paths
            .iter()
            .any(|p| p.kind == effects::PathKind::Remove && p.path.may_remove(images::DOCKER_CLEAN))
        {
            state.docker_clean = Some(false);
        }
        self.model.runs.push(Run {
            instruction: n,
            stage,
            script,
            exec_form: matches!(command, Command::Exec(_)),
            mounts,
            user,
            workdir,
            scope,
            shell,
            effects,
            docker_clean,
            switched: state.switched.clone(),
            shape: ShapeCell::default(),
        });
    }

    /// What each COPY and ADD `--from` reads, with the variables of its stage.
    fn stage_copies(&mut self) {
        for stage in 0..self.model.stages.len() {
            let scope = self.states[stage].scope.visible();
            let instructions = self.model.stages[stage].instructions.clone();
            for n in instructions {
                let instruction = &self.df.instructions[n];
                let (Args::Copy(args) | Args::Add(args)) = &instruction.args else {
                    continue;
                };
                let Some(reference) = instruction.flag("from").and_then(|f| f.value.as_deref())
                else {
                    continue;
                };
                let reference = expand(reference, scope, self.df.escape);
                let from = reference
                    .as_deref()
                    .and_then(|r| self.model.stage_named(r, stage));
                let sources = args
                    .sources
                    .iter()
                    .map(|source| {
                        expand(&source.value, scope, self.df.escape)
                            .map(|path| paths::resolve_path("/", &path))
                    })
                    .collect();
                self.model.stage_copies.push(StageCopy {
                    instruction: n,
                    from,
                    from_unknown: reference.is_none(),
                    sources,
                });
            }
        }
    }

    /// The final stage and, transitively, every stage it starts from, copies or mounts from.
    fn mark_reached(&mut self) {
        for s in 0..self.model.stages.len() {
            let (needs, unknown) = self.dependencies(s);
            let stage = &mut self.model.stages[s];
            stage.needs = needs;
            stage.needs_unknown |= unknown;
        }
        let Some(last) = self.model.stages.len().checked_sub(1) else {
            return;
        };
        let mut todo = vec![last];
        while let Some(s) = todo.pop() {
            if std::mem::replace(&mut self.model.stages[s].reached, true) {
                continue;
            }
            todo.extend(self.model.stages[s].needs.iter().copied());
        }
    }

    /// The stages `stage` starts from, copies from or mounts from; and whether one of its
    /// references has a value docklint cannot tell. COPY/ADD `--from` as [`Self::stage_copies`]
    /// read them; RUN `--mount=from=` with the RUN's own environment.
    fn dependencies(&self, stage: usize) -> (Vec<usize>, bool) {
        let s = &self.model.stages[stage];
        let copies = &self.model.stage_copies;
        let copies = &copies[copies.partition_point(|c| c.instruction < s.instructions.start)
            ..copies.partition_point(|c| c.instruction < s.instructions.end)];
        let runs = self.model.runs_of(stage);
        let mounts: Vec<Option<String>> = runs
            .iter()
            .flat_map(|run| {
                run.mounts
                    .iter()
                    .filter_map(|m| m.option("from"))
                    .map(|reference| expand(reference, run.env(), '\\'))
            })
            .collect();
        let unknown = copies.iter().any(|c| c.from_unknown) || mounts.iter().any(Option::is_none);
        let needs = s
            .parent
            .into_iter()
            .chain(copies.iter().filter_map(|c| c.from))
            .chain(
                mounts
                    .iter()
                    .flatten()
                    .filter_map(|r| self.model.stage_named(r, stage)),
            )
            .collect();
        (needs, unknown)
    }
}

/// The words of the commands an image runs: CMD, ENTRYPOINT and HEALTHCHECK of `stage` and
/// the stages it is built on, each word reduced to its file name (`/usr/bin/make` →
/// `make`), shell operators dropped.
pub fn image_programs(df: &Dockerfile, model: &Model, stage: usize) -> Vec<String> {
    let mut out = Vec::new();
    for s in model.stage_chain(stage) {
        for instruction in model.image_commands_of(df, s) {
            let command = match &instruction.args {
                Args::Cmd(c) | Args::Entrypoint(c) | Args::Healthcheck(Some(c)) => {
                    instruction.command_of(c)
                }
                _ => continue,
            };
            let words: Vec<String> = match command.text() {
                Some(body) => body
                    .as_str()
                    .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')'))
                    .map(str::to_string)
                    .collect(),
                None => command
                    .argv()
                    .iter()
                    .map(|a| a.as_str().to_string())
                    .collect(),
            };
            out.extend(
                words
                    .iter()
                    .map(|w| commands::basename(w).to_string())
                    .filter(|w| !w.is_empty()),
            );
        }
    }
    out
}

/// The command the image of `stage` runs, as words: its ENTRYPOINT then its CMD (an
/// ENTRYPOINT resets the CMD set before it), exec form as written, shell form split at
/// blanks. Empty when the file sets neither.
pub fn image_command(df: &Dockerfile, model: &Model, stage: usize) -> Vec<String> {
    let words = |command: Command| -> Vec<String> {
        match command.text() {
            Some(body) => body
                .as_str()
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            None => command
                .argv()
                .iter()
                .map(|a| a.as_str().to_string())
                .collect(),
        }
    };
    let (mut entrypoint, mut cmd) = (Vec::new(), Vec::new());
    for s in model.stage_chain(stage) {
        for instruction in model.image_commands_of(df, s) {
            match &instruction.args {
                Args::Entrypoint(c) => {
                    entrypoint = words(instruction.command_of(c));
                    cmd.clear();
                }
                Args::Cmd(c) => cmd = words(instruction.command_of(c)),
                _ => {}
            }
        }
    }
    entrypoint.extend(cmd);
    entrypoint
}

/// The account `name` (a name or uid) in `image`, when docklint knows the image has it.
pub fn image_account(image: &str, name: &str) -> Option<User> {
    let user = users::Accounts::of_image(image).resolve(name);
    (user.id_certainty == Certainty::Known).then_some(user)
}

fn is_windows_image(image: &str) -> bool {
    let image = image.to_ascii_lowercase();
    [
        "windows/servercore",
        "windows/nanoserver",
        "windows/server",
        "mcr.microsoft.com/windows",
        "nanoserver",
        "servercore",
        "windowsservercore",
    ]
    .iter()
    .any(|w| image.contains(w))
}

/// The `--mount` value as BuildKit reads it: comma-separated `key=value` (CSV quoting).
fn mount_options(value: &str) -> BTreeMap<String, String> {
    let mut options = BTreeMap::new();
    for field in csv_fields(value) {
        let (key, val) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), v.to_string()),
            None => (field.trim().to_ascii_lowercase(), "true".to_string()),
        };
        let key = match key.as_str() {
            "dst" | "destination" => "target".to_string(),
            "src" => "source".to_string(),
            "readonly" => "ro".to_string(),
            _ => key,
        };
        options.insert(key, val);
    }
    options
}

fn csv_fields(value: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields.retain(|f| !f.is_empty());
    fields
}

fn parse_mount(value: &str, span: Span, workdir: &str, env: &Vars, escape: char) -> Mount {
    let options = mount_options(value);
    let kind = match options.get("type").map(String::as_str).unwrap_or("bind") {
        "bind" => MountKind::Bind,
        "cache" => MountKind::Cache,
        "tmpfs" => MountKind::Tmpfs,
        "secret" => MountKind::Secret,
        "ssh" => MountKind::Ssh,
        _ => MountKind::Other,
    };
    let target = options
        .get("target")
        .and_then(|t| expand(t, env, escape))
        .map(|t| resolve_path(workdir, &t));
    Mount {
        kind,
        target,
        span,
        options,
    }
}

#[cfg(test)]
mod tests;

impl Model {
    /// What the model knows of each RUN, as JSON: the corpus check audits fixes with it
    /// (`docklint debug-effects`).
    pub fn effects_json(&self, df: &Dockerfile, text: &str) -> serde_json::Value {
        use serde_json::json;
        let runs: Vec<serde_json::Value> = self
            .runs
            .iter()
            .map(|run| {
                let instruction = &df.instructions[run.instruction];
                let e = &run.effects;
                let body = match instruction.command() {
                    Some(Command::Shell(body)) => body.as_str().to_string(),
                    _ => String::new(),
                };
                json!({
                    "start": instruction.span.start,
                    "end": instruction.span.end,
                    "text": text.get(instruction.span.clone()).unwrap_or(""),
                    "source": text.get(instruction.args_text.to_file(0)..instruction.span.end).unwrap_or(""),
                    "body": body,
                    "cache_mounts": run.mounts.iter()
                        .filter(|m| m.kind == MountKind::Cache)
                        .map(|m| m.target.clone())
                        .collect::<Vec<_>>(),
                    "paths": e.paths.iter()
                        .map(|p| json!({"kind": format!("{:?}", p.kind), "path": p.path.display(), "by": p.by,
                                        "exact": matches!(p.path, paths::PathPattern::Exact(_)),
                                        "glob": matches!(p.path, paths::PathPattern::Glob(_))}))
                        .collect::<Vec<_>>(),
                    "leaks": e.leaks.iter().map(|l| l.what.clone()).collect::<Vec<_>>(),
                    "background": e.background.len(),
                    "opaque": e.opaque.iter().map(|o| o.name.clone()).collect::<Vec<_>>(),
                    "approximate": e.approximate,
                })
            })
            .collect();
        json!({ "runs": runs })
    }
}

/// The first reason a tool may be switched is enough (and keeps the list as short as the
/// tool table).
fn push_switch(
    switched: &mut ThinVec<(&'static str, String)>,
    tool: &'static str,
    reason: impl FnOnce() -> String,
) {
    if !switched.iter().any(|(known, _)| *known == tool) {
        switched.push((tool, reason()));
    }
}
