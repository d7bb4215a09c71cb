//! Suppression comments: our own, hadolint's and BuildKit's `# check=skip=`.
//!
//! - `# docklint ignore=rule-a,family -- reason` on the line(s) before an instruction
//!   silences those rules on that instruction;
//! - `# docklint ignore-file=rule-a` anywhere silences them in the whole file;
//! - `# hadolint ignore=DL3059` / `# hadolint global ignore=...` and `# check=skip=Name`
//!   silence the rules that are equivalents of theirs (by alias).
//!
//! Only our own comments are reported when unused: the others may serve their own tools.

use crate::lints;
use crate::rule::Diagnostic;
use crate::source::Span;
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
            let scope = df
                .instructions
                .iter()
                .find(|i| i.span.start >= comment.span.end)
                .map(|i| i.span.clone());
            let raw = &text[comment.span.clone()];
            for (origin, file_wide, names) in parse_comment(raw) {
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
        diagnostics.retain(|d| {
            let mut suppressed = false;
            for s in &mut self.items {
                let in_scope = s
                    .scope
                    .as_ref()
                    .is_none_or(|scope| scope.start <= d.span.start && d.span.start <= scope.end);
                if in_scope && s.rules.contains(&d.rule) {
                    s.used = true;
                    suppressed = true;
                }
            }
            !suppressed
        });
    }
}

/// The suppression lists a comment carries: (origin, file-wide, [(name, offset in comment)]).
fn parse_comment(comment: &str) -> Vec<(Origin, bool, Vec<(&str, usize)>)> {
    let body = comment.trim_start_matches('#');
    let lead = comment.len() - body.len();
    let words: Vec<(usize, &str)> = split_words(body)
        .into_iter()
        .map(|(i, w)| (i + lead, w))
        .collect();
    let mut out = Vec::new();
    match words.as_slice() {
        [(_, "docklint"), (at, directive), ..] => {
            let (file_wide, list) = if let Some(list) = directive.strip_prefix("ignore-file=") {
                (true, list)
            } else if let Some(list) = directive.strip_prefix("ignore=") {
                (false, list)
            } else {
                return out;
            };
            let list_start = at + directive.len() - list.len();
            out.push((Origin::Docklint, file_wide, split_names(list, list_start)));
        }
        [(_, "hadolint"), rest @ ..] => {
            let (file_wide, rest) = match rest {
                [(_, "global"), rest @ ..] => (true, rest),
                rest => (false, rest),
            };
            if let Some((at, list)) = rest
                .first()
                .and_then(|(at, w)| w.strip_prefix("ignore=").map(|l| (at + 7, l)))
            {
                out.push((Origin::Hadolint, file_wide, split_names(list, at)));
            }
        }
        _ => {}
    }
    out
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

/// Comma-separated names (a ` -- reason` after them is not part of the list).
fn split_names(list: &str, offset: usize) -> Vec<(&str, usize)> {
    let mut names = Vec::new();
    let mut at = 0;
    for part in list.split(',') {
        let name = part.trim();
        if !name.is_empty() {
            names.push((name, offset + at + (part.len() - part.trim_start().len())));
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
            .filter(|m| m.name == name || m.family == name)
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
        let parsed = parse_comment(c);
        assert_eq!(parsed.len(), 1);
        let (origin, file_wide, names) = &parsed[0];
        assert_eq!((*origin, *file_wide), (Origin::Docklint, false));
        let found: Vec<&str> = names.iter().map(|(n, at)| &c[*at..*at + n.len()]).collect();
        assert_eq!(found, ["consecutive-run", "cache"]);
        let c = "# hadolint global ignore=DL3059,DL3008";
        let (origin, file_wide, names) = &parse_comment(c)[0];
        assert_eq!(
            (*origin, *file_wide, names[1].0),
            (Origin::Hadolint, true, "DL3008")
        );
        assert_eq!(&c[names[1].1..names[1].1 + 6], "DL3008");
        assert!(parse_comment("# docklint is great").is_empty());
    }
}
