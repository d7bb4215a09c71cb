//! ML models fetched while an image builds: the commands, Python APIs and URLs that download
//! weights (knowledge tables), and what a RUN downloads with them — in its own commands, in
//! the Python code it runs inline (`python -c`, heredocs, `RUN <<EOF` with a python `#!`),
//! and in scripts it runs from the build context, with the local modules a Python script
//! imports (one level).
//!
//! Python code is read by [`crate::syntax::python`], a recogniser of imports and calls, not
//! a parser: a call is recognised by its name (resolved through the imports) and its literal
//! arguments.

use std::cell::LazyCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use super::commands::{self, PythonInput};
use super::copies::ProjectFiles;
use super::effects::{self, Env, Step};
use super::paths::resolve_path;
use super::users::Accounts;
use super::vars::MAX_VALUE_LEN;
use super::{Model, Run};
use crate::source::Span;
use crate::syntax::dockerfile::{Args, Command as DockerCommand, Dockerfile, Keyword};
use crate::syntax::python::{self, ArgValue, Call};
use crate::syntax::shell::{self, Script, Word};
use crate::syntax::MappedText;

/// Something a RUN (or an ADD) downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// The command (or ADD instruction) in the Dockerfile that downloads, or runs the script
    /// that does.
    pub span: Span,
    /// The call or command itself when it is written in the Dockerfile (a heredoc line).
    pub at: Option<Span>,
    /// What is fetched: "a Hugging Face model", "an Ollama model", "model weights" …
    pub what: &'static str,
    /// What fetches it: "`ollama pull`", "`snapshot_download()`", "`curl`".
    pub by: String,
    /// The model, repository or file, when the text names it.
    pub model: Option<String>,
    /// Bytes, when the model is one whose size docklint knows.
    pub size: Option<u64>,
    /// The build-context script that does it, with the line.
    pub script: Option<(String, usize)>,
    /// Known only from the name of the script.
    pub by_name_only: bool,
    /// For a script known by its name: docklint read it and found no download it knows.
    pub read: bool,
}

/// CLIs that download models, by program (or `python -m` module) and subcommand.
pub struct CliDownload {
    pub program: &'static str,
    pub sub: &'static [&'static str],
    pub what: &'static str,
    /// Where the model is named.
    pub model: ModelOperand,
    /// Options that take a value (skipped when looking for operands).
    pub valued: &'static [&'static str],
    /// The whole model (its weights) and nothing else is fetched: a known model's size applies.
    pub sized: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelOperand {
    /// The first operand after the subcommand.
    First,
    /// Every operand (`nltk.downloader punkt stopwords`).
    Each,
    /// The value of one of these options (`--model X`, `--model=X`, `model=X`).
    Option(&'static [&'static str]),
    /// Not named on the command line.
    Unnamed,
}

const HF_VALUED: &[&str] = &[
    "--repo-type",
    "--revision",
    "--include",
    "--exclude",
    "--cache-dir",
    "--local-dir",
    "--local-dir-use-symlinks",
    "--token",
    "--max-workers",
    "--etag-timeout",
];

pub const CLI_DOWNLOADS: &[CliDownload] = &[
    CliDownload {
        program: "huggingface-cli",
        sub: &["download"],
        what: "a Hugging Face repository",
        model: ModelOperand::First,
        valued: HF_VALUED,
        sized: false,
    },
    CliDownload {
        program: "hf",
        sub: &["download"],
        what: "a Hugging Face repository",
        model: ModelOperand::First,
        valued: HF_VALUED,
        sized: false,
    },
    CliDownload {
        program: "modelscope",
        sub: &["download"],
        what: "a ModelScope model",
        model: ModelOperand::Option(&["--model"]),
        valued: &[
            "--model",
            "--dataset",
            "--revision",
            "--cache_dir",
            "--local_dir",
            "--include",
            "--exclude",
        ],
        sized: false,
    },
    CliDownload {
        program: "ollama",
        sub: &["pull"],
        what: "an Ollama model",
        model: ModelOperand::First,
        valued: &[],
        sized: true,
    },
    // `ollama run` pulls a model it does not have.
    CliDownload {
        program: "ollama",
        sub: &["run"],
        what: "an Ollama model",
        model: ModelOperand::First,
        valued: &["--format", "--keepalive"],
        sized: true,
    },
    CliDownload {
        program: "spacy",
        sub: &["download"],
        what: "a spaCy pipeline",
        model: ModelOperand::First,
        valued: &[],
        sized: true,
    },
    CliDownload {
        program: "nltk.downloader",
        sub: &[],
        what: "NLTK data",
        model: ModelOperand::Each,
        valued: &["-d", "--dir", "-u", "--url"],
        sized: false,
    },
    CliDownload {
        program: "docling-tools",
        sub: &["models", "download"],
        what: "Docling models",
        model: ModelOperand::Unnamed,
        valued: &["-o", "--output-dir"],
        sized: false,
    },
    CliDownload {
        program: "mineru-models-download",
        sub: &[],
        what: "MinerU models",
        model: ModelOperand::Unnamed,
        valued: &["-s", "--source", "-m", "--model_type"],
        sized: false,
    },
    // Transcribing anything fetches the model first.
    CliDownload {
        program: "whisper",
        sub: &[],
        what: "a Whisper model",
        model: ModelOperand::Option(&["--model"]),
        valued: &["--model"],
        sized: true,
    },
    CliDownload {
        program: "tts",
        sub: &[],
        what: "a Coqui TTS model",
        model: ModelOperand::Option(&["--model_name"]),
        valued: &["--model_name"],
        sized: false,
    },
];

/// Variables that carry Hugging Face Hub tokens (a build that downloads gated models reads
/// one).
pub const TOKEN_VARIABLES: &[&str] = &[
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HUGGINGFACE_HUB_TOKEN",
    "HUGGINGFACE_TOKEN",
    "HF_AUTH_TOKEN",
];

/// Commands that log in to the Hugging Face Hub, by program and subcommand. A login saves
/// the token in a file (`$HF_HOME/token`, `~/.cache/huggingface/token` by default), so in a
/// RUN the token lands in a layer of the image; its value is given with `--token`.
pub const HUB_LOGINS: &[(&str, &[&str])] =
    &[("huggingface-cli", &["login"]), ("hf", &["auth", "login"])];

/// A login to the Hugging Face Hub in a RUN (see [`HUB_LOGINS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubLogin {
    /// The login command.
    pub span: Span,
    /// "`huggingface-cli login`".
    pub by: String,
    /// Where the `--token` value comes from, when the command line says.
    pub token: Option<TokenSource>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// A build argument or ENV variable: its value is in the image's history (and, for an
    /// ENV, in its configuration).
    BuildVariable(String),
    /// Written in the Dockerfile.
    Literal,
}

/// The Hub logins of a RUN's own commands, with where each token comes from. A variable
/// that a secret mount of the RUN sets (`--mount=type=secret,env=NAME`) is no build
/// variable, whatever ARG or ENV also names it.
pub fn hub_logins(run: &Run) -> Vec<HubLogin> {
    let Some(script) = &run.script else {
        return Vec::new();
    };
    let from_secret = |name: &str| {
        run.mounts
            .iter()
            .any(|m| m.kind == super::MountKind::Secret && m.option("env") == Some(name))
    };
    let mut found = Vec::new();
    for step in &run.effects.steps {
        let Some((program, sub)) = HUB_LOGINS.iter().find(|(p, _)| *p == step.name) else {
            continue;
        };
        let words = step.args(script);
        let values: Vec<String> = words.iter().map(|w| w.value.to_string()).collect();
        if !operands(&values, &["--token"]).starts_with(sub) {
            continue;
        }
        let token = token_word(words).and_then(|(word, value)| {
            if word.literal {
                return (!value.is_empty()).then_some(TokenSource::Literal);
            }
            referenced_variables(value)
                .into_iter()
                .find(|name| run.env().contains(name) && !from_secret(name))
                .map(|name| TokenSource::BuildVariable(name.to_string()))
        });
        found.push(HubLogin {
            span: script.commands[step.command].span.clone(),
            by: format!("`{program} {}`", sub.join(" ")),
            token,
        });
    }
    found
}

/// The word that gives `--token` its value, and that value (`--token X`, `--token=X`).
fn token_word(words: &[Word]) -> Option<(&Word, &str)> {
    words.iter().enumerate().find_map(|(i, word)| {
        if word.value == "--token" {
            let next = words.get(i + 1)?;
            return Some((next, next.value.as_str()));
        }
        word.value
            .strip_prefix("--token=")
            .map(|value| (word, value))
    })
}

/// The names of the variables a shell word's value expands (`$NAME`, `${NAME}`,
/// `${NAME:-default}`), in order.
fn referenced_variables(value: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        let after = &rest[at + 1..];
        let inner = after.strip_prefix('{').unwrap_or(after);
        let end = inner
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(inner.len());
        if end > 0 && !inner.starts_with(|c: char| c.is_ascii_digit()) {
            names.push(&inner[..end]);
        }
        rest = &inner[end..];
    }
    names
}

/// Programs that fetch a URL; a download is a model's when the URL or the output names
/// weights (see [`is_weight_reference`]).
pub const DOWNLOADERS: &[&str] = &["curl", "wget", "aria2c", "axel", "gdown"];

/// Python calls that download models.
pub struct PyDownload {
    pub call: Callee,
    pub what: &'static str,
    /// The model argument: position and keyword.
    pub model: Option<(usize, &'static str)>,
    pub when: When,
    pub sized: bool,
}

/// How a callee is matched, after its first name is read through the imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callee {
    /// A method of any receiver: `.from_pretrained`.
    Method(&'static str),
    /// The last name, however it is qualified: `snapshot_download` (huggingface_hub and
    /// modelscope both have one).
    Name(&'static str),
    /// The whole qualified name: `torch.hub.load`.
    Qualified(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Every call downloads (unless told not to by `local_files_only=True`).
    Always,
    /// Only with a model argument (`pipeline(model=…)`).
    ModelGiven,
    /// Unless the model argument is a local path (`from_pretrained("/models/x")`).
    NotLocal,
    /// A named asset (`YOLO("yolov8n.pt")`), not a path (`YOLO("runs/best.pt")`) nor a
    /// config (`YOLO("yolov8n.yaml")`).
    Asset(&'static str),
}

pub const PY_DOWNLOADS: &[PyDownload] = &[
    PyDownload {
        call: Callee::Method("from_pretrained"),
        what: "a Hugging Face model",
        model: Some((0, "pretrained_model_name_or_path")),
        when: When::NotLocal,
        sized: true,
    },
    PyDownload {
        call: Callee::Name("snapshot_download"),
        what: "a Hugging Face repository",
        model: Some((0, "repo_id")),
        when: When::Always,
        sized: false,
    },
    PyDownload {
        call: Callee::Name("hf_hub_download"),
        what: "a file of a Hugging Face repository",
        model: Some((0, "repo_id")),
        when: When::Always,
        sized: false,
    },
    PyDownload {
        call: Callee::Name("SentenceTransformer"),
        what: "a Hugging Face model",
        model: Some((0, "model_name_or_path")),
        when: When::NotLocal,
        sized: true,
    },
    PyDownload {
        call: Callee::Name("CrossEncoder"),
        what: "a Hugging Face model",
        model: Some((0, "model_name")),
        when: When::NotLocal,
        sized: true,
    },
    PyDownload {
        call: Callee::Name("pipeline"),
        what: "a Hugging Face model",
        model: Some((1, "model")),
        when: When::ModelGiven,
        sized: true,
    },
    PyDownload {
        call: Callee::Qualified("torch.hub.load"),
        what: "torch.hub weights",
        model: Some((0, "repo_or_dir")),
        when: When::NotLocal,
        sized: false,
    },
    PyDownload {
        call: Callee::Qualified("torch.hub.load_state_dict_from_url"),
        what: "model weights",
        model: Some((0, "url")),
        when: When::Always,
        sized: false,
    },
    PyDownload {
        call: Callee::Qualified("torch.hub.download_url_to_file"),
        what: "model weights",
        model: Some((0, "url")),
        when: When::Always,
        sized: false,
    },
    PyDownload {
        call: Callee::Qualified("torch.utils.model_zoo.load_url"),
        what: "model weights",
        model: Some((0, "url")),
        when: When::Always,
        sized: false,
    },
    PyDownload {
        call: Callee::Qualified("whisper.load_model"),
        what: "a Whisper model",
        model: Some((0, "name")),
        when: When::NotLocal,
        sized: true,
    },
    PyDownload {
        call: Callee::Qualified("faster_whisper.WhisperModel"),
        what: "a Whisper model",
        model: Some((0, "model_size_or_path")),
        when: When::NotLocal,
        sized: false,
    },
    PyDownload {
        call: Callee::Qualified("spacy.cli.download"),
        what: "a spaCy pipeline",
        model: Some((0, "model")),
        when: When::Always,
        sized: true,
    },
    PyDownload {
        call: Callee::Qualified("nltk.download"),
        what: "NLTK data",
        model: Some((0, "info_or_id")),
        when: When::Always,
        sized: false,
    },
    PyDownload {
        call: Callee::Qualified("ultralytics.YOLO"),
        what: "Ultralytics weights",
        model: Some((0, "model")),
        when: When::Asset(".pt"),
        sized: false,
    },
    PyDownload {
        call: Callee::Qualified("ultralytics.RTDETR"),
        what: "Ultralytics weights",
        model: Some((0, "model")),
        when: When::Asset(".pt"),
        sized: false,
    },
    PyDownload {
        call: Callee::Qualified("easyocr.Reader"),
        what: "EasyOCR models",
        model: None,
        when: When::Always,
        sized: false,
    },
    PyDownload {
        call: Callee::Qualified("paddleocr.PaddleOCR"),
        what: "PaddleOCR models",
        model: None,
        when: When::Always,
        sized: false,
    },
    PyDownload {
        call: Callee::Qualified("TTS.api.TTS"),
        what: "a Coqui TTS model",
        model: Some((0, "model_name")),
        when: When::ModelGiven,
        sized: false,
    },
    // Unstructured's default layout model (YOLOX) from the Hub.
    PyDownload {
        call: Callee::Qualified("unstructured.partition.model_init.initialize"),
        what: "Unstructured's layout model",
        model: None,
        when: When::Always,
        sized: false,
    },
    PyDownload {
        call: Callee::Qualified("tensorflow_hub.load"),
        what: "a TensorFlow Hub model",
        model: Some((0, "handle")),
        when: When::NotLocal,
        sized: false,
    },
    PyDownload {
        call: Callee::Qualified("tensorflow_hub.KerasLayer"),
        what: "a TensorFlow Hub model",
        model: Some((0, "handle")),
        when: When::NotLocal,
        sized: false,
    },
];

/// Extensions of weight files.
pub const WEIGHT_EXTENSIONS: &[&str] = &[
    ".safetensors",
    ".gguf",
    ".ggml",
    ".pt",
    ".pth",
    ".ckpt",
    ".onnx",
    ".h5",
    ".tflite",
    ".mar",
    ".bin",
    ".pb",
];

/// Extensions that name weights only when the file name or the host says so: `.bin` is as
/// often an installer, `.pb` any protobuf.
const AMBIGUOUS_EXTENSIONS: &[&str] = &[".bin", ".pb"];
const WEIGHT_WORDS: &[&str] = &["model", "weight", "ckpt", "checkpoint", "pytorch", "ggml"];
/// Archives hold weights when their name says so (`faster-whisper-small-ct2.tar.gz`: a
/// CTranslate2 conversion).
const ARCHIVE_EXTENSIONS: &[&str] = &[".tar.gz", ".tgz", ".tar", ".tar.xz", ".tar.zst", ".zip"];
const ARCHIVE_WEIGHT_WORDS: &[&str] = &["model", "weight", "ckpt", "checkpoint", "ct2"];
const MODEL_HOSTS: &[&str] = &["huggingface.co/", "hf.co/"];

/// Organisations of the Hugging Face Hub whose `org/name` ids, given to a loading call of a
/// library docklint has no entry for, name a model to download.
const HUB_ORGS: &[&str] = &[
    "sentence-transformers",
    "cross-encoder",
    "BAAI",
    "intfloat",
    "thenlper",
    "jinaai",
    "nomic-ai",
    "mixedbread-ai",
    "Alibaba-NLP",
    "microsoft",
    "google",
    "google-bert",
    "facebook",
    "FacebookAI",
    "meta-llama",
    "openai",
    "openai-community",
    "mistralai",
    "Qwen",
    "deepseek-ai",
    "stabilityai",
    "runwayml",
    "CompVis",
    "black-forest-labs",
    "EleutherAI",
    "bigscience",
    "tiiuae",
    "HuggingFaceH4",
    "HuggingFaceTB",
    "nvidia",
    "Salesforce",
    "ibm-granite",
    "ds4sd",
    "Systran",
    "distil-whisper",
    "pyannote",
    "speechbrain",
    "hexgrad",
    "TheBloke",
    "unsloth",
    "allenai",
    "laion",
    "timm",
];

/// Python calls that fetch a URL: a download of weights when the URL, or a string of the
/// code the URL is built from, names a weight file.
const PY_FETCHERS: &[&str] = &[
    "urllib.request.urlretrieve",
    "urllib.request.urlopen",
    "requests.get",
    "httpx.get",
    "wget.download",
    "gdown.download",
    "gdown.cached_download",
];

/// Words of a callee that loads something (for the `org/name` argument rule).
const LOADING_WORDS: &[&str] = &[
    "load",
    "download",
    "fetch",
    "pull",
    "initiali",
    "model",
    "pipeline",
    "embed",
    "encoder",
    "tokeniz",
    "transformer",
    "rerank",
];

/// Sizes of well-known models as their loaders fetch them (the weights once): (what, model,
/// bytes). Figures from the models' pages; a model not listed has no size.
const SIZES: &[(&str, &str, u64)] = &[
    (
        "a Hugging Face model",
        "sentence-transformers/all-MiniLM-L6-v2",
        90_900_000,
    ),
    ("a Hugging Face model", "all-MiniLM-L6-v2", 90_900_000),
    ("a Whisper model", "tiny", 75_000_000),
    ("a Whisper model", "tiny.en", 75_000_000),
    ("a Whisper model", "base", 142_000_000),
    ("a Whisper model", "base.en", 142_000_000),
    ("a Whisper model", "small", 466_000_000),
    ("a Whisper model", "small.en", 466_000_000),
    ("a Whisper model", "medium", 1_500_000_000),
    ("a Whisper model", "medium.en", 1_500_000_000),
    ("a Whisper model", "large", 2_900_000_000),
    ("a Whisper model", "large-v1", 2_900_000_000),
    ("a Whisper model", "large-v2", 2_900_000_000),
    ("a Whisper model", "large-v3", 2_900_000_000),
    ("an Ollama model", "llama3", 4_700_000_000),
    ("an Ollama model", "llama3:8b", 4_700_000_000),
    ("an Ollama model", "llama3.1", 4_900_000_000),
    ("an Ollama model", "llama3.1:8b", 4_900_000_000),
    ("an Ollama model", "llama3.2", 2_000_000_000),
    ("an Ollama model", "llama3.2:3b", 2_000_000_000),
    ("an Ollama model", "llama3.2:1b", 1_300_000_000),
    ("an Ollama model", "nomic-embed-text", 274_000_000),
    // The 3.x wheels (explosion/spacy-models releases).
    ("a spaCy pipeline", "en_core_web_sm", 12_800_000),
];

/// The size of `model` as fetched by a `what` loader.
pub fn known_size(what: &str, model: &str) -> Option<u64> {
    let model = model.strip_suffix(":latest").unwrap_or(model);
    SIZES
        .iter()
        .find(|(w, m, _)| *w == what && m.eq_ignore_ascii_case(model))
        .map(|(_, _, bytes)| *bytes)
}

/// Whether a URL or file name is a weight file: a weight extension (after any `?query`), or
/// a file of a Hugging Face model repository (`huggingface.co/<repo>/resolve/…`).
pub fn is_weight_reference(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let path = lower.split(['?', '#']).next().unwrap_or(&lower);
    let on_hub = MODEL_HOSTS.iter().any(|h| path.contains(h));
    if on_hub && path.contains("/resolve/") && !path.contains("/datasets/") {
        return true;
    }
    let name = commands::basename(path);
    if ARCHIVE_EXTENSIONS.iter().any(|ext| name.ends_with(ext)) {
        return ARCHIVE_WEIGHT_WORDS.iter().any(|w| name.contains(w));
    }
    on_hub && has_weight_extension(name) || is_weight_file(name)
}

/// A file whose name says it holds weights (`model.safetensors`, `pytorch_model.bin`; not
/// `descriptor.pb`), whatever directory it is in.
pub fn is_weight_file(path: &str) -> bool {
    let name = commands::basename(path).to_ascii_lowercase();
    has_weight_extension(&name)
        && (!AMBIGUOUS_EXTENSIONS.iter().any(|ext| name.ends_with(ext))
            || WEIGHT_WORDS.iter().any(|w| name.contains(w)))
}

fn has_weight_extension(name: &str) -> bool {
    WEIGHT_EXTENSIONS
        .iter()
        .any(|ext| name.len() > ext.len() && name.ends_with(ext))
}

/// A model repository on the Hugging Face Hub (`https://huggingface.co/org/name`).
fn is_hub_repository(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    MODEL_HOSTS.iter().any(|h| lower.contains(h)) && !lower.contains("/datasets/")
}

/// `org/name` with a well-known Hub organisation.
fn is_hub_model_id(text: &str) -> bool {
    let Some((org, name)) = text.split_once('/') else {
        return false;
    };
    !name.is_empty()
        && !name.contains('/')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && HUB_ORGS.iter().any(|o| o.eq_ignore_ascii_case(org))
}

/// A spaCy pipeline package installed by pip (`en_core_web_sm`, a spacy-models release URL).
fn is_spacy_package(arg: &str) -> bool {
    if arg.contains("explosion/spacy-models/releases/download") {
        return true;
    }
    let name = arg
        .split(['@', '=', '<', '>', '~', '['])
        .next()
        .unwrap_or(arg)
        .replace('-', "_");
    let parts: Vec<&str> = name.split('_').collect();
    match parts.as_slice() {
        [lang, kind, _genre, size] => {
            (2..=3).contains(&lang.len())
                && lang.chars().all(|c| c.is_ascii_lowercase())
                && matches!(*kind, "core" | "dep" | "ent" | "sent")
                && matches!(*size, "sm" | "md" | "lg" | "trf")
        }
        _ => false,
    }
}

/// The model a JSON body of Ollama's `/api/pull` names (`{"name": "llama3"}`; newer servers
/// also take `model`).
fn ollama_pull_model(body: &str) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(body.trim()).ok()?;
    ["model", "name"]
        .iter()
        .find_map(|key| json.get(key)?.as_str())
        .map(str::to_string)
}

/// A script whose name says it downloads models (`download_model.py`, `fetch-models.sh`).
pub fn named_like_model_download(path: &str) -> bool {
    let name = commands::basename(path).to_ascii_lowercase();
    let stem = name.split('.').next().unwrap_or(&name);
    let words: Vec<&str> = stem.split(['_', '-']).filter(|w| !w.is_empty()).collect();
    let model = |w: &str| matches!(w, "model" | "models" | "weights" | "checkpoints");
    let fetch = |w: &str| {
        matches!(
            w,
            "download" | "downloads" | "downloader" | "fetch" | "pull" | "preload" | "get"
        )
    };
    words.iter().any(|w| model(w)) && words.iter().any(|w| fetch(w))
}

/// Reads Python source for downloads; `at` maps a source offset to the Dockerfile when the
/// code is written there.
struct PythonFinding {
    what: &'static str,
    by: String,
    model: Option<String>,
    sized: bool,
    /// Byte range of the call in the code.
    span: std::ops::Range<usize>,
}

/// Constants other modules give a script: `from config import MODEL_ID` binds `MODEL_ID`.
type Imported = Vec<(String, String)>;

fn python_findings(
    source: &python::Source,
    offline: bool,
    imported: &Imported,
) -> Vec<PythonFinding> {
    let mut out: Vec<PythonFinding> = Vec::new();
    for call in &source.calls {
        if let Some(finding) = python_call(source, call, offline, imported) {
            // Fetches of URLs built from the same weight file name are one download.
            let repeated = out
                .iter()
                .any(|f| f.what == finding.what && f.by == finding.by && f.model == finding.model);
            if !repeated {
                out.push(finding);
            }
        }
    }
    out
}

/// The text of an argument: a string literal, or a name the code (or a local module it
/// imports) gives one.
fn literal<'s>(
    source: &'s python::Source,
    imported: &'s Imported,
    value: &'s ArgValue,
) -> Option<&'s str> {
    match value {
        ArgValue::Str(s) => Some(s),
        ArgValue::Name(name) => source.constant(name).or_else(|| {
            let bound = source.constants.iter().any(|(n, _)| n == name);
            imported
                .iter()
                .find(|(n, _)| n == name && !bound)
                .map(|(_, v)| v.as_str())
        }),
        ArgValue::Other => None,
    }
}

/// Whether a model argument names something on disk rather than a model to fetch.
fn is_local_path(text: &str) -> bool {
    text.starts_with('/')
        || text.starts_with("./")
        || text.starts_with("../")
        || text.starts_with('~')
        || text == "."
}

fn python_call(
    source: &python::Source,
    call: &Call,
    offline: bool,
    imported: &Imported,
) -> Option<PythonFinding> {
    let text = |value: &ArgValue| literal(source, imported, value).map(str::to_string);
    let qualified = source.qualified(&call.callee);
    let last = qualified.rsplit('.').next().unwrap_or(&qualified);
    let told_local = call
        .keyword("local_files_only")
        .is_some_and(|v| v.is_name("True"));
    let finding = |what, model: Option<&ArgValue>, sized| PythonFinding {
        what,
        by: format!("`{}()`", call.callee.trim_start_matches('.')),
        model: model.and_then(|m: &ArgValue| text(m)),
        sized,
        span: call.span.clone(),
    };
    for entry in PY_DOWNLOADS {
        let matched = match entry.call {
            Callee::Method(name) => call.callee.contains('.') && last == name,
            Callee::Name(name) => last == name,
            Callee::Qualified(name) => qualified == name,
        };
        if !matched {
            continue;
        }
        let hub = matches!(
            entry.what,
            "a Hugging Face model"
                | "a Hugging Face repository"
                | "a file of a Hugging Face repository"
        );
        if told_local || (offline && hub) {
            return None;
        }
        let model = entry.model.and_then(|(at, keyword)| call.arg(at, keyword));
        let model_text = model.and_then(&text);
        let downloads = match entry.when {
            When::Always => true,
            When::ModelGiven => model.is_some(),
            When::NotLocal => model.is_some() && !model_text.as_deref().is_some_and(is_local_path),
            When::Asset(extension) => model_text
                .as_deref()
                .is_some_and(|m| m.ends_with(extension) && !m.contains('/')),
        };
        if !downloads {
            return None;
        }
        if entry.call == Callee::Qualified("easyocr.Reader")
            && call
                .keyword("download_enabled")
                .is_some_and(|v| v.is_name("False"))
        {
            return None;
        }
        return Some(finding(entry.what, model, entry.sized));
    }
    // `pretrained=True` (torchvision before 0.13, timm, segmentation models) or a named
    // pretrained set (open_clip); `weights=ResNet50_Weights.DEFAULT`, `weights="imagenet"`.
    for arg in &call.args {
        let Some(keyword) = arg.keyword.as_deref() else {
            continue;
        };
        let pretrained = keyword == "pretrained"
            && (arg.value.is_name("True")
                || arg
                    .value
                    .as_str()
                    .is_some_and(|s| !s.is_empty() && !is_local_path(s)));
        let weights = matches!(keyword, "weights" | "weights_backbone")
            && match &arg.value {
                ArgValue::Name(n) => n.contains("Weights.") || n.ends_with("_Weights"),
                ArgValue::Str(s) => {
                    matches!(s.as_str(), "imagenet" | "DEFAULT") || s.starts_with("IMAGENET")
                }
                ArgValue::Other => false,
            };
        if pretrained || weights {
            return Some(finding("pretrained weights", None, false));
        }
    }
    // A URL of weights given to any call (`urlretrieve`, `requests.get`, `gdown.download`).
    let strings = || call.args.iter().filter_map(|a| a.value.as_str());
    if let Some(url) = strings().find(|s| s.contains("://") && is_weight_reference(s)) {
        let mut f = finding("model weights", None, false);
        f.model = Some(url.to_string());
        return Some(f);
    }
    // A fetch of a URL built elsewhere (`urlretrieve(model_url, …)`), in code that names a
    // weight file.
    if PY_FETCHERS.contains(&qualified.as_str()) {
        if let Some(file) = source.strings.iter().find(|s| is_weight_reference(s)) {
            let mut f = finding("model weights", None, false);
            f.model = Some(file.clone());
            return Some(f);
        }
    }
    // A well-known Hub model id given to a loading call of a library docklint has no entry for.
    let loads = LOADING_WORDS
        .iter()
        .any(|w| call.callee.to_ascii_lowercase().contains(w));
    if loads && !offline {
        if let Some(id) = strings().find(|s| is_hub_model_id(s)) {
            let what = if last == "load_dataset" {
                "a Hugging Face dataset"
            } else {
                "a Hugging Face model"
            };
            let mut f = finding(what, None, false);
            f.model = Some(id.to_string());
            return Some(f);
        }
    }
    None
}

/// Local modules a script imports: the context files they may be, relative to the script's
/// directory in the image.
fn imported_paths(source: &python::Source, script_dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    for import in &source.imports {
        let module = import.module.replace('.', "/");
        let mut candidates = Vec::new();
        if !module.is_empty() {
            candidates.push(format!("{module}.py"));
            candidates.push(format!("{module}/__init__.py"));
        }
        // `from pkg import sub` may import a submodule.
        if import.target != import.module {
            candidates.push(format!("{}.py", import.target.replace('.', "/")));
        }
        for candidate in candidates {
            let path = resolve_path(script_dir, &candidate);
            if !out.contains(&path) {
                out.push(path);
            }
        }
    }
    out
}

/// The constants `from module import NAME` takes from the local modules read (`modules`:
/// their context paths and texts).
fn imported_constants(source: &python::Source, modules: &[(String, String)]) -> Imported {
    let mut out = Imported::new();
    for import in &source.imports {
        let Some(name) = import.target.strip_prefix(&format!("{}.", import.module)) else {
            continue;
        };
        let file = import.module.replace('.', "/");
        let module = modules.iter().find(|(path, _)| {
            path.strip_suffix(".py")
                .or_else(|| path.strip_suffix("/__init__.py"))
                .is_some_and(|p| p == file || p.ends_with(&format!("/{file}")))
        });
        if let Some((_, text)) = module {
            if let Some(value) = python::scan(text).constant(name) {
                out.push((import.local.clone(), value.to_string()));
            }
        }
    }
    out
}

/// At most this many local modules of one script are read.
const MAX_IMPORTS_FOLLOWED: usize = 32;

/// Finds what one RUN downloads.
struct Finder<'a> {
    model: &'a Model,
    run: &'a Run,
    files: &'a dyn ProjectFiles,
    out: Vec<Download>,
    /// Indices in `out` by a hash of what identifies a download ([`Finder::push`]).
    seen: HashMap<u64, Vec<usize>>,
}

/// The word a shell-script step's program was given as (`./get.sh`).
fn program_word<'s>(script: &'s Script, step: &Step) -> Option<&'s Word> {
    let command = &script.commands[step.command];
    if step.wrapped {
        step.args_from
            .checked_sub(1)
            .and_then(|i| command.args.get(i))
    } else {
        Some(&command.program)
    }
}

/// A word's value with the step's environment; where a variable is unknown, it stays as
/// written and the known ones are substituted.
fn value_of(word: &Word, env: &Env) -> String {
    if word.literal {
        return word.value.to_string();
    }
    env.expand(&word.value)
        .unwrap_or_else(|| expand_known(&word.value, env))
}

/// `$NAME` and `${NAME}` replaced by their values where `env` knows them, while the text
/// stays within [`MAX_VALUE_LEN`] (past it, the rest is left as written).
fn expand_known(value: &str, env: &Env) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('$').filter(|_| out.len() <= MAX_VALUE_LEN) {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = match after.strip_prefix('{') {
            Some(inner) => match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        let simple =
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match env.known(name).filter(|_| simple) {
            Some(known) => out.push_str(known),
            None => out.push_str(&rest[at..at + 1 + len]),
        }
        rest = &rest[at + 1 + len..];
    }
    out.push_str(rest);
    out
}

/// Operands of a command line: arguments that are no option nor an option's value.
fn operands<'v>(args: &'v [String], valued: &[&str]) -> Vec<&'v str> {
    let mut out = Vec::new();
    let mut skip = false;
    for arg in args {
        if std::mem::take(&mut skip) {
            continue;
        }
        if arg.starts_with('-') && arg.len() > 1 {
            skip = valued.contains(&arg.as_str());
            continue;
        }
        out.push(arg.as_str());
    }
    out
}

fn option_value<'v>(args: &'v [String], names: &[&str]) -> Option<&'v str> {
    for (i, arg) in args.iter().enumerate() {
        for name in names {
            if arg == name {
                return args.get(i + 1).map(String::as_str);
            }
            let glued = arg
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('='));
            if glued.is_some() {
                return glued;
            }
        }
    }
    None
}

/// Where a piece of code comes from, to place what is found in it.
enum Origin<'m> {
    /// Written in the Dockerfile (a heredoc, a `#!` script body): offsets map to the file.
    Mapped(&'m MappedText),
    /// A command-line argument (`python -c`): everything points at the command.
    Inline,
    /// A file of the build context.
    Context(&'m str),
}

impl<'a> Finder<'a> {
    fn read(&self, relative: &str) -> Option<String> {
        self.files.read(relative)
    }

    /// The context file at `path` in the image when this RUN starts.
    fn context_file(&self, path: &str) -> Option<(String, String)> {
        let readable = |rel: &str| self.files.read(rel).is_some();
        let may_hold = |rel: &str| self.files.may_hold(rel);
        let (stage, before) = (self.run.stage, self.run.instruction);
        let relative = self
            .model
            .context_file_at(stage, before, path, &readable, &may_hold)?;
        let text = self.read(&relative)?;
        Some((relative, text))
    }

    /// Adds a download unless the same one was found already. Found ones are looked up by
    /// what later steps do not change (their place and origin get filled in after), so a
    /// RUN of n downloads does not compare n² pairs.
    fn push(&mut self, finding: Download) {
        let key = {
            let mut hasher = std::hash::DefaultHasher::new();
            (&finding.span, finding.what, &finding.by, &finding.model).hash(&mut hasher);
            hasher.finish()
        };
        let same = self.seen.entry(key).or_default();
        if same.iter().any(|&i| self.out[i] == finding) {
            return;
        }
        same.push(self.out.len());
        self.out.push(finding);
    }

    fn python_code(
        &mut self,
        span: &Span,
        code: &str,
        origin: Origin,
        env: &Env,
        follow: Option<&str>,
    ) {
        let offline = ["HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"].iter().any(|v| {
            env.known(v)
                .is_some_and(|x| !matches!(x, "" | "0" | "false" | "False"))
        });
        let source = python::scan(code);
        // The script's local modules, one level: their own imports are not followed.
        let mut modules: Vec<(String, String)> = Vec::new();
        if let Some(script_dir) = follow {
            for path in imported_paths(&source, script_dir)
                .into_iter()
                .take(MAX_IMPORTS_FOLLOWED)
            {
                modules.extend(self.context_file(&path));
            }
        }
        let imported = imported_constants(&source, &modules);
        for f in python_findings(&source, offline, &imported) {
            let (at, script) = match &origin {
                Origin::Mapped(mapped) => (Some(mapped.span_to_file(f.span.clone())), None),
                Origin::Inline => (None, None),
                Origin::Context(path) => (
                    None,
                    Some((path.to_string(), python::line_of(code, f.span.start))),
                ),
            };
            let size = f
                .model
                .as_deref()
                .filter(|_| f.sized)
                .and_then(|m| known_size(f.what, m));
            self.push(Download {
                span: span.clone(),
                at,
                what: f.what,
                by: f.by,
                model: f.model,
                size,
                script,
                by_name_only: false,
                read: false,
            });
        }
        for (relative, text) in &modules {
            self.python_code(span, text, Origin::Context(relative), env, None);
        }
    }

    /// A script file the RUN executes: read from the context; judged by its name when it
    /// cannot be read or shows no download docklint knows.
    fn script_file(&mut self, span: &Span, path: &str, env: &Env, python: bool) {
        let before = self.out.len();
        let read = self.context_file(path);
        let readable = read.is_some();
        match read {
            Some((relative, text)) if python => {
                let dir = path
                    .rsplit_once('/')
                    .map_or("/", |(d, _)| if d.is_empty() { "/" } else { d });
                self.python_code(span, &text, Origin::Context(&relative), env, Some(dir));
            }
            Some((relative, text)) => self.shell_script(span, &relative, &text, env),
            None => {}
        }
        if self.out.len() == before && named_like_model_download(path) {
            let name = commands::basename(path).to_string();
            self.push(Download {
                span: span.clone(),
                at: None,
                what: "models",
                by: format!("`{name}`"),
                model: None,
                size: None,
                script: Some((name, 0)),
                by_name_only: true,
                read: readable,
            });
        }
    }

    /// A shell script from the context: its commands, as the model reads a RUN's (its
    /// scripts are not followed further).
    fn shell_script(&mut self, span: &Span, relative: &str, text: &str, env: &Env) {
        let body = MappedText::contiguous(text, 0);
        let script = shell::parse_with(&body, &commands::Launchers);
        let mut vars = self.run.env().clone();
        for name in ["HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"] {
            if let Some(v) = env.known(name) {
                vars.set(name, super::Value::Known(v.to_string()));
            }
        }
        let start = effects::Start {
            instruction: self.run.instruction,
            env: &vars,
            user: &self.run.user,
            workdir: &self.run.workdir,
            shell_program: "/bin/sh",
            shell_env: std::sync::Arc::new(effects::Env::starting(&vars, &self.run.user)),
        };
        let effects = effects::build(&script, &start, &mut Accounts::default());
        let before = self.out.len();
        for step in &effects.steps {
            self.step(&script, step, span, false);
        }
        // What the script does is placed by its line.
        for found in &mut self.out[before..] {
            if found.script.is_none() {
                let offset = found.at.take().map_or(0, |s| s.start);
                found.script = Some((relative.to_string(), python::line_of(text, offset)));
            }
        }
    }

    /// One command of the RUN (or of a script it runs: what it finds there points at the
    /// command in the script, placed by line later).
    fn step(&mut self, script: &Script, step: &Step, outer: &Span, top: bool) {
        let before = self.out.len();
        self.step_downloads(script, step, outer, top);
        if !top {
            let command = &script.commands[step.command];
            for found in &mut self.out[before..] {
                found.at.get_or_insert(command.span.clone());
            }
        }
    }

    fn step_downloads(&mut self, script: &Script, step: &Step, outer: &Span, top: bool) {
        let command = &script.commands[step.command];
        // Inside a script file, spans are the script's: the finding is placed by line.
        let span = if top {
            command.span.clone()
        } else {
            outer.clone()
        };
        let words = step.args(script);
        // Gathered when a branch reads them: most steps are no download.
        let values = LazyCell::new(|| -> Vec<String> {
            words.iter().map(|w| value_of(w, &step.env)).collect()
        });
        let name = step.name.as_str();
        let download = |what, by: String, model: Option<String>, sized: bool| Download {
            span: span.clone(),
            at: None,
            what,
            by,
            size: model
                .as_deref()
                .filter(|_| sized)
                .and_then(|m| known_size(what, m)),
            model,
            script: None,
            by_name_only: false,
            read: false,
        };
        // Download CLIs (and `python -m` modules).
        for cli in CLI_DOWNLOADS.iter().filter(|c| c.program == name) {
            let rest = operands(&values, cli.valued);
            if !rest.starts_with(cli.sub) {
                continue;
            }
            let after: Vec<String> = {
                let mut seen = 0;
                let mut out = Vec::new();
                for v in values.iter() {
                    if seen < cli.sub.len() && cli.sub.get(seen) == Some(&v.as_str()) {
                        seen += 1;
                        continue;
                    }
                    if seen == cli.sub.len() {
                        out.push(v.clone());
                    }
                }
                out
            };
            let models: Vec<String> = match cli.model {
                ModelOperand::First => operands(&after, cli.valued)
                    .first()
                    .map(|m| vec![m.to_string()])
                    .unwrap_or_default(),
                ModelOperand::Each => operands(&after, cli.valued)
                    .iter()
                    .map(|m| m.to_string())
                    .collect(),
                ModelOperand::Option(names) => option_value(&after, names)
                    .map(|m| vec![m.to_string()])
                    .unwrap_or_default(),
                ModelOperand::Unnamed => Vec::new(),
            };
            let by = format!(
                "`{}`",
                std::iter::once(name)
                    .chain(cli.sub.iter().copied())
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            if models.is_empty() {
                self.push(download(cli.what, by.clone(), None, false));
            }
            for model in models {
                self.push(download(cli.what, by.clone(), Some(model), cli.sized));
            }
            return;
        }
        // `yolo predict model=yolov8n.pt`
        if name == "yolo" {
            if let Some(model) = values
                .iter()
                .filter_map(|v| v.strip_prefix("model="))
                .find(|m| m.ends_with(".pt") && !m.contains('/'))
            {
                self.push(download(
                    "Ultralytics weights",
                    "`yolo`".into(),
                    Some(model.to_string()),
                    false,
                ));
            }
            return;
        }
        // curl, wget … of weight files.
        if DOWNLOADERS.contains(&name) {
            let candidates = values.iter().zip(words).flat_map(|(value, word)| {
                let mut texts = vec![value.clone()];
                // A variable assigned elsewhere in the body (a loop): its assigned text.
                if value.starts_with('$') {
                    texts.extend(assigned_texts(script, &word.value, &step.env));
                }
                texts
            });
            let weights: Vec<String> = candidates
                .filter(|t| !t.starts_with('-') || t.contains("://"))
                .filter(|t| is_weight_reference(t))
                .collect();
            if let Some(first) = weights
                .iter()
                .find(|t| t.contains("://"))
                .or(weights.first())
            {
                self.push(download(
                    "model weights",
                    format!("`{name}`"),
                    Some(first.clone()),
                    false,
                ));
            }
            // Ollama's HTTP API: `curl http://localhost:11434/api/pull -d '{"name": "llama3"}'`.
            if values.iter().any(|v| v.contains("/api/pull")) {
                let model = values.iter().find_map(|v| ollama_pull_model(v));
                self.push(download(
                    "an Ollama model",
                    format!("`{name}` of /api/pull"),
                    model,
                    true,
                ));
            }
            return;
        }
        match name {
            "git" => {
                let rest = operands(
                    &values,
                    &[
                        "-b", "--branch", "--depth", "-c", "--config", "--filter", "-o", "--origin",
                    ],
                );
                let clones = matches!(rest.as_slice(), ["clone", ..] | ["lfs", "clone", ..]);
                let skip_smudge = step
                    .env
                    .known("GIT_LFS_SKIP_SMUDGE")
                    .is_some_and(|v| v == "1");
                if clones && !skip_smudge {
                    if let Some(url) = rest
                        .iter()
                        .find(|r| r.contains("://") || r.starts_with("git@"))
                    {
                        if is_hub_repository(url) {
                            self.push(download(
                                "a Hugging Face repository",
                                "`git clone`".into(),
                                Some(url.to_string()),
                                false,
                            ));
                        }
                    }
                }
                return;
            }
            _ if name.starts_with("pip") || name == "uv" => {
                if values.iter().any(|v| v == "install") {
                    if let Some(package) = values.iter().find(|v| is_spacy_package(v)) {
                        self.push(download(
                            "a spaCy pipeline",
                            format!("`{name} install`"),
                            Some(package.clone()),
                            true,
                        ));
                    }
                }
                return;
            }
            _ => {}
        }
        if !top {
            // Inside a script: code written there is read, files it runs are not followed.
            if commands::is_python(name) || python_named(script, step) {
                self.python_invocation(script, step, &values, &span, false);
            }
            return;
        }
        if commands::is_python(name) || python_named(script, step) {
            self.python_invocation(script, step, &values, &span, true);
            return;
        }
        if let Some(path) = self.local_module(script, step) {
            self.script_file(&span, &path, &step.env, true);
            return;
        }
        // A shell script: `sh get.sh`, `./get.sh`.
        let shell_operand = commands::is_posix_shell(name)
            && shell::shell_options_input(&values.iter().map(String::as_str).collect::<Vec<_>>())
                .is_none();
        let file = if shell_operand {
            values.iter().find(|v| !v.starts_with('-')).cloned()
        } else if name.ends_with(".sh") || name.ends_with(".py") {
            program_word(script, step).map(|w| value_of(w, &step.env))
        } else {
            None
        };
        if let (Some(file), Some(cwd)) = (file, step.cwd.as_deref()) {
            let path = resolve_path(cwd, &file);
            let python = file.ends_with(".py");
            self.script_file(&span, &path, &step.env, python);
        }
    }

    /// `python -m pkg.module` of a module from the context: the file it runs.
    fn local_module(&self, script: &Script, step: &Step) -> Option<String> {
        let command = &script.commands[step.command];
        let module_word = step
            .args_from
            .checked_sub(1)
            .and_then(|i| command.args.get(i))?;
        let before = step
            .args_from
            .checked_sub(2)
            .and_then(|i| command.args.get(i));
        let by_module = module_word.value == format!("-m{}", step.name)
            || (module_word.value == step.name && before.is_some_and(|w| w.value == "-m"));
        if !by_module || !step.wrapped {
            return None;
        }
        let cwd = step.cwd.as_deref()?;
        Some(resolve_path(
            cwd,
            &format!("{}.py", step.name.replace('.', "/")),
        ))
    }

    fn python_invocation(
        &mut self,
        script: &Script,
        step: &Step,
        values: &[String],
        span: &Span,
        follow: bool,
    ) {
        let command = &script.commands[step.command];
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        match commands::python_input(&refs) {
            Some(PythonInput::Code(i)) => {
                let code = values[i]
                    .strip_prefix("-c")
                    .filter(|_| values[i].starts_with('-'))
                    .unwrap_or(&values[i]);
                let code = code.to_string();
                self.python_code(span, &code, Origin::Inline, &step.env, None);
            }
            Some(PythonInput::Stdin) => {
                for heredoc in &command.stdin_heredocs {
                    let origin = if follow {
                        Origin::Mapped(heredoc)
                    } else {
                        Origin::Inline
                    };
                    self.python_code(span, heredoc.as_str(), origin, &step.env, None);
                }
            }
            Some(PythonInput::Script(i)) if follow => {
                if let Some(cwd) = step.cwd.as_deref() {
                    let path = resolve_path(cwd, &values[i]);
                    self.script_file(span, &path, &step.env, true);
                }
            }
            _ => {}
        }
    }
}

/// A program whose name docklint cannot resolve but says it is Python (`$PYTHON -c …`,
/// `${DL_PYTHON_EXECUTABLE} - <<'PY'`).
fn python_named(script: &Script, step: &Step) -> bool {
    step.name.is_empty()
        && script.commands[step.command]
            .program
            .raw
            .to_ascii_lowercase()
            .contains("python")
}

/// The texts assigned to the variable a word is (`$url` set in a loop): each expanded with
/// `env` where it can be, as written otherwise.
fn assigned_texts(script: &Script, word: &str, env: &Env) -> Vec<String> {
    let name = word
        .trim_start_matches('$')
        .trim_start_matches('{')
        .trim_end_matches('}');
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Vec::new();
    }
    script
        .states
        .iter()
        .filter_map(|s| match &s.kind {
            shell::StateKind::Assignment(w) => w
                .value
                .strip_prefix(name)?
                .strip_prefix('=')
                .map(|v| env.expand(v).unwrap_or_else(|| expand_known(v, env))),
            _ => None,
        })
        .collect()
}

/// What RUN instruction `run` downloads; `files` reads the build context.
pub fn run_downloads(
    model: &Model,
    df: &Dockerfile,
    run: &Run,
    files: &dyn ProjectFiles,
) -> Vec<Download> {
    let mut finder = Finder {
        model,
        run,
        files,
        out: Vec::new(),
        seen: HashMap::new(),
    };
    let instruction = &df.instructions[run.instruction];
    // `RUN <<EOF` with a python `#!` line: BuildKit runs the body as a file.
    if let Some(DockerCommand::Script { interpreter, body }) = instruction.command() {
        if interpreter.split_whitespace().any(commands::is_python) {
            let env = Env::default();
            let first_line = instruction.span.start..instruction.line_end;
            finder.python_code(&first_line, body.as_str(), Origin::Mapped(body), &env, None);
        }
    }
    if let Some(script) = &run.script {
        for step in &run.effects.steps {
            finder.step(script, step, &instruction.span, true);
        }
    }
    finder.out
}

/// ADD instructions that fetch weight files by URL.
pub fn add_downloads(df: &Dockerfile) -> Vec<Download> {
    df.instructions
        .iter()
        .filter(|i| i.keyword == Keyword::Add)
        .filter_map(|i| match &i.args {
            Args::Add(args) => args
                .sources
                .iter()
                .find(|s| s.value.contains("://") && is_weight_reference(&s.value))
                .map(|s| Download {
                    span: i.span.clone(),
                    at: Some(s.span.clone()),
                    what: "model weights",
                    by: "`ADD`".into(),
                    model: Some(s.value.clone()),
                    size: None,
                    script: None,
                    by_name_only: false,
                    read: false,
                }),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_references() {
        for yes in [
            "https://huggingface.co/TheBloke/x-GGUF/resolve/main/x.Q4_K_M.gguf?download=true",
            "https://hf.co/org/m/resolve/main/config.json",
            "model.safetensors",
            "/root/.openfold3/of3-p2-155k.pt",
            "https://github.com/x/y/releases/download/v1/u2net.onnx",
            "https://example.com/pytorch_model.bin",
        ] {
            assert!(is_weight_reference(yes), "{yes}");
        }
        for no in [
            "https://download.pytorch.org/whl/cpu",
            "https://example.com/jdk-8u1-linux-x64.bin",
            "https://huggingface.co/datasets/x/y/resolve/main/d.csv",
            "https://example.com/a.tar.gz",
            "descriptor.pb",
            ".pt",
        ] {
            assert!(!is_weight_reference(no), "{no}");
        }
    }

    #[test]
    fn variables_a_word_expands() {
        assert_eq!(referenced_variables("$HF_TOKEN"), ["HF_TOKEN"]);
        assert_eq!(
            referenced_variables("${HUGGINGFACE_TOKEN}"),
            ["HUGGINGFACE_TOKEN"]
        );
        assert_eq!(referenced_variables("x${A:-b}$B"), ["A", "B"]);
        assert!(referenced_variables("hf_abc").is_empty());
        assert!(referenced_variables("$1 $").is_empty());
    }

    #[test]
    fn names_ids_and_packages() {
        assert!(named_like_model_download("/src/download_model.py"));
        assert!(named_like_model_download("fetch-models.sh"));
        assert!(named_like_model_download("model_download.py"));
        assert!(!named_like_model_download("download.py"));
        assert!(!named_like_model_download("models.py"));
        assert!(is_hub_model_id(
            "microsoft/table-transformer-structure-recognition"
        ));
        assert!(!is_hub_model_id("src/main.py"));
        assert!(is_spacy_package("en_core_web_sm"));
        assert!(is_spacy_package("en-core-web-trf==3.7.0"));
        assert!(!is_spacy_package("spacy"));
        assert_eq!(
            known_size("an Ollama model", "llama3.2:latest"),
            Some(2_000_000_000)
        );
    }

    fn found(code: &str) -> Vec<(String, &'static str, Option<String>)> {
        python_findings(&python::scan(code), false, &Imported::new())
            .into_iter()
            .map(|f| (f.by, f.what, f.model))
            .collect()
    }

    #[test]
    fn python_calls_that_download() {
        let code = "from transformers import AutoModel\nimport whisper as w\nfrom ultralytics import YOLO\nAutoModel.from_pretrained('bert-base-uncased')\nAutoModel.from_pretrained('/models/local')\nw.load_model('base')\nYOLO('yolov8n.pt')\nYOLO('runs/best.pt')\nYOLO('yolov8n.yaml')\npipeline('sentiment-analysis')\npipeline('ner', model='dslim/bert-base-NER')\n";
        assert_eq!(
            found(code),
            [
                (
                    "`AutoModel.from_pretrained()`".to_string(),
                    "a Hugging Face model",
                    Some("bert-base-uncased".to_string())
                ),
                (
                    "`w.load_model()`".to_string(),
                    "a Whisper model",
                    Some("base".to_string())
                ),
                (
                    "`YOLO()`".to_string(),
                    "Ultralytics weights",
                    Some("yolov8n.pt".to_string())
                ),
                (
                    "`pipeline()`".to_string(),
                    "a Hugging Face model",
                    Some("dslim/bert-base-NER".to_string())
                ),
            ]
        );
        let code = "import torchvision.models as models\nimport timm\nmodels.vgg16(pretrained=True)\nmodels.resnet50(weights=models.ResNet50_Weights.DEFAULT)\nmodels.resnet50(weights=None)\ntimm.create_model('resnet50', pretrained=False)\n";
        assert_eq!(found(code).len(), 2);
        // Weights of a detection backbone download; class weights of a loss do not.
        let code = "from torchvision.models import detection as d\nd.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=ResNet50_Weights.IMAGENET1K_V1)\nnn.CrossEntropyLoss(class_weights=ClassWeights.BALANCED)\n";
        assert_eq!(found(code).len(), 1);
        let code = "from huggingface_hub import snapshot_download\nsnapshot_download(repo_id='x/y', local_files_only=True)\nmodel.initialize('microsoft/table-transformer-structure-recognition')\nos.environ.setdefault('M', 'BAAI/bge-m3')\n";
        assert_eq!(
            found(code),
            [(
                "`model.initialize()`".to_string(),
                "a Hugging Face model",
                Some("microsoft/table-transformer-structure-recognition".to_string())
            )]
        );
        // Constants name the model, and a local one downloads nothing.
        let code =
            "from huggingface_hub import hf_hub_download\nREPO_ID = \"InfiniFlow/deepdoc\"\n\
                    def main():\n    hf_hub_download(repo_id=REPO_ID, filename='det.onnx')\n";
        assert_eq!(
            found(code),
            [(
                "`hf_hub_download()`".to_string(),
                "a file of a Hugging Face repository",
                Some("InfiniFlow/deepdoc".to_string())
            )]
        );
        let code = "from transformers import AutoModel\nMODEL_DIR = '/models/m'\nAutoModel.from_pretrained(MODEL_DIR)\n";
        assert_eq!(found(code), []);
        let code =
            "from datasets import load_dataset\nload_dataset('microsoft/ms_marco', 'v1.1')\n";
        assert_eq!(
            found(code),
            [(
                "`load_dataset()`".to_string(),
                "a Hugging Face dataset",
                Some("microsoft/ms_marco".to_string())
            )]
        );
        let code = "from unstructured.partition.model_init import initialize\ninitialize()\n";
        assert_eq!(
            found(code),
            [(
                "`initialize()`".to_string(),
                "Unstructured's layout model",
                None
            )]
        );
    }
}
