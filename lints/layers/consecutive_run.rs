//! RUN instructions that follow each other with the same flags: one layer each, where one
//! would do. Whether joining them is equivalent is the model's call (`model::merge`).

use crate::fix::{Edit, Fix};
use crate::model::merge::{self, Join};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};
use crate::syntax::dockerfile::{Instruction, Keyword};

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
        let mut file_style: Option<Option<Style>> = None;
        for stage in &cx.model.stages {
            let range = stage.instructions.clone();
            for i in range.start + 1..range.end {
                let (first, second) = (&cx.df.instructions[i - 1], &cx.df.instructions[i]);
                if first.keyword != Keyword::Run || second.keyword != Keyword::Run || !same_flags(first, second) {
                    continue;
                }
                let (Some(a), Some(b)) = (cx.model.run_at(i - 1), cx.model.run_at(i)) else {
                    continue;
                };
                let join = merge::join(cx.df, a, b);
                let style = Style::of(cx.text(first.span.clone())).unwrap_or_else(|| {
                    file_style
                        .get_or_insert_with(|| Style::of_file(cx))
                        .clone()
                        .unwrap_or_default()
                });
                let (fix, help) = match &join {
                    Join::Impossible(why) => (None, format!("chain the commands with `&&` in one RUN; no fix: {why}")),
                    Join::Possible { subshell, doubts } => {
                        let fix = merge_fix(cx, first, second, !subshell.is_empty(), &style);
                        let help = match (doubts.first(), subshell.first()) {
                            (Some(doubt), _) => format!(
                                "chain the commands with `&&` in one RUN; the fix is unsafe because {}",
                                doubt.reason
                            ),
                            (None, Some(state)) => format!(
                                "chain the commands with `&&` in one RUN; the fix runs the first part in a subshell because {}",
                                state.reason.trim_end_matches(" (kept in a subshell)")
                            ),
                            (None, None) => "chain the commands with `&&` in one RUN; each RUN adds a layer and a cache step".to_string(),
                        };
                        let fix = fix.map(|edits| match doubts.first() {
                            None => Fix::safe("Merge into the previous RUN", edits),
                            Some(_) => Fix::unsafe_("Merge into the previous RUN (may change what the build does)", edits),
                        });
                        (fix, help)
                    }
                };
                let diagnostic = cx
                    .report(second.keyword_span.start..second.line_end, "this RUN follows another RUN with the same flags: two layers where one would do")
                    .label(first.keyword_span.clone(), "previous RUN")
                    .anchor(first.span.clone())
                    .help(help);
                if let Join::Possible { doubts, .. } = &join {
                    for doubt in doubts.iter().take(3) {
                        diagnostic.label(doubt.span.clone(), doubt.reason.clone());
                    }
                }
                if let Some(fix) = fix {
                    diagnostic.fix(fix);
                }
            }
        }
    }
}

fn same_flags(a: &Instruction, b: &Instruction) -> bool {
    let strings = |i: &Instruction| {
        let mut v: Vec<String> = i.flags.iter().map(|f| f.buildkit_string()).collect();
        v.sort();
        v
    };
    strings(a) == strings(b)
}

/// The edits joining `second` onto `first` with `&&` (the first in a subshell when it leaves
/// shell state), comments between them kept inside; `None` when a suppression comment sits
/// between them.
fn merge_fix(cx: &Ctx, first: &Instruction, second: &Instruction, subshell: bool, style: &Style) -> Option<Vec<Edit>> {
    let between = first.span.end..second.args_text.to_file(0);
    let comments: Vec<&str> = cx
        .df
        .comments
        .iter()
        .filter(|c| between.start <= c.span.start && c.span.end <= between.end)
        .map(|c| &cx.file.text[c.span.clone()])
        .collect();
    if comments.iter().any(|c| is_pragma(c)) {
        return None;
    }
    let newline = cx.file.newline();
    let mut joint = String::new();
    if subshell {
        joint.push(')');
    }
    joint.push_str(if style.leading_operator { " \\" } else { " && \\" });
    joint.push_str(newline);
    for comment in comments {
        joint.push_str(&style.indent);
        joint.push_str(comment.trim());
        joint.push_str(newline);
    }
    joint.push_str(&style.indent);
    if style.leading_operator {
        joint.push_str("&& ");
    }
    let mut edits = vec![Edit::replace(between, joint)];
    if subshell {
        edits.push(Edit::insert(first.args_text.to_file(0), "("));
    }
    Some(edits)
}

fn is_pragma(comment: &str) -> bool {
    let body = comment.trim_start_matches('#').trim_start();
    body.starts_with("docklint") || body.starts_with("hadolint") || body.starts_with("check=")
}

/// How a RUN continues its lines: indentation, and `&&` leading or trailing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Style {
    indent: String,
    leading_operator: bool,
}

impl Default for Style {
    /// Four spaces and a leading `&&`.
    fn default() -> Self {
        Style { indent: "    ".into(), leading_operator: true }
    }
}

impl Style {
    /// The style of the file's first RUN that shows one.
    fn of_file(cx: &Ctx) -> Option<Style> {
        cx.df.instructions.iter().filter(|i| i.keyword == Keyword::Run).find_map(|run| Style::of(cx.text(run.span.clone())))
    }

    /// The first continuation line that starts with `&&`/`||`, or follows one ending in `&& \`.
    fn of(run_text: &str) -> Option<Style> {
        let lines: Vec<&str> = run_text.lines().collect();
        let continued = |line: &str| line.trim_end().ends_with('\\');
        let indent = |line: &str| line[..line.len() - line.trim_start().len()].to_string();
        let pairs = || lines.windows(2).filter(|w| continued(w[0]));
        let leading = pairs().map(|w| w[1]).find(|l| matches!(l.trim_start().get(..2), Some("&&" | "||")));
        if let Some(line) = leading {
            return Some(Style { indent: indent(line), leading_operator: true });
        }
        let trailing = pairs().find(|w| w[0].trim_end().trim_end_matches('\\').trim_end().ends_with("&&"));
        trailing.map(|w| Style { indent: indent(w[1]), leading_operator: false })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_of_continued_runs() {
        let leading = "RUN apt-get update \\\n\t&& apt-get install -y \\\n\t\tcurl";
        assert_eq!(Style::of(leading), Some(Style { indent: "\t".into(), leading_operator: true }));
        let trailing = "RUN a && \\\n  b --flag \\\n      --other";
        assert_eq!(Style::of(trailing), Some(Style { indent: "  ".into(), leading_operator: false }));
        assert_eq!(Style::of("RUN make"), None);
        assert_eq!(Style::of("RUN gem install \\\n  bundler"), None);
    }
}
