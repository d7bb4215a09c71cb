//! `.dockerignore` read and matched exactly as Docker does (moby/patternmatcher, which both
//! BuildKit and the classic builder use).
//!
//! Reading is `ignorefile.ReadAll`: a UTF-8 BOM is dropped, `#` starts a comment only in
//! column 0, lines are trimmed, `!` marks an exception, patterns are `filepath.Clean`ed and
//! lose one leading `/`. Matching is `PatternMatcher.MatchesOrParentMatches`: a pattern
//! matches a path or any of its parent directories, and the last matching pattern decides.
//! Globs become Go regexps (`*` never crosses `/`, `**` does, `[...]` is a Go class, so `[!a]`
//! contains `!`), which are translated to Rust's dialect (module `goregex`). A pattern of
//! only literals, `*` and `?` is matched segment by segment instead: the same answers, without
//! a regexp to compile.
//!
//! What a build actually sends is decided by a walk over the context that hands each
//! directory's matches down to its children (`MatchesUsingParentResults`, used by BuildKit's
//! fsutil and the classic builder); [`DirMatches`] and [`DockerIgnore::matches_in_dir`]
//! reproduce it, and let a walk test each path once per pattern.

mod glob;
mod goregex;

use std::fmt;
use std::path::{Path, PathBuf};

use regex::Regex;

use crate::source::{Span, UTF8_BOM};
use crate::syntax::wildcard::matches_in_one_pass;

/// Go's `bufio.Scanner` gives up on a line of this many bytes (its 64 KiB token limit).
const MAX_LINE_BYTES: usize = 64 * 1024;

/// A compiled `.dockerignore`. The default is an empty file: nothing is excluded.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

/// One pattern line.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The pattern as Docker matches it: cleaned, without the `!`.
    pub text: String,
    /// A `!` line: re-includes what it matches.
    pub exception: bool,
    /// 1-based line in the file (the position in the list for [`DockerIgnore::from_patterns`]).
    pub line: usize,
    /// The trimmed line as written, `!` included: bytes of the file (BOM counted).
    pub span: Span,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    Exact(String),
    Prefix(String),
    Suffix(String),
    /// Literal text with `*` and `?` only: the regexp's `[^/]*` and `[^/]` keep each to one
    /// segment, so the path matches segment by segment, with no regexp to compile (that is
    /// most of the cost of a `COPY --parents` pattern, which is compiled once per COPY).
    Wildcards(String),
    Regex(Regex),
}

/// A line Docker refuses: a lone `!`, a malformed glob or class, a line over 64 KiB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerIgnoreError {
    pub line: usize,
    pub span: Span,
    pub message: String,
}

impl fmt::Display for DockerIgnoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for DockerIgnoreError {}

/// A pattern line as `ignorefile.ReadAll` returns it, before compilation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreLine {
    /// Docker's string: cleaned, `!` prefixed for exceptions (a lone `!` stays `!`).
    pub text: String,
    pub line: usize,
    /// The trimmed line as written.
    pub span: Span,
}

/// `ignorefile.ReadAll`: the pattern strings of a `.dockerignore`, in order.
pub fn read_lines(text: &str) -> Result<Vec<IgnoreLine>, DockerIgnoreError> {
    let mut lines = Vec::new();
    let mut line_start = 0;
    let mut line_no = 0;
    let body_end = text.strip_suffix('\n').map_or(text.len(), str::len);
    for raw in text[..body_end].split('\n') {
        line_no += 1;
        let start = line_start;
        line_start += raw.len() + 1;
        if raw.len() >= MAX_LINE_BYTES {
            let message = format!("line longer than {} bytes", MAX_LINE_BYTES - 1);
            return Err(DockerIgnoreError {
                line: line_no,
                span: start..start + raw.len(),
                message,
            });
        }
        let (line, offset) = strip_bom_and_cr(raw, line_no, start);
        if let Some(entry) = read_line(line, offset, line_no) {
            lines.push(entry);
        }
    }
    Ok(lines)
}

/// The line content Go's scanner yields (no `\r`, no BOM on line 1) and its file offset.
fn strip_bom_and_cr(raw: &str, line_no: usize, start: usize) -> (&str, usize) {
    let line = raw.strip_suffix('\r').unwrap_or(raw);
    match line.strip_prefix(UTF8_BOM) {
        Some(rest) if line_no == 1 => (rest, start + UTF8_BOM.len()),
        _ => (line, start),
    }
}

fn read_line(line: &str, offset: usize, line_no: usize) -> Option<IgnoreLine> {
    // Only column 0 makes a comment: "  # x" is a pattern.
    if line.starts_with('#') {
        return None;
    }
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return None;
    }
    let start = offset + (line.len() - line.trim_start().len());
    let (exception, pattern) = match trimmed.strip_prefix('!') {
        Some(rest) => (true, rest.trim()),
        None => (false, trimmed),
    };
    let mut text = if pattern.is_empty() {
        String::new()
    } else {
        relative_clean(pattern)
    };
    if exception {
        text.insert(0, '!');
    }
    Some(IgnoreLine {
        text,
        line: line_no,
        span: start..start + trimmed.len(),
    })
}

/// Clean, then drop one leading `/`: patterns are relative to the context root.
fn relative_clean(pattern: &str) -> String {
    let cleaned = glob::clean(pattern);
    match cleaned.strip_prefix('/') {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => cleaned,
    }
}

impl DockerIgnore {
    /// Reads and compiles a `.dockerignore` file's text.
    pub fn parse(text: &str) -> Result<Self, DockerIgnoreError> {
        let mut patterns = Vec::new();
        for line in read_lines(text)? {
            patterns.extend(Pattern::compile(&line.text, line.line, line.span)?);
        }
        Ok(Self { patterns })
    }

    /// Compiles pattern strings as `patternmatcher.New` does (what `read_lines` returns, or
    /// raw strings: they are trimmed and cleaned again, a leading `/` is kept).
    pub fn from_patterns<S: AsRef<str>>(patterns: &[S]) -> Result<Self, DockerIgnoreError> {
        let mut compiled = Vec::with_capacity(patterns.len());
        for (index, raw) in patterns.iter().enumerate() {
            let raw = raw.as_ref();
            let start = raw.len() - raw.trim_start().len();
            let span = start..start + raw.trim().len();
            compiled.extend(Pattern::compile(raw, index + 1, span)?);
        }
        Ok(Self { patterns: compiled })
    }

    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exception)
    }

    /// Whether `path` (slash-separated, relative to the context root) matches the file, as
    /// patternmatcher's `MatchesOrParentMatches` says. What a build sends is decided by a walk
    /// (see [`Self::is_excluded_in_walk`]); the two differ only when a second exclusion of
    /// an already excluded directory follows an exception inside it (`foo`, `!foo/bar`,
    /// `foo`: `foo/bar` matches, yet is sent).
    pub fn is_excluded(&self, path: &str) -> bool {
        self.excludes(self.deciding_pattern(path))
    }

    /// Index of the last pattern matching `path` or one of its parents: the one that decides
    /// [`Self::is_excluded`]. The path is excluded exactly when it is not an exception.
    pub fn deciding_pattern(&self, path: &str) -> Option<usize> {
        let parent = glob::dir(path);
        self.patterns
            .iter()
            .rposition(|p| p.matches_with_parent(path, &parent))
    }

    fn excludes(&self, deciding: Option<usize>) -> bool {
        deciding.is_some_and(|i| !self.patterns[i].exception)
    }

    /// Whether Docker leaves `path` out of the build context: the verdict of the walk that
    /// BuildKit (fsutil) and the classic builder make over the context, directory by
    /// directory (patternmatcher's `MatchesUsingParentResults`).
    pub fn is_excluded_in_walk(&self, path: &str) -> bool {
        let parent = glob::dir(path);
        self.is_excluded_in(path, &self.walk_to(&parent))
    }

    /// The pattern that leaves `path` out of the build context (the walk's verdict), or
    /// `None` when the path is sent.
    pub fn excluding_pattern(&self, path: &str) -> Option<&Pattern> {
        let parent = self.walk_to(&glob::dir(path));
        let (deciding, excluded) = self.walk_step(path, &parent, |_| {});
        deciding.filter(|_| excluded).map(|i| &self.patterns[i])
    }

    /// The walk's matches for directory `dir`, from the root down.
    fn walk_to(&self, dir: &str) -> DirMatches {
        let mut state = self.root_matches();
        if dir != "." {
            for ancestor in parent_chain(dir) {
                state = self.matches_in_dir(ancestor, &state);
            }
        }
        state
    }

    /// Whether a walk must enter the excluded directory `dir`: an exception after the pattern
    /// that excludes it could re-include something inside. Conservative: `true` when unsure.
    pub fn may_reinclude_under(&self, dir: &str) -> bool {
        self.may_reinclude_in(dir, &self.walk_to(dir))
    }

    /// [`Self::may_reinclude_under`] for a directory whose walk matches are known. Patterns
    /// that match a directory match everything inside it, so only exceptions after the
    /// deciding one can bring a path back.
    pub fn may_reinclude_in(&self, dir: &str, matches: &DirMatches) -> bool {
        let after = matches.deciding.map_or(0, |i| i + 1);
        self.patterns[after..]
            .iter()
            .any(|p| p.exception && p.may_match_under(dir))
    }

    /// The walk's state at the context root, where [`Self::matches_in_dir`] chains start.
    pub fn root_matches(&self) -> DirMatches {
        DirMatches {
            matched: vec![false; self.patterns.len()],
            deciding: None,
            excluded: false,
        }
    }

    /// The walk's state for directory `dir` (a clean relative path) inside the directory
    /// whose state is `parent`.
    pub fn matches_in_dir(&self, dir: &str, parent: &DirMatches) -> DirMatches {
        let mut matched = Vec::with_capacity(self.patterns.len());
        let (deciding, excluded) = self.walk_step(dir, parent, |m| matched.push(m));
        DirMatches {
            matched,
            deciding,
            excluded,
        }
    }

    /// The walk's verdict for a file `path` (a clean relative path) inside the directory
    /// whose state is `parent`. Allocates nothing.
    pub fn is_excluded_in(&self, path: &str, parent: &DirMatches) -> bool {
        self.walk_step(path, parent, |_| {}).1
    }

    /// One step of `MatchesUsingParentResults`: a pattern that matched the parent matches
    /// here; otherwise it is tried on `path` alone, and only when it could change the
    /// verdict so far (which is why its result may be missing for the children).
    fn walk_step(
        &self,
        path: &str,
        parent: &DirMatches,
        mut record: impl FnMut(bool),
    ) -> (Option<usize>, bool) {
        let mut excluded = false;
        let mut deciding = None;
        for (index, (pattern, inherited)) in self.patterns.iter().zip(&parent.matched).enumerate() {
            let matched =
                *inherited || (pattern.exception == excluded && pattern.matches_alone(path));
            record(matched);
            if matched {
                excluded = !pattern.exception;
                deciding = Some(index);
            }
        }
        (deciding, excluded)
    }
}

/// patternmatcher's `MatchInfo` for one directory of a walk, with the walk's verdict on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirMatches {
    matched: Vec<bool>,
    deciding: Option<usize>,
    excluded: bool,
}

impl DirMatches {
    pub fn is_excluded(&self) -> bool {
        self.excluded
    }

    /// The last pattern that matched the directory in the walk.
    pub fn deciding_pattern(&self) -> Option<usize> {
        self.deciding
    }
}

impl Pattern {
    /// `patternmatcher.New` for one string; `None` for a blank one.
    fn compile(raw: &str, line: usize, span: Span) -> Result<Option<Self>, DockerIgnoreError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        let error = |message: String| DockerIgnoreError {
            line,
            span: span.clone(),
            message,
        };
        let cleaned = glob::clean(trimmed);
        let (exception, text) = match cleaned.strip_prefix('!') {
            Some("") => return Err(error("illegal exclusion pattern: \"!\"".into())),
            Some(rest) => (true, rest),
            None => (false, cleaned.as_str()),
        };
        if !glob::is_valid_glob(text) {
            return Err(error(format!(
                "invalid pattern `{text}`: syntax error in pattern"
            )));
        }
        let matcher =
            Matcher::new(text).map_err(|e| error(format!("invalid pattern `{text}`: {e}")))?;
        Ok(Some(Self {
            text: text.to_string(),
            exception,
            line,
            span,
            matcher,
        }))
    }

    /// Whether this pattern matches `path` or one of its parent directories.
    pub fn matches(&self, path: &str) -> bool {
        self.matches_with_parent(path, &glob::dir(path))
    }

    fn matches_with_parent(&self, path: &str, parent: &str) -> bool {
        self.matches_alone(path)
            || (parent != "." && parent_chain(parent).any(|dir| self.matches_alone(dir)))
    }

    /// The pattern against `path` itself (patternmatcher's `Pattern.match`).
    fn matches_alone(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Exact(text) => path == text,
            Matcher::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Matcher::Suffix(suffix) => {
                path.ends_with(suffix.as_str())
                    || suffix.strip_prefix('/').is_some_and(|bare| path == bare)
            }
            Matcher::Wildcards(pattern) => wildcards_match(pattern, path),
            Matcher::Regex(regex) => regex.is_match(path),
        }
    }

    /// Whether the pattern could match something strictly inside `dir`, comparing segment by
    /// segment. Classes can match `/` and escapes can hide one, so those answer `true`.
    fn may_match_under(&self, dir: &str) -> bool {
        if self.text.contains(['[', '\\', '^']) || self.text.contains("**") {
            return true;
        }
        let mut pattern_segments = self.text.split('/');
        for dir_segment in dir.split('/') {
            match pattern_segments.next() {
                None => return true,
                Some(segment) if segment.contains(['*', '?']) || segment == dir_segment => {}
                Some(_) => return false,
            }
        }
        true
    }
}

/// `a`, `a/b`, `a/b/c` for `a/b/c`: what Go gets by joining the split parent path.
fn parent_chain(parent: &str) -> impl Iterator<Item = &str> {
    parent
        .match_indices('/')
        .map(move |(i, _)| &parent[..i])
        .chain(std::iter::once(parent))
}

impl Matcher {
    fn new(pattern: &str) -> Result<Self, String> {
        let (kind, go_regex) = glob::compile(pattern);
        Ok(match kind {
            glob::MatchKind::Exact => Matcher::Exact(pattern.to_string()),
            glob::MatchKind::Prefix => Matcher::Prefix(strip_stars(pattern, false)),
            glob::MatchKind::Suffix => Matcher::Suffix(strip_stars(pattern, true)),
            glob::MatchKind::Regexp if glob::only_wildcards(pattern) => {
                Matcher::Wildcards(pattern.to_string())
            }
            glob::MatchKind::Regexp => {
                let rust = goregex::to_rust(&go_regex)?;
                Matcher::Regex(Regex::new(&rust).map_err(|e| e.to_string())?)
            }
        })
    }
}

/// Whether `path` matches a pattern of literal text, `*` and `?` ([`Matcher::Wildcards`]):
/// as many segments, each matching the pattern's segment at its place.
fn wildcards_match(pattern: &str, path: &str) -> bool {
    let (mut globs, mut names) = (pattern.split('/'), path.split('/'));
    loop {
        match (globs.next(), names.next()) {
            (None, None) => return true,
            (Some(glob), Some(name)) if segment_matches(glob, name) => {}
            _ => return false,
        }
    }
}

/// One segment: `*` is any run of characters, `?` one character.
fn segment_matches(glob: &str, name: &str) -> bool {
    fn one_pass<T: Copy + PartialEq>(glob: &[T], name: &[T], star: T, any: T) -> bool {
        matches_in_one_pass(
            name,
            glob.len(),
            |g| glob[g] == star,
            |g, c| (glob[g] == any || glob[g] == c).then_some(g + 1),
        )
    }
    if glob.is_ascii() && name.is_ascii() {
        return one_pass(glob.as_bytes(), name.as_bytes(), b'*', b'?');
    }
    let glob: Vec<char> = glob.chars().collect();
    let name: Vec<char> = name.chars().collect();
    one_pass(&glob, &name, '*', '?')
}

/// The pattern without its leading (`leading`) or trailing `**`, as patternmatcher slices it.
fn strip_stars(pattern: &str, leading: bool) -> String {
    let stripped = if leading {
        pattern.get(2..)
    } else {
        pattern.get(..pattern.len() - 2)
    };
    stripped.unwrap_or_default().to_string()
}

/// The `.dockerignore` BuildKit uses: `<Dockerfile name>.dockerignore` beside the
/// Dockerfile, else `.dockerignore` at the context root; `None` when neither exists.
pub fn locate(dockerfile: Option<&Path>, context: &Path) -> Option<PathBuf> {
    let beside_dockerfile = dockerfile.and_then(|file| {
        let mut name = file.file_name()?.to_os_string();
        name.push(".dockerignore");
        Some(file.with_file_name(name))
    });
    let at_root = context.join(".dockerignore");
    beside_dockerfile
        .into_iter()
        .chain([at_root])
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(patterns: &[&str], path: &str) -> bool {
        DockerIgnore::from_patterns(patterns)
            .unwrap()
            .is_excluded(path)
    }

    /// Every pattern of literals, `*` and `?` matches without a regexp exactly what its
    /// regexp matches, on paths of `/`, ASCII and a two-byte character.
    #[test]
    fn wildcards_match_what_their_regexp_matches() {
        use crate::model::paths::every_joining;
        let patterns = every_joining(&["*", "?", "a", "/", "é", "."], 4);
        let paths = every_joining(&["a", "b", "/", "é", "."], 4);
        let mut compared = 0;
        for pattern in &patterns {
            let (glob::MatchKind::Regexp, go) = glob::compile(pattern) else {
                continue;
            };
            if pattern.contains("**") {
                continue;
            }
            let Matcher::Wildcards(_) = Matcher::new(pattern).unwrap() else {
                panic!("`{pattern}` is compiled to a regexp");
            };
            let regex = Regex::new(&goregex::to_rust(&go).unwrap()).unwrap();
            for path in &paths {
                assert_eq!(
                    wildcards_match(pattern, path),
                    regex.is_match(path),
                    "`{pattern}` on `{path}`"
                );
                compared += 1;
            }
        }
        assert!(compared > 100_000, "{compared}");
        for kept in ["a**b", "[ab]", "a\\*", "a^*", "\u{feff}a*"] {
            assert!(
                matches!(Matcher::new(kept), Ok(Matcher::Regex(_))),
                "{kept}"
            );
        }
    }

    #[test]
    fn reads_like_ignorefile_read_all() {
        let text = "\u{feff}# c\r\n  # not a comment\r\n\r\n! ./a/../b/ \n/x\n/\n!\n";
        let got: Vec<_> = read_lines(text)
            .unwrap()
            .into_iter()
            .map(|l| l.text)
            .collect();
        assert_eq!(got, ["# not a comment", "!b", "x", "/", "!"]);
    }

    #[test]
    fn spans_point_at_the_written_pattern() {
        let text = "\u{feff}a\n  !  b/  \n";
        let ignore = DockerIgnore::parse(text).unwrap();
        let spans: Vec<_> = ignore
            .patterns()
            .iter()
            .map(|p| &text[p.span.clone()])
            .collect();
        assert_eq!(spans, ["a", "!  b/"]);
        assert_eq!(ignore.patterns()[1].line, 2);
        assert_eq!(ignore.patterns()[1].text, "b");
    }

    #[test]
    fn errors_carry_the_line() {
        let err = DockerIgnore::parse("ok\n\n  !  \n").unwrap_err();
        assert_eq!((err.line, err.span), (3, 6..7));
        let err = DockerIgnore::parse("a\n[z-a]\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("[z-a]"), "{}", err.message);
        // `!/` cleans to a lone `!` once Docker prefixes the exception mark again.
        assert!(DockerIgnore::parse("!/\n").is_err());
    }

    #[test]
    fn last_match_wins_with_parents() {
        let p = ["node_modules", "!node_modules/keep.txt"];
        assert!(excluded(&p, "node_modules/x/y.js"));
        assert!(!excluded(&p, "node_modules/keep.txt"));
        assert!(!excluded(&p, "node_modules2"));
    }

    #[test]
    fn walk_agrees_with_full_matching_except_for_repeated_exclusions() {
        let ignore =
            DockerIgnore::from_patterns(&["a", "!a/b", "a/b/c*", "**/x", "!**/x/y"]).unwrap();
        for path in [
            "a", "a/b", "a/b/c1", "a/b/d", "a/b/x/y", "a/b/x/z", "q/x", "q/x/y",
        ] {
            assert_eq!(
                ignore.is_excluded_in_walk(path),
                ignore.is_excluded(path),
                "{path}"
            );
        }
        let root = ignore.root_matches();
        let a = ignore.matches_in_dir("a", &root);
        let ab = ignore.matches_in_dir("a/b", &a);
        assert!(a.is_excluded() && !ab.is_excluded());
        assert!(ignore.is_excluded_in("a/b/c1", &ab));

        // The walk skips the second `foo` at `foo` (already excluded), so `foo/bar` has no
        // inherited match for it and stays re-included, unlike MatchesOrParentMatches.
        let ignore = DockerIgnore::from_patterns(&["foo", "!foo/bar", "foo"]).unwrap();
        assert!(ignore.is_excluded("foo/bar"));
        assert!(!ignore.is_excluded_in_walk("foo/bar"));
        assert!(ignore.may_reinclude_under("foo"));
    }

    #[test]
    fn reinclusion_check_is_precise_for_literal_exceptions() {
        let ignore =
            DockerIgnore::from_patterns(&["node_modules", "vendor", "!node_modules/keep.txt"])
                .unwrap();
        assert!(ignore.may_reinclude_under("node_modules"));
        assert!(!ignore.may_reinclude_under("vendor"));
        assert!(!ignore.may_reinclude_under("node_modules/sub"));
        let ignore = DockerIgnore::from_patterns(&["!keep", "build"]).unwrap();
        assert!(
            !ignore.may_reinclude_under("build"),
            "an earlier exception cannot re-include"
        );
        let ignore = DockerIgnore::from_patterns(&["build", "!**/*.keep"]).unwrap();
        assert!(ignore.may_reinclude_under("build/deep"));
    }

    #[test]
    fn locate_prefers_the_dockerfile_specific_file() {
        let dir = std::env::temp_dir().join(format!("docklint-locate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dockerfile = dir.join("app.Dockerfile");
        assert_eq!(locate(Some(&dockerfile), &dir), None);
        std::fs::write(dir.join(".dockerignore"), "x\n").unwrap();
        assert_eq!(
            locate(Some(&dockerfile), &dir),
            Some(dir.join(".dockerignore"))
        );
        std::fs::write(dir.join("app.Dockerfile.dockerignore"), "y\n").unwrap();
        assert_eq!(
            locate(Some(&dockerfile), &dir),
            Some(dir.join("app.Dockerfile.dockerignore"))
        );
        assert_eq!(locate(None, &dir), Some(dir.join(".dockerignore")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
