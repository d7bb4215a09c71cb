//! A broad COPY or ADD (`.`, `*`) or bind mount of the whole context, no `.dockerignore`,
//! and the context holds what a build never wants: version-control data, host-installed
//! dependencies, caches, build outputs, secrets. The fix creates a `.dockerignore` from what
//! the context actually holds, sparing every path a COPY names.

use crate::context::reads;
use crate::fix::{Applicability, Fix};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};

pub struct MissingDockerignore;

static META: Meta = Meta {
    name: "missing-dockerignore",
    family: "context",
    severity: Severity::Warning,
    fix: FixAvailability::Always,
    aliases: &[],
    doc: include_str!("missing_dockerignore.md"),
};

impl Rule for MissingDockerignore {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        let Some(context) = cx.context else { return };
        if context.dockerignore().is_some() || reads::built_from_above(context, cx) {
            return;
        }
        let Some((broad, _)) = reads::sources(cx.model).find(|(s, _)| reads::is_broad(s)) else {
            return;
        };
        let unwanted = reads::unwanted(context, cx);
        let lines = reads::exclusion_lines(context, cx.model, &unwanted);
        if unwanted.is_empty() || lines.is_empty() {
            return;
        }
        let applicability = if reads::safe_to_exclude(&unwanted) {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        };
        let edit = context.append_to_dockerignore(&lines);
        let fix = Fix::on_file(
            format!(
                "Create {} with {}",
                context.display(&edit.path),
                lines.join(", ")
            ),
            applicability,
            edit,
        );
        let message = format!(
            "`{}` sends the whole build context and there is no .dockerignore: it sends {}",
            broad.written,
            reads::describe(context, &unwanted)
        );
        let mut help = "a .dockerignore keeps them out: smaller uploads, no secrets or host artefacts in layers, and a COPY that a commit or a cache file no longer invalidates".to_string();
        if let Some(needs) = reads::who_needs(&unwanted) {
            help.push_str(&format!(
                "; before excluding, check that nothing needs them: {needs}"
            ));
        }
        cx.report(broad.span.clone(), message).help(help).fix(fix);
    }
}
