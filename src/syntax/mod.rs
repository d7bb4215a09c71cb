//! Syntax layers: Dockerfile instructions, shell bodies, `.dockerignore`, and a recogniser of
//! the imports and calls of Python code that a build runs.
//!
//! Every layer reports spans as byte ranges of the *file*, so diagnostics and fixes never
//! need to know how a piece of text was assembled (continuations joined, heredocs attached,
//! JSON strings unescaped). [`MappedText`] carries that assembly.

pub mod dockerfile;
pub mod dockerignore;
pub mod python;
pub mod shell;
pub mod wildcard;

use std::ops::Range;

use compact_str::CompactString;
use smallvec::SmallVec;

/// Text assembled from pieces of a file, with a map from every text byte back to the file.
///
/// Pieces are either copied from the file (a text byte maps to one file byte) or synthetic
/// (inserted characters, e.g. the newline BuildKit puts between a command and its heredoc;
/// they all map to one file position).
///
/// Most texts are one short piece (an instruction's arguments): it is held inline, with no
/// allocation, which matters at a few texts per instruction and millions of instructions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappedText {
    text: CompactString,
    pieces: SmallVec<[Piece; 1]>,
    /// Where an empty text sits in the file.
    anchor: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    text_start: usize,
    file_start: usize,
    synthetic: bool,
}

impl MappedText {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty text at `file_offset` (what an empty string maps to).
    pub fn empty_at(file_offset: usize) -> Self {
        MappedText {
            anchor: file_offset,
            ..Self::default()
        }
    }

    /// A text that is one contiguous slice of the file starting at `file_start`.
    pub fn contiguous(text: &str, file_start: usize) -> Self {
        let mut m = Self::new();
        m.push(text, file_start);
        m
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Appends `s`, which is the file's text at `file_start..file_start + s.len()`.
    pub fn push(&mut self, s: &str, file_start: usize) {
        if s.is_empty() {
            return;
        }
        let text_start = self.text.len();
        let continues = self.pieces.last().is_some_and(|p| {
            !p.synthetic && p.file_start + (text_start - p.text_start) == file_start
        });
        if !continues {
            self.pieces.push(Piece {
                text_start,
                file_start,
                synthetic: false,
            });
        }
        self.text.push_str(s);
    }

    /// Appends characters that have no source; they map to `file_at`.
    pub fn push_synthetic(&mut self, s: &str, file_at: usize) {
        if s.is_empty() {
            return;
        }
        self.pieces.push(Piece {
            text_start: self.text.len(),
            file_start: file_at,
            synthetic: true,
        });
        self.text.push_str(s);
    }

    fn piece_at(&self, offset: usize) -> Option<&Piece> {
        let i = self.pieces.partition_point(|p| p.text_start <= offset);
        i.checked_sub(1).map(|i| &self.pieces[i])
    }

    /// File offset of text offset `offset` (the end of the text maps after its last byte).
    pub fn to_file(&self, offset: usize) -> usize {
        if offset >= self.text.len() {
            return self.end_in_file();
        }
        match self.piece_at(offset) {
            Some(p) if p.synthetic => p.file_start,
            Some(p) => p.file_start + (offset - p.text_start),
            None => self.anchor,
        }
    }

    /// File offset just after the text byte before `offset`: the file end of a span ending there.
    fn to_file_end(&self, offset: usize) -> usize {
        let Some(before) = offset.checked_sub(1) else {
            return self.pieces.first().map_or(self.anchor, |p| p.file_start);
        };
        match self.piece_at(before) {
            Some(p) if p.synthetic => p.file_start,
            Some(p) => p.file_start + (offset - p.text_start),
            None => self.anchor,
        }
    }

    fn end_in_file(&self) -> usize {
        self.to_file_end(self.text.len())
    }

    /// File span of a text span.
    pub fn span_to_file(&self, span: Range<usize>) -> Range<usize> {
        let start = self.to_file(span.start);
        if span.is_empty() {
            return start..start;
        }
        start..self.to_file_end(span.end).max(start)
    }

    /// Whether the text span is one unbroken slice of the file (safe to replace by an edit).
    pub fn is_contiguous(&self, span: Range<usize>) -> bool {
        let first = self.pieces.partition_point(|p| p.text_start <= span.start);
        let last = self.pieces.partition_point(|p| p.text_start < span.end);
        first == last && self.piece_at(span.start).is_some_and(|p| !p.synthetic)
    }

    /// A sub-text (as a new mapped text), keeping the map.
    pub fn slice(&self, span: Range<usize>) -> MappedText {
        let mut out = MappedText::empty_at(self.to_file(span.start));
        out.text.reserve(span.len());
        out.append_slice(self, span);
        out
    }

    /// Appends `other[span]`, keeping its map to the file piece by piece.
    pub fn append_slice(&mut self, other: &MappedText, span: Range<usize>) {
        let mut at = span.start;
        while at < span.end {
            let i = other.pieces.partition_point(|p| p.text_start <= at) - 1;
            let piece = other.pieces[i];
            let piece_end = other
                .pieces
                .get(i + 1)
                .map_or(other.text.len(), |p| p.text_start);
            let end = piece_end.min(span.end);
            let s = &other.text[at..end];
            if piece.synthetic {
                self.push_synthetic(s, piece.file_start);
            } else {
                self.push(s, piece.file_start + (at - piece.text_start));
            }
            at = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_joined_pieces_back_to_the_file() {
        // "RUN a \\\n  b\n<<EOF..." joined as "a   b" + synthetic "\n"
        let mut m = MappedText::new();
        m.push("a ", 4);
        m.push("  b", 10);
        m.push_synthetic("\n", 13);
        m.push("x", 14);
        assert_eq!(m.as_str(), "a   b\nx");
        assert_eq!(m.to_file(0), 4);
        assert_eq!(m.to_file(4), 12);
        assert_eq!(m.span_to_file(0..5), 4..13);
        assert_eq!(m.span_to_file(4..5), 12..13);
        assert_eq!(m.to_file(5), 13);
        assert_eq!(m.span_to_file(6..7), 14..15);
        assert_eq!(m.to_file(7), 15);
        assert!(m.is_contiguous(2..5));
        assert!(!m.is_contiguous(0..5));
        let s = m.slice(1..7);
        assert_eq!(s.as_str(), "   b\nx");
        assert_eq!(s.span_to_file(3..4), 12..13);
        assert_eq!(s.span_to_file(5..6), 14..15);
    }

    #[test]
    fn empty_texts_keep_their_place() {
        let m = MappedText::empty_at(7);
        assert_eq!((m.to_file(0), m.span_to_file(0..0)), (7, 7..7));
        assert_eq!(MappedText::contiguous("abc", 3).slice(1..1).to_file(0), 4);
    }

    #[test]
    fn appending_a_slice_keeps_synthetic_and_copied_pieces() {
        let mut m = MappedText::new();
        m.push("ab", 10);
        m.push_synthetic("\n", 12);
        m.push("cd", 20);
        let mut out = MappedText::contiguous("x", 0);
        out.append_slice(&m, 1..4);
        assert_eq!(out.as_str(), "xb\nc");
        assert_eq!(out.span_to_file(1..2), 11..12);
        assert_eq!(out.to_file(2), 12);
        assert_eq!(out.span_to_file(3..4), 20..21);
    }

    #[test]
    fn contiguous_pushes_merge() {
        let mut m = MappedText::new();
        m.push("ab", 0);
        m.push("cd", 2);
        assert!(m.is_contiguous(0..4));
    }
}
