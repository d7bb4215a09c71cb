//! `--diff`: unified diffs read off the fixes' [`Region`]s, in time linear in the size of
//! the files (no line-diff search), with three lines of context as `diff -u` and git give.
//!
//! Plain, it is a patch (`git apply`, `patch -p1` take it) and keeps every byte. Painted
//! (`--color`, a terminal), hidden characters are escaped, like everything else shown.

use std::ops::Range;
use std::path::Path;

use super::escape;
use super::paint::Paint;
use crate::changes::Region;
use crate::source::SourceFile;

const CONTEXT: usize = 3;

/// Changed lines: old lines replaced by new lines (0-based, end exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    old: Range<usize>,
    new: Range<usize>,
}

/// Appends the diff of `original` → `fixed` to `out`; nothing when they are equal.
pub fn render(
    path: &Path,
    original: &SourceFile,
    fixed: &SourceFile,
    regions: &[Region],
    paint: Paint,
    out: &mut String,
) {
    let blocks = blocks(original, fixed, regions);
    if blocks.is_empty() {
        return;
    }
    push_header(path, true, paint, out);
    let old_total = line_total(original);
    let mut group_start = 0;
    for i in 0..blocks.len() {
        let last_of_group = blocks
            .get(i + 1)
            .is_none_or(|next| next.old.start - blocks[i].old.end > 2 * CONTEXT);
        if last_of_group {
            hunk(
                &blocks[group_start..=i],
                original,
                fixed,
                old_total,
                paint,
                out,
            );
            group_start = i + 1;
        }
    }
}

/// Appends the diff of a build-context file a fix changed or created (`before` is `None`:
/// compared with /dev/null). Its one changed region runs from the first byte that differs
/// to the last, which is enough for the few lines a fix adds to a `.dockerignore`.
pub fn render_file(path: &Path, before: Option<&str>, after: &str, paint: Paint, out: &mut String) {
    // `./x` is shown as `x`.
    let path: std::path::PathBuf = path
        .components()
        .skip_while(|c| matches!(c, std::path::Component::CurDir))
        .collect();
    let original = SourceFile::new(path.clone(), before.unwrap_or("").to_string());
    let fixed = SourceFile::new(path.clone(), after.to_string());
    let (old, new) = (original.text.as_bytes(), fixed.text.as_bytes());
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    if prefix == old.len() && prefix == new.len() {
        return;
    }
    // Region ends on character boundaries: back off to the start of a UTF-8 sequence.
    let mut start = prefix;
    while !(original.text.is_char_boundary(start) && fixed.text.is_char_boundary(start)) {
        start -= 1;
    }
    let region = Region {
        original: start..old.len() - suffix,
        fixed: start..new.len() - suffix,
    };
    let blocks = blocks(&original, &fixed, std::slice::from_ref(&region));
    if blocks.is_empty() {
        return;
    }
    push_header(&path, before.is_some(), paint, out);
    hunk(
        &blocks,
        &original,
        &fixed,
        line_total(&original),
        paint,
        out,
    );
}

/// `--- a/path` and `+++ b/path`: git-style prefixes for relative paths, an absolute path
/// as it is, `/dev/null` for a file that did not exist.
fn push_header(path: &Path, existed: bool, paint: Paint, out: &mut String) {
    let name = if paint.on() {
        escape::path(path)
    } else {
        path.to_string_lossy().into_owned()
    };
    let (old, new) = if path.is_absolute() {
        (name.clone(), name)
    } else {
        (format!("a/{name}"), format!("b/{name}"))
    };
    let old = if existed { old } else { "/dev/null".into() };
    out.push_str(&paint.bold(&format!("--- {old}\n+++ {new}\n")));
}

fn hunk(
    blocks: &[Block],
    original: &SourceFile,
    fixed: &SourceFile,
    old_total: usize,
    paint: Paint,
    out: &mut String,
) {
    let (first, last) = (&blocks[0], &blocks[blocks.len() - 1]);
    let old_start = first.old.start.saturating_sub(CONTEXT);
    let old_end = (last.old.end + CONTEXT).min(old_total);
    let new_start = first.new.start - (first.old.start - old_start);
    let new_end = last.new.end + (old_end - last.old.end);
    let header = format!(
        "@@ -{} +{} @@\n",
        range_of(old_start, old_end),
        range_of(new_start, new_end)
    );
    out.push_str(&paint.cyan(&header));
    let mut at = old_start;
    for block in blocks {
        for line in at..block.old.start {
            push_line(out, ' ', original, line, paint);
        }
        for line in block.old.clone() {
            push_line(out, '-', original, line, paint);
        }
        for line in block.new.clone() {
            push_line(out, '+', fixed, line, paint);
        }
        at = block.old.end;
    }
    for line in at..old_end {
        push_line(out, ' ', original, line, paint);
    }
}

/// `start,length` as unified diffs write it (1-based; an empty range names the line before).
fn range_of(start: usize, end: usize) -> String {
    match end - start {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        n => format!("{},{n}", start + 1),
    }
}

fn push_line(out: &mut String, mark: char, file: &SourceFile, line: usize, paint: Paint) {
    let text = file.text.as_str();
    let start = file.lines.line_start(line).unwrap_or(text.len());
    let end = file.lines.line_start(line + 1).unwrap_or(text.len());
    let raw = &text[start..end];
    let content = raw.strip_suffix('\n').unwrap_or(raw);
    let mut shown = String::with_capacity(raw.len() + 2);
    shown.push(mark);
    if paint.on() {
        shown.push_str(&escape::escape(
            content.strip_suffix('\r').unwrap_or(content),
        ));
    } else {
        shown.push_str(content);
    }
    let shown = match mark {
        '-' => paint.red(&shown),
        '+' => paint.green(&shown),
        _ => shown,
    };
    out.push_str(&shown);
    out.push('\n');
    if !raw.ends_with('\n') {
        out.push_str("\\ No newline at end of file\n");
    }
}

/// Lines holding text or a line break (a final line break does not start one).
fn line_total(file: &SourceFile) -> usize {
    let count = file.lines.line_count();
    match file.lines.line_start(count - 1) {
        Some(start) if start == file.text.len() => count - 1,
        _ => count,
    }
}

/// The regions widened to whole lines (the text around a region is equal in both files, so
/// both sides widen alike), merged where they share a line.
fn blocks(original: &SourceFile, fixed: &SourceFile, regions: &[Region]) -> Vec<Block> {
    let mut widened: Vec<(Range<usize>, Range<usize>)> = Vec::new();
    for region in regions {
        let merged = match widened.last_mut() {
            Some((old_lines, new_lines)) if region.original.start < old_lines.end => {
                let (a, c) = (old_lines.start, new_lines.start);
                Some(widen(
                    original,
                    fixed,
                    a..region.original.end,
                    c..region.fixed.end,
                ))
            }
            _ => None,
        };
        match merged {
            Some(lines) => *widened.last_mut().expect("merged into the last") = lines,
            None => widened.push(widen(
                original,
                fixed,
                region.original.clone(),
                region.fixed.clone(),
            )),
        }
    }
    let old_total = line_total(original);
    let new_total = line_total(fixed);
    let line = |file: &SourceFile, total: usize, at: usize| {
        if at >= file.text.len() {
            total
        } else {
            file.lines.line_of(at)
        }
    };
    widened
        .into_iter()
        .map(|(o, n)| Block {
            old: line(original, old_total, o.start)..line(original, old_total, o.end),
            new: line(fixed, new_total, n.start)..line(fixed, new_total, n.end),
        })
        .filter(|b| !b.old.is_empty() || !b.new.is_empty())
        .collect()
}

/// Widens a region to the whole lines it touches, on both sides.
fn widen(
    original: &SourceFile,
    fixed: &SourceFile,
    region: Range<usize>,
    replacement: Range<usize>,
) -> (Range<usize>, Range<usize>) {
    let at_line_start = |text: &str, at: usize| at == 0 || text.as_bytes()[at - 1] == b'\n';
    let lines = &original.lines;
    let a = lines.line_start(lines.line_of(region.start)).unwrap_or(0);
    let c = replacement.start - (region.start - a);
    if at_line_start(&original.text, region.end) && at_line_start(&fixed.text, replacement.end) {
        return (a..region.end, c..replacement.end);
    }
    let b = lines
        .line_start(lines.line_of(region.end) + 1)
        .unwrap_or(original.text.len());
    (a..b, c..replacement.end + (b - region.end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::tests::splice;
    use crate::changes::Changes;

    fn diff(original: &str, edits: &[(Range<usize>, &str)]) -> String {
        let fixed = splice(original, edits);
        let mut changes = Changes::unchanged(original.len());
        let replacements: Vec<_> = edits.iter().map(|(r, c)| (r.clone(), c.len())).collect();
        changes.apply(&replacements);
        let mut out = String::new();
        render(
            Path::new("Dockerfile"),
            &SourceFile::new("Dockerfile", original.to_string()),
            &SourceFile::new("Dockerfile", fixed),
            &changes.regions(original.len()),
            Paint::new(false),
            &mut out,
        );
        out
    }

    #[test]
    fn a_change_inside_a_line_shows_the_whole_line_with_context() {
        let text: String = (1..=10).map(|i| format!("RUN echo {i}\n")).collect();
        let at = text.find("echo 5").unwrap();
        assert_eq!(
            diff(&text, &[(at..at + 4, "printf")]),
            "--- a/Dockerfile\n+++ b/Dockerfile\n@@ -2,7 +2,7 @@\n RUN echo 2\n RUN echo 3\n \
             RUN echo 4\n-RUN echo 5\n+RUN printf 5\n RUN echo 6\n RUN echo 7\n RUN echo 8\n"
        );
    }

    #[test]
    fn distant_changes_are_separate_hunks_and_near_ones_merge() {
        let text: String = (1..=20).map(|i| format!("L{i}\n")).collect();
        let l2 = text.find("L2\n").unwrap();
        let l4 = text.find("L4\n").unwrap();
        let l19 = text.find("L19\n").unwrap();
        let out = diff(
            &text,
            &[
                (l2..l2 + 3, ""),
                (l4..l4, "new\n"),
                (l19..l19 + 4, "L19!\n"),
            ],
        );
        assert_eq!(
            out,
            "--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,6 +1,6 @@\n L1\n-L2\n L3\n+new\n L4\n L5\n L6\n\
             @@ -16,5 +16,5 @@\n L16\n L17\n L18\n-L19\n+L19!\n L20\n"
        );
    }

    #[test]
    fn a_missing_final_newline_is_marked() {
        let out = diff("FROM a\nRUN x", &[(11..12, "y")]);
        assert_eq!(
            out,
            "--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,2 +1,2 @@\n FROM a\n-RUN x\n\\ No newline at end of file\n+RUN y\n\\ No newline at end of file\n"
        );
    }
}
