//! Pretty-printed JSON objects of a known shape, written straight into a buffer: byte for
//! byte what serde_json's `PrettyFormatter` writes (two spaces a level), without its
//! escaping of every byte of every string through the serializer (a quarter of the time
//! of a file with millions of diagnostics).

/// An object being written: `{`, then members, then [`Object::close`].
pub struct Object<'o> {
    out: &'o mut Vec<u8>,
    /// Spaces before each member.
    indent: usize,
    empty: bool,
}

impl<'o> Object<'o> {
    /// Opens an object whose closing brace sits `indent` spaces deep.
    pub fn open(out: &'o mut Vec<u8>, indent: usize) -> Self {
        out.push(b'{');
        Object {
            out,
            indent: indent + 2,
            empty: true,
        }
    }

    /// A member's name: one of this module's callers' fixed names, which need no escape.
    fn key(&mut self, name: &str) {
        next_line(self.out, &mut self.empty, self.indent);
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\": ");
    }

    pub fn string(&mut self, name: &str, value: &str) {
        self.key(name);
        string(self.out, value);
    }

    /// A string, or `null`.
    pub fn optional(&mut self, name: &str, value: Option<&str>) {
        self.key(name);
        match value {
            Some(value) => string(self.out, value),
            None => self.out.extend_from_slice(b"null"),
        }
    }

    pub fn number(&mut self, name: &str, value: usize) {
        self.key(name);
        number(self.out, value);
    }

    /// A member that is an object.
    pub fn object(&mut self, name: &str) -> Object<'_> {
        self.key(name);
        Object::open(self.out, self.indent)
    }

    /// A member that is an array (of objects).
    pub fn array(&mut self, name: &str) -> Array<'_> {
        self.key(name);
        self.out.push(b'[');
        Array {
            out: self.out,
            indent: self.indent + 2,
            empty: true,
        }
    }

    pub fn close(self) {
        close(self.out, self.empty, self.indent, b'}');
    }
}

/// An array of objects being written.
pub struct Array<'o> {
    out: &'o mut Vec<u8>,
    indent: usize,
    empty: bool,
}

impl Array<'_> {
    pub fn object(&mut self) -> Object<'_> {
        next_line(self.out, &mut self.empty, self.indent);
        Object::open(self.out, self.indent)
    }

    pub fn close(self) {
        close(self.out, self.empty, self.indent, b']');
    }
}

/// Before a member or element: a comma after the one before, a line break, the indent.
fn next_line(out: &mut Vec<u8>, empty: &mut bool, indent: usize) {
    out.extend_from_slice(if *empty { b"\n" } else { b",\n" });
    *empty = false;
    spaces(out, indent);
}

/// The closing bracket, on a line of its own unless the object or array is empty.
fn close(out: &mut Vec<u8>, empty: bool, indent: usize, bracket: u8) {
    if !empty {
        out.push(b'\n');
        spaces(out, indent - 2);
    }
    out.push(bracket);
}

/// `count` spaces: copied from a line of them (a diagnostic has some twenty indents, and
/// filling each took a call of its own).
fn spaces(out: &mut Vec<u8>, count: usize) {
    const SPACES: &[u8; 32] = b"                                ";
    match SPACES.get(..count) {
        Some(spaces) => out.extend_from_slice(spaces),
        None => out.resize(out.len() + count, b' '),
    }
}

/// A JSON string, escaped as serde_json escapes it: `"` and `\`, control characters as
/// `\b \t \n \f \r` or `\u00xx`; everything else (non-ASCII too) as it is.
fn string(out: &mut Vec<u8>, value: &str) {
    out.push(b'"');
    string_content(out, value);
    out.push(b'"');
}

/// A JSON string's text between its quotes, escaped as [`string`] escapes it; whether it
/// needed no escape.
pub(super) fn string_content(out: &mut Vec<u8>, value: &str) -> bool {
    let bytes = value.as_bytes();
    // Most strings need no escape: a pass without branches (vectorised) tells.
    let escapes = bytes
        .iter()
        .fold(0u8, |count, &byte| count | u8::from(needs_escape(byte)));
    if escapes != 0 {
        escaped(out, bytes);
    } else {
        out.extend_from_slice(bytes);
    }
    escapes == 0
}

fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

fn escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        if !needs_escape(byte) {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        start = i + 1;
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\x08' => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\x0c' => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX_DIGITS[usize::from(byte >> 4)],
                HEX_DIGITS[usize::from(byte & 0xf)],
            ]),
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

/// A number in decimal, without the formatting machinery (two digits a step).
pub(super) fn number(out: &mut Vec<u8>, value: usize) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Outer {
        text: &'static str,
        some: Option<&'static str>,
        none: Option<&'static str>,
        number: usize,
        zero: usize,
        empty: Empty,
        inner: Inner,
    }

    #[derive(Serialize)]
    struct Empty {}

    #[derive(Serialize)]
    struct Inner {
        n: usize,
        items: Vec<Item>,
        none: Vec<Item>,
    }

    #[derive(Serialize)]
    struct Item {
        #[serde(skip_serializing_if = "Option::is_none")]
        a: Option<&'static str>,
    }

    const TEXT: &str = "quote \" backslash \\ controls \u{0}\u{8}\t\n\u{c}\r\u{1f}\u{7f} é 😀";

    #[test]
    fn writes_what_serde_json_pretty_prints() {
        let mut out = Vec::new();
        let mut object = Object::open(&mut out, 0);
        object.string("text", TEXT);
        object.optional("some", Some("x"));
        object.optional("none", None);
        object.number("number", 42);
        object.number("zero", 0);
        object.object("empty").close();
        let mut inner = object.object("inner");
        inner.number("n", 1);
        let mut items = inner.array("items");
        let mut item = items.object();
        item.string("a", "b");
        item.close();
        items.object().close();
        items.close();
        inner.array("none").close();
        inner.close();
        object.close();
        let expected = Outer {
            text: TEXT,
            some: Some("x"),
            none: None,
            number: 42,
            zero: 0,
            empty: Empty {},
            inner: Inner {
                n: 1,
                items: vec![Item { a: Some("b") }, Item { a: None }],
                none: Vec::new(),
            },
        };
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string_pretty(&expected).unwrap()
        );
    }
}
