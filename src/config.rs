//! `lint.toml`: schema, discovery (nearest file up from each Dockerfile), layering over the
//! built-in default, and the per-file settings rules run with.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::context::resolve::{self, BuildFiles};
use crate::context::{ContextCache, ContextOrigin};
use crate::lints;
use crate::rule::{Meta, Rule, Severity};

/// The repository's `lint.toml`: the default configuration and its reference.
pub const DEFAULT_CONFIG: &str = include_str!("../lint.toml");
pub const CONFIG_FILE_NAME: &str = "lint.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

impl FailOn {
    pub fn fails(self, severity: Severity) -> bool {
        match self {
            FailOn::Never => false,
            FailOn::Error => severity >= Severity::Error,
            FailOn::Warning => severity >= Severity::Warning,
            FailOn::Info => true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheStrategy {
    /// BuildKit cache mounts.
    Mount,
    /// Legacy builders without `--mount`: caches are cleaned in the layer.
    Clean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    Error,
    Warning,
    Info,
    Off,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    select: Option<Vec<Spanned<String>>>,
    ignore: Option<Vec<Spanned<String>>>,
    fail_on: Option<FailOn>,
    cache_strategy: Option<CacheStrategy>,
    severity: Option<BTreeMap<Spanned<String>, Level>>,
    per_file_ignores: Option<BTreeMap<String, Vec<Spanned<String>>>>,
    context: Option<BTreeMap<String, String>>,
    targets: Option<BTreeMap<String, Vec<String>>>,
    rules: Option<BTreeMap<Spanned<String>, Spanned<toml::Table>>>,
}

/// A configuration problem, with the location of the offending key or value.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub path: PathBuf,
    pub text: String,
    pub span: Option<Range<usize>>,
    pub message: String,
}

/// One configuration file, validated; `None` fields fall back to the layer below.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Directory the file's relative paths are relative to.
    pub dir: PathBuf,
    select: Option<Vec<String>>,
    ignore: Option<Vec<String>>,
    fail_on: Option<FailOn>,
    cache_strategy: Option<CacheStrategy>,
    severity: BTreeMap<String, Level>,
    per_file_ignores: Vec<(globset::GlobMatcher, Vec<String>)>,
    context: BTreeMap<String, String>,
    /// Stages built with `--target`, by Dockerfile glob.
    targets: Vec<(globset::GlobMatcher, Vec<String>)>,
    rules: BTreeMap<String, toml::Table>,
}

impl Config {
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let error = |span: Option<Range<usize>>, message: String| ConfigError {
            path: path.to_path_buf(),
            text: text.to_string(),
            span,
            message,
        };
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| error(e.span(), e.message().to_string()))?;
        let names = |list: Option<Vec<Spanned<String>>>,
                     allow_all: bool|
         -> Result<Option<Vec<String>>, ConfigError> {
            list.map(|list| {
                list.into_iter()
                    .map(|n| match selector_known(n.get_ref(), allow_all) {
                        true => Ok(canonical(n.get_ref())),
                        false => Err(error(Some(n.span()), unknown_selector(n.get_ref()))),
                    })
                    .collect()
            })
            .transpose()
        };
        let select = names(raw.select, true)?;
        let ignore = names(raw.ignore, false)?;
        let mut severity = BTreeMap::new();
        for (name, level) in raw.severity.unwrap_or_default() {
            let Some(rule) = find_rule(name.get_ref()) else {
                return Err(error(
                    Some(name.span()),
                    format!("unknown rule `{}` in [severity]", name.get_ref()),
                ));
            };
            severity.insert(rule.meta().name.to_string(), level);
        }
        let glob = |table: &str, pattern: &str| {
            globset::GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map(|g| g.compile_matcher())
                .map_err(|e| error(None, format!("invalid [{table}] pattern `{pattern}`: {e}")))
        };
        let mut per_file_ignores = Vec::new();
        for (pattern, list) in raw.per_file_ignores.unwrap_or_default() {
            let list = names(Some(list), false)?.unwrap_or_default();
            per_file_ignores.push((glob("per-file-ignores", &pattern)?, list));
        }
        let mut targets = Vec::new();
        for (pattern, stages) in raw.targets.unwrap_or_default() {
            targets.push((glob("targets", &pattern)?, stages));
        }
        let mut rules = BTreeMap::new();
        for (name, table) in raw.rules.unwrap_or_default() {
            let rule = find_rule(name.get_ref()).ok_or_else(|| {
                error(
                    Some(name.span()),
                    format!("unknown rule `{}` in [rules]", name.get_ref()),
                )
            })?;
            rule.check_options(table.get_ref())
                .map_err(|m| error(Some(table.span()), m))?;
            rules.insert(rule.meta().name.to_string(), table.into_inner());
        }
        Ok(Config {
            dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            select,
            ignore,
            fail_on: raw.fail_on,
            cache_strategy: raw.cache_strategy,
            severity,
            per_file_ignores,
            context: raw.context.unwrap_or_default(),
            targets,
            rules,
        })
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            text: String::new(),
            span: None,
            message: format!("cannot read {}: {e}", path.display()),
        })?;
        Config::parse(&text, path)
    }

    pub fn default_config() -> Config {
        match Config::parse(DEFAULT_CONFIG, Path::new(CONFIG_FILE_NAME)) {
            Ok(config) => Config {
                dir: PathBuf::new(),
                ..config
            },
            // The built-in file is tested (tests/catalogue.rs); an error here is a bug.
            Err(e) => panic!("the built-in lint.toml is invalid: {}", e.message),
        }
    }
}

/// The rule a name on the command line or in lint.toml stands for: its own name, or one of
/// its aliases (hadolint codes, BuildKit check names), whose case does not matter, as in
/// the suppression comments that use them.
pub fn find_rule(name: &str) -> Option<&'static dyn Rule> {
    lints::find(name).or_else(|| {
        lints::rules().iter().copied().find(|r| {
            r.meta()
                .aliases
                .iter()
                .any(|alias| alias.eq_ignore_ascii_case(name))
        })
    })
}

/// A selector with an alias replaced by the rule's name.
fn canonical(name: &str) -> String {
    match find_rule(name) {
        Some(rule) => rule.meta().name.to_string(),
        None => name.to_string(),
    }
}

fn selector_known(name: &str, allow_all: bool) -> bool {
    (allow_all && name == "all")
        || find_rule(name).is_some()
        || lints::rules().iter().any(|r| r.meta().family == name)
}

fn unknown_selector(name: &str) -> String {
    let names: Vec<&str> = lints::rules().iter().map(|r| r.meta().name).collect();
    let close = names
        .iter()
        .find(|n| n.contains(name) || name.contains(**n));
    match close {
        Some(n) => format!("unknown rule or family `{name}` (did you mean `{n}`?)"),
        None => format!("unknown rule or family `{name}`"),
    }
}

/// Options from the command line; they win over every file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub select: Option<Vec<String>>,
    pub ignore: Vec<String>,
    pub fail_on: Option<FailOn>,
    pub context: Option<PathBuf>,
}

impl Overrides {
    /// Checks rule and family names given on the command line, and replaces aliases by
    /// the rules' names.
    pub fn validate(mut self) -> Result<Overrides, String> {
        let select = self.select.iter().flatten().map(|n| (n, true));
        for (name, allow_all) in select.chain(self.ignore.iter().map(|n| (n, false))) {
            if !selector_known(name, allow_all) {
                return Err(unknown_selector(name));
            }
        }
        if let Some(select) = &mut self.select {
            select.iter_mut().for_each(|n| *n = canonical(n));
        }
        self.ignore.iter_mut().for_each(|n| *n = canonical(n));
        Ok(self)
    }
}

/// What rules run with on one file.
#[derive(Debug, Clone)]
pub struct Settings {
    enabled: Vec<&'static str>,
    severity: HashMap<&'static str, Severity>,
    pub fail_on: FailOn,
    pub cache_strategy: CacheStrategy,
    rules: BTreeMap<String, toml::Table>,
    /// The build context of this Dockerfile: `--context`, the config's `[context]`, the
    /// Compose service or Bake target that builds it, or its directory (`None` for a Dockerfile that is not
    /// on disk and has no configured context).
    pub context: Option<PathBuf>,
    pub context_origin: Option<ContextOrigin>,
    /// The contexts already walked, shared by every file of a run.
    pub contexts: ContextCache,
    /// Stages of this Dockerfile that are built with `--target` (`[targets]`): each is a
    /// final stage as much as the last one.
    pub targets: Vec<String>,
    /// Rules whose fixes `fix` applies (`None`: all).
    fixable: Option<Vec<&'static str>>,
}

impl Settings {
    pub fn is_enabled(&self, meta: &Meta) -> bool {
        self.enabled.contains(&meta.name)
    }

    pub fn severity_of(&self, meta: &Meta) -> Severity {
        self.severity
            .get(meta.name)
            .copied()
            .unwrap_or(meta.severity)
    }

    pub fn rule_options(&self, rule: &str) -> Option<&toml::Table> {
        self.rules.get(rule)
    }

    /// Settings from the default configuration alone (tests, `--no-config`).
    pub fn defaults() -> Settings {
        Resolver::new(None, true, Overrides::default())
            .settings_for(Path::new("Dockerfile"))
            .unwrap_or_else(|e| panic!("{}", e.message))
    }

    /// These settings with fixes applied for `rules` only (the docs harness uses it).
    pub fn fixing_only(mut self, rules: &[&'static str]) -> Settings {
        self.fixable = Some(rules.to_vec());
        self
    }

    /// Whether `fix` applies this rule's fixes.
    pub fn may_fix(&self, rule: &str) -> bool {
        self.fixable
            .as_ref()
            .is_none_or(|rules| rules.contains(&rule))
    }
}

/// Finds and caches the configuration for each Dockerfile.
pub struct Resolver {
    default: Arc<Config>,
    explicit: Option<Arc<Config>>,
    no_config: bool,
    overrides: Overrides,
    found: HashMap<PathBuf, Result<Option<Arc<Config>>, ConfigError>>,
    build_files: BuildFiles,
    contexts: ContextCache,
}

/// Directories whose configuration a [`Resolver`] remembers at most.
const MAX_REMEMBERED_DIRS: usize = 4096;

impl Resolver {
    pub fn new(explicit: Option<Config>, no_config: bool, overrides: Overrides) -> Resolver {
        Resolver {
            default: Arc::new(Config::default_config()),
            explicit: explicit.map(Arc::new),
            no_config,
            overrides,
            found: HashMap::new(),
            build_files: BuildFiles::default(),
            contexts: ContextCache::default(),
        }
    }

    /// The nearest `lint.toml` in the Dockerfile's directory or above. What each directory
    /// resolves to is remembered (a broken file too); the memory is bounded by forgetting
    /// everything past `MAX_REMEMBERED_DIRS` directories, which costs only a stat again.
    fn discover(&mut self, dir: &Path) -> Result<Option<Arc<Config>>, ConfigError> {
        if let Some(found) = self.found.get(dir) {
            return found.clone();
        }
        let candidate = dir.join(CONFIG_FILE_NAME);
        let found = if candidate.is_file() {
            Config::load(&candidate).map(|c| Some(Arc::new(c)))
        } else {
            match dir.parent() {
                Some(parent) if parent != dir => self.discover(parent),
                _ => Ok(None),
            }
        };
        if self.found.len() >= MAX_REMEMBERED_DIRS {
            self.found.clear();
        }
        self.found.insert(dir.to_path_buf(), found.clone());
        found
    }

    pub fn settings_for(&mut self, dockerfile: &Path) -> Result<Settings, ConfigError> {
        let file_config = match (&self.explicit, self.no_config) {
            (Some(config), _) => Some(config.clone()),
            (None, true) => None,
            (None, false) => {
                let absolute =
                    std::path::absolute(dockerfile).unwrap_or_else(|_| dockerfile.to_path_buf());
                let dir = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
                self.discover(&dir)?
            }
        };
        let mut settings = self.resolve(dockerfile, file_config.as_deref());
        if settings.context.is_none() {
            if let Some((dir, origin)) = resolve::discover(dockerfile, &mut self.build_files) {
                settings.context = Some(dir);
                settings.context_origin = Some(origin);
            }
        }
        settings.contexts = self.contexts.clone();
        Ok(settings)
    }

    fn resolve(&self, dockerfile: &Path, config: Option<&Config>) -> Settings {
        let layers: Vec<&Config> = std::iter::once(&*self.default).chain(config).collect();
        let pick = |f: &dyn Fn(&Config) -> Option<Vec<String>>| {
            layers.iter().rev().find_map(|c| f(c)).unwrap_or_default()
        };
        let select = self
            .overrides
            .select
            .clone()
            .unwrap_or_else(|| pick(&|c| c.select.clone()));
        let mut ignore = pick(&|c| c.ignore.clone());
        ignore.extend(self.overrides.ignore.iter().cloned());
        let mut targets = Vec::new();
        if let Some(config) = config {
            let absolute =
                std::path::absolute(dockerfile).unwrap_or_else(|_| dockerfile.to_path_buf());
            // A config read from a bare file name lives in the current directory.
            let dir = match config.dir.as_os_str().is_empty() {
                true => Path::new("."),
                false => config.dir.as_path(),
            };
            let config_dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
            let relative = absolute.strip_prefix(&config_dir).unwrap_or(&absolute);
            for (glob, names) in &config.per_file_ignores {
                if glob.is_match(relative) {
                    ignore.extend(names.iter().cloned());
                }
            }
            for (glob, stages) in &config.targets {
                if glob.is_match(relative) {
                    targets.extend(stages.iter().cloned());
                }
            }
        }
        let mut severity = HashMap::new();
        for layer in &layers {
            for (name, level) in &layer.severity {
                match (find_rule(name), level) {
                    (Some(rule), Level::Off) => ignore.push(rule.meta().name.to_string()),
                    (Some(rule), level) => {
                        let s = match level {
                            Level::Error => Severity::Error,
                            Level::Warning => Severity::Warning,
                            _ => Severity::Info,
                        };
                        severity.insert(rule.meta().name, s);
                    }
                    (None, _) => {}
                }
            }
        }
        let matches = |list: &[String], meta: &Meta| {
            list.iter()
                .any(|n| n == "all" || n == meta.name || n == meta.family)
        };
        let enabled = lints::rules()
            .iter()
            .map(|r| r.meta())
            .filter(|m| matches(&select, m) && !matches(&ignore, m))
            .map(|m| m.name)
            .collect();
        let mut rules = BTreeMap::new();
        for layer in &layers {
            rules.extend(layer.rules.clone());
        }
        let explicit_context = match &self.overrides.context {
            Some(dir) => Some((dir.clone(), ContextOrigin::CommandLine)),
            None => config.and_then(|c| {
                let dir = context_of(c, dockerfile)?;
                Some((dir, ContextOrigin::Config(c.dir.join(CONFIG_FILE_NAME))))
            }),
        };
        Settings {
            enabled,
            severity,
            fail_on: self
                .overrides
                .fail_on
                .or_else(|| layers.iter().rev().find_map(|c| c.fail_on))
                .unwrap_or(FailOn::Warning),
            cache_strategy: layers
                .iter()
                .rev()
                .find_map(|c| c.cache_strategy)
                .unwrap_or(CacheStrategy::Mount),
            rules,
            context: explicit_context.as_ref().map(|(dir, _)| dir.clone()),
            context_origin: explicit_context.map(|(_, origin)| origin),
            contexts: ContextCache::default(),
            targets,
            fixable: None,
        }
    }
}

/// A size in bytes: a number with an optional unit, `B`, `KiB`, `MiB`, `GiB`, `TiB` (powers
/// of 1024) or `KB`, `MB`, `GB`, `TB` (powers of 1000): `500MiB`, `2 GB`, `1048576`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (like \"500MiB\" or \"2GB\")"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" | "k" => 1 << 10,
        "mib" | "m" => 1 << 20,
        "gib" | "g" => 1 << 30,
        "tib" | "t" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        other => return Err(format!("unknown size unit `{other}` in `{text}`")),
    };
    Ok((value * scale as f64) as u64)
}

/// The `[context]` entry for a Dockerfile: both paths relative to the config's directory.
fn context_of(config: &Config, dockerfile: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(dockerfile).ok()?;
    let config_dir = std::path::absolute(&config.dir).ok()?;
    config.context.iter().find_map(|(file, context)| {
        (config_dir.join(file) == absolute).then(|| config_dir.join(context))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_names_point_at_the_key() {
        let text = "select = [\"all\"]\nfial-on = \"error\"\n";
        let e = Config::parse(text, Path::new("lint.toml")).unwrap_err();
        assert!(e.message.contains("fial-on"), "{}", e.message);
        assert_eq!(&text[e.span.unwrap()], "fial-on");
        let text = "ignore = [\"consecutive-runs\"]\n";
        let e = Config::parse(text, Path::new("lint.toml")).unwrap_err();
        assert_eq!(&text[e.span.clone().unwrap()], "\"consecutive-runs\"");
        assert!(
            e.message.contains("did you mean `consecutive-run`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("500MiB"), Ok(500 << 20));
        assert_eq!(parse_size("2 GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("42"), Ok(42));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }

    #[test]
    fn aliases_name_their_rule_in_every_list() {
        let config = Config::parse(
            "ignore = [\"dl3059\"]\n[severity]\nDL1000 = \"warning\"\n",
            Path::new("/p/lint.toml"),
        )
        .unwrap();
        let resolver = Resolver::new(None, false, Overrides::default());
        let s = resolver.resolve(Path::new("/p/Dockerfile"), Some(&config));
        assert!(!s.is_enabled(lints::find("consecutive-run").unwrap().meta()));
        let syntax = lints::find("syntax-error").unwrap().meta();
        assert_eq!(s.severity_of(syntax), Severity::Warning);
    }

    #[test]
    fn layering_and_selection() {
        let config = Config::parse(
            "ignore = [\"layers\"]\n[severity]\nmissing-cache-mount = \"error\"\n",
            Path::new("/p/lint.toml"),
        )
        .unwrap();
        let resolver = Resolver::new(Some(config.clone()), false, Overrides::default());
        let s = resolver.resolve(Path::new("/p/Dockerfile"), Some(&config));
        let consecutive = lints::find("consecutive-run").unwrap().meta();
        let cache = lints::find("missing-cache-mount").unwrap().meta();
        assert!(!s.is_enabled(consecutive));
        assert!(s.is_enabled(cache));
        assert_eq!(s.severity_of(cache), Severity::Error);
        assert_eq!(s.fail_on, FailOn::Warning);
    }

    #[test]
    fn targets_match_dockerfile_globs() {
        let config = Config::parse(
            "[targets]\n\"services/*/Dockerfile\" = [\"runtime\"]\n\"services/api/Dockerfile\" = [\"dev\"]\n",
            Path::new("/p/lint.toml"),
        )
        .unwrap();
        let resolver = Resolver::new(None, false, Overrides::default());
        let api = resolver.resolve(Path::new("/p/services/api/Dockerfile"), Some(&config));
        assert_eq!(api.targets, ["runtime", "dev"]);
        let other = resolver.resolve(Path::new("/p/tools/Dockerfile"), Some(&config));
        assert!(other.targets.is_empty());
    }

    #[test]
    fn per_file_ignores_match_relative_paths() {
        let config = Config::parse(
            "[per-file-ignores]\n\"legacy/**/Dockerfile\" = [\"cache\"]\n",
            Path::new("/p/lint.toml"),
        )
        .unwrap();
        let resolver = Resolver::new(None, false, Overrides::default());
        let cache = lints::find("missing-cache-mount").unwrap().meta();
        assert!(!resolver
            .resolve(Path::new("/p/legacy/a/b/Dockerfile"), Some(&config))
            .is_enabled(cache));
        assert!(resolver
            .resolve(Path::new("/p/app/Dockerfile"), Some(&config))
            .is_enabled(cache));
    }
}
