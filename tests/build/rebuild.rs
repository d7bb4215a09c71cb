//! Rebuilds from cache mounts: what the mounts docklint adds buy, with a real builder.
//!
//! Each scenario is a small project of `tests/build/rebuild/` and one Dockerfile for it,
//! built in steps that share their cache mounts (buildah keeps them under the build's
//! TMPDIR; the steps of a scenario share one, scenarios never do). The first step builds
//! with the network on, reusing no layer, and fills the mounts; the next ones change the
//! project so that the install step runs again (the layers before it are reused), and
//! rebuild with the network off, in a fresh network namespace (`unshare --net`), or on where
//! the tool cannot work offline. Every step must run its install step (its output is in the
//! log): a layer reused from elsewhere would prove nothing.
//!
//! - npm (`npm/`): `npm ci` of a lockfile with two small packages, the original and
//!   docklint's fix (a cache mount on `/root/.npm`, nothing else). After a version bump in
//!   package.json (the dependencies stay) the fix rebuilds offline and its image runs: the
//!   lockfile gives each tarball's integrity and npm reads them from its cache without a
//!   request (`--prefer-offline` is not needed); the audit request fails and npm goes on.
//!   The original fails offline on its first tarball, after npm's retries (over a minute).
//! - pip (`pip/`): `pip install --no-cache-dir -r requirements.txt` of `docopt==0.6.2`,
//!   published only as an sdist, the original and docklint's fix (a cache mount on
//!   `/root/.cache/pip`, `--no-cache-dir` gone). pip reads its index on every run, so no
//!   rebuild works offline (asserted for the fix); the gain is the wheel pip built once,
//!   reused from the cache (`Using cached …`, no `Building wheel`, no sdist download) where
//!   the original downloads the sdist and builds the wheel again. Where an egress proxy
//!   drops HTTP caching headers, pip's HTTP cache stays empty and built wheels are all it
//!   keeps.
//! - apt (`apt/`): `apt-get update && apt-get install jq && rm -rf /var/lib/apt/lists/*` on
//!   the Debian stand-in, which has Debian's `docker-clean`. Each variant rebuilds offline
//!   reusing no layer, as after an update of the base image. Offline, `apt-get update` warns
//!   (`W: Some index files failed to download`), keeps the lists it has and exits 0, so the
//!   unchanged `apt-get update && apt-get install` works when the lists and the `.deb`s are
//!   in cache mounts; nothing needs to skip the update. The original fails (no lists:
//!   `Unable to locate package`); plain mounts on `/var/cache/apt` and `/var/lib/apt/lists`
//!   fail (docker-clean emptied the archive: `Unable to fetch some archives`); docker-clean
//!   removed from the image, the archive relocated for the install
//!   (`-o Dir::Cache::Archives=/var/cache/apt-keep/`, which docker-clean does not empty; apt
//!   makes its `partial/`), and archive and lists in one relocated mount (lists need their
//!   `partial/` made first) all build. With `apt` instead of `apt-get` the relocated archive
//!   stays empty (apt deletes what it installed unless `APT::Keep-Downloaded-Packages` is
//!   true) and the offline rebuild fails; with the option it builds. docklint's own apt fix,
//!   once there is one, must build too. What each variant leaves in its image is listed
//!   against the original's.
//!
//! What a build downloads is counted by a proxy the online builds go through
//! (`build/traffic.rs`): connections, bytes each way. Online builds run one at a time, so
//! the connections during one are its own.
//!
//! Each build has the harness's timeout. buildah 1.28 never releases the first of two
//! `sharing=locked` mounts of a RUN, so a later RUN of the same build asking for it hangs;
//! the lock dies with the buildah process. So every build here is its own process, and no
//! Dockerfile here has a second RUN asking for the locked mounts of an earlier one.
//! Images are removed once every scenario is done: removing one removes its untagged
//! parents, which may be layers another build is using.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use docklint::config::{Overrides, Resolver};
use docklint::fix::Applicability;
use docklint::source::SourceFile;

use crate::builder::{Bud, Builder, Ended, BUILD_REPOSITORY};
use crate::compare;
use crate::split::copy_dir;
use crate::traffic::{Connection, Proxy};
use crate::tree::{differences, Kind, Tree};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Network {
    On,
    Off,
}

/// A change to the project before a build.
enum Edit {
    Replace {
        file: &'static str,
        from: &'static str,
        to: &'static str,
    },
    Append {
        file: &'static str,
        line: &'static str,
    },
}

impl Edit {
    fn apply(&self, context: &Path) -> Result<(), String> {
        let file = match self {
            Edit::Replace { file, .. } | Edit::Append { file, .. } => context.join(file),
        };
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let changed = match self {
            Edit::Replace { from, to, .. } if text.contains(from) => text.replacen(from, to, 1),
            Edit::Replace { from, .. } => {
                return Err(format!("{}: no `{from}` to replace", file.display()))
            }
            Edit::Append { line, .. } => format!("{text}{line}\n"),
        };
        std::fs::write(&file, changed).map_err(|e| format!("{}: {e}", file.display()))
    }

    fn describe(&self) -> String {
        match self {
            Edit::Replace { file, from, to } => format!("`{from}` -> `{to}` in {file}"),
            Edit::Append { file, line } => format!("`{line}` added to {file}"),
        }
    }
}

/// What a build must do.
struct Expect {
    built: bool,
    /// Pieces of text the log must hold.
    log_has: &'static [&'static str],
    /// Pieces of text the log must not hold.
    log_lacks: &'static [&'static str],
}

struct Step {
    edit: Option<Edit>,
    network: Network,
    /// Reuse no kept layer, as after an update of the base image.
    no_layer_reused: bool,
    expect: Expect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Npm,
    Pip,
    Apt,
}

impl Tool {
    /// The log lines worth reporting: the tool's requests, downloads, cache use, errors.
    fn reported(self, line: &str) -> bool {
        let line = line.trim();
        match self {
            Tool::Npm => {
                line.starts_with("npm http fetch")
                    || line.starts_with("added ")
                    || (line.starts_with("npm ERR!") && line.contains("request to"))
            }
            Tool::Pip => [
                "Downloading ",
                "Using cached ",
                "Building wheel for",
                "Successfully installed",
                "WARNING: Retrying",
                "ERROR: No matching distribution",
            ]
            .iter()
            .any(|p| line.starts_with(p)),
            Tool::Apt => [
                "Need to get",
                "Fetched ",
                "W: Some index files",
                "E: Unable",
                "Setting up jq",
            ]
            .iter()
            .any(|p| line.starts_with(p)),
        }
    }

    /// Whether a reported line is the tool's error.
    fn is_error(self, line: &str) -> bool {
        let line = line.trim();
        line.starts_with("npm ERR!") || line.starts_with("ERROR:") || line.starts_with("E: ")
    }

    /// How many requests or downloads the log shows, and what they are.
    fn requests(self, log: &str) -> Option<String> {
        let count = |prefix: &str| log.lines().filter(|l| l.trim().starts_with(prefix)).count();
        match self {
            Tool::Npm => Some(format!("npm logged {} responses", count("npm http fetch"))),
            Tool::Pip => None,
            Tool::Apt => Some(format!(
                "apt fetched {} files (`Get:` lines)",
                count("Get:")
            )),
        }
    }
}

struct Scenario {
    /// `npm, docklint's fix`.
    name: String,
    tool: Tool,
    /// Directory of `tests/build/rebuild/`.
    project: &'static str,
    dockerfile: String,
    /// What the images must run (no entrypoint applies), and a piece of its output.
    smoke: (&'static [&'static str], &'static str),
    steps: Vec<Step>,
    /// Keep the file system of the first build, to compare variants.
    keep_tree: bool,
}

struct StepResult {
    what: String,
    network: Network,
    ended: Ended,
    seconds: f64,
    /// The connections of an online build, through the counting proxy.
    traffic: Option<Vec<Connection>>,
    cache: CacheContent,
    log: String,
    /// Output of the smoke command in the built image.
    smoke: Option<Result<String, String>>,
    /// What npm's debug log of the step (in the cache mount) says about the network.
    debug_log: Vec<String>,
}

struct ScenarioResult {
    steps: Vec<StepResult>,
    /// Tags of the images built, removed once every scenario is done: removing an image
    /// removes its untagged parents, which may be the layers another build is using.
    images: Vec<String>,
    tree: Option<Tree>,
    failures: Vec<String>,
    seconds: f64,
    /// Why nothing was built.
    not_built: Option<String>,
}

/// The files of a scenario's cache mounts (buildah's own lock files left out).
#[derive(Default)]
struct CacheContent {
    files: u64,
    bytes: u64,
    debs: u64,
}

fn cache_content(dir: &Path) -> CacheContent {
    let mut content = CacheContent::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.is_file() && !name.starts_with("buildah-cache-lockfile") {
                content.files += 1;
                content.bytes += meta.len();
                content.debs += u64::from(name.ends_with(".deb"));
            }
        }
    }
    content
}

/// npm writes a debug log of each run into its cache (`_logs/`): the requests and network
/// errors of the newest one, which the build log leaves out (a failed audit is silent).
fn npm_network_notes(cache: &Path) -> Vec<String> {
    let mut logs = Vec::new();
    let mut stack = vec![cache.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with("-debug-0.log") {
                logs.push(path);
            }
        }
    }
    // The names start with the run's time stamp.
    let Some(newest) = logs
        .iter()
        .max_by_key(|p| p.file_name().map(|n| n.to_owned()))
    else {
        return Vec::new();
    };
    let text = std::fs::read_to_string(newest).unwrap_or_default();
    let mut notes: Vec<String> = Vec::new();
    for line in text.lines() {
        // `48 silly audit bulk request failed` -> without the line number.
        let line = line.split_once(' ').map_or(line, |(_, rest)| rest);
        let wanted =
            line.starts_with("http fetch") || line.starts_with("verbose audit error FetchError");
        if wanted && !notes.iter().any(|n| n == line) {
            notes.push(line.to_string());
        }
    }
    notes
}

/// `4 connections (registry.npmjs.org:443 ×4), received 12.3 kB, sent 4.5 kB`.
fn traffic(connections: &[Connection]) -> String {
    let mut targets: Vec<(String, usize)> = Vec::new();
    for c in connections {
        match targets.iter_mut().find(|(t, _)| *t == c.target) {
            Some((_, n)) => *n += 1,
            None => targets.push((c.target.clone(), 1)),
        }
    }
    let targets: Vec<String> = targets
        .into_iter()
        .map(|(t, n)| if n > 1 { format!("{t} ×{n}") } else { t })
        .collect();
    format!(
        "{} connection{} ({}), received {}, sent {}",
        connections.len(),
        if connections.len() == 1 { "" } else { "s" },
        targets.join(", "),
        kilobytes(connections.iter().map(|c| c.received).sum()),
        kilobytes(connections.iter().map(|c| c.sent).sum())
    )
}

fn kilobytes(bytes: u64) -> String {
    format!("{:.1} kB", bytes as f64 / 1000.0)
}

/// Online builds one at a time, so that the connections through the proxy during one are
/// its own.
static NETWORK: Mutex<()> = Mutex::new(());

fn docklint_fix(text: &str) -> String {
    let settings = Resolver::new(None, true, Overrides::default())
        .settings_for(Path::new("Dockerfile"))
        .expect("default settings");
    docklint::fix(
        &SourceFile::new("Dockerfile", text.to_string()),
        &settings,
        Applicability::Safe,
    )
    .text
}

/// The fixed text, or why it is not the one these scenarios expect.
fn fixed_with(original: &str, expected_run: &str) -> Result<String, String> {
    let fixed = docklint_fix(original);
    if fixed.lines().any(|l| l == expected_run) {
        Ok(fixed)
    } else {
        Err(format!(
            "docklint's fix does not write `{expected_run}`; it writes:\n{}",
            indent(&fixed)
        ))
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

fn read(root: &Path, project: &str, file: &str) -> String {
    let path = root.join(project).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const NPM_BUMP: Edit = Edit::Replace {
    file: "package.json",
    from: "\"version\": \"1.0.0\"",
    to: "\"version\": \"1.0.1\"",
};

/// The scenarios, and the fixes that are not what they expect (each a failure).
fn scenarios(root: &Path) -> (Vec<Scenario>, Vec<String>) {
    let mut out = Vec::new();
    let mut failures = Vec::new();

    let npm = read(root, "npm", "Dockerfile");
    let npm_smoke: (&[&str], &str) = (&["node", "/app/index.js"], "hello");
    let npm_first = || Step {
        edit: None,
        network: Network::On,
        no_layer_reused: true,
        expect: Expect {
            built: true,
            log_has: &["added 2 packages", "(cache miss)"],
            log_lacks: &[],
        },
    };
    out.push(Scenario {
        name: "npm, original".into(),
        tool: Tool::Npm,
        project: "npm",
        dockerfile: npm.clone(),
        smoke: npm_smoke,
        steps: vec![
            npm_first(),
            Step {
                edit: Some(NPM_BUMP),
                network: Network::Off,
                no_layer_reused: false,
                expect: Expect {
                    built: false,
                    log_has: &["request to https://registry.npmjs.org/"],
                    log_lacks: &["added 2 packages"],
                },
            },
        ],
        keep_tree: false,
    });
    match fixed_with(&npm, "RUN --mount=type=cache,target=/root/.npm npm ci") {
        Ok(fixed) => out.push(Scenario {
            name: "npm, docklint's fix".into(),
            tool: Tool::Npm,
            project: "npm",
            dockerfile: fixed,
            smoke: npm_smoke,
            steps: vec![
                npm_first(),
                Step {
                    edit: Some(NPM_BUMP),
                    network: Network::Off,
                    no_layer_reused: false,
                    expect: Expect {
                        built: true,
                        log_has: &["added 2 packages"],
                        log_lacks: &["npm ERR!"],
                    },
                },
            ],
            keep_tree: false,
        }),
        Err(why) => failures.push(format!("── npm: {why}")),
    }

    let pip = read(root, "pip", "Dockerfile");
    let pip_smoke: (&[&str], &str) = (&["python", "/app/app.py", "World"], "hello, World");
    let pip_first = || Step {
        edit: None,
        network: Network::On,
        no_layer_reused: true,
        expect: Expect {
            built: true,
            log_has: &[
                "Downloading docopt-0.6.2.tar.gz",
                "Building wheel for docopt",
            ],
            log_lacks: &[],
        },
    };
    out.push(Scenario {
        name: "pip, original".into(),
        tool: Tool::Pip,
        project: "pip",
        dockerfile: pip.clone(),
        smoke: pip_smoke,
        steps: vec![
            pip_first(),
            Step {
                edit: Some(Edit::Append {
                    file: "requirements.txt",
                    line: "# command-line parsing",
                }),
                network: Network::On,
                no_layer_reused: false,
                expect: Expect {
                    built: true,
                    log_has: &[
                        "Downloading docopt-0.6.2.tar.gz",
                        "Building wheel for docopt",
                    ],
                    log_lacks: &["Using cached"],
                },
            },
        ],
        keep_tree: false,
    });
    match fixed_with(
        &pip,
        "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt",
    ) {
        Ok(fixed) => out.push(Scenario {
            name: "pip, docklint's fix".into(),
            tool: Tool::Pip,
            project: "pip",
            dockerfile: fixed,
            smoke: pip_smoke,
            steps: vec![
                pip_first(),
                Step {
                    edit: Some(Edit::Append {
                        file: "requirements.txt",
                        line: "# command-line parsing",
                    }),
                    network: Network::On,
                    no_layer_reused: false,
                    expect: Expect {
                        built: true,
                        log_has: &["Using cached docopt-0.6.2-py2.py3-none-any.whl"],
                        log_lacks: &["Building wheel", "Downloading docopt"],
                    },
                },
                Step {
                    edit: Some(Edit::Append {
                        file: "requirements.txt",
                        line: "# pinned",
                    }),
                    network: Network::Off,
                    no_layer_reused: false,
                    expect: Expect {
                        built: false,
                        log_has: &["No matching distribution found for docopt==0.6.2"],
                        log_lacks: &[],
                    },
                },
            ],
            keep_tree: false,
        }),
        Err(why) => failures.push(format!("── pip: {why}")),
    }

    let apt_smoke: (&[&str], &str) = (&["jq", "--version"], "jq-");
    let apt = |name: &str, dockerfile: String, offline_builds: bool| {
        let offline = if offline_builds {
            Expect {
                built: true,
                log_has: &["Need to get 0 B/", "Setting up jq"],
                log_lacks: &[],
            }
        } else {
            Expect {
                built: false,
                log_has: &[],
                log_lacks: &["Setting up jq"],
            }
        };
        Scenario {
            name: format!("apt, {name}"),
            tool: Tool::Apt,
            project: "apt",
            dockerfile,
            smoke: apt_smoke,
            steps: vec![
                Step {
                    edit: None,
                    network: Network::On,
                    no_layer_reused: true,
                    expect: Expect {
                        built: true,
                        log_has: &["Setting up jq"],
                        log_lacks: &[],
                    },
                },
                Step {
                    edit: None,
                    network: Network::Off,
                    no_layer_reused: true,
                    expect: offline,
                },
            ],
            keep_tree: true,
        }
    };
    let apt_original = read(root, "apt", "Dockerfile");
    let variants = [
        ("plain-mounts", "plain mounts on archive and lists", false),
        ("docker-clean-removed", "docker-clean removed", true),
        ("archives-relocated", "archive relocated", true),
        (
            "one-relocated-mount",
            "archive and lists in one relocated mount",
            true,
        ),
        (
            "apt-relocated",
            "archive relocated, apt instead of apt-get",
            false,
        ),
        (
            "apt-relocated-kept",
            "archive relocated, apt keeping its downloads",
            true,
        ),
    ];
    let variant_texts: Vec<(String, &str)> = variants
        .iter()
        .map(|(file, name, _)| (read(root, "apt", &format!("{file}.Dockerfile")), *name))
        .collect();
    let fixed = docklint_fix(&apt_original);
    out.push(apt("original", apt_original.clone(), false));
    for ((text, name), (_, _, offline_builds)) in variant_texts.iter().zip(variants) {
        out.push(apt(name, text.clone(), offline_builds));
    }
    if fixed != apt_original {
        match variant_texts.iter().find(|(text, _)| *text == fixed) {
            // Built above: its verdict is the variant's.
            Some((_, name)) => println!("docklint's apt fix is the variant `{name}`"),
            None => out.push(apt("docklint's fix", fixed, true)),
        }
    }
    (out, failures)
}

/// A scenario's name as a directory and tag name.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

fn run_scenario(
    builder: &Builder,
    proxy: &Proxy,
    root: &Path,
    scenario: &Scenario,
) -> ScenarioResult {
    let started = Instant::now();
    let proxy_env = proxy.env();
    let mut result = ScenarioResult {
        steps: Vec::new(),
        images: Vec::new(),
        tree: None,
        failures: Vec::new(),
        seconds: 0.0,
        not_built: None,
    };
    let slug = slug(&scenario.name);
    let dir = builder.work_dir().join(&slug);
    let context = dir.join("context");
    let tmp = dir.join("tmp");
    let file = dir.join("Dockerfile");
    let prepared = copy_dir(&root.join(scenario.project), &context)
        .and_then(|()| std::fs::create_dir_all(&tmp).map_err(|e| e.to_string()))
        .and_then(|()| std::fs::write(&file, &scenario.dockerfile).map_err(|e| e.to_string()));
    if let Err(e) = prepared {
        result.not_built = Some(e);
        return result;
    }
    for (index, step) in scenario.steps.iter().enumerate() {
        let mut what = if index == 0 {
            "first build".to_string()
        } else {
            "rebuild".to_string()
        };
        if let Some(edit) = &step.edit {
            if let Err(e) = edit.apply(&context) {
                result.failures.push(format!("── {}: {e}", scenario.name));
                break;
            }
            let _ = write!(what, " after {}", edit.describe());
        }
        if step.no_layer_reused && index > 0 {
            what.push_str(", no layer reused");
        }
        let tag = format!("{BUILD_REPOSITORY}/rebuild-{slug}-{index}");
        let log_path = dir.join(format!("step-{index}.log"));
        let bud = Bud {
            tag: &tag,
            file: &file,
            context: &context,
            tmp: &tmp,
            log: &log_path,
            layers: true,
            no_cache: step.no_layer_reused,
            offline: step.network == Network::Off,
            env: match step.network {
                Network::On => &proxy_env,
                Network::Off => &[],
            },
        };
        let build_started = Instant::now();
        let (ended, traffic) = match step.network {
            Network::On => {
                let _online = NETWORK.lock().unwrap_or_else(|e| e.into_inner());
                let before = proxy.counts.snapshot().len();
                let ended = builder.bud(&bud);
                let connections = proxy.counts.snapshot().split_off(before);
                (ended, Some(connections))
            }
            Network::Off => (builder.bud(&bud), None),
        };
        let seconds = build_started.elapsed().as_secs_f64();
        let ended = match ended {
            Ok(ended) => ended,
            Err(e) => {
                result.failures.push(format!("── {}: {e}", scenario.name));
                break;
            }
        };
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let mut smoke = None;
        if ended == Ended::Built {
            smoke = Some(builder.run_in_image(&tag, scenario.smoke.0));
            if index == 0 && scenario.keep_tree {
                match builder.read_image(&tag, &format!("rebuild-{slug}")) {
                    Ok(tree) => result.tree = Some(tree),
                    Err(e) => result.failures.push(format!("── {}: {e}", scenario.name)),
                }
            }
            result.images.push(tag.clone());
        }
        let cache_dir = tmp.join("buildah-cache");
        let step_result = StepResult {
            what,
            network: step.network,
            ended,
            seconds,
            traffic,
            cache: cache_content(&cache_dir),
            debug_log: if scenario.tool == Tool::Npm {
                npm_network_notes(&cache_dir)
            } else {
                Vec::new()
            },
            log,
            smoke,
        };
        result
            .failures
            .extend(check(scenario, &step.expect, &step_result));
        let stop = step.expect.built && ended != Ended::Built;
        result.steps.push(step_result);
        if stop {
            break;
        }
    }
    result.seconds = started.elapsed().as_secs_f64();
    result
}

/// What a step did that it must not, as failures.
fn check(scenario: &Scenario, expect: &Expect, step: &StepResult) -> Vec<String> {
    let mut problems = Vec::new();
    let built = step.ended == Ended::Built;
    if step.ended == Ended::TimedOut {
        problems.push("the build hung until the timeout".to_string());
    } else if built != expect.built {
        problems.push(format!(
            "the build {}, it must {}",
            if built { "built" } else { "failed" },
            if expect.built { "build" } else { "fail" }
        ));
    }
    for piece in expect.log_has {
        if !step.log.contains(piece) {
            problems.push(format!("the log lacks `{piece}`"));
        }
    }
    for piece in expect.log_lacks {
        if step.log.contains(piece) {
            problems.push(format!("the log has `{piece}`"));
        }
    }
    match &step.smoke {
        Some(Ok(output)) if !output.contains(scenario.smoke.1) => problems.push(format!(
            "`{}` in the image printed {output:?}, not {:?}",
            scenario.smoke.0.join(" "),
            scenario.smoke.1
        )),
        Some(Err(e)) => problems.push(format!(
            "`{}` in the image failed: {e}",
            scenario.smoke.0.join(" ")
        )),
        _ => {}
    }
    if problems.is_empty() {
        return problems;
    }
    vec![format!(
        "── {} ({}): {}\nDockerfile:\n{}log (end):\n{}",
        scenario.name,
        step.what,
        problems.join("; "),
        indent(&scenario.dockerfile),
        indent(&tail(&step.log, 25))
    )]
}

fn tail(log: &str, lines: usize) -> String {
    let all: Vec<&str> = log.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The report of one scenario.
fn report(scenario: &Scenario, result: &ScenarioResult) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n{} ({:.0} s)", scenario.name, result.seconds);
    for line in scenario.dockerfile.lines() {
        if line.starts_with("RUN") || line.starts_with(' ') {
            let _ = writeln!(out, "  | {line}");
        }
    }
    if let Some(why) = &result.not_built {
        let _ = writeln!(out, "  not built: {why}");
    }
    for step in &result.steps {
        let network = match (step.network, &step.traffic) {
            (Network::Off, _) => "network off".to_string(),
            (Network::On, Some(connections)) => format!("network on: {}", traffic(connections)),
            (Network::On, None) => "network on".to_string(),
        };
        let word = match step.ended {
            Ended::Built => "built",
            Ended::Failed => "FAILED",
            Ended::TimedOut => "TIMED OUT",
        };
        let _ = writeln!(
            out,
            "  {}: {word} in {:.1} s; {network}",
            step.what, step.seconds
        );
        let mut cache = format!(
            "cache mounts after it: {} files, {}",
            step.cache.files,
            kilobytes(step.cache.bytes)
        );
        if scenario.tool == Tool::Apt {
            let _ = write!(cache, ", {} .deb", step.cache.debs);
        }
        if let Some(requests) = scenario.tool.requests(&step.log) {
            let _ = write!(cache, "; {requests}");
        }
        let _ = writeln!(out, "      {cache}");
        for line in collapse(
            step.log
                .lines()
                .filter(|l| scenario.tool.reported(l))
                .map(str::trim),
        ) {
            let _ = writeln!(out, "      > {line}");
        }
        for note in &step.debug_log {
            let _ = writeln!(out, "      npm's debug log: {note}");
        }
        let tool_error = step
            .log
            .lines()
            .any(|l| scenario.tool.reported(l) && scenario.tool.is_error(l));
        if step.ended == Ended::Failed && !tool_error {
            let _ = writeln!(out, "      failed on: {}", compare::cause(&step.log));
        }
        if let Some(Ok(output)) = &step.smoke {
            let _ = writeln!(
                out,
                "      image runs `{}`: {}",
                scenario.smoke.0.join(" "),
                output.trim()
            );
        }
    }
    out
}

/// Lines with a repeat count for runs of lines that start alike (retries).
fn collapse<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<(String, usize)> = Vec::new();
    let key = |l: &str| l.chars().take(24).collect::<String>();
    for line in lines {
        match out.last_mut() {
            Some((last, count)) if key(last) == key(line) && line.starts_with("WARNING") => {
                *count += 1
            }
            _ => out.push((line.to_string(), 1)),
        }
    }
    out.into_iter()
        .map(|(line, count)| {
            if count > 1 {
                format!("{line} (and {} more alike)", count - 1)
            } else {
                line
            }
        })
        .collect()
}

/// What each apt variant's image holds that the original's does not, and the reverse; and
/// a failure for any `.deb` left in an image.
fn apt_images(scenarios: &[Scenario], results: &[ScenarioResult]) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut failures = Vec::new();
    let volatile = compare::volatile_set();
    let apt: Vec<(&Scenario, &Tree)> = scenarios
        .iter()
        .zip(results)
        .filter(|(s, _)| s.tool == Tool::Apt)
        .filter_map(|(s, r)| r.tree.as_ref().map(|t| (s, t)))
        .collect();
    for (scenario, tree) in &apt {
        let debs: Vec<&String> = tree
            .entries
            .iter()
            .filter(|(path, e)| e.kind == Kind::File && path.ends_with(".deb"))
            .map(|(path, _)| path)
            .collect();
        if !debs.is_empty() {
            failures.push(format!(
                "── {}: the image keeps downloaded packages: {}",
                scenario.name,
                debs.iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let Some((_, original)) = apt.iter().find(|(s, _)| s.name == "apt, original") else {
        return (out, failures);
    };
    for (scenario, tree) in apt.iter().filter(|(s, _)| s.name != "apt, original") {
        let found: Vec<String> = differences(original, tree)
            .into_iter()
            .filter(|d| !compare::is_volatile(&volatile, d))
            .map(|d| d.describe().replace("the fixed image", "the variant"))
            .collect();
        let _ = writeln!(
            out,
            "\n{} against the original: {} differences",
            scenario.name,
            found.len()
        );
        for line in found.iter().take(15) {
            let _ = writeln!(out, "  {line}");
        }
        if found.len() > 15 {
            let _ = writeln!(out, "  … {} more", found.len() - 15);
        }
    }
    (out, failures)
}

/// Runs the scenarios whose name contains one of `filters` (all when empty), `parallel` at
/// once; prints the report and returns the failures.
pub fn run(builder: &Builder, root: &Path, filters: &[String], parallel: usize) -> Vec<String> {
    let (mut all, mut failures) = scenarios(root);
    all.retain(|s| {
        filters.is_empty()
            || filters
                .iter()
                .any(|f| s.name.contains(f.as_str()) || slug(&s.name).contains(f.as_str()))
    });
    if all.is_empty() {
        println!("no rebuild scenario matches the filter");
        return failures;
    }
    let proxy = match Proxy::start() {
        Ok(proxy) => proxy,
        Err(e) => {
            failures.push(format!("── the counting proxy does not start: {e}"));
            return failures;
        }
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<ScenarioResult>>> =
        Mutex::new((0..all.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..parallel.max(1) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(scenario) = all.get(index) else {
                    break;
                };
                let result = run_scenario(builder, &proxy, root, scenario);
                println!(
                    "[{:>2}/{}] {:>5.1} s {}",
                    index + 1,
                    all.len(),
                    result.seconds,
                    scenario.name
                );
                results.lock().expect("results lock")[index] = Some(result);
            });
        }
    });
    let results: Vec<ScenarioResult> = results
        .into_inner()
        .expect("results lock")
        .into_iter()
        .map(|r| r.expect("every scenario ran"))
        .collect();
    for tag in results.iter().flat_map(|r| &r.images) {
        builder.remove_image(tag);
    }
    if let Err(e) = builder.remove_untagged_layers() {
        println!("NOTE: {e}");
    }

    println!("\n== rebuild test: scenarios");
    for (scenario, result) in all.iter().zip(&results) {
        print!("{}", report(scenario, result));
        failures.extend(result.failures.iter().cloned());
    }
    let (images, image_failures) = apt_images(&all, &results);
    if !images.is_empty() {
        println!("\n== rebuild test: what each apt variant's image holds");
        print!("{images}");
    }
    failures.extend(image_failures);
    failures
}

/// Where the scenarios' projects are.
pub fn projects(repository: &Path) -> PathBuf {
    repository.join("tests/build/rebuild")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn projects() -> PathBuf {
        super::projects(Path::new(env!("CARGO_MANIFEST_DIR")))
    }

    #[test]
    fn docklint_fixes_the_projects_with_the_mounts_the_scenarios_rebuild_from() {
        let (all, failures) = scenarios(&projects());
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
        for name in [
            "npm, docklint's fix",
            "pip, docklint's fix",
            "apt, original",
        ] {
            assert!(names.contains(&name), "{names:?}");
        }
    }

    #[test]
    fn the_edits_apply_to_the_projects_and_a_missing_text_is_an_error() {
        let work = crate::common::TempDir::new("rebuild-edit");
        copy_dir(&projects().join("npm"), work.path()).expect("copy");
        NPM_BUMP
            .apply(work.path())
            .expect("the version to bump is there");
        assert!(work.read("package.json").contains("\"version\": \"1.0.1\""));
        assert!(NPM_BUMP.apply(work.path()).is_err());
        Edit::Append {
            file: "package-lock.json",
            line: "",
        }
        .apply(work.path())
        .expect("append");
    }

    #[test]
    fn traffic_names_each_target_once_with_its_count() {
        let connection = |target: &str, sent, received| Connection {
            target: target.to_string(),
            sent,
            received,
        };
        assert_eq!(
            traffic(&[
                connection("a:443", 100, 2000),
                connection("b:80", 100, 500),
                connection("a:443", 300, 2500),
            ]),
            "3 connections (a:443 ×2, b:80), received 5.0 kB, sent 0.5 kB"
        );
        assert_eq!(
            traffic(&[connection("a:443", 0, 0)]),
            "1 connection (a:443), received 0.0 kB, sent 0.0 kB"
        );
    }

    #[test]
    fn retries_are_collapsed_and_other_lines_kept() {
        let lines = [
            "WARNING: Retrying (Retry(total=4)) /simple/x/",
            "WARNING: Retrying (Retry(total=3)) /simple/x/",
            "ERROR: No matching distribution found for x",
            "ERROR: No matching distribution found for x",
        ];
        assert_eq!(
            collapse(lines.into_iter()),
            [
                "WARNING: Retrying (Retry(total=4)) /simple/x/ (and 1 more alike)",
                "ERROR: No matching distribution found for x",
                "ERROR: No matching distribution found for x",
            ]
        );
        assert_eq!(slug("apt, docklint's fix"), "apt-docklint-s-fix");
    }
}
