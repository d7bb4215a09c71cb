//! Whether two consecutive RUNs can become one.
//!
//! Each RUN is a fresh shell. Joined as `first && second`, the second part would run in the
//! shell the first one leaves: its directory, variables, options, functions, traps and
//! command hash table; with the jobs it left running; after it may have replaced the shell
//! binary itself; and with `-e` no longer stopping the first part, which now sits left of
//! `&&`. The join is equivalent only when the model proves each of those the same:
//! - shell state the first RUN leaves is kept apart by running it in a subshell,
//!   `(first) && second` (which also keeps its command hash table);
//! - everything else is a doubt, and a doubt makes the merge unsafe.

use super::effects::Effects;
use super::{MountKind, Run, ShellKind};
use crate::source::Span;
use crate::syntax::dockerfile::{Command, Dockerfile, Instruction};
use crate::syntax::shell::{Script, Shape};

/// Something that may make the joined RUN behave differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doubt {
    pub span: Span,
    pub reason: String,
}

/// How two RUNs join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Join {
    /// `first && second` (or `(first) && second` when `subshell`), with what may still differ
    /// (empty: equivalent).
    Possible {
        /// State the first RUN leaves in its shell, kept in a subshell.
        subshell: Vec<Doubt>,
        doubts: Vec<Doubt>,
        /// The first RUN leaves nothing a command after the pair could notice: no shell
        /// state, job, replaced shell, or program on PATH found before a new one was
        /// installed. Joined, the pair means to what follows what the second RUN meant
        /// alone, so a join of the second RUN with the next one still holds.
        transparent: bool,
    },
    /// The two cannot be joined as text (why).
    Impossible(String),
}

/// Whether two RUNs have the same builder flags: the same mounts (however their options
/// are spelled and ordered), the same network and security settings.
pub fn same_flags(df: &Dockerfile, a: &Run, b: &Run) -> bool {
    fn others(i: &Instruction) -> Vec<String> {
        let mut v: Vec<String> = i
            .flags
            .iter()
            .filter(|f| f.name != "mount")
            .map(|f| f.buildkit_string())
            .collect();
        v.sort();
        v
    }
    fn mounts(i: &Instruction, r: &Run) -> (usize, Vec<String>) {
        let mut v: Vec<String> = r
            .mounts
            .iter()
            .map(|m| {
                let options: Vec<_> = m.options.iter().filter(|(k, _)| *k != "type").collect();
                format!("{:?} {options:?}", m.kind)
            })
            .collect();
        v.sort();
        (i.flags_named("mount").count(), v)
    }
    let (ia, ib) = (
        &df.instructions[a.instruction],
        &df.instructions[b.instruction],
    );
    // Most RUNs have no flags: nothing to compare (a generated file has millions of pairs).
    if ia.flags.is_empty() && ib.flags.is_empty() {
        return true;
    }
    others(ia) == others(ib) && mounts(ia, a) == mounts(ib, b)
}

/// How `first` and `second` (consecutive RUNs with the same flags) join.
pub fn join(df: &Dockerfile, first: &Run, second: &Run) -> Join {
    let a = &df.instructions[first.instruction];
    let b = &df.instructions[second.instruction];
    let (Some(Command::Shell(a_body)), Some(Command::Shell(b_body))) = (a.command(), b.command())
    else {
        return Join::Impossible("exec-form RUNs cannot be joined with `&&`".into());
    };
    // A heredoc script takes the second RUN at its end; any other heredoc is a file or stdin.
    let a_heredoc = a.heredoc_script().filter(|h| !h.chomp);
    if !b.heredocs.is_empty() || (!a.heredocs.is_empty() && a_heredoc.is_none()) {
        return Join::Impossible(
            "RUNs with heredocs are not joined (only a first RUN that is one heredoc script)"
                .into(),
        );
    }
    if df.escape != '\\' {
        return Join::Impossible("the file's escape character is not `\\`".into());
    }
    if first.shell.kind != ShellKind::Posix || second.shell.kind != ShellKind::Posix {
        return Join::Impossible("the SHELL is not sh or bash".into());
    }
    let (Some(a_script), Some(b_script)) = (&first.script, &second.script) else {
        return Join::Impossible("the shell text was not read".into());
    };
    if a_script.fallback.is_some() || b_script.fallback.is_some() {
        return Join::Impossible("the shell text was not fully understood".into());
    }
    let (Some(a_shape), Some(b_shape)) = (first.shape(df), second.shape(df)) else {
        return Join::Impossible("a quote or group does not close".into());
    };
    // The second part goes after the last line of a heredoc script, after all of a RUN line.
    let a_end = match a_heredoc {
        // A heredoc inside the script would lose its terminator line.
        Some(_) if a_body.as_str().contains("<<") => None,
        Some(_) => last_line(a_body.as_str()).and_then(Shape::of),
        None => Some(a_shape),
    };
    if a_end.is_none_or(|shape| shape.comment || shape.trailing_operator) {
        return Join::Impossible("the first RUN ends in a comment or an operator".into());
    }
    if !b_shape.and_list_only {
        // `first && x; y` would run y even when first fails.
        return Join::Impossible(
            "the second RUN is more than one `&&` chain: joined, its later commands would run even when the first RUN fails"
                .into(),
        );
    }

    let whole = |run: &Run| df.instructions[run.instruction].span.clone();
    let ea = &first.effects;
    let eb = &second.effects;
    let subshell: Vec<Doubt> = ea
        .leaks
        .iter()
        .map(|l| Doubt {
            span: l.span.clone(),
            reason: format!("the first RUN {} (kept in a subshell)", l.what),
        })
        .collect();
    let mut doubts = Vec::new();
    let mut doubt = |span: Span, reason: String| doubts.push(Doubt { span, reason });

    if let Some(job) = ea.background.first() {
        doubt(
            job.clone(),
            "the first RUN starts a job in the background: it would still run while the second part runs".into(),
        );
    }
    if let Some(o) = ea.opaque.first() {
        doubt(
            o.span.clone(),
            format!(
                "`{}` runs code docklint cannot see: it may leave a process running or replace a program the second part uses",
                o.name
            ),
        );
    }
    if ea.opaque.is_empty() {
        if let Some(span) = ea.rewrites_shell.first() {
            if !interpreter_independent(b_script, eb) {
                doubt(
                    span.clone(),
                    "the first RUN may replace the shell binary: the second RUN would run in the new shell, joined it runs in the old one".into(),
                );
            }
        }
    }
    let errexit = first.shell.errexit || sets_errexit(a_script, ea);
    if errexit && (a_script.tail_compound || !subshell.is_empty()) {
        doubt(
            whole(first),
            "with `-e`, a failure inside a compound command or subshell left of `&&` no longer stops the shell: a build that failed could pass".into(),
        );
    }
    // A program the first RUN found on PATH and then may have installed again, earlier on
    // PATH: the joined shell keeps the path it found first.
    if subshell.is_empty() && ea.opaque.is_empty() {
        let stale = stale_lookups(ea, &ea.installs_on_path)
            .find(|(name, _)| eb.looked_up.iter().any(|(n, _)| n == *name));
        if let Some((name, install)) = stale {
            doubt(
                install.clone(),
                format!(
                    "the first RUN may install a new `{name}` earlier on PATH after running it, and its shell keeps the path it found first"
                ),
            );
        }
    }
    for mount in &first.mounts {
        let writable_bind = mount.kind == MountKind::Bind
            && (mount.option("rw").is_some() || mount.option("readwrite").is_some());
        if mount.kind == MountKind::Tmpfs || writable_bind {
            doubt(
                mount.span.clone(),
                "each RUN gets this mount fresh: joined, the second part sees what the first wrote there".into(),
            );
        }
    }
    // Each of these parameters starts with `$`: most bodies have none, and one search
    // for it spares eight.
    let reads_parameter = b_body.as_str().contains('$');
    if let Some(parameter) = [
        "$_",
        "${_}",
        "$LINENO",
        "${LINENO}",
        "$SECONDS",
        "$!",
        "${!}",
        "$BASH_COMMAND",
    ]
    .iter()
    .find(|p| reads_parameter && b_body.as_str().contains(**p))
    {
        doubt(
            whole(second),
            format!("the second RUN reads `{parameter}`, which depends on what ran before it in the shell"),
        );
    }
    // What `first && second` leaves for a third RUN is what `second` leaves, when `first`
    // changed nothing the shell or its lookups carry: a join reasoned on `second` alone
    // holds for the pair.
    let transparent = subshell.is_empty()
        && doubts.is_empty()
        && ea.rewrites_shell.is_empty()
        && stale_lookups(ea, &ea.installs_on_path)
            .chain(stale_lookups(ea, &eb.installs_on_path))
            .next()
            .is_none();
    Join::Possible {
        subshell,
        doubts,
        transparent,
    }
}

/// The programs `effects`' shell looked up (and hashed) before one of `installs` may have put
/// a new one of that name on PATH, with the install: a later command of the same shell
/// still runs the one it found first.
fn stale_lookups<'e>(
    effects: &'e Effects,
    installs: &'e [(Span, Option<String>)],
) -> impl Iterator<Item = (&'e str, &'e Span)> {
    effects.looked_up.iter().filter_map(|(name, at)| {
        let (install, _) = installs.iter().find(|(span, installed)| {
            span.start >= *at && installed.as_ref().is_none_or(|n| n == name)
        })?;
        Some((name.as_str(), install))
    })
}

/// The last line of a script, when it ends a command (it does not continue with `\\`).
fn last_line(script: &str) -> Option<&str> {
    let script = script.trim_end_matches(['\n', '\r']);
    let line = script.rsplit('\n').next().unwrap_or(script);
    (!line.trim().is_empty() && !line.trim_end().ends_with('\\')).then_some(line)
}

/// `set -e` or `set -o errexit` in the RUN's shell.
fn sets_errexit(script: &Script, effects: &Effects) -> bool {
    effects.steps.iter().any(|step| {
        step.name == "set" && {
            let args = step.args(script);
            args.iter().enumerate().any(|(i, w)| {
                let v = w.value.as_str();
                (v.starts_with('-') && !v.starts_with("--") && v.contains('e'))
                    || (v == "-o" && args.get(i + 1).is_some_and(|n| n.value == "errexit"))
            })
        }
    })
}

/// Whether the second RUN means the same in any POSIX shell: external programs and portable
/// builtins, no bash-only syntax.
fn interpreter_independent(script: &Script, effects: &Effects) -> bool {
    let portable_builtin = |name: &str, args: &[crate::syntax::shell::Word]| match name {
        "true" | "false" | ":" | "test" | "[" => true,
        // dash's echo reads backslash escapes, bash's does not.
        "echo" | "printf" => args
            .iter()
            .all(|a| !a.value.contains('\\') && !a.value.starts_with('-')),
        _ => false,
    };
    let steps_portable = effects.steps.iter().all(|step| {
        let args = step.args(script);
        super::commands::builtin(&step.name, &[]).is_none() || portable_builtin(&step.name, args)
    });
    let words_portable = script.commands.iter().all(|c| {
        std::iter::once(&c.program)
            .chain(&c.args)
            .chain(&c.env)
            .chain(c.redirects.iter().map(|r| &r.target))
            .all(|w| portable_word(&w.raw))
    }) && script.commands.iter().all(|c| {
        c.redirects
            .iter()
            .all(|r| r.kind != crate::syntax::shell::RedirectKind::OutputAndError)
    });
    steps_portable && words_portable && script.states.is_empty()
}

/// A word without bash-only expansions: `$'…'`, brace expansion, `${x//…}`-style operators,
/// arrays, process substitution.
fn portable_word(raw: &str) -> bool {
    if raw.contains("$'") || raw.contains("<(") || raw.contains(">(") || raw.contains("=(") {
        return false;
    }
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\'' {
            i += raw[i + 1..].find('\'').map_or(b.len(), |k| k + 2);
            continue;
        }
        if b[i] == b'{' {
            let braced_parameter = i > 0 && b[i - 1] == b'$';
            let end = raw[i..].find('}').map_or(b.len(), |k| i + k);
            let inner = &raw[(i + 1).min(end)..end];
            if braced_parameter {
                let name_len = inner
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(inner.len());
                let operator = &inner[name_len..];
                let posix = ["", ":-", "-", ":=", "=", ":+", "+", ":?", "?"]
                    .iter()
                    .any(|op| {
                        if op.is_empty() {
                            operator.is_empty()
                        } else {
                            operator.starts_with(op)
                        }
                    });
                if name_len == 0 || !posix {
                    return false;
                }
            } else if inner.contains(',') || inner.contains("..") {
                return false;
            }
            i = end;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_words() {
        assert!(portable_word("\"${HOME:-/root}/x\""));
        assert!(portable_word("'{a,b}'"));
        assert!(!portable_word("{a,b}"));
        assert!(!portable_word("${x//a/b}"));
        assert!(!portable_word("$'\\n'"));
        assert!(!portable_word("file{1..3}"));
    }
}
