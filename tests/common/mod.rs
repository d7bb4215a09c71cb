//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("docklint-test-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `content` at `relative` (parents created); returns the full path.
    pub fn write(&self, relative: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&path, content).expect("write file");
        path
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.0.join(relative)).expect("read file")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the docklint binary in `dir`.
pub fn docklint(dir: &Path, args: &[&str]) -> Output {
    docklint_with_stdin(dir, args, None)
}

pub fn docklint_with_stdin(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    docklint_with_stdin_bytes(dir, args, stdin.unwrap_or("").as_bytes())
}

pub fn docklint_with_stdin_bytes(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_docklint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run docklint");
    if let Some(mut pipe) = child.stdin.take() {
        let _ = pipe.write_all(stdin);
    }
    child.wait_with_output().expect("docklint output")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Environment variable that turns a missing corpus into a failure (CI sets it to `1`).
pub const REQUIRE_CORPUS: &str = "DOCKLINT_REQUIRE_CORPUS";

/// The test corpus, kept beside the repository at `../shared/corpus` and never copied in.
/// `None` when it is absent (a fresh clone): the caller skips its checks, after this has
/// said why on stderr. Panics instead when `DOCKLINT_REQUIRE_CORPUS=1`.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.join("expected-buildkit.jsonl").is_file() {
        return Some(dir);
    }
    let hint = format!(
        "test corpus not found at {}: put the shared corpus folder (shared/corpus, see its \
         README.md) beside this repository to run the corpus checks",
        dir.display()
    );
    if std::env::var(REQUIRE_CORPUS).is_ok_and(|v| v == "1") {
        panic!("{hint} ({REQUIRE_CORPUS}=1 requires it)");
    }
    // Straight to stderr: libtest hides what passing tests print with eprintln!.
    let _ = writeln!(
        std::io::stderr(),
        "NOTE: skipping corpus checks: {hint}; set {REQUIRE_CORPUS}=1 to make this a failure"
    );
    None
}

/// Lints `dockerfile` (written to a temp dir) with `docklint check --format json` and the
/// extra arguments; returns the diagnostics.
pub fn check_json(dockerfile: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let dir = TempDir::new("check-json");
    dir.write("Dockerfile", dockerfile);
    let mut args = vec!["check", "--format", "json"];
    args.extend(extra);
    args.push("Dockerfile");
    let out = docklint(dir.path(), &args);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(&out)))
}

/// The number before `marker` in `text` ("13 fixable" -> 13 for " fixable").
pub fn number_before(text: &str, marker: &str) -> Option<usize> {
    let end = text.find(marker)?;
    let digits: String = text[..end]
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.chars().rev().collect::<String>().parse().ok()
}

/// Parses a `--format json` run's standard output, which must be one JSON array.
pub fn json_array(output: &Output) -> Vec<serde_json::Value> {
    serde_json::from_slice::<Vec<serde_json::Value>>(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not a JSON array ({e}): {:?}", stdout(output)))
}

/// Runs docklint with extra environment variables.
pub fn docklint_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docklint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run docklint")
}

/// Fails with the whole text when `needle` is not in it.
#[track_caller]
pub fn assert_contains(text: &str, needle: &str) {
    assert!(text.contains(needle), "{needle:?} not in:\n{text}");
}

/// A fenced code block of a rule document.
#[derive(Debug)]
pub struct Block {
    /// The info string: `dockerfile bad`, `toml`, ...
    pub kind: String,
    pub text: String,
    /// Line of the opening fence (1-based).
    pub line: usize,
}

/// The fenced blocks of a markdown document.
pub fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    for (n, line) in markdown.lines().enumerate() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => {
                current = Some(Block {
                    kind: info.trim().to_string(),
                    text: String::new(),
                    line: n + 1,
                })
            }
            (Some(_), Some(rest)) if rest.trim().is_empty() => out.extend(current.take()),
            (Some(block), _) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

/// The settings a rule document's blocks are checked with: the default configuration, or
/// the document's preceding ```` ```toml ```` block, fixing only `rule`; `context` is the
/// build context (an empty directory when the document gives none).
pub fn doc_settings(
    rule: &'static str,
    toml: Option<&str>,
    context: &Path,
) -> docklint::config::Settings {
    use docklint::config::{Config, Overrides, Resolver};
    let explicit = toml.map(|t| {
        Config::parse(t, Path::new("lint.toml"))
            .unwrap_or_else(|e| panic!("toml block: {}", e.message))
    });
    let overrides = Overrides {
        context: Some(context.to_path_buf()),
        ..Overrides::default()
    };
    let mut resolver = Resolver::new(explicit, true, overrides);
    resolver
        .settings_for(Path::new("Dockerfile"))
        .expect("settings")
        .fixing_only(&[rule])
}

/// The path of a context-file block (```` ```text requirements.txt ````, ```` ```json
/// package.json ````), if it is one.
pub fn context_file(block: &Block) -> Option<&str> {
    match block.kind.split_whitespace().collect::<Vec<_>>().as_slice() {
        [language, path] if *language != "dockerfile" => Some(path),
        _ => None,
    }
}

/// A context-file block of a file of a given size (```` ```text models/x.safetensors
/// size=2GiB ````): its path and size. The file is sparse: nothing is written.
pub fn sized_context_file(block: &Block) -> Option<(&str, u64)> {
    match block.kind.split_whitespace().collect::<Vec<_>>().as_slice() {
        [language, path, size] if *language != "dockerfile" => {
            let size = size.strip_prefix("size=")?;
            let bytes = docklint::config::parse_size(size)
                .unwrap_or_else(|e| panic!("line {}: {e}", block.line));
            Some((path, bytes))
        }
        _ => None,
    }
}

/// The build contexts of a rule document, made under `root`: context-file blocks are the
/// files of the context of the `dockerfile` blocks after them; the first context-file block
/// after a `dockerfile` block starts a new context. Before any, the context is empty.
pub struct DocContexts {
    root: PathBuf,
    current: PathBuf,
    made: usize,
    /// A `dockerfile` block came since the last context-file block.
    used: bool,
}

impl DocContexts {
    pub fn new(root: &Path) -> DocContexts {
        let current = root.join("context-0");
        let _ = std::fs::remove_dir_all(&current);
        std::fs::create_dir_all(&current).expect("create context dir");
        DocContexts {
            root: root.to_path_buf(),
            current,
            made: 0,
            used: true,
        }
    }

    /// Takes a block in document order; returns the context a `dockerfile` block is checked in.
    pub fn see(&mut self, block: &Block) -> &Path {
        let file = match (context_file(block), sized_context_file(block)) {
            (Some(path), _) => Some((path, None)),
            (None, Some((path, size))) => Some((path, Some(size))),
            (None, None) => None,
        };
        if let Some((path, size)) = file {
            if std::mem::take(&mut self.used) {
                self.made += 1;
                self.current = self.root.join(format!("context-{}", self.made));
                let _ = std::fs::remove_dir_all(&self.current);
                std::fs::create_dir_all(&self.current).expect("create context dir");
            }
            let file = self.current.join(path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent).expect("create context parent");
            }
            match size {
                Some(size) => std::fs::File::create(&file)
                    .and_then(|f| f.set_len(size))
                    .expect("sized context file"),
                None => std::fs::write(&file, &block.text).expect("write context file"),
            }
        } else if block.kind.starts_with("dockerfile") {
            self.used = true;
        }
        &self.current
    }
}

/// Every `lints/**/*.md`, sorted.
pub fn rule_documents() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("lints/ readable")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("lints"),
        &mut out,
    );
    out
}
