//! Fixes: byte-range edits with a title and an applicability, applied until the file is
//! stable, reverted when they would break parsing.

pub mod merge;
pub mod shell;

use std::path::PathBuf;

use compact_str::CompactString;
use smallvec::SmallVec;
use thin_vec::ThinVec;

use crate::rule::{Diagnostic, Text};
use crate::source::{LineIndex, Position, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Might change what the build does; applied only with `--unsafe-fixes`.
    Unsafe,
    /// Never makes an image bigger, a build slower or a build fail.
    Safe,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    /// Most edits write a few characters (a joint, a flag): those are held inline.
    pub content: CompactString,
}

impl Edit {
    pub fn replace(span: Span, content: impl Into<CompactString>) -> Edit {
        Edit {
            span,
            content: content.into(),
        }
    }

    pub fn insert(at: usize, content: impl Into<CompactString>) -> Edit {
        Edit {
            span: at..at,
            content: content.into(),
        }
    }

    pub fn delete(span: Span) -> Edit {
        Edit {
            span,
            content: CompactString::default(),
        }
    }
}

/// An edit on a file of the build context (the `.dockerignore`) rather than the Dockerfile,
/// made against that file's text as the rule saw it (empty for a file it creates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    pub path: PathBuf,
    pub edit: Edit,
    /// Where the edit starts and ends in that text (for `--format json`).
    pub start: Position,
    pub end: Position,
}

impl FileEdit {
    pub fn new(path: PathBuf, text: &str, edit: Edit) -> FileEdit {
        let lines = LineIndex::new(text);
        FileEdit {
            path,
            start: lines.position(text, edit.span.start),
            end: lines.position(text, edit.span.end),
            edit,
        }
    }
}

/// A fix's edits: most fixes make one, held inline (a generated file can have millions of
/// fixes, and each would otherwise be an allocation of its own).
pub type Edits = SmallVec<[Edit; 1]>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub title: Text,
    pub applicability: Applicability,
    /// Sorted, non-overlapping.
    pub edits: Edits,
    /// Edits on other files; a fix has these or `edits`, not both.
    pub file_edits: ThinVec<FileEdit>,
    /// Set when the fix joins an instruction to the one before it.
    pub merge: Option<Merge>,
}

/// What a fix joining two instructions leaves for a join of the second one with the next:
/// along a chain of joins, those after a transparent one are applied in the same pass.
/// Otherwise every pass could join only every other pair, and a chain of n instructions
/// would take log2(n) passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// The first instruction may leave something (shell state, a program on PATH) that a
    /// command after the pair would notice: the next join is reasoned again on the result.
    Opaque,
    /// The first instruction leaves nothing a command after the pair could notice: a join of
    /// the second instruction with the next, reasoned on the second alone, holds for the pair.
    Transparent,
}

impl Fix {
    /// The title where a fix is offered on its own (an editor's quick fix, a SARIF fix): an
    /// unsafe one says so.
    pub fn offered_title(&self) -> String {
        match self.applicability {
            Applicability::Safe => self.title.to_string(),
            Applicability::Unsafe => format!("{} (unsafe fix)", self.title),
        }
    }

    pub fn safe(title: impl Into<Text>, edits: impl Into<Edits>) -> Fix {
        Fix::new(title, Applicability::Safe, edits.into())
    }

    pub fn unsafe_(title: impl Into<Text>, edits: impl Into<Edits>) -> Fix {
        Fix::new(title, Applicability::Unsafe, edits.into())
    }

    fn new(title: impl Into<Text>, applicability: Applicability, mut edits: Edits) -> Fix {
        edits.sort_by_key(|e| (e.span.start, e.span.end));
        Fix {
            title: title.into(),
            applicability,
            edits,
            file_edits: ThinVec::new(),
            merge: None,
        }
    }

    /// Marks the fix as a join of two instructions.
    pub fn merging(mut self, merge: Merge) -> Fix {
        self.merge = Some(merge);
        self
    }

    /// A fix that edits a file of the build context.
    pub fn on_file(title: impl Into<Text>, applicability: Applicability, edit: FileEdit) -> Fix {
        Fix {
            title: title.into(),
            applicability,
            edits: Edits::new(),
            file_edits: thin_vec::thin_vec![edit],
            merge: None,
        }
    }

    pub fn start(&self) -> usize {
        self.edits.first().map_or(0, |e| e.span.start)
    }

    pub fn end(&self) -> usize {
        self.edits.iter().map(|e| e.span.end).max().unwrap_or(0)
    }
}

/// The start of the line holding `offset` (after the BOM on the first line).
pub fn line_start(text: &str, offset: usize) -> usize {
    text[..offset]
        .rfind('\n')
        .map_or(crate::source::bom_len(text), |i| i + 1)
}

/// The start of the line after the one holding `offset` (the end of the text on the last).
pub fn next_line_start(text: &str, offset: usize) -> usize {
    text[offset..]
        .find('\n')
        .map_or(text.len(), |i| offset + i + 1)
}

/// Applies the fixes at or above `min` to `text`, in order, skipping any fix whose edits
/// overlap or touch one already taken. Returns the new text and the diagnostics whose
/// fixes were applied.
pub fn apply<'d>(
    text: &str,
    diagnostics: &'d [Diagnostic],
    min: Applicability,
) -> (String, Vec<&'d Diagnostic>) {
    apply_in_regions(text, diagnostics, min, |fix| fix.start()..fix.end())
}

/// [`apply`], where two fixes are applied in one pass only if their regions (the text each
/// fix was reasoned from, such as the instructions it edits) neither overlap nor touch:
/// each fix assumed the rest of its region unchanged. One exception: a join right after a
/// [`Merge::Transparent`] one, of the instruction that one joined into with the next, when
/// no other fix wanted the text between them.
pub fn apply_in_regions<'d>(
    text: &str,
    diagnostics: &'d [Diagnostic],
    min: Applicability,
    region: impl Fn(&Fix) -> Span,
) -> (String, Vec<&'d Diagnostic>) {
    let mut candidates: Vec<&Diagnostic> = diagnostics
        .iter()
        .filter(|d| {
            d.fix
                .as_ref()
                .is_some_and(|f| f.applicability >= min && !f.edits.is_empty())
        })
        .collect();
    // Of fixes starting together, the one reasoned on less text goes first: a cache mount on
    // a RUN before merging it with the next (the merge is then judged again, on the result).
    candidates.sort_by_key(|d| d.fix.as_ref().map(|f| (region(f).start, region(f).end)));
    // Where the fixes that are not joins start (in order): a join is chained only when none
    // of them wants its instructions, so that chaining never takes a join in place of one.
    let others: Vec<usize> = candidates
        .iter()
        .filter_map(|d| d.fix.as_ref().filter(|f| f.merge.is_none()))
        .map(|f| region(f).start)
        .collect();
    let contested = |region: &Span| {
        let from = others.partition_point(|&start| start < region.start);
        others.get(from).is_some_and(|&start| start <= region.end)
    };
    let mut taken: Vec<&Diagnostic> = Vec::new();
    let mut last: Option<Taken> = None;
    for diagnostic in candidates {
        let Some(fix) = &diagnostic.fix else { continue };
        let region = region(fix);
        let free = last.as_ref().is_none_or(|last| region.start > last.end);
        let chained = !free
            && last
                .as_ref()
                .is_some_and(|last| last.chains_to(fix, &region))
            && !contested(&region);
        if !(free || chained) {
            // Another fix wanted text of the last one's region: the chain stops there.
            if let Some(last) = &mut last {
                last.transparent = false;
            }
            continue;
        }
        if !edits_valid(text, &fix.edits) {
            continue;
        }
        last = Some(Taken {
            region_start: region.start,
            end: region.end.max(fix.end()),
            edits_end: fix.end(),
            transparent: fix.merge == Some(Merge::Transparent),
        });
        taken.push(diagnostic);
    }
    let edits: Vec<&Edit> = taken
        .iter()
        .filter_map(|d| d.fix.as_ref())
        .flat_map(|f| &f.edits)
        .collect();
    (splice(text, &edits), taken)
}

/// The last fix [`apply_in_regions`] took.
struct Taken {
    region_start: usize,
    /// The end of its region or edits, whichever is later.
    end: usize,
    edits_end: usize,
    /// A transparent join that no other fix has contested since.
    transparent: bool,
}

impl Taken {
    /// Whether `fix` joins the instruction this transparent join joined into with the next:
    /// a join whose region starts inside this one's, at a later instruction, and whose
    /// edits start where this one's end or after.
    fn chains_to(&self, fix: &Fix, region: &Span) -> bool {
        self.transparent
            && fix.merge.is_some()
            && region.start > self.region_start
            && fix.start() >= self.edits_end
    }
}

/// Edits must lie inside the text after any BOM (which no fix may touch), on character
/// boundaries, and not overlap each other.
fn edits_valid(text: &str, edits: &[Edit]) -> bool {
    let first = crate::source::bom_len(text);
    let inside = |e: &Edit| {
        first <= e.span.start
            && e.span.start <= e.span.end
            && e.span.end <= text.len()
            && text.is_char_boundary(e.span.start)
            && text.is_char_boundary(e.span.end)
    };
    edits.iter().all(inside) && edits.windows(2).all(|w| w[0].span.end <= w[1].span.start)
}

/// A file of the build context as fixes changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: PathBuf,
    /// The text before the first fix; `None` when a fix created the file.
    pub original: Option<String>,
    pub text: String,
}

/// Applies the file edits of the fixes at or above `min` to `changes`: per file, the first
/// fix's edits in diagnostic order (the others were made against text that has now changed;
/// the next pass makes them again). Returns how many fixes applied.
pub fn apply_file_edits<'d>(
    diagnostics: &'d [Diagnostic],
    min: Applicability,
    changes: &mut Vec<FileChange>,
) -> Vec<&'d Diagnostic> {
    let mut taken: Vec<&Diagnostic> = Vec::new();
    let mut touched: Vec<PathBuf> = Vec::new();
    for diagnostic in diagnostics {
        let Some(fix) = &diagnostic.fix else { continue };
        if fix.applicability < min
            || fix.file_edits.is_empty()
            || fix.file_edits.iter().any(|e| touched.contains(&e.path))
        {
            continue;
        }
        let mut staged: Vec<(usize, String)> = Vec::new();
        let mut valid = true;
        for file_edit in &fix.file_edits {
            let at = changes.iter().position(|c| c.path == file_edit.path);
            let current = match at {
                Some(i) => changes[i].text.clone(),
                None => std::fs::read(&file_edit.path)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default(),
            };
            if !edits_valid(&current, std::slice::from_ref(&file_edit.edit)) {
                valid = false;
                break;
            }
            let text = splice(&current, &[&file_edit.edit]);
            let index = at.unwrap_or_else(|| {
                let original = std::fs::read(&file_edit.path)
                    .ok()
                    .map(|b| String::from_utf8_lossy(&b).into_owned());
                changes.push(FileChange {
                    path: file_edit.path.clone(),
                    original,
                    text: current.clone(),
                });
                changes.len() - 1
            });
            staged.push((index, text));
        }
        if !valid {
            continue;
        }
        for (index, text) in staged {
            touched.push(changes[index].path.clone());
            changes[index].text = text;
        }
        taken.push(diagnostic);
    }
    taken
}

fn splice(text: &str, edits: &[&Edit]) -> String {
    let mut out =
        String::with_capacity(text.len() + edits.iter().map(|e| e.content.len()).sum::<usize>());
    let mut at = 0;
    for edit in edits {
        out.push_str(&text[at..edit.span.start]);
        out.push_str(&edit.content);
        at = edit.span.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Severity;

    fn diagnostic(edits: Vec<Edit>, applicability: Applicability) -> Diagnostic {
        Diagnostic {
            rule: "r",
            severity: Severity::Warning,
            span: 0..0,
            message: "".into(),
            help: None,
            labels: Default::default(),
            anchors: Default::default(),
            fix: Some(Fix::new("t", applicability, edits.into())),
        }
    }

    #[test]
    fn skips_overlapping_and_touching_fixes_and_unsafe_ones() {
        let text = "abcdef";
        let ds = vec![
            diagnostic(vec![Edit::replace(0..2, "X")], Applicability::Safe),
            diagnostic(vec![Edit::replace(2..3, "Y")], Applicability::Safe), // touches the first
            diagnostic(vec![Edit::insert(4, "Z")], Applicability::Safe),
            diagnostic(vec![Edit::delete(5..6)], Applicability::Unsafe),
        ];
        let (out, taken) = apply(text, &ds, Applicability::Safe);
        assert_eq!(out, "XcdZef");
        assert_eq!(taken.len(), 2);
        let (out, _) = apply(text, &ds, Applicability::Unsafe);
        assert_eq!(out, "XcdZe");
    }

    /// Joins of one-letter "instructions" separated by spaces: `join(k, …)` joins the k-th
    /// letter with the next by writing `+` for the space between them; its region is both
    /// letters.
    fn join(k: usize, merge: Merge) -> Diagnostic {
        let space = 2 * k + 1;
        let mut d = diagnostic(
            vec![Edit::replace(space..space + 1, "+")],
            Applicability::Safe,
        );
        d.fix = d.fix.map(|f| f.merging(merge));
        d
    }

    fn in_letters(ds: &[Diagnostic]) -> String {
        let region = |f: &Fix| match f.merge {
            Some(_) => f.start() - 1..f.end() + 1,
            None => f.start()..f.end(),
        };
        apply_in_regions("a b c d e f", ds, Applicability::Safe, region).0
    }

    #[test]
    fn joins_after_a_transparent_join_go_in_the_same_pass_unless_another_fix_wants_them() {
        use Merge::{Opaque, Transparent};
        // Every other join when the first parts may leave something behind.
        let opaque: Vec<_> = (0..5).map(|k| join(k, Opaque)).collect();
        assert_eq!(in_letters(&opaque), "a+b c+d e+f");
        // The whole chain when they leave nothing; an opaque join ends it after itself.
        let chain = [join(0, Transparent), join(1, Transparent), join(2, Opaque)];
        assert_eq!(in_letters(&chain), "a+b+c+d e f");
        let chain = [join(0, Transparent), join(1, Opaque), join(2, Transparent)];
        assert_eq!(in_letters(&chain), "a+b+c d e f");
        // A fix of another kind on a letter the next join would take: that fix goes first.
        let mut contested = vec![join(0, Transparent), join(1, Transparent)];
        contested.push(diagnostic(
            vec![Edit::replace(4..5, "C")],
            Applicability::Safe,
        ));
        assert_eq!(in_letters(&contested), "a+b C d e f");
    }

    #[test]
    fn never_touches_the_bom() {
        let text = "\u{feff}# x\nFROM a\n";
        let ds = vec![diagnostic(vec![Edit::delete(0..7)], Applicability::Safe)];
        assert_eq!(apply(text, &ds, Applicability::Safe).0, text);
    }
}
