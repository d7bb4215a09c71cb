//! Suppression comments: our own, hadolint's and BuildKit's `# check=skip=`.
//!
//! - `# docklint ignore=rule-a,family -- reason` on the line(s) before an instruction
//!   silences those rules on that instruction (`all` silences every rule);
//! - `# docklint ignore-file=rule-a` anywhere silences them in the whole file;
//! - `# hadolint ignore=DL3059` / `# hadolint global ignore=...` and `# check=skip=Name`
//!   silence the rules that are equivalents of theirs (by alias).
//!
//! Only our own comments are reported when unused: the others may serve their own tools.

use crate::fix::Edit;
use crate::lints;
use crate::rule::Diagnostic;
use crate::source::{SourceFile, Span};
use crate::syntax::dockerfile::Dockerfile;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Docklint,
    Hadolint,
    BuildkitCheck,
}

/// One name in a suppression comment.
#[derive(Debug, Clone)]
pub struct Suppression {
    pub origin: Origin,
    /// As written.
    pub name: String,
    /// Rule names it covers (empty for an unknown name).
    pub rules: Vec<&'static str>,
    /// The name in the file.
    pub name_span: Span,
    /// The whole comment line (for removing it).
    pub comment_span: Span,
    /// Instruction span it applies to; `None` for the whole file.
    pub scope: Option<Span>,
    pub used: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    pub items: Vec<Suppression>,
}

impl Suppressions {
    pub fn collect(text: &str, df: &Dockerfile) -> Suppressions {
        let mut items = Vec::new();
        for comment in df.comments.iter().filter(|c| !c.inside_instruction) {
            // Instructions are in file order: the first one after the comment, found by
            // bisection so that a file of n comments stays n log n.
            let next = df
                .instructions
                .partition_point(|i| i.span.start < comment.span.end);
            let scope = df.instructions.get(next).map(|i| i.span.clone());
            let raw = &text[comment.span.clone()];
            if let Some(NameList {
                origin,
                file_wide,
                names,
            }) = parse_comment(raw)
            {
                for (name, offset) in names {
                    let rules = resolve(origin, name);
                    let start = comment.span.start + offset;
                    items.push(Suppression {
                        origin,
                        name: name.to_string(),
                        rules,
                        name_span: start..start + name.len(),
                        comment_span: comment.span.clone(),
                        scope: if file_wide { None } else { scope.clone() },
                        used: false,
                    });
                }
            }
        }
        for directive in df.directives.iter().filter(|d| d.name == "check") {
            let raw = &text[directive.span.clone()];
            for part in directive.value.split(';') {
                let Some(skips) = part.trim().strip_prefix("skip=") else {
                    continue;
                };
                for name in skips.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    let offset = raw.find(name).unwrap_or(0);
                    let start = directive.span.start + offset;
                    items.push(Suppression {
                        origin: Origin::BuildkitCheck,
                        name: name.to_string(),
                        rules: resolve(Origin::BuildkitCheck, name),
                        name_span: start..start + name.len(),
                        comment_span: directive.span.clone(),
                        scope: None,
                        used: false,
                    });
                }
            }
        }
        Suppressions { items }
    }

    /// Drops suppressed diagnostics and marks the suppressions that did it.
    pub fn apply(&mut self, diagnostics: &mut Vec<Diagnostic>) {
        // Most files have none: their millions of findings are not walked through.
        if self.items.is_empty() {
            return;
        }
        // A scoped suppression covers one instruction, and instructions do not overlap:
        // sorted by scope, a diagnostic finds the ones covering it by bisection, so n
        // suppressions and m diagnostics cost (n + m) log n, not n × m.
        let mut scoped: Vec<(usize, usize, usize)> = Vec::new();
        let mut file_wide = Vec::new();
        for (i, s) in self.items.iter().enumerate() {
            match &s.scope {
                Some(scope) => scoped.push((scope.start, scope.end, i)),
                None => file_wide.push(i),
            }
        }
        scoped.sort_unstable();
        let items = &mut self.items;
        diagnostics.retain(|d| {
            let mut suppressed = false;
            let mut covers = |i: usize| {
                if items[i].rules.contains(&d.rule) {
                    items[i].used = true;
                    suppressed = true;
                }
            };
            file_wide.iter().for_each(|&i| covers(i));
            for at in std::iter::once(&d.span).chain(&d.anchors) {
                let mut k = scoped.partition_point(|&(start, _, _)| start <= at.start);
                while k > 0 && at.start <= scoped[k - 1].1 {
                    covers(scoped[k - 1].2);
                    k -= 1;
                }
            }
            !suppressed
        });
    }
}

/// The edit that silences `rule` on the instruction holding `offset`: the rule added to
/// the `# docklint ignore=` comment right above it, or such a comment inserted on a line of
/// its own above it, indented like it. None outside every instruction.
pub fn ignore_edit(file: &SourceFile, df: &Dockerfile, offset: usize, rule: &str) -> Option<Edit> {
    let text = &file.text;
    let at = df.instructions.partition_point(|i| i.span.end < offset);
    let instruction = df.instructions.get(at).filter(|i| i.span.start <= offset)?;
    let existing = Suppressions::collect(text, df)
        .items
        .into_iter()
        .filter(|s| s.origin == Origin::Docklint && s.scope.as_ref() == Some(&instruction.span))
        .max_by_key(|s| s.name_span.end);
    if let Some(last_name) = existing {
        return Some(Edit::insert(last_name.name_span.end, format!(",{rule}")));
    }
    let line_start = text[..instruction.span.start]
        .rfind('\n')
        .map_or(crate::source::bom_len(text), |i| i + 1);
    let indent = &text[line_start..instruction.span.start];
    let indent: String = indent.chars().take_while(|c| c.is_whitespace()).collect();
    Some(Edit::insert(
        line_start,
        format!("{indent}# docklint ignore={rule}{}", file.newline()),
    ))
}

/// The names one suppression comment lists, with their offsets in the comment.
struct NameList<'c> {
    origin: Origin,
    file_wide: bool,
    names: Vec<(&'c str, usize)>,
}

fn parse_comment(comment: &str) -> Option<NameList<'_>> {
    let body = comment.trim_start_matches('#');
    let words: Vec<(usize, &str)> = split_words(body)
        .into_iter()
        .map(|(i, w)| (i + comment.len() - body.len(), w))
        .collect();
    let (origin, file_wide, directive) = match words.as_slice() {
        [(_, "docklint"), directive, ..] => (Origin::Docklint, None, directive),
        [(_, "hadolint"), (_, "global"), directive, ..] => {
            (Origin::Hadolint, Some(true), directive)
        }
        [(_, "hadolint"), directive, ..] => (Origin::Hadolint, Some(false), directive),
        _ => return None,
    };
    let (at, word) = *directive;
    let (file_wide, prefix) = match (origin, file_wide) {
        (Origin::Docklint, _) if word.starts_with("ignore-file=") => (true, "ignore-file="),
        (Origin::Docklint, _) if word.starts_with("ignore=") => (false, "ignore="),
        (Origin::Hadolint, Some(file_wide)) if word.starts_with("ignore=") => {
            (file_wide, "ignore=")
        }
        _ => return None,
    };
    let list_start = at + prefix.len();
    Some(NameList {
        origin,
        file_wide,
        names: split_names(&comment[list_start..], list_start),
    })
}

fn split_words(s: &str) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
        match (c.is_whitespace(), start) {
            (true, Some(st)) => {
                words.push((st, &s[st..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    words
}

/// Comma-separated names, blanks allowed after commas; the list ends at ` -- reason` or at
/// the first name followed by other words.
fn split_names(list: &str, offset: usize) -> Vec<(&str, usize)> {
    let list = list.split(" --").next().unwrap_or("");
    let mut names = Vec::new();
    let mut at = 0;
    for part in list.split(',') {
        let lead = part.len() - part.trim_start().len();
        let name = part.split_whitespace().next().unwrap_or("");
        if !name.is_empty() {
            names.push((name, offset + at + lead));
        }
        if part.trim().contains(char::is_whitespace) {
            break;
        }
        at += part.len() + 1;
    }
    names
}

fn resolve(origin: Origin, name: &str) -> Vec<&'static str> {
    let rules = lints::rules();
    match origin {
        Origin::Docklint => rules
            .iter()
            .map(|r| r.meta())
            .filter(|m| name == "all" || m.name == name || m.family == name)
            .map(|m| m.name)
            .collect(),
        Origin::Hadolint | Origin::BuildkitCheck => rules
            .iter()
            .map(|r| r.meta())
            .filter(|m| m.aliases.iter().any(|a| a.eq_ignore_ascii_case(name)))
            .map(|m| m.name)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_our_and_hadolint_comments_with_offsets() {
        let c = "# docklint ignore=consecutive-run, cache -- merged later";
        let list = parse_comment(c).expect("a suppression");
        assert_eq!((list.origin, list.file_wide), (Origin::Docklint, false));
        let found: Vec<&str> = list
            .names
            .iter()
            .map(|(n, at)| &c[*at..*at + n.len()])
            .collect();
        assert_eq!(found, ["consecutive-run", "cache"]);
        let c = "# hadolint global ignore=DL3059,DL3008";
        let list = parse_comment(c).expect("a suppression");
        assert_eq!(
            (list.origin, list.file_wide, list.names[1].0),
            (Origin::Hadolint, true, "DL3008")
        );
        assert_eq!(&c[list.names[1].1..list.names[1].1 + 6], "DL3008");
        assert!(parse_comment("# docklint is great").is_none());
    }
}
