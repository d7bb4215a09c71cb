//! `--fix` and `--diff` from the command line: the counts they give agree with `check`'s,
//! their exit codes follow `--fail-on`, and writing files keeps links, modes and promises.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{assert_contains, docklint, number_before, stderr, stdout, TempDir};

const PIP: &str = "FROM python:3.12-slim\nRUN pip install flask\n";

/// The example projects' Dockerfiles, where fixes overlap and settle over several passes.
fn examples(dir: &TempDir) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for project in ["cuda-models", "go-toolchain", "nextjs-heap", "pytorch-api"] {
        let text = std::fs::read_to_string(root.join(project).join("Dockerfile")).expect("example");
        dir.write(&format!("{project}/Dockerfile"), text);
    }
}

#[test]
fn check_diff_and_fix_count_the_same_fixable_problems() {
    let dir = TempDir::new("counts");
    examples(&dir);
    let number = |text: &str, marker: &str| {
        number_before(text, marker).unwrap_or_else(|| panic!("no count in {text}"))
    };
    let check = stdout(&docklint(dir.path(), &["check", "."]));
    let fixable = number(&check, " fixable with `--fix`");
    let diff = docklint(dir.path(), &["check", "--diff", "."]);
    let would = number(&stderr(&diff), " problems in");
    let fix = docklint(dir.path(), &["check", "--fix", "."]);
    let fixed_line = stdout(&fix);
    let fixed = number(&fixed_line, " problems in");
    assert_eq!(
        (would, fixed),
        (fixable, fixable),
        "{check}\n{}\n{fixed_line}",
        stderr(&diff)
    );
    assert_contains(&fixed_line, "Fixed ");
    assert!(!fixed_line.contains("No problems found"), "{fixed_line}");
}

#[test]
fn fix_says_what_it_fixed_and_that_nothing_remains() {
    let dir = TempDir::new("fixed-all");
    dir.write(
        "Dockerfile",
        "FROM python:3.12-slim\nRUN echo start\nRUN echo done\nRUN pip install flask\n",
    );
    let out = docklint(dir.path(), &["check", "--fix", "Dockerfile"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "Fixed 3 problems in 1 of 1 file. No problems remain.\n"
    );
}

#[test]
fn a_write_that_fails_is_an_error_and_not_counted_as_fixed() {
    let dir = TempDir::new("read-only");
    let path = dir.write("Dockerfile", PIP);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let out = docklint(dir.path(), &["check", "--fix", "Dockerfile"]);
    assert_eq!(out.status.code(), Some(2));
    assert_contains(
        &stderr(&out),
        "Dockerfile: cannot write the fixed file: the file is read-only",
    );
    assert!(!stdout(&out).contains("Fixed"), "{}", stdout(&out));
    assert_contains(&stdout(&out), "Found 1 problem");
    assert_eq!(dir.read("Dockerfile"), PIP);
}

#[test]
fn diff_with_unsafe_fixes_says_how_to_apply_them() {
    let dir = TempDir::new("diff-unsafe");
    dir.write(
        "Dockerfile",
        "FROM python:3.12-slim\nRUN useradd -m app\nUSER app\nRUN pip install --user flask\n",
    );
    let out = docklint(
        dir.path(),
        &["check", "--diff", "--unsafe-fixes", "Dockerfile"],
    );
    assert_contains(
        &stderr(&out),
        "apply with `docklint check --fix --unsafe-fixes`",
    );
    let safe_only = docklint(dir.path(), &["check", "--diff", "Dockerfile"]);
    assert!(
        stderr(&safe_only).starts_with(
            "Nothing to fix in 1 file. 1 more with `--unsafe-fixes` (unsafe: missing-cache-mount)."
        ),
        "{}",
        stderr(&safe_only)
    );
}

#[test]
fn a_file_that_is_not_utf8_is_not_called_fixable_and_fix_says_why() {
    let dir = TempDir::new("latin1");
    let bytes = b"FROM python:3.12-slim\n# caf\xe9\nRUN pip install flask\n";
    dir.write("Dockerfile", bytes);
    let check = stdout(&docklint(dir.path(), &["check", "Dockerfile"]));
    assert!(!check.contains("fixable"), "{check}");
    assert_contains(&check, "not valid UTF-8");
    let fix = docklint(dir.path(), &["check", "--fix", "Dockerfile"]);
    assert_contains(
        &stderr(&fix),
        "Dockerfile: not rewritten: it is not valid UTF-8",
    );
    assert!(!stdout(&fix).contains("Fixed"), "{}", stdout(&fix));
    assert_eq!(std::fs::read(dir.path().join("Dockerfile")).unwrap(), bytes);
    let piped = common::docklint_with_stdin_bytes(dir.path(), &["check", "--fix", "-"], bytes);
    assert_eq!(
        piped.stdout, bytes,
        "standard input comes back byte for byte"
    );
}

#[test]
fn diff_exit_codes_follow_fail_on() {
    let dir = TempDir::new("diff-exit");
    dir.write("fixable/Dockerfile", PIP);
    dir.write("unfixable/Dockerfile", "FROM alpine:3.20\nFROOM x\n");
    let code = |args: &[&str]| docklint(dir.path(), args).status.code();
    assert_eq!(code(&["check", "--diff", "fixable"]), Some(1));
    assert_eq!(
        code(&["check", "--diff", "--fail-on", "never", "fixable"]),
        Some(0)
    );
    assert_eq!(
        code(&["check", "--diff", "--fail-on", "error", "fixable"]),
        Some(0)
    );
    let unfixable = docklint(dir.path(), &["check", "--diff", "unfixable"]);
    assert_eq!(
        (unfixable.status.code(), stdout(&unfixable).as_str()),
        (Some(1), "")
    );
}

#[test]
fn diff_is_text_only_and_fix_options_need_fix_or_diff() {
    let dir = TempDir::new("flags");
    dir.write("Dockerfile", PIP);
    let json_diff = docklint(
        dir.path(),
        &["check", "--diff", "--format", "json", "Dockerfile"],
    );
    assert_eq!(json_diff.status.code(), Some(2));
    assert_contains(&stderr(&json_diff), "--diff prints a unified diff");
    assert_eq!(stdout(&json_diff), "[]\n");
    let unsafe_alone = docklint(dir.path(), &["check", "--unsafe-fixes", "Dockerfile"]);
    assert_eq!(unsafe_alone.status.code(), Some(2));
    assert_contains(&stderr(&unsafe_alone), "--fix");
    let fix_stdin_json = common::docklint_with_stdin(
        dir.path(),
        &["check", "--fix", "--format", "json", "-"],
        Some(PIP),
    );
    assert_eq!(fix_stdin_json.status.code(), Some(2));
    assert_eq!(stdout(&fix_stdin_json), "[]\n");
    let name_alone = docklint(
        dir.path(),
        &["check", "--stdin-filename", "x/Dockerfile", "Dockerfile"],
    );
    assert_eq!(name_alone.status.code(), Some(2));
    assert_contains(&stderr(&name_alone), "add \"-\" to the paths");
}

#[test]
fn fix_writes_through_a_symlink_and_keeps_it() {
    let dir = TempDir::new("symlink");
    dir.write("real/Dockerfile", PIP);
    std::os::unix::fs::symlink("real/Dockerfile", dir.path().join("Dockerfile")).expect("ln -s");
    let out = docklint(dir.path(), &["check", "--fix", "Dockerfile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let link = std::fs::symlink_metadata(dir.path().join("Dockerfile")).expect("lstat");
    assert!(
        link.file_type().is_symlink(),
        "the link was replaced by a file"
    );
    assert!(dir.read("real/Dockerfile").contains("--mount=type=cache"));
}

#[test]
fn fix_replaces_a_hard_linked_file_and_says_the_other_links_keep_the_old_text() {
    let dir = TempDir::new("hardlink");
    dir.write("Dockerfile", PIP);
    std::fs::hard_link(dir.path().join("Dockerfile"), dir.path().join("copy")).expect("ln");
    let out = docklint(dir.path(), &["check", "--fix", "Dockerfile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_contains(
        &stderr(&out),
        "Dockerfile: written as a new file; 1 other hard link to the old one keeps the old text",
    );
    assert!(dir.read("Dockerfile").contains("--mount=type=cache"));
    assert_eq!(dir.read("copy"), PIP);
}
