//! `.dockerignore` semantics against Docker's own expectations: moby/patternmatcher's test
//! tables (from the corpus), a table written from Docker's documented behaviour, and the
//! real-world `.dockerignore` files of the corpus.

mod common;

use std::path::{Path, PathBuf};

use docklint::syntax::dockerignore::{read_lines, DockerIgnore};
use serde::Deserialize;

#[derive(Deserialize)]
struct MatcherCase {
    suite: String,
    patterns: Vec<String>,
    path: String,
    expect: bool,
    error: Option<String>,
}

/// What our matcher says about one case, in the corpus' terms.
fn run_case(case: &MatcherCase) -> Result<bool, String> {
    let ignore = DockerIgnore::from_patterns(&case.patterns).map_err(|e| e.to_string())?;
    let excluded = ignore.is_excluded(&case.path);
    // These single-path cases have no exclusion repeated after an exception, so the walk
    // that builds the context must agree with MatchesOrParentMatches on every one.
    if ignore.is_excluded_in_walk(&case.path) != excluded {
        return Err(format!("walk disagrees: is_excluded={excluded}"));
    }
    Ok(excluded)
}

fn disagreement(case: &MatcherCase) -> Option<String> {
    let got = run_case(case);
    let agrees = match (&case.error, &got) {
        (Some(_), Err(_)) => true,
        (None, Ok(excluded)) => *excluded == case.expect,
        _ => false,
    };
    let want = case
        .error
        .as_ref()
        .map_or_else(|| case.expect.to_string(), |e| format!("error ({e})"));
    (!agrees).then(|| {
        format!(
            "{} {:?} {:?}: want {want}, got {got:?}",
            case.suite, case.patterns, case.path
        )
    })
}

#[test]
fn patternmatcher_cases_agree() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let file = corpus.join("dockerignore-semantics/patternmatcher-cases.jsonl");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let cases: Vec<MatcherCase> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", file.display(), i + 1))
        })
        .collect();
    let failures: Vec<String> = cases.iter().filter_map(disagreement).collect();
    eprintln!(
        "patternmatcher cases: {}/{} agree",
        cases.len() - failures.len(),
        cases.len()
    );
    assert_eq!(
        cases.len(),
        138,
        "the corpus holds 138 patternmatcher cases"
    );
    assert!(
        failures.is_empty(),
        "disagreements:\n{}",
        failures.join("\n")
    );
}

#[derive(Deserialize)]
struct ReadAllCase {
    input: String,
    expected_patterns: Vec<String>,
}

#[test]
fn ignorefile_read_all_agrees() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let dir = corpus.join("dockerignore-semantics");
    let json = std::fs::read_to_string(dir.join("ignorefile-readall.json")).unwrap();
    let case: ReadAllCase = serde_json::from_str(&json).unwrap();
    let file = std::fs::read_to_string(dir.join("ignorefile-readall.dockerignore")).unwrap();
    assert_eq!(
        file, case.input,
        "the .dockerignore copy is the case's input"
    );

    let read: Vec<String> = read_lines(&case.input)
        .unwrap()
        .into_iter()
        .map(|l| l.text)
        .collect();
    assert_eq!(read, case.expected_patterns);
    // ReadAll keeps the lone `!`; compiling it (patternmatcher.New) is what fails.
    let error = DockerIgnore::parse(&case.input).unwrap_err();
    assert_eq!(error.line, 8);
    assert_eq!(&case.input[error.span.clone()], "!");
}

/// `(.dockerignore text, path, excluded?)` from Docker's documented behaviour (see the
/// `.dockerignore` reference and moby/patternmatcher), including where gitignore and
/// globset would answer differently.
const DOCUMENTED: &[(&str, &str, bool)] = &[
    // Patterns are anchored at the context root; gitignore floats bare names.
    ("foo\n", "foo", true),
    ("foo\n", "a/foo", false),
    ("foo\n", "foo/bar/baz", true),
    ("*.md\n", "README.md", true),
    ("*.md\n", "docs/README.md", false),
    ("**/*.md\n", "docs/README.md", true),
    ("*/temp*\n", "somedir/temporary.txt", true),
    ("*/temp*\n", "somedir/sub/temporary.txt", false),
    ("*/*/temp*\n", "a/b/temp", true),
    ("temp?\n", "tempa", true),
    ("temp?\n", "tempa/x", true),
    ("temp?\n", "temp/x", false),
    ("temp?\n", "temp", false),
    // filepath.Clean and the leading `/`.
    ("./foo\n", "foo", true),
    ("/foo\n", "foo", true),
    ("foo/\n", "foo", true),
    ("foo/../bar\n", "bar", true),
    ("foo/../bar\n", "foo/bar", false),
    ("a//b\n", "a/b", true),
    // `**`.
    ("a**b\n", "axb", false),
    ("a**b\n", "ax/b", true),
    ("a**b\n", "ab", true),
    ("**foo\n", "a/xfoo", true),
    ("**/foo\n", "foo", true),
    ("**/foo\n", "a/b/foo", true),
    ("**/foo\n", "xfoo", false),
    ("build/**\n", "build", false),
    ("build/**\n", "build/x/y", true),
    ("**\n", "anything/at/all", true),
    // Classes go to Go's regexp: `[!a]` contains `!`, `[^a]` negates.
    ("[!a]bc\n", "xbc", false),
    ("[!a]bc\n", "!bc", true),
    ("[!a]bc\n", "abc", true),
    ("[^a]bc\n", "xbc", true),
    ("[^a]bc\n", "abc", false),
    ("[a-c]x\n", "bx", true),
    // No brace alternation; regexp characters are literal.
    ("{a,b}.txt\n", "a.txt", false),
    ("{a,b}.txt\n", "{a,b}.txt", true),
    ("a+b(c)|d$\n", "a+b(c)|d$", true),
    ("v1.0\n", "v1x0", false),
    ("\\*\n", "*", true),
    ("\\*\n", "x", false),
    // Comments only in column 0; trimming happens after that check.
    ("# comment\n", "# comment", false),
    ("  # not a comment\n", "# not a comment", true),
    ("  spaced  \n", "spaced", true),
    // BOM and CRLF.
    ("\u{feff}foo\r\nbar\r\n", "foo", true),
    ("\u{feff}foo\r\nbar\r\n", "bar", true),
    ("\u{feff}#c\r\nfoo\r\n", "foo", true),
    // Last match wins; exceptions re-include inside excluded directories.
    (
        "node_modules\n!node_modules/keep.txt\n",
        "node_modules/keep.txt",
        false,
    ),
    (
        "node_modules\n!node_modules/keep.txt\n",
        "node_modules/other.js",
        true,
    ),
    (
        "node_modules\n!node_modules/keep.txt\n",
        "node_modules/keep.txt/inner",
        false,
    ),
    ("!keep.txt\n*.txt\n", "keep.txt", true),
    ("*.txt\n!keep.txt\n", "keep.txt", false),
    (
        "*.md\n!README*.md\nREADME-secret.md\n",
        "README-secret.md",
        true,
    ),
    (
        "*.md\n!README*.md\nREADME-secret.md\n",
        "README-public.md",
        false,
    ),
    ("docs\n!docs/README.md\n", "docs/README.md", false),
    ("**\n!src\n", "src/main.rs", false),
    ("**\n!src\n", "Cargo.toml", true),
    (".git\n", ".git/objects/ab/cdef", true),
    (".*\n", ".env", true),
    (".*\n", "a/.env", false),
];

#[test]
fn documented_behaviour() {
    let failures: Vec<String> = DOCUMENTED
        .iter()
        .filter_map(|(text, path, want)| {
            let got = DockerIgnore::parse(text)
                .map(|ignore| (ignore.is_excluded(path), ignore.is_excluded_in_walk(path)));
            (got != Ok((*want, *want)))
                .then(|| format!("{text:?} {path:?}: want {want} (matched, walked), got {got:?}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "disagreements:\n{}",
        failures.join("\n")
    );
}

/// Docker's context walk (fsutil in BuildKit, the classic builder's archiver) passes each
/// directory's pattern matches to its children and skips patterns that cannot change the
/// verdict, so an exclusion repeated after an exception does not reach inside the directory.
#[test]
fn walk_differs_from_single_path_matching_on_repeated_exclusions() {
    let ignore = DockerIgnore::parse("foo\n!foo/bar\nfoo\n").unwrap();
    assert!(ignore.is_excluded("foo/bar"), "MatchesOrParentMatches");
    assert!(
        !ignore.is_excluded_in_walk("foo/bar"),
        "MatchesUsingParentResults, walked"
    );
    assert!(ignore.is_excluded_in_walk("foo/baz"));
}

#[test]
fn documented_errors() {
    for (text, line) in [
        ("!\n", 1),
        ("a\n! \n", 2),
        ("[\n", 1),
        ("ok\n[z-a]\n", 2),
        ("x[-]\n", 1),
        ("trailing\\\n", 1),
    ] {
        let error = DockerIgnore::parse(text).expect_err(text);
        assert_eq!(error.line, line, "{text:?}: {error}");
    }
}

fn real_dockerignore_files(corpus: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![corpus.join("real")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(".dockerignore"))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn real_dockerignore_files_parse() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let files = real_dockerignore_files(&corpus);
    let errors: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let bytes = std::fs::read(file).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            DockerIgnore::parse(&text)
                .err()
                .map(|e| format!("{}: {e}", file.display()))
        })
        .collect();
    eprintln!(
        "real .dockerignore files: {}/{} parse",
        files.len() - errors.len(),
        files.len()
    );
    // The corpus README counts 78 because kaniko's `Dockerfile_test_dockerignore` (a
    // Dockerfile) also ends in "dockerignore"; 77 files are `.dockerignore` files.
    assert_eq!(
        files.len(),
        77,
        "the corpus holds 77 files named *.dockerignore"
    );
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// Arbitrary pattern text never panics, whether Docker accepts it or not.
#[test]
fn arbitrary_patterns_never_panic() {
    const ALPHABET: &[&str] = &[
        "*",
        "**",
        "?",
        "[",
        "]",
        "^",
        "!",
        "-",
        "\\",
        "/",
        ".",
        "a",
        "b",
        "{",
        "}",
        "(",
        ")",
        "|",
        "$",
        ":",
        "[:alpha:]",
        "&&",
        "~~",
        "\\Q",
        "\\E",
        "\\p",
        "\\d",
        "\\x4",
        "é",
        "\u{feff}",
        " ",
        "#",
        "0",
        "7",
        "..",
    ];
    let paths = ["a", "a/b", "ab", "a/b/c", ".", "é/x", "[", "a]b"];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..3_000 {
        let len = 1 + (next() % 6) as usize;
        let pattern: String = (0..len)
            .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
            .collect();
        let text = format!("{pattern}\n!a/{pattern}\n");
        if let Ok(ignore) = DockerIgnore::parse(&text) {
            for path in paths {
                ignore.is_excluded(path);
                ignore.is_excluded_in_walk(path);
                ignore.may_reinclude_under(path);
            }
        }
    }
}
