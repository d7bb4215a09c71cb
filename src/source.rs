//! Source files and positions: byte offsets <-> 1-based line/column (characters, or UTF-16
//! units for the language server), the UTF-8 BOM and line endings.

use std::ops::Range;
use std::path::PathBuf;

pub const UTF8_BOM: &str = "\u{feff}";

/// Byte range in a file's text (the BOM included, so offsets are file offsets).
pub type Span = Range<usize>;

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as given on the command line or found under it; `-` style names for stdin.
    pub path: PathBuf,
    /// The file's text, BOM included. Invalid UTF-8 was replaced (see `lossy`).
    pub text: String,
    /// The file was not valid UTF-8: it is linted, but never rewritten.
    pub lossy: bool,
    pub lines: LineIndex,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: String) -> Self {
        let lines = LineIndex::new(&text);
        SourceFile {
            path: path.into(),
            text,
            lossy: false,
            lines,
        }
    }

    pub fn from_bytes(path: impl Into<PathBuf>, bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(text) => Self::new(path, text),
            Err(e) => {
                let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                SourceFile {
                    lossy: true,
                    ..Self::new(path, text)
                }
            }
        }
    }

    /// Offset of the first byte after the BOM.
    pub fn content_start(&self) -> usize {
        bom_len(&self.text)
    }

    /// The line ending new lines should use: the file's first one, else `\n`.
    pub fn newline(&self) -> &'static str {
        match self.text.find('\n') {
            Some(i) if i > 0 && self.text.as_bytes()[i - 1] == b'\r' => "\r\n",
            _ => "\n",
        }
    }

    pub fn position(&self, offset: usize) -> Position {
        self.lines.position(&self.text, offset)
    }

    /// The position of `offset`, at or after `earlier`: most spans end on the line they
    /// start on, or the next, which is then found without a search.
    pub fn position_after(&self, earlier: Position, offset: usize) -> Position {
        self.lines
            .position_from(&self.text, earlier.line.saturating_sub(1), offset)
    }
}

/// 1-based line and column; `column` counts characters, `column_utf16` UTF-16 units (LSP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub column_utf16: usize,
}

thread_local! {
    /// The index (by the address of its line starts) and line [`LineIndex::line_of`] found
    /// last on this thread.
    static LAST_LINE: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
}

/// Start offsets of every line, for offset -> position conversion in O(log lines) time.
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    starts: Vec<usize>,
    /// `None` when the text is ASCII (a column is then a byte difference); otherwise the
    /// characters and UTF-16 units before each `BLOCK`-byte boundary, so that a column
    /// costs at most one block's scan however long its line is.
    counts: Option<Vec<Units>>,
}

/// Bytes between two entries of `LineIndex::counts`.
const BLOCK: usize = 1024;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Units {
    chars: usize,
    utf16: usize,
}

impl Units {
    /// Counts bytes rather than decoding: every byte that does not continue a character
    /// starts one, and a 4-byte character is two UTF-16 units.
    fn of(bytes: &[u8]) -> Units {
        let chars = bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count();
        let astral = bytes.iter().filter(|&&b| b >= 0xF0).count();
        Units {
            chars,
            utf16: chars + astral,
        }
    }
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        // Counted first, so that millions of starts are not copied at each doubling.
        let mut starts = Vec::with_capacity(line_count(text));
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        let counts = (!text.is_ascii()).then(|| {
            let mut total = Units::default();
            let mut counts = Vec::with_capacity(text.len() / BLOCK + 1);
            for block in text.as_bytes().chunks(BLOCK) {
                counts.push(total);
                let here = Units::of(block);
                total.chars += here.chars;
                total.utf16 += here.utf16;
            }
            counts
        });
        LineIndex { starts, counts }
    }

    /// 0-based line containing `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        let starts = self.starts.as_slice();
        let n = starts.len();
        if n < 64 {
            return starts.partition_point(|&s| s <= offset).saturating_sub(1);
        }
        // Output asks for the lines of one diagnostic after another, in file order, on
        // each thread (a label often on the line before): the line this thread found last,
        // or one next to it, is most often the one.
        let key = starts.as_ptr() as usize;
        let on = |l: usize| starts[l] <= offset && starts.get(l + 1).is_none_or(|&s| offset < s);
        let (last_key, last) = LAST_LINE.get();
        if last_key == key {
            for l in last.saturating_sub(1)..last + 3 {
                if l < n && on(l) {
                    LAST_LINE.set((key, l));
                    return l;
                }
            }
        }
        let line = self.search(offset);
        LAST_LINE.set((key, line));
        line
    }

    /// An interpolation search: where the line would be if the lines around it were of even
    /// length, narrowed a few times, then widened from the last guess. A file of millions of
    /// lines whose length drifts (numbered lines grow longer) takes a few probes near the
    /// answer instead of a binary search over the whole index, whose first probes miss the
    /// cache. However uneven the lines, it stays O(log lines).
    fn search(&self, offset: usize) -> usize {
        let starts = self.starts.as_slice();
        let n = starts.len();
        if starts[n - 1] <= offset {
            return n - 1;
        }
        // The line is in `lo..hi`: `starts[lo] <= offset < starts[hi]` (`starts[0]` is 0).
        let (mut lo, mut hi) = (0, n - 1);
        let mut guess = lo;
        for _ in 0..3 {
            if hi - lo < 32 {
                break;
            }
            // In floating point: a guess needs no exactness, and a 128-bit division is slow.
            let (below, width) = (offset - starts[lo], starts[hi] - starts[lo]);
            let ahead = (below as f64 / width as f64 * (hi - lo) as f64) as usize;
            guess = (lo + ahead).clamp(lo + 1, hi - 1);
            if starts[guess] <= offset {
                lo = guess;
            } else {
                hi = guess;
            }
        }
        // Widen from the side the last guess landed on, doubling the step.
        let mut step = 1;
        if lo == guess {
            while lo + step < hi && starts[lo + step] <= offset {
                lo += step;
                step *= 2;
            }
            hi = hi.min(lo + step);
        } else {
            while hi.saturating_sub(step) > lo && starts[hi - step] > offset {
                hi -= step;
                step *= 2;
            }
            lo = lo.max(hi.saturating_sub(step));
        }
        lo + starts[lo..hi].partition_point(|&s| s <= offset) - 1
    }

    /// 0-based line containing `offset`, looked for from 0-based `line` on: the line itself
    /// and the next are tried before a search.
    pub fn line_from(&self, line: usize, offset: usize) -> usize {
        let starts = self.starts.as_slice();
        let on = |l: usize| {
            starts.get(l).is_some_and(|&s| s <= offset)
                && starts.get(l + 1).is_none_or(|&next| offset < next)
        };
        if on(line) {
            line
        } else if on(line + 1) {
            line + 1
        } else {
            self.line_of(offset)
        }
    }

    /// Offset of the first byte of 0-based `line` (the text's end past the last line).
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line).copied()
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Characters and UTF-16 units in `text[..offset]`.
    fn units_before(&self, text: &str, offset: usize) -> Units {
        match &self.counts {
            None => Units {
                chars: offset,
                utf16: offset,
            },
            Some(counts) => {
                let block = offset / BLOCK;
                let base = counts.get(block).copied().unwrap_or_default();
                let rest = Units::of(&text.as_bytes()[block * BLOCK..offset]);
                Units {
                    chars: base.chars + rest.chars,
                    utf16: base.utf16 + rest.utf16,
                }
            }
        }
    }

    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        self.position_on(text, self.line_of(offset), offset)
    }

    /// The position of `offset`, its line looked for from 0-based `line` on
    /// ([`LineIndex::line_from`]).
    pub fn position_from(&self, text: &str, line: usize, offset: usize) -> Position {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        self.position_on(text, self.line_from(line, offset), offset)
    }

    /// The position of `offset`, which is on 0-based `line` (as [`LineIndex::line_of`] says):
    /// for a caller that knows the line, without searching for it again.
    pub fn position_on(&self, text: &str, line: usize, offset: usize) -> Position {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let mut start = self.starts[line];
        // The BOM is not a column of the first line.
        if line == 0 && text.starts_with(UTF8_BOM) {
            start = start.max(UTF8_BOM.len()).min(offset);
        }
        let (before, at) = (
            self.units_before(text, start),
            self.units_before(text, offset),
        );
        Position {
            line: line + 1,
            column: at.chars - before.chars + 1,
            column_utf16: at.utf16 - before.utf16 + 1,
        }
    }
}

/// The lines of `text`: one more than its line breaks, found a vector at a time.
pub fn line_count(text: &str) -> usize {
    memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1
}

/// Length of the UTF-8 BOM at the start of `text` (0 without one).
pub fn bom_len(text: &str) -> usize {
    if text.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    }
}

pub fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_found_from_a_guess_or_a_line_as_a_binary_search_finds_them() {
        // Lines of even, drifting and very uneven length, so the guesses land before, on
        // and after the answer; every offset, and offsets past the end.
        let mut seed = 7u64;
        let mut next = |below: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % below
        };
        for shape in 0..8 {
            let text: String = (0..300)
                .map(|i| {
                    let len = match shape {
                        0 => 10,
                        1 => next(20),
                        2 if i % 50 == 0 => 5000,
                        3 if i < 10 => 3000,
                        4 => 0,
                        5 => next(3) * next(300),
                        // Numbered lines: longer as the numbers grow.
                        6 => 10 + (i + 1u64).ilog10() as u64 * (1 + i % 3),
                        _ if i > 290 => 8000,
                        _ => 1,
                    };
                    format!("{}\n", "x".repeat(len as usize))
                })
                .collect();
            let index = LineIndex::new(&text);
            for offset in 0..text.len() + 3 {
                let expected = index
                    .starts
                    .partition_point(|&s| s <= offset)
                    .saturating_sub(1);
                assert_eq!(
                    index.line_of(offset),
                    expected,
                    "shape {shape}, offset {offset}"
                );
                // From any line: before, on or after the answer.
                for from in [0, expected.saturating_sub(1), expected, expected + 1, 299] {
                    assert_eq!(
                        index.line_from(from, offset),
                        expected,
                        "shape {shape}, offset {offset}, from line {from}"
                    );
                }
            }
            // In no order, and between two files: the line found last is a guess, never an
            // answer.
            let other = LineIndex::new(&text[text.len() / 2..]);
            for _ in 0..2000 {
                let offset = next(text.len() as u64 + 3) as usize;
                let expected = index.starts.partition_point(|&s| s <= offset) - 1;
                assert_eq!(
                    index.line_of(offset),
                    expected,
                    "shape {shape}, offset {offset}"
                );
                let near = offset.saturating_sub(next(3) as usize);
                let expected = other.starts.partition_point(|&s| s <= near) - 1;
                assert_eq!(other.line_of(near), expected, "shape {shape}, other {near}");
            }
        }
    }

    #[test]
    fn positions_count_characters_and_skip_the_bom() {
        let f = SourceFile::new("Dockerfile", format!("{UTF8_BOM}FROM a\r\nRUN é x\n"));
        assert_eq!(
            f.position(3),
            Position {
                line: 1,
                column: 1,
                column_utf16: 1
            }
        );
        let x = f.text.find(" x").unwrap() + 1;
        assert_eq!(
            f.position(x),
            Position {
                line: 2,
                column: 7,
                column_utf16: 7
            }
        );
        assert_eq!(f.newline(), "\r\n");
    }

    #[test]
    fn columns_on_long_non_ascii_lines_count_characters_across_blocks() {
        let line = "é😀x".repeat(BLOCK);
        let f = SourceFile::new("Dockerfile", format!("FROM a\nRUN {line}\n"));
        let x = f.text.rfind('x').unwrap();
        let p = f.position(x);
        assert_eq!((p.line, p.column), (2, 4 + 3 * BLOCK - 1 + 1));
        assert_eq!(p.column_utf16, 4 + 4 * BLOCK - 1 + 1);
    }
}
