//! A recogniser for what Python code asks for: its imports and its calls with their literal
//! arguments (`snapshot_download(repo_id="org/model")`, `YOLO("yolov8n.pt")`).
//!
//! It is not a parser. One pass over a tokenizer (strings, comments, names, brackets) keeps
//! a stack of open calls; a call's argument is known when it is a single string or name
//! (`"org/model"`, `True`, `Weights.DEFAULT`), anything else is [`ArgValue::Other`]. Imports
//! are read from `import a.b as c` and `from a import b as c` statements wherever they sit.
//! Indentation, operators and the rest of the grammar are ignored, so any text, valid Python
//! or not, is read in linear time without failing.

use std::ops::Range;

/// What a piece of Python source imports and calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    pub imports: Vec<Import>,
    /// In the order their names appear.
    pub calls: Vec<Call>,
    /// Every string literal, in order (a file name assigned to a variable and fetched later).
    pub strings: Vec<String>,
    /// Statements `NAME = …` in order, with the text when the value is one string literal
    /// (a model id kept in a constant).
    pub constants: Vec<(String, Option<String>)>,
}

/// A name an import binds: `import torch.hub` binds `torch` to `torch`; `from whisper import
/// load_model as lm` binds `lm` to `whisper.load_model`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub local: String,
    /// The module path, and for `from` imports the imported name after it.
    pub target: String,
    /// The module the statement names (`a.b` of `from a.b import c`; `a.b.c` of `import a.b.c`).
    pub module: String,
    /// Leading dots of a relative import (`from .utils import x`: 1).
    pub level: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The callee as written, dotted (`AutoModel.from_pretrained`); a method called on an
    /// expression starts with a dot (`.export` of `YOLO("x.pt").export()`).
    pub callee: String,
    /// From the callee's first byte to the closing parenthesis (or the end of the text).
    pub span: Range<usize>,
    pub args: Vec<Arg>,
}

impl Call {
    /// The argument at `position` (positional) or given as `keyword=`.
    pub fn arg(&self, position: usize, keyword: &str) -> Option<&ArgValue> {
        self.keyword(keyword).or_else(|| {
            self.args
                .iter()
                .filter(|a| a.keyword.is_none())
                .nth(position)
                .map(|a| &a.value)
        })
    }

    pub fn keyword(&self, keyword: &str) -> Option<&ArgValue> {
        self.args
            .iter()
            .find(|a| a.keyword.as_deref() == Some(keyword))
            .map(|a| &a.value)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub keyword: Option<String>,
    pub value: ArgValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgValue {
    /// A string literal (adjacent literals joined; escapes of non-raw strings resolved, an
    /// f-string kept with its braces).
    Str(String),
    /// A name or dotted name: `True`, `None`, `model_id`, `ResNet50_Weights.DEFAULT`.
    Name(String),
    /// Anything else: an expression, a list, a call.
    Other,
}

impl ArgValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ArgValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_name(&self, name: &str) -> bool {
        matches!(self, ArgValue::Name(n) if n == name)
    }
}

/// Words that are followed by `(` without being called.
const KEYWORDS: &[&str] = &[
    "if", "elif", "while", "for", "in", "not", "and", "or", "return", "yield", "assert", "del",
    "with", "as", "except", "raise", "lambda", "await", "else", "is", "import", "from", "print",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A dotted name; `after_dot` when a `.` precedes it (a method of an expression).
    Name {
        text: String,
        after_dot: bool,
    },
    Str(String),
    Open(u8),
    Close,
    Comma,
    /// `=` alone (a keyword argument or an assignment).
    Assign,
    Newline,
    /// Anything else: numbers, operators, `;`, `:`.
    Other,
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer {
            text,
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    /// The next token and where it starts.
    fn next(&mut self) -> Option<(usize, Token)> {
        loop {
            let &b = self.bytes.get(self.at)?;
            match b {
                b' ' | b'\t' | b'\r' | b'\x0c' => self.at += 1,
                b'\\' if self.bytes.get(self.at + 1) == Some(&b'\n') => self.at += 2,
                b'#' => {
                    while self.bytes.get(self.at).is_some_and(|&c| c != b'\n') {
                        self.at += 1;
                    }
                }
                _ => break,
            }
        }
        let start = self.at;
        let b = self.bytes[start];
        let token = match b {
            b'\n' => {
                self.at += 1;
                Token::Newline
            }
            b'(' | b'[' | b'{' => {
                self.at += 1;
                Token::Open(b)
            }
            b')' | b']' | b'}' => {
                self.at += 1;
                Token::Close
            }
            b',' => {
                self.at += 1;
                Token::Comma
            }
            b'=' if self.bytes.get(start + 1) != Some(&b'=') => {
                self.at += 1;
                Token::Assign
            }
            b'\'' | b'"' => Token::Str(self.string(start, false)),
            _ if is_name_start(b) => {
                let end = self.name_end(start);
                let word = &self.text[start..end];
                let quote = self.bytes.get(end).copied();
                if matches!(quote, Some(b'\'' | b'"')) && is_string_prefix(word) {
                    self.at = end;
                    let raw = word.contains(['r', 'R']);
                    Token::Str(self.string(end, raw))
                } else {
                    self.at = end;
                    let mut text = word.to_string();
                    // Dotted continuation: `torch.hub.load`.
                    while self.bytes.get(self.at) == Some(&b'.')
                        && self
                            .bytes
                            .get(self.at + 1)
                            .is_some_and(|&c| is_name_start(c))
                    {
                        let end = self.name_end(self.at + 1);
                        text.push_str(&self.text[self.at..end]);
                        self.at = end;
                    }
                    let after_dot = self.previous_is_dot(start);
                    Token::Name { text, after_dot }
                }
            }
            _ => {
                // One character (a whole UTF-8 sequence) of anything else.
                let len = self.text[start..].chars().next().map_or(1, char::len_utf8);
                self.at += len;
                // Two-character operators ending in `=` (`==`, `<=`, `+=`, `:=` …) are one.
                if self.bytes.get(self.at) == Some(&b'=') && b"=<>!+-*/%&|^:@".contains(&b) {
                    self.at += 1;
                }
                Token::Other
            }
        };
        Some((start, token))
    }

    fn name_end(&self, from: usize) -> usize {
        let mut end = from;
        while self
            .bytes
            .get(end)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80)
        {
            end += 1;
        }
        // Never split a UTF-8 sequence.
        while !self.text.is_char_boundary(end) {
            end += 1;
        }
        end
    }

    fn previous_is_dot(&self, start: usize) -> bool {
        self.bytes[..start]
            .iter()
            .rev()
            .find(|c| !matches!(c, b' ' | b'\t'))
            .is_some_and(|&c| c == b'.')
    }

    /// A string literal whose opening quote is at `open`; returns its value.
    fn string(&mut self, open: usize, raw: bool) -> String {
        let quote = self.bytes[open];
        let triple = self.bytes.get(open..open + 3) == Some(&[quote; 3][..]);
        let delimiter = if triple { 3 } else { 1 };
        let mut at = open + delimiter;
        let mut value = String::new();
        while let Some(&c) = self.bytes.get(at) {
            if c == quote && (!triple || self.bytes.get(at..at + 3) == Some(&[quote; 3][..])) {
                at += delimiter;
                break;
            }
            if c == b'\n' && !triple {
                break;
            }
            let ch_len = self.text[at..].chars().next().map_or(1, char::len_utf8);
            if c == b'\\' && !raw {
                let next = self.text[at + 1..].chars().next();
                match next {
                    Some('n') => value.push('\n'),
                    Some('t') => value.push('\t'),
                    Some('\n') => {}
                    Some(other) => value.push(other),
                    None => {}
                }
                at += 1 + next.map_or(0, char::len_utf8);
                continue;
            }
            if c == b'\\' && raw && self.bytes.get(at + 1) == Some(&quote) {
                value.push('\\');
                value.push(quote as char);
                at += 2;
                continue;
            }
            value.push_str(&self.text[at..at + ch_len]);
            at += ch_len;
        }
        self.at = at;
        value
    }
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_string_prefix(word: &str) -> bool {
    word.len() <= 2
        && word
            .chars()
            .all(|c| matches!(c.to_ascii_lowercase(), 'r' | 'b' | 'u' | 'f'))
}

/// An open bracket: a call's argument list, or a bracket inside one.
struct Frame {
    /// Index in `calls` when this bracket is a call's argument list.
    call: Option<usize>,
    arg: ArgState,
}

#[derive(Default)]
struct ArgState {
    keyword: Option<String>,
    value: Option<ArgValue>,
    tokens: usize,
    /// A name just read that may turn out to be `keyword=`.
    pending_name: Option<String>,
}

impl ArgState {
    fn finish(&mut self) -> Option<Arg> {
        let state = std::mem::take(self);
        if state.tokens == 0 && state.pending_name.is_none() {
            return None;
        }
        let value = match (state.value, state.pending_name) {
            (Some(v), None) if state.tokens == 1 => v,
            (None, Some(name)) if state.tokens == 1 => ArgValue::Name(name),
            _ => ArgValue::Other,
        };
        Some(Arg {
            keyword: state.keyword,
            value,
        })
    }

    fn push(&mut self, value: ArgValue) {
        // Adjacent string literals are one string.
        if let (Some(ArgValue::Str(previous)), ArgValue::Str(next)) = (&mut self.value, &value) {
            if self.tokens == 1 {
                previous.push_str(next);
                return;
            }
        }
        self.tokens += 1;
        self.value = Some(value);
    }
}

/// Reads `text`'s imports and calls.
pub fn scan(text: &str) -> Source {
    let mut source = Source::default();
    let mut lexer = Lexer::new(text);
    let mut frames: Vec<Frame> = Vec::new();
    // The previous token, and whether the current logical line has only just started.
    let mut previous: Option<(usize, Token)> = None;
    let mut line_start = true;
    let mut constant = ConstantState::None;
    while let Some((start, token)) = lexer.next() {
        constant = constant.next(&token, line_start && frames.is_empty(), &mut source);
        if line_start && frames.is_empty() {
            if let Token::Name { text: word, .. } = &token {
                if word == "import" || word == "from" {
                    read_import(&mut lexer, word == "from", &mut source.imports);
                    previous = None;
                    continue;
                }
            }
        }
        line_start = matches!(token, Token::Newline)
            || (matches!(token, Token::Other) && text[start..].starts_with(';'));
        if let Token::Newline = token {
            if frames.is_empty() {
                previous = Some((start, token));
                continue;
            }
        }
        let in_arg = frames.last_mut().map(|f| &mut f.arg);
        match &token {
            Token::Open(b'(') => {
                let callee = match &previous {
                    Some((at, Token::Name { text, after_dot }))
                        if !KEYWORDS.contains(&text.as_str()) =>
                    {
                        let callee = if *after_dot {
                            format!(".{text}")
                        } else {
                            text.clone()
                        };
                        Some((*at, callee))
                    }
                    Some((_, Token::Close)) => Some((start, String::new())),
                    _ => None,
                };
                let call = match callee {
                    Some((callee_start, callee)) if !is_definition(text, callee_start) => {
                        source.calls.push(Call {
                            callee,
                            span: callee_start..text.len(),
                            args: Vec::new(),
                        });
                        Some(source.calls.len() - 1)
                    }
                    _ => None,
                };
                if let Some(arg) = in_arg {
                    // The callee name was counted as a value of the enclosing argument; a
                    // call there makes the argument an expression.
                    arg.tokens += 2;
                }
                frames.push(Frame {
                    call,
                    arg: ArgState::default(),
                });
            }
            Token::Open(_) => {
                if let Some(arg) = in_arg {
                    arg.tokens += 2;
                }
                frames.push(Frame {
                    call: None,
                    arg: ArgState::default(),
                });
            }
            Token::Close => {
                if let Some(mut frame) = frames.pop() {
                    if let Some(call) = frame.call {
                        if let Some(arg) = frame.arg.finish() {
                            source.calls[call].args.push(arg);
                        }
                        source.calls[call].span.end = lexer.at;
                    }
                }
            }
            Token::Comma => {
                if let Some(frame) = frames.last_mut() {
                    if let (Some(call), Some(arg)) = (frame.call, frame.arg.finish()) {
                        source.calls[call].args.push(arg);
                    }
                }
            }
            Token::Assign => {
                if let Some(arg) = in_arg {
                    match arg.pending_name.take() {
                        Some(name) if arg.tokens == 1 && arg.keyword.is_none() => {
                            arg.keyword = Some(name);
                            arg.tokens = 0;
                            arg.value = None;
                        }
                        _ => arg.tokens += 1,
                    }
                }
            }
            Token::Name {
                text: word,
                after_dot,
            } => {
                if let Some(arg) = in_arg {
                    if let Some(name) = arg.pending_name.take() {
                        arg.value = Some(ArgValue::Name(name));
                    }
                    if *after_dot {
                        arg.tokens += 1;
                    }
                    arg.tokens += 1;
                    arg.pending_name = Some(word.clone());
                }
            }
            Token::Str(value) => {
                source.strings.push(value.clone());
                if let Some(arg) = in_arg {
                    if let Some(name) = arg.pending_name.take() {
                        arg.value = Some(ArgValue::Name(name));
                    }
                    arg.push(ArgValue::Str(value.clone()));
                }
            }
            Token::Newline => {}
            Token::Other => {
                if let Some(arg) = in_arg {
                    if let Some(name) = arg.pending_name.take() {
                        arg.value = Some(ArgValue::Name(name));
                    }
                    arg.tokens += 1;
                }
            }
        }
        previous = Some((start, token));
    }
    constant.next(&Token::Newline, false, &mut source);
    source
}

/// Where a statement `NAME = "text"` is read up to.
enum ConstantState {
    None,
    Name(String),
    Assign(String),
    Value(String, String),
}

impl ConstantState {
    fn next(self, token: &Token, statement_start: bool, source: &mut Source) -> ConstantState {
        match (self, token) {
            (
                _,
                Token::Name {
                    text,
                    after_dot: false,
                },
            ) if statement_start && !text.contains('.') => ConstantState::Name(text.clone()),
            (ConstantState::Name(name), Token::Assign) => ConstantState::Assign(name),
            (ConstantState::Assign(name), Token::Str(value)) => {
                ConstantState::Value(name, value.clone())
            }
            // Adjacent literals are one string.
            (ConstantState::Value(name, mut value), Token::Str(more)) => {
                value.push_str(more);
                ConstantState::Value(name, value)
            }
            (ConstantState::Value(name, value), Token::Newline) => {
                source.constants.push((name, Some(value)));
                ConstantState::None
            }
            (ConstantState::Assign(name) | ConstantState::Value(name, _), _) => {
                source.constants.push((name, None));
                ConstantState::None
            }
            _ => ConstantState::None,
        }
    }
}

/// `def name(` and `class Name(` define, they do not call.
fn is_definition(text: &str, name_start: usize) -> bool {
    let before = text[..name_start].trim_end();
    let keyword_start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    matches!(&before[keyword_start..], "def" | "class")
}

/// The rest of an `import …` or `from … import …` statement.
fn read_import(lexer: &mut Lexer, from: bool, imports: &mut Vec<Import>) {
    let mut level = 0;
    let mut module = String::new();
    if from {
        // Relative dots, then the module (`from . import x` has none).
        loop {
            let rest = &lexer.bytes[lexer.at..];
            let spaces = rest
                .iter()
                .take_while(|c| matches!(c, b' ' | b'\t'))
                .count();
            if rest.get(spaces) == Some(&b'.') {
                level += 1;
                lexer.at += spaces + 1;
                continue;
            }
            break;
        }
        match lexer.next() {
            Some((_, Token::Name { text, .. })) if text == "import" => {}
            Some((_, Token::Name { text, .. })) => {
                module = text;
                if !matches!(lexer.next(), Some((_, Token::Name { text, .. })) if text == "import")
                {
                    return;
                }
            }
            _ => return,
        }
    }
    let mut depth = 0;
    let mut names: Vec<(String, Option<String>)> = Vec::new();
    while let Some((start, token)) = lexer.next() {
        match token {
            Token::Newline if depth == 0 => break,
            Token::Other if lexer.text[start..].starts_with(';') => break,
            Token::Open(_) => depth += 1,
            Token::Close => depth -= 1,
            Token::Name { text, .. } if text == "as" => {
                if let Some((_, Token::Name { text: alias, .. })) = lexer.next() {
                    if let Some(last) = names.last_mut() {
                        last.1 = Some(alias);
                    }
                }
            }
            Token::Name { text, .. } => names.push((text, None)),
            _ => {}
        }
        if depth < 0 {
            break;
        }
    }
    for (name, alias) in names {
        if name == "*" {
            continue;
        }
        let (local, target, statement_module) = if from {
            let target = if module.is_empty() {
                name.clone()
            } else {
                format!("{module}.{name}")
            };
            (alias.unwrap_or(name), target, module.clone())
        } else {
            match alias {
                Some(alias) => (alias, name.clone(), name),
                // `import a.b` binds `a`.
                None => {
                    let first = name.split('.').next().unwrap_or(&name).to_string();
                    (first.clone(), first, name)
                }
            }
        };
        if local.is_empty() {
            continue;
        }
        imports.push(Import {
            local,
            target,
            module: statement_module,
            level,
        });
    }
}

impl Source {
    /// The text of `name` when every assignment of it is the same string literal (an
    /// f-string's braces make it unknown).
    pub fn constant(&self, name: &str) -> Option<&str> {
        let mut values = self
            .constants
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v);
        let first = values.next()?.as_deref()?;
        (values.all(|v| v.as_deref() == Some(first)) && !first.contains('{')).then_some(first)
    }

    /// The qualified name of a callee: its first part read through the imports
    /// (`lm` → `whisper.load_model`, `hub.load` → `torch.hub.load`).
    pub fn qualified(&self, callee: &str) -> String {
        let (first, rest) = match callee.split_once('.') {
            Some((first, rest)) => (first, Some(rest)),
            None => (callee, None),
        };
        match self.imports.iter().rev().find(|i| i.local == first) {
            Some(import) => match rest {
                Some(rest) => format!("{}.{rest}", import.target),
                None => import.target.clone(),
            },
            None => callee.to_string(),
        }
    }
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call<'s>(source: &'s Source, callee: &str) -> &'s Call {
        source
            .calls
            .iter()
            .find(|c| c.callee == callee)
            .unwrap_or_else(|| panic!("no call {callee} in {:?}", source.calls))
    }

    #[test]
    fn imports_bind_names() {
        let s = scan(
            "import torch.hub\nimport whisper as w\nfrom transformers import (AutoModel,\n  AutoTokenizer as Tok)\nfrom . import utils\nfrom .local import helper\nimport os, sys\n",
        );
        let bound: Vec<(&str, &str, usize)> = s
            .imports
            .iter()
            .map(|i| (i.local.as_str(), i.target.as_str(), i.level))
            .collect();
        assert_eq!(
            bound,
            [
                ("torch", "torch", 0),
                ("w", "whisper", 0),
                ("AutoModel", "transformers.AutoModel", 0),
                ("Tok", "transformers.AutoTokenizer", 0),
                ("utils", "utils", 1),
                ("helper", "local.helper", 1),
                ("os", "os", 0),
                ("sys", "sys", 0),
            ]
        );
        assert_eq!(s.qualified("w.load_model"), "whisper.load_model");
        assert_eq!(s.qualified("torch.hub.load"), "torch.hub.load");
        assert_eq!(
            s.qualified("Tok.from_pretrained"),
            "transformers.AutoTokenizer.from_pretrained"
        );
    }

    #[test]
    fn calls_with_literal_arguments() {
        let s = scan(
            "m = SentenceTransformer('all-MiniLM-L6-v2', device=\"cpu\")\nsnapshot_download(repo_id=os.getenv('M'), local_dir=\"/m\")\nmodels.resnet50(weights=ResNet50_Weights.DEFAULT, pretrained=True)\n",
        );
        let st = call(&s, "SentenceTransformer");
        assert_eq!(
            st.arg(0, "model_name_or_path"),
            Some(&ArgValue::Str("all-MiniLM-L6-v2".into()))
        );
        assert_eq!(st.keyword("device"), Some(&ArgValue::Str("cpu".into())));
        let snap = call(&s, "snapshot_download");
        assert_eq!(snap.keyword("repo_id"), Some(&ArgValue::Other));
        assert_eq!(snap.keyword("local_dir"), Some(&ArgValue::Str("/m".into())));
        assert_eq!(
            call(&s, "os.getenv").arg(0, ""),
            Some(&ArgValue::Str("M".into()))
        );
        let resnet = call(&s, "models.resnet50");
        assert_eq!(
            resnet.keyword("weights"),
            Some(&ArgValue::Name("ResNet50_Weights.DEFAULT".into()))
        );
        assert!(resnet
            .keyword("pretrained")
            .is_some_and(|v| v.is_name("True")));
    }

    #[test]
    fn strings_comments_and_definitions_are_not_calls() {
        let s = scan(
            "# snapshot_download('x')\nprint(\"from_pretrained('y')\")\ndef load_model(name):\n    return whisper.load_model(name)\nclass A(Base): pass\nx = '''\nYOLO('a.pt')\n'''\n",
        );
        let callees: Vec<&str> = s.calls.iter().map(|c| c.callee.as_str()).collect();
        assert_eq!(callees, ["whisper.load_model"]);
        assert_eq!(s.calls[0].args[0].value, ArgValue::Name("name".into()));
    }

    #[test]
    fn chained_methods_and_prefixed_strings() {
        let s =
            scan("YOLO(r'yolov8n.pt').export(format=f\"onnx{v}\")\nx = b'a' 'b'\nf(u'a' \"b\")");
        assert_eq!(
            call(&s, "YOLO").arg(0, "model"),
            Some(&ArgValue::Str("yolov8n.pt".into()))
        );
        assert_eq!(
            call(&s, ".export").keyword("format"),
            Some(&ArgValue::Str("onnx{v}".into()))
        );
        assert_eq!(call(&s, "f").arg(0, ""), Some(&ArgValue::Str("ab".into())));
    }

    #[test]
    fn constants_are_names_given_one_string() {
        let s = scan(
            "REPO_ID = \"InfiniFlow/deepdoc\"\nPATH = (\n  '/models/'\n  'x')\nURL = f\"{B}/m.pt\"\n\
             MODEL = 'a'\nMODEL = os.getenv('M')\ndef f():\n    LOCAL = 'in/function'\n",
        );
        assert_eq!(s.constant("REPO_ID"), Some("InfiniFlow/deepdoc"));
        assert_eq!(s.constant("LOCAL"), Some("in/function"));
        assert_eq!(s.constant("URL"), None);
        assert_eq!(s.constant("MODEL"), None);
        assert_eq!(s.constant("PATH"), None);
        assert_eq!(scan("A = 'x' 'y'").constant("A"), Some("xy"));
        assert_eq!(scan("f(A='x')\n").constant("A"), None);
    }

    #[test]
    fn spans_cover_the_call() {
        let text = "x = 1\nnltk.download('punkt')\n";
        let s = scan(text);
        assert_eq!(&text[s.calls[0].span.clone()], "nltk.download('punkt')");
        assert_eq!(line_of(text, s.calls[0].span.start), 2);
    }

    #[test]
    fn any_text_is_read_without_failing() {
        for text in [
            "(((",
            ")))",
            "'unterminated",
            "\"\"\"open",
            "f(a=",
            "import",
            "from . import",
            "é(ü='ß')",
            "\\",
            "x.(",
            "def",
            "# ──\nf()",
            "x = '─'\n─f(1)",
        ] {
            let _ = scan(text);
        }
        assert_eq!(scan("# ─────\nsetup()\n").calls[0].callee, "setup");
        let s = scan("é(ü='ß')");
        assert_eq!(s.calls[0].keyword("ü"), Some(&ArgValue::Str("ß".into())));
    }
}
