//! Two fixes of the layers family proved with buildah's layer cache on (`--layers`), each
//! step its own layer as on BuildKit. The examples are the `bad` blocks of the rule
//! documents that the rule's unsafe fix rewrites, with the document's context files
//! (gathered as `build/split.rs` does).
//!
//! - `copy-all-before-install`: the original and the fixed file are built; then an
//!   application source of the context (a file none of the fixed file's manifest copies
//!   names) is edited and both are rebuilt. The log says which steps came from the cache
//!   (`--> Using cache`). After the edit the original must run its install again, and the
//!   fixed file must take its install (the RUNs before its full copy) from the cache and
//!   run the full copy again; both rebuilt images' commands must print the same non-empty
//!   output. Only examples whose install reaches a registry from here with a tool the
//!   stand-ins have are built (pip from PyPI, npm from the npm registry); the others are
//!   listed with the reason.
//! - `cleanup-in-later-layer`: the original and the fixed file are built; the fixed image
//!   must have the same final file system (the volatile paths of `build/compare.rs` aside)
//!   and ship fewer bytes: the regular files of all its layers, where a file a later layer
//!   deletes still counts.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use docklint::syntax::dockerfile::{parse, Args, Keyword};

use crate::builder::{Bud, Build, Builder, Ended, Outcome, BUILD_REPOSITORY};
use crate::compare;
use crate::split::{copy_dir, rewrites, Rewrite};
use crate::tree::{Kind, Tree};
use crate::{skip_reason, slug, Skip};

/// Installs the stand-ins can run against a registry reachable from the builds: PyPI and
/// the npm registry (program, subcommand).
const REACHABLE_INSTALLS: &[(&str, &str)] =
    &[("pip", "install"), ("npm", "ci"), ("npm", "install")];

/// Whether a line of `text` runs one of [`REACHABLE_INSTALLS`].
fn installs_from_reachable_registry(text: &str) -> bool {
    text.lines().any(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        words
            .windows(2)
            .any(|pair| REACHABLE_INSTALLS.contains(&(pair[0], pair[1])))
    })
}

/// One step of a `--layers` build: its instruction, and whether the cache gave it.
pub struct Step {
    pub instruction: String,
    pub cached: bool,
}

/// The steps of a `buildah bud --layers` log after FROM (`STEP 2/5: COPY . .`), each
/// cached when `--> Using cache` follows it.
pub fn steps(log: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    for line in log.lines() {
        if let Some(rest) = line.strip_prefix("STEP ") {
            let instruction = rest.split_once(": ").map_or(rest, |(_, i)| i);
            steps.push(Step {
                instruction: instruction.to_string(),
                cached: false,
            });
        } else if line.starts_with("--> Using cache") {
            if let Some(last) = steps.last_mut() {
                last.cached = true;
            }
        }
    }
    steps.retain(|s| !s.instruction.starts_with("FROM "));
    steps
}

/// Why a case cannot be built here, as the other build tests say it.
fn not_buildable(case: &Rewrite, images: &std::collections::BTreeSet<String>) -> Option<String> {
    skip_reason([&case.original, &case.fixed].into_iter(), images).map(|skip| match skip {
        Skip::Heredoc => "a heredoc (buildah 1.28 has none)".to_string(),
        Skip::Other(reason) => reason,
    })
}

fn selected(name: &str, filters: &[String]) -> bool {
    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
}

/// The sources of the COPY instructions of `text` that copy named files (not the whole
/// context): the manifests the fix copies first.
fn named_copy_sources(text: &str) -> Vec<String> {
    parse(text)
        .instructions
        .iter()
        .filter(|i| i.keyword == Keyword::Copy)
        .filter_map(|i| match &i.args {
            Args::Copy(copy) => Some(copy.sources.iter().map(|s| s.value.clone())),
            _ => None,
        })
        .flatten()
        .filter(|source| source != "." && source != "./")
        .collect()
}

/// The files of the context an application edit touches: neither a manifest the fixed
/// file copies by name nor a dotfile (`.dockerignore`).
fn application_sources(fixed: &str, context: &Path) -> Result<Vec<String>, String> {
    let manifests = named_copy_sources(fixed);
    let tree = Tree::read(context).map_err(|e| format!("{}: {e}", context.display()))?;
    Ok(tree
        .entries
        .iter()
        .filter(|(_, entry)| entry.kind == Kind::File)
        .map(|(path, _)| path.trim_start_matches('/').to_string())
        .filter(|path| !path.starts_with('.') && !manifests.contains(path))
        .collect())
}

/// A comment line in the language of `path`, so that the edited program still runs. It
/// names the moment of the edit: no layer kept from an earlier run can hold the edited
/// file, so the original has to run its steps after the copy again.
fn edit_line(path: &str) -> String {
    let comment = match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("js" | "mjs" | "cjs" | "ts" | "go" | "rs" | "java") => "//",
        _ => "#",
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{comment} edited at {}.{:09}\n",
        now.as_secs(),
        now.subsec_nanos()
    )
}

/// A `--layers` build of `text`; its steps and seconds, or why it failed.
fn layered_build(
    builder: &Builder,
    dir: &Path,
    id: &str,
    text: &str,
    context: &Path,
) -> Result<(Vec<Step>, f64), String> {
    let started = Instant::now();
    let tmp = dir.join(format!("{id}-tmp"));
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let file = dir.join(format!("{id}.Dockerfile"));
    std::fs::write(&file, text).map_err(|e| e.to_string())?;
    let log_path = dir.join(format!("{id}.log"));
    let tag = format!("{BUILD_REPOSITORY}/{id}");
    let ended = builder.bud(&Bud {
        tag: &tag,
        file: &file,
        context,
        tmp: &tmp,
        log: &log_path,
        layers: true,
        // Reusing layers kept from elsewhere is fine: the rebuild after the edit follows
        // the same chain. (After a `--no-cache` build buildah 1.28 may take an older
        // sibling layer for the next build's first step, and the chains part.)
        no_cache: false,
        offline: false,
        env: &[],
    })?;
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    if ended != Ended::Built {
        return Err(format!("{ended:?}:\n{}", indent(&tail(&log, 15))));
    }
    Ok((steps(&log), started.elapsed().as_secs_f64()))
}

/// `copy-all-before-install`: after a source edit the original re-runs its install, the
/// fixed file takes it from the cache. Returns the failures (the report is printed).
pub fn install_cache(builder: &Builder, repository: &Path, filters: &[String]) -> Vec<String> {
    let images = builder.images().unwrap_or_else(|e| panic!("{e}"));
    let cases = rewrites(
        &repository.join("lints/layers/copy_all_before_install.md"),
        "copy-all-before-install",
        &builder.work_dir().join("contexts"),
    );
    let mut failures = Vec::new();
    let mut report = String::new();
    let mut skipped = Vec::new();
    let mut proved = 0;
    let mut tags = Vec::new();
    for case in cases.iter().filter(|c| selected(&c.name, filters)) {
        if let Some(reason) = not_buildable(case, &images) {
            skipped.push(format!("  {}: {reason}", case.name));
            continue;
        }
        if !installs_from_reachable_registry(&case.original) {
            skipped.push(format!(
                "  {}: not a pip or npm install (the stand-ins have those, and PyPI and the npm registry are reachable)",
                case.name
            ));
            continue;
        }
        let dir = builder.work_dir().join(slug(&case.name));
        let context = dir.join("context");
        let sources = copy_dir(&case.context, &context)
            .and_then(|()| application_sources(&case.fixed, &context));
        let sources = match sources {
            Ok(sources) if !sources.is_empty() => sources,
            Ok(_) => {
                failures.push(format!(
                    "── {}: the document gives the example no application source to edit",
                    case.name
                ));
                continue;
            }
            Err(why) => {
                failures.push(format!("── {}: {why}", case.name));
                continue;
            }
        };
        let variants = [("original", &case.original), ("fixed", &case.fixed)];
        match prove_install_cached(builder, &dir, &context, &case.name, &variants, &sources) {
            Ok((line, problems)) => {
                let _ = writeln!(report, "{line}");
                if problems.is_empty() {
                    proved += 1;
                }
                failures.extend(problems);
            }
            Err(why) => {
                let _ = writeln!(report, "{}: FAILED (see the failures)", case.name);
                failures.push(format!("── {}: {why}", case.name));
            }
        }
        for (variant, _) in variants {
            for build in ["built", "rebuilt"] {
                tags.push(format!(
                    "{BUILD_REPOSITORY}/{}-{variant}-{build}",
                    slug(&case.name)
                ));
            }
        }
    }
    // Removing a tag removes its untagged parents: the layers the rebuilds reused.
    for tag in &tags {
        builder.remove_image(tag);
    }
    crate::print_proof_summary(
        "install cache",
        &report,
        &format!("{proved} fixes keep the install cached after a source edit, where the original re-runs it"),
        &skipped,
    );
    failures
}

/// Builds both variants, edits `sources`, rebuilds both; the report line and the failures.
fn prove_install_cached(
    builder: &Builder,
    dir: &Path,
    context: &Path,
    name: &str,
    variants: &[(&str, &String); 2],
    sources: &[String],
) -> Result<(String, Vec<String>), String> {
    let mut first = Vec::new();
    for (variant, text) in variants {
        let id = format!("{}-{variant}-built", slug(name));
        first.push(layered_build(builder, dir, &id, text, context)?);
    }
    for source in sources {
        let path = context.join(source);
        let mut text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        text.push_str(&edit_line(source));
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
    }
    let mut again = Vec::new();
    for (variant, text) in variants {
        let id = format!("{}-{variant}-rebuilt", slug(name));
        again.push(layered_build(builder, dir, &id, text, context)?);
    }
    // The install: the RUN steps the fixed file runs before its last COPY (the full copy
    // it moved after them).
    let fixed_steps = &again[1].0;
    let last_copy = fixed_steps
        .iter()
        .rposition(|s| s.instruction.starts_with("COPY "));
    let installs: Vec<&str> = fixed_steps[..last_copy.unwrap_or(0)]
        .iter()
        .filter(|s| s.instruction.starts_with("RUN "))
        .map(|s| s.instruction.as_str())
        .collect();
    let mut problems = Vec::new();
    if last_copy.is_some_and(|i| fixed_steps[i].cached) {
        problems.push(format!(
            "── {name}: after the edit the fixed file took its full copy from the cache: the edit did not reach the build"
        ));
    }
    if installs.is_empty() {
        problems.push(format!(
            "── {name}: the fixed file runs no step before its full copy"
        ));
    }
    let rerun = |steps: &[Step]| steps.iter().filter(|s| !s.cached).count();
    let install_reran =
        |steps: &[Step], install: &str| steps.iter().any(|s| s.instruction == install && !s.cached);
    for install in &installs {
        if !install_reran(&again[0].0, install) {
            problems.push(format!(
                "── {name}: after the edit the original did not re-run `{install}`: the edit proves nothing"
            ));
        }
        if install_reran(fixed_steps, install) {
            problems.push(format!(
                "── {name}: after the edit the fixed file re-ran `{install}`"
            ));
        }
    }
    // The rebuilt images run the same program with the same output.
    let mut outputs = Vec::new();
    for (variant, _) in variants {
        let tag = format!("{BUILD_REPOSITORY}/{}-{variant}-rebuilt", slug(name));
        outputs.push(run_command(builder, &tag)?);
    }
    let same = outputs[0] == outputs[1] && !outputs[0].trim().is_empty();
    if !same {
        problems.push(format!(
            "── {name}: the fixed image's command prints {:?}, the original's {:?}",
            outputs[1], outputs[0]
        ));
    }
    let line = format!(
        "{name}: after an edit of {}: the original re-ran {} of {} steps ({}), the fixed file {} of {} ({}); install `{}`; built in {:.0} s and {:.0} s, rebuilt in {:.0} s and {:.0} s; output {}: {}",
        sources.join(", "),
        rerun(&again[0].0),
        again[0].0.len(),
        describe(&again[0].0),
        rerun(fixed_steps),
        fixed_steps.len(),
        describe(fixed_steps),
        installs.join("`, `"),
        first[0].1,
        first[1].1,
        again[0].1,
        again[1].1,
        if same { "the same" } else { "DIFFERENT" },
        outputs[0].trim().replace('\n', " | "),
    );
    Ok((line, problems))
}

/// What the image's command (ENTRYPOINT and CMD) prints.
fn run_command(builder: &Builder, tag: &str) -> Result<String, String> {
    let command = builder.image_command(tag)?;
    if command.is_empty() {
        return Err(format!("{tag} has no command"));
    }
    let argv: Vec<&str> = command.iter().map(String::as_str).collect();
    builder.run_in_image(tag, &argv)
}

/// `COPY . . re-ran, RUN … cached, …` in short: each step's keyword and what happened.
fn describe(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| {
            let keyword = s.instruction.split_whitespace().next().unwrap_or("");
            format!("{keyword} {}", if s.cached { "cached" } else { "re-ran" })
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What one image of the cleanup test shipped.
struct Shipped {
    build: Build,
    /// Regular-file bytes of each layer, the base image's first.
    layers: Vec<u64>,
}

/// `cleanup-in-later-layer`: the fixed image has the same files and ships fewer bytes.
/// Returns the failures (the report is printed).
pub fn cleanup_sizes(builder: &Builder, repository: &Path, filters: &[String]) -> Vec<String> {
    let images = builder.images().unwrap_or_else(|e| panic!("{e}"));
    let cases = rewrites(
        &repository.join("lints/layers/cleanup_in_later_layer.md"),
        "cleanup-in-later-layer",
        &builder.work_dir().join("contexts"),
    );
    let volatile = compare::volatile_set();
    let mut failures = Vec::new();
    let mut report = String::new();
    let mut skipped = Vec::new();
    let mut proved = 0;
    for case in cases.iter().filter(|c| selected(&c.name, filters)) {
        if let Some(reason) = not_buildable(case, &images) {
            skipped.push(format!("  {}: {reason}", case.name));
            continue;
        }
        let dir = builder.work_dir().join(slug(&case.name));
        let context = dir.join("context");
        if let Err(why) = copy_dir(&case.context, &context) {
            failures.push(format!("── {}: {why}", case.name));
            continue;
        }
        let mut shipped = Vec::new();
        for (variant, text) in [("original", &case.original), ("fixed", &case.fixed)] {
            let id = format!("{}-{variant}", slug(&case.name));
            match build_and_measure(builder, &dir, &id, text, &context) {
                Ok(s) => shipped.push(s),
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
        let [before, after] = shipped.as_slice() else {
            let _ = writeln!(report, "{}: FAILED (see the failures)", case.name);
            continue;
        };
        let verdict = compare::compare(
            (&before.build, &case.original),
            (&after.build, &case.fixed),
            &volatile,
        );
        let (total_before, total_after) = (
            before.layers.iter().sum::<u64>(),
            after.layers.iter().sum::<u64>(),
        );
        let _ = writeln!(
            report,
            "{}: layers ship {} -> {} bytes ({} fewer); layers {:?} -> {:?}; final file systems {}; built in {:.0} s and {:.0} s",
            case.name,
            total_before,
            total_after,
            total_before as i128 - total_after as i128,
            before.layers,
            after.layers,
            if verdict.equivalent() { "the same" } else { "DIFFERENT" },
            before.build.seconds,
            after.build.seconds,
        );
        if !verdict.equivalent() {
            let mut problems = String::new();
            for problem in verdict.problems.iter().take(15) {
                problems.push_str(&indent(problem));
            }
            failures.push(format!(
                "── {}: the fixed image's files differ from the original's\n{problems}",
                case.name
            ));
        }
        if total_after >= total_before {
            failures.push(format!(
                "── {}: the fixed image ships {total_after} bytes, the original {total_before}",
                case.name
            ));
        }
        if verdict.equivalent() && total_after < total_before {
            proved += 1;
        }
    }
    crate::print_proof_summary(
        "cleanup",
        &report,
        &format!("{proved} fixes build the same files and ship fewer bytes"),
        &skipped,
    );
    failures
}

/// A `--layers` build of `text`: its final file system and each layer's bytes; the image
/// is removed.
fn build_and_measure(
    builder: &Builder,
    dir: &Path,
    id: &str,
    text: &str,
    context: &Path,
) -> Result<Shipped, String> {
    let (_, seconds) = layered_build(builder, dir, id, text, context)?;
    let tag = format!("{BUILD_REPOSITORY}/{id}");
    let measured = builder.layer_bytes(&tag).and_then(|layers| {
        let tree = builder.read_image(&tag, id)?;
        Ok(Shipped {
            build: Build {
                outcome: Outcome::Built(tree),
                seconds,
            },
            layers,
        })
    });
    builder.remove_image(&tag);
    measured
}

fn tail(log: &str, lines: usize) -> String {
    let all: Vec<&str> = log.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_cached_when_the_log_says_using_cache() {
        let log = "STEP 1/4: FROM python:3.12-slim\n\
                   STEP 2/4: COPY requirements.txt ./\n\
                   --> Using cache e3933a7df02f\n\
                   --> e3933a7df02\n\
                   STEP 3/4: RUN pip install -r requirements.txt\n\
                   Collecting six\n\
                   --> 1396632bece\n\
                   STEP 4/4: COPY . .\n\
                   --> b53596338b2\n";
        let seen: Vec<(String, bool)> = steps(log)
            .into_iter()
            .map(|s| (s.instruction, s.cached))
            .collect();
        let expected = [
            ("COPY requirements.txt ./", true),
            ("RUN pip install -r requirements.txt", false),
            ("COPY . .", false),
        ]
        .map(|(i, c)| (i.to_string(), c));
        assert_eq!(seen, expected);
    }

    #[test]
    fn the_edit_leaves_the_manifests_and_dotfiles_alone() {
        let context = crate::common::TempDir::new("application-sources");
        for file in [
            "package.json",
            "package-lock.json",
            ".dockerignore",
            "index.js",
        ] {
            context.write(file, "");
        }
        let fixed = "FROM node:20\nCOPY --chown=node:node package.json package-lock.json ./\n\
                     RUN npm ci\nCOPY . .\n";
        assert_eq!(
            application_sources(fixed, context.path()).expect("readable context"),
            ["index.js"]
        );
    }
}
