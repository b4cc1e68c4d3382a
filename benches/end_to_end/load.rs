//! The load generator: many connections to one server, driven from a single thread with
//! `poll(2)` (like redis-benchmark, so the client costs the 2-core machine as little as it can),
//! each sending its commands in a closed loop, with optional pipelining. Commands are
//! pre-encoded, so payloads of any size and any bytes go out as they are (redis-benchmark takes
//! its arguments from the command line, which cannot carry 1 MB or NUL bytes).

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One RESP command, encoded once and shared by every connection that sends it.
pub type Encoded = Arc<[u8]>;

/// Encodes a command as a RESP array of bulk strings.
pub fn encode(args: &[&[u8]]) -> Encoded {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out.into()
}

/// What one connection does in a loop.
#[derive(Clone)]
pub enum Script {
    /// The same command, `pipeline` copies sent at once; each reply is one operation, timed from
    /// the moment its batch was sent (as redis-benchmark's `-P`).
    Repeat { command: Encoded, pipeline: usize },
    /// Commands sent one after the other, each after the previous reply; the whole sequence is
    /// one operation.
    Sequence(Vec<Encoded>),
}

/// The outcome of one measured run.
#[derive(Debug, Clone)]
pub struct Measured {
    pub ops_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub ops: usize,
}

/// Counts complete RESP2 replies in a byte stream, element by element, so a reply of any size is
/// scanned once however it arrives.
#[derive(Default)]
struct Scanner {
    /// Elements still expected by each open array, innermost last.
    open: Vec<u64>,
    /// The first error reply seen.
    error: Option<String>,
}

impl Scanner {
    /// Consumes the complete elements at the start of `buf`: (bytes consumed, replies ended).
    fn scan(&mut self, buf: &[u8]) -> (usize, usize) {
        let (mut pos, mut replies) = (0, 0);
        while let Some(line_len) = buf[pos..].windows(2).position(|w| w == b"\r\n") {
            let line = &buf[pos + 1..pos + line_len];
            let mut end = pos + line_len + 2;
            let mut children = 0;
            match buf[pos] {
                b'$' => {
                    let len = number(line);
                    if len >= 0 {
                        end += len as usize + 2;
                        if end > buf.len() {
                            break;
                        }
                    }
                }
                b'*' => children = number(line).max(0) as u64,
                b'-' if self.error.is_none() => {
                    self.error = Some(String::from_utf8_lossy(line).into_owned())
                }
                _ => {}
            }
            pos = end;
            if children > 0 {
                self.open.push(children);
                continue;
            }
            // An element ended: so may the arrays around it, and then a whole reply.
            loop {
                match self.open.last_mut() {
                    None => {
                        replies += 1;
                        break;
                    }
                    Some(left) => {
                        *left -= 1;
                        if *left > 0 {
                            break;
                        }
                        self.open.pop();
                    }
                }
            }
        }
        (pos, replies)
    }
}

fn number(text: &[u8]) -> i64 {
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(-1)
}

struct Connection {
    stream: TcpStream,
    script: Script,
    /// Bytes to send, and how many of them went out.
    out: Vec<u8>,
    sent: usize,
    input: Vec<u8>,
    scanner: Scanner,
    /// Replies still expected for the operation(s) in flight.
    expected: usize,
    /// Index in a `Sequence`.
    step: usize,
    started: Instant,
}

impl Connection {
    fn start(&mut self) {
        self.started = Instant::now();
        self.out.clear();
        self.sent = 0;
        match &self.script {
            Script::Repeat { command, pipeline } => {
                for _ in 0..*pipeline {
                    self.out.extend_from_slice(command);
                }
                self.expected = *pipeline;
            }
            Script::Sequence(commands) => {
                self.step = 0;
                self.out.extend_from_slice(&commands[0]);
                self.expected = 1;
            }
        }
    }

    /// Sends what it can; true while bytes are left.
    fn flush(&mut self) -> std::io::Result<bool> {
        while self.sent < self.out.len() {
            match self.stream.write(&self.out[self.sent..]) {
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(true),
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    /// Reads what arrived (through `chunk`); records the latencies of the operations that
    /// ended, and starts the next ones.
    fn receive(&mut self, chunk: &mut [u8], latencies: &mut Vec<u64>) -> std::io::Result<()> {
        loop {
            let n = match self.stream.read(chunk) {
                Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            };
            self.input.extend_from_slice(&chunk[..n]);
            let (used, replies) = self.scanner.scan(&self.input);
            self.input.drain(..used);
            if let Some(error) = &self.scanner.error {
                return Err(std::io::Error::other(format!("server replied -{error}")));
            }
            for _ in 0..replies {
                self.reply(latencies)?;
            }
        }
    }

    fn reply(&mut self, latencies: &mut Vec<u64>) -> std::io::Result<()> {
        self.expected -= 1;
        let elapsed = self.started.elapsed().as_nanos() as u64;
        match &self.script {
            Script::Repeat { .. } => {
                latencies.push(elapsed);
                if self.expected == 0 {
                    self.start();
                    self.flush()?;
                }
            }
            Script::Sequence(commands) => {
                self.step += 1;
                if self.step < commands.len() {
                    self.out.clear();
                    self.sent = 0;
                    let next = Arc::clone(&commands[self.step]);
                    self.out.extend_from_slice(&next);
                    self.expected = 1;
                    self.flush()?;
                } else {
                    latencies.push(elapsed);
                    self.start();
                    self.flush()?;
                }
            }
        }
        Ok(())
    }
}

/// Runs one script per connection against `addr` for `warmup` (not counted) then `duration`.
pub fn run(
    addr: &str,
    scripts: &[Script],
    warmup: Duration,
    duration: Duration,
) -> std::io::Result<Measured> {
    let mut conns = scripts
        .iter()
        .map(|script| {
            let stream = TcpStream::connect(addr)?;
            stream.set_nodelay(true)?;
            stream.set_nonblocking(true)?;
            Ok(Connection {
                stream,
                script: script.clone(),
                out: Vec::new(),
                sent: 0,
                input: Vec::new(),
                scanner: Scanner::default(),
                expected: 0,
                step: 0,
                started: Instant::now(),
            })
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    for conn in &mut conns {
        conn.start();
        conn.flush()?;
    }
    let mut latencies: Vec<u64> = Vec::with_capacity(1 << 20);
    let mut chunk = vec![0u8; 256 * 1024];
    let begin = Instant::now();
    let mut measuring_since: Option<Instant> = None;
    let end = begin + warmup + duration;
    let mut fds: Vec<libc::pollfd> = conns
        .iter()
        .map(|c| libc::pollfd {
            fd: c.stream.as_raw_fd(),
            events: 0,
            revents: 0,
        })
        .collect();
    loop {
        let now = Instant::now();
        if measuring_since.is_none() && now >= begin + warmup {
            latencies.clear();
            measuring_since = Some(now);
        }
        if now >= end {
            break;
        }
        for (fd, conn) in fds.iter_mut().zip(&conns) {
            fd.events = libc::POLLIN;
            if conn.sent < conn.out.len() {
                fd.events |= libc::POLLOUT;
            }
            fd.revents = 0;
        }
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structures for the whole call.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 100) };
        if ready < 0 {
            let error = std::io::Error::last_os_error();
            if error.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        for (fd, conn) in fds.iter().zip(conns.iter_mut()) {
            if fd.revents & libc::POLLOUT != 0 {
                conn.flush()?;
            }
            if fd.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
                conn.receive(&mut chunk, &mut latencies)?;
            }
        }
    }
    let measured_for = measuring_since.map_or(Duration::ZERO, |since| since.elapsed());
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |&ns| ns as f64 / 1e6)
    };
    Ok(Measured {
        ops_per_sec: latencies.len() as f64 / measured_for.as_secs_f64().max(1e-9),
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        ops: latencies.len(),
    })
}
