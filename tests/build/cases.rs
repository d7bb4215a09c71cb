//! What gets built: the `bad` examples of the rule documents and the semantic cases of
//! `tests/build/cases/`, with the variants each is compared against.

use std::path::{Path, PathBuf};

use docklint::config::{Overrides, Resolver, Settings};

use crate::common::{blocks, context_file, doc_settings, rule_documents};

pub enum Origin {
    /// A `bad` block of a rule document.
    Doc,
    /// A directory of `tests/build/cases/`.
    Semantic,
}

pub struct Case {
    /// `missing_cache_mount.md:22` or the case directory's name.
    pub name: String,
    pub origin: Origin,
    pub original: String,
    /// The build context (the case directory, or stubs made for a document example).
    pub context: PathBuf,
    /// What a careless tool writes, and how it was made.
    pub naive: Option<(String, &'static str)>,
    pub settings: Settings,
    /// What the harness did to make the example buildable.
    pub notes: Vec<String>,
}

/// Every `bad` block of `lints/**/*.md`, with the settings of the `toml` block before it
/// and a context holding stubs for its COPY/ADD sources (made under `contexts`).
pub fn doc_cases(contexts: &Path) -> Vec<Case> {
    let mut out = Vec::new();
    for path in rule_documents() {
        let markdown = std::fs::read_to_string(&path).expect("readable rule document");
        let rule_name = markdown
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# "))
            .unwrap_or("")
            .trim()
            .to_string();
        let Some(rule) = docklint::lints::find(&rule_name) else {
            continue;
        };
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut toml: Option<String> = None;
        // The document's context files for the blocks that follow (as tests/lints.rs reads
        // them): the first one after a dockerfile block starts a new set.
        let mut files: Vec<(String, String)> = Vec::new();
        let mut files_used = false;
        for block in blocks(&markdown) {
            if let Some(path) = context_file(&block) {
                if std::mem::take(&mut files_used) {
                    files.clear();
                }
                files.push((path.to_string(), block.text.clone()));
                continue;
            }
            files_used |= block.kind.starts_with("dockerfile");
            match block.kind.as_str() {
                "toml" => toml = Some(block.text.clone()),
                "dockerfile bad" => {
                    let name = format!("{file_name}:{}", block.line);
                    let context = contexts.join(name.replace([':', '.'], "-"));
                    let mut notes = make_context(&block.text, &context);
                    for (path, text) in &files {
                        let file = context.join(path);
                        if let Some(parent) = file.parent() {
                            std::fs::create_dir_all(parent).expect("create context parent");
                        }
                        std::fs::write(&file, text).expect("write context file");
                        notes.push(format!("context: `{path}` from the document"));
                    }
                    out.push(Case {
                        name,
                        origin: Origin::Doc,
                        original: block.text.clone(),
                        settings: doc_settings(rule.meta().name, toml.as_deref(), &context),
                        context,
                        naive: None,
                        notes,
                    });
                }
                _ => {}
            }
        }
    }
    out
}

/// The directories of `tests/build/cases/`: `Dockerfile`, and `naive.Dockerfile` unless
/// the naive variant is the merge of its consecutive RUNs.
pub fn semantic_cases(cases_dir: &Path) -> Result<Vec<Case>, String> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir)
        .map_err(|e| format!("{}: {e}", cases_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let settings = Resolver::new(None, true, Overrides::default())
        .settings_for(Path::new("Dockerfile"))
        .map_err(|e| e.message)?;
    let mut out = Vec::new();
    for dir in dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let original = std::fs::read_to_string(dir.join("Dockerfile"))
            .map_err(|e| format!("case {name}: Dockerfile: {e}"))?;
        let naive = match std::fs::read_to_string(dir.join("naive.Dockerfile")) {
            Ok(text) => Some((text, "naive.Dockerfile")),
            Err(_) => merge_consecutive_runs(&original)
                .map(|text| (text, "consecutive RUNs joined with ` && `")),
        };
        out.push(Case {
            name,
            origin: Origin::Semantic,
            original,
            context: dir,
            naive,
            settings: settings.clone(),
            notes: Vec::new(),
        });
    }
    Ok(out)
}

/// A context for a document example: a stub for each COPY/ADD source. A requirements file
/// names one small real package (`six`) so pip has something to install.
fn make_context(dockerfile: &str, context: &Path) -> Vec<String> {
    let _ = std::fs::remove_dir_all(context);
    std::fs::create_dir_all(context).expect("create context dir");
    let mut notes = Vec::new();
    for line in logical_lines(dockerfile) {
        let mut words = line.split_whitespace();
        let keyword = words.next().unwrap_or("").to_ascii_uppercase();
        if keyword != "COPY" && keyword != "ADD" {
            continue;
        }
        let rest: Vec<&str> = words.collect();
        if rest.iter().any(|w| w.starts_with("--from")) {
            continue;
        }
        let operands: Vec<String> = {
            let plain: Vec<&str> = rest
                .iter()
                .copied()
                .filter(|w| !w.starts_with("--"))
                .collect();
            let joined = plain.join(" ");
            serde_json::from_str::<Vec<String>>(&joined)
                .unwrap_or_else(|_| plain.iter().map(|w| w.to_string()).collect())
        };
        let Some((_, sources)) = operands.split_last() else {
            continue;
        };
        for source in sources {
            let source = source.trim_start_matches("./");
            if source.is_empty()
                || source == "."
                || source.contains(['*', '?', '[', '$'])
                || source.contains("://")
            {
                continue;
            }
            let path = context.join(source);
            if source.ends_with('/') {
                std::fs::create_dir_all(&path).expect("create stub dir");
                notes.push(format!("context: empty directory `{source}`"));
                continue;
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("create stub parent");
            }
            let content = if source.contains("requirements") && source.ends_with(".txt") {
                "six\n"
            } else {
                "stub\n"
            };
            std::fs::write(&path, content).expect("write stub");
            notes.push(format!(
                "context: `{source}` containing {:?}",
                content.trim_end()
            ));
        }
    }
    notes
}

/// Instructions with their continuation lines joined, comments and blank lines left out.
fn logical_lines(dockerfile: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// What a tool that merges RUNs without reading the shell writes: each group of
/// consecutive shell-form RUNs with the same flags (blank lines and comments between them
/// moved before the group) becomes one RUN, the bodies joined with ` && `. `None` when the
/// file has no such pair.
pub fn merge_consecutive_runs(text: &str) -> Option<String> {
    enum Item {
        Run { flags: String, body: String },
        Other(String),
    }
    let mut items: Vec<Item> = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if is_trivia(line) {
            items.push(Item::Other(line.to_string()));
            continue;
        }
        let mut instruction = line.to_string();
        let mut last = line;
        while last.trim_end().ends_with('\\') {
            let Some(next) = lines.next() else { break };
            instruction.push('\n');
            instruction.push_str(next);
            last = next;
        }
        let keyword = trimmed.split(char::is_whitespace).next().unwrap_or("");
        if !keyword.eq_ignore_ascii_case("RUN") {
            items.push(Item::Other(instruction));
            continue;
        }
        let offset = instruction.len() - instruction.trim_start().len() + keyword.len();
        let mut rest = instruction[offset..].trim_start();
        let mut flags = Vec::new();
        while rest.starts_with("--") {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            flags.push(&rest[..end]);
            rest = rest[end..].trim_start();
        }
        if rest.starts_with('[') {
            items.push(Item::Other(instruction));
            continue;
        }
        items.push(Item::Run {
            flags: flags.join(" "),
            body: rest.trim_end().to_string(),
        });
    }

    let mut out = String::new();
    let mut merged_any = false;
    let mut i = 0;
    while i < items.len() {
        let Item::Run { flags, body } = &items[i] else {
            if let Item::Other(line) = &items[i] {
                out.push_str(line);
                out.push('\n');
            }
            i += 1;
            continue;
        };
        // The group: this RUN and the RUNs after it with the same flags; comments and
        // blank lines inside the group move before it.
        let mut bodies = vec![body.clone()];
        let (mut before, mut pending) = (Vec::new(), Vec::new());
        let mut end = i + 1;
        for (j, item) in items.iter().enumerate().skip(i + 1) {
            match item {
                Item::Other(line) if is_trivia(line) => pending.push(line.as_str()),
                Item::Run { flags: f, body: b } if f == flags => {
                    bodies.push(b.clone());
                    before.append(&mut pending);
                    end = j + 1;
                }
                _ => break,
            }
        }
        for line in before {
            out.push_str(line);
            out.push('\n');
        }
        merged_any |= bodies.len() > 1;
        out.push_str("RUN ");
        if !flags.is_empty() {
            out.push_str(flags);
            out.push(' ');
        }
        out.push_str(&bodies.join(" && "));
        out.push('\n');
        i = end;
    }
    merged_any.then_some(out)
}

fn is_trivia(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed.is_empty() || trimmed.starts_with('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_runs_are_joined_and_other_instructions_kept() {
        let text = "FROM a\nRUN cd /tmp\n# why\nRUN pwd > /where\nUSER x\nRUN --mount=type=tmpfs,target=/s mkdir /s/x\nRUN echo \\\n  b\n";
        assert_eq!(
            merge_consecutive_runs(text).as_deref(),
            Some("FROM a\n# why\nRUN cd /tmp && pwd > /where\nUSER x\nRUN --mount=type=tmpfs,target=/s mkdir /s/x\nRUN echo \\\n  b\n")
        );
        assert_eq!(
            merge_consecutive_runs("FROM a\nRUN a\nUSER b\nRUN c\n"),
            None
        );
    }
}
