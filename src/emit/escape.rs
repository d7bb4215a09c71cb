//! Text from a file never reaches a terminal raw: control characters (which can retitle,
//! clear or reprogram a terminal) and invisible direction overrides (which reorder what a
//! reader sees) are shown as escapes, `\x1b` or `\u{202e}`.

use std::borrow::Cow;
use std::path::Path;

/// The escape shown for `c`, or `None` when `c` is shown as it is. Tabs stay (renderers
/// expand them); line breaks are the caller's business.
pub fn escape_of(c: char) -> Option<String> {
    let hidden = match c {
        '\t' | '\n' => false,
        '\0'..='\x1f' | '\x7f'..='\u{9f}' => true,
        // Zero-width and direction marks, line/paragraph separators, embeddings,
        // overrides and isolates, invisible operators, a BOM inside the text.
        '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{061c}'
        | '\u{feff}' => true,
        _ => false,
    };
    hidden.then(|| {
        if c.is_ascii() {
            format!("\\x{:02x}", c as u32)
        } else {
            format!("\\u{{{:x}}}", c as u32)
        }
    })
}

/// `text` with every hidden character escaped; borrowed when there is none.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_keeping(text, false)
}

/// Like [`escape`], but a `\n` is escaped too: for text that must stay on one line.
pub fn escape_line(text: &str) -> Cow<'_, str> {
    escape_keeping(text, true)
}

fn escape_keeping(text: &str, newline: bool) -> Cow<'_, str> {
    // Printable ASCII needs no look at characters: the common case, once per line shown.
    let plain = |b: u8| matches!(b, b' '..=b'~' | b'\t') || (!newline && b == b'\n');
    if is_all(text, plain) {
        return Cow::Borrowed(text);
    }
    let hidden = |c: char| (newline && c == '\n') || escape_of(c).is_some();
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match escape_of(c) {
            Some(e) => out.push_str(&e),
            None if newline && c == '\n' => out.push_str("\\n"),
            None => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether every byte of `text` passes `test`: every byte is looked at (no early exit), so
/// the loop runs over many bytes at once. Text shown is mostly short and mostly plain.
pub(super) fn is_all(text: &str, test: impl Fn(u8) -> bool) -> bool {
    text.bytes().fold(true, |all, b| all & test(b))
}

/// A path for people to read: lossy UTF-8, hidden characters escaped.
pub fn path(path: &Path) -> String {
    escape_line(&path.to_string_lossy()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_controls_and_direction_overrides_are_escaped() {
        assert_eq!(
            escape("a\x1b]0;PWNED\x07\x1b[2J\tb"),
            "a\\x1b]0;PWNED\\x07\\x1b[2J\tb"
        );
        assert_eq!(escape("x\u{202e}y\u{9b}"), "x\\u{202e}y\\u{9b}");
        assert_eq!(escape_line("a\nb\r"), "a\\nb\\x0d");
        assert!(matches!(escape("plain é 日本"), Cow::Borrowed(_)));
    }
}
