//! The file, or an instruction in it, does not parse.

use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};

pub struct SyntaxError;

static META: Meta = Meta {
    name: "syntax-error",
    family: "core",
    severity: Severity::Error,
    fix: FixAvailability::None,
    aliases: &["DL1000"],
    doc: include_str!("syntax_error.md"),
};

impl Rule for SyntaxError {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        if cx.file.lossy {
            cx.report(
                0..0,
                "the file is not valid UTF-8; invalid bytes were read as U+FFFD",
            )
            .help("docklint lints it but will not rewrite it; save it as UTF-8");
        }
        for error in &cx.df.errors {
            cx.report(error.span.clone(), error.message.clone());
        }
    }
}
