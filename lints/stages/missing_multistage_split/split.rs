//! The two-stage rewrite of a single-stage file whose build docklint recognises.
//!
//! The original stage becomes the builder (`AS build`), up to the RUN that makes the
//! artefact. A runtime stage is inserted after it, on a lighter image, with what the
//! program needs to run, in the original order: the ARGs, a package install of the
//! runtime libraries (the packages the file installed, without the build tools, `-dev`
//! packages replaced by their libraries), ENV, WORKDIR, USER and the RUNs that create
//! accounts, LABEL / EXPOSE / CMD / ENTRYPOINT / HEALTHCHECK (moved there), then the
//! artefacts copied from the builder. The instructions after the build stay where they are
//! and so end the runtime stage.
//!
//! Artefacts, by ecosystem:
//! - Go: the binary the image runs, found among the outputs of `go build -o` / `go
//!   install` (or a RUN that copies one), built static (`CGO_ENABLED=0`) onto
//!   gcr.io/distroless/static-debian12 when the runtime needs no shell, else onto the
//!   builder's distribution;
//! - Rust: the binary the image runs, from `cargo build`'s target directory or `cargo
//!   install`'s root, onto the slim image of the builder's Debian release (pinned in the
//!   builder's tag when it names none: the binary links the builder's glibc);
//! - Node.js: the working directory of the build after `npm prune --omit=dev` (or the
//!   manager's equivalent), onto the `-slim` image; Next.js with `output: 'standalone'`:
//!   the standalone server, its static files and `public/`;
//! - Python: a virtual environment at /opt/venv that pip installs into, onto the `-slim`
//!   image, with the sources the file copied.

use std::path::Path;

use super::ShippedBuild;
use crate::fix::{line_start, next_line_start, Edit, Fix};
use crate::model::builds::{arg_values, Ecosystem, Output};
use crate::model::commands::basename;
use crate::model::effects::PathKind;
use crate::model::families::{self, alpine_of, suite_of, with_tag, Weight};
use crate::model::packages::{self, build_tool, runtime_library, BuildTool};
use crate::model::paths::{resolve_path, PathPattern};
use crate::model::{copies, image_account, Run};
use crate::rule::Ctx;
use crate::syntax::dockerfile::{Args, Command, Instruction, Keyword};

/// The rewrite, and what to say about it.
pub struct Split {
    pub fix: Fix,
    /// The runtime stage's image.
    pub runtime: String,
    /// What the fix does, for the help text.
    pub note: String,
}

/// Where the virtual environment of the Python rewrite goes.
const VENV: &str = "/opt/venv";

/// The directories every runtime image has on PATH.
const BIN_DIRS: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// Programs of RUNs that only set up accounts.
const ACCOUNT_PROGRAMS: &[&str] = &["useradd", "adduser", "groupadd", "addgroup", "usermod"];
const SETUP_PROGRAMS: &[&str] = &["mkdir", "chown", "chmod", "ln", "true"];

/// The rewrite of the single stage `stage` whose shipped builds are `builds`; why there is
/// none otherwise.
pub fn plan(cx: &Ctx, stage: usize, builds: &[ShippedBuild]) -> Result<Split, String> {
    let model = cx.model;
    if model.stages.len() != 1 {
        return Err(
            "the file already has several stages: build in one the final stage copies from".into(),
        );
    }
    let st = &model.stages[stage];
    if st.windows {
        return Err("a Windows stage".into());
    }
    let last = builds.last().ok_or("nothing builds")?;
    let ecosystem = last.build.ecosystem;
    if builds.iter().any(|b| b.build.ecosystem != ecosystem) {
        return Err("it builds with several toolchains".into());
    }
    if !matches!(
        ecosystem,
        Ecosystem::Go | Ecosystem::Rust | Ecosystem::Node | Ecosystem::Python
    ) {
        return Err(format!(
            "docklint rewrites Go, Rust, Node.js and Python builds, not {}",
            ecosystem.name()
        ));
    }
    let base = st
        .base_expanded
        .clone()
        .ok_or("the base image is a variable docklint cannot tell")?;
    let instructions = &cx.df.instructions[st.instructions.clone()];
    if let Some(i) = instructions.iter().find(|i| {
        matches!(
            i.keyword,
            Keyword::Onbuild | Keyword::Shell | Keyword::Unknown
        )
    }) {
        return Err(format!(
            "the stage has {} instructions",
            i.keyword.name().to_ascii_uppercase()
        ));
    }
    let mut rewrite = Rewrite::new(cx, base, builds);
    match ecosystem {
        Ecosystem::Go | Ecosystem::Rust => rewrite.binary(ecosystem)?,
        Ecosystem::Node => rewrite.node()?,
        _ => rewrite.python()?,
    }
    rewrite.finish()
}

/// The rewrite being planned.
struct Rewrite<'a, 'm> {
    cx: &'a Ctx<'m>,
    base: String,
    builds: &'a [ShippedBuild<'m>],
    /// Instruction index of the last instruction of the builder.
    end: usize,
    runtime: String,
    /// Edits inside the builder (pinning its tag, inserted lines).
    edits: Vec<Edit>,
    /// `COPY --from=build` lines of the runtime stage: (source, destination).
    artefacts: Vec<(String, String)>,
    /// Lines after the artefacts (Python's PATH).
    after_artefacts: Vec<String>,
    /// Lines at the end of the builder (Node's prune).
    builder_tail: Vec<String>,
    /// Context COPY/ADD instructions go to the runtime too (Python runs its sources).
    runtime_needs_sources: bool,
    /// Extra runtime packages (`ca-certificates` for a binary on a bare distribution).
    extra_packages: Vec<&'static str>,
    /// The runtime can run no RUN (distroless).
    shell_less: bool,
    /// A CMD to use instead of the original (Next.js standalone).
    command: Option<String>,
    note: String,
}

impl<'a, 'm> Rewrite<'a, 'm> {
    fn new(cx: &'a Ctx<'m>, base: String, builds: &'a [ShippedBuild<'m>]) -> Self {
        let end = builds.iter().map(|b| b.run.instruction).max().unwrap_or(0);
        Rewrite {
            cx,
            base,
            builds,
            end,
            runtime: String::new(),
            edits: Vec::new(),
            artefacts: Vec::new(),
            after_artefacts: Vec::new(),
            builder_tail: Vec::new(),
            runtime_needs_sources: false,
            extra_packages: Vec::new(),
            shell_less: false,
            command: None,
            note: String::new(),
        }
    }

    fn stage_instructions(&self) -> impl Iterator<Item = (usize, &'m Instruction)> + '_ {
        let range = self.cx.model.stages[0].instructions.clone();
        let df = self.cx.df;
        range.map(move |n| (n, &df.instructions[n]))
    }

    fn first_from(&self) -> &'m Instruction {
        &self.cx.df.instructions[self.cx.model.stages[0].from]
    }

    /// The program the image runs: ENTRYPOINT's, else CMD's (exec or shell form).
    fn image_program(&self) -> Result<String, String> {
        let mut entrypoint = None;
        let mut cmd = None;
        for (_, instruction) in self.stage_instructions() {
            match &instruction.args {
                Args::Entrypoint(c) => entrypoint = Some(instruction.command_of(c)),
                Args::Cmd(c) => cmd = Some(instruction.command_of(c)),
                _ => {}
            }
        }
        let command = entrypoint
            .or(cmd)
            .ok_or("the image has no CMD or ENTRYPOINT to find its program by")?;
        let first = match command {
            Command::Exec(argv) => argv.first().map(|a| a.as_str().to_string()),
            Command::Shell(body) => body.as_str().split_whitespace().next().map(str::to_string),
            Command::Script { .. } => None,
        }
        .ok_or("the image's command is empty")?;
        if crate::model::commands::is_posix_shell(&first) || first.contains('$') {
            return Err(format!(
                "the image's command runs `{first}`, not the program it builds"
            ));
        }
        if matches!(basename(&first), "go" | "cargo" | "rustc") {
            return Err(format!("the image's command runs the toolchain (`{first}`): build the program and run that instead"));
        }
        Ok(first)
    }

    /// Whether the runtime needs a shell: a shell-form CMD, ENTRYPOINT or HEALTHCHECK, a RUN
    /// after the build, or RUNs the runtime repeats.
    fn needs_shell(&self) -> bool {
        self.stage_instructions().any(|(n, i)| match &i.args {
            Args::Cmd(c) | Args::Entrypoint(c) | Args::Healthcheck(Some(c)) => {
                matches!(i.command_of(c), Command::Shell(_))
            }
            Args::Run(_) => n > self.end || self.account_run(n),
            _ => false,
        })
    }

    /// A RUN (before the end of the builder) that creates accounts and does nothing but set
    /// up accounts and directories: the runtime repeats it.
    fn account_run(&self, n: usize) -> bool {
        if n >= self.end {
            return false;
        }
        let Some(run) = self.cx.model.run_at(n) else {
            return false;
        };
        let names: Vec<&str> = run
            .effects
            .steps
            .iter()
            .map(|s| basename(&s.name))
            .collect();
        !names.is_empty()
            && names.iter().any(|p| ACCOUNT_PROGRAMS.contains(p))
            && names
                .iter()
                .all(|p| ACCOUNT_PROGRAMS.contains(p) || SETUP_PROGRAMS.contains(p))
    }

    /// Go and Rust: the binary the image runs, copied onto a runtime image.
    fn binary(&mut self, ecosystem: Ecosystem) -> Result<(), String> {
        let program = self.image_program()?;
        let (source, destination, producer) = self.find_binary(&program)?;
        self.end = self.end.max(producer);
        let cgo = self.cgo()?;
        let static_binary = ecosystem == Ecosystem::Go && cgo != Some(true);
        if static_binary && cgo.is_none() {
            let first = self
                .builds
                .iter()
                .map(|b| b.run.instruction)
                .min()
                .unwrap_or(self.end);
            let at = line_start(
                &self.cx.file.text,
                self.cx.df.instructions[first].span.start,
            );
            let newline = self.cx.file.newline();
            self.edits
                .push(Edit::insert(at, format!("ENV CGO_ENABLED=0{newline}")));
        }
        if static_binary && !self.needs_shell() && self.runtime_packages()?.is_empty() {
            self.runtime = "gcr.io/distroless/static-debian12".into();
            self.shell_less = true;
            self.note = format!(
                "the fix builds `{program}` static (CGO_ENABLED=0) and copies it onto distroless, which has CA certificates and time zones but no shell"
            );
        } else {
            self.runtime = self.distribution(!static_binary)?;
            if alpine_of(&self.base).is_none() {
                self.extra_packages.push("ca-certificates");
            }
            self.note = format!("the fix copies `{program}` onto the builder's distribution, with the libraries it installed");
        }
        self.artefacts.push((source, destination));
        Ok(())
    }

    /// `CGO_ENABLED` for the Go builds: `Some(true)` when set to 1, `Some(false)` to 0.
    fn cgo(&self) -> Result<Option<bool>, String> {
        let mut value = None;
        for b in self.builds {
            let step = &b.run.effects.steps[b.build.step];
            match step.env.get("CGO_ENABLED") {
                None => {}
                Some(crate::model::Value::Known(v)) => value = Some(v == "1"),
                Some(crate::model::Value::Unknown) => {
                    return Err("CGO_ENABLED comes from a build argument".into())
                }
            }
        }
        Ok(value)
    }

    /// The slim image of the builder's distribution; `dynamic`: the binary links the
    /// builder's C library, so a builder tag without a release gets one pinned.
    fn distribution(&mut self, dynamic: bool) -> Result<String, String> {
        if let Some(version) = alpine_of(&self.base) {
            let version = if version.is_empty() { "3" } else { version };
            return Ok(format!("alpine:{version}"));
        }
        let ubuntu = [("focal", "20.04"), ("jammy", "22.04"), ("noble", "24.04")];
        match suite_of(&self.base) {
            Some(suite) => Ok(match ubuntu.iter().find(|(s, _)| *s == suite) {
                Some((_, version)) => format!("ubuntu:{version}"),
                None => format!("debian:{suite}-slim"),
            }),
            None => {
                if dynamic {
                    self.pin_release("bookworm")?;
                }
                Ok("debian:bookworm-slim".into())
            }
        }
    }

    /// Pins the builder's tag to a Debian release (`rust:1.78` → `rust:1.78-bookworm`).
    fn pin_release(&mut self, suite: &str) -> Result<(), String> {
        let from = self.first_from();
        let Args::From(from_args) = &from.args else {
            return Err("the FROM line does not parse".into());
        };
        let image = &from_args.image;
        if image.value.contains('$') || image.value.contains('@') {
            return Err("the builder's image names no Debian release, and docklint cannot pin one in its reference".into());
        }
        let (_, tag) = families::repository_and_tag(&image.value);
        let tag = match tag {
            "" | "latest" => suite.to_string(),
            t => format!("{t}-{suite}"),
        };
        self.edits.push(Edit::replace(
            image.span.clone(),
            with_tag(&image.value, &tag),
        ));
        self.base = with_tag(&self.base, &tag);
        Ok(())
    }

    /// The file the image's `program` is, where the builder makes it: (source in the
    /// builder, destination in the runtime, instruction that makes it).
    fn find_binary(&self, program: &str) -> Result<(String, String, usize), String> {
        let bare = !program.contains('/');
        let workdir = self
            .cx
            .model
            .workdir_at(self.cx.model.stages[0].instructions.end - 1);
        let wanted = resolve_path(workdir, program);
        let name = basename(program);
        let first_build = self
            .builds
            .iter()
            .map(|b| b.run.instruction)
            .min()
            .unwrap_or(0);
        let mut found: Option<(String, usize)> = None;
        for b in self.builds {
            let install = b.build.label.ends_with("install");
            let candidate = match &b.build.output {
                Some(Output::File(f)) if (bare && basename(f) == name) || *f == wanted => {
                    Some(f.clone())
                }
                Some(Output::Dir(d)) if bare && install => {
                    Some(format!("{}/{name}", d.trim_end_matches('/')))
                }
                Some(Output::Dir(d)) if !bare && parent(&wanted) == d.trim_end_matches('/') => {
                    Some(wanted.clone())
                }
                _ => None,
            };
            if let Some(c) = candidate {
                found = Some((c, b.run.instruction));
            }
        }
        // A RUN at or after the build that copies it into place.
        for run in self
            .cx
            .model
            .runs
            .iter()
            .filter(|r| r.instruction >= first_build)
        {
            for effect in &run.effects.paths {
                let PathPattern::Exact(path) = &effect.path else {
                    continue;
                };
                let hit = match effect.kind {
                    PathKind::Write { .. } => {
                        (bare && basename(path) == name && BIN_DIRS.contains(&parent(path)))
                            || *path == wanted
                    }
                    PathKind::WriteInside { .. } => {
                        (bare && BIN_DIRS.contains(&path.trim_end_matches('/')))
                            || parent(&wanted) == path.trim_end_matches('/')
                    }
                    _ => false,
                };
                if hit
                    && matches!(
                        effect.kind,
                        PathKind::Write { .. } | PathKind::WriteInside { .. }
                    )
                {
                    let file = if matches!(effect.kind, PathKind::WriteInside { .. }) && bare {
                        format!("{}/{name}", path.trim_end_matches('/'))
                    } else if matches!(effect.kind, PathKind::WriteInside { .. }) {
                        wanted.clone()
                    } else {
                        path.clone()
                    };
                    found = Some((file, run.instruction));
                }
            }
        }
        let (source, producer) = found.ok_or_else(|| {
            format!("docklint cannot see which output of the build is `{program}`, the program the image runs")
        })?;
        let destination = if bare {
            format!("/usr/local/bin/{name}")
        } else {
            source.clone()
        };
        Ok((source, destination, producer))
    }

    /// Node.js: the build's working directory without development dependencies, or
    /// Next.js's standalone server.
    fn node(&mut self) -> Result<(), String> {
        let last = self.builds.last().ok_or("nothing builds")?;
        let step = &last.run.effects.steps[last.build.step];
        let cwd = step
            .cwd
            .as_deref()
            .ok_or("the build's working directory is unknown")?
            .to_string();
        if cwd == "/" {
            return Err(
                "the build runs in `/`: set a WORKDIR so the runtime can copy the project".into(),
            );
        }
        self.runtime = self.lighter_or_same();
        let program = self.image_program()?;
        let runs_node = matches!(
            basename(&program),
            "node" | "nodejs" | "npm" | "yarn" | "pnpm" | "npx" | "bun"
        );
        if !runs_node && !crate::model::path_is_within(&resolve_path(&cwd, &program), &cwd) {
            return Err(format!(
                "the image runs `{program}`, which is not in the project"
            ));
        }
        if self.standalone_next(&cwd)? {
            return Ok(());
        }
        let prune = match self.node_manager(last.run) {
            "npm" => {
                let old_npm = families::repository_and_tag(&self.base)
                    .1
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|m| m.parse::<u32>().ok())
                    .is_some_and(|major| major <= 14);
                if old_npm {
                    "npm prune --production"
                } else {
                    "npm prune --omit=dev"
                }
            }
            "pnpm" => "pnpm prune --prod",
            "yarn" => "yarn install --production --ignore-scripts --prefer-offline",
            other => {
                return Err(format!(
                    "docklint does not know how {other} removes development dependencies"
                ))
            }
        };
        self.builder_tail.push(format!("RUN {prune}"));
        self.artefacts.push((cwd.clone(), cwd));
        self.note = format!("the fix removes the development dependencies in the builder (`{prune}`) and copies the project onto the runtime image");
        Ok(())
    }

    /// The package manager of the project: the one that installed its dependencies, else
    /// the one that runs the build.
    fn node_manager(&self, build_run: &Run) -> &'static str {
        let runs = self.cx.model.runs_in_image(0);
        let mut installs = runs
            .iter()
            .flat_map(|r| crate::model::builds::dev_installs(r))
            .map(|i| i.manager.name());
        let by_build = build_run
            .effects
            .steps
            .iter()
            .map(|s| basename(&s.name))
            .find_map(|n| match n {
                "npm" | "npx" => Some("npm"),
                "yarn" | "yarnpkg" => Some("yarn"),
                "pnpm" => Some("pnpm"),
                "bun" => Some("bun"),
                _ => None,
            });
        installs.next_back().or(by_build).unwrap_or("npm")
    }

    /// Next.js with `output: 'standalone'` (read from the context): the standalone server
    /// and its files, run with `node server.js`.
    fn standalone_next(&mut self, cwd: &str) -> Result<bool, String> {
        let Some(context) = self.cx.build_context_dir() else {
            return Ok(false);
        };
        let file = |name: &str| {
            copies::context_file(
                self.cx.model,
                0,
                self.end + 1,
                &format!("{cwd}/{name}"),
                &context,
            )
        };
        let Some(package) = file("package.json") else {
            return Ok(false);
        };
        let uses_next = std::fs::read_to_string(&package)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .is_some_and(|json| {
                json.get("dependencies")
                    .and_then(|d| d.get("next"))
                    .is_some()
            });
        let standalone = [
            "next.config.js",
            "next.config.mjs",
            "next.config.ts",
            "next.config.cjs",
        ]
        .iter()
        .filter_map(|name| file(name))
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .any(|text| is_standalone(&text));
        if !uses_next || !standalone {
            return Ok(false);
        }
        // The standalone server replaces `next start`.
        let program = self.image_program()?;
        let starts = self.stage_instructions().any(|(_, i)| match &i.args {
            Args::Cmd(c) => command_words(i.command_of(c)).is_some_and(|w| is_start(&w)),
            _ => false,
        });
        if !starts
            || self
                .stage_instructions()
                .any(|(_, i)| i.keyword == Keyword::Entrypoint)
        {
            let _ = program;
            return Ok(false);
        }
        self.artefacts
            .push((format!("{cwd}/.next/standalone"), format!("{cwd}/")));
        self.artefacts
            .push((format!("{cwd}/.next/static"), format!("{cwd}/.next/static")));
        let public = package.parent().unwrap_or(Path::new(".")).join("public");
        if public.is_dir() {
            self.artefacts
                .push((format!("{cwd}/public"), format!("{cwd}/public")));
        }
        self.command = Some("CMD [\"node\", \"server.js\"]".into());
        self.note = "the fix copies Next.js's standalone server (`output: 'standalone'`) with its static files onto the runtime image and starts it with `node server.js`".into();
        Ok(true)
    }

    /// Python: pip installs into a virtual environment the runtime copies.
    fn python(&mut self) -> Result<(), String> {
        let mut first_install = None;
        for b in self.builds {
            let Some(script) = &b.run.script else {
                continue;
            };
            let step = &b.run.effects.steps[b.build.step];
            let name = basename(&step.name);
            let pip = name == "pip"
                || name
                    .strip_prefix("pip")
                    .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'));
            let setup_py = crate::model::commands::is_python(name);
            if !(pip || setup_py) || step.name.contains('/') {
                return Err(format!(
                    "`{}` installs outside a virtual environment docklint can move",
                    b.build.label
                ));
            }
            let args = arg_values(step, script);
            if let Some(option) = args.iter().find(|a| {
                matches!(
                    a.as_str(),
                    "--user" | "--target" | "-t" | "--prefix" | "--root" | "--home"
                ) || a.starts_with("--target=")
                    || a.starts_with("--prefix=")
            }) {
                return Err(format!(
                    "pip installs with `{option}`, outside a virtual environment"
                ));
            }
            let at = b.run.instruction;
            first_install = Some(first_install.map_or(at, |f: usize| f.min(at)));
        }
        let first = first_install.ok_or("nothing installs")?;
        if self.cx.model.runs.iter().any(|r| {
            r.effects
                .steps
                .iter()
                .any(|s| matches!(basename(&s.name), "venv" | "virtualenv"))
        }) {
            return Err("the file makes its own virtual environment".into());
        }
        let newline = self.cx.file.newline();
        let at = line_start(
            &self.cx.file.text,
            self.cx.df.instructions[first].span.start,
        );
        self.edits.push(Edit::insert(
            at,
            format!("RUN python3 -m venv {VENV}{newline}ENV PATH=\"{VENV}/bin:$PATH\"{newline}"),
        ));
        self.runtime = self.lighter_or_same();
        self.runtime_needs_sources = true;
        self.artefacts.push((VENV.into(), VENV.into()));
        self.after_artefacts
            .push(format!("ENV PATH=\"{VENV}/bin:$PATH\""));
        self.note = format!("the fix installs into a virtual environment ({VENV}) in the builder and copies it onto the runtime image, with the libraries the packages link");
        Ok(())
    }

    /// The `-slim` tag of a full image, else the builder's image.
    fn lighter_or_same(&self) -> String {
        match families::heavy(&self.base) {
            Some(h) if h.weight == Weight::Full => h.lighter.unwrap_or_else(|| self.base.clone()),
            _ => self.base.clone(),
        }
    }

    /// What the runtime installs: the packages the builder installed that are not build
    /// tools, `-dev` packages replaced by their libraries; with the manager.
    fn runtime_packages(&self) -> Result<Vec<(String, &'static str)>, String> {
        let runs: Vec<&Run> = self
            .cx
            .model
            .runs
            .iter()
            .filter(|r| r.instruction <= self.end)
            .collect();
        let mut out: Vec<(String, &'static str)> = Vec::new();
        for installed in packages::installed(&runs) {
            let name = installed.package.name.clone();
            let package = match build_tool(&name) {
                Some(BuildTool::Headers) => match runtime_library(installed.manager, &name) {
                    Some(Some(library)) => library.to_string(),
                    Some(None) => continue,
                    None => {
                        return Err(format!(
                            "docklint does not know which library `{name}` stands for at run time"
                        ))
                    }
                },
                Some(_) => continue,
                None => name,
            };
            if !matches!(installed.manager, "apt" | "apk") {
                return Err(format!(
                    "docklint writes runtime installs for apt and apk, not {}",
                    installed.manager
                ));
            }
            if package.contains('$') {
                return Err(format!("the packages of `{package}` are not known"));
            }
            if !out.iter().any(|(p, _)| *p == package) {
                out.push((package, installed.manager));
            }
        }
        Ok(out)
    }

    /// The edits, the builder's name, and the runtime stage text.
    fn finish(mut self) -> Result<Split, String> {
        let cx = self.cx;
        let text = &cx.file.text;
        let newline = cx.file.newline();
        let from = self.first_from();
        let Args::From(from_args) = &from.args else {
            return Err("the FROM line does not parse".into());
        };
        let builder = match &from_args.name {
            Some(name) => name.value.clone(),
            None => {
                self.edits.push(Edit::insert(from.line_end, " AS build"));
                "build".into()
            }
        };
        let mut packages = self.runtime_packages()?;
        let manager = packages.first().map_or("apt", |(_, m)| *m);
        for extra in &self.extra_packages {
            if !packages.iter().any(|(p, _)| p == extra) {
                packages.push((extra.to_string(), manager));
            }
        }
        if self.shell_less && !packages.is_empty() {
            return Err("the runtime needs packages but has no package manager".into());
        }
        // Accounts USER names must exist in the runtime.
        for (n, user) in &cx.model.users {
            let repeated = user
                .created_at
                .is_some_and(|c| self.account_run(c) || c > self.end);
            let numeric = user
                .name
                .split(':')
                .next()
                .is_some_and(|u| u.parse::<u32>().is_ok());
            if !(numeric
                || user.is_root() && &*user.name == "root"
                || repeated
                || image_account(&self.runtime, &user.name).is_some())
            {
                return Err(format!(
                    "`USER {}` (line {}) needs an account the runtime would not have",
                    user.name,
                    cx.file.position(cx.df.instructions[*n].span.start).line
                ));
            }
        }
        let mut lines: Vec<String> = Vec::new();
        let mut runtime_only: Vec<usize> = Vec::new();
        for (n, instruction) in self.stage_instructions() {
            if n == cx.model.stages[0].from || n > self.end {
                continue;
            }
            let own = cx.text(instruction.span.clone()).to_string();
            if instruction.keyword == Keyword::Arg {
                lines.push(own);
            }
        }
        match packages.as_slice() {
            [] => {}
            list => {
                let names: Vec<&str> = list.iter().map(|(p, _)| p.as_str()).collect();
                lines.push(match manager {
                    "apk" => format!("RUN apk add --no-cache {}", names.join(" ")),
                    _ => format!(
                        "RUN apt-get update && apt-get install -y --no-install-recommends {} && rm -rf /var/lib/apt/lists/*",
                        names.join(" ")
                    ),
                });
            }
        }
        for (n, instruction) in self.stage_instructions() {
            if n == cx.model.stages[0].from || n > self.end {
                continue;
            }
            let own = cx.text(instruction.span.clone()).to_string();
            let copy_from_context = matches!(instruction.keyword, Keyword::Copy | Keyword::Add)
                && instruction.flag("from").is_none();
            match instruction.keyword {
                Keyword::Env | Keyword::Workdir | Keyword::User => lines.push(own),
                Keyword::Run if self.account_run(n) => lines.push(own),
                Keyword::Copy | Keyword::Add if copy_from_context && self.runtime_needs_sources => {
                    lines.push(own)
                }
                Keyword::Label
                | Keyword::Maintainer
                | Keyword::Expose
                | Keyword::Cmd
                | Keyword::Entrypoint
                | Keyword::Healthcheck
                | Keyword::Stopsignal
                | Keyword::Volume => {
                    runtime_only.push(n);
                    if instruction.keyword == Keyword::Cmd {
                        if let Some(command) = &self.command {
                            lines.push(command.clone());
                            continue;
                        }
                    }
                    lines.push(own);
                }
                _ => {}
            }
        }
        for (source, destination) in &self.artefacts {
            lines.push(format!("COPY --from={builder} {source} {destination}"));
        }
        lines.extend(self.after_artefacts.iter().cloned());
        // The runtime-only instructions leave the builder.
        for &n in &runtime_only {
            let span = &cx.df.instructions[n].span;
            self.edits.push(Edit::delete(
                line_start(text, span.start)..next_line_start(text, span.end),
            ));
        }
        // A replaced CMD after the build.
        if let Some(command) = self.command.clone() {
            let later: Vec<_> = self
                .stage_instructions()
                .filter(|(n, i)| *n > self.end && i.keyword == Keyword::Cmd)
                .map(|(_, i)| i.span.clone())
                .collect();
            for span in later {
                self.edits.push(Edit::replace(span, command.clone()));
            }
        }
        let end_span = &cx.df.instructions[self.end].span;
        let at = next_line_start(text, end_span.end);
        let mut inserted = String::new();
        if !text[..at].ends_with('\n') {
            inserted.push_str(newline);
        }
        for line in &self.builder_tail {
            inserted.push_str(line);
            inserted.push_str(newline);
        }
        inserted.push_str(newline);
        inserted.push_str(&format!("FROM {}{newline}", self.runtime));
        for line in lines {
            inserted.push_str(
                &line
                    .replace('\n', newline)
                    .replace(&format!("\r{newline}"), newline),
            );
            inserted.push_str(newline);
        }
        self.edits.push(Edit::insert(at, inserted));
        Ok(Split {
            fix: Fix::unsafe_(
                format!(
                    "Split into a builder stage and a runtime stage on `{}`",
                    self.runtime
                ),
                self.edits,
            ),
            runtime: self.runtime,
            note: self.note,
        })
    }
}

fn parent(path: &str) -> &str {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) => "/",
        Some((dir, _)) => dir,
        None => "",
    }
}

/// `output: 'standalone'` (or `"standalone"`) in a Next.js configuration.
fn is_standalone(config: &str) -> bool {
    config
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//"))
        .any(|line| {
            line.split_once("output")
                .map(|(_, rest)| {
                    rest.trim_start()
                        .trim_start_matches([':', '='])
                        .trim_start()
                })
                .is_some_and(|value| {
                    value.starts_with("'standalone'") || value.starts_with("\"standalone\"")
                })
        })
}

fn command_words(command: Command) -> Option<Vec<String>> {
    match command {
        Command::Exec(argv) => Some(argv.iter().map(|a| a.as_str().to_string()).collect()),
        Command::Shell(body) => Some(
            body.as_str()
                .split_whitespace()
                .map(str::to_string)
                .collect(),
        ),
        Command::Script { .. } => None,
    }
}

/// `npm start`, `npm run start`, `yarn start`, `pnpm start`, `next start`, `npx next start`.
fn is_start(words: &[String]) -> bool {
    let words: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| !w.starts_with('-'))
        .collect();
    matches!(
        words.as_slice(),
        ["npm" | "yarn" | "pnpm" | "bun", "start"]
            | ["npm" | "yarn" | "pnpm" | "bun", "run", "start"]
            | ["next", "start"]
            | ["npx", "next", "start"]
    )
}
