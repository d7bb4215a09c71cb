//! Generated Dockerfiles, built from the fragments that break parsers (heredocs anywhere,
//! continuations, quotes, escapes, BOM, CRLF, non-ASCII, truncation): linting never panics,
//! fixing never makes a file parse worse, and fixing twice changes nothing.

use docklint::config::Settings;
use docklint::fix::Applicability;
use docklint::source::SourceFile;
use docklint::syntax::dockerfile;

const FRAGMENTS: &[&str] = &[
    "FROM python:3.12-slim",
    "FROM node:20 AS build",
    "FROM build",
    "ARG BASE=debian",
    "FROM ${BASE}",
    "RUN pip install --no-cache-dir flask",
    "RUN python -m pip install -r requirements.txt",
    "RUN PIP_NO_CACHE_DIR=1 pip3 install torch",
    "RUN apt-get update \\",
    "    && apt-get install -y curl \\",
    "    # a comment inside",
    "",
    "RUN <<EOF",
    "RUN python - <<'PY'",
    "RUN cat <<A > /a && <<-B cat",
    "pip install x",
    "print('é ünïcode')",
    "EOF",
    "PY",
    "A",
    "\tB",
    "RUN [\"pip\", \"install\", \"--no-cache-dir\", \"x\"]",
    "RUN [\"sh\", \"-c\", \"pip install \\\"y\\\"\", \"\"]",
    "RUN --mount=type=cache,target=/root/.cache pip install z",
    "RUN --mount=type=cache,target=/root/.cache/pip,uid=\"1\" echo",
    "USER app",
    "RUN useradd -m -u 1000 app",
    "USER 1000:1000",
    "ENV HOME=/data PIP_CACHE_DIR=\"/p c\"",
    "ENV LEGACY value with spaces",
    "WORKDIR /app",
    "COPY . .",
    "COPY <<EOF /etc/x",
    "ENTRYPOINT []",
    "CMD [\"a\", 1]",
    "HEALTHCHECK",
    "ONBUILD RUN pip install w",
    "SHELL [\"powershell\", \"-Command\"]",
    "# docklint ignore=consecutive-run",
    "# docklint ignore-file=nope, cache -- reason",
    "# hadolint ignore=DL3059",
    "RUN echo 'unterminated",
    "RUN echo \"a \\",
    "RUN cd /x && make; echo done &",
    "RUN a || b && c # trailing",
    "FROOM nothing",
    "\\",
    "RUN $(case $(uname -m) in x86_64) echo a ;; esac)",
];

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn generate(rng: &mut Rng) -> String {
    let mut text = String::new();
    if rng.below(10) == 0 {
        text.push('\u{feff}');
    }
    if rng.below(12) == 0 {
        text.push_str("# escape=`\n");
    }
    let newline = if rng.below(6) == 0 { "\r\n" } else { "\n" };
    for _ in 0..rng.below(14) + 1 {
        text.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
        text.push_str(newline);
    }
    if rng.below(4) == 0 {
        let mut cut = rng.below(text.len() + 1);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

/// Files whose every line grows what the model follows: a value doubled line after line
/// (2^48 bytes if followed), a RUN that exports each variable from the last, a RUN that
/// goes one directory deeper per `cd`, a WORKDIR one deeper per line. Past its limits (a
/// value of 4 kB, a path of PATH_MAX) the model stops following them, and each file lints
/// at once; before, they took from 25 s to hours.
#[test]
fn values_and_directories_grown_line_after_line_stay_small() {
    let lines = 48;
    let doubled = |keyword: &str| {
        let mut text = format!("FROM alpine\n{keyword} A0=xx\n");
        for i in 1..lines {
            text.push_str(&format!("{keyword} A{i}=${{A{}}}${{A{}}}\n", i - 1, i - 1));
        }
        text + &format!(
            "RUN echo $A{0} && wget https://example.com/$A{0}\n",
            lines - 1
        )
    };
    let in_one_run = format!(
        "FROM alpine\nRUN A=xx{}; echo $A\n",
        "; A=$A$A".repeat(lines)
    );
    let exports: Vec<String> = (0..5000)
        .map(|i| format!("export V{i}=$V{}", i.max(1) - 1))
        .collect();
    let cds: Vec<String> = (0..20000).map(|i| format!("cd d{i}")).collect();
    let texts = [
        doubled("ARG"),
        doubled("ENV"),
        in_one_run,
        format!("FROM alpine\nRUN {}\n", exports.join(" && ")),
        format!("FROM alpine\nRUN {} && ls\n", cds.join(" && ")),
        format!("FROM alpine\n{}RUN ls\n", "WORKDIR d\n".repeat(40000)),
    ];
    lints_each_within_10_s(&texts);
}

/// What a RUN removes is weighed against what RUNs wrote, what caches hold and what is
/// mounted by path, not each against each; past 64 mounts on one RUN no rule judges its
/// mounts. Each of these took from 3 s to minutes (1,000 mounts and 1,000 installs on one
/// line ran for more than a minute); in a debug build each now takes under 3 s of CPU.
#[test]
fn removals_and_mounts_are_not_weighed_each_against_each() {
    let n = 20_000;
    let mounts = joined(1000, &|i| format!("--mount=type=cache,target=/c{i}"), " ");
    let installs = joined(1000, &|i| format!("pip install p{i}"), " && ");
    let downloads = joined(
        n,
        &|i| format!("RUN wget https://example.com/m{i} -O /m{i}"),
        "\n",
    );
    let removals = joined(n, &|i| format!("RUN rm -f /m{i} /x{i}"), "\n");
    let writes_then_removals = format!(
        "RUN {} && {}",
        joined(
            8000,
            &|i| format!("wget https://example.com/m{i} -O /w/m{i}"),
            " && "
        ),
        joined(8000, &|i| format!("rm -f /w/x{i}"), " && ")
    );
    let caches_then_removals = format!(
        "RUN {} && {}",
        joined(8000, &|i| format!("pip install p{i}"), " && "),
        joined(8000, &|i| format!("rm -rf /tmp/x{i}"), " && ")
    );
    let texts = [
        format!("FROM python:3.12\nRUN {mounts} {installs}\n"),
        format!("FROM debian:12\n{downloads}\n{removals}\n"),
        format!("FROM debian:12\n{writes_then_removals}\n"),
        format!("FROM python:3.12\n{caches_then_removals}\n"),
    ];
    lints_each_within_10_s(&texts);
}

/// A RUN's later RUNs, the RUNs and COPYs of a stage, and the next install of a package
/// index are found by stage and position, not by a pass over the file for each RUN or
/// stage: 10,000 lone `apt-get update` RUNs before 10,000 installs took 9 s in a release
/// build, 10,000 stages each installing with pip 1.1 s, 20,000 stages then 20,000 COPYs
/// 0.8 s, each growing with the square of the file.
#[test]
fn stages_and_later_runs_are_found_without_a_pass_over_the_file() {
    let lines =
        |n: usize, line: &dyn Fn(usize) -> String| (0..n).map(line).collect::<Vec<_>>().join("\n");
    let texts = [
        format!(
            "FROM debian:12\n{}\n{}\n",
            lines(10_000, &|_| "RUN apt-get update".into()),
            lines(10_000, &|i| format!("RUN pip install p{i}"))
        ),
        format!(
            "FROM python:3.12\n{}\n",
            lines(10_000, &|i| format!(
                "FROM python:3.12 AS s{i}\nRUN pip install p{i}"
            ))
        ),
        format!(
            "FROM python:3.12\n{}\n{}\n",
            lines(20_000, &|i| format!("FROM python:3.12 AS s{i}")),
            lines(20_000, &|i| format!("COPY f{i} /d/"))
        ),
    ];
    lints_each_within_10_s(&texts);
}

/// A RUN's programs looked up on PATH are told apart by name, not by a scan of those before
/// each one; whether a stage is built on another is answered from their places in the tree
/// of stages, not by a walk up the chain; a stage name given as a target is looked up once,
/// however many stages could be built with `--target`; a stage's installs are read once for
/// all its `COPY . .`, and only the first 64 after each are weighed. In a release build,
/// 40,000 distinct programs on one RUN line took 4.1 s, a chain of 32,000 stages 3.7 s,
/// 20,000 stages all named `s` 28 s, 8,000 pairs of `COPY . /appN` and `npm ci` 10 s.
#[test]
fn distinct_programs_chains_of_stages_and_copies_of_everything_lint_at_once() {
    let n = 10_000;
    let programs = joined(40_000, &|i| format!("cmd{i} x"), " && ");
    let chain = joined(
        n,
        &|i| format!("FROM s{i} AS s{}\nRUN touch /f{i}", i + 1),
        "\n",
    );
    let same_names = joined(n, &|_| "FROM debian:12 AS s\nRUN ls".into(), "\n");
    let copy_install = |i| format!("COPY . /app{i}\nRUN cd /app{i} && npm ci");
    let copies = joined(n, &|i| format!("COPY . /a{i}"), "\n");
    let installs = joined(n, &|i| format!("RUN cd /b{i} && npm ci"), "\n");
    let texts = [
        format!("FROM debian:12\nRUN {programs}\n"),
        format!("FROM debian:12 AS s0\n{chain}\n"),
        format!("{same_names}\n"),
        format!("FROM node:20\n{}\n", joined(n, &copy_install, "\n")),
        format!("FROM node:20\n{copies}\n{installs}\n"),
    ];
    lints_each_within_10_s(&texts);
}

/// An image's installs are weighed against the prunes and builds after them once, not each
/// against every RUN after it: in a release build, 20,000 `RUN npm ci` of a project whose
/// `package.json` declares development dependencies took 50 s (40,000: 196 s).
#[test]
fn installs_of_a_project_with_development_dependencies_lint_at_once() {
    let context = std::env::temp_dir().join(format!(
        "docklint-robustness-dev-dependencies-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&context).expect("create the context");
    std::fs::write(
        context.join("package.json"),
        r#"{"name": "app", "devDependencies": {"jest": "29"}}"#,
    )
    .expect("write package.json");
    let mut settings = Settings::defaults();
    settings.context = Some(context.clone());
    let n = 10_000;
    let text = format!(
        "FROM node:20\nWORKDIR /app\nCOPY package.json ./\n{}\n",
        joined(n, &|_| "RUN npm ci".into(), "\n")
    );
    let found = lint_within_10_s(
        &SourceFile::new(context.join("Dockerfile"), text),
        &settings,
    );
    let _ = std::fs::remove_dir_all(&context);
    let installs = found
        .iter()
        .filter(|d| d.rule == "dev-dependencies-in-final-stage")
        .count();
    assert_eq!(
        installs, n,
        "each install brings the development dependencies"
    );
}

/// The `n` items `item` makes, joined by `sep`.
fn joined(n: usize, item: &dyn Fn(usize) -> String, sep: &str) -> String {
    (0..n).map(item).collect::<Vec<_>>().join(sep)
}

/// Lints each text (a debug build), failing on one that takes 10 s of CPU or more.
fn lints_each_within_10_s(texts: &[String]) {
    let settings = Settings::defaults();
    for text in texts {
        lint_within_10_s(&SourceFile::new("Dockerfile", text.clone()), &settings);
    }
}

/// Lints `file` on a pool of one thread, failing when that thread spends 10 s of CPU or
/// more on it. CPU time, not wall time: the tests beside it and a busy machine slow the
/// clock on the wall (a 2 s lint took 11 s in a CI run beside other work), not the work,
/// while a lint that grows with the square of these files takes minutes.
fn lint_within_10_s(file: &SourceFile, settings: &Settings) -> Vec<docklint::rule::Diagnostic> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a pool of one thread");
    let (found, spent) = pool.install(|| {
        let started = thread_cpu_time();
        let found = docklint::lint(file, settings);
        (found, thread_cpu_time().saturating_sub(started))
    });
    assert!(
        spent < std::time::Duration::from_secs(10),
        "{spent:?} of CPU for:\n{}",
        &file.text[..file.text.len().min(300)]
    );
    found
}

/// CPU time of the calling thread so far (`CLOCK_THREAD_CPUTIME_ID`).
fn thread_cpu_time() -> std::time::Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    std::time::Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

#[test]
fn generated_files_never_break_linting_or_fixing() {
    let settings = Settings::defaults();
    // More cases or another seed: DOCKLINT_ROBUSTNESS_CASES, DOCKLINT_ROBUSTNESS_SEED.
    let cases: usize = std::env::var("DOCKLINT_ROBUSTNESS_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let seed: u64 = std::env::var("DOCKLINT_ROBUSTNESS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_d0c4);
    let mut rng = Rng(seed.max(1));
    let mut fixed_files = 0;
    for case in 0..cases {
        let text = generate(&mut rng);
        let file = SourceFile::new("Dockerfile", text.clone());
        let result = std::panic::catch_unwind(|| {
            docklint::lint(&file, &settings);
            docklint::fix(&file, &settings, Applicability::Unsafe)
        });
        let Ok(outcome) = result else {
            panic!("case {case} panicked on:\n{text:?}");
        };
        if outcome.text == text {
            continue;
        }
        fixed_files += 1;
        let before = dockerfile::parse(&text).errors.len();
        let after = dockerfile::parse(&outcome.text).errors.len();
        assert!(
            after <= before,
            "case {case}: fixing added syntax errors ({before} -> {after}):\n{text:?}\n=>\n{:?}",
            outcome.text
        );
        assert_eq!(
            text.starts_with('\u{feff}'),
            outcome.text.starts_with('\u{feff}'),
            "case {case}: BOM changed:\n{text:?}\n=>\n{:?}",
            outcome.text
        );
        if !text.contains('\n') || text.contains("\r\n") && !text.replace("\r\n", "").contains('\n')
        {
            assert!(
                !outcome.text.replace("\r\n", "").contains('\n'),
                "case {case}: a CRLF file got LF lines:\n{:?}",
                outcome.text
            );
        }
        let again = docklint::fix(
            &SourceFile::new("Dockerfile", outcome.text.clone()),
            &settings,
            Applicability::Unsafe,
        );
        assert_eq!(
            again.text, outcome.text,
            "case {case}: a second fix changed the file; input:\n{text:?}"
        );
    }
    assert!(
        fixed_files > 300,
        "the generator should exercise fixes ({fixed_files} files fixed)"
    );
}
