//! Variables in scope (ARG and ENV), BuildKit's word expansion, and the shell's expansion of
//! the parameter references the model can follow.
//!
//! Variables live in persistent maps: a RUN keeps a snapshot of its stage's scope at no cost,
//! and an ENV or ARG costs `O(log n)` time and a few small nodes, so a file of thousands of
//! them stays linear in time and memory.

use rpds::{RedBlackTreeMapSync, RedBlackTreeSetSync};

use crate::syntax::dockerfile::KeyValue;

/// A variable's value: known, or declared with a value the file cannot tell (an ARG
/// without default, or one built from unknown variables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Known(String),
    Unknown,
}

/// Variables by name: a map over another, so that ENV over ARG, and a RUN's HOME under
/// both, are views of the maps they come from. Setting a name copies a path of one map
/// (`O(log n)` small nodes), and a stage of thousands of ENV lines and RUNs keeps one such
/// path per change instead of one per view.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    map: RedBlackTreeMapSync<String, Value>,
    /// Names `map` does not hold.
    under: RedBlackTreeMapSync<String, Value>,
}

impl Vars {
    /// `over` where it holds a name, else `under`.
    fn layered(over: &Vars, under: &Vars) -> Vars {
        debug_assert!(over.under.is_empty() && under.under.is_empty());
        Vars {
            map: over.map.clone(),
            under: under.map.clone(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name).or_else(|| self.under.get(name))
    }

    /// The value if it is known.
    pub fn known(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::Known(v) => Some(v),
            Value::Unknown => None,
        }
    }

    /// The same maps, not a copy or an equal one: O(1).
    pub fn same_as(&self, other: &Vars) -> bool {
        self.map.ptr_eq(&other.map) && self.under.ptr_eq(&other.under)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name) || self.under.contains_key(name)
    }

    pub fn set(&mut self, name: &str, value: Value) {
        self.map.insert_mut(name.to_string(), value);
    }

    /// The same as `set`, but changes the lower map unless the upper one holds `name`: a
    /// RUN's HOME goes there, beside a stage's few ARGs, not into its many ENVs.
    pub fn set_low(&mut self, name: &str, value: Value) {
        if self.map.contains_key(name) {
            self.map.insert_mut(name.to_string(), value);
        } else {
            self.under.insert_mut(name.to_string(), value);
        }
    }

    pub fn remove(&mut self, name: &str) {
        if self.map.contains_key(name) {
            self.map.remove_mut(name);
        }
        if self.under.contains_key(name) {
            self.under.remove_mut(name);
        }
    }

    /// Global ARGs (before the first FROM), each default expanded with those before it.
    pub fn declare_global_args(&mut self, args: &[KeyValue]) {
        for arg in args {
            let value = match &arg.value {
                Some(v) => expand(&v.value, self, '\\').map_or(Value::Unknown, Value::Known),
                None => Value::Unknown,
            };
            self.set(&arg.key.value, value);
        }
    }
}

/// A stage's variables: ENV (inherited by stages built on it) and ARG (per stage), with ENV
/// winning over an ARG of the same name whatever their order.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    env: Vars,
    args: Vars,
    visible: Vars,
}

impl Scope {
    /// A stage built on an image starts with the ENV the image is known to set.
    pub fn from_image(env: Vars) -> Scope {
        Scope {
            visible: env.clone(),
            env,
            args: Vars::default(),
        }
    }

    /// A stage built on another starts with its ENV and no ARG.
    pub fn inheriting(parent: &Scope) -> Scope {
        Scope {
            env: parent.env.clone(),
            args: Vars::default(),
            visible: parent.env.clone(),
        }
    }

    /// What an instruction sees: ENV over ARG (build args are environment variables of RUN
    /// commands too).
    pub fn visible(&self) -> &Vars {
        &self.visible
    }

    pub fn env(&self) -> &Vars {
        &self.env
    }

    /// ENV pairs, each value expanded with what is in scope before it.
    pub fn set_env(&mut self, pairs: &[KeyValue], escape: char) {
        for pair in pairs {
            let raw = pair.value.as_ref().map_or("", |v| v.value.as_str());
            let value = expand(raw, &self.visible, escape).map_or(Value::Unknown, Value::Known);
            self.change(|scope| scope.env.set(&pair.key.value, value));
        }
    }

    /// A stage's ARGs: `ARG NAME` takes the global default if there is one.
    pub fn declare_args(&mut self, args: &[KeyValue], global: &Vars, escape: char) {
        for arg in args {
            let name = &arg.key.value;
            let value = match &arg.value {
                Some(v) => {
                    expand(&v.value, &self.visible, escape).map_or(Value::Unknown, Value::Known)
                }
                None => global.get(name).cloned().unwrap_or(Value::Unknown),
            };
            self.change(|scope| scope.args.set(name, value));
        }
    }

    /// Changes ENV or ARG, and the view of both: the view lets go of the maps first, so
    /// that a map no RUN holds is changed in place instead of copied.
    fn change(&mut self, change: impl FnOnce(&mut Scope)) {
        self.visible = Vars::default();
        change(self);
        self.visible = Vars::layered(&self.env, &self.args);
    }

    /// Whether `name` is an ARG of this stage (and not shadowed by ENV).
    pub fn is_arg(&self, name: &str) -> bool {
        self.args.contains(name) && !self.env.contains(name)
    }
}

/// The longest value an expansion gives; a longer one is unknown. Real files build values
/// of a few hundred bytes (a PATH, a package list), but a file can double a value line after
/// line (`ARG B=${A}${A}`): 30 such lines would make a value of gigabytes, and 40,000 lines
/// that each add to the last a quadratic sum of them.
pub const MAX_VALUE_LEN: usize = 4096;

/// Expands a Dockerfile word like BuildKit's shell lexer: quotes removed, escapes resolved,
/// `$VAR`, `${VAR}`, `${VAR:-x}`, `${VAR-x}`, `${VAR:+x}`, `${VAR+x}` substituted.
/// Undeclared variables are empty (as in BuildKit). `None` when a variable's value is unknown.
pub fn expand(word: &str, vars: &Vars, escape: char) -> Option<String> {
    Expander {
        vars,
        unknown: None,
        escape: Some(escape),
        dockerfile: true,
    }
    .run(word)
}

/// Expands the parameter references left in a shell word's value (quotes already removed):
/// `$VAR`, `${VAR}` and the `-`/`+` defaults. A variable `vars` does not hold may still come
/// from the base image, so it is unknown, as is every name in `unknown` (looked up as it is
/// met: a shell that made thousands of names unknown is not copied for each word). `None`
/// when a value is unknown or the word holds more than that (`$( )`, arithmetic, `${#…}`,
/// `${…%…}`, special parameters).
pub fn expand_shell_value(
    value: &str,
    vars: &Vars,
    unknown: &RedBlackTreeSetSync<String>,
) -> Option<String> {
    if value.contains("$(") || value.contains('`') || value.contains("$[") {
        return None;
    }
    Expander {
        vars,
        unknown: Some(unknown),
        escape: None,
        dockerfile: false,
    }
    .run(value)
}

struct Expander<'a> {
    vars: &'a Vars,
    /// Names that are unknown whatever `vars` holds.
    unknown: Option<&'a RedBlackTreeSetSync<String>>,
    /// The escape character, for Dockerfile words (shell values have none left).
    escape: Option<char>,
    /// A Dockerfile word (quotes are syntax, undeclared variables empty) or a shell value
    /// (quotes already gone, undeclared variables unknown).
    dockerfile: bool,
}

impl Expander<'_> {
    fn run(&self, word: &str) -> Option<String> {
        let mut out = String::with_capacity(word.len());
        let chars: Vec<char> = word.chars().collect();
        let mut i = 0;
        let mut in_double = false;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '\'' if self.dockerfile && !in_double => {
                    let end = chars[i + 1..]
                        .iter()
                        .position(|&c| c == '\'')
                        .map_or(chars.len(), |p| i + 1 + p);
                    out.extend(&chars[i + 1..end]);
                    i = end + 1;
                }
                '"' if self.dockerfile => {
                    in_double = !in_double;
                    i += 1;
                }
                c if Some(c) == self.escape && i + 1 < chars.len() => {
                    out.push(chars[i + 1]);
                    i += 2;
                }
                '$' => {
                    let (value, next) = self.variable(&chars, i + 1)?;
                    out.push_str(&value);
                    i = next;
                    if out.len() > MAX_VALUE_LEN {
                        return None;
                    }
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
    fn variable(&self, chars: &[char], start: usize) -> Option<(String, usize)> {
        let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
        if chars.get(start) == Some(&'{') {
            let close = matching_brace(chars, start)?;
            let inner: String = chars[start + 1..close].iter().collect();
            let name_len = inner.find(|c: char| !is_name(c)).unwrap_or(inner.len());
            let (name, modifier) = inner.split_at(name_len);
            if name.is_empty() {
                return None;
            }
            let value = self.lookup(name)?;
            let set = value.is_some();
            let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
            let result = match modifier {
                "" => value.unwrap_or_default(),
                m if m.starts_with(":-") => {
                    if non_empty {
                        value.unwrap_or_default()
                    } else {
                        self.run(&m[2..])?
                    }
                }
                m if m.starts_with('-') => {
                    if set {
                        value.unwrap_or_default()
                    } else {
                        self.run(&m[1..])?
                    }
                }
                m if m.starts_with(":+") => {
                    if non_empty {
                        self.run(&m[2..])?
                    } else {
                        String::new()
                    }
                }
                m if m.starts_with('+') => {
                    if set {
                        self.run(&m[1..])?
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
            // `$` before nothing, or a special parameter (`$$`, `$?`, `$1`) in shell text.
            return match chars.get(start) {
                Some(c) if !self.dockerfile && !c.is_whitespace() && *c != '/' => None,
                _ => Some(("$".to_string(), start)),
            };
        }
        let name: String = chars[start..start + name_len].iter().collect();
        if !self.dockerfile && name.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        Some((self.lookup(&name)?.unwrap_or_default(), start + name_len))
    }

    /// `Some(Some(v))` known, `Some(None)` undeclared (empty in a Dockerfile word), `None`
    /// unknown.
    fn lookup(&self, name: &str) -> Option<Option<String>> {
        if self.unknown.is_some_and(|unknown| unknown.contains(name)) {
            return None;
        }
        match self.vars.get(name) {
            Some(Value::Known(v)) => Some(Some(v.clone())),
            Some(Value::Unknown) => None,
            None if self.dockerfile => Some(None),
            None => None,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_read_as_one_map() {
        let known = |v: &str| Value::Known(v.to_string());
        let (mut env, mut args) = (Vars::default(), Vars::default());
        env.set("A", known("env"));
        args.set("A", known("arg"));
        args.set("B", known("arg"));
        let mut vars = Vars::layered(&env, &args);
        assert_eq!(vars.known("A"), Some("env"));
        vars.set_low("A", known("low"));
        vars.set_low("HOME", known("/root"));
        assert_eq!(
            ["A", "B", "HOME"].map(|n| vars.known(n)),
            [Some("low"), Some("arg"), Some("/root")]
        );
        vars.remove("B");
        assert!(!vars.contains("B"));
        assert_eq!(expand("$A:$B", &vars, '\\').as_deref(), Some("low:"));
        // The maps it was made of are unchanged.
        assert_eq!(
            (env.known("A"), args.known("B")),
            (Some("env"), Some("arg"))
        );
    }

    #[test]
    fn a_value_past_the_limit_is_unknown() {
        let mut vars = Vars::default();
        let half = MAX_VALUE_LEN / 2;
        vars.set("A", Value::Known("x".repeat(half)));
        let expanded = expand("${A}${A}", &vars, '\\');
        assert_eq!(expanded.map(|v| v.len()), Some(MAX_VALUE_LEN));
        vars.set("A", Value::Known("x".repeat(half + 1)));
        assert_eq!(expand("${A}${A}", &vars, '\\'), None);
        assert_eq!(expand_shell_value("$A$A", &vars, &Default::default()), None);
        // A long literal is not an expansion: it stays known.
        let literal = "y".repeat(2 * MAX_VALUE_LEN);
        assert_eq!(expand(&literal, &vars, '\\'), Some(literal));
    }
}
