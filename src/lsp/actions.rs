//! Code actions and hover, from the diagnostics of a document's current text.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Hover, HoverContents, MarkupContent,
    MarkupKind, Position, Range, TextEdit, Uri, WorkspaceEdit,
};

use super::convert;
use super::document::{Document, Kind};
use crate::config::Settings;
use crate::fix::Applicability;
use crate::rule::Diagnostic;
use crate::source::SourceFile;
use crate::syntax::dockerfile;

/// The kind of the action that applies every safe fix, as `--fix` does.
pub const FIX_ALL: &str = "source.fixAll.docklint";

/// Quick fixes for the diagnostics the range touches (each fix, and a suppression comment
/// for each rule), then the fix-all action, as far as `only` asks for them.
pub fn code_actions(
    uri: &Uri,
    doc: &Document,
    settings: Option<&Settings>,
    range: Range,
    only: Option<&[CodeActionKind]>,
) -> Vec<CodeActionOrCommand> {
    let Some(linted) = &doc.linted else {
        return Vec::new();
    };
    let wanted = |kind: &CodeActionKind| {
        only.is_none_or(|only| {
            only.iter().any(|o| {
                kind.as_str() == o.as_str()
                    || kind
                        .as_str()
                        .strip_prefix(o.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            })
        })
    };
    let file = &doc.file;
    let mut actions = Vec::new();
    if wanted(&CodeActionKind::QUICKFIX) {
        let touched: Vec<&Diagnostic> = linted
            .found
            .iter()
            .filter(|d| touches(convert::range(file, &d.span), range))
            .collect();
        for d in &touched {
            if let Some(fix) = &d.fix {
                let title = fix.offered_title();
                let edits = fix
                    .edits
                    .iter()
                    .map(|e| convert::text_edit(file, e))
                    .collect();
                actions.push(action(
                    uri,
                    title,
                    CodeActionKind::QUICKFIX,
                    edits,
                    Some(convert::diagnostic(file, d)),
                    fix.applicability == Applicability::Safe,
                ));
            }
        }
        if doc.kind == Kind::Dockerfile {
            let df = dockerfile::parse(&file.text);
            let mut offered = Vec::new();
            for d in &touched {
                let Some(edit) = crate::suppress::ignore_edit(file, &df, d.span.start, d.rule)
                else {
                    continue;
                };
                if offered.contains(&(d.rule, edit.span.start)) {
                    continue;
                }
                offered.push((d.rule, edit.span.start));
                actions.push(action(
                    uri,
                    format!("Ignore `{}` on this instruction", d.rule),
                    CodeActionKind::QUICKFIX,
                    vec![convert::text_edit(file, &edit)],
                    Some(convert::diagnostic(file, d)),
                    false,
                ));
            }
        }
    }
    let fix_all = CodeActionKind::from(FIX_ALL);
    if wanted(&fix_all) && doc.kind == Kind::Dockerfile {
        if let Some(edit) = settings.and_then(|s| fix_all_edit(file, s)) {
            actions.push(action(
                uri,
                "Fix all safely fixable docklint problems".into(),
                fix_all,
                vec![edit],
                None,
                false,
            ));
        }
    }
    actions
}

/// What `--fix` makes of the text, as one edit of the part that changes; none when
/// nothing changes.
fn fix_all_edit(file: &SourceFile, settings: &Settings) -> Option<TextEdit> {
    let outcome = crate::fix(file, settings, Applicability::Safe);
    let (old, new) = (file.text.as_str(), outcome.text.as_str());
    if old == new {
        return None;
    }
    let prefix = old
        .char_indices()
        .zip(new.chars())
        .find(|((_, x), y)| x != y)
        .map_or(old.len().min(new.len()), |((i, _), _)| i);
    let suffix: usize = old[prefix..]
        .chars()
        .rev()
        .zip(new[prefix..].chars().rev())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    let edit =
        crate::fix::Edit::replace(prefix..old.len() - suffix, &new[prefix..new.len() - suffix]);
    Some(convert::text_edit(file, &edit))
}

fn action(
    uri: &Uri,
    title: String,
    kind: CodeActionKind,
    edits: Vec<TextEdit>,
    diagnostic: Option<lsp_types::Diagnostic>,
    preferred: bool,
) -> CodeActionOrCommand {
    CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(kind),
        diagnostics: diagnostic.map(|d| vec![d]),
        edit: Some(WorkspaceEdit {
            changes: Some(HashMap::from([(uri.clone(), edits)])),
            ..Default::default()
        }),
        is_preferred: preferred.then_some(true),
        ..Default::default()
    })
}

/// Whether a diagnostic's range and a requested range meet (an empty request range at the
/// cursor touches the diagnostic it is in or at either end of).
fn touches(d: Range, r: Range) -> bool {
    d.start <= r.end && r.start <= d.end
}

/// The documentation of the rules whose diagnostics are under the cursor.
pub fn hover(doc: &Document, at: Position) -> Option<Hover> {
    let linted = doc.linted.as_ref()?;
    let file = &doc.file;
    let here: Vec<(&Diagnostic, Range)> = linted
        .found
        .iter()
        .map(|d| (d, convert::range(file, &d.span)))
        .filter(|(_, r)| r.start <= at && at <= r.end)
        .collect();
    let range = here.first().map(|(_, r)| *r)?;
    let mut value = String::new();
    for (d, _) in &here {
        if !value.is_empty() {
            value.push_str("\n---\n\n");
        }
        value.push_str(&format!("**{}**: {}\n\n", d.rule, d.message));
        if let Some(rule) = crate::lints::find(d.rule) {
            value.push_str(&crate::emit::explain::render(rule.meta()));
        }
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: Some(range),
    })
}
