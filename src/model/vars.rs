//! Variables in scope (ARG and ENV), BuildKit's word expansion, and the shell's expansion of
//! the parameter references the model can follow.
//!
//! Every instruction of a stage sees the stage's variables as they were when it ran, and a
//! RUN keeps that view for the rules. A stage's ENV and ARG values are kept once, in the
//! order they were set, and a view is that history read up to a point: a file of thousands
//! of ENV lines between RUNs stays linear in memory (a persistent map copied a path of
//! nodes for each ENV after a RUN, a kilobyte each).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use rpds::{RedBlackTreeMapSync, RedBlackTreeSetSync};
use smallvec::SmallVec;

use crate::syntax::dockerfile::KeyValue;

/// A variable's value: known, or declared with a value the file cannot tell (an ARG
/// without default, or one built from unknown variables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Known(String),
    Unknown,
}

/// Variables by name: a stage's history read at one point ([`Scope`]), with names set or
/// removed over it (a shell's assignments and `unset`, a HOME from the user's account).
/// Cloning is `O(1)`; setting a name copies a path of the small map over the history.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    stage: Option<StageView>,
    /// Names set over `stage` (with no stage, every name); `None`: removed.
    map: RedBlackTreeMapSync<String, Option<Value>>,
}

impl Vars {
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self.map.get(name) {
            Some(over) => over.as_ref(),
            None => self.stage.as_ref()?.get(name),
        }
    }

    /// The value if it is known.
    pub fn known(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::Known(v) => Some(v),
            Value::Unknown => None,
        }
    }

    /// The same view and maps, not a copy or an equal one: O(1).
    pub fn same_as(&self, other: &Vars) -> bool {
        let same_stage = match (&self.stage, &other.stage) {
            (Some(a), Some(b)) => a.same_as(b),
            (None, None) => true,
            _ => false,
        };
        same_stage && self.map.ptr_eq(&other.map)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn set(&mut self, name: &str, value: Value) {
        self.map.insert_mut(name.to_string(), Some(value));
    }

    pub fn remove(&mut self, name: &str) {
        if self.stage.as_ref().is_some_and(|s| s.get(name).is_some()) {
            self.map.insert_mut(name.to_string(), None);
        } else if self.map.contains_key(name) {
            self.map.remove_mut(name);
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

/// A stage's history read before position `at`.
#[derive(Debug, Clone)]
struct StageView {
    history: Arc<History>,
    at: u32,
}

impl StageView {
    /// ENV over ARG: ENV wins over an ARG of the same name whatever their order.
    fn get(&self, name: &str) -> Option<&Value> {
        self.lookup(name, true)
    }

    /// ENV only.
    fn env(&self, name: &str) -> Option<&Value> {
        self.lookup(name, false)
    }

    fn lookup(&self, name: &str, with_args: bool) -> Option<&Value> {
        let history = &*self.history;
        let (env, arg) = history.positions(name, self.at);
        match (env, arg) {
            (Some(at), _) => Some(history.value(at)),
            (None, arg) => history
                .inherited
                .get(name)
                .or_else(|| arg.filter(|_| with_args).map(|at| history.value(at))),
        }
    }

    fn same_as(&self, other: &StageView) -> bool {
        Arc::ptr_eq(&self.history, &other.history) && self.at == other.at
    }
}

/// What a stage's ENV and ARG instructions set, in order. Only the stage's current scope
/// appends to it; views read the values set before their position, which never change.
#[derive(Debug, Default)]
struct History {
    /// The ENV the stage started with (its image's, or the stage it is built on).
    inherited: Vars,
    /// The file's values, by position, shared by its stages.
    values: Arc<ValueLog>,
    /// Where each name was set, as ENV and as ARG, in increasing positions.
    index: RwLock<HashMap<String, Positions>>,
    /// The ENV at the end of the stage (and that end), for the stages built on it.
    last_env: OnceLock<(u32, Box<Vars>)>,
}

#[derive(Debug, Default)]
struct Positions {
    env: SmallVec<[u32; 2]>,
    arg: SmallVec<[u32; 2]>,
}

impl History {
    /// The last positions before `at` where `name` was set as ENV and as ARG.
    fn positions(&self, name: &str, at: u32) -> (Option<u32>, Option<u32>) {
        let index = self.index.read().unwrap_or_else(|e| e.into_inner());
        let Some(positions) = index.get(name) else {
            return (None, None);
        };
        (
            last_before(&positions.env, at),
            last_before(&positions.arg, at),
        )
    }

    fn value(&self, at: u32) -> &Value {
        self.values.values.get(at).unwrap_or(&UNKNOWN)
    }

    /// Sets `name`; gives the value's position.
    fn append(&self, name: &str, value: Value, is_arg: bool) -> u32 {
        let at = self.values.push(value);
        let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
        let positions = match index.get_mut(name) {
            Some(positions) => positions,
            None => index.entry(name.to_string()).or_default(),
        };
        match is_arg {
            true => positions.arg.push(at),
            false => positions.env.push(at),
        }
        at
    }

    /// The stage's ENV before `at` as one map: a chain of stages, each built on the one
    /// before, reads one map instead of walking the chain. Made once for the stage's end,
    /// where the stages built on it start.
    fn env_before(&self, at: u32) -> Vars {
        let make = || {
            let mut env = self.inherited.clone();
            let index = self.index.read().unwrap_or_else(|e| e.into_inner());
            let mut names: Vec<(&String, &Positions)> = index.iter().collect();
            // Inserted in one order whatever the hash map's.
            names.sort_unstable_by_key(|(name, _)| *name);
            for (name, positions) in names {
                if let Some(last) = last_before(&positions.env, at) {
                    env.set(name, self.value(last).clone());
                }
            }
            env
        };
        match self.last_env.get_or_init(|| (at, Box::new(make()))) {
            (end, env) if *end == at => env.as_ref().clone(),
            _ => make(),
        }
    }
}

/// The last of increasing `positions` before `at`.
fn last_before(positions: &[u32], at: u32) -> Option<u32> {
    let end = positions.partition_point(|&p| p < at);
    end.checked_sub(1).map(|i| positions[i])
}

static UNKNOWN: Value = Value::Unknown;

/// The values a file's ENV and ARG instructions set, in file order: a view of a stage reads
/// those before its position. They keep their address while later ones are appended, so a
/// view lends them out without holding a lock.
#[derive(Debug, Default)]
pub struct ValueLog {
    values: Log<Value>,
    len: AtomicU32,
}

impl ValueLog {
    /// Appends `value`; gives its position.
    fn push(&self, value: Value) -> u32 {
        let at = self.len.fetch_add(1, Ordering::Relaxed);
        self.values.push(at, value);
        at
    }

    /// Values set so far.
    fn len(&self) -> u32 {
        self.len.load(Ordering::Relaxed)
    }
}

/// A list that only grows, whose items keep their address: slots in chunks that double in
/// size, each slot written once. Nothing is allocated before the first item.
struct Log<T> {
    chunks: OnceLock<Box<[Chunk<T>; LOG_CHUNKS]>>,
}

/// Slots, allocated when the first is written.
type Chunk<T> = OnceLock<Box<[OnceLock<T>]>>;

/// Chunk `k` holds `LOG_FIRST << k` slots: 26 chunks hold 2^28 values, more than a file
/// of a gigabyte can set.
const LOG_CHUNKS: usize = 26;
const LOG_FIRST: usize = 4;

impl<T> Default for Log<T> {
    fn default() -> Self {
        Log {
            chunks: OnceLock::new(),
        }
    }
}

impl<T> std::fmt::Debug for Log<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Log")
    }
}

impl<T> Log<T> {
    /// The chunk of slot `at`, and the slot in it: chunk `k` starts at
    /// `LOG_FIRST * (2^k - 1)`.
    fn place(at: u32) -> (usize, usize) {
        let k = (at as usize / LOG_FIRST + 1).ilog2() as usize;
        (k, at as usize - LOG_FIRST * ((1 << k) - 1))
    }

    fn push(&self, at: u32, value: T) {
        let (k, offset) = Log::<T>::place(at);
        let chunks = self
            .chunks
            .get_or_init(|| Box::new(std::array::from_fn(|_| OnceLock::new())));
        let slots = chunks.get(k).map(|chunk| {
            chunk.get_or_init(|| (0..LOG_FIRST << k).map(|_| OnceLock::new()).collect())
        });
        if let Some(slot) = slots.and_then(|slots| slots.get(offset)) {
            let _ = slot.set(value);
        }
    }

    fn get(&self, at: u32) -> Option<&T> {
        let (k, offset) = Log::<T>::place(at);
        self.chunks.get()?.get(k)?.get()?.get(offset)?.get()
    }
}

/// A stage's variables: ENV (inherited by stages built on it) and ARG (per stage), with ENV
/// winning over an ARG of the same name whatever their order.
#[derive(Debug, Clone)]
pub struct Scope {
    /// A view of the stage's history (never without one), up to the values set so far.
    visible: Vars,
}

impl Default for Scope {
    fn default() -> Scope {
        Scope::from_image(Vars::default(), &Arc::default())
    }
}

impl Scope {
    /// A stage built on an image starts with the ENV the image is known to set. `values`
    /// is the file's, shared by its stages.
    pub fn from_image(env: Vars, values: &Arc<ValueLog>) -> Scope {
        let history = Arc::new(History {
            inherited: env,
            values: Arc::clone(values),
            ..History::default()
        });
        let at = values.len();
        Scope {
            visible: Vars {
                stage: Some(StageView { history, at }),
                ..Vars::default()
            },
        }
    }

    /// A stage built on another starts with its ENV (as it is at that stage's end) and no
    /// ARG.
    pub fn inheriting(parent: &Scope) -> Scope {
        match &parent.visible.stage {
            Some(stage) => {
                Scope::from_image(stage.history.env_before(stage.at), &stage.history.values)
            }
            None => Scope::default(),
        }
    }

    /// What an instruction sees: ENV over ARG (build args are environment variables of RUN
    /// commands too).
    pub fn visible(&self) -> &Vars {
        &self.visible
    }

    /// Whether ENV (the stage's, or what it inherited) sets `name`.
    pub fn is_env(&self, name: &str) -> bool {
        self.visible
            .stage
            .as_ref()
            .is_some_and(|stage| stage.env(name).is_some())
    }

    /// ENV pairs, each value expanded with what is in scope before it.
    pub fn set_env(&mut self, pairs: &[KeyValue], escape: char) {
        for pair in pairs {
            let raw = pair.value.as_ref().map_or("", |v| v.value.as_str());
            let value = expand(raw, &self.visible, escape).map_or(Value::Unknown, Value::Known);
            self.append(&pair.key.value, value, false);
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
            self.append(name, value, true);
        }
    }

    /// Appends to the stage's history: only the stage's current scope does (a RUN's copy
    /// is never changed).
    fn append(&mut self, name: &str, value: Value, is_arg: bool) {
        if let Some(stage) = &mut self.visible.stage {
            stage.at = stage.history.append(name, value, is_arg) + 1;
        }
    }

    /// Whether `name` is an ARG of this stage (and not shadowed by ENV).
    pub fn is_arg(&self, name: &str) -> bool {
        self.visible.contains(name) && !self.is_env(name)
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

    fn pair(key: &str, value: &str) -> KeyValue {
        use crate::syntax::dockerfile::Text;
        let text = |value: &str| Text {
            value: value.to_string(),
            span: 0..0,
        };
        KeyValue {
            key: text(key),
            value: Some(text(value)),
            span: 0..0,
        }
    }

    #[test]
    fn a_view_keeps_the_values_of_its_point_in_the_stage() {
        let known = |v: &str| Some(Value::Known(v.to_string()));
        let mut image = Vars::default();
        image.set("PATH", Value::Known("/bin".into()));
        let mut scope = Scope::from_image(image, &Arc::default());
        scope.declare_args(&[pair("A", "arg")], &Vars::default(), '\\');
        let before = scope.clone();
        scope.set_env(&[pair("A", "env"), pair("B", "$A:$PATH")], '\\');
        let after = scope.clone();
        scope.declare_args(
            &[pair("A", "later-arg"), pair("C", "c")],
            &Vars::default(),
            '\\',
        );
        scope.set_env(&[pair("B", "again")], '\\');
        // Each view reads the stage as it was; ENV wins over ARG whatever their order.
        assert_eq!(before.visible().get("A").cloned(), known("arg"));
        assert_eq!(before.visible().get("B"), None);
        assert!(before.is_arg("A"));
        assert_eq!(after.visible().get("B").cloned(), known("env:/bin"));
        assert_eq!(scope.visible().get("A").cloned(), known("env"));
        assert_eq!(scope.visible().get("B").cloned(), known("again"));
        assert_eq!(scope.visible().known("C"), Some("c"));
        assert!(!scope.is_arg("A") && scope.is_arg("C"));
        assert!(!scope.is_env("C") && scope.is_env("A") && scope.is_env("PATH"));
        // A stage built on it sees its last ENV, and none of its ARGs.
        let child = Scope::inheriting(&scope);
        assert_eq!(
            ["A", "B", "C", "PATH"].map(|n| child.visible().known(n)),
            [Some("env"), Some("again"), None, Some("/bin")]
        );
        // A shell's changes over a view leave the view as it was.
        let mut shell = after.visible().clone();
        shell.set("HOME", Value::Known("/root".into()));
        shell.remove("A");
        shell.remove("PATH");
        assert_eq!(
            ["A", "B", "HOME", "PATH"].map(|n| shell.known(n)),
            [None, Some("env:/bin"), Some("/root"), None]
        );
        shell.set("A", Value::Known("again".into()));
        assert_eq!(
            expand("$A:$B", &shell, '\\').as_deref(),
            Some("again:env:/bin")
        );
        assert_eq!(after.visible().known("A"), Some("env"));
        assert!(after.visible().same_as(&after.clone().visible().clone()));
        assert!(!after.visible().same_as(scope.visible()));
    }

    #[test]
    fn the_values_of_a_long_stage_keep_their_positions() {
        let mut scope = Scope::default();
        let mut views = Vec::new();
        for i in 0..5000 {
            scope.set_env(&[pair(&format!("V{}", i % 700), &i.to_string())], '\\');
            views.push(scope.clone());
        }
        for (i, view) in views.iter().enumerate().step_by(97) {
            let name = format!("V{}", i % 700);
            assert_eq!(view.visible().known(&name), Some(i.to_string().as_str()));
        }
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
