//! A forgiving tokeniser for bodies brush-parser rejects (and for commands whose words it
//! mangled). It knows quoting, `$( )`/`${ }`/backquotes, separators, redirections, heredocs
//! and enough of the reserved words to find each simple command's program; it checks no
//! grammar, so it never fails.

use std::ops::Range;

use super::lex::{self, is_blank};
use super::{
    Context, HeredocBody, Process, RawCommand, RawRedirect, RawScript, RawState, RawStateKind,
    RedirectKind,
};

/// The simple commands of `text[range]`, in source order. Their contexts are exact for plain
/// text (list operators and pipes only) and approximate otherwise.
pub(super) fn tokenise(text: &str, range: Range<usize>) -> RawScript {
    let b = &text.as_bytes()[..range.end.min(text.len())];
    let pos = range.start.min(b.len());
    let mut t = Tokeniser {
        text,
        b,
        pos,
        limit: b.len(),
        // Sized once: a heredoc of millions of commands is not copied at each doubling.
        out: Vec::with_capacity(commands_at_most(&b[pos..])),
        ..Tokeniser::default()
    };
    t.run();
    t.finish_command();
    t.out.retain(|c| !c.is_empty());
    RawScript {
        commands: t.out,
        states: t.states,
        tail_compound: false,
    }
}

/// How many commands of `b` have a word, at most, for most text: each ends at a separator or
/// a newline with a word before it. (`fi`, `done`, `}` end some more: `out` then grows.)
fn commands_at_most(b: &[u8]) -> usize {
    let (mut count, mut after_word) = (1, false);
    for &c in b {
        match c {
            b'\n' | b';' | b'&' | b'|' | b')' => {
                count += usize::from(after_word);
                after_word = false;
            }
            b' ' | b'\t' => {}
            _ => after_word = true,
        }
    }
    count
}

/// Whether a quote, `$( )`, `${ }` or backquote is left open at the end of `text` (heredoc
/// bodies are not looked into).
pub(super) fn has_unclosed_construct(text: &str) -> bool {
    // Plain text opens nothing; one scan of it spares a copy and the tokeniser's words.
    if is_plain(text) {
        return false;
    }
    // A newline ends every plain word; only an open construct scans past it.
    let mut padded = String::with_capacity(text.len() + 1);
    padded.push_str(text);
    padded.push('\n');
    let mut t = Tokeniser {
        text: &padded,
        b: padded.as_bytes(),
        limit: text.len(),
        ..Tokeniser::default()
    };
    t.run();
    t.pos > t.limit
}

/// Text made only of unquoted words, comments and the separators `&&` `||` `|` `;` `&` (no
/// quotes, expansions, escapes, redirections or brackets, and no reserved word where a
/// command's name goes), with no empty command before a separator. Its commands are the same
/// whoever splits it, so such text (half of real RUN bodies, and most `$( )` contents) skips
/// the full parser.
pub(super) fn is_plain(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    let mut command_has_words = false;
    // Until a word that is not an assignment, a word may be the command's name, where the
    // shell reads `if`, `done`, `time` … as reserved words (`echo done` is a plain argument).
    let mut at_command_name = true;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' => i += 1,
            b'\n' => {
                command_has_words = false;
                at_command_name = true;
                i += 1;
            }
            b';' | b'&' | b'|' => {
                let run = b[i..]
                    .iter()
                    .take_while(|c| matches!(c, b';' | b'&' | b'|'))
                    .count();
                let operator = &b[i..i + run];
                let ends_list = matches!(operator, b";" | b"&");
                let valid = matches!(operator, b"&&" | b"||" | b"|") || ends_list;
                if !valid || !command_has_words {
                    return false;
                }
                command_has_words = false;
                at_command_name = true;
                i += run;
                if !ends_list && b[i..].iter().all(|&c| is_blank(c) || c == b'\n') {
                    return false; // a dangling `&&`, `||` or `|`
                }
            }
            b'#' => i = lex::line_end(b, i),
            _ => {
                let end = i + b[i..]
                    .iter()
                    .take_while(|&&c| is_plain_word_byte(c))
                    .count();
                if end == i {
                    return false;
                }
                let word = &text[i..end];
                if at_command_name && is_reserved_word(word.as_bytes()) {
                    return false;
                }
                command_has_words = true;
                at_command_name &= lex::is_assignment(word);
                i = end;
                // A word ends at a blank or separator (`a#b`, `a'b'` are not plain).
                if b.get(i)
                    .is_some_and(|&c| !matches!(c, b' ' | b'\t' | b'\n' | b';' | b'&' | b'|'))
                {
                    return false;
                }
            }
        }
    }
    true
}

fn is_plain_word_byte(c: u8) -> bool {
    PLAIN_WORD_BYTES[usize::from(c)]
}

/// The bytes of a plain word, by value: a table, as every byte of half the RUN bodies is
/// looked up (searching the punctuation for each took more than the rest of the check).
const PLAIN_WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        table[c] = (c as u8).is_ascii_alphanumeric();
        c += 1;
    }
    let punctuation = b"-_./:=,+@%^~*?[]";
    let mut k = 0;
    while k < punctuation.len() {
        table[punctuation[k] as usize] = true;
        k += 1;
    }
    table
};

fn is_reserved_word(word: &[u8]) -> bool {
    matches!(
        word,
        b"if"
            | b"then"
            | b"else"
            | b"elif"
            | b"fi"
            | b"do"
            | b"done"
            | b"while"
            | b"until"
            | b"for"
            | b"in"
            | b"select"
            | b"case"
            | b"esac"
            | b"function"
            | b"time"
            | b"coproc"
            | b"[["
            | b"]]"
    )
}

#[derive(Default)]
struct Tokeniser<'a> {
    text: &'a str,
    b: &'a [u8],
    pos: usize,
    /// Where tokenising stops (scanners may look past it, up to the end of `b`).
    limit: usize,
    out: Vec<RawCommand>,
    current: RawCommand,
    pending_heredocs: Vec<PendingHeredoc>,
    /// Open `case` constructs; `true` while the next token is a pattern.
    cases: Vec<bool>,
    /// Inside a `for`/`select` header: its words are no command.
    in_loop_header: bool,
    /// The context of the command being read, set by the operator before it.
    next: Context,
    /// Index in `out` where the current and-or list starts (a `&` sends it all to the
    /// background).
    list_start: usize,
    /// The last token was `&&`, `||` or `|`: a newline before the next command does not end
    /// the list (the command after it is still conditional, or piped).
    continues_list: bool,
    states: Vec<RawState>,
}

struct PendingHeredoc {
    delimiter: String,
    strip_tabs: bool,
    stdin: bool,
    /// Index in `out` of the command it belongs to.
    owner: usize,
}

const REDIRECTION_OPERATORS: [&str; 12] = [
    "<<<", "<<-", "<<", "<>", "<&", "<", ">>", ">|", ">&", ">", "&>>", "&>",
];

impl Tokeniser<'_> {
    fn run(&mut self) {
        while self.pos < self.limit {
            let before = self.pos;
            self.step();
            if self.pos <= before {
                // Every step consumes input; this guards the loop against a scanner bug.
                self.pos = before + 1;
                while !self.text.is_char_boundary(self.pos) {
                    self.pos += 1;
                }
            }
        }
    }

    fn step(&mut self) {
        let b = self.b;
        let c = b[self.pos];
        let next = b.get(self.pos + 1).copied();
        if self.cases.last() == Some(&true) && !is_blank(c) && c != b'\n' {
            return self.case_pattern();
        }
        match (c, next) {
            (b' ' | b'\t', _) => self.pos += 1,
            (b'\\', Some(b'\n')) => self.pos += 2,
            (b'\n', _) if self.continues_list && self.current.is_empty() => {
                self.pos += 1;
                self.read_heredoc_bodies();
            }
            (b'\n', _) => {
                self.pos += 1;
                self.separator();
                self.list_start = self.out.len();
                self.read_heredoc_bodies();
            }
            (b'#', _) => self.pos = lex::line_end(b, self.pos),
            (b';', Some(b';')) | (b';', Some(b'&')) => {
                self.pos += 2;
                if b.get(self.pos) == Some(&b'&') {
                    self.pos += 1;
                }
                self.separator();
                if let Some(expecting_pattern) = self.cases.last_mut() {
                    *expecting_pattern = true;
                }
            }
            (b'&', Some(b'>')) => self.redirection(self.pos),
            (b'&', Some(b'&')) => {
                self.pos += 2;
                self.separator();
                self.continues_list = true;
            }
            (b'|', Some(b'|')) => {
                self.pos += 2;
                self.separator();
                self.next = self.next.conditional();
                self.continues_list = true;
            }
            (b'|', _) => {
                self.pos += if next == Some(b'&') { 2 } else { 1 };
                // Both sides of a pipe run in subshells, and the whole pipeline runs only
                // if its first command does (`a || b | c`: `c` too is conditional).
                let conditional = self.current.context.conditional || self.next.conditional;
                self.current.context = self.current.context.subshell();
                self.separator();
                self.next = self.next.subshell();
                if conditional {
                    self.next = self.next.conditional();
                }
                self.continues_list = true;
            }
            (b'&', _) => {
                self.pos += 1;
                self.background();
            }
            (b';' | b')', _) => {
                self.pos += 1;
                self.separator();
                self.list_start = self.out.len();
            }
            (b'(', Some(b'(')) if self.at_command_start() => {
                // `(( … ))` arithmetic command.
                self.pos = lex::skip_parenthesised(b, self.pos + 2, 0);
                if b.get(self.pos) == Some(&b')') {
                    self.pos += 1;
                }
            }
            (b'(', _) => self.open_paren(),
            (b'<' | b'>', Some(b'(')) => self.word(),
            (b'<' | b'>', _) => self.redirection(self.pos),
            (b'0'..=b'9', _) => self.number_or_word(),
            _ => self.word(),
        }
    }

    fn at_command_start(&self) -> bool {
        self.current.words.len() == self.current.env_count
    }

    fn open_paren(&mut self) {
        // `name() { …; }`: the name is no command.
        let is_function = self.current.words.len() == 1
            && self.b[self.pos + 1..].iter().find(|c| !is_blank(**c)) == Some(&b')');
        if is_function {
            self.current.words.clear();
            self.current.env_count = 0;
            let close = self.b[self.pos..]
                .iter()
                .position(|&c| c == b')')
                .unwrap_or(0);
            self.pos += close + 1;
        } else {
            self.pos += 1;
        }
        self.separator();
    }

    /// `2>&1`, `10<file` are redirections; `2` alone or `2x` is a word.
    fn number_or_word(&mut self) {
        let digits = self.b[self.pos..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        match self.b.get(self.pos + digits) {
            Some(b'<' | b'>') => {
                let fd_start = self.pos;
                self.pos += digits;
                self.redirection(fd_start);
            }
            _ => self.word(),
        }
    }

    /// A redirection operator at `self.pos` (its fd digits start at `fd_start`) and its target.
    fn redirection(&mut self, fd_start: usize) {
        let rest = &self.text[self.pos..self.limit];
        let Some(op) = REDIRECTION_OPERATORS
            .iter()
            .find(|op| rest.starts_with(**op))
        else {
            self.pos += 1;
            return;
        };
        let fd = &self.text[fd_start..self.pos];
        self.pos += op.len();
        while self.pos < self.limit && is_blank(self.b[self.pos]) {
            self.pos += 1;
        }
        let start = self.pos;
        self.pos = lex::scan_word(self.b, start);
        let target = start..self.pos;
        if target.is_empty() {
            return;
        }
        if op.starts_with("<<") && *op != "<<<" {
            let (delimiter, _) = lex::unquoted_value(&self.text[target]);
            self.pending_heredocs.push(PendingHeredoc {
                delimiter: delimiter.into(),
                strip_tabs: *op == "<<-",
                stdin: fd.is_empty() || fd == "0",
                owner: self.out.len(),
            });
        } else {
            let kind = match *op {
                "<" => Some(RedirectKind::Read),
                ">" | ">|" => Some(RedirectKind::Write),
                ">>" => Some(RedirectKind::Append),
                "<>" => Some(RedirectKind::ReadWrite),
                "<&" | ">&" => Some(RedirectKind::Duplicate),
                "&>" | "&>>" => Some(RedirectKind::OutputAndError),
                _ => None,
            };
            if let Some(kind) = kind {
                self.current.redirects.push(RawRedirect {
                    kind,
                    fd: fd.parse().ok(),
                    target: target.clone(),
                });
            }
            self.current.subst_only.push(target);
        }
    }

    fn word(&mut self) {
        let start = self.pos;
        self.pos = if self.b[start] == b'<' || self.b[start] == b'>' {
            lex::skip_parenthesised(self.b, start + 2, 0)
        } else {
            lex::scan_word(self.b, start)
        };
        if self.pos == start {
            self.pos += 1;
            return;
        }
        let range = start..self.pos;
        if self.in_loop_header {
            self.current.subst_only.push(range);
        } else if self.at_command_start() {
            self.command_start_word(range);
        } else {
            self.current.words.push(range);
        }
    }

    /// A word where a program may start: assignments, reserved words, or the program.
    fn command_start_word(&mut self, range: Range<usize>) {
        let word = &self.text[range.clone()];
        if lex::is_assignment(word) {
            self.current.words.push(range);
            self.current.env_count += 1;
            return;
        }
        if self.current.env_count > 0 {
            self.current.words.push(range);
            return;
        }
        match word {
            "if" | "then" | "else" | "elif" | "do" | "while" | "until" | "!" | "{" | "time" => {}
            "fi" | "done" | "}" => self.separator(),
            "esac" => {
                self.cases.pop();
                self.separator();
            }
            "for" | "select" => self.in_loop_header = true,
            "case" => self.case_header(),
            "function" => {
                self.skip_blanks();
                self.pos = lex::scan_word(self.b, self.pos);
            }
            "[[" => self.skip_extended_test(),
            _ => self.current.words.push(range),
        }
    }

    fn skip_blanks(&mut self) {
        while self.pos < self.limit && is_blank(self.b[self.pos]) {
            self.pos += 1;
        }
    }

    /// `case WORD in`: the subject is searched for substitutions; patterns follow.
    fn case_header(&mut self) {
        self.skip_blanks();
        let start = self.pos;
        self.pos = lex::scan_word(self.b, start);
        if self.pos > start {
            self.current.subst_only.push(start..self.pos);
        }
        while self.pos < self.limit && matches!(self.b[self.pos], b' ' | b'\t' | b'\n') {
            self.pos += 1;
        }
        if self.b[self.pos..].starts_with(b"in") {
            self.pos += 2;
        }
        self.separator();
        self.cases.push(true);
    }

    /// A case pattern up to its `)`, or the `esac` closing the case.
    fn case_pattern(&mut self) {
        let b = self.b;
        let rest = &b[self.pos..];
        if rest.starts_with(b"esac") && rest.get(4).is_none_or(|&c| lex::is_word_break(c)) {
            self.pos += 4;
            self.cases.pop();
            return self.separator();
        }
        if rest.starts_with(b";") {
            self.pos += 1;
            return;
        }
        let mut i = self.pos;
        if b[i] == b'(' {
            i += 1;
        }
        while i < b.len() {
            match b[i] {
                b')' => {
                    i += 1;
                    break;
                }
                b'\n' => break,
                _ => i = lex::scan_word(b, i).max(i + 1),
            }
        }
        self.pos = i;
        if let Some(expecting_pattern) = self.cases.last_mut() {
            *expecting_pattern = false;
        }
    }

    fn skip_extended_test(&mut self) {
        while self.pos < self.limit {
            self.skip_blanks();
            let start = self.pos;
            self.pos = lex::scan_word(self.b, start).max(start + 1);
            if &self.text[start..self.pos.min(self.limit)] == "]]" {
                return;
            }
        }
    }

    fn separator(&mut self) {
        self.in_loop_header = false;
        self.continues_list = false;
        self.finish_command();
    }

    /// `&`: the and-or list before it runs in the background.
    fn background(&mut self) {
        self.separator();
        let list = &mut self.out[self.list_start..];
        for command in list.iter_mut() {
            command.context.process = command.context.process.max(Process::Subshell);
        }
        let at = list
            .iter()
            .find_map(|c| c.words.first().cloned())
            .unwrap_or(0..0);
        self.states.push(RawState {
            kind: RawStateKind::Background,
            range: at,
            context: Context::default(),
        });
        self.list_start = self.out.len();
    }

    fn finish_command(&mut self) {
        let mut command = std::mem::take(&mut self.current);
        command.context = Context {
            process: command.context.process.max(self.next.process),
            conditional: command.context.conditional || self.next.conditional,
            in_function: false,
        };
        self.next = Context::default();
        // An empty command (`;;;;`, a blank line) is kept only while a heredoc names it as
        // its owner, so owners stay valid: it is dropped at the end. Kept always, 50 MB of
        // `;` held 10 GB.
        let owns_heredoc = || {
            self.pending_heredocs
                .iter()
                .any(|h| h.owner == self.out.len())
        };
        if !command.is_empty() || owns_heredoc() {
            self.out.push(command);
        }
    }

    /// After a newline: the bodies of the heredocs opened on the line just ended.
    fn read_heredoc_bodies(&mut self) {
        for heredoc in std::mem::take(&mut self.pending_heredocs) {
            let content = self.read_heredoc_body(&heredoc);
            if heredoc.stdin {
                if let Some(owner) = self.out.get_mut(heredoc.owner) {
                    owner.heredocs.push(HeredocBody {
                        content,
                        strip_tabs: heredoc.strip_tabs,
                    });
                }
            }
        }
    }

    fn read_heredoc_body(&mut self, heredoc: &PendingHeredoc) -> Range<usize> {
        let start = self.pos;
        while self.pos < self.limit {
            let line_start = self.pos;
            let line_end = lex::line_end(self.b, line_start);
            let mut line = &self.text[line_start..line_end];
            if heredoc.strip_tabs {
                line = line.trim_start_matches('\t');
            }
            self.pos = (line_end + 1).min(self.limit);
            if line == heredoc.delimiter {
                return start..line_start;
            }
        }
        start..self.limit
    }
}
