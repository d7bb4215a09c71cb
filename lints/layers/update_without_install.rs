//! A package index refreshed in a RUN that installs nothing from it. The build cache keeps
//! that layer as long as its text is the same, so a later install reads an index as old as
//! the cached layer: packages that moved on fail to download. Which commands refresh an
//! index and which install from it is the model's table (`model::indexes`).

use crate::fix::{merge, Fix};
use crate::model::indexes::{self, IndexUse, PackageIndex};
use crate::model::{self, merge::Join, Run};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};
use crate::source::Span;
use crate::syntax::dockerfile::Keyword;

pub struct UpdateWithoutInstall;

static META: Meta = Meta {
    name: "update-without-install",
    family: "layers",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    aliases: &[],
    doc: include_str!("update_without_install.md"),
};

impl Rule for UpdateWithoutInstall {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        let model = cx.model;
        let styles = FileStyles::new();
        // The uses of package indexes of each RUN that has some (by position), read once: a
        // file may have millions of RUNs and few of them touch an index.
        let uses: Vec<(usize, Vec<Use>)> = (model.runs.iter().enumerate())
            .map(|(at, run)| (at, index_uses(run)))
            .filter(|(_, run_uses)| !run_uses.is_empty())
            .collect();
        // Per index, the RUNs (by position) that install from it, in file order.
        let mut installs: Vec<(&PackageIndex, Vec<usize>)> = Vec::new();
        for &(at, ref run_uses) in &uses {
            for (index, use_, _) in run_uses {
                if !matches!(use_, IndexUse::Install { .. }) {
                    continue;
                }
                match installs.iter_mut().find(|(i, _)| std::ptr::eq(*i, *index)) {
                    Some((_, runs)) if runs.last() == Some(&at) => {}
                    Some((_, runs)) => runs.push(at),
                    None => installs.push((index, vec![at])),
                }
            }
        }
        // The first later RUN of the stage that installs from `index`.
        let next_install = |at: usize, index: &PackageIndex| -> Option<&Run> {
            let (_, runs) = installs.iter().find(|(i, _)| std::ptr::eq(*i, index))?;
            let next = runs[runs.partition_point(|&r| r <= at)..].first()?;
            let run = &model.runs[*next];
            (run.stage == model.runs[at].stage).then_some(run)
        };
        for (at, run_uses) in &uses {
            let (at, run) = (*at, &model.runs[*at]);
            for (index, refresh) in lone_refreshes(run, run_uses) {
                let install = next_install(at, index);
                report(cx, run, (index, install), refresh, &styles);
            }
        }
    }
}

/// A package index a command uses, how, and the command.
type Use = (&'static PackageIndex, IndexUse, Span);

fn index_uses(run: &Run) -> Vec<Use> {
    let Some(script) = &run.script else {
        return Vec::new();
    };
    run.effects
        .steps
        .iter()
        // A step of no index tool is ruled out before its arguments are gathered.
        .filter(|step| indexes::is_index_tool(&step.name))
        .filter_map(|step| {
            let args: Vec<&str> = step.args(script).iter().map(|w| w.value.as_str()).collect();
            let (index, use_) = indexes::index_use(&step.name, &args)?;
            Some((index, use_, script.commands[step.command].span.clone()))
        })
        .collect()
}

/// The refreshes of an index that nothing after them in the RUN installs from or removes.
fn lone_refreshes(run: &Run, uses: &[Use]) -> Vec<(&'static PackageIndex, Span)> {
    // Per use, whether a later use of the RUN installs from its index: one pass from the end.
    let mut installed_later: Vec<&PackageIndex> = Vec::new();
    let mut followed = vec![false; uses.len()];
    for (k, (index, use_, _)) in uses.iter().enumerate().rev() {
        followed[k] = installed_later.iter().any(|i| std::ptr::eq(*i, *index));
        if matches!(use_, IndexUse::Install { .. }) && !followed[k] {
            installed_later.push(index);
        }
    }
    let refreshes: Vec<&Use> = uses
        .iter()
        .zip(followed)
        .filter(|((_, use_, _), followed)| *use_ == IndexUse::Refresh && !followed)
        .map(|(u, _)| u)
        .collect();
    if refreshes.is_empty() {
        return Vec::new();
    }
    // What the RUN removes after a refresh, weighed by path.
    let targets: Vec<(&str, Option<usize>)> = refreshes
        .iter()
        .map(|(index, _, span)| (index.dir, Some(span.start)))
        .collect();
    let removed = run
        .effects
        .removes_each(&targets)
        .unwrap_or_else(|| vec![true; targets.len()]);
    refreshes
        .into_iter()
        .zip(removed)
        .filter(|(_, removed)| !removed)
        .map(|((index, _, span), _)| (*index, span.clone()))
        .collect()
}

/// The file's heredoc delimiter and chaining style, found once (each is a scan of the file).
type FileStyles = std::cell::OnceCell<(Option<merge::Delimiter>, merge::Style)>;

fn report(
    cx: &mut Ctx,
    run: &Run,
    (index, install): (&PackageIndex, Option<&Run>),
    refresh: Span,
    styles: &FileStyles,
) {
    let refresh_text = cx.text(refresh.clone()).to_string();
    let df = cx.df;
    let adjacent = install.filter(|i| {
        i.instruction == run.instruction + 1
            && cx.df.instructions[i.instruction].keyword == Keyword::Run
            && model::merge::same_flags(cx.df, run, i)
    });
    let mut unsafe_because = None;
    let fix = adjacent.and_then(|install| match model::merge::join(cx.df, run, install) {
        Join::Impossible(why) => {
            unsafe_because = Some(format!("no fix: {why}"));
            None
        }
        Join::Possible {
            subshell, doubts, ..
        } => {
            let first = &cx.df.instructions[run.instruction];
            let second = &cx.df.instructions[install.instruction];
            let (delimiter, house) = styles.get_or_init(|| {
                (
                    merge::heredoc_style(cx.file, cx.df),
                    merge::Style::house(cx.file, cx.df),
                )
            });
            let edits = merge::join_adjacent(
                cx.file,
                cx.df,
                first,
                second,
                !subshell.is_empty(),
                delimiter.as_ref(),
                house,
            )?;
            let title = "Refresh the index in the RUN that installs (merge the two RUNs)";
            Some(match doubts.first() {
                None => Fix::safe(title, edits),
                Some(doubt) => {
                    unsafe_because = Some(format!("the fix is unsafe because {}", doubt.reason));
                    Fix::unsafe_(format!("{title} (may change what the build does)"), edits)
                }
            })
        }
    });
    let help = match (install, adjacent) {
        (Some(_), Some(_)) => "refresh the index in the RUN that installs: merge this RUN into the next one".to_string(),
        (Some(_), None) => format!(
            "refresh the index in the RUN that installs: `{} && …` there, and drop this refresh",
            index.refresh_command
        ),
        (None, _) => format!(
            "nothing later in this stage installs from it: drop it, or run `{}` in the RUN that installs",
            index.refresh_command
        ),
    };
    let help = match unsafe_because {
        Some(why) => format!("{help}; {why}"),
        None => help,
    };
    let message = match install {
        Some(_) => format!(
            "`{refresh_text}` refreshes the package index in a RUN that installs nothing from it: the layer caches the index apart from the install, which then reads an index as old as the cached layer"
        ),
        None => format!(
            "`{refresh_text}` refreshes the package index, and nothing after it in this stage installs from it: the index only adds to the layer"
        ),
    };
    let diagnostic = cx.report(refresh, message).help(help);
    if let Some(install) = install {
        let instruction = &df.instructions[install.instruction];
        diagnostic
            .label(
                instruction.keyword_span.start..instruction.line_end,
                "installs from the index",
            )
            .anchor(instruction.span.clone());
    }
    if let Some(fix) = fix {
        diagnostic.fix(fix);
    }
}
