//! The two-stage rewrite of `missing-multistage-split`, read without building it (the build
//! test, `multistage_splits_run_the_same_program`, runs the images): every rewrite of the
//! rule document's `bad` examples is a valid two-stage file whose final stage keeps the
//! runtime instructions, and that none of the stage rules reports again.

mod common;

use std::path::Path;

use common::{blocks, doc_settings, TempDir};
use docklint::fix::Applicability;
use docklint::source::SourceFile;

const RULE: &str = "missing-multistage-split";
/// What a rewrite must leave nothing for.
const CLEAN_OF: &[&str] = &[
    "missing-multistage-split",
    "build-tools-in-final-stage",
    "heavy-base-image",
];
/// Instructions that describe how the image runs: they belong to the final stage.
const RUNTIME: &[&str] = &["CMD", "ENTRYPOINT", "USER", "EXPOSE"];

/// Each rewrite of the document with its `bad` example, `(line, original, fixed)`.
fn rewrites() -> Vec<(usize, String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let markdown = std::fs::read_to_string(root.join("lints/stages/missing_multistage_split.md"))
        .expect("readable rule document");
    let context = TempDir::new("stages-split");
    let mut out = Vec::new();
    for block in blocks(&markdown) {
        let words: Vec<&str> = block.kind.split_whitespace().collect();
        match words.as_slice() {
            [language, file] if *language != "dockerfile" => {
                context.write(file, &block.text);
            }
            ["dockerfile", "bad"] => {
                let settings = doc_settings(RULE, None, context.path());
                let source = SourceFile::new("Dockerfile", block.text.clone());
                let fixed = docklint::fix(&source, &settings, Applicability::Unsafe).text;
                if fixed != block.text {
                    out.push((block.line, block.text.clone(), fixed));
                }
            }
            _ => {}
        }
    }
    out
}

/// The instructions of the runtime kinds in `text`, each as its trimmed first line.
fn runtime_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| {
            let keyword = l
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            RUNTIME.contains(&keyword.as_str())
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn multistage_rewrites_are_clean_two_stage_files() {
    let rewrites = rewrites();
    // Go (2), Rust (2), Node.js (2), Python (1).
    assert!(rewrites.len() >= 7, "only {} rewrites", rewrites.len());
    let mut failures = Vec::new();
    for (line, original, fixed) in &rewrites {
        let at = format!("missing_multistage_split.md:{line}");
        let parsed = docklint::syntax::dockerfile::parse(fixed);
        if !parsed.errors.is_empty() {
            failures.push(format!("{at}: the rewrite does not parse:\n{fixed}"));
            continue;
        }
        let stages = fixed
            .lines()
            .filter(|l| l.trim_start().to_ascii_uppercase().starts_with("FROM "))
            .count();
        if stages != 2 {
            failures.push(format!("{at}: {stages} stages, not 2:\n{fixed}"));
        }
        let final_stage = fixed.rsplit_once("\nFROM ").map_or("", |(_, s)| s);
        // USER and EXPOSE stay as written; the command may change with what the runtime
        // gets (a Next.js standalone server is started with `node server.js`, not `next`).
        let kept = runtime_lines(final_stage);
        for runtime in runtime_lines(original) {
            let keyword = runtime
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            let present = match keyword.as_str() {
                "CMD" | "ENTRYPOINT" => kept
                    .iter()
                    .any(|k| k.to_ascii_uppercase().starts_with(&keyword)),
                _ => kept.contains(&runtime),
            };
            if !present {
                failures.push(format!(
                    "{at}: `{runtime}` is not in the final stage:\n{fixed}"
                ));
            }
        }
        // The rewrite alone, in an empty build context.
        let empty = TempDir::new("stages-rewrite");
        let settings = doc_settings(RULE, None, empty.path());
        let source = SourceFile::new("Dockerfile", fixed.clone());
        for d in docklint::lint(&source, &settings) {
            if CLEAN_OF.contains(&d.rule) {
                failures.push(format!(
                    "{at}: the rewrite has `{}`: {}\n{fixed}",
                    d.rule, d.message
                ));
            }
        }
        let again = docklint::fix(&source, &settings, Applicability::Unsafe).text;
        if &again != fixed {
            failures.push(format!(
                "{at}: fixing the rewrite again changes it:\n{again}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n\n"));
}
