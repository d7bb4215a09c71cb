//! The targets of Bake files (`docker buildx bake`): which Dockerfile each target builds,
//! with which context.
//!
//! A target's `context` is relative to the directory bake runs in, taken to be the Bake
//! file's own (`.` when left out); its `dockerfile` is relative to the context
//! (`Dockerfile` when left out), or to that directory with a `cwd://` prefix; `inherits`
//! takes both from the targets it names.
//! Interpolation uses the defaults of `variable` blocks only, so the result does not depend
//! on who runs docklint: a target whose paths need anything else (a function, a variable
//! without a default, an expression) is skipped, and so are remote contexts and
//! `dockerfile-inline`. HCL is read as far as these need: blocks, attributes whose values
//! are strings or lists of strings, comments; any other value is opaque.

use std::collections::HashMap;
use std::path::Path;

use super::compose::{self, NamedBuild};

/// The names bake looks for, in its order.
pub const BAKE_FILE_NAMES: &[&str] = &[
    "docker-bake.override.hcl",
    "docker-bake.hcl",
    "docker-bake.override.json",
    "docker-bake.json",
];

/// An attribute's value, as far as docklint reads it.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    String(String),
    List(Vec<String>),
    Other,
}

/// A target's own attributes, before inheritance.
#[derive(Debug, Default, Clone)]
struct Target {
    attributes: HashMap<String, Value>,
}

/// The targets of the Bake file `text` (HCL, or JSON when `name` ends in `.json`) found in
/// `dir`. A file docklint cannot read has none.
pub fn builds(text: &str, name: &str, dir: &Path) -> Vec<NamedBuild> {
    let (targets, variables) = if name.ends_with(".json") {
        read_json(text)
    } else {
        read_hcl(text)
    }
    .unwrap_or_default();
    let mut out: Vec<NamedBuild> = targets
        .keys()
        .filter_map(|name| {
            let get = |key: &str| inherited(&targets, name, key, 0);
            if get("dockerfile-inline").is_some() {
                return None;
            }
            let path = |key: &str, default: &str| match get(key) {
                None => Some(default.to_string()),
                Some(Value::String(s)) => interpolate(s, &variables),
                Some(_) => None,
            };
            let context = path("context", ".")?;
            let dockerfile = path("dockerfile", "Dockerfile")?;
            // `cwd://` names a path relative to where bake runs, not to the context.
            let context = context.strip_prefix("cwd://").unwrap_or(&context);
            if compose::is_remote(context) || context.starts_with("target:") {
                return None;
            }
            let context = dir.join(context);
            let dockerfile = match dockerfile.strip_prefix("cwd://") {
                Some(from_cwd) => dir.join(from_cwd),
                None => context.join(dockerfile),
            };
            Some(NamedBuild {
                name: name.clone(),
                context,
                dockerfile,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// A target's attribute, its own or from the targets it inherits (the last one that sets it
/// wins, as bake merges them in order).
fn inherited<'t>(
    targets: &'t HashMap<String, Target>,
    name: &str,
    key: &str,
    depth: usize,
) -> Option<&'t Value> {
    let target = targets.get(name)?;
    if let Some(own) = target.attributes.get(key) {
        return Some(own);
    }
    if depth > 16 {
        return None;
    }
    let Some(Value::List(parents)) = target.attributes.get("inherits") else {
        return None;
    };
    parents
        .iter()
        .rev()
        .find_map(|parent| inherited(targets, parent, key, depth + 1))
}

/// `${NAME}` with the defaults of the file's variables; `$${` is a literal `${`.
fn interpolate(value: &str, variables: &HashMap<String, String>) -> Option<String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find("${") {
        if rest[..at].ends_with('$') {
            out.push_str(&rest[..at]);
            out.push('{');
            rest = &rest[at + 2..];
            continue;
        }
        out.push_str(&rest[..at]);
        let body = &rest[at + 2..];
        let end = body.find('}')?;
        out.push_str(variables.get(body[..end].trim())?);
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

type Read = (HashMap<String, Target>, HashMap<String, String>);

fn read_json(text: &str) -> Option<Read> {
    let root: serde_json::Value = serde_json::from_str(text).ok()?;
    let value = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map_or(Value::Other, Value::List),
        _ => Value::Other,
    };
    let targets = root
        .get("target")?
        .as_object()?
        .iter()
        .filter_map(|(name, body)| {
            let attributes = body
                .as_object()?
                .iter()
                .map(|(k, v)| (k.clone(), value(v)))
                .collect();
            Some((name.clone(), Target { attributes }))
        })
        .collect();
    let variables = root
        .get("variable")
        .and_then(|v| v.as_object())
        .map(|vars| {
            vars.iter()
                .filter_map(|(name, body)| {
                    Some((name.clone(), body.get("default")?.as_str()?.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    Some((targets, variables))
}

fn read_hcl(text: &str) -> Option<Read> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, at: 0 };
    let mut targets = HashMap::new();
    let mut variables = HashMap::new();
    for block in parser.body(0)? {
        let [label] = block.labels.as_slice() else {
            continue;
        };
        match block.kind.as_str() {
            "target" => {
                targets.insert(
                    label.clone(),
                    Target {
                        attributes: block.attributes,
                    },
                );
            }
            "variable" => {
                if let Some(Value::String(default)) = block.attributes.get("default") {
                    variables.insert(label.clone(), default.clone());
                }
            }
            _ => {}
        }
    }
    Some((targets, variables))
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    /// A quoted string, escapes resolved, `${…}` kept as written.
    String(String),
    Punct(char),
    Newline,
    /// Anything else (numbers, operators, heredocs): part of an opaque expression.
    Other,
}

fn tokenize(text: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                tokens.push(Token::Newline);
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '#' => i = line_end(&chars, i),
            '/' if chars.get(i + 1) == Some(&'/') => i = line_end(&chars, i),
            '/' if chars.get(i + 1) == Some(&'*') => {
                let mut j = i + 2;
                while j + 1 < chars.len() && !(chars[j] == '*' && chars[j + 1] == '/') {
                    j += 1;
                }
                i = j + 2;
            }
            '"' => {
                let (value, next) = string(&chars, i + 1)?;
                tokens.push(Token::String(value));
                i = next;
            }
            '{' | '}' | '[' | ']' | '=' | ',' | '(' | ')' => {
                tokens.push(Token::Punct(c));
                i += 1;
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-'))
                {
                    i += 1;
                }
                tokens.push(Token::Ident(chars[start..i].iter().collect()));
            }
            _ => {
                tokens.push(Token::Other);
                i += 1;
            }
        }
    }
    Some(tokens)
}

fn line_end(chars: &[char], from: usize) -> usize {
    chars[from..]
        .iter()
        .position(|&c| c == '\n')
        .map_or(chars.len(), |p| from + p)
}

/// A quoted string from after its opening quote: its value and the index after it. `${…}`
/// is kept as written (braces inside it may hold quotes).
fn string(chars: &[char], from: usize) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut i = from;
    while i < chars.len() {
        match chars[i] {
            '"' => return Some((out, i + 1)),
            '\\' => {
                let escaped = *chars.get(i + 1)?;
                out.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                });
                i += 2;
            }
            '$' if chars.get(i + 1) == Some(&'{') => {
                let mut depth = 0usize;
                while i < chars.len() {
                    out.push(chars[i]);
                    match chars[i] {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            '\n' => return None,
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    None
}

struct Block {
    kind: String,
    labels: Vec<String>,
    attributes: HashMap<String, Value>,
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    /// The blocks of a body (the file, or inside braces), with the attributes of nested
    /// blocks at the top level only. Stops at the closing brace of `depth > 0`.
    fn body(&mut self, depth: usize) -> Option<Vec<Block>> {
        let mut blocks = Vec::new();
        loop {
            match self.next() {
                None => return (depth == 0).then_some(blocks),
                Some(Token::Newline) => {}
                Some(Token::Punct('}')) if depth > 0 => return Some(blocks),
                Some(Token::Ident(kind)) => {
                    let mut labels = Vec::new();
                    while let Some(Token::String(label) | Token::Ident(label)) =
                        self.peek().cloned()
                    {
                        labels.push(label);
                        self.at += 1;
                    }
                    match self.next()? {
                        Token::Punct('{') if depth < 8 => {
                            let attributes = self.attributes()?;
                            blocks.push(Block {
                                kind,
                                labels,
                                attributes,
                            });
                        }
                        Token::Punct('=') if labels.is_empty() => self.skip_expression(),
                        _ => return None,
                    }
                }
                Some(_) => return None,
            }
        }
    }

    /// The attributes of a block, after its opening brace, through its closing brace.
    fn attributes(&mut self) -> Option<HashMap<String, Value>> {
        let mut attributes = HashMap::new();
        loop {
            match self.next()? {
                Token::Newline => {}
                Token::Punct('}') => return Some(attributes),
                Token::Ident(name) | Token::String(name) => match self.next()? {
                    Token::Punct('=') => {
                        let value = self.expression();
                        attributes.insert(name, value);
                    }
                    // A nested block (`output`, `secret`…): not needed, skipped whole.
                    Token::Punct('{') => self.skip_until_close()?,
                    Token::String(_) | Token::Ident(_) => {
                        while !matches!(self.next()?, Token::Punct('{')) {}
                        self.skip_until_close()?;
                    }
                    _ => return None,
                },
                _ => return None,
            }
        }
    }

    /// A string, a list of strings, or an opaque expression (skipped to its end).
    fn expression(&mut self) -> Value {
        let start = self.at;
        let value = match self.peek() {
            Some(Token::String(s)) => {
                let s = s.clone();
                self.at += 1;
                Value::String(s)
            }
            Some(Token::Punct('[')) => {
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    match self.next() {
                        Some(Token::String(s)) => items.push(s),
                        Some(Token::Punct(',') | Token::Newline) => {}
                        Some(Token::Punct(']')) => break Value::List(items),
                        _ => break Value::Other,
                    }
                }
            }
            _ => Value::Other,
        };
        if value != Value::Other && self.at_expression_end() {
            return value;
        }
        self.at = start;
        self.skip_expression();
        Value::Other
    }

    fn at_expression_end(&self) -> bool {
        matches!(
            self.peek(),
            None | Some(Token::Newline | Token::Punct('}' | ','))
        )
    }

    /// To the end of an expression: a newline or a closing brace outside brackets.
    fn skip_expression(&mut self) {
        let mut depth = 0usize;
        while let Some(token) = self.peek() {
            match token {
                Token::Newline | Token::Punct('}') if depth == 0 => return,
                Token::Punct('{' | '[' | '(') => depth += 1,
                Token::Punct('}' | ']' | ')') => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.at += 1;
        }
    }

    /// Past the brace that closes the one just read.
    fn skip_until_close(&mut self) -> Option<()> {
        let mut depth = 1usize;
        while depth > 0 {
            match self.next()? {
                Token::Punct('{') => depth += 1,
                Token::Punct('}') => depth -= 1,
                _ => {}
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &str, name: &str) -> Vec<(String, String, String)> {
        builds(text, name, Path::new("/repo"))
            .into_iter()
            .map(|b| {
                (
                    b.name,
                    b.context.display().to_string(),
                    b.dockerfile.display().to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn hcl_targets_with_defaults_inheritance_and_variables() {
        let text = r#"
# The shared settings.
variable "ROOT" {
  default = "services"
}
variable "FROM_ENV" {}
group "default" {
  targets = ["api", "worker"]
}
target "_common" {
  context = "${ROOT}/api"   // inherited
  args = {
    GO_VERSION = "1.22"
  }
  platforms = ["linux/amd64", "linux/arm64"]
}
target "api" {
  inherits = ["_common"]
  dockerfile = "docker/api.Dockerfile"
  tags = ["app/api:${FROM_ENV}"]
  output = [{ type = "image" }]
}
target "worker" {
  context = "./worker"
}
target "plain" {}
target "from-env" { context = "${FROM_ENV}" }
target "computed" {
  context = lower("X")
}
target "remote" { context = "https://github.com/a/b.git" }
target "inline" { dockerfile-inline = "FROM scratch" }
/* target "commented" { } */
"#;
        assert_eq!(
            entries(text, "docker-bake.hcl"),
            [
                (
                    "_common".into(),
                    "/repo/services/api".into(),
                    "/repo/services/api/Dockerfile".into()
                ),
                (
                    "api".into(),
                    "/repo/services/api".into(),
                    "/repo/services/api/docker/api.Dockerfile".into()
                ),
                (
                    "plain".into(),
                    "/repo/.".into(),
                    "/repo/./Dockerfile".into()
                ),
                (
                    "worker".into(),
                    "/repo/./worker".into(),
                    "/repo/./worker/Dockerfile".into()
                ),
            ]
        );
    }

    #[test]
    fn json_targets() {
        let text = r#"{
  "variable": {"DIR": {"default": "app"}},
  "target": {
    "web": {"context": "${DIR}", "dockerfile": "web.Dockerfile"},
    "base": {"dockerfile": "base.Dockerfile"},
    "cwd": {"context": "cwd://ctx", "dockerfile": "cwd://docker/cwd.Dockerfile"},
    "child": {"inherits": ["base"], "context": "child"}
  }
}"#;
        assert_eq!(
            entries(text, "docker-bake.json"),
            [
                (
                    "base".into(),
                    "/repo/.".into(),
                    "/repo/./base.Dockerfile".into()
                ),
                (
                    "child".into(),
                    "/repo/child".into(),
                    "/repo/child/base.Dockerfile".into()
                ),
                (
                    "cwd".into(),
                    "/repo/ctx".into(),
                    "/repo/docker/cwd.Dockerfile".into()
                ),
                (
                    "web".into(),
                    "/repo/app".into(),
                    "/repo/app/web.Dockerfile".into()
                ),
            ]
        );
    }

    #[test]
    fn unreadable_files_have_no_targets() {
        for text in [
            "target \"a\" {",
            "target \"a\" { context = \"x",
            "{{{",
            "",
            "= = =",
        ] {
            assert!(entries(text, "docker-bake.hcl").is_empty(), "{text}");
        }
        assert!(entries("[1, 2]", "docker-bake.json").is_empty());
        assert!(entries("{", "docker-bake.json").is_empty());
    }
}
