//! Variables in scope (ARG and ENV) and BuildKit's word expansion.

use crate::syntax::dockerfile::KeyValue;

/// A variable's value: known, or declared with a value the file cannot tell (an ARG
/// without default, or one built from unknown variables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Known(String),
    Unknown,
}

/// Ordered variables; later declarations win.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars {
    entries: Vec<(String, Value)>,
}

impl Vars {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.entries
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// The value if it is known.
    pub fn known(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::Known(v) => Some(v),
            Value::Unknown => None,
        }
    }

    pub fn set(&mut self, name: &str, value: Value) {
        self.entries.retain(|(n, _)| n != name);
        self.entries.push((name.to_string(), value));
    }

    /// `self` with `top` laid over it (ENV wins over ARG of the same name).
    pub fn overlay(&self, top: &Vars) -> Vars {
        let mut out = self.clone();
        for (name, value) in &top.entries {
            out.set(name, value.clone());
        }
        out
    }

    /// ENV pairs, each value expanded with what is in scope before it.
    pub fn set_pairs(&mut self, pairs: &[KeyValue], scope: &Vars, escape: char) {
        let mut scope = scope.clone();
        for pair in pairs {
            let raw = pair.value.as_ref().map_or("", |v| v.value.as_str());
            let value = expand(raw, &scope, escape).map_or(Value::Unknown, Value::Known);
            scope.set(&pair.key.value, value.clone());
            self.set(&pair.key.value, value);
        }
    }

    /// Global ARGs (before the first FROM).
    pub fn declare_args(&mut self, args: &[KeyValue], scope: &Vars) {
        let mut scope = scope.overlay(self);
        for arg in args {
            let value = match &arg.value {
                Some(v) => expand(&v.value, &scope, '\\').map_or(Value::Unknown, Value::Known),
                None => Value::Unknown,
            };
            scope.set(&arg.key.value, value.clone());
            self.set(&arg.key.value, value);
        }
    }

    /// A stage's ARGs: `ARG NAME` takes the global default if there is one.
    pub fn declare_args_from_global(&mut self, args: &[KeyValue], scope: &Vars, global: &Vars) {
        let mut scope = scope.clone();
        for arg in args {
            let value = match &arg.value {
                Some(v) => expand(&v.value, &scope, '\\').map_or(Value::Unknown, Value::Known),
                None => global
                    .get(&arg.key.value)
                    .cloned()
                    .unwrap_or(Value::Unknown),
            };
            scope.set(&arg.key.value, value.clone());
            self.set(&arg.key.value, value);
        }
    }
}

/// Expands a Dockerfile word like BuildKit's shell lexer: quotes removed, escapes resolved,
/// `$VAR`, `${VAR}`, `${VAR:-x}`, `${VAR-x}`, `${VAR:+x}`, `${VAR+x}` substituted.
/// Undeclared variables are empty (as in BuildKit). `None` when a variable's value is unknown.
pub fn expand(word: &str, vars: &Vars, escape: char) -> Option<String> {
    let mut out = String::with_capacity(word.len());
    let chars: Vec<char> = word.chars().collect();
    let mut i = 0;
    let mut in_double = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' if !in_double => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '\'')
                    .map_or(chars.len(), |p| i + 1 + p);
                out.extend(&chars[i + 1..end]);
                i = end + 1;
            }
            '"' => {
                in_double = !in_double;
                i += 1;
            }
            c if c == escape && i + 1 < chars.len() => {
                out.push(chars[i + 1]);
                i += 2;
            }
            '$' => {
                let (value, next) = variable(&chars, i + 1, vars, escape)?;
                out.push_str(&value);
                i = next;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(out)
}

/// Reads a variable reference after `$` at `start`; returns its value and the next index.
fn variable(chars: &[char], start: usize, vars: &Vars, escape: char) -> Option<(String, usize)> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if chars.get(start) == Some(&'{') {
        let close = matching_brace(chars, start)?;
        let inner: String = chars[start + 1..close].iter().collect();
        let name_len = inner.find(|c: char| !is_name(c)).unwrap_or(inner.len());
        let (name, modifier) = inner.split_at(name_len);
        let value = lookup(name, vars)?;
        let set = value.is_some();
        let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
        let result = match modifier {
            "" => value.unwrap_or_default(),
            m if m.starts_with(":-") => {
                if non_empty {
                    value.unwrap_or_default()
                } else {
                    expand(&m[2..], vars, escape)?
                }
            }
            m if m.starts_with('-') => {
                if set {
                    value.unwrap_or_default()
                } else {
                    expand(&m[1..], vars, escape)?
                }
            }
            m if m.starts_with(":+") => {
                if non_empty {
                    expand(&m[2..], vars, escape)?
                } else {
                    String::new()
                }
            }
            m if m.starts_with('+') => {
                if set {
                    expand(&m[1..], vars, escape)?
                } else {
                    String::new()
                }
            }
            _ => return None,
        };
        return Some((result, close + 1));
    }
    let name_len = chars[start..].iter().take_while(|&&c| is_name(c)).count();
    if name_len == 0 {
        return Some(("$".to_string(), start));
    }
    let name: String = chars[start..start + name_len].iter().collect();
    Some((lookup(&name, vars)?.unwrap_or_default(), start + name_len))
}

/// `Some(Some(v))` known, `Some(None)` undeclared (empty), `None` unknown.
fn lookup(name: &str, vars: &Vars) -> Option<Option<String>> {
    match vars.get(name) {
        Some(Value::Known(v)) => Some(Some(v.clone())),
        Some(Value::Unknown) => None,
        None => Some(None),
    }
}

fn matching_brace(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, &c) in chars.iter().enumerate().skip(open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}
