//! The command line end to end: exit codes, formats, --fix and --diff, configuration,
//! discovery, and the file shapes other tools get wrong (heredocs, Windows escape, CRLF, BOM).

mod common;

use common::{check_json, docklint, docklint_with_stdin, stderr, stdout, TempDir};
use serde_json::Value;

fn json(output: &std::process::Output) -> Vec<Value> {
    serde_json::from_slice::<Vec<Value>>(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(output)))
}

fn rules_of(diagnostics: &[Value]) -> Vec<(String, u64)> {
    diagnostics
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

const PIP: &str = "FROM python:3.12-slim\nRUN pip install flask\n";
const CLEAN: &str = "FROM alpine:3.20\nCMD [\"sh\"]\n";

#[test]
fn exit_codes_follow_fail_on() {
    let dir = TempDir::new("exit");
    dir.write("clean/Dockerfile", CLEAN);
    dir.write("pip/Dockerfile", PIP);
    dir.write(
        "info/Dockerfile",
        "FROM alpine:3.20\nRUN echo a\nRUN echo b\n",
    );
    assert_eq!(
        docklint(dir.path(), &["check", "clean"]).status.code(),
        Some(0)
    );
    assert_eq!(
        docklint(dir.path(), &["check", "pip"]).status.code(),
        Some(1)
    );
    assert_eq!(
        docklint(dir.path(), &["check", "--fail-on", "error", "pip"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        docklint(dir.path(), &["check", "info"]).status.code(),
        Some(0),
        "info is below the default fail-on"
    );
    assert_eq!(
        docklint(dir.path(), &["check", "--fail-on", "info", "info"])
            .status
            .code(),
        Some(1)
    );
    let missing = docklint(dir.path(), &["check", "nowhere"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("nowhere"), "{}", stderr(&missing));
    let bad_select = docklint(
        dir.path(),
        &["check", "--select", "missing-cache-mounts", "pip"],
    );
    assert_eq!(bad_select.status.code(), Some(2));
    assert!(
        stderr(&bad_select).contains("did you mean `missing-cache-mount`"),
        "{}",
        stderr(&bad_select)
    );
    assert_eq!(
        docklint(dir.path(), &["check", "--select", "layers", "pip"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn a_broken_file_is_a_diagnostic_and_everything_else_is_still_linted() {
    let dir = TempDir::new("broken");
    dir.write("a/Dockerfile", "FROM python:3.12\nRUN pip install flask\nFROOM x\nRUN pip install requests\nRUN <<EOF\necho never closed\n");
    dir.write("b/Dockerfile", PIP);
    let out = docklint(dir.path(), &["check", "--format", "json", "."]);
    assert_eq!(out.status.code(), Some(1));
    let found = rules_of(&json(&out));
    for expected in [
        ("missing-cache-mount", 2),
        ("syntax-error", 3),
        ("missing-cache-mount", 4),
        ("syntax-error", 5),
        ("missing-cache-mount", 2),
    ] {
        assert!(
            found.contains(&(expected.0.to_string(), expected.1)),
            "{expected:?} not in {found:?}"
        );
    }
    let paths: Vec<String> = json(&out)
        .iter()
        .map(|d| d["path"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        paths.iter().any(|p| p.ends_with("a/Dockerfile"))
            && paths.iter().any(|p| p.ends_with("b/Dockerfile"))
    );
}

#[test]
fn json_output_has_the_documented_shape() {
    let dir = TempDir::new("json");
    dir.write(
        "Dockerfile",
        "FROM python:3.12-slim\nRUN pip install --no-cache-dir flask\n",
    );
    let out = docklint(dir.path(), &["check", "--format", "json", "Dockerfile"]);
    let d = &json(&out)[0];
    assert_eq!(d["rule"], "missing-cache-mount");
    assert_eq!(d["family"], "cache");
    assert_eq!(d["severity"], "warning");
    assert_eq!(d["path"], "Dockerfile");
    assert_eq!(
        (
            d["line"].as_u64(),
            d["column"].as_u64(),
            d["end_line"].as_u64(),
            d["end_column"].as_u64()
        ),
        (Some(2), Some(5), Some(2), Some(37))
    );
    assert_eq!(d["fix"]["applicability"], "safe");
    let edits = d["fix"]["edits"].as_array().expect("edits");
    assert_eq!(
        edits[0]["content"],
        "--mount=type=cache,target=/root/.cache/pip "
    );
    assert_eq!(
        (
            edits[1]["line"].as_u64(),
            edits[1]["column"].as_u64(),
            edits[1]["end_column"].as_u64()
        ),
        (Some(2), Some(17), Some(32))
    );
}

#[test]
fn fix_rewrites_in_place_keeping_crlf_bom_and_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("fix");
    let original = "\u{feff}FROM python:3.12-slim\r\nRUN pip install --no-cache-dir flask\r\nRUN echo done\r\n";
    let path = dir.write("Dockerfile", original);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o751)).expect("chmod");
    let out = docklint(dir.path(), &["check", "--fix", "Dockerfile"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let fixed = dir.read("Dockerfile");
    assert_eq!(
        fixed,
        "\u{feff}FROM python:3.12-slim\r\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\r\nRUN echo done\r\n"
    );
    assert_eq!(
        std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777,
        0o751
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "temporary files left behind: {leftovers:?}"
    );
    let again = docklint(dir.path(), &["check", "--fix", "Dockerfile"]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(
        dir.read("Dockerfile"),
        fixed,
        "a second --fix changes nothing"
    );
}

#[test]
fn diff_shows_fixes_and_changes_nothing() {
    let dir = TempDir::new("diff");
    dir.write(
        "Dockerfile",
        "FROM python:3.12-slim\nRUN pip install flask\n",
    );
    let out = docklint(dir.path(), &["check", "--diff", "Dockerfile"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("-RUN pip install flask\n+RUN --mount=type=cache,target=/root/.cache/pip pip install flask\n"), "{}", stdout(&out));
    assert_eq!(
        dir.read("Dockerfile"),
        "FROM python:3.12-slim\nRUN pip install flask\n"
    );
    dir.write("Dockerfile", CLEAN);
    let out = docklint(dir.path(), &["check", "--diff", "Dockerfile"]);
    assert_eq!((out.status.code(), stdout(&out).as_str()), (Some(0), ""));
}

#[test]
fn unsafe_fixes_need_the_flag() {
    let dir = TempDir::new("unsafe");
    let text =
        "FROM python:3.12-slim\nRUN useradd -m app\nUSER app\nRUN pip install --user flask\n";
    dir.write("Dockerfile", text);
    assert_eq!(
        docklint(dir.path(), &["check", "--fix", "Dockerfile"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(dir.read("Dockerfile"), text);
    docklint(
        dir.path(),
        &["check", "--fix", "--unsafe-fixes", "Dockerfile"],
    );
    // The uid is not in the file: the mount is writable by all, outside the user's home.
    assert!(dir.read("Dockerfile").contains(
        "RUN --mount=type=cache,target=/var/cache/pip,mode=0777 PIP_CACHE_DIR=/var/cache/pip pip install --user flask"
    ), "{}", dir.read("Dockerfile"));
}

#[test]
fn stdin_is_linted_under_its_given_name_and_fixed_to_stdout() {
    let dir = TempDir::new("stdin");
    let out = docklint_with_stdin(
        dir.path(),
        &[
            "check",
            "--format",
            "json",
            "--stdin-filename",
            "svc/Dockerfile",
            "-",
        ],
        Some(PIP),
    );
    assert_eq!(json(&out)[0]["path"], "svc/Dockerfile");
    let out = docklint_with_stdin(dir.path(), &["check", "--fix", "-"], Some(PIP));
    assert_eq!(
        stdout(&out),
        "FROM python:3.12-slim\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\n"
    );
}

#[test]
fn heredoc_followed_directly_by_an_instruction() {
    let text = "FROM python:3.12\nRUN <<EOF\npip install flask\nEOF\nRUN pip install requests\nRUN python - <<'PY'\nprint('hi')\nPY\nCOPY <<EOF /etc/x\na\nEOF\n";
    let found = rules_of(&check_json(text, &["--select", "core,cache"]));
    assert_eq!(
        found,
        [
            ("missing-cache-mount".to_string(), 3),
            ("missing-cache-mount".to_string(), 5)
        ]
    );
}

#[test]
fn a_powershell_file_with_backtick_escape_is_not_read_as_sh() {
    let dir = TempDir::new("windows");
    dir.write(
        "Dockerfile",
        "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL [\"powershell\", \"-Command\"]\nRUN Write-Host `\n    hello ; pip install flask\nRUN Write-Host world\nCOPY C:\\src\\ C:\\app\\\n",
    );
    // The context holds what the COPY names (`C:\src\` is `src` in it).
    dir.write("src/app.ps1", "Write-Host app\n");
    let out = docklint(dir.path(), &["check", "--format", "json", "Dockerfile"]);
    let found = rules_of(&json(&out));
    assert_eq!(
        found,
        [("consecutive-run".to_string(), 6)],
        "no syntax error, no sh-based rule"
    );
    assert!(json(&out)[0]["fix"].is_null(), "no && merge for PowerShell");
}

#[test]
fn crlf_and_bom_files_report_the_right_positions() {
    let dir = TempDir::new("crlf");
    dir.write(
        "crlf.Dockerfile",
        "FROM python:3.12-slim\r\n# a comment\r\nRUN pip install flask\r\n",
    );
    dir.write(
        "bom.Dockerfile",
        "\u{feff}FROM python:3.12-slim\nRUN pip install flask\n",
    );
    let out = docklint(dir.path(), &["check", "--format", "json", "."]);
    let ds = json(&out);
    let at: Vec<(&str, u64, u64, u64)> = ds
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap_or(""),
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
                d["end_column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        at,
        [
            ("./bom.Dockerfile", 2, 5, 22),
            ("./crlf.Dockerfile", 3, 5, 22)
        ]
    );
}

#[test]
fn configuration_is_found_upward_and_bad_keys_are_pointed_at() {
    let dir = TempDir::new("config");
    dir.write("lint.toml", "ignore = [\"cache\"]\n");
    dir.write("svc/api/Dockerfile", PIP);
    assert_eq!(
        docklint(dir.path(), &["check", "svc"]).status.code(),
        Some(0)
    );
    assert_eq!(
        docklint(dir.path(), &["check", "--no-config", "svc"])
            .status
            .code(),
        Some(1)
    );
    dir.write(
        "svc/lint.toml",
        "select = [\"all\"]\ncache-stategy = \"clean\"\n",
    );
    let out = docklint(dir.path(), &["check", "svc"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("unknown field `cache-stategy`") && err.contains("lint.toml:2:1"),
        "{err}"
    );
}

#[test]
fn directories_are_walked_honouring_gitignore() {
    let dir = TempDir::new("walk");
    dir.write(".gitignore", "vendor/\n");
    dir.write("vendor/Dockerfile", PIP);
    dir.write("app/Dockerfile.dev", PIP);
    dir.write("app/api.dockerfile", PIP);
    dir.write("app/Dockerfile.dockerignore", "node_modules\n");
    dir.write(".devcontainer/Containerfile", PIP);
    dir.write("app/notes.md", "RUN pip install x\n");
    let out = docklint(dir.path(), &["check", "--format", "json", "."]);
    let mut paths: Vec<String> = json(&out)
        .iter()
        .map(|d| d["path"].as_str().unwrap_or("").to_string())
        .collect();
    paths.dedup();
    assert_eq!(
        paths,
        [
            "./.devcontainer/Containerfile",
            "./app/Dockerfile.dev",
            "./app/api.dockerfile"
        ]
    );
}

#[test]
fn text_output_points_at_the_source() {
    let dir = TempDir::new("text");
    dir.write(
        "Dockerfile",
        "FROM python:3.12-slim\nRUN pip install --no-cache-dir flask\nRUN echo done\n",
    );
    let out = docklint(dir.path(), &["check", "Dockerfile"]);
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("cli@text_output", stdout(&out));
    });
}

#[test]
fn rules_and_explain() {
    let dir = TempDir::new("rules");
    let out = docklint(dir.path(), &["rules", "--format", "json"]);
    let rules: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json");
    let names: Vec<&str> = rules.iter().filter_map(|r| r["name"].as_str()).collect();
    assert!(
        names.contains(&"missing-cache-mount") && names.contains(&"consecutive-run"),
        "{names:?}"
    );
    let out = docklint(dir.path(), &["explain", "consecutive-run"]);
    assert!(stdout(&out).starts_with("# consecutive-run\n"));
    assert_eq!(
        docklint(dir.path(), &["explain", "nope"]).status.code(),
        Some(2)
    );
}
