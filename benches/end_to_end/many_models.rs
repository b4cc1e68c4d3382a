//! Section 9 (`many`): the server's threads and memory with many stored models: BENCH_MODELS
//! (default 10,000) copies of the tiny ONNX model (batch_mul2.onnx) stored under their own keys,
//! against one. Threads from /proc; memory as RSS growth per model over the server before any
//! model, against the growth of the first model alone; then every model runs once.

use std::time::Instant;

use super::common::fixtures::onnx;
use super::common::{self, Client};
use super::{title, Target};

fn threads(c: &mut Client) -> u64 {
    let pid = common::info_number(c, "server", "process_id");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("Threads")
}

fn store(c: &mut Client, key: &str, blob: &[u8]) {
    let reply = c.call(&[
        b"AI.MODELSTORE",
        key.as_bytes(),
        b"ONNX",
        b"CPU",
        b"BLOB",
        blob,
    ]);
    assert!(!common::is_error(&reply), "{reply:?}");
}

pub fn section() {
    let n: usize = std::env::var("BENCH_MODELS")
        .unwrap_or_else(|_| "10000".into())
        .parse()
        .expect("BENCH_MODELS: a number");
    title(&format!(
        "{n} stored models against one (batch_mul2.onnx, {} bytes)",
        onnx("batch_mul2.onnx").len()
    ));
    let blob = onnx("batch_mul2.onnx");
    let target = Target::start(&[]);
    let mut c = target.control();
    assert_eq!(
        c.cmd("AI.TENSORSET x FLOAT 1 3 VALUES 1 2 3"),
        common::ok_frame("OK")
    );
    // The loader's threads start with the first store: count from there.
    store(&mut c, "warm", &blob);
    assert_eq!(c.cmd("AI.MODELDEL warm"), common::ok_frame("OK"));
    let (rss0, threads0) = (common::rss(&mut c), threads(&mut c));
    store(&mut c, "m0", &blob);
    let (rss1, threads1) = (common::rss(&mut c), threads(&mut c));
    let started = Instant::now();
    for i in 1..n {
        store(&mut c, &format!("m{i}"), &blob);
    }
    let stored = started.elapsed();
    let (rss_n, threads_n) = (common::rss(&mut c), threads(&mut c));
    let started = Instant::now();
    for i in 0..n {
        let key = format!("m{i}");
        let reply = c.call(&[
            "AI.MODELEXECUTE",
            &key,
            "INPUTS",
            "1",
            "x",
            "OUTPUTS",
            "1",
            "y",
        ]);
        assert!(!common::is_error(&reply), "{key}: {reply:?}");
    }
    let ran = started.elapsed();
    let one = rss1.saturating_sub(rss0) as f64;
    let each = rss_n.saturating_sub(rss0) as f64 / n as f64;
    println!("| models | server threads | RSS growth per model, KB | of the first model's | store all, s | run each once, s |");
    println!("|---:|---:|---:|---:|---:|---:|");
    println!("| 1 | {threads1} | {:.1} | 1.00 | — | — |", one / 1024.0);
    println!(
        "| {n} | {threads_n} | {:.1} | {:.2} | {:.1} | {:.1} |",
        each / 1024.0,
        each / one,
        stored.as_secs_f64(),
        ran.as_secs_f64()
    );
    println!("(threads before the first model: {threads0})\n");
}
