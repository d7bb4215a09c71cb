//! RUN instructions that follow each other with the same flags: one layer each, where one
//! would do.

use crate::fix::{Edit, Fix};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};
use crate::syntax::dockerfile::{Command, Instruction, Keyword};
use crate::syntax::shell::{self, Shape};

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
        for stage in &cx.model.stages {
            let range = stage.instructions.clone();
            for i in range.start + 1..range.end {
                let (first, second) = (&cx.df.instructions[i - 1], &cx.df.instructions[i]);
                if first.keyword != Keyword::Run || second.keyword != Keyword::Run || !same_flags(first, second) {
                    continue;
                }
                let fix = (!stage.windows).then(|| merge(cx, i - 1, i)).flatten();
                let diagnostic = cx
                    .report(second.keyword_span.start..second.line_end, "this RUN follows another RUN with the same flags: two layers where one would do")
                    .label(first.keyword_span.clone(), "previous RUN")
                    .help("chain the commands with `&&` in one RUN; each RUN adds a layer and a cache step");
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

/// The fix joining `second` onto `first` with `&&`, when that runs exactly the same commands.
fn merge(cx: &Ctx, first: usize, second: usize) -> Option<Fix> {
    let (a, b) = (&cx.df.instructions[first], &cx.df.instructions[second]);
    let (Some(Command::Shell(a_body)), Some(Command::Shell(b_body))) = (a.command(), b.command()) else {
        return None;
    };
    if !a.heredocs.is_empty() || !b.heredocs.is_empty() || cx.df.escape != '\\' {
        return None;
    }
    let a_shape = Shape::of(a_body.as_str())?;
    let b_shape = Shape::of(b_body.as_str())?;
    // `A && B` must run B exactly when B would have run: B is an and-list, and A leaves no
    // shell state behind (directory, variables, options) and does not end in an operator.
    if a_shape.comment || a_shape.trailing_operator || b_shape.comment || !b_shape.and_list_only {
        return None;
    }
    let run = cx.model.run_at(first)?;
    if run.script.as_ref().is_none_or(|s| s.fallback.is_some()) || changes_shell_state(run.commands()) || a_shape.assignment {
        return None;
    }
    let between = a.span.end..b.args_text.to_file(0);
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
    let style = Style::for_merge(a, cx);
    let newline = cx.file.newline();
    let mut joint = String::new();
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
    Some(Fix::safe("Merge into the previous RUN", vec![Edit::replace(between, joint)]))
}

fn is_pragma(comment: &str) -> bool {
    let body = comment.trim_start_matches('#').trim_start();
    body.starts_with("docklint") || body.starts_with("hadolint") || body.starts_with("check=")
}

/// Commands whose effect outlives them in the shell: merging would carry it into the next RUN.
fn changes_shell_state(commands: &[shell::Command]) -> bool {
    const STATEFUL: &[&str] = &[
        "cd", "pushd", "popd", "export", "unset", "set", "source", ".", "umask", "alias", "unalias", "shopt", "ulimit", "trap",
        "readonly", "declare", "typeset", "local", "eval", "exec", "exit", "return", "shift", "hash",
    ];
    commands.iter().any(|c| STATEFUL.contains(&c.program.value.as_str()))
}

/// How a RUN continues its lines: indentation, and `&&` leading or trailing.
#[derive(Debug, PartialEq, Eq)]
struct Style {
    indent: String,
    leading_operator: bool,
}

impl Style {
    /// The style of the previous RUN; if it shows none, that of the file's other RUNs; else
    /// four spaces and a leading `&&`.
    fn for_merge(previous: &Instruction, cx: &Ctx) -> Style {
        let runs = cx.df.instructions.iter().filter(|i| i.keyword == Keyword::Run);
        std::iter::once(previous)
            .chain(runs)
            .find_map(|run| Style::of(cx.text(run.span.clone())))
            .unwrap_or(Style { indent: "    ".into(), leading_operator: true })
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
