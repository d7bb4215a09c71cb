//! A stage no final image needs: it is not the last stage nor a target, and no stage they
//! need is built FROM it, copies from it or mounts from it (`Model::stages_needed`). The
//! targets are those lint.toml lists; without a list, every named stage nothing else needs.

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
        let configured = !cx.settings.targets.is_empty();
        let targets = if configured {
            cx.settings.targets.clone()
        } else {
            possible_targets(cx)
        };
        let needed = cx.model.stages_needed(&targets);
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
            let why = if configured {
                format!(
                    "neither the last stage nor the targets lint.toml lists ({}) build on it, copy from it or mount it",
                    cx.settings.targets.join(", ")
                )
            } else {
                let unnamed = if stage.name.is_none() {
                    "it has no name for `--target` to pick, and "
                } else {
                    ""
                };
                format!("{unnamed}no stage that can be built (the last one, or a named one nothing else needs, which `--target` may pick) builds on it, copies from it or mounts it")
            };
            cx.report(
                from.keyword_span.start..from.line_end,
                format!("{label} is built for nothing: {why}"),
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

/// Without `targets` in lint.toml, every named stage no other stage needs may be built with
/// `--target` (`test`, `dev`, `update`, `validate`, …): files with several targets are
/// common, and what a bake file or CI job builds is not in the Dockerfile.
fn possible_targets(cx: &Ctx) -> Vec<String> {
    let stages = &cx.model.stages;
    let mut needed = vec![false; stages.len()];
    for other in stages {
        for &need in other.needs.iter().filter(|&&n| n != other.index) {
            if let Some(flag) = needed.get_mut(need) {
                *flag = true;
            }
        }
    }
    stages
        .iter()
        .filter(|s| !needed[s.index])
        .filter_map(|s| s.name.clone())
        .collect()
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
            .comments_within(&(previous..start))
            .iter()
            .any(|c| !c.inside_instruction)
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
