//! Helpers shared by the integration tests: the third-party corpus and temporary directories.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Environment variable that turns a missing corpus into a failure (CI sets it to `1`).
pub const REQUIRE_CORPUS: &str = "DOCKLINT_REQUIRE_CORPUS";

/// The test corpus, kept beside the repository at `../shared/corpus` and never copied in.
/// `None` when it is absent: the caller skips its checks, after this has said why on
/// stderr. Panics instead when `DOCKLINT_REQUIRE_CORPUS=1`.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.is_dir() {
        return Some(dir);
    }
    let hint = format!(
        "test corpus not found at {}: put the shared corpus folder (shared/corpus, see its \
         README.md) beside this repository to run the corpus checks",
        dir.display()
    );
    if std::env::var(REQUIRE_CORPUS).is_ok_and(|v| v == "1") {
        panic!("{hint} ({REQUIRE_CORPUS}=1 requires it)");
    }
    eprintln!("skipping corpus checks: {hint}; set {REQUIRE_CORPUS}=1 to make this a failure");
    None
}

/// A directory under the system temp dir, unique to this process and call, removed on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(label: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("docklint-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `contents` at `relative`, creating parent directories.
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let file = self.path.join(relative);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{}: {e}", parent.display()));
        }
        std::fs::write(&file, contents).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        file
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
