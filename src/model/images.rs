//! What docklint knows of base images: the users they ship and run as, and the environment
//! they set (`GOPATH` in `golang`, `CARGO_HOME` in `rust`, …), which decide where tools put
//! their caches. Images are matched by repository; an image not listed is unknown.

use super::vars::{Value, Vars};

/// Users that images ship: (image, tag variant or "" for any, name, uid, gid, home). The
/// image matches like [`repository_matches`].
pub(super) const IMAGE_USERS: &[(&str, &str, &str, u32, u32, &str)] = &[
    ("node", "", "node", 1000, 1000, "/home/node"),
    ("jupyter/", "", "jovyan", 1000, 100, "/home/jovyan"),
    ("quay.io/jupyter/", "", "jovyan", 1000, 100, "/home/jovyan"),
    (
        "postgres",
        "alpine",
        "postgres",
        70,
        70,
        "/var/lib/postgresql",
    ),
    ("postgres", "", "postgres", 999, 999, "/var/lib/postgresql"),
    ("memcached", "", "memcache", 11211, 11211, "/home/memcache"),
    ("haproxy", "", "haproxy", 99, 99, "/var/lib/haproxy"),
    ("solr", "", "solr", 8983, 8983, "/var/solr"),
    (
        "elasticsearch",
        "",
        "elasticsearch",
        1000,
        0,
        "/usr/share/elasticsearch",
    ),
    ("kibana", "", "kibana", 1000, 0, "/usr/share/kibana"),
    (
        "logstash",
        "",
        "logstash",
        1000,
        1000,
        "/usr/share/logstash",
    ),
    (
        "mcr.microsoft.com/dotnet/",
        "",
        "app",
        1654,
        1654,
        "/home/app",
    ),
    (
        "gcr.io/distroless/",
        "",
        "nonroot",
        65532,
        65532,
        "/home/nonroot",
    ),
    (
        "cgr.dev/chainguard/",
        "",
        "nonroot",
        65532,
        65532,
        "/home/nonroot",
    ),
];

/// Accounts of every Debian, Ubuntu and Alpine base.
pub(super) const COMMON_USERS: &[(&str, u32, u32, &str)] = &[
    ("nobody", 65534, 65534, "/nonexistent"),
    ("www-data", 33, 33, "/var/www"),
];

fn image_name(image: &str) -> &str {
    let image = image.strip_prefix("docker.io/").unwrap_or(image);
    image.strip_prefix("library/").unwrap_or(image)
}

/// The repository of an image reference: no digest, no tag (a `:` before the last `/` is a
/// registry port, not a tag).
pub(super) fn repository(image: &str) -> &str {
    split_reference(image).0
}

/// (repository, tag) of a reference.
pub(super) fn split_reference(image: &str) -> (&str, &str) {
    let name = image_name(image);
    let name = name.split('@').next().unwrap_or(name);
    match name.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (name, ""),
    }
}

/// Whether the repository of a reference (split once: the tables are long) is `prefix`, or
/// is in its namespace when `prefix` ends with `/`.
pub(super) fn repository_matches(repo: &str, prefix: &str) -> bool {
    if prefix.ends_with('/') {
        repo.starts_with(prefix)
    } else {
        repo == prefix
    }
}

/// Images whose default user is not root, by the name of that user.
pub(super) fn default_user_of_image(image: &str) -> Option<&'static str> {
    let name = image_name(image);
    if name.starts_with("jupyter/") || name.starts_with("quay.io/jupyter/") {
        return Some("jovyan");
    }
    if name.starts_with("gcr.io/distroless/") && name.contains("nonroot") {
        return Some("nonroot");
    }
    // .NET's chiseled images run as their `app` user (the others ship it and run as root).
    if name.starts_with("mcr.microsoft.com/dotnet/") && name.contains("chiseled") {
        return Some("app");
    }
    let repo = repository(image);
    NON_ROOT_IMAGES
        .iter()
        .find(|(prefix, _)| repository_matches(repo, prefix))
        .map(|&(_, user)| user)
}

/// Official images that end with a USER other than root.
const NON_ROOT_IMAGES: &[(&str, &str)] = &[
    ("odoo", "odoo"),
    ("memcached", "memcache"),
    ("haproxy", "haproxy"),
    ("solr", "solr"),
    ("elasticsearch", "elasticsearch"),
    ("kibana", "kibana"),
    ("logstash", "logstash"),
    ("sonarqube", "sonarqube"),
    ("jetty", "jetty"),
    ("groovy", "groovy"),
    ("mambaorg/micromamba", "mambauser"),
];

/// Images known to start as root: Docker official images by name, and vendor images
/// (entries ending in `/` are namespaces). An image not listed may set its own USER.
const ROOT_IMAGES: &[&str] = &[
    "alpine",
    "debian",
    "ubuntu",
    "busybox",
    "fedora",
    "centos",
    "rockylinux",
    "almalinux",
    "amazonlinux",
    "oraclelinux",
    "archlinux",
    "photon",
    "buildpack-deps",
    "python",
    "pypy",
    "node",
    "golang",
    "rust",
    "ruby",
    "php",
    "perl",
    "openjdk",
    "eclipse-temurin",
    "amazoncorretto",
    "ibm-semeru-runtimes",
    "sapmachine",
    "maven",
    "gradle",
    "julia",
    "r-base",
    "haskell",
    "erlang",
    "elixir",
    "swift",
    "gcc",
    "clojure",
    "dart",
    "mono",
    "bash",
    "composer",
    "nginx",
    "httpd",
    "tomcat",
    "caddy",
    "traefik",
    "redis",
    "postgres",
    "mysql",
    "mariadb",
    "mongo",
    "rabbitmq",
    "cassandra",
    "couchdb",
    "neo4j",
    "influxdb",
    "telegraf",
    "wordpress",
    "drupal",
    "joomla",
    "nextcloud",
    "ghost",
    "docker",
    "registry",
    "nats",
    "hello-world",
    "arm64v8/",
    "amd64/",
    "arm32v7/",
    "arm32v6/",
    "i386/",
    "ppc64le/",
    "s390x/",
    "nvidia/cuda",
    "nvcr.io/nvidia/",
    "pytorch/pytorch",
    "tensorflow/tensorflow",
    "continuumio/",
    "condaforge/",
    "mambaorg/micromamba-root",
    "ubuntu/",
    "public.ecr.aws/amazonlinux/",
    "public.ecr.aws/docker/library/",
    "mirror.gcr.io/",
    "registry.access.redhat.com/ubi8",
    "registry.access.redhat.com/ubi9",
    "registry.access.redhat.com/ubi8/ubi",
    "registry.access.redhat.com/ubi9/ubi",
    "registry.access.redhat.com/ubi8/ubi-minimal",
    "registry.access.redhat.com/ubi9/ubi-minimal",
    "quay.io/centos/",
    "mcr.microsoft.com/devcontainers/",
    "mcr.microsoft.com/vscode/devcontainers/",
    "mcr.microsoft.com/azurelinux/base/",
    "mcr.microsoft.com/cbl-mariner/base/",
    "ghcr.io/astral-sh/uv",
    "oven/bun",
    "lukemathwalker/cargo-chef",
    "mcr.microsoft.com/dotnet/",
];

/// Whether the image is known to start as root.
pub(super) fn image_runs_as_root(image: &str) -> bool {
    let repo = repository(image);
    if repo.contains('$') || default_user_of_image(image).is_some() {
        return false;
    }
    ROOT_IMAGES.iter().any(|prefix| {
        if let Some(namespace) = prefix.strip_suffix('/') {
            // `arm64v8/python` is the official `python` built for another platform.
            let rest = repo
                .strip_prefix(namespace)
                .and_then(|r| r.strip_prefix('/'));
            rest.is_some_and(|r| {
                !r.contains('/') && (!is_platform_namespace(namespace) || image_runs_as_root(r))
            })
        } else {
            repo == *prefix
        }
    })
}

fn is_platform_namespace(namespace: &str) -> bool {
    matches!(
        namespace,
        "arm64v8" | "amd64" | "arm32v7" | "arm32v6" | "i386" | "ppc64le" | "s390x"
    )
}

/// Images known not to run as root by default, with a user the file cannot tell.
pub(super) fn image_user_is_unknown(image: &str) -> bool {
    let name = image_name(image);
    name.starts_with("bitnami/") || name.starts_with("cgr.dev/chainguard/")
}

/// ENV that images set and that decides where a tool caches: (image, name, value).
const IMAGE_ENV: &[(&str, &str, &str)] = &[
    ("golang", "GOPATH", "/go"),
    ("rust", "CARGO_HOME", "/usr/local/cargo"),
    ("rust", "RUSTUP_HOME", "/usr/local/rustup"),
    ("ruby", "GEM_HOME", "/usr/local/bundle"),
    ("ruby", "BUNDLE_APP_CONFIG", "/usr/local/bundle"),
    ("composer", "COMPOSER_HOME", "/tmp"),
    ("maven", "MAVEN_CONFIG", "/root/.m2"),
    ("condaforge/", "CONDA_DIR", "/opt/conda"),
    ("mambaorg/micromamba", "MAMBA_ROOT_PREFIX", "/opt/conda"),
];

/// The ENV an image is known to set.
pub fn image_env(image: &str) -> Vars {
    let repo = repository(image);
    let mut vars = Vars::default();
    for (prefix, name, value) in IMAGE_ENV {
        if repository_matches(repo, prefix) || platform_variant_matches(repo, prefix) {
            vars.set(name, Value::Known((*value).to_string()));
        }
    }
    vars
}

/// `arm64v8/golang` (a repository) is `golang` built for another platform.
fn platform_variant_matches(repo: &str, prefix: &str) -> bool {
    repo.split_once('/').is_some_and(|(namespace, rest)| {
        is_platform_namespace(namespace) && !prefix.ends_with('/') && rest == prefix
    })
}

/// The apt configuration of Debian's and Ubuntu's official images that deletes every
/// downloaded package after each dpkg run.
pub const DOCKER_CLEAN: &str = "/etc/apt/apt.conf.d/docker-clean";

/// Official images built on Debian or Ubuntu (their non-Alpine tags), and vendor images built
/// on those: they carry `docker-clean`.
const DEBIAN_LINEAGE: &[&str] = &[
    "debian",
    "ubuntu",
    "buildpack-deps",
    "python",
    "pypy",
    "node",
    "golang",
    "ruby",
    "php",
    "perl",
    "rust",
    "openjdk",
    "eclipse-temurin",
    "maven",
    "gradle",
    "julia",
    "r-base",
    "haskell",
    "erlang",
    "elixir",
    "swift",
    "gcc",
    "clojure",
    "mono",
    "nginx",
    "httpd",
    "tomcat",
    "redis",
    "postgres",
    "mariadb",
    "mongo",
    "rabbitmq",
    "cassandra",
    "wordpress",
    "drupal",
    "joomla",
    "nextcloud",
    "ghost",
    "nvidia/cuda",
    "nvcr.io/nvidia/cuda",
    "pytorch/pytorch",
    "tensorflow/tensorflow",
    "ubuntu/",
    "debian/",
];

/// Whether the image carries `docker-clean`: `Some(true)` for the Debian lineage above,
/// `Some(false)` for Alpine tags of it and for images without apt, `None` otherwise.
pub fn has_docker_clean(image: &str) -> Option<bool> {
    let (repo, tag) = split_reference(image);
    let lineage = DEBIAN_LINEAGE
        .iter()
        .any(|prefix| repository_matches(repo, prefix) || platform_variant_matches(repo, prefix));
    match () {
        _ if repo == "alpine" || repo == "scratch" || repo == "busybox" => Some(false),
        _ if lineage && tag.contains("alpine") => Some(false),
        _ if lineage => Some(true),
        _ => None,
    }
}
