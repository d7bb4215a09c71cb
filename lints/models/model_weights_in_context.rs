//! Model weights (`.safetensors`, `.gguf`, `.pt`, `.onnx`, ...) of at least 1 MiB that the
//! build sends: reached by a COPY, ADD or bind mount and not excluded by `.dockerignore`.
//! Each is uploaded on every build, and a COPY puts it in a layer. The fix excludes the
//! weights no COPY names (only a broad `COPY .` reaches them).

use crate::context::{human_bytes, reads, Entry};
use crate::fix::{Applicability, Fix};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};

pub struct ModelWeightsInContext;

static META: Meta = Meta {
    name: "model-weights-in-context",
    family: "models",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    aliases: &[],
    doc: include_str!("model_weights_in_context.md"),
};

/// Weights named in the message.
const SHOWN: usize = 4;

impl Rule for ModelWeightsInContext {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        let Some(context) = cx.context else { return };
        if context.dockerignore_rejected() {
            return;
        }
        let reach = reads::reach(context, cx.model);
        let sent: Vec<&Entry> = context
            .index()
            .weights
            .iter()
            .filter(|w| reach.covers(&w.path))
            .collect();
        let Some(first) = sent.first() else { return };
        let Some(source) = reads::first_reaching(context, cx.model, &first.path) else {
            return;
        };
        // A source other than the whole context that reaches a weight copies it on purpose.
        let named = reads::named_paths(context, cx.model);
        let unnamed: Vec<String> = sent
            .iter()
            .filter(|w| !named.iter().any(|n| crate::model::path_is_within(&w.path, n)))
            .map(|w| w.path.clone())
            .collect();
        let lines = reads::sparing(context, unnamed, &named);
        let total: u64 = sent.iter().map(|w| w.bytes).sum();
        let mut listed: Vec<String> = sent
            .iter()
            .take(SHOWN)
            .map(|w| format!("`{}` ({})", w.path, human_bytes(w.bytes)))
            .collect();
        if sent.len() > SHOWN {
            listed.push(format!("{} more", sent.len() - SHOWN));
        }
        let message = format!(
            "the build sends {} of model weights from its context: {}",
            human_bytes(total),
            listed.join(", ")
        );
        let help = "weights in the context are uploaded on every build and land in a layer with COPY: download them at run time into a volume, or in a download stage with a cache mount and `COPY --from` of just the files; keep them out with .dockerignore";
        let diagnostic = cx.report(source.span.clone(), message).help(help);
        if !lines.is_empty() {
            let edit = context.append_to_dockerignore(&lines);
            let title = format!("Add {} to {}", lines.join(", "), context.display(&edit.path));
            // The application may load them from the copied tree at run time.
            diagnostic.fix(Fix::on_file(title, Applicability::Unsafe, edit));
        }
    }
}
