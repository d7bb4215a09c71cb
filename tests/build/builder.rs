//! buildah, driven with private storage: base images from `scripts/build-bases`, one
//! build per Dockerfile text, the resulting root file system read back as a [`Tree`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::tree::Tree;

/// How a build ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Built(Tree),
    Failed {
        log: String,
    },
    /// Killed after the timeout: a hang (see the `sharing=locked` note in the module doc).
    TimedOut {
        log: String,
    },
}

impl Outcome {
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Built(_) => "built",
            Outcome::Failed { .. } => "failed",
            Outcome::TimedOut { .. } => "timed out",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Build {
    pub outcome: Outcome,
    pub seconds: f64,
}

/// One `buildah bud`.
pub struct Bud<'a> {
    pub tag: &'a str,
    pub file: &'a Path,
    pub context: &'a Path,
    /// The build's TMPDIR: buildah keeps cache mounts under `$TMPDIR/buildah-cache`, so
    /// builds that share it share their caches.
    pub tmp: &'a Path,
    /// Where the build's output goes.
    pub log: &'a Path,
    /// Keep each step's layer and reuse the layers kept (`--layers`); otherwise every
    /// step runs and the build commits one layer.
    pub layers: bool,
    /// Reuse no kept layer (`--no-cache`), as after an update of the base image.
    pub no_cache: bool,
    /// In a fresh network namespace that has only a loopback (`unshare --net`): nothing in
    /// the build reaches the network. (buildah refuses `--network none` with chroot
    /// isolation.)
    pub offline: bool,
    /// Environment of the build (buildah passes proxy variables on to every RUN).
    pub env: &'a [(String, String)],
}

/// How a `buildah bud` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Built,
    Failed,
    /// Killed after the timeout.
    TimedOut,
}

pub struct Builder {
    repository: PathBuf,
    /// Storage, registries.conf, base-image key: kept between runs.
    state: PathBuf,
    /// Dockerfiles, logs and cache-mount directories of this run.
    work: PathBuf,
    timeout: Duration,
}

/// Lines of a failed build's log that mean the builder failed before a step's command ran,
/// so the failure says nothing about the Dockerfile: with two builds at once, buildah's
/// chroot isolation sometimes fails to seal the copy of itself it runs a step with (EBUSY).
const BUILDER_HICCUPS: &[&str] = &["sealing memfd copy"];

/// Tag of the images this harness builds (the bases are tagged like the official images).
pub const BUILD_REPOSITORY: &str = "localhost/docklint-build";

impl Builder {
    /// The builder, or why there is none (buildah or debootstrap missing).
    pub fn find(repository: &Path, timeout: Duration) -> Result<Builder, String> {
        for (tool, args) in [("buildah", "--version"), ("debootstrap", "--version")] {
            let found = Command::new(tool)
                .arg(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !found {
                return Err(format!(
                    "`{tool}` is not installed (apt-get install buildah debootstrap)"
                ));
            }
        }
        let state = std::env::var_os("DOCKLINT_BUILD_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repository.join("target/buildah"));
        Ok(Builder {
            repository: repository.to_path_buf(),
            work: state.join("work"),
            state,
            timeout,
        })
    }

    /// The same builder with its run's files in `<state>/<name>`: one directory per test,
    /// since [`Builder::prepare`] clears it.
    pub fn with_work_dir(self, name: &str) -> Builder {
        Builder {
            work: self.state.join(name),
            ..self
        }
    }

    /// Where the storage and this run's files are.
    pub fn state_dir(&self) -> &Path {
        &self.state
    }

    pub fn work_dir(&self) -> &Path {
        &self.work
    }

    pub fn version() -> String {
        Command::new("buildah")
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    }

    /// `buildah` with the private storage and registries.conf.
    fn buildah(&self) -> Command {
        let mut command = Command::new("buildah");
        command
            .arg("--root")
            .arg(self.state.join("storage"))
            .arg("--runroot")
            .arg(self.state.join("run"))
            .args(["--storage-driver", "overlay"])
            .env(
                "CONTAINERS_REGISTRIES_CONF",
                self.state.join("registries.conf"),
            )
            .stdin(Stdio::null());
        command
    }

    fn run(&self, what: &str, command: &mut Command) -> Result<String, String> {
        let output = command
            .output()
            .map_err(|e| format!("{what}: cannot run: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!(
                "{what}: {}\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    /// Makes the base images (cached between runs by `scripts/build-bases`) and clears
    /// what an interrupted earlier run left: working containers, built images, kept
    /// layers, work files.
    pub fn prepare(&self) -> Result<(), String> {
        let script = self.repository.join("scripts/build-bases");
        let status = Command::new("bash")
            .arg(&script)
            .env("DOCKLINT_BUILD_DIR", &self.state)
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("{}: {e}", script.display()))?;
        if !status.success() {
            return Err(format!("{} failed: {status}", script.display()));
        }
        let _ = self.run("buildah rm --all", self.buildah().args(["rm", "--all"]));
        for image in self.images()? {
            if image.starts_with(BUILD_REPOSITORY) {
                let _ = self.run(
                    "buildah rmi",
                    self.buildah().args(["rmi", "--force", &image]),
                );
            }
        }
        self.remove_untagged_layers()?;
        let _ = std::fs::remove_dir_all(&self.work);
        std::fs::create_dir_all(&self.work).map_err(|e| format!("{}: {e}", self.work.display()))
    }

    /// Every image name in the storage, fully qualified (`docker.io/library/python:3.12`).
    pub fn images(&self) -> Result<BTreeSet<String>, String> {
        let listing = self.run(
            "buildah images",
            self.buildah()
                .args(["images", "--noheading", "--format", "{{.Name}}:{{.Tag}}"]),
        )?;
        Ok(listing.lines().map(|l| l.trim().to_string()).collect())
    }

    /// Builds `dockerfile` with `context`; `id` names the build's files and image
    /// (lowercase letters, digits, dashes).
    pub fn build(&self, id: &str, dockerfile: &str, context: &Path) -> Build {
        let started = Instant::now();
        let outcome = self
            .try_build(id, dockerfile, context)
            .unwrap_or_else(|log| Outcome::Failed { log });
        Build {
            outcome,
            seconds: started.elapsed().as_secs_f64(),
        }
    }

    fn try_build(&self, id: &str, dockerfile: &str, context: &Path) -> Result<Outcome, String> {
        let dir = self.work.join(id);
        // Cache mounts live under $TMPDIR/buildah-cache: one directory per build keeps
        // them from leaking between the builds of a run.
        let tmp = dir.join("tmp");
        std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let file = dir.join("Dockerfile");
        std::fs::write(&file, dockerfile).map_err(|e| format!("{}: {e}", file.display()))?;
        let log_path = dir.join("build.log");
        let tag = format!("{BUILD_REPOSITORY}/{id}");
        let ended = self.bud(&Bud {
            tag: &tag,
            file: &file,
            context,
            tmp: &tmp,
            log: &log_path,
            layers: false,
            no_cache: false,
            offline: false,
            env: &[],
        })?;
        let log = log_tail(&std::fs::read_to_string(&log_path).unwrap_or_default());
        match ended {
            Ended::Built => {}
            Ended::TimedOut => return Ok(Outcome::TimedOut { log }),
            Ended::Failed => return Ok(Outcome::Failed { log }),
        }
        let tree = self.read_image(&tag, id);
        self.remove_image(&tag);
        tree.map(Outcome::Built)
    }

    /// Runs one `buildah bud` with the timeout, its output written to `bud.log`. A build
    /// that failed because the builder itself could not start a step's command (see
    /// [`BUILDER_HICCUPS`]) is run again, at most twice, and its log says so.
    pub fn bud(&self, bud: &Bud) -> Result<Ended, String> {
        let mut hiccups = Vec::new();
        let ended = loop {
            let ended = self.bud_once(bud)?;
            let hiccup = (ended == Ended::Failed && hiccups.len() < 2)
                .then(|| std::fs::read_to_string(bud.log).unwrap_or_default())
                .and_then(|log| {
                    log.lines()
                        .find(|line| BUILDER_HICCUPS.iter().any(|h| line.contains(h)))
                        .map(|line| line.trim().to_string())
                });
            match hiccup {
                Some(line) => hiccups.push(line),
                None => break ended,
            }
        };
        if !hiccups.is_empty() {
            // First, so that the end of the log still shows how the build ended.
            let log = std::fs::read_to_string(bud.log).unwrap_or_default();
            let note = format!(
                "(run again after the builder failed to start a step: {})\n",
                hiccups.join("; ")
            );
            std::fs::write(bud.log, note + &log)
                .map_err(|e| format!("{}: {e}", bud.log.display()))?;
        }
        Ok(ended)
    }

    fn bud_once(&self, bud: &Bud) -> Result<Ended, String> {
        let log =
            std::fs::File::create(bud.log).map_err(|e| format!("{}: {e}", bud.log.display()))?;
        let buildah = self.buildah();
        let mut command = Command::new("timeout");
        command.args(["--kill-after=10", &self.timeout.as_secs().to_string()]);
        if bud.offline {
            // timeout(1) kills unshare's process, which is buildah itself (no --fork).
            command.args(["unshare", "--net"]);
        }
        command
            .arg(buildah.get_program())
            .args(buildah.get_args())
            .args([
                "bud",
                "--isolation",
                "chroot",
                "--format",
                "docker",
                "--pull=never",
                // A failed build's containers would hold its layers.
                "--force-rm",
            ])
            .arg(if bud.layers {
                "--layers=true"
            } else {
                "--layers=false"
            })
            .args(bud.no_cache.then_some("--no-cache"))
            .args(["-t", bud.tag, "-f"])
            .arg(bud.file)
            .arg(bud.context)
            .env(
                "CONTAINERS_REGISTRIES_CONF",
                self.state.join("registries.conf"),
            )
            .env("TMPDIR", bud.tmp)
            .envs(bud.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        let status = command
            .status()
            .map_err(|e| format!("cannot run buildah: {e}"))?;
        Ok(match status.code() {
            Some(0) => Ended::Built,
            // timeout(1): 124 when the command timed out, 137 when it had to be killed.
            Some(124) | Some(137) | None => Ended::TimedOut,
            Some(_) => Ended::Failed,
        })
    }

    /// Runs `argv` in a container of `tag` (no network needed); its output.
    pub fn run_in_image(&self, tag: &str, argv: &[&str]) -> Result<String, String> {
        let container = format!("docklint-run-{}", tag.rsplit('/').next().unwrap_or(tag));
        self.run(
            "buildah from",
            self.buildah()
                .args(["from", "--pull=never", "--quiet", "--name", &container, tag]),
        )?;
        let output = self.run(
            "buildah run",
            self.buildah()
                .args(["run", "--isolation", "chroot", &container, "--"])
                .args(argv),
        );
        let _ = self.run("buildah rm", self.buildah().args(["rm", &container]));
        output
    }

    /// The image's whole inspection (buildah 1.28's `--format` templates have no `json`).
    fn inspect(&self, tag: &str) -> Result<serde_json::Value, String> {
        let inspection = self.run(
            "buildah inspect",
            self.buildah().args(["inspect", "--type", "image", tag]),
        )?;
        serde_json::from_str(inspection.trim()).map_err(|e| format!("image config: {e}"))
    }

    /// What a container of the image runs by default: its ENTRYPOINT followed by its CMD.
    pub fn image_command(&self, tag: &str) -> Result<Vec<String>, String> {
        let inspection = self.inspect(tag)?;
        let config = &inspection["Docker"]["config"];
        let words = |key: &str| -> Vec<String> {
            config[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|w| w.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut command = words("Entrypoint");
        command.extend(words("Cmd"));
        Ok(command)
    }

    /// Bytes of regular files in each layer of the image, the base image's layers first:
    /// what each layer ships, where a file deleted by a later layer still counts (the
    /// final file system would not show it). Read from the storage's diff directories.
    pub fn layer_bytes(&self, tag: &str) -> Result<Vec<u64>, String> {
        let inspection = self.inspect(tag)?;
        let layers_file = self.state.join("storage/overlay-layers/layers.json");
        let layers: serde_json::Value = std::fs::read_to_string(&layers_file)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
            .map_err(|e| format!("{}: {e}", layers_file.display()))?;
        let layers = layers.as_array().cloned().unwrap_or_default();
        let diff_ids = inspection["OCIv1"]["rootfs"]["diff_ids"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        diff_ids
            .iter()
            .map(|diff| {
                let id = layers
                    .iter()
                    .find(|layer| layer["diff-digest"] == *diff)
                    .and_then(|layer| layer["id"].as_str())
                    .ok_or_else(|| format!("no layer with the content {diff}"))?;
                let dir = self.state.join("storage/overlay").join(id).join("diff");
                Tree::read(&dir)
                    .map(|tree| tree.file_bytes(|_| false))
                    .map_err(|e| format!("{}: {e}", dir.display()))
            })
            .collect()
    }

    pub fn remove_image(&self, tag: &str) {
        let _ = self.run("buildah rmi", self.buildah().args(["rmi", "--force", tag]));
    }

    /// Removes the images no tag names: the layers `--layers` builds keep.
    pub fn remove_untagged_layers(&self) -> Result<(), String> {
        self.run(
            "buildah rmi --prune",
            self.buildah().args(["rmi", "--prune"]),
        )
        .map(|_| ())
    }

    /// Reads the image through a mounted working container: for a 200 MB root file system
    /// that takes a fraction of a second, where `bud --output type=local` copies it all
    /// (measured: 0.3 s against 3.7 s).
    pub fn read_image(&self, tag: &str, id: &str) -> Result<Tree, String> {
        let container = format!("docklint-read-{id}");
        self.run(
            "buildah from",
            self.buildah()
                .args(["from", "--pull=never", "--quiet", "--name", &container, tag]),
        )?;
        let tree = self
            .run("buildah mount", self.buildah().args(["mount", &container]))
            .and_then(|root| {
                Tree::read(Path::new(root.trim())).map_err(|e| format!("reading the image: {e}"))
            });
        let _ = self.run("buildah rm", self.buildah().args(["rm", &container]));
        tree
    }
}

/// The end of a build log, without the lines every build prints.
fn log_tail(log: &str) -> String {
    let noise = [
        "Getting image source signatures",
        "Copying blob",
        "Copying config",
        "Writing manifest",
        "Storing signatures",
    ];
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| !noise.iter().any(|n| l.starts_with(n)))
        .collect();
    lines[lines.len().saturating_sub(12)..].join("\n")
}
