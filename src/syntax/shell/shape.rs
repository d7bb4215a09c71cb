//! The top-level structure of a shell body: which operators join its commands, and whether it
//! ends in an operator or a comment. Rules that splice bodies together (merging RUNs) need
//! it; quotes, groups and substitutions are skipped as units.

use std::sync::atomic::{AtomicU8, Ordering};

use super::{fallback, lex};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    /// Only `&&` and pipes join the commands at the top level (no `;`, `||`, `&`, newline).
    pub and_list_only: bool,
    /// The body ends with an operator (`;`, `&`, `|`, `&&`, `||`).
    pub trailing_operator: bool,
    /// A `#` comment runs to the end of a line: text appended after it would be commented out.
    pub comment: bool,
    /// A command is a bare `NAME=value`: a shell variable that outlives it.
    pub assignment: bool,
}

/// A body's [`Shape`], found when first asked and kept: a RUN between two others is asked
/// of as the second of one pair and the first of the next. One byte, so a RUN stays as
/// small as it was.
#[derive(Default)]
pub struct ShapeCell(AtomicU8);

impl ShapeCell {
    const UNKNOWN: u8 = 0;
    const UNBALANCED: u8 = 1;
    const FIELDS: u8 = 2;

    /// The shape `find` gives, found once. Threads asking at once may both find it: the
    /// same value, as `find` reads only the body.
    pub fn get_or_find(&self, find: impl FnOnce() -> Option<Shape>) -> Option<Shape> {
        match self.0.load(Ordering::Relaxed) {
            Self::UNKNOWN => {
                let shape = find();
                self.0.store(Self::encode(shape), Ordering::Relaxed);
                shape
            }
            code => Self::decode(code),
        }
    }

    fn encode(shape: Option<Shape>) -> u8 {
        let Some(s) = shape else {
            return Self::UNBALANCED;
        };
        let bits = [
            s.and_list_only,
            s.trailing_operator,
            s.comment,
            s.assignment,
        ]
        .iter()
        .enumerate()
        .fold(0, |bits, (i, &on)| bits | (u8::from(on) << i));
        Self::FIELDS + bits
    }

    fn decode(code: u8) -> Option<Shape> {
        let bits = code.checked_sub(Self::FIELDS)?;
        let on = |i: u8| bits & (1 << i) != 0;
        Some(Shape {
            and_list_only: on(0),
            trailing_operator: on(1),
            comment: on(2),
            assignment: on(3),
        })
    }
}

impl Clone for ShapeCell {
    fn clone(&self) -> Self {
        ShapeCell(AtomicU8::new(self.0.load(Ordering::Relaxed)))
    }
}

impl std::fmt::Debug for ShapeCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.load(Ordering::Relaxed) {
            Self::UNKNOWN => f.write_str("ShapeCell(not yet found)"),
            code => write!(f, "ShapeCell({:?})", Self::decode(code)),
        }
    }
}

impl Shape {
    /// `None` when a quote, group or substitution does not close.
    pub fn of(text: &str) -> Option<Shape> {
        if fallback::has_unclosed_construct(text) {
            return None;
        }
        let b = text.as_bytes();
        let mut shape = Shape {
            and_list_only: true,
            ..Shape::default()
        };
        let mut command_start = true;
        let mut i = 0;
        while i < b.len() {
            let next = b.get(i + 1).copied();
            match b[i] {
                c if lex::is_blank(c) => i += 1,
                b'#' => {
                    shape.comment = true;
                    i = lex::line_end(b, i);
                }
                b'\n' => {
                    shape.and_list_only = false;
                    shape.trailing_operator = false;
                    command_start = true;
                    i += 1;
                }
                b'&' if next == Some(b'&') => i = shape.operator(i + 2, true, &mut command_start),
                b'|' if next == Some(b'|') => i = shape.operator(i + 2, false, &mut command_start),
                b'|' => i = shape.operator(i + 1, true, &mut command_start),
                b';' | b'&' if next != Some(b'>') => {
                    i = shape.operator(i + 1, false, &mut command_start)
                }
                b'<' | b'>' | b'&' => {
                    // A redirection operator (`>`, `2>&1`, `&>`, `<<<`); its target is a word.
                    i += b[i..]
                        .iter()
                        .take_while(|c| matches!(c, b'<' | b'>' | b'&' | b'|' | b'-'))
                        .count();
                    shape.trailing_operator = false;
                }
                b'(' => {
                    i = lex::skip_parenthesised(b, i + 1, 0);
                    command_start = false;
                    shape.trailing_operator = false;
                }
                _ => {
                    let end = lex::scan_word(b, i).max(i + 1);
                    if command_start && lex::is_assignment(&text[i..end]) && ends_command(b, end) {
                        shape.assignment = true;
                    }
                    command_start = false;
                    shape.trailing_operator = false;
                    i = end;
                }
            }
        }
        Some(shape)
    }

    fn operator(&mut self, after: usize, keeps_and_list: bool, command_start: &mut bool) -> usize {
        self.and_list_only &= keeps_and_list;
        self.trailing_operator = true;
        *command_start = true;
        after
    }
}

/// Nothing but blanks between `at` and the next operator or the end: the word before `at`
/// was a whole command.
fn ends_command(b: &[u8], at: usize) -> bool {
    let rest = &b[at..];
    let next = rest
        .iter()
        .position(|&c| !lex::is_blank(c))
        .map(|k| rest[k]);
    next.is_none_or(|c| matches!(c, b';' | b'&' | b'|' | b'\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> Shape {
        Shape::of(text).unwrap_or_else(|| panic!("{text:?} should balance"))
    }

    #[test]
    fn operators_at_the_top_level() {
        let s = of("apt-get update && apt-get install -y curl | tee x 2>&1");
        assert!(s.and_list_only && !s.trailing_operator && !s.comment);
        assert!(!of("a; b").and_list_only);
        assert!(!of("a || b").and_list_only);
        assert!(!of("a & b").and_list_only);
        assert!(!of("a\nb").and_list_only);
        assert!(of("(a; b) && c \"x;y\" 'p||q' $(d; e) `f; g` ${h:-;} &> log").and_list_only);
    }

    #[test]
    fn endings_comments_and_assignments() {
        assert!(of("a &").trailing_operator);
        assert!(of("a ;").trailing_operator);
        assert!(of("a &&").trailing_operator);
        assert!(!of("a > out").trailing_operator);
        assert!(of("a # b && c").comment);
        assert!(!of("echo a#b '#c'").comment);
        assert!(of("FOO=1 && make").assignment);
        assert!(of("make && FOO=1").assignment);
        assert!(!of("FOO=1 make").assignment);
        assert_eq!(Shape::of("echo 'unbalanced"), None);
        // Kept as found, every field, and found once.
        for text in [
            "a && b",
            "a; b",
            "a &&",
            "a # c",
            "A=1",
            "a |",
            "echo 'open",
        ] {
            let cell = ShapeCell::default();
            assert_eq!(cell.get_or_find(|| Shape::of(text)), Shape::of(text));
            assert_eq!(
                cell.get_or_find(|| unreachable!()),
                Shape::of(text),
                "{text}"
            );
        }
        assert_eq!(Shape::of("echo $(unclosed"), None);
    }
}
