//! The multi-stage rewrite of `missing-multistage-split`, proved by building it.
//!
//! Each `bad` example of `lints/stages/missing_multistage_split.md` that the fix rewrites is
//! built twice with the real sources of the document (its ```` ```go main.go ```` … blocks,
//! gathered as `tests/lints.rs` does): as written, and as docklint's unsafe fix
//! leaves it. Both images must build; the final image's command (ENTRYPOINT and CMD, run
//! with the image's USER, WORKDIR and ENV) must print the same non-empty output in both;
//! and the rewritten image must be smaller (bytes of regular files in the final root file
//! system). Examples whose images have no stand-in are listed as skipped, with the image.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use docklint::fix::Applicability;
use docklint::source::SourceFile;

use crate::builder::{Bud, Builder, Ended, BUILD_REPOSITORY};
use crate::common::{blocks, doc_settings, DocContexts};
use crate::tree::Tree;
use crate::{skip_reason, slug, Skip};

const RULE: &str = "missing-multistage-split";

/// A `bad` example of a rule document that the rule's unsafe fix rewrites.
pub struct Rewrite {
    /// `missing_multistage_split.md:47`
    pub name: String,
    pub original: String,
    pub fixed: String,
    /// The context the document gives the example (its context-file blocks, as
    /// `tests/lints.rs` reads them); shared by the examples of one context: copy it to
    /// change it.
    pub context: PathBuf,
}

/// The examples of `missing-multistage-split` the fix rewrites, with their context (made
/// under `contexts`).
pub fn cases(repository: &Path, contexts: &Path) -> Vec<Rewrite> {
    rewrites(
        &repository.join("lints/stages/missing_multistage_split.md"),
        RULE,
        contexts,
    )
}

/// The `bad` examples of the rule document at `path` that `rule`'s unsafe fix changes,
/// with their fixed text and their context, made under `contexts` as `tests/lints.rs`
/// makes it (settings from the `toml` block before the example).
pub fn rewrites(path: &Path, rule: &'static str, contexts: &Path) -> Vec<Rewrite> {
    let markdown = std::fs::read_to_string(path).expect("readable rule document");
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut doc_contexts = DocContexts::new(contexts);
    let mut toml: Option<String> = None;
    let mut out = Vec::new();
    for block in blocks(&markdown) {
        let context = doc_contexts.see(&block).to_path_buf();
        match block.kind.as_str() {
            "toml" => toml = Some(block.text.clone()),
            "dockerfile bad" => {
                let settings = doc_settings(rule, toml.as_deref(), &context);
                let source = SourceFile::new("Dockerfile", block.text.clone());
                let fixed = docklint::fix(&source, &settings, Applicability::Unsafe).text;
                if fixed != block.text {
                    out.push(Rewrite {
                        name: format!("{file_name}:{}", block.line),
                        original: block.text.clone(),
                        fixed,
                        context,
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// A copy of the directory `from` at `to` (replacing what was there).
pub fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .map_err(|e| format!("{}: {e}", target.display()))?;
        }
    }
    Ok(())
}

/// What one image did: its size and its command's output.
struct Ran {
    bytes: u64,
    output: String,
    seconds: f64,
}

/// Builds and compares every case; returns the failures (the report is printed).
pub fn run(builder: &Builder, cases: &[Rewrite], filters: &[String]) -> Vec<String> {
    let images = builder.images().unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    let mut report = String::new();
    let mut skipped = Vec::new();
    let mut proved = 0;
    for case in cases {
        if !filters.is_empty() && !filters.iter().any(|f| case.name.contains(f.as_str())) {
            continue;
        }
        if let Some(skip) = skip_reason([&case.original, &case.fixed].into_iter(), &images) {
            let reason = match skip {
                Skip::Heredoc => "a heredoc (buildah 1.28 has none)".to_string(),
                Skip::Other(reason) => reason,
            };
            skipped.push(format!("  {}: {reason}", case.name));
            continue;
        }
        let dir = builder.work_dir().join(slug(&case.name));
        let context = dir.join("context");
        if let Err(why) = copy_dir(&case.context, &context) {
            failures.push(format!("── {}: {why}", case.name));
            continue;
        }
        let mut ran = Vec::new();
        for (variant, text) in [("original", &case.original), ("split", &case.fixed)] {
            match build_and_run(
                builder,
                &dir,
                &format!("{}-{variant}", slug(&case.name)),
                text,
                &context,
            ) {
                Ok(r) => ran.push(r),
                Err(why) => {
                    failures.push(format!(
                        "── {} ({variant}): {why}\n{}",
                        case.name,
                        indent(text)
                    ));
                    break;
                }
            }
        }
        let [before, after] = ran.as_slice() else {
            let _ = writeln!(report, "{}: FAILED (see the failures)", case.name);
            continue;
        };
        let same = before.output == after.output && !before.output.trim().is_empty();
        let smaller = after.bytes < before.bytes;
        let _ = writeln!(
            report,
            "{}: {} -> {} bytes ({:.0}% smaller); output {}; built in {:.0} s and {:.0} s\n  output: {}",
            case.name,
            before.bytes,
            after.bytes,
            100.0 * (before.bytes as f64 - after.bytes as f64) / before.bytes.max(1) as f64,
            if same { "the same" } else { "DIFFERENT" },
            before.seconds,
            after.seconds,
            before.output.trim().replace('\n', " | ")
        );
        if !same {
            failures.push(format!(
                "── {}: the split image's command prints {:?}, the original's {:?}\n{}",
                case.name,
                after.output,
                before.output,
                indent(&case.fixed)
            ));
        }
        if !smaller {
            failures.push(format!(
                "── {}: the split image is not smaller ({} bytes, the original {})",
                case.name, after.bytes, before.bytes
            ));
        }
        if same && smaller {
            proved += 1;
        }
    }
    crate::print_proof_summary(
        "split",
        &report,
        &format!(
            "{proved} rewrites build, run the same command with the same output and are smaller"
        ),
        &skipped,
    );
    failures
}

/// Builds `text`, reads its size, runs its command; removes the image.
fn build_and_run(
    builder: &Builder,
    dir: &Path,
    id: &str,
    text: &str,
    context: &Path,
) -> Result<Ran, String> {
    let started = std::time::Instant::now();
    let tmp = dir.join(format!("{id}-tmp"));
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let file = dir.join(format!("{id}.Dockerfile"));
    std::fs::write(&file, text).map_err(|e| e.to_string())?;
    let log = dir.join(format!("{id}.log"));
    let tag = format!("{BUILD_REPOSITORY}/{id}");
    let ended = builder.bud(&Bud {
        tag: &tag,
        file: &file,
        context,
        tmp: &tmp,
        log: &log,
        layers: false,
        no_cache: false,
        offline: false,
        env: &[],
    })?;
    let seconds = started.elapsed().as_secs_f64();
    if ended != Ended::Built {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!("{ended:?}:\n{}", indent(&tail.join("\n"))));
    }
    let result = (|| {
        let tree: Tree = builder.read_image(&tag, id)?;
        let command = builder.image_command(&tag)?;
        if command.is_empty() {
            return Err("the image has no command".to_string());
        }
        let argv: Vec<&str> = command.iter().map(String::as_str).collect();
        let output = builder.run_in_image(&tag, &argv)?;
        Ok(Ran {
            bytes: tree.file_bytes(|_| false),
            output,
            seconds,
        })
    })();
    builder.remove_image(&tag);
    result
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}
