//! Dockerfile syntax: BuildKit's line layer, done here, plus parse-dockerfile for typed arguments.
//!
//! The line layer follows BuildKit's `parser.Parse` step by step: parser directives, comment
//! lines (kept, for suppressions and rewriting), line continuations with the escape token,
//! comment and empty lines inside continuations, builder flags, and heredocs wherever they
//! appear on the line (`RUN python - <<'PY'`, several per RUN). It yields instruction
//! boundaries identical to BuildKit's and never stops at a bad instruction.
//!
//! Each instruction's own text is then handed to parse-dockerfile, which types the arguments
//! (exec-form JSON with spans, COPY sources, FROM image and stage name, ...). Calling it per
//! instruction is what gives recovery: a rejected instruction becomes one error, and the
//! others are still parsed. Spans are file byte offsets (a BOM included).

use std::ops::Range;

use thin_vec::ThinVec;

use crate::source::{bom_len, line_count, Span};
use crate::syntax::MappedText;

/// A parsed Dockerfile. Parsing never fails: problems are in `errors`.
#[derive(Debug, Clone, Default)]
pub struct Dockerfile {
    /// The escape token (`\` or `` ` ``).
    pub escape: char,
    pub directives: Vec<Directive>,
    pub comments: Vec<Comment>,
    pub instructions: Vec<Instruction>,
    pub errors: Vec<SyntaxError>,
    /// Empty lines inside a continuation (BuildKit warns about them).
    pub empty_continuation_lines: Vec<Span>,
}

/// `# syntax=`, `# escape=` or `# check=` at the top of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub name: String,
    pub value: String,
    /// The whole directive line, without its line ending.
    pub span: Span,
}

/// A comment line (not inside a heredoc body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// From `#` to the end of the line, without the line ending.
    pub span: Span,
    /// The comment sits inside a continued instruction (BuildKit drops it from the command).
    pub inside_instruction: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyword {
    Add,
    Arg,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    Stopsignal,
    User,
    Volume,
    Workdir,
    Unknown,
}

impl Keyword {
    const ALL: [(&'static str, Keyword); 18] = [
        ("add", Keyword::Add),
        ("arg", Keyword::Arg),
        ("cmd", Keyword::Cmd),
        ("copy", Keyword::Copy),
        ("entrypoint", Keyword::Entrypoint),
        ("env", Keyword::Env),
        ("expose", Keyword::Expose),
        ("from", Keyword::From),
        ("healthcheck", Keyword::Healthcheck),
        ("label", Keyword::Label),
        ("maintainer", Keyword::Maintainer),
        ("onbuild", Keyword::Onbuild),
        ("run", Keyword::Run),
        ("shell", Keyword::Shell),
        ("stopsignal", Keyword::Stopsignal),
        ("user", Keyword::User),
        ("volume", Keyword::Volume),
        ("workdir", Keyword::Workdir),
    ];

    pub fn parse(word: &str) -> Keyword {
        Self::ALL
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(word))
            .map_or(Keyword::Unknown, |&(_, k)| k)
    }

    /// Lower-case name as BuildKit dumps it (`unknown` for anything else).
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("unknown", |(name, _)| name)
    }

    fn can_have_heredocs(self) -> bool {
        matches!(self, Keyword::Run | Keyword::Copy | Keyword::Add)
    }
}

#[derive(Debug, Clone)]
pub struct Instruction {
    pub keyword: Keyword,
    pub keyword_span: Span,
    /// From the keyword to the end of the instruction's last line (heredoc terminators
    /// included), without the final line ending.
    pub span: Span,
    /// End of the logical line, before any heredoc body.
    pub line_end: usize,
    pub flags: ThinVec<Flag>,
    /// BuildKit's argument text: continuations joined, inner comment lines dropped, flags
    /// removed, trimmed.
    pub args_text: MappedText,
    pub heredocs: ThinVec<Heredoc>,
    pub args: Args,
    /// The instruction an `ONBUILD` carries.
    pub inner: Option<Box<Instruction>>,
}

impl Instruction {
    pub fn flags_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Flag> + 'a {
        self.flags.iter().filter(move |f| f.name == name)
    }

    pub fn flag<'a>(&'a self, name: &'a str) -> Option<&'a Flag> {
        self.flags_named(name).next()
    }

    /// The heredoc of a RUN whose whole command is one heredoc (`RUN <<EOF` and nothing
    /// else on the line): BuildKit hands its body to the shell as the script.
    pub fn heredoc_script(&self) -> Option<&Heredoc> {
        match (self.heredocs.as_slice(), self.command()) {
            ([heredoc], Some(Command::Shell(_)))
                if self.keyword == Keyword::Run
                    && heredoc.fd.is_none()
                    && shell_words(self.args_text.as_str()).len() == 1 =>
            {
                Some(heredoc)
            }
            _ => None,
        }
    }

    /// The command of a RUN, CMD or ENTRYPOINT.
    pub fn command(&self) -> Option<Command<'_>> {
        match &self.args {
            Args::Run(c) | Args::Cmd(c) | Args::Entrypoint(c) => Some(self.command_of(c)),
            _ => None,
        }
    }

    /// A command this instruction stores (HEALTHCHECK's too).
    pub fn command_of<'a>(&'a self, form: &'a CommandForm) -> Command<'a> {
        match form {
            CommandForm::ShellArgs => Command::Shell(&self.args_text),
            CommandForm::Shell(body) => Command::Shell(body),
            CommandForm::Exec(argv) => Command::Exec(argv),
            CommandForm::Script(script) => Command::Script {
                interpreter: &script.0,
                body: &script.1,
            },
        }
    }
}

/// A builder flag (`--mount=type=cache,target=/root/.cache`), as BuildKit reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub name: String,
    /// Unquoted value; `None` for a flag without `=`.
    pub value: Option<String>,
    /// The whole flag in the file.
    pub span: Span,
}

impl Flag {
    /// The flag as BuildKit's parser reports it (`--name=value`).
    pub fn buildkit_string(&self) -> String {
        match &self.value {
            Some(v) => format!("--{}={v}", self.name),
            None => format!("--{}", self.name),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    pub name: String,
    /// Variables in the body are expanded (the delimiter was not quoted).
    pub expand: bool,
    /// `<<-`: leading tabs are stripped.
    pub chomp: bool,
    pub fd: Option<u32>,
    /// The `<<EOF` word on the instruction line.
    pub marker: Span,
    /// The body lines, line endings included, exactly as in the file.
    pub body: Span,
    /// The terminator line, without its line ending.
    pub terminator: Span,
}

/// A string argument with its unescaped value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub value: String,
    pub span: Span,
}

/// The command of RUN, CMD, ENTRYPOINT or HEALTHCHECK as the instruction stores it; read it
/// with [`Instruction::command`] or [`Instruction::command_of`].
#[derive(Debug, Clone)]
pub enum CommandForm {
    /// Shell form whose script is the instruction's argument text: most instructions, whose
    /// script is not stored twice.
    ShellArgs,
    /// Shell form with heredocs: the script BuildKit builds of the line and the bodies.
    /// Boxed, as are the other rare forms: they would make every instruction bigger.
    Shell(Box<MappedText>),
    /// Exec form: each JSON string unescaped, mapped to the file.
    Exec(Vec<MappedText>),
    /// `RUN <<EOF` whose body starts with a `#!` line: BuildKit runs it as a file.
    Script(Box<(String, MappedText)>),
}

/// The command of RUN, CMD, ENTRYPOINT or HEALTHCHECK.
#[derive(Debug, Clone, Copy)]
pub enum Command<'a> {
    /// Shell form: the script BuildKit passes to the stage's shell, mapped to the file.
    Shell(&'a MappedText),
    /// Exec form: each JSON string unescaped, mapped to the file.
    Exec(&'a [MappedText]),
    /// `RUN <<EOF` whose body starts with a `#!` line: BuildKit runs it as a file.
    Script {
        interpreter: &'a str,
        body: &'a MappedText,
    },
}

impl<'a> Command<'a> {
    /// The text of the shell or script form.
    pub fn text(self) -> Option<&'a MappedText> {
        match self {
            Command::Shell(body) => Some(body),
            Command::Script { body, .. } => Some(body),
            Command::Exec(_) => None,
        }
    }

    /// The arguments of the exec form (none in the other forms).
    pub fn argv(self) -> &'a [MappedText] {
        match self {
            Command::Exec(argv) => argv,
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: Text,
    /// Raw value (quotes and escapes as written; `None` for `ARG NAME`).
    pub value: Option<Text>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct CopyArgs {
    /// Local paths, URLs or git references (heredoc sources are in `Instruction::heredocs`).
    pub sources: ThinVec<Text>,
    pub dest: Option<Text>,
}

/// FROM's image and stage name: boxed, as FROM is one instruction of a stage and the
/// other kinds would each be as big.
#[derive(Debug, Clone)]
pub struct FromArgs {
    pub image: Text,
    pub name: Option<Text>,
}

/// Typed arguments of an instruction.
#[derive(Debug, Clone)]
pub enum Args {
    From(Box<FromArgs>),
    Run(CommandForm),
    Cmd(CommandForm),
    Entrypoint(CommandForm),
    Healthcheck(Option<CommandForm>),
    // COPY, ADD, USER and WORKDIR arguments are boxed, as FROM's are: inline, they made
    // every instruction 24 bytes bigger.
    Copy(Box<CopyArgs>),
    Add(Box<CopyArgs>),
    Env(Vec<KeyValue>),
    Arg(Vec<KeyValue>),
    Label(Vec<KeyValue>),
    User(Box<Text>),
    Workdir(Box<Text>),
    Shell(Vec<Text>),
    /// Instructions no rule reads the arguments of (EXPOSE, VOLUME, ...), and ONBUILD.
    Other,
    /// parse-dockerfile rejected the instruction; the reason is in `Dockerfile::errors`.
    Invalid,
}

/// Parses a whole file. `text` is the file's text, BOM included.
pub fn parse(text: &str) -> Dockerfile {
    parse_in_parts(text, None)
}

/// Parses a whole file, in parts from `starts` (line starts, in order; those within the
/// parser directives are not parts) or, when `None`, from the parts the file's size calls for.
fn parse_in_parts(text: &str, starts: Option<&[usize]>) -> Dockerfile {
    if let Some(error) = binary_data(text) {
        return Dockerfile {
            escape: '\\',
            errors: vec![error],
            ..Dockerfile::default()
        };
    }
    let mut scanner = Scanner::new(text);
    // At most one instruction a line, reserved at once: a list of millions of instructions
    // is not copied at each doubling (pages of the reservation never used are never touched).
    scanner.df.instructions.reserve(line_count(text));
    scanner.read_directives();
    let starts = match starts {
        Some(starts) => starts
            .iter()
            .copied()
            .filter(|&s| s > scanner.pos)
            .collect(),
        None => part_starts(text, scanner.pos, scanner.df.escape),
    };
    scanner.read_in_parts(&starts);
    let mut df = scanner.finish();
    check_stages(text, &mut df);
    // The binary searches of `comments_within` and its kind rely on file order.
    debug_assert!(df.comments.is_sorted_by_key(|c| c.span.start));
    debug_assert!(df.empty_continuation_lines.is_sorted_by_key(|l| l.start));
    debug_assert!(df.instructions.is_sorted_by_key(|i| i.span.start));
    df
}

/// A NUL byte means the file is not text (BuildKit would read garbage instructions from
/// it): one error there, and nothing else is read from the file.
fn binary_data(text: &str) -> Option<SyntaxError> {
    let at = text.as_bytes().iter().position(|&b| b == 0)?;
    let line = line_count(&text[..at]);
    Some(SyntaxError {
        span: at..at + 1,
        message: format!(
            "not a Dockerfile: the file holds binary data (a NUL byte on line {line})"
        ),
    })
}

// ---------------------------------------------------------------------------------------
// Lines

/// One physical line: `start..end` is its content without the line ending; `next` starts
/// the following line.
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
    next: usize,
}

fn line_at(text: &str, start: usize) -> Option<Line> {
    if start >= text.len() {
        return None;
    }
    let next = text[start..]
        .find('\n')
        .map_or(text.len(), |i| start + i + 1);
    // BuildKit trims every trailing \r and \n of a line.
    let content = text[start..next].trim_end_matches(['\r', '\n']);
    Some(Line {
        start,
        end: start + content.len(),
        next,
    })
}

fn trim_leading_space(s: &str) -> &str {
    s.trim_start_matches(char::is_whitespace)
}

/// A line whose first non-blank character is `#`.
fn is_comment(s: &str) -> bool {
    trim_leading_space(s).starts_with('#')
}

/// A big file is read in parts side by side (a 50 MB file took a second on one core); a
/// part is at least this long.
const MIN_PART: usize = 1 << 20;

/// Where the parts after the first begin: equal shares of the text after `from`, each moved
/// on to a line that looks like an instruction's first (a keyword at its start, after a line
/// that does not continue). Only a guess, checked as the parts are joined.
fn part_starts(text: &str, from: usize, escape: char) -> Vec<usize> {
    let rest = text.len().saturating_sub(from);
    let parts = (rest / MIN_PART).min(rayon::current_num_threads());
    let mut starts: Vec<usize> = Vec::new();
    for i in 1..parts {
        let Some(start) = instruction_line_after(text, from + rest / parts * i, escape) else {
            continue;
        };
        if starts.last().is_none_or(|&last| start > last) {
            starts.push(start);
        }
    }
    starts
}

/// The start of the first line after `at`, within 64 KiB, that looks like the first line
/// of an instruction.
fn instruction_line_after(text: &str, at: usize, escape: char) -> Option<usize> {
    const LOOK_AHEAD: usize = 64 << 10;
    // Bytes: `at` may fall inside a character.
    let mut start = at
        + text
            .as_bytes()
            .get(at..)?
            .iter()
            .position(|&b| b == b'\n')?
        + 1;
    while start < text.len() && start - at < LOOK_AHEAD {
        let line = line_at(text, start)?;
        let word = text[line.start..line.end]
            .split([' ', '\t'])
            .next()
            .unwrap_or_default();
        if Keyword::parse(word) != Keyword::Unknown && !continued(&text[..start], escape) {
            return Some(start);
        }
        start = line.next;
    }
    None
}

/// Whether the last line of `before` that is neither blank nor a comment ends with the
/// escape token (the line after it may continue an instruction). Looks back 64 KiB.
fn continued(before: &str, escape: char) -> bool {
    const LOOK_BACK: usize = 64 << 10;
    let mut rest = before;
    while before.len() - rest.len() < LOOK_BACK {
        rest = rest.trim_end_matches(['\r', '\n', ' ', '\t']);
        let line_start = rest.rfind('\n').map_or(0, |i| i + 1);
        if !is_comment(&rest[line_start..]) {
            return rest.ends_with(escape);
        }
        if line_start == 0 {
            return false;
        }
        rest = &rest[..line_start];
    }
    true
}

// ---------------------------------------------------------------------------------------
// The scanner

struct Scanner<'t> {
    text: &'t str,
    pos: usize,
    directives_done: bool,
    df: Dockerfile,
}

/// A logical line in the making: its text and where each piece came from.
struct LogicalLine {
    text: MappedText,
    /// Offset of the keyword in the file.
    start: usize,
    /// End of the last physical line that belongs to it.
    end: usize,
}

impl<'t> Scanner<'t> {
    /// A scanner of the whole text, directives first.
    fn new(text: &'t str) -> Self {
        Scanner {
            directives_done: false,
            ..Scanner::resume_at(text, bom_len(text), '\\')
        }
    }

    /// A scanner of the lines from `pos` (a line start past the directives) on.
    fn resume_at(text: &'t str, pos: usize, escape: char) -> Self {
        Scanner {
            text,
            pos,
            directives_done: true,
            df: Dockerfile {
                escape,
                ..Dockerfile::default()
            },
        }
    }

    fn finish(self) -> Dockerfile {
        self.df
    }

    fn next_line(&mut self) -> Option<Line> {
        let line = line_at(self.text, self.pos)?;
        self.pos = line.next;
        Some(line)
    }

    /// Reads the lines up to the first one that is not a parser directive (that one too).
    fn read_directives(&mut self) {
        while !self.directives_done {
            let Some(line) = self.next_line() else { return };
            self.line(line);
        }
    }

    /// Reads the lines that start before `stop`: an instruction begun before it is read to
    /// its end.
    fn read_until(&mut self, stop: usize) {
        while self.pos < stop {
            let Some(line) = self.next_line() else { return };
            self.line(line);
        }
    }

    /// Reads the rest of the text, the part from each of `starts` (line starts after
    /// directives, in order) on its own thread. A part is read as if an instruction began
    /// there; it is kept when the part before it indeed ends there, so what is kept is what
    /// one reading from the top makes. Otherwise (the part began inside a heredoc or a
    /// continued line) the part before reads on through it.
    fn read_in_parts(&mut self, starts: &[usize]) {
        let Some(&first_stop) = starts.first() else {
            return self.read_until(usize::MAX);
        };
        let (text, escape) = (self.text, self.df.escape);
        let stop_after = |i: usize| starts.get(i + 1).copied().unwrap_or(usize::MAX);
        let ((), parts) = rayon::join(
            || self.read_until(first_stop),
            || {
                use rayon::prelude::*;
                starts
                    .par_iter()
                    .enumerate()
                    .map(|(i, &start)| {
                        let stop = stop_after(i);
                        let mut part = Scanner::resume_at(text, start, escape);
                        let end = stop.min(text.len());
                        part.df.instructions.reserve(line_count(&text[start..end]));
                        part.read_until(stop);
                        part
                    })
                    .collect::<Vec<_>>()
            },
        );
        for (i, (part, &start)) in parts.into_iter().zip(starts).enumerate() {
            if self.pos == start {
                self.take_part(part);
            } else {
                self.read_until(stop_after(i));
            }
        }
    }

    /// Appends what a part read, which starts where this reading stopped.
    fn take_part(&mut self, mut part: Scanner) {
        let (df, read) = (&mut self.df, &mut part.df);
        // On every core: a part of a big file is hundreds of megabytes of fresh memory.
        use rayon::prelude::*;
        df.instructions.par_extend(read.instructions.par_drain(..));
        df.comments.append(&mut read.comments);
        df.errors.append(&mut read.errors);
        df.empty_continuation_lines
            .append(&mut read.empty_continuation_lines);
        self.pos = part.pos;
    }

    /// One line at the top level: a directive, a comment, a blank line or the first line of
    /// an instruction (which reads the rest of it).
    fn line(&mut self, line: Line) {
        let raw = &self.text[line.start..line.end];
        let trimmed = trim_leading_space(raw);
        let indent = raw.len() - trimmed.len();
        if trimmed.starts_with('#') {
            if !self.directives_done && self.directive(trimmed, line.start + indent, line) {
                return;
            }
            self.directives_done = true;
            self.comment(line.start + indent, line.end, false);
            return;
        }
        self.directives_done = true;
        if trimmed.is_empty() {
            return;
        }
        let (first, continues) = self.trim_continuation(trimmed);
        if first.is_empty() && !continues {
            return;
        }
        let start = line.start + indent;
        let mut logical = LogicalLine {
            text: MappedText::new(),
            start,
            end: line.end,
        };
        logical.text.push(first, start);
        if continues {
            self.continuation_lines(&mut logical);
        }
        let instruction = self.instruction(logical);
        self.df.instructions.push(instruction);
    }

    /// Reads a parser directive; false when the comment is not one (which ends directives).
    fn directive(&mut self, comment: &str, start: usize, line: Line) -> bool {
        let Some((name, value)) = parse_directive(comment) else {
            return false;
        };
        let name = name.to_ascii_lowercase();
        if !matches!(name.as_str(), "syntax" | "escape" | "check") {
            return false;
        }
        let span = start..line.end;
        if self.df.directives.iter().any(|d| d.name == name) {
            self.error(
                span.clone(),
                format!("only one {name} parser directive can be used"),
            );
        } else if name == "escape" {
            match value {
                "\\" => self.df.escape = '\\',
                "`" => self.df.escape = '`',
                _ => self.error(
                    span.clone(),
                    format!("invalid escape token '{value}' does not match ` or \\"),
                ),
            }
        }
        self.df.directives.push(Directive {
            name,
            value: value.to_string(),
            span,
        });
        true
    }

    fn comment(&mut self, start: usize, end: usize, inside_instruction: bool) {
        self.df.comments.push(Comment {
            span: start..end,
            inside_instruction,
        });
    }

    fn error(&mut self, span: Span, message: String) {
        self.df.errors.push(SyntaxError { span, message });
    }

    /// Removes a trailing escape token (and blanks after it); true if the line continues.
    /// An escape token preceded by another one is an escaped character, not a continuation.
    fn trim_continuation<'s>(&self, line: &'s str) -> (&'s str, bool) {
        let body = line.trim_end_matches([' ', '\t']);
        let Some(before) = body.strip_suffix(self.df.escape) else {
            return (line, false);
        };
        if before.ends_with(self.df.escape) {
            return (line, false);
        }
        (before, true)
    }

    fn continuation_lines(&mut self, logical: &mut LogicalLine) {
        while let Some(line) = self.next_line() {
            let raw = &self.text[line.start..line.end];
            logical.end = line.end;
            if is_comment(raw) {
                let indent = raw.len() - trim_leading_space(raw).len();
                self.comment(line.start + indent, line.end, true);
                continue;
            }
            if trim_leading_space(raw).is_empty() {
                self.df.empty_continuation_lines.push(line.start..line.end);
                continue;
            }
            let (piece, continues) = self.trim_continuation(raw);
            logical.text.push(piece, line.start);
            if !continues {
                return;
            }
        }
    }

    fn instruction(&mut self, logical: LogicalLine) -> Instruction {
        let (keyword, keyword_len, flags, args_text) = split_command(&logical.text);
        let keyword_span = logical.text.span_to_file(0..keyword_len);
        let heredocs = if can_have_heredocs(keyword, &args_text) {
            self.heredoc_bodies(&logical)
        } else {
            ThinVec::new()
        };
        let end = heredocs
            .last()
            .map_or(logical.end, |h| h.terminator.end.max(h.body.end));
        let mut instruction = Instruction {
            keyword,
            keyword_span,
            span: logical.start..end,
            line_end: logical.end,
            flags,
            args_text,
            heredocs,
            args: Args::Other,
            inner: None,
        };
        let typed = match plain_shell_run(&instruction) {
            Some(args) => Ok(args),
            None => {
                TypedParse::new(self.text, self.df.escape, &logical, &instruction).run(&instruction)
            }
        };
        match typed {
            Ok(args) => instruction.args = args,
            Err(error) => {
                instruction.args = Args::Invalid;
                self.df.errors.push(error);
            }
        }
        if keyword == Keyword::Onbuild {
            instruction.inner =
                onbuild_inner(self.text, self.df.escape, &instruction).map(Box::new);
        }
        instruction
    }

    /// Reads the bodies of the heredocs the logical line opens, in order.
    fn heredoc_bodies(&mut self, logical: &LogicalLine) -> ThinVec<Heredoc> {
        let mut heredocs = ThinVec::new();
        for word in heredoc_words(&logical.text) {
            let body_start = self.pos;
            let mut terminator = None;
            while let Some(line) = self.next_line() {
                let mut candidate = &self.text[line.start..line.end];
                if word.chomp {
                    candidate = candidate.trim_start_matches('\t');
                }
                if candidate == word.name {
                    terminator = Some((line.start, line.end));
                    break;
                }
            }
            let (body_end, term) = match terminator {
                Some((term_start, term_end)) => (term_start, term_start..term_end),
                None => {
                    let end = self.text.len();
                    self.error(
                        word.marker.clone(),
                        format!("unterminated heredoc: no line `{}` closes it", word.name),
                    );
                    (end, end..end)
                }
            };
            let unterminated = terminator.is_none();
            heredocs.push(Heredoc {
                name: word.name,
                expand: word.expand,
                chomp: word.chomp,
                fd: word.fd,
                marker: word.marker,
                body: body_start.min(body_end)..body_end,
                terminator: term,
            });
            if unterminated {
                break;
            }
        }
        heredocs
    }
}

/// BuildKit splits the keyword from its arguments at these characters.
fn is_token_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{b}' | '\u{c}' | '\r')
}

/// `#\s*name\s*=\s*value` (the value trimmed).
fn parse_directive(comment: &str) -> Option<(&str, &str)> {
    let rest = comment.strip_prefix('#')?.trim_start();
    let name_len = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let name = &rest[..name_len];
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let value = rest[name_len..].trim_start().strip_prefix('=')?.trim();
    (!value.is_empty()).then_some((name, value))
}

// ---------------------------------------------------------------------------------------
// Builder flags, the way BuildKit's `extractBuilderFlags` reads them

/// Returns the flags at the start of `line[from..]` and the (trimmed) range of the rest:
/// words starting with `--`, quotes and `\` escapes resolved; a lone `--` ends them.
fn builder_flags(line: &MappedText, from: usize) -> (ThinVec<Flag>, Range<usize>) {
    let text = line.as_str();
    let bytes = text.as_bytes();
    let mut flags: Vec<(String, Range<usize>)> = Vec::new();
    let mut pos = from;
    loop {
        while pos < bytes.len() && is_flag_space(bytes[pos]) {
            pos += 1;
        }
        if !text[pos..].starts_with("--") {
            return flags_and_rest(line, flags, pos);
        }
        let (word, end, blank_ok) = flag_word(bytes, pos);
        if word == b"--" {
            return flags_and_rest(line, flags, end);
        }
        if blank_ok || !word.is_empty() {
            flags.push((String::from_utf8_lossy(&word).into_owned(), pos..end));
        }
        pos = end;
    }
}

fn is_flag_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// Reads one flag word from `start`; returns its unquoted bytes, its end, and whether it
/// had quotes (an empty quoted word still counts).
fn flag_word(bytes: &[u8], start: usize) -> (Vec<u8>, usize, bool) {
    let mut word = Vec::new();
    let mut quote = None;
    let mut had_quotes = false;
    let mut pos = start;
    while pos < bytes.len() {
        let ch = bytes[pos];
        match quote {
            None if is_flag_space(ch) => break,
            None if ch == b'\'' || ch == b'"' => {
                quote = Some(ch);
                had_quotes = true;
            }
            Some(q) if ch == q => quote = None,
            _ if ch == b'\\' => {
                if let Some(&next) = bytes.get(pos + 1) {
                    word.push(next);
                    pos += 1;
                } else {
                    quote = None;
                }
            }
            _ => word.push(ch),
        }
        pos += 1;
    }
    (word, pos, had_quotes)
}

fn flags_and_rest(
    line: &MappedText,
    flags: Vec<(String, Range<usize>)>,
    args_start: usize,
) -> (ThinVec<Flag>, Range<usize>) {
    let text = line.as_str();
    let rest = &text[args_start.min(text.len())..];
    let lead = rest.len() - rest.trim_start().len();
    let start = args_start + lead;
    let end = start + rest.trim().len();
    let flags = flags
        .into_iter()
        .map(|(word, range)| {
            let body = word.strip_prefix("--").unwrap_or(&word);
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (body.to_string(), None),
            };
            Flag {
                name,
                value,
                span: line.span_to_file(range),
            }
        })
        .collect();
    (flags, start..end)
}

// ---------------------------------------------------------------------------------------
// Heredocs

struct HeredocWord {
    name: String,
    expand: bool,
    chomp: bool,
    fd: Option<u32>,
    marker: Span,
}

/// Words of the line that open a heredoc (`<<EOF`, `<<-'EOT'`, `3<<X`), in order.
fn heredoc_words(line: &MappedText) -> Vec<HeredocWord> {
    let text = line.as_str();
    if !text.contains("<<") {
        return Vec::new();
    }
    shell_words(text)
        .into_iter()
        .filter_map(|range| {
            let word = &text[range.clone()];
            let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let after = word[digits..].strip_prefix("<<")?;
            let (chomp, rest) = match after.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, after),
            };
            if rest.is_empty() || rest.contains('<') {
                return None;
            }
            let name = unquote_single_word(rest)?;
            Some(HeredocWord {
                name,
                expand: !rest.contains(['\'', '"']),
                chomp,
                fd: word[..digits].parse().ok(),
                marker: line.span_to_file(range),
            })
        })
        .collect()
}

/// Splits like BuildKit's shell lexer with raw quotes and escapes: blanks outside quotes and
/// `${...}` separate words.
fn shell_words(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut start = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b' ' || b == b'\t' || b == b'\n' || b == b'\r' {
            if let Some(s) = start.take() {
                words.push(s..i);
            }
            i += 1;
            continue;
        }
        start.get_or_insert(i);
        i = match b {
            b'\\' => (i + 2).min(bytes.len()),
            b'\'' => text[i + 1..].find('\'').map_or(bytes.len(), |j| i + j + 2),
            b'"' => closing_double_quote(bytes, i + 1).map_or(bytes.len(), |j| j + 1),
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                text[i..].find('}').map_or(bytes.len(), |j| i + j + 1)
            }
            _ => i + 1,
        };
    }
    if let Some(s) = start {
        words.push(s..bytes.len());
    }
    words
}

fn closing_double_quote(bytes: &[u8], mut i: usize) -> Option<usize> {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// The heredoc name: the word with quotes and escapes removed; None if it is not one word.
fn unquote_single_word(word: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => out.extend(chars.by_ref().take_while(|&c| c != '\'')),
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => out.extend(chars.next()),
                        c => out.push(c),
                    }
                }
            }
            '\\' => out.extend(chars.next()),
            c if c.is_whitespace() => return None,
            c => out.push(c),
        }
    }
    (!out.is_empty()).then_some(out)
}

/// RUN, COPY and ADD (also behind ONBUILD) read heredocs, unless in exec (JSON) form.
fn can_have_heredocs(keyword: Keyword, args: &MappedText) -> bool {
    if keyword == Keyword::Onbuild {
        let (inner_keyword, _, _, inner_args) = split_command(args);
        return can_have_heredocs(inner_keyword, &inner_args);
    }
    keyword.can_have_heredocs() && json_string_array(args.as_str()).is_none()
}

/// Splits a logical line as BuildKit's `splitCommand` does: keyword, keyword length, flags
/// and the argument text after them.
fn split_command(line: &MappedText) -> (Keyword, usize, ThinVec<Flag>, MappedText) {
    let text = line.as_str();
    let keyword_len = text.find(is_token_space).unwrap_or(text.len());
    let keyword = Keyword::parse(&text[..keyword_len]);
    let rest_start = text[keyword_len..]
        .find(|c: char| !is_token_space(c))
        .map_or(text.len(), |i| keyword_len + i);
    let (flags, args_range) = builder_flags(line, rest_start);
    (keyword, keyword_len, flags, line.slice(args_range))
}

/// Parses a leading JSON array (trailing text allowed, as Go's decoder does).
fn leading_json_array(text: &str) -> Option<Vec<serde_json::Value>> {
    let text = text.trim_start();
    if !text.starts_with('[') {
        return None;
    }
    let mut de = serde_json::Deserializer::from_str(text);
    serde::Deserialize::deserialize(&mut de).ok()
}

/// Exec (JSON) form: a leading JSON array of strings only.
fn json_string_array(text: &str) -> Option<Vec<serde_json::Value>> {
    leading_json_array(text).filter(|values| values.iter().all(serde_json::Value::is_string))
}

// ---------------------------------------------------------------------------------------
// Typed arguments via parse-dockerfile

/// One instruction's text handed to parse-dockerfile, with the way back to file offsets.
struct TypedParse<'t> {
    text: &'t str,
    chunk: String,
    /// Length of what was put before the instruction (escape directive, a FROM).
    prefix: usize,
    /// File offset of the instruction's first byte.
    file_start: usize,
    /// Length of the instruction's own text in the chunk.
    own_len: usize,
}

impl<'t> TypedParse<'t> {
    fn new(text: &'t str, escape: char, logical: &LogicalLine, instruction: &Instruction) -> Self {
        let own = &text[logical.start..logical.end];
        let mut chunk = String::with_capacity(own.len() + 32);
        if escape == '`' {
            chunk.push_str("# escape=`\n");
        }
        // The crate wants a stage before anything but ARG; the instruction is parsed alone.
        if !matches!(instruction.keyword, Keyword::From | Keyword::Arg) {
            chunk.push_str("FROM scratch\n");
        }
        let prefix = chunk.len();
        chunk.push_str(own);
        chunk.push('\n');
        // Our scanner already read the heredoc bodies; empty ones let the crate close its
        // heredoc where it recognises one.
        for heredoc in &instruction.heredocs {
            chunk.push_str(&heredoc.name);
            chunk.push('\n');
        }
        TypedParse {
            text,
            chunk,
            prefix,
            file_start: logical.start,
            own_len: own.len(),
        }
    }

    fn span(&self, span: Range<usize>) -> Span {
        let clamp = |x: usize| x.saturating_sub(self.prefix).min(self.own_len) + self.file_start;
        clamp(span.start)..clamp(span.end)
    }

    fn text(&self, s: &parse_dockerfile::UnescapedString<'_>) -> Text {
        Text {
            value: s.value.to_string(),
            span: self.span(s.span.clone()),
        }
    }

    fn run(&self, instruction: &Instruction) -> Result<Args, SyntaxError> {
        if matches!(instruction.keyword, Keyword::Entrypoint | Keyword::Cmd)
            && json_string_array(instruction.args_text.as_str()).is_some_and(|a| a.is_empty())
        {
            // `ENTRYPOINT []` resets the entrypoint; the crate wants at least one argument.
            let empty = CommandForm::Exec(Vec::new());
            return Ok(match instruction.keyword {
                Keyword::Cmd => Args::Cmd(empty),
                _ => Args::Entrypoint(empty),
            });
        }
        if let Some(message) = buildkit_argument_error(instruction) {
            return Err(SyntaxError {
                span: instruction.keyword_span.start..instruction.line_end,
                message,
            });
        }
        let parsed = parse_dockerfile::parse_iter(&self.chunk)
            .map_err(|e| self.error(&e, instruction))?
            .find(|item| !matches!(item, Ok(parse_dockerfile::Instruction::From(f)) if f.from.span.start < self.prefix));
        match parsed {
            Some(Ok(typed)) => Ok(self.args(&typed, instruction)),
            Some(Err(e)) => Err(self.error(&e, instruction)),
            None => Err(SyntaxError {
                span: instruction.keyword_span.clone(),
                message: "empty instruction".into(),
            }),
        }
    }

    fn error(&self, e: &parse_dockerfile::Error, instruction: &Instruction) -> SyntaxError {
        let message = format!("{e:#}");
        let line_start = self
            .chunk
            .split_inclusive('\n')
            .take(e.line().saturating_sub(1))
            .map(str::len)
            .sum::<usize>();
        let span = if line_start >= self.prefix {
            let start = self
                .span(line_start..line_start)
                .start
                .max(instruction.keyword_span.start);
            start..instruction.line_end.max(start)
        } else {
            instruction.keyword_span.start..instruction.line_end
        };
        SyntaxError { span, message }
    }

    fn args(&self, typed: &parse_dockerfile::Instruction<'_>, instruction: &Instruction) -> Args {
        use parse_dockerfile::Instruction as I;
        match typed {
            I::From(f) => Args::From(Box::new(FromArgs {
                image: self.text(&f.image),
                name: f.as_.as_ref().map(|(_, n)| self.text(n)),
            })),
            // Exec form only without heredocs; anything else is the script BuildKit builds.
            I::Run(r) => Args::Run(match &r.arguments {
                parse_dockerfile::Command::Exec(_) if instruction.heredocs.is_empty() => {
                    self.command(&r.arguments)
                }
                _ => shell_body(self.text, instruction),
            }),
            I::Cmd(c) => Args::Cmd(self.command(&c.arguments)),
            I::Entrypoint(c) => Args::Entrypoint(self.command(&c.arguments)),
            I::Healthcheck(h) => Args::Healthcheck(match &h.arguments {
                parse_dockerfile::HealthcheckArguments::Cmd { arguments, .. } => {
                    Some(self.command(arguments))
                }
                _ => None,
            }),
            I::Copy(c) => Args::Copy(Box::new(self.copy_args(&c.src, &c.dest))),
            I::Add(c) => Args::Add(Box::new(self.copy_args(&c.src, &c.dest))),
            I::Env(_) => Args::Env(key_values(&instruction.args_text, false)),
            I::Label(_) => Args::Label(key_values(&instruction.args_text, false)),
            I::Arg(_) => Args::Arg(key_values(&instruction.args_text, true)),
            I::User(u) => Args::User(Box::new(self.text(&u.arguments))),
            I::Workdir(w) => Args::Workdir(Box::new(self.text(&w.arguments))),
            I::Shell(s) => Args::Shell(s.arguments.iter().map(|a| self.text(a)).collect()),
            _ => Args::Other,
        }
    }

    fn copy_args(
        &self,
        src: &[parse_dockerfile::Source<'_>],
        dest: &parse_dockerfile::UnescapedString<'_>,
    ) -> CopyArgs {
        // Sized to the sources (a filtered list would start with room for four, and a
        // COPY has one source, most often).
        let mut sources = ThinVec::with_capacity(src.len());
        sources.extend(src.iter().filter_map(|s| match s {
            parse_dockerfile::Source::Path(p) => Some(self.text(p)),
            _ => None,
        }));
        CopyArgs {
            sources,
            dest: Some(self.text(dest)),
        }
    }

    fn command(&self, command: &parse_dockerfile::Command<'_>) -> CommandForm {
        match command {
            parse_dockerfile::Command::Exec(array) => CommandForm::Exec(
                array
                    .value
                    .iter()
                    .map(|s| json_string_text(&self.chunk, s.span.clone(), |r| self.span(r)))
                    .collect(),
            ),
            _ => CommandForm::ShellArgs,
        }
    }
}

/// Argument errors BuildKit's parser raises that parse-dockerfile lets through.
fn buildkit_argument_error(instruction: &Instruction) -> Option<String> {
    let args = instruction.args_text.as_str();
    match instruction.keyword {
        Keyword::Env | Keyword::Label => {
            let words = shell_words(args);
            let legacy = words
                .first()
                .is_some_and(|w| !args[w.clone()].contains('='));
            (legacy && words.len() < 2).then(|| {
                format!(
                    "{} must have two arguments",
                    instruction.keyword.name().to_uppercase()
                )
            })
        }
        Keyword::Run
        | Keyword::Cmd
        | Keyword::Entrypoint
        | Keyword::Shell
        | Keyword::Copy
        | Keyword::Add
        | Keyword::Volume => leading_json_array(args)
            .filter(|values| values.iter().any(|v| !v.is_string()))
            .map(|_| {
                "when using JSON array syntax, arrays must be comprised of strings only".to_string()
            }),
        _ => None,
    }
}

/// Maps a JSON string's content (between its quotes, at `span` in `chunk`) to the file,
/// unescaping as it goes.
fn json_string_text(
    chunk: &str,
    span: Range<usize>,
    to_file: impl Fn(Range<usize>) -> Span,
) -> MappedText {
    let raw = &chunk[span.clone()];
    let mut out = MappedText::empty_at(to_file(span.start..span.start).start);
    let mut i = 0;
    while i < raw.len() {
        let at = span.start + i;
        let rest = &raw[i..];
        let Some(escaped) = rest.strip_prefix('\\') else {
            let c = rest.chars().next().map_or(1, char::len_utf8);
            let piece = &rest[..c];
            out.push(piece, to_file(at..at + c).start);
            i += c;
            continue;
        };
        let (decoded, len) = decode_json_escape(escaped);
        out.push_synthetic(&decoded, to_file(at..at).start);
        i += 1 + len;
    }
    out
}

fn decode_json_escape(s: &str) -> (String, usize) {
    let Some(c) = s.chars().next() else {
        return (String::new(), 0);
    };
    let simple = match c {
        'n' => Some('\n'),
        't' => Some('\t'),
        'r' => Some('\r'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'u' => None,
        other => Some(other),
    };
    if let Some(ch) = simple {
        return (ch.to_string(), c.len_utf8());
    }
    let code = s.get(1..5).and_then(|h| u32::from_str_radix(h, 16).ok());
    match code.and_then(char::from_u32) {
        Some(ch) => (ch.to_string(), 5),
        None => ("\u{fffd}".to_string(), s.len().min(5)),
    }
}

/// A RUN in shell form without heredocs, told without handing it to parse-dockerfile (the
/// most common instruction, so the one whose cost counts): its argument text is the script.
/// The crate's RUN parser fails only on JSON arrays and heredocs, which this leaves to it.
fn plain_shell_run(instruction: &Instruction) -> Option<Args> {
    let args = instruction.args_text.as_str();
    let plain = instruction.keyword == Keyword::Run
        && instruction.heredocs.is_empty()
        && !args.is_empty()
        && !args.starts_with(['[', '<']);
    plain.then_some(Args::Run(CommandForm::ShellArgs))
}

/// The script BuildKit gives the shell for a shell-form RUN (see `dispatchRun`).
fn shell_body(text: &str, instruction: &Instruction) -> CommandForm {
    let args = &instruction.args_text;
    let Some(first) = instruction.heredocs.first() else {
        return CommandForm::ShellArgs;
    };
    let body_of = |heredoc: &Heredoc, chomp: bool| heredoc_text(text, heredoc, chomp);
    let only_heredoc = heredoc_words(args).len() == 1 && shell_words(args.as_str()).len() == 1;
    if only_heredoc {
        let body = body_of(first, first.chomp);
        if let Some(shebang) = body.as_str().strip_prefix("#!") {
            let interpreter = shebang.lines().next().unwrap_or("").trim().to_string();
            if !is_shell_interpreter(&interpreter) {
                return CommandForm::Script(Box::new((interpreter, body)));
            }
        }
        return CommandForm::Shell(Box::new(body));
    }
    let mut full = args.clone();
    for heredoc in &instruction.heredocs {
        let newline_at = full.to_file(full.len());
        full.push_synthetic("\n", newline_at);
        let body = body_of(heredoc, false);
        full.append_slice(&body, 0..body.len());
        full.push(
            &heredoc.name,
            heredoc.terminator.end.saturating_sub(heredoc.name.len()),
        );
    }
    CommandForm::Shell(Box::new(full))
}

/// A heredoc body as the shell sees it: CR before LF dropped, leading tabs too when chomped.
fn heredoc_text(text: &str, heredoc: &Heredoc, chomp: bool) -> MappedText {
    let mut out = MappedText::new();
    let Some(body) = text.get(heredoc.body.clone()) else {
        return out;
    };
    let mut at = heredoc.body.start;
    for line in body.split_inclusive('\n') {
        let mut content = line;
        let mut start = at;
        if chomp {
            let stripped = content.trim_start_matches('\t');
            start += content.len() - stripped.len();
            content = stripped;
        }
        let (without_ending, had_newline) = match content.strip_suffix('\n') {
            Some(c) => (c.strip_suffix('\r').unwrap_or(c), true),
            None => (content, false),
        };
        out.push(without_ending, start);
        if had_newline {
            out.push("\n", at + line.len() - 1);
        }
        at += line.len();
    }
    out
}

fn is_shell_interpreter(shebang: &str) -> bool {
    let mut words = shebang.split_whitespace();
    let mut program = words.next().unwrap_or("");
    if program.ends_with("/env") {
        program = words.find(|w| !w.starts_with('-')).unwrap_or("");
    }
    let name = program.rsplit('/').next().unwrap_or(program);
    matches!(
        name,
        "sh" | "bash" | "dash" | "ash" | "ksh" | "zsh" | "busybox"
    )
}

/// `KEY=value ...` (ENV, LABEL, ARG) or the legacy `KEY value` (ENV, LABEL).
fn key_values(args: &MappedText, is_arg: bool) -> Vec<KeyValue> {
    let text = args.as_str();
    let words = shell_words(text);
    let Some(first) = words.first() else {
        return Vec::new();
    };
    let text_at = |range: Range<usize>| Text {
        value: text[range.clone()].to_string(),
        span: args.span_to_file(range),
    };
    let legacy = !is_arg && !text[first.clone()].contains('=');
    if legacy {
        let key = first.clone();
        let value_start = text[key.end..]
            .find(|c: char| !c.is_whitespace())
            .map_or(text.len(), |i| key.end + i);
        return vec![KeyValue {
            key: text_at(key.clone()),
            value: Some(text_at(value_start..text.len())),
            span: args.span_to_file(key.start..text.len()),
        }];
    }
    words
        .into_iter()
        .map(|range| {
            let word = &text[range.clone()];
            let (key, value) = match word.find('=') {
                Some(eq) => (
                    range.start..range.start + eq,
                    Some(range.start + eq + 1..range.end),
                ),
                None => (range.clone(), None),
            };
            KeyValue {
                key: text_at(key),
                value: value.map(text_at),
                span: args.span_to_file(range),
            }
        })
        .collect()
}

fn onbuild_inner(text: &str, escape: char, onbuild: &Instruction) -> Option<Instruction> {
    let inner = &onbuild.args_text;
    if inner.is_empty() {
        return None;
    }
    let (keyword, keyword_len, flags, args_text) = split_command(inner);
    let start = inner.to_file(0);
    let mut instruction = Instruction {
        keyword,
        keyword_span: inner.span_to_file(0..keyword_len),
        span: start..onbuild.span.end,
        line_end: onbuild.line_end,
        flags,
        args_text,
        heredocs: onbuild.heredocs.clone(),
        args: Args::Other,
        inner: None,
    };
    let logical = LogicalLine {
        text: inner.clone(),
        start,
        end: onbuild.line_end,
    };
    instruction.args = TypedParse::new(text, escape, &logical, &instruction)
        .run(&instruction)
        .unwrap_or(Args::Invalid);
    Some(instruction)
}

// ---------------------------------------------------------------------------------------
// Checks BuildKit makes after parsing, reported with locations

fn check_stages(text: &str, df: &mut Dockerfile) {
    let mut errors = Vec::new();
    if df.instructions.is_empty() {
        errors.push(SyntaxError {
            span: 0..0,
            message: "file with no instructions".into(),
        });
    }
    let has_from = df.instructions.iter().any(|i| i.keyword == Keyword::From);
    if !df.instructions.is_empty() && !has_from {
        let span = df.instructions[0].keyword_span.clone();
        errors.push(SyntaxError {
            span,
            message: "no FROM instruction: a Dockerfile must start a stage".into(),
        });
    }
    let mut seen_from = false;
    // Stage names (lower case) and the line they were first defined on.
    let mut names: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut lines = LineCounter::new(text);
    for instruction in &df.instructions {
        match (instruction.keyword, &instruction.args) {
            (Keyword::From, Args::From(from)) => {
                seen_from = true;
                let Some(name) = &from.name else { continue };
                let line = lines.line_of(name.span.start);
                match names.entry(name.value.to_ascii_lowercase()) {
                    std::collections::hash_map::Entry::Occupied(first) => {
                        let message = format!(
                            "duplicate stage name '{}' (first defined on line {})",
                            name.value,
                            first.get()
                        );
                        errors.push(SyntaxError {
                            span: name.span.clone(),
                            message,
                        });
                    }
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(line);
                    }
                }
            }
            (Keyword::From, _) => seen_from = true,
            (Keyword::Arg, _) => {}
            _ if has_from && !seen_from => {
                let message = format!(
                    "{} before the first FROM: only ARG may come before it",
                    instruction.keyword.name().to_uppercase()
                );
                errors.push(SyntaxError {
                    span: instruction.keyword_span.clone(),
                    message,
                });
            }
            _ => {}
        }
    }
    df.errors.extend(errors);
    df.errors.sort_by_key(|e| e.span.start);
}

/// 1-based line numbers of increasing offsets, counting each newline once.
struct LineCounter<'t> {
    text: &'t str,
    offset: usize,
    line: usize,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        LineCounter {
            text,
            offset: 0,
            line: 1,
        }
    }

    /// The line of `offset`; offsets must not decrease between calls.
    fn line_of(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.text.len()).max(self.offset);
        self.line += self.text.as_bytes()[self.offset..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.offset = offset;
        self.line
    }
}

// ---------------------------------------------------------------------------------------
// The structure BuildKit's parser reports, for comparing with it

/// One instruction as BuildKit's parser dump describes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BuildkitView {
    pub kw: String,
    pub flags: Vec<String>,
    pub start: usize,
    pub end: usize,
    pub heredocs: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inner: Option<String>,
}

/// The items of `sorted` (in file order, none overlapping) that lie wholly inside `span`.
fn within<'i, T>(sorted: &'i [T], span: &Span, span_of: impl Fn(&T) -> &Span) -> &'i [T] {
    let from = sorted.partition_point(|item| span_of(item).start < span.start);
    let rest = &sorted[from..];
    &rest[..rest.partition_point(|item| span_of(item).end <= span.end)]
}

impl Dockerfile {
    /// The comments that lie wholly inside `span`, found by binary search: a fix asks this
    /// for each pair of RUNs.
    pub fn comments_within(&self, span: &Span) -> &[Comment] {
        within(&self.comments, span, |c| &c.span)
    }

    /// The empty lines inside continuations that lie wholly inside `span`.
    pub fn empty_continuation_lines_within(&self, span: &Span) -> &[Span] {
        within(&self.empty_continuation_lines, span, |l| l)
    }

    /// The instruction whose span holds all of `span` (instructions are in file order).
    pub fn instruction_holding(&self, span: &Span) -> Option<&Instruction> {
        let after = self
            .instructions
            .partition_point(|i| i.span.start <= span.start);
        let candidate = self.instructions.get(after.checked_sub(1)?)?;
        (span.end <= candidate.span.end).then_some(candidate)
    }

    pub fn buildkit_view(&self, lines: &crate::source::LineIndex) -> Vec<BuildkitView> {
        self.instructions
            .iter()
            .map(|i| BuildkitView {
                kw: match i.keyword {
                    Keyword::Unknown => "unknown".into(),
                    k => k.name().into(),
                },
                flags: i.flags.iter().map(Flag::buildkit_string).collect(),
                start: lines.line_of(i.keyword_span.start) + 1,
                end: lines.line_of(i.span.end.saturating_sub(1).max(i.keyword_span.start)) + 1,
                heredocs: i.heredocs.len(),
                inner: i
                    .inner
                    .as_ref()
                    .map(|inner| inner.keyword.name().to_string()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_starts(text: &str) -> Vec<usize> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        starts.retain(|&s| s < text.len());
        starts
    }

    fn assert_parts_read_as_one(text: &str, starts: &[usize]) {
        let whole = format!("{:?}", parse_in_parts(text, Some(&[])));
        let parts = format!("{:?}", parse_in_parts(text, Some(starts)));
        assert!(whole == parts, "parts from {starts:?} of {text:?}");
    }

    /// A file read in parts is what one reading makes, wherever the parts begin: inside a
    /// heredoc (whose body holds lines like instructions), a continued line (with comments
    /// and empty lines in it), an unterminated heredoc, the directives, a CRLF line.
    #[test]
    fn parts_begun_anywhere_read_as_the_whole_file() {
        let texts = [
            "\u{feff}# syntax=docker/dockerfile:1\n# escape=`\nFROM alpine\nRUN a `\n  # c\n\n  && b\nRUN c\n",
            "FROM alpine AS base\nRUN <<EOF\nRUN not an instruction\nFROM nor this\nEOF\nCOPY <<A <<B /x\none\nA\ntwo\nB\nRUN x \\\n  # inside\n\n  && y\n# top\nONBUILD RUN z\n",
            "FROM alpine\r\nRUN a \\\r\n RUN b\r\n\r\nENV A=1 \\\n\nLABEL x=y\nRUN <<EOF\nFROM never closed\nRUN x\n",
            "# escape=x\nFROM a\nRUN [\"sh\", \"-c\", \"x\"]\nBOGUS line\n  RUN indented\nRUN \\\n",
        ];
        for text in texts {
            let starts = line_starts(text);
            assert_parts_read_as_one(text, &starts);
            for (i, &a) in starts.iter().enumerate() {
                assert_parts_read_as_one(text, &[a]);
                for &b in &starts[i + 1..] {
                    assert_parts_read_as_one(text, &[a, b]);
                }
            }
        }
    }

    /// Every file of the shared corpus reads the same with a part from every line, and from
    /// every third line.
    #[test]
    fn corpus_files_read_in_parts_as_whole() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        if !corpus.is_dir() {
            eprintln!("../shared/corpus is absent: corpus files not read in parts");
            return;
        }
        let mut read = 0;
        for entry in ignore::WalkBuilder::new(&corpus)
            .standard_filters(false)
            .build()
        {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name().to_string_lossy();
            if !name.contains("Dockerfile") && !name.ends_with(".dockerfile") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            let starts = line_starts(&text);
            assert_parts_read_as_one(&text, &starts);
            let third: Vec<usize> = starts.iter().copied().step_by(3).collect();
            assert_parts_read_as_one(&text, &third);
            read += 1;
        }
        assert!(read > 2000, "{read} corpus Dockerfiles read");
    }

    /// The parts a big file is read in begin at instruction lines, never inside a
    /// continued line (past the comments and blank lines in it, BuildKit reads on).
    #[test]
    fn a_big_file_is_split_at_instruction_lines() {
        let text: String = std::iter::once("FROM alpine\n".to_string())
            .chain((0..100_000).map(|i| format!("RUN a{i} \\\n  # RUN c\n\nRUN b\n")))
            .collect();
        let starts = part_starts(&text, 0, '\\');
        assert_eq!(
            starts.len(),
            rayon::current_num_threads().min(text.len() / MIN_PART) - 1
        );
        for start in starts {
            assert!(
                text[start..].starts_with("RUN a"),
                "{}",
                &text[start..start + 20]
            );
        }
        assert_parts_read_as_one(&text, &part_starts(&text, 0, '\\'));
        // From anywhere in an instruction (inside a character too), the next one's first line.
        let text = text.replace("RUN b", "RUN é");
        for at in 1000..1100 {
            let start = instruction_line_after(&text, at, '\\').unwrap();
            assert!(
                text[start..].starts_with("RUN a"),
                "{}",
                &text[start..start + 20]
            );
        }
    }

    /// The binary searches find what a scan of every comment, line and instruction finds.
    #[test]
    fn comments_lines_and_instructions_within_a_span_are_those_a_scan_finds() {
        let text = "# a\nFROM alpine\n# b\nRUN x && \\\n  # c\n\n  y\n# d\nRUN z\n";
        let df = parse(text);
        assert_eq!(df.comments.len(), 4);
        assert_eq!(df.empty_continuation_lines.len(), 1);
        for start in 0..=text.len() {
            for end in start..=text.len() {
                let span = start..end;
                let within = |s: &Span| start <= s.start && s.end <= end;
                let comments: Vec<&Comment> =
                    df.comments.iter().filter(|c| within(&c.span)).collect();
                let found: Vec<&Comment> = df.comments_within(&span).iter().collect();
                assert_eq!(found, comments, "{span:?}");
                let lines: Vec<&Span> = df
                    .empty_continuation_lines
                    .iter()
                    .filter(|l| within(l))
                    .collect();
                let found: Vec<&Span> = df.empty_continuation_lines_within(&span).iter().collect();
                assert_eq!(found, lines, "{span:?}");
                let holding = df
                    .instructions
                    .iter()
                    .find(|i| i.span.start <= start && end <= i.span.end);
                assert_eq!(
                    df.instruction_holding(&span).map(|i| i.span.clone()),
                    holding.map(|i| i.span.clone()),
                    "{span:?}"
                );
            }
        }
    }

    /// The shortcut for shell-form RUNs gives what parse-dockerfile's reading gives.
    #[test]
    fn plain_shell_runs_read_as_the_crate_reads_them() {
        let files = [
            "FROM alpine\nRUN echo hi\nRUN --mount=type=cache,target=/root/.cache pip install x\n\
             RUN   a && \\\n  # inner comment\n  b\nRUN echo [not json\n\
             RUN set -e; echo \"<<not a heredoc\"\nRUN --network=none --security=insecure echo 'x'\n\
             RUN echo \"a\\\"b\" \\\\\nRUN --mount=type=bind,source=\"a b\",target=/x cat /x/y\n",
            "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN dir `\n  c:\\ && echo done\n",
            "FROM alpine\r\nRUN echo crlf && \\\r\n    echo next\r\n",
        ];
        let mut checked = 0;
        for text in files {
            let df = parse(text);
            assert!(df.errors.is_empty(), "{:?}", df.errors);
            for instruction in &df.instructions {
                let Some(shortcut) = plain_shell_run(instruction) else {
                    continue;
                };
                let logical = LogicalLine {
                    text: MappedText::new(),
                    start: instruction.keyword_span.start,
                    end: instruction.line_end,
                };
                let typed =
                    TypedParse::new(text, df.escape, &logical, instruction).run(instruction);
                assert_eq!(
                    format!("{:?}", typed.expect("the crate reads it")),
                    format!("{shortcut:?}"),
                    "{}",
                    &text[instruction.span.clone()]
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 10);
    }
}
