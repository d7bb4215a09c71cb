//! `docklint context` scanning on build contexts made on the spot.

mod common;

use common::TempDir;
use docklint::context::{scan, ContextReport, Entry};

fn entry(path: &str, bytes: u64) -> Entry {
    Entry {
        path: path.to_string(),
        bytes,
    }
}

fn sent_paths(report: &ContextReport) -> Vec<&str> {
    report.sent.iter().map(|e| e.path.as_str()).collect()
}

/// A context with the usual suspects: a git directory, dependencies with one file kept,
/// model weights, a `.gitignore` Docker does not read, and a Dockerfile-specific ignore file.
fn sample_context() -> TempDir {
    let dir = TempDir::new("context");
    dir.write("Dockerfile", "FROM scratch\nCOPY . /\n");
    dir.write("app.Dockerfile", "FROM scratch\nCOPY . /\n");
    dir.write(
        ".dockerignore",
        ".git\nnode_modules\n!node_modules/keep.txt\n*.log\n",
    );
    dir.write("app.Dockerfile.dockerignore", "models\n.git\n");
    dir.write(".gitignore", "src/generated.rs\n");
    dir.write(".git/HEAD", "ref: refs/heads/main\n");
    dir.write(".git/objects/ab/cdef", vec![0u8; 4000]);
    dir.write("node_modules/keep.txt", "kept");
    dir.write("node_modules/left/index.js", vec![b'x'; 3000]);
    dir.write("node_modules/big.bin", vec![0u8; 7000]);
    dir.write("models/x.safetensors", vec![0u8; 50_000]);
    dir.write("src/main.py", "print('hi')\n");
    dir.write("src/generated.rs", "// made by a tool\n");
    dir.write("debug.log", "noise");
    dir
}

#[cfg(unix)]
fn link(target: &str, link: &std::path::Path) {
    std::os::unix::fs::symlink(target, link).unwrap_or_else(|e| panic!("{}: {e}", link.display()));
}

#[test]
fn applies_dockerignore_with_exceptions_and_measures_what_it_saves() {
    let dir = sample_context();
    let report = scan(dir.path(), Some(&dir.path().join("Dockerfile"))).unwrap();
    assert_eq!(report.dockerignore, Some(dir.path().join(".dockerignore")));
    assert_eq!(
        sent_paths(&report),
        [
            ".dockerignore",
            ".gitignore",
            "Dockerfile",
            "app.Dockerfile",
            "app.Dockerfile.dockerignore",
            "models/x.safetensors",
            "node_modules/keep.txt",
            "src/generated.rs",
            "src/main.py",
        ]
    );
    assert_eq!(report.files, 9);
    assert_eq!(
        report.total_bytes,
        report.sent.iter().map(|e| e.bytes).sum::<u64>()
    );
    let git_bytes = 4000 + "ref: refs/heads/main\n".len() as u64;
    assert_eq!(
        report.excluded,
        [
            entry("node_modules", 10_000),
            entry(".git", git_bytes),
            entry("debug.log", 5)
        ]
    );
    assert_eq!(report.largest[0], entry("models/x.safetensors", 50_000));
    assert!(report.largest.len() <= 10);
}

#[test]
fn dockerfile_specific_ignore_file_wins() {
    let dir = sample_context();
    let report = scan(dir.path(), Some(&dir.path().join("app.Dockerfile"))).unwrap();
    assert_eq!(
        report.dockerignore,
        Some(dir.path().join("app.Dockerfile.dockerignore"))
    );
    let sent = sent_paths(&report);
    assert!(!sent.contains(&"models/x.safetensors"));
    assert!(
        sent.contains(&"node_modules/big.bin"),
        "the root .dockerignore is not read"
    );
    assert!(sent.contains(&"debug.log"));
    assert_eq!(report.excluded[0], entry("models", 50_000));
}

#[test]
fn without_dockerignore_everything_is_sent() {
    let dir = TempDir::new("context-plain");
    dir.write(".hidden/file", "h");
    dir.write("a.txt", "abc");
    let report = scan(dir.path(), None).unwrap();
    assert_eq!(report.dockerignore, None);
    assert_eq!(sent_paths(&report), [".hidden/file", "a.txt"]);
    assert!(report.excluded.is_empty());
    assert!(report.render_text().contains(".dockerignore: none"));
}

#[cfg(unix)]
#[test]
fn symlinks_are_sent_as_links_and_never_followed() {
    let outside = TempDir::new("context-outside");
    outside.write("huge.bin", vec![0u8; 100_000]);
    let dir = TempDir::new("context-links");
    dir.write("real.txt", "12345");
    let target = outside.path().to_string_lossy().to_string();
    link(&target, &dir.path().join("outside"));
    link("real.txt", &dir.path().join("alias.txt"));
    let report = scan(dir.path(), None).unwrap();
    assert_eq!(sent_paths(&report), ["alias.txt", "outside", "real.txt"]);
    let outside_link = report.sent.iter().find(|e| e.path == "outside").unwrap();
    assert_eq!(
        outside_link.bytes,
        target.len() as u64,
        "a link weighs its target's name"
    );
    assert!(report.total_bytes < 1000);
}

#[test]
fn walk_keeps_what_docker_keeps_for_repeated_exclusions() {
    // Docker's walk re-includes foo/bar here although MatchesOrParentMatches says excluded.
    let dir = TempDir::new("context-repeat");
    dir.write(".dockerignore", "foo\n!foo/bar\nfoo\n");
    dir.write("foo/bar", "b");
    dir.write("foo/baz", "zz");
    let report = scan(dir.path(), None).unwrap();
    assert_eq!(sent_paths(&report), [".dockerignore", "foo/bar"]);
    assert_eq!(report.excluded, [entry("foo", 2)]);
}

#[test]
fn wildcard_exceptions_reach_deep_files() {
    let dir = TempDir::new("context-deep");
    dir.write(".dockerignore", "build\n!build/**/*.keep\n");
    dir.write("build/a/b/c.keep", "k");
    dir.write("build/a/b/c.o", "ooo");
    let report = scan(dir.path(), None).unwrap();
    assert_eq!(sent_paths(&report), [".dockerignore", "build/a/b/c.keep"]);
    assert_eq!(report.excluded, [entry("build", 3)]);
}

#[test]
fn json_has_the_documented_shape() {
    let dir = sample_context();
    let report = scan(dir.path(), Some(&dir.path().join("Dockerfile"))).unwrap();
    let json = report.to_json();
    let object = json.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "context",
            "dockerignore",
            "excluded",
            "files",
            "largest",
            "sent",
            "total_bytes"
        ]
    );
    assert_eq!(json["context"], dir.path().to_string_lossy().as_ref());
    assert_eq!(
        json["dockerignore"],
        dir.path().join(".dockerignore").to_string_lossy().as_ref()
    );
    assert_eq!(json["files"], 9);
    assert_eq!(
        json["excluded"][0],
        serde_json::json!({"path": "node_modules", "bytes": 10_000})
    );
    assert_eq!(json["largest"][0]["path"], "models/x.safetensors");
    // Serializing the report directly keeps the documented key order.
    let text = serde_json::to_string(&report).unwrap();
    let order: Vec<usize> = [
        "\"context\"",
        "\"dockerignore\"",
        "\"files\"",
        "\"total_bytes\"",
        "\"sent\"",
    ]
    .iter()
    .map(|k| text.find(k).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");

    let none = TempDir::new("context-json-none");
    none.write("a", "a");
    assert!(scan(none.path(), None).unwrap().to_json()["dockerignore"].is_null());
}

#[test]
fn text_summary_names_the_big_things() {
    let dir = sample_context();
    let report = scan(dir.path(), Some(&dir.path().join("Dockerfile"))).unwrap();
    let text = report.render_text();
    assert!(
        text.contains(&format!("Build context: {}", dir.path().display())),
        "{text}"
    );
    assert!(text.contains("Sent: 9 files"), "{text}");
    assert!(text.contains("48.8 KiB  models/x.safetensors"), "{text}");
    assert!(text.contains("9.8 KiB  node_modules"), "{text}");
    assert_eq!(
        text,
        scan(dir.path(), Some(&dir.path().join("Dockerfile")))
            .unwrap()
            .render_text()
    );
}

#[test]
fn errors_name_the_path_and_line() {
    let dir = TempDir::new("context-errors");
    dir.write(".dockerignore", "ok\n!\n");
    let error = scan(dir.path(), None).unwrap_err();
    assert_eq!(error.path, dir.path().join(".dockerignore"));
    assert_eq!(error.line, Some(2));
    assert!(error.to_string().contains(".dockerignore:2:"), "{error}");

    let missing = dir.path().join("missing");
    assert_eq!(scan(&missing, None).unwrap_err().path, missing);
    let file = dir.write("file", "x");
    assert!(scan(&file, None)
        .unwrap_err()
        .message
        .contains("not a directory"));
}

#[cfg(unix)]
#[test]
fn unreadable_directories_are_reported_not_fatal() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("context-unreadable");
    dir.write("ok.txt", "ok");
    dir.write("locked/secret", "s");
    let locked = dir.path().join("locked");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let readable_anyway = std::fs::read_dir(&locked).is_ok(); // root reads everything
    let report = scan(dir.path(), None);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    let report = report.unwrap();
    if !readable_anyway {
        assert_eq!(report.unreadable.len(), 1);
        assert_eq!(report.unreadable[0].path, "locked");
        assert!(report.render_text().contains("locked: cannot read"));
    }
    assert!(sent_paths(&report).contains(&"ok.txt"));
}

#[test]
fn sockets_and_link_loops_are_reported_not_fatal() {
    let dir = TempDir::new("context-special");
    dir.write("ok.txt", "ok");
    link("loop-b", &dir.path().join("loop-a"));
    link("loop-a", &dir.path().join("loop-b"));
    let socket = std::os::unix::net::UnixListener::bind(dir.path().join("agent.sock")).unwrap();
    let report = scan(dir.path(), None).unwrap();
    drop(socket);
    let problems: Vec<&str> = report.unreadable.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(problems, ["agent.sock", "loop-a", "loop-b"]);
    // The links are sent (as links); the socket is not.
    assert_eq!(sent_paths(&report), ["loop-a", "loop-b", "ok.txt"]);
    let text = report.render_text();
    assert!(text.contains("agent.sock: a socket: not sent"), "{text}");
    // The JSON keeps its documented shape; the problems go to standard error.
    let out = common::docklint(dir.path(), &["context", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        common::stderr(&out).contains("loop-a: a symbolic link loop"),
        "{}",
        common::stderr(&out)
    );
}

/// The rules of a `check --format json` run.
fn rules_found(dir: &std::path::Path, args: &[&str]) -> Vec<String> {
    let out = common::docklint(dir, args);
    let found: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", common::stdout(&out)));
    found
        .iter()
        .map(|d| d["rule"].as_str().unwrap_or("").to_string())
        .collect()
}

/// A monorepo whose Compose file builds `services/api/Dockerfile` from the repository root.
fn monorepo(compose_name: &str, compose: &str) -> TempDir {
    let dir = TempDir::new("monorepo");
    dir.write(".git/HEAD", "ref: refs/heads/main\n");
    dir.write(".dockerignore", ".git\n");
    dir.write(compose_name, compose);
    dir.write(
        "services/api/Dockerfile",
        "FROM python:3.12-slim\nCOPY services/api/app.py /app/\nCOPY libs/ /libs/\n",
    );
    dir.write("services/api/app.py", "print('api')\n");
    dir.write("libs/util.py", "x = 1\n");
    dir
}

#[test]
fn a_compose_or_bake_file_above_names_the_context() {
    let long = "services:\n  api:\n    build:\n      context: .\n      dockerfile: services/api/Dockerfile\n";
    let hcl = "variable \"DIR\" {\n  default = \"services\"\n}\n\
               target \"api\" {\n  context = \".\"\n  dockerfile = \"${DIR}/api/Dockerfile\"\n  \
               tags = [\"api:latest\"]\n}\n";
    let json = r#"{"target": {"api": {"dockerfile": "services/api/Dockerfile"}}}"#;
    for (name, compose) in [
        ("compose.yaml", long),
        ("docker-compose.yml", long),
        ("docker-bake.hcl", hcl),
        ("docker-bake.json", json),
    ] {
        let dir = monorepo(name, compose);
        let args = ["check", "--format", "json", "services/api/Dockerfile"];
        assert_eq!(
            rules_found(dir.path(), &args),
            Vec::<String>::new(),
            "{name}"
        );
        // From inside the service's directory, the same context is found above.
        let inside = dir.path().join("services/api");
        let args = ["check", "--format", "json", "Dockerfile"];
        assert_eq!(rules_found(&inside, &args), Vec::<String>::new(), "{name}");
        // `docklint context --dockerfile` reports that context.
        let out = common::docklint(
            &inside,
            &["context", "--format", "json", "--dockerfile", "Dockerfile"],
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(report["context"], "../..", "{}", common::stdout(&out));
        let origin = report["context_origin"].as_str().unwrap_or_default();
        assert!(
            origin.ends_with(&format!(
                "{name} ({} api)",
                if name.contains("bake") {
                    "target"
                } else {
                    "service"
                }
            )),
            "{origin}"
        );
        let sent: Vec<&str> = report["sent"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["path"].as_str())
            .collect();
        assert!(
            sent.contains(&"libs/util.py") && !sent.contains(&".git/HEAD"),
            "{sent:?}"
        );
    }
}

#[test]
fn without_compose_the_context_is_the_dockerfile_directory() {
    let dir = monorepo("README.md", "no compose here\n");
    // A file of the same name in both directories: either may be the context.
    dir.write("requirements.txt", "flask\n");
    dir.write("services/api/requirements.txt", "flask\n");
    dir.write(
        "services/api/Dockerfile",
        "FROM python:3.12-slim\nCOPY requirements.txt /app/\nCOPY services/api/app.py /app/\nCOPY libs/ /libs/\n",
    );
    let args = ["check", "--format", "json", "services/api/Dockerfile"];
    assert_eq!(
        rules_found(dir.path(), &args),
        ["copy-missing-source", "copy-missing-source"]
    );
    // `--context` and `[context]` name it explicitly.
    let args = [
        "check",
        "--format",
        "json",
        "--context",
        ".",
        "services/api/Dockerfile",
    ];
    assert_eq!(rules_found(dir.path(), &args), Vec::<String>::new());
    dir.write(
        "lint.toml",
        "[context]\n\"services/api/Dockerfile\" = \".\"\n",
    );
    let args = ["check", "--format", "json", "services/api/Dockerfile"];
    assert_eq!(rules_found(dir.path(), &args), Vec::<String>::new());
}

#[test]
fn a_dockerignore_above_silences_the_missing_dockerignore_of_a_defaulted_context() {
    // `docker build -f backend/Dockerfile .` from a Makefile: the context is the root, whose
    // .dockerignore docklint cannot tie to the Dockerfile. Nothing is said of backend/.
    let dir = monorepo("README.md", "no compose here\n");
    dir.write(
        "services/api/Dockerfile",
        "FROM python:3.12-slim\nCOPY . /app\n",
    );
    dir.write("services/api/__pycache__/app.cpython-312.pyc", "x");
    dir.write("services/api/.venv/pyvenv.cfg", "home = /usr\n");
    let args = ["check", "--format", "json", "services/api/Dockerfile"];
    assert_eq!(rules_found(dir.path(), &args), Vec::<String>::new());
    // Without the .dockerignore above, the Dockerfile's directory is all there is to judge.
    std::fs::remove_file(dir.path().join(".dockerignore")).unwrap();
    assert_eq!(rules_found(dir.path(), &args), ["missing-dockerignore"]);
    // A context named explicitly is judged as it is, whatever lies above it.
    dir.write(".dockerignore", ".git\n");
    let args = [
        "check",
        "--format",
        "json",
        "--context",
        "services/api",
        "services/api/Dockerfile",
    ];
    assert_eq!(rules_found(dir.path(), &args), ["missing-dockerignore"]);
}

#[test]
fn a_short_form_compose_build_is_the_dockerfile_directory() {
    // `build: ./services/api` builds services/api/Dockerfile with that directory as context.
    let dir = monorepo(
        "compose.yaml",
        "services:\n  api:\n    build: ./services/api\n",
    );
    dir.write(
        "services/api/Dockerfile",
        "FROM python:3.12-slim\nCOPY app.py /app/\n",
    );
    let args = ["check", "--format", "json", "services/api/Dockerfile"];
    assert_eq!(rules_found(dir.path(), &args), Vec::<String>::new());
}

#[test]
fn a_dockerignore_fix_is_shown_and_applied_like_any_other() {
    let dir = TempDir::new("gaps-fix");
    dir.write(".dockerignore", "node_modules\n");
    dir.write(".env", "TOKEN=x\n");
    dir.write("src/__pycache__/a.cpython-312.pyc", "x");
    dir.write("src/a.py", "print(1)\n");
    dir.write(
        "Dockerfile",
        "FROM python:3.12-slim\nCOPY src/ /app/\nCOPY . /all/\n",
    );
    let out = common::docklint(
        dir.path(),
        &["check", "--diff", "--unsafe-fixes", "Dockerfile"],
    );
    let diff = common::stdout(&out);
    assert!(
        diff.contains("--- a/.dockerignore\n+++ b/.dockerignore\n") && diff.contains("+.env\n"),
        "{diff}"
    );
    assert_eq!(
        dir.read(".dockerignore"),
        "node_modules\n",
        "--diff changes nothing"
    );
    let out = common::docklint(
        dir.path(),
        &["check", "--fix", "--unsafe-fixes", "Dockerfile"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let fixed = dir.read(".dockerignore");
    assert!(
        fixed.starts_with("node_modules\n") && fixed.contains(".env\n"),
        "{fixed}"
    );
    // Idempotent: nothing left to fix.
    let out = common::docklint(
        dir.path(),
        &["check", "--diff", "--unsafe-fixes", "Dockerfile"],
    );
    assert_eq!(common::stdout(&out), "");
}
