//! Executes the rule documentation: every code block of every `lints/**/*.md`.
//!
//! - ```` ```dockerfile bad ````: the rule reports at least once;
//! - ```` ```dockerfile fixed ```` / ```` ```dockerfile fixed-unsafe ````: what the preceding
//!   `bad` block becomes with safe (or all) fixes; it is clean, and fixing it changes nothing;
//! - ```` ```dockerfile good ````: the rule reports nothing;
//! - ```` ```toml ````: lint.toml settings for the blocks after it.
//!
//! Each rule gets one snapshot in `snapshots/`: its `bad` blocks rendered as a user sees
//! them, with the diff of their fixes.

mod common;

use std::path::Path;

use common::{blocks, doc_settings, rule_documents, TempDir};
use docklint::config::Settings;
use docklint::emit::{self, FileReport};
use docklint::fix::Applicability;
use docklint::rule::{Diagnostic, FixAvailability};
use docklint::source::SourceFile;

fn render(text: &str, diagnostics: Vec<Diagnostic>) -> String {
    let report = FileReport {
        file: SourceFile::new("Dockerfile", text.to_string()),
        diagnostics,
    };
    emit::text::render(
        &[report],
        emit::text::Style {
            color: false,
            width: 100,
        },
    )
}

fn unified_diff(before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(2)
        .header("Dockerfile", "Dockerfile (fixed)")
        .to_string()
}

/// A file of an example's build context: ```` ```text .dockerignore ```` (any language word,
/// then the path), or ```` ```text models/x.safetensors size=2GiB ```` for a file of that
/// size (sparse: nothing is written).
#[derive(Clone)]
struct ContextFile {
    path: String,
    text: String,
    size: Option<u64>,
}

/// The info words of a context-file block: path, then `size=...` or `fixed`/`fixed-unsafe`.
fn context_block<'a>(words: &[&'a str]) -> Option<(&'a str, Option<&'a str>)> {
    match words {
        [lang, path] if *lang != "dockerfile" => Some((path, None)),
        [lang, path, extra] if *lang != "dockerfile" => Some((path, Some(extra))),
        _ => None,
    }
}

/// An example on disk: its context (when it has files) with the Dockerfile in it.
struct Example {
    _dir: Option<TempDir>,
    root: Option<std::path::PathBuf>,
    file: SourceFile,
    settings: Settings,
}

fn example(
    files: &[ContextFile],
    changed: &[(String, String)],
    text: &str,
    settings: &Settings,
) -> Example {
    let mut settings = settings.clone();
    if files.is_empty() {
        settings.context = None;
        return Example {
            _dir: None,
            root: None,
            file: SourceFile::new("Dockerfile", text.to_string()),
            settings,
        };
    }
    let dir = TempDir::new("doc-context");
    for f in files {
        let path = dir.write(&f.path, &f.text);
        if let Some(size) = f.size {
            std::fs::File::options()
                .write(true)
                .open(&path)
                .and_then(|file| file.set_len(size))
                .expect("sized file");
        }
    }
    for (path, text) in changed {
        dir.write(path, text);
    }
    let dockerfile = dir.write("Dockerfile", text);
    settings.context = Some(dir.path().to_path_buf());
    Example {
        root: Some(dir.path().to_path_buf()),
        _dir: Some(dir),
        file: SourceFile::new(dockerfile, text.to_string()),
        settings,
    }
}

/// The files a fix changed, relative to the example's context, with their new text.
fn changed_files(example: &Example, outcome: &docklint::FixOutcome) -> Vec<(String, String)> {
    let root = example.root.as_deref().unwrap_or(Path::new(""));
    outcome
        .files
        .iter()
        .map(|c| {
            let relative = c.path.strip_prefix(root).unwrap_or(&c.path);
            (relative.to_string_lossy().into_owned(), c.text.clone())
        })
        .collect()
}

fn file_diffs(example: &Example, outcome: &docklint::FixOutcome) -> String {
    let mut out = String::new();
    for (path, text) in changed_files(example, outcome) {
        let before = outcome
            .files
            .iter()
            .find(|c| c.path.ends_with(&path))
            .and_then(|c| c.original.clone())
            .unwrap_or_default();
        out.push_str(
            &similar::TextDiff::from_lines(&before, &text)
                .unified_diff()
                .context_radius(2)
                .header(&path, &format!("{path} (fixed)"))
                .to_string(),
        );
    }
    out
}

/// Checks one rule's document; returns the snapshot text, or the list of failures.
fn check_document(path: &Path) -> Result<String, Vec<String>> {
    let markdown = std::fs::read_to_string(path).expect("readable .md");
    let name = markdown
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# "))
        .unwrap_or("")
        .trim()
        .to_string();
    let Some(rule) = docklint::lints::find(&name) else {
        return Err(vec![format!(
            "the first line must be `# <rule-name>` of a registered rule, found `{name}`"
        )]);
    };
    let mut failures = Vec::new();
    let mut snapshot = String::new();
    let mut toml: Option<String> = None;
    let mut last_bad: Option<(String, usize)> = None;
    let (mut with_fix, mut without_fix) = (0, 0);
    // Context files accumulate until a Dockerfile block uses them; the next file starts a
    // new example.
    let mut context: Vec<ContextFile> = Vec::new();
    let mut context_used = false;
    // The files the last `fixed` block's fix changed (relative path, text).
    let mut last_fixed_files: Vec<(String, String)> = Vec::new();
    for block in blocks(&markdown) {
        let at = format!("{}:{}", path.display(), block.line);
        let words: Vec<&str> = block.kind.split_whitespace().collect();
        match words.as_slice() {
            ["toml"] => toml = Some(block.text.clone()),
            ["dockerfile", kind] => {
                context_used = true;
                let settings = doc_settings(rule.meta().name, toml.as_deref());
                let ex = example(&context, &[], &block.text, &settings);
                let diagnostics: Vec<Diagnostic> = docklint::lint(&ex.file, &ex.settings)
                    .into_iter()
                    .filter(|d| d.rule == name)
                    .collect();
                match *kind {
                    "bad" => {
                        if diagnostics.is_empty() {
                            failures
                                .push(format!("{at}: `bad` block produces no `{name}` diagnostic"));
                        }
                        for d in &diagnostics {
                            if d.fix.is_some() {
                                with_fix += 1
                            } else {
                                without_fix += 1
                            }
                        }
                        let all = docklint::fix(&ex.file, &ex.settings, Applicability::Unsafe);
                        snapshot.push_str(&format!("── bad block, line {} ──\n", block.line));
                        snapshot.push_str(&render(&block.text, diagnostics));
                        if all.text != block.text {
                            snapshot.push_str(&unified_diff(&block.text, &all.text));
                        }
                        snapshot.push_str(&file_diffs(&ex, &all));
                        snapshot.push('\n');
                        last_bad = Some((block.text.clone(), block.line));
                    }
                    "fixed" | "fixed-unsafe" => {
                        let Some((bad, bad_line)) = last_bad.take() else {
                            failures.push(format!(
                                "{at}: `{kind}` block without a `bad` block before it"
                            ));
                            continue;
                        };
                        let min = if *kind == "fixed" {
                            Applicability::Safe
                        } else {
                            Applicability::Unsafe
                        };
                        let bad_ex = example(&context, &[], &bad, &settings);
                        let fixed = docklint::fix(&bad_ex.file, &bad_ex.settings, min);
                        if fixed.text != block.text {
                            failures.push(format!(
                                "{at}: fixing the `bad` block of line {bad_line} gives something else:\n{}",
                                unified_diff(&block.text, &fixed.text)
                            ));
                        }
                        last_fixed_files = changed_files(&bad_ex, &fixed);
                        // The fixed example: the fixed Dockerfile in the context the fix left.
                        let after = example(&context, &last_fixed_files, &block.text, &settings);
                        let remaining: Vec<String> = docklint::lint(&after.file, &after.settings)
                            .into_iter()
                            .filter(|d| d.rule == name)
                            .map(|d| d.message)
                            .collect();
                        if !remaining.is_empty() {
                            failures.push(format!(
                                "{at}: the `{kind}` block still has `{name}` diagnostics: {remaining:?}"
                            ));
                        }
                        let again = docklint::fix(&after.file, &after.settings, min);
                        if again.text != block.text || !again.files.is_empty() {
                            failures.push(format!(
                                "{at}: fixing the `{kind}` block again changes it:\n{}{}",
                                unified_diff(&block.text, &again.text),
                                file_diffs(&after, &again)
                            ));
                        }
                    }
                    "good" => {
                        if !diagnostics.is_empty() {
                            failures.push(format!(
                                "{at}: `good` block has `{name}` diagnostics: {:?}",
                                diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
                            ));
                        }
                        last_bad = None;
                    }
                    other => failures.push(format!("{at}: unknown block kind `{other}`")),
                }
            }
            words if context_block(words).is_some() => {
                let Some((file, extra)) = context_block(words) else {
                    continue;
                };
                match extra {
                    Some("fixed") | Some("fixed-unsafe") => {
                        let got = last_fixed_files.iter().find(|(p, _)| p == file);
                        match got {
                            Some((_, text)) if *text == block.text => {}
                            Some((_, text)) => {
                                failures.push(format!("{at}: the fix leaves {file} as:\n{text}"))
                            }
                            None => failures.push(format!("{at}: the fix does not change {file}")),
                        }
                    }
                    Some(size) => {
                        match size.strip_prefix("size=").map(docklint::config::parse_size) {
                            Some(Ok(bytes)) => {
                                if context_used {
                                    context.clear();
                                    context_used = false;
                                }
                                context.push(ContextFile {
                                    path: file.to_string(),
                                    text: String::new(),
                                    size: Some(bytes),
                                });
                            }
                            _ => failures
                                .push(format!("{at}: unknown context block `{}`", block.kind)),
                        }
                    }
                    None => {
                        if context_used {
                            context.clear();
                            context_used = false;
                        }
                        context.push(ContextFile {
                            path: file.to_string(),
                            text: block.text.clone(),
                            size: None,
                        });
                    }
                }
            }
            ["text"] | ["sh"] | [] => {}
            _ => failures.push(format!("{at}: unknown block `{}`", block.kind)),
        }
    }
    match rule.meta().fix {
        FixAvailability::Always if without_fix > 0 => failures.push(format!("`{name}` declares a fix always, but {without_fix} `bad` diagnostics have none")),
        FixAvailability::None if with_fix > 0 => failures.push(format!("`{name}` declares no fix, but {with_fix} `bad` diagnostics have one")),
        FixAvailability::Sometimes if with_fix == 0 || without_fix == 0 => {
            failures.push(format!("`{name}` declares a fix sometimes: its examples need a `bad` block with a fix and one without ({with_fix} with, {without_fix} without)"))
        }
        _ => {}
    }
    if failures.is_empty() {
        Ok(snapshot)
    } else {
        Err(failures)
    }
}

#[test]
fn rule_documents_are_true() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut failures = Vec::new();
    let mut snapshots = Vec::new();
    for path in rule_documents() {
        match check_document(&path) {
            Ok(snapshot) => snapshots.push((path, snapshot)),
            Err(errors) => failures.extend(errors),
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n\n"));
    for (path, snapshot) in snapshots {
        let relative = path.strip_prefix(root.join("lints")).expect("under lints/");
        let name = relative.to_string_lossy().replace(['/', '\\'], "__");
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(root.join("snapshots"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_input_file(&path);
        settings.bind(|| insta::assert_snapshot!(format!("lints@{name}"), snapshot));
    }
}

#[test]
fn the_block_reader_sees_every_kind() {
    let md = "# r\n```dockerfile bad\nFROM a\n```\ntext\n```toml\nx = 1\n```\n";
    let b = blocks(md);
    assert_eq!(b.len(), 2);
    assert_eq!(
        (b[0].kind.as_str(), b[0].text.as_str(), b[0].line),
        ("dockerfile bad", "FROM a\n", 2)
    );
    assert_eq!(b[1].kind, "toml");
}
