//! Suppression comments silence exactly what they name, where they say.

use docklint::config::Settings;
use docklint::source::SourceFile;

fn rules_reported(text: &str) -> Vec<(&'static str, usize)> {
    let file = SourceFile::new("Dockerfile", text.to_string());
    docklint::lint(&file, &Settings::defaults())
        .iter()
        .map(|d| (d.rule, file.position(d.span.start).line))
        .collect()
}

const TWO_PAIRS: &str = "FROM python:3.12\nRUN echo a\nRUN echo b\nRUN echo c\n";

#[test]
fn next_instruction_suppression_covers_only_that_instruction() {
    let text = "FROM python:3.12\nRUN echo a\n# docklint ignore=consecutive-run -- on purpose\n\nRUN echo b\nRUN echo c\n";
    assert_eq!(rules_reported(text), [("consecutive-run", 6)]);
}

#[test]
fn file_suppression_and_families() {
    let text = format!("# docklint ignore-file=layers\n{TWO_PAIRS}");
    assert_eq!(rules_reported(&text), []);
    let text = format!("{TWO_PAIRS}# docklint ignore-file=consecutive-run\n");
    assert_eq!(
        rules_reported(&text),
        [],
        "ignore-file works anywhere in the file"
    );
}

#[test]
fn hadolint_codes_of_equivalent_rules_are_honoured_and_never_reported_unused() {
    let text = "FROM python:3.12\nRUN echo a\n# hadolint ignore=DL3059,DL3008\nRUN echo b\n# hadolint ignore=DL3059\nRUN pip install --no-cache-dir x\n";
    assert_eq!(
        rules_reported(text),
        [("missing-cache-mount", 6)],
        "DL3059 silences consecutive-run; unused hadolint codes are not ours to report"
    );
}

#[test]
fn a_used_name_silences_and_an_unused_one_in_the_same_comment_is_reported() {
    let text = "FROM python:3.12\n# docklint ignore=missing-cache-mount, consecutive-run\nRUN pip install x\n";
    assert_eq!(rules_reported(text), [("unused-suppression", 2)]);
}
