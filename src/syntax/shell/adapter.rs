//! The only code that sees brush-parser's types: parses a body and walks the AST into
//! [`RawCommand`]s with byte ranges of the body.
//!
//! brush-parser 0.4.0 quirks handled here (see the tests in `shell.rs`):
//! * positions are char indices, not bytes;
//! * a word can start at the blank or `\`+newline before it;
//! * a `${…}`/`$(…)` word after a heredoc operator on the same line is mangled (its text
//!   loses the name, a stray word appears inside it); such commands are re-tokenised;
//! * some inputs make it panic, loop forever, recurse past the stack or backtrack for
//!   seconds; [`screen`] sends those to the tokeniser before it sees them.

use std::ops::Range;
use std::panic::{self, catch_unwind, AssertUnwindSafe};
use std::sync::Once;

use brush_parser::ast;
use brush_parser::{Parser, ParserOptions, SourceSpan};

use super::lex::{self, is_blank};
use super::{
    fallback, Context, HeredocBody, RawCommand, RawRedirect, RawScript, RawState, RawStateKind,
    RedirectKind,
};
use crate::source::floor_char_boundary;

/// How far around brush's position a word whose text is not there is searched for.
const SEARCH_WINDOW: usize = 64;

/// The simple commands of `text` and its shell state, or brush's reason for rejecting it.
pub(super) fn simple_commands(text: &str) -> Result<RawScript, String> {
    if let Some(reason) = screen(text) {
        return Err(reason.to_owned());
    }
    let program = parse_program(text)?;
    let mut walker = Walker {
        text,
        chars: CharIndex::new(text),
        out: Vec::new(),
        states: Vec::new(),
        context: Context::default(),
    };
    walker.program(&program);
    Ok(RawScript {
        commands: walker.out,
        states: walker.states,
        tail_compound: program
            .complete_commands
            .last()
            .and_then(|list| list.0.last())
            .is_some_and(|item| has_compound(&item.0)),
    })
}

/// Whether an and-or list runs a compound command (or an extended test) at its top.
fn has_compound(list: &ast::AndOrList) -> bool {
    std::iter::once(&list.first)
        .chain(list.additional.iter().map(|next| match next {
            ast::AndOr::And(p) | ast::AndOr::Or(p) => p,
        }))
        .flat_map(|p| &p.seq)
        .any(|c| !matches!(c, ast::Command::Simple(_)))
}

fn parse_program(text: &str) -> Result<ast::Program, String> {
    let options = ParserOptions::default();
    // brush-parser has `unwrap`s on input-derived data in its tokeniser (e.g. an unclosed
    // `$(` on a line with a heredoc). A panic there is a rejection of the body like any
    // other: the fallback tokeniser takes over.
    silence_parser_panics();
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        Parser::new(text.as_bytes(), &options).parse_program()
    }));
    match parsed {
        Ok(Ok(program)) => Ok(program),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err("the shell parser failed on this text".to_owned()),
    }
}

/// Keeps the panics caught in [`parse_program`] off stderr: the panic hook skips those raised
/// in brush-parser's code and passes every other panic to the hook it replaced.
fn silence_parser_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let in_parser = info
                .location()
                .is_some_and(|at| at.file().contains("brush-parser"));
            if !in_parser {
                previous(info);
            }
        }));
    });
}

/// Inputs brush-parser 0.4.0 cannot be given: they make it overflow the stack, loop forever,
/// take exponential time, or panic (caught, but cheap to avoid). They are rejected before it
/// sees them: a stack overflow aborts the process and a loop cannot be interrupted.
fn screen(text: &str) -> Option<&'static str> {
    if has_huge_fd_number(text) {
        return Some("file descriptor number out of range");
    }
    if has_odd_heredoc_delimiter(text) {
        return Some("unsupported heredoc delimiter");
    }
    if text.contains("<<") {
        // Heredocs in unterminated text, or in a command substitution, can make it loop
        // forever (`$(x <<  e `, `$(x <<  i) `).
        if fallback::has_unclosed_construct(text) {
            return Some("unterminated quote or expansion in text with a heredoc");
        }
        if has_heredoc_in_substitution(text) {
            return Some("heredoc in a command substitution");
        }
    }
    let nesting = Nesting::of(text);
    if nesting.max_total > MAX_NESTING {
        return Some("nesting too deep for the shell parser");
    }
    if nesting.max_branching > MAX_BRANCHING_NESTING {
        return Some("too many nested parentheses or case constructs for the shell parser");
    }
    None
}

/// Its grammar recurses per nesting level (overflowing a 2 MB thread stack between 64 and
/// 128 levels in a debug build).
const MAX_NESTING: usize = 40;
/// Failing parses of nested `(` or `case` backtrack in time doubling with each level.
const MAX_BRANCHING_NESTING: usize = 10;

/// `io_number` parses the digits before `<`/`>` as an i32 with `unwrap`.
fn has_huge_fd_number(text: &str) -> bool {
    let mut digits = 0;
    for c in text.bytes() {
        if c.is_ascii_digit() {
            digits += 1;
            continue;
        }
        if digits >= 10 && (c == b'<' || c == b'>') {
            return true;
        }
        digits = 0;
    }
    false
}

/// `<<""`, `<<''x`, `<<"'"`, `<<$(""`, `<<$[`: a heredoc whose delimiter is empty to
/// brush-parser can make it loop forever. Only delimiters without expansions, brackets or
/// quote characters in their value (`EOF`, `'PY'`, `"END-1"`, `\EOF`) are let through.
fn has_odd_heredoc_delimiter(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(k) = text[i..].find("<<") {
        let run_start = i + k;
        let run_end = run_start + b[run_start..].iter().take_while(|&&c| c == b'<').count();
        let escaped = usize::from(run_start > 0 && b[run_start - 1] == b'\\');
        // `<<<` is a here-string (its word may be anything); longer runs may hide a heredoc.
        if run_end - run_start - escaped == 3 {
            i = run_end;
            continue;
        }
        if !delimiter_word(text, run_end).is_some_and(is_plain_delimiter) {
            return true;
        }
        i = run_end;
    }
    false
}

/// The word after a heredoc operator ending at `start` (`-` and blanks skipped); `None` when
/// it is longer than any real delimiter (the scan stays short, so the screen stays linear).
fn delimiter_word(text: &str, mut start: usize) -> Option<&str> {
    const MAX_DELIMITER: usize = 128;
    let b = text.as_bytes();
    if b.get(start) == Some(&b'-') {
        start += 1;
    }
    while b.get(start).is_some_and(|&c| is_blank(c)) {
        start += 1;
    }
    let limit = (start + MAX_DELIMITER).min(b.len());
    let end = lex::scan_word(&b[..limit], start);
    let cut_short = end == limit && limit < b.len();
    (!cut_short).then(|| text.get(start..end)).flatten()
}

fn is_plain_delimiter(word: &str) -> bool {
    const SPECIAL: &[u8] = b"$`(){}[]'\"\\";
    let (delimiter, _) = lex::unquoted_value(word);
    !delimiter.is_empty()
        && !word.starts_with("''")
        && !word.starts_with("\"\"")
        && !delimiter.bytes().any(|c| SPECIAL.contains(&c))
        && !word.bytes().any(|c| b"$`(){}[]".contains(&c))
}

fn has_heredoc_in_substitution(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(k) = text[i..].find("$(") {
        let start = i + k + 2;
        let end = lex::skip_parenthesised(b, start, 0);
        if text[start..end].contains("<<") {
            return true;
        }
        // Substitutions nested in this one were part of the text just searched.
        i = end.max(start);
    }
    false
}

/// A rough count of nesting: brackets, braces and compound-command keywords (single-quoted
/// text skipped). Overcounting only sends a body to the tokeniser.
#[derive(Default)]
struct Nesting {
    parens: usize,
    cases: usize,
    others: usize,
    max_total: usize,
    max_branching: usize,
}

impl Nesting {
    fn of(text: &str) -> Self {
        let b = text.as_bytes();
        let mut n = Nesting::default();
        let mut i = 0;
        while i < b.len() {
            let at_word_start =
                i == 0 || lex::is_word_break(b[i - 1]) || matches!(b[i - 1], b'{' | b'}');
            match b[i] {
                b'\'' => {
                    i = lex::skip_single_quoted(b, i);
                    continue;
                }
                b'(' => n.parens += 1,
                // Without an open bracket, `)` ends a case pattern.
                b')' => n.parens = n.parens.saturating_sub(1),
                b'{' => n.others += 1,
                b'}' => n.others = n.others.saturating_sub(1),
                b'a'..=b'z' if at_word_start => {
                    i = n.keyword(b, i);
                    continue;
                }
                _ => {}
            }
            n.record();
            i += 1;
        }
        n
    }

    /// Counts the reserved word starting at `i`; returns the index after the word.
    fn keyword(&mut self, b: &[u8], i: usize) -> usize {
        let end = i + b[i..].iter().take_while(|c| c.is_ascii_lowercase()).count();
        if b.get(end).is_none_or(|&c| lex::is_word_break(c)) {
            match &b[i..end] {
                b"case" => self.cases += 1,
                b"esac" => self.cases = self.cases.saturating_sub(1),
                b"if" | b"while" | b"until" | b"for" | b"select" => self.others += 1,
                b"fi" | b"done" => self.others = self.others.saturating_sub(1),
                _ => {}
            }
            self.record();
        }
        end
    }

    fn record(&mut self) {
        let branching = self.parens + self.cases;
        self.max_branching = self.max_branching.max(branching);
        self.max_total = self.max_total.max(branching + self.others);
    }
}

#[cfg(test)]
pub(super) fn nesting_of(text: &str) -> (usize, usize) {
    let n = Nesting::of(text);
    (n.max_total, n.max_branching)
}

/// Char index -> byte offset (brush counts chars).
enum CharIndex {
    Ascii { len: usize },
    Table(Vec<usize>),
}

impl CharIndex {
    fn new(text: &str) -> Self {
        if text.is_ascii() {
            return CharIndex::Ascii { len: text.len() };
        }
        let mut table: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        table.push(text.len());
        CharIndex::Table(table)
    }

    fn byte(&self, char_index: usize) -> usize {
        match self {
            CharIndex::Ascii { len } => char_index.min(*len),
            CharIndex::Table(table) => table.get(char_index).or(table.last()).copied().unwrap_or(0),
        }
    }
}

/// The word ranges seen in one simple command, to detect brush's mangled words.
#[derive(Default)]
struct WordCheck {
    ranges: Vec<Range<usize>>,
    /// Union of brush's own spans of the command's words.
    extent: Option<Range<usize>>,
    mangled: bool,
}

impl WordCheck {
    fn cover(&mut self, span: Range<usize>) {
        self.extent = Some(match self.extent.take() {
            Some(e) => e.start.min(span.start)..e.end.max(span.end),
            None => span,
        });
    }

    /// Mangled words show up as texts not in the source or words inside other words.
    fn is_suspect(&mut self) -> bool {
        if self.mangled {
            return true;
        }
        self.ranges.sort_by_key(|r| r.start);
        self.ranges.windows(2).any(|w| w[1].start < w[0].end)
    }
}

struct Walker<'a> {
    text: &'a str,
    chars: CharIndex,
    out: Vec<RawCommand>,
    states: Vec<RawState>,
    /// Where the commands being walked run.
    context: Context,
}

impl Walker<'_> {
    fn program(&mut self, program: &ast::Program) {
        for list in &program.complete_commands {
            self.compound_list(list);
        }
    }

    /// Walks `f` with the context changed by `change`, then restores it.
    fn within(&mut self, change: impl FnOnce(Context) -> Context, f: impl FnOnce(&mut Self)) {
        let saved = self.context;
        self.context = change(saved);
        f(self);
        self.context = saved;
    }

    fn state(&mut self, kind: RawStateKind, range: Range<usize>) {
        self.states.push(RawState {
            kind,
            range,
            context: self.context,
        });
    }

    fn compound_list(&mut self, list: &ast::CompoundList) {
        for ast::CompoundListItem(and_or, separator) in &list.0 {
            let first = self.out.len();
            if matches!(separator, ast::SeparatorOperator::Async) {
                self.within(Context::subshell, |w| w.and_or(and_or));
                let at = self.out[first..]
                    .iter()
                    .find_map(|c| c.words.first().cloned())
                    .unwrap_or(0..0);
                self.state(RawStateKind::Background, at);
            } else {
                self.and_or(and_or);
            }
        }
    }

    fn and_or(&mut self, list: &ast::AndOrList) {
        self.pipeline(&list.first);
        for next in &list.additional {
            match next {
                ast::AndOr::And(pipeline) => self.pipeline(pipeline),
                ast::AndOr::Or(pipeline) => {
                    self.within(Context::conditional, |w| w.pipeline(pipeline))
                }
            }
        }
    }

    fn pipeline(&mut self, pipeline: &ast::Pipeline) {
        // Every element of a pipeline of several commands runs in a subshell (bash without
        // `lastpipe`, dash, ash).
        if pipeline.seq.len() > 1 {
            self.within(Context::subshell, |w| {
                for command in &pipeline.seq {
                    w.command(command);
                }
            });
        } else {
            for command in &pipeline.seq {
                self.command(command);
            }
        }
    }

    fn command(&mut self, command: &ast::Command) {
        match command {
            ast::Command::Simple(simple) => self.simple(simple),
            ast::Command::Compound(compound, redirects) => {
                self.compound(compound);
                self.redirect_list(redirects.as_ref());
            }
            ast::Command::Function(function) => {
                let range = self.word_range(&function.fname);
                self.state(RawStateKind::Function(function.fname.value.clone()), range);
                self.within(
                    |c| Context {
                        in_function: true,
                        ..c.conditional()
                    },
                    |w| {
                        w.compound(&function.body.0);
                        w.redirect_list(function.body.1.as_ref());
                    },
                );
            }
            ast::Command::ExtendedTest(test, _) => {
                let range = self.span(&test.loc);
                self.state(RawStateKind::Arithmetic, range);
            }
        }
    }

    fn compound(&mut self, compound: &ast::CompoundCommand) {
        match compound {
            ast::CompoundCommand::Arithmetic(c) => {
                let range = self.span(&c.loc);
                self.state(RawStateKind::Arithmetic, range);
            }
            ast::CompoundCommand::ArithmeticForClause(c) => {
                let range = self.span(&c.loc);
                self.state(RawStateKind::Arithmetic, range);
                self.within(Context::conditional, |w| w.compound_list(&c.body.list));
            }
            ast::CompoundCommand::BraceGroup(c) => self.compound_list(&c.list),
            ast::CompoundCommand::Subshell(c) => {
                self.within(Context::subshell, |w| w.compound_list(&c.list))
            }
            ast::CompoundCommand::ForClause(c) => {
                let range = self.span(&c.loc);
                self.state(RawStateKind::LoopVariable(c.variable_name.clone()), range);
                self.substitution_words(c.values.iter().flatten());
                self.within(Context::conditional, |w| w.compound_list(&c.body.list));
            }
            ast::CompoundCommand::CaseClause(c) => {
                self.substitution_words(std::iter::once(&c.value));
                self.within(Context::conditional, |w| {
                    for case in &c.cases {
                        if let Some(list) = &case.cmd {
                            w.compound_list(list);
                        }
                    }
                });
            }
            ast::CompoundCommand::IfClause(c) => {
                self.compound_list(&c.condition);
                self.within(Context::conditional, |w| {
                    w.compound_list(&c.then);
                    for branch in c.elses.iter().flatten() {
                        if let Some(condition) = &branch.condition {
                            w.compound_list(condition);
                        }
                        w.compound_list(&branch.body);
                    }
                });
            }
            ast::CompoundCommand::WhileClause(c) | ast::CompoundCommand::UntilClause(c) => {
                self.compound_list(&c.0);
                self.within(Context::conditional, |w| w.compound_list(&c.1.list));
            }
            ast::CompoundCommand::Coprocess(c) => {
                let range = self.span(&c.loc);
                self.state(RawStateKind::Background, range);
                self.within(Context::subshell, |w| w.command(&c.body));
            }
        }
    }

    /// The body range of a word, or an empty range at brush's position when it is not found.
    fn word_range(&self, word: &ast::Word) -> Range<usize> {
        self.find_word(word)
            .or_else(|| word.loc.as_ref().map(|l| self.span(l)))
            .unwrap_or(0..0)
    }

    /// Words that are no command's arguments but may hold command substitutions.
    fn substitution_words<'w>(&mut self, words: impl Iterator<Item = &'w ast::Word>) {
        let mut check = WordCheck::default();
        let subst_only: Vec<_> = words
            .filter_map(|w| self.locate_word(w, &mut check))
            .collect();
        if !subst_only.is_empty() {
            self.out.push(RawCommand {
                subst_only,
                context: self.context,
                ..RawCommand::default()
            });
        }
    }

    /// Redirections of a compound command: only their targets' substitutions matter.
    fn redirect_list(&mut self, redirects: Option<&ast::RedirectList>) {
        let Some(redirects) = redirects else { return };
        let mut command = RawCommand {
            context: self.context,
            ..RawCommand::default()
        };
        let mut check = WordCheck::default();
        let mut later = Vec::new();
        for redirect in &redirects.0 {
            self.redirect(redirect, &mut command, &mut check, &mut later);
        }
        command.heredocs.clear();
        for redirect in std::mem::take(&mut command.redirects) {
            let range = redirect.target.clone();
            self.state(RawStateKind::Redirect(redirect), range);
        }
        if !command.subst_only.is_empty() {
            self.out.push(command);
        }
        self.out.append(&mut later);
    }

    fn simple(&mut self, simple: &ast::SimpleCommand) {
        let mut command = RawCommand {
            context: self.context,
            ..RawCommand::default()
        };
        let mut check = WordCheck::default();
        // Commands of process substitutions, emitted after this one.
        let mut later = Vec::new();
        for item in simple.prefix.iter().flat_map(|p| &p.0) {
            self.item(item, true, &mut command, &mut check, &mut later);
        }
        if let Some(word) = &simple.word_or_name {
            if let Some(range) = self.locate_word(word, &mut check) {
                command.words.push(range);
            }
        }
        for item in simple.suffix.iter().flat_map(|s| &s.0) {
            self.item(item, false, &mut command, &mut check, &mut later);
        }
        if check.is_suspect() {
            self.repair(command, &check);
        } else {
            self.out.push(command);
        }
        self.out.append(&mut later);
    }

    /// Replaces a command brush mangled by the tokeniser's reading of its source text.
    fn repair(&mut self, command: RawCommand, check: &WordCheck) {
        let Some(extent) = check.extent.clone() else {
            return;
        };
        let end = lex::scan_word(self.text.as_bytes(), extent.end.min(self.text.len()));
        let mut repaired = fallback::tokenise(self.text, extent.start..end).commands;
        for raw in &mut repaired {
            raw.context = command.context;
        }
        if let Some(first) = repaired.first_mut() {
            first.heredocs = command.heredocs;
        }
        self.out.append(&mut repaired);
    }

    fn item(
        &mut self,
        item: &ast::CommandPrefixOrSuffixItem,
        in_prefix: bool,
        command: &mut RawCommand,
        check: &mut WordCheck,
        later: &mut Vec<RawCommand>,
    ) {
        match item {
            ast::CommandPrefixOrSuffixItem::IoRedirect(redirect) => {
                self.redirect(redirect, command, check, later);
            }
            ast::CommandPrefixOrSuffixItem::Word(word)
            | ast::CommandPrefixOrSuffixItem::AssignmentWord(_, word) => {
                if let Some(range) = self.locate_word(word, check) {
                    command.words.push(range);
                    if in_prefix {
                        command.env_count += 1;
                    }
                }
            }
            ast::CommandPrefixOrSuffixItem::ProcessSubstitution(_, subshell) => {
                later.append(&mut self.nested_list(&subshell.list));
            }
        }
    }

    fn redirect(
        &mut self,
        redirect: &ast::IoRedirect,
        command: &mut RawCommand,
        check: &mut WordCheck,
        later: &mut Vec<RawCommand>,
    ) {
        let (target, kind, fd) = match redirect {
            ast::IoRedirect::File(fd, kind, target) => match target {
                ast::IoFileRedirectTarget::Filename(word)
                | ast::IoFileRedirectTarget::Duplicate(word) => {
                    (word, Some(redirect_kind(kind)), *fd)
                }
                ast::IoFileRedirectTarget::Fd(_) => return,
                ast::IoFileRedirectTarget::ProcessSubstitution(_, subshell) => {
                    return later.append(&mut self.nested_list(&subshell.list));
                }
            },
            ast::IoRedirect::HereString(_, word) => (word, None, None),
            ast::IoRedirect::OutputAndError(word, _) => {
                (word, Some(RedirectKind::OutputAndError), None)
            }
            ast::IoRedirect::HereDocument(fd, heredoc) => {
                // The delimiter joins the overlap check only when found: brush may have
                // stripped its quotes.
                if let Some(range) = self.find_word(&heredoc.here_end) {
                    check.ranges.push(range);
                }
                if matches!(fd, None | Some(0)) {
                    command.heredocs.extend(self.heredoc_body(heredoc));
                }
                return;
            }
        };
        if let Some(range) = self.locate_word(target, check) {
            if let Some(kind) = kind {
                command.redirects.push(RawRedirect {
                    kind,
                    fd: fd.and_then(|fd| u32::try_from(fd).ok()),
                    target: range.clone(),
                });
            }
            command.subst_only.push(range);
        }
    }

    /// Commands of a nested list (process substitution), collected apart.
    fn nested_list(&mut self, list: &ast::CompoundList) -> Vec<RawCommand> {
        let outer = std::mem::take(&mut self.out);
        self.within(Context::subshell, |w| w.compound_list(list));
        std::mem::replace(&mut self.out, outer)
    }

    fn span(&self, loc: &SourceSpan) -> Range<usize> {
        let start = self.chars.byte(loc.start.index);
        start..self.chars.byte(loc.end.index).max(start)
    }

    /// The body range of a word, recorded in `check`.
    fn locate_word(&self, word: &ast::Word, check: &mut WordCheck) -> Option<Range<usize>> {
        if let Some(loc) = &word.loc {
            check.cover(self.span(loc));
        }
        match self.find_word(word) {
            Some(range) => {
                check.ranges.push(range.clone());
                Some(range)
            }
            None => {
                check.mangled = true;
                None
            }
        }
    }

    /// The body range whose text is the word's: at brush's position after skipping blanks
    /// and `\`+newline, else brush's span if it holds exactly one word, else the nearest
    /// occurrence of the word's text around it.
    fn find_word(&self, word: &ast::Word) -> Option<Range<usize>> {
        let span = self.span(word.loc.as_ref()?);
        let value = word.value.as_str();
        if value.is_empty() {
            return None;
        }
        let text = self.text;
        let b = text.as_bytes();
        let mut start = span.start;
        loop {
            if text[start..].starts_with(value) {
                return Some(start..start + value.len());
            }
            if start < span.end && is_blank(b[start]) {
                start += 1;
            } else if start < span.end && b[start..].starts_with(b"\\\n") {
                start += 2;
            } else {
                break;
            }
        }
        // brush re-renders some words (blanks inside `"$( … )"`): its span still holds one
        // whole word when our scanner ends that word where brush does.
        if start < span.end && lex::scan_word(b, start) == span.end {
            return Some(start..span.end);
        }
        self.search_near(value, span)
    }

    fn search_near(&self, value: &str, span: Range<usize>) -> Option<Range<usize>> {
        let text = self.text;
        let lo = floor_char_boundary(text, span.start.saturating_sub(SEARCH_WINDOW));
        let mut hi = (span.end + SEARCH_WINDOW + value.len()).min(text.len());
        while !text.is_char_boundary(hi) {
            hi += 1;
        }
        text[lo..hi]
            .match_indices(value)
            .map(|(i, _)| lo + i)
            .min_by_key(|&at| at.abs_diff(span.start))
            .map(|at| at..at + value.len())
    }

    /// The content lines of a heredoc (terminator excluded).
    fn heredoc_body(&self, heredoc: &ast::IoHereDocument) -> Option<HeredocBody> {
        let span = self.span(heredoc.doc.loc.as_ref()?);
        let (delimiter, _) = lex::unquoted_value(&heredoc.here_end.value);
        let text = &self.text[span.clone()];
        let content_end = span.start + terminator_start(text, &delimiter, heredoc.remove_tabs);
        let content = span.start..content_end;
        let value = heredoc.doc.value.as_str();
        if heredoc.remove_tabs || &self.text[content.clone()] == value {
            return Some(HeredocBody {
                content,
                strip_tabs: heredoc.remove_tabs,
            });
        }
        // Brush's span is off: the content is the first occurrence of its text after the start.
        let search_from = floor_char_boundary(self.text, span.start.saturating_sub(SEARCH_WINDOW));
        let at = search_from + self.text[search_from..].find(value)?;
        Some(HeredocBody {
            content: at..at + value.len(),
            strip_tabs: false,
        })
    }
}

fn redirect_kind(kind: &ast::IoFileRedirectKind) -> RedirectKind {
    match kind {
        ast::IoFileRedirectKind::Read => RedirectKind::Read,
        ast::IoFileRedirectKind::Write | ast::IoFileRedirectKind::Clobber => RedirectKind::Write,
        ast::IoFileRedirectKind::Append => RedirectKind::Append,
        ast::IoFileRedirectKind::ReadAndWrite => RedirectKind::ReadWrite,
        ast::IoFileRedirectKind::DuplicateInput | ast::IoFileRedirectKind::DuplicateOutput => {
            RedirectKind::Duplicate
        }
    }
}

/// Offset in `doc` (content plus terminator line) where the terminator line starts; the
/// length of `doc` when it has none.
fn terminator_start(doc: &str, delimiter: &str, strip_tabs: bool) -> usize {
    let trimmed = doc.strip_suffix('\n').unwrap_or(doc);
    let line_start = trimmed.rfind('\n').map_or(0, |k| k + 1);
    let mut line = &trimmed[line_start..];
    if strip_tabs {
        line = line.trim_start_matches('\t');
    }
    if line == delimiter {
        line_start
    } else {
        doc.len()
    }
}
