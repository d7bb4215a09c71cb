//! A heap setting a build command runs with that is larger than the builder's memory.
//!
//! Which variables and options size which heap, and which programs read them, is the
//! model's table (`model::heap`); this rule follows each setting to the RUN commands it
//! reaches and reports it where it is written: the ENV or ARG, the inline assignment, the
//! `export`, or the command's option.

use std::collections::HashSet;

use crate::model::commands::basename;
use crate::model::heap::{self, Runtime, HEAP_VARIABLES};
use crate::model::Run;
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};
use crate::source::Span;
use crate::syntax::dockerfile::Args;

pub struct BuildHeapTooLarge;

static META: Meta = Meta {
    name: "build-heap-too-large",
    family: "build",
    severity: Severity::Warning,
    fix: FixAvailability::None,
    aliases: &[],
    doc: include_str!("build_heap_too_large.md"),
};

/// The memory a builder is assumed to have when lint.toml does not say.
const DEFAULT_BUILDER_MEMORY: u64 = 4 << 30;

impl Rule for BuildHeapTooLarge {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check_options(&self, options: &toml::Table) -> Result<(), String> {
        for (key, value) in options {
            if key != "builder-memory" {
                return Err(format!(
                    "rule `build-heap-too-large` has no option `{key}` (it has `builder-memory`)"
                ));
            }
            if memory_of(value).is_none() {
                return Err(format!(
                    "`builder-memory` must be a size such as \"8GiB\", \"6144MiB\" or a number of bytes, not {value}"
                ));
            }
        }
        Ok(())
    }

    fn check(&self, cx: &mut Ctx) {
        let memory = cx
            .settings
            .rule_options(META.name)
            .and_then(|o| o.get("builder-memory"))
            .and_then(memory_of)
            .unwrap_or(DEFAULT_BUILDER_MEMORY);
        let mut seen: HashSet<Span> = HashSet::new();
        for run in &cx.model.runs {
            for setting in settings_of(cx, run) {
                if setting.bytes <= memory || !seen.insert(setting.span.clone()) {
                    continue;
                }
                let suggestion = match setting.runtime {
                    Runtime::Node => format!("--max-old-space-size={}", (memory * 3 / 4) >> 20),
                    Runtime::Jvm => format!("-Xmx{}m", (memory * 3 / 4) >> 20),
                };
                cx.report(
                    setting.span,
                    format!(
                        "`{}` lets {} grow its heap to {}, more than the builder's {}: the builder runs out of memory before the heap does",
                        setting.text,
                        setting.runtime.name(),
                        heap::human(setting.bytes),
                        heap::human(memory)
                    ),
                )
                .label(setting.reaches, "the build command it reaches")
                .help(format!(
                    "when the builder's memory runs out the kernel kills BuildKit (or its VM), and the client only reports `failed to receive status: rpc error: code = Unavailable desc = error reading from server: EOF`, after the build ran as long as it took to get there. Keep the heap under the builder's memory ({suggestion} for {}), or give the builder more memory and set `builder-memory` under [rules.build-heap-too-large] in lint.toml",
                    heap::human(memory)
                ));
            }
        }
    }
}

/// `"8GiB"`, `"6144MiB"`, `"8g"`, or a number of bytes.
fn memory_of(value: &toml::Value) -> Option<u64> {
    match value {
        toml::Value::String(s) => heap::parse_size(s, 1),
        toml::Value::Integer(n) => u64::try_from(*n).ok(),
        _ => None,
    }
    .filter(|&n| n > 0)
}

/// A heap setting that reaches a command of a RUN.
struct Setting {
    span: Span,
    text: String,
    runtime: Runtime,
    bytes: u64,
    /// The command it reaches.
    reaches: Span,
}

/// The heap settings that reach the commands of `run`, located where they are written.
fn settings_of(cx: &Ctx, run: &Run) -> Vec<Setting> {
    let Some(script) = &run.script else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for step in &run.effects.steps {
        let command = &script.commands[step.command];
        let program = basename(&step.name);
        let Some(runs_on) = heap::runtime_of(program) else {
            continue;
        };
        for &(var, runtime, readers) in HEAP_VARIABLES {
            if !heap::reads(program, runs_on, (runtime, readers)) {
                continue;
            }
            let Some(value) = step.env.known(var) else {
                continue;
            };
            let Some(bytes) = heap::heap_size(runtime, value) else {
                continue;
            };
            let Some((span, text)) = origin(cx, run, command, var, value) else {
                continue;
            };
            out.push(Setting {
                span,
                text,
                runtime,
                bytes,
                reaches: command.span.clone(),
            });
        }
        // Options on the command line, for the runtime the program runs on.
        if !heap::OPTION_READERS.contains(&program) {
            continue;
        }
        let args = step.args(script);
        for (i, word) in args.iter().enumerate() {
            // `node script.js --max-old-space-size=…` and `java -jar app.jar -Xmx…` pass
            // them to the program.
            if program != "gradle"
                && program != "gradlew"
                && (!word.value.starts_with('-') || word.value == "-jar")
            {
                break;
            }
            let next = args.get(i + 1).map_or("", |w| w.value.as_str());
            if let Some(bytes) = heap::heap_size(runs_on, &format!("{} {next}", word.value)) {
                if heap::heap_size(runs_on, next).is_some() {
                    continue;
                }
                out.push(Setting {
                    span: word.span.clone(),
                    text: word.value.to_string(),
                    runtime: runs_on,
                    bytes,
                    reaches: command.span.clone(),
                });
            }
        }
    }
    out
}

/// Where `var` (with `value` at `command`) is set: an assignment before the command, an
/// `export` earlier in the RUN, or the ENV / ARG the RUN inherits.
fn origin(
    cx: &Ctx,
    run: &Run,
    command: &crate::syntax::shell::Command,
    var: &str,
    value: &str,
) -> Option<(Span, String)> {
    let assigns = |w: &crate::syntax::shell::Word| {
        w.value
            .strip_prefix(var)
            .is_some_and(|rest| rest.starts_with('='))
    };
    if let Some(word) = command.env.iter().find(|w| assigns(w)) {
        return Some((word.span.clone(), word.value.to_string()));
    }
    if run.env().known(var) == Some(value) {
        return instruction_origin(cx, run, var, value);
    }
    let script = run.script.as_ref()?;
    let exported = script
        .commands
        .iter()
        .filter(|c| c.span.start < command.span.start && c.program.value == "export")
        .flat_map(|c| &c.args)
        .chain(script.states.iter().filter_map(|s| match &s.kind {
            crate::syntax::shell::StateKind::Assignment(w) if s.span.start < command.span.start => {
                Some(w)
            }
            _ => None,
        }))
        .rfind(|w| assigns(w))?;
    Some((exported.span.clone(), exported.value.to_string()))
}

/// The ENV (or else ARG) instruction of the RUN's stage, or a stage it is built on, that
/// sets `var` last before the RUN.
fn instruction_origin(cx: &Ctx, run: &Run, var: &str, value: &str) -> Option<(Span, String)> {
    let mut stages = Vec::new();
    let mut at = Some(run.stage);
    while let Some(s) = at {
        stages.push(s);
        at = cx.model.stages[s].parent.filter(|&p| p < s);
    }
    for want_env in [true, false] {
        for &s in &stages {
            let range = cx.model.stages[s].instructions.clone();
            let end = run.instruction.min(range.end);
            for n in (range.start..end).rev() {
                let pairs = match &cx.df.instructions[n].args {
                    Args::Env(pairs) if want_env => pairs,
                    Args::Arg(pairs) if !want_env => pairs,
                    _ => continue,
                };
                if let Some(pair) = pairs.iter().rev().find(|p| p.key.value == var) {
                    let text = format!("{var}={value}");
                    return Some((pair.span.clone(), text));
                }
            }
        }
    }
    None
}
