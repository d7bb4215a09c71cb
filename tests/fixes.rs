//! Fixes never break the build they fix: over Dockerfiles written the way people write them,
//! after `--fix` and after `--fix --unsafe-fixes`, no RUN removes or empties a directory it
//! mounts, no RUN mounts inside a non-root user's home, and safe fixes do not merge RUNs
//! whose shell state, jobs or unseen commands would reach the next one.

use docklint::config::Settings;
use docklint::fix::Applicability;
use docklint::model::effects::PathKind;
use docklint::model::paths::PathPattern;
use docklint::model::{Model, MountKind};
use docklint::source::SourceFile;
use docklint::syntax::dockerfile;

/// Files that broke builds or changed them when fixed by earlier versions.
const REPRODUCERS: &[(&str, &str)] = &[
    (
        "rm of the cache's parent in the same RUN",
        "FROM python:3.12-slim\nRUN pip install --no-cache-dir flask && rm -rf ~/.cache\n",
    ),
    (
        "rm of the cache itself, inside a branch",
        "FROM python:3.12-slim\nRUN pip install flask && if [ -d /root/.cache/pip ]; then rm -rf /root/.cache/pip; fi\n",
    ),
    (
        "a later RUN removes the cache (merged into the mounted RUN)",
        "FROM python:3.12-slim\nRUN pip3 install llvmlite\nRUN rm -rf /root/.cache/pip\n",
    ),
    (
        "pip cache purge in the same RUN",
        "FROM python:3.12-slim\nRUN pip install -U pip && pip install mineru && pip cache purge\n",
    ),
    (
        "glob removal of the cache's parent",
        "FROM python:3.12-slim\nRUN pip install flask && rm -rf /root/.cache/* /tmp/*\n",
    ),
    (
        "mkdir of the cache's parent",
        "FROM python:3.12-slim\nRUN mkdir /opt/home && HOME=/opt/home pip install flask\n",
    ),
    (
        "a non-root user's home",
        "FROM python:3.12-slim\nRUN useradd -m -u 1000 app\nUSER app\nRUN pip install --user --no-cache-dir flask\n",
    ),
    (
        "a home created in the same RUN",
        "FROM python:3.12-slim\nRUN useradd -m -u 1000 app && su app -c 'pip install --user flask'\n",
    ),
    (
        "find -delete of the parent",
        "FROM python:3.12-slim\nRUN pip install flask && find /root/.cache -mindepth 1 -delete\n",
    ),
];

/// A safe merge must not join these: the second RUN would see the first's state.
const MERGE_HAZARDS: &[(&str, &str)] = &[
    ("/bin/sh replaced", "FROM debian:bookworm-slim\nRUN ln -sf /bin/bash /bin/sh\nRUN source /etc/os-release\n"),
    ("hashed command", "FROM python:3.12-slim\nRUN pip install -U pip\nRUN pip install flask\n"),
    ("tmpfs", "FROM debian:bookworm-slim\nRUN --mount=type=tmpfs,target=/t mkdir /t/x\nRUN --mount=type=tmpfs,target=/t mkdir /t/x\n"),
    (
        "errexit and a loop",
        "FROM debian:bookworm-slim\nSHELL [\"/bin/bash\",\"-euo\",\"pipefail\",\"-c\"]\nRUN for i in 1 2; do test $i = 2; done\nRUN echo ok\n",
    ),
    ("background job", "FROM debian:bookworm-slim\nRUN sleep 5 & echo started\nRUN echo ok\n"),
    ("unseen code", "FROM debian:bookworm-slim\nRUN ./install.sh\nRUN echo ok\n"),
];

/// Three RUNs where each pair joins safely but the three do not: what the first leaves
/// changes the third, so joining the chain in one pass would change the build.
const CHAIN_HAZARDS: &[(&str, &str)] = &[
    (
        "/bin/sh replaced, then a portable RUN",
        "FROM debian:bookworm-slim\nRUN ln -sf /bin/bash /bin/sh\nRUN echo ok > /ok\nRUN source /etc/os-release\n",
    ),
    (
        "a command hashed, then installed again",
        "FROM debian:bookworm-slim\nRUN ls / > /dev/null\nRUN printf '#!/bin/sh\\necho new ls\\n' > /usr/local/bin/ls && chmod +x /usr/local/bin/ls\nRUN ls > /which\n",
    ),
];

/// Shell state a safe merge keeps in a subshell.
const SUBSHELL_MERGES: &[&str] = &[
    "command cd /tmp",
    "builtin cd /tmp",
    "read V < /etc/hostname",
    ": \"${X:=set}\"",
    "let N=5",
    "printf -v V x",
    "getopts ab opt",
    "mapfile -t L < /etc/hosts",
    "export A=1",
    "umask 077",
    "alias ls=true",
    "trap 'echo bye' EXIT",
    "exit 0",
];

fn fixed(text: &str, min: Applicability) -> String {
    docklint::fix(
        &SourceFile::new("Dockerfile", text.to_string()),
        &Settings::defaults(),
        min,
    )
    .text
}

/// Cache mounts that the same RUN removes or empties, or that lie in a non-root user's home.
fn broken_mounts(text: &str) -> Vec<String> {
    let df = dockerfile::parse(text);
    let model = Model::build(&df);
    let mut out = Vec::new();
    for run in &model.runs {
        for target in run
            .mounts
            .iter()
            .filter(|m| m.kind == MountKind::Cache)
            .filter_map(|m| m.target.as_deref())
        {
            for effect in &run.effects.paths {
                let removes = matches!(effect.kind, PathKind::Remove | PathKind::RemoveInside);
                let resolved = !matches!(effect.path, PathPattern::Unknown);
                if removes
                    && resolved
                    && (effect.path.may_remove(target) || effect.path.may_be_within(target))
                {
                    out.push(format!(
                        "`{}` removes {} under a mount on {target}",
                        effect.by,
                        effect.path.display()
                    ));
                }
            }
            let in_home = run
                .effects
                .steps
                .iter()
                .map(|s| &s.user)
                .chain([&run.user])
                .any(|u| {
                    u.uid != Some(0)
                        && u.home
                            .as_deref()
                            .is_some_and(|h| h != "/" && docklint::model::path_is_within(target, h))
                });
            if in_home {
                out.push(format!("a mount on {target} in a non-root user's home"));
            }
        }
    }
    out
}

#[test]
fn no_fix_mounts_a_directory_the_run_removes() {
    for (name, text) in REPRODUCERS {
        for min in [Applicability::Safe, Applicability::Unsafe] {
            let result = fixed(text, min);
            assert_eq!(
                broken_mounts(&result),
                Vec::<String>::new(),
                "{name} ({min:?}):\n{result}"
            );
        }
        let safe = fixed(text, Applicability::Safe);
        assert!(
            safe.contains("--mount=type=cache"),
            "{name}: the safe fix still adds a mount:\n{safe}"
        );
    }
}

#[test]
fn safe_merges_never_join_what_may_differ() {
    for (name, text) in MERGE_HAZARDS {
        let runs_before = text.matches("\nRUN ").count();
        let result = fixed(text, Applicability::Safe);
        assert_eq!(
            result.matches("\nRUN ").count(),
            runs_before,
            "{name}: merged by a safe fix:\n{result}"
        );
        let result = fixed(text, Applicability::Unsafe);
        assert!(
            result.matches("\nRUN ").count() < runs_before,
            "{name}: offered as an unsafe merge:\n{result}"
        );
    }
}

#[test]
fn shell_state_stays_in_a_subshell() {
    for first in SUBSHELL_MERGES {
        let text = format!("FROM debian:bookworm-slim\nSHELL [\"/bin/bash\", \"-c\"]\nRUN {first}\nRUN pwd > /where\n");
        let result = fixed(&text, Applicability::Safe);
        assert!(
            result.contains(&format!("RUN ({first}) \\\n    && pwd > /where")),
            "{first}:\n{result}"
        );
    }
}

#[test]
fn a_chain_is_joined_only_as_far_as_the_first_runs_leave_nothing_behind() {
    for (name, text) in CHAIN_HAZARDS {
        let result = fixed(text, Applicability::Safe);
        let last = text.lines().last().unwrap_or_default();
        assert!(
            result.lines().any(|l| l == last),
            "{name}: the last RUN was joined to the chain:\n{result}"
        );
        assert_eq!(result.matches("\nRUN ").count(), 2, "{name}:\n{result}");
    }
}

#[test]
fn a_long_chain_of_plain_runs_is_joined_in_one_pass() {
    // More RUNs than pairwise passes could join (each pass joins every other pair).
    let runs = 3000;
    let text: String = std::iter::once("FROM alpine:3.20\n".to_string())
        .chain((0..runs).map(|i| format!("RUN echo line{i}\n")))
        .collect();
    let outcome = docklint::fix(
        &SourceFile::new("Dockerfile", text),
        &Settings::defaults(),
        Applicability::Safe,
    );
    assert!(outcome.converged, "the fixes did not settle");
    assert_eq!(outcome.applied.len(), runs - 1);
    assert_eq!(outcome.text.matches("RUN ").count(), 1);
    assert!(
        outcome.text.ends_with("    && echo line2999\n"),
        "{}",
        &outcome.text[outcome.text.len() - 200..]
    );
    assert!(outcome.remaining.is_empty());
}
