//! Package indexes of the system package managers: which commands refresh the index and
//! which install from it. An install reads the index the latest refresh left; a refresh in
//! a layer of its own is cached apart from the install, and goes stale under it.

use std::sync::LazyLock;

use super::tools::{self, Tool};

/// One package manager's index.
pub struct PackageIndex {
    /// Programs and options (the tool's row).
    pub tool: &'static Tool,
    /// Leading operands of the commands that refresh the index and install nothing.
    refresh: &'static [&'static [&'static str]],
    /// Leading operands of the commands that install from the index.
    install: &'static [&'static [&'static str]],
    /// Options with which an install refreshes the index itself (`apk add --update`).
    self_refreshing: &'static [&'static str],
    /// The command that refreshes, as messages and fixes write it.
    pub refresh_command: &'static str,
    /// Where the refreshed index is kept: removing it leaves nothing to go stale.
    pub dir: &'static str,
}

const RPM_INSTALLS: &[&[&str]] = &[
    &["install"],
    &["upgrade"],
    &["update"],
    &["groupinstall"],
    &["reinstall"],
    &["builddep"],
    &["distro-sync"],
    &["downgrade"],
];

macro_rules! rpm_index {
    ($static:ident, $tool:ident, $program:literal, $dir:literal) => {
        pub static $static: PackageIndex = PackageIndex {
            tool: &tools::$tool,
            refresh: &[&["makecache"], &["check-update"]],
            install: RPM_INSTALLS,
            self_refreshing: &["--refresh"],
            refresh_command: concat!($program, " makecache"),
            dir: $dir,
        };
    };
}

pub static APT: PackageIndex = PackageIndex {
    tool: &tools::APT,
    refresh: &[&["update"]],
    install: tools::APT_DOWNLOADS,
    self_refreshing: &[],
    refresh_command: "apt-get update",
    dir: "/var/lib/apt/lists",
};

pub static APK: PackageIndex = PackageIndex {
    tool: &tools::APK,
    refresh: &[&["update"]],
    install: &[&["add"], &["upgrade"], &["fix"]],
    self_refreshing: &["--update", "-U", "--update-cache"],
    refresh_command: "apk update",
    dir: "/var/cache/apk",
};

rpm_index!(DNF, DNF, "dnf", "/var/cache/dnf");
rpm_index!(DNF5, DNF5, "dnf5", "/var/cache/libdnf5");
rpm_index!(YUM, YUM, "yum", "/var/cache/yum");
rpm_index!(MICRODNF, MICRODNF, "microdnf", "/var/cache/yum");
rpm_index!(TDNF, TDNF, "tdnf", "/var/cache/tdnf");

pub static ZYPPER: PackageIndex = PackageIndex {
    tool: &tools::ZYPPER,
    refresh: &[&["refresh"], &["ref"]],
    install: &[
        &["install"],
        &["in"],
        &["update"],
        &["up"],
        &["dist-upgrade"],
        &["dup"],
        &["patch"],
    ],
    self_refreshing: &[],
    refresh_command: "zypper refresh",
    dir: "/var/cache/zypp",
};

pub static INDEXES: &[&PackageIndex] = &[&APT, &APK, &DNF, &DNF5, &YUM, &MICRODNF, &TDNF, &ZYPPER];

/// What a command does with a package index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexUse {
    /// Refreshes it and installs nothing (`apt-get update`).
    Refresh,
    /// Installs from it (`apt-get install`, `apk add`); `refreshes`: it refreshes the index
    /// first itself (`apk add --update`).
    Install { refreshes: bool },
}

impl PackageIndex {
    /// What `args` (after the program) do with the index; `None` for anything else.
    pub fn use_of(&self, args: &[&str]) -> Option<IndexUse> {
        let operands = self.tool.operands(args);
        let starts = |prefix: &[&str]| operands.starts_with(prefix);
        if args
            .iter()
            .any(|a| matches!(*a, "--help" | "-h" | "--version"))
        {
            return None;
        }
        if self.refresh.iter().any(|r| starts(r)) {
            return Some(IndexUse::Refresh);
        }
        self.install
            .iter()
            .any(|i| starts(i))
            .then(|| IndexUse::Install {
                refreshes: args.iter().any(|a| self.self_refreshing.contains(a)),
            })
    }
}

/// Whether `program` is the tool of a package index ([`index_use`] knows nothing of others).
pub fn is_index_tool(program: &str) -> bool {
    // Asked of every step of every RUN, most of them no package manager: the first byte
    // rules them out before each index's tool is asked.
    static FIRST_BYTES: LazyLock<[bool; 256]> = LazyLock::new(|| {
        let mut table = [false; 256];
        INDEXES
            .iter()
            .for_each(|index| index.tool.mark_first_bytes(&mut table));
        table
    });
    program
        .as_bytes()
        .first()
        .is_some_and(|&first| FIRST_BYTES[usize::from(first)])
        && INDEXES.iter().any(|index| index.tool.runs_as(program))
}

/// The index a program given `args` uses, and how.
pub fn index_use(program: &str, args: &[&str]) -> Option<(&'static PackageIndex, IndexUse)> {
    INDEXES
        .iter()
        .copied()
        .filter(|index| index.tool.runs_as(program))
        .find_map(|index| Some((index, index.use_of(args)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_and_installs() {
        assert_eq!(
            index_use("apt-get", &["update", "-qq"]).map(|(_, u)| u),
            Some(IndexUse::Refresh)
        );
        assert_eq!(
            index_use("apt-get", &["-y", "install", "curl"]).map(|(_, u)| u),
            Some(IndexUse::Install { refreshes: false })
        );
        assert_eq!(
            index_use("apk", &["add", "--update", "curl"]).map(|(_, u)| u),
            Some(IndexUse::Install { refreshes: true })
        );
        assert_eq!(
            index_use("yum", &["makecache", "fast"]).map(|(i, u)| (i.refresh_command, u)),
            Some(("yum makecache", IndexUse::Refresh))
        );
        assert_eq!(
            index_use("zypper", &["--non-interactive", "ref"]).map(|(_, u)| u),
            Some(IndexUse::Refresh)
        );
        assert!(index_use("apt-get", &["clean"]).is_none());
        assert!(index_use("apt-get", &["update", "--help"]).is_none());
        assert!(index_use("pip", &["install", "x"]).is_none());
    }
}
