//! Rules, their metadata, and the diagnostics they report.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::config::Settings;
use crate::context::{BuildContext, Reach};
use crate::fix::Fix;
use crate::model::copies::ProjectFiles;
use crate::model::Model;
use crate::source::{SourceFile, Span};
use crate::suppress::Suppressions;
use crate::syntax::dockerfile::Dockerfile;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Whether a rule's diagnostics come with a fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FixAvailability {
    None,
    Sometimes,
    Always,
}

/// When a rule runs: most look at the file; a few look at what the others reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Lint,
    /// After suppressions were applied (to report the unused ones).
    AfterSuppressions,
}

/// Where the rules' documentation is published: `<family>/<rule>.md` under it, as in
/// `lints/`.
pub const DOCS_URL: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/lints");

pub struct Meta {
    pub name: &'static str,
    pub family: &'static str,
    pub severity: Severity,
    pub fix: FixAvailability,
    /// Names other tools use for the same check (hadolint codes, BuildKit check names);
    /// their suppression comments are honoured.
    pub aliases: &'static [&'static str],
    /// The rule's documentation: the sibling `.md` file.
    pub doc: &'static str,
}

impl Meta {
    /// The published page of the rule's `.md` (`lints/<family>/<rule_name>.md`).
    pub fn docs_url(&self) -> String {
        format!(
            "{DOCS_URL}/{}/{}.md",
            self.family,
            self.name.replace('-', "_")
        )
    }

    /// First paragraph under "## What it does".
    pub fn summary(&self) -> String {
        let after = self
            .doc
            .split_once("## What it does")
            .map_or(self.doc, |(_, rest)| rest);
        after
            .lines()
            .skip_while(|l| l.trim().is_empty())
            .take_while(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

pub trait Rule: Sync + Send {
    fn meta(&self) -> &'static Meta;

    fn check(&self, cx: &mut Ctx);

    fn phase(&self) -> Phase {
        Phase::Lint
    }

    /// Whether the rule has anything to say under these settings (a rule for one cache
    /// strategy is silent under the other). A rule that does not apply cannot make a
    /// suppression of it unused.
    fn applies(&self, settings: &Settings) -> bool {
        let _ = settings;
        true
    }

    /// Checks the rule's `[rules.<name>]` table of lint.toml; a rule without options
    /// accepts none.
    fn check_options(&self, options: &toml::Table) -> Result<(), String> {
        match options.keys().next() {
            Some(key) => Err(format!("rule `{}` has no option `{key}`", self.meta().name)),
            None => Ok(()),
        }
    }
}

/// Whether `rule` runs under `settings`: selected, and applicable.
pub fn is_active(rule: &dyn Rule, settings: &Settings) -> bool {
    settings.is_enabled(rule.meta()) && rule.applies(settings)
}

/// What a rule sees, and where it reports.
pub struct Ctx<'a> {
    pub file: &'a SourceFile,
    pub df: &'a Dockerfile,
    pub model: &'a Model,
    pub settings: &'a Settings,
    /// The Dockerfile's build context, when it has one on disk.
    pub context: Option<&'a BuildContext>,
    /// Set for rules of the `AfterSuppressions` phase.
    pub suppressions: Option<&'a Suppressions>,
    pub(crate) rule: &'static Meta,
    pub(crate) diagnostics: &'a mut Vec<Diagnostic>,
    /// What this lint's rules work out once for all of them.
    pub(crate) shared: &'a Shared,
}

/// Makes diagnostics of one rule without its [`Ctx`], which stays on the rule's thread:
/// [`Ctx::report_each`] hands it to the threads that judge items.
#[derive(Clone, Copy)]
pub struct Reporter {
    rule: &'static Meta,
    severity: Severity,
}

impl Reporter {
    /// A diagnostic of the rule; chain `.help()`, `.label()`, `.fix()` as after
    /// [`Ctx::report`].
    pub fn diagnostic(&self, span: Span, message: impl Into<Text>) -> Diagnostic {
        Diagnostic {
            rule: self.rule.name,
            severity: self.severity,
            span,
            message: message.into(),
            help: None,
            labels: SmallVec::new(),
            anchors: SmallVec::new(),
            fix: None,
        }
    }
}

/// What one lint's rules work out once for all of them.
#[derive(Default)]
pub struct Shared {
    /// The project files read so far, by their path in the build context: rules ask for
    /// the same few (`package.json`, `go.mod`) stage after stage, and an editor lints on
    /// every keystroke. A lint sees the files as they were when it first read them.
    files: Mutex<HashMap<String, Option<String>>>,
    /// What all the reads of the build context send ([`crate::context::reads::reach`]):
    /// four rules ask, and a file of a million COPYs makes a million paths to look up.
    pub(crate) reach: OnceLock<Reach>,
    /// The texts of the diagnostics made so far, each kept once.
    texts: Texts,
}

impl Shared {
    /// Makes the diagnostics' texts share one copy of each (see [`Text`]).
    fn share_texts(&self, diagnostics: &mut [Diagnostic]) {
        for d in diagnostics {
            self.texts.share(&mut d.message);
            if let Some(help) = &mut d.help {
                self.texts.share(help);
            }
            for label in &mut d.labels {
                self.texts.share(&mut label.message);
            }
            if let Some(fix) = &mut d.fix {
                self.texts.share(&mut fix.title);
            }
        }
    }
}

/// Items a rule judges on this thread ([`Ctx::report_each`], [`Ctx::check_each`]); more
/// are spread over the cores.
const MIN_PARALLEL: usize = 2048;

impl<'a> Ctx<'a> {
    /// Reports a diagnostic of the running rule; chain `.help()`, `.label()`, `.fix()`.
    pub fn report(&mut self, span: Span, message: impl Into<Text>) -> &mut Diagnostic {
        let diagnostic = self.reporter().diagnostic(span, message);
        self.diagnostics.push(diagnostic);
        self.diagnostics.last_mut().expect("just pushed")
    }

    /// Makes the running rule's diagnostics away from the context (see [`Reporter`]).
    pub fn reporter(&self) -> Reporter {
        Reporter {
            rule: self.rule,
            severity: self.settings.severity_of(self.rule),
        }
    }

    /// Reports the diagnostic `find` makes of each item, in the items' order: for a rule that
    /// judges each item on its own (a pair of RUNs, say). Many items (a generated file can
    /// have millions) are judged on every core; a few, on this thread, as an editor's
    /// re-lint wants.
    pub fn report_each<T: Sync>(
        &mut self,
        items: &[T],
        find: impl Fn(&T) -> Diagnostic + Sync + Send,
    ) {
        use rayon::prelude::*;
        let shared = self.shared;
        let find = |item: &T| {
            let mut found = find(item);
            shared.share_texts(std::slice::from_mut(&mut found));
            found
        };
        if items.len() < MIN_PARALLEL {
            self.diagnostics.extend(items.iter().map(find));
        } else {
            // Indexed: the diagnostics are made in place, not collected and copied.
            let made = items.par_iter().with_min_len(MIN_PARALLEL / 2).map(find);
            self.diagnostics.par_extend(made);
        }
    }

    /// Runs `check` on each item, its diagnostics kept in the items' order: for a rule that
    /// judges each item (a RUN) on its own and may report on it any number of times. Many
    /// items are judged on every core, each thread with a context of its own; a few, on
    /// this thread.
    pub fn check_each<T: Sync>(&mut self, items: &[T], check: impl Fn(&mut Ctx, &T) + Sync) {
        use rayon::prelude::*;
        // Each item's diagnostics share their texts with those before as they are made,
        // so that a copy of each lives only until the next item.
        let check = |cx: &mut Ctx, item: &T| {
            let before = cx.diagnostics.len();
            check(cx, item);
            cx.shared.share_texts(&mut cx.diagnostics[before..]);
        };
        if items.len() < MIN_PARALLEL {
            items.iter().for_each(|item| check(self, item));
            return;
        }
        let this = &*self;
        let found: Vec<Vec<Diagnostic>> = items
            .par_chunks(MIN_PARALLEL / 2)
            .map(|chunk| {
                let mut found = Vec::new();
                let mut cx = Ctx {
                    diagnostics: &mut found,
                    ..*this
                };
                chunk.iter().for_each(|item| check(&mut cx, item));
                found
            })
            .collect();
        self.diagnostics
            .reserve_exact(found.iter().map(Vec::len).sum());
        for mut found in found {
            self.diagnostics.append(&mut found);
        }
    }

    pub fn text(&self, span: Span) -> &str {
        self.file.text.get(span).unwrap_or("")
    }

    /// The build context when what it sends can be told: `None` without one, or when Docker
    /// rejects its `.dockerignore` (every build fails, and the rejection is reported on the
    /// `.dockerignore` itself).
    pub fn sent_context(&self) -> Option<&'a BuildContext> {
        self.context.filter(|c| !c.dockerignore_rejected())
    }

    /// The build context's directory, as every rule sees it: the one the settings resolved
    /// (`--context`, lint.toml's `[context]`, the Compose service that builds the
    /// Dockerfile, see [`crate::context::resolve`]), else the Dockerfile's directory; `None`
    /// for standard input without a configured context.
    pub fn build_context_dir(&self) -> Option<std::path::PathBuf> {
        if let Some(context) = self.context {
            return Some(context.root().to_path_buf());
        }
        let path = &self.file.path;
        match &self.settings.context {
            Some(dir) => Some(dir.clone()),
            None if path.as_os_str() == "-" => None,
            None => match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => Some(parent.to_path_buf()),
                _ => Some(std::path::PathBuf::from(".")),
            },
        }
    }
}

/// Rules read project files of the build context through their `Ctx`
/// ([`crate::context::read_file`]).
impl ProjectFiles for Ctx<'_> {
    fn read(&self, relative: &str) -> Option<String> {
        let key = crate::context::relative_key(relative);
        // What the context's disk knows is missing is not read, nor kept: a stage that
        // copies many files has a candidate pyproject.toml or go.mod beside each of them.
        if self.context.is_some_and(|c| !c.exists(&key)) {
            return None;
        }
        // Held while the file is read: rules of a big file run on several threads, and
        // every one of them sees what the first read.
        let mut reads = self
            .shared
            .files
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(text) = reads.get(&*key) {
            return text.clone();
        }
        let text = crate::context::read_file(&self.build_context_dir()?, relative);
        reads.insert(key.into_owned(), text.clone());
        text
    }

    fn may_hold(&self, relative: &str) -> bool {
        self.context
            .is_none_or(|c| c.exists(&crate::context::relative_key(relative)))
    }
}

pub use crate::text::Text;
use crate::text::Texts;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: Text,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The rule's name; its family is the catalogue's (`lints::family_of`), not kept in each
    /// of a big file's millions of diagnostics.
    pub rule: &'static str,
    pub severity: Severity,
    pub span: Span,
    pub message: Text,
    pub help: Option<Text>,
    pub labels: SmallVec<[Label; 1]>,
    /// Other instructions the diagnostic is about: a suppression on any of them silences
    /// it too (`consecutive-run` is about both RUNs).
    pub anchors: SmallVec<[Span; 1]>,
    pub fix: Option<Fix>,
}

impl Diagnostic {
    pub fn anchor(&mut self, span: Span) -> &mut Self {
        self.anchors.push(span);
        self
    }

    pub fn help(&mut self, help: impl Into<Text>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    pub fn label(&mut self, span: Span, message: impl Into<Text>) -> &mut Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn fix(&mut self, fix: Fix) -> &mut Self {
        self.fix = Some(fix);
        self
    }

    /// The message, then `help: ` and the help on a line of its own: for formats with one
    /// text field.
    pub fn message_and_help(&self) -> String {
        let mut message = self.message.to_string();
        if let Some(help) = &self.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::dockerfile;

    /// A rule's diagnostics come in the order it judged the items, whether they were judged
    /// on this thread (an editor's file) or spread over the cores (a generated one).
    #[test]
    fn items_judged_on_every_core_report_in_their_order() {
        let file = SourceFile::new("Dockerfile", "FROM scratch\n".to_string());
        let df = dockerfile::parse(&file.text);
        let model = Model::build(&df);
        let settings = Settings::defaults();
        let shared = Shared::default();
        let rule = crate::lints::find("consecutive-run").unwrap().meta();
        let spans = |items: &[usize]| {
            let mut diagnostics = Vec::new();
            let mut cx = Ctx {
                file: &file,
                df: &df,
                model: &model,
                settings: &settings,
                context: None,
                suppressions: None,
                rule,
                diagnostics: &mut diagnostics,
                shared: &shared,
            };
            // None, one or two diagnostics an item.
            cx.check_each(items, |cx, &i| {
                for k in 0..i % 3 {
                    cx.report(i..i + k, "found");
                }
            });
            diagnostics.into_iter().map(|d| d.span).collect::<Vec<_>>()
        };
        let items: Vec<usize> = (0..20_000).collect();
        let expected = |items: &[usize]| -> Vec<Span> {
            items
                .iter()
                .flat_map(|&i| (0..i % 3).map(move |k| i..i + k))
                .collect()
        };
        assert_eq!(spans(&items), expected(&items));
        assert_eq!(spans(&items[..100]), expected(&items[..100]));
    }
}
