//! A stage no final image needs: it is not the last stage nor a configured target, and no
//! stage they need is built FROM it, copies from it or mounts from it
//! (`Model::stages_needed`).

use crate::fix::{line_start, Edit, Fix};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};

pub struct UnusedStage;

static META: Meta = Meta {
    name: "unused-stage",
    family: "stages",
    severity: Severity::Info,
    fix: FixAvailability::Always,
    aliases: &[],
    doc: include_str!("unused_stage.md"),
};

impl Rule for UnusedStage {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        let needed = cx.model.stages_needed(&cx.settings.targets);
        let finals = cx.model.final_stages(&cx.settings.targets);
        let final_names: Vec<String> = finals
            .iter()
            .map(|&s| stage_label(cx, s))
            .collect();
        for stage in &cx.model.stages {
            if needed[stage.index] {
                continue;
            }
            let from = &cx.df.instructions[stage.from];
            let Some(next) = cx.model.stages.get(stage.index + 1) else {
                continue;
            };
            let start = block_start(cx, from.span.start);
            let end = block_start(cx, cx.df.instructions[next.from].span.start);
            let label = stage_label(cx, stage.index);
            cx.report(
                from.keyword_span.start..from.line_end,
                format!(
                    "{label} is built for nothing: {} does not build on it, copy from it or mount it",
                    final_names.join(" and ")
                ),
            )
            .help(
                "BuildKit skips it, the legacy builder and kaniko build it anyway; delete it, or list it in `targets` in lint.toml if you build it with `--target`",
            )
            .fix(Fix::unsafe_(
                format!("Delete {label}"),
                vec![Edit::delete(start..end)],
            ));
        }
    }
}

fn stage_label(cx: &Ctx, index: usize) -> String {
    match &cx.model.stages[index].name {
        Some(name) => format!("stage `{name}`"),
        None => format!("stage {index} (`FROM {}`)", cx.model.stages[index].base),
    }
}

/// The start of an instruction's line, or of the comment lines right above it (no blank
/// line between; parser directives excluded).
fn block_start(cx: &Ctx, instruction_start: usize) -> usize {
    let text = &cx.file.text;
    let mut start = line_start(text, instruction_start);
    loop {
        if start <= crate::source::bom_len(text) {
            return start;
        }
        let previous = line_start(text, start - 1);
        let is_comment = cx
            .df
            .comments
            .iter()
            .any(|c| c.span.start >= previous && c.span.start < start && !c.inside_instruction)
            && !cx
                .df
                .directives
                .iter()
                .any(|d| d.span.start >= previous && d.span.start < start);
        if !is_comment {
            return start;
        }
        start = previous;
    }
}
