//! What `check` shows a person: columns in characters, nothing raw from a file, the
//! formats and switches of a linter, and rule names other tools use.

mod common;

use common::{assert_contains, docklint, docklint_env, json_array, stderr, stdout, TempDir};

const PIP: &str = "FROM python:3.12-slim\nRUN pip install flask\n";

#[test]
fn columns_count_characters_in_every_format() {
    let dir = TempDir::new("columns");
    dir.write(
        "Dockerfile",
        "FROM python:3.12-slim\n# a comment\nRUN echo \"日本語\" && pip install flask\n",
    );
    let json = json_array(&docklint(
        dir.path(),
        &["check", "--format", "json", "Dockerfile"],
    ));
    assert_eq!(
        (json[0]["line"].as_u64(), json[0]["column"].as_u64()),
        (Some(3), Some(19))
    );
    let text = stdout(&docklint(dir.path(), &["check", "Dockerfile"]));
    assert_contains(&text, "[Dockerfile:3:19]");
    let concise = stdout(&docklint(
        dir.path(),
        &["check", "--format", "concise", "Dockerfile"],
    ));
    assert!(
        concise.starts_with("Dockerfile:3:19: warning [missing-cache-mount] "),
        "{concise}"
    );
}

/// Bytes that change a terminal when printed raw.
fn has_terminal_controls(output: &[u8]) -> bool {
    output
        .iter()
        .any(|&b| b == 0x1b || b == 0x07 || b == 0 || b == 0x9b)
}

#[test]
fn control_characters_from_a_file_are_shown_escaped() {
    let dir = TempDir::new("controls");
    dir.write(
        "Dockerfile",
        "FROM python:3.12-slim\nRUN pip install flask # \x1b]0;PWNED\x07\x1b[2J\n",
    );
    for format in ["text", "concise"] {
        let out = docklint(dir.path(), &["check", "--format", format, "Dockerfile"]);
        assert!(
            !has_terminal_controls(&out.stdout),
            "{format}: {}",
            stdout(&out)
        );
        if format == "text" {
            assert_contains(&stdout(&out), "# \\x1b]0;PWNED\\x07\\x1b[2J");
        }
    }
    let diff = docklint(
        dir.path(),
        &["check", "--diff", "--color", "always", "Dockerfile"],
    );
    let shown = String::from_utf8_lossy(&diff.stdout).replace("\x1b[", "");
    assert_contains(&shown, "\\x1b]0;PWNED\\x07");
    assert!(!shown.contains('\x07'), "{shown}");
    // Piped without colour, a diff is a patch: every byte is kept.
    let patch = docklint(dir.path(), &["check", "--diff", "Dockerfile"]);
    assert_contains(&stdout(&patch), "\x1b]0;PWNED\x07");
}

#[test]
fn a_binary_file_is_said_not_to_be_a_dockerfile_and_nothing_raw_is_printed() {
    let dir = TempDir::new("binary");
    let mut bytes = b"\x7fELF\x02\x01\x01\0\0\0\0\0\x1b[2J\x07".to_vec();
    bytes.extend((0u8..=255).cycle().take(4096));
    dir.write("Dockerfile", &bytes);
    let out = docklint(dir.path(), &["check", "Dockerfile"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!has_terminal_controls(&out.stdout), "{}", stdout(&out));
    assert_contains(
        &stdout(&out),
        "not a Dockerfile: the file holds binary data (a NUL byte on line 1)",
    );
    assert_contains(&stdout(&out), "Found 2 problems (2 errors)");
}

#[test]
fn rule_aliases_are_accepted_wherever_a_rule_name_is() {
    let dir = TempDir::new("aliases");
    dir.write("Dockerfile", "FROM alpine:3.20\nRUN echo a\nRUN echo b\n");
    let rules = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["check", "--format", "json"];
        all.extend(args);
        all.push("Dockerfile");
        json_array(&docklint(dir.path(), &all))
            .iter()
            .map(|d| d["rule"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(rules(&["--select", "DL3059"]), ["consecutive-run"]);
    assert!(rules(&["--ignore", "dl3059"]).is_empty());
    let explain = docklint(dir.path(), &["explain", "DL3059"]);
    assert!(
        stdout(&explain).starts_with("# consecutive-run\n"),
        "{}",
        stdout(&explain)
    );
    dir.write(
        "lint.toml",
        "select = [\"DL3059\"]\n[severity]\nDL3059 = \"error\"\n",
    );
    let configured = json_array(&docklint(
        dir.path(),
        &["check", "--format", "json", "Dockerfile"],
    ));
    assert_eq!(configured[0]["severity"], "error");
    dir.write(
        "lint.toml",
        "[per-file-ignores]\n\"Dockerfile\" = [\"DL3059\"]\n",
    );
    assert!(json_array(&docklint(
        dir.path(),
        &["check", "--format", "json", "Dockerfile"]
    ))
    .is_empty());
}

#[test]
fn concise_statistics_and_quiet() {
    let dir = TempDir::new("formats");
    dir.write("a/Dockerfile", PIP);
    dir.write(
        "b/Dockerfile",
        "FROM python:3.12-slim\nRUN echo b\nRUN pip install x\n",
    );
    let concise = stdout(&docklint(
        dir.path(),
        &["check", "--format", "concise", "--quiet", "."],
    ));
    assert_eq!(
        concise,
        "./a/Dockerfile:2:5: warning [missing-cache-mount] pip runs without a cache mount on /root/.cache/pip: every build downloads its packages again\n\
         ./b/Dockerfile:3:1: info [consecutive-run] this RUN follows another RUN with the same flags: two layers where one would do\n\
         ./b/Dockerfile:3:5: warning [missing-cache-mount] pip runs without a cache mount on /root/.cache/pip: every build downloads its packages again\n"
    );
    let statistics = stdout(&docklint(dir.path(), &["check", "--statistics", "."]));
    assert_eq!(
        statistics,
        "2  missing-cache-mount  warning  2 fixable\n1  consecutive-run      info     1 fixable\n\
         Found 3 problems (2 warnings, 1 info) in 2 of 2 files. 3 fixable with `--fix`.\n"
    );
    let json = json_array(&docklint(
        dir.path(),
        &["check", "--statistics", "--format", "json", "."],
    ));
    assert_eq!(json[0]["rule"], "missing-cache-mount");
    assert_eq!(
        (json[0]["count"].as_u64(), json[0]["fixable"].as_u64()),
        (Some(2), Some(2))
    );
    let quiet = docklint(dir.path(), &["check", "--quiet", "--fix", "."]);
    assert_eq!((stdout(&quiet).as_str(), stderr(&quiet).as_str()), ("", ""));
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let dir = TempDir::new("color");
    dir.write("Dockerfile", PIP);
    let painted = |args: &[&str], env: &[(&str, &str)]| {
        docklint_env(dir.path(), args, env).stdout.contains(&0x1b)
    };
    let concise = ["check", "--format", "concise", "Dockerfile"];
    assert!(!painted(&concise, &[]), "not a terminal: no colour");
    let always = [
        "check",
        "--format",
        "concise",
        "--color",
        "always",
        "Dockerfile",
    ];
    assert!(
        painted(&always, &[("NO_COLOR", "1")]),
        "--color always wins over NO_COLOR"
    );
    let never = ["check", "--color", "never", "Dockerfile"];
    assert!(!painted(&never, &[("NO_COLOR", "")]));
}

#[test]
fn the_summary_names_the_unsafe_fixes() {
    let dir = TempDir::new("unsafe-summary");
    dir.write(
        "Dockerfile",
        "FROM python:3.12-slim\nRUN useradd -m app\nUSER app\nRUN pip install --user flask\n",
    );
    let out = stdout(&docklint(dir.path(), &["check", "Dockerfile"]));
    assert!(
        out.ends_with("1 fixable with `--fix --unsafe-fixes` (unsafe: missing-cache-mount).\n"),
        "{out}"
    );
}

#[test]
fn context_shows_file_names_escaped() {
    let dir = TempDir::new("context-names");
    dir.write("Dockerfile", "FROM alpine:3.20\nCOPY . .\n");
    dir.write("evil\x1b[2Jname", "x");
    let out = docklint(dir.path(), &["context", "."]);
    assert!(!has_terminal_controls(&out.stdout), "{}", stdout(&out));
    assert_contains(&stdout(&out), "evil\\x1b[2Jname");
}

/// A file with thousands of findings is judged and written on every core, a run of
/// diagnostics at a time: the output is the same list, in file order, in every format, and
/// JSON stays one array across the runs and across files.
#[test]
fn thousands_of_findings_come_out_whole_and_in_order() {
    const RUNS: usize = 3000;
    let dir = TempDir::new("thousands");
    let mut text = String::from("FROM alpine:3.20\n");
    for i in 0..RUNS {
        text.push_str(&format!("RUN echo line{i}\n"));
    }
    dir.write("a/Dockerfile", &text);
    dir.write("b/Dockerfile", &text);
    // One finding on every RUN but the first, on lines 3 to RUNS + 1.
    let lines: Vec<u64> = (3..=RUNS as u64 + 1).collect();
    let json = json_array(&docklint(
        dir.path(),
        &["check", "--format", "json", "a", "b"],
    ));
    assert_eq!(json.len(), 2 * (RUNS - 1));
    for (file, half) in ["a/Dockerfile", "b/Dockerfile"]
        .iter()
        .zip(json.chunks(RUNS - 1))
    {
        let got: Vec<u64> = half.iter().filter_map(|d| d["line"].as_u64()).collect();
        assert_eq!(got, lines, "{file}");
        assert!(half
            .iter()
            .all(|d| d["path"] == *file && d["fix"]["edits"].is_array()));
    }
    let concise = stdout(&docklint(
        dir.path(),
        &["check", "--format", "concise", "a/Dockerfile"],
    ));
    let got: Vec<u64> = concise
        .lines()
        .filter_map(|l| l.split(':').nth(1)?.parse().ok())
        .collect();
    assert_eq!(got, lines);
    let text = stdout(&docklint(dir.path(), &["check", "a/Dockerfile"]));
    let got: Vec<u64> = text
        .split("[a/Dockerfile:")
        .skip(1)
        .filter_map(|rest| rest.split(':').next()?.parse().ok())
        .collect();
    assert_eq!(got, lines);
    assert_eq!(text.matches("consecutive-run").count(), RUNS - 1);
}
