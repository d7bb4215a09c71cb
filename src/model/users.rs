//! The user a RUN executes as: name, uid/gid and HOME, and how sure we are of them.
//!
//! Sources, most certain first: `ENV HOME`; users the file creates (`useradd`, Debian and
//! BusyBox `adduser`, `groupadd`/`addgroup`) with their explicit options; users that official
//! images are known to ship (`node` in `node:*`, ...); otherwise a guess or nothing.

use crate::model::vars::Vars;
use crate::syntax::shell::Command;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Certainty {
    Unknown,
    Guessed,
    Known,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The name or number as the USER instruction gave it ("root" when there is none).
    pub name: String,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// How sure the uid and gid are.
    pub id_certainty: Certainty,
    /// The HOME the command sees.
    pub home: Option<String>,
    pub home_certainty: Certainty,
}

impl User {
    pub fn root() -> User {
        Account::root().as_user("root".into(), None)
    }

    pub fn is_root(&self) -> bool {
        self.uid == Some(0)
    }

    /// The user an image runs as when the file has no USER yet.
    pub fn image_default(image: &str) -> User {
        let accounts = Accounts::of_image(image);
        match default_user_of_image(image) {
            Some(name) => accounts.resolve(name),
            None if image_user_is_unknown(image) => User {
                name: "(the base image's user)".into(),
                uid: None,
                gid: None,
                id_certainty: Certainty::Unknown,
                home: None,
                home_certainty: Certainty::Unknown,
            },
            None if image_runs_as_root(image) => User::root(),
            // Most images run as root, but an image we do not know may set USER.
            None => User {
                id_certainty: Certainty::Guessed,
                home_certainty: Certainty::Guessed,
                ..User::root()
            },
        }
    }

    /// `ENV HOME=...` (or a HOME build arg) wins over the account's home directory.
    pub fn apply_env(&mut self, env: &Vars) {
        match env.get("HOME") {
            Some(crate::model::Value::Known(home)) => {
                self.home = Some(home.clone());
                self.home_certainty = Certainty::Known;
            }
            Some(crate::model::Value::Unknown) => {
                self.home = None;
                self.home_certainty = Certainty::Unknown;
            }
            None => {}
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Account {
    name: String,
    uid: Option<u32>,
    gid: Option<u32>,
    id_certainty: Certainty,
    home: Option<String>,
    home_certainty: Certainty,
}

impl Account {
    fn root() -> Account {
        Account::known("root", 0, 0, "/root")
    }

    fn known(name: &str, uid: u32, gid: u32, home: &str) -> Account {
        Account {
            name: name.into(),
            uid: Some(uid),
            gid: Some(gid),
            id_certainty: Certainty::Known,
            home: Some(home.into()),
            home_certainty: Certainty::Known,
        }
    }

    fn as_user(&self, name: String, gid: Option<u32>) -> User {
        User {
            name,
            uid: self.uid,
            gid: gid.or(self.gid),
            id_certainty: self.id_certainty,
            home: self.home.clone(),
            home_certainty: self.home_certainty,
        }
    }
}

/// The accounts a stage knows: from its base image and from commands run so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accounts {
    users: Vec<Account>,
    groups: Vec<(String, u32)>,
}

/// Users that official images ship: (image prefix, name, uid, gid, home).
const IMAGE_USERS: &[(&str, &str, u32, u32, &str)] = &[
    ("node", "node", 1000, 1000, "/home/node"),
    ("jupyter/", "jovyan", 1000, 100, "/home/jovyan"),
    ("quay.io/jupyter/", "jovyan", 1000, 100, "/home/jovyan"),
    ("postgres", "postgres", 999, 999, "/var/lib/postgresql"),
    ("mcr.microsoft.com/dotnet/", "app", 1654, 1654, "/home/app"),
    (
        "gcr.io/distroless/",
        "nonroot",
        65532,
        65532,
        "/home/nonroot",
    ),
    (
        "cgr.dev/chainguard/",
        "nonroot",
        65532,
        65532,
        "/home/nonroot",
    ),
];

/// Accounts of every Debian, Ubuntu and Alpine base.
const COMMON_USERS: &[(&str, u32, u32, &str)] = &[
    ("nobody", 65534, 65534, "/nonexistent"),
    ("www-data", 33, 33, "/var/www"),
];

fn image_name(image: &str) -> &str {
    let image = image.strip_prefix("docker.io/").unwrap_or(image);
    image.strip_prefix("library/").unwrap_or(image)
}

/// The repository of an image reference: no digest, no tag (a `:` before the last `/` is a
/// registry port, not a tag).
fn repository(image: &str) -> &str {
    let name = image_name(image);
    let name = name.split('@').next().unwrap_or(name);
    match name.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => name,
    }
}

/// `prefix` names a repository, or a namespace when it ends with `/`.
fn image_matches(image: &str, prefix: &str) -> bool {
    let repo = repository(image);
    if prefix.ends_with('/') {
        repo.starts_with(prefix)
    } else {
        repo == prefix
    }
}

fn default_user_of_image(image: &str) -> Option<&'static str> {
    let name = image_name(image);
    if name.starts_with("jupyter/") || name.starts_with("quay.io/jupyter/") {
        return Some("jovyan");
    }
    if name.starts_with("gcr.io/distroless/") && name.contains("nonroot") {
        return Some("nonroot");
    }
    None
}

/// Vendor images known to run as root (Docker's official images, names without a `/`,
/// do too). Entries ending in `/` are namespaces.
const ROOT_IMAGES: &[&str] = &[
    "nvidia/cuda",
    "pytorch/pytorch",
    "tensorflow/tensorflow",
    "continuumio/",
    "condaforge/",
    "mambaorg/micromamba-root",
    "ubuntu/",
    "public.ecr.aws/amazonlinux/",
    "public.ecr.aws/docker/library/",
    "registry.access.redhat.com/ubi8",
    "registry.access.redhat.com/ubi9",
    "registry.access.redhat.com/ubi8/ubi",
    "registry.access.redhat.com/ubi9/ubi",
    "registry.access.redhat.com/ubi8/ubi-minimal",
    "registry.access.redhat.com/ubi9/ubi-minimal",
    "quay.io/centos/",
    "mcr.microsoft.com/devcontainers/",
    "mcr.microsoft.com/vscode/devcontainers/",
    "ghcr.io/astral-sh/uv",
];

/// Official images (`python`, `library/python`, `docker.io/python`) and the vendor images
/// above start as root. `scratch` has no users at all.
fn image_runs_as_root(image: &str) -> bool {
    let repo = repository(image);
    let official = !repo.is_empty() && !repo.contains('/') && !repo.contains('$');
    official
        || ROOT_IMAGES
            .iter()
            .any(|prefix| image_matches(image, prefix))
}

/// Images known not to run as root by default, with a user the file cannot tell.
fn image_user_is_unknown(image: &str) -> bool {
    let name = image_name(image);
    name.starts_with("bitnami/") || name.starts_with("cgr.dev/chainguard/")
}

impl Accounts {
    pub fn of_image(image: &str) -> Accounts {
        let mut users = vec![Account::root()];
        users.extend(
            COMMON_USERS
                .iter()
                .map(|&(n, u, g, h)| Account::known(n, u, g, h)),
        );
        users.extend(
            IMAGE_USERS
                .iter()
                .filter(|(prefix, ..)| image_matches(image, prefix))
                .map(|&(_, n, u, g, h)| Account::known(n, u, g, h)),
        );
        Accounts {
            users,
            groups: vec![("root".into(), 0)],
        }
    }

    /// The user a `USER name[:group]` (or `uid[:gid]`) instruction selects.
    pub fn resolve(&self, spec: &str) -> User {
        let (user, group) = spec
            .split_once(':')
            .map_or((spec, None), |(u, g)| (u, Some(g)));
        let gid = group.and_then(|g| g.parse().ok().or_else(|| self.group_id(g)));
        let numeric: Option<u32> = user.parse().ok();
        let account = self
            .users
            .iter()
            .rev()
            .find(|a| a.name == user || (numeric.is_some() && a.uid == numeric));
        match (account, numeric) {
            (Some(account), _) => account.as_user(user.into(), gid),
            // A uid without an account: Docker runs it with HOME=/.
            (None, Some(uid)) => User {
                name: user.into(),
                uid: Some(uid),
                gid: gid.or(Some(uid)),
                id_certainty: Certainty::Known,
                home: Some("/".into()),
                home_certainty: Certainty::Guessed,
            },
            (None, None) => User {
                name: user.into(),
                uid: None,
                gid,
                id_certainty: Certainty::Unknown,
                home: None,
                home_certainty: Certainty::Unknown,
            },
        }
    }

    fn group_id(&self, name: &str) -> Option<u32> {
        self.groups
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|&(_, id)| id)
    }

    /// The uid a new regular user would get: one above the highest regular uid known.
    fn next_regular_uid(&self) -> u32 {
        self.users
            .iter()
            .filter_map(|a| a.uid)
            .filter(|&u| (1000..60000).contains(&u))
            .max()
            .map_or(1000, |u| u + 1)
    }

    /// Learns the users and groups these commands create.
    pub fn learn(&mut self, commands: &[Command]) {
        for command in commands {
            let program = command.program.value.rsplit('/').next().unwrap_or_default();
            let args: Vec<&str> = command.args.iter().map(|w| w.value.as_str()).collect();
            match program {
                "useradd" => self.useradd(&args),
                "adduser" if args.iter().any(|a| a.starts_with("--")) => self.debian_adduser(&args),
                "adduser" => self.busybox_adduser(&args),
                "groupadd" | "addgroup" => self.groupadd(&args),
                _ => {}
            }
        }
    }

    fn add_user(
        &mut self,
        name: &str,
        uid: Option<u32>,
        gid: Option<u32>,
        home: Option<String>,
        home_certainty: Certainty,
    ) {
        let (uid, id_certainty) = match uid {
            Some(uid) => (uid, Certainty::Known),
            None => (self.next_regular_uid(), Certainty::Guessed),
        };
        let gid = gid.unwrap_or(uid);
        self.users.push(Account {
            name: name.into(),
            uid: Some(uid),
            gid: Some(gid),
            id_certainty,
            home,
            home_certainty,
        });
    }

    fn group_arg(&self, value: Option<&str>) -> Option<u32> {
        let value = value?;
        value.parse().ok().or_else(|| self.group_id(value))
    }

    fn useradd(&mut self, args: &[&str]) {
        let parsed = Options::parse(
            args,
            "bcdefgGkKpsuRPZ",
            &[
                ("base-dir", 'b'),
                ("comment", 'c'),
                ("home-dir", 'd'),
                ("expiredate", 'e'),
                ("inactive", 'f'),
                ("gid", 'g'),
                ("groups", 'G'),
                ("skel", 'k'),
                ("key", 'K'),
                ("password", 'p'),
                ("shell", 's'),
                ("uid", 'u'),
                ("root", 'R'),
                ("prefix", 'P'),
                ("selinux-user", 'Z'),
            ],
        );
        let Some(name) = parsed.operands.last() else {
            return;
        };
        let home = match parsed.value('d') {
            Some(dir) => dir.to_string(),
            None => format!(
                "{}/{name}",
                parsed.value('b').unwrap_or("/home").trim_end_matches('/')
            ),
        };
        let uid = parsed.value('u').and_then(|u| u.parse().ok());
        let gid = self.group_arg(parsed.value('g'));
        self.add_user(name, uid, gid, Some(home), Certainty::Known);
    }

    fn debian_adduser(&mut self, args: &[&str]) {
        let parsed = Options::parse(
            args,
            "",
            &[
                ("home", 'h'),
                ("uid", 'u'),
                ("gid", 'g'),
                ("shell", 's'),
                ("gecos", 'c'),
                ("comment", 'c'),
                ("ingroup", 'G'),
                ("firstuid", 'f'),
                ("lastuid", 'l'),
                ("firstgid", 'F'),
                ("lastgid", 'L'),
                ("conf", 'C'),
                ("add-extra-groups", 'x'),
                ("add_extra_groups", 'x'),
                ("extrausers", 'X'),
                ("key", 'K'),
            ],
        );
        let Some(name) = parsed.operands.first() else {
            return;
        };
        let system = parsed.has_long("system");
        let (home, certainty) = match parsed.value('h') {
            Some(dir) => (dir.to_string(), Certainty::Known),
            // Recent adduser gives system users /nonexistent, older ones /home/<name>.
            None if system => ("/nonexistent".to_string(), Certainty::Guessed),
            None => (format!("/home/{name}"), Certainty::Known),
        };
        let uid = parsed.value('u').and_then(|u| u.parse().ok());
        let gid = self.group_arg(parsed.value('g').or(parsed.value('G')));
        self.add_user(name, uid, gid, Some(home), certainty);
    }

    fn busybox_adduser(&mut self, args: &[&str]) {
        let parsed = Options::parse(args, "hgsGuk", &[]);
        let Some(name) = parsed.operands.first() else {
            return;
        };
        let home = parsed
            .value('h')
            .map_or_else(|| format!("/home/{name}"), str::to_string);
        let uid = parsed.value('u').and_then(|u| u.parse().ok());
        let gid = self.group_arg(parsed.value('G').or(parsed.operands.get(1).copied()));
        self.add_user(name, uid, gid, Some(home), Certainty::Known);
    }

    fn groupadd(&mut self, args: &[&str]) {
        let parsed = Options::parse(
            args,
            "gKp",
            &[("gid", 'g'), ("key", 'K'), ("password", 'p')],
        );
        if let (Some(name), Some(gid)) = (
            parsed.operands.last(),
            parsed.value('g').and_then(|g| g.parse().ok()),
        ) {
            self.groups.push((name.to_string(), gid));
        }
    }
}

/// getopt-style options: short ones (clustered, `-ms /bin/sh`), long ones (`--uid=1`, `--uid 1`).
struct Options<'a> {
    values: Vec<(char, &'a str)>,
    longs: Vec<&'a str>,
    operands: Vec<&'a str>,
}

impl<'a> Options<'a> {
    fn parse(
        args: &[&'a str],
        short_with_value: &str,
        long_with_value: &[(&str, char)],
    ) -> Options<'a> {
        let mut parsed = Options {
            values: Vec::new(),
            longs: Vec::new(),
            operands: Vec::new(),
        };
        let mut i = 0;
        while i < args.len() {
            let arg = args[i];
            i += 1;
            if let Some(long) = arg.strip_prefix("--") {
                let (name, inline) = long
                    .split_once('=')
                    .map_or((long, None), |(n, v)| (n, Some(v)));
                match long_with_value.iter().find(|(n, _)| *n == name) {
                    Some(&(_, key)) => {
                        let value = inline.or_else(|| args.get(i).copied().inspect(|_| i += 1));
                        parsed.values.extend(value.map(|v| (key, v)));
                    }
                    None => parsed.longs.push(name),
                }
            } else if let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) {
                for (at, c) in cluster.char_indices() {
                    if short_with_value.contains(c) {
                        let rest = &cluster[at + c.len_utf8()..];
                        let value = if rest.is_empty() {
                            args.get(i).copied().inspect(|_| i += 1)
                        } else {
                            Some(rest)
                        };
                        parsed.values.extend(value.map(|v| (c, v)));
                        break;
                    }
                }
            } else {
                parsed.operands.push(arg);
            }
        }
        parsed
    }

    fn value(&self, key: char) -> Option<&'a str> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|&(_, v)| v)
    }

    fn has_long(&self, name: &str) -> bool {
        self.longs.contains(&name)
    }
}
