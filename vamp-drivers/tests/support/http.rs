//! The HTTP/1.1 plumbing shared by the in-repo API test doubles: a server
//! thread on 127.0.0.1 answering each request with a handler over the
//! double's state, requests read with their body (content-length or
//! chunked), queries and label selectors.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// What a double answers: status, extra header lines (each ending in
/// `\r\n`) and the JSON body.
pub type Reply = (u16, String, serde_json::Value);

/// One recorded request and the status it got.
#[derive(Debug, Clone)]
pub struct Request {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Parsed JSON body (Null if none).
    pub body: serde_json::Value,
    /// Status answered.
    pub status: u16,
}

/// The state of a double: it answers requests and keeps their record.
pub trait Api: Send + 'static {
    /// The answer to one request.
    fn answer(&mut self, request: &Incoming) -> Reply;
    /// The record of every request so far.
    fn log(&mut self) -> &mut Vec<Request>;
}

/// Serves `state` on a free port of 127.0.0.1, one thread per connection,
/// each request answered and recorded under the state's lock. The listener
/// thread stays parked on accept when the double is dropped; tests are
/// short-lived processes.
pub fn serve<S: Api>(state: Arc<Mutex<S>>) -> SocketAddr {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let state = Arc::clone(&state);
            std::thread::spawn(move || connection(conn, &state));
        }
    });
    addr
}

fn connection<S: Api>(conn: TcpStream, state: &Mutex<S>) {
    let _ = conn.set_nodelay(true);
    let Ok(read) = conn.try_clone() else { return };
    let mut reader = BufReader::new(read);
    let mut out = conn;
    while let Some(request) = read_request(&mut reader) {
        let (code, headers, answer) = {
            let mut st = state.lock().expect("state lock");
            let reply = st.answer(&request);
            st.log().push(Request {
                body: serde_json::from_slice(&request.body).unwrap_or_default(),
                method: request.method,
                target: request.target,
                status: reply.0,
            });
            reply
        };
        if !write_json(&mut out, code, &headers, &answer) {
            return;
        }
    }
}

/// `k=v&...` of a query string, percent-decoded, in order.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|q| !q.is_empty())
        .map(|q| {
            let (k, v) = q.split_once('=').unwrap_or((q, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 3 <= b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether the labels `get` reads match a selector of comma-separated
/// terms `k!=v`, `k<op>v` (an operator of `equals`, tried in order) or `k`
/// (present).
pub fn selector_matches<'a>(
    selector: &str,
    equals: &[&str],
    get: impl Fn(&str) -> Option<&'a str>,
) -> bool {
    selector
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .all(|term| {
            if let Some((k, v)) = term.split_once("!=") {
                return get(k.trim()) != Some(v.trim());
            }
            match equals.iter().find_map(|op| term.split_once(op)) {
                Some((k, v)) => get(k.trim()) == Some(v.trim()),
                None => get(term).is_some(),
            }
        })
}

/// One request as the doubles see it.
pub struct Incoming {
    pub method: String,
    pub target: String,
    pub body: Vec<u8>,
}

/// Reads the next request on a keep-alive connection; `None` when the
/// client is gone.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Incoming> {
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let mut length = 0usize;
    let mut chunked = false;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            if k == "content-length" {
                length = v.trim().parse().unwrap_or(0);
            } else if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
                chunked = true;
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).unwrap_or(0);
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some(Incoming {
        method,
        target,
        body,
    })
}

/// Writes a JSON answer with extra header lines (each ending in `\r\n`).
/// One write: a head and a body in two segments would meet Nagle's algorithm
/// and the client's delayed ACK (40 ms a request).
fn write_json(
    out: &mut TcpStream,
    code: u16,
    extra_headers: &str,
    answer: &serde_json::Value,
) -> bool {
    let text = answer.to_string();
    let head = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: application/json\r\n{extra_headers}Content-Length: {}\r\n\r\n",
        reason_phrase(code),
        text.len()
    );
    out.write_all((head + &text).as_bytes()).is_ok()
}

fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
