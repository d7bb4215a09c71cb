//! The language server, driven in-process through `Connection::memory()` as an editor
//! would drive it.

mod common;

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::thread::JoinHandle;
use std::time::Duration;

use common::TempDir;
use docklint::config::{Overrides, Resolver, Settings};
use docklint::fix::Applicability;
use docklint::lsp::convert;
use docklint::source::SourceFile;
use lsp_server::{Connection, Message, Notification, Request, RequestId};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument,
    DidSaveTextDocument, Exit, Initialized, Notification as _, PublishDiagnostics,
};
use lsp_types::request::{CodeActionRequest, HoverRequest, Initialize, Shutdown};
use lsp_types::*;

const TIMEOUT: Duration = Duration::from_secs(60);

/// An editor: sends what editors send, keeps what the server publishes.
struct Client {
    connection: Connection,
    server: Option<JoinHandle<()>>,
    next_id: i32,
    /// Notifications and requests from the server not yet looked at.
    inbox: VecDeque<Message>,
    versions: HashMap<Uri, i32>,
}

impl Client {
    fn start() -> Client {
        Client::with_capabilities(ClientCapabilities::default())
    }

    fn with_capabilities(capabilities: ClientCapabilities) -> Client {
        let (server_side, client_side) = Connection::memory();
        let server = std::thread::spawn(move || {
            docklint::lsp::serve(&server_side).expect("the server ends cleanly")
        });
        let mut client = Client {
            connection: client_side,
            server: Some(server),
            next_id: 0,
            inbox: VecDeque::new(),
            versions: HashMap::new(),
        };
        let params = InitializeParams {
            capabilities,
            ..Default::default()
        };
        let result: InitializeResult = client.request::<Initialize>(params);
        assert_eq!(
            result.server_info.map(|i| i.name).as_deref(),
            Some("docklint")
        );
        client.notify::<Initialized>(InitializedParams {});
        client
    }

    fn notify<N: lsp_types::notification::Notification>(&self, params: N::Params) {
        let n = Notification::new(N::METHOD.into(), params);
        self.connection.sender.send(n.into()).unwrap();
    }

    fn request<R: lsp_types::request::Request>(&mut self, params: R::Params) -> R::Result {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        let request = Request::new(id.clone(), R::METHOD.into(), params);
        self.connection.sender.send(request.into()).unwrap();
        loop {
            match self.receive() {
                Message::Response(r) if r.id == id => {
                    let result = r.response_result.expect("no error");
                    return serde_json::from_value(result).unwrap();
                }
                other => self.inbox.push_back(other),
            }
        }
    }

    fn receive(&self) -> Message {
        self.connection
            .receiver
            .recv_timeout(TIMEOUT)
            .expect("the server answers in time")
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &Uri) -> PublishDiagnosticsParams {
        let is_for = |m: &Message| match m {
            Message::Notification(n) if n.method == PublishDiagnostics::METHOD => {
                n.params["uri"].as_str() == Some(uri.as_str())
            }
            _ => false,
        };
        let message = match self.inbox.iter().position(is_for) {
            Some(i) => self.inbox.remove(i).unwrap(),
            None => loop {
                let m = self.receive();
                if is_for(&m) {
                    break m;
                }
                self.inbox.push_back(m);
            },
        };
        let Message::Notification(n) = message else {
            unreachable!()
        };
        serde_json::from_value(n.params).unwrap()
    }

    /// The diagnostics of the version last sent.
    fn current_diagnostics(&mut self, uri: &Uri) -> Vec<Diagnostic> {
        let version = self.versions.get(uri).copied();
        loop {
            let published = self.diagnostics(uri);
            if published.version == version {
                return published.diagnostics;
            }
        }
    }

    fn open(&mut self, path: &Path, text: &str) -> Uri {
        let uri = convert::uri_of(path).unwrap();
        self.versions.insert(uri.clone(), 1);
        self.notify::<DidOpenTextDocument>(DidOpenTextDocumentParams {
            text_document: TextDocumentItem::new(uri.clone(), "dockerfile".into(), 1, text.into()),
        });
        uri
    }

    fn change(&mut self, uri: &Uri, text: &str) {
        let version = self.versions.entry(uri.clone()).or_default();
        *version += 1;
        let version = *version;
        self.notify::<DidChangeTextDocument>(DidChangeTextDocumentParams {
            text_document: VersionedTextDocumentIdentifier::new(uri.clone(), version),
            content_changes: vec![TextDocumentContentChangeEvent {
                range: None,
                range_length: None,
                text: text.into(),
            }],
        });
    }

    fn code_actions(&mut self, uri: &Uri, range: Range, only: Option<&str>) -> Vec<CodeAction> {
        let params = CodeActionParams {
            text_document: TextDocumentIdentifier::new(uri.clone()),
            range,
            context: CodeActionContext {
                only: only.map(|o| vec![CodeActionKind::from(o.to_string())]),
                ..Default::default()
            },
            work_done_progress_params: Default::default(),
            partial_result_params: Default::default(),
        };
        self.request::<CodeActionRequest>(params)
            .unwrap_or_default()
            .into_iter()
            .map(|a| match a {
                CodeActionOrCommand::CodeAction(a) => a,
                CodeActionOrCommand::Command(c) => panic!("a bare command: {c:?}"),
            })
            .collect()
    }

    fn shutdown(mut self) {
        self.request::<Shutdown>(());
        self.notify::<Exit>(());
        self.server
            .take()
            .unwrap()
            .join()
            .expect("the server did not panic");
    }
}

/// The text after applying one action's edits to `text` (edits of one document do not
/// overlap; they are applied from the last).
// lsp-types keys edits by `Uri`, whose cached parse clippy takes for mutability.
#[allow(clippy::mutable_key_type)]
fn apply(text: &str, uri: &Uri, action: &CodeAction) -> String {
    let file = SourceFile::new("Dockerfile", text.to_string());
    let changes = action.edit.as_ref().unwrap().changes.as_ref().unwrap();
    let mut edits = changes[uri].clone();
    edits.sort_by_key(|e| (e.range.start.line, e.range.start.character));
    let mut out = text.to_string();
    for e in edits.iter().rev() {
        out.replace_range(convert::span(&file, e.range), &e.new_text);
    }
    out
}

fn code(d: &Diagnostic) -> &str {
    match &d.code {
        Some(NumberOrString::String(s)) => s,
        other => panic!("no rule name: {other:?}"),
    }
}

fn codes(ds: &[Diagnostic]) -> Vec<&str> {
    ds.iter().map(code).collect()
}

const TWO_RUNS: &str = "FROM debian:bookworm-slim\nRUN echo 😀 one\nRUN echo two\n";

#[test]
fn diagnostics_carry_the_rule_its_docs_and_utf16_ranges() {
    let dir = TempDir::new("lsp-diagnostics");
    let mut client = Client::start();
    let uri = client.open(&dir.path().join("Dockerfile"), TWO_RUNS);
    let published = client.diagnostics(&uri);
    assert_eq!(published.version, Some(1));
    let d = &published.diagnostics[..];
    assert_eq!(codes(d), ["consecutive-run"], "{d:?}");
    let href = d[0].code_description.as_ref().unwrap().href.as_str();
    assert!(href.ends_with("/lints/layers/consecutive_run.md"), "{href}");
    let rule = docklint::lints::find("consecutive-run").unwrap().meta();
    assert_eq!(d[0].severity, Some(convert::severity(rule.severity)));
    assert_eq!(d[0].source.as_deref(), Some("docklint"));
    // The engine's own positions, in UTF-16 units: the emoji is two of them.
    let file = SourceFile::new("Dockerfile", TWO_RUNS.to_string());
    let found = docklint::lint(&file, &Settings::defaults());
    let start = file.position(found[0].span.start);
    let end = file.position(found[0].span.end);
    assert_eq!(
        d[0].range,
        Range::new(
            Position::new(start.line as u32 - 1, start.column_utf16 as u32 - 1),
            Position::new(end.line as u32 - 1, end.column_utf16 as u32 - 1)
        )
    );
    if end.line == 2 {
        // The diagnostic ends on the emoji's line: its UTF-16 column counts it twice.
        assert_eq!(end.column_utf16, end.column + 1);
    }

    client.change(
        &uri,
        "FROM debian:bookworm-slim\nRUN echo one && echo two\n",
    );
    assert_eq!(client.current_diagnostics(&uri), []);
    client.change(&uri, TWO_RUNS);
    assert_eq!(
        codes(&client.current_diagnostics(&uri)),
        ["consecutive-run"]
    );
    client.notify::<DidCloseTextDocument>(DidCloseTextDocumentParams {
        text_document: TextDocumentIdentifier::new(uri.clone()),
    });
    let closed = client.diagnostics(&uri);
    assert!(closed.diagnostics.is_empty());
    client.shutdown();
}

#[test]
fn a_dockerignore_docker_rejects_is_a_syntax_error_where_it_fails() {
    let dir = TempDir::new("lsp-dockerignore");
    let mut client = Client::start();
    let uri = client.open(&dir.path().join(".dockerignore"), "node_modules\n[\n");
    let d = client.current_diagnostics(&uri);
    assert_eq!(codes(&d), ["syntax-error"]);
    assert_eq!(d[0].range.start, Position::new(1, 0));
    assert_eq!(d[0].severity, Some(DiagnosticSeverity::ERROR));
    client.change(&uri, "node_modules\n");
    assert_eq!(client.current_diagnostics(&uri), []);
    client.shutdown();
}

#[test]
fn lint_toml_is_found_per_document_and_reloaded_when_it_changes() {
    let dir = TempDir::new("lsp-config");
    dir.write("quiet/lint.toml", "ignore = [\"consecutive-run\"]\n");
    let quiet = dir.path().join("quiet/Dockerfile");
    let loud = dir.path().join("loud/Dockerfile");
    std::fs::create_dir_all(loud.parent().unwrap()).unwrap();
    let watching = ClientCapabilities {
        workspace: Some(WorkspaceClientCapabilities {
            did_change_watched_files: Some(DidChangeWatchedFilesClientCapabilities {
                dynamic_registration: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut client = Client::with_capabilities(watching);
    let quiet_uri = client.open(&quiet, TWO_RUNS);
    let loud_uri = client.open(&loud, TWO_RUNS);
    assert_eq!(client.current_diagnostics(&quiet_uri), []);
    assert_eq!(
        codes(&client.current_diagnostics(&loud_uri)),
        ["consecutive-run"]
    );
    // The server asked to hear of lint.toml changes.
    let registration = client.inbox.iter().find_map(|m| match m {
        Message::Request(r) if r.method == "client/registerCapability" => Some(r.params.clone()),
        _ => None,
    });
    let registration = registration.expect("a watcher registration");
    assert_eq!(
        registration["registrations"][0]["registerOptions"]["watchers"][0]["globPattern"],
        "**/lint.toml"
    );

    let config = dir.write(
        "quiet/lint.toml",
        "severity = { consecutive-run = \"error\" }\n",
    );
    client.notify::<DidChangeWatchedFiles>(DidChangeWatchedFilesParams {
        changes: vec![FileEvent::new(
            convert::uri_of(&config).unwrap(),
            FileChangeType::CHANGED,
        )],
    });
    let d = client.current_diagnostics(&quiet_uri);
    assert_eq!(codes(&d), ["consecutive-run"]);
    assert_eq!(d[0].severity, Some(DiagnosticSeverity::ERROR));

    // A broken lint.toml is said on the document, not in a crash.
    let config = dir.write("quiet/lint.toml", "selct = []\n");
    client.notify::<DidChangeWatchedFiles>(DidChangeWatchedFilesParams {
        changes: vec![FileEvent::new(
            convert::uri_of(&config).unwrap(),
            FileChangeType::CHANGED,
        )],
    });
    let d = client.current_diagnostics(&quiet_uri);
    assert_eq!(codes(&d), ["config-error"]);
    assert!(d[0].message.contains("lint.toml"), "{}", d[0].message);
    client.shutdown();
}

#[test]
fn without_file_watching_lint_toml_is_read_again_on_save() {
    let dir = TempDir::new("lsp-config-save");
    dir.write("lint.toml", "ignore = [\"consecutive-run\"]\n");
    let path = dir.write("Dockerfile", TWO_RUNS);
    let mut client = Client::start();
    let uri = client.open(&path, TWO_RUNS);
    assert_eq!(client.current_diagnostics(&uri), []);
    dir.write("lint.toml", "select = [\"all\"]\n");
    client.notify::<DidSaveTextDocument>(DidSaveTextDocumentParams {
        text_document: TextDocumentIdentifier::new(uri.clone()),
        text: None,
    });
    assert_eq!(
        codes(&client.current_diagnostics(&uri)),
        ["consecutive-run"]
    );
    client.shutdown();
}

#[test]
fn quick_fixes_ignore_comments_and_fix_all() {
    let dir = TempDir::new("lsp-actions");
    let text = "FROM python:3.12-slim\nRUN apt-get update\nRUN pip install requests\n";
    let mut client = Client::start();
    let uri = client.open(&dir.path().join("Dockerfile"), text);
    let found = client.current_diagnostics(&uri);
    let rules = codes(&found);
    assert!(rules.contains(&"consecutive-run"), "{rules:?}");
    assert!(rules.contains(&"missing-cache-mount"), "{rules:?}");

    // Every diagnostic's fix is offered on it, titled as the engine titles it; unsafe
    // ones say so.
    let file = SourceFile::new(dir.path().join("Dockerfile"), text.to_string());
    let engine = docklint::lint(&file, &Settings::defaults());
    for (d, e) in found.iter().zip(&engine) {
        let actions = client.code_actions(&uri, d.range, Some("quickfix"));
        let titles: Vec<&str> = actions.iter().map(|a| a.title.as_str()).collect();
        if let Some(fix) = &e.fix {
            let expected = match fix.applicability {
                Applicability::Safe => fix.title.to_string(),
                Applicability::Unsafe => format!("{} (unsafe fix)", fix.title),
            };
            let action = actions
                .iter()
                .find(|a| a.title == expected)
                .unwrap_or_else(|| panic!("{expected:?} not in {titles:?}"));
            assert_eq!(action.kind, Some(CodeActionKind::QUICKFIX));
            let (fixed, _) = docklint::fix::apply(text, std::slice::from_ref(e), fix.applicability);
            assert_eq!(apply(text, &uri, action), fixed);
        }
        // The suppression comment silences this rule there, and only it.
        let ignore = actions
            .iter()
            .find(|a| a.title == format!("Ignore `{}` on this instruction", code(d)))
            .unwrap_or_else(|| panic!("no ignore action in {titles:?}"));
        let suppressed = apply(text, &uri, ignore);
        assert!(suppressed.contains(&format!("# docklint ignore={}\n", code(d))));
        let file = SourceFile::new(dir.path().join("Dockerfile"), suppressed.clone());
        let after = docklint::lint(&file, &Settings::defaults());
        let count =
            |ds: &[docklint::rule::Diagnostic]| ds.iter().filter(|x| x.rule == code(d)).count();
        assert_eq!(count(&after), count(&engine) - 1, "{suppressed}");
        assert!(
            after.iter().all(|x| x.rule != "unused-suppression"),
            "{after:?}"
        );
    }

    // A second rule joins the comment already above the instruction.
    let commented = "FROM python:3.12-slim\nRUN apt-get update\n# docklint ignore=consecutive-run\nRUN pip install requests\n";
    client.change(&uri, commented);
    let found = client.current_diagnostics(&uri);
    let mount = found
        .iter()
        .find(|d| code(d) == "missing-cache-mount" && d.range.start.line == 3)
        .expect("missing-cache-mount on the pip line");
    let actions = client.code_actions(&uri, mount.range, None);
    let ignore = actions
        .iter()
        .find(|a| a.title == "Ignore `missing-cache-mount` on this instruction")
        .unwrap();
    let joined = apply(commented, &uri, ignore);
    assert!(
        joined.contains("# docklint ignore=consecutive-run,missing-cache-mount\nRUN pip"),
        "{joined}"
    );

    // Fix all: what `--fix` makes of the text.
    client.change(&uri, text);
    client.current_diagnostics(&uri);
    let actions = client.code_actions(&uri, Range::default(), Some("source.fixAll"));
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(
        actions[0].kind.as_ref().map(|k| k.as_str()),
        Some("source.fixAll.docklint")
    );
    let expected = docklint::fix(&file, &Settings::defaults(), Applicability::Safe).text;
    assert_ne!(expected, text);
    assert_eq!(apply(text, &uri, &actions[0]), expected);
    // Asking for quick fixes only gives no fix-all.
    let quick = client.code_actions(&uri, Range::default(), Some("quickfix"));
    assert!(quick
        .iter()
        .all(|a| a.kind == Some(CodeActionKind::QUICKFIX)));
    client.shutdown();
}

#[test]
fn hover_on_a_diagnostic_shows_the_rules_documentation() {
    let dir = TempDir::new("lsp-hover");
    let mut client = Client::start();
    let uri = client.open(&dir.path().join("Dockerfile"), TWO_RUNS);
    let d = client.current_diagnostics(&uri);
    let hover = client.request::<HoverRequest>(HoverParams {
        text_document_position_params: TextDocumentPositionParams::new(
            TextDocumentIdentifier::new(uri.clone()),
            d[0].range.start,
        ),
        work_done_progress_params: Default::default(),
    });
    let Some(Hover {
        contents: HoverContents::Markup(markup),
        range,
    }) = hover
    else {
        panic!("no hover: {hover:?}");
    };
    assert_eq!(markup.kind, MarkupKind::Markdown);
    assert_eq!(range, Some(d[0].range));
    let rule = docklint::lints::find("consecutive-run").unwrap().meta();
    // The documentation as `docklint explain` prints it.
    assert!(markup
        .value
        .ends_with(&docklint::emit::explain::render(rule)));
    assert!(markup.value.starts_with("**consecutive-run**: "));
    // Nothing to say away from diagnostics.
    let none = client.request::<HoverRequest>(HoverParams {
        text_document_position_params: TextDocumentPositionParams::new(
            TextDocumentIdentifier::new(uri.clone()),
            Position::new(0, 0),
        ),
        work_done_progress_params: Default::default(),
    });
    assert_eq!(none, None);
    client.shutdown();
}

/// Every `.dockerignore` and Dockerfile of `examples/`.
fn example_files() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for project in std::fs::read_dir(&root).unwrap() {
        let project = project.unwrap().path();
        for name in ["Dockerfile", ".dockerignore"] {
            if project.join(name).is_file() {
                files.push(project.join(name));
            }
        }
    }
    files.sort();
    assert!(files.len() >= 8, "{files:?}");
    files
}

#[test]
fn every_keystroke_of_the_examples_gets_diagnostics_never_a_crash() {
    let mut client = Client::start();
    let mut states = 0;
    for path in example_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let uri = client.open(&path, "");
        client.current_diagnostics(&uri);
        let mut last = Vec::new();
        for (end, _) in text.char_indices().skip(1).chain([(text.len(), ' ')]) {
            client.change(&uri, &text[..end]);
            let d = client.current_diagnostics(&uri);
            assert!(
                d.iter().all(|d| code(d) != "internal-error"),
                "{}: failed after {end} bytes: {d:?}",
                path.display()
            );
            states += 1;
            last = d;
        }
        // The whole file gets what `check` reports on it: with the settings `check` finds
        // for it (its lint.toml, its build context).
        let file = SourceFile::new(path.clone(), text.clone());
        let settings = Resolver::new(None, false, Overrides::default())
            .settings_for(&path)
            .expect("settings");
        let engine = if path.ends_with(".dockerignore") {
            docklint::lint_dockerignore(&file, &settings)
        } else {
            docklint::lint(&file, &settings)
        };
        let engine: Vec<&str> = engine.iter().map(|d| d.rule).collect();
        assert_eq!(codes(&last), engine, "{}", path.display());
    }
    assert!(states > 3000, "{states} keystrokes");
    client.shutdown();
}

#[test]
fn pathological_documents_are_linted_in_bounded_time() {
    let mut client = Client::start();
    let dir = TempDir::new("lsp-pathological");
    let uri = client.open(&dir.path().join("Dockerfile"), "");
    client.current_diagnostics(&uri);
    let cases = [
        format!("FROM alpine\nRUN echo {}\n", "a".repeat(1 << 20)),
        format!("FROM alpine\nRUN {}true\n", "echo \\\n".repeat(20_000)),
        format!("FROM alpine\nRUN {}\n", "$(".repeat(5_000)),
        format!("FROM alpine\nRUN {}\n", "\"".repeat(100_001)),
        "FROM alpine\nRUN <<EOF\n".repeat(2_000),
        format!(
            "FROM alpine\n{}",
            "RUN apt-get update && apt-get install -y curl\n".repeat(5_000)
        ),
        "\\\n".repeat(50_000),
        "x".repeat(docklint::lsp::document::MAX_LINTED_BYTES + 1),
    ];
    for text in &cases {
        let started = cpu_time();
        client.change(&uri, text);
        let d = client.current_diagnostics(&uri);
        let took = cpu_time() - started;
        assert!(d.iter().all(|d| code(d) != "internal-error"));
        // CPU time, so that a busy machine does not fail the test; generous for a debug
        // build (the release build is ~20x faster).
        println!("{took:?} for {:?}...", &text[..20.min(text.len())]);
        assert!(
            took < Duration::from_secs(10),
            "{took:?} for {:?}...",
            &text[..40.min(text.len())]
        );
    }
    client.shutdown();
}

/// CPU time of this process so far, all threads (`CLOCK_PROCESS_CPUTIME_ID`).
fn cpu_time() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}
