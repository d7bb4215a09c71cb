//! What redoing a RUN costs when the build cache misses it. Installs, builds and downloads
//! are slow to redo and rarely edited; the rest is cheap. Joining a slow RUN with the one
//! after it means every edit of the second re-runs the first.
//!
//! Package managers and build tools are known from their rows in [`tools`](super::tools)
//! (a command that fills a download cache) and [`indexes`](super::indexes) (a system
//! package install); downloaders and compilers from the table below.

use super::indexes::{self, IndexUse};
use super::Run;
use crate::source::Span;

/// What makes a step slow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    Install,
    Build,
    Download,
}

impl Work {
    fn verb(self) -> &'static str {
        match self {
            Work::Install => "installs packages",
            Work::Build => "builds",
            Work::Download => "downloads",
        }
    }
}

/// Programs that download or compile, with the leading operands that make them do it
/// (empty: any command line).
const SLOW_PROGRAMS: &[(&str, &[&str], Work)] = &[
    ("curl", &[], Work::Download),
    ("wget", &[], Work::Download),
    ("aria2c", &[], Work::Download),
    ("git", &["clone"], Work::Download),
    ("git", &["fetch"], Work::Download),
    ("git", &["pull"], Work::Download),
    ("git", &["submodule"], Work::Download),
    ("svn", &["checkout"], Work::Download),
    ("svn", &["co"], Work::Download),
    ("make", &[], Work::Build),
    ("gmake", &[], Work::Build),
    ("cmake", &[], Work::Build),
    ("ninja", &[], Work::Build),
    ("meson", &[], Work::Build),
    ("scons", &[], Work::Build),
    ("bazel", &[], Work::Build),
    ("bazelisk", &[], Work::Build),
    ("gcc", &[], Work::Build),
    ("g++", &[], Work::Build),
    ("cc", &[], Work::Build),
    ("c++", &[], Work::Build),
    ("clang", &[], Work::Build),
    ("clang++", &[], Work::Build),
    ("rustc", &[], Work::Build),
    ("javac", &[], Work::Build),
    ("npm", &["run", "build"], Work::Build),
    ("yarn", &["build"], Work::Build),
    ("yarn", &["run", "build"], Work::Build),
    ("pnpm", &["build"], Work::Build),
    ("pnpm", &["run", "build"], Work::Build),
    ("bun", &["run", "build"], Work::Build),
];

/// A slow step of a RUN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slow {
    /// The command's span.
    pub span: Span,
    pub work: Work,
    /// The command as messages name it (`apt-get install`, `go build`, `curl`).
    pub command: String,
}

impl Slow {
    /// `` `apt-get install` installs packages ``.
    pub fn describe(&self) -> String {
        format!("`{}` {}", self.command, self.work.verb())
    }
}

/// The slow steps of a RUN, in order. Refreshing a package index is not one: it is quick,
/// and belongs with the install that reads it.
pub fn slow_steps(run: &Run) -> Vec<Slow> {
    let Some(script) = &run.script else {
        return Vec::new();
    };
    let mut slow = Vec::new();
    for (i, step) in run.effects.steps.iter().enumerate() {
        // Compared as a `&str`: its length first, inline (a `CompactString` compares out
        // of line, against every row of the table for every step of every pair of RUNs).
        let name = step.name.as_str();
        // Most steps (`echo`, `mkdir`) are no program of the tables below and fill no
        // cache: ruled out before their arguments are gathered, for every pair of RUNs.
        let caches = run.effects.caches.iter().any(|c| c.step == i);
        if !caches
            && !SLOW_PROGRAMS.iter().any(|(p, _, _)| *p == name)
            && !indexes::is_index_tool(name)
        {
            continue;
        }
        let values: Vec<&str> = step.args(script).iter().map(|w| w.value.as_str()).collect();
        let operands: Vec<&str> = values
            .iter()
            .copied()
            .filter(|a| !a.starts_with('-'))
            .collect();
        let work = match indexes::index_use(name, &values) {
            Some((_, IndexUse::Install { .. })) => Some(Work::Install),
            Some((_, IndexUse::Refresh)) => None,
            None if caches => Some(
                if SLOW_PROGRAMS
                    .iter()
                    .any(|(p, ops, w)| *p == name && *w == Work::Build && operands.starts_with(ops))
                    || operands.first().is_some_and(|o| BUILD_OPERANDS.contains(o))
                {
                    Work::Build
                } else {
                    Work::Install
                },
            ),
            None => SLOW_PROGRAMS
                .iter()
                .find(|(p, ops, _)| *p == name && operands.starts_with(ops))
                .map(|(_, _, work)| *work),
        };
        if let Some(work) = work {
            let named = operands
                .first()
                .filter(|o| !o.contains(['/', ':', '.', '=', '$']) && **o != name);
            slow.push(Slow {
                span: script.commands[step.command].span.clone(),
                work,
                command: match named {
                    Some(operand) => format!("{name} {operand}"),
                    None => name.to_string(),
                },
            });
        }
    }
    slow
}

/// Subcommands of package managers and build tools that compile rather than only install.
const BUILD_OPERANDS: &[&str] = &[
    "build", "b", "publish", "package", "compile", "assemble", "test", "verify", "run", "vet",
];

#[cfg(test)]
mod tests {
    use crate::model::Model;
    use crate::syntax::dockerfile;

    fn slow(body: &str) -> Vec<String> {
        let text = format!("FROM debian\nRUN {body}\n");
        let df = dockerfile::parse(&text);
        let model = Model::build(&df);
        super::slow_steps(&model.runs[0])
            .iter()
            .map(|s| s.describe())
            .collect()
    }

    #[test]
    fn installs_builds_and_downloads_are_slow() {
        assert_eq!(
            slow("apt-get update && apt-get install -y curl"),
            ["`apt-get install` installs packages"]
        );
        assert_eq!(
            slow("pip install -r requirements.txt"),
            ["`pip install` installs packages"]
        );
        assert_eq!(slow("go build -o /app ."), ["`go build` builds"]);
        assert_eq!(slow("mvn -B package"), ["`mvn package` builds"]);
        assert_eq!(
            slow("curl -fsSL https://example.com/x -o /x"),
            ["`curl` downloads"]
        );
        assert_eq!(
            slow("make -j4 && make install"),
            ["`make` builds", "`make install` builds"]
        );
        assert_eq!(
            slow("apk add --no-cache curl"),
            ["`apk add` installs packages"]
        );
        assert!(slow("apt-get update").is_empty());
        assert!(slow("mkdir -p /app && chown app /app").is_empty());
        assert!(slow("npm --version").is_empty());
    }
}
