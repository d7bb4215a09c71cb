//! docklint: a Dockerfile linter and optimizer.
//!
//! [`lint`] checks one file; [`fix`] applies fixes until the file is stable. The engine
//! lives in `src/`; the rules live in `lints/`, one `.rs` and one `.md` per rule.

pub mod config;
pub mod context;
pub mod emit;
pub mod fix;
pub mod model;
pub mod rule;
pub mod source;
pub mod suppress;
pub mod syntax;
pub mod walk;

#[path = "../lints/mod.rs"]
pub mod lints;

use config::Settings;
use context::{BuildContext, Overlay};
use fix::{Applicability, FileChange};
use model::Model;
use rule::{Ctx, Diagnostic, Phase};
use source::SourceFile;
use suppress::Suppressions;
use syntax::dockerfile::{self, Dockerfile};

/// Lints one file with the rules `settings` enables. Diagnostics are sorted by position.
pub fn lint(file: &SourceFile, settings: &Settings) -> Vec<Diagnostic> {
    let df = dockerfile::parse(&file.text);
    let context = open_context(file, settings, &Overlay::new());
    lint_parsed(file, &df, settings, context.as_ref())
}

/// The build context `settings` names for `file`, with the files fixes changed so far.
fn open_context(file: &SourceFile, settings: &Settings, overlay: &Overlay) -> Option<BuildContext> {
    let root = settings.context.as_deref()?;
    BuildContext::open(root, Some(&file.path), overlay, Some(&settings.contexts))
}

fn lint_parsed(
    file: &SourceFile,
    df: &Dockerfile,
    settings: &Settings,
    context: Option<&BuildContext>,
) -> Vec<Diagnostic> {
    let model = Model::build(df);
    let mut diagnostics = Vec::new();
    let mut suppressions = Suppressions::collect(&file.text, df);
    run_phase(
        Phase::Lint,
        file,
        df,
        &model,
        (settings, context),
        None,
        &mut diagnostics,
    );
    suppressions.apply(&mut diagnostics);
    let mut late = Vec::new();
    run_phase(
        Phase::AfterSuppressions,
        file,
        df,
        &model,
        (settings, context),
        Some(&suppressions),
        &mut late,
    );
    // Late diagnostics sit on suppression comments, outside every instruction: only
    // file-wide suppressions can reach them.
    suppressions.apply(&mut late);
    diagnostics.extend(late);
    diagnostics.sort_by(|a, b| {
        (a.span.start, a.span.end, a.rule).cmp(&(b.span.start, b.span.end, b.rule))
    });
    diagnostics
}

fn run_phase(
    phase: Phase,
    file: &SourceFile,
    df: &Dockerfile,
    model: &Model,
    (settings, context): (&Settings, Option<&BuildContext>),
    suppressions: Option<&Suppressions>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for rule in lints::rules()
        .iter()
        .filter(|r| r.phase() == phase && rule::is_active(**r, settings))
    {
        let mut cx = Ctx {
            file,
            df,
            model,
            settings,
            context,
            suppressions,
            rule: rule.meta(),
            diagnostics,
        };
        rule.check(&mut cx);
    }
}

/// Passes over a file before giving up on fixes converging.
pub const MAX_FIX_PASSES: usize = 10;

/// A fix that was applied (or reverted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixRecord {
    pub rule: &'static str,
    pub title: String,
}

impl FixRecord {
    fn of(d: &Diagnostic) -> FixRecord {
        FixRecord {
            rule: d.rule,
            title: d.fix.as_ref().map(|f| f.title.clone()).unwrap_or_default(),
        }
    }
}

/// The text after one pass of fixes.
struct Pass {
    text: String,
    df: Dockerfile,
    applied: Vec<FixRecord>,
}

/// What fixing a file did.
#[derive(Debug, Clone)]
pub struct FixOutcome {
    pub text: String,
    /// Every fix applied, in order.
    pub applied: Vec<FixRecord>,
    /// Fixes that were reverted because the file no longer parsed after them.
    pub reverted: Vec<FixRecord>,
    /// False when fixes were still pending after `MAX_FIX_PASSES` passes.
    pub converged: bool,
    /// Diagnostics of the final text.
    pub remaining: Vec<Diagnostic>,
    /// Files of the build context the fixes changed or created (the `.dockerignore`).
    pub files: Vec<FileChange>,
}

/// Applies fixes at or above `min` until none applies; never produces a file that parses
/// worse than the original. A file read with invalid UTF-8 is never rewritten.
pub fn fix(file: &SourceFile, settings: &Settings, min: Applicability) -> FixOutcome {
    let mut current = file.clone();
    let mut df = dockerfile::parse(&current.text);
    let mut outcome = FixOutcome {
        text: file.text.clone(),
        applied: Vec::new(),
        reverted: Vec::new(),
        converged: true,
        remaining: Vec::new(),
        files: Vec::new(),
    };
    let mut overlay = Overlay::new();
    let mut context = open_context(file, settings, &overlay);
    for pass in 0.. {
        let mut diagnostics = lint_parsed(&current, &df, settings, context.as_ref());
        for d in diagnostics.iter_mut().filter(|d| !settings.may_fix(d.rule)) {
            d.fix = None;
        }
        let fixable = diagnostics
            .iter()
            .any(|d| d.fix.as_ref().is_some_and(|f| f.applicability >= min));
        if file.lossy || !fixable {
            outcome.remaining = diagnostics;
            break;
        }
        if pass == MAX_FIX_PASSES {
            outcome.converged = false;
            outcome.remaining = diagnostics;
            break;
        }
        let dockerfile_pass =
            fix_pass(&current.text, &df, &diagnostics, min, &mut outcome.reverted);
        let file_fixes = fix::apply_file_edits(&diagnostics, min, &mut outcome.files);
        if dockerfile_pass.is_none() && file_fixes.is_empty() {
            outcome.remaining = diagnostics;
            break;
        }
        if !file_fixes.is_empty() {
            outcome
                .applied
                .extend(file_fixes.into_iter().map(FixRecord::of));
            overlay = outcome
                .files
                .iter()
                .map(|f| (f.path.clone(), f.text.clone()))
                .collect();
            context = open_context(file, settings, &overlay);
        }
        if let Some(pass) = dockerfile_pass {
            outcome.applied.extend(pass.applied);
            current = SourceFile::new(current.path.clone(), pass.text);
            df = pass.df;
        }
    }
    outcome.text = current.text;
    outcome
}

/// One pass: all non-overlapping fixes at once; if that breaks parsing, one at a time,
/// keeping those that parse. None when nothing could be applied.
fn fix_pass(
    text: &str,
    df: &Dockerfile,
    diagnostics: &[Diagnostic],
    min: Applicability,
    reverted: &mut Vec<FixRecord>,
) -> Option<Pass> {
    let (new_text, taken) =
        fix::apply_in_regions(text, diagnostics, min, |f| instruction_region(df, f));
    let new_df = dockerfile::parse(&new_text);
    if !parses_worse(df, &new_df) {
        let applied = taken.into_iter().map(FixRecord::of).collect();
        return (new_text != text).then_some(Pass {
            text: new_text,
            df: new_df,
            applied,
        });
    }
    let mut pass = Pass {
        text: text.to_string(),
        df: df.clone(),
        applied: Vec::new(),
    };
    for diagnostic in taken.into_iter().rev() {
        let (candidate, _) = fix::apply(&pass.text, std::slice::from_ref(diagnostic), min);
        let candidate_df = dockerfile::parse(&candidate);
        if parses_worse(&pass.df, &candidate_df) {
            reverted.push(FixRecord::of(diagnostic));
        } else {
            pass.applied.push(FixRecord::of(diagnostic));
            pass.text = candidate;
            pass.df = candidate_df;
        }
    }
    pass.applied.reverse();
    (!pass.applied.is_empty()).then_some(pass)
}

/// The instructions a fix edits, from the first one's start to the last one's end (its edits
/// alone when they touch no instruction): two fixes reasoned on one instruction are not
/// applied in the same pass.
fn instruction_region(df: &Dockerfile, fix: &fix::Fix) -> source::Span {
    let (start, end) = (fix.start(), fix.end());
    // Instructions are in file order: the touched ones are a run found by binary search.
    let first = df.instructions.partition_point(|i| i.span.end < start);
    let mut hits = df.instructions[first..]
        .iter()
        .take_while(|i| i.span.start <= end);
    match hits.next() {
        Some(first) => {
            let last = hits.last().unwrap_or(first);
            first.span.start.min(start)..last.span.end.max(end)
        }
        None => start..end,
    }
}

fn parses_worse(before: &Dockerfile, after: &Dockerfile) -> bool {
    after.errors.len() > before.errors.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::{Edit, Fix};
    use crate::rule::Severity;

    fn with_fix(edit: Edit) -> Diagnostic {
        Diagnostic {
            rule: "test-rule",
            family: "test",
            severity: Severity::Warning,
            span: edit.span.clone(),
            message: String::new(),
            help: None,
            labels: Vec::new(),
            anchors: Vec::new(),
            fix: Some(Fix::safe("test fix", vec![edit])),
        }
    }

    #[test]
    fn a_fix_that_breaks_parsing_is_reverted_and_reported_while_good_ones_apply() {
        let text = "FROM alpine\nRUN echo a\nRUN echo b\n";
        let df = dockerfile::parse(text);
        let breaks = with_fix(Edit::replace(12..22, "RUN <<EOF"));
        let fine = with_fix(Edit::replace(27..33, "echo c"));
        let mut reverted = Vec::new();
        let pass = fix_pass(
            text,
            &df,
            &[breaks, fine],
            Applicability::Safe,
            &mut reverted,
        )
        .expect("one fix applies");
        assert_eq!(pass.text, "FROM alpine\nRUN echo a\nRUN echo c\n");
        assert_eq!(
            reverted,
            [FixRecord {
                rule: "test-rule",
                title: "test fix".into()
            }]
        );
    }
}
