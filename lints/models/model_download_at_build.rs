//! ML weights fetched while the image builds: download CLIs, Python loaders (inline, in
//! heredocs, in scripts copied from the build context), and URLs of weight files. What
//! downloads is known to the model ([`crate::model::models`]); this rule says where, and
//! names the patterns that keep weights out of the build. A login to the Hugging Face Hub
//! in a layer of the image is reported too: it saves the token there.

use crate::model::commands::basename;
use crate::model::models::{self, Download, HubLogin, TokenSource};
use crate::model::Run;
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};
use crate::source::Span;
use std::collections::HashMap;

pub struct ModelDownloadAtBuild;

static META: Meta = Meta {
    name: "model-download-at-build",
    family: "models",
    severity: Severity::Warning,
    fix: FixAvailability::None,
    aliases: &[],
    doc: include_str!("model_download_at_build.md"),
};

const HELP: &str = "download the model when the container starts, into a volume (an \
ENTRYPOINT/CMD script), or in a dedicated download stage with a cache mount on the model \
cache, then `COPY --from=` only the files the final stage needs";

/// At most this many downloads are named in one message.
const NAMED: usize = 3;

impl Rule for ModelDownloadAtBuild {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        let model = cx.model;
        cx.check_each(&model.runs, |cx, run| {
            if is_download_stage(cx, run) {
                return;
            }
            let downloads = models::run_downloads(cx.model, cx.df, run, cx);
            // Most RUNs download nothing: a file may have millions of them.
            if !downloads.is_empty() {
                for group in by_command(downloads) {
                    report(cx, &group, Some(run));
                }
            }
        });
        for group in by_command(models::add_downloads(cx.df)) {
            report(cx, &group, None);
        }
        // A login in a stage whose layers do not ship leaves no token in an image.
        let ships = cx.model.stages_reaching_final(&cx.settings.targets);
        let logins: Vec<HubLogin> = model
            .runs
            .iter()
            .filter(|run| ships[run.stage])
            .flat_map(models::hub_logins)
            .collect();
        for login in &logins {
            report_login(cx, login);
        }
    }
}

/// A Hub login in a layer of the image: the token is saved in a file of the layer, and one
/// passed from ARG or ENV is in the image's history too.
fn report_login(cx: &mut Ctx, login: &HubLogin) {
    let saved = "the login saves the token in a file of the layer (`$HF_HOME/token`)";
    let message = match &login.token {
        Some(TokenSource::BuildVariable(name)) => format!(
            "{} puts the Hugging Face token in the image: `--token` comes from `{name}`, an ARG \
             or ENV whose value stays in the image's history, and {saved}",
            login.by
        ),
        Some(TokenSource::Literal) => format!(
            "{} puts the Hugging Face token in the image: it is written in the Dockerfile, and \
             {saved}",
            login.by
        ),
        None => format!(
            "{} puts the Hugging Face token in the image: {saved}",
            login.by
        ),
    };
    let help = "do not log in during the build: give the commands that need the token a secret, \
        `RUN --mount=type=secret,id=hf_token,env=HF_TOKEN …` (the Hub's tools read `HF_TOKEN`), \
        built with `--secret id=hf_token,env=HF_TOKEN`; never pass a token as ARG or ENV";
    cx.report(login.span.clone(), message).help(help);
}

/// The recommended second pattern: a stage the final one copies from (not one it is built
/// on, which would carry the weights along), downloading into a cache mount.
fn is_download_stage(cx: &Ctx, run: &Run) -> bool {
    let last = cx.model.stages.len().saturating_sub(1);
    !cx.model.descends_from(last, run.stage)
        && run
            .mounts
            .iter()
            .any(|m| m.kind == crate::model::MountKind::Cache)
}

/// Downloads grouped by the command (or instruction) they come from, in file order.
fn by_command(downloads: Vec<Download>) -> Vec<Vec<Download>> {
    let mut groups: Vec<Vec<Download>> = Vec::new();
    let mut by_span: HashMap<Span, usize> = HashMap::new();
    for download in downloads {
        match by_span.get(&download.span) {
            Some(&at) => groups[at].push(download),
            None => {
                by_span.insert(download.span.clone(), groups.len());
                groups.push(vec![download]);
            }
        }
    }
    groups
}

fn report(cx: &mut Ctx, group: &[Download], run: Option<&Run>) {
    let span: Span = group[0].span.clone();
    let message = if group.iter().all(|d| d.by_name_only) {
        let script = group[0].by.as_str();
        let why = if group[0].read {
            "docklint read it and knows none of its calls"
        } else {
            "it is not in the build context, so docklint could not read it"
        };
        format!("{script} runs during the build, and its name says it downloads models ({why})")
    } else {
        let named = describe_all(group);
        let mut list = named[..named.len().min(NAMED)].join(", ");
        if named.len() > NAMED {
            list.push_str(&format!(" and {} more", named.len() - NAMED));
        }
        let total: Option<u64> = group.iter().map(|d| d.size).sum();
        let weight = match total.filter(|_| group.len() > 1) {
            Some(bytes) => format!(" (about {} in all)", decimal_bytes(bytes)),
            None => String::new(),
        };
        format!("downloads {list} during the build{weight}")
    };
    let token = run.and_then(|run| {
        models::TOKEN_VARIABLES
            .iter()
            .find(|v| run.env().contains(v))
            .map(|v| v.to_string())
    });
    let mut help = format!(
        "weights fetched by the build land in a layer of the image and are downloaded again on \
         every cache miss; {HELP}; pass tokens with `--mount=type=secret,id=hf_token,env=HF_TOKEN`, never as ARG or ENV"
    );
    if let Some(token) = token {
        help.push_str(&format!(
            " (`{token}` is one here: its value stays in the image's history)"
        ));
    }
    let labels: Vec<Span> = group.iter().filter_map(|d| d.at.clone()).collect();
    let diagnostic = cx.report(span, message).help(help);
    for at in labels {
        diagnostic.label(at, "downloads here");
    }
}

/// "a Whisper model `base` (about 142 MB) with `whisper.load_model()` in get.py:3", one
/// entry per call, its models together ("NLTK data `punkt`, `wordnet` with …").
fn describe_all(group: &[Download]) -> Vec<String> {
    let mut entries: Vec<(&Download, Vec<String>)> = Vec::new();
    for d in group.iter().filter(|d| !d.by_name_only) {
        let model = d.model.as_deref().map(|m| {
            let mut text = format!("`{}`", short_model(m));
            if let Some(bytes) = d.size {
                text.push_str(&format!(" (about {})", decimal_bytes(bytes)));
            }
            text
        });
        let same = |e: &&mut (&Download, Vec<String>)| {
            e.0.what == d.what && e.0.by == d.by && e.0.script == d.script
        };
        match entries.iter_mut().find(same) {
            Some(entry) => entry.1.extend(model),
            None => entries.push((d, model.into_iter().collect())),
        }
    }
    entries
        .into_iter()
        .map(|(d, models)| {
            let mut out = d.what.to_string();
            if !models.is_empty() {
                out.push(' ');
                out.push_str(&models.join(", "));
            }
            out.push_str(&format!(" with {}", d.by));
            if let Some((script, line)) = &d.script {
                out.push_str(&format!(" in {script}:{line}"));
            }
            out
        })
        .collect()
}

/// A package URL by its file name (`en_core_web_sm-3.7.1-py3-none-any.whl`); anything else
/// as given.
fn short_model(model: &str) -> &str {
    if model.ends_with(".whl") || model.ends_with(".tar.gz") {
        basename(model)
    } else {
        model
    }
}

/// `91 MB`, `2.9 GB` (decimal units, as model pages give them).
fn decimal_bytes(bytes: u64) -> String {
    if bytes >= 1_000_000_000 {
        format!("{:.1} GB", bytes as f64 / 1e9)
    } else {
        format!("{} MB", (bytes as f64 / 1e6).round() as u64)
    }
}
