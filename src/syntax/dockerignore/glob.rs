//! The Go pieces patternmatcher is built on, ported for Unix paths: `filepath.Clean`,
//! `filepath.Match`'s syntax check, and `Pattern.compile` (glob -> Go regexp text).

use std::borrow::Cow;

/// Go's `filepath.Clean`: one `/` between elements, no `.` elements, inner `..` resolved,
/// `..` at the root of a rooted path dropped, `"."` for an empty result.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." if parts.last().is_some_and(|last| *last != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            other => parts.push(other),
        }
    }
    let body = parts.join("/");
    if rooted {
        format!("/{body}")
    } else if body.is_empty() {
        ".".to_string()
    } else {
        body
    }
}

/// Go's `filepath.Dir`, borrowing when `path` is already clean (the common case), so that
/// matching a path allocates nothing.
pub fn dir(path: &str) -> Cow<'_, str> {
    let Some(last_slash) = path.rfind('/') else {
        return Cow::Borrowed(".");
    };
    let head = &path[..last_slash];
    if is_clean_relative(head) {
        Cow::Borrowed(head)
    } else {
        Cow::Owned(clean(&path[..=last_slash]))
    }
}

fn is_clean_relative(path: &str) -> bool {
    !path.is_empty() && path.split('/').all(|s| !matches!(s, "" | "." | ".."))
}

/// Whether Go's `filepath.Match(pattern, ".")` would return `ErrBadPattern`. Go checks the
/// whole pattern whatever the name, so only the syntax matters: a trailing `\`, and
/// character classes that are empty, unclosed, or start a range with `-` or `]`.
pub fn is_valid_glob(pattern: &str) -> bool {
    let mut rest = pattern;
    while !rest.is_empty() {
        rest = rest.trim_start_matches('*');
        let (chunk, after) = split_chunk(rest);
        if !is_valid_chunk(chunk) {
            return false;
        }
        rest = after;
    }
    true
}

/// Go's `scanChunk` without the leading stars: the text up to the next `*` outside a class.
fn split_chunk(pattern: &str) -> (&str, &str) {
    let bytes = pattern.as_bytes();
    let mut in_class = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if i + 1 < bytes.len() => i += 1,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'*' if !in_class => break,
            _ => {}
        }
        i += 1;
    }
    pattern.split_at(i)
}

/// The error half of Go's `matchChunk`.
fn is_valid_chunk(chunk: &str) -> bool {
    let mut rest = chunk;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            '[' => match skip_class(rest) {
                Some(after) => rest = after,
                None => return false,
            },
            '\\' => match rest.chars().next() {
                Some(escaped) => rest = &rest[escaped.len_utf8()..],
                None => return false,
            },
            _ => {}
        }
    }
    true
}

/// Skips a class body (after `[`), returning the text after its `]`, or `None` if Go rejects it.
fn skip_class(body: &str) -> Option<&str> {
    let mut rest = body.strip_prefix('^').unwrap_or(body);
    let mut ranges = 0;
    loop {
        if ranges > 0 {
            if let Some(after) = rest.strip_prefix(']') {
                return Some(after);
            }
        }
        rest = class_char(rest)?;
        if let Some(after_dash) = rest.strip_prefix('-') {
            rest = class_char(after_dash)?;
        }
        ranges += 1;
    }
}

/// Go's `getEsc`: one (possibly escaped) class character, which must not be the last thing.
fn class_char(text: &str) -> Option<&str> {
    if text.is_empty() || text.starts_with(['-', ']']) {
        return None;
    }
    let text = match text.strip_prefix('\\') {
        Some("") => return None,
        Some(escaped) => escaped,
        None => text,
    };
    let c = text.chars().next()?;
    let rest = &text[c.len_utf8()..];
    (!rest.is_empty()).then_some(rest)
}

/// How a compiled pattern decides a match, as patternmatcher's `matchType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    Exact,
    /// Pattern ending in `**` with only literal text before it.
    Prefix,
    /// Pattern starting with `**` followed only by literal text.
    Suffix,
    Regexp,
}

/// patternmatcher's `compile`: the match kind and the Go regexp text (used only for
/// [`MatchKind::Regexp`]). Class brackets pass through, so `*` and `?` inside a class turn
/// into regexp text there, exactly as in Docker.
pub fn compile(pattern: &str) -> (MatchKind, String) {
    let mut regex = String::with_capacity(pattern.len() + 8);
    regex.push('^');
    let mut kind = MatchKind::Exact;
    // Go's text/scanner skips a byte-order mark at the start.
    let mut chars = pattern
        .strip_prefix('\u{feff}')
        .unwrap_or(pattern)
        .chars()
        .peekable();
    let mut index = 0;
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                }
                if chars.peek().is_some() {
                    regex.push_str("(.*/)?");
                    kind = MatchKind::Regexp;
                } else if kind == MatchKind::Exact {
                    kind = MatchKind::Prefix;
                } else {
                    regex.push_str(".*");
                    kind = MatchKind::Regexp;
                }
                if index == 0 {
                    kind = MatchKind::Suffix;
                }
            }
            '*' => {
                regex.push_str("[^/]*");
                kind = MatchKind::Regexp;
            }
            '?' => {
                regex.push_str("[^/]");
                kind = MatchKind::Regexp;
            }
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                regex.push('\\');
                regex.push(c);
            }
            '\\' => match chars.next() {
                Some(escaped) => {
                    regex.push('\\');
                    regex.push(escaped);
                    kind = MatchKind::Regexp;
                }
                None => regex.push('\\'),
            },
            '[' | ']' => {
                regex.push(c);
                kind = MatchKind::Regexp;
            }
            _ => regex.push(c),
        }
        index += 1;
    }
    regex.push('$');
    (kind, regex)
}

/// Whether the pattern is literal text, `*` and `?` only: no `**`, class, escape, `^`
/// (an anchor in Go's regexp) or byte-order mark, which its regexp would read otherwise.
pub fn only_wildcards(pattern: &str) -> bool {
    !pattern.contains("**") && !pattern.contains(['[', ']', '\\', '^', '\u{feff}'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_follows_go() {
        for (input, want) in [
            ("", "."),
            (".", "."),
            ("./foo", "foo"),
            ("foo/", "foo"),
            ("a//b", "a/b"),
            ("foo/../bar", "bar"),
            ("../a", "../a"),
            ("a/../..", ".."),
            ("/../a", "/a"),
            ("/", "/"),
            ("//", "/"),
            ("!./x", "!./x"),
            ("a/./b/.", "a/b"),
        ] {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
    }

    #[test]
    fn dir_follows_go() {
        assert_eq!(dir("file"), ".");
        assert_eq!(dir("a/b/c"), "a/b");
        assert_eq!(dir("a/b/"), "a/b");
        assert_eq!(dir("/"), "/");
        assert_eq!(dir("/a"), "/");
        assert_eq!(dir("./a/b"), "a");
    }

    #[test]
    fn glob_syntax_check() {
        for ok in [
            "abc", "[a-c]", "[\\]a]", "[!a]", "a\\*", "[[]", "]", "[l-O]", "[x\\-]",
        ] {
            assert!(is_valid_glob(ok), "{ok}");
        }
        for bad in [
            "\\", "[", "[^", "[^bc", "a[", "[-]", "[x-]", "[-x]", "[a-b-c]", "a*[", "[]", "[]a]",
        ] {
            assert!(!is_valid_glob(bad), "{bad}");
        }
    }

    #[test]
    fn compile_kinds() {
        assert_eq!(compile("foo").0, MatchKind::Exact);
        assert_eq!(compile("a.b").0, MatchKind::Exact);
        assert_eq!(compile("foo**").0, MatchKind::Prefix);
        assert_eq!(compile("**").0, MatchKind::Suffix);
        assert_eq!(compile("**/foo").0, MatchKind::Suffix);
        assert_eq!(
            compile("**/foo*"),
            (MatchKind::Regexp, "^(.*/)?foo[^/]*$".into())
        );
        assert_eq!(compile("a**b"), (MatchKind::Regexp, "^a(.*/)?b$".into()));
        assert_eq!(
            compile("a/*.txt**"),
            (MatchKind::Regexp, "^a/[^/]*\\.txt.*$".into())
        );
        assert_eq!(compile("[*]"), (MatchKind::Regexp, "^[[^/]*]$".into()));
    }
}
