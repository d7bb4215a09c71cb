//! Keeps the rule catalogue consistent: code, documents and the default configuration.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use docklint::config::{Config, DEFAULT_CONFIG};
use docklint::lints;
use docklint::rule::FixAvailability;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `lints/<family>/<rule_name>.md` for a rule.
fn document_path(name: &str, family: &str) -> PathBuf {
    root()
        .join("lints")
        .join(family)
        .join(format!("{}.md", name.replace('-', "_")))
}

fn documents_on_disk() -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for family in std::fs::read_dir(root().join("lints")).expect("lints/") {
        let family = family.expect("entry").path();
        if !family.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&family).expect("family dir") {
            let path = file.expect("entry").path();
            if path.extension().is_some_and(|e| e == "md" || e == "rs") {
                out.insert(path);
            }
        }
    }
    out
}

#[test]
fn every_rule_has_its_code_and_document_side_by_side_and_nothing_else_is_there() {
    let mut expected = BTreeSet::new();
    for rule in lints::rules() {
        let m = rule.meta();
        let doc = document_path(m.name, m.family);
        assert!(
            doc.is_file(),
            "{} has no document at {}",
            m.name,
            doc.display()
        );
        let text = std::fs::read_to_string(&doc).expect("readable");
        assert_eq!(
            text, m.doc,
            "{}: Meta::doc must be the sibling document",
            m.name
        );
        expected.insert(doc.clone());
        expected.insert(doc.with_extension("rs"));
    }
    let stray: Vec<_> = documents_on_disk().difference(&expected).cloned().collect();
    assert!(
        stray.is_empty(),
        "files in lints/ that no registered rule owns: {stray:?}"
    );
}

#[test]
fn names_are_unique_kebab_case_and_documents_are_complete() {
    let mut names = BTreeSet::new();
    for rule in lints::rules() {
        let m = rule.meta();
        assert!(names.insert(m.name), "duplicate rule name {}", m.name);
        assert!(
            m.name
                .split('-')
                .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase())),
            "{} is not kebab-case",
            m.name
        );
        assert!(
            m.doc.starts_with(&format!("# {}\n", m.name)),
            "{}: the document must start with `# {}`",
            m.name,
            m.name
        );
        for section in ["## What it does", "## Why is this bad?", "## Example"] {
            assert!(m.doc.contains(section), "{}: missing `{section}`", m.name);
        }
        if m.fix != FixAvailability::None {
            assert!(
                m.doc.contains("## Fix safety"),
                "{}: a rule with fixes explains their safety",
                m.name
            );
        }
        assert!(
            m.summary().len() > 20,
            "{}: the first paragraph of `What it does` is its summary",
            m.name
        );
    }
}

#[test]
fn the_default_configuration_parses_and_names_only_real_rules() {
    Config::parse(DEFAULT_CONFIG, Path::new("lint.toml"))
        .unwrap_or_else(|e| panic!("lint.toml: {}", e.message));
    let rules: BTreeSet<&str> = lints::rules().iter().map(|r| r.meta().name).collect();
    let families: BTreeSet<&str> = lints::rules().iter().map(|r| r.meta().family).collect();
    // Commented examples must stay true too: `# name = ...` under [severity] and the
    // quoted names in lists.
    let mut section = String::new();
    for line in DEFAULT_CONFIG.lines() {
        if let Some(s) = line.strip_prefix('[') {
            section = s.trim_end_matches(']').to_string();
            continue;
        }
        let example = line.trim_start_matches(['#', ' ']);
        if section == "severity" {
            if let Some((name, _)) = example.split_once(" = ") {
                assert!(
                    rules.contains(name.trim()),
                    "lint.toml [severity] names `{name}`, not a rule"
                );
            }
        }
        // [targets] lists stage names, not rules.
        if let Some((_, list)) = example.split_once("= [").filter(|_| section != "targets") {
            for name in list
                .trim_end_matches(']')
                .split(',')
                .map(|n| n.trim().trim_matches('"'))
                .filter(|n| !n.is_empty())
            {
                assert!(
                    name == "all" || rules.contains(name) || families.contains(name),
                    "lint.toml names `{name}`, not a rule or family"
                );
            }
        }
    }
}

#[test]
fn aliases_point_at_other_tools_codes() {
    for rule in lints::rules() {
        for alias in rule.meta().aliases {
            let hadolint =
                alias.starts_with("DL") && alias[2..].chars().all(|c| c.is_ascii_digit());
            let buildkit = alias.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && !alias.contains('-');
            assert!(
                hadolint || buildkit,
                "{}: alias `{alias}` is neither a hadolint code nor a BuildKit check name",
                rule.meta().name
            );
        }
    }
}
