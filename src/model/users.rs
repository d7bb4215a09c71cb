//! The user a RUN executes as: name, uid/gid and HOME, and how sure we are of them.
//!
//! Sources, most certain first: `ENV HOME`; users the file creates or changes (`useradd`,
//! Debian and BusyBox `adduser`, `usermod`, `groupadd`/`addgroup`) with their explicit
//! options, ARG defaults resolved; users that images are known to ship (`node` in `node:*`,
//! `postgres` with uid 70 on Alpine and 999 on Debian, ...). A uid the file does not give
//! (`useradd` without `-u`, a system user) is unknown, never guessed.

use super::images::{
    default_user_of_image, image_runs_as_root, image_user_is_unknown, repository_matches,
    split_reference, COMMON_USERS, IMAGE_USERS,
};
use crate::model::vars::Vars;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Certainty {
    #[default]
    Unknown,
    Guessed,
    Known,
}

/// Every RUN and every command of it keeps its user: the strings are shared, not copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The name or number as the USER instruction gave it ("root" when there is none).
    pub name: Arc<str>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// How sure the uid and gid are.
    pub id_certainty: Certainty,
    /// The build arguments the uid and gid come from (`useradd -u $UID` with `ARG UID=1500`):
    /// `--build-arg` may change them, so a mount should name the argument.
    pub id_args: Option<(String, Option<String>)>,
    /// The HOME the command sees.
    pub home: Option<Arc<str>>,
    pub home_certainty: Certainty,
    /// The RUN instruction that created the account (with its home), if the file did.
    pub created_at: Option<usize>,
}

impl User {
    pub fn root() -> User {
        User::known("root", 0, 0, "/root")
    }

    fn known(name: &str, uid: u32, gid: u32, home: &str) -> User {
        User {
            name: name.into(),
            uid: Some(uid),
            gid: Some(gid),
            id_certainty: Certainty::Known,
            id_args: None,
            home: Some(home.into()),
            home_certainty: Certainty::Known,
            created_at: None,
        }
    }

    /// This account as `USER name[:group]` selects it.
    fn as_user(&self, name: &str, gid: Option<u32>) -> User {
        User {
            name: name.into(),
            gid: gid.or(self.gid),
            ..self.clone()
        }
    }

    pub fn is_root(&self) -> bool {
        self.uid == Some(0)
    }

    /// A user docklint knows nothing about.
    pub fn unknown(name: &str) -> User {
        User {
            name: name.into(),
            uid: None,
            gid: None,
            id_certainty: Certainty::Unknown,
            id_args: None,
            home: None,
            home_certainty: Certainty::Unknown,
            created_at: None,
        }
    }

    /// The user an image runs as when the file has no USER yet.
    pub fn image_default(image: &str) -> User {
        match default_user_of_image(image) {
            Some(name) => Accounts::of_image(image).resolve(name),
            None if image_user_is_unknown(image) => User::unknown("(the base image's user)"),
            None if image_runs_as_root(image) => User::root(),
            // Most images run as root, but an image we do not know may set USER.
            None => User {
                id_certainty: Certainty::Guessed,
                home_certainty: Certainty::Guessed,
                ..User::root()
            },
        }
    }

    /// This user as a RUN with `env` sees it: `ENV HOME=...` (or a HOME build arg) wins
    /// over the account's home directory. The same user, shared, when `env` changes nothing
    /// (told apart before any copy: most RUNs see the user unchanged).
    pub fn with_env(self: &Arc<User>, env: &Vars) -> Arc<User> {
        let (home, home_certainty) = match env.get("HOME") {
            None => return Arc::clone(self),
            Some(crate::model::Value::Known(home)) => (Some(home.as_str()), Certainty::Known),
            Some(crate::model::Value::Unknown) => (None, Certainty::Unknown),
        };
        if self.home.as_deref() == home && self.home_certainty == home_certainty {
            return Arc::clone(self);
        }
        Arc::new(User {
            home: home.map(Into::into),
            home_certainty,
            ..User::clone(self)
        })
    }
}

/// The accounts a stage knows: from its base image and from commands run so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accounts {
    users: Vec<User>,
    groups: Vec<(String, u32)>,
}

/// An argument of an account command, resolved: its value when known, and the variable it
/// is when the whole word is one (`$UID`, `${UID}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub value: Option<String>,
    pub variable: Option<String>,
}

impl Resolved {
    pub fn literal(value: &str) -> Resolved {
        Resolved {
            value: Some(value.to_string()),
            variable: None,
        }
    }
}

impl Accounts {
    pub fn of_image(image: &str) -> Accounts {
        let mut users = vec![User::root()];
        users.extend(
            COMMON_USERS
                .iter()
                .map(|&(n, u, g, h)| User::known(n, u, g, h)),
        );
        let (repo, tag) = split_reference(image);
        let mut seen: Vec<&str> = Vec::new();
        for &(prefix, variant, name, uid, gid, home) in IMAGE_USERS {
            if repository_matches(repo, prefix) && tag.contains(variant) && !seen.contains(&name) {
                seen.push(name);
                users.push(User::known(name, uid, gid, home));
            }
        }
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
            .find(|a| *a.name == *user || (numeric.is_some() && a.uid == numeric));
        match (account, numeric) {
            (Some(account), _) => account.as_user(user, gid),
            // A uid without an account: Docker runs it with HOME=/.
            (None, Some(uid)) => User {
                uid: Some(uid),
                gid: gid.or(Some(uid)),
                id_certainty: Certainty::Known,
                home: Some("/".into()),
                home_certainty: Certainty::Guessed,
                ..User::unknown(user)
            },
            (None, None) => User {
                gid,
                ..User::unknown(user)
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

    /// Learns what an account command does (`useradd`, `adduser`, `usermod`, `groupadd`,
    /// `addgroup`), run by RUN instruction `instruction`.
    pub fn learn(&mut self, program: &str, args: &[Resolved], instruction: usize) {
        match program {
            "useradd" => self.useradd(args, instruction),
            "adduser"
                if args
                    .iter()
                    .any(|a| a.value.as_deref().is_some_and(|v| v.starts_with("--"))) =>
            {
                self.debian_adduser(args, instruction)
            }
            "adduser" => self.busybox_adduser(args, instruction),
            "usermod" => self.usermod(args),
            "groupadd" | "addgroup" => self.groupadd(args),
            _ => {}
        }
    }

    fn group_arg(&self, value: Option<&Resolved>) -> Option<u32> {
        let value = value?.value.as_deref()?;
        value.parse().ok().or_else(|| self.group_id(value))
    }

    /// Adds an account; `group` is the group option's argument (a name or a number).
    fn add_user(
        &mut self,
        name: &str,
        uid: Option<&Resolved>,
        group: Option<&Resolved>,
        home: Option<String>,
        home_certainty: Certainty,
        instruction: usize,
    ) {
        let gid = self.group_arg(group);
        let gid_arg = group.and_then(|g| g.variable.clone());
        let uid_value = uid.and_then(|u| u.value.as_deref()?.parse::<u32>().ok());
        let id_args = uid
            .and_then(|u| u.variable.clone())
            .map(|uid_arg| (uid_arg, gid_arg));
        self.users.push(User {
            name: name.into(),
            uid: uid_value,
            gid: gid.or(uid_value),
            id_certainty: if uid_value.is_some() {
                Certainty::Known
            } else {
                Certainty::Unknown
            },
            id_args,
            home: home.map(Arc::from),
            home_certainty,
            created_at: Some(instruction),
        });
    }

    fn useradd(&mut self, args: &[Resolved], instruction: usize) {
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
        let Some(name) = parsed.operands.last().and_then(|n| n.value.as_deref()) else {
            return;
        };
        let (home, certainty) = match parsed.value('d') {
            Some(dir) => (dir.value.clone(), Certainty::Known),
            None => match parsed.value('b') {
                Some(base) => (
                    base.value
                        .as_deref()
                        .map(|b| format!("{}/{name}", b.trim_end_matches('/'))),
                    Certainty::Known,
                ),
                None => (Some(format!("/home/{name}")), Certainty::Known),
            },
        };
        let certainty = if home.is_some() {
            certainty
        } else {
            Certainty::Unknown
        };
        let name = name.to_string();
        self.add_user(
            &name,
            parsed.value('u'),
            parsed.value('g'),
            home,
            certainty,
            instruction,
        );
    }

    fn debian_adduser(&mut self, args: &[Resolved], instruction: usize) {
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
        let Some(name) = parsed.operands.first().and_then(|n| n.value.clone()) else {
            return;
        };
        let system = parsed.has_long("system");
        let (home, certainty) = match parsed.value('h') {
            Some(dir) => (dir.value.clone(), Certainty::Known),
            // Recent adduser gives system users /nonexistent, older ones /home/<name>.
            None if system => (Some("/nonexistent".to_string()), Certainty::Guessed),
            None => (Some(format!("/home/{name}")), Certainty::Known),
        };
        let group = parsed.value('g').or(parsed.value('G'));
        self.add_user(
            &name,
            parsed.value('u'),
            group,
            home,
            certainty,
            instruction,
        );
    }

    fn busybox_adduser(&mut self, args: &[Resolved], instruction: usize) {
        let parsed = Options::parse(args, "hgsGuk", &[]);
        let Some(name) = parsed.operands.first().and_then(|n| n.value.clone()) else {
            return;
        };
        let home = match parsed.value('h') {
            Some(h) => h.value.clone(),
            None => Some(format!("/home/{name}")),
        };
        let certainty = if home.is_some() {
            Certainty::Known
        } else {
            Certainty::Unknown
        };
        let group = parsed.value('G').or(parsed.operands.get(1).copied());
        self.add_user(
            &name,
            parsed.value('u'),
            group,
            home,
            certainty,
            instruction,
        );
    }

    /// `usermod -d HOME [-m]`, `-u UID`, `-g GROUP`, `-l NEWNAME`.
    fn usermod(&mut self, args: &[Resolved]) {
        let parsed = Options::parse(
            args,
            "cdefgGlLpsuRPZ",
            &[
                ("comment", 'c'),
                ("home", 'd'),
                ("expiredate", 'e'),
                ("inactive", 'f'),
                ("gid", 'g'),
                ("groups", 'G'),
                ("login", 'l'),
                ("password", 'p'),
                ("shell", 's'),
                ("uid", 'u'),
                ("root", 'R'),
                ("prefix", 'P'),
                ("selinux-user", 'Z'),
            ],
        );
        let Some(name) = parsed.operands.last().and_then(|n| n.value.clone()) else {
            // An account we cannot name may be any of them.
            for account in &mut self.users {
                if account.uid != Some(0) {
                    account.home_certainty = account.home_certainty.min(Certainty::Guessed);
                    account.id_certainty = account.id_certainty.min(Certainty::Guessed);
                }
            }
            return;
        };
        let gid = self.group_arg(parsed.value('g'));
        let Some(account) = self.users.iter_mut().rev().find(|a| *a.name == *name) else {
            return;
        };
        if let Some(home) = parsed.value('d') {
            account.home = home.value.as_deref().map(Arc::from);
            account.home_certainty = if home.value.is_some() {
                Certainty::Known
            } else {
                Certainty::Unknown
            };
        }
        if let Some(uid) = parsed.value('u') {
            account.uid = uid.value.as_deref().and_then(|u| u.parse().ok());
            account.id_certainty = if account.uid.is_some() {
                Certainty::Known
            } else {
                Certainty::Unknown
            };
            account.id_args = uid.variable.clone().map(|v| (v, None));
        }
        if parsed.value('g').is_some() {
            account.gid = gid;
        }
        if let Some(new_name) = parsed.value('l').and_then(|l| l.value.clone()) {
            account.name = new_name.into();
        }
    }

    fn groupadd(&mut self, args: &[Resolved]) {
        let parsed = Options::parse(
            args,
            "gKp",
            &[("gid", 'g'), ("key", 'K'), ("password", 'p')],
        );
        if let (Some(name), Some(gid)) = (
            parsed.operands.last().and_then(|n| n.value.clone()),
            parsed
                .value('g')
                .and_then(|g| g.value.as_deref()?.parse().ok()),
        ) {
            self.groups.push((name, gid));
        }
    }
}

/// getopt-style options: short ones (clustered, `-ms /bin/sh`), long ones (`--uid=1`, `--uid 1`).
struct Options<'a> {
    values: Vec<(char, &'a Resolved)>,
    longs: Vec<String>,
    operands: Vec<&'a Resolved>,
    /// Values glued to their option (`-u1000`, `--uid=1000`), resolved apart.
    glued: Vec<(char, Resolved)>,
}

impl<'a> Options<'a> {
    fn parse(
        args: &'a [Resolved],
        short_with_value: &str,
        long_with_value: &[(&str, char)],
    ) -> Options<'a> {
        let mut parsed = Options {
            values: Vec::new(),
            longs: Vec::new(),
            operands: Vec::new(),
            glued: Vec::new(),
        };
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            i += 1;
            let Some(text) = arg.value.as_deref() else {
                parsed.operands.push(arg);
                continue;
            };
            if let Some(long) = text.strip_prefix("--") {
                let (name, inline) = long
                    .split_once('=')
                    .map_or((long, None), |(n, v)| (n, Some(v)));
                match long_with_value.iter().find(|(n, _)| *n == name) {
                    Some(&(_, key)) => match inline {
                        Some(v) => parsed.glued.push((key, Resolved::literal(v))),
                        None => {
                            if let Some(value) = args.get(i) {
                                parsed.values.push((key, value));
                                i += 1;
                            }
                        }
                    },
                    None => parsed.longs.push(name.to_string()),
                }
            } else if let Some(cluster) = text.strip_prefix('-').filter(|c| !c.is_empty()) {
                for (at, c) in cluster.char_indices() {
                    if short_with_value.contains(c) {
                        let rest = &cluster[at + c.len_utf8()..];
                        if rest.is_empty() {
                            if let Some(value) = args.get(i) {
                                parsed.values.push((c, value));
                                i += 1;
                            }
                        } else {
                            parsed.glued.push((c, Resolved::literal(rest)));
                        }
                        break;
                    }
                }
            } else {
                parsed.operands.push(arg);
            }
        }
        parsed
    }

    fn value(&self, key: char) -> Option<&Resolved> {
        let separate = self.values.iter().rposition(|(k, _)| *k == key);
        let glued = self.glued.iter().rposition(|(k, _)| *k == key);
        match (separate, glued) {
            (_, Some(g)) => Some(&self.glued[g].1),
            (Some(s), None) => Some(self.values[s].1),
            (None, None) => None,
        }
    }

    fn has_long(&self, name: &str) -> bool {
        self.longs.iter().any(|l| l == name)
    }
}
