//! A real builder as the oracle of docklint's fixes.
//!
//! For each case this builds the original Dockerfile and its variants with buildah, and
//! compares outcome (a variant must fail exactly when the original fails), the final root
//! file system (path, type, mode, owner, symlink target, size and content hash of regular
//! files) and the bytes of regular files (a variant must not grow the image).
//!
//! Cases:
//! - every `bad` block of `lints/**/*.md` that docklint's safe or unsafe fix changes
//!   (settings from the preceding ```` ```toml ```` block, fixing only the document's rule, as
//!   `tests/lints.rs` does), with a context of stub files named after its COPY/ADD sources;
//! - every directory of `tests/build/cases/`: a hazard a careless fix walks into. Besides
//!   docklint's fixes, its naive variant (`naive.Dockerfile`, or else its consecutive RUNs
//!   joined with ` && `) is built, and it must build differently: otherwise the case does not
//!   probe anything.
//!
//! Outcome is built or failed (after a merge the failing step is another one); size is the
//! bytes of regular files in the final file system (each build commits one layer,
//! `--layers=false`, so layer sizes are not compared).
//!
//! Asserted: docklint's safe fixes build like the originals, and every naive variant does
//! not. A safe fix that builds differently is built again with its original, and the
//! second pair decides: buildah sometimes fails a build for reasons of its own (once in
//! CI: a one-line merge that passed on every other run), and the report lists such cases
//! with what the first builds showed. Unsafe fixes are reported, not asserted. Allowed differences: paths inside the
//! variant's cache mounts (moved out of the image on purpose), the empty directories a
//! builder leaves for mount targets (reported; a failure when one lands in the home of the
//! non-root user the RUN runs as, owned by someone else), and the calibrated volatile paths
//! of `build/compare.rs`.
//!
//! A second test, `cache_mounts_make_rebuilds_work_offline` (`build/rebuild.rs`), builds the
//! projects of `tests/build/rebuild/` (npm, pip, apt) once with the network on, then again
//! after a change, offline where the tool can work offline: the cache mounts docklint adds
//! must make the offline rebuild work (npm) or reuse what the first build made (pip), and
//! the originals must not. Its module documentation has the scenarios.
//!
//! A third, `multistage_splits_run_the_same_program` (`build/split.rs`), builds the examples
//! of `missing-multistage-split` with their real sources, before and after the two-stage
//! rewrite: the rewrite must build, run the same command with the same output, and be
//! smaller.
//!
//! Two more build with the layer cache on (`build/layers.rs`): `copied_manifests_keep_the_install_cached`
//! edits an application source after building the examples of `copy-all-before-install`
//! and rebuilds them (the fixed file must take its install from the cache, the original must
//! re-run it), and `cleanups_in_the_creating_run_shrink_the_image` builds those of
//! `cleanup-in-later-layer` (the fixed image must have the same files and its layers fewer
//! bytes). The tests share the storage and run one after the other.
//!
//! Running: `cargo test --release --test build -- --ignored --nocapture` (the first run
//! makes the base images with `scripts/build-bases`, a few minutes). Environment:
//! `DOCKLINT_BUILD_FILTER=a,b` builds only the cases (and rebuild scenarios) whose name
//! contains one of them;
//! `DOCKLINT_BUILD_JOBS` (default 2) builds at once; `DOCKLINT_BUILD_TIMEOUT` seconds per
//! build (default 240); `DOCKLINT_BUILD_CALIBRATE=1` builds each original twice and prints
//! every difference (to maintain the volatile list); `DOCKLINT_BUILD_DIR` (default
//! `target/buildah`) holds the private storage. Without buildah the test prints a NOTE and
//! passes, unless `DOCKLINT_REQUIRE_BUILDAH=1` (CI).
//!
//! buildah 1.28 (Debian 12) and BuildKit differ where these tests look:
//! - heredocs (`RUN <<EOF`): buildah 1.28 has none. Examples with one are not built, and
//!   the summary lists them; `tests/lints.rs` still checks them without a build.
//! - `RUN --network` and `--security`: buildah 1.28 refuses them ("RUN only supports the
//!   --mount flag"); such examples are skipped by name.
//! - relative mount targets (`target=~/.cache/pip`, `target=pkg/mod`): BuildKit joins them
//!   to WORKDIR, buildah 1.28 refuses them ("must be an absolute path"). Such examples are
//!   skipped by name; `tests/lints.rs` checks where docklint moves the mount.
//! - mount stubs: buildah removes a mount's target directory after the RUN when it made it,
//!   but keeps the missing parents it created, owned by root (mode 755). BuildKit's newer
//!   versions remove those too. When the image already had the target, buildah 1.28 removes
//!   it too, with everything in it (containers/buildah#4927: a cache mount on
//!   `/var/lib/apt/lists` takes the directory out of the image); BuildKit keeps it. A root-owned `~/.cache` left by a mount on
//!   `/home/app/.cache/pip` breaks the user's later writes there on either builder that
//!   keeps it, so it fails here.
//! - mount options expand ARG and ENV values like BuildKit (`uid=$UID` with `ARG UID=1000`
//!   mounts with uid 1000).
//! - `sharing=locked`: a RUN holding two `sharing=locked` cache mounts followed by a RUN
//!   asking for the same two hangs buildah 1.28 for good (one such mount is fine): it
//!   releases only the last locked mount of a RUN, so a later RUN of the same build asking
//!   for an earlier one waits forever (asking for the last one alone works). The lock dies
//!   with the buildah process, so the next build is not affected. Every build has a
//!   timeout, so a hang fails the test instead of stalling CI.
//! - cache mounts live under `$TMPDIR/buildah-cache/<target>`, not in the storage: each
//!   build gets its own TMPDIR, so no build sees another's cache (the rebuild scenarios
//!   share one between the builds of a scenario). They survive `--no-cache`.
//! - `--network none` is refused with chroot isolation: an offline build runs in a fresh
//!   network namespace (`unshare --net`), where only a loopback exists.
//! - `--format docker` is needed: the OCI format ignores SHELL (a warning in the log).
//! - RUN processes get their own PID namespace: background jobs die with the RUN, as on
//!   BuildKit. With chroot isolation the RUN uses the host's network.
//! - HOME in a RUN comes from the USER's `/etc/passwd` entry, as on BuildKit.

mod common;

#[path = "build/builder.rs"]
mod builder;
#[path = "build/cases.rs"]
mod cases;
#[path = "build/compare.rs"]
mod compare;
#[path = "build/layers.rs"]
mod layers;
#[path = "build/rebuild.rs"]
mod rebuild;
#[path = "build/split.rs"]
mod split;
#[path = "build/traffic.rs"]
mod traffic;
#[path = "build/tree.rs"]
mod tree;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use docklint::fix::Applicability;
use docklint::source::SourceFile;
use docklint::syntax::dockerfile::{Args, Keyword};

use builder::{Build, Builder, Outcome};
use cases::{Case, Origin};
use compare::{compare, Verdict};

const REQUIRE: &str = "DOCKLINT_REQUIRE_BUILDAH";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Variant {
    Original,
    Naive,
    Safe,
    Unsafe,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Original => "original",
            Variant::Naive => "naive",
            Variant::Safe => "safe fix",
            Variant::Unsafe => "unsafe fix",
        }
    }
}

/// A case, the text of each of its variants, and the build of each (an index into the
/// job list; a variant whose text is the original's has none).
struct Planned {
    case: Case,
    texts: BTreeMap<Variant, String>,
    builds: BTreeMap<Variant, usize>,
}

/// One Dockerfile text to build in one context; variants with the same text share it.
struct Job {
    id: String,
    text: String,
    context: PathBuf,
    label: String,
}

#[derive(Default)]
struct Plan {
    planned: Vec<Planned>,
    jobs: Vec<Job>,
    /// (case, reason)
    skipped: Vec<(String, String)>,
    heredocs: Vec<String>,
    /// Document examples neither fix changes: nothing to compare.
    without_fix: Vec<String>,
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The tests of this file share the builder's storage: one at a time.
static BUILDAH: Mutex<()> = Mutex::new(());

/// The builder with its base images made, `work` its directory for this run's files; or
/// `None` (after a NOTE) when there is no buildah and none is required.
fn ready_builder(repository: &Path, timeout: Duration, work: &str) -> Option<Builder> {
    let builder = match Builder::find(repository, timeout) {
        Ok(builder) => builder.with_work_dir(work),
        Err(reason) => {
            if std::env::var(REQUIRE).as_deref() == Ok("1") {
                panic!("{reason} ({REQUIRE}=1 requires buildah)");
            }
            eprintln!(
                "NOTE: skipping the build test: {reason}; set {REQUIRE}=1 to make this a failure"
            );
            return None;
        }
    };
    builder
        .prepare()
        .unwrap_or_else(|e| panic!("base images: {e}"));
    Some(builder)
}

/// `DOCKLINT_BUILD_FILTER`, split at commas.
fn filters() -> Vec<String> {
    std::env::var("DOCKLINT_BUILD_FILTER")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(String::from)
        .collect()
}

#[test]
#[ignore = "builds images with buildah: cargo test --release --test build -- --ignored --nocapture"]
fn fixed_dockerfiles_build_like_the_originals() {
    let _one_at_a_time = BUILDAH.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let repository = Path::new(env!("CARGO_MANIFEST_DIR"));
    let timeout = Duration::from_secs(env_number("DOCKLINT_BUILD_TIMEOUT", 240));
    let parallel = env_number("DOCKLINT_BUILD_JOBS", 2) as usize;
    let calibrate = std::env::var("DOCKLINT_BUILD_CALIBRATE").as_deref() == Ok("1");
    let Some(builder) = ready_builder(repository, timeout, "work") else {
        return;
    };
    let bases_seconds = started.elapsed().as_secs_f64();
    let images = builder.images().unwrap_or_else(|e| panic!("{e}"));

    let mut all = cases::doc_cases(&builder.work_dir().join("contexts"));
    all.extend(
        cases::semantic_cases(&repository.join("tests/build/cases"))
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let filters = filters();
    all.retain(|c| filters.is_empty() || filters.iter().any(|f| c.name.contains(f.as_str())));

    let plan = plan(all, &images, calibrate);
    let mut results = run_jobs(&builder, &plan.jobs, parallel);
    if calibrate {
        // A second round after the first, so that the two builds of a file are seconds
        // apart and time stamps differ.
        let again: Vec<Job> = plan
            .jobs
            .iter()
            .map(|job| Job {
                id: format!("{}-again", job.id),
                text: job.text.clone(),
                context: job.context.clone(),
                label: format!("{} again", job.label),
            })
            .collect();
        std::thread::sleep(Duration::from_secs(2));
        let second = run_jobs(&builder, &again, parallel);
        print_calibration(&plan.planned, &results, &second);
        return;
    }

    let first_differences = build_differences_again(&builder, &plan, &mut results, parallel);
    let tally = evaluate(&plan.planned, &results, &first_differences);
    println!("\n== build test: cases{}", tally.report);
    if !tally.failures.is_empty() {
        println!(
            "\n== build test: failures\n\n{}",
            tally.failures.join("\n\n")
        );
    }
    println!("\n== build test: summary");
    println!(
        "{}; storage {}; {parallel} builds at once; timeout {} s per build",
        Builder::version(),
        builder.state_dir().display(),
        timeout.as_secs()
    );
    print_summary(&plan, &results, &tally);
    println!(
        "wall time: {:.0} s (base images {:.0} s)",
        started.elapsed().as_secs_f64(),
        bases_seconds
    );
    println!(
        "fixed files that build differently: {} (must be 0)",
        tally.safe_different.len()
    );
    assert!(
        tally.failures.is_empty(),
        "{} failures (see the report above): {} safe fixes build differently, {} naive variants build like the original, {} builds hung",
        tally.failures.len(),
        tally.safe_different.len(),
        tally.naive_equivalent,
        tally.hung.len()
    );
}

#[test]
#[ignore = "builds images with buildah: cargo test --release --test build -- --ignored --nocapture"]
fn cache_mounts_make_rebuilds_work_offline() {
    let _one_at_a_time = BUILDAH.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let repository = Path::new(env!("CARGO_MANIFEST_DIR"));
    let timeout = Duration::from_secs(env_number("DOCKLINT_BUILD_TIMEOUT", 240));
    let parallel = env_number("DOCKLINT_BUILD_JOBS", 2) as usize;
    let Some(builder) = ready_builder(repository, timeout, "rebuild") else {
        return;
    };
    let bases_seconds = started.elapsed().as_secs_f64();
    let failures = rebuild::run(
        &builder,
        &rebuild::projects(repository),
        &filters(),
        parallel,
    );
    if !failures.is_empty() {
        println!("\n== rebuild test: failures\n\n{}", failures.join("\n\n"));
    }
    println!("\n== rebuild test: summary");
    println!(
        "{}; storage {}; {parallel} scenarios at once; timeout {} s per build",
        Builder::version(),
        builder.state_dir().display(),
        timeout.as_secs()
    );
    println!(
        "wall time: {:.0} s (base images {:.0} s)",
        started.elapsed().as_secs_f64(),
        bases_seconds
    );
    assert!(
        failures.is_empty(),
        "{} failures (see the report above)",
        failures.len()
    );
}

#[test]
#[ignore = "builds images with buildah: cargo test --release --test build -- --ignored --nocapture"]
fn multistage_splits_run_the_same_program() {
    proof_test("split", |builder, repository, filters| {
        split::run(
            builder,
            &split::cases(repository, &builder.work_dir().join("contexts")),
            filters,
        )
    });
}

#[test]
#[ignore = "builds images with buildah: cargo test --release --test build -- --ignored --nocapture"]
fn copied_manifests_keep_the_install_cached() {
    proof_test("install-cache", layers::install_cache);
}

#[test]
#[ignore = "builds images with buildah: cargo test --release --test build -- --ignored --nocapture"]
fn cleanups_in_the_creating_run_shrink_the_image() {
    proof_test("cleanup", layers::cleanup_sizes);
}

/// Runs one proof (the split test, a `build/layers.rs` proof) with its work directory; fails
/// on its failures.
fn proof_test(work: &str, proof: fn(&Builder, &Path, &[String]) -> Vec<String>) {
    let _one_at_a_time = BUILDAH.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let repository = Path::new(env!("CARGO_MANIFEST_DIR"));
    let timeout = Duration::from_secs(env_number("DOCKLINT_BUILD_TIMEOUT", 240));
    let Some(builder) = ready_builder(repository, timeout, work) else {
        return;
    };
    let bases_seconds = started.elapsed().as_secs_f64();
    let failures = proof(&builder, repository, &filters());
    if !failures.is_empty() {
        println!("\n== {work} test: failures\n\n{}", failures.join("\n\n"));
    }
    println!(
        "{}; storage {}; wall time {:.0} s (base images {:.0} s)",
        Builder::version(),
        builder.state_dir().display(),
        started.elapsed().as_secs_f64(),
        bases_seconds
    );
    assert!(
        failures.is_empty(),
        "{} failures (see the report above)",
        failures.len()
    );
}

/// A proof's closing lines: its report of the cases, what it proved, what it skipped.
fn print_proof_summary(test: &str, report: &str, proved: &str, skipped: &[String]) {
    println!("\n== {test} test: cases\n{report}");
    println!("== {test} test: {proved}");
    println!("skipped: {}", skipped.len());
    for line in skipped {
        println!("{line}");
    }
}

/// The variants of every case, which of them need a build (each distinct text once),
/// and the cases that cannot be built here, with the reason.
fn plan(cases: Vec<Case>, images: &BTreeSet<String>, originals_only: bool) -> Plan {
    let mut plan = Plan::default();
    let mut job_of: HashMap<(String, PathBuf), usize> = HashMap::new();
    for case in cases {
        let file = SourceFile::new("Dockerfile", case.original.clone());
        let mut texts = BTreeMap::new();
        texts.insert(Variant::Original, case.original.clone());
        if let Some((naive, _)) = &case.naive {
            texts.insert(Variant::Naive, naive.clone());
        }
        for (variant, min) in [
            (Variant::Safe, Applicability::Safe),
            (Variant::Unsafe, Applicability::Unsafe),
        ] {
            texts.insert(variant, docklint::fix(&file, &case.settings, min).text);
        }
        if matches!(case.origin, Origin::Doc) && texts.values().all(|t| *t == case.original) {
            plan.without_fix.push(case.name);
            continue;
        }
        match skip_reason(texts.values(), images) {
            Some(Skip::Heredoc) => {
                plan.heredocs.push(case.name);
                continue;
            }
            Some(Skip::Other(reason)) => {
                plan.skipped.push((case.name, reason));
                continue;
            }
            None => {}
        }
        let mut builds = BTreeMap::new();
        for (&variant, text) in &texts {
            let unchanged = variant != Variant::Original && *text == case.original;
            if unchanged || (originals_only && variant != Variant::Original) {
                continue;
            }
            let jobs = &mut plan.jobs;
            let index = *job_of
                .entry((text.clone(), case.context.clone()))
                .or_insert_with(|| {
                    jobs.push(Job {
                        id: format!("{}-{}", jobs.len(), slug(&case.name)),
                        text: text.clone(),
                        context: case.context.clone(),
                        label: format!("{} ({})", case.name, variant.name()),
                    });
                    jobs.len() - 1
                });
            builds.insert(variant, index);
        }
        plan.planned.push(Planned {
            case,
            texts,
            builds,
        });
    }
    plan
}

/// Why a case is not built.
enum Skip {
    Heredoc,
    Other(String),
}

/// Why a case cannot be built here, looking at all its texts: a heredoc, a base image
/// without a stand-in, a RUN flag buildah 1.28 refuses.
fn skip_reason<'a>(
    texts: impl Iterator<Item = &'a String>,
    images: &BTreeSet<String>,
) -> Option<Skip> {
    let mut missing = BTreeSet::new();
    let mut unsupported = BTreeSet::new();
    for text in texts {
        let df = docklint::syntax::dockerfile::parse(text);
        let mut stages = BTreeSet::new();
        for instruction in &df.instructions {
            if !instruction.heredocs.is_empty() {
                return Some(Skip::Heredoc);
            }
            match (&instruction.keyword, &instruction.args) {
                (Keyword::From, Args::From(from)) => {
                    let reference = from.image.value.as_str();
                    if reference != "scratch"
                        && !stages.contains(&reference.to_ascii_lowercase())
                        && !images.contains(&qualify(reference))
                    {
                        missing.insert(reference.to_string());
                    }
                    if let Some(name) = &from.name {
                        stages.insert(name.value.to_ascii_lowercase());
                    }
                }
                (Keyword::Run, _) => {
                    for flag in &instruction.flags {
                        if flag.name != "mount" {
                            unsupported.insert(format!("RUN --{}", flag.name));
                        } else if flag.value.as_deref().is_some_and(has_relative_target) {
                            unsupported.insert(
                                "a relative mount target (BuildKit joins it to WORKDIR)".into(),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let mut reasons = Vec::new();
    if !missing.is_empty() {
        reasons.push(format!(
            "no stand-in image for {}",
            missing.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if !unsupported.is_empty() {
        reasons.push(format!(
            "buildah 1.28 does not support {}",
            unsupported.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    (!reasons.is_empty()).then(|| Skip::Other(reasons.join("; ")))
}

/// A `--mount` value whose target, as written, is neither absolute nor a variable.
fn has_relative_target(mount: &str) -> bool {
    mount.split(',').any(|option| {
        option
            .split_once('=')
            .filter(|(key, _)| ["target", "dst", "destination"].contains(key))
            .is_some_and(|(_, value)| !value.starts_with('/') && !value.starts_with('$'))
    })
}

/// `python:3.12` -> `docker.io/library/python:3.12`, as the short-name settings resolve it.
fn qualify(reference: &str) -> String {
    let (name, tag) = match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (reference, "latest"),
    };
    let first = name.split('/').next().unwrap_or("");
    let qualified = if !name.contains('/') {
        format!("docker.io/library/{name}")
    } else if first.contains('.') || first.contains(':') || first == "localhost" {
        name.to_string()
    } else {
        format!("docker.io/{name}")
    };
    format!("{qualified}:{tag}")
}

fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Runs the builds, `parallel` at once, printing each as it ends.
fn run_jobs(builder: &Builder, jobs: &[Job], parallel: usize) -> Vec<Build> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Build>>> = Mutex::new(vec![None; jobs.len()]);
    std::thread::scope(|scope| {
        for _ in 0..parallel.max(1) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(job) = jobs.get(index) else { break };
                let build = builder.build(&job.id, &job.text, &job.context);
                let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
                println!(
                    "[{finished:>3}/{}] {:>5.1} s {:<9} {}",
                    jobs.len(),
                    build.seconds,
                    build.outcome.word(),
                    job.label
                );
                results.lock().expect("results lock")[index] = Some(build);
            });
        }
    });
    results
        .into_inner()
        .expect("results lock")
        .into_iter()
        .map(|b| b.expect("every job ran"))
        .collect()
}

/// Builds the original and the safe fix of every case whose safe fix built differently
/// once more, and keeps the second builds: buildah now and then fails a build for reasons
/// of its own (a storage lock, a mount) that no hiccup line names, and one such failure
/// must neither fail CI nor pass for a fix that breaks builds. A fix that really builds
/// differently does so again. Returns, per case built again, what the first builds showed.
fn build_differences_again(
    builder: &Builder,
    plan: &Plan,
    results: &mut [Build],
    parallel: usize,
) -> BTreeMap<String, String> {
    let volatile = compare::volatile_set();
    let mut first = BTreeMap::new();
    let mut again = BTreeSet::new();
    for planned in &plan.planned {
        let (Some(&original), Some(&safe)) = (
            planned.builds.get(&Variant::Original),
            planned.builds.get(&Variant::Safe),
        ) else {
            continue;
        };
        let verdict = compare(
            (&results[original], &planned.case.original),
            (&results[safe], &planned.texts[&Variant::Safe]),
            &volatile,
        );
        if verdict.equivalent() || verdict.hung {
            continue;
        }
        let mut note = verdict.brief();
        for problem in verdict.problems.iter().take(4) {
            for line in problem.lines().take(13) {
                note.push_str("\n        ");
                note.push_str(line);
            }
        }
        first.insert(planned.case.name.clone(), note);
        again.extend([original, safe]);
    }
    if again.is_empty() {
        return first;
    }
    println!(
        "\n== build test: building {} differing safe fixes again",
        first.len()
    );
    let indices: Vec<usize> = again.into_iter().collect();
    let jobs: Vec<Job> = indices
        .iter()
        .map(|&i| {
            let job = &plan.jobs[i];
            Job {
                id: format!("{}-again", job.id),
                text: job.text.clone(),
                context: job.context.clone(),
                label: format!("{} again", job.label),
            }
        })
        .collect();
    for (index, build) in indices.into_iter().zip(run_jobs(builder, &jobs, parallel)) {
        results[index] = build;
    }
    first
}

/// The verdicts, as a report, counts and failures.
#[derive(Default)]
struct Tally {
    report: String,
    failures: Vec<String>,
    pairs: usize,
    naive_different: usize,
    naive_equivalent: usize,
    safe_equivalent: usize,
    safe_unchanged: usize,
    safe_different: Vec<String>,
    unsafe_equivalent: usize,
    unsafe_unchanged: usize,
    unsafe_different: usize,
    /// Comparisons a build hang left without a verdict.
    hung: Vec<String>,
    /// Safe fixes that built differently once and like the original when built again.
    not_reproduced: Vec<String>,
}

/// `first_differences`: what the first builds showed of the cases built again.
fn evaluate(
    planned: &[Planned],
    results: &[Build],
    first_differences: &BTreeMap<String, String>,
) -> Tally {
    let volatile = compare::volatile_set();
    let mut tally = Tally::default();
    for plan in planned {
        let case = &plan.case;
        let original = &results[plan.builds[&Variant::Original]];
        let origin = match case.origin {
            Origin::Doc => "rule document",
            Origin::Semantic => "semantic case",
        };
        let notes = if case.notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", case.notes.join("; "))
        };
        let why = match &original.outcome {
            Outcome::Built(_) => String::new(),
            Outcome::Failed { log } | Outcome::TimedOut { log } => {
                format!(": {}", compare::cause(log))
            }
        };
        let report = &mut tally.report;
        let _ = writeln!(report, "\n{} [{origin}]{notes}", case.name);
        let _ = writeln!(
            report,
            "  original: {} in {:.1} s{why}",
            original.outcome.word(),
            original.seconds
        );
        for variant in [Variant::Naive, Variant::Safe, Variant::Unsafe] {
            let Some(text) = plan.texts.get(&variant) else {
                continue;
            };
            let Some(&index) = plan.builds.get(&variant) else {
                let _ = writeln!(tally.report, "  {}: unchanged", variant.name());
                match variant {
                    Variant::Naive => {
                        tally.naive_equivalent += 1;
                        tally.failures.push(format!(
                            "── {}: the naive variant is the original: the case probes nothing",
                            case.name
                        ));
                    }
                    Variant::Safe => tally.safe_unchanged += 1,
                    Variant::Unsafe => tally.unsafe_unchanged += 1,
                    Variant::Original => {}
                }
                continue;
            };
            tally.pairs += 1;
            let verdict = compare(
                (original, &case.original),
                (&results[index], text),
                &volatile,
            );
            let how = match (variant, &case.naive) {
                (Variant::Naive, Some((_, how))) => format!(" [{how}]"),
                _ => String::new(),
            };
            let word = if verdict.hung {
                "HUNG"
            } else if verdict.equivalent() {
                "equivalent"
            } else {
                "DIFFERENT"
            };
            let report = &mut tally.report;
            let _ = writeln!(
                report,
                "  {}{how}: {word} ({})",
                variant.name(),
                verdict.brief()
            );
            for stub in &verdict.stubs {
                let _ = writeln!(report, "      stub: {stub}");
            }
            for problem in verdict.problems.iter().take(4) {
                let _ = writeln!(report, "      {}", problem.lines().next().unwrap_or(""));
            }
            if let (Variant::Safe, Some(first)) = (variant, first_differences.get(&case.name)) {
                let again = if verdict.equivalent() {
                    "not reproduced on a second build"
                } else {
                    "the same verdict on a second build"
                };
                let _ = writeln!(report, "      {again}; the first builds: {first}");
                if verdict.equivalent() {
                    tally.not_reproduced.push(case.name.clone());
                }
            }
            if verdict.hung {
                tally
                    .hung
                    .push(format!("{} ({})", case.name, variant.name()));
                tally.failures.push(failure(
                    case,
                    text,
                    variant,
                    &verdict,
                    "a build hung until the timeout",
                ));
                continue;
            }
            match variant {
                Variant::Naive if verdict.equivalent() => {
                    tally.naive_equivalent += 1;
                    tally.failures.push(failure(
                        case,
                        text,
                        variant,
                        &verdict,
                        "the naive variant builds like the original: the case probes nothing",
                    ));
                }
                Variant::Naive => tally.naive_different += 1,
                Variant::Safe if verdict.equivalent() => tally.safe_equivalent += 1,
                Variant::Safe => {
                    tally.safe_different.push(case.name.clone());
                    tally.failures.push(failure(
                        case,
                        text,
                        variant,
                        &verdict,
                        "docklint's safe fix builds differently",
                    ));
                }
                Variant::Unsafe if verdict.equivalent() => tally.unsafe_equivalent += 1,
                Variant::Unsafe => tally.unsafe_different += 1,
                Variant::Original => {}
            }
        }
    }
    tally
}

/// The case, both texts and the first differences.
fn failure(case: &Case, text: &str, variant: Variant, verdict: &Verdict, what: &str) -> String {
    let mut out = format!("── {} ({}): {what}\n", case.name, variant.name());
    let _ = writeln!(out, "original:\n{}", indent(&case.original));
    let _ = writeln!(out, "{}:\n{}", variant.name(), indent(text));
    let _ = writeln!(out, "differences ({}):", verdict.problems.len());
    for problem in verdict.problems.iter().take(15) {
        out.push_str(&indent(problem));
    }
    out
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

fn print_summary(plan: &Plan, results: &[Build], tally: &Tally) {
    let count = |word: &str| results.iter().filter(|b| b.outcome.word() == word).count();
    let of_origin = |doc: bool| {
        plan.planned
            .iter()
            .filter(|p| matches!(p.case.origin, Origin::Doc) == doc)
            .count()
    };
    let list = |names: &[String]| {
        if names.is_empty() {
            String::new()
        } else {
            format!(": {}", names.join(", "))
        }
    };
    println!(
        "cases built: {} ({} rule-document examples, {} semantic cases)",
        plan.planned.len(),
        of_origin(true),
        of_origin(false)
    );
    println!(
        "rule-document examples no fix changes (nothing to build): {}{}",
        plan.without_fix.len(),
        list(&plan.without_fix)
    );
    println!(
        "builds: {} ({} built, {} failed, {} timed out), {:.0} s of build time",
        results.len(),
        count("built"),
        count("failed"),
        count("timed out"),
        results.iter().map(|b| b.seconds).sum::<f64>()
    );
    println!("pairs compared: {}", tally.pairs);
    println!("skipped: {}", plan.skipped.len());
    for (name, reason) in &plan.skipped {
        println!("  {name}: {reason}");
    }
    println!(
        "heredoc cases not built (buildah 1.28 has no heredocs; tests/lints.rs checks them \
         without a build): {}{}",
        plan.heredocs.len(),
        list(&plan.heredocs)
    );
    println!(
        "comparisons without a verdict (a build hung): {}{}",
        tally.hung.len(),
        list(&tally.hung)
    );
    println!(
        "naive variants: {} build differently, {} do not (broken cases)",
        tally.naive_different, tally.naive_equivalent
    );
    println!(
        "unsafe fixes (reported, not asserted): {} equivalent, {} leave the file unchanged, {} different",
        tally.unsafe_equivalent, tally.unsafe_unchanged, tally.unsafe_different
    );
    println!(
        "safe fixes: {} equivalent, {} leave the file unchanged, {} different{}",
        tally.safe_equivalent,
        tally.safe_unchanged,
        tally.safe_different.len(),
        list(&tally.safe_different)
    );
    println!(
        "safe fixes that built differently once, then like the original when built again \
         (a builder failure, not a verdict): {}{}",
        tally.not_reproduced.len(),
        list(&tally.not_reproduced)
    );
}

/// Each original built twice: every difference, marked when the volatile list covers it.
fn print_calibration(planned: &[Planned], first: &[Build], second: &[Build]) {
    let volatile = compare::volatile_set();
    println!("\n== calibration: each original built twice");
    for plan in planned {
        let index = plan.builds[&Variant::Original];
        let (Outcome::Built(a), Outcome::Built(b)) =
            (&first[index].outcome, &second[index].outcome)
        else {
            println!(
                "{}: {} / {}",
                plan.case.name,
                first[index].outcome.word(),
                second[index].outcome.word()
            );
            continue;
        };
        let differences = tree::differences(a, b);
        println!("{}: {} differences", plan.case.name, differences.len());
        for d in differences {
            let mark = if compare::is_volatile(&volatile, &d) {
                "volatile"
            } else {
                "NEW"
            };
            println!("  [{mark}] {}", d.describe());
        }
    }
}
