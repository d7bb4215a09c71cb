//! What docklint knows about commands, in tables the effects builder reads: shell builtins
//! and what they leave in the shell; wrappers that run another command (as whom, with which
//! environment); programs that run shell text; and what external programs may change on
//! disk that a later shell would notice.
//!
//! Everything here is an allow-list: a command that is not in a table is one docklint cannot
//! see through, and the effects builder treats it as able to do anything.

use crate::syntax::shell::{self, ShellInput};

/// What a shell builtin does to the shell that runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// Prints, tests or waits: the shell is as it was.
    Stateless,
    /// Leaves this in the shell (for messages: "changes directory").
    State(&'static str),
    /// Runs the command that starts at this argument (`command pip`, `builtin cd`).
    Runs(usize),
}

/// The builtins of sh (dash, BusyBox ash) and bash, and what each use of them leaves.
/// `None` when `name` is no builtin.
pub fn builtin(name: &str, args: &[&str]) -> Option<Builtin> {
    use Builtin::{Runs, State, Stateless};
    let no_args = args.is_empty();
    let only_flags = |flags: &[&str]| args.iter().all(|a| flags.contains(a));
    Some(match name {
        ":" | "true" | "false" | "test" | "[" | "echo" | "pwd" | "kill" | "type" | "help"
        | "jobs" | "times" | "wait" | "caller" | "dirs" | "compgen" | "logger" => Stateless,
        "printf" if args.first().is_some_and(|a| a.starts_with("-v")) => {
            State("assigns a variable (`printf -v`)")
        }
        "printf" => Stateless,
        "command" => match args.iter().position(|a| !a.starts_with('-')) {
            _ if args.iter().any(|a| matches!(*a, "-v" | "-V")) => Stateless,
            Some(at) => Runs(at),
            None => Stateless,
        },
        "builtin" => match args.first() {
            Some(_) => Runs(0),
            None => Stateless,
        },
        "cd" | "chdir" | "pushd" | "popd" => State("changes directory"),
        "export" | "readonly" | "declare" | "typeset" | "local"
            if no_args || only_flags(&["-p"]) =>
        {
            Stateless
        }
        "export" => State("exports variables"),
        "readonly" | "declare" | "typeset" | "local" => State("declares variables"),
        "unset" => State("unsets variables"),
        "read" | "mapfile" | "readarray" | "getopts" | "let" => State("assigns variables"),
        "set" if no_args || only_flags(&["-o", "+o"]) => Stateless,
        "set" => State("changes shell options"),
        "shopt" if no_args || only_flags(&["-p", "-q"]) => Stateless,
        "shopt" => State("changes shell options"),
        "umask" if no_args || only_flags(&["-p", "-S"]) => Stateless,
        "umask" => State("changes the umask"),
        "ulimit" if args.iter().all(|a| a.starts_with('-')) && args.len() <= 1 => Stateless,
        "ulimit" => State("changes resource limits"),
        "trap" if no_args || only_flags(&["-p", "-l"]) => Stateless,
        "trap" => State("sets a trap"),
        "alias" if no_args || only_flags(&["-p"]) => Stateless,
        "alias" | "unalias" => State("changes aliases"),
        "hash" if no_args || only_flags(&["-l"]) => Stateless,
        "hash" => State("changes the command hash table"),
        "source" | "." => State("runs a script in the shell itself"),
        "eval" => State("runs text as shell code in the shell itself"),
        "exec" => State("replaces the shell or its file descriptors"),
        "exit" | "logout" => State("ends the shell"),
        "return" | "break" | "continue" => State("changes control flow"),
        "shift" => State("shifts the positional parameters"),
        "enable" | "bind" | "complete" | "compopt" => State("changes the shell's builtins"),
        "fc" | "history" => State("runs or changes history"),
        "bg" | "fg" | "disown" | "suspend" => State("changes jobs"),
        _ => return None,
    })
}

/// The shells whose `-c` string or stdin docklint parses.
pub fn is_posix_shell(program: &str) -> bool {
    matches!(
        basename(program),
        "sh" | "bash" | "dash" | "ash" | "ksh" | "mksh" | "zsh"
    )
}

/// What follows the last `/`. Read by bytes from the end: `rsplit` builds a searcher, a
/// hundred and fifty instructions for `echo`, and this is asked of every command many times.
pub fn basename(program: &str) -> &str {
    match program.bytes().rposition(|b| b == b'/') {
        Some(slash) => &program[slash + 1..],
        None => program,
    }
}

/// A wrapper's command line, read: its options, the operands it takes before the command,
/// and where the command starts.
#[derive(Debug, Default, Clone)]
pub struct WrapperArgs<'a> {
    /// `(option, value)` pairs; long options without their `--`, short ones as one char.
    pub options: Vec<(&'a str, Option<&'a str>)>,
    pub operands: Vec<&'a str>,
    /// `NAME=value` words before the command (env, sudo).
    pub assignments: Vec<&'a str>,
    /// Index of the wrapped command's program in the wrapper's arguments.
    pub command: Option<usize>,
}

impl<'a> WrapperArgs<'a> {
    pub fn has(&self, option: &str) -> bool {
        self.options.iter().any(|(o, _)| *o == option)
    }

    pub fn value(&self, option: &str) -> Option<&'a str> {
        self.options
            .iter()
            .rev()
            .find(|(o, _)| *o == option)
            .and_then(|(_, v)| *v)
    }
}

/// How a wrapper reads its arguments.
struct Syntax {
    /// Short options that take a value.
    short_values: &'static str,
    /// Long options that take a value.
    long_values: &'static [&'static str],
    /// Operands before the command (`timeout DURATION`, `gosu USER`).
    operands: usize,
    /// `NAME=value` words may precede the command.
    assignments: bool,
}

/// Programs that run another command given on their command line.
pub fn wrapper_args<'a>(program: &str, args: &[&'a str]) -> Option<WrapperArgs<'a>> {
    let name = basename(program);
    let syntax = match name {
        "env" => Syntax {
            short_values: "uCS",
            long_values: &[
                "unset",
                "chdir",
                "split-string",
                "default-signal",
                "ignore-signal",
                "block-signal",
            ],
            operands: 0,
            assignments: true,
        },
        "sudo" => Syntax {
            short_values: "ugCDhprtURT",
            long_values: &[
                "user",
                "group",
                "close-from",
                "chdir",
                "host",
                "prompt",
                "role",
                "type",
                "other-user",
                "chroot",
                "command-timeout",
            ],
            operands: 0,
            assignments: true,
        },
        "gosu" | "su-exec" => Syntax {
            short_values: "",
            long_values: &[],
            operands: 1,
            assignments: false,
        },
        "runuser" if args.iter().any(|a| *a == "-u" || a.starts_with("--user")) => Syntax {
            short_values: "ugGw",
            long_values: &["user", "group", "supp-group", "whitelist-environment"],
            operands: 0,
            assignments: false,
        },
        "nice" => Syntax {
            short_values: "n",
            long_values: &["adjustment"],
            operands: 0,
            assignments: false,
        },
        "nohup" | "eatmydata" | "fakeroot" | "setsid" | "tini" | "dumb-init" => Syntax {
            short_values: "lfis",
            long_values: &["lib", "faked", "unknown-is-real"],
            operands: 0,
            assignments: false,
        },
        "timeout" => Syntax {
            short_values: "sk",
            long_values: &["signal", "kill-after"],
            operands: 1,
            assignments: false,
        },
        "time" => Syntax {
            short_values: "fo",
            long_values: &["format", "output"],
            operands: 0,
            assignments: false,
        },
        "stdbuf" => Syntax {
            short_values: "ioe",
            long_values: &["input", "output", "error"],
            operands: 0,
            assignments: false,
        },
        "ionice" => Syntax {
            short_values: "cnP",
            long_values: &["class", "classdata", "pgid", "uid"],
            operands: 0,
            assignments: false,
        },
        "xargs" => Syntax {
            short_values: "adEIiLlnPs",
            long_values: &[
                "arg-file",
                "delimiter",
                "eof",
                "replace",
                "max-lines",
                "max-args",
                "max-procs",
                "max-chars",
                "process-slot-var",
            ],
            operands: 0,
            assignments: false,
        },
        "flock" if !args.iter().any(|a| *a == "-c" || *a == "--command") => Syntax {
            short_values: "wE",
            long_values: &["timeout", "conflict-exit-code"],
            operands: 1,
            assignments: false,
        },
        "conda" | "mamba" | "micromamba" if args.first() == Some(&"run") => {
            let mut parsed = read_args(
                &args[1..],
                &Syntax {
                    short_values: "npra",
                    long_values: &["name", "prefix", "cwd", "root-prefix", "attach"],
                    operands: 0,
                    assignments: false,
                },
            );
            parsed.command = parsed.command.map(|c| c + 1);
            return Some(parsed);
        }
        "uv" | "poetry" | "pipenv" | "pdm" if args.first() == Some(&"run") => {
            let mut parsed = read_args(
                &args[1..],
                &Syntax {
                    short_values: "p",
                    long_values: &[
                        "python",
                        "with",
                        "directory",
                        "project",
                        "extra",
                        "group",
                        "package",
                    ],
                    operands: 0,
                    assignments: false,
                },
            );
            parsed.command = parsed.command.map(|c| c + 1);
            return Some(parsed);
        }
        _ => return None,
    };
    Some(read_args(args, &syntax))
}

/// getopt-style reading: options until the first operand (or `--`), then the operands the
/// wrapper takes, then assignments, then the command.
fn read_args<'a>(args: &[&'a str], syntax: &Syntax) -> WrapperArgs<'a> {
    let mut out = WrapperArgs::default();
    let mut i = 0;
    while let Some(&arg) = args.get(i) {
        if arg == "--" {
            i += 1;
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = long
                .split_once('=')
                .map_or((long, None), |(n, v)| (n, Some(v)));
            i += 1;
            let value = match inline {
                Some(v) => Some(v),
                None if syntax.long_values.contains(&name) => {
                    i += 1;
                    args.get(i - 1).copied()
                }
                None => None,
            };
            out.options.push((name, value));
            continue;
        }
        let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) else {
            break;
        };
        i += 1;
        for (at, c) in cluster.char_indices() {
            let name = &cluster[at..at + c.len_utf8()];
            if syntax.short_values.contains(c) {
                let rest = &cluster[at + c.len_utf8()..];
                let value = if rest.is_empty() {
                    i += 1;
                    args.get(i - 1).copied()
                } else {
                    Some(rest)
                };
                out.options.push((name, value));
                break;
            }
            out.options.push((name, None));
        }
    }
    while out.operands.len() < syntax.operands {
        let Some(&arg) = args.get(i) else { break };
        out.operands.push(arg);
        i += 1;
    }
    while syntax.assignments && args.get(i).is_some_and(|a| is_assignment(a)) {
        out.assignments.push(args[i]);
        i += 1;
    }
    out.command = (i < args.len()).then_some(i);
    out
}

/// `NAME=value` with a valid shell name.
pub fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// `su`/`runuser` in their su form: the user, and the shell text of `-c`.
#[derive(Debug, Clone, Default)]
pub struct SuArgs<'a> {
    pub user: Option<&'a str>,
    /// Index of the `-c` payload in the arguments.
    pub command: Option<usize>,
    /// `-`, `-l`, `--login`: a login environment.
    pub login: bool,
    /// `-m`, `-p`, `--preserve-environment`: HOME and the rest kept.
    pub preserve: bool,
}

pub fn su_args<'a>(program: &str, args: &[&'a str]) -> Option<SuArgs<'a>> {
    let name = basename(program);
    let runuser_command_form =
        name == "runuser" && args.iter().any(|a| *a == "-u" || a.starts_with("--user"));
    if !matches!(name, "su" | "runuser") || runuser_command_form {
        return None;
    }
    let mut out = SuArgs::default();
    let mut i = 0;
    while let Some(&arg) = args.get(i) {
        i += 1;
        match arg {
            "-" | "-l" | "--login" => out.login = true,
            "-m" | "-p" | "--preserve-environment" => out.preserve = true,
            "-c" | "--command" => {
                out.command = (i < args.len()).then_some(i);
                i += 1;
            }
            "-s"
            | "--shell"
            | "-g"
            | "--group"
            | "-G"
            | "--supp-group"
            | "-w"
            | "--whitelist-environment" => i += 1,
            a if a.starts_with("--command=") => out.command = Some(i - 1),
            a if a.starts_with('-') => {}
            a if out.user.is_none() => out.user = Some(a),
            _ => {}
        }
    }
    Some(out)
}

/// The variables a word assigns while it is expanded: `${NAME:=…}`, `${NAME=…}`, and
/// assignments or `++`/`--` in `$(( … ))`. `None` in the list stands for a name that cannot
/// be read (`$(( a[i]++ ))`).
pub fn assigning_expansions(raw: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    if !raw.contains('$') {
        return out; // most words: no expansion at all
    }
    let name_at = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = raw;
    while let Some(at) = rest.find("${") {
        let inner = &rest[at + 2..];
        let name = name_at(inner);
        let after = &inner[name.len()..];
        if !name.is_empty() && (after.starts_with(":=") || after.starts_with('=')) {
            out.push(Some(name));
        }
        rest = &rest[at + 2..];
    }
    let mut rest = raw;
    while let Some(at) = rest.find("$((") {
        let inner = &rest[at + 3..];
        let end = inner.find("))").unwrap_or(inner.len());
        let expression = &inner[..end];
        let assigns = expression.contains("++")
            || expression.contains("--")
            || expression.match_indices('=').any(|(i, _)| {
                let before = expression[..i].chars().last();
                let after = expression[i + 1..].chars().next();
                !matches!(before, Some('=' | '!' | '<' | '>')) && after != Some('=')
            });
        if assigns {
            out.push(None);
        }
        rest = &inner[end.min(inner.len())..];
    }
    out
}

/// `python`, `python3`, `python3.12`, `python${PYTHON_VERSION}`, `pypy3`, any directory.
pub fn is_python(program: &str) -> bool {
    let name = basename(program);
    let rest = name
        .strip_prefix("python")
        .or_else(|| name.strip_prefix("pypy"));
    rest.is_some_and(|v| {
        v.chars().all(|c| c.is_ascii_digit() || c == '.')
            || (v.starts_with('$') && !v.contains('/'))
    })
}

/// What a Python interpreter runs, read from its arguments as Python reads them (options
/// before the first operand; `-W`/`-X` take a value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PythonInput {
    /// `-m MODULE`: the index of the module name (`-mpip`: of that argument, glued).
    Module(usize),
    /// `-c CODE`: the index of the code (`-cCODE`: of that argument, glued).
    Code(usize),
    /// A script file: its index.
    Script(usize),
    /// `-` or no operand: the program comes on stdin.
    Stdin,
}

/// What `python ARGS` runs; `None` when it only prints (`--version`, `-h`).
pub fn python_input(args: &[&str]) -> Option<PythonInput> {
    let mut i = 0;
    while let Some(&arg) = args.get(i) {
        if arg == "-m" || arg == "-c" {
            let at = (i + 1 < args.len()).then_some(i + 1)?;
            return Some(if arg == "-m" {
                PythonInput::Module(at)
            } else {
                PythonInput::Code(at)
            });
        }
        match arg {
            "-" => return Some(PythonInput::Stdin),
            "--version" | "-V" | "--help" | "-h" | "-VV" => return None,
            "-W" | "-X" => i += 2,
            a if a.starts_with("--") => i += 1,
            a if a.starts_with('-') && a.len() > 1 => {
                // Clustered flags (`-Iu`); `m`, `c`, `W`, `X` end the cluster and take the
                // rest of it, or the next argument, as their value.
                let cluster = &a[1..];
                match cluster.find(['m', 'c', 'W', 'X']) {
                    Some(at) => {
                        let glued = at + 1 < cluster.len();
                        match cluster.as_bytes()[at] {
                            b'm' if glued => return Some(PythonInput::Module(i)),
                            b'c' if glued => return Some(PythonInput::Code(i)),
                            b'm' | b'c' => {
                                let at = (i + 1 < args.len()).then_some(i + 1)?;
                                return Some(if cluster.as_bytes()[at] == b'm' {
                                    PythonInput::Module(at)
                                } else {
                                    PythonInput::Code(at)
                                });
                            }
                            _ if glued => i += 1,
                            _ => i += 2,
                        }
                    }
                    None => i += 1,
                }
            }
            _ => return Some(PythonInput::Script(i)),
        }
    }
    Some(PythonInput::Stdin)
}

/// `python -m MODULE …`: the index of the module name in the arguments (options before it
/// read as Python reads them). `None` for a script, `-c` code or stdin.
pub fn python_module(args: &[&str]) -> Option<usize> {
    match python_input(args)? {
        PythonInput::Module(at) => Some(at),
        _ => None,
    }
}

/// The model's answer to the shell layer: which commands run shell text, seen through the
/// wrappers above (`sudo -u app sh -c '…'`, `su app -c '…'`, `env A=1 bash <<EOF`).
pub struct Launchers;

impl shell::Launchers for Launchers {
    fn shell_input(&self, program: &str, args: &[&str]) -> Option<ShellInput> {
        let mut program = program;
        let mut offset = 0;
        let mut args = args;
        // Bounded: each step consumes at least the wrapper's program word.
        for _ in 0..16 {
            if let Some(su) = su_args(program, args) {
                if su.command.is_some() || !is_posix_shell(program) {
                    return su.command.map(|c| ShellInput::CommandString(offset + c));
                }
            }
            if is_posix_shell(program) {
                return match shell::shell_options_input(args)? {
                    ShellInput::CommandString(i) => Some(ShellInput::CommandString(offset + i)),
                    ShellInput::Stdin => Some(ShellInput::Stdin),
                };
            }
            let next = match builtin(program, args) {
                Some(Builtin::Runs(at)) => at,
                _ => wrapper_args(program, args)?.command?,
            };
            program = args[next];
            args = &args[next + 1..];
            offset += next + 1;
        }
        None
    }
}

/// What an external program may leave behind that a shell started after it would notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Reads, or writes only the paths its arguments name (which the model follows).
    Operands,
    /// Installs packages of the distribution: files land in the distribution's directories,
    /// where no name is on two PATH directories (Debian policy and its peers), and no service
    /// starts (official images ship `policy-rc.d` or have no init).
    DistroPackages,
    /// Installs into a language's prefix: new executables may appear on PATH.
    PackagePrefix,
    /// Runs code docklint cannot see (a build, a script, an installer): it may start
    /// processes or replace any file.
    Unknown,
}

/// The reach of an external program given its arguments.
pub fn reach(program: &str, args: &[&str]) -> Reach {
    use Reach::{DistroPackages, Operands, PackagePrefix, Unknown};
    let sub = args
        .iter()
        .find(|a| !a.starts_with('-'))
        .copied()
        .unwrap_or("");
    match basename(program) {
        "cat"
        | "ls"
        | "cp"
        | "mv"
        | "ln"
        | "rm"
        | "rmdir"
        | "unlink"
        | "mkdir"
        | "touch"
        | "chmod"
        | "chown"
        | "chgrp"
        | "install"
        | "tee"
        | "sed"
        | "awk"
        | "gawk"
        | "mawk"
        | "grep"
        | "egrep"
        | "fgrep"
        | "head"
        | "tail"
        | "sort"
        | "uniq"
        | "cut"
        | "tr"
        | "wc"
        | "find"
        | "curl"
        | "wget"
        | "tar"
        | "unzip"
        | "gzip"
        | "gunzip"
        | "bzip2"
        | "bunzip2"
        | "xz"
        | "unxz"
        | "zstd"
        | "zcat"
        | "sleep"
        | "date"
        | "id"
        | "whoami"
        | "uname"
        | "which"
        | "printenv"
        | "expr"
        | "seq"
        | "basename"
        | "dirname"
        | "readlink"
        | "realpath"
        | "stat"
        | "file"
        | "du"
        | "df"
        | "free"
        | "nproc"
        | "getent"
        | "hostname"
        | "sync"
        | "dd"
        | "envsubst"
        | "jq"
        | "yq"
        | "sha256sum"
        | "sha512sum"
        | "sha1sum"
        | "md5sum"
        | "base64"
        | "cmp"
        | "diff"
        | "patch"
        | "useradd"
        | "groupadd"
        | "adduser"
        | "addgroup"
        | "usermod"
        | "groupmod"
        | "userdel"
        | "groupdel"
        | "chpasswd"
        | "passwd"
        | "ldconfig"
        | "locale-gen"
        | "update-locale"
        | "update-ca-certificates"
        | "localedef"
        | "ssh-keyscan"
        | "ssh-keygen"
        | "openssl"
        | "mktemp"
        | "tput"
        | "locale"
        | "true"
        | "false"
        | "test"
        | "["
        | "echo"
        | "printf"
        | "env"
        | "xargs"
        | "yes"
        | "rev"
        | "tac"
        | "nl"
        | "paste"
        | "join"
        | "comm"
        | "split"
        | "csplit"
        | "truncate"
        | "shuf"
        | "od"
        | "hexdump"
        | "xxd"
        | "strings"
        | "timeout"
        | "nice"
        | "nohup"
        | "stdbuf"
        | "ionice"
        | "eatmydata"
        | "fakeroot"
        | "gosu"
        | "su-exec"
        | "sudo"
        | "su"
        | "runuser"
        | "mknod"
        | "mkfifo"
        | "setcap"
        | "getcap"
        | "strip"
        | "venv" => Operands,
        "git"
            if matches!(
                sub,
                "clone"
                    | "checkout"
                    | "fetch"
                    | "config"
                    | "init"
                    | "submodule"
                    | "rev-parse"
                    | "describe"
                    | "log"
                    | "reset"
                    | "apply"
                    | "archive"
                    | "lfs"
                    | "remote"
                    | "show"
                    | "status"
                    | "tag"
                    | "pull"
                    | "branch"
                    | "switch"
                    | "sparse-checkout"
                    | "clean"
                    | "gc"
                    | "am"
            ) =>
        {
            Operands
        }
        "apt-get"
        | "apt"
        | "aptitude"
        | "apk"
        | "dnf"
        | "yum"
        | "microdnf"
        | "tdnf"
        | "zypper"
        | "dpkg"
        | "rpm"
        | "pacman"
        | "apt-cache"
        | "apt-key"
        | "apt-mark"
        | "debconf-set-selections"
        | "add-apt-repository" => DistroPackages,
        "pip" | "pip3" | "pipx" | "uv" | "poetry" | "pipenv" | "conda" | "mamba" | "micromamba"
        | "npm" | "yarn" | "pnpm" | "bun" | "gem" | "bundle" | "bundler" | "composer" | "cargo"
        | "rustup" | "mvn" | "gradle" | "sbt" | "dotnet" | "nuget" | "corepack" | "yarnpkg"
        | "composer.phar" => PackagePrefix,
        "go" if matches!(
            sub,
            "mod"
                | "get"
                | "install"
                | "build"
                | "env"
                | "version"
                | "vet"
                | "test"
                | "generate"
                | "clean"
                | "list"
                | "work"
        ) =>
        {
            PackagePrefix
        }
        name if name.starts_with("pip")
            && name[3..].chars().all(|c| c.is_ascii_digit() || c == '.') =>
        {
            PackagePrefix
        }
        _ => Unknown,
    }
}

/// What a known program creates, replaces or removes, by argument index (`None` for the
/// working directory); the effects builder resolves the paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathUse {
    /// Removed with everything inside (`rm -r`), or just the file (`rm`, `unlink`).
    Remove(Operand),
    /// Everything inside removed (`find DIR -delete`, `find DIR -exec rm …`).
    RemoveInside(Operand),
    /// Created as a directory (`mkdir` without `-p` fails if it exists).
    CreateDirectory { at: Operand, must_not_exist: bool },
    /// A file or link written there, perhaps executable (`cp`, `mv`, `ln`, `install`, `chmod +x`).
    Write { at: Operand, executable: bool },
    /// Files of unknown names written inside (`tar -x -C DIR`, `unzip -d DIR`, `git clone URL DIR`).
    WriteInside { at: Operand, executable: bool },
    /// Read, to land somewhere else (the sources of `cp`, `mv`, `install`).
    Read(Operand),
}

/// A path argument: an argument of the command, the working directory, or a fixed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    Arg(usize),
    /// The value of option at this argument index is inline after `=` or glued (`-Cdir`):
    /// the path starts at this byte of the argument.
    ArgFrom(usize, usize),
    WorkingDirectory,
}

/// The index in `args` of the program a package runner runs (`npx next build`, `bunx`,
/// `pnpx`, `pnpm exec`, `yarn dlx`); `None` for anything else, or a runner given a shell
/// command (`npx -c '…'`).
pub fn package_runner(program: &str, args: &[&str]) -> Option<usize> {
    let from = match (basename(program), args.first().copied()) {
        ("npx" | "bunx" | "pnpx", _) => 0,
        ("pnpm" | "yarn" | "bun", Some("exec" | "dlx" | "x")) => 1,
        _ => return None,
    };
    let mut i = from;
    while let Some(arg) = args.get(i) {
        match *arg {
            "-c" | "--call" | "--shell" => return None,
            // Options whose value is the next argument: the packages to install first.
            "-p" | "--package" => i += 2,
            a if a.starts_with('-') => i += 1,
            _ => return Some(i),
        }
    }
    None
}

/// The paths a known program touches. An `Operands` program absent here writes nothing the
/// model needs to follow (or only its stdout).
pub fn path_uses(program: &str, args: &[&str]) -> Vec<PathUse> {
    let name = basename(program);
    let (flags, operands) = split_operands(name, args);
    let has = |f: char| flags.iter().any(|a| !a.starts_with("--") && a.contains(f));
    let long = |f: &str| flags.contains(&f);
    match name {
        "rm" | "unlink" | "rmdir" => operands
            .iter()
            .map(|&i| PathUse::Remove(Operand::Arg(i)))
            .collect(),
        "mkdir" => {
            let parents = has('p') || long("--parents");
            operands
                .iter()
                .map(|&i| PathUse::CreateDirectory {
                    at: Operand::Arg(i),
                    must_not_exist: !parents,
                })
                .collect()
        }
        "cp" | "mv" | "ln" | "install" => {
            // `ln` makes a link: nothing is read.
            let copies = name != "ln" && !(name == "install" && has('d'));
            if let Some(t) = target_directory(args) {
                let reads = operands
                    .iter()
                    .filter(|_| copies)
                    .map(|&i| PathUse::Read(Operand::Arg(i)));
                return std::iter::once(PathUse::WriteInside {
                    at: t,
                    executable: true,
                })
                .chain(reads)
                .collect();
            }
            let sources = operands.split_last().map_or(&[][..], |(_, s)| s);
            let reads: Vec<PathUse> = sources
                .iter()
                .filter(|_| copies)
                .map(|&i| PathUse::Read(Operand::Arg(i)))
                .collect();
            if name == "install" && has('d') {
                return operands
                    .iter()
                    .map(|&i| PathUse::CreateDirectory {
                        at: Operand::Arg(i),
                        must_not_exist: false,
                    })
                    .collect();
            }
            match operands.last() {
                // `ln -s TARGET` alone links in the working directory.
                Some(&i) if operands.len() == 1 && name == "ln" => vec![
                    PathUse::Write {
                        at: Operand::Arg(i),
                        executable: true,
                    },
                    PathUse::WriteInside {
                        at: Operand::WorkingDirectory,
                        executable: true,
                    },
                ],
                // The destination is a file, or a directory the sources land in.
                Some(&i) => [
                    PathUse::Write {
                        at: Operand::Arg(i),
                        executable: true,
                    },
                    PathUse::WriteInside {
                        at: Operand::Arg(i),
                        executable: true,
                    },
                ]
                .into_iter()
                .chain(reads)
                .collect(),
                None => Vec::new(),
            }
        }
        "chmod" => {
            let mode = operands.first().map(|&i| args[i]).unwrap_or("");
            let executable =
                mode.contains('x') || mode.chars().any(|c| matches!(c, '1' | '3' | '5' | '7'));
            if !executable {
                return Vec::new();
            }
            operands
                .iter()
                .skip(1)
                .flat_map(|&i| {
                    [
                        PathUse::Write {
                            at: Operand::Arg(i),
                            executable: true,
                        },
                        PathUse::WriteInside {
                            at: Operand::Arg(i),
                            executable: has('R'),
                        },
                    ]
                })
                .collect()
        }
        "tar" => {
            let extracting = args
                .first()
                .is_some_and(|a| !a.starts_with('-') && a.contains('x'))
                || has('x')
                || long("--extract")
                || long("--get");
            if !extracting {
                return Vec::new();
            }
            let at =
                option_operand(args, &["-C", "--directory"]).unwrap_or(Operand::WorkingDirectory);
            vec![PathUse::WriteInside {
                at,
                executable: true,
            }]
        }
        "unzip" => {
            let at = option_operand(args, &["-d"]).unwrap_or(Operand::WorkingDirectory);
            vec![PathUse::WriteInside {
                at,
                executable: true,
            }]
        }
        // `python -m venv DIR`
        "venv" => operands
            .iter()
            .map(|&i| PathUse::WriteInside {
                at: Operand::Arg(i),
                executable: true,
            })
            .collect(),
        "git" if operands.first().is_some_and(|&i| args[i] == "clone") => {
            let at = match operands.get(2) {
                Some(&i) => Operand::Arg(i),
                None => Operand::WorkingDirectory,
            };
            vec![PathUse::WriteInside {
                at,
                executable: true,
            }]
        }
        // `curl -o FILE`, `wget -O FILE` (not `-`, standard output).
        "curl" | "wget" => {
            let options: &[&str] = match name {
                "curl" => &["-o", "--output"],
                _ => &["-O", "--output-document"],
            };
            let at = option_operand(args, options).filter(|at| match at {
                Operand::Arg(i) => args[*i] != "-",
                Operand::ArgFrom(i, from) => args[*i].get(*from..) != Some("-"),
                Operand::WorkingDirectory => false,
            });
            at.map(|at| PathUse::Write {
                at,
                executable: false,
            })
            .into_iter()
            .collect()
        }
        "find" => {
            let root = operands
                .first()
                .map_or(Operand::WorkingDirectory, |&i| Operand::Arg(i));
            let deletes = args.contains(&"-delete")
                || args.windows(2).any(|w| {
                    matches!(w[0], "-exec" | "-execdir" | "-ok")
                        && matches!(basename(w[1]), "rm" | "rmdir")
                });
            if deletes {
                vec![PathUse::RemoveInside(root.clone()), PathUse::Remove(root)]
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

/// `-t DIR` / `--target-directory=DIR` of cp, mv, ln, install.
fn target_directory(args: &[&str]) -> Option<Operand> {
    option_operand(args, &["-t", "--target-directory"])
}

/// The value of the first of `options` (`-C dir`, `-Cdir`, `--directory=dir`, `--directory dir`).
fn option_operand(args: &[&str], options: &[&str]) -> Option<Operand> {
    for (i, arg) in args.iter().enumerate() {
        for option in options {
            if arg == option {
                return (i + 1 < args.len()).then_some(Operand::Arg(i + 1));
            }
            if let Some(rest) = arg.strip_prefix(option) {
                if option.starts_with("--") && rest.starts_with('=') {
                    return Some(Operand::ArgFrom(i, option.len() + 1));
                }
                if !option.starts_with("--") && !rest.is_empty() && option.len() == 2 {
                    return Some(Operand::ArgFrom(i, 2));
                }
            }
        }
    }
    None
}

/// Flags and operand indices of a coreutils-style command line (`--` ends the options).
fn split_operands<'a>(name: &str, args: &[&'a str]) -> (Vec<&'a str>, Vec<usize>) {
    let mut flags = Vec::new();
    let mut operands = Vec::new();
    let mut options_done = false;
    let mut i = 0;
    // Options of these commands that take the next argument as their value.
    let valued: &[&str] = match name {
        "cp" | "mv" | "ln" | "install" => &["-t", "-S", "-m", "-o", "-g", "--suffix"],
        "mkdir" => &["-m", "--mode", "-Z"],
        "chmod" | "chown" => &["--reference"],
        "tar" => &[
            "-C",
            "-f",
            "--directory",
            "--file",
            "-T",
            "-X",
            "--exclude",
            "--strip-components",
        ],
        "unzip" => &["-d", "-x"],
        "find" => &[],
        _ => &[],
    };
    while let Some(&arg) = args.get(i) {
        i += 1;
        if !options_done && arg == "--" {
            options_done = true;
            continue;
        }
        if !options_done
            && arg.starts_with('-')
            && arg.len() > 1
            && !(name == "chmod" && is_mode(arg))
        {
            flags.push(arg);
            if valued.contains(&arg) {
                i += 1;
            }
            continue;
        }
        operands.push(i - 1);
    }
    (flags, operands)
}

/// `-x`, `-w` … as chmod modes, not options.
fn is_mode(arg: &str) -> bool {
    arg[1..]
        .chars()
        .all(|c| matches!(c, 'r' | 'w' | 'x' | 'X' | 's' | 't'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::shell::Launchers as _;

    #[test]
    fn builtins_leave_state_or_not() {
        assert_eq!(
            builtin("cd", &["/tmp"]),
            Some(Builtin::State("changes directory"))
        );
        assert_eq!(builtin("command", &["cd", "/tmp"]), Some(Builtin::Runs(0)));
        assert_eq!(builtin("command", &["-v", "pip"]), Some(Builtin::Stateless));
        assert_eq!(builtin("builtin", &["cd", "/"]), Some(Builtin::Runs(0)));
        assert!(matches!(
            builtin("printf", &["-v", "x", "y"]),
            Some(Builtin::State(_))
        ));
        assert_eq!(builtin("printf", &["%s\\n", "x"]), Some(Builtin::Stateless));
        assert!(matches!(builtin("set", &["-e"]), Some(Builtin::State(_))));
        assert_eq!(builtin("set", &[]), Some(Builtin::Stateless));
        assert_eq!(builtin("umask", &[]), Some(Builtin::Stateless));
        assert!(matches!(
            builtin("umask", &["077"]),
            Some(Builtin::State(_))
        ));
        assert_eq!(builtin("pip", &["install"]), None);
    }

    #[test]
    fn wrappers_find_their_command() {
        let at = |program: &str, args: &[&str]| wrapper_args(program, args).and_then(|w| w.command);
        assert_eq!(at("sudo", &["-u", "app", "-E", "pip", "install"]), Some(3));
        assert_eq!(
            at("env", &["-i", "A=1", "HOME=/x", "pip", "install"]),
            Some(3)
        );
        assert_eq!(
            at("timeout", &["-s", "KILL", "60", "pip", "install"]),
            Some(3)
        );
        assert_eq!(at("gosu", &["app", "pip"]), Some(1));
        assert_eq!(at("runuser", &["-u", "app", "--", "pip"]), Some(3));
        assert_eq!(at("nice", &["-n", "10", "pip"]), Some(2));
        assert_eq!(at("xargs", &["-n1", "pip", "install"]), Some(1));
        assert_eq!(
            at(
                "conda",
                &["run", "-n", "base", "--no-capture-output", "pip", "install"]
            ),
            Some(4)
        );
        assert_eq!(at("nohup", &["pip"]), Some(0));
        assert_eq!(at("conda", &["install", "x"]), None);
    }

    #[test]
    fn su_and_python_module() {
        let su = su_args("su", &["app", "-c", "pip install x"]).unwrap_or_default();
        assert_eq!((su.user, su.command), (Some("app"), Some(2)));
        let su = su_args("su", &["-", "-c", "id", "app"]).unwrap_or_default();
        assert_eq!(
            (su.user, su.command, su.login),
            (Some("app"), Some(2), true)
        );
        assert!(
            is_python("python3.12")
                && is_python("/opt/venv/bin/python")
                && is_python("python${PY}")
        );
        assert!(!is_python("python-config"));
        assert_eq!(python_module(&["-m", "pip", "install"]), Some(1));
        assert_eq!(python_module(&["-I", "-X", "utf8", "-m", "pip"]), Some(4));
        assert_eq!(python_module(&["-mpip", "install"]), Some(0));
        assert_eq!(python_module(&["script.py"]), None);
        assert_eq!(python_module(&["-c", "import x"]), None);
        assert_eq!(
            python_input(&["-c", "import x"]),
            Some(PythonInput::Code(1))
        );
        assert_eq!(
            python_input(&["-u", "x.py", "-m"]),
            Some(PythonInput::Script(1))
        );
        assert_eq!(python_input(&["-", "arg"]), Some(PythonInput::Stdin));
        assert_eq!(python_input(&[]), Some(PythonInput::Stdin));
        assert_eq!(
            python_input(&["-Im", "spacy"]),
            Some(PythonInput::Module(1))
        );
        assert_eq!(
            python_input(&["-W", "ignore", "-m", "nltk.downloader"]),
            Some(PythonInput::Module(3))
        );
        assert_eq!(python_input(&["--version"]), None);
    }

    #[test]
    fn launchers_see_through_wrappers() {
        let l = Launchers;
        assert_eq!(
            l.shell_input("sudo", &["-u", "app", "sh", "-c", "pip install x"]),
            Some(ShellInput::CommandString(4))
        );
        assert_eq!(
            l.shell_input("su", &["app", "-c", "pip install x"]),
            Some(ShellInput::CommandString(2))
        );
        assert_eq!(
            l.shell_input("env", &["A=1", "bash"]),
            Some(ShellInput::Stdin)
        );
        assert_eq!(l.shell_input("bash", &["script.sh"]), None);
        assert_eq!(l.shell_input("pip", &["install"]), None);
    }

    #[test]
    fn path_uses_of_common_commands() {
        assert_eq!(
            path_uses("rm", &["-rf", "/root/.cache", "/tmp/x"]),
            [
                PathUse::Remove(Operand::Arg(1)),
                PathUse::Remove(Operand::Arg(2))
            ]
        );
        assert_eq!(
            path_uses("mkdir", &["/app"]),
            [PathUse::CreateDirectory {
                at: Operand::Arg(0),
                must_not_exist: true
            }]
        );
        assert_eq!(
            path_uses("tar", &["-xzf", "x.tgz", "-C", "/usr/local"]),
            [PathUse::WriteInside {
                at: Operand::Arg(3),
                executable: true
            }]
        );
        assert_eq!(
            path_uses(
                "curl",
                &["-fsSL", "-o", "/tmp/x.tgz", "https://example.com/x.tgz"]
            ),
            [PathUse::Write {
                at: Operand::Arg(2),
                executable: false
            }]
        );
        assert!(path_uses("wget", &["-O", "-", "https://example.com/x"]).is_empty());
        assert!(path_uses("chmod", &["644", "/x"]).is_empty());
        assert_eq!(path_uses("chmod", &["+x", "/usr/local/bin/x"]).len(), 2);
        assert_eq!(reach("make", &["install"]), Reach::Unknown);
        assert_eq!(
            reach("apt-get", &["install", "-y", "curl"]),
            Reach::DistroPackages
        );
    }
}
