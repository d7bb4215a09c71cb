//! A base image whose toolchain is older than the project files copied into the stage ask
//! for: `FROM golang:1.21` for a go.mod that says `go 1.22`. What images carry and what
//! project files say is the model's ([`crate::model::toolchains`]).

use crate::fix::{Edit, Fix};
use crate::model::toolchains::{self, ImageTag, ProjectNeed};
use crate::model::Stage;
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};
use crate::source::Span;
use crate::syntax::dockerfile::{Args, Keyword};

pub struct BaseImageToolchainMismatch;

static META: Meta = Meta {
    name: "base-image-toolchain-mismatch",
    family: "build",
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    aliases: &[],
    doc: include_str!("base_image_toolchain_mismatch.md"),
};

impl Rule for BaseImageToolchainMismatch {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        for stage in &cx.model.stages {
            let reference = stage.base_expanded.as_deref().unwrap_or(&stage.base);
            let Some(tag) = toolchains::image_tag(reference) else {
                continue;
            };
            let Some(need) = cx.model.project_need(stage.index, tag.toolchain, cx) else {
                continue;
            };
            let minimum = &need.requirement.minimum;
            if toolchains::provides(&tag.version, minimum)
                || !need.file.refuses(&tag.version, minimum)
            {
                continue;
            }
            report(cx, stage, reference, &tag, &need);
        }
    }
}

fn report(cx: &mut Ctx, stage: &Stage, reference: &str, tag: &ImageTag, need: &ProjectNeed) {
    let Some(Args::From(from)) = cx.df.instructions.get(stage.from).map(|i| &i.args) else {
        return;
    };
    let image = &from.image;
    let new_version = toolchains::raised(&tag.version, &need.requirement.minimum);
    let new_text = toolchains::version_text(&new_version);
    let new_tag = match tag.variant.as_str() {
        "" => new_text.clone(),
        variant => format!("{new_text}-{variant}"),
    };
    let at = version_span(cx, &image.value, image.span.clone(), &tag.version_text);
    let message = format!(
        "`{reference}` has {} {}, older than {}:{} asks for (`{}`)",
        tag.toolchain.name,
        tag.version_text,
        need.path,
        need.requirement.line,
        need.requirement.said,
    );
    let mut help = format!("use the `{new_tag}` tag; {}", need.file.consequence());
    let fix = match (&at, tag.digest) {
        (_, true) => {
            help.push_str("; no fix: the reference pins a digest, which a new tag needs anew");
            None
        }
        (None, _) => None,
        (Some(at), false) => {
            let edits = vec![Edit::replace(at.span.clone(), new_text.clone())];
            let title = format!("Use {}'s `{new_tag}` tag", tag.toolchain.name);
            if tag
                .toolchain
                .lasting_variants
                .contains(&tag.variant.as_str())
            {
                Some(Fix::safe(title, edits))
            } else {
                help.push_str(&format!(
                    "; the fix is unsafe: `{new_tag}` may not be published (the `{}` variant is not made for every version)",
                    tag.variant
                ));
                Some(Fix::unsafe_(title, edits))
            }
        }
    };
    let arg = at.as_ref().and_then(|a| a.arg.clone());
    let diagnostic = cx.report(image.span.clone(), message).help(help);
    if let Some(arg) = arg {
        diagnostic.label(arg, "the version comes from this ARG's default");
    }
    if let Some(fix) = fix {
        diagnostic.fix(fix);
    }
}

/// Where the tag's version is written: in the FROM line, or in the default of the global
/// ARG the FROM line uses.
struct VersionAt {
    span: Span,
    /// The ARG declaration, when the version is written there.
    arg: Option<Span>,
}

fn version_span(cx: &Ctx, raw: &str, span: Span, version: &str) -> Option<VersionAt> {
    let tag_at = raw.rfind(':')?;
    if !raw[tag_at..].contains('$') && cx.text(span.clone()) == raw {
        let at = span.start + tag_at + 1;
        return raw[tag_at + 1..].starts_with(version).then(|| VersionAt {
            span: at..at + version.len(),
            arg: None,
        });
    }
    // `FROM golang:${GO_VERSION}-alpine` with `ARG GO_VERSION=1.21` before the first FROM.
    let used = |key: &str| raw.contains(&format!("${key}")) || raw.contains(&format!("${{{key}"));
    let first_from = cx
        .df
        .instructions
        .iter()
        .position(|i| i.keyword == Keyword::From)?;
    let declaration = cx.df.instructions[..first_from]
        .iter()
        .filter_map(|i| match &i.args {
            Args::Arg(pairs) => Some(pairs),
            _ => None,
        })
        .flatten()
        .filter(|kv| used(&kv.key.value))
        .filter_map(|kv| Some((kv, kv.value.as_ref()?)))
        .next_back()?;
    let (pair, value) = declaration;
    let text = cx.text(value.span.clone());
    let offset = token_offset(text, version)?;
    let at = value.span.start + offset;
    Some(VersionAt {
        span: at..at + version.len(),
        arg: Some(pair.span.clone()),
    })
}

/// The only place `version` is written in `text` as a whole version (not part of `1.210`).
fn token_offset(text: &str, version: &str) -> Option<usize> {
    let part_of_version = |c: char| c.is_ascii_digit() || c == '.';
    let mut found = text.match_indices(version).filter(|(at, _)| {
        let before = text[..*at].chars().next_back();
        let after = text[at + version.len()..].chars().next();
        !before.is_some_and(part_of_version) && !after.is_some_and(part_of_version)
    });
    let (first, _) = found.next()?;
    found.next().is_none().then_some(first)
}
