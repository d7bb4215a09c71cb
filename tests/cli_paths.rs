//! Which paths `check` lints, and what it says about those it cannot: a bad path is an
//! error of its own, never the end of the run.

mod common;

use common::{assert_contains, docklint, json_array, stderr, stdout, TempDir};

const PIP: &str = "FROM python:3.12-slim\nRUN pip install flask\n";

#[test]
fn a_missing_path_is_an_error_and_the_other_files_are_still_linted() {
    let dir = TempDir::new("missing");
    dir.write("good/Dockerfile", PIP);
    let text = docklint(dir.path(), &["check", "good/Dockerfile", "missing"]);
    assert_eq!(text.status.code(), Some(2));
    assert_contains(&stdout(&text), "missing-cache-mount");
    assert_contains(&stdout(&text), "1 path could not be linted");
    assert_contains(
        &stderr(&text),
        "docklint: missing: No such file or directory",
    );
    let json = docklint(
        dir.path(),
        &["check", "--format", "json", "good/Dockerfile", "missing"],
    );
    assert_eq!(json.status.code(), Some(2));
    let items = json_array(&json);
    let rules: Vec<(&str, &str)> = items
        .iter()
        .map(|d| (d["rule"].as_str().unwrap(), d["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        [
            ("missing-cache-mount", "good/Dockerfile"),
            ("io-error", "missing")
        ]
    );
}

/// A directory whose path is longer than the system allows cannot be read, by root too.
fn unreadable_directory(dir: &TempDir) -> std::path::PathBuf {
    let segment = "d".repeat(200);
    let script =
        format!("cd deep && for i in $(seq 30); do mkdir {segment} && cd -P {segment}; done");
    std::fs::create_dir(dir.path().join("deep")).expect("mkdir");
    let made = std::process::Command::new("sh")
        .args(["-c", &script])
        .current_dir(dir.path())
        .status()
        .expect("sh");
    assert!(made.success());
    dir.path().join("deep")
}

#[test]
fn an_unreadable_directory_met_while_walking_does_not_stop_the_walk() {
    let dir = TempDir::new("unreadable");
    unreadable_directory(&dir);
    dir.write("zz/Dockerfile", PIP);
    let out = docklint(dir.path(), &["check", "--format", "json", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let items = json_array(&out);
    assert!(
        items
            .iter()
            .any(|d| d["rule"] == "missing-cache-mount" && d["path"] == "./zz/Dockerfile"),
        "{items:?}"
    );
    assert!(items.iter().any(|d| d["rule"] == "io-error"), "{items:?}");
    assert_contains(&stderr(&out), "File name too long");
    // Clean-up must not trip over the path either.
    let _ = std::process::Command::new("rm")
        .args(["-rf", "deep"])
        .current_dir(dir.path())
        .status();
}

#[test]
fn json_stdout_is_an_array_in_every_run() {
    let dir = TempDir::new("json-always");
    dir.write("Dockerfile", PIP);
    dir.write("bad/lint.toml", "selectt = []\n");
    dir.write("bad/Dockerfile", PIP);
    for args in [
        &["check", "--format", "json", "missing"][..],
        &["check", "--format", "json", "bad"],
        &[
            "check",
            "--format",
            "json",
            "--select",
            "nope",
            "Dockerfile",
        ],
        &["check", "--format", "json", "--no-such-flag", "Dockerfile"],
        &["check", "--format", "json", "--fix", "Dockerfile"],
        &["check", "--format", "json", "--statistics", "Dockerfile"],
    ] {
        let out = docklint(dir.path(), args);
        let _ = json_array(&out);
    }
}

#[test]
fn templates_and_leftovers_are_not_linted_by_one_rule() {
    let dir = TempDir::new("names");
    for name in [
        "Dockerfile.rej",
        "Dockerfile.hbs",
        "Dockerfile.gotmpl",
        "Dockerfile.tmpl",
        "Dockerfile.orig",
        "Dockerfile.j2",
        "Dockerfile.in",
        "Dockerfile.dev",
        "api.Dockerfile",
        "Containerfile",
    ] {
        dir.write(name, PIP);
    }
    let out = docklint(dir.path(), &["check", "--format", "json", "."]);
    let mut paths: Vec<String> = json_array(&out)
        .iter()
        .map(|d| d["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        ["./Containerfile", "./Dockerfile.dev", "./api.Dockerfile"]
    );
    // Named on the command line, any file is linted.
    let named = docklint(
        dir.path(),
        &["check", "--format", "json", "Dockerfile.tmpl"],
    );
    assert_eq!(json_array(&named).len(), 1);
}

#[test]
fn a_dockerignore_docker_rejects_is_reported_where_it_fails() {
    let dir = TempDir::new("dockerignore");
    dir.write("svc/Dockerfile", "FROM alpine:3.20\nCOPY . .\n");
    dir.write("svc/.dockerignore", "node_modules\n[\n");
    let out = docklint(dir.path(), &["check", "--format", "json", "svc"]);
    assert_eq!(out.status.code(), Some(1));
    let items = json_array(&out);
    assert_eq!(items.len(), 1, "{items:?}");
    let d = &items[0];
    assert_eq!(
        (
            d["rule"].as_str(),
            d["path"].as_str(),
            d["line"].as_u64(),
            d["column"].as_u64()
        ),
        (
            Some("syntax-error"),
            Some("svc/.dockerignore"),
            Some(2),
            Some(1)
        )
    );
    let text = docklint(dir.path(), &["check", "svc"]);
    assert_contains(&stdout(&text), "svc/.dockerignore:2:1");
}

#[test]
fn a_broken_lint_toml_stops_only_the_files_under_it() {
    let dir = TempDir::new("bad-config");
    dir.write("a/lint.toml", "selectt = []\n");
    dir.write("a/Dockerfile", PIP);
    dir.write("b/Dockerfile", PIP);
    let out = docklint(dir.path(), &["check", "--format", "json", "."]);
    assert_eq!(out.status.code(), Some(2));
    let found: Vec<(String, String)> = json_array(&out)
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().into(),
                d["path"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("io-error".to_string(), "./a/Dockerfile".to_string()),
            (
                "missing-cache-mount".to_string(),
                "./b/Dockerfile".to_string()
            )
        ]
    );
    let err = stderr(&out);
    assert_eq!(
        err.matches("unknown field `selectt`").count(),
        2,
        "shown once: {err}"
    );
    assert_contains(&err, "lint.toml:1:1");
}
