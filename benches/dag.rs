//! End-to-end benchmark: one AI.DAGEXECUTE (TENSORSET |> MODELEXECUTE |> TENSORGET) against the
//! same three commands sent one after the other, with many concurrent clients, through a real
//! redis-server with the built module (dist/redisai.so). Prints a markdown table.
//!
//!   cargo bench --bench dag                  (after `make build`; `make bench` runs it)
//!   DAG_CLIENTS="1 16 50" DAG_SECONDS=5 cargo bench --bench dag

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::fixtures::reference;
use common::{Client, Frame, Server};

/// One pipeline iteration for a client: the DAG, or the three separate commands.
fn iteration(c: &mut Client, dag: bool, id: usize, image: &[u8]) {
    let (input, output) = (format!("in{{{id}}}"), format!("out{{{id}}}"));
    if dag {
        let args: Vec<&[u8]> = vec![
            b"AI.DAGEXECUTE",
            b"ROUTING",
            input.as_bytes(),
            b"|>",
            b"AI.TENSORSET",
            input.as_bytes(),
            b"FLOAT",
            b"1",
            b"1",
            b"28",
            b"28",
            b"BLOB",
            image,
            b"|>",
            b"AI.MODELEXECUTE",
            b"mnist",
            b"INPUTS",
            b"1",
            input.as_bytes(),
            b"OUTPUTS",
            b"1",
            output.as_bytes(),
            b"|>",
            b"AI.TENSORGET",
            output.as_bytes(),
            b"BLOB",
        ];
        let reply = c.call(&args);
        assert!(
            matches!(reply, Frame::Array(ref items) if items.len() == 3),
            "{reply:?}"
        );
    } else {
        let set: Vec<&[u8]> = vec![
            b"AI.TENSORSET",
            input.as_bytes(),
            b"FLOAT",
            b"1",
            b"1",
            b"28",
            b"28",
            b"BLOB",
            image,
        ];
        assert!(!common::is_error(&c.call(&set)));
        let run: Vec<&[u8]> = vec![
            b"AI.MODELEXECUTE",
            b"mnist",
            b"INPUTS",
            b"1",
            input.as_bytes(),
            b"OUTPUTS",
            b"1",
            output.as_bytes(),
        ];
        assert!(!common::is_error(&c.call(&run)));
        let get: Vec<&[u8]> = vec![b"AI.TENSORGET", output.as_bytes(), b"BLOB"];
        assert!(matches!(c.call(&get), Frame::BulkString(_)));
    }
}

/// Runs `clients` clients for `seconds`; returns (pipelines/s, p50 ms, p99 ms).
fn measure(server: &Server, clients: usize, dag: bool, seconds: f64) -> (f64, f64, f64) {
    let image = reference("one.raw");
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let threads: Vec<_> = (0..clients)
        .map(|id| {
            let socket = server.socket();
            let image = image.clone();
            std::thread::spawn(move || {
                let mut c = Client::try_connect(&socket).expect("connect");
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let start = Instant::now();
                    iteration(&mut c, dag, id, &image);
                    latencies.push(start.elapsed());
                }
                latencies
            })
        })
        .collect();
    let started = Instant::now();
    let mut all: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("client thread"))
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct =
        |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1e3;
    (all.len() as f64 / elapsed, pct(0.50), pct(0.99))
}

fn main() {
    let clients: Vec<usize> = std::env::var("DAG_CLIENTS")
        .unwrap_or_else(|_| "1 16 50".into())
        .split_whitespace()
        .map(|n| n.parse().expect("DAG_CLIENTS: numbers"))
        .collect();
    let seconds: f64 = std::env::var("DAG_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let server = Server::start();
    let mut c = server.client();
    let mnist = reference("mnist.onnx");
    c.call(&[
        b"AI.MODELSTORE".as_slice(),
        b"mnist",
        b"ONNX",
        b"CPU",
        b"BLOB",
        &mnist,
    ]);
    println!("| pipeline (mnist.onnx) | clients | pipelines/s | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|");
    for &n in &clients {
        for (name, dag) in [("3 separate commands", false), ("one AI.DAGEXECUTE", true)] {
            let (rate, p50, p99) = measure(&server, n, dag, seconds);
            println!("| {name} | {n} | {rate:.0} | {p50:.3} | {p99:.3} |");
        }
    }
}
