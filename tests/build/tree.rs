//! The file system of a built image, and how two of them differ.
//!
//! Each path keeps its type, permission bits, owner, symlink target, and for regular files
//! the size and a content hash. Modification times are never compared: every build writes
//! new ones.

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    /// Devices, fifos, sockets.
    Special,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    /// Permission bits with setuid/setgid/sticky.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Regular files only.
    pub size: u64,
    /// Regular files: hash of the content (within one test run, equal content gives equal
    /// hashes; the std hasher's fixed keys are enough to tell builds apart, nothing
    /// adversarial is hashed).
    pub hash: u64,
    pub link: Option<String>,
}

/// Every path of an image's root file system, `/`-rooted.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    pub entries: BTreeMap<String, Entry>,
    /// `/etc/passwd` of the image: (name, uid, home).
    pub accounts: Vec<(String, u32, String)>,
}

impl Tree {
    pub fn read(root: &Path) -> std::io::Result<Tree> {
        let mut tree = Tree::default();
        walk(root, "", &mut tree.entries)?;
        if let Ok(passwd) = std::fs::read_to_string(root.join("etc/passwd")) {
            tree.accounts = passwd
                .lines()
                .filter_map(|line| {
                    let fields: Vec<&str> = line.split(':').collect();
                    let uid = fields.get(2)?.parse().ok()?;
                    Some((fields[0].to_string(), uid, fields.get(5)?.to_string()))
                })
                .collect();
        }
        Ok(tree)
    }

    /// Bytes of regular files, leaving out the paths `skip` names.
    pub fn file_bytes(&self, skip: impl Fn(&str) -> bool) -> u64 {
        self.entries
            .iter()
            .filter(|(path, e)| e.kind == Kind::File && !skip(path))
            .map(|(_, e)| e.size)
            .sum()
    }

    /// The uid and home of the account a USER value names (`app`, `1000`, `app:app`).
    pub fn account(&self, user: &str) -> Option<(u32, &str)> {
        let name = user.split(':').next().unwrap_or(user);
        self.accounts
            .iter()
            .find(|(n, uid, _)| n == name || uid.to_string() == name)
            .map(|(_, uid, home)| (*uid, home.as_str()))
    }

    /// Children of a directory, one level down.
    pub fn children(&self, dir: &str) -> Vec<&str> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        self.entries
            .range(prefix.clone()..)
            .map(|(p, _)| p.as_str())
            .take_while(|p| p.starts_with(&prefix))
            .filter(|p| !p[prefix.len()..].contains('/'))
            .collect()
    }
}

fn walk(root: &Path, relative: &str, out: &mut BTreeMap<String, Entry>) -> std::io::Result<()> {
    let dir = root.join(relative.trim_start_matches('/'));
    for item in std::fs::read_dir(&dir)? {
        let item = item?;
        let name = item.file_name().to_string_lossy().into_owned();
        let path = format!("{relative}/{name}");
        let meta = item.path().symlink_metadata()?;
        let file_type = meta.file_type();
        let kind = if file_type.is_symlink() {
            Kind::Symlink
        } else if file_type.is_dir() {
            Kind::Dir
        } else if file_type.is_file() {
            Kind::File
        } else {
            Kind::Special
        };
        let mut entry = Entry {
            kind,
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
            size: 0,
            hash: 0,
            link: None,
        };
        match kind {
            Kind::File => {
                entry.size = meta.len();
                entry.hash = hash_file(&item.path())?;
            }
            Kind::Symlink => {
                entry.link = Some(
                    std::fs::read_link(item.path())?
                        .to_string_lossy()
                        .into_owned(),
                )
            }
            Kind::Dir | Kind::Special => {}
        }
        out.insert(path.clone(), entry);
        if kind == Kind::Dir {
            walk(root, &path, out)?;
        }
    }
    Ok(())
}

fn hash_file(path: &Path) -> std::io::Result<u64> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let mut file = std::fs::File::open(path)?;
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.write(&buffer[..n]);
    }
    Ok(hasher.finish())
}

/// One path that differs between two images.
#[derive(Debug, Clone)]
pub struct Difference {
    pub path: String,
    pub before: Option<Entry>,
    pub after: Option<Entry>,
}

impl Difference {
    pub fn describe(&self) -> String {
        match (&self.before, &self.after) {
            (Some(b), None) => format!("{}: only in the original ({})", self.path, summary(b)),
            (None, Some(a)) => format!("{}: only in the fixed image ({})", self.path, summary(a)),
            (Some(b), Some(a)) => {
                let mut what = Vec::new();
                if b.kind != a.kind {
                    what.push(format!("type {:?} -> {:?}", b.kind, a.kind));
                }
                if b.mode != a.mode {
                    what.push(format!("mode {:o} -> {:o}", b.mode, a.mode));
                }
                if (b.uid, b.gid) != (a.uid, a.gid) {
                    what.push(format!("owner {}:{} -> {}:{}", b.uid, b.gid, a.uid, a.gid));
                }
                if b.size != a.size {
                    what.push(format!("size {} -> {}", b.size, a.size));
                } else if b.hash != a.hash {
                    what.push("content".to_string());
                }
                if b.link != a.link {
                    what.push(format!("link {:?} -> {:?}", b.link, a.link));
                }
                format!("{}: {}", self.path, what.join(", "))
            }
            (None, None) => self.path.clone(),
        }
    }
}

fn summary(e: &Entry) -> String {
    let kind = match e.kind {
        Kind::File => format!("file, {} bytes", e.size),
        Kind::Dir => "directory".to_string(),
        Kind::Symlink => format!("symlink to {}", e.link.as_deref().unwrap_or("?")),
        Kind::Special => "special file".to_string(),
    };
    format!("{kind}, mode {:o}, owner {}:{}", e.mode, e.uid, e.gid)
}

/// Every path whose entry differs, in path order.
pub fn differences(before: &Tree, after: &Tree) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut b = before.entries.iter().peekable();
    let mut a = after.entries.iter().peekable();
    loop {
        let (path, before, after) = match (b.peek(), a.peek()) {
            (None, None) => break,
            (Some((pb, _)), Some((pa, _))) if pb == pa => {
                let (path, eb) = b.next().expect("peeked");
                let (_, ea) = a.next().expect("peeked");
                if eb == ea {
                    continue;
                }
                (path, Some(eb), Some(ea))
            }
            (Some((pb, _)), Some((pa, _))) if pb < pa => {
                let (path, eb) = b.next().expect("peeked");
                (path, Some(eb), None)
            }
            (Some(_), None) => {
                let (path, eb) = b.next().expect("peeked");
                (path, Some(eb), None)
            }
            _ => {
                let (path, ea) = a.next().expect("peeked");
                (path, None, Some(ea))
            }
        };
        out.push(Difference {
            path: path.clone(),
            before: before.cloned(),
            after: after.cloned(),
        });
    }
    out
}
