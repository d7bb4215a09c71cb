//! Build tools installed into a final image: compilers, headers, language toolchains, and
//! the git that fetched sources. What a RUN installs and what removes it again is the
//! model's (`model::packages`); which stages end up in a final image too
//! (`Model::stages_reaching_final`).

use std::collections::HashSet;

use crate::model::builds::Ecosystem;
use crate::model::families::{is_base_for_others, is_dev_environment};
use crate::model::packages::{self, build_tool, runtime_library, BuildTool, Installed};
use crate::model::{image_programs, Run};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};
use crate::source::Span;

pub struct BuildToolsInFinalStage;

static META: Meta = Meta {
    name: "build-tools-in-final-stage",
    family: "stages",
    severity: Severity::Warning,
    fix: FixAvailability::None,
    aliases: &[],
    doc: include_str!("build_tools_in_final_stage.md"),
};

impl Rule for BuildToolsInFinalStage {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        if is_dev_environment(&cx.file.path, cx.model) {
            return;
        }
        let mut seen: HashSet<(Span, String)> = HashSet::new();
        for stage in cx.model.final_stages(&cx.settings.targets) {
            let runs = cx.model.runs_in_image(stage);
            let program_runs = image_programs(cx.df, cx.model, stage);
            if is_base_for_others(cx.df, cx.model, stage) {
                continue;
            }
            let fetches = runs.iter().any(|r| runs_git_fetch(cx, r));
            let mut by_command: Vec<(Span, Vec<(Installed, BuildTool)>)> = Vec::new();
            for installed in packages::installed(&runs) {
                let Some(tool) = build_tool(&installed.package.name) else {
                    continue;
                };
                // `$PHPIZE_DEPS`: offered to the images built on this one, on purpose.
                if installed.package.published {
                    continue;
                }
                if tool == BuildTool::Fetch && !fetches {
                    continue;
                }
                // A tool the image runs (`CMD ["make", "serve"]`) is the image's purpose.
                if program_runs
                    .iter()
                    .any(|p| package_provides(&installed.package.name, p))
                {
                    continue;
                }
                if !seen.insert((
                    installed.package.span.clone(),
                    installed.package.name.clone(),
                )) {
                    continue;
                }
                match by_command.iter_mut().find(|(c, _)| *c == installed.command) {
                    Some((_, list)) => list.push((installed, tool)),
                    None => by_command.push((installed.command.clone(), vec![(installed, tool)])),
                }
            }
            for (command, tools) in by_command {
                report(cx, command, &tools);
            }
        }
    }
}

/// Whether the package installs the program (`make` installs `make`, `gcc-12` installs `gcc`).
fn package_provides(package: &str, program: &str) -> bool {
    package == program
        || package.strip_prefix(program).is_some_and(|r| {
            r.starts_with('-') && r[1..].chars().all(|c| c.is_ascii_digit() || c == '.')
        })
        || (package == "golang-go" && program == "go")
        || (package == "build-essential" && matches!(program, "gcc" | "g++" | "make" | "cc"))
}

/// Whether the RUN clones or fetches with git.
fn runs_git_fetch(cx: &Ctx, run: &Run) -> bool {
    let _ = cx;
    let Some(script) = &run.script else {
        return false;
    };
    run.effects.steps.iter().any(|step| {
        crate::model::commands::basename(&step.name) == "git"
            && step
                .args(script)
                .iter()
                .find(|w| !w.value.starts_with('-'))
                .is_some_and(|w| {
                    matches!(
                        w.value.as_str(),
                        "clone" | "fetch" | "pull" | "submodule" | "checkout" | "archive"
                    )
                })
    })
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn describe(tool: BuildTool) -> String {
    match tool {
        BuildTool::Compiler => "compilers".into(),
        BuildTool::Headers => "headers".into(),
        BuildTool::Toolchain(Ecosystem::Java) => "a JDK and its build tools".into(),
        BuildTool::Toolchain(e) => format!("the {} toolchain", e.name()),
        BuildTool::Fetch => "a VCS client the build fetches sources with".into(),
    }
}

fn report(cx: &mut Ctx, command: Span, tools: &[(Installed, BuildTool)]) {
    let names: Vec<&str> = tools.iter().map(|(i, _)| i.package.name.as_str()).collect();
    let mut kinds: Vec<String> = Vec::new();
    for (_, tool) in tools {
        let kind = describe(*tool);
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    let listed = match names.as_slice() {
        [one] => format!("`{one}` stays"),
        many => format!(
            "{} stay",
            many.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let libraries: Vec<String> = tools
        .iter()
        .filter(|(_, t)| *t == BuildTool::Headers)
        .filter_map(|(i, _)| {
            let lib = runtime_library(i.manager, &i.package.name)??;
            Some(format!("`{lib}` for `{}`", i.package.name))
        })
        .collect();
    let mut help = "install them in a builder stage, build there, and copy only the result into the final stage (`missing-multistage-split` rewrites Go, Rust, Node and Python builds that way); or remove them at the end of the RUN that uses them (a later RUN does not shrink the image)".to_string();
    if !libraries.is_empty() {
        help.push_str(&format!(
            ". At run time the program needs only the libraries: {}",
            libraries.join(", ")
        ));
    }
    // The package words (a `$buildDeps` word stands for several).
    let first = tools
        .iter()
        .map(|(i, _)| i.package.span.start)
        .min()
        .unwrap_or(command.start);
    let last = tools
        .iter()
        .map(|(i, _)| i.package.span.end)
        .max()
        .unwrap_or(command.end);
    cx.report(
        first..last,
        format!(
            "{listed} in the final image: {}, needed to build but not to run",
            join_and(&kinds)
        ),
    )
    .help(help);
}
