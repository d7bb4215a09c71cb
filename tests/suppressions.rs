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
    let text = "FROM python:3.12\nRUN echo a\n# docklint ignore=missing-cache-mount -- on purpose\n\nRUN pip install x\nRUN pip install y\n";
    assert_eq!(
        rules_reported(text),
        [
            ("consecutive-run", 5),
            ("consecutive-run", 6),
            ("missing-cache-mount", 6)
        ]
    );
}

#[test]
fn a_suppression_on_either_run_of_a_pair_keeps_them_apart() {
    // Above the first RUN of the pair: the finding is about both RUNs.
    let text = "FROM python:3.12\n# docklint ignore=consecutive-run -- a layer of its own\nRUN echo a\nRUN echo b\n";
    assert_eq!(rules_reported(text), []);
    let fixed = docklint::fix(
        &SourceFile::new("Dockerfile", text.to_string()),
        &Settings::defaults(),
        docklint::fix::Applicability::Unsafe,
    );
    assert_eq!(fixed.text, text, "neither deleted nor merged");
    // On the middle one of three: it stays apart from both neighbours.
    let text =
        "FROM python:3.12\nRUN echo a\n# docklint ignore=consecutive-run\nRUN echo b\nRUN echo c\n";
    assert_eq!(rules_reported(text), []);
}

#[test]
fn suppressions_of_rules_a_strategy_switches_off_are_kept() {
    let dir = std::env::temp_dir().join(format!("docklint-suppress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config =
        docklint::config::Config::parse("cache-strategy = \"clean\"\n", &dir.join("lint.toml"))
            .unwrap_or_else(|e| panic!("{}", e.message));
    let mut resolver = docklint::config::Resolver::new(Some(config), true, Default::default());
    let settings = resolver
        .settings_for(&dir.join("Dockerfile"))
        .expect("settings");
    let text = "FROM python:3.12\n# docklint ignore=missing-cache-mount -- kaniko has no --mount\nRUN pip install --no-cache-dir x\n";
    let file = SourceFile::new("Dockerfile", text.to_string());
    assert!(docklint::lint(&file, &settings).is_empty());
    let fixed = docklint::fix(&file, &settings, docklint::fix::Applicability::Unsafe);
    assert_eq!(fixed.text, text);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ignore_all_silences_every_rule_on_the_instruction() {
    let text = "FROM python:3.12\nRUN echo a\n# docklint ignore=all\nRUN pip install x\n";
    assert_eq!(rules_reported(text), []);
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
