//! A dependency install that brings the project's development dependencies into a final
//! image. Which installs bring them is the model's table (`model::builds::dev_installs`);
//! whether the project declares any is read from its manifest in the build context, found
//! through the COPY that put it in the image (`model::copies`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::fix::shell::word_is_in_file;
use crate::fix::{Edit, Fix};
use crate::model::builds::{build_steps, dev_installs, DevInstall, Ecosystem, LastPrune, Manager};
use crate::model::commands::basename;
use crate::model::families::{is_dev_environment, is_workbench_command};
use crate::model::{copies, image_command, image_programs, paths::resolve_path, Run};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};

pub struct DevDependenciesInFinalStage;

static META: Meta = Meta {
    name: "dev-dependencies-in-final-stage",
    family: "stages",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    aliases: &[],
    doc: include_str!("dev_dependencies_in_final_stage.md"),
};

impl Rule for DevDependenciesInFinalStage {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        if is_dev_environment(&cx.file.path, cx.model) {
            return;
        }
        let context = cx.build_context_dir();
        let mut seen = HashSet::new();
        // Each manifest read once, however many installs see it.
        let mut manifests: HashMap<(PathBuf, Manager), Option<Vec<String>>> = HashMap::new();
        for stage in cx.model.final_stages(&cx.settings.targets) {
            // A shell, a REPL or a test runner: a work or test environment.
            if is_workbench_command(&image_command(cx.df, cx.model, stage)) {
                continue;
            }
            let runs = cx.model.runs_in_image(stage);
            let programs = image_programs(cx.df, cx.model, stage);
            let last_prune = LastPrune::of(&runs);
            let mut builds = None;
            for (r, run) in runs.iter().enumerate() {
                for install in dev_installs(run) {
                    if !seen.insert((run.instruction, install.step)) {
                        continue;
                    }
                    let declared = match install.named_by {
                        Some(_) => Some(&[][..]),
                        None => context
                            .as_deref()
                            .and_then(|c| manifest_seen_by(cx, run, &install, c))
                            .and_then(|file| {
                                manifests
                                    .entry((file, install.manager))
                                    .or_insert_with_key(|(file, manager)| {
                                        declared_dev_dependencies(file, *manager)
                                    })
                                    .as_deref()
                            }),
                    };
                    let Some(names) = declared else { continue };
                    if install.named_by.is_none() && names.is_empty() {
                        continue;
                    }
                    if last_prune.after(r, install.step) {
                        continue;
                    }
                    let builds = builds.get_or_insert_with(|| Builds::of(&runs));
                    let build = builds.after(r, install.step);
                    report(cx, build, run, &install, names, &programs);
                }
            }
        }
    }
}

/// The file of the build context that the install reads as its manifest; `None` when it
/// cannot be found.
fn manifest_seen_by(cx: &Ctx, run: &Run, install: &DevInstall, context: &Path) -> Option<PathBuf> {
    let step = &run.effects.steps[install.step];
    let cwd = step.cwd.as_deref()?;
    let manifest = resolve_path(cwd, install.manager.manifest());
    copies::context_file(cx.model, run.stage, run.instruction, &manifest, context)
}

/// The development dependencies a manifest of `manager` declares (names); `None` when it
/// cannot be read.
fn declared_dev_dependencies(file: &Path, manager: Manager) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(file).ok()?;
    match manager.manifest() {
        "package.json" => {
            let json: serde_json::Value = serde_json::from_str(&text).ok()?;
            Some(
                json.get("devDependencies")
                    .and_then(|d| d.as_object())
                    .map(|d| d.keys().cloned().collect())
                    .unwrap_or_default(),
            )
        }
        "pyproject.toml" => {
            let toml: toml::Table = text.parse().ok()?;
            Some(pyproject_dev_dependencies(&toml, manager))
        }
        _ => None,
    }
}

/// Poetry's non-optional groups besides `main` (and the old `dev-dependencies`); uv's
/// `dev` dependency group and `tool.uv.dev-dependencies`.
fn pyproject_dev_dependencies(toml: &toml::Table, manager: Manager) -> Vec<String> {
    let table = |v: Option<&toml::Value>| v.and_then(|v| v.as_table()).cloned();
    let tool = table(toml.get("tool")).unwrap_or_default();
    let mut names = Vec::new();
    match manager {
        Manager::Poetry => {
            let poetry = table(tool.get("poetry")).unwrap_or_default();
            if let Some(dev) = table(poetry.get("dev-dependencies")) {
                names.extend(dev.keys().cloned());
            }
            for (group, value) in table(poetry.get("group")).unwrap_or_default() {
                let optional = value
                    .get("optional")
                    .and_then(|o| o.as_bool())
                    .unwrap_or(false);
                if group == "main" || optional {
                    continue;
                }
                if let Some(deps) = table(value.get("dependencies")) {
                    names.extend(deps.keys().cloned());
                }
            }
        }
        Manager::Uv => {
            let requirement_names = |v: Option<&toml::Value>| -> Vec<String> {
                v.and_then(|v| v.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|r| r.as_str())
                            .map(|r| {
                                r.split(|c: char| {
                                    !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                                })
                                .next()
                                .unwrap_or(r)
                                .to_string()
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let groups = table(toml.get("dependency-groups")).unwrap_or_default();
            names.extend(requirement_names(groups.get("dev")));
            let uv = table(tool.get("uv")).unwrap_or_default();
            names.extend(requirement_names(uv.get("dev-dependencies")));
        }
        _ => {}
    }
    names
}

/// The Node.js and Python builds of an image's RUNs, in order, each at (index of its RUN,
/// step): the first after an install is found by a binary search, not a pass over the RUNs
/// after it.
struct Builds(Vec<((usize, usize), String)>);

impl Builds {
    fn of(runs: &[&Run]) -> Builds {
        let builds = runs.iter().enumerate().flat_map(|(r, run)| {
            build_steps(run)
                .into_iter()
                .filter(|b| matches!(b.ecosystem, Ecosystem::Node | Ecosystem::Python))
                .map(move |b| ((r, b.step), b.label))
        });
        Builds(builds.collect())
    }

    /// The label of the first build after step `step` of the RUN at `r`.
    fn after(&self, r: usize, step: usize) -> Option<&str> {
        let first = self.0.partition_point(|(at, _)| *at <= (r, step));
        self.0.get(first).map(|(_, label)| label.as_str())
    }
}

fn report(
    cx: &mut Ctx,
    build: Option<&str>,
    run: &Run,
    install: &DevInstall,
    names: &[String],
    programs: &[String],
) {
    let Some(script) = &run.script else { return };
    let step = &run.effects.steps[install.step];
    let command = &script.commands[step.command];
    let args = step.args(script);
    let manager = install.manager;
    let subcommand = args
        .iter()
        .find(|w| !w.value.starts_with('-'))
        .map(|w| w.value.as_str());
    let label = match subcommand {
        Some(sub) => format!("{} {sub}", basename(&step.name)),
        None => basename(&step.name).to_string(),
    };
    let listed = match names {
        [] => String::new(),
        names if names.len() <= 4 => format!(" ({})", names.join(", ")),
        names => format!(" ({} and {} more)", names[..3].join(", "), names.len() - 3),
    };
    let message = match install.named_by.and_then(|i| args.get(i)) {
        Some(word) => format!(
            "`{label}` installs development dependencies (`{}`) into the final image",
            word.value
        ),
        None => format!(
            "`{label}` installs the development dependencies of {} into the final image{listed}",
            manager.manifest()
        ),
    };
    // A build after the install (`build`) needs them: the fix is a builder stage.
    let runtime_use = programs
        .iter()
        .find(|p| names.iter().any(|n| n == *p || basename(n) == p.as_str()));
    let option = manager.production_option();
    let (help, fix) = match (&build, runtime_use, option, install.named_by) {
        (Some(build), _, _, _) => (
            format!("`{build}` needs them in this image: build in a builder stage and install without them in the final one (`missing-multistage-split` has the fix)"),
            None,
        ),
        (None, Some(program), _, _) => (
            format!("the image's command runs `{program}`, a development dependency: move it to the dependencies, then install with {}", option.unwrap_or("the production requirements only")),
            None,
        ),
        (None, None, Some(option), None) => {
            let program = match step.args_from {
                0 => &command.program,
                n => &command.args[n - 1],
            };
            let fix = fix_for(cx, program, args, option);
            (format!("install with `{option}`: tests, linters and compilers stay out of the image"), fix)
        }
        (None, None, _, _) => (
            "install them in a test or builder stage; the final image needs the runtime requirements only".to_string(),
            None,
        ),
    };
    let diagnostic = cx.report(command.span.clone(), message).help(help);
    if let Some(fix) = fix {
        diagnostic.fix(fix);
    }
}

/// Inserts the production option after the subcommand (`npm ci --omit=dev`), or after
/// the program for a bare `yarn`.
fn fix_for(
    cx: &Ctx,
    program: &crate::syntax::shell::Word,
    args: &[crate::syntax::shell::Word],
    option: &str,
) -> Option<Fix> {
    let after = args
        .iter()
        .find(|w| !w.value.starts_with('-'))
        .unwrap_or(program);
    if !word_is_in_file(&cx.file.text, &after.span, &after.raw) || !after.literal {
        return None;
    }
    Some(Fix::unsafe_(
        format!("Install without development dependencies (`{option}`)"),
        vec![Edit::insert(after.span.end, format!(" {option}"))],
    ))
}
