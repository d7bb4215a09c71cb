//! A final image built on an SDK, a CUDA `-devel` image or the full variant of an image
//! that has a `-slim` one. The families, their weights and lighter tags are the model's
//! table (`model::families`); what the image's RUNs need from the heavy image is read from
//! the effects.

use crate::fix::{Edit, Fix};
use crate::model::builds::{build_steps, python_installs};
use crate::model::commands::basename;
use crate::model::families::{self, is_dev_environment, Heavy, Weight};
use crate::model::packages;
use crate::model::{image_programs, Run};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};
use crate::syntax::dockerfile::Args;

pub struct HeavyBaseImage;

static META: Meta = Meta {
    name: "heavy-base-image",
    family: "stages",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    aliases: &[],
    doc: include_str!("heavy_base_image.md"),
};

/// Programs the full images (on `buildpack-deps`) have and their `-slim` tags do not.
const FULL_ONLY: &[&str] = &[
    "gcc",
    "g++",
    "cc",
    "c++",
    "make",
    "cmake",
    "git",
    "curl",
    "wget",
    "ssh",
    "scp",
    "hg",
    "svn",
    "bzr",
    "pkg-config",
    "autoconf",
    "automake",
    "libtool",
    "patch",
    "gpg",
    "bzip2",
    "unzip",
    "file",
    "ps",
];

impl Rule for HeavyBaseImage {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        if is_dev_environment(&cx.file.path, cx.model) {
            return;
        }
        let mut seen = Vec::new();
        for stage in cx.model.final_stages(&cx.settings.targets) {
            let root = cx.model.stage_chain(stage)[0];
            if seen.contains(&root) {
                continue;
            }
            seen.push(root);
            // An image without a program of its own, or whose command is a shell, a REPL
            // or a test runner, is built on or worked in: the full image is what it offers.
            if families::is_base_for_others(cx.df, cx.model, stage) {
                continue;
            }
            let st = &cx.model.stages[root];
            let base = st.base_expanded.as_deref().unwrap_or(&st.base);
            let Some(heavy) = families::heavy(base) else {
                continue;
            };
            let runs = cx.model.runs_in_image(stage);
            let builds: Vec<_> = runs.iter().flat_map(|r| build_steps(r)).collect();
            // A build with the SDK's own toolchain in this image: `missing-multistage-split`
            // reports that, with the fix.
            if heavy.weight == Weight::Sdk
                && builds
                    .iter()
                    .any(|b| heavy.toolchains.contains(&b.ecosystem))
            {
                continue;
            }
            let programs = image_programs(cx.df, cx.model, stage);
            report(cx, root, base, &heavy, &runs, &programs);
        }
    }
}

fn report(
    cx: &mut Ctx,
    root: usize,
    base: &str,
    heavy: &Heavy,
    runs: &[&Run],
    programs: &[String],
) {
    let from = &cx.df.instructions[cx.model.stages[root].from];
    let Args::From(from_args) = &from.args else {
        return;
    };
    let image = &from_args.image;
    let blocker = match heavy.weight {
        Weight::Full => uses_full_only(runs, programs),
        Weight::Devel => compiles(runs),
        Weight::Sdk => compiles(runs).or_else(|| uses_sdk(runs, programs)),
    };
    let lighter = heavy.lighter.as_deref();
    let message = format!(
        "the final image is built on `{base}`, {}: {}",
        heavy.what, heavy.advice
    );
    let help = match (lighter, &blocker) {
        (Some(_), None) => "a dependency that compiles from source then needs its build tools: install them in a builder stage and copy the result".to_string(),
        (Some(lighter), Some(why)) => format!(
            "no fix: {why}. Do that in a builder stage on `{base}` and copy the result onto `{lighter}`"
        ),
        (None, _) => "the program needs none of it at run time".to_string(),
    };
    let fix = match (lighter, &blocker) {
        (Some(lighter), None) if !image.value.contains('$') => {
            let replacement = replacement(&image.value, lighter);
            Some(Fix::unsafe_(
                format!("Use `{replacement}`"),
                vec![Edit::replace(image.span.clone(), replacement)],
            ))
        }
        _ => None,
    };
    let diagnostic = cx.report(image.span.clone(), message).help(help);
    if let Some(fix) = fix {
        diagnostic.fix(fix);
    }
}

/// The lighter reference written like the original: the tag replaced when the repository
/// stays (keeping `docker.io/library/` or a registry as written), else the lighter image.
fn replacement(original: &str, lighter: &str) -> String {
    let (repository, tag) = families::repository_and_tag(lighter);
    if families::repository_and_tag(original).0 == repository {
        families::with_tag(original, tag)
    } else {
        lighter.to_string()
    }
}

/// The first program a RUN uses that the full image has and the slim one lacks, unless the
/// image installs it itself.
fn uses_full_only(runs: &[&Run], programs: &[String]) -> Option<String> {
    let installed: Vec<String> = packages::installed(runs)
        .into_iter()
        .map(|i| i.package.name)
        .collect();
    let provides = |program: &str| {
        installed.iter().any(|p| {
            p == program
                || (p == "build-essential"
                    && matches!(program, "gcc" | "g++" | "cc" | "c++" | "make"))
                || (p == "openssh-client" && matches!(program, "ssh" | "scp"))
                || (p == "gnupg" && program == "gpg")
                || (p == "procps" && program == "ps")
                || (p == "mercurial" && program == "hg")
                || (p == "subversion" && program == "svn")
        })
    };
    let in_runs = runs.iter().flat_map(|r| &r.effects.steps).find_map(|step| {
        let name = basename(&step.name);
        (FULL_ONLY.contains(&name) && !provides(name))
            .then(|| format!("a RUN uses `{name}`, which only the full image has"))
    });
    in_runs.or_else(|| {
        programs
            .iter()
            .find(|p| FULL_ONLY.contains(&p.as_str()) && !provides(p))
            .map(|p| format!("the image's command runs `{p}`, which only the full image has"))
    })
}

/// Why the image needs a compiler: it builds, or installs Python packages that may compile
/// extensions against CUDA (`nvcc`, `pip install` of sdists).
fn compiles(runs: &[&Run]) -> Option<String> {
    for run in runs {
        if let Some(step) = run
            .effects
            .steps
            .iter()
            .find(|s| basename(&s.name) == "nvcc")
        {
            let _ = step;
            return Some("a RUN compiles with `nvcc`".into());
        }
        if let Some(build) = build_steps(run).first() {
            return Some(format!("a RUN builds (`{}`)", build.label));
        }
        if !python_installs(run).is_empty() {
            return Some("a RUN installs Python packages, which may compile extensions".into());
        }
    }
    None
}

/// Why the image needs the SDK: a RUN runs its tools.
fn uses_sdk(runs: &[&Run], programs: &[String]) -> Option<String> {
    const SDK_PROGRAMS: &[&str] = &[
        "javac", "jar", "mvn", "mvnw", "gradle", "gradlew", "go", "cargo", "rustc",
    ];
    let in_runs = runs.iter().flat_map(|r| &r.effects.steps).find_map(|step| {
        let name = basename(&step.name);
        (SDK_PROGRAMS.contains(&name) || name == "dotnet").then(|| format!("a RUN runs `{name}`"))
    });
    // `dotnet app.dll` runs on the runtime image; `dotnet run` needs the SDK.
    in_runs.or_else(|| {
        programs
            .windows(2)
            .find(|w| {
                SDK_PROGRAMS.contains(&w[0].as_str())
                    || (w[0] == "dotnet"
                        && matches!(w[1].as_str(), "run" | "watch" | "test" | "build"))
            })
            .or_else(|| {
                programs
                    .last()
                    .filter(|p| SDK_PROGRAMS.contains(&p.as_str()))
                    .map(std::slice::from_ref)
            })
            .map(|w| format!("the image's command runs `{}`", w[0]))
    })
}
