//! Wildcard matching in one pass, for every dialect docklint reads: shell globs, Go's
//! `filepath.Match` patterns and `.dockerignore` segments.

/// Whether `text` matches a pattern of `len` positions whose elements each match one unit
/// of it (`step(at, unit)`: the position after the element at `at`, when it matches
/// `unit`), or are a `*` one position long (`star(at)`) that matches any run of units.
///
/// One pass with one point to go back to, after the last `*`: a later `*` covers whatever
/// an earlier one would have taken. The time is at most the product of the two lengths,
/// whatever the stars (trying every split at every `*` is exponential in them).
pub fn matches_in_one_pass<T: Copy>(
    text: &[T],
    len: usize,
    star: impl Fn(usize) -> bool,
    step: impl Fn(usize, T) -> Option<usize>,
) -> bool {
    let (mut at, mut t) = (0, 0);
    // The pattern after the last `*`, and the text position it was last tried at.
    let mut last_star: Option<(usize, usize)> = None;
    while t < text.len() {
        if at < len && star(at) {
            last_star = Some((at + 1, t));
            at += 1;
        } else if let Some(next) = (at < len).then(|| step(at, text[t])).flatten() {
            at = next;
            t += 1;
        } else if let Some((after, tried)) = last_star {
            last_star = Some((after, tried + 1));
            (at, t) = (after, tried + 1);
        } else {
            return false;
        }
    }
    (at..len).all(star)
}
