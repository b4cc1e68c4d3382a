//! Latency metrics through a real server (docs/metrics.md): `AI.INFO <key> LATENCY`, the device
//! queue fields of INFO MODULES and AI.METRICS' Prometheus text, checked against what the
//! clients did and measured, and parsed with the Prometheus project's Python parser.

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use common::fixtures::{onnx, reference, set_one_image, store_onnx};
use common::{bulk, field_pairs, integer, is_error, ok_frame, Client, Frame, Server};

/// One stage of `AI.INFO <key> LATENCY`: its integer fields by name.
fn stage(latency: &[(String, Frame)], name: &str) -> HashMap<String, i64> {
    let (_, frame) = latency
        .iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no {name} in {latency:?}"));
    field_pairs(frame)
        .into_iter()
        .filter_map(|(k, v)| match v {
            Frame::Integer(n) => Some((k, n)),
            _ => None,
        })
        .collect()
}

fn latency(c: &mut Client, key: &str) -> Vec<(String, Frame)> {
    let reply = c.call(&["AI.INFO", key, "LATENCY"]);
    assert!(!is_error(&reply), "{reply:?}");
    field_pairs(&reply)
}

fn run_mnist(c: &mut Client) {
    assert_eq!(
        c.cmd("AI.MODELEXECUTE m INPUTS 1 img OUTPUTS 1 out"),
        ok_frame("OK")
    );
}

fn mnist_server(args: &[&str]) -> (Server, Client) {
    let server = Server::with(args, &[]);
    let mut c = server.client();
    assert_eq!(
        store_onnx(&mut c, "m", "CPU", &[], &reference("mnist.onnx")),
        ok_frame("OK")
    );
    set_one_image(&mut c, "img");
    (server, c)
}

#[test]
fn latency_counts_match_the_requests_run_and_info_stays_redisai_s() {
    let (_server, mut c) = mnist_server(&[]);
    for _ in 0..30 {
        run_mnist(&mut c);
    }
    // Five DAGs, each running the model twice: two runs, one command.
    for _ in 0..5 {
        let reply = c.cmd(
            "AI.DAGEXECUTE LOAD 1 img |> AI.MODELEXECUTE m INPUTS 1 img OUTPUTS 1 a \
             |> AI.MODELEXECUTE m INPUTS 1 img OUTPUTS 1 b |> AI.TENSORGET b META",
        );
        assert!(!is_error(&reply), "{reply:?}");
    }
    // RedisAI's reply: 18 elements, its fields in its order, and nothing new.
    let info = field_pairs(&c.cmd("AI.INFO m"));
    let names: Vec<&str> = info.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["key", "type", "backend", "device", "tag", "duration", "samples", "calls", "errors"]
    );
    let field = |name: &str| {
        info.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| integer(v))
    };
    assert_eq!((field("calls"), field("errors")), (Some(40), Some(0)));

    let lat = latency(&mut c, "m");
    // RedisAI's fields come first, unchanged.
    assert_eq!(lat[..info.len()], info[..]);
    let extra: Vec<&str> = lat[info.len()..].iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        extra,
        [
            "timeouts",
            "queue_wait",
            "compute",
            "end_to_end",
            "batch_size"
        ]
    );
    assert_eq!(
        lat.iter()
            .find(|(k, _)| k == "timeouts")
            .map(|(_, v)| integer(v)),
        Some(0)
    );
    for name in ["queue_wait", "compute", "end_to_end", "batch_size"] {
        let s = stage(&lat, name);
        let unit = if name == "batch_size" { "" } else { "_us" };
        let get = |f: &str| s[&format!("{f}{unit}")];
        let expected = if name == "end_to_end" { 35 } else { 40 };
        assert_eq!(s["count"], expected, "{name}: {s:?}");
        let ps = ["p50", "p90", "p99", "p999", "max"].map(get);
        assert!(ps.windows(2).all(|w| w[0] <= w[1]), "{name}: {s:?}");
        assert!(get("sum") >= get("max"), "{name}: {s:?}");
    }
    // Compute time is AI.INFO's duration, split by request.
    assert_eq!(Some(stage(&lat, "compute")["sum_us"]), field("duration"));
    // No auto-batching: every run had dim 0 = 1.
    let (_, batch) = lat.iter().find(|(k, _)| k == "batch_size").unwrap();
    let distribution = field_pairs(batch)
        .into_iter()
        .find(|(k, _)| k == "distribution")
        .map(|(_, v)| v)
        .unwrap();
    assert_eq!(
        distribution,
        Frame::Array(vec![Frame::Array(vec![
            Frame::Integer(1),
            Frame::Integer(40)
        ])])
    );

    // RESETSTAT zeroes the histograms too.
    assert_eq!(c.cmd("AI.INFO m RESETSTAT"), ok_frame("OK"));
    let lat = latency(&mut c, "m");
    for name in ["queue_wait", "compute", "end_to_end", "batch_size"] {
        assert_eq!(stage(&lat, name)["count"], 0, "{name}");
    }
    // The errors of AI.INFO are RedisAI's.
    assert_eq!(
        c.cmd("AI.INFO nokey LATENCY"),
        Frame::Error("ERR cannot find run info for key".into())
    );
}

/// slow_loop.onnx runs `n` loop iterations: an n for which the fastest of three runs takes at
/// least `at_least` (other tests share the machine: one run alone can be slowed down).
fn calibrate(c: &mut Client, at_least: Duration) -> i64 {
    let mut n = 500;
    loop {
        c.call(&["AI.TENSORSET", "n", "INT64", "1", "VALUES", &n.to_string()]);
        let fastest = (0..3)
            .map(|_| {
                let t = Instant::now();
                let reply = c.cmd("AI.MODELEXECUTE slow INPUTS 2 n x OUTPUTS 1 y");
                assert_eq!(reply, ok_frame("OK"));
                t.elapsed()
            })
            .min()
            .expect("three runs");
        if fastest >= at_least || n > 50_000_000 {
            return n;
        }
        n *= 2;
    }
}

/// One run of slow_loop.onnx on the tensors `n` and `x`.
const SLOW_RUN: [&str; 9] = [
    "AI.MODELEXECUTE",
    "slow",
    "INPUTS",
    "2",
    "n",
    "x",
    "OUTPUTS",
    "1",
    "y",
];

fn slow_server() -> (Server, Client) {
    let server = Server::with(&["THREADS_PER_QUEUE", "1"], &[]);
    let mut c = server.client();
    assert_eq!(
        store_onnx(&mut c, "slow", "CPU", &[], &onnx("slow_loop.onnx")),
        ok_frame("OK")
    );
    assert_eq!(c.cmd("AI.TENSORSET x FLOAT 1 VALUES 0"), ok_frame("OK"));
    (server, c)
}

#[test]
fn a_slow_model_shows_in_compute_and_a_saturated_queue_in_queue_wait() {
    let (server, mut c) = slow_server();
    let n = calibrate(&mut c, Duration::from_millis(20));
    c.call(&["AI.TENSORSET", "n", "INT64", "1", "VALUES", &n.to_string()]);

    // One client at a time: the time is the model's.
    assert_eq!(c.cmd("AI.INFO slow RESETSTAT"), ok_frame("OK"));
    for _ in 0..5 {
        assert_eq!(
            c.cmd("AI.MODELEXECUTE slow INPUTS 2 n x OUTPUTS 1 y"),
            ok_frame("OK")
        );
    }
    let lat = latency(&mut c, "slow");
    let (queue, compute) = (stage(&lat, "queue_wait"), stage(&lat, "compute"));
    let total = stage(&lat, "end_to_end");
    assert!(compute["p50_us"] >= 5_000, "compute {compute:?}");
    assert!(
        compute["sum_us"] * 10 >= total["sum_us"] * 9,
        "compute {compute:?}, end to end {total:?}"
    );
    assert!(
        queue["p50_us"] * 10 < compute["p50_us"],
        "queue {queue:?}, compute {compute:?}"
    );

    // Six clients on one worker: most of the time is spent waiting for it, and INFO MODULES
    // sees the queue's depth and its busy worker meanwhile.
    assert_eq!(c.cmd("AI.INFO slow RESETSTAT"), ok_frame("OK"));
    let mut clients: Vec<Client> = (0..6).map(|_| server.client()).collect();
    for k in &mut clients {
        for _ in 0..3 {
            k.send(&SLOW_RUN);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let (pending, busy) = loop {
        let info = String::from_utf8_lossy(&bulk(&c.cmd("INFO MODULES"))).into_owned();
        let field = |name: &str| -> i64 {
            info.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .unwrap_or_else(|| panic!("no {name} in\n{info}"))
                .trim()
                .parse()
                .expect("a number")
        };
        let seen = (
            field("ai_queue_CPU_pending"),
            field("ai_queue_CPU_workers_busy"),
        );
        assert_eq!(field("ai_queue_CPU_workers"), 1);
        if seen.0 >= 2 && seen.1 == 1 || Instant::now() > deadline {
            break seen;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    assert!(pending >= 2 && busy == 1, "pending {pending}, busy {busy}");
    for k in &mut clients {
        for _ in 0..3 {
            assert_eq!(k.read(), ok_frame("OK"));
        }
    }
    let lat = latency(&mut c, "slow");
    let (queue, compute) = (stage(&lat, "queue_wait"), stage(&lat, "compute"));
    assert_eq!((queue["count"], compute["count"]), (18, 18));
    assert!(
        queue["p50_us"] > compute["p50_us"],
        "queue {queue:?}, compute {compute:?}"
    );
    let total = stage(&lat, "end_to_end");
    assert!(
        total["p50_us"] >= queue["p50_us"],
        "end to end {total:?}, queue {queue:?}"
    );

    // A request whose TIMEOUT passes in the queue counts as a timeout, not a run.
    assert_eq!(c.cmd("AI.INFO slow RESETSTAT"), ok_frame("OK"));
    let mut busy_client = server.client();
    busy_client.send(&SLOW_RUN);
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(
        c.cmd("AI.MODELEXECUTE slow INPUTS 2 n x OUTPUTS 1 y TIMEOUT 1"),
        Frame::SimpleString(b"TIMEDOUT".to_vec())
    );
    assert_eq!(busy_client.read(), ok_frame("OK"));
    let lat = latency(&mut c, "slow");
    let timeouts = lat
        .iter()
        .find(|(k, _)| k == "timeouts")
        .map(|(_, v)| integer(v));
    assert_eq!(timeouts, Some(1));
    assert_eq!(stage(&lat, "compute")["count"], 1);
    assert_eq!(stage(&lat, "end_to_end")["count"], 2);
}

fn quantile(sorted: &[u64], q: f64) -> u64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[test]
fn percentiles_agree_with_the_client_s_latencies_within_a_bucket() {
    let (_server, mut c) = slow_server();
    let n = calibrate(&mut c, Duration::from_millis(2));
    assert_eq!(c.cmd("AI.INFO slow RESETSTAT"), ok_frame("OK"));
    // 300 requests of 1 to 16 times the calibrated work (about 2 to 40 ms), measured here.
    let mut measured = Vec::new();
    let mut seed = 12345u64;
    for _ in 0..300 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let factor = 1 + (seed >> 33) % 16;
        c.call(&[
            "AI.TENSORSET",
            "n",
            "INT64",
            "1",
            "VALUES",
            &(n as u64 * factor).to_string(),
        ]);
        let t = Instant::now();
        assert_eq!(
            c.cmd("AI.MODELEXECUTE slow INPUTS 2 n x OUTPUTS 1 y"),
            ok_frame("OK")
        );
        measured.push(t.elapsed().as_micros() as u64);
    }
    measured.sort_unstable();
    let total = stage(&latency(&mut c, "slow"), "end_to_end");
    assert_eq!(total["count"], 300);
    for (q, name) in [(0.5, "p50_us"), (0.9, "p90_us"), (0.99, "p99_us")] {
        let server = total[name] as u64; // the upper bound of its bucket
        let client = quantile(&measured, q);
        // The server's figure is its bucket's upper bound, at most 1/8 above the true value;
        // the client's adds the round trip (well under a millisecond here).
        let (low, high) = (server - server / 8, server + server / 8 + 1_000);
        assert!(
            (low..=high).contains(&client),
            "{name}: server {server} us, client {client} us"
        );
    }
}

/// The samples of a metrics text as the Prometheus project's parser reads them:
/// `name{label=value,...} value` lines, labels sorted.
fn parse_exposition(text: &[u8]) -> Vec<(String, HashMap<String, String>, f64)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("metrics.txt");
    std::fs::write(&path, text).expect("write");
    let python = common::venv_python();
    let program = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in family.samples:
        out.append([s.name, s.labels, s.value])
print(json.dumps(out))
"#;
    let output = Command::new(python)
        .args(["-c", program])
        .arg(&path)
        .output()
        .expect("run the Prometheus parser (make setup installs prometheus_client)");
    assert!(
        output.status.success(),
        "the Prometheus parser refused the text: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(text)
    );
    let parsed: Vec<(String, HashMap<String, String>, f64)> =
        serde_json::from_slice(&output.stdout).expect("parser output");
    parsed
}

#[test]
fn metrics_text_parses_with_the_prometheus_parser_and_matches_ai_info() {
    let (server, mut c) = mnist_server(&[]);
    // A key whose name needs escaping in a label value.
    let odd = "m\"\\\nodd";
    assert_eq!(
        store_onnx(&mut c, odd, "CPU", &[], &reference("mnist.onnx")),
        ok_frame("OK")
    );
    for _ in 0..7 {
        run_mnist(&mut c);
    }
    assert_eq!(
        c.call(&[
            "AI.MODELEXECUTE",
            odd,
            "INPUTS",
            "1",
            "img",
            "OUTPUTS",
            "1",
            "o"
        ]),
        ok_frame("OK")
    );
    let text = bulk(&c.cmd("AI.METRICS"));
    let samples = parse_exposition(&text);
    let value = |name: &str, model: &str| -> f64 {
        samples
            .iter()
            .find(|(n, l, _)| n == name && l.get("model").map(String::as_str) == Some(model))
            .map(|(_, _, v)| *v)
            .unwrap_or_else(|| panic!("no {name} for {model:?}"))
    };
    assert_eq!(value("redisai_runs_total", "m"), 7.0);
    assert_eq!(value("redisai_runs_total", odd), 1.0);
    assert_eq!(value("redisai_run_errors_total", "m"), 0.0);
    assert_eq!(value("redisai_run_samples_total", "m"), 7.0);
    for family in [
        "redisai_queue_wait_seconds",
        "redisai_compute_seconds",
        "redisai_request_seconds",
        "redisai_batch_size",
    ] {
        assert_eq!(value(&format!("{family}_count"), "m"), 7.0, "{family}");
    }
    let compute_sum = value("redisai_compute_seconds_sum", "m");
    let duration = field_pairs(&c.cmd("AI.INFO m"))
        .into_iter()
        .find(|(k, _)| k == "duration")
        .map(|(_, v)| integer(&v))
        .unwrap();
    assert!(
        (compute_sum * 1e6 - duration as f64).abs() < 0.5,
        "{compute_sum} s vs {duration} us"
    );
    let labels = samples
        .iter()
        .find(|(n, l, _)| n == "redisai_runs_total" && l["model"] == "m")
        .map(|(_, l, _)| l.clone())
        .unwrap();
    assert_eq!(labels["type"], "MODEL");
    assert_eq!(labels["backend"], "ONNX");
    assert_eq!(labels["device"], "CPU");
    let queue = |name: &str| {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && l.get("device").map(String::as_str) == Some("CPU")
                    && !l.contains_key("model")
            })
            .map(|(_, _, v)| *v)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(queue("redisai_queue_runs_total"), 8.0);
    assert_eq!(queue("redisai_queue_workers"), 1.0);
    assert_eq!(queue("redisai_queue_pending"), 0.0);
    assert_eq!(queue("redisai_queue_device_wait_seconds_count"), 8.0);

    // Its grammar and ACL category.
    assert_eq!(
        c.cmd("AI.METRICS extra"),
        Frame::Error("ERR wrong number of arguments for 'AI.METRICS' command".into())
    );
    let (kind, major, minor) = common::server_kind(&mut c);
    if kind == "valkey" || (major, minor) >= (7, 2) {
        assert_eq!(
            c.cmd("ACL SETUSER app on >pw +@all -@dangerous ~*"),
            ok_frame("OK")
        );
        let mut app = server.client();
        assert_eq!(app.cmd("AUTH app pw"), ok_frame("OK"));
        assert!(is_error(&app.cmd("AI.METRICS")));
        assert!(!is_error(&app.cmd("AI.INFO m LATENCY")));
    }
}

#[test]
fn scripts_have_the_same_figures_without_batch_sizes() {
    needs!("scripts_have_the_same_figures_without_batch_sizes", "TORCH");
    let server = Server::start();
    let mut c = server.client();
    common::torch::store_script(
        &mut c,
        "s",
        &["add"],
        "def add(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0] + tensors[0]\n",
    );
    assert_eq!(c.cmd("AI.TENSORSET a FLOAT 1 VALUES 1"), ok_frame("OK"));
    for _ in 0..4 {
        let reply = c.cmd("AI.SCRIPTEXECUTE s add INPUTS 1 a OUTPUTS 1 b");
        assert_eq!(reply, ok_frame("OK"));
    }
    let lat = latency(&mut c, "s");
    for (name, count) in [
        ("queue_wait", 4),
        ("compute", 4),
        ("end_to_end", 4),
        ("batch_size", 0),
    ] {
        assert_eq!(stage(&lat, name)["count"], count, "{name}");
    }
    let text = String::from_utf8(bulk(&c.cmd("AI.METRICS"))).expect("UTF-8");
    let samples = parse_exposition(text.as_bytes());
    let runs = samples
        .iter()
        .find(|(n, l, _)| n == "redisai_runs_total" && l["model"] == "s")
        .expect("the script's runs");
    assert_eq!((runs.1["type"].as_str(), runs.2), ("SCRIPT", 4.0));
    assert!(
        !text.contains("redisai_batch_size_count{model=\"s\""),
        "{text}"
    );
}
