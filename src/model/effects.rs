//! What each RUN does, command by command: the program that really runs (wrappers such as
//! `sudo`, `env`, `timeout`, `xargs`, `python -m` read through), the user, environment and
//! directory it runs with (inline assignments, exports, `cd` followed in the RUN's shell),
//! the shell state the RUN leaves behind, the paths it creates, writes or removes, the
//! caches it uses, and the commands docklint cannot see into.
//!
//! State changes the model cannot place (in a subshell, a branch, a child shell) make the
//! values they touch unknown for every later command: unknown is always safe to assume.

use std::cell::OnceCell;
use std::collections::HashSet;
use std::sync::Arc;

use compact_str::CompactString;
use smallvec::SmallVec;
use thin_vec::ThinVec;

use super::commands::{self, Builtin, Operand, PathUse, Reach};
use super::paths::{resolve_dir, resolve_path, PathIndex, PathPattern};
use super::tools::{Cache, CacheCommand, Dir, Holds, Tool, TOOLS};
use super::users::{Accounts, Certainty, Resolved, User};
use super::vars::{expand_shell_value, Value, Vars};
use crate::source::Span;
use crate::syntax::shell::{Command, Context, Process, Script, StateKind, Word};
use crate::text::SharedStr;

/// The default PATH of Linux images (and of BuildKit when the image sets none).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Paths of the shells a RUN may be run by: writing one changes what runs later RUNs.
const SHELL_BINARIES: &[&str] = &[
    "/bin/sh",
    "/usr/bin/sh",
    "/bin/dash",
    "/usr/bin/dash",
    "/bin/bash",
    "/usr/bin/bash",
    "/bin/ash",
    "/bin/busybox",
    "/usr/bin/busybox",
];

/// The environment a command sees.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: Vars,
    /// Names whose values a change docklint could not follow made unknown.
    unknown: rpds::RedBlackTreeSetSync<String>,
    /// After `source`, `eval` or `set -a`: every variable may have changed…
    opaque: bool,
    /// …except those set or unset since.
    known_since_opaque: rpds::RedBlackTreeSetSync<String>,
    /// How sure HOME is (from the user's account, or set by the file).
    home_certainty: Certainty,
}

static UNKNOWN: Value = Value::Unknown;

impl Env {
    /// What a RUN's shell starts with: ENV and ARG in scope, and the user's HOME unless the
    /// file set HOME itself.
    pub fn starting(vars: &Vars, user: &User) -> Env {
        let mut env = Env {
            vars: vars.clone(),
            ..Env::default()
        };
        if vars.get("HOME").is_none() {
            env.home_of(user);
        } else {
            env.home_certainty = Certainty::Known;
        }
        env
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        if self.unknown.contains(name) || (self.opaque && !self.known_since_opaque.contains(name)) {
            return Some(&UNKNOWN);
        }
        self.vars.get(name)
    }

    /// The value if it is known.
    pub fn known(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::Known(v) => Some(v),
            Value::Unknown => None,
        }
    }

    /// A shell word's value (quotes gone) with this environment's variables substituted;
    /// `None` when one of them is unknown.
    pub fn expand(&self, value: &str) -> Option<String> {
        expand_with(value, self)
    }

    /// How sure the value of HOME is.
    pub fn home_certainty(&self) -> Certainty {
        match self.get("HOME") {
            Some(Value::Known(_)) => self.home_certainty,
            _ => Certainty::Unknown,
        }
    }

    fn set(&mut self, name: &str, value: Value) {
        self.know(name);
        if name == "HOME" {
            self.home_certainty = Certainty::Known;
        }
        self.vars.set(name, value);
    }

    fn forget(&mut self, name: &str) {
        self.unknown.insert_mut(name.to_string());
    }

    fn remove(&mut self, name: &str) {
        self.know(name);
        self.vars.remove(name);
    }

    /// A name given a value the walk follows.
    fn know(&mut self, name: &str) {
        self.unknown.remove_mut(name);
        if self.opaque {
            self.known_since_opaque.insert_mut(name.to_string());
        }
    }

    /// Code docklint cannot see ran: any variable may have changed.
    fn make_opaque(&mut self) {
        self.opaque = true;
        self.known_since_opaque = Default::default();
    }

    /// The user's HOME, unless the file set HOME itself.
    fn home_of(&mut self, user: &User) {
        match &user.home {
            Some(home) if user.home_certainty > Certainty::Unknown => {
                self.vars.set("HOME", Value::Known(home.to_string()));
                self.know("HOME");
            }
            _ => self.forget("HOME"),
        }
        self.home_certainty = user.home_certainty;
    }
}

/// One command that runs a program, with what it runs with.
#[derive(Debug, Clone)]
pub struct Step {
    /// Index of the command in the RUN's script.
    pub command: usize,
    /// The program that runs after wrappers are read (`pip` for `sudo -u app python -m pip`).
    pub name: CompactString,
    /// Index in the command's arguments of the program's first argument.
    pub args_from: usize,
    /// The program is run by a wrapper (`sudo pip`), not directly by the shell.
    pub wrapped: bool,
    /// More arguments come from elsewhere (`xargs pip install` reads them from stdin).
    pub args_open: bool,
    /// Assignments written before the command reach the program (no wrapper between resets
    /// the environment).
    pub inline_env_reaches: bool,
    pub user: Arc<User>,
    /// Shared with the RUN's shell and the other steps while none of them changes it.
    pub env: Arc<Env>,
    /// The working directory, when known.
    pub cwd: Option<SharedStr>,
    pub context: Context,
}

impl Step {
    /// The program's arguments.
    pub fn args<'s>(&self, script: &'s Script) -> &'s [Word] {
        let args = &script.commands[self.command].args;
        &args[self.args_from.min(args.len())..]
    }
}

/// Shell state a RUN's shell is left with.
#[derive(Debug, Clone)]
pub struct Leak {
    pub span: Span,
    /// What it leaves ("changes directory").
    pub what: String,
}

/// What a command does to a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// Removed with everything inside.
    Remove,
    /// Everything inside removed.
    RemoveInside,
    /// Created as a directory (`must_not_exist`: the command fails if it exists).
    CreateDirectory { must_not_exist: bool },
    /// A file or link written there.
    Write { executable: bool },
    /// Files of unknown names written inside.
    WriteInside { executable: bool },
    /// Read by a command that puts it elsewhere (the sources of `cp`).
    Read,
}

impl PathKind {
    pub fn removes(self) -> bool {
        matches!(self, PathKind::Remove | PathKind::RemoveInside)
    }
}

#[derive(Debug, Clone)]
pub struct PathEffect {
    /// The command's span.
    pub span: Span,
    pub path: PathPattern,
    pub kind: PathKind,
    /// The program that does it (`rm`, `pip cache purge`).
    pub by: String,
    /// How a fix can take the effect back out (a removal the fix makes pointless).
    pub undo: Option<Undo>,
    /// A tool's own cache-emptying command (`pip cache purge`): it empties the directory the
    /// tool would use, so not one the tool is pointed away from.
    pub purge: bool,
}

/// How a fix can take a removal back out: once what it removes lives in a cache mount,
/// removing it from the image does nothing, and removing it from the mount empties the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undo {
    /// Drop this operand from the command (`rm -rf /var/lib/apt/lists/* /tmp/*`); the
    /// command stays valid without it.
    Operand { command: usize, word: Span },
    /// Drop the command (`apt-get clean`, `pip cache purge`, `rm` of one path).
    Command { command: usize },
}

/// A command that uses a tool's download cache.
#[derive(Debug, Clone)]
pub struct CacheUse {
    pub tool: &'static Tool,
    /// Which of the tool's caches.
    pub cache: &'static Cache,
    /// Index in [`Effects::steps`].
    pub step: usize,
    /// The directory the tool uses, when it can be told.
    pub dir: Option<String>,
    /// How sure the directory is (a HOME from a guessed user is a guess).
    pub certainty: Certainty,
    /// The directory the tool uses instead when it exists (ccache's `~/.ccache`): a mount
    /// there serves too.
    pub instead: Option<String>,
    /// The directory is given on the command line or inline (`--cache-dir`, `PIP_CACHE_DIR=…
    /// pip`): a fix cannot move it.
    pub explicit: bool,
    /// Options and inline assignments that disable the cache.
    pub disablers: Vec<Span>,
    /// A variable from ENV, ARG or an earlier `export` that disables the cache.
    pub disabled_by_env: Option<String>,
}

impl CacheUse {
    /// Whether a cache mount on `target` holds what the command keeps in its tool's cache:
    /// on its directory or a parent, or on the directory the tool uses instead when it
    /// exists (the mount makes it exist). Never a parent the tool writes its output in
    /// (`.next` around `.next/cache`): that mount would take the output out of the image.
    pub fn served_by(&self, target: &str) -> bool {
        [self.dir.as_deref(), self.instead.as_deref()]
            .into_iter()
            .flatten()
            .any(|dir| {
                super::paths::path_is_within(dir, target)
                    && (!self.cache.parent_written || dir == target)
            })
    }
}

/// A command docklint cannot see into.
#[derive(Debug, Clone)]
pub struct Opaque {
    pub span: Span,
    pub name: String,
}

/// How many uses of an output cache ([`Holds::Output`]) a RUN's copies are checked for;
/// later ones are not caches.
const MAX_OUTPUT_CACHES: usize = 16;

/// What one RUN does. Its steps are a `ThinVec` (a pointer when empty); the other lists,
/// empty in most RUNs, are held together out of line ([`Rare`]), created at the first
/// push: a generated file may hold millions of RUNs, and ten empty lists inline took 64
/// bytes of each. Readers see the lists as fields (through `Deref`).
#[derive(Debug, Clone, Default)]
pub struct Effects {
    pub steps: ThinVec<Step>,
    pub(super) rare: Option<Box<Rare>>,
    /// The shell text was not fully understood (`Script::fallback`).
    pub approximate: bool,
}

/// The lists of [`Effects`] that most RUNs leave empty.
#[derive(Debug, Clone, Default)]
pub struct Rare {
    /// State the RUN's shell is left with: a later RUN merged into this one would see it.
    pub leaks: ThinVec<Leak>,
    /// Jobs still running when the shell moves on (`&`, `coproc`).
    pub background: ThinVec<Span>,
    pub paths: ThinVec<PathEffect>,
    pub caches: ThinVec<CacheUse>,
    /// Commands that install offline from a tool's cache (what a mount in an earlier RUN
    /// would take away from them).
    pub cache_reads: ThinVec<CacheUse>,
    /// Commands whose effects docklint cannot see (builds, scripts, installers).
    pub opaque: ThinVec<Opaque>,
    /// Commands that may add executables to a PATH directory, with the name when it is
    /// known (`ln -s … /usr/local/bin/tool`).
    pub installs_on_path: ThinVec<(Span, Option<String>)>,
    /// Commands that may replace or remove the shell binary that runs RUN instructions.
    pub rewrites_shell: ThinVec<Span>,
    /// Programs the RUN's shell looks up on PATH by name (and then hashes), with the start
    /// of the command that first does.
    pub looked_up: ThinVec<(String, usize)>,
}

impl Rare {
    fn is_empty(&self) -> bool {
        self.leaks.is_empty()
            && self.background.is_empty()
            && self.paths.is_empty()
            && self.caches.is_empty()
            && self.cache_reads.is_empty()
            && self.opaque.is_empty()
            && self.installs_on_path.is_empty()
            && self.rewrites_shell.is_empty()
            && self.looked_up.is_empty()
    }

    fn shrink_to_fit(&mut self) {
        self.leaks.shrink_to_fit();
        self.background.shrink_to_fit();
        self.paths.shrink_to_fit();
        self.caches.shrink_to_fit();
        self.cache_reads.shrink_to_fit();
        self.opaque.shrink_to_fit();
        self.installs_on_path.shrink_to_fit();
        self.rewrites_shell.shrink_to_fit();
        self.looked_up.shrink_to_fit();
    }
}

/// The lists of a RUN that has none.
static NO_RARE: Rare = Rare {
    leaks: ThinVec::new(),
    background: ThinVec::new(),
    paths: ThinVec::new(),
    caches: ThinVec::new(),
    cache_reads: ThinVec::new(),
    opaque: ThinVec::new(),
    installs_on_path: ThinVec::new(),
    rewrites_shell: ThinVec::new(),
    looked_up: ThinVec::new(),
};

impl std::ops::Deref for Effects {
    type Target = Rare;

    fn deref(&self) -> &Rare {
        self.rare.as_deref().unwrap_or(&NO_RARE)
    }
}

/// For the walk that records a RUN's effects: a push makes the lists.
impl std::ops::DerefMut for Effects {
    fn deref_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_default()
    }
}

impl Effects {
    /// Which of `targets` the RUN's removals remove or reach inside: each counts removals
    /// after its offset (`Some`), or any (`None`). The removals find the targets they may
    /// reach by path ([`PathIndex`]), not each against each. `None` when one removal reaches
    /// more paths inside its directory than are followed ([`super::paths::MAX_NEAR`]).
    pub fn removes_each(&self, targets: &[(&str, Option<usize>)]) -> Option<Vec<bool>> {
        let mut removed = vec![false; targets.len()];
        let mut removals = self
            .paths
            .iter()
            .filter(|p| p.kind.removes() && !matches!(p.path, PathPattern::Unknown))
            .peekable();
        // Most RUNs write and remove nothing, or only one of the two: no index is filed.
        if targets.is_empty() || removals.peek().is_none() {
            return Some(removed);
        }
        let mut index = PathIndex::default();
        for (path, _) in targets {
            index.insert(path);
        }
        for removal in removals {
            let (reached, complete) = index.take_reached(&removal.path, |id| {
                let (path, after) = targets[id];
                after.is_none_or(|at| removal.span.start > at)
                    && (removal.path.may_remove(path) || removal.path.may_be_within(path))
            });
            if !complete {
                return None;
            }
            for id in reached {
                removed[id] = true;
            }
        }
        Some(removed)
    }

    /// A cache of the build's output ([`Holds::Output`]) is one only when a later command of
    /// the RUN copies something out of it to a place outside it: otherwise a mount would
    /// take the whole output out of the image.
    fn keep_output_copied_out(&mut self, script: &Script) {
        let Effects { steps, rare, .. } = self;
        let Some(rare) = rare.as_deref_mut() else {
            return;
        };
        if !rare.caches.iter().any(|u| u.cache.holds == Holds::Output) {
            return;
        }
        // Per command (its effects are consecutive): the exact paths it reads, and those it
        // writes. One pass over the effects.
        let mut copies: Vec<(usize, Vec<&str>, Vec<&str>)> = Vec::new();
        for effect in &rare.paths {
            let PathPattern::Exact(path) = &effect.path else {
                continue;
            };
            if copies
                .last()
                .is_none_or(|(start, _, _)| *start != effect.span.start)
            {
                copies.push((effect.span.start, Vec::new(), Vec::new()));
            }
            let Some((_, reads, writes)) = copies.last_mut() else {
                continue;
            };
            match effect.kind {
                PathKind::Read => reads.push(path),
                PathKind::Write { .. } | PathKind::WriteInside { .. } => writes.push(path),
                _ => {}
            }
        }
        copies.retain(|(_, reads, writes)| !reads.is_empty() && !writes.is_empty());
        let within = super::paths::path_is_within;
        // How many output caches are followed (the check stays linear in the RUN).
        let mut budget = MAX_OUTPUT_CACHES;
        let mut copied_out = |u: &CacheUse| {
            let Some(dir) = u.dir.as_deref() else {
                return false;
            };
            if budget == 0 {
                return false;
            }
            budget -= 1;
            let after = script.commands[steps[u.step].command].span.end;
            copies.iter().any(|(start, reads, writes)| {
                *start >= after
                    && reads.iter().any(|p| within(p, dir) && *p != dir)
                    && writes.iter().any(|d| !within(d, dir))
            })
        };
        let mut keep = |u: &CacheUse| u.cache.holds != Holds::Output || copied_out(u);
        rare.caches.retain(&mut keep);
        rare.cache_reads.retain(&mut keep);
    }

    /// Gives back what the walk's growing vectors over-allocated: a model lives as long as
    /// its file's lint, and most RUNs have one or two commands.
    fn shrink_to_fit(&mut self) {
        self.steps.shrink_to_fit();
        if self.rare.as_ref().is_some_and(|rare| rare.is_empty()) {
            self.rare = None;
        }
        if let Some(rare) = &mut self.rare {
            rare.shrink_to_fit();
        }
    }
}

/// What a RUN starts with.
pub struct Start<'a> {
    pub instruction: usize,
    /// ENV and ARG in scope.
    pub env: &'a Vars,
    pub user: &'a Arc<User>,
    pub workdir: &'a SharedStr,
    /// The shell program of the RUN (SHELL, or `/bin/sh`).
    pub shell_program: &'a str,
    /// The environment the shell starts with ([`Env::starting`]), shared by the RUNs that
    /// start alike.
    pub shell_env: Arc<Env>,
}

/// The effects of a RUN's script; learns the accounts it creates into `accounts`.
pub fn build(script: &Script, start: &Start, accounts: &mut Accounts) -> Effects {
    let mut builder = Builder {
        script,
        start,
        accounts,
        shell: ShellState {
            vars: Arc::clone(&start.shell_env),
            exported: Arc::clone(&start.shell_env),
            cwd: Some(start.workdir.clone()),
        },
        launched: shell_parents(script),
        functions: HashSet::new(),
        effects: Effects {
            approximate: script.fallback.is_some(),
            ..Effects::default()
        },
        path_dirs: OnceCell::new(),
        looked_up_names: None,
    };
    // A step a command, most often: sized so, the list is not grown by doubling and then
    // shrunk (two copies a RUN).
    builder.effects.steps.reserve_exact(script.commands.len());
    builder.walk();
    builder.effects.keep_output_copied_out(script);
    builder.effects.shrink_to_fit();
    builder.effects
}

/// The directories of PATH.
fn path_dirs(env: &Vars) -> Vec<String> {
    env.known("PATH")
        .unwrap_or(DEFAULT_PATH)
        .split(':')
        .filter(|d| d.starts_with('/'))
        .map(|d| resolve_path("/", d))
        .collect()
}

/// The RUN's shell as the walk goes: its variables, what it exports, its directory.
#[derive(Debug, Clone)]
struct ShellState {
    /// Shared with the start and with what each command reads until the shell changes it:
    /// most RUNs never do, and a copy for each command was a tenth of the model's time.
    vars: Arc<Env>,
    exported: Arc<Env>,
    cwd: Option<SharedStr>,
}

/// What a command's program runs with after its wrappers.
#[derive(Debug, Clone)]
struct Launch {
    user: Arc<User>,
    env: Arc<Env>,
    cwd: Option<SharedStr>,
}

/// A slot for each command of `script` that a child shell names as its parent (`sh -c …`,
/// `bash <<EOF`), filled when the command runs.
fn shell_parents(script: &Script) -> foldhash::HashMap<usize, Option<Launch>> {
    script
        .commands
        .iter()
        .filter(|c| c.context.process == Process::Child)
        .filter_map(|c| Some((c.parent?, None)))
        .collect()
}

struct Builder<'a> {
    script: &'a Script,
    start: &'a Start<'a>,
    accounts: &'a mut Accounts,
    shell: ShellState,
    /// For each command whose words run a child shell ([`shell_parents`]), what its program
    /// ran with: the child shell starts from that. Kept for those alone (three shared values
    /// cloned and dropped for each command of a generated file of millions took a tenth of
    /// the model's time).
    launched: foldhash::HashMap<usize, Option<Launch>>,
    /// Functions the RUN defines: calling one runs no program.
    functions: HashSet<String>,
    effects: Effects,
    /// PATH's directories when the RUN starts; made on first use (few RUNs write executables).
    path_dirs: OnceCell<Vec<String>>,
    /// The names in `effects.looked_up`, once there are [`SCANNED_LOOKUPS`] of them.
    looked_up_names: Option<foldhash::HashSet<String>>,
}

/// How many programs looked up are scanned for a name before a set of them is made: most
/// RUNs run a few, and a RUN of thousands of distinct programs scanned them all for each.
const SCANNED_LOOKUPS: usize = 16;

enum Item<'s> {
    Command(usize, &'s Command),
    State(&'s crate::syntax::shell::ShellState),
}

impl<'a> Builder<'a> {
    fn walk(&mut self) {
        let script = self.script;
        let mut items: SmallVec<[(usize, u8, Item); 4]> = script
            .commands
            .iter()
            .enumerate()
            .map(|(i, c)| (c.span.start, 1, Item::Command(i, c)))
            .chain(
                script
                    .states
                    .iter()
                    .map(|s| (s.span.start, 0, Item::State(s))),
            )
            .collect();
        items.sort_by_key(|(at, order, _)| (*at, *order));
        for (_, _, item) in items {
            match item {
                Item::Command(i, command) => self.command(i, command),
                Item::State(state) => self.state(state),
            }
        }
    }

    /// Whether a change made in `context` is followed exactly (the RUN's shell, always run).
    fn exact(context: Context) -> bool {
        context.process == Process::Main && !context.conditional && !context.in_function
    }

    fn state(&mut self, state: &crate::syntax::shell::ShellState) {
        let main = state.context.process == Process::Main;
        let leak = |what: &str| Leak {
            span: state.span.clone(),
            what: what.to_string(),
        };
        match &state.kind {
            StateKind::Assignment(word) => {
                let Some((name, _)) = word.value.split_once('=') else {
                    return;
                };
                let name = name
                    .trim_end_matches('+')
                    .split('[')
                    .next()
                    .unwrap_or(name)
                    .to_string();
                if main {
                    self.effects.leaks.push(leak("assigns a shell variable"));
                }
                if Self::exact(state.context) && !word.raw.contains("+=") {
                    let value = self.resolve_assignment(word);
                    Arc::make_mut(&mut self.shell.vars).set(&name, value.clone());
                    if self.shell.exported.vars.contains(&name) {
                        Arc::make_mut(&mut self.shell.exported).set(&name, value);
                    }
                } else {
                    self.forget(&name);
                }
            }
            StateKind::Function(name) => {
                self.functions.insert(name.clone());
                if main {
                    self.effects.leaks.push(leak("defines a function"));
                }
            }
            StateKind::LoopVariable(name) => {
                self.forget(name);
                if main {
                    self.effects
                        .leaks
                        .push(leak("leaves the loop variable set"));
                }
            }
            StateKind::Arithmetic => {
                if main {
                    self.effects
                        .leaks
                        .push(leak("may assign variables (bash arithmetic or `[[ =~ ]]`)"));
                }
                self.make_opaque();
            }
            StateKind::Background => self.effects.background.push(state.span.clone()),
            StateKind::Redirect(redirect) => {
                if redirect.writes() {
                    let path = self.path_of_word(
                        &redirect.target,
                        &self.shell.vars,
                        self.shell.cwd.as_deref(),
                    );
                    self.record_path(
                        state.span.clone(),
                        path,
                        PathKind::Write { executable: false },
                        "a redirection",
                        None,
                    );
                }
            }
        }
    }

    /// The value of `NAME=value` as the RUN's shell assigns it.
    fn resolve_assignment(&self, word: &Word) -> Value {
        self.resolve_assignment_in(word, &self.shell.vars)
    }

    /// Any variable may have changed where the walk cannot follow it.
    fn make_opaque(&mut self) {
        Arc::make_mut(&mut self.shell.vars).make_opaque();
        Arc::make_mut(&mut self.shell.exported).make_opaque();
    }

    /// A variable changed where the walk cannot follow it.
    fn forget(&mut self, name: &str) {
        Arc::make_mut(&mut self.shell.vars).forget(name);
        Arc::make_mut(&mut self.shell.exported).forget(name);
    }

    /// A word's value as the shell gives it to the program: tilde and parameters expanded.
    /// Most values are short and held inline: a RUN's words cost no allocation.
    fn resolve(&self, word: &Word, vars: &Env) -> Option<CompactString> {
        let tilde = word.raw.starts_with('~');
        let value = if word.literal && !tilde {
            word.value.clone()
        } else if vars.opaque {
            return None;
        } else {
            let expanded = if word.literal {
                word.value.to_string()
            } else {
                expand_with(&word.value, vars)?
            };
            if tilde {
                expand_tilde(&expanded, vars)?.into()
            } else {
                expanded.into()
            }
        };
        Some(value)
    }

    fn resolved_values(&self, words: &[Word], vars: &Env) -> SmallVec<[Option<CompactString>; 4]> {
        words.iter().map(|w| self.resolve(w, vars)).collect()
    }

    fn command(&mut self, index: usize, command: &Command) {
        let context = command.context;
        // A child shell starts from what its launching command ran with; anything else runs
        // in (a copy of) the RUN's shell.
        let parent_launch = command
            .parent
            .filter(|_| context.process == Process::Child)
            .and_then(|p| self.launched.get(&p).cloned().flatten());
        let (vars, mut launch) = match parent_launch {
            Some(launch) => (Arc::clone(&launch.env), launch),
            None => (
                Arc::clone(&self.shell.vars),
                Launch {
                    user: self.start.user.clone(),
                    env: self.shell.exported.clone(),
                    cwd: self.shell.cwd.clone(),
                },
            ),
        };
        for assignment in &command.env {
            if let Some((name, _)) = assignment.value.split_once('=') {
                let value = self.resolve_assignment_in(assignment, &vars);
                Arc::make_mut(&mut launch.env).set(name, value);
            }
        }
        let mut step = Step {
            command: index,
            name: CompactString::default(),
            args_from: 0,
            wrapped: false,
            args_open: false,
            inline_env_reaches: true,
            user: launch.user,
            env: launch.env,
            cwd: launch.cwd,
            context,
        };
        self.assigning_expansions(command, context);
        let values = self.resolved_values(&command.args, &vars);
        let mut program = self.resolve(&command.program, &vars);
        let mut at = 0usize;
        let mut looked_up_by_shell = true;
        for _ in 0..16 {
            let Some(name) = program.clone() else {
                self.opaque(command, &command.program.raw);
                break;
            };
            let base = CompactString::new(commands::basename(&name));
            let args: SmallVec<[&str; 8]> = values[at..]
                .iter()
                .map(|v| v.as_deref().unwrap_or("\u{0}"))
                .collect();
            if looked_up_by_shell
                && !name.contains('/')
                && !self.functions.contains(name.as_str())
                && commands::builtin(&name, &args).is_none()
                && context.process != Process::Child
            {
                self.looked_up(&name, command.span.start);
            }
            step.name = base.clone();
            step.args_from = at;
            if self.functions.contains(name.as_str()) {
                break;
            }
            // After an external wrapper (`env cd`, `sudo cd`) a builtin's name is just a program.
            if let Some(use_) = commands::builtin(&name, &args).filter(|_| !step.wrapped) {
                match use_ {
                    Builtin::Stateless => {}
                    Builtin::State(what) => {
                        if context.process == Process::Main {
                            self.effects.leaks.push(Leak {
                                span: command.span.clone(),
                                what: format!("`{base}` {what}"),
                            });
                        }
                        self.builtin_state(
                            &base,
                            &command.args[at.min(command.args.len())..],
                            &values[at..],
                            context,
                            &vars,
                        );
                    }
                    Builtin::Runs(next) => {
                        program = values.get(at + next).cloned().flatten();
                        at += next + 1;
                        continue;
                    }
                }
                break;
            }
            if let Some(su) = commands::su_args(&base, &args) {
                if su.command.is_some() || !commands::is_posix_shell(&base) {
                    self.switch_user(&mut step, su.user.unwrap_or("root"));
                    if su.login {
                        self.reset_env(&mut step);
                        step.cwd = step.env.known("HOME").map(SharedStr::from);
                    } else if !su.preserve {
                        Arc::make_mut(&mut step.env).home_of(&step.user);
                    }
                    step.inline_env_reaches = su.preserve;
                    break;
                }
            }
            if let Some(wrapper) = commands::wrapper_args(&base, &args) {
                self.apply_wrapper(&base, &wrapper, &mut step);
                step.wrapped = true;
                looked_up_by_shell = false;
                let Some(next) = wrapper.command else { break };
                program = values.get(at + next).cloned().flatten();
                at += next + 1;
                continue;
            }
            if commands::is_python(&base) {
                if let Some(module) = commands::python_module(&args) {
                    let word = args[module];
                    step.name = word.strip_prefix("-m").unwrap_or(word).into();
                    step.args_from = at + module + 1;
                    step.wrapped = true;
                }
            }
            break;
        }
        let step_index = self.effects.steps.len();
        if let Some(slot) = self.launched.get_mut(&index) {
            *slot = Some(Launch {
                user: step.user.clone(),
                env: Arc::clone(&step.env),
                cwd: step.cwd.clone(),
            });
        }
        self.effects.steps.push(step);
        self.program_effects(step_index, command, &values);
        for redirect in command.redirects.iter().filter(|r| r.writes()) {
            let path = self.path_of_word(
                &redirect.target,
                &vars,
                self.effects.steps[step_index].cwd.as_deref(),
            );
            self.record_path(
                command.span.clone(),
                path,
                PathKind::Write { executable: false },
                "a redirection",
                None,
            );
        }
    }

    /// `${X:=…}` and arithmetic assignments in the command's words.
    fn assigning_expansions(&mut self, command: &Command, context: Context) {
        let words = std::iter::once(&command.program)
            .chain(&command.args)
            .chain(&command.env)
            .chain(command.redirects.iter().map(|r| &r.target));
        let mut names = Vec::new();
        for word in words {
            names.extend(commands::assigning_expansions(&word.raw));
        }
        if names.is_empty() {
            return;
        }
        if context.process == Process::Main {
            self.effects.leaks.push(Leak {
                span: command.span.clone(),
                what: "assigns a variable while expanding a word (`${X:=…}`, `$(( … ))`)".into(),
            });
        }
        for name in names {
            match name {
                Some(name) => self.forget(&name),
                None => {
                    self.make_opaque();
                }
            }
        }
    }

    /// The value of `NAME=value` with `vars` (tilde after `=` expanded).
    fn resolve_assignment_in(&self, word: &Word, vars: &Env) -> Value {
        let (Some((_, raw_value)), Some((_, value))) =
            (word.raw.split_once('='), word.value.split_once('='))
        else {
            return Value::Unknown;
        };
        let resolved = Word {
            raw: raw_value.into(),
            value: value.into(),
            span: word.span.clone(),
            literal: word.literal,
        };
        self.resolve(&resolved, vars)
            .map_or(Value::Unknown, |v| Value::Known(v.into()))
    }

    /// The shell looks `name` up on PATH (and hashes it) in the command starting at `at`:
    /// kept with where it first did.
    fn looked_up(&mut self, name: &str, at: usize) {
        let looked_up = &mut self.effects.looked_up;
        let new = if looked_up.len() < SCANNED_LOOKUPS {
            looked_up.iter().all(|(n, _)| n != name)
        } else {
            self.looked_up_names
                .get_or_insert_with(|| looked_up.iter().map(|(n, _)| n.clone()).collect())
                .insert(name.to_string())
        };
        if new {
            looked_up.push((name.to_string(), at));
        }
    }

    fn opaque(&mut self, command: &Command, name: &str) {
        self.effects.opaque.push(Opaque {
            span: command.span.clone(),
            name: name.to_string(),
        });
        self.effects
            .installs_on_path
            .push((command.span.clone(), None));
        self.effects.rewrites_shell.push(command.span.clone());
    }

    /// What a builtin that leaves state changes in the model.
    fn builtin_state(
        &mut self,
        name: &str,
        words: &[Word],
        values: &[Option<CompactString>],
        context: Context,
        vars: &Env,
    ) {
        let exact = Self::exact(context);
        let operands: Vec<(usize, &str)> = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.as_deref().map(|v| (i, v)))
            .filter(|(_, v)| !v.starts_with('-') && !v.starts_with('+'))
            .collect();
        match name {
            "cd" | "chdir" => {
                let target = match operands.first() {
                    None => vars.known("HOME").map(str::to_string),
                    Some((_, "-")) => None,
                    // Past PATH_MAX `cd` fails: where the shell is then is not followed.
                    Some((_, dir)) => self
                        .shell
                        .cwd
                        .as_deref()
                        .and_then(|cwd| resolve_dir(cwd, dir)),
                };
                let target = if values.iter().any(Option::is_none) {
                    None
                } else {
                    target
                };
                self.shell.cwd = target.filter(|_| exact).map(SharedStr::from);
            }
            "pushd" | "popd" => self.shell.cwd = None,
            "export" | "declare" | "typeset" | "local" | "readonly" => {
                let exports = name == "export" || words.iter().any(|w| w.value == "-x");
                // `declare -n` makes a name refer to another variable.
                let nameref = words
                    .iter()
                    .any(|w| w.value.starts_with('-') && w.value.contains('n'));
                for (i, word) in words.iter().enumerate() {
                    let Some(value) = values.get(i).cloned().flatten() else {
                        // `NAME=$unknown` assigns NAME only (`${X:=…}` in the value is
                        // followed by assigning_expansions); a name docklint cannot read
                        // may be anything.
                        if let Some((name, _)) = word
                            .raw
                            .split_once('=')
                            .filter(|_| !nameref && commands::is_assignment(&word.raw))
                        {
                            self.forget(name);
                            continue;
                        }
                        if word.value.contains('=') || !word.literal {
                            self.make_opaque();
                        }
                        continue;
                    };
                    if value.starts_with('-') || value.starts_with('+') {
                        continue;
                    }
                    let (name, assigned) = match value.split_once('=') {
                        Some((n, _)) => {
                            (n.to_string(), Some(self.resolve_assignment_in(word, vars)))
                        }
                        None => (value.to_string(), None),
                    };
                    if !exact {
                        self.forget(&name);
                        continue;
                    }
                    let current = assigned.or_else(|| self.shell.vars.get(&name).cloned());
                    if let Some(current) = current {
                        Arc::make_mut(&mut self.shell.vars).set(&name, current.clone());
                        if exports {
                            Arc::make_mut(&mut self.shell.exported).set(&name, current);
                        }
                    }
                }
            }
            "unset" => {
                for (_, name) in operands {
                    if exact {
                        Arc::make_mut(&mut self.shell.vars).remove(name);
                        Arc::make_mut(&mut self.shell.exported).remove(name);
                    } else {
                        self.forget(name);
                    }
                }
            }
            "read" | "mapfile" | "readarray" | "getopts" => {
                for (_, name) in operands {
                    self.forget(name);
                }
            }
            "let" => {
                for (_, expression) in operands {
                    let name: String = expression
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    self.forget(&name);
                }
            }
            "printf" => {
                if let Some(name) = values
                    .iter()
                    .position(|v| v.as_deref() == Some("-v"))
                    .and_then(|i| values.get(i + 1).cloned().flatten())
                {
                    self.forget(&name);
                }
            }
            "source" | "." | "eval" => {
                // Anything may have changed: variables, the directory. A virtualenv's
                // `activate` is known to change variables only; any other script or text
                // runs code docklint cannot see.
                self.make_opaque();
                let activates_venv = name != "eval"
                    && values
                        .first()
                        .cloned()
                        .flatten()
                        .is_some_and(|p| p.ends_with("/bin/activate"));
                if !activates_venv {
                    self.shell.cwd = None;
                    self.effects.opaque.push(Opaque {
                        span: words.first().map_or(0..0, |w| w.span.clone()),
                        name: name.to_string(),
                    });
                }
            }
            // `set -a` (or `-o allexport`) exports every later assignment.
            "set"
                if values.iter().any(|v| {
                    v.as_deref()
                        .is_none_or(|v| v.contains('a') || !v.starts_with(['-', '+']))
                }) =>
            {
                self.make_opaque();
            }
            _ => {}
        }
    }

    fn switch_user(&mut self, step: &mut Step, spec: &str) {
        step.user = Arc::new(self.accounts.resolve(spec));
    }

    /// A wrapper that resets the environment to a login one.
    fn reset_env(&self, step: &mut Step) {
        let mut env = Env::default();
        env.home_of(&step.user);
        env.forget("PATH");
        step.env = Arc::new(env);
    }

    fn apply_wrapper(&mut self, name: &str, wrapper: &commands::WrapperArgs, step: &mut Step) {
        match name {
            "sudo" => {
                let user = wrapper
                    .value("u")
                    .or(wrapper.value("user"))
                    .unwrap_or("root");
                self.switch_user(step, user);
                let preserve = wrapper.has("E")
                    || wrapper
                        .options
                        .iter()
                        .any(|(o, _)| o.starts_with("preserve-env"));
                if wrapper.has("i") || wrapper.has("login") {
                    self.reset_env(step);
                    step.cwd = step.env.known("HOME").map(SharedStr::from);
                } else if !preserve {
                    self.reset_env(step);
                } else if wrapper.has("H") || wrapper.has("set-home") {
                    Arc::make_mut(&mut step.env).home_of(&step.user.clone());
                }
                step.inline_env_reaches = preserve;
            }
            "runuser" => {
                if let Some(user) = wrapper.value("u").or(wrapper.value("user")) {
                    self.switch_user(step, user);
                }
                Arc::make_mut(&mut step.env).home_of(&step.user.clone());
            }
            "gosu" | "su-exec" => {
                if let Some(spec) = wrapper.operands.first() {
                    self.switch_user(step, spec);
                }
                Arc::make_mut(&mut step.env).home_of(&step.user.clone());
            }
            "env" => {
                if wrapper.has("i") || wrapper.has("ignore-environment") {
                    step.env = Arc::default();
                    step.inline_env_reaches = false;
                }
                for (option, value) in &wrapper.options {
                    if matches!(*option, "u" | "unset") {
                        if let Some(v) = value {
                            Arc::make_mut(&mut step.env).remove(v);
                        }
                    }
                    if matches!(*option, "C" | "chdir") {
                        step.cwd = match (value, &step.cwd) {
                            (Some(dir), Some(cwd)) if *dir != "\u{0}" => {
                                Some(resolve_path(cwd, dir).into())
                            }
                            _ => None,
                        };
                    }
                    if matches!(*option, "S" | "split-string") {
                        Arc::make_mut(&mut step.env).make_opaque();
                    }
                }
            }
            "conda" | "mamba" | "micromamba" | "uv" | "poetry" | "pipenv" | "pdm" => {
                Arc::make_mut(&mut step.env).forget("PATH");
                if let Some(dir) = wrapper.value("cwd").or(wrapper.value("directory")) {
                    step.cwd = step.cwd.as_deref().map(|cwd| resolve_path(cwd, dir).into());
                }
            }
            "xargs" => step.args_open = true,
            _ => {}
        }
        for assignment in &wrapper.assignments {
            if let Some((name, value)) = assignment.split_once('=') {
                let value = if value.contains('\u{0}') {
                    Value::Unknown
                } else {
                    Value::Known(value.to_string())
                };
                Arc::make_mut(&mut step.env).set(name, value);
            }
        }
    }

    /// Paths, caches, accounts and reach of the program a step runs.
    fn program_effects(
        &mut self,
        step_index: usize,
        command: &Command,
        values: &[Option<CompactString>],
    ) {
        let step = &self.effects.steps[step_index];
        if self.functions.contains(step.name.as_str()) || step.name.is_empty() {
            return;
        }
        let args_from = step.args_from.min(values.len());
        let args: SmallVec<[&str; 8]> = values[args_from..]
            .iter()
            .map(|v| v.as_deref().unwrap_or("\u{0}"))
            .collect();
        let name = step.name.clone();
        if commands::builtin(&name, &args).is_some() && !step.wrapped {
            return;
        }
        // A tool keeps its cache even when it also runs code docklint cannot see (`go run`,
        // `./mvnw`).
        match commands::package_runner(&name, &args) {
            // `npx next build`: the tool a package runner runs (its own cache is npm's).
            Some(at) => {
                let tool = commands::basename(args[at]);
                self.tool_caches(step_index, command, tool, &args[at + 1..], at + 1);
            }
            None => self.tool_caches(step_index, command, &name, &args, 0),
        }
        let reach = if self.runs_parsed_text(step_index, &name, &args) {
            Reach::Operands
        } else {
            commands::reach(&name, &args)
        };
        match reach {
            Reach::Unknown => {
                self.opaque(command, &name);
                return;
            }
            Reach::PackagePrefix => self
                .effects
                .installs_on_path
                .push((command.span.clone(), None)),
            Reach::DistroPackages | Reach::Operands => {}
        }
        let step = self.effects.steps[step_index].clone();
        let words = &command.args[args_from.min(command.args.len())..];
        let uses = commands::path_uses(&name, &args);
        // A removal of several paths loses one operand; of one path, the whole command.
        let removals = uses
            .iter()
            .filter(|u| matches!(u, PathUse::Remove(Operand::Arg(_))))
            .count();
        let removes_operands = matches!(name.as_str(), "rm" | "unlink" | "rmdir");
        for path_use in uses {
            let undo = match &path_use {
                PathUse::Remove(Operand::Arg(i)) if removes_operands => match words.get(*i) {
                    Some(word) if removals > 1 => Some(Undo::Operand {
                        command: step.command,
                        word: word.span.clone(),
                    }),
                    Some(_) => Some(Undo::Command {
                        command: step.command,
                    }),
                    None => None,
                },
                _ => None,
            };
            let (operand, kind) = match path_use {
                PathUse::Remove(o) => (o, PathKind::Remove),
                PathUse::RemoveInside(o) => (o, PathKind::RemoveInside),
                PathUse::CreateDirectory { at, must_not_exist } => {
                    (at, PathKind::CreateDirectory { must_not_exist })
                }
                PathUse::Write { at, executable } => (at, PathKind::Write { executable }),
                PathUse::WriteInside { at, executable } => {
                    (at, PathKind::WriteInside { executable })
                }
                PathUse::Read(o) => (o, PathKind::Read),
            };
            let path = match operand {
                Operand::WorkingDirectory => {
                    step.cwd.as_deref().map_or(PathPattern::Unknown, |cwd| {
                        PathPattern::Exact(cwd.to_string())
                    })
                }
                Operand::Arg(i) => match words.get(i) {
                    Some(word) => self.path_of_word(word, &step.env, step.cwd.as_deref()),
                    None => PathPattern::Unknown,
                },
                Operand::ArgFrom(i, from) => match args.get(i).and_then(|a| a.get(from..)) {
                    Some(value) if !value.contains('\u{0}') => {
                        path_from(value, step.cwd.as_deref())
                    }
                    _ => PathPattern::Unknown,
                },
            };
            self.record_path(command.span.clone(), path, kind, &name, undo);
        }
        if matches!(
            name.as_str(),
            "useradd" | "adduser" | "usermod" | "groupadd" | "addgroup"
        ) {
            let resolved: Vec<Resolved> = words
                .iter()
                .zip(&values[args_from..])
                .map(|(word, value)| Resolved {
                    value: value.as_deref().map(str::to_string),
                    variable: whole_variable(&word.raw),
                })
                .collect();
            self.accounts
                .learn(&name, &resolved, self.start.instruction);
        }
    }

    /// The caches of the tools a step runs: uses, offline reads and purges.
    /// `skip`: how many of the step's arguments come before `args` (a package runner's).
    fn tool_caches(
        &mut self,
        step_index: usize,
        command: &Command,
        name: &str,
        args: &[&str],
        skip: usize,
    ) {
        for tool in TOOLS.iter().copied().filter(|t| t.runs_as(name)) {
            let (caches, reads) = match tool.command(args) {
                Some(CacheCommand::Uses(caches)) => (caches, false),
                Some(CacheCommand::Reads(caches)) => (caches, true),
                Some(CacheCommand::Purges(caches)) => {
                    let words: Vec<&str> = args
                        .iter()
                        .filter(|a| !a.starts_with('-'))
                        .take(2)
                        .copied()
                        .collect();
                    let purge_name = format!("{name} {}", words.join(" "));
                    for cache in caches.into_iter().map(|i| &tool.caches[i]) {
                        let cache = self.cache_use(tool, cache, step_index, command, args, skip);
                        let path = cache.dir.map_or(PathPattern::Unknown, PathPattern::Exact);
                        self.record_purge(
                            command.span.clone(),
                            path,
                            PathKind::RemoveInside,
                            &purge_name,
                            Some(Undo::Command {
                                command: self.effects.steps[step_index].command,
                            }),
                        );
                    }
                    continue;
                }
                None => continue,
            };
            for cache in caches.into_iter().map(|i| &tool.caches[i]) {
                let cache = self.cache_use(tool, cache, step_index, command, args, skip);
                if reads {
                    self.effects.cache_reads.push(cache);
                } else {
                    self.effects.caches.push(cache);
                }
            }
        }
    }

    /// A command that empties a tool's cache.
    fn record_purge(
        &mut self,
        span: Span,
        path: PathPattern,
        kind: PathKind,
        by: &str,
        undo: Option<Undo>,
    ) {
        self.record_path(span, path, kind, by, undo);
        if let Some(effect) = self.effects.paths.last_mut() {
            effect.purge = true;
        }
    }

    /// A shell whose script docklint reads: a `-c` string, or a heredoc on its stdin (a
    /// shell reading a pipe runs text docklint never sees).
    fn runs_parsed_text(&self, step_index: usize, name: &str, args: &[&str]) -> bool {
        use crate::syntax::shell::Launchers as _;
        let command = self.effects.steps[step_index].command;
        match commands::Launchers.shell_input(name, args) {
            Some(crate::syntax::shell::ShellInput::CommandString(_)) => true,
            Some(crate::syntax::shell::ShellInput::Stdin) => self
                .script
                .commands
                .iter()
                .any(|c| c.parent == Some(command) && c.context.process == Process::Child),
            None => false,
        }
    }

    /// Where a tool's cache is for this step, and what disables it.
    fn cache_use(
        &self,
        tool: &'static Tool,
        cache: &'static Cache,
        step_index: usize,
        command: &Command,
        args: &[&str],
        skip: usize,
    ) -> CacheUse {
        let step = &self.effects.steps[step_index];
        let words = &command.args[(step.args_from + skip).min(command.args.len())..];
        let env = &step.env;
        let inline_names: Vec<&str> = command
            .env
            .iter()
            .filter_map(|w| w.value.split_once('=').map(|(n, _)| n))
            .collect();
        let place = locate(&cache.dir, tool, args, step, &inline_names);
        let mut disablers: Vec<Span> = tool
            .disabling_args(args)
            .into_iter()
            .filter_map(|i| words.get(i).map(|w| w.span.clone()))
            .collect();
        let inline_disablers = command
            .env
            .iter()
            .chain(&command.args[..step.args_from.min(command.args.len())]);
        disablers.extend(
            inline_disablers
                .filter(|w| {
                    w.value
                        .split_once('=')
                        .is_some_and(|(n, _)| tool.disabling_env.contains(&n))
                })
                .map(|w| w.span.clone()),
        );
        // Set for sure (by ENV, ARG or an export), not merely unknown after a `source`.
        let disabled_by_env = tool
            .disabling_env
            .iter()
            .find(|v| {
                env.vars.get(v).is_some() && !inline_names.contains(v) && disablers.is_empty()
            })
            .map(|v| v.to_string());
        CacheUse {
            tool,
            cache,
            step: step_index,
            certainty: if place.dir.is_some() {
                place.certainty
            } else {
                Certainty::Unknown
            },
            instead: cache
                .instead_when_present
                .filter(|_| !place.explicit)
                .and_then(|rel| {
                    env.known("HOME")
                        .map(|home| format!("{}/{rel}", home.trim_end_matches('/')))
                }),
            dir: place.dir,
            explicit: place.explicit,
            disablers,
            disabled_by_env,
        }
    }

    fn path_of_word(&self, word: &Word, vars: &Env, cwd: Option<&str>) -> PathPattern {
        match self.resolve(word, vars) {
            Some(value) if !word.literal && value.contains(['*', '?', '[']) => {
                match (value.starts_with('/'), cwd) {
                    (true, _) => PathPattern::Glob(value.into()),
                    (false, Some(cwd)) => {
                        PathPattern::Glob(format!("{}/{value}", cwd.trim_end_matches('/')))
                    }
                    (false, None) => PathPattern::Unknown,
                }
            }
            Some(value) => path_from(&value, cwd),
            None => PathPattern::Unknown,
        }
    }

    /// Whether writing `path` may put an executable directly in a PATH directory: `None` if
    /// not, `Some(name)` with its name when known.
    fn installed_name(&self, path: &PathPattern, kind: PathKind) -> Option<Option<String>> {
        // Made on first use, by the arms below: only a write of an executable reads them.
        let path_dirs = || self.path_dirs.get_or_init(|| path_dirs(self.start.env));
        let on_path_or_above = |dir: &str| {
            path_dirs()
                .iter()
                .any(|d| super::paths::path_is_within(d, dir))
        };
        match (kind, path) {
            (PathKind::Write { executable: true }, PathPattern::Exact(p)) => {
                let (parent, name) = p.rsplit_once('/')?;
                let parent = if parent.is_empty() { "/" } else { parent };
                if path_dirs().iter().any(|d| d == parent) {
                    Some(Some(name.to_string()))
                } else {
                    on_path_or_above(p).then_some(None)
                }
            }
            (PathKind::WriteInside { executable: true }, PathPattern::Exact(d)) => {
                on_path_or_above(d).then_some(None)
            }
            (
                PathKind::Write { executable: true } | PathKind::WriteInside { executable: true },
                _,
            ) => path_dirs()
                .iter()
                .any(|d| path.may_overlap(d))
                .then_some(None),
            _ => None,
        }
    }

    fn record_path(
        &mut self,
        span: Span,
        path: PathPattern,
        kind: PathKind,
        by: &str,
        undo: Option<Undo>,
    ) {
        if let Some(name) = self.installed_name(&path, kind) {
            self.effects.installs_on_path.push((span.clone(), name));
        }
        let shell_binaries = SHELL_BINARIES
            .iter()
            .copied()
            .chain([self.start.shell_program]);
        let touches_shell = match kind {
            PathKind::Remove | PathKind::Write { .. } => {
                shell_binaries.clone().any(|b| path.may_remove(b))
            }
            PathKind::RemoveInside | PathKind::WriteInside { .. } => shell_binaries
                .clone()
                .any(|b| path.may_remove(b) && path_differs(&path, b)),
            PathKind::CreateDirectory { .. } | PathKind::Read => false,
        };
        if touches_shell {
            self.effects.rewrites_shell.push(span.clone());
        }
        self.effects.paths.push(PathEffect {
            span,
            path,
            kind,
            by: by.to_string(),
            undo,
            purge: false,
        });
    }
}

/// Whether a `*Inside` effect on `path` can reach `binary` (it does unless `path` is the
/// binary itself).
fn path_differs(path: &PathPattern, binary: &str) -> bool {
    !matches!(path, PathPattern::Exact(p) if p == binary)
}

fn path_from(value: &str, cwd: Option<&str>) -> PathPattern {
    match (value.starts_with('/'), cwd) {
        (true, _) => PathPattern::Exact(resolve_path("/", value)),
        (false, Some(cwd)) => PathPattern::Exact(resolve_path(cwd, value)),
        (false, None) => PathPattern::Unknown,
    }
}

/// `$NAME`, `${NAME}`, `"$NAME"`: the name.
fn whole_variable(raw: &str) -> Option<String> {
    let raw = raw.trim_matches('"');
    let name = raw
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .or_else(|| raw.strip_prefix('$'))?;
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| name.to_string())
}

/// Where a cache is for one command, and how sure that is.
struct Place {
    dir: Option<String>,
    certainty: Certainty,
    /// Given on the command line or inline: a fix cannot move it.
    explicit: bool,
}

/// Resolves a cache directory of the table for a step: its option, variables, XDG and HOME.
fn locate(dir: &Dir, tool: &Tool, args: &[&str], step: &Step, inline: &[&str]) -> Place {
    let env = &step.env;
    let known = |dir: Option<String>| Place {
        dir,
        certainty: Certainty::Known,
        explicit: false,
    };
    let absolute = |value: &str| -> Option<String> {
        if value.contains('\u{0}') {
            return None;
        }
        let value = if value.starts_with('~') {
            if !tool.expands_tilde() {
                return None;
            }
            expand_tilde(value, env)?
        } else {
            value.to_string()
        };
        match (value.starts_with('/'), step.cwd.as_deref()) {
            (true, _) => Some(resolve_path("/", &value)),
            (false, Some(cwd)) => Some(resolve_path(cwd, &value)),
            (false, None) => None,
        }
    };
    // A set variable, as `Some(value)` (`Some(None)` when its value is unknown).
    let variable = |names: &[&str]| -> Option<(Option<String>, bool)> {
        names
            .iter()
            .find(|n| env.get(n).is_some())
            .map(|n| (env.known(n).and_then(absolute), inline.contains(n)))
    };
    let under_home = |rel: &str| -> Place {
        Place {
            dir: env
                .known("HOME")
                .filter(|_| !rel.is_empty())
                .and_then(|home| absolute(&format!("{}/{rel}", home.trim_end_matches('/')))),
            certainty: env.home_certainty(),
            explicit: false,
        }
    };
    // An XDG variable: `Some(Some(dir))` set, `Some(None)` unset, `None` unknown.
    let xdg = |name: &str| match env.get(name) {
        Some(Value::Known(x)) if !x.trim().is_empty() => Some(Some(x.clone())),
        Some(Value::Unknown) => None,
        _ => Some(None),
    };
    if let Some((_, value)) = dir.argument(args) {
        return Place {
            dir: absolute(&value),
            certainty: Certainty::Known,
            explicit: true,
        };
    }
    match dir {
        Dir::User {
            env: vars,
            xdg: sub,
            home,
            root,
            ..
        } => {
            if let Some((value, inline)) = variable(vars) {
                return Place {
                    explicit: inline,
                    ..known(value)
                };
            }
            match sub.map(|sub| (sub, xdg("XDG_CACHE_HOME"))) {
                Some((sub, Some(Some(base)))) => {
                    known(absolute(&format!("{}/{sub}", base.trim_end_matches('/'))))
                }
                Some((_, None)) => known(None),
                // Root's directory replaces the home's, not XDG_CACHE_HOME (yarn classic).
                _ => match (root, step.user.uid) {
                    (Some(root), Some(0)) => Place {
                        certainty: step.user.id_certainty,
                        ..known(Some(root.to_string()))
                    },
                    _ => under_home(home),
                },
            }
        }
        Dir::Under {
            env: vars,
            base,
            xdg: from_xdg,
            home,
            sub,
            ..
        } => {
            if let Some((value, inline)) = variable(vars) {
                return Place {
                    explicit: inline,
                    ..known(value)
                };
            }
            if let Some((value, _)) = variable(base) {
                return known(value.map(|b| format!("{}/{sub}", b.trim_end_matches('/'))));
            }
            match from_xdg.map(|(var, path)| (path, xdg(var))) {
                Some((path, Some(Some(base)))) => {
                    known(absolute(&format!("{}/{path}", base.trim_end_matches('/'))))
                }
                Some((_, None)) => known(None),
                _ if home.is_empty() => known(None),
                _ => under_home(&format!("{home}/{sub}")),
            }
        }
        Dir::Fixed(path) | Dir::Moved { path, .. } => known(Some(path.to_string())),
        Dir::Configured { path, .. } => match dir.argument(args) {
            Some((_, value)) => Place {
                dir: absolute(&value),
                certainty: Certainty::Known,
                explicit: true,
            },
            None => known(Some(path.to_string())),
        },
        Dir::Workdir {
            env: vars, path, ..
        } => {
            if let Some((value, inline)) = variable(vars) {
                return Place {
                    explicit: inline,
                    ..known(value)
                };
            }
            known(step.cwd.as_deref().map(|cwd| resolve_path(cwd, path)))
        }
    }
}

/// `$VAR` references in a word's value, with the command's environment.
fn expand_with(value: &str, env: &Env) -> Option<String> {
    if env.opaque && value.contains('$') {
        return None;
    }
    expand_shell_value(value, &env.vars, &env.unknown)
}

/// `~` and `~/x` with HOME; `~user` is not followed.
fn expand_tilde(value: &str, env: &Env) -> Option<String> {
    let rest = value.strip_prefix('~')?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let home = env.known("HOME")?;
    Some(format!("{}{rest}", home.trim_end_matches('/')))
}
