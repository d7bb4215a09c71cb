//! Where each part of a fixed text comes from: runs copied from the original, and text the
//! fixes inserted. Composing every pass's edits keeps this exact across passes, so the
//! diff of a fixed file is read off in one sweep instead of searched for (a line diff
//! searches in time proportional to the file's length times the number of changes, which
//! is quadratic when a fix touches every instruction).

use std::ops::Range;

/// The fixed text as segments of the original and inserted text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    len: usize,
    /// Offset in the original text when the segment is copied from it.
    from: Option<usize>,
}

/// One edit of a pass: the range it replaces in that pass's text, and the length of what
/// it puts there.
pub type Replacement = (Range<usize>, usize);

/// A changed region: the original's range and the fixed text's range that replaces it.
/// Between two regions (and around them) both texts are equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub original: Range<usize>,
    pub fixed: Range<usize>,
}

impl Changes {
    /// A text of `len` bytes that nothing changed yet.
    pub fn unchanged(len: usize) -> Changes {
        let segments = (len > 0)
            .then_some(Segment { len, from: Some(0) })
            .into_iter()
            .collect();
        Changes { segments }
    }

    /// Records edits made to the current text: sorted, non-overlapping, in its offsets.
    /// Costs one sweep over the segments.
    pub fn apply(&mut self, edits: &[Replacement]) {
        if edits.is_empty() {
            return;
        }
        let mut out: Vec<Segment> = Vec::with_capacity(self.segments.len() + 2 * edits.len());
        let mut segments = self.segments.iter().copied();
        // The segment being read, and where it starts in the current text.
        let mut current = segments.next();
        let mut at = 0;
        for (range, inserted) in edits {
            // Copy what lies before the edit.
            while let Some(segment) = current {
                if at + segment.len <= range.start {
                    push(&mut out, segment);
                    at += segment.len;
                    current = segments.next();
                    continue;
                }
                if at < range.start {
                    let (head, tail) = split(segment, range.start - at);
                    push(&mut out, head);
                    at = range.start;
                    current = Some(tail);
                }
                break;
            }
            push(
                &mut out,
                Segment {
                    len: *inserted,
                    from: None,
                },
            );
            // Drop what the edit replaces.
            while let Some(segment) = current {
                if at + segment.len <= range.end {
                    at += segment.len;
                    current = segments.next();
                    continue;
                }
                if at < range.end {
                    let (_, tail) = split(segment, range.end - at);
                    at = range.end;
                    current = Some(tail);
                }
                break;
            }
        }
        while let Some(segment) = current {
            push(&mut out, segment);
            current = segments.next();
        }
        self.segments = out;
    }

    /// The changed regions, in order, of a text whose original was `original_len` bytes.
    pub fn regions(&self, original_len: usize) -> Vec<Region> {
        let mut regions = Vec::new();
        // Where the texts would be if nothing had changed since the last equal run.
        let (mut old, mut new) = (0, 0);
        let mut open: Option<(usize, usize)> = None;
        for segment in &self.segments {
            match segment.from {
                Some(from) if from >= old => {
                    if from > old || open.is_some() {
                        let (o, n) = open.take().unwrap_or((old, new));
                        regions.push(Region {
                            original: o..from,
                            fixed: n..new,
                        });
                    }
                    old = from + segment.len;
                }
                // Inserted, or copied from earlier in the original (moved or repeated).
                _ => {
                    open.get_or_insert((old, new));
                }
            }
            new += segment.len;
        }
        if open.is_some() || old < original_len {
            let (o, n) = open.unwrap_or((old, new));
            regions.push(Region {
                original: o..original_len,
                fixed: n..new,
            });
        }
        regions
    }
}

fn split(segment: Segment, at: usize) -> (Segment, Segment) {
    let head = Segment {
        len: at,
        from: segment.from,
    };
    let tail = Segment {
        len: segment.len - at,
        from: segment.from.map(|f| f + at),
    };
    (head, tail)
}

/// Appends a segment, merging it into the last one when they continue each other.
fn push(out: &mut Vec<Segment>, segment: Segment) {
    if segment.len == 0 {
        return;
    }
    if let Some(last) = out.last_mut() {
        let continues = match (last.from, segment.from) {
            (Some(a), Some(b)) => a + last.len == b,
            (None, None) => true,
            _ => false,
        };
        if continues {
            last.len += segment.len;
            return;
        }
    }
    out.push(segment);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `text` with `edits` (sorted, non-overlapping) made.
    pub(crate) fn splice(text: &str, edits: &[(Range<usize>, &str)]) -> String {
        let mut out = String::new();
        let mut at = 0;
        for (range, content) in edits {
            out.push_str(&text[at..range.start]);
            out.push_str(content);
            at = range.end;
        }
        out + &text[at..]
    }

    fn applied(changes: &mut Changes, text: &str, edits: &[(Range<usize>, &str)]) -> String {
        let lengths: Vec<Replacement> = edits.iter().map(|(r, c)| (r.clone(), c.len())).collect();
        changes.apply(&lengths);
        splice(text, edits)
    }

    /// Every region's replacement reproduces the fixed text from the original.
    fn check(original: &str, fixed: &str, changes: &Changes) -> Vec<Region> {
        let regions = changes.regions(original.len());
        let edits: Vec<(Range<usize>, &str)> = regions
            .iter()
            .map(|r| (r.original.clone(), &fixed[r.fixed.clone()]))
            .collect();
        assert_eq!(splice(original, &edits), fixed);
        regions
    }

    #[test]
    fn passes_compose_into_regions_of_the_original() {
        let original = "FROM a\nRUN x\nRUN y\nRUN z\n";
        let mut changes = Changes::unchanged(original.len());
        let first = applied(&mut changes, original, &[(11..12, "x2"), (17..18, "")]);
        assert_eq!(first, "FROM a\nRUN x2\nRUN \nRUN z\n");
        let second = applied(&mut changes, &first, &[(7..10, "run"), (14..19, "")]);
        assert_eq!(second, "FROM a\nrun x2\nRUN z\n");
        let regions = check(original, &second, &changes);
        assert_eq!(
            regions,
            [
                Region {
                    original: 7..10,
                    fixed: 7..10
                },
                Region {
                    original: 11..12,
                    fixed: 11..13
                },
                Region {
                    original: 13..19,
                    fixed: 14..14
                }
            ]
        );
    }

    #[test]
    fn insertions_at_the_ends_and_deletions_to_the_end() {
        let original = "abc";
        let mut changes = Changes::unchanged(3);
        let fixed = applied(
            &mut changes,
            original,
            &[(0..0, "<"), (1..3, ""), (3..3, ">")],
        );
        assert_eq!(fixed, "<a>");
        check(original, &fixed, &changes);
        let mut none = Changes::unchanged(3);
        none.apply(&[]);
        assert!(none.regions(3).is_empty());
        let mut empty = Changes::unchanged(0);
        let fixed = applied(&mut empty, "", &[(0..0, "x")]);
        check("", &fixed, &empty);
    }
}
