//! What the entries of a build context are, when they are something a build rarely wants:
//! version-control data, installed dependencies, caches, build outputs, secrets, and model
//! weights. One table, read by the context walk and by the rules.

/// Why an entry is worth keeping out of a build context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// Version-control data: large, changes on every commit (so `COPY . .` never hits the
    /// cache), and leaks history.
    Vcs,
    /// Dependencies installed on the host for the host's platform.
    Dependencies,
    /// Caches tools rebuild on their own.
    Cache,
    /// What a build on the host left behind.
    BuildOutput,
    /// Credentials and private keys: anything sent can end up in an image layer.
    Secret,
}

impl Category {
    pub fn describe(self) -> &'static str {
        match self {
            Category::Vcs => "version-control data",
            Category::Dependencies => "host-installed dependencies",
            Category::Cache => "a cache",
            Category::BuildOutput => "host build output",
            Category::Secret => "a secret",
        }
    }
}

/// A kind of entry, and what excluding it risks.
#[derive(Debug, PartialEq, Eq)]
pub struct Kind {
    /// What it is, for messages: "git repository", "node_modules".
    pub what: &'static str,
    pub category: Category,
    /// `None`: excluding it cannot change what a build does (tools regenerate it). `Some`:
    /// who might need it ("needed by ..."), which makes excluding it an unsafe fix.
    pub needed_by: Option<&'static str>,
    /// Found by name at any depth (`**/name` excludes every one); otherwise by its exact
    /// path.
    pub anywhere: bool,
}

const GIT: Kind = Kind {
    what: "git repository",
    category: Category::Vcs,
    needed_by: Some(
        "build steps that read version data (setuptools-scm, `git describe`, Go's VCS stamping)",
    ),
    anywhere: false,
};
const OTHER_VCS: Kind = Kind {
    what: "version-control directory",
    category: Category::Vcs,
    needed_by: Some("build steps that read version data"),
    anywhere: false,
};
const NODE_MODULES: Kind = Kind {
    what: "node_modules",
    category: Category::Dependencies,
    needed_by: Some("an image that uses the host's packages instead of installing its own"),
    anywhere: true,
};
const VIRTUALENV: Kind = Kind {
    what: "Python virtualenv",
    category: Category::Dependencies,
    needed_by: Some("an image that runs the host's virtualenv instead of installing its own"),
    anywhere: false,
};
const PYCACHE: Kind = Kind {
    what: "__pycache__",
    category: Category::Cache,
    needed_by: None,
    anywhere: true,
};
const PYC: Kind = Kind {
    what: "compiled Python file",
    category: Category::Cache,
    needed_by: None,
    anywhere: true,
};
const TOOL_CACHE: Kind = Kind {
    what: "tool cache",
    category: Category::Cache,
    needed_by: None,
    anywhere: true,
};
const CARGO_TARGET: Kind = Kind {
    what: "Cargo target directory",
    category: Category::BuildOutput,
    needed_by: Some("a COPY . . that ships artefacts built on the host"),
    anywhere: false,
};
const NEXT_BUILD: Kind = Kind {
    what: "Next.js build output",
    category: Category::BuildOutput,
    needed_by: Some("a COPY . . that ships the build made on the host"),
    anywhere: false,
};
const PYTHON_DIST: Kind = Kind {
    what: "Python distributions",
    category: Category::BuildOutput,
    needed_by: Some("a build that installs the wheels built on the host"),
    anywhere: false,
};
const ENV_FILE: Kind = Kind {
    what: "environment file",
    category: Category::Secret,
    needed_by: Some(
        "an application that reads it at run time (pass the values at run time instead)",
    ),
    anywhere: false,
};
const PRIVATE_KEY: Kind = Kind {
    what: "private key",
    category: Category::Secret,
    needed_by: Some("a build step that uses it (a secret mount keeps it out of the layers)"),
    anywhere: false,
};
const CREDENTIALS: Kind = Kind {
    what: "credentials file",
    category: Category::Secret,
    needed_by: Some("a build step that uses it (a secret mount keeps it out of the layers)"),
    anywhere: false,
};

/// Caches that are recognised by their directory name alone.
const CACHE_DIRS: &[&str] = &[
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".tox",
    ".nox",
    ".hypothesis",
    ".ipynb_checkpoints",
    ".gradle",
    ".parcel-cache",
    ".turbo",
];

/// `.env` files that hold examples, not values.
const ENV_EXAMPLES: &[&str] = &["example", "sample", "template", "dist", "defaults", "tmpl"];

/// What a directory is, from its name and the names of its entries.
pub fn classify_dir(name: &str, children: &[&str]) -> Option<&'static Kind> {
    let has = |child: &str| children.contains(&child);
    Some(match name {
        ".git" => &GIT,
        ".hg" | ".svn" => &OTHER_VCS,
        "node_modules" => &NODE_MODULES,
        "__pycache__" => &PYCACHE,
        _ if CACHE_DIRS.contains(&name) => &TOOL_CACHE,
        _ if has("pyvenv.cfg") => &VIRTUALENV,
        "target" if has("CACHEDIR.TAG") => &CARGO_TARGET,
        ".next" if has("BUILD_ID") || has("build-manifest.json") => &NEXT_BUILD,
        "dist"
            if children
                .iter()
                .any(|c| c.ends_with(".whl") || c.ends_with(".tar.gz")) =>
        {
            &PYTHON_DIST
        }
        _ => return None,
    })
}

/// What a file is, from its name; `text` reads the start of the file when the name alone
/// cannot tell: a `.pem`/`.key` file is a secret only when it holds a private key
/// (certificates are public), a `.env` file only when it gives a secret a value (committed
/// `.env` files mostly hold ports, public build settings or empty templates).
pub fn classify_file(name: &str, text: impl FnOnce() -> Option<String>) -> Option<&'static Kind> {
    if name.ends_with(".pyc") || name.ends_with(".pyo") {
        return Some(&PYC);
    }
    if let Some(rest) = name.strip_prefix(".env") {
        let suffix = rest.strip_prefix('.').unwrap_or(rest);
        let example = ENV_EXAMPLES.iter().any(|e| suffix.eq_ignore_ascii_case(e))
            || suffix.ends_with(".example");
        if (rest.is_empty() || rest.starts_with('.')) && !example {
            return text()
                .filter(|text| gives_a_secret(text))
                .map(|_| &ENV_FILE);
        }
        return None;
    }
    if matches!(name, "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519") {
        return Some(&PRIVATE_KEY);
    }
    if matches!(name, ".netrc" | ".git-credentials" | ".pypirc") {
        return Some(&CREDENTIALS);
    }
    if name.ends_with(".p12") || name.ends_with(".pfx") {
        return Some(&PRIVATE_KEY);
    }
    if name.ends_with(".pem") || name.ends_with(".key") {
        return text()
            .filter(|text| text.contains("PRIVATE KEY"))
            .map(|_| &PRIVATE_KEY);
    }
    None
}

/// How much of a `.pem`/`.key`/`.env` file is read to tell a secret from a public file.
pub const KEY_SNIFF_BYTES: usize = 16 * 1024;

/// Words (between `_`) of a variable name that make its value a secret.
const SECRET_NAME_WORDS: &[&str] = &[
    "SECRET",
    "SECRETS",
    "TOKEN",
    "PASSWORD",
    "PASSWD",
    "PASS",
    "PWD",
    "PRIVATE",
    "CREDENTIAL",
    "CREDENTIALS",
    "KEY",
    "APIKEY",
    "DSN",
    "AUTH",
];

/// Prefixes of variables that front-end bundlers inline into public code: never secrets.
const PUBLIC_PREFIXES: &[&str] = &[
    "VITE_",
    "NEXT_PUBLIC_",
    "REACT_APP_",
    "EXPO_PUBLIC_",
    "PUBLIC_",
];

/// Values that stand for "fill this in".
const PLACEHOLDERS: &[&str] = &[
    "changeme",
    "change_me",
    "xxx",
    "todo",
    "none",
    "null",
    "secret",
    "password",
];

/// Whether a dotenv text gives a secret a value: a secret-named variable with a value that is
/// not a placeholder, or a URL with a password in it (`postgres://user:pw@host`).
fn gives_a_secret(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((name, value)) = line.split_once('=') else {
            return false;
        };
        let name = name.trim().to_ascii_uppercase();
        if name.starts_with('#') || PUBLIC_PREFIXES.iter().any(|p| name.starts_with(p)) {
            return false;
        }
        let value = value.split(" #").next().unwrap_or("").trim();
        let value = value.trim_matches(['"', '\'']);
        if value.is_empty()
            || value.starts_with('<')
            || value.starts_with("${")
            || value.to_ascii_lowercase().starts_with("your")
            || PLACEHOLDERS.iter().any(|p| value.eq_ignore_ascii_case(p))
        {
            return false;
        }
        let words: Vec<&str> = name.split('_').collect();
        let secret_name =
            !words.contains(&"PUBLIC") && words.iter().any(|w| SECRET_NAME_WORDS.contains(w));
        secret_name || url_with_password(value)
    })
}

/// `scheme://user:password@host`.
fn url_with_password(value: &str) -> bool {
    value.split_once("://").is_some_and(|(_, rest)| {
        let authority = rest.split('/').next().unwrap_or("");
        authority
            .rsplit_once('@')
            .is_some_and(|(user, _)| user.split_once(':').is_some_and(|(_, pw)| !pw.is_empty()))
    })
}

/// Weight files smaller than this are fixtures, not models.
pub const MIN_WEIGHT_BYTES: u64 = 1024 * 1024;

/// Extensions of model weight files (`.bin` and `.pb` only with a telling name).
const WEIGHT_EXTENSIONS: &[&str] = &[
    "safetensors",
    "gguf",
    "ggml",
    "ckpt",
    "pt",
    "pth",
    "onnx",
    "tflite",
    "h5",
    "keras",
    "mlmodel",
    "mar",
];

/// Whether a file is model weights: a weight extension and at least [`MIN_WEIGHT_BYTES`].
pub fn is_weight_file(name: &str, bytes: u64) -> bool {
    if bytes < MIN_WEIGHT_BYTES {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    let Some((stem, extension)) = lower.rsplit_once('.') else {
        return false;
    };
    WEIGHT_EXTENSIONS.contains(&extension)
        || (matches!(extension, "bin" | "pb" | "msgpack")
            && ["model", "weight", "ggml", "checkpoint"]
                .iter()
                .any(|w| stem.contains(w)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories() {
        assert_eq!(classify_dir(".git", &[]), Some(&GIT));
        assert_eq!(
            classify_dir("venv", &["pyvenv.cfg", "bin"]),
            Some(&VIRTUALENV)
        );
        assert_eq!(classify_dir("venv", &["bin"]), None);
        assert_eq!(classify_dir("target", &["debug"]), None);
        assert_eq!(
            classify_dir("target", &["CACHEDIR.TAG"]),
            Some(&CARGO_TARGET)
        );
        assert_eq!(classify_dir("dist", &["index.js"]), None);
        assert_eq!(
            classify_dir("dist", &["a-1.0-py3-none-any.whl"]),
            Some(&PYTHON_DIST)
        );
    }

    #[test]
    fn files() {
        let none = || None;
        let secret = || Some("DB_PASSWORD=hunter2\n".to_string());
        assert_eq!(classify_file(".env", secret), Some(&ENV_FILE));
        assert_eq!(classify_file(".env.production", secret), Some(&ENV_FILE));
        assert_eq!(classify_file(".env.example", secret), None);
        assert_eq!(classify_file(".env.local.example", none), None);
        assert_eq!(classify_file(".envrc", none), None);
        assert_eq!(classify_file("x.pyc", none), Some(&PYC));
        assert_eq!(classify_file("id_rsa.pub", none), None);
        assert_eq!(
            classify_file("ca.pem", || Some("-----BEGIN CERTIFICATE-----".into())),
            None
        );
        assert_eq!(
            classify_file("tls.key", || Some("-----BEGIN PRIVATE KEY-----".into())),
            Some(&PRIVATE_KEY)
        );
    }

    #[test]
    fn env_files_are_secrets_when_they_give_one_a_value() {
        let env = |text: &'static str| move || Some(text.to_string());
        for text in [
            "OPENAI_API_KEY=sk-abc123\n",
            "export GITHUB_TOKEN='ghp_x'\n",
            "DATABASE_URL=postgres://app:s3cret@db:5432/app\n",
            "# comment\nSTRIPE_KEY=\"rk_live_1\" # prod\n",
        ] {
            assert_eq!(classify_file(".env", env(text)), Some(&ENV_FILE), "{text}");
        }
        for text in [
            "PORT=9222\nDEBUG=1\n",
            "API_KEY=\nAPI_HOST=\n",
            "VITE_API_KEY=public\nNEXT_PUBLIC_TOKEN=x\n",
            "# SECRET_KEY=abc\n",
            "PASSWORD=changeme\nTOKEN=<your token>\nAUTH_SECRET=${AUTH_SECRET}\n",
            "DATABASE_URL=postgres://db:5432/app\n",
            "BYPASS_CACHE=1\nAUTHOR=me\nSTRIPE_PUBLIC_KEY=pk_1\n",
        ] {
            assert_eq!(classify_file(".env", env(text)), None, "{text}");
        }
        assert_eq!(classify_file(".env", || None), None);
    }

    #[test]
    fn weights() {
        let mib = 1024 * 1024;
        assert!(is_weight_file("model.safetensors", 5 * mib));
        assert!(!is_weight_file("tiny.onnx", 10));
        assert!(is_weight_file("pytorch_model.bin", 5 * mib));
        assert!(!is_weight_file("firmware.bin", 5 * mib));
        assert!(!is_weight_file("safetensors", 5 * mib));
    }
}
