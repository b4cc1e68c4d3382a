//! Test harness: a real `redis-server` with the built module, in a temp dir, on a unix socket,
//! killed on drop; and a raw RESP2 client that keeps replies exactly as they travel.
#![allow(dead_code, unused_imports)]

pub mod embeddings;
pub mod fixtures;
pub mod golden;
pub mod golden_keys;
pub mod payload;
pub mod torch;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redis_protocol::resp2::decode::decode;
use redis_protocol::resp2::encode::encode_borrowed;
use redis_protocol::resp2::types::BorrowedFrame;
pub use redis_protocol::resp2::types::OwnedFrame as Frame;

/// Path of the module under test: `$REDISAI_MODULE`, else `dist/redisai.so` (`make build`).
pub fn module_path() -> PathBuf {
    let path = std::env::var_os("REDISAI_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/redisai.so"));
    assert!(
        path.exists(),
        "{} is missing: run `make build` (or `make test`) first",
        path.display()
    );
    path
}

/// The server binary the tests run: `$REDIS_SERVER` (a path or a name on PATH, e.g.
/// `.build/servers/valkey-8/usr/bin/valkey-server`), else `redis-server` (`make test-servers`
/// runs the suite on each server of the matrix).
pub fn server_binary() -> std::ffi::OsString {
    std::env::var_os("REDIS_SERVER").unwrap_or_else(|| "redis-server".into())
}

/// The server a client is connected to, from `INFO server`: `("redis", major, minor)` or
/// `("valkey", major, minor)` (Valkey's own version, not the Redis version it reports for
/// compatibility). Tests whose replies the server formats assert per server.
pub fn server_kind(c: &mut Client) -> (&'static str, u32, u32) {
    let info = String::from_utf8_lossy(&bulk(&c.cmd("INFO server"))).into_owned();
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
    };
    let (name, version) = match field("valkey_version") {
        Some(v) => ("valkey", v),
        None => ("redis", field("redis_version").expect("redis_version")),
    };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (name, parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// The install directory of a backend plugin in dist/, by its module-argument name.
fn backend_dir(backend: &str) -> &'static str {
    match backend {
        "ONNX" => "redisai_onnxruntime",
        "TF" => "redisai_tensorflow",
        "TFLITE" => "redisai_tflite",
        "TORCH" => "redisai_torch",
        other => panic!("no backend {other}"),
    }
}

/// Whether the backends a test needs are built (`make build-tf`, `build-tflite`, `build-torch`;
/// ONNX comes with `make build-core`). When one is missing the test is skipped, with a line
/// saying so, unless `REDISAI_REQUIRE_BACKENDS=all` (set by `make test`): then a missing backend
/// fails the test, so nothing is skipped silently.
pub fn have_backends(test: &str, backends: &[&str]) -> bool {
    let backends_dir = module_path().parent().expect("dist/").join("backends");
    let missing: Vec<&str> = backends
        .iter()
        .copied()
        .filter(|b| {
            let dir = backend_dir(b);
            !backends_dir.join(dir).join(format!("{dir}.so")).exists()
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let targets: Vec<String> = missing
        .iter()
        .map(|b| format!("make build-{}", b.to_lowercase()))
        .collect();
    let what = format!(
        "{test} needs the {} backend, which is not built ({})",
        missing.join(" and "),
        targets.join(", ")
    );
    if std::env::var("REDISAI_REQUIRE_BACKENDS").is_ok_and(|v| v == "all") {
        panic!("{what}; REDISAI_REQUIRE_BACKENDS=all requires every backend");
    }
    // Straight to the process's stderr: the test harness captures eprintln! of passing tests.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {what}");
    false
}

/// Skips the calling test (returns from it) unless the named backends are built; see
/// [`have_backends`].
#[macro_export]
macro_rules! needs {
    ($test:expr, $($backend:literal),+) => {
        if !$crate::common::have_backends($test, &[$($backend),+]) {
            return;
        }
    };
}

/// Directory of the golden data captured from the original RedisAI.
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// A running redis-server with the module loaded.
pub struct Server {
    child: Option<Child>,
    dir: tempfile::TempDir,
    module_args: Vec<String>,
    extra: Vec<String>,
    /// RLIMIT_AS of the server process, when set (`prlimit --as`).
    address_space: Option<u64>,
    /// The server binary, when not [`server_binary`]'s.
    binary: Option<std::ffi::OsString>,
}

impl Server {
    /// Starts a server with the module and no module arguments.
    pub fn start() -> Server {
        Server::with(&[], &[])
    }

    /// Starts a server with module arguments and extra server arguments (`--name value`).
    pub fn with(module_args: &[&str], extra: &[&str]) -> Server {
        Server::launch(module_args, extra, &[])
            .unwrap_or_else(|log| panic!("redis-server did not start:\n{log}"))
    }

    /// Tries to start a server; returns the server log on failure (e.g. a refused module load).
    pub fn try_with(module_args: &[&str]) -> Result<Server, String> {
        Server::launch(module_args, &[], &[])
    }

    /// [`Server::with`] under an address-space limit (bytes): a test of an attack on the host's
    /// memory cannot take the machine down even if the defence fails.
    pub fn with_address_space(module_args: &[&str], extra: &[&str], bytes: u64) -> Server {
        let mut server = Server::unstarted(module_args, extra);
        server.address_space = Some(bytes);
        server
            .spawn()
            .unwrap_or_else(|log| panic!("redis-server did not start:\n{log}"));
        server
    }

    fn unstarted(module_args: &[&str], extra: &[&str]) -> Server {
        let owned = |args: &[&str]| args.iter().map(|s| s.to_string()).collect();
        Server {
            child: None,
            dir: tempfile::tempdir().expect("temp dir"),
            module_args: owned(module_args),
            extra: owned(extra),
            address_space: None,
            binary: None,
        }
    }

    /// [`Server::with`] on a given server binary (a test that needs one server's features, as
    /// Redis 8's vector sets, whatever server the suite runs on).
    pub fn with_binary(binary: &Path, module_args: &[&str], extra: &[&str]) -> Server {
        let mut server = Server::unstarted(module_args, extra);
        server.binary = Some(binary.into());
        server
            .spawn()
            .unwrap_or_else(|log| panic!("{} did not start:\n{log}", binary.display()));
        server
    }

    /// [`Server::with`] on a directory that already holds `files` (path relative to the server's
    /// `dir`, contents) before it starts: an RDB file (`dump.rdb`) or AOF files to load.
    pub fn with_files(module_args: &[&str], extra: &[&str], files: &[(&str, &[u8])]) -> Server {
        Server::launch(module_args, extra, files)
            .unwrap_or_else(|log| panic!("redis-server did not start:\n{log}"))
    }

    fn launch(
        module_args: &[&str],
        extra: &[&str],
        files: &[(&str, &[u8])],
    ) -> Result<Server, String> {
        let server = Server::unstarted(module_args, extra);
        for (path, contents) in files {
            let path = server.dir().join(path);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&path, contents).expect("write a file into the server's dir");
        }
        let mut server = server;
        server.spawn().map(|()| server)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("redis.sock")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
    }

    fn spawn(&mut self) -> Result<(), String> {
        let _ = std::fs::remove_file(self.socket());
        // prlimit(1) sets the limit and then runs redis-server in its own process.
        let binary = self.binary.clone().unwrap_or_else(server_binary);
        let mut cmd = match self.address_space {
            Some(bytes) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--as={bytes}")).arg(binary);
                c
            }
            None => Command::new(binary),
        };
        cmd.arg("--port").arg("0");
        cmd.arg("--unixsocket").arg(self.socket());
        cmd.arg("--dir").arg(self.dir.path());
        cmd.args([
            "--logfile",
            "redis.log",
            "--save",
            "",
            "--enable-debug-command",
            "yes",
        ]);
        cmd.arg("--loadmodule")
            .arg(module_path())
            .args(&self.module_args);
        cmd.args(&self.extra);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot run redis-server: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                return Err(self.log());
            }
            // Redis listens before it loads modules: a connection may be accepted and then
            // reset by a server that refuses the module, so a failed PING is "not ready yet".
            if let Ok(mut c) = Client::try_connect(&self.socket()) {
                if c.try_ping() {
                    break;
                }
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(format!("start-up deadline passed\n{}", self.log()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
        Ok(())
    }

    /// A new connection.
    pub fn client(&self) -> Client {
        Client::try_connect(&self.socket()).expect("connect")
    }

    /// True while the process runs and answers PING.
    pub fn alive(&mut self) -> bool {
        let running = self
            .child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)));
        running
            && Client::try_connect(&self.socket())
                .is_ok_and(|mut c| c.call(&["PING"]) == ok_frame("PONG"))
    }

    /// Stops the server (SHUTDOWN with `mode`, e.g. SAVE or NOSAVE) and starts it again on the same
    /// directory, so it reloads its RDB or AOF.
    pub fn restart(&mut self, mode: &str, extra: &[&str]) {
        self.stop(mode);
        self.extra = extra.iter().map(|s| s.to_string()).collect();
        self.spawn()
            .unwrap_or_else(|log| panic!("redis-server did not restart:\n{log}"));
    }

    /// Shuts the server down and waits for the process to exit.
    pub fn stop(&mut self, mode: &str) {
        if let Some(mut child) = self.child.take() {
            if let Ok(mut c) = Client::try_connect(&self.socket()) {
                c.send(&[b"SHUTDOWN".as_slice(), mode.as_bytes()]);
            }
            let deadline = Instant::now() + Duration::from_secs(20);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn ok_frame(s: &str) -> Frame {
    Frame::SimpleString(s.as_bytes().to_vec())
}

/// A blocking RESP2 connection.
pub struct Client {
    stream: UnixStream,
    buffer: Vec<u8>,
}

impl Client {
    pub fn try_connect(socket: &Path) -> std::io::Result<Client> {
        let stream = UnixStream::connect(socket)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Client {
            stream,
            buffer: Vec::new(),
        })
    }

    /// Sends one command without reading the reply.
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        let items: Vec<BorrowedFrame> = args
            .iter()
            .map(|a| BorrowedFrame::BulkString(a.as_ref()))
            .collect();
        let frame = BorrowedFrame::Array(&items);
        let mut out = vec![0; frame.encode_len(false)];
        encode_borrowed(&mut out, &frame, false).expect("encode");
        let _ = self.stream.write_all(&out);
    }

    /// Whether the server answers PING (false on any I/O error).
    pub fn try_ping(&mut self) -> bool {
        self.send(&["PING"]);
        let mut chunk = [0u8; 64];
        match self.stream.read(&mut chunk) {
            Ok(n) => chunk[..n].starts_with(b"+PONG"),
            Err(_) => false,
        }
    }

    /// Whether a reply (or part of one) has arrived and not been read yet, without waiting.
    pub fn has_reply(&mut self) -> bool {
        if !self.buffer.is_empty() {
            return true;
        }
        self.stream.set_nonblocking(true).expect("non-blocking");
        let mut chunk = [0u8; 4096];
        // What arrived is kept for the next `read`.
        if let Ok(n) = self.stream.read(&mut chunk) {
            self.buffer.extend_from_slice(&chunk[..n]);
        }
        self.stream.set_nonblocking(false).expect("blocking");
        !self.buffer.is_empty()
    }

    /// Reads one reply.
    pub fn read(&mut self) -> Frame {
        loop {
            if let Some((frame, used)) = decode(&self.buffer).expect("valid RESP2") {
                self.buffer.drain(..used);
                return frame;
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("read reply");
            assert!(n > 0, "connection closed by the server");
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends a command and reads its reply.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Frame {
        self.send(args);
        self.read()
    }

    /// `call` for a space-separated command line.
    pub fn cmd(&mut self, line: &str) -> Frame {
        let args: Vec<&str> = line.split(' ').filter(|s| !s.is_empty()).collect();
        self.call(&args)
    }
}

/// Polls `done` every 50 ms until it holds; fails the test after 30 s, naming `what`.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: timed out");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The project venv's Python (made by `make setup`, with the Python packages the tests use).
pub fn venv_python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `make setup` (scripts/setup.sh creates the venv)",
        python.display()
    );
    python
}

/// The number `field` of `INFO <section>` (e.g. `server`, `process_id`).
pub fn info_number(c: &mut Client, section: &str, field: &str) -> u64 {
    let info = String::from_utf8(bulk(&c.cmd(&format!("INFO {section}")))).expect("INFO text");
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
}

/// RSS of the server process now, in bytes, read from /proc (INFO's `used_memory_rss` is only
/// refreshed by the server's cron, so it can be stale).
pub fn rss(c: &mut Client) -> u64 {
    let pid = info_number(c, "server", "process_id");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb * 1024
}

/// Renders a reply in the notation of the golden transcripts (Python bytes reprs and all).
pub fn render(frame: &Frame) -> String {
    match frame {
        Frame::SimpleString(s) => format!("+{}", String::from_utf8_lossy(s)),
        Frame::Error(e) => format!("-{e}"),
        Frame::Integer(n) => format!(":{n}"),
        Frame::Null => "$nil".to_string(),
        Frame::BulkString(b) => format!("${}", py_bytes_repr(b)),
        Frame::Array(items) => format!(
            "*[{}]",
            items.iter().map(render).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Python's `repr(bytes)`.
pub fn py_bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = format!("b{quote}");
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            c if c == quote as u8 => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(quote);
    out
}

/// Parses a Python bytes literal (`b'..'` or `b".."`) as printed by `repr`.
pub fn parse_py_bytes(lit: &str) -> Vec<u8> {
    let body = &lit[2..lit.len() - 1];
    let bytes = body.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let c = bytes[i + 1];
            i += 2;
            match c {
                b'x' => {
                    out.push(u8::from_str_radix(&body[i..i + 2], 16).expect("hex escape"));
                    i += 2;
                }
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                other => out.push(other),
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Convenience: the bulk string bytes of a frame.
pub fn bulk(frame: &Frame) -> Vec<u8> {
    match frame {
        Frame::BulkString(b) => b.clone(),
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

/// Convenience: the value of an integer frame.
pub fn integer(frame: &Frame) -> i64 {
    match frame {
        Frame::Integer(n) => *n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

/// A RedisAI field list (a flat array of `name, value`, as AI.INFO and MODULE LIST reply) as
/// `(name, value)` pairs, in order.
pub fn field_pairs(frame: &Frame) -> Vec<(String, Frame)> {
    let Frame::Array(items) = frame else {
        panic!("expected an array of fields, got {frame:?}")
    };
    items
        .chunks(2)
        .map(|p| {
            let name = String::from_utf8(bulk(&p[0])).expect("a UTF-8 field name");
            (name, p[1].clone())
        })
        .collect()
}

/// Hex decoding for golden payloads.
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

pub fn is_error(frame: &Frame) -> bool {
    matches!(frame, Frame::Error(_))
}
