//! What a diagnostic shows of its file, as a small text of its own that miette renders.
//!
//! Only the lines the labels touch are copied, with one line of context each side; a
//! label over many lines is cut after `MAX_LABEL_LINES`, a long line is shown as a window
//! around the label (`…` marks the cuts), and hidden characters are escaped. So rendering a
//! diagnostic costs the same in a 10-line file and in a 50 MB one, and nothing from the
//! file reaches the terminal raw. Line numbers and the header's column are the file's own
//! (columns count characters, as in every other format).

use std::borrow::Cow;
use std::ops::Range;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use super::escape::escape;
use crate::source::{bom_len, floor_char_boundary, SourceFile, Span};

/// Lines of one label shown before it is cut.
const MAX_LABEL_LINES: usize = 12;
/// Context lines shown around each label (miette asks for one).
const CONTEXT_LINES: usize = 1;
/// Bytes of a line shown at most; a longer line is shown as a window of this size.
pub(super) const MAX_LINE_BYTES: usize = 400;
/// Bytes kept before a label's start when a long line is windowed.
const LEAD_BYTES: usize = 60;
const CUT: &str = "…";

/// A piece of the file ready for miette: shown lines joined by `\n`.
pub struct Excerpt<'n> {
    name: Cow<'n, str>,
    text: String,
    lines: Vec<ShownLine>,
    /// 0-based character column in the file of each mapped label start, by its offset here.
    columns: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, Copy)]
struct ShownLine {
    /// Offset of the line in the excerpt.
    at: usize,
    /// Length in the excerpt, without the `\n`.
    len: usize,
    /// 0-based line in the file.
    line: usize,
    /// The part of the file's line shown.
    window: (usize, usize),
    cut_left: bool,
}

impl<'n> Excerpt<'n> {
    /// The excerpt of `file` that shows `spans`, and each span's range in it.
    pub fn new(
        name: impl Into<Cow<'n, str>>,
        file: &SourceFile,
        spans: &[Span],
    ) -> (Excerpt<'n>, Vec<Range<usize>>) {
        let text = file.text.as_str();
        // Each label's range, first and last line shown, and the line of its end (line
        // numbers looked up once: in a big file each lookup is a search of millions).
        let labels: Vec<(Span, usize, usize, usize)> = spans
            .iter()
            .map(|span| {
                let start = floor_char_boundary(text, span.start.min(text.len()));
                let end = floor_char_boundary(text, span.end.min(text.len())).max(start);
                let first = file.lines.line_of(start);
                let end_line = if end > start {
                    file.lines.line_of(end)
                } else {
                    first
                };
                // The line of the last byte: the one before `end`'s when `end` starts a line.
                let last = match file.lines.line_start(end_line) {
                    Some(at) if at == end && end_line > first => end_line - 1,
                    _ => end_line,
                };
                let last = last.min(first + MAX_LABEL_LINES - 1);
                (start..end, first, last, end_line)
            })
            .collect();
        let last_line = last_content_line(file);
        let mut wanted: Vec<(usize, usize)> = labels
            .iter()
            .map(|&(_, first, last, _)| {
                let end = (last + CONTEXT_LINES).min(last_line.max(last));
                (first.saturating_sub(CONTEXT_LINES), end)
            })
            .collect();
        wanted.sort_unstable();
        // Sized for the common case (a label's line and one each side) so it does not grow.
        let mut excerpt = Excerpt {
            name: name.into(),
            text: String::with_capacity(128),
            lines: Vec::with_capacity(3 * labels.len()),
            columns: Vec::with_capacity(labels.len()),
        };
        let mut next_line = 0;
        for (first, last) in wanted {
            for line in first.max(next_line)..=last {
                let anchor = labels
                    .iter()
                    .filter(|(_, l, _, _)| *l == line)
                    .map(|(s, _, _, _)| s.start)
                    .min();
                excerpt.push_line(file, line, anchor);
            }
            next_line = next_line.max(last + 1);
        }
        let ranges = labels
            .iter()
            .map(|&(ref span, first, last, end_line)| {
                let start = excerpt.map(text, (first, span.start), usize::MAX);
                let end = excerpt.map(text, (end_line, span.end), last).max(start);
                let column = file.lines.position_on(text, first, span.start).column - 1;
                excerpt.columns.push((start, column));
                start..end
            })
            .collect();
        (excerpt, ranges)
    }

    fn push_line(&mut self, file: &SourceFile, line: usize, anchor: Option<usize>) {
        let text = file.text.as_str();
        let (start, end) = line_content(file, line);
        let window = if end - start <= MAX_LINE_BYTES {
            (start, end)
        } else {
            let from = anchor
                .filter(|a| (start..=end).contains(a))
                .map_or(start, |a| a.saturating_sub(LEAD_BYTES).max(start));
            let from = floor_char_boundary(text, from);
            (
                from,
                floor_char_boundary(text, (from + MAX_LINE_BYTES).min(end)),
            )
        };
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        let at = self.text.len();
        let cut_left = window.0 > start;
        if cut_left {
            self.text.push_str(CUT);
        }
        // Borrowed, without a look at each character, when the line is plain.
        self.text.push_str(&escape(&text[window.0..window.1]));
        if window.1 < end {
            self.text.push_str(CUT);
        }
        self.lines.push(ShownLine {
            at,
            len: self.text.len() - at,
            line,
            window,
            cut_left,
        });
    }

    /// Where file offset `offset`, on `line`, is in the excerpt; past `last_line` (a cut
    /// label), the end of that line.
    fn map(&self, text: &str, (line, offset): (usize, usize), last_line: usize) -> usize {
        let (line, offset) = if line > last_line {
            (last_line, usize::MAX)
        } else {
            (line, offset)
        };
        let i = self.lines.partition_point(|l| l.line < line);
        let Some(shown) = self.lines.get(i).filter(|l| l.line == line) else {
            return self.text.len();
        };
        let (from, to) = shown.window;
        let lead = if shown.cut_left { CUT.len() } else { 0 };
        if offset < from {
            return shown.at + lead;
        }
        if offset > to {
            // Past the window or in the line break: the end of the line shown.
            return shown.at + shown.len;
        }
        shown.at + lead + escape(&text[from..offset]).len()
    }
}

/// The last line that holds text (a final line break does not start a line to show).
pub(super) fn last_content_line(file: &SourceFile) -> usize {
    let count = file.lines.line_count();
    match file.lines.line_start(count - 1) {
        Some(start) if start == file.text.len() && count > 1 => count - 2,
        _ => count - 1,
    }
}

/// A line's text without its line ending (and without the BOM on the first line).
pub(super) fn line_content(file: &SourceFile, line: usize) -> (usize, usize) {
    let text = file.text.as_str();
    let mut start = file.lines.line_start(line).unwrap_or(text.len());
    if line == 0 {
        start = start.max(bom_len(text));
    }
    let mut end = file
        .lines
        .line_start(line + 1)
        .map_or(text.len(), |next| next - 1);
    if end > start && text.as_bytes()[end - 1] == b'\r' {
        end -= 1;
    }
    (start, end.max(start))
}

impl Excerpt<'_> {
    /// The excerpt's name for people (the file's path, escaped).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The lines miette reads for the `len` bytes at `offset`, with `before` and `after`
    /// lines of context (as [`SourceCode::read_span`], without copying the name).
    pub fn read(&self, offset: usize, len: usize, before: usize, after: usize) -> Option<Read<'_>> {
        if self.lines.is_empty() {
            return None;
        }
        let start = offset.min(self.text.len());
        let end = (start + len).min(self.text.len());
        let line_at = |offset: usize| self.lines.partition_point(|l| l.at <= offset).max(1) - 1;
        let mut first = line_at(start);
        let mut last = line_at(end.saturating_sub(1).max(start));
        // Context stays inside the run of consecutive file lines it belongs to.
        for _ in 0..before {
            if first > 0 && self.lines[first - 1].line + 1 == self.lines[first].line {
                first -= 1;
            }
        }
        for _ in 0..after {
            if last + 1 < self.lines.len() && self.lines[last].line + 1 == self.lines[last + 1].line
            {
                last += 1;
            }
        }
        // miette does not show an empty first line, and would number the next one with its
        // number: start at the first line with text.
        while first < last && self.lines[first].len == 0 {
            first += 1;
        }
        let from = self.lines[first].at;
        let to = (self.lines[last].at + self.lines[last].len + 1).min(self.text.len());
        let column = self
            .columns
            .iter()
            .find(|(at, _)| *at == offset)
            .map_or(0, |&(_, column)| column);
        Some(Read {
            data: self.text.get(from..to)?,
            offset: from,
            line: self.lines[first].line,
            column,
            line_count: last - first + 1,
        })
    }
}

impl SourceCode for Excerpt<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let read = self
            .read(span.offset(), span.len(), before, after)
            .ok_or(MietteError::OutOfBounds)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            read.data.as_bytes(),
            (read.offset, read.data.len()).into(),
            read.line,
            read.column,
            read.line_count,
        )))
    }
}

/// What a read of an excerpt gives: miette's `SpanContents` without the name.
pub struct Read<'a> {
    /// The lines read, each with its line break (the last one's when it has one).
    pub data: &'a str,
    /// Offset of `data` in the excerpt.
    pub offset: usize,
    /// 0-based line in the file of the first line read.
    pub line: usize,
    /// 0-based character column in the file where the read starts, when a label starts there.
    pub column: usize,
    pub line_count: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str, spans: &[Span]) -> (String, Vec<String>) {
        let file = SourceFile::new("Dockerfile", text.to_string());
        let (excerpt, ranges) = Excerpt::new("Dockerfile", &file, spans);
        let parts = ranges
            .iter()
            .map(|r| excerpt.text[r.clone()].to_string())
            .collect();
        (excerpt.text, parts)
    }

    #[test]
    fn only_the_lines_around_labels_are_copied_and_controls_are_escaped() {
        let text = "FROM a\nRUN x\nRUN \x1b[2J y\nRUN z\nRUN w\n";
        let y = text.find('y').unwrap();
        let (excerpt, parts) = shown(text, std::slice::from_ref(&(y..y + 1)));
        assert_eq!(excerpt, "RUN x\nRUN \\x1b[2J y\nRUN z");
        assert_eq!(parts, ["y"]);
    }

    #[test]
    fn a_long_line_is_windowed_around_its_label() {
        let text = format!(
            "FROM a\nRUN {} target {}\n",
            "a".repeat(5000),
            "b".repeat(5000)
        );
        let at = text.find("target").unwrap();
        let (excerpt, parts) = shown(&text, std::slice::from_ref(&(at..at + 6)));
        assert_eq!(parts, ["target"]);
        assert!(excerpt.len() < 2 * MAX_LINE_BYTES, "{}", excerpt.len());
        assert!(excerpt.contains("…aaa") && excerpt.ends_with("bbb…"));
    }

    #[test]
    fn a_label_over_many_lines_is_cut() {
        let body: String = (0..1000).map(|i| format!("  echo {i} \\\n")).collect();
        let text = format!("FROM a\nRUN true \\\n{body}  && true\n");
        let file = SourceFile::new("Dockerfile", text.clone());
        let (excerpt, ranges) =
            Excerpt::new("D", &file, std::slice::from_ref(&(7..text.len() - 1)));
        assert_eq!(excerpt.lines.len(), MAX_LABEL_LINES + 2);
        assert!(excerpt.text[ranges[0].clone()].ends_with("echo 10 \\"));
    }
}
