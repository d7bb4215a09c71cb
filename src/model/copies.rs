//! What COPY and ADD bring from the build context, and where it lands: which context file a
//! RUN finds at a path (the script it runs), and which project files a stage receives
//! (`package.json`, `pyproject.toml`, `next.config.js`), read the way the build sees them.

use std::path::{Path, PathBuf};

use super::paths::{glob_matches, path_is_within, resolve_path};
use super::Model;

/// Reads files of the build context by their path relative to it (`/`-separated).
pub trait ProjectFiles {
    /// The file's text, when it is in the context and readable as text.
    fn read(&self, relative: &str) -> Option<String>;

    /// Whether anything, a file or a directory, may be at `relative`: `false` only when the
    /// context is known to hold nothing there (nor, then, under it).
    fn may_hold(&self, _relative: &str) -> bool {
        true
    }
}

/// No build context: nothing can be read.
pub struct NoContext;

impl ProjectFiles for NoContext {
    fn read(&self, _: &str) -> Option<String> {
        None
    }

    fn may_hold(&self, _: &str) -> bool {
        false
    }
}

/// A COPY or ADD of files from the build context (not `--from`, not a URL or git source).
#[derive(Debug, Clone)]
pub struct ContextCopy {
    pub instruction: usize,
    pub stage: usize,
    /// Sources relative to the context root, cleaned: `""` for the root, no leading `./` or
    /// `/`; globs kept (`scripts/*.py`).
    pub sources: Vec<String>,
    /// Absolute destination, WORKDIR-joined and cleaned.
    pub dest: String,
    /// Sources land inside `dest` (several sources, or a destination written with a
    /// trailing `/`, `.` or `..`), rather than as `dest` itself.
    pub into_dir: bool,
}

/// ADD extracts local archives: their content is not the file.
const ARCHIVES: &[&str] = &[
    ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst",
];

impl ContextCopy {
    /// It copies the whole context (`COPY . .`).
    pub fn copies_everything(&self) -> bool {
        self.sources.len() == 1 && self.sources[0].is_empty()
    }

    /// Reads a COPY/ADD; `None` when it copies from a stage, an image, a URL or git.
    pub fn new(
        instruction: usize,
        stage: usize,
        add: bool,
        sources: &[&str],
        dest: &str,
        workdir: &str,
    ) -> Option<ContextCopy> {
        let remote = |s: &str| s.contains("://") || s.starts_with("git@");
        if sources.is_empty() || sources.iter().any(|s| remote(s)) {
            return None;
        }
        // Sized to the sources: kept for the whole run, and a filtered list would start with
        // room for four.
        let mut cleaned = Vec::with_capacity(sources.len());
        cleaned.extend(
            sources
                .iter()
                .filter(|s| !(add && ARCHIVES.iter().any(|a| s.ends_with(a))))
                .map(|s| clean_relative(s)),
        );
        let into_dir = cleaned.len() > 1
            || dest.ends_with('/')
            || matches!(dest.rsplit('/').next(), Some("." | ".."));
        Some(ContextCopy {
            instruction,
            stage,
            sources: cleaned,
            dest: resolve_path(workdir, dest),
            into_dir,
        })
    }

    /// Context paths that may be at `path` in the image after this copy, most likely first,
    /// from the sources whose [`source_root`] the context `may_hold`.
    pub fn candidates(&self, path: &str, may_hold: &dyn Fn(&str) -> bool) -> Vec<String> {
        let mut out = Vec::new();
        if !path_is_within(path, &self.dest) {
            return out;
        }
        let rest = path[self.dest.len()..].trim_start_matches('/');
        for source in &self.sources {
            if !source_root(source).is_none_or(may_hold) {
                continue;
            }
            let (parent, name) = match source.rsplit_once('/') {
                Some((parent, name)) => (parent, name),
                None => ("", source.as_str()),
            };
            let join = |a: &str, b: &str| match (a.is_empty(), b.is_empty()) {
                (true, _) => b.to_string(),
                (_, true) => a.to_string(),
                _ => format!("{a}/{b}"),
            };
            if name.contains(['*', '?', '[']) {
                // `COPY scripts/*.py /app/`: a matching file lands by its name.
                if !rest.contains('/') && glob_matches(name, rest) {
                    out.push(join(parent, rest));
                }
                continue;
            }
            if self.into_dir {
                // The source file by its name, or the source directory's content.
                match rest.split_once('/') {
                    None if rest == name => out.push(source.clone()),
                    Some((first, inner)) if first == name && !name.is_empty() => {
                        out.push(join(source, inner));
                    }
                    _ => {}
                }
                if !rest.is_empty() {
                    out.push(join(source, rest));
                }
            } else if rest.is_empty() {
                out.push(source.clone());
            } else {
                // `COPY package.json /app` puts the file in /app when /app is a directory
                // of the image, and a directory source's content under /app.
                if rest == name && !name.is_empty() {
                    out.push(source.clone());
                }
                out.push(join(source, rest));
            }
        }
        out
    }
}

/// Where all that a source copies is in the context: the source itself (a file, or a
/// directory of files), or the directory of a wildcard (`scripts` of `scripts/*.py`); `None`
/// when that is the context's root or holds a wildcard itself. Nothing of the source is in
/// the context when its root is not.
fn source_root(source: &str) -> Option<&str> {
    let wild = |s: &str| s.contains(['*', '?', '[']);
    let root = match source.rsplit_once('/') {
        Some((parent, name)) if wild(name) => parent,
        None if wild(source) => "",
        _ => source,
    };
    (!root.is_empty() && !wild(root)).then_some(root)
}

/// `./a/b/` → `a/b`, `.` → ``, `/x` → `x`.
fn clean_relative(source: &str) -> String {
    resolve_path("/", source)[1..].to_string()
}

/// How many COPYs before an instruction are looked through for the file it finds at a path:
/// each of them may copy a directory that holds it, so looking through all of them, for
/// each RUN of a file of many COPY and RUN pairs, would cost the square of its size.
const MAX_COPIES_BACK: usize = 64;

impl Model {
    /// The context file found at `path` in stage `stage` just before instruction `before`:
    /// the last COPY/ADD of the stage (or of a stage it is built on) that can put it there
    /// and whose source `is_file` in the context. Only the last [`MAX_COPIES_BACK`] COPYs
    /// before `before` are looked through, and of them only the sources the context
    /// `may_hold` (one lookup of a path the COPY keeps, not one made for each candidate).
    pub fn context_file_at(
        &self,
        stage: usize,
        before: usize,
        path: &str,
        is_file: &dyn Fn(&str) -> bool,
        may_hold: &dyn Fn(&str) -> bool,
    ) -> Option<String> {
        let earlier = self.copies.partition_point(|c| c.instruction < before);
        self.copies[..earlier]
            .iter()
            .rev()
            .take(MAX_COPIES_BACK)
            .filter(|c| self.descends_from(stage, c.stage))
            .flat_map(|c| c.candidates(path, may_hold))
            .find(|candidate| is_file(candidate))
    }
}

/// The file of the build context directory `context` found at `path` in stage `stage` just
/// before instruction `before` (see [`Model::context_file_at`]).
pub fn context_file(
    model: &Model,
    stage: usize,
    before: usize,
    path: &str,
    context: &Path,
) -> Option<PathBuf> {
    let is_file = |relative: &str| context.join(relative).is_file();
    let may_hold = |relative: &str| context.join(relative).exists();
    let found = model.context_file_at(stage, before, path, &is_file, &may_hold)?;
    Some(context.join(found))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A context that may hold anything.
    const ANY: &dyn Fn(&str) -> bool = &|_| true;

    /// The last COPYs before a RUN are looked through for its script, wherever the RUN is in
    /// the file; those further back are not.
    #[test]
    fn a_script_is_found_among_the_copies_just_before_its_run() {
        let mut dockerfile = String::from("FROM python:3.12\nCOPY early.py /app/\n");
        for i in 0..MAX_COPIES_BACK {
            dockerfile.push_str(&format!("COPY m{i}.py /app/\nRUN python /app/m{i}.py\n"));
        }
        dockerfile.push_str("RUN python /app/early.py\n");
        let df = crate::syntax::dockerfile::parse(&dockerfile);
        let model = Model::build(&df);
        let exists = |p: &str| !p.contains('/');
        let last = df.instructions.len() - 1;
        let at = |before: usize, path: &str| model.context_file_at(0, before, path, &exists, ANY);
        assert_eq!(at(last, "/app/m0.py").as_deref(), Some("m0.py"));
        let newest = MAX_COPIES_BACK - 1;
        let found = at(last - 1, &format!("/app/m{newest}.py"));
        assert_eq!(found, Some(format!("m{newest}.py")));
        assert_eq!(at(3, "/app/early.py").as_deref(), Some("early.py"));
        assert_eq!(at(last, "/app/early.py"), None);
    }

    fn copy(sources: &[&str], dest: &str, workdir: &str) -> ContextCopy {
        ContextCopy::new(0, 0, false, sources, dest, workdir).expect("a context copy")
    }

    #[test]
    fn files_and_directories_land_where_copy_puts_them() {
        let c = copy(&["download_model.py"], ".", "/app");
        assert_eq!(
            c.candidates("/app/download_model.py", ANY)[0],
            "download_model.py"
        );
        let c = copy(&["src"], "/src", "/");
        assert_eq!(
            c.candidates("/src/download_model.py", ANY),
            ["src/download_model.py"]
        );
        let c = copy(&["."], ".", "/app");
        assert_eq!(c.candidates("/app/tools/get.py", ANY), ["tools/get.py"]);
        let c = copy(
            &["docker/scripts/download_model.py"],
            "./download_model.py",
            "/app",
        );
        assert_eq!(
            c.candidates("/app/download_model.py", ANY),
            ["docker/scripts/download_model.py"]
        );
        let c = copy(&["a.py", "scripts/"], "/opt/", "/");
        assert_eq!(c.candidates("/opt/a.py", ANY)[0], "a.py");
        assert!(c
            .candidates("/opt/run.sh", ANY)
            .contains(&"scripts/run.sh".to_string()));
        let c = copy(&["scripts/*.py"], "/opt/", "/");
        assert_eq!(c.candidates("/opt/get.py", ANY), ["scripts/get.py"]);
        assert!(c.candidates("/srv/get.py", ANY).is_empty());
    }

    #[test]
    fn a_source_without_a_glob_is_read_as_a_file_and_as_a_directory() {
        let both = ["package.json", "package.json/package.json"];
        assert_eq!(
            copy(&["package.json"], "/app", "/").candidates("/app/package.json", ANY),
            both
        );
        assert_eq!(
            copy(&["package.json"], "/app/", "/").candidates("/app/package.json", ANY)[0],
            both[0]
        );
        let c = copy(&["web/package*.json"], "/app/", "/");
        assert_eq!(c.candidates("/app/package.json", ANY), ["web/package.json"]);
        let c = copy(&["frontend"], "/app", "/");
        assert_eq!(
            c.candidates("/app/package.json", ANY),
            ["frontend/package.json"]
        );
        let c = copy(&["pyproject.toml"], "/app/pyproject.toml", "/");
        assert_eq!(c.candidates("/app/pyproject.toml", ANY), ["pyproject.toml"]);
        assert!(copy(&["requirements.txt"], "/app", "/")
            .candidates("/app/package.json", ANY)
            .iter()
            .all(|c| c.starts_with("requirements.txt/")));
    }

    /// A source the context does not hold gives no candidate, nor does a wildcard whose
    /// directory it does not hold; a root with a wildcard, or the whole context, is kept.
    #[test]
    fn sources_missing_from_the_context_give_no_candidate() {
        let held = |p: &str| matches!(p, "tools" | "web");
        let c = copy(&["a.py", "tools", "scripts/*.py", "*/x.py"], "/opt/", "/");
        assert_eq!(
            c.candidates("/opt/x.py", &held),
            ["tools/x.py", "*/x.py", "*/x.py/x.py"]
        );
        let none = copy(&["a.py", "tools", "scripts/*.py"], "/opt/", "/");
        assert_eq!(
            none.candidates("/opt/a.py", &|_| false),
            Vec::<String>::new()
        );
        assert_eq!(
            copy(&["."], "/app", "/").candidates("/app/x.py", &|_| false),
            ["x.py"]
        );
        assert_eq!(
            copy(&["web/*.json"], "/app/", "/").candidates("/app/p.json", &held),
            ["web/p.json"]
        );
    }

    #[test]
    fn only_context_copies_count() {
        let urls = ["https://x/y.py"];
        assert!(ContextCopy::new(0, 0, true, &urls, "/x", "/").is_none());
    }
}
