//! Executes the rule documentation: every code block of every `lints/**/*.md`.
//!
//! - ```` ```dockerfile bad ````: the rule reports at least once;
//! - ```` ```dockerfile fixed ```` / ```` ```dockerfile fixed-unsafe ````: what the preceding
//!   `bad` block becomes with safe (or all) fixes; it is clean, and fixing it changes nothing;
//! - ```` ```dockerfile good ````: the rule reports nothing;
//! - ```` ```toml ````: lint.toml settings for the blocks after it;
//! - ```` ```<language> <path> ```` (`text requirements.txt`, `json package.json`): a file of
//!   the build context of the `dockerfile` blocks after it (the first one after a `dockerfile`
//!   block starts a new context); ```` ```text models/x.safetensors size=2GiB ```` is a file of
//!   that size (sparse);
//! - ```` ```<language> <path> fixed ```` (or `fixed-unsafe`): what the last `fixed` block's
//!   fix leaves in that file of the context (a `.dockerignore`).
//!
//! The Dockerfile of a `dockerfile` block is written at the root of its context.
//!
//! Each rule gets one snapshot in `snapshots/`: its `bad` blocks rendered as a user sees
//! them, with the diff of their fixes.

mod common;

use std::path::{Path, PathBuf};

use common::{blocks, doc_settings, rule_documents, DocContexts, TempDir};
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

/// The Dockerfile of an example, written at the root of its context.
fn example_file(context: &Path, text: &str) -> SourceFile {
    let path = context.join("Dockerfile");
    std::fs::write(&path, text).expect("write Dockerfile");
    SourceFile::new(path, text.to_string())
}

/// The files a fix changed, relative to the context, with their new text.
fn changed_files(context: &Path, outcome: &docklint::FixOutcome) -> Vec<(String, String)> {
    outcome
        .files
        .iter()
        .map(|c| {
            let relative = c.path.strip_prefix(context).unwrap_or(&c.path);
            (relative.to_string_lossy().into_owned(), c.text.clone())
        })
        .collect()
}

fn file_diffs(context: &Path, outcome: &docklint::FixOutcome) -> String {
    let mut out = String::new();
    for (change, (path, text)) in outcome.files.iter().zip(changed_files(context, outcome)) {
        let before = change.original.clone().unwrap_or_default();
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

/// Writes the files a fix changed into the context; returns what restores them.
fn write_changes(outcome: &docklint::FixOutcome) -> Vec<(PathBuf, Option<String>)> {
    outcome
        .files
        .iter()
        .map(|c| {
            std::fs::write(&c.path, &c.text).expect("write changed context file");
            (c.path.clone(), c.original.clone())
        })
        .collect()
}

fn restore(files: Vec<(PathBuf, Option<String>)>) {
    for (path, original) in files {
        match original {
            Some(text) => std::fs::write(&path, text).expect("restore context file"),
            None => std::fs::remove_file(&path).expect("remove created context file"),
        }
    }
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
    let contexts_dir = TempDir::new("doc-contexts");
    let mut contexts = DocContexts::new(contexts_dir.path());
    let mut last_bad: Option<(String, usize)> = None;
    let (mut with_fix, mut without_fix) = (0, 0);
    // The files the last `fixed` block's fix changed (relative path, text).
    let mut last_fixed_files: Vec<(String, String)> = Vec::new();
    for block in blocks(&markdown) {
        let at = format!("{}:{}", path.display(), block.line);
        let words: Vec<&str> = block.kind.split_whitespace().collect();
        let context = contexts.see(&block).to_path_buf();
        match words.as_slice() {
            ["toml"] => toml = Some(block.text.clone()),
            [language, file, "fixed" | "fixed-unsafe"] if *language != "dockerfile" => {
                match last_fixed_files.iter().find(|(p, _)| p == file) {
                    Some((_, text)) if *text == block.text => {}
                    Some((_, text)) => {
                        failures.push(format!("{at}: the fix leaves {file} as:\n{text}"))
                    }
                    None => failures.push(format!("{at}: the fix does not change {file}")),
                }
            }
            // Context files: `contexts` wrote them.
            [language, _] | [language, _, _] if *language != "dockerfile" => {}
            ["dockerfile", kind] => {
                let settings = doc_settings(rule.meta().name, toml.as_deref(), &context);
                let file = example_file(&context, &block.text);
                let diagnostics: Vec<Diagnostic> = docklint::lint(&file, &settings)
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
                        let all = docklint::fix(&file, &settings, Applicability::Unsafe);
                        snapshot.push_str(&format!("── bad block, line {} ──\n", block.line));
                        snapshot.push_str(&render(&block.text, diagnostics));
                        if all.text != block.text {
                            snapshot.push_str(&unified_diff(&block.text, &all.text));
                        }
                        snapshot.push_str(&file_diffs(&context, &all));
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
                        let fixed = docklint::fix(&example_file(&context, &bad), &settings, min);
                        if fixed.text != block.text {
                            failures.push(format!(
                                "{at}: fixing the `bad` block of line {bad_line} gives something else:\n{}",
                                unified_diff(&block.text, &fixed.text)
                            ));
                        }
                        last_fixed_files = changed_files(&context, &fixed);
                        // The fixed example: the fixed Dockerfile in the context the fix left.
                        let file = example_file(&context, &block.text);
                        let written = write_changes(&fixed);
                        let remaining: Vec<String> = docklint::lint(&file, &settings)
                            .into_iter()
                            .filter(|d| d.rule == name)
                            .map(|d| d.message.to_string())
                            .collect();
                        if !remaining.is_empty() {
                            failures.push(format!(
                                "{at}: the `{kind}` block still has `{name}` diagnostics: {remaining:?}"
                            ));
                        }
                        let again = docklint::fix(&file, &settings, min);
                        if again.text != block.text || !again.files.is_empty() {
                            failures.push(format!(
                                "{at}: fixing the `{kind}` block again changes it:\n{}{}",
                                unified_diff(&block.text, &again.text),
                                file_diffs(&context, &again)
                            ));
                        }
                        restore(written);
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
