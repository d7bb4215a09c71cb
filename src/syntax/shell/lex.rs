//! Byte-level scanning shared by the brush adapter and the fallback tokeniser: quoted strings,
//! `$( )` / `${ }` / backquote groups, word ends and unquoting.
//!
//! Every scanner works on bytes and only stops at ASCII delimiters, so the offsets it returns
//! are always char boundaries. Nesting is bounded by [`MAX_NESTING`] so that hostile input
//! (`$($($(…` thousands deep) cannot exhaust the stack.

use std::ops::Range;

use compact_str::CompactString;

/// Deeper groups are not tracked: the scanner treats the rest of the input as inside them.
const MAX_NESTING: usize = 64;
/// Arithmetic expansions nested deeper are not searched for command substitutions.
const MAX_ARITHMETIC_DEPTH: usize = 8;

pub(super) fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Bytes that end an unquoted word.
pub(super) fn is_word_break(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')'
    )
}

/// Length of the UTF-8 character whose first byte is `b`.
fn char_len(b: u8) -> usize {
    match b {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

/// Index after a backslash escape at `i` (the escaped character included).
fn skip_escape(b: &[u8], i: usize) -> usize {
    match b.get(i + 1) {
        Some(&next) => (i + 1 + char_len(next)).min(b.len()),
        None => b.len(),
    }
}

/// Index after the `'` closing the single-quoted string opened at `open`.
pub(super) fn skip_single_quoted(b: &[u8], open: usize) -> usize {
    match b[open + 1..].iter().position(|&c| c == b'\'') {
        Some(k) => open + k + 2,
        None => b.len(),
    }
}

/// Index after the `"` closing the double-quoted string opened at `open`.
pub(super) fn skip_double_quoted(b: &[u8], open: usize, depth: usize) -> usize {
    let mut i = open + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i = skip_escape(b, i),
            b'"' => return i + 1,
            b'$' => i = skip_dollar(b, i, depth + 1),
            b'`' => i = skip_backquoted(b, i),
            _ => i += 1,
        }
    }
    b.len()
}

/// Index after the backquote closing the one opened at `open`.
pub(super) fn skip_backquoted(b: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i = skip_escape(b, i),
            b'`' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// Index after the expansion starting with the `$` at `i` (`$(…)`, `$((…))`, `${…}`, `$'…'`,
/// `$"…"`); just past the `$` for anything else (names are ordinary word bytes).
pub(super) fn skip_dollar(b: &[u8], i: usize, depth: usize) -> usize {
    if depth > MAX_NESTING {
        return b.len();
    }
    match b.get(i + 1) {
        Some(b'(') => skip_parenthesised(b, i + 2, depth + 1),
        Some(b'{') => skip_braced(b, i + 2, depth + 1, b'{', b'}'),
        // `$[…]`: the old arithmetic expansion.
        Some(b'[') => skip_braced(b, i + 2, depth + 1, b'[', b']'),
        Some(b'\'') => skip_ansi_c_quoted(b, i + 1),
        Some(b'"') => skip_double_quoted(b, i + 1, depth + 1),
        _ => i + 1,
    }
}

fn skip_ansi_c_quoted(b: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i = skip_escape(b, i),
            b'\'' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// Index after the `close` ending a `${` (or `$[`) whose content starts at `start`.
fn skip_braced(b: &[u8], start: usize, depth: usize, open_byte: u8, close: u8) -> usize {
    let mut open = 0usize;
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'\\' => i = skip_escape(b, i),
            b'\'' => i = skip_single_quoted(b, i),
            b'"' => i = skip_double_quoted(b, i, depth),
            b'`' => i = skip_backquoted(b, i),
            b'$' => i = skip_dollar(b, i, depth),
            c if c == open_byte => {
                open += 1;
                i += 1;
            }
            c if c == close && open == 0 => return i + 1,
            c if c == close => {
                open -= 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    b.len()
}

/// Index after the `)` closing a group whose content starts at `start` (after `$(`, `<(`,
/// `=(`, or the first `(` of `$((`).
///
/// Inside, a `case … esac` has unbalanced `)` after its patterns; they do not close the
/// group (the construct brush-parser trips over, its issue #1052).
pub(super) fn skip_parenthesised(b: &[u8], start: usize, depth: usize) -> usize {
    if depth > MAX_NESTING {
        return b.len();
    }
    let mut open = 0usize;
    let mut open_cases = 0usize;
    let mut at_word_start = true;
    let mut i = start;
    while i < b.len() {
        let c = b[i];
        let word_start = at_word_start;
        at_word_start = matches!(c, b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')');
        match c {
            b'\\' => i = skip_escape(b, i),
            b'\'' => i = skip_single_quoted(b, i),
            b'"' => i = skip_double_quoted(b, i, depth),
            b'`' => i = skip_backquoted(b, i),
            b'$' => i = skip_dollar(b, i, depth),
            b'#' if word_start => i = line_end(b, i),
            b'(' => {
                open += 1;
                i += 1;
            }
            b')' if open > 0 => {
                open -= 1;
                i += 1;
            }
            b')' if open_cases > 0 => i += 1,
            b')' => return i + 1,
            _ if word_start && is_keyword_at(b, i, b"case") => {
                open_cases += 1;
                i += 4;
            }
            _ if word_start && is_keyword_at(b, i, b"esac") => {
                open_cases = open_cases.saturating_sub(1);
                i += 4;
            }
            _ => i += 1,
        }
    }
    b.len()
}

/// Whether the reserved word `kw` stands alone at `i`.
fn is_keyword_at(b: &[u8], i: usize, kw: &[u8]) -> bool {
    b[i..].starts_with(kw) && b.get(i + kw.len()).is_none_or(|&n| is_word_break(n))
}

/// Index of the next `\n` at or after `i` (or the end).
pub(super) fn line_end(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |k| i + k)
}

/// End of the unquoted word starting at `start` (the word is never empty unless `start`
/// is at a word break).
pub(super) fn scan_word(b: &[u8], start: usize) -> usize {
    let mut i = start;
    while i < b.len() {
        match b[i] {
            // `a=(x y)`: an array assignment keeps its parenthesised list.
            b'(' if i > start && b[i - 1] == b'=' => i = skip_parenthesised(b, i + 1, 0),
            c if is_word_break(c) => break,
            b'\\' => i = skip_escape(b, i),
            b'\'' => i = skip_single_quoted(b, i),
            b'"' => i = skip_double_quoted(b, i, 0),
            b'`' => i = skip_backquoted(b, i),
            b'$' => i = skip_dollar(b, i, 0),
            _ => i += 1,
        }
    }
    i
}

/// `NAME=…`, `NAME+=…` or `NAME[…]=…`.
pub(super) fn is_assignment(word: &str) -> bool {
    let b = word.as_bytes();
    if !b
        .first()
        .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
    {
        return false;
    }
    let name_end = b
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
        .unwrap_or(b.len());
    let mut rest = &b[name_end..];
    if rest.first() == Some(&b'[') {
        match rest.iter().position(|&c| c == b']') {
            Some(k) => rest = &rest[k + 1..],
            None => return false,
        }
    }
    rest.starts_with(b"=") || rest.starts_with(b"+=")
}

/// One piece of an unquoted word's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Piece {
    /// Bytes of the raw word copied as they are.
    Source(Range<usize>),
    /// A character decoded from an ANSI-C escape (`$'\n'`) at this raw offset.
    Decoded(char, usize),
}

/// What unquoting a word found besides its value.
#[derive(Debug, Default)]
pub(super) struct WordFacts {
    /// No parameter expansion, command substitution, arithmetic or glob.
    pub literal: bool,
    /// Raw ranges of the scripts inside `$( )`, backquotes and `<( )` / `>( )`.
    pub substitutions: Vec<Range<usize>>,
}

/// Bytes that make a word need more than a copy.
fn needs_unquoting(raw: &str) -> bool {
    raw.bytes().any(|b| {
        matches!(
            b,
            b'\\' | b'\'' | b'"' | b'$' | b'`' | b'*' | b'?' | b'[' | b'<' | b'>'
        )
    })
}

/// Value of a word (quotes removed, escapes resolved, expansions kept verbatim), built by
/// feeding `emit` the pieces in order.
pub(super) fn unquote(raw: &str, emit: &mut impl FnMut(Piece)) -> WordFacts {
    if !needs_unquoting(raw) {
        if !raw.is_empty() {
            emit(Piece::Source(0..raw.len()));
        }
        return WordFacts {
            literal: true,
            substitutions: Vec::new(),
        };
    }
    Unquoter::new(raw, 0).run(emit)
}

/// The value of a word as a string.
pub(super) fn unquoted_value(raw: &str) -> (CompactString, WordFacts) {
    // Inline up to 24 bytes: most words of a RUN need no allocation of their own.
    let mut value = CompactString::with_capacity(raw.len());
    let facts = unquote(raw, &mut |piece| match piece {
        Piece::Source(r) => value.push_str(&raw[r]),
        Piece::Decoded(c, _) => value.push(c),
    });
    (value, facts)
}

struct Unquoter<'a> {
    raw: &'a str,
    b: &'a [u8],
    facts: WordFacts,
    /// Arithmetic expansions entered to find the substitutions inside them.
    arithmetic_depth: usize,
}

impl<'a> Unquoter<'a> {
    fn new(raw: &'a str, arithmetic_depth: usize) -> Self {
        Unquoter {
            raw,
            b: raw.as_bytes(),
            facts: WordFacts {
                literal: true,
                substitutions: Vec::new(),
            },
            arithmetic_depth,
        }
    }

    /// `$( )` inside `$(( ))` (arithmetic text scanned like a word).
    fn arithmetic_substitutions(&mut self, content: Range<usize>) {
        if self.arithmetic_depth >= MAX_ARITHMETIC_DEPTH {
            return;
        }
        let nested =
            Unquoter::new(&self.raw[content.clone()], self.arithmetic_depth + 1).run(&mut |_| {});
        let shifted = nested
            .substitutions
            .into_iter()
            .map(|s| s.start + content.start..s.end + content.start);
        self.facts.substitutions.extend(shifted);
    }

    fn run(mut self, emit: &mut impl FnMut(Piece)) -> WordFacts {
        let b = self.b;
        if b.len() > 1 && matches!(b[0], b'<' | b'>') && b[1] == b'(' {
            // A process substitution word (the fallback tokeniser produces these).
            let end = skip_parenthesised(b, 2, 0);
            self.facts.literal = false;
            self.facts.substitutions.push(inner(b, 2, end, b')'));
            emit(Piece::Source(0..b.len()));
            return self.facts;
        }
        let last_bracket_close = b.iter().rposition(|&c| c == b']');
        let mut run_start = 0;
        let mut i = 0;
        while i < b.len() {
            let construct_end = match b[i] {
                b'\\' => Some(self.escape(i, run_start, emit)),
                b'\'' => {
                    emit_nonempty(emit, run_start..i);
                    let end = skip_single_quoted(b, i);
                    emit_nonempty(emit, inner(b, i + 1, end, b'\''));
                    Some(end)
                }
                b'"' => {
                    emit_nonempty(emit, run_start..i);
                    Some(self.double_quoted(i, emit))
                }
                b'$' => self.dollar(i, run_start, false, emit),
                b'`' => {
                    emit_nonempty(emit, run_start..i);
                    Some(self.backquoted(i, emit))
                }
                b'*' | b'?' => {
                    self.facts.literal = false;
                    None
                }
                b'[' => {
                    if last_bracket_close.is_some_and(|close| close > i) {
                        self.facts.literal = false;
                    }
                    None
                }
                _ => None,
            };
            match construct_end {
                Some(end) => {
                    i = end;
                    run_start = end;
                }
                None => i += 1,
            }
        }
        emit_nonempty(emit, run_start..b.len());
        self.facts
    }

    /// `\x` outside quotes: the escaped character; `\`+newline: nothing.
    fn escape(&mut self, i: usize, run_start: usize, emit: &mut impl FnMut(Piece)) -> usize {
        emit_nonempty(emit, run_start..i);
        let end = skip_escape(self.b, i);
        if self.b.get(i + 1) != Some(&b'\n') {
            emit_nonempty(emit, (i + 1).min(end)..end);
        }
        end
    }

    fn double_quoted(&mut self, open: usize, emit: &mut impl FnMut(Piece)) -> usize {
        let b = self.b;
        let mut run = open + 1;
        let mut i = open + 1;
        while i < b.len() {
            match b[i] {
                b'"' => {
                    emit_nonempty(emit, run..i);
                    return i + 1;
                }
                b'\\' if matches!(b.get(i + 1), Some(b'$' | b'`' | b'"' | b'\\' | b'\n')) => {
                    emit_nonempty(emit, run..i);
                    if b[i + 1] != b'\n' {
                        emit(Piece::Source(i + 1..i + 2));
                    }
                    i += 2;
                    run = i;
                }
                b'$' => match self.dollar(i, run, true, emit) {
                    Some(end) => {
                        i = end;
                        run = end;
                    }
                    None => i += 1,
                },
                b'`' => {
                    emit_nonempty(emit, run..i);
                    i = self.backquoted(i, emit);
                    run = i;
                }
                _ => i += 1,
            }
        }
        emit_nonempty(emit, run..b.len());
        b.len()
    }

    /// A `$` construct at `i`, emitted verbatim (ANSI-C strings decoded) after the pending
    /// ordinary run; `None` when the `$` is an ordinary character.
    fn dollar(
        &mut self,
        i: usize,
        run_start: usize,
        in_double_quotes: bool,
        emit: &mut impl FnMut(Piece),
    ) -> Option<usize> {
        let b = self.b;
        let end = match b.get(i + 1) {
            Some(b'\'') if !in_double_quotes => {
                emit_nonempty(emit, run_start..i);
                return Some(self.ansi_c_quoted(i + 1, emit));
            }
            Some(b'"') if !in_double_quotes => {
                emit_nonempty(emit, run_start..i);
                return Some(self.double_quoted(i + 1, emit));
            }
            Some(b'(') => {
                let end = skip_dollar(b, i, 0);
                if b.get(i + 2) == Some(&b'(') {
                    let content = inner(b, i + 3, end, b')');
                    self.arithmetic_substitutions(inner(b, content.start, content.end, b')'));
                } else {
                    self.facts.substitutions.push(inner(b, i + 2, end, b')'));
                }
                end
            }
            Some(b'{' | b'[') => skip_dollar(b, i, 0),
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                let name_len = b[i + 1..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'));
                name_len.map_or(b.len(), |n| i + 1 + n)
            }
            Some(c) if c.is_ascii_digit() || b"@*#?$!-".contains(c) => i + 2,
            _ => return None,
        };
        self.facts.literal = false;
        emit_nonempty(emit, run_start..end);
        Some(end)
    }

    fn backquoted(&mut self, open: usize, emit: &mut impl FnMut(Piece)) -> usize {
        let end = skip_backquoted(self.b, open);
        self.facts.literal = false;
        self.facts
            .substitutions
            .push(inner(self.b, open + 1, end, b'`'));
        emit_nonempty(emit, open..end);
        end
    }

    fn ansi_c_quoted(&mut self, open: usize, emit: &mut impl FnMut(Piece)) -> usize {
        let b = self.b;
        let mut run = open + 1;
        let mut i = open + 1;
        while i < b.len() {
            match b[i] {
                b'\'' => {
                    emit_nonempty(emit, run..i);
                    return i + 1;
                }
                b'\\' => {
                    emit_nonempty(emit, run..i);
                    let end = skip_escape(b, i);
                    match b.get(i + 1).and_then(|&c| ansi_c_escape(c)) {
                        Some(c) => emit(Piece::Decoded(c, i)),
                        // Numeric and unknown escapes are kept as written.
                        None => emit_nonempty(emit, i..end),
                    }
                    i = end;
                    run = i;
                }
                _ => i += 1,
            }
        }
        emit_nonempty(emit, run..b.len());
        b.len()
    }
}

fn ansi_c_escape(c: u8) -> Option<char> {
    Some(match c {
        b'n' => '\n',
        b't' => '\t',
        b'r' => '\r',
        b'a' => '\x07',
        b'b' => '\x08',
        b'e' | b'E' => '\x1b',
        b'f' => '\x0c',
        b'v' => '\x0b',
        b'\\' => '\\',
        b'\'' => '\'',
        b'"' => '"',
        b'?' => '?',
        _ => return None,
    })
}

/// The content of a group from `start` to `end` (its end), without the closing delimiter
/// when the group was closed by it.
fn inner(b: &[u8], start: usize, end: usize, close: u8) -> Range<usize> {
    let closed = end > start && b.get(end - 1) == Some(&close);
    start..if closed { end - 1 } else { end.max(start) }
}

fn emit_nonempty(emit: &mut impl FnMut(Piece), range: Range<usize>) {
    if !range.is_empty() {
        emit(Piece::Source(range));
    }
}
