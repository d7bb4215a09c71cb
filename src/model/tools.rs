//! Package managers and build tools that keep a download cache: which of their commands use
//! it, where it is for a given user and environment, and what disables or empties it. One
//! row per tool; the effects builder reads the rows, rules read the effects.

/// One tool's cache, as the tool itself decides it.
pub struct Tool {
    pub name: &'static str,
    /// Program names (after wrappers and `python -m` are read).
    programs: fn(&str) -> bool,
    /// Subcommands (the first operand) that download into the cache.
    uses_cache: &'static [&'static str],
    /// Options with which nothing is downloaded.
    offline: &'static [&'static str],
    /// Options that take the next argument as their value (to find the subcommand).
    valued_options: &'static [&'static str],
    /// The option that sets the directory (`--cache-dir DIR`, `--cache-dir=DIR`).
    pub dir_option: Option<&'static str>,
    /// Environment variables that set the directory, strongest first.
    pub dir_env: &'static [&'static str],
    /// The directory under `$XDG_CACHE_HOME`, else under `$HOME/.cache`.
    xdg_subdirectory: &'static str,
    /// The tool expands `~` in the directory itself (pip does, with `expanduser`).
    expands_tilde: bool,
    /// Options that disable the cache, as the tool reads them (abbreviations included).
    disabling: fn(&str) -> bool,
    /// Environment variables that disable the cache when set.
    pub disabling_env: &'static [&'static str],
    /// Subcommand sequences that empty the cache.
    purges: &'static [&'static [&'static str]],
    /// Whether concurrent builds may share the cache (`sharing=shared`).
    pub shared: bool,
}

pub static PIP: Tool = Tool {
    name: "pip",
    programs: is_pip,
    uses_cache: &["install", "wheel", "download"],
    offline: &["--no-index"],
    valued_options: &[
        "--cache-dir",
        "--log",
        "--proxy",
        "--retries",
        "--timeout",
        "--exists-action",
        "--trusted-host",
        "--cert",
        "--client-cert",
        "--python",
        "--use-feature",
        "--use-deprecated",
        "--root-user-action",
        "--keyring-provider",
        "--index-url",
        "-i",
        "--extra-index-url",
    ],
    dir_option: Some("--cache-dir"),
    dir_env: &["PIP_CACHE_DIR"],
    xdg_subdirectory: "pip",
    expands_tilde: true,
    disabling: is_pip_no_cache_dir,
    disabling_env: &["PIP_NO_CACHE_DIR"],
    purges: &[&["cache", "purge"], &["cache", "remove"]],
    shared: true,
};

/// Every tool docklint knows the cache of.
pub static TOOLS: &[&Tool] = &[&PIP];

/// `pip`, `pip3`, `pip3.12`.
fn is_pip(name: &str) -> bool {
    name.strip_prefix("pip")
        .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// pip reads options with optparse, which takes any unambiguous prefix of a long option:
/// `--no-cache`, `--no-cach`, … down to `--no-ca` (`--no-c` could also be `--no-color`).
fn is_pip_no_cache_dir(arg: &str) -> bool {
    arg.len() >= "--no-ca".len() && "--no-cache-dir".starts_with(arg)
}

/// What one command line of a tool does with its cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheCommand {
    /// Downloads through the cache.
    Uses,
    /// Empties the cache.
    Purges,
}

impl std::fmt::Debug for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl Tool {
    /// Whether `name` is one of this tool's programs.
    pub fn runs_as(&self, name: &str) -> bool {
        (self.programs)(name)
    }

    /// What `args` (after the program) do with the cache; `None` for anything else.
    pub fn command(&self, args: &[&str]) -> Option<CacheCommand> {
        let operands = self.operands(args);
        if self
            .purges
            .iter()
            .any(|p| operands.len() >= p.len() && operands[..p.len()] == **p)
        {
            return Some(CacheCommand::Purges);
        }
        let sub = operands.first()?;
        let offline = args.iter().any(|a| self.offline.contains(a));
        (self.uses_cache.contains(sub) && !offline).then_some(CacheCommand::Uses)
    }

    /// Arguments that are neither options nor option values.
    fn operands<'a>(&self, args: &[&'a str]) -> Vec<&'a str> {
        let mut out = Vec::new();
        let mut skip = false;
        for arg in args {
            if std::mem::take(&mut skip) {
                continue;
            }
            if arg.starts_with('-') {
                skip = self.valued_options.contains(arg);
            } else {
                out.push(*arg);
            }
        }
        out
    }

    /// Indices of the arguments that disable the cache.
    pub fn disabling_args(&self, args: &[&str]) -> Vec<usize> {
        args.iter()
            .enumerate()
            .filter(|(_, a)| (self.disabling)(a))
            .map(|(i, _)| i)
            .collect()
    }

    /// The directory given by the option: `(argument index, value)`.
    pub fn dir_argument(&self, args: &[&str]) -> Option<(usize, String)> {
        let option = self.dir_option?;
        let mut found = None;
        for (i, arg) in args.iter().enumerate() {
            if *arg == option {
                found = args.get(i + 1).map(|v| (i + 1, v.to_string()));
            } else if let Some(value) = arg.strip_prefix(option).and_then(|r| r.strip_prefix('=')) {
                found = Some((i, value.to_string()));
            }
        }
        found
    }

    /// The default directory given `XDG_CACHE_HOME` (when set) and HOME.
    pub fn default_dir(&self, xdg_cache_home: Option<&str>, home: &str) -> String {
        match xdg_cache_home.filter(|x| !x.trim().is_empty()) {
            Some(xdg) => format!("{}/{}", xdg.trim_end_matches('/'), self.xdg_subdirectory),
            None => format!(
                "{}/.cache/{}",
                home.trim_end_matches('/'),
                self.xdg_subdirectory
            ),
        }
    }

    pub fn expands_tilde(&self) -> bool {
        self.expands_tilde
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_commands_and_options() {
        assert_eq!(PIP.command(&["install", "flask"]), Some(CacheCommand::Uses));
        assert_eq!(
            PIP.command(&["--cache-dir", "/x", "wheel", "."]),
            Some(CacheCommand::Uses)
        );
        assert_eq!(PIP.command(&["install", "--no-index", "x"]), None);
        assert_eq!(PIP.command(&["cache", "purge"]), Some(CacheCommand::Purges));
        assert_eq!(PIP.command(&["freeze"]), None);
        assert_eq!(
            PIP.disabling_args(&["install", "--no-cache", "--no-color", "x"]),
            [1]
        );
        assert!(PIP.disabling_args(&["--no-c"]).is_empty());
        assert_eq!(
            PIP.dir_argument(&["install", "--cache-dir=/c", "x"]),
            Some((1, "/c".into()))
        );
        assert_eq!(PIP.default_dir(None, "/root/"), "/root/.cache/pip");
        assert_eq!(PIP.default_dir(Some("/xdg"), "/root"), "/xdg/pip");
    }
}
