//! `docklint lsp`: a language server on standard input and output.
//!
//! One synchronous loop (linting a Dockerfile takes well under a millisecond): open and
//! changed documents are linted with the settings their `lint.toml` gives, as `check` would,
//! and their diagnostics published; code actions offer each diagnostic's fix, a suppression
//! comment, and every safe fix at once; hover shows the rule's documentation. Messages that
//! are already queued are read before anything is linted, so a burst of keystrokes costs
//! one lint.

pub mod actions;
pub mod convert;
pub mod document;

use std::collections::{BTreeSet, HashMap};
use std::error::Error;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument,
    DidSaveTextDocument, Notification as _, PublishDiagnostics,
};
use lsp_types::request::{CodeActionRequest, HoverRequest, RegisterCapability, Request as _};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability,
    DidChangeTextDocumentParams, DidChangeWatchedFilesParams,
    DidChangeWatchedFilesRegistrationOptions, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DidSaveTextDocumentParams, FileSystemWatcher, GlobPattern,
    HoverParams, HoverProviderCapability, InitializeParams, PublishDiagnosticsParams, Registration,
    RegistrationParams, SaveOptions, ServerCapabilities, ServerInfo, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Uri,
};

use crate::config::{Overrides, Resolver, Settings, CONFIG_FILE_NAME};
use document::Document;

pub type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// Serves on standard input and output until the client says `exit`.
pub fn run_stdio() -> Result<()> {
    let (connection, io_threads) = Connection::stdio();
    serve(&connection)?;
    drop(connection);
    io_threads.join()?;
    Ok(())
}

/// Serves one client on `connection`: the handshake, then requests and notifications
/// until `shutdown` and `exit` (or until the client hangs up).
pub fn serve(connection: &Connection) -> Result<()> {
    let capabilities = serde_json::to_value(capabilities())?;
    let (id, params) = connection.initialize_start()?;
    let params: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    connection.initialize_finish(
        id,
        serde_json::json!({
            "capabilities": capabilities,
            "serverInfo": ServerInfo {
                name: "docklint".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            },
        }),
    )?;
    let watching = watches_files(&params);
    let mut server = Server::new(connection, watching);
    if watching {
        server.watch_configuration()?;
    }
    server.run()
}

pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..Default::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![
                CodeActionKind::QUICKFIX,
                CodeActionKind::from(actions::FIX_ALL),
            ]),
            ..Default::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        ..Default::default()
    }
}

/// Whether the client can be asked to report changes of `lint.toml` files.
fn watches_files(params: &InitializeParams) -> bool {
    params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|w| w.dynamic_registration)
        .unwrap_or(false)
}

struct Server<'c> {
    connection: &'c Connection,
    documents: HashMap<Uri, Document>,
    /// Finds each document's `lint.toml` like `check` does; remembers what it found until a
    /// configuration file changes.
    resolver: Resolver,
    /// Documents changed since their diagnostics were last published.
    dirty: BTreeSet<Uri>,
    /// Whether the client reports `lint.toml` changes; when it does not, configuration is
    /// read again whenever a document is saved.
    watching: bool,
}

enum Flow {
    Continue,
    Exit,
}

impl<'c> Server<'c> {
    fn new(connection: &'c Connection, watching: bool) -> Server<'c> {
        Server {
            connection,
            documents: HashMap::new(),
            resolver: fresh_resolver(),
            dirty: BTreeSet::new(),
            watching,
        }
    }

    fn run(&mut self) -> Result<()> {
        while let Ok(message) = self.connection.receiver.recv() {
            if let Flow::Exit = self.handle(message)? {
                return Ok(());
            }
            while let Ok(message) = self.connection.receiver.try_recv() {
                if let Flow::Exit = self.handle(message)? {
                    return Ok(());
                }
            }
            self.publish_dirty()?;
        }
        Ok(())
    }

    fn handle(&mut self, message: Message) -> Result<Flow> {
        match message {
            Message::Request(request) => {
                if self.connection.handle_shutdown(&request)? {
                    return Ok(Flow::Exit);
                }
                self.request(request)?;
            }
            Message::Notification(notification) if notification.method == "exit" => {
                return Ok(Flow::Exit);
            }
            Message::Notification(notification) => self.notification(notification),
            // Answers to our registration request: nothing to do either way.
            Message::Response(_) => {}
        }
        Ok(Flow::Continue)
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) = n.extract::<DidOpenTextDocumentParams>(DidOpenTextDocument::METHOD) {
                    let d = p.text_document;
                    let path = convert::path_of(&d.uri);
                    self.documents
                        .insert(d.uri.clone(), Document::new(path, d.version, d.text));
                    self.dirty.insert(d.uri);
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) =
                    n.extract::<DidChangeTextDocumentParams>(DidChangeTextDocument::METHOD)
                {
                    let uri = p.text_document.uri;
                    // Full sync: the last change holds the whole text.
                    if let (Some(doc), Some(change)) = (
                        self.documents.get_mut(&uri),
                        p.content_changes.into_iter().last(),
                    ) {
                        doc.set_text(p.text_document.version, change.text);
                        self.dirty.insert(uri);
                    }
                }
            }
            DidSaveTextDocument::METHOD => {
                if let Ok(p) = n.extract::<DidSaveTextDocumentParams>(DidSaveTextDocument::METHOD) {
                    let saved = convert::path_of(&p.text_document.uri);
                    if !self.watching || saved.is_some_and(|p| p.ends_with(CONFIG_FILE_NAME)) {
                        self.resolver = fresh_resolver();
                    }
                    // What rules read on disk (a `.dockerignore`, the build context) may
                    // have changed with the saved file, for every open document.
                    self.relint_all();
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) = n.extract::<DidCloseTextDocumentParams>(DidCloseTextDocument::METHOD)
                {
                    let uri = p.text_document.uri;
                    self.documents.remove(&uri);
                    self.dirty.remove(&uri);
                    // A closed document keeps no diagnostics in the editor.
                    self.send_diagnostics(uri, Vec::new(), None);
                }
            }
            DidChangeWatchedFiles::METHOD => {
                if let Ok(p) =
                    n.extract::<DidChangeWatchedFilesParams>(DidChangeWatchedFiles::METHOD)
                {
                    let config_changed = p.changes.iter().any(|c| {
                        convert::path_of(&c.uri).is_some_and(|p| p.ends_with(CONFIG_FILE_NAME))
                    });
                    if config_changed {
                        self.configuration_changed();
                    }
                }
            }
            _ => {}
        }
    }

    fn request(&mut self, request: Request) -> Result<()> {
        let id = request.id.clone();
        let response = match request.method.as_str() {
            CodeActionRequest::METHOD => {
                match request.extract::<CodeActionParams>(CodeActionRequest::METHOD) {
                    Ok((_, p)) => {
                        let uri = p.text_document.uri;
                        let settings = self.current(&uri)?;
                        let actions = self.documents.get(&uri).map(|doc| {
                            actions::code_actions(
                                &uri,
                                doc,
                                settings.as_ref(),
                                p.range,
                                p.context.only.as_deref(),
                            )
                        });
                        ok(id, actions)
                    }
                    Err(e) => invalid(id, e),
                }
            }
            HoverRequest::METHOD => match request.extract::<HoverParams>(HoverRequest::METHOD) {
                Ok((_, p)) => {
                    let at = p.text_document_position_params;
                    self.current(&at.text_document.uri)?;
                    let hover = self
                        .documents
                        .get(&at.text_document.uri)
                        .and_then(|doc| actions::hover(doc, at.position));
                    ok(id, hover)
                }
                Err(e) => invalid(id, e),
            },
            _ => Response::new_err(
                id,
                ErrorCode::MethodNotFound as i32,
                format!("docklint does not answer {}", request.method),
            ),
        };
        self.connection.sender.send(response.into())?;
        Ok(())
    }

    /// Lints the document if its text changed since, publishing the result, so that an
    /// answer is about the text the client has; gives its settings.
    fn current(&mut self, uri: &Uri) -> Result<Option<Settings>> {
        let Some(doc) = self.documents.get(uri) else {
            return Ok(None);
        };
        let settings = self.resolver.settings_for(&doc.file.path).ok();
        if self.dirty.remove(uri) || doc.linted.is_none() {
            self.lint_and_publish(uri.clone())?;
        }
        Ok(settings)
    }

    fn publish_dirty(&mut self) -> Result<()> {
        for uri in std::mem::take(&mut self.dirty) {
            self.lint_and_publish(uri)?;
        }
        Ok(())
    }

    fn lint_and_publish(&mut self, uri: Uri) -> Result<()> {
        let Some(doc) = self.documents.get_mut(&uri) else {
            return Ok(());
        };
        let settings = self.resolver.settings_for(&doc.file.path);
        doc.lint(settings);
        let (diagnostics, version) = (doc.diagnostics(), doc.version);
        self.send_diagnostics(uri, diagnostics, Some(version));
        Ok(())
    }

    fn send_diagnostics(
        &self,
        uri: Uri,
        diagnostics: Vec<lsp_types::Diagnostic>,
        version: Option<i32>,
    ) {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        let notification = Notification::new(PublishDiagnostics::METHOD.into(), params);
        // A client that hung up ends the loop at the next receive.
        let _ = self.connection.sender.send(notification.into());
    }

    /// A `lint.toml` changed: every document is linted again with what is on disk now.
    fn configuration_changed(&mut self) {
        self.resolver = fresh_resolver();
        self.relint_all();
    }

    fn relint_all(&mut self) {
        for (uri, doc) in &mut self.documents {
            doc.linted = None;
            self.dirty.insert(uri.clone());
        }
    }

    /// Asks the client to report changes of `lint.toml` files.
    fn watch_configuration(&self) -> Result<()> {
        let options = DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![FileSystemWatcher {
                glob_pattern: GlobPattern::String(format!("**/{CONFIG_FILE_NAME}")),
                kind: None,
            }],
        };
        let params = RegistrationParams {
            registrations: vec![Registration {
                id: "docklint-lint-toml".into(),
                method: DidChangeWatchedFiles::METHOD.into(),
                register_options: Some(serde_json::to_value(options)?),
            }],
        };
        let request = Request::new(
            RequestId::from("docklint-watch".to_string()),
            RegisterCapability::METHOD.into(),
            params,
        );
        self.connection.sender.send(request.into())?;
        Ok(())
    }
}

fn fresh_resolver() -> Resolver {
    Resolver::new(None, false, Overrides::default())
}

fn ok(id: RequestId, result: impl serde::Serialize) -> Response {
    Response::new_ok(id, result)
}

fn invalid(id: RequestId, e: impl std::fmt::Display) -> Response {
    Response::new_err(id, ErrorCode::InvalidParams as i32, e.to_string())
}
