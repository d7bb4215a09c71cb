//! A final image that builds its program and ships what built it: the toolchain of the
//! base image or of installed packages, development dependencies, compilers.
//!
//! What builds is the model's table (`model::builds`); where toolchains come from,
//! `model::families` (base images) and `model::packages` (installs that stay). For a
//! single-stage file whose build is recognised (Go, Rust, Node.js, Python), the fix
//! rewrites it into a builder stage and a runtime stage (`split`).

mod split;

use crate::model::builds::{build_steps, python_installs, BuildStep, Ecosystem, LastPrune};
use crate::model::commands::basename;
use crate::model::families::{self, is_dev_environment};
use crate::model::packages::{self, build_tool, BuildTool};
use crate::model::Run;
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};

pub struct MissingMultistageSplit;

static META: Meta = Meta {
    name: "missing-multistage-split",
    family: "stages",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    aliases: &[],
    doc: include_str!("missing_multistage_split.md"),
};

/// A build in a final image whose toolchain ships with it.
pub(crate) struct ShippedBuild<'m> {
    pub run: &'m Run,
    pub build: BuildStep,
}

impl Rule for MissingMultistageSplit {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        if is_dev_environment(&cx.file.path, cx.model) {
            return;
        }
        let mut seen = Vec::new();
        for stage in cx.model.final_stages(&cx.settings.targets) {
            if families::is_base_for_others(cx.df, cx.model, stage) {
                continue;
            }
            let builds = shipped_builds(cx, stage);
            let Some(last) = builds.last() else { continue };
            let key = (last.run.instruction, last.build.step);
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            report(cx, stage, &builds);
        }
    }
}

/// The builds of the image of `stage` whose toolchain stays in it.
fn shipped_builds<'m>(cx: &Ctx<'m>, stage: usize) -> Vec<ShippedBuild<'m>> {
    let runs = cx.model.runs_in_image(stage);
    let root = &cx.model.stages[cx.model.stage_chain(stage)[0]];
    let base = root.base_expanded.as_deref().unwrap_or(&root.base);
    let base_toolchains = families::heavy(base).map_or(&[][..], |h| h.toolchains);
    let installed = packages::installed(&runs);
    // Toolchains installed by a RUN up to `run` (index into `runs`) that stay.
    let installed_up_to = |r: usize, wanted: &dyn Fn(BuildTool) -> bool| {
        installed.iter().any(|i| {
            i.run <= r && !i.package.published && build_tool(&i.package.name).is_some_and(wanted)
        })
    };
    let last_prune = LastPrune::of(&runs);
    let mut out = Vec::new();
    for (r, run) in runs.iter().enumerate() {
        for build in build_steps(run) {
            let ecosystem = build.ecosystem;
            let ships = match ecosystem {
                Ecosystem::Node => !last_prune.after(r, build.step),
                Ecosystem::Native | Ecosystem::Python => {
                    base_toolchains.contains(&Ecosystem::Native)
                        || installed_up_to(r, &|t| t == BuildTool::Compiler)
                }
                _ => {
                    base_toolchains.contains(&ecosystem)
                        || installed_up_to(r, &|t| t == BuildTool::Toolchain(ecosystem))
                }
            };
            if ships {
                out.push(ShippedBuild { run, build });
            }
        }
        // Python packages installed with compilers the file installed itself: wheels built
        // from sdists, with the compilers left in the image.
        if installed_up_to(r, &|t| t == BuildTool::Compiler) {
            for step in python_installs(run) {
                if !out
                    .iter()
                    .any(|b| std::ptr::eq(b.run, *run) && b.build.step == step)
                {
                    out.push(ShippedBuild {
                        run,
                        build: BuildStep {
                            step,
                            ecosystem: Ecosystem::Python,
                            label: python_label(run, step),
                            output: None,
                        },
                    });
                }
            }
        }
    }
    out.sort_by_key(|b| (b.run.instruction, b.build.step));
    out
}

fn python_label(run: &Run, step: usize) -> String {
    let Some(script) = &run.script else {
        return "pip install".into();
    };
    let step = &run.effects.steps[step];
    let sub = step
        .args(script)
        .iter()
        .find(|w| !w.value.starts_with('-'))
        .map(|w| w.value.clone())
        .unwrap_or_default();
    format!("{} {sub}", basename(&step.name)).trim().to_string()
}

/// How a program of each ecosystem is best shipped, for the advice.
fn runtime_advice(ecosystem: Ecosystem) -> &'static str {
    match ecosystem {
        Ecosystem::Go => "a static binary (CGO_ENABLED=0) on gcr.io/distroless/static-debian12, scratch or alpine",
        Ecosystem::Rust => "the release binary on debian:<suite>-slim (the builder's release) or gcr.io/distroless/cc-debian12",
        Ecosystem::Node => "the production dependencies and the build output on the -slim image (Next.js: `output: 'standalone'`)",
        Ecosystem::Python => "a virtual environment built with the compilers, copied onto the -slim image with the runtime libraries",
        Ecosystem::Java => "the jar on eclipse-temurin:<java>-jre",
        Ecosystem::Dotnet => "the published app on mcr.microsoft.com/dotnet/aspnet or /runtime",
        Ecosystem::Native => "the program and its runtime libraries on debian:<suite>-slim",
    }
}

fn report(cx: &mut Ctx, stage: usize, builds: &[ShippedBuild]) {
    let Some(last) = builds.last() else { return };
    let ecosystem = last.build.ecosystem;
    let Some(script) = &last.run.script else {
        return;
    };
    let span = script.commands[last.run.effects.steps[last.build.step].command]
        .span
        .clone();
    let mut labels: Vec<String> = Vec::new();
    for b in builds {
        if !labels.contains(&b.build.label) {
            labels.push(b.build.label.clone());
        }
    }
    let message = format!(
        "this image builds its program (`{}`) and ships {} with it",
        labels.join("`, `"),
        ecosystem.shipped()
    );
    let plan = split::plan(cx, stage, builds);
    let (help, fix) = match plan {
        Ok(split) => (
            format!(
                "build in a builder stage and copy only the result onto `{}`: {}",
                split.runtime,
                split.note
            ),
            Some(split.fix),
        ),
        Err(why) => (
            format!(
                "build in a builder stage and copy only the result into the final one: {}. No fix: {why}",
                runtime_advice(ecosystem)
            ),
            None,
        ),
    };
    let diagnostic = cx.report(span, message).help(help);
    for b in builds.iter().rev().skip(1).take(3) {
        if let Some(script) = &b.run.script {
            let other = script.commands[b.run.effects.steps[b.build.step].command]
                .span
                .clone();
            diagnostic.label(other, format!("also builds (`{}`)", b.build.label));
        }
    }
    if let Some(fix) = fix {
        diagnostic.fix(fix);
    }
}
