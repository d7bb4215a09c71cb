//! A COPY or ADD source (or a bind mount's) that is not in the build context: the build
//! fails with "not found". Wildcards match what the context holds; one that matches nothing
//! is reported only when the whole instruction copies nothing (a lone `yarn.lock*` among
//! other sources is the usual way to copy a file that may be absent).

use crate::context::BuildContext;
use crate::model::context_reads::{ContextRead, ReadKind};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};

pub struct CopyMissingSource;

static META: Meta = Meta {
    name: "copy-missing-source",
    family: "context",
    severity: Severity::Error,
    fix: FixAvailability::None,
    aliases: &[],
    doc: include_str!("copy_missing_source.md"),
};

impl Rule for CopyMissingSource {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        let Some(context) = cx.sent_context() else {
            return;
        };
        if !is_this_files_context(context, &cx.model.context_reads) {
            return;
        }
        for read in &cx.model.context_reads {
            check_read(cx, context, read);
        }
    }
}

/// Whether the context holds at least one path the Dockerfile names literally (not `.`,
/// not a wildcard, which any directory may happen to match): when none exists, the
/// Dockerfile is built from another directory (a Makefile's, a CI job's) that nothing here
/// names, and reporting every COPY would only say that, many times over.
fn is_this_files_context(context: &BuildContext, reads: &[ContextRead]) -> bool {
    reads
        .iter()
        .flat_map(|read| &read.sources)
        .filter(|source| !source.is_root() && !source.is_wildcard())
        .filter_map(|source| source.path.as_deref())
        .any(|path| context.exists(path))
}

fn check_read(cx: &mut Ctx, context: &BuildContext, read: &ContextRead) {
    let what = match read.kind {
        ReadKind::Copy => "COPY source",
        ReadKind::Add => "ADD source",
        ReadKind::BindMount => "bind mount source",
    };
    let mut missing_literals = Vec::new();
    let mut empty_wildcards = Vec::new();
    let mut copies_something = false;
    for source in &read.sources {
        let Some(path) = source.path.as_deref() else {
            // A variable whose value is unknown: anything may be meant.
            copies_something = true;
            continue;
        };
        let Some(found) = context.expand(source, read.parents) else {
            copies_something = true;
            continue;
        };
        match (found.is_empty(), source.is_wildcard()) {
            (false, _) => copies_something = true,
            (true, false) => missing_literals.push((source, path)),
            (true, true) => empty_wildcards.push(source),
        }
    }
    for (source, path) in missing_literals {
        let diagnostic = cx.report(
            source.span.clone(),
            format!("{what} `{}` is not in the build context", source.written),
        );
        let help = match near_miss(context, path) {
            Some(other) => format!("the context has `{other}` (names are case-sensitive); the build fails with \"not found\""),
            None => "the build fails with \"not found\": fix the path, or build with the context that holds it (`--context`, `[context]` in lint.toml, or the Compose file's `build.context`)".to_string(),
        };
        diagnostic.help(help);
    }
    if !copies_something {
        for source in empty_wildcards {
            cx.report(
                source.span.clone(),
                format!(
                    "{what} `{}` matches nothing in the build context, and no other source of this instruction does",
                    source.written
                ),
            )
            .help("BuildKit copies nothing here and goes on; other builders fail with \"no source files were specified\"");
        }
    }
}

/// A sibling whose name differs from the missing one only in case.
fn near_miss(context: &BuildContext, path: &str) -> Option<String> {
    let (parent, name) = path.rsplit_once('/').unwrap_or((".", path));
    let found = context.named_alike(parent, name)?;
    Some(if parent == "." {
        found
    } else {
        format!("{parent}/{found}")
    })
}
