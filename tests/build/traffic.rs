//! A counting HTTP proxy: what a build downloads, measured where it leaves the build.
//!
//! Builds given `http_proxy`/`https_proxy` (buildah passes them on to every RUN; npm, pip and
//! apt honour them) reach the network through it. It tunnels `CONNECT host:port` (TLS stays
//! end to end) and plain requests in absolute form (`GET http://host/path`, as apt sends
//! them) to the host of the connection's first request, and counts the bytes each way per
//! connection. A client that sends requests for several hosts on one connection is not
//! served right; npm, pip and apt here use one host per connection.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One connection through the proxy.
#[derive(Debug, Clone)]
pub struct Connection {
    /// `registry.npmjs.org:443`.
    pub target: String,
    /// Bytes from the client to the target.
    pub sent: u64,
    /// Bytes from the target to the client.
    pub received: u64,
}

#[derive(Clone, Default)]
pub struct Counts(Arc<Mutex<Vec<Arc<Mutex<Connection>>>>>);

impl Counts {
    /// The connections so far.
    pub fn snapshot(&self) -> Vec<Connection> {
        self.0
            .lock()
            .expect("proxy counts")
            .iter()
            .map(|c| c.lock().expect("connection count").clone())
            .collect()
    }
}

pub struct Proxy {
    pub url: String,
    pub counts: Counts,
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 for as long as the test process lives.
    pub fn start() -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let counts = Counts::default();
        let shared = counts.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let counts = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(client, &counts);
                });
            }
        });
        Ok(Proxy { url, counts })
    }

    /// The proxy settings for a build's environment.
    pub fn env(&self) -> Vec<(String, String)> {
        ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"]
            .iter()
            .map(|name| (name.to_string(), self.url.clone()))
            .collect()
    }
}

/// Reads the request head (up to the empty line), at most 64 KiB.
fn read_head(client: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte)? == 0 || head.len() > 65536 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    Ok(head)
}

fn serve(mut client: TcpStream, counts: &Counts) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(60)))?;
    let head = read_head(&mut client)?;
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut words = text.split_whitespace();
    let method = words.next().unwrap_or("");
    let uri = words.next().unwrap_or("");
    let target = if method == "CONNECT" {
        uri.to_string()
    } else {
        let rest = uri.strip_prefix("http://").unwrap_or(uri);
        let authority = rest.split('/').next().unwrap_or(rest);
        if authority.contains(':') {
            authority.to_string()
        } else {
            format!("{authority}:80")
        }
    };
    let connection = Arc::new(Mutex::new(Connection {
        target: target.clone(),
        sent: 0,
        received: 0,
    }));
    counts
        .0
        .lock()
        .expect("proxy counts")
        .push(connection.clone());
    let mut upstream = match TcpStream::connect(&target) {
        Ok(upstream) => upstream,
        Err(e) => {
            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
            return Err(e);
        }
    };
    if method == "CONNECT" {
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    } else {
        upstream.write_all(&head)?;
        connection.lock().expect("connection count").sent += head.len() as u64;
    }
    client.set_read_timeout(None)?;
    let (mut client_in, mut upstream_out) = (client.try_clone()?, upstream.try_clone()?);
    let up = connection.clone();
    let forward = std::thread::spawn(move || {
        copy_counting(&mut client_in, &mut upstream_out, |n| {
            up.lock().expect("connection count").sent += n
        })
    });
    copy_counting(&mut upstream, &mut client, |n| {
        connection.lock().expect("connection count").received += n
    });
    let _ = forward.join();
    Ok(())
}

/// Copies until either side ends, then closes the writing side.
fn copy_counting(from: &mut TcpStream, to: &mut TcpStream, mut count: impl FnMut(u64)) {
    let mut buffer = [0u8; 16384];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
                count(n as u64);
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that reads until `end`, answers `reply` and closes; its address, and what
    /// it read.
    fn server(end: &'static [u8], reply: &'static [u8]) -> (String, Arc<Mutex<Vec<u8>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let read = Arc::new(Mutex::new(Vec::new()));
        let seen = read.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut byte = [0u8; 1];
                let mut request = Vec::new();
                while !request.ends_with(end) && stream.read(&mut byte).unwrap_or(0) == 1 {
                    request.push(byte[0]);
                }
                *seen.lock().expect("server log") = request;
                let _ = stream.write_all(reply);
            }
        });
        (address, read)
    }

    fn through(proxy: &Proxy, request: &str) -> (TcpStream, String) {
        let mut client =
            TcpStream::connect(proxy.url.trim_start_matches("http://")).expect("connect");
        client.write_all(request.as_bytes()).expect("write");
        (client, request.to_string())
    }

    /// Whether the proxy counts, within 3 s, one connection to `target` with these bytes
    /// sent and received (each direction is counted by its own thread).
    fn counted(counts: &Counts, target: &str, sent: u64, received: u64) -> bool {
        (0..300).any(|_| {
            let found = counts
                .snapshot()
                .iter()
                .any(|c| c.target == target && (c.sent, c.received) == (sent, received));
            if !found {
                std::thread::sleep(Duration::from_millis(10));
            }
            found
        })
    }

    #[test]
    fn connect_tunnels_and_counts_both_ways() {
        let (target, read) = server(b"hello", b"world!");
        let proxy = Proxy::start().expect("proxy");
        let (mut client, _) = through(&proxy, &format!("CONNECT {target} HTTP/1.1\r\n\r\n"));
        let established = b"HTTP/1.1 200 Connection established\r\n\r\n";
        let mut answer = vec![0u8; established.len()];
        client.read_exact(&mut answer).expect("proxy answer");
        assert_eq!(answer, established);
        client.write_all(b"hello").expect("write");
        let mut reply = String::new();
        client.read_to_string(&mut reply).expect("read");
        assert_eq!(reply, "world!");
        assert_eq!(read.lock().expect("server log").as_slice(), b"hello");
        assert!(
            counted(&proxy.counts, &target, 5, 6),
            "{:?}",
            proxy.counts.snapshot()
        );
    }

    #[test]
    fn absolute_form_requests_go_to_their_host_as_sent() {
        let (target, read) = server(b"\r\n\r\n", b"HTTP/1.1 204 No Content\r\n\r\n");
        let proxy = Proxy::start().expect("proxy");
        let (mut client, request) = through(
            &proxy,
            &format!("GET http://{target}/dists/x HTTP/1.1\r\n\r\n"),
        );
        let mut reply = String::new();
        client.read_to_string(&mut reply).expect("read");
        assert_eq!(reply, "HTTP/1.1 204 No Content\r\n\r\n");
        assert_eq!(
            read.lock().expect("server log").as_slice(),
            request.as_bytes()
        );
        assert!(
            counted(
                &proxy.counts,
                &target,
                request.len() as u64,
                reply.len() as u64
            ),
            "{:?}",
            proxy.counts.snapshot()
        );
    }

    #[test]
    fn an_unreachable_target_is_a_bad_gateway() {
        let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
        let target = closed.local_addr().expect("address").to_string();
        drop(closed);
        let proxy = Proxy::start().expect("proxy");
        let (mut client, _) = through(&proxy, &format!("CONNECT {target} HTTP/1.1\r\n\r\n"));
        let mut reply = String::new();
        client.read_to_string(&mut reply).expect("read");
        assert!(reply.starts_with("HTTP/1.1 502"), "{reply:?}");
    }
}
