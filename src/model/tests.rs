use super::*;
use crate::syntax::dockerfile::parse;

fn model(text: &str) -> Model {
    let df = parse(text);
    assert!(df.errors.is_empty(), "{:?}", df.errors);
    Model::build(&df)
}

fn last_run(text: &str) -> Run {
    model(text).runs.pop().expect("a RUN")
}

#[test]
fn root_by_default_and_after_user_root() {
    let run = last_run("FROM python:3.12\nRUN pip install x\n");
    assert!(run.user.is_root());
    assert_eq!(run.user.home.as_deref(), Some("/root"));
    assert_eq!(run.user.home_certainty, Certainty::Known);
}

#[test]
fn useradd_with_uid_and_home() {
    let run = last_run("FROM debian\nRUN groupadd -g 2000 app && useradd -m -u 1500 -g app -d /srv/app app\nUSER app\nRUN id\n");
    assert_eq!(run.user.uid, Some(1500));
    assert_eq!(run.user.gid, Some(2000));
    assert_eq!(run.user.home.as_deref(), Some("/srv/app"));
    assert_eq!(run.user.id_certainty, Certainty::Known);
}

#[test]
fn a_uid_the_file_does_not_give_is_unknown_never_guessed() {
    for create in [
        "useradd -m app",
        "useradd -r -m app",
        "adduser --system --home /home/app app",
        "adduser -S -h /home/app app",
    ] {
        let run = last_run(&format!("FROM node:20\nRUN {create}\nUSER app\nRUN id\n"));
        assert_eq!(
            (run.user.uid, run.user.id_certainty),
            (None, Certainty::Unknown),
            "{create}"
        );
        assert_eq!(run.user.home.as_deref(), Some("/home/app"), "{create}");
    }
}

#[test]
fn arg_defaults_resolve_account_ids_and_usermod_changes_them() {
    let run = last_run("FROM debian\nARG UID=1500\nRUN useradd -m -u $UID app\nUSER app\nRUN id\n");
    assert_eq!(
        (run.user.uid, run.user.id_certainty),
        (Some(1500), Certainty::Known)
    );
    assert_eq!(run.user.id_args, Some(("UID".to_string(), None)));
    let run = last_run(
        "FROM debian\nRUN useradd -m -u 1000 app && usermod -d /srv/app -m app\nUSER app\nRUN id\n",
    );
    assert_eq!(run.user.home.as_deref(), Some("/srv/app"));
    let run = last_run(
        "FROM debian\nRUN useradd -m -u 1000 app\nRUN usermod -u 2000 app\nUSER app\nRUN id\n",
    );
    assert_eq!(run.user.uid, Some(2000));
}

#[test]
fn official_images_with_other_users() {
    let run = last_run("FROM odoo:17\nRUN pip install x\n");
    assert_eq!((&*run.user.name, run.user.uid), ("odoo", None));
    let run = last_run("FROM postgres:16-alpine\nUSER postgres\nRUN id\n");
    assert_eq!(run.user.uid, Some(70));
    let run = last_run("FROM postgres:16\nUSER postgres\nRUN id\n");
    assert_eq!(run.user.uid, Some(999));
    let run = last_run("FROM haproxy:2.9\nRUN id\n");
    assert_eq!(run.user.uid, Some(99));
}

#[test]
fn busybox_and_debian_adduser() {
    let run =
        last_run("FROM alpine\nRUN adduser -D -u 10001 -h /app worker\nUSER worker\nRUN id\n");
    assert_eq!(
        (run.user.uid, run.user.home.as_deref()),
        (Some(10001), Some("/app"))
    );
    let run = last_run("FROM debian\nRUN adduser --disabled-password --gecos '' --uid 1234 app\nUSER app:app\nRUN id\n");
    assert_eq!(
        (run.user.uid, run.user.home.as_deref()),
        (Some(1234), Some("/home/app"))
    );
}

#[test]
fn known_image_users_and_unknown_users() {
    let run = last_run("FROM node:20-slim\nUSER node\nRUN npm ci\n");
    assert_eq!(
        (run.user.uid, run.user.home.as_deref()),
        (Some(1000), Some("/home/node"))
    );
    let run = last_run("FROM debian\nUSER ghost\nRUN id\n");
    assert_eq!(run.user.home_certainty, Certainty::Unknown);
    let run = last_run("FROM debian\nUSER 4242\nRUN id\n");
    assert_eq!(
        (run.user.uid, run.user.home.as_deref()),
        (Some(4242), Some("/"))
    );
}

#[test]
fn env_home_wins() {
    let run = last_run("FROM debian\nRUN useradd app\nUSER app\nENV HOME=/data\nRUN id\n");
    assert_eq!(run.user.home.as_deref(), Some("/data"));
}

#[test]
fn stages_inherit_and_reachability() {
    let m = model(
        "ARG BASE=python:3.12\nFROM ${BASE} AS deps\nRUN useradd -u 1200 app\nUSER app\nFROM deps AS build\nRUN id\nFROM scratch AS unused\nFROM debian AS final\nCOPY --from=build /x /x\n",
    );
    assert_eq!(m.stages[0].base_expanded.as_deref(), Some("python:3.12"));
    assert_eq!(m.stages[1].parent, Some(0));
    assert_eq!(m.runs[1].user.uid, Some(1200), "FROM deps inherits USER");
    let reached: Vec<bool> = m.stages.iter().map(|s| s.reached).collect();
    assert_eq!(reached, [true, true, false, true]);
}

#[test]
fn env_and_args_expand() {
    let run = last_run(
        "FROM python\nARG CACHE=/cache\nENV PIP_CACHE_DIR=${CACHE}/pip XDG=$PIP_CACHE_DIR\nARG UNSET\nENV X=${UNSET:-d}\nRUN true\n",
    );
    assert_eq!(run.env().known("PIP_CACHE_DIR"), Some("/cache/pip"));
    assert_eq!(run.env().known("XDG"), Some("/cache/pip"));
    assert_eq!(
        run.env().get("X"),
        Some(&Value::Unknown),
        "a build arg may set UNSET"
    );
    assert_eq!(
        expand("\"a b\"'$X'${Y:-z}", &Vars::default(), '\\').as_deref(),
        Some("a b$Xz")
    );
}

#[test]
fn env_wins_over_arg_whatever_the_order() {
    let m = model(
        "FROM python AS base\nENV A=env\nARG A=arg\nARG B=arg\nENV B=env\nARG C=arg\nRUN true\nFROM base\nRUN true\n",
    );
    let seen = |run: &Run| ["A", "B", "C"].map(|name| run.env().known(name).map(str::to_string));
    let env = || Some("env".to_string());
    assert_eq!(seen(&m.runs[0]), [env(), env(), Some("arg".to_string())]);
    assert_eq!(
        seen(&m.runs[1]),
        [env(), env(), None],
        "ARGs end with their stage"
    );
}

#[test]
fn mounts_resolve_against_workdir() {
    let run = last_run(
        "FROM python\nWORKDIR /app\nARG D=/root/.cache\nRUN --mount=type=cache,target=${D}/pip,uid=1000 --mount=type=bind,source=.,target=src --mount=type=cache,target=~/.cache/pip x\n",
    );
    assert_eq!(run.mounts[0].kind, MountKind::Cache);
    assert_eq!(run.mounts[0].target.as_deref(), Some("/root/.cache/pip"));
    assert_eq!(run.mounts[0].option("uid"), Some("1000"));
    assert_eq!(run.mounts[1].target.as_deref(), Some("/app/src"));
    assert_eq!(
        run.mounts[2].target.as_deref(),
        Some("/app/~/.cache/pip"),
        "~ is not expanded"
    );
    assert!(run
        .cache_mount_covering("/root/.cache/pip/wheels")
        .is_some());
    assert!(run.cache_mount_covering("/root/.cache/pipx").is_none());
}

#[test]
fn windows_stages_have_no_shell_commands() {
    let m = model(
        "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN Write-Host hi\n",
    );
    assert!(m.stages[0].windows);
    assert!(m.runs[0].script.is_none());
    let m = model("FROM debian\nSHELL [\"powershell\", \"-Command\"]\nRUN Write-Host hi\n");
    assert!(m.runs[0].script.is_none());
}

/// A file with enough RUNs to parse their bodies ahead, on every core, a window at a time,
/// gives each RUN the script of its own body, across windows: RUNs before the first FROM,
/// `#!` scripts and stages whose shell is not sh are passed over without shifting the others.
#[test]
fn bodies_parsed_ahead_land_on_their_runs() {
    let mut text = String::from("RUN echo before the first FROM\nFROM debian\n");
    let mut i = 0;
    while i < 2 * ParsedAhead::WINDOW + ParsedAhead::MIN_RUNS {
        text.push_str(&format!("RUN cd /tmp{i} && pip install p{i}\n"));
        text.push_str(&format!("RUN [\"sh\", \"-c\", \"echo exec{i}\"]\n"));
        text.push_str(&format!("RUN <<EOF\necho heredoc{i}\nEOF\n"));
        text.push_str(&format!(
            "RUN <<EOF\n#!/usr/bin/env python3\nprint({i})\nEOF\n"
        ));
        i += 4;
    }
    text.push_str("SHELL [\"powershell\", \"-Command\"]\nRUN Write-Host hi\n");
    text.push_str("FROM debian AS two\nRUN echo last\n");
    let df = parse(&text);
    let m = Model::build(&df);
    assert!(m.runs.len() > 2 * ParsedAhead::WINDOW);
    let mut scripts = 0;
    for run in &m.runs {
        let instruction = &df.instructions[run.instruction];
        let Some(command) = instruction.command() else {
            panic!("not a RUN: {}", instruction.args_text.as_str());
        };
        let expected = match m.stages[run.stage].windows
            || instruction.args_text.as_str() == "Write-Host hi"
        {
            true => None,
            false => parse_command(command),
        };
        assert_eq!(run.script, expected, "{}", instruction.args_text.as_str());
        scripts += usize::from(run.script.is_some());
    }
    // Three bodies of four are sh; the two at the end, one.
    assert_eq!(scripts, i / 4 * 3 + 1);
    let last = m.runs.last().expect("runs");
    assert_eq!(last.commands()[0].args[0].value, "last");
}

#[test]
fn unknown_base_images_make_root_a_guess() {
    let run = last_run("FROM python:3.12-slim\nRUN pip install x\n");
    assert_eq!(run.user.id_certainty, Certainty::Known);
    for base in [
        "myteam/python-base:1.0",
        "registry.example.com/app:2",
        "${BASE}",
    ] {
        let run = last_run(&format!("FROM {base}\nRUN pip install x\n"));
        assert!(run.user.is_root(), "{base}");
        assert_eq!(
            (run.user.id_certainty, run.user.home_certainty),
            (Certainty::Guessed, Certainty::Guessed),
            "{base}"
        );
    }
    let run = last_run(
        "ARG BASE=nvidia/cuda:12.4.1-runtime-ubuntu22.04\nFROM ${BASE}\nRUN pip install x\n",
    );
    assert_eq!(run.user.id_certainty, Certainty::Known);
    for base in [
        "registry.access.redhat.com/ubi9/ubi-minimal:9.4",
        "docker.io/library/python:3.12@sha256:abc",
    ] {
        let run = last_run(&format!("FROM {base}\nRUN pip install x\n"));
        assert_eq!(run.user.id_certainty, Certainty::Known, "{base}");
    }
    let run = last_run("FROM someofficial-but-unlisted\nRUN pip install x\n");
    assert_eq!(
        run.user.id_certainty,
        Certainty::Guessed,
        "only listed images are known to run as root"
    );
    let run = last_run("FROM localhost:5000/python\nRUN pip install x\n");
    assert_eq!(
        run.user.id_certainty,
        Certainty::Guessed,
        "a registry port is not a tag"
    );
    let run = last_run("FROM myteam/base\nUSER root\nRUN pip install x\n");
    assert_eq!(
        run.user.id_certainty,
        Certainty::Known,
        "an explicit USER root is certain"
    );
}

mod effects {
    use super::*;
    use crate::model::effects::PathKind;
    use crate::model::paths::PathPattern;

    fn pip_dir(text: &str) -> Option<String> {
        let run = last_run(text);
        let [cache] = run.effects.caches.as_slice() else {
            panic!("one pip cache use in {text:?}: {:?}", run.effects.caches)
        };
        cache.dir.clone()
    }

    #[test]
    fn the_environment_each_command_sees() {
        let cases = [
            ("RUN pip install x", Some("/root/.cache/pip")),
            (
                "RUN HOME=/tmp pip install --no-cache-dir x",
                Some("/tmp/.cache/pip"),
            ),
            (
                "RUN export HOME=/srv && pip install x",
                Some("/srv/.cache/pip"),
            ),
            ("RUN export PIP_CACHE_DIR=/pc; pip install x", Some("/pc")),
            (
                "RUN PIP_CACHE_DIR=/pc && pip install x",
                Some("/root/.cache/pip"),
            ),
            ("RUN HOME=/h && pip install x", Some("/h/.cache/pip")),
            ("RUN if true; then export HOME=/h; fi; pip install x", None),
            ("RUN (export HOME=/h; pip install x)", None),
            ("RUN env HOME=/e pip install x", Some("/e/.cache/pip")),
            (
                "RUN env -u HOME XDG_CACHE_HOME=/x pip install x",
                Some("/x/pip"),
            ),
            (
                "WORKDIR /app\nRUN pip install --cache-dir ~/pc x",
                Some("/root/pc"),
            ),
            (
                "WORKDIR /app\nRUN pip install --cache-dir=~/pc x",
                Some("/root/pc"),
            ),
            (
                "WORKDIR /app\nRUN pip install --cache-dir rel x",
                Some("/app/rel"),
            ),
            ("RUN cd /w && pip install --cache-dir rel x", Some("/w/rel")),
            ("RUN . /venv/bin/activate && pip install x", None),
            ("ENV PIP_CACHE_DIR=/env\nRUN pip install x", Some("/env")),
            (
                "RUN timeout 600 nice -n 5 python3.12 -m pip install x",
                Some("/root/.cache/pip"),
            ),
            (
                "ARG V=3.12\nRUN python${V} -m pip install x",
                Some("/root/.cache/pip"),
            ),
            (
                "RUN conda run -n base pip install x",
                Some("/root/.cache/pip"),
            ),
            (
                "RUN cat r.txt | xargs pip install",
                Some("/root/.cache/pip"),
            ),
        ];
        for (body, expected) in cases {
            let text = format!("FROM python:3.12\n{body}\n");
            assert_eq!(pip_dir(&text).as_deref(), expected, "{body}");
        }
    }

    #[test]
    fn users_switched_by_wrappers() {
        let base = "FROM python:3.12\nRUN useradd -m -u 1000 app\n";
        let cases = [
            (
                "RUN sudo -u app pip install x",
                Some("/home/app/.cache/pip"),
            ),
            ("RUN sudo -u app -E pip install x", Some("/root/.cache/pip")),
            (
                "RUN su app -c 'pip install x'",
                Some("/home/app/.cache/pip"),
            ),
            ("RUN su -m app -c 'pip install x'", Some("/root/.cache/pip")),
            ("RUN gosu app pip install x", Some("/home/app/.cache/pip")),
            (
                "RUN runuser -u app -- pip install x",
                Some("/home/app/.cache/pip"),
            ),
            (
                "RUN sudo -u app sh -c 'pip install x'",
                Some("/home/app/.cache/pip"),
            ),
        ];
        for (body, expected) in cases {
            let text = format!("{base}{body}\n");
            let run = last_run(&text);
            let [cache] = run.effects.caches.as_slice() else {
                panic!("{body}: {:?}", run.effects.caches)
            };
            assert_eq!(cache.dir.as_deref(), expected, "{body}");
            let user = &run.effects.steps[cache.step].user;
            let expected_uid = if expected.is_some_and(|d| d.starts_with("/home")) {
                1000
            } else {
                0
            };
            if !body.contains("-E") && !body.contains("-m ") {
                assert_eq!(user.uid, Some(expected_uid), "{body}");
            }
        }
    }

    #[test]
    fn paths_removed_and_created() {
        let run = last_run("FROM python:3.12\nRUN pip install x && rm -rf ~/.cache /tmp/* && pip cache purge && mkdir /data && mkdir -p /a/b\n");
        let paths: Vec<(PathKind, PathPattern)> = run
            .effects
            .paths
            .iter()
            .map(|p| (p.kind, p.path.clone()))
            .collect();
        assert_eq!(
            paths,
            [
                (PathKind::Remove, PathPattern::Exact("/root/.cache".into())),
                (PathKind::Remove, PathPattern::Glob("/tmp/*".into())),
                (
                    PathKind::RemoveInside,
                    PathPattern::Exact("/root/.cache/pip".into())
                ),
                (
                    PathKind::CreateDirectory {
                        must_not_exist: true
                    },
                    PathPattern::Exact("/data".into())
                ),
                (
                    PathKind::CreateDirectory {
                        must_not_exist: false
                    },
                    PathPattern::Exact("/a/b".into())
                ),
            ]
        );
        let run = last_run("FROM debian\nRUN rm -rf \"$UNSET_DIR\"\n");
        assert_eq!(run.effects.paths[0].path, PathPattern::Unknown);
    }

    #[test]
    fn state_left_in_the_shell() {
        let leaks = |body: &str| -> Vec<String> {
            let run = last_run(&format!(
                "FROM debian\nSHELL [\"/bin/bash\", \"-c\"]\nRUN {body}\n"
            ));
            run.effects.leaks.iter().map(|l| l.what.clone()).collect()
        };
        for body in [
            "command cd /tmp",
            "builtin cd /tmp",
            "read V < /etc/hostname",
            ": \"${X:=1}\"",
            "let N=5",
            "printf -v V x",
            "getopts ab opt",
            "mapfile -t L < /etc/hosts",
            "for i in 1 2; do :; done",
            "f() { :; }",
            "alias ll='ls -l'",
            "umask 077",
            "set -e",
            "trap 'rm -f /x' EXIT",
            "export A=1",
            "hash -r",
            "exec >/log",
            "exit 0",
            "X=1",
            "(( i++ ))",
        ] {
            assert!(!leaks(body).is_empty(), "{body} leaves state");
        }
        for body in [
            "cd /tmp | cat",
            "(cd /tmp && make)",
            "sh -c 'cd /x'",
            "apt-get update",
            "echo hi > /x",
            "test -f /x",
            "env cd /x",
        ] {
            assert!(leaks(body).is_empty(), "{body}: {:?}", leaks(body));
        }
    }

    #[test]
    fn wrappers_unwrapped_to_the_program() {
        let run = last_run("FROM debian\nRUN sudo -E -u app nohup nice -n 5 timeout 10 apt-get update && command -v x\n");
        let names: Vec<&str> = run.effects.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["apt-get", "command"]);
        assert!(run.effects.steps[0].wrapped);
    }

    #[test]
    fn escape_backtick_on_linux_still_reads_the_body() {
        let run = last_run("# escape=`\nFROM python:3.12\nRUN pip install `\n    flask\n");
        assert_eq!(run.effects.caches.len(), 1);
    }
}

/// The directories of the caches a RUN's commands use, by cache key.
fn cache_dirs(run: &Run) -> Vec<(&'static str, Option<String>)> {
    run.effects
        .caches
        .iter()
        .map(|c| (c.cache.key, c.dir.clone()))
        .collect()
}

#[test]
fn cargo_target_is_a_cache_only_when_the_binary_is_copied_out() {
    let copied = last_run(
        "FROM rust:1.78\nWORKDIR /src\nRUN cargo build --release && cp target/release/app /usr/local/bin/\n",
    );
    assert!(cache_dirs(&copied).contains(&("cargo-target", Some("/src/target".into()))));
    for kept in [
        "cargo build --release",
        // Copied within the target directory, or before the build: still in it.
        "cargo build --release && mv target/release/app target/release/app2",
        "cp target/release/app /usr/local/bin/ ; cargo build --release",
    ] {
        let run = last_run(&format!("FROM rust:1.78\nWORKDIR /src\nRUN {kept}\n"));
        assert!(
            !cache_dirs(&run)
                .iter()
                .any(|(key, _)| *key == "cargo-target"),
            "{kept}"
        );
        assert!(cache_dirs(&run)
            .iter()
            .any(|(key, _)| *key == "cargo-registry"));
    }
    let moved = last_run(
        "FROM rust:1.78\nWORKDIR /src\nRUN cd crate && CARGO_TARGET_DIR=/build cargo build && install -m 755 /build/debug/app /usr/local/bin/app\n",
    );
    assert!(cache_dirs(&moved).contains(&("cargo-target", Some("/build".into()))));
}

#[test]
fn build_caches_of_ccache_and_next() {
    let run = last_run("FROM debian\nWORKDIR /src\nRUN ccache gcc -c main.c && ccache -s\n");
    assert_eq!(
        cache_dirs(&run),
        [("ccache", Some("/root/.cache/ccache".into()))]
    );
    assert_eq!(
        run.effects.caches[0].instead.as_deref(),
        Some("/root/.ccache")
    );
    let run = last_run("FROM debian\nENV CCACHE_DIR=/ccache\nRUN cmake -DCMAKE_C_COMPILER_LAUNCHER:FILEPATH=/usr/bin/ccache . && make\n");
    assert_eq!(cache_dirs(&run), [("ccache", Some("/ccache".into()))]);
    let run = last_run("FROM debian\nRUN cmake -DCMAKE_C_COMPILER_LAUNCHER=sccache . && make\n");
    assert!(cache_dirs(&run).is_empty());
    let run = last_run("FROM node:20\nWORKDIR /app\nRUN npx --yes next build && next lint\n");
    assert_eq!(
        cache_dirs(&run),
        [("next", Some("/app/.next/cache".into()))]
    );
}

#[test]
fn an_export_of_an_unknown_value_forgets_that_name_only() {
    // tianon/dockerfiles' buildkit: `export GOAMD64="$VARIANT"` in a case branch.
    let run = last_run(
        "FROM golang:1.22\nRUN case \"$A\" in amd64) export GOAMD64=\"$V\" ;; esac; go build ./x\n",
    );
    assert!(cache_dirs(&run).contains(&("go-build", Some("/root/.cache/go-build".into()))));
    let step = run.effects.steps.last().unwrap();
    assert!(matches!(step.env.get("GOAMD64"), Some(Value::Unknown)));
    // A name docklint cannot read may be any variable; so may a nameref's target.
    for opaque in ["export \"$N\"=1", "declare -n X=\"$V\""] {
        let run = last_run(&format!("FROM golang:1.22\nRUN {opaque}; go build ./x\n"));
        assert!(
            cache_dirs(&run)
                .iter()
                .any(|(key, dir)| *key == "go-build" && dir.is_none()),
            "{opaque}"
        );
    }
}

#[test]
fn a_variable_set_after_code_docklint_cannot_see_is_known() {
    // The pinned form docklint's own fix writes after a virtualenv's activate.
    let run = last_run(
        "FROM python:3.12\nRUN . .venv/bin/activate && PIP_CACHE_DIR=/var/cache/pip pip install flask\n",
    );
    assert_eq!(cache_dirs(&run), [("pip", Some("/var/cache/pip".into()))]);
    // Set before it, the variable may have been changed.
    let run = last_run(
        "FROM python:3.12\nRUN export PIP_CACHE_DIR=/var/cache/pip && . ./env.sh && pip install flask\n",
    );
    assert_eq!(cache_dirs(&run), [("pip", None)]);
}

#[test]
fn the_mount_that_holds_a_cache_is_found_past_one_on_its_output() {
    // A mount on `.next` (listed first) takes Next.js's output out of the image and does
    // not count; the one on `.next/cache` holds the cache.
    let run = last_run(
        "FROM node:20\nWORKDIR /app\nRUN --mount=type=cache,target=/app/.next --mount=type=cache,target=/app/.next/cache next build\n",
    );
    let cache = &run.effects.caches[0];
    let mount = run.cache_mount_for(cache).expect("the .next/cache mount");
    assert_eq!(mount.target.as_deref(), Some("/app/.next/cache"));
    assert!(!cache.served_by("/app/.next"));
}

/// A stage descends from the stages up its chain of `FROM <stage>`, itself included, and
/// from no other: trees side by side, a chain, a stage built on an image named like a
/// later stage, and one on a variable the file cannot tell.
#[test]
fn stages_descend_from_their_chain_of_bases_only() {
    let m = model(
        "FROM debian AS a\nFROM a AS b\nFROM alpine AS c\nFROM b AS d\nFROM c AS e\n\
         FROM a AS f\nFROM later AS g\nFROM d AS h\nFROM ${BASE} AS i\nFROM h AS later\n",
    );
    let up_the_chain = |stage: usize, ancestor: usize| {
        let mut at = Some(stage);
        while let Some(s) = at {
            if s == ancestor {
                return true;
            }
            at = m.stages[s].parent.filter(|&p| p < s);
        }
        false
    };
    let mut descents = Vec::new();
    for stage in 0..m.stages.len() {
        for ancestor in 0..m.stages.len() {
            assert_eq!(
                m.descends_from(stage, ancestor),
                up_the_chain(stage, ancestor),
                "stage {stage}, ancestor {ancestor}"
            );
            if stage != ancestor && m.descends_from(stage, ancestor) {
                descents.push((stage, ancestor));
            }
        }
    }
    // b, d, f, h and `later` are built on a; d, h and `later` on b; e on c; h and `later` on d.
    let expected = [
        (1, 0),
        (3, 0),
        (3, 1),
        (4, 2),
        (5, 0),
        (7, 0),
        (7, 1),
        (7, 3),
        (9, 0),
        (9, 1),
        (9, 3),
        (9, 7),
    ];
    assert_eq!(descents, expected);
    assert!(!m.descends_from(m.stages.len(), 0));
    assert!(m.descends_from(m.stages.len(), m.stages.len()));
}

#[test]
fn a_run_with_no_rare_effect_holds_no_lists_for_them() {
    // Millions of generated RUNs each held ten empty lists inline; now none out of line.
    let quiet = last_run("FROM debian:12\nRUN echo a && echo b\n");
    assert_eq!(quiet.effects.steps.len(), 2);
    assert!(quiet.effects.rare.is_none());
    assert!(quiet.effects.paths.is_empty() && quiet.effects.leaks.is_empty());
    // Those that have some read them as before.
    let busy = last_run("FROM debian:12\nRUN rm -rf /var/lib/apt/lists/* && export A=1\n");
    assert!(busy.effects.rare.is_some());
    assert!(busy.effects.paths.iter().any(|p| p.kind.removes()));
    assert!(!busy.effects.leaks.is_empty());
}
