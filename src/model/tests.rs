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
fn useradd_without_uid_is_a_guess_above_existing_users() {
    let run = last_run("FROM node:20\nRUN useradd -m app\nUSER app\nRUN id\n");
    assert_eq!(run.user.uid, Some(1001), "node already has uid 1000");
    assert_eq!(run.user.id_certainty, Certainty::Guessed);
    assert_eq!(run.user.home.as_deref(), Some("/home/app"));
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
    assert_eq!(run.env.known("PIP_CACHE_DIR"), Some("/cache/pip"));
    assert_eq!(run.env.known("XDG"), Some("/cache/pip"));
    assert_eq!(
        run.env.get("X"),
        Some(&Value::Unknown),
        "a build arg may set UNSET"
    );
    assert_eq!(
        expand("\"a b\"'$X'${Y:-z}", &Vars::default(), '\\').as_deref(),
        Some("a b$Xz")
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
