//! The report formats for CI (`sarif`, `github`, `gitlab`, `checkstyle`, `junit`) over
//! `tests/fixtures/`: snapshots of what each prints, and the properties their readers
//! rely on (SARIF rule metadata and indices, GitLab fingerprints that survive line moves,
//! XML that parses).

mod common;

use std::path::Path;

use common::{docklint, stderr, stdout, TempDir};
use serde_json::Value;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn report(format: &str) -> String {
    let out = docklint(
        repo(),
        &["check", "--no-config", "--format", format, "tests/fixtures"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    stdout(&out)
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn github_workflow_commands() {
    snapshot("cli@format_github", &report("github"));
}

#[test]
fn checkstyle_and_junit_xml() {
    snapshot("cli@format_checkstyle", &report("checkstyle"));
    snapshot("cli@format_junit", &report("junit"));
}

#[test]
fn gitlab_code_quality() {
    snapshot("cli@format_gitlab", &report("gitlab"));
}

/// The results of the SARIF log; the rules (the catalogue, with each rule's whole `.md`)
/// are checked against the catalogue instead of being snapshotted.
#[test]
fn sarif_results_and_rule_metadata() {
    let log: Value = serde_json::from_str(&report("sarif")).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), docklint::lints::rules().len());
    for (rule, descriptor) in docklint::lints::rules().iter().zip(rules) {
        let meta = rule.meta();
        assert_eq!(descriptor["id"], meta.name);
        assert_eq!(descriptor["help"]["markdown"], meta.doc);
        assert_eq!(descriptor["help"]["text"], meta.doc);
        assert_eq!(descriptor["helpUri"], meta.docs_url());
        let full = descriptor["fullDescription"]["text"].as_str().unwrap_or("");
        assert!(!full.is_empty() && full.chars().count() <= 1024, "{full}");
        assert!(descriptor["shortDescription"]["text"].as_str().is_some());
        assert!(["error", "warning", "note"].contains(
            &descriptor["defaultConfiguration"]["level"]
                .as_str()
                .unwrap_or("")
        ));
    }
    let results = run["results"].as_array().expect("results");
    for result in results {
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert!(result.get("partialFingerprints").is_none());
    }
    let mut shown = run.clone();
    shown["tool"]["driver"]["rules"] = Value::from(format!("{} rules", rules.len()));
    shown["tool"]["driver"]["version"] = Value::from("<version>");
    shown["tool"]["driver"]["semanticVersion"] = Value::from("<version>");
    snapshot(
        "cli@format_sarif",
        &serde_json::to_string_pretty(&shown).expect("json"),
    );
}

#[test]
fn sarif_fixes_replace_what_the_json_edits_replace() {
    let sarif: Value = serde_json::from_str(&report("sarif")).expect("SARIF");
    let json: Vec<Value> = serde_json::from_str(&report("json")).expect("JSON");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), json.len());
    let mut fixes = 0;
    for (result, d) in results.iter().zip(&json) {
        let Some(fix) = d["fix"].as_object() else {
            assert!(result.get("fixes").is_none());
            continue;
        };
        fixes += 1;
        let replacements = &result["fixes"][0]["artifactChanges"][0]["replacements"];
        for (r, edit) in replacements
            .as_array()
            .expect("replacements")
            .iter()
            .zip(fix["edits"].as_array().expect("edits"))
        {
            let region = &r["deletedRegion"];
            assert_eq!(region["startLine"], edit["line"]);
            assert_eq!(region["startColumn"], edit["column"]);
            assert_eq!(region["endLine"], edit["end_line"]);
            assert_eq!(region["endColumn"], edit["end_column"]);
            assert_eq!(r["insertedContent"]["text"], edit["content"]);
        }
    }
    assert!(fixes > 0, "the fixtures hold fixable problems");
}

/// A path that cannot be linted is in the report, and the exit code is 2.
#[test]
fn a_path_that_cannot_be_linted_is_in_every_report() {
    let dir = TempDir::new("formats-missing");
    for (format, expected) in [
        ("sarif", "\"executionSuccessful\": false"),
        ("checkstyle", "source=\"docklint.io-error\""),
        ("junit", "<error message="),
    ] {
        let out = docklint(dir.path(), &["check", "--format", format, "missing"]);
        assert_eq!(out.status.code(), Some(2), "{format}");
        common::assert_contains(&stdout(&out), expected);
    }
    // A run refused before linting still prints a report, so an upload step finds one.
    let out = docklint(
        dir.path(),
        &["check", "--format", "sarif", "--select", "nope"],
    );
    assert_eq!(out.status.code(), Some(2));
    let log: Value = serde_json::from_str(&stdout(&out)).expect("an empty SARIF log");
    assert_eq!(log["runs"][0]["results"], Value::Array(vec![]));
}

fn fingerprints(dir: &TempDir) -> Vec<(String, u64)> {
    let out = docklint(
        dir.path(),
        &["check", "--no-config", "--format", "gitlab", "Dockerfile"],
    );
    let issues: Vec<Value> = serde_json::from_slice(&out.stdout).expect("gitlab JSON");
    issues
        .iter()
        .map(|i| {
            (
                i["fingerprint"].as_str().unwrap_or("").to_string(),
                i["location"]["positions"]["begin"]["line"]
                    .as_u64()
                    .unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn gitlab_fingerprints_are_unique_and_survive_line_moves() {
    let dir = TempDir::new("gitlab-fingerprints");
    let body = "RUN pip install flask\nRUN pip install flask\nRUN npm install\n";
    dir.write("Dockerfile", format!("FROM python:3.12-slim\n{body}"));
    let before = fingerprints(&dir);
    assert!(before.len() >= 3, "{before:?}");
    let mut unique: Vec<&String> = before.iter().map(|(f, _)| f).collect();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), before.len(), "{before:?}");
    dir.write(
        "Dockerfile",
        format!("FROM python:3.12-slim\n# a comment\nWORKDIR /app\n\n{body}"),
    );
    let after = fingerprints(&dir);
    let moved: Vec<(String, u64)> = before.iter().map(|(f, l)| (f.clone(), l + 3)).collect();
    assert_eq!(after, moved);
}

#[test]
fn github_commands_escape_what_the_runner_unescapes() {
    let dir = TempDir::new("github-escape");
    dir.write(
        "a,b:c%.Dockerfile",
        "FROM python:3.12-slim\nRUN pip install flask\n",
    );
    let out = docklint(dir.path(), &["check", "--format", "github", "."]);
    let text = stdout(&out);
    assert!(
        text.starts_with("::warning file=a%2Cb%3Ac%25.Dockerfile,line=2,col=5,endLine=2,"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
    // The summary is on standard error, not among the commands.
    common::assert_contains(&stderr(&out), "Found 1 problem");
}

#[test]
fn a_dockerignore_given_by_name_is_linted_through_its_dockerfiles() {
    let dir = TempDir::new("dockerignore-arg");
    dir.write(
        "Dockerfile",
        "FROM python:3.12-slim\nRUN pip install flask\n",
    );
    dir.write(
        "app.Dockerfile",
        "FROM python:3.12-slim\nRUN pip install flask\n",
    );
    dir.write(".dockerignore", "node_modules\n");
    dir.write("app.Dockerfile.dockerignore", "node_modules\n");
    dir.write("lone/.dockerignore", "node_modules\n");
    let paths = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["check", "--format", "json"];
        all.extend(args);
        let out = docklint(dir.path(), &all);
        let found: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json");
        found
            .iter()
            .map(|d| d["path"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(paths(&["app.Dockerfile.dockerignore"]), ["app.Dockerfile"]);
    assert_eq!(paths(&[".dockerignore"]), ["Dockerfile", "app.Dockerfile"]);
    assert_eq!(
        paths(&["Dockerfile", ".dockerignore"]),
        ["Dockerfile", "app.Dockerfile"]
    );
    assert!(paths(&["lone/.dockerignore"]).is_empty());
}
