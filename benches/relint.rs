//! How long the language server takes to answer an edit of a 1,000-line Dockerfile: the
//! time from sending `didChange` to receiving its `publishDiagnostics`, through the server
//! loop as an editor drives it (in-process, so without the pipe). The target is under 5 ms
//! of the server thread's CPU per edit (its own clock: neither the client's decoding of the
//! diagnostics nor waiting for a core on a busy machine is in it), plus the time the stdio
//! transport takes to write the notification as JSON text; the run fails above it. The
//! wall clock, which includes the client, is printed too.
//!
//!     cargo bench --bench relint

use std::path::Path;
use std::time::{Duration, Instant};

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use lsp_types::notification::{
    DidChangeTextDocument, DidOpenTextDocument, Exit, Initialized, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{Initialize, Request as _, Shutdown};
use lsp_types::{
    DidChangeTextDocumentParams, DidOpenTextDocumentParams, InitializeParams, InitializedParams,
    PublishDiagnosticsParams, TextDocumentContentChangeEvent, TextDocumentItem,
    VersionedTextDocumentIdentifier,
};

// The allocator of the `docklint` binary, whose `lsp` subcommand this measures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LINES: usize = 1_000;
const EDITS: usize = 300;
const TARGET: Duration = Duration::from_millis(5);

fn main() {
    let text = thousand_lines();
    let lines = text.lines().count();
    let (server_side, client) = Connection::memory();
    let server = std::thread::spawn(move || docklint::lsp::serve(&server_side).unwrap());
    let server_clock = thread_clock(&server);
    send(
        &client,
        Request::new(
            RequestId::from(1),
            Initialize::METHOD.into(),
            InitializeParams::default(),
        ),
    );
    receive(&client, |m| matches!(m, Message::Response(_)));
    notify(&client, Initialized::METHOD, InitializedParams {});

    let dir = std::env::temp_dir().join(format!("docklint-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let uri = docklint::lsp::convert::uri_of(&dir.join("Dockerfile")).unwrap();
    notify(
        &client,
        DidOpenTextDocument::METHOD,
        DidOpenTextDocumentParams {
            text_document: TextDocumentItem::new(uri.clone(), "dockerfile".into(), 0, text.clone()),
        },
    );
    let first = published(&client);

    // Each edit types one character into a RUN line in the middle, as a user would.
    let middle = text.len() / 2;
    let at = middle + text[middle..].find("RUN ").unwrap() + 4;
    let mut times = Vec::with_capacity(EDITS);
    let mut cpu_times = Vec::with_capacity(EDITS);
    let mut found = 0;
    let mut last = None;
    for version in 1..=EDITS as i32 {
        let mut edited = text.clone();
        edited.insert(at, if version % 2 == 0 { 'x' } else { 'y' });
        let started = Instant::now();
        let cpu_started = cpu_time(server_clock);
        notify(
            &client,
            DidChangeTextDocument::METHOD,
            DidChangeTextDocumentParams {
                text_document: VersionedTextDocumentIdentifier::new(uri.clone(), version),
                content_changes: vec![TextDocumentContentChangeEvent {
                    range: None,
                    range_length: None,
                    text: edited,
                }],
            },
        );
        let p = published(&client);
        times.push(started.elapsed());
        cpu_times.push(cpu_time(server_clock) - cpu_started);
        assert_eq!(p.version, Some(version));
        found = p.diagnostics.len();
        last = Some(p);
    }
    // Over stdio the server also writes the notification as JSON text, which the
    // in-memory connection skips: timed here on the last one, and added to the figure.
    let wire = Message::Notification(Notification::new(
        PublishDiagnostics::METHOD.into(),
        last.expect("an edit was published"),
    ));
    let mut writes: Vec<Duration> = (0..50)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(serde_json::to_string(&wire).unwrap());
            started.elapsed()
        })
        .collect();
    writes.sort();
    let write = writes[writes.len() / 2];
    send(
        &client,
        Request::new(RequestId::from(2), Shutdown::METHOD.into(), ()),
    );
    receive(&client, |m| matches!(m, Message::Response(_)));
    notify(&client, Exit::METHOD, ());
    server.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    times.sort();
    cpu_times.sort();
    let median = times[times.len() / 2];
    let p95 = times[times.len() * 95 / 100];
    let cpu = cpu_times[cpu_times.len() / 2] + write;
    let cpu_p95 = cpu_times[cpu_times.len() * 95 / 100] + write;
    println!(
        "re-lint after an edit, {lines}-line Dockerfile ({} diagnostics at open, {found} after), \
         {EDITS} edits: server CPU median {cpu:.2?}, p95 {cpu_p95:.2?} (of which {write:.2?} \
         writes the notification as JSON text); wall clock median {median:.2?}, p95 {p95:.2?} \
         (target < {TARGET:?} of server CPU; the wall clock includes the client's decoding \
         and waiting for a core, not the writing)",
        first.diagnostics.len()
    );
    if cpu >= TARGET {
        eprintln!("re-lint takes {cpu:.2?} of CPU per edit: over the {TARGET:?} target");
        std::process::exit(1);
    }
}

/// The `examples/` Dockerfiles one after another (their stages renamed apart) until the
/// text has 1,000 lines: real instructions, many stages, RUNs of every package manager
/// the examples use.
fn thousand_lines() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut sources: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path().join("Dockerfile")).ok())
        .collect();
    sources.sort();
    assert!(!sources.is_empty());
    let stage_name = regex::Regex::new(r"(?i)^(FROM\s.*\sAS\s+[\w.-]+)").unwrap();
    let from_stage = regex::Regex::new(r"(--from=[\w.-]+)").unwrap();
    let mut text = String::new();
    let mut round = 0;
    'fill: loop {
        for source in &sources {
            for line in source.lines() {
                if text.lines().count() >= LINES {
                    break 'fill;
                }
                // `FROM x AS build` becomes `FROM x AS build-r7`, and `--from=build` follows.
                let suffix = format!("${{1}}-r{round}");
                let line = stage_name.replace_all(line, suffix.as_str());
                let line = from_stage.replace_all(&line, suffix.as_str());
                text.push_str(&line);
                text.push('\n');
            }
            round += 1;
        }
    }
    text
}

fn send(client: &Connection, message: impl Into<Message>) {
    client.sender.send(message.into()).unwrap();
}

fn notify(client: &Connection, method: &str, params: impl serde::Serialize) {
    send(client, Notification::new(method.into(), params));
}

fn receive(client: &Connection, wanted: impl Fn(&Message) -> bool) -> Message {
    loop {
        let m = client
            .receiver
            .recv_timeout(Duration::from_secs(30))
            .expect("the server answers");
        if wanted(&m) {
            return m;
        }
    }
}

fn published(client: &Connection) -> PublishDiagnosticsParams {
    let m = receive(
        client,
        |m| matches!(m, Message::Notification(n) if n.method == PublishDiagnostics::METHOD),
    );
    let Message::Notification(n) = m else {
        unreachable!()
    };
    serde_json::from_value(n.params).unwrap()
}

/// The CPU clock of the server's thread.
fn thread_clock<T>(thread: &std::thread::JoinHandle<T>) -> libc::clockid_t {
    use std::os::unix::thread::JoinHandleExt;
    let mut clock: libc::clockid_t = 0;
    // SAFETY: the thread is running (joined only at the end) and `clock` is valid to fill.
    let status = unsafe { libc::pthread_getcpuclockid(thread.as_pthread_t(), &mut clock) };
    assert_eq!(status, 0, "the server thread has a CPU clock");
    clock
}

/// CPU time of the thread whose clock this is, so far: time spent waiting for a core on a
/// busy machine is not in it.
fn cpu_time(clock: libc::clockid_t) -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(clock, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}
