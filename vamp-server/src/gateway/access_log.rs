//! The access log: HAProxy sends one JSON line per request (per
//! connection for TCP) as a syslog datagram in `raw` format to a loopback
//! UDP socket the agent owns, whose receive buffer holds thousands of lines;
//! nothing is written to disk. Every line read is parsed and broadcast to
//! subscribers (the SLA loop); counters say how many were read, how many
//! were not JSON and how many the kernel dropped.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use tokio::net::UdpSocket;
use tokio::sync::{broadcast, watch};

/// The receive buffer asked for (the kernel caps it at `net.core.rmem_max`).
const RECEIVE_BUFFER: usize = 8 << 20;

/// Datagrams read per wakeup at most.
const BATCH: usize = 1024;

/// One access-log line, parsed.
pub type Line = Arc<Value>;

/// The access-log reader: counters and the subscription point.
#[derive(Debug)]
pub struct AccessLog {
    tx: broadcast::Sender<Line>,
    read: AtomicU64,
    malformed: AtomicU64,
    notices: AtomicU64,
}

impl AccessLog {
    /// A reader whose subscribers may fall `capacity` lines behind.
    pub fn new(capacity: usize) -> Arc<AccessLog> {
        let (tx, _) = broadcast::channel(capacity);
        Arc::new(AccessLog {
            tx,
            read: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
            notices: AtomicU64::new(0),
        })
    }

    /// Every line read from now on. A subscriber that falls more than the
    /// capacity behind loses the oldest lines (and is told so by
    /// `RecvError::Lagged`); the reader itself never waits for it.
    pub fn subscribe(&self) -> broadcast::Receiver<Line> {
        self.tx.subscribe()
    }

    /// Lines read so far.
    pub fn lines_read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    /// Lines that start like a JSON object but are not one.
    pub fn malformed(&self) -> u64 {
        self.malformed.load(Ordering::Relaxed)
    }

    /// HAProxy's own messages (proxies started, servers up or down): lines
    /// that are not JSON at all, counted apart from the access log.
    pub fn notices(&self) -> u64 {
        self.notices.load(Ordering::Relaxed)
    }

    /// The counters, for `/info`.
    pub fn info(&self) -> Value {
        json!({"lines_read": self.lines_read(), "malformed": self.malformed(), "notices": self.notices()})
    }

    fn accept(&self, datagram: &[u8]) {
        let text = datagram.strip_suffix(b"\n").unwrap_or(datagram);
        if !text.starts_with(b"{") {
            self.notices.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.read.fetch_add(1, Ordering::Relaxed);
        let whole = if self.tx.receiver_count() == 0 {
            // Nobody reads the values: check the line without building one.
            serde_json::from_slice::<serde::de::IgnoredAny>(text).is_ok()
        } else {
            match serde_json::from_slice::<Value>(text) {
                Ok(v @ Value::Object(_)) => {
                    // A subscriber gone meanwhile is not an error.
                    let _ = self.tx.send(Arc::new(v));
                    true
                }
                _ => false,
            }
        };
        if !whole {
            self.malformed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Binds the log socket on `127.0.0.1`, an ephemeral port.
///
/// # Errors
/// When the socket cannot be made.
pub(crate) fn bind() -> std::io::Result<UdpSocket> {
    let socket = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    socket.set_recv_buffer_size(RECEIVE_BUFFER)?;
    socket.set_nonblocking(true)?;
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    UdpSocket::from_std(socket.into())
}

/// Reads datagrams into `log` until `stop` turns true: once the socket is
/// readable, the datagrams queued are read in batches of [`BATCH`] before
/// waiting again (one wakeup per burst, not per line).
pub(crate) async fn read(socket: UdpSocket, log: Arc<AccessLog>, mut stop: watch::Receiver<bool>) {
    let mut buf = vec![0u8; 65536];
    loop {
        tokio::select! {
            r = socket.readable() => {
                if r.is_err() {
                    tokio::task::yield_now().await;
                }
            }
            _ = stop.changed() => return,
        }
        // At most a batch between two looks at `stop` (and at other tasks).
        for _ in 0..BATCH {
            match socket.try_recv(&mut buf) {
                Ok(n) => log.accept(&buf[..n]),
                Err(_) => break,
            }
        }
        if *stop.borrow() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_parsed_and_broadcast() {
        let log = AccessLog::new(8);
        let mut rx = log.subscribe();
        log.accept(b"{\"b\":\"x\",\"ST\":200}\n");
        log.accept(b"Proxy web started.");
        log.accept(b"{\"b\": trunc");
        assert_eq!(log.lines_read(), 2);
        assert_eq!(log.malformed(), 1);
        // Without a subscriber, lines are checked all the same.
        let quiet = AccessLog::new(8);
        quiet.accept(b"{\"b\":\"x\"}\n");
        quiet.accept(b"{\"b\": trunc");
        assert_eq!((quiet.lines_read(), quiet.malformed()), (2, 1));
        assert_eq!(log.notices(), 1);
        assert_eq!(rx.try_recv().unwrap()["ST"], 200);
        assert!(rx.try_recv().is_err());
    }
}
