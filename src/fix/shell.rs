//! Edits of shell text inside RUN instructions, shared by the rules that fix commands:
//! dropping a word, a JSON element of exec form, or a whole command with the operator that
//! joins it to the list.

use super::Edit;
use crate::model::effects::Undo;
use crate::source::Span;
use crate::syntax::shell::{Command, Process, Script};

/// Takes a removal the mount makes pointless back out of the RUN.
pub fn undo_edit(text: &str, script: &Script, undo: &Undo) -> Option<Edit> {
    match undo {
        Undo::Operand { word, .. } => Some(remove_word(text, word)),
        Undo::Command { command } => {
            let command = script.commands.get(*command)?;
            if !word_is_in_file(text, &command.program.span, &command.program.raw) {
                return None;
            }
            Some(remove_command(text, command))
        }
    }
}

/// Removes a command with the `&&` or `;` that joins it to the list, when it sits at the
/// top of the RUN's shell; anywhere else (a branch, a loop, a pipeline) it becomes `true`.
pub fn remove_command(text: &str, command: &Command) -> Edit {
    let span = command.span.clone();
    let top_level = command.context.process == Process::Main
        && !command.context.conditional
        && !command.context.in_function;
    if top_level && command.redirects.is_empty() && command.stdin_heredocs.is_empty() {
        // `a && rm x` or `a; rm x`: from the end of `a` to the end of the command.
        let before = skip_blanks_back(text, span.start);
        if let Some(op) = ["&&", ";"].iter().find(|op| text[..before].ends_with(**op)) {
            let start = skip_blanks_back(text, before - op.len());
            return Edit::delete(start..span.end);
        }
        // `rm x && b`: the command, its operator and what follows up to `b`.
        let after = skip_blanks_forward(text, span.end);
        if let Some(op) = ["&&", ";"]
            .iter()
            .find(|op| text[after..].starts_with(**op))
        {
            let end = skip_blanks_forward(text, after + op.len());
            return Edit::delete(span.start..end);
        }
    }
    Edit::replace(span, "true")
}

/// The offset before the blanks and line continuations that end at `at`.
fn skip_blanks_back(text: &str, mut at: usize) -> usize {
    loop {
        let rest = &text[..at];
        let trimmed = rest.trim_end_matches([' ', '\t']);
        let trimmed = trimmed
            .strip_suffix("\\\n")
            .or_else(|| trimmed.strip_suffix("\\\r\n"))
            .unwrap_or(trimmed);
        if trimmed.len() == at {
            return at;
        }
        at = trimmed.len();
    }
}

/// The offset after the blanks and line continuations that start at `at`.
fn skip_blanks_forward(text: &str, mut at: usize) -> usize {
    loop {
        let rest = &text[at..];
        let trimmed = rest.trim_start_matches([' ', '\t']);
        let trimmed = trimmed
            .strip_prefix("\\\n")
            .or_else(|| trimmed.strip_prefix("\\\r\n"))
            .unwrap_or(trimmed);
        let next = text.len() - trimmed.len();
        if next == at {
            return at;
        }
        at = next;
    }
}

/// The file holds the word's text at its span (not a word rebuilt from an escaped payload).
pub fn word_is_in_file(text: &str, span: &Span, raw: &str) -> bool {
    text.get(span.clone()) == Some(raw)
}

/// Deletes a shell word with the blank after it (or before it); a word alone on a
/// continued line goes with its line.
pub fn remove_word(text: &str, span: &Span) -> Edit {
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[span.end..]
        .find('\n')
        .map_or(text.len(), |i| span.end + i + 1);
    let before = &text[line_start..span.start];
    let after = text[span.end..line_end].trim_end_matches(['\n', '\r']);
    if before.trim().is_empty() && after.trim() == "\\" {
        return Edit::delete(line_start..line_end);
    }
    let following = after.len() - after.trim_start_matches([' ', '\t']).len();
    if following > 0 && !after.trim().is_empty() {
        return Edit::delete(span.start..span.end + following);
    }
    let preceding = before.len() - before.trim_end_matches([' ', '\t']).len();
    Edit::delete(span.start - preceding..span.end + following)
}

/// Deletes a JSON array element (`"--no-cache-dir", `) given the span of its content.
pub fn remove_json_element(text: &str, span: &Span) -> Option<Edit> {
    let open = span
        .start
        .checked_sub(1)
        .filter(|&i| text.as_bytes().get(i) == Some(&b'"'))?;
    let close = (text.as_bytes().get(span.end) == Some(&b'"')).then_some(span.end + 1)?;
    let after = &text[close..];
    let trimmed = after.trim_start();
    if let Some(rest) = trimmed.strip_prefix(',') {
        let end =
            close + (after.len() - trimmed.len()) + 1 + (rest.len() - rest.trim_start().len());
        return Some(Edit::delete(open..end));
    }
    let before = text[..open].trim_end();
    let comma = before.strip_suffix(',')?;
    Some(Edit::delete(comma.len()..close))
}
