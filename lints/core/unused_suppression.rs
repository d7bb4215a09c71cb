//! A `# docklint ignore=` comment that silences nothing.

use crate::fix::{Edit, Fix};
use crate::rule::{Ctx, FixAvailability, Meta, Phase, Rule, Severity};
use crate::suppress::{Origin, Suppression};

pub struct UnusedSuppression;

static META: Meta = Meta {
    name: "unused-suppression",
    family: "core",
    severity: Severity::Warning,
    fix: FixAvailability::Always,
    aliases: &[],
    doc: include_str!("unused_suppression.md"),
};

impl Rule for UnusedSuppression {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn phase(&self) -> Phase {
        Phase::AfterSuppressions
    }

    fn check(&self, cx: &mut Ctx) {
        let Some(suppressions) = cx.suppressions else {
            return;
        };
        let ours: Vec<&Suppression> = suppressions
            .items
            .iter()
            .filter(|s| s.origin == Origin::Docklint)
            .collect();
        // Names per comment, counted once (not per name: a file of n comments stays linear).
        let mut names_per_comment: std::collections::HashMap<(usize, usize), usize> =
            Default::default();
        for s in &ours {
            *names_per_comment
                .entry((s.comment_span.start, s.comment_span.end))
                .or_default() += 1;
        }
        for s in &ours {
            let message = if s.rules.is_empty() {
                format!("`{}` is not a docklint rule or family", s.name)
            } else if s.used || !all_active(cx, s) {
                // A rule the configuration turns off (or whose strategy is not in use)
                // cannot be judged here.
                continue;
            } else if s.scope.is_none() {
                format!(
                    "`{}` is suppressed in this file but reports nothing",
                    s.name
                )
            } else {
                format!("`{}` reports nothing on the next instruction", s.name)
            };
            let names_in_comment = names_per_comment[&(s.comment_span.start, s.comment_span.end)];
            let edit = removal(&cx.file.text, s, names_in_comment);
            cx.report(s.name_span.clone(), message)
                .help("remove it, so that suppressions keep meaning something")
                .fix(Fix::safe(
                    format!("Remove `{}` from the suppression", s.name),
                    vec![edit],
                ));
        }
    }
}

fn all_active(cx: &Ctx, s: &Suppression) -> bool {
    s.rules.iter().all(|r| {
        crate::lints::find(r).is_some_and(|rule| crate::rule::is_active(rule, cx.settings))
    })
}

/// Removes the name from its list, or the whole comment line when it is the only name.
fn removal(text: &str, s: &Suppression, names_in_comment: usize) -> Edit {
    if names_in_comment <= 1 {
        let end = s.comment_span.end;
        let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
        // The first line starts after the BOM, which stays.
        let line_start = text[..s.comment_span.start]
            .rfind('\n')
            .map_or(crate::source::bom_len(text), |i| i + 1);
        return Edit::delete(line_start..line_end);
    }
    let after = &text[s.name_span.end..s.comment_span.end];
    if after.trim_start().starts_with(',') {
        let skipped = after.len() - after.trim_start_matches([',', ' ']).len();
        return Edit::delete(s.name_span.start..s.name_span.end + skipped);
    }
    let before = &text[s.comment_span.start..s.name_span.start];
    let skipped = before.len() - before.trim_end_matches([',', ' ']).len();
    Edit::delete(s.name_span.start - skipped..s.name_span.end)
}
