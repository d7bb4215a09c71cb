//! Joining one RUN's commands onto another RUN as text: `first && second` in the
//! continuation style the file already uses, the heredoc form in files written with
//! heredocs, or after the last line of a first RUN that is a heredoc script. Whether the
//! join means the same is the model's call (`model::merge`); this only writes it.

use std::borrow::Cow;

use compact_str::CompactString;
use smallvec::smallvec;

use super::{Edit, Edits};
use crate::source::{SourceFile, Span};
use crate::syntax::dockerfile::{Command, Dockerfile, Heredoc, Instruction, Keyword};

/// How a RUN continues its lines: indentation, and `&&` leading or trailing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    indent: String,
    leading_operator: bool,
}

impl Default for Style {
    /// Four spaces and a leading `&&`.
    fn default() -> Self {
        Style {
            indent: "    ".into(),
            leading_operator: true,
        }
    }
}

impl Style {
    /// The style of the file: of its first RUN that shows one, else the default. Computed once
    /// per file (a scan of every RUN) and handed to each merge, so n merges stay linear.
    pub fn house(file: &SourceFile, df: &Dockerfile) -> Style {
        df.instructions
            .iter()
            .filter(|i| i.keyword == Keyword::Run)
            .find_map(|i| Style::of(file.text.get(i.span.clone()).unwrap_or("")))
            .unwrap_or_default()
    }

    /// The style of `run`, else the file's (`house`), which is not copied.
    fn for_run<'h>(file: &SourceFile, run: &Instruction, house: &'h Style) -> Cow<'h, Style> {
        match Style::of(file.text.get(run.span.clone()).unwrap_or("")) {
            Some(style) => Cow::Owned(style),
            None => Cow::Borrowed(house),
        }
    }

    /// The first continuation line that starts with `&&`/`||`, or follows one ending in `&& \`.
    fn of(run_text: &str) -> Option<Style> {
        // One line continues nothing: most RUNs, and every RUN of a generated file.
        if !run_text.contains('\n') {
            return None;
        }
        let lines: Vec<&str> = run_text.lines().collect();
        let continued = |line: &str| line.trim_end().ends_with('\\');
        let indent = |line: &str| line[..line.len() - line.trim_start().len()].to_string();
        let pairs = || lines.windows(2).filter(|w| continued(w[0]));
        let leading = pairs()
            .map(|w| w[1])
            .find(|l| matches!(l.trim_start().get(..2), Some("&&" | "||")));
        if let Some(line) = leading {
            return Some(Style {
                indent: indent(line),
                leading_operator: true,
            });
        }
        let trailing = pairs().find(|w| {
            w[0].trim_end()
                .trim_end_matches('\\')
                .trim_end()
                .ends_with("&&")
        });
        trailing.map(|w| Style {
            indent: indent(w[1]),
            leading_operator: false,
        })
    }

    /// Appends ` && \` + newline + indent (+ `&& ` when leading), with `lines` in between.
    fn push_joint(&self, joint: &mut CompactString, newline: &str, lines: &[&str]) {
        joint.push_str(if self.leading_operator {
            " \\"
        } else {
            " && \\"
        });
        joint.push_str(newline);
        for line in lines {
            joint.push_str(&self.indent);
            joint.push_str(line.trim());
            joint.push_str(newline);
        }
        joint.push_str(&self.indent);
        if self.leading_operator {
            joint.push_str("&& ");
        }
    }
}

/// The heredoc delimiter a file's RUN heredocs use: `Some` when the file is written for the
/// Dockerfile frontend with heredocs (a `# syntax=docker/dockerfile` directive and a RUN
/// heredoc) and has LF line endings.
pub fn heredoc_style(file: &SourceFile, df: &Dockerfile) -> Option<Delimiter> {
    let frontend = df.directives.iter().any(|d| {
        d.name.eq_ignore_ascii_case("syntax")
            && d.value
                .trim()
                .trim_start_matches("docker.io/")
                .starts_with("docker/dockerfile")
    });
    if !frontend || file.newline() != "\n" {
        return None;
    }
    let heredoc = df
        .instructions
        .iter()
        .filter(|i| i.keyword == Keyword::Run)
        .find_map(|i| i.heredocs.first())?;
    Some(Delimiter {
        name: heredoc.name.clone(),
        quoted: !heredoc.expand,
    })
}

/// A heredoc delimiter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delimiter {
    name: String,
    quoted: bool,
}

impl Delimiter {
    fn marker(&self) -> String {
        if self.quoted {
            format!("<<'{}'", self.name)
        } else {
            format!("<<{}", self.name)
        }
    }
}

/// The comment lines between two instructions; `None` when one is a suppression comment
/// (a join would make it apply to the other RUN).
fn comments_between<'t>(
    file: &'t SourceFile,
    df: &Dockerfile,
    between: &Span,
) -> Option<Vec<&'t str>> {
    let comments: Vec<&str> = df
        .comments_within(between)
        .iter()
        .map(|c| &file.text[c.span.clone()])
        .collect();
    (!comments.iter().any(|c| is_pragma(c))).then_some(comments)
}

fn is_pragma(comment: &str) -> bool {
    let body = comment.trim_start_matches('#').trim_start();
    body.starts_with("docklint") || body.starts_with("hadolint") || body.starts_with("check=")
}

/// The edits joining `second` onto `first`, the RUN right before it (the first in a
/// subshell when `subshell`); comments between them are kept inside. `delimiter`: write
/// the heredoc form. `None` when a suppression comment sits between them or the text
/// cannot be joined.
pub fn join_adjacent(
    file: &SourceFile,
    df: &Dockerfile,
    first: &Instruction,
    second: &Instruction,
    subshell: bool,
    delimiter: Option<&Delimiter>,
    house: &Style,
) -> Option<Edits> {
    let second_body = shell_body_span(second)?;
    let between = first.span.end..second_body.start;
    let comments = comments_between(file, df, &between)?;
    if let Some(heredoc) = first.heredoc_script() {
        let body = heredoc_lines(file, df, second_body)?;
        return Some(smallvec![append_to_heredoc(
            file,
            heredoc,
            &comments,
            &body,
            subshell,
            second.span.end,
        )]);
    }
    let first_body = shell_body_span(first)?;
    if let Some(delimiter) = delimiter {
        let mut text = delimiter.marker();
        text.push('\n');
        let first_lines = heredoc_lines(file, df, first_body.clone())?;
        text.push_str(&if subshell {
            format!("({first_lines})")
        } else {
            first_lines
        });
        text.push_str(" &&\n");
        for comment in &comments {
            text.push_str(comment.trim());
            text.push('\n');
        }
        text.push_str(&heredoc_lines(file, df, second_body)?);
        text.push('\n');
        text.push_str(&delimiter.name);
        return Some(smallvec![Edit::replace(
            first_body.start..second.span.end,
            text
        )]);
    }
    let style = Style::for_run(file, first, house);
    // Most joints fit in an inline string: no allocation for a file's millions of them.
    let mut joint = CompactString::default();
    if subshell {
        joint.push(')');
    }
    style.push_joint(&mut joint, file.newline(), &comments);
    let mut edits: Edits = smallvec![Edit::replace(between, joint)];
    if subshell {
        edits.push(Edit::insert(first_body.start, "("));
    }
    Some(edits)
}

/// The edits moving `later`'s commands to the end of `first` (an earlier RUN, not
/// adjacent) and removing `later` with its line.
pub fn move_into(
    file: &SourceFile,
    df: &Dockerfile,
    first: &Instruction,
    later: &Instruction,
    subshell: bool,
    house: &Style,
) -> Option<Edits> {
    let later_body = shell_body_span(later)?;
    let removal = whole_lines(&file.text, later.span.clone());
    if let Some(heredoc) = first.heredoc_script() {
        let body = heredoc_lines(file, df, later_body)?;
        let append = append_to_heredoc(file, heredoc, &[], &body, subshell, heredoc.terminator.end);
        return Some(smallvec![append, Edit::delete(removal)]);
    }
    let first_body = shell_body_span(first)?;
    let style = Style::for_run(file, first, house);
    let mut text = CompactString::default();
    if subshell {
        text.push(')');
    }
    style.push_joint(&mut text, file.newline(), &[]);
    text.push_str(file.text.get(later_body)?);
    let mut edits: Edits = smallvec![Edit::insert(first_body.end, text), Edit::delete(removal)];
    if subshell {
        edits.push(Edit::insert(first_body.start, "("));
    }
    Some(edits)
}

/// Replaces the text from the end of the heredoc body's last line to `end` with ` &&`,
/// `comments`, `body` and the terminator: the script's last command runs `body` after it
/// (the script in a subshell when `subshell`).
fn append_to_heredoc(
    file: &SourceFile,
    heredoc: &Heredoc,
    comments: &[&str],
    body: &str,
    subshell: bool,
    end: usize,
) -> Edit {
    let body_end = heredoc.body.end;
    let last_line_end = body_end - usize::from(file.text[..body_end].ends_with('\n'));
    let mut text = String::new();
    let start = if subshell {
        text.push_str("(\n");
        text.push_str(&file.text[heredoc.body.start..last_line_end]);
        text.push_str("\n)");
        heredoc.body.start
    } else {
        last_line_end
    };
    text.push_str(" &&\n");
    for comment in comments {
        text.push_str(comment.trim());
        text.push('\n');
    }
    text.push_str(body);
    text.push('\n');
    text.push_str(&file.text[heredoc.terminator.clone()]);
    Edit::replace(start..end, text)
}

/// The file span of a shell-form RUN's command text (flags excluded), for RUNs without
/// heredocs.
fn shell_body_span(run: &Instruction) -> Option<Span> {
    match run.command() {
        Some(Command::Shell(body)) if run.heredocs.is_empty() => {
            Some(body.to_file(0)..body.to_file(body.len()))
        }
        _ => None,
    }
}

/// A RUN's command as lines of a heredoc script: its lines as written when the shell reads
/// them as the Dockerfile does (no comment, no continuation inside single quotes, no
/// comment line or empty line inside the instruction), else the one logical line.
fn heredoc_lines(file: &SourceFile, df: &Dockerfile, body: Span) -> Option<String> {
    let raw = file.text.get(body.clone())?;
    let inner_lines = !df.comments_within(&body).is_empty()
        || !df.empty_continuation_lines_within(&body).is_empty();
    if !inner_lines && continuations_survive(raw) {
        return Some(raw.to_string());
    }
    let instruction = df.instruction_holding(&body)?;
    match instruction.command() {
        Some(Command::Shell(logical)) => Some(logical.as_str().to_string()),
        _ => None,
    }
}

/// Whether a shell reading `raw` as a script joins its `\`-continued lines as the
/// Dockerfile parser does: no continuation inside single quotes, no comment.
fn continuations_survive(raw: &str) -> bool {
    let b = raw.as_bytes();
    let (mut single, mut double) = (false, false);
    let mut word_start = true;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if single {
            if c == b'\'' {
                single = false;
            } else if c == b'\\' && b.get(i + 1) == Some(&b'\n') {
                return false;
            }
            i += 1;
            continue;
        }
        match c {
            b'\\' => {
                i += 2;
                word_start = false;
                continue;
            }
            b'\'' if !double => single = true,
            b'"' => double = !double,
            b'#' if !double && word_start => return false,
            _ => {}
        }
        word_start = !double && matches!(c, b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(');
        i += 1;
    }
    !single && !double
}

/// `span` widened to whole lines, with the line ending after it.
fn whole_lines(text: &str, span: Span) -> Span {
    let start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let end = text[span.end..]
        .find('\n')
        .map_or(text.len(), |i| span.end + i + 1);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_of_continued_runs() {
        let leading = "RUN apt-get update \\\n\t&& apt-get install -y \\\n\t\tcurl";
        assert_eq!(
            Style::of(leading),
            Some(Style {
                indent: "\t".into(),
                leading_operator: true
            })
        );
        let trailing = "RUN a && \\\n  b --flag \\\n      --other";
        assert_eq!(
            Style::of(trailing),
            Some(Style {
                indent: "  ".into(),
                leading_operator: false
            })
        );
        assert_eq!(Style::of("RUN make"), None);
        assert_eq!(Style::of("RUN gem install \\\n  bundler"), None);
    }

    #[test]
    fn continuations_a_shell_reads_alike() {
        assert!(continuations_survive("apt-get install \\\n    curl"));
        assert!(continuations_survive("echo \"a \\\n b\""));
        assert!(!continuations_survive("echo 'a \\\n b'"));
        assert!(!continuations_survive("make # build \\\n && echo"));
        assert!(continuations_survive("echo a#b"));
    }
}
