//! RUN instructions that follow each other with the same flags: one layer each, where one
//! would do.

use crate::fix::{Edit, Fix};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};
use crate::syntax::dockerfile::{Command, Instruction, Keyword};
use crate::syntax::shell;

pub struct ConsecutiveRun;

static META: Meta = Meta {
    name: "consecutive-run",
    family: "layers",
    severity: Severity::Info,
    fix: FixAvailability::Sometimes,
    aliases: &["DL3059"],
    doc: include_str!("consecutive_run.md"),
};

impl Rule for ConsecutiveRun {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        for stage in &cx.model.stages {
            let range = stage.instructions.clone();
            for i in range.start + 1..range.end {
                let (first, second) = (&cx.df.instructions[i - 1], &cx.df.instructions[i]);
                if first.keyword != Keyword::Run || second.keyword != Keyword::Run || !same_flags(first, second) {
                    continue;
                }
                let fix = (!stage.windows).then(|| merge(cx, i - 1, i)).flatten();
                let diagnostic = cx
                    .report(second.keyword_span.start..second.line_end, "this RUN follows another RUN with the same flags: two layers where one would do")
                    .label(first.keyword_span.clone(), "previous RUN")
                    .help("chain the commands with `&&` in one RUN; each RUN adds a layer and a cache step");
                if let Some(fix) = fix {
                    diagnostic.fix(fix);
                }
            }
        }
    }
}

fn same_flags(a: &Instruction, b: &Instruction) -> bool {
    let strings = |i: &Instruction| {
        let mut v: Vec<String> = i.flags.iter().map(|f| f.buildkit_string()).collect();
        v.sort();
        v
    };
    strings(a) == strings(b)
}

/// The fix joining `second` onto `first` with `&&`, when that runs exactly the same commands.
fn merge(cx: &Ctx, first: usize, second: usize) -> Option<Fix> {
    let (a, b) = (&cx.df.instructions[first], &cx.df.instructions[second]);
    let (Some(Command::Shell(a_body)), Some(Command::Shell(b_body))) = (a.command(), b.command()) else {
        return None;
    };
    if !a.heredocs.is_empty() || !b.heredocs.is_empty() || cx.df.escape != '\\' {
        return None;
    }
    let a_shape = ShellShape::of(a_body.as_str())?;
    let b_shape = ShellShape::of(b_body.as_str())?;
    // `A && B` must run B exactly when B would have run: B is an and-list, and A leaves no
    // shell state behind (directory, variables, options) and does not end in an operator.
    if a_shape.comment || a_shape.trailing_operator || b_shape.comment || !b_shape.and_list_only {
        return None;
    }
    let run = cx.model.run_at(first)?;
    if run.script.as_ref().is_none_or(|s| s.fallback.is_some()) || changes_shell_state(run.commands()) || a_shape.assignment {
        return None;
    }
    let between = a.span.end..b.args_text.to_file(0);
    let comments: Vec<&str> = cx
        .df
        .comments
        .iter()
        .filter(|c| between.start <= c.span.start && c.span.end <= between.end)
        .map(|c| &cx.file.text[c.span.clone()])
        .collect();
    if comments.iter().any(|c| is_pragma(c)) {
        return None;
    }
    let style = Style::of(&cx.file.text[a.span.clone()]);
    let newline = cx.file.newline();
    let mut joint = String::new();
    joint.push_str(if style.leading_operator { " \\" } else { " && \\" });
    joint.push_str(newline);
    for comment in comments {
        joint.push_str(&style.indent);
        joint.push_str(comment.trim());
        joint.push_str(newline);
    }
    joint.push_str(&style.indent);
    if style.leading_operator {
        joint.push_str("&& ");
    }
    Some(Fix::safe("Merge into the previous RUN", vec![Edit::replace(between, joint)]))
}

fn is_pragma(comment: &str) -> bool {
    let body = comment.trim_start_matches('#').trim_start();
    body.starts_with("docklint") || body.starts_with("hadolint") || body.starts_with("check=")
}

/// Commands whose effect outlives them in the shell: merging would carry it into the next RUN.
fn changes_shell_state(commands: &[shell::Command]) -> bool {
    const STATEFUL: &[&str] = &[
        "cd", "pushd", "popd", "export", "unset", "set", "source", ".", "umask", "alias", "unalias", "shopt", "ulimit", "trap",
        "readonly", "declare", "typeset", "local", "eval", "exec", "exit", "return", "shift", "hash",
    ];
    commands.iter().any(|c| STATEFUL.contains(&c.program.value.as_str()))
}

/// How the previous RUN continues its lines: indentation, and `&&` leading or trailing.
struct Style {
    indent: String,
    leading_operator: bool,
}

impl Style {
    fn of(run_text: &str) -> Style {
        let lines: Vec<&str> = run_text.lines().collect();
        match lines.last() {
            Some(last) if lines.len() > 1 => {
                let trimmed = last.trim_start();
                Style {
                    indent: last[..last.len() - trimmed.len()].to_string(),
                    leading_operator: trimmed.starts_with("&&") || trimmed.starts_with("||"),
                }
            }
            _ => Style { indent: "    ".into(), leading_operator: true },
        }
    }
}

/// What matters about a shell body at its top level (outside quotes, groups, substitutions).
#[derive(Debug, Default, PartialEq, Eq)]
struct ShellShape {
    /// Only `&&` (and pipes) join its commands.
    and_list_only: bool,
    /// It ends with `;`, `&`, `|`, `&&` or `||`.
    trailing_operator: bool,
    /// A `#` comment runs to the end of the body.
    comment: bool,
    /// A command is a bare `NAME=value` assignment.
    assignment: bool,
}

impl ShellShape {
    /// None when quotes or brackets do not balance.
    fn of(body: &str) -> Option<ShellShape> {
        let b = body.as_bytes();
        let mut shape = ShellShape { and_list_only: true, ..ShellShape::default() };
        let mut depth = 0usize;
        let mut i = 0;
        let mut word_start = true;
        let mut command_start = true;
        let mut last_operator = false;
        while i < b.len() {
            let c = b[i];
            let next = b.get(i + 1).copied();
            let at_top = depth == 0;
            match c {
                b'\\' => i += 1,
                b'\'' => i += body[i + 1..].find('\'')? + 1,
                b'"' => i = closing_double_quote(b, i + 1)?,
                b'`' => i += body[i + 1..].find('`')? + 1,
                b'$' if matches!(next, Some(b'(') | Some(b'{')) => {
                    depth += 1;
                    i += 1;
                }
                b'(' | b'{' if word_start => depth += 1,
                b')' | b'}' if depth > 0 => depth -= 1,
                b'#' if word_start && at_top => {
                    shape.comment = true;
                    break;
                }
                b'&' if next == Some(b'&') => {
                    i += 1;
                    last_operator = at_top;
                    command_start = true;
                }
                b'|' if next == Some(b'|') => {
                    shape.and_list_only &= !at_top;
                    last_operator = at_top;
                    command_start = true;
                    i += 1;
                }
                b'|' => {
                    last_operator = at_top;
                    command_start = true;
                }
                b';' | b'\n' | b'&' => {
                    let redirect = c == b'&' && (i > 0 && matches!(b[i - 1], b'>' | b'<') || next == Some(b'>'));
                    if !redirect {
                        shape.and_list_only &= !at_top;
                        last_operator = at_top && c != b'\n';
                        command_start = true;
                    }
                }
                c if c.is_ascii_whitespace() => {}
                _ => {
                    if command_start && at_top && is_assignment(&body[i..]) {
                        shape.assignment = true;
                    }
                    command_start = false;
                    last_operator = false;
                }
            }
            word_start = c.is_ascii_whitespace() || matches!(c, b';' | b'&' | b'|' | b'(' | b')');
            i += 1;
        }
        shape.trailing_operator = last_operator;
        (depth == 0).then_some(shape)
    }
}

fn closing_double_quote(b: &[u8], mut i: usize) -> Option<usize> {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// `NAME=...` with nothing else before the first blank: a variable set in the shell.
fn is_assignment(rest: &str) -> bool {
    let word = rest.split(|c: char| c.is_ascii_whitespace() || c == ';' || c == '&' || c == '|').next().unwrap_or("");
    let Some((name, _)) = word.split_once('=') else { return false };
    let followed_by_command = rest[word.len()..].trim_start().starts_with(|c: char| c.is_ascii_alphanumeric() || c == '/');
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !followed_by_command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let s = ShellShape::of("apt-get update && apt-get install -y curl | tee x").unwrap();
        assert!(s.and_list_only && !s.trailing_operator && !s.comment);
        assert!(!ShellShape::of("a; b").unwrap().and_list_only);
        assert!(!ShellShape::of("a || b").unwrap().and_list_only);
        assert!(ShellShape::of("(a; b) && c \"x;y\" $(d; e) 2>&1").unwrap().and_list_only);
        assert!(ShellShape::of("a &").unwrap().trailing_operator);
        assert!(ShellShape::of("a # b && c").unwrap().comment);
        assert!(!ShellShape::of("echo a#b").unwrap().comment);
        assert!(ShellShape::of("FOO=1 && make").unwrap().assignment);
        assert!(!ShellShape::of("FOO=1 make").unwrap().assignment);
        assert!(ShellShape::of("echo 'unbalanced").is_none());
    }
}
