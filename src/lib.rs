//! docklint: a Dockerfile linter and optimizer.
//!
//! [`lint`] checks one file; [`fix`] applies fixes until the file is stable. The engine
//! lives in `src/`; the rules live in `lints/`, one `.rs` and one `.md` per rule.

pub mod changes;
pub mod config;
pub mod context;
pub mod emit;
pub mod fix;
pub mod lsp;
pub mod model;
pub mod release;
pub mod rule;
pub mod source;
pub mod suppress;
pub mod syntax;
pub mod text;
pub mod walk;

#[path = "../lints/mod.rs"]
pub mod lints;

use changes::{Changes, Replacement};
use config::Settings;
use context::{BuildContext, Overlay};
use fix::{Applicability, FileChange};
use model::Model;
use rule::{Ctx, Diagnostic, Phase, Shared};
use source::SourceFile;
use suppress::Suppressions;
use syntax::dockerfile::{self, Dockerfile};

/// Lints one file with the rules `settings` enables. Diagnostics are sorted by position.
/// A file that is not valid UTF-8 is never rewritten, so its diagnostics offer no fix.
pub fn lint(file: &SourceFile, settings: &Settings) -> Vec<Diagnostic> {
    let df = dockerfile::parse(&file.text);
    let context = open_context(file, settings, &Overlay::new());
    let mut diagnostics = lint_parsed(file, &df, settings, context.as_ref());
    if file.lossy {
        diagnostics.iter_mut().for_each(|d| d.fix = None);
    }
    if is_big(&df) {
        release::release(df);
    }
    diagnostics
}

/// A big file's rules run side by side, and its syntax tree and model are freed by
/// [`release::release`]; a smaller file's rules run on one thread (an editor's re-lint).
fn is_big(df: &Dockerfile) -> bool {
    df.instructions.len() >= release::BIG
}

/// Lints a `.dockerignore`: a line Docker rejects is a `syntax-error` there (`docker build`
/// fails before it starts). Nothing when `syntax-error` is off.
pub fn lint_dockerignore(file: &SourceFile, settings: &Settings) -> Vec<Diagnostic> {
    let Some(rule) = lints::find("syntax-error").map(|r| r.meta()) else {
        return Vec::new();
    };
    if !settings.is_enabled(rule) {
        return Vec::new();
    }
    let Err(error) = syntax::dockerignore::DockerIgnore::parse(&file.text) else {
        return Vec::new();
    };
    vec![Diagnostic {
        rule: rule.name,
        severity: settings.severity_of(rule),
        span: error.span,
        message: format!("Docker rejects this .dockerignore: {}", error.message).into(),
        help: Some("`docker build` fails before it starts; fix or remove this line".into()),
        labels: Default::default(),
        anchors: Default::default(),
        fix: None,
    }]
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
    let shared = Shared::default();
    run_phase(
        Phase::Lint,
        file,
        df,
        &model,
        (settings, context, &shared),
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
        (settings, context, &shared),
        Some(&suppressions),
        &mut late,
    );
    // Late diagnostics sit on suppression comments, outside every instruction: only
    // file-wide suppressions can reach them.
    suppressions.apply(&mut late);
    diagnostics.extend(late);
    if is_big(df) {
        release::release(model);
    }
    // A stable sort takes a buffer of half the diagnostics, even when (as with one rule
    // reporting in file order, or a big file's rules merged) they are already in order.
    if !is_in_file_order(&diagnostics) {
        diagnostics.sort_by_key(file_order);
    }
    diagnostics
}

fn run_phase(
    phase: Phase,
    file: &SourceFile,
    df: &Dockerfile,
    model: &Model,
    (settings, context, shared): (&Settings, Option<&BuildContext>, &Shared),
    suppressions: Option<&Suppressions>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let rules = lints::rules()
        .iter()
        .filter(|r| r.phase() == phase && rule::is_active(**r, settings));
    let check = |rule: &dyn rule::Rule, diagnostics: &mut Vec<Diagnostic>| {
        let mut cx = Ctx {
            file,
            df,
            model,
            settings,
            context,
            suppressions,
            rule: rule.meta(),
            diagnostics,
            shared,
        };
        rule.check(&mut cx);
    };
    if !is_big(df) {
        rules.for_each(|rule| check(*rule, diagnostics));
        return;
    }
    // A big file's rules run side by side, the slowest first ([`SLOWEST_RULES`]): each
    // thread takes the next rule not yet begun, so the slow ones do not end up one after
    // the other on one thread while the others finish the quick ones. Their findings are
    // joined in the rules' order.
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let rules: Vec<_> = rules.collect();
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by_key(|&r| slowness(rules[r].meta().name));
    let next = AtomicUsize::new(0);
    let threads = rayon::current_num_threads().min(rules.len());
    let mut done: Vec<(usize, Vec<Diagnostic>)> = (0..threads)
        .into_par_iter()
        .with_max_len(1)
        .map(|_| {
            let mut done = Vec::new();
            while let Some(&r) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                let mut found = Vec::new();
                check(*rules[r], &mut found);
                done.push((r, found));
            }
            done
        })
        .flatten_iter()
        .collect();
    // In the rules' order, after what the list held.
    done.sort_unstable_by_key(|&(r, _)| r);
    let mut lists: Vec<Vec<Diagnostic>> = std::iter::once(std::mem::take(diagnostics))
        .chain(done.into_iter().map(|(_, found)| found))
        .filter(|f| !f.is_empty())
        .collect();
    // One rule with findings: its list is taken, not copied. Several: merged in file order.
    match lists.len() {
        0 => {}
        1 => *diagnostics = lists.pop().unwrap_or_default(),
        _ => *diagnostics = merged_in_file_order(lists),
    }
}

/// Whether `diagnostics` are in file order already: a big file's millions are checked on
/// every core, on the way out of its lint.
fn is_in_file_order(diagnostics: &[Diagnostic]) -> bool {
    use rayon::prelude::*;
    let in_order = |pair: &[Diagnostic]| file_order(&pair[0]) <= file_order(&pair[1]);
    match diagnostics.len() < release::BIG {
        true => diagnostics.windows(2).all(in_order),
        false => diagnostics.par_windows(2).all(in_order),
    }
}

/// The order diagnostics are reported in: by position, then rule.
fn file_order(d: &Diagnostic) -> (usize, usize, &'static str) {
    (d.span.start, d.span.end, d.rule)
}

/// The lists joined in file order, as a stable sort of them one after the other would
/// order them (alike ones by list, then as listed). Each diagnostic is moved once, into a
/// list sized for all: appended and then sorted, millions of them (224 bytes each) were
/// copied again by each merge of the sort, through a fresh buffer of half of them.
fn merged_in_file_order(lists: Vec<Vec<Diagnostic>>) -> Vec<Diagnostic> {
    let mut merged = Vec::with_capacity(lists.iter().map(Vec::len).sum());
    let mut lists: Vec<_> = lists
        .into_iter()
        .map(|mut list| {
            // Most rules report in file order; the others are put in it first.
            if !list.is_sorted_by(|a, b| file_order(a) <= file_order(b)) {
                list.sort_by_key(file_order);
            }
            list.into_iter().peekable()
        })
        .collect();
    // Few lists (one per rule with findings): the next diagnostic is found by looking at
    // the head of each; the first list wins a tie.
    loop {
        let mut next: Option<(usize, (usize, usize, &str))> = None;
        for (i, list) in lists.iter_mut().enumerate() {
            if let Some(head) = list.peek().map(file_order) {
                if next.is_none_or(|(_, best)| head < best) {
                    next = Some((i, head));
                }
            }
        }
        let Some(diagnostic) = next.and_then(|(i, _)| lists[i].next()) else {
            break;
        };
        merged.push(diagnostic);
    }
    merged
}

/// The rules that take longest on a big file, slowest first (each at 30–280 ms on one of
/// the 100,000-line files of `scripts/scaling`, where the others take under 20 ms): begun
/// first, they run side by side and the quick ones fill the gaps.
const SLOWEST_RULES: &[&str] = &[
    "model-download-at-build",
    "cleanup-in-later-layer",
    "consecutive-run",
    "missing-cache-mount",
    "dockerignore-gaps",
    "large-build-context",
    "unused-stage",
    "unused-suppression",
    "copy-missing-source",
];

/// Where a rule is begun among a big file's rules: the slow ones first, the others in
/// their order.
fn slowness(rule: &str) -> usize {
    SLOWEST_RULES
        .iter()
        .position(|&slow| slow == rule)
        .unwrap_or(SLOWEST_RULES.len())
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
            title: d
                .fix
                .as_ref()
                .map(|f| f.title.to_string())
                .unwrap_or_default(),
        }
    }
}

/// Attempts at applying a pass's fixes before the rest of them are given up for the pass:
/// finding the fixes that break parsing costs a parse of the file per attempt.
const MAX_ATTEMPTS_PER_PASS: usize = 64;

/// The text after one pass of fixes.
struct Pass {
    text: String,
    df: Dockerfile,
    applied: Vec<FixRecord>,
    /// The edits made, batch by batch, each in the text the batch was applied to.
    batches: Vec<Vec<Replacement>>,
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
    /// Diagnostics of the original text.
    pub found: Vec<Diagnostic>,
    /// Diagnostics of the final text.
    pub remaining: Vec<Diagnostic>,
    /// Files of the build context the fixes changed or created (the `.dockerignore`).
    pub files: Vec<FileChange>,
    /// Where the final text comes from in the original (for diffs).
    pub changes: Changes,
}

impl FixOutcome {
    /// Problems the fixes removed: those fixable at or above `min` before, less those
    /// still fixable after. It is what `check` counts as fixable, unless a fix was reverted
    /// or the passes did not settle.
    pub fn fixed(&self, min: Applicability) -> usize {
        let fixable = |ds: &[Diagnostic]| {
            ds.iter()
                .filter(|d| d.fix.as_ref().is_some_and(|f| f.applicability >= min))
                .count()
        };
        fixable(&self.found).saturating_sub(fixable(&self.remaining))
    }
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
        found: Vec::new(),
        remaining: Vec::new(),
        files: Vec::new(),
        changes: Changes::unchanged(file.text.len()),
    };
    let mut overlay = Overlay::new();
    let mut context = open_context(file, settings, &overlay);
    for pass in 0.. {
        let mut diagnostics = lint_parsed(&current, &df, settings, context.as_ref());
        for d in diagnostics
            .iter_mut()
            .filter(|d| file.lossy || !settings.may_fix(d.rule))
        {
            d.fix = None;
        }
        let fixable = diagnostics
            .iter()
            .any(|d| d.fix.as_ref().is_some_and(|f| f.applicability >= min));
        let (dockerfile_pass, file_fixes) = if fixable && pass < MAX_FIX_PASSES {
            let dockerfile_pass =
                fix_pass(&current.text, &df, &diagnostics, min, &mut outcome.reverted);
            let file_fixes = fix::apply_file_edits(&diagnostics, min, &mut outcome.files);
            (
                dockerfile_pass,
                file_fixes.into_iter().map(FixRecord::of).collect(),
            )
        } else {
            (None, Vec::new())
        };
        let settled = dockerfile_pass.is_none() && file_fixes.is_empty();
        // The first pass's findings are what the file had (moved, not copied: a generated
        // file has millions); the last one's, what it keeps.
        match pass {
            0 => outcome.found = diagnostics,
            _ if settled => outcome.remaining = diagnostics,
            _ => {}
        }
        if settled {
            if pass == 0 {
                outcome.remaining = outcome.found.clone();
            }
            // Not converged: fixes still pending after the last pass allowed.
            outcome.converged = !fixable || pass < MAX_FIX_PASSES;
            break;
        }
        if !file_fixes.is_empty() {
            outcome.applied.extend(file_fixes);
            overlay = outcome
                .files
                .iter()
                .map(|f| (f.path.clone(), f.text.clone()))
                .collect();
            context = open_context(file, settings, &overlay);
        }
        if let Some(pass) = dockerfile_pass {
            outcome.applied.extend(pass.applied);
            for batch in &pass.batches {
                outcome.changes.apply(batch);
            }
            current = SourceFile::new(current.path.clone(), pass.text);
            df = pass.df;
        }
    }
    outcome.text = current.text;
    outcome
}

/// One pass: all non-overlapping fixes at once; if that breaks parsing, the fixes that do
/// are found by halving, keeping those that parse. None when nothing could be applied.
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
        let batches = vec![replacements(&taken)];
        let applied = taken.into_iter().map(FixRecord::of).collect();
        return (new_text != text).then_some(Pass {
            text: new_text,
            df: new_df,
            applied,
            batches,
        });
    }
    let mut pass = Pass {
        text: text.to_string(),
        df: df.clone(),
        applied: Vec::new(),
        batches: Vec::new(),
    };
    let mut attempts = 1;
    settle(&mut pass, &taken, min, &mut attempts, reverted);
    pass.applied.reverse();
    (!pass.applied.is_empty()).then_some(pass)
}

/// Applies the fixes of `taken` (sorted, non-overlapping) that keep the file parsing:
/// all at once if they do, else each half in turn, the later half first so that the
/// earlier fixes' offsets stay valid. Past `MAX_ATTEMPTS_PER_PASS` attempts, fixes still
/// untried are reverted for this pass.
fn settle(
    pass: &mut Pass,
    taken: &[&Diagnostic],
    min: Applicability,
    attempts: &mut usize,
    reverted: &mut Vec<FixRecord>,
) {
    if taken.is_empty() {
        return;
    }
    if *attempts >= MAX_ATTEMPTS_PER_PASS {
        reverted.extend(taken.iter().rev().map(|d| FixRecord::of(d)));
        return;
    }
    let (candidate, applied) = {
        let owned: Vec<Diagnostic> = taken.iter().map(|d| (*d).clone()).collect();
        let (text, applied) = fix::apply(&pass.text, &owned, min);
        (text, replacements(&applied))
    };
    *attempts += 1;
    let candidate_df = dockerfile::parse(&candidate);
    if !parses_worse(&pass.df, &candidate_df) {
        pass.applied
            .extend(taken.iter().rev().map(|d| FixRecord::of(d)));
        pass.batches.push(applied);
        pass.text = candidate;
        pass.df = candidate_df;
        return;
    }
    if let [only] = taken {
        reverted.push(FixRecord::of(only));
        return;
    }
    let (first, second) = taken.split_at(taken.len() / 2);
    settle(pass, second, min, attempts, reverted);
    settle(pass, first, min, attempts, reverted);
}

/// The edits of the fixes `fix::apply` took, as (replaced range, inserted length).
fn replacements(taken: &[&Diagnostic]) -> Vec<Replacement> {
    taken
        .iter()
        .filter_map(|d| d.fix.as_ref())
        .flat_map(|f| &f.edits)
        .map(|e| (e.span.clone(), e.content.len()))
        .collect()
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
            severity: Severity::Warning,
            span: edit.span.clone(),
            message: "".into(),
            help: None,
            labels: Default::default(),
            anchors: Default::default(),
            fix: Some(Fix::safe("test fix", vec![edit])),
        }
    }

    #[test]
    fn merged_findings_are_in_the_order_a_stable_sort_gives() {
        let made = |start: usize, end: usize, rule: &'static str, message: String| Diagnostic {
            rule,
            severity: Severity::Warning,
            span: start..end,
            message: message.into(),
            help: None,
            labels: Default::default(),
            anchors: Default::default(),
            fix: None,
        };
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        // Lists in file order and not, with ties within a list and across lists, and
        // lists whose rules sort before those of earlier lists.
        let mut lists = Vec::new();
        for (l, rule) in ["c-rule", "a-rule", "b-rule", "a-rule"]
            .into_iter()
            .enumerate()
        {
            let mut list: Vec<Diagnostic> = (0..200)
                .map(|i| {
                    let start = next() % 60;
                    made(start, start + next() % 2, rule, format!("{l}/{i}"))
                })
                .collect();
            if l % 2 == 0 {
                list.sort_by_key(|d| (d.span.start, d.span.end));
            }
            lists.push(list);
        }
        let seen = |list: &[Diagnostic]| -> Vec<String> {
            list.iter()
                .map(|d| format!("{:?} {} {}", d.span, d.rule, d.message))
                .collect()
        };
        let mut expected: Vec<Diagnostic> = lists.iter().flatten().cloned().collect();
        expected.sort_by_key(file_order);
        assert_eq!(seen(&merged_in_file_order(lists)), seen(&expected));
    }

    /// A file of `runs` RUNs, and a fix for each: `echo` becomes `printf`, except at
    /// `breaking`, where the RUN becomes an unterminated heredoc.
    fn runs_with_fixes(runs: usize, breaking: &[usize]) -> (String, Vec<Diagnostic>) {
        let mut text = String::from("FROM alpine\n");
        let mut diagnostics = Vec::new();
        for i in 0..runs {
            let at = text.len() + 4;
            text.push_str(&format!("RUN echo {i}\n"));
            let content = if breaking.contains(&i) {
                "<<EOF"
            } else {
                "printf"
            };
            diagnostics.push(with_fix(Edit::replace(at..at + 4, content)));
        }
        (text, diagnostics)
    }

    fn settled(text: &str, diagnostics: &[Diagnostic]) -> (Pass, Vec<FixRecord>, usize) {
        let taken: Vec<&Diagnostic> = diagnostics.iter().collect();
        let mut pass = Pass {
            text: text.to_string(),
            df: dockerfile::parse(text),
            applied: Vec::new(),
            batches: Vec::new(),
        };
        let (mut attempts, mut reverted) = (0, Vec::new());
        settle(
            &mut pass,
            &taken,
            Applicability::Safe,
            &mut attempts,
            &mut reverted,
        );
        (pass, reverted, attempts)
    }

    #[test]
    fn the_slowest_rules_are_rules() {
        for name in SLOWEST_RULES {
            assert!(
                lints::rules().iter().any(|r| r.meta().name == *name),
                "{name} is not a rule: a renamed rule would be begun last"
            );
        }
    }

    #[test]
    fn the_fix_that_breaks_parsing_is_found_in_a_few_parses() {
        let (text, diagnostics) = runs_with_fixes(1000, &[617]);
        let (pass, reverted, attempts) = settled(&text, &diagnostics);
        assert_eq!((pass.applied.len(), reverted.len()), (999, 1));
        assert!(attempts <= 2 * 10 + 1, "{attempts} parses");
        assert!(pass.text.contains("RUN echo 617\n") && !pass.text.contains("echo 618"));
    }

    #[test]
    fn fixes_that_all_break_parsing_cost_a_bounded_number_of_parses() {
        let all: Vec<usize> = (0..1000).collect();
        let (text, diagnostics) = runs_with_fixes(1000, &all);
        let (pass, reverted, attempts) = settled(&text, &diagnostics);
        assert_eq!((pass.applied.len(), reverted.len()), (0, 1000));
        assert_eq!(pass.text, text);
        assert!(attempts <= MAX_ATTEMPTS_PER_PASS, "{attempts} parses");
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
