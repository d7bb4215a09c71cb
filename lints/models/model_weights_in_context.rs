//! Model weights (`.safetensors`, `.gguf`, `.pt`, `.onnx`, ...) of at least 1 MiB in the
//! build context that `.dockerignore` does not exclude, with their sizes. Those a COPY, ADD
//! or bind mount reaches are sent on every build (and a COPY puts them in a layer); those
//! nothing reaches are still uploaded by builders that send the whole context (the legacy
//! builder, buildah/podman, kaniko). The fix excludes only the weights nothing reaches.

use crate::context::{human_bytes, reads, BuildContext, Entry};
use crate::fix::{Applicability, Fix};
use crate::model::context_reads::has_wildcard;
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};
use crate::syntax::dockerfile::Keyword;

pub struct ModelWeightsInContext;

static META: Meta = Meta {
    name: "model-weights-in-context",
    family: "models",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    aliases: &[],
    doc: include_str!("model_weights_in_context.md"),
};

/// Weights named in one list of the message.
const SHOWN: usize = 3;

impl Rule for ModelWeightsInContext {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        let Some(context) = cx.sent_context() else {
            return;
        };
        let mut weights: Vec<&Entry> = context.index().weights.iter().collect();
        if weights.is_empty() {
            return;
        }
        weights.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
        let Some(reach) = reads::reach(cx) else {
            return;
        };
        let (used, unused): (Vec<&Entry>, Vec<&Entry>) =
            weights.iter().partition(|w| reach.covers(&w.path));
        let total: u64 = weights.iter().map(|w| w.bytes).sum();
        let message = format!(
            "the build context holds {} of model weights that .dockerignore does not exclude: {}",
            human_bytes(total),
            listing(&weights)
        );
        let mut help = Vec::new();
        // Where the weights enter the build, else the first FROM.
        let entry = used
            .first()
            .and_then(|w| reads::first_reaching(context, cx.model, &w.path));
        if let Some(source) = entry {
            help.push(format!(
                "`{}` sends {} on every build, and a COPY or ADD puts {it} in a layer: download weights at run time into a volume, or in a download stage with a cache mount and `COPY --from` of just the files",
                source.written,
                listing(&used),
                it = pronoun(used.len()),
            ));
        }
        if !unused.is_empty() {
            help.push(format!(
                "nothing in this Dockerfile uses {}: BuildKit leaves {it} out, but the legacy builder, buildah/podman and kaniko upload the whole context; exclude {it} in the .dockerignore",
                listing(&unused),
                it = pronoun(unused.len()),
            ));
        }
        let span = match entry {
            Some(source) => source.span.clone(),
            None => match cx
                .df
                .instructions
                .iter()
                .find(|i| i.keyword == Keyword::From)
            {
                Some(from) => from.span.start..from.line_end,
                None => return,
            },
        };
        let lines = exclusion_lines(context, cx, &unused, reach.unknown);
        let applicability = applicability(context, cx);
        let diagnostic = cx.report(span, message).help(help.join("; "));
        if !lines.is_empty() {
            let edit = context.append_to_dockerignore(&lines);
            let title = format!(
                "Add {} to {}",
                lines.join(", "),
                context.display(&edit.path)
            );
            diagnostic.fix(Fix::on_file(title, applicability, edit));
        }
    }
}

fn pronoun(count: usize) -> &'static str {
    if count == 1 {
        "it"
    } else {
        "them"
    }
}

/// `a` (3.2 GiB), `b` (1.0 GiB) and 2 more.
fn listing(weights: &[&Entry]) -> String {
    let mut listed: Vec<String> = weights
        .iter()
        .take(SHOWN)
        .map(|w| format!("`{}` ({})", w.path, human_bytes(w.bytes)))
        .collect();
    if weights.len() > SHOWN {
        listed.push(format!("{} more", weights.len() - SHOWN));
    }
    match listed.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => listed.concat(),
    }
}

/// One line per unused weight, its path as a literal pattern; none when a source's reach
/// is unknown (a wildcard given up on may read any of them). Paths that would read as
/// patterns or comments are left to the author.
fn exclusion_lines(
    context: &BuildContext,
    cx: &Ctx,
    unused: &[&Entry],
    unknown: bool,
) -> Vec<String> {
    if unknown {
        return Vec::new();
    }
    let lines: Vec<String> = unused
        .iter()
        .map(|w| w.path.clone())
        .filter(|p| {
            !has_wildcard(p)
                && !p.contains('\\')
                && !p.starts_with(['#', '!'])
                && !p.contains(char::is_whitespace)
        })
        .collect();
    let named = reads::named_paths(context, cx.model);
    reads::sparing(context, lines, &named)
}

/// Safe when the `.dockerignore` is this Dockerfile's own (`Dockerfile.dockerignore`):
/// nothing this Dockerfile reads is excluded, so its image is the same. A shared
/// `.dockerignore` also serves the other Dockerfiles built from the context, which may copy
/// the weights.
fn applicability(context: &BuildContext, cx: &Ctx) -> Applicability {
    let own = context.dockerignore().is_some_and(|f| {
        let name = f.path.file_name().map(|n| n.to_string_lossy().into_owned());
        let dockerfile = cx
            .file
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        matches!((name, dockerfile), (Some(n), Some(d)) if n == format!("{d}.dockerignore"))
    });
    if own {
        Applicability::Safe
    } else {
        Applicability::Unsafe
    }
}
