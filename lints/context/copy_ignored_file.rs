//! A COPY or ADD source that `.dockerignore` leaves out of the build context: the build
//! fails with "not found", or a wildcard copies nothing. Decided by the walk Docker makes,
//! so `!` exceptions count: a file re-included inside an excluded directory is sent, one
//! excluded again after its exception is not.

use crate::context::BuildContext;
use crate::fix::{Applicability, Fix};
use crate::model::context_reads::{ContextSource, ReadKind};
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};

pub struct CopyIgnoredFile;

static META: Meta = Meta {
    name: "copy-ignored-file",
    family: "context",
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    aliases: &["CopyIgnoredFile"],
    doc: include_str!("copy_ignored_file.md"),
};

impl Rule for CopyIgnoredFile {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        let Some(context) = cx.sent_context() else {
            return;
        };
        if context.dockerignore().is_none() {
            return;
        }
        for read in &cx.model.context_reads {
            let what = match read.kind {
                ReadKind::Copy => "COPY source",
                ReadKind::Add => "ADD source",
                ReadKind::BindMount => "bind mount source",
            };
            for source in &read.sources {
                let Some(found) = context.expand(source, read.parents) else {
                    continue;
                };
                if found.is_empty() || found.iter().any(|p| context.is_sent(p)) {
                    continue;
                }
                report(cx, context, what, source, &found);
            }
        }
    }
}

fn report(
    cx: &mut Ctx,
    context: &BuildContext,
    what: &str,
    source: &ContextSource,
    found: &[String],
) {
    let Some(ignore_file) = context.dockerignore() else {
        return;
    };
    let file = context.display(&ignore_file.path);
    let path = &found[0];
    let written = |p: &crate::syntax::dockerignore::Pattern| {
        ignore_file
            .text
            .get(p.span.clone())
            .unwrap_or(&p.text)
            .to_string()
    };
    let why = match context.ignore().excluding_pattern(path) {
        Some(pattern) => {
            // An exception that matched before the pattern that excludes it again.
            let exception = context
                .ignore()
                .patterns()
                .iter()
                .rfind(|p| p.exception && p.line < pattern.line && p.matches(path));
            match exception {
                Some(e) => format!(
                    "line {} (`{}`), after the exception on line {} (`{}`)",
                    pattern.line,
                    written(pattern),
                    e.line,
                    written(e)
                ),
                None => format!("line {} (`{}`)", pattern.line, written(pattern)),
            }
        }
        None => "its patterns".to_string(),
    };
    let message = if source.is_wildcard() {
        format!(
            "every path {what} `{}` matches is excluded by {file} ({why} for `{path}`)",
            source.written
        )
    } else {
        format!("{what} `{}` is excluded by {file}, {why}", source.written)
    };
    let help = if source.is_wildcard() {
        "BuildKit copies nothing here; other builders fail: re-include the files in the .dockerignore, or copy something else"
    } else {
        "the build fails with \"not found\": re-include it with a `!` line at the end of the .dockerignore, or stop copying it"
    };
    let fix = (!source.is_wildcard()).then(|| {
        let line = format!("!{path}");
        let edit = context.append_to_dockerignore(std::slice::from_ref(&line));
        // Sending a file the .dockerignore kept out (perhaps on purpose) changes the build.
        Fix::on_file(
            format!("Add `{line}` to {file}"),
            Applicability::Unsafe,
            edit,
        )
    });
    let diagnostic = cx.report(source.span.clone(), message).help(help);
    if let Some(fix) = fix {
        diagnostic.fix(fix);
    }
}
