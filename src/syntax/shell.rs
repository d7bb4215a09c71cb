//! Shell layer: the simple commands of a RUN body, with their words mapped to file spans,
//! and where each one runs (the RUN's shell, a subshell, a child shell) for the model.
//!
//! Bodies are parsed with brush-parser (pinned: its AST changes between 0.x releases; only
//! `shell/adapter.rs` sees its types). Bodies it rejects go through a forgiving tokeniser of
//! our own (`shell/fallback.rs`), so rules always see commands; plain text (words and list
//! operators only, half of real bodies) goes straight to the tokeniser, which splits it the
//! same way, faster. Nested shell text is entered: `sh -c '…'` payloads, heredocs fed to a
//! shell, command and process substitutions, and whatever a [`Launchers`] table says runs
//! shell text (`su -c`, `sudo sh -c` …: that knowledge lives in the model).

mod adapter;
mod fallback;
mod lex;
mod shape;

pub use shape::{Shape, ShapeCell};

use std::ops::Range;

use compact_str::CompactString;
use smallvec::SmallVec;
use thin_vec::ThinVec;

use super::MappedText;
use crate::source::Span;

/// One word of a command. Its texts are stored inline up to 24 bytes, as most words are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Exact source text of the word (a slice of the body).
    pub raw: CompactString,
    /// Quotes removed, backslash escapes resolved; `$VAR`, `${…}`, `$(…)` kept verbatim.
    pub value: CompactString,
    /// File byte range of the word.
    pub span: Span,
    /// No parameter expansion, command substitution, arithmetic or glob in it.
    pub literal: bool,
}

/// The process a command runs in, as seen from the RUN's shell: what it changes in shell
/// state (variables, directory, options, functions, command hashing) reaches later commands
/// only from `Main`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Process {
    /// The shell that runs the RUN body.
    #[default]
    Main,
    /// A forked copy of it: `( … )`, `$( … )`, a pipeline element, a job sent to the background.
    Subshell,
    /// A new shell process: an `sh -c` payload, a heredoc fed to a shell.
    Child,
}

/// Where a command sits in the body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context {
    pub process: Process,
    /// It may not run although everything before it succeeded: a branch of `if`/`case`, a
    /// loop body, the right of `||`, a function body.
    pub conditional: bool,
    /// In a function body: it runs only when the function is called.
    pub in_function: bool,
}

impl Context {
    fn subshell(self) -> Context {
        Context {
            process: self.process.max(Process::Subshell),
            ..self
        }
    }

    fn child(self) -> Context {
        Context {
            process: Process::Child,
            ..self
        }
    }

    fn conditional(self) -> Context {
        Context {
            conditional: true,
            ..self
        }
    }
}

/// A redirection operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    /// `<`
    Read,
    /// `>`, `>|`
    Write,
    /// `>>`
    Append,
    /// `<>`
    ReadWrite,
    /// `<&`, `>&` (a file descriptor, or in bash `>& file`)
    Duplicate,
    /// `&>`, `&>>` (bash; in sh, `&` ends the command and `>` follows)
    OutputAndError,
}

/// A file redirection of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub kind: RedirectKind,
    /// The descriptor written before the operator (`2>`), if any.
    pub fd: Option<u32>,
    pub target: Word,
}

impl Redirect {
    /// Whether it may create or change the target file.
    pub fn writes(&self) -> bool {
        match self.kind {
            RedirectKind::Write
            | RedirectKind::Append
            | RedirectKind::ReadWrite
            | RedirectKind::OutputAndError => true,
            RedirectKind::Duplicate => !self
                .target
                .value
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'-'),
            RedirectKind::Read => false,
        }
    }
}

/// A simple command. Its lists are `ThinVec`s: most are empty, in millions of commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Prefix assignments (`A=1 B=2 cmd`), raw `NAME=value` words.
    pub env: ThinVec<Word>,
    pub program: Word,
    /// Arguments; redirections and their targets excluded.
    pub args: ThinVec<Word>,
    /// File redirections (heredocs and here-strings excluded).
    pub redirects: ThinVec<Redirect>,
    /// File span from the first prefix assignment or the program to the last argument.
    pub span: Span,
    /// Heredoc bodies fed to this command's stdin (`python - <<'PY'`), mapped to the file.
    pub stdin_heredocs: ThinVec<MappedText>,
    pub context: Context,
    /// The command (index in [`Script::commands`]) whose word or shell text holds this one:
    /// the shell of an `sh -c` payload or of a heredoc, the command whose argument holds a
    /// `$( … )`.
    pub parent: Option<usize>,
}

/// Shell state that is no command: what a merge of two RUNs would carry from one into the
/// next, and what the model must follow within a RUN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateKind {
    /// `NAME=value` with no command: a shell variable (in the environment when NAME is).
    Assignment(Word),
    /// `name() { … }`.
    Function(String),
    /// The variable of a `for`/`select` loop.
    LoopVariable(String),
    /// `(( … ))`, `for (( … ))`, `[[ … ]]` (`BASH_REMATCH`): bash state.
    Arithmetic,
    /// `… &`, `coproc`: a job still running when the next command starts.
    Background,
    /// A redirection of a compound command (`{ …; } > file`).
    Redirect(Redirect),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellState {
    pub kind: StateKind,
    /// File span of the construct (its first word for a background list).
    pub span: Span,
    pub context: Context,
}

/// The simple commands of a body, in source order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    pub commands: ThinVec<Command>,
    /// Bare assignments, functions, loop variables, background jobs, in source order.
    pub states: ThinVec<ShellState>,
    /// The last and-or list at the top level holds a compound command (`for`, `if`, `{ }`,
    /// `( )` …): under `set -e`, failures inside it no longer stop the shell once that list
    /// is joined to more commands with `&&`.
    pub tail_compound: bool,
    /// `Some(reason)` when brush-parser rejected the body (or shell text nested in it) and
    /// the tokeniser produced those commands: their contexts are then approximate.
    /// A boxed `str`, a word smaller than a `String`: every RUN's script has the field, and
    /// few set it.
    pub fallback: Option<Box<str>>,
}

impl Script {
    /// Gives back what parsing over-allocated: scripts live as long as their file's lint,
    /// and most hold one or two commands of a few words.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.commands.shrink_to_fit();
        self.states.shrink_to_fit();
        for command in &mut self.commands {
            command.env.shrink_to_fit();
            command.args.shrink_to_fit();
            command.redirects.shrink_to_fit();
            command.stdin_heredocs.shrink_to_fit();
        }
    }
}

/// Where a shell invocation reads its script from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellInput {
    /// The argument at this index (of the command's arguments) is shell text.
    CommandString(usize),
    /// Shell text comes on stdin (a heredoc).
    Stdin,
}

/// Which commands run shell text they are given. The shell layer knows only the shells
/// themselves ([`ShellsOnly`]); the model's command table also sees through `su -c`,
/// `sudo`, `env` and other wrappers.
pub trait Launchers {
    /// `args` are the values of the command's arguments.
    fn shell_input(&self, program: &str, args: &[&str]) -> Option<ShellInput>;
}

/// `sh`, `bash`, `dash`, `ash` (any directory) and nothing else.
pub struct ShellsOnly;

impl Launchers for ShellsOnly {
    fn shell_input(&self, program: &str, args: &[&str]) -> Option<ShellInput> {
        let name = program.rsplit('/').next().unwrap_or_default();
        matches!(name, "sh" | "bash" | "dash" | "ash")
            .then(|| shell_options_input(args))
            .flatten()
    }
}

/// Where a POSIX shell given these arguments reads its script: `-c` takes the first operand,
/// no operand (or `-s`) means stdin, a script file operand means neither.
pub fn shell_options_input(args: &[&str]) -> Option<ShellInput> {
    let (mut command_string, mut stdin) = (false, false);
    let mut i = 0;
    while let Some(&arg) = args.get(i) {
        i += 1;
        if arg == "--" || arg == "-" {
            break;
        }
        if arg.starts_with("--") {
            continue;
        }
        let Some(flags) = arg.strip_prefix('-').or_else(|| arg.strip_prefix('+')) else {
            i -= 1;
            break;
        };
        command_string |= arg.starts_with('-') && flags.contains('c');
        stdin |= flags.contains('s');
        // `-o pipefail`, `-O extglob`: the option name is the next argument.
        if flags.contains(['o', 'O']) {
            i += 1;
        }
    }
    match (command_string, stdin || i >= args.len()) {
        (true, _) => (i < args.len()).then_some(ShellInput::CommandString(i)),
        (false, true) => Some(ShellInput::Stdin),
        (false, false) => None,
    }
}

/// Parses a shell-form RUN body (BuildKit-joined text, a heredoc script, or BuildKit's
/// `cmdline + "\n" + heredoc + TERMINATOR`), entering plain shells only.
pub fn parse(body: &MappedText) -> Script {
    parse_with(body, &ShellsOnly)
}

/// [`parse`], entering the shell text of whatever `launchers` says runs some.
pub fn parse_with(body: &MappedText, launchers: &dyn Launchers) -> Script {
    let mut script = Script::default();
    let mut parser = Parser {
        launchers,
        script: &mut script,
    };
    let (fallback, tail_compound) = parser.text(body, 0, Context::default(), None);
    script.fallback = fallback.map(String::into_boxed_str);
    script.tail_compound = tail_compound;
    script.shrink_to_fit();
    script
}

/// Exec-form RUN: each element is the unescaped JSON string (mapped to the file). A shell
/// with `-c` (as `launchers` sees it) parses the payload; anything else is one command.
pub fn parse_exec(argv: &[MappedText], launchers: &dyn Launchers) -> Script {
    let mut script = Script::default();
    let mut words = argv.iter().map(exec_word);
    let Some(program) = words.next() else {
        return script;
    };
    let args: ThinVec<Word> = words.collect();
    let span = program.span.start..args.last().map_or(program.span.end, |w| w.span.end);
    let values: Vec<&str> = args.iter().map(|w| w.value.as_str()).collect();
    let payload = match launchers.shell_input(&program.value, &values) {
        Some(ShellInput::CommandString(i)) => argv.get(i + 1),
        _ => None,
    };
    script.commands.push(Command {
        env: ThinVec::new(),
        program,
        args,
        redirects: ThinVec::new(),
        span,
        stdin_heredocs: ThinVec::new(),
        context: Context::default(),
        parent: None,
    });
    if let Some(payload) = payload {
        let mut parser = Parser {
            launchers,
            script: &mut script,
        };
        let (fallback, _) = parser.text(payload, 1, Context::default().child(), Some(0));
        script.fallback = fallback.map(|reason| nested_reason(reason).into_boxed_str());
    }
    script.shrink_to_fit();
    script
}

/// Exec form has no shell: every element is literal, its value its text.
fn exec_word(element: &MappedText) -> Word {
    let span = element.span_to_file(0..element.len());
    Word {
        raw: element.as_str().into(),
        value: element.as_str().into(),
        span,
        literal: true,
    }
}

/// A simple command as body byte ranges, before its words are built.
#[derive(Debug, Default)]
struct RawCommand {
    /// Prefix assignments, program, arguments (most commands have a few: held inline).
    words: SmallVec<[Range<usize>; 6]>,
    env_count: usize,
    /// Heredocs on the command's stdin.
    heredocs: Vec<HeredocBody>,
    /// Words searched only for command substitutions (redirection targets, `for` lists).
    subst_only: Vec<Range<usize>>,
    redirects: Vec<RawRedirect>,
    context: Context,
}

impl RawCommand {
    /// No word to run or to search: nothing the model sees.
    fn is_empty(&self) -> bool {
        self.words.is_empty() && self.subst_only.is_empty()
    }
}

#[derive(Debug, Clone)]
struct RawRedirect {
    kind: RedirectKind,
    fd: Option<u32>,
    target: Range<usize>,
}

/// Shell state as body byte ranges.
#[derive(Debug)]
struct RawState {
    kind: RawStateKind,
    range: Range<usize>,
    context: Context,
}

#[derive(Debug)]
enum RawStateKind {
    Function(String),
    LoopVariable(String),
    Arithmetic,
    Background,
    Redirect(RawRedirect),
}

/// What the adapter or the tokeniser found in one text.
#[derive(Debug, Default)]
struct RawScript {
    commands: Vec<RawCommand>,
    states: Vec<RawState>,
    tail_compound: bool,
}

#[derive(Debug, Clone)]
struct HeredocBody {
    /// The content lines in the body, terminator excluded.
    content: Range<usize>,
    /// `<<-`: leading tabs are not part of the text.
    strip_tabs: bool,
}

/// Shell text nested deeper than this (`sh -c "sh -c '…'"`, `$( $( ) )`) is not entered.
const MAX_NESTING: u8 = 8;

struct Parser<'a> {
    launchers: &'a dyn Launchers,
    script: &'a mut Script,
}

impl Parser<'_> {
    /// Appends the commands of `body` (run in `context`, held by the command `parent`);
    /// returns the fallback reason, if any, and whether its last list holds a compound command.
    fn text(
        &mut self,
        body: &MappedText,
        depth: u8,
        context: Context,
        parent: Option<usize>,
    ) -> (Option<String>, bool) {
        let text = body.as_str();
        let (raw, mut fallback) = if fallback::is_plain(text) {
            (fallback::tokenise(text, 0..text.len()), None)
        } else {
            match adapter::simple_commands(text) {
                Ok(raw) => (raw, None),
                Err(reason) => (fallback::tokenise(text, 0..text.len()), Some(reason)),
            }
        };
        let under = |c: Context| Context {
            process: c.process.max(context.process),
            conditional: c.conditional || context.conditional,
            in_function: c.in_function || context.in_function,
        };
        for state in &raw.states {
            let kind = match &state.kind {
                RawStateKind::Function(name) => StateKind::Function(name.clone()),
                RawStateKind::LoopVariable(name) => StateKind::LoopVariable(name.clone()),
                RawStateKind::Arithmetic => StateKind::Arithmetic,
                RawStateKind::Background => StateKind::Background,
                RawStateKind::Redirect(r) => StateKind::Redirect(build_redirect(body, r)),
            };
            self.script.states.push(ShellState {
                kind,
                span: body.span_to_file(state.range.clone()),
                context: under(state.context),
            });
        }
        if depth == 0 {
            // The body's own commands, sized once: most scripts are one command (no room for
            // the four a first push makes), and a script of millions is not copied at each
            // doubling. Nested texts, which come from these, are not: an exact reserve for
            // each would copy the list once per `$( )`.
            self.script.commands.reserve_exact(raw.commands.len());
        }
        for command in &raw.commands {
            let nested = self.command(body, command, depth, under(command.context), parent);
            if fallback.is_none() {
                fallback = nested.map(nested_reason);
            }
        }
        (fallback, raw.tail_compound)
    }

    /// Builds the command of `raw` and the commands nested in it, appending them in source
    /// order; returns a nested fallback reason, if any.
    fn command(
        &mut self,
        body: &MappedText,
        raw: &RawCommand,
        depth: u8,
        context: Context,
        parent: Option<usize>,
    ) -> Option<String> {
        let (command, mut substitutions) = build_command(body, raw, context, parent);
        let first_nested = self.script.commands.len() + usize::from(command.is_some());
        let mut reason = None;
        let Some(mut command) = command else {
            // An assignment-only command: shell variables, and the substitutions they run.
            for range in raw.words.iter().take(raw.env_count) {
                let (word, _) = build_word(body, range.clone());
                self.script.states.push(ShellState {
                    span: word.span.clone(),
                    kind: StateKind::Assignment(word),
                    context,
                });
            }
            for substitution in substitutions {
                let nested =
                    self.nested(&body.slice(substitution), depth, context.subshell(), parent);
                reason = reason.or(nested);
            }
            return reason;
        };
        let input = {
            let values: SmallVec<[&str; 8]> =
                command.args.iter().map(|w| w.value.as_str()).collect();
            self.launchers.shell_input(&command.program.value, &values)
        };
        let index = self.script.commands.len();
        let mut payload = None;
        if let Some(ShellInput::CommandString(i)) = input {
            if let Some(range) = raw.words.get(raw.env_count + 1 + i) {
                // Substitutions inside the payload are found by parsing it.
                substitutions.retain(|s| !(range.start <= s.start && s.end <= range.end));
                payload = Some(unquoted_text(body, range.clone()));
            }
        }
        let mut shell_heredocs = Vec::new();
        for heredoc in &raw.heredocs {
            let script = heredoc_text(body, heredoc);
            match input {
                Some(ShellInput::Stdin) => shell_heredocs.push(script),
                // An empty heredoc has nothing to look inside.
                _ if !script.is_empty() => command.stdin_heredocs.push(script),
                _ => {}
            }
        }
        self.script.commands.push(command);
        for substitution in substitutions {
            let nested = self.nested(
                &body.slice(substitution),
                depth,
                context.subshell(),
                Some(index),
            );
            reason = reason.or(nested);
        }
        for text in payload.iter().chain(&shell_heredocs) {
            let nested = self.nested(text, depth, context.child(), Some(index));
            reason = reason.or(nested);
        }
        self.sort_from(first_nested);
        reason
    }

    fn nested(
        &mut self,
        text: &MappedText,
        depth: u8,
        context: Context,
        parent: Option<usize>,
    ) -> Option<String> {
        if depth >= MAX_NESTING {
            return None;
        }
        self.text(text, depth + 1, context, parent).0
    }

    /// Puts the commands from `start` on in source order, keeping their parent links.
    fn sort_from(&mut self, start: usize) {
        let commands = &mut self.script.commands;
        if commands.len() <= start + 1 {
            return;
        }
        let tail: Vec<Command> = commands.drain(start..).collect();
        let mut order: Vec<usize> = (0..tail.len()).collect();
        order.sort_by_key(|&i| tail[i].span.start);
        let mut new_index = vec![0; tail.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = start + new;
        }
        let mut slots: Vec<Option<Command>> = tail.into_iter().map(Some).collect();
        for &old in &order {
            let Some(mut command) = slots[old].take() else {
                continue;
            };
            if let Some(parent) = command.parent.filter(|&p| p >= start) {
                command.parent = Some(new_index[parent - start]);
            }
            commands.push(command);
        }
    }
}

fn nested_reason(reason: String) -> String {
    const PREFIX: &str = "in nested shell text: ";
    if reason.starts_with(PREFIX) {
        reason
    } else {
        format!("{PREFIX}{reason}")
    }
}

/// The command of `raw` (`None` when it only assigns) and the body ranges of the scripts in
/// its command substitutions.
fn build_command(
    body: &MappedText,
    raw: &RawCommand,
    context: Context,
    parent: Option<usize>,
) -> (Option<Command>, Vec<Range<usize>>) {
    let mut substitutions = Vec::new();
    let mut add_substitutions = |facts: lex::WordFacts, at: usize| {
        substitutions.extend(facts.substitutions.into_iter().map(|s| shift(s, at)));
    };
    let mut words = SmallVec::<[Word; 4]>::with_capacity(raw.words.len());
    for range in &raw.words {
        let (word, facts) = build_word(body, range.clone());
        add_substitutions(facts, range.start);
        words.push(word);
    }
    for range in &raw.subst_only {
        add_substitutions(
            lex::unquote(&body.as_str()[range.clone()], &mut |_| {}),
            range.start,
        );
    }
    let command = command_from_words(words, raw.env_count).map(|mut command| {
        command.redirects = raw
            .redirects
            .iter()
            .map(|r| build_redirect(body, r))
            .collect();
        command.context = context;
        command.parent = parent;
        command
    });
    (command, substitutions)
}

fn build_redirect(body: &MappedText, raw: &RawRedirect) -> Redirect {
    Redirect {
        kind: raw.kind,
        fd: raw.fd,
        target: build_word(body, raw.target.clone()).0,
    }
}

fn shift(range: Range<usize>, by: usize) -> Range<usize> {
    range.start + by..range.end + by
}

fn build_word(body: &MappedText, range: Range<usize>) -> (Word, lex::WordFacts) {
    let raw = &body.as_str()[range.clone()];
    let (value, facts) = lex::unquoted_value(raw);
    let word = Word {
        raw: raw.into(),
        value,
        span: body.span_to_file(range),
        literal: facts.literal,
    };
    (word, facts)
}

/// `None` for an assignment-only command.
fn command_from_words(words: SmallVec<[Word; 4]>, env_count: usize) -> Option<Command> {
    let mut words = words.into_iter();
    let env: ThinVec<Word> = words.by_ref().take(env_count).collect();
    let program = words.next()?;
    // A thin vector collects exactly as many as there are.
    let args: ThinVec<Word> = words.collect();
    let start = env.first().map_or(program.span.start, |w| w.span.start);
    let end = args.last().map_or(program.span.end, |w| w.span.end);
    Some(Command {
        env,
        program,
        args,
        redirects: ThinVec::new(),
        span: start..end.max(start),
        stdin_heredocs: ThinVec::new(),
        context: Context::default(),
        parent: None,
    })
}

/// The value of the word at `range` as shell text mapped to the file (quoted content maps
/// byte for byte; escapes map to the escaped character).
fn unquoted_text(body: &MappedText, range: Range<usize>) -> MappedText {
    let mut out = MappedText::new();
    let start = range.start;
    lex::unquote(&body.as_str()[range], &mut |piece| match piece {
        lex::Piece::Source(r) => out.append_slice(body, shift(r, start)),
        lex::Piece::Decoded(c, at) => {
            out.push_synthetic(c.encode_utf8(&mut [0; 4]), body.to_file(start + at));
        }
    });
    out
}

/// Heredoc content as shell text mapped to the file (leading tabs dropped for `<<-`).
fn heredoc_text(body: &MappedText, heredoc: &HeredocBody) -> MappedText {
    if !heredoc.strip_tabs {
        return body.slice(heredoc.content.clone());
    }
    let mut out = MappedText::new();
    let content = &body.as_str()[heredoc.content.clone()];
    let mut line_start = heredoc.content.start;
    for line in content.split_inclusive('\n') {
        let tabs = line.len() - line.trim_start_matches('\t').len();
        out.append_slice(body, line_start + tabs..line_start + line.len());
        line_start += line.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bodies in tests start at this file offset, so spans are checked through the map.
    const BASE: usize = 1000;

    fn body(text: &str) -> MappedText {
        MappedText::contiguous(text, BASE)
    }

    /// Parses and checks that every word's span slices to its raw text.
    fn parsed(text: &str) -> Script {
        let script = parse(&body(text));
        assert_spans_slice_raw(&script, text);
        script
    }

    /// Spans slice to the raw text (words of an `sh -c` payload map over the quotes, `$'`,
    /// escapes and continuations of the outer word, so those are left out of the comparison).
    fn assert_spans_slice_raw(script: &Script, text: &str) {
        let unquoted = |s: &str| s.replace(['\\', '\'', '"', '$', '\n'], "");
        for command in &script.commands {
            for word in command
                .env
                .iter()
                .chain([&command.program])
                .chain(&command.args)
            {
                let span = word.span.start - BASE..word.span.end - BASE;
                let in_file = text.get(span).map(unquoted);
                assert_eq!(in_file, Some(unquoted(&word.raw)), "{word:?} in {text:?}");
            }
        }
    }

    fn programs(script: &Script) -> Vec<&str> {
        script
            .commands
            .iter()
            .map(|c| c.program.value.as_str())
            .collect()
    }

    /// Commands as `program arg…` of values.
    fn lines(script: &Script) -> Vec<String> {
        let words = |c: &Command| {
            let mut v = vec![c.program.value.clone()];
            v.extend(c.args.iter().map(|a| a.value.clone()));
            v.join(" ")
        };
        script.commands.iter().map(words).collect()
    }

    fn file_text(text: &str, span: &Span) -> String {
        text[span.start - BASE..span.end - BASE].to_owned()
    }

    #[test]
    fn flattens_every_construct_in_source_order() {
        let text = "a && b || c; d & e | f; ! g; (h); { i; }; \
            if j; then k; elif l; then m; else n; fi; for x in 1 2; do o; done; \
            while p; do q; done; until r; do s; done; case $x in a) t;; b|c) u;; esac; \
            fn() { v; }; for ((i=0;i<3;i++)); do w; done; function y { x1; }";
        let script = parsed(text);
        assert_eq!(script.fallback, None);
        let expected: Vec<&str> = "a b c d e f g h i j k l m n o p q r s t u v w x1"
            .split(' ')
            .collect();
        assert_eq!(programs(&script), expected);
    }

    #[test]
    fn words_env_and_spans() {
        let text = "A=1 B='x y' make -j4 \"CFLAGS=-O2\" 2>&1 >/dev/null install && C=3";
        let script = parsed(text);
        let [make] = script.commands.as_slice() else {
            panic!("{script:?}")
        };
        assert_eq!(
            make.env.iter().map(|w| w.raw.as_str()).collect::<Vec<_>>(),
            ["A=1", "B='x y'"]
        );
        assert_eq!(make.env[1].value, "B=x y");
        assert_eq!(lines(&script), ["make -j4 CFLAGS=-O2 install"]);
        assert_eq!(make.args[1].raw, "\"CFLAGS=-O2\"");
        assert_eq!(
            file_text(text, &make.span),
            "A=1 B='x y' make -j4 \"CFLAGS=-O2\" 2>&1 >/dev/null install"
        );
    }

    #[test]
    fn values_unquote_and_literal_flags() {
        let text = r#"echo plain 'single $x' "double $HOME \"q\" \$ok" ${A:-b} $(id -u) \ esc *.txt $'a\tb' `date`"#;
        let script = parsed(text);
        let words: Vec<(&str, bool)> = script.commands[0]
            .args
            .iter()
            .map(|w| (w.value.as_str(), w.literal))
            .collect();
        assert_eq!(
            words,
            [
                ("plain", true),
                ("single $x", true),
                ("double $HOME \"q\" $ok", false),
                ("${A:-b}", false),
                ("$(id -u)", false),
                (" esc", true),
                ("*.txt", false),
                ("a\tb", true),
                ("`date`", false),
            ]
        );
        // Commands inside substitutions are commands too.
        assert_eq!(programs(&script), ["echo", "id", "date"]);
    }

    #[test]
    fn non_ascii_text_before_words_maps_to_bytes() {
        let text = "echo \"héllo wörld — ✓\" && pip install torch # ünïcode\nécho x";
        let script = parsed(text);
        assert_eq!(
            lines(&script),
            ["echo héllo wörld — ✓", "pip install torch", "écho x"]
        );
        let torch = &script.commands[1].args[1];
        assert_eq!(file_text(text, &torch.span), "torch");
    }

    #[test]
    fn word_starts_after_continuations_and_heredoc_operators_are_normalised() {
        let text = "<<EOT bash\nset -e\napt-get install \\\n    foo \\\n  bar\nEOT";
        let script = parsed(text);
        assert_eq!(
            lines(&script),
            ["bash", "set -e", "apt-get install foo bar"]
        );
        assert_eq!(file_text(text, &script.commands[0].program.span), "bash");
        assert_eq!(file_text(text, &script.commands[2].args[1].span), "foo");
    }

    #[test]
    fn words_mangled_after_a_heredoc_are_repaired() {
        let text = "cat <<EOF >> \"${HOME}/.bashrc\"\nexport A=1\nEOF";
        let script = parsed(text);
        assert_eq!(lines(&script), ["cat"]);
        let [doc] = script.commands[0].stdin_heredocs.as_slice() else {
            panic!("{script:?}")
        };
        assert_eq!(doc.as_str(), "export A=1\n");
        assert_eq!(
            doc.to_file(0),
            BASE + text.find("export").unwrap_or_default()
        );

        let text = "cat <<EOF > /etc/x && echo \"${A}\" $(id) x\nhi\nEOF";
        let script = parsed(text);
        assert_eq!(lines(&script), ["cat", "echo ${A} $(id) x", "id"]);
        assert_eq!(script.commands[0].stdin_heredocs[0].as_str(), "hi\n");
    }

    #[test]
    fn rejected_bodies_fall_back_to_the_tokeniser() {
        let text = "curl -L https://x/go$(case $(uname -m) in x86_64) echo amd64 ;; esac).tar.gz \
            | tar xz && pip install torch";
        let script = parsed(text);
        assert!(script.fallback.is_some());
        let lines = lines(&script);
        assert!(
            lines[0].starts_with("curl -L https://x/go$(case"),
            "{lines:?}"
        );
        assert!(lines.contains(&"tar xz".to_owned()), "{lines:?}");
        assert_eq!(lines.last().map(String::as_str), Some("pip install torch"));
    }

    #[test]
    fn tokeniser_splits_commands_words_and_heredocs() {
        let text = "A=1 x 'a b'\"c\" >out 2>&1 <in; y|z&&w||v & if a; then b; fi\n\
            case $k in (p) c1 ;; q) c2;; esac; for i in $(ls); do d; done; f() { g; }\n\
            cat <<-EOF | sh\n\tdoc line\n\tEOF\nlast # comment";
        let raws = fallback::tokenise(text, 0..text.len()).commands;
        let words: Vec<Vec<&str>> = raws
            .iter()
            .map(|r| r.words.iter().map(|w| &text[w.clone()]).collect())
            .collect();
        let expected: Vec<Vec<&str>> = vec![
            vec!["A=1", "x", "'a b'\"c\""],
            vec!["y"],
            vec!["z"],
            vec!["w"],
            vec!["v"],
            vec!["a"],
            vec!["b"],
            vec![],
            vec!["c1"],
            vec!["c2"],
            vec![],
            vec!["d"],
            vec!["g"],
            vec!["cat"],
            vec!["sh"],
            vec!["last"],
        ];
        assert_eq!(words, expected);
        assert_eq!(raws[0].env_count, 1);
        let doc = &raws[13].heredocs[0];
        assert_eq!(&text[doc.content.clone()], "\tdoc line\n");
        assert!(doc.strip_tabs);
    }

    #[test]
    fn tokeniser_holds_no_room_for_empty_commands() {
        // Each `;` and blank line ends an empty command: 50 MB of them once held 10 GB.
        let text = format!(
            "echo a{}\n{}echo b",
            " ;".repeat(100_000),
            "\n".repeat(100_000)
        );
        let raws = fallback::tokenise(&text, 0..text.len()).commands;
        assert_eq!(raws.len(), 2);
        assert!(
            raws.capacity() <= 3,
            "room for {} commands",
            raws.capacity()
        );
        // An empty command that owns a heredoc keeps its place until the body is read, so
        // the body goes to no other command.
        let text = "cat <<A; <<B\nto cat\nA\nto nobody\nB\nwc";
        let raws = fallback::tokenise(text, 0..text.len()).commands;
        let bodies: Vec<Vec<&str>> = raws
            .iter()
            .map(|r| {
                r.heredocs
                    .iter()
                    .map(|h| &text[h.content.clone()])
                    .collect()
            })
            .collect();
        assert_eq!(bodies, [vec!["to cat\n"], vec![]]);
    }

    #[test]
    fn shell_payloads_are_parsed_too() {
        let text = "sh -c 'apt-get update && apt-get install -y curl' && \
            /bin/bash -ec \"pip install \\\"torch==2.0\\\" && echo \\$HOME\" && \
            bash -o pipefail -xc 'wget -O- x | tar x' && sh script.sh";
        let script = parsed(text);
        assert_eq!(
            programs(&script),
            [
                "sh",
                "apt-get",
                "apt-get",
                "/bin/bash",
                "pip",
                "echo",
                "bash",
                "wget",
                "tar",
                "sh"
            ]
        );
        let curl = &script.commands[2].args[2];
        assert_eq!(curl.raw, "curl");
        assert_eq!(file_text(text, &curl.span), "curl");
        // Double-quoted payloads map over their escapes.
        let torch = &script.commands[4].args[1];
        assert_eq!(torch.value, "torch==2.0");
        assert_eq!(file_text(text, &torch.span), "\"torch==2.0\\\"");
        assert_eq!(script.commands[5].args[0].value, "$HOME");
        assert_eq!(file_text(text, &script.commands[5].args[0].span), "$HOME");
    }

    #[test]
    fn heredocs_feed_shells_or_are_kept_for_the_caller() {
        let text = "bash <<EOF\npip install x\nEOF\npython3 - <<'PY'\nimport os\nPY\ncat <<-EOT\n\tA\n\tEOT";
        let script = parsed(text);
        assert_eq!(
            lines(&script),
            ["bash", "pip install x", "python3 -", "cat"]
        );
        let py = &script.commands[2].stdin_heredocs[0];
        assert_eq!(py.as_str(), "import os\n");
        assert_eq!(
            py.span_to_file(0..6),
            BASE + text.find("import").unwrap_or_default()
                ..BASE + 6 + text.find("import").unwrap_or_default()
        );
        let tabbed = &script.commands[3].stdin_heredocs[0];
        assert_eq!(tabbed.as_str(), "A\n");
        assert_eq!(
            tabbed.to_file(0),
            BASE + text.find("A\n").unwrap_or_default()
        );
    }

    #[test]
    fn assignment_only_commands_are_dropped_but_their_substitutions_kept() {
        let script = parsed("A=1; V=$(curl -s x | jq .v) && echo $V > f");
        assert_eq!(lines(&script), ["curl -s x", "jq .v", "echo $V"]);
    }

    #[test]
    fn exec_form() {
        let argv = |items: &[&str]| -> Vec<MappedText> {
            let mut at = BASE;
            items
                .iter()
                .map(|s| {
                    let m = MappedText::contiguous(s, at);
                    at += s.len() + 4;
                    m
                })
                .collect()
        };
        let script = parse_exec(
            &argv(&["python", "-m", "pip", "install", "$X"]),
            &ShellsOnly,
        );
        assert_eq!(lines(&script), ["python -m pip install $X"]);
        assert!(script.commands[0].args[3].literal);
        let script = parse_exec(
            &argv(&["/bin/sh", "-ec", "apt-get update && pip install x"]),
            &ShellsOnly,
        );
        assert_eq!(
            lines(&script),
            [
                "/bin/sh -ec apt-get update && pip install x",
                "apt-get update",
                "pip install x"
            ]
        );
        assert_eq!(
            script.commands[2].program.span.start,
            BASE + 6 + 4 + 3 + 4 + 19
        );
        assert_eq!(parse_exec(&[], &ShellsOnly), Script::default());
    }

    #[test]
    fn spans_map_through_joined_continuation_lines() {
        // File: `RUN sh -c 'apt-get install \` / `    curl' && pip \` / `  install x`
        let file = "RUN sh -c 'apt-get install \\\n    curl' && pip \\\n  install x";
        let mut body = MappedText::new();
        let mut at = 4;
        for line in file[4..].split("\\\n") {
            body.push(line, at);
            at += line.len() + 2;
        }
        assert_eq!(
            body.as_str(),
            "sh -c 'apt-get install     curl' && pip   install x"
        );
        let script = parse(&body);
        assert_eq!(
            lines(&script),
            [
                "sh -c apt-get install     curl",
                "apt-get install curl",
                "pip install x"
            ]
        );
        let in_file = |span: &Span| &file[span.clone()];
        let [sh, apt, pip] = script.commands.as_slice() else {
            panic!("{script:?}")
        };
        assert_eq!(in_file(&apt.args[1].span), "curl");
        assert_eq!(in_file(&apt.program.span), "apt-get");
        assert_eq!(
            in_file(&sh.span),
            &file[4..file.find(" &&").unwrap_or_default()]
        );
        assert_eq!(in_file(&pip.span), "pip \\\n  install x");
    }

    type PlainSummary = (Vec<(Vec<Range<usize>>, usize, Context)>, usize);

    /// Commands (words, assignments, context) and background jobs: what the plain path and
    /// brush must agree on.
    fn plain_summary(raw: RawScript) -> PlainSummary {
        let commands = raw
            .commands
            .into_iter()
            .filter(|r| !r.words.is_empty())
            .map(|r| (r.words.to_vec(), r.env_count, r.context))
            .collect();
        let jobs = raw
            .states
            .iter()
            .filter(|s| matches!(s.kind, RawStateKind::Background))
            .count();
        (commands, jobs)
    }

    #[test]
    fn plain_text_takes_the_tokeniser_with_the_same_result() {
        let plain = [
            "apt-get update && apt-get install -y curl git && rm -rf /var/lib/apt/lists/*",
            "A=1 B=x/y make -j4 install; make clean & wait\nls -la | grep x || true # done",
            "pip install -U pip==24.0 setuptools wheel",
            "echo done && echo if then fi in for time",
            "A=1 make install; ls [[ ]] esac",
            // A list goes on past a newline after `&&`, `||` and `|` (and blank lines and
            // comments after them): the next command is still conditional, or piped.
            "test -f x ||\nexport A=1",
            "ls |\n  grep x && echo y",
            "a &&\n\n# why\nb || c |\nd",
            "a || b | c | d; e | f",
        ];
        for text in plain {
            assert!(fallback::is_plain(text), "{text:?}");
            let by_brush = adapter::simple_commands(text).map(plain_summary);
            assert_eq!(
                by_brush,
                Ok(plain_summary(fallback::tokenise(text, 0..text.len())))
            );
        }
        let not_plain = [
            "a && && b",
            "a &&",
            "| a",
            "a ;; b",
            "echo 'q'",
            "echo $X",
            "a#b",
            "if x; then y; fi",
            "done",
            "echo a; done",
            "echo a && time ls",
            "A=1 B=2 if x",
            "a > f",
            "(a)",
            "{ a; }",
            "a\\ b",
            "é",
        ];
        for text in not_plain {
            assert!(!fallback::is_plain(text), "{text:?}");
        }
    }

    /// Bodies from the research notes on real Dockerfiles that parsers get wrong.
    #[test]
    fn real_world_regressions() {
        let cases: [(&str, &[&str]); 9] = [
            ("for a in b; do for c in d; do e; done done && mv x y", &["e", "mv x y"]),
            (
                "cat /proc/self/fd/5 /proc/self/fd/6 5<<FILE1 6<<FILE2 > test6.txt\na\nFILE1\nb\nFILE2",
                &["cat /proc/self/fd/5 /proc/self/fd/6"],
            ),
            ("dnf install -y cuda-toolkit-${CUDA12VERSION//./-}", &["dnf install -y cuda-toolkit-${CUDA12VERSION//./-}"]),
            ("if [[ -v WIPE_CACHE ]]; then rm -rf /c; fi", &["rm -rf /c"]),
            (
                "[ \"$(printf '%x' $(( $(cat /proc/self/status | grep CapBnd) & 0x3f)))\" == 3f ]",
                &[
                    "[ $(printf '%x' $(( $(cat /proc/self/status | grep CapBnd) & 0x3f))) == 3f ]",
                    "printf %x $(( $(cat /proc/self/status | grep CapBnd) & 0x3f))",
                    "cat /proc/self/status",
                    "grep CapBnd",
                ],
            ),
            ("echo >&2 \"msg\" && xargs -rt < file apt-get install", &["echo msg", "xargs -rt apt-get install"]),
            ("! { a; } && b", &["a", "b"]),
            // brush re-renders the blanks of these words; their spans are still right.
            (
                "runDeps=\"$( \t\tscanelf --needed /usr/local \t\t\t| sort -u \t)\" && apk add $runDeps",
                &["scanelf --needed /usr/local", "sort -u", "apk add $runDeps"],
            ),
            (
                "for s in $(shuf -e  a \t b); do gpg --keyserver \"$s\" && break; done",
                &["shuf -e a b", "gpg --keyserver $s", "break"],
            ),
        ];
        for (text, expected) in cases {
            let script = parsed(text);
            assert_eq!(script.fallback, None, "{text:?}");
            assert_eq!(lines(&script), expected, "{text:?}");
        }
    }

    /// Bodies used by the tests above and the panic sweep below.
    const SAMPLES: &[&str] = &[
        "cat <<EOF >> \"${HOME}/.bashrc\"\nhello\nEOF",
        "curl -L https://x/go$(case $(uname -m) in x86_64) echo amd64 ;; esac).tar.gz | tar xz && pip install torch",
        "<<EOT bash\nset -e\napt-get install \\\n    foo \\\n  bar\nEOT",
        "echo \"héllo wörld — ✓\" && pip install torch # ünïcode\nécho x",
        "sh -c 'apt-get update && apt-get install -y curl' && /bin/bash -ec \"pip install \\\"t\\\" && echo \\$H\"",
        "if [ -f x ]; then for i in $(seq 3); do echo $i; done; elif [[ $a == b ]]; then :; fi",
        "case \"$(uname -m)\" in x86_64|amd64) A=1 ;; *) exit 1 ;; esac; f() { g \"$@\"; }",
        "python3 - <<'PY'\nimport os\nprint(os.environ)\nPY\ncat <<-EOT\n\tA\n\tEOT",
        "echo ${x//a/b} $((1+2)) $'q\\'t' `id` <(ls) >(cat) &> log; (( i++ ))",
        "cat /proc/self/fd/5 5<<FILE1 6<<FILE2 > test6.txt\na\nFILE1\nb\nFILE2",
        "X=$(printf '%x' $(( $(cat /proc/x | grep C) & 0x3f )))",
        "'unbalanced \"quote $( ${ ` \\",
        "echo $(( ; <<",
        "<< ",
        "\\",
        "a=(1 2 3) b[1]=x c+=y cmd",
        "12345678901>x; 9999999999999<&2",
        "for ((;;)); do break; done; until false; do :; done; select a in b; do c; done",
        "coproc cat; time ls; ! true | false",
        "{ echo; } > f 2>&1; while read l; do echo $l; done < <(cmd) <<<\"$(here)\"",
    ];

    #[test]
    fn never_panics_on_prefixes_and_mutations() {
        let mut texts: Vec<String> = SAMPLES.iter().map(|s| s.to_string()).collect();
        let garbage = [
            "((((((((", "$(((", "\"$(\"", "`", "'", "${", "<<'", "<<-", ")", "}", "esac", "done",
            "\\\n",
        ];
        texts.extend(garbage.iter().map(|g| g.repeat(3)));
        for text in &texts {
            for (end, _) in text.char_indices().chain([(text.len(), ' ')]) {
                let prefix = &text[..end];
                check_no_panic(prefix);
                for insert in ["'", "\"", "$(", ")", "\n", "<<E\n", "\\", "é"] {
                    check_no_panic(&format!("{prefix}{insert}{}", &text[end..]));
                }
            }
        }
    }

    /// Inputs that make brush-parser 0.4.0 loop forever, recurse without bound, take
    /// exponential time or panic: they must reach the tokeniser instead.
    #[test]
    fn inputs_brush_cannot_take_are_screened() {
        let cases = [
            "cat <<\"\" ",
            "cat <<\"\" $(x) ",
            "$(<<\t e ",
            "$(x <<  i)\t",
            "\"$(x <<  i)\"\t",
            "${<<''} ",
            "<<$[  ",
            "<<\"'\" ",
            "<<<<<\"\" ",
            "\\<<<'' ",
            "\"<<\"<<\"\" ",
            "$[))<<  i|$[",
            "#<<<${\n<<\"\" ",
            "echo 12345678901>x",
            &"(".repeat(30),
            &"case a in b) ".repeat(30),
            &"{ ".repeat(200),
        ];
        for text in cases {
            let started = std::time::Instant::now();
            let script = parse(&body(text));
            assert!(script.fallback.is_some(), "{text:?}");
            assert!(started.elapsed().as_secs() < 2, "{text:?}");
        }
    }

    #[test]
    fn never_panics_on_random_garbage() {
        const ALPHABET: &[&str] = &[
            " ", "\n", "\t", "a", "é", "'", "\"", "`", "\\", "$", "(", ")", "{", "}", "[", "]",
            "<", ">", "<<", "EOF", "|", "&", ";", "#", "=", "*", "if ", "then ", "fi", "case ",
            " in ", "esac", "do ", "done", "sh -c ", "1", "-", "~", "\"\"", "''", "<<-", "$(",
            "${", "$((", "))", "2>&1", "&&", "||", ";;", ":", "$[",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3000 {
            let len = next() % 80;
            let text: String = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            check_no_panic(&text);
        }
    }

    fn check_no_panic(text: &str) {
        let script = parse(&body(text));
        assert_spans_slice_raw(&script, text);
        let argv = [
            MappedText::contiguous("sh", BASE),
            MappedText::contiguous("-c", BASE),
            body(text),
        ];
        let _ = parse_exec(&argv, &ShellsOnly);
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        for unit in [
            "$(",
            "(",
            "{ ",
            "if a; then ",
            "\"$(",
            "${",
            "$((",
            "case a in b) ",
        ] {
            check_no_panic(&unit.repeat(5000));
            check_no_panic(&format!("echo {}", unit.repeat(5000)));
        }
    }

    /// Synthetic bodies shaped like real RUN instructions (joined continuations, heredocs,
    /// control flow, nested shells).
    fn synthetic_bodies(count: usize) -> Vec<String> {
        let shapes = [
            "apt-get update && apt-get install -y --no-install-recommends curl ca-certificates git \
             build-essential python3-dev && rm -rf /var/lib/apt/lists/*",
            "set -eux; pip install --no-cache-dir -r requirements.txt && pip install \"torch==2.3.0\" \
             --index-url https://download.pytorch.org/whl/cu121",
            "if [ \"$TARGETARCH\" = \"arm64\" ]; then ARCH=aarch64; else ARCH=x86_64; fi && \
             curl -fsSL \"https://example.com/tool-${VERSION}-${ARCH}.tar.gz\" | tar -xz -C /usr/local/bin",
            "for p in a b c; do npm install -g \"$p\"; done && npm cache clean --force",
            "groupadd -r app && useradd -r -g app -d /home/app -s /sbin/nologin app && mkdir -p /home/app",
            "<<EOT bash\nset -e\napt-get update\napt-get install -y \\\n    jq \\\n    unzip\nEOT",
            "python3 - <<'PY'\nfrom huggingface_hub import snapshot_download\nsnapshot_download('m')\nPY",
            "sh -c 'echo $(uname -m) > /arch' && case \"$(cat /arch)\" in x86_64) echo amd ;; *) echo other ;; esac",
        ];
        (0..count)
            .map(|i| format!("{} # {i}", shapes[i % shapes.len()]))
            .collect()
    }

    #[test]
    #[ignore = "throughput measurement; run in release with --ignored"]
    fn bench_parse_throughput() {
        let bodies: Vec<MappedText> = synthetic_bodies(4000).iter().map(|b| body(b)).collect();
        let bytes: usize = bodies.iter().map(MappedText::len).sum();
        let mut best = f64::MAX;
        let mut commands = 0;
        for _ in 0..5 {
            let start = std::time::Instant::now();
            commands = bodies
                .iter()
                .map(|b| parse(b).commands.len())
                .sum::<usize>();
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!(
            "{} bodies, {bytes} bytes, {commands} commands: best {:.1} ms, {:.1} MB/s",
            bodies.len(),
            best * 1e3,
            bytes as f64 / best / 1e6
        );
    }

    /// Reads the shared corpus (beside the repository) when it is there.
    #[test]
    #[ignore = "reads the shared corpus of real Dockerfiles; run with --ignored"]
    fn corpus_sweep() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real");
        let Ok(manifest) = std::fs::read_to_string(root.join("MANIFEST.tsv")) else {
            let message = format!("no corpus at {}", root.display());
            if std::env::var("DOCKLINT_REQUIRE_CORPUS").as_deref() == Ok("1") {
                panic!("{message} (DOCKLINT_REQUIRE_CORPUS=1 requires it)");
            }
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "NOTE: skipping the shell corpus sweep: {message}"
            );
            return;
        };
        let files = manifest
            .lines()
            .skip(1)
            .filter_map(|l| l.split('\t').next());
        let mut stats = SweepStats::default();
        for file in files.filter(|f| !f.ends_with("dockerignore")) {
            let Ok(text) = std::fs::read_to_string(root.join(file)) else {
                continue;
            };
            for run in corpus::runs(&text) {
                stats.add(&text, &run);
            }
        }
        stats.report();
        assert_eq!(stats.panics, 0);
        assert!(stats.plain_mismatches.is_empty());
        if std::env::var_os("SHELL_SWEEP_PROFILE").is_some() {
            stats.profile();
        }
    }

    #[derive(Default)]
    struct SweepStats {
        bodies: usize,
        exec: usize,
        bytes: usize,
        commands: usize,
        fallbacks: Vec<String>,
        panics: usize,
        span_mismatches: Vec<String>,
        seconds: f64,
        shell_bodies: Vec<MappedText>,
        plain: usize,
        plain_mismatches: Vec<String>,
        max_nesting: usize,
        max_branching: usize,
    }

    impl SweepStats {
        fn add(&mut self, file: &str, run: &corpus::Run) {
            let start = std::time::Instant::now();
            let result = std::panic::catch_unwind(|| match run {
                corpus::Run::Shell(body) => parse(body),
                corpus::Run::Exec(argv) => parse_exec(argv, &ShellsOnly),
            });
            self.seconds += start.elapsed().as_secs_f64();
            let Ok(script) = result else {
                self.panics += 1;
                return;
            };
            match run {
                corpus::Run::Shell(body) => {
                    self.check_plain_path(body.as_str());
                    let (total, branching) = adapter::nesting_of(body.as_str());
                    self.max_nesting = self.max_nesting.max(total);
                    self.max_branching = self.max_branching.max(branching);
                    self.bodies += 1;
                    self.bytes += body.len();
                    self.shell_bodies.push(body.clone());
                    if let Some(reason) = &script.fallback {
                        let head: String = body.as_str().chars().take(100).collect();
                        self.fallbacks.push(format!("{reason}: {head:?}"));
                    }
                }
                corpus::Run::Exec(_) => self.exec += 1,
            }
            self.commands += script.commands.len();
            for command in &script.commands {
                for word in command
                    .env
                    .iter()
                    .chain([&command.program])
                    .chain(&command.args)
                {
                    let in_file = file.get(word.span.clone()).unwrap_or("<out of range>");
                    // Words across a joined continuation or inside an `sh -c` payload differ.
                    if in_file != word.raw && !in_file.contains('\n') && !in_file.contains('\\') {
                        self.span_mismatches
                            .push(format!("{:?} at {:?}: {in_file:?}", word.raw, word.span));
                    }
                }
            }
        }

        /// Plain text must give the same commands through brush and through the tokeniser.
        fn check_plain_path(&mut self, text: &str) {
            if !fallback::is_plain(text) {
                return;
            }
            self.plain += 1;
            let by_brush = adapter::simple_commands(text).map(plain_summary);
            let by_tokeniser = plain_summary(fallback::tokenise(text, 0..text.len()));
            if by_brush.as_ref() != Ok(&by_tokeniser) {
                self.plain_mismatches
                    .push(format!("{text:?}: {by_brush:?} vs {by_tokeniser:?}"));
            }
        }

        fn profile(&self) {
            if let Some(path) = std::env::var_os("SHELL_SWEEP_DUMP") {
                let dump: Vec<&str> = self.shell_bodies.iter().map(MappedText::as_str).collect();
                let _ = std::fs::write(path, serde_json::to_string(&dump).unwrap_or_default());
            }
            let bodies: Vec<&MappedText> = self.shell_bodies.iter().collect();
            let time = |f: &dyn Fn(&MappedText)| {
                let mut best = f64::MAX;
                for _ in 0..7 {
                    let start = std::time::Instant::now();
                    for b in &bodies {
                        f(b);
                    }
                    best = best.min(start.elapsed().as_secs_f64() * 1e3);
                }
                best
            };
            let opts = brush_parser::ParserOptions::default();
            let brush = time(&|b| {
                let _ = brush_parser::Parser::new(b.as_str().as_bytes(), &opts).parse_program();
            });
            let adapter = time(&|b| {
                let _ = adapter::simple_commands(b.as_str());
            });
            let full = time(&|b| {
                let _ = parse(b);
            });
            let mb = self.bytes as f64 / 1e3;
            println!(
                "best of 7: brush alone {brush:.1} ms ({:.1} MB/s), adapter {adapter:.1} ms, \
                 parse {full:.1} ms ({:.1} MB/s)",
                mb / brush,
                mb / full
            );
        }

        fn report(&self) {
            println!(
                "shell bodies {} ({} plain, {} differing from brush), exec {}, {} bytes, \
                 {} commands, fallbacks {}, panics {}, span mismatches {}, {:.1} ms ({:.1} MB/s)",
                self.bodies,
                self.plain,
                self.plain_mismatches.len(),
                self.exec,
                self.bytes,
                self.commands,
                self.fallbacks.len(),
                self.panics,
                self.span_mismatches.len(),
                self.seconds * 1e3,
                self.bytes as f64 / self.seconds / 1e6
            );
            println!(
                "deepest nesting {} (brackets and cases {})",
                self.max_nesting, self.max_branching
            );
            let mismatches = self.span_mismatches.iter().chain(&self.plain_mismatches);
            for line in self.fallbacks.iter().chain(mismatches.take(20)) {
                println!("  {line}");
            }
        }
    }

    /// A crude RUN extraction, enough to feed real bodies to the parser: `\`-continued lines
    /// joined (comment lines dropped), flags skipped, heredocs appended as BuildKit does,
    /// Windows stages left out.
    /// RUN bodies of a Dockerfile exactly as BuildKit runs them, from the Dockerfile layer;
    /// Windows stages and non-shell `#!` scripts are left out, as the model does.
    mod corpus {
        use super::MappedText;
        use crate::model::Model;
        use crate::syntax::dockerfile::{self, Command};

        pub enum Run {
            Shell(MappedText),
            Exec(Vec<MappedText>),
        }

        pub fn runs(text: &str) -> Vec<Run> {
            let df = dockerfile::parse(text);
            let model = Model::build(&df);
            model
                .runs
                .iter()
                .filter(|run| !model.stages[run.stage].windows)
                .filter_map(|run| match df.instructions[run.instruction].command()? {
                    Command::Shell(body) => Some(Run::Shell(body.clone())),
                    Command::Exec(argv) => Some(Run::Exec(argv.to_vec())),
                    Command::Script { .. } => None,
                })
                .collect()
        }
    }
}
