//! The build sends more of its context than `max-size` (default 500 MiB): what COPY, ADD and
//! bind mounts reach once `.dockerignore` is applied (BuildKit transfers nothing else).
//! Names the largest directories and files sent.

use std::collections::BTreeMap;

use crate::config::parse_size;
use crate::context::{human_bytes, reads, BuildContext, Reach};
use crate::model::path_is_within;
use crate::rule::{Ctx, FixAvailability, Meta, Rule, Severity};

pub struct LargeBuildContext;

static META: Meta = Meta {
    name: "large-build-context",
    family: "context",
    severity: Severity::Warning,
    fix: FixAvailability::None,
    aliases: &[],
    doc: include_str!("large_build_context.md"),
};

const DEFAULT_MAX_SIZE: u64 = 500 << 20;
/// Entries named in the message.
const NAMED: usize = 5;

impl Rule for LargeBuildContext {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn check(&self, cx: &mut Ctx) {
        let Some(context) = cx.sent_context() else {
            return;
        };
        let max = max_size(cx.settings.rule_options(META.name)).unwrap_or(DEFAULT_MAX_SIZE);
        let Some(reach) = reads::reach(cx) else {
            return;
        };
        if reach.bytes <= max {
            return;
        }
        let largest = largest_entries(context, reach);
        // The read that sends the most carries the diagnostic.
        let Some((source, _)) = reads::sources(cx.model).max_by_key(|(s, parents)| {
            (
                context.reach([(*s, *parents)]).bytes,
                std::cmp::Reverse(s.span.start),
            )
        }) else {
            return;
        };
        let named: Vec<String> = largest
            .iter()
            .map(|(path, bytes)| format!("`{path}` ({})", human_bytes(*bytes)))
            .collect();
        let message = format!(
            "the build sends {} of its context ({} files), more than {}; largest: {}",
            human_bytes(reach.bytes),
            reach.files,
            human_bytes(max),
            named.join(", ")
        );
        cx.report(source.span.clone(), message).help(
            "every build uploads this before it starts, and `COPY .` puts it in a layer: exclude what the image does not need in .dockerignore, or copy narrower paths",
        );
    }

    fn check_options(&self, options: &toml::Table) -> Result<(), String> {
        for (key, value) in options {
            match (key.as_str(), value) {
                ("max-size", toml::Value::String(text)) => {
                    parse_size(text)?;
                }
                ("max-size", toml::Value::Integer(n)) if *n >= 0 => {}
                ("max-size", _) => {
                    return Err(
                        "`max-size` is a size: \"500MiB\", \"2GB\" or a number of bytes".into(),
                    )
                }
                _ => return Err(format!("rule `{}` has no option `{key}`", META.name)),
            }
        }
        Ok(())
    }
}

fn max_size(options: Option<&toml::Table>) -> Option<u64> {
    match options?.get("max-size")? {
        toml::Value::String(text) => parse_size(text).ok(),
        toml::Value::Integer(n) => u64::try_from(*n).ok(),
        _ => None,
    }
}

/// The biggest entries sent: the directories one level under each read root (their whole
/// content) and the largest files, biggest first.
fn largest_entries(context: &BuildContext, reach: &Reach) -> Vec<(String, u64)> {
    let index = context.index();
    let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
    for root in &reach.roots {
        for dir in index.dirs_under(root) {
            if !(root == "." || path_is_within(&dir.path, root)) {
                continue;
            }
            let below = if root == "." {
                dir.path.as_str()
            } else {
                dir.path[root.len()..].trim_start_matches('/')
            };
            // Files directly in the root are named one by one below.
            let Some(first) = below.split('/').next().filter(|f| !f.is_empty()) else {
                continue;
            };
            let key = if root == "." {
                first.to_string()
            } else {
                format!("{root}/{first}")
            };
            *sizes.entry(key).or_default() += dir.bytes;
        }
    }
    let mut entries: Vec<(String, u64)> = sizes.into_iter().collect();
    entries.extend(
        index
            .largest
            .iter()
            .filter(|e| reach.covers(&e.path))
            .filter(|e| !entries_cover(&entries, &e.path))
            .map(|e| (e.path.clone(), e.bytes))
            .collect::<Vec<_>>(),
    );
    entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    entries.truncate(NAMED);
    // Entries under a hundredth of the whole say nothing about where the size is.
    let floor = reach.bytes / 100;
    let keep = entries.iter().skip(1).take_while(|e| e.1 >= floor).count() + 1;
    entries.truncate(keep);
    entries
}

fn entries_cover(entries: &[(String, u64)], path: &str) -> bool {
    entries.iter().any(|(dir, _)| path_is_within(path, dir))
}
