//! RUN instructions that follow each other with the same flags, in a stage whose layers
//! reach a built image: one layer each, where one would do. Whether joining them is
//! equivalent is the model's call (`model::merge`); whether it is worth it, too
//! (`model::cost`: joined to a slow RUN, a quick one re-runs it at every edit).

use crate::fix::{merge, Fix, Merge};
use crate::model::merge::Join;
use crate::model::{self, cost, Run};
use crate::rule::{Ctx, Diagnostic, FixAvailability, Meta, Reporter, Rule, Severity, Text};
use crate::source::SourceFile;
use crate::syntax::dockerfile::Dockerfile;

pub struct ConsecutiveRun;

static META: Meta = Meta {
    name: "consecutive-run",
    family: "layers",
    severity: Severity::Info,
    fix: FixAvailability::Sometimes,
    aliases: &["DL3059"],
    doc: include_str!("consecutive_run.md"),
};

impl Rule for ConsecutiveRun {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        let ships = cx.model.stages_reaching_final(&cx.settings.targets);
        // Each RUN right after a RUN with the same flags (so in the same stage), by its index:
        // a word each, where a pair of references is two. Sized for every RUN up front: a
        // generated file has millions of pairs, and growing the list by doubling copied it
        // into fresh memory at each step.
        let runs = &cx.model.runs;
        let mut seconds: Vec<usize> = Vec::with_capacity(runs.len());
        seconds.extend((1..runs.len()).filter(|&i| {
            let (a, b) = (&runs[i - 1], &runs[i]);
            b.instruction == a.instruction + 1
                && ships[b.stage]
                && model::merge::same_flags(cx.df, a, b)
        }));
        let findings = Pairs {
            reporter: cx.reporter(),
            file: cx.file,
            df: cx.df,
            delimiter: merge::heredoc_style(cx.file, cx.df),
            house: merge::Style::house(cx.file, cx.df),
        };
        cx.report_each(&seconds, |&i| findings.finding(&runs[i - 1], &runs[i]));
    }
}

/// What every finding of a file shares.
struct Pairs<'a> {
    reporter: Reporter,
    file: &'a SourceFile,
    df: &'a Dockerfile,
    delimiter: Option<merge::Delimiter>,
    house: merge::Style,
}

impl Pairs<'_> {
    /// The finding on RUN `b`, which follows RUN `a` with the same flags.
    fn finding(&self, a: &Run, b: &Run) -> Diagnostic {
        let (first, second) = (
            &self.df.instructions[a.instruction],
            &self.df.instructions[b.instruction],
        );
        let (file, df) = (self.file, self.df);
        let (delimiter, house) = (self.delimiter.as_ref(), &self.house);
        let heredoc_form = delimiter.is_some() && first.heredoc_script().is_none();
        macro_rules! chain {
            (heredoc) => {
                "chain the commands with `&&` in one RUN (a heredoc script, as the file writes them)"
            };
            () => { "chain the commands with `&&` in one RUN" };
        }
        let chain = match heredoc_form {
            true => chain!(heredoc),
            false => chain!(),
        };
        let join = model::merge::join(df, a, b);
        let slow = cost::slow_steps(a);
        // Whatever the fix, a slow first RUN makes the merge a trade: say so.
        let chain: Text = match slow.first() {
            Some(slow) => format!(
                "{chain} only if the two change together: the first RUN is slow to redo ({}), \
                 and joined, every edit of the second part re-runs it, where apart it stays cached",
                slow.describe()
            )
            .into(),
            None => chain.into(),
        };
        let (fix, help) = match &join {
            Join::Impossible(why) => (None, format!("{chain}; no fix: {why}").into()),
            Join::Possible {
                subshell,
                doubts,
                transparent,
            } => {
                let subshell_needed = !subshell.is_empty();
                let edits = merge::join_adjacent(
                    file,
                    df,
                    first,
                    second,
                    subshell_needed,
                    delimiter,
                    house,
                );
                let help = match (doubts.first(), slow.first(), subshell.first()) {
                    (Some(doubt), _, _) => {
                        format!("{chain}; the fix is unsafe because {}", doubt.reason).into()
                    }
                    (None, Some(_), _) => {
                        format!("{chain}; the fix is unsafe for that reason").into()
                    }
                    (None, None, Some(state)) => format!(
                        "{chain}; the fix runs the first part in a subshell because {}",
                        state.reason.trim_end_matches(" (kept in a subshell)")
                    )
                    .into(),
                    // The common case, a fixed sentence: a file may have millions of them.
                    (None, None, None) => Text::from(match heredoc_form {
                        true => {
                            concat!(chain!(heredoc), "; each RUN adds a layer and a cache step")
                        }
                        false => concat!(chain!(), "; each RUN adds a layer and a cache step"),
                    }),
                };
                let title = match heredoc_form {
                    true => "Merge into the previous RUN as a heredoc script",
                    false => "Merge into the previous RUN",
                };
                // The join of the second RUN with the next may go in the same `--fix` pass
                // after a safe join of a first RUN that leaves nothing behind, written in the
                // `&&` form: its edits end where the second RUN's command starts, so the next
                // join's edits come after them (a heredoc form rewrites the second RUN).
                let and_form = delimiter.is_none() && first.heredoc_script().is_none();
                let merge = match *transparent && slow.is_empty() && and_form {
                    true => Merge::Transparent,
                    false => Merge::Opaque,
                };
                let fix = edits.map(|edits| {
                    match (doubts.is_empty(), slow.is_empty()) {
                        (true, true) => Fix::safe(title, edits),
                        (false, _) => {
                            Fix::unsafe_(format!("{title} (may change what the build does)"), edits)
                        }
                        (true, false) => Fix::unsafe_(
                            format!("{title} (editing it re-runs the slow first part)"),
                            edits,
                        ),
                    }
                    .merging(merge)
                });
                (fix, help)
            }
        };
        let mut diagnostic = self.reporter.diagnostic(
            second.keyword_span.start..second.line_end,
            "this RUN follows another RUN with the same flags: two layers where one would do",
        );
        diagnostic
            .label(first.keyword_span.clone(), "previous RUN")
            .anchor(first.span.clone())
            .help(help);
        match &join {
            Join::Possible { doubts, .. } if !doubts.is_empty() => {
                for doubt in doubts.iter().take(3) {
                    diagnostic.label(doubt.span.clone(), doubt.reason.clone());
                }
            }
            _ => {
                if let Some(slow) = slow.first() {
                    let label = format!("slow to redo: {}", slow.describe());
                    diagnostic.label(slow.span.clone(), label);
                }
            }
        }
        if let Some(fix) = fix {
            diagnostic.fix(fix);
        }
        diagnostic
    }
}
