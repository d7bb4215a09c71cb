//! Weight files in the build context that `.dockerignore` does not keep out: every build
//! sends them to the builder, and a broad COPY puts them in a layer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::context::{self, human_bytes, Entry};
use crate::syntax::dockerignore;
use crate::model::models::is_weight_file;
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};
use crate::syntax::dockerfile::Keyword;

pub struct ModelWeightsInContext;

static META: Meta = Meta {
    name: "model-weights-in-context",
    family: "models",
    severity: Severity::Warning,
    fix: FixAvailability::None,
    aliases: &[],
    doc: include_str!("model_weights_in_context.md"),
};

/// At most this many files are named in one message.
const NAMED: usize = 3;

impl Rule for ModelWeightsInContext {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        let Some(dir) = cx.context_dir() else {
            return;
        };
        let dockerfile = (cx.file.path.as_os_str() != "-").then_some(cx.file.path.as_path());
        let Some(sent) = sent_weights(&dir, dockerfile) else {
            return;
        };
        let mut weights: Vec<&Entry> = sent.entries.iter().collect();
        if weights.is_empty() {
            return;
        }
        weights.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
        let copied_by = |path: &str| cx.model.copies.iter().find(|c| c.covers(path));
        let (copied, idle): (Vec<&Entry>, Vec<&Entry>) =
            weights.iter().partition(|e| copied_by(&e.path).is_some());
        let total: u64 = weights.iter().map(|e| e.bytes).sum();
        let mut list: Vec<String> = weights
            .iter()
            .take(NAMED)
            .map(|e| format!("{} ({})", e.path, human_bytes(e.bytes)))
            .collect();
        if weights.len() > NAMED {
            list.push(format!("{} more", weights.len() - NAMED));
        }
        let files = if weights.len() == 1 { "file" } else { "files" };
        let message = format!(
            "the build context sends {} weight {files} ({}): {}",
            weights.len(),
            human_bytes(total),
            list.join(", ")
        );
        let mut help = Vec::new();
        if !idle.is_empty() {
            let lines: Vec<&str> = idle.iter().map(|e| e.path.as_str()).collect();
            help.push(format!(
                "no COPY or ADD of this Dockerfile uses {}: add {} to {} so builds stop sending {}",
                if idle.len() == 1 { "it" } else { "them" },
                lines.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(", "),
                dockerignore_name(sent.dockerignore.as_deref()),
                if idle.len() == 1 { "it" } else { "them" },
            ));
        }
        if !copied.is_empty() {
            help.push(
                "COPY puts the weights in a layer of the image: mount them at run time (a volume), \
                 or download them in a dedicated stage and `COPY --from=` only the files needed"
                    .to_string(),
            );
        }
        // Where the weights enter the image, else the first FROM.
        let first_copy = copied
            .first()
            .and_then(|e| copied_by(&e.path))
            .and_then(|c| cx.df.instructions.get(c.instruction));
        let at = first_copy
            .or_else(|| cx.df.instructions.iter().find(|i| i.keyword == Keyword::From))
            .map(|i| i.span.start..i.line_end);
        let Some(span) = at else {
            return;
        };
        cx.report(span, message).help(help.join("; "));
    }
}

/// The weight files a context sends under one `.dockerignore`.
struct SentWeights {
    entries: Vec<Entry>,
    dockerignore: Option<PathBuf>,
}

type Scans = Mutex<HashMap<(PathBuf, Option<PathBuf>), Option<Arc<SentWeights>>>>;

/// Dockerfiles of one directory share their context: it is walked once per context and
/// `.dockerignore`. `None` when the context cannot be read (reported by `docklint context`).
fn sent_weights(dir: &Path, dockerfile: Option<&Path>) -> Option<Arc<SentWeights>> {
    static SCANS: std::sync::OnceLock<Scans> = std::sync::OnceLock::new();
    let key = (dir.to_path_buf(), dockerignore::locate(dockerfile, dir));
    let scans = SCANS.get_or_init(Scans::default);
    if let Some(found) = scans.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
        return found.clone();
    }
    let found = context::scan(dir, dockerfile).ok().map(|report| {
        Arc::new(SentWeights {
            entries: report.sent.into_iter().filter(|e| is_weight_file(&e.path)).collect(),
            dockerignore: report.dockerignore,
        })
    });
    scans
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, found.clone());
    found
}

fn dockerignore_name(path: Option<&Path>) -> String {
    match path.and_then(|p| p.file_name()) {
        Some(name) => format!("`{}`", name.to_string_lossy()),
        None => "a `.dockerignore` at the root of the context".to_string(),
    }
}
