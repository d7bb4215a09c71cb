//! The build sends what it never wants: version-control data, host-installed dependencies,
//! caches, build outputs, secrets — present in the context, reached by a COPY, ADD or bind
//! mount that does not name them, and not excluded by `.dockerignore`. The fix appends the
//! entries that keep them out (creating the file when a narrow COPY is all there is).
//! A broad COPY without any `.dockerignore` is `missing-dockerignore`'s; weights are
//! `model-weights-in-context`'s.

use crate::context::reads;
use crate::fix::{Applicability, Fix};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};

pub struct DockerignoreGaps;

static META: Meta = Meta {
    name: "dockerignore-gaps",
    family: "context",
    severity: Severity::Warning,
    fix: FixAvailability::Always,
    aliases: &[],
    doc: include_str!("dockerignore_gaps.md"),
};

impl Rule for DockerignoreGaps {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        let Some(context) = cx.sent_context() else {
            return;
        };
        let broad = reads::sources(cx.model).any(|(s, _)| reads::is_broad(s));
        if context.dockerignore().is_none() && (broad || reads::built_from_above(context, cx)) {
            return;
        }
        let unwanted = reads::unwanted(context, cx);
        let Some(first) = unwanted.first() else {
            return;
        };
        let lines = reads::exclusion_lines(context, cx.model, &unwanted);
        let Some(source) = reads::first_reaching(context, cx.model, &first.path) else {
            return;
        };
        if lines.is_empty() {
            return;
        }
        let applicability = if reads::safe_to_exclude(&unwanted) {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        };
        let edit = context.append_to_dockerignore(&lines);
        let file = context.display(&edit.path).to_string();
        let fix = Fix::on_file(
            format!("Add {} to {file}", lines.join(", ")),
            applicability,
            edit,
        );
        // Each source that sends one of them, in file order, for the message.
        let mut senders: Vec<&str> = Vec::new();
        for notable in &unwanted {
            if let Some(s) = reads::first_reaching(context, cx.model, &notable.path) {
                if !senders.contains(&s.written.as_str()) {
                    senders.push(&s.written);
                }
            }
        }
        let sends = match senders.as_slice() {
            [] | [_] => format!("`{}` sends", source.written),
            [rest @ .., last] => format!(
                "{} and `{last}` send",
                rest.iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let message = match context.dockerignore() {
            Some(_) => format!(
                "{sends} {}, which {file} does not exclude",
                reads::describe(context, &unwanted)
            ),
            None => format!(
                "{sends} {}, and there is no .dockerignore",
                reads::describe(context, &unwanted)
            ),
        };
        let help = match reads::who_needs(&unwanted) {
            Some(needs) => format!("exclude them in the .dockerignore once nothing needs them: {needs}"),
            None => "exclude them in the .dockerignore: tools make them again, and each change to them invalidates the COPY's cache".to_string(),
        };
        cx.report(source.span.clone(), message).help(help).fix(fix);
    }
}
