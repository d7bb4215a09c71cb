//! Writing a fixed file back: in one step (a temporary file in the same directory, then a
//! rename), keeping the file's permissions (and owner, when allowed).
//!
//! A symbolic link is written through: the file it points to gets the fixed text and the
//! link stays a link. A file with other hard links is replaced at the path given; the
//! other links keep the old text (a rename cannot change them), and the caller says so.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use docklint::fix::FileChange;

/// What writing did besides replacing the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// The file written when `path` was a symbolic link.
    pub through_link: Option<PathBuf>,
    /// Other hard links to the old file, which keep its text.
    pub other_hard_links: u64,
}

pub fn write_back(path: &Path, text: &str) -> io::Result<Written> {
    let is_link = fs::symlink_metadata(path)?.file_type().is_symlink();
    let target = if is_link {
        fs::canonicalize(path)?
    } else {
        path.to_path_buf()
    };
    let metadata = fs::metadata(&target)?;
    if metadata.permissions().readonly() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the file is read-only",
        ));
    }
    replace(&target, text, &metadata)?;
    Ok(Written {
        through_link: is_link.then_some(target),
        other_hard_links: metadata.nlink().saturating_sub(1),
    })
}

fn replace(target: &Path, text: &str, metadata: &fs::Metadata) -> io::Result<()> {
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (temp, mut file) = create_temp(dir, &name)?;
    let result = (|| {
        file.write_all(text.as_bytes())?;
        file.set_permissions(metadata.permissions())?;
        // Keeping the owner needs privileges; without them the file is the writer's.
        let _ = std::os::unix::fs::fchown(&file, Some(metadata.uid()), Some(metadata.gid()));
        file.sync_all()?;
        fs::rename(&temp, target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// A new file beside the target: created exclusively, so an existing file (or a link
/// planted under the name) is never followed or overwritten.
fn create_temp(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    let mut attempt = 0;
    loop {
        let temp = dir.join(format!(
            ".{name}.docklint-{}-{attempt}.tmp",
            std::process::id()
        ));
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Writes a build-context file a fix changed (the `.dockerignore`), or creates it. Several
/// Dockerfiles can share one: a change made against text that is no longer on disk is left
/// for the next run. Returns whether the file was written.
pub fn write_file_change(change: &FileChange) -> io::Result<bool> {
    let on_disk = fs::read(&change.path)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    if on_disk.as_deref() == Some(change.text.as_str()) {
        return Ok(false);
    }
    if on_disk != change.original {
        return Err(io::Error::other(
            "changed by another fix in this run; run again to fix the rest",
        ));
    }
    match on_disk {
        Some(_) => write_back(&change.path, &change.text).map(|_| true),
        None => {
            // Created exclusively: a file (or link) that appeared meanwhile is not followed.
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&change.path)?;
            file.write_all(change.text.as_bytes())?;
            Ok(true)
        }
    }
}
