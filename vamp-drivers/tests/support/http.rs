//! The HTTP/1.1 plumbing shared by the in-repo API test doubles: read one
//! request (content-length or chunked body) and write one JSON answer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// One request as the doubles see it.
pub struct Incoming {
    pub method: String,
    pub target: String,
    pub body: Vec<u8>,
}

/// Reads the next request on a keep-alive connection; `None` when the
/// client is gone.
pub fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Incoming> {
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
pub fn write_json(
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
