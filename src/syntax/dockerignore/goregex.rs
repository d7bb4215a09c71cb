//! Go regexp syntax (RE2, `syntax.Perl` flags) -> Rust `regex` syntax, for the regexp text
//! patternmatcher builds from a glob.
//!
//! Docker passes `[...]` classes and `\x` escapes of a pattern straight into Go's regexp, and
//! the two dialects differ there: Rust reads `&&`, `--`, `~~` and a nested `[` inside a
//! class as set operations, its `\d \s \w \b` are Unicode-aware where Go's are ASCII, and it
//! has neither `\Q...\E` nor Go's octal rules. So the text is parsed with Go's rules and
//! written back in a form that means the same to Rust: class members as `\x{..}` ranges.
//! Outside classes only literals, escapes and the few operators patternmatcher itself emits
//! occur (the glob's own `( ) | { } . + $` arrive escaped).

/// Translates Go regexp text; the error says what Go's parser would reject.
pub fn to_rust(go: &str) -> Result<String, String> {
    let mut out = String::with_capacity(go.len() * 2);
    let mut rest = go;
    while let Some(c) = rest.chars().next() {
        rest = match c {
            '\\' => escape_outside_class(rest, &mut out)?,
            '[' => class(rest, &mut out)?,
            '^' | '$' | '.' | '(' | ')' | '|' | '*' | '+' | '?' => {
                out.push(c);
                &rest[1..]
            }
            _ => {
                push_literal(&mut out, c);
                &rest[c.len_utf8()..]
            }
        };
    }
    Ok(out)
}

fn push_literal(out: &mut String, c: char) {
    let mut buf = [0u8; 4];
    out.push_str(&regex::escape(c.encode_utf8(&mut buf)));
}

/// `\` outside a class: Go's assertions, `\Q...\E`, Unicode and Perl classes, then plain escapes.
fn escape_outside_class<'a>(text: &'a str, out: &mut String) -> Result<&'a str, String> {
    let after = &text[1..];
    match after.chars().next() {
        Some('A') => out.push_str(r"\A"),
        Some('z') => out.push_str(r"\z"),
        // Go's word boundaries are ASCII-only.
        Some('b') => out.push_str(r"(?-u:\b)"),
        Some('B') => out.push_str(r"(?-u:\B)"),
        Some('C') => return Err(r"invalid escape sequence `\C`".into()),
        Some('Q') => {
            let quoted = &after[1..];
            let (literal, rest) = quoted.split_once(r"\E").unwrap_or((quoted, ""));
            literal.chars().for_each(|c| push_literal(out, c));
            return Ok(rest);
        }
        Some('p' | 'P') => return unicode_class(text, out),
        Some(c) if perl_class(c).is_some() => {
            out.push('[');
            push_perl_class(out, c);
            out.push(']');
        }
        _ => {
            let (c, rest) = parse_escape(text)?;
            push_literal(out, c);
            return Ok(rest);
        }
    }
    Ok(&text[2..])
}

/// Go's `parseEscape`: octal, hex, C escapes and escaped ASCII punctuation; anything else
/// (an unknown letter, a lone `\1`) is an error, as in Go.
fn parse_escape(text: &str) -> Result<(char, &str), String> {
    let after = &text[1..];
    let c = after
        .chars()
        .next()
        .ok_or("trailing backslash at end of expression")?;
    let rest = &after[c.len_utf8()..];
    let invalid = || Err(format!("invalid escape sequence `\\{c}`"));
    match c {
        '1'..='7' if !rest.starts_with(is_octal) => invalid(),
        '0'..='7' => {
            let digits = 1 + rest.chars().take(2).take_while(|d| is_octal(*d)).count();
            let code = u32::from_str_radix(&after[..digits], 8).map_err(|e| e.to_string())?;
            let value = char::from_u32(code).ok_or("invalid octal escape")?;
            Ok((value, &after[digits..]))
        }
        'x' => parse_hex_escape(rest).map_or_else(invalid, Ok),
        'a' => Ok(('\u{7}', rest)),
        'f' => Ok(('\u{c}', rest)),
        'n' => Ok(('\n', rest)),
        'r' => Ok(('\r', rest)),
        't' => Ok(('\t', rest)),
        'v' => Ok(('\u{b}', rest)),
        c if c.is_ascii() && !c.is_ascii_alphanumeric() => Ok((c, rest)),
        _ => invalid(),
    }
}

fn is_octal(c: char) -> bool {
    matches!(c, '0'..='7')
}

/// After `\x`: two hex digits, or `{hex...}`.
fn parse_hex_escape(text: &str) -> Option<(char, &str)> {
    if let Some(braced) = text.strip_prefix('{') {
        let (digits, rest) = braced.split_once('}')?;
        let valid = !digits.is_empty() && digits.chars().all(|d| d.is_ascii_hexdigit());
        let code = if valid {
            u32::from_str_radix(digits, 16).ok()?
        } else {
            return None;
        };
        return Some((char::from_u32(code)?, rest));
    }
    let digits = text.get(..2)?;
    if !digits.chars().all(|d| d.is_ascii_hexdigit()) {
        return None;
    }
    let code = u32::from_str_radix(digits, 16).ok()?;
    Some((char::from_u32(code)?, &text[2..]))
}

/// Go's ASCII Perl classes as (negated, class members in Rust class syntax).
fn perl_class(letter: char) -> Option<(bool, &'static str)> {
    let digit = r"\x{30}-\x{39}";
    let space = r"\x{9}\x{a}\x{c}\x{d}\x{20}";
    let word = r"\x{30}-\x{39}\x{41}-\x{5a}\x{61}-\x{7a}\x{5f}";
    Some(match letter {
        'd' => (false, digit),
        'D' => (true, digit),
        's' => (false, space),
        'S' => (true, space),
        'w' => (false, word),
        'W' => (true, word),
        _ => return None,
    })
}

/// Appends a Perl class as class members (a nested class when negated).
fn push_perl_class(out: &mut String, letter: char) {
    if let Some((negated, members)) = perl_class(letter) {
        if negated {
            out.push_str("[^");
            out.push_str(members);
            out.push(']');
        } else {
            out.push_str(members);
        }
    }
}

/// `\pX` / `\PX`. Go knows the one-letter general categories only; the braced form cannot
/// arrive from a glob (patternmatcher escapes `{`), so it is refused.
fn unicode_class<'a>(text: &'a str, out: &mut String) -> Result<&'a str, String> {
    let sign = &text[..2];
    let name = text[2..]
        .chars()
        .next()
        .ok_or("missing Unicode class name")?;
    if !matches!(name, 'C' | 'L' | 'M' | 'N' | 'P' | 'S' | 'Z') {
        return Err(format!("invalid character class range `{sign}{name}`"));
    }
    out.push_str(sign);
    out.push(name);
    Ok(&text[2 + name.len_utf8()..])
}

/// Go's `parseClass` with Perl flags: `]` first is a member, `-` is a member unless it makes
/// a range, `[:name:]` is a POSIX class, escapes as outside. Written back as a Rust class.
fn class<'a>(text: &'a str, out: &mut String) -> Result<&'a str, String> {
    let mut rest = &text[1..];
    out.push('[');
    if let Some(after) = rest.strip_prefix('^') {
        out.push('^');
        rest = after;
    }
    let mut first = true;
    loop {
        if !first {
            if let Some(after) = rest.strip_prefix(']') {
                out.push(']');
                return Ok(after);
            }
        }
        first = false;
        if let Some(after) = posix_class(rest, out)? {
            rest = after;
            continue;
        }
        if rest.starts_with(r"\p") || rest.starts_with(r"\P") {
            rest = unicode_class(rest, out)?;
            continue;
        }
        if let Some(letter) = rest.strip_prefix('\\').and_then(|r| r.chars().next()) {
            if perl_class(letter).is_some() {
                push_perl_class(out, letter);
                rest = &rest[2..];
                continue;
            }
        }
        rest = class_range(rest, text, out)?;
    }
}

/// `[:alpha:]` and friends (Rust has the same ASCII set under the same names).
fn posix_class<'a>(text: &'a str, out: &mut String) -> Result<Option<&'a str>, String> {
    if !text.starts_with("[:") {
        return Ok(None);
    }
    let Some(end) = text[2..].find(":]") else {
        return Ok(None);
    };
    let name = &text[..end + 4];
    let bare = name[2..name.len() - 2].trim_start_matches('^');
    const KNOWN: [&str; 14] = [
        "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
        "space", "upper", "word", "xdigit",
    ];
    if !KNOWN.contains(&bare) || name[2..].starts_with("^^") {
        return Err(format!("invalid character class range `{name}`"));
    }
    out.push_str(name);
    Ok(Some(&text[name.len()..]))
}

/// One member `a` or range `a-z`.
fn class_range<'a>(text: &'a str, whole: &str, out: &mut String) -> Result<&'a str, String> {
    let (low, mut rest) = class_char(text, whole)?;
    let mut high = low;
    let mut dash = rest.chars();
    if dash.next() == Some('-') && dash.next().is_some_and(|c| c != ']') {
        (high, rest) = class_char(&rest[1..], whole)?;
        if high < low {
            let range = &text[..text.len() - rest.len()];
            return Err(format!("invalid character class range `{range}`"));
        }
    }
    out.push_str(&format!(r"\x{{{:x}}}", low as u32));
    if high != low {
        out.push_str(&format!(r"-\x{{{:x}}}", high as u32));
    }
    Ok(rest)
}

fn class_char<'a>(text: &'a str, whole: &str) -> Result<(char, &'a str), String> {
    match text.chars().next() {
        None => Err(format!("missing closing ] in `{whole}`")),
        Some('\\') => parse_escape(text),
        Some(c) => Ok((c, &text[c.len_utf8()..])),
    }
}

#[cfg(test)]
mod tests {
    use super::to_rust;
    use regex::Regex;

    fn go_matches(go: &str, text: &str) -> bool {
        let rust = to_rust(go).unwrap_or_else(|e| panic!("{go}: {e}"));
        Regex::new(&rust)
            .unwrap_or_else(|e| panic!("{go} -> {rust}: {e}"))
            .is_match(text)
    }

    #[test]
    fn classes_keep_go_meaning() {
        assert!(go_matches("^[a&&b]$", "&"));
        assert!(go_matches("^[+--]$", ","));
        assert!(to_rust("[a--b]").is_err(), "a range down to `-`");
        assert!(go_matches("^[~~]$", "~"));
        assert!(go_matches("^[[]$", "["));
        assert!(go_matches("^[!a]bc$", "!bc"));
        assert!(!go_matches("^[!a]bc$", "xbc"));
        assert!(go_matches("^[^a]$", "/"));
        assert!(go_matches("^[]a]$", "]"));
        assert!(go_matches("^[[:digit:]x]$", "7"));
        assert!(go_matches(r"^[\d]$", "7"));
        assert!(!go_matches(r"^[\d]$", "٣"));
        assert!(go_matches(r"^[^\D]$", "3"));
        // A glob star inside a class: `[*]` became `[[^/]*]`.
        assert!(go_matches("^[[^/]*]$", "[[]"));
        assert!(!go_matches("^[[^/]*]$", "x"));
    }

    #[test]
    fn escapes_follow_go() {
        assert!(go_matches(r"^\d$", "5"));
        assert!(!go_matches(r"^\d$", "٣"));
        assert!(go_matches(r"^a\Q.*\E$", "a.*"));
        assert!(go_matches(r"^a\Q.*$", "a.*$"));
        assert!(go_matches(r"^\101$", "A"));
        assert!(go_matches(r"^\x41$", "A"));
        assert!(go_matches(r"^\*$", "*"));
        assert!(to_rust(r"\1").is_err());
        assert!(to_rust(r"\e").is_err());
        assert!(to_rust(r"\é").is_err());
        assert!(to_rust(r"[\b]").is_err());
    }

    #[test]
    fn go_class_errors() {
        assert!(to_rust("[l-O]").is_err());
        assert!(to_rust("[a-[^/]*]").is_err());
        assert!(to_rust("[[:nope:]]").is_err());
        assert!(to_rust("[a").is_err());
    }
}
