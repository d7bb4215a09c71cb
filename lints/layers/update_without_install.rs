//! A package index refreshed in a RUN that installs nothing from it. The build cache keeps
//! that layer as long as its text is the same, so a later install reads an index as old as
//! the cached layer: packages that moved on fail to download. Which commands refresh an
//! index and which install from it is the model's table (`model::indexes`).

use crate::fix::{merge, Fix};
use crate::model::indexes::{self, IndexUse, PackageIndex};
use crate::model::paths::PathPattern;
use crate::model::{self, merge::Join, Model, Run};
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
        for run in &model.runs {
            for (index, refresh) in lone_refreshes(run) {
                report(cx, run, index, refresh, &styles);
            }
        }
    }
}

/// The index refreshes of a RUN that no install of the same index follows in it.
fn lone_refreshes(run: &Run) -> Vec<(&'static PackageIndex, Span)> {
    let Some(script) = &run.script else {
        return Vec::new();
    };
    let uses: Vec<(&'static PackageIndex, IndexUse, Span)> = run
        .effects
        .steps
        .iter()
        // A step of no index tool is ruled out before its arguments are gathered.
        .filter(|step| indexes::is_index_tool(&step.name))
        .filter_map(|step| {
            let args: Vec<&str> = step.args(script).iter().map(|w| w.value.as_str()).collect();
            let (index, use_) = indexes::index_use(&step.name, &args)?;
            Some((index, use_, script.commands[step.command].span.clone()))
        })
        .collect();
    uses.iter()
        .enumerate()
        .filter(|(_, (_, use_, _))| *use_ == IndexUse::Refresh)
        .filter(|(_, (index, _, span))| !removed_after(run, index, span.start))
        .filter(|(i, (index, _, _))| {
            !uses[i + 1..].iter().any(|(other, use_, _)| {
                std::ptr::eq(*other, *index) && matches!(use_, IndexUse::Install { .. })
            })
        })
        .map(|(_, (index, _, span))| (*index, span.clone()))
        .collect()
}

/// Whether the RUN removes the index's files after `at` (`rm -rf /var/lib/apt/lists/*`,
/// `apt-get dist-clean`): no stale index is left for a later install.
fn removed_after(run: &Run, index: &PackageIndex, at: usize) -> bool {
    run.effects.paths.iter().any(|p| {
        p.span.start > at
            && p.kind.removes()
            && !matches!(p.path, PathPattern::Unknown)
            && (p.path.may_remove(index.dir) || p.path.may_be_within(index.dir))
    })
}

/// The first later RUN of the stage that installs from `index`.
fn next_install<'m>(model: &'m Model, run: &Run, index: &PackageIndex) -> Option<&'m Run> {
    model
        .runs
        .iter()
        .filter(|r| r.stage == run.stage && r.instruction > run.instruction)
        .find(|r| {
            let Some(script) = &r.script else {
                return false;
            };
            r.effects.steps.iter().any(|step| {
                let args: Vec<&str> = step.args(script).iter().map(|w| w.value.as_str()).collect();
                matches!(
                    indexes::index_use(&step.name, &args),
                    Some((other, IndexUse::Install { .. })) if std::ptr::eq(other, index)
                )
            })
        })
}

/// The file's heredoc delimiter and chaining style, found once (each is a scan of the file).
type FileStyles = std::cell::OnceCell<(Option<merge::Delimiter>, merge::Style)>;

fn report(cx: &mut Ctx, run: &Run, index: &PackageIndex, refresh: Span, styles: &FileStyles) {
    let refresh_text = cx.text(refresh.clone()).to_string();
    let (model, df) = (cx.model, cx.df);
    let install = next_install(model, run, index);
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
