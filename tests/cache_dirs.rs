//! The cache directories docklint mounts are the ones the package managers really use.
//!
//! For each scenario, the environment a RUN would see is written down by hand (HOME from
//! the user the Dockerfile switches to, ENV, inline variables), the real package manager is
//! asked where its cache is under exactly that environment, and docklint must report the
//! same directory. Needs `python3 -m pip`; without it the test says so and passes, unless
//! `DOCKLINT_REQUIRE_TOOLS=1` (CI) makes it fail.

mod common;

use std::io::Write;
use std::process::Command;

use common::check_json;

struct Scenario {
    name: &'static str,
    dockerfile: &'static str,
    /// What the RUN's pip sees: HOME and the variables that matter.
    env: &'static [(&'static str, &'static str)],
    /// Extra pip options on the command line.
    pip_options: &'static [&'static str],
}

const SCENARIOS: &[Scenario] = &[
    Scenario { name: "root", dockerfile: "FROM python:3.12\nRUN pip install flask\n", env: &[("HOME", "/root")], pip_options: &[] },
    Scenario {
        name: "user created with a home",
        dockerfile: "FROM python:3.12\nRUN useradd -m -u 1000 app\nUSER app\nRUN pip install --user flask\n",
        env: &[("HOME", "/home/app")],
        pip_options: &[],
    },
    Scenario {
        name: "user with another home directory",
        dockerfile: "FROM python:3.12\nRUN useradd -u 1000 -d /srv/app app\nUSER app\nRUN pip install flask\n",
        env: &[("HOME", "/srv/app")],
        pip_options: &[],
    },
    Scenario {
        name: "uid without an account (Docker sets HOME=/)",
        dockerfile: "FROM python:3.12\nUSER 4242\nRUN pip install flask\n",
        env: &[("HOME", "/")],
        pip_options: &[],
    },
    Scenario {
        name: "ENV HOME",
        dockerfile: "FROM python:3.12\nRUN useradd -u 1000 app\nUSER app\nENV HOME=/data\nRUN pip install flask\n",
        env: &[("HOME", "/data")],
        pip_options: &[],
    },
    Scenario {
        name: "PIP_CACHE_DIR",
        dockerfile: "FROM python:3.12\nENV PIP_CACHE_DIR=/var/cache/pip\nRUN pip install flask\n",
        env: &[("HOME", "/root"), ("PIP_CACHE_DIR", "/var/cache/pip")],
        pip_options: &[],
    },
    Scenario {
        name: "XDG_CACHE_HOME",
        dockerfile: "FROM python:3.12\nENV XDG_CACHE_HOME=/cache\nRUN pip install flask\n",
        env: &[("HOME", "/root"), ("XDG_CACHE_HOME", "/cache")],
        pip_options: &[],
    },
    Scenario {
        name: "PIP_CACHE_DIR wins over XDG_CACHE_HOME",
        dockerfile: "FROM python:3.12\nENV XDG_CACHE_HOME=/cache PIP_CACHE_DIR=/pc\nRUN pip install flask\n",
        env: &[("HOME", "/root"), ("XDG_CACHE_HOME", "/cache"), ("PIP_CACHE_DIR", "/pc")],
        pip_options: &[],
    },
    Scenario {
        name: "an ARG is in the RUN's environment",
        dockerfile: "FROM python:3.12\nARG PIP_CACHE_DIR=/build/pip\nRUN pip install flask\n",
        env: &[("HOME", "/root"), ("PIP_CACHE_DIR", "/build/pip")],
        pip_options: &[],
    },
    Scenario {
        name: "inline variable",
        dockerfile: "FROM python:3.12\nRUN PIP_CACHE_DIR=/opt/pc pip install flask\n",
        env: &[("HOME", "/root"), ("PIP_CACHE_DIR", "/opt/pc")],
        pip_options: &[],
    },
    Scenario {
        name: "HOME set inline on the command",
        dockerfile: "FROM python:3.12\nRUN HOME=/tmp pip install --no-cache-dir flask\n",
        env: &[("HOME", "/tmp")],
        pip_options: &[],
    },
    Scenario {
        name: "PIP_CACHE_DIR exported earlier in the RUN",
        dockerfile: "FROM python:3.12\nRUN export PIP_CACHE_DIR=/opt/exported && pip install flask\n",
        env: &[("HOME", "/root"), ("PIP_CACHE_DIR", "/opt/exported")],
        pip_options: &[],
    },
    Scenario {
        name: "a home moved with usermod",
        dockerfile: "FROM python:3.12\nRUN useradd -m -u 1000 app && usermod -d /srv/app -m app\nUSER app\nRUN pip install flask\n",
        env: &[("HOME", "/srv/app")],
        pip_options: &[],
    },
    Scenario {
        name: "a user switched with su",
        dockerfile: "FROM python:3.12\nRUN useradd -m -u 1000 app\nRUN su app -c 'pip install --user flask'\n",
        env: &[("HOME", "/home/app")],
        pip_options: &[],
    },
    Scenario {
        name: "--cache-dir with a tilde pip expands itself",
        dockerfile: "FROM python:3.12\nWORKDIR /app\nRUN pip install --cache-dir=~/pc flask\n",
        env: &[("HOME", "/root")],
        pip_options: &["--cache-dir=~/pc"],
    },
    Scenario {
        name: "--cache-dir option",
        dockerfile: "FROM python:3.12\nRUN pip install --cache-dir /tmp/wheels flask\n",
        env: &[("HOME", "/root")],
        pip_options: &["--cache-dir", "/tmp/wheels"],
    },
];

fn pip_available() -> bool {
    let ok = Command::new("python3")
        .args(["-m", "pip", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let message = "`python3 -m pip` is not available: the cache directories cannot be checked against pip";
        if std::env::var("DOCKLINT_REQUIRE_TOOLS").as_deref() == Ok("1") {
            panic!("{message} (DOCKLINT_REQUIRE_TOOLS=1 requires it)");
        }
        // Straight to stderr: libtest hides what passing tests print with eprintln!.
        let _ = writeln!(
            std::io::stderr(),
            "NOTE: skipping: {message}; set DOCKLINT_REQUIRE_TOOLS=1 to make this a failure"
        );
    }
    ok
}

/// Runs pip with exactly `env` (plus PATH), the way a RUN would.
fn pip(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new("python3");
    command
        .args(["-m", "pip"])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PYTHONNOUSERSITE", "1");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run pip")
}

/// The directory docklint's diagnostic names: "... without a cache mount on <dir>: ...".
fn docklint_dir(dockerfile: &str) -> String {
    let diagnostics = check_json(dockerfile, &["--select", "missing-cache-mount"]);
    let message = diagnostics
        .first()
        .and_then(|d| d["message"].as_str())
        .unwrap_or_default()
        .to_string();
    message
        .split(" on ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap_or("")
        .to_string()
}

#[test]
fn pip_cache_dirs_match_pip() {
    if !pip_available() {
        return;
    }
    let mut failures = Vec::new();
    for scenario in SCENARIOS {
        let mut args = vec!["cache", "dir"];
        args.extend(scenario.pip_options);
        let out = pip(&args, scenario.env);
        let real = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let ours = docklint_dir(scenario.dockerfile);
        if !out.status.success() || real != ours {
            failures.push(format!(
                "{}: pip says {real:?} ({}), docklint says {ours:?}",
                scenario.name,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

#[test]
fn any_pip_no_cache_dir_value_disables_the_cache_and_docklint_gives_no_fix() {
    if !pip_available() {
        return;
    }
    for value in ["1", "true", "0", "false", "off"] {
        let out = pip(
            &["cache", "dir"],
            &[("HOME", "/root"), ("PIP_NO_CACHE_DIR", value)],
        );
        assert!(
            !out.status.success(),
            "PIP_NO_CACHE_DIR={value} should disable pip's cache"
        );
        let dockerfile =
            format!("FROM python:3.12\nENV PIP_NO_CACHE_DIR={value}\nRUN pip install flask\n");
        let diagnostics = check_json(&dockerfile, &["--select", "missing-cache-mount"]);
        assert_eq!(diagnostics.len(), 1, "PIP_NO_CACHE_DIR={value}");
        assert!(
            diagnostics[0]["fix"].is_null(),
            "an ENV that disables the cache is advice, not an edit"
        );
        assert!(diagnostics[0]["help"]
            .as_str()
            .unwrap_or_default()
            .contains("PIP_NO_CACHE_DIR"));
    }
}
