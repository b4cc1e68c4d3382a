//! Section 4: the figures the original RedisAI is quoted with, measured exactly the same way:
//! redis-benchmark, 50 clients, 40000 requests, median of 5 runs (REFERENCE_RUNS), with plain
//! SET / GET of the same run as the yardstick of the machine.

use std::process::Command;

use super::Target;

/// One redis-benchmark case: its label, the command statistic to read and the arguments.
struct Case {
    label: &'static str,
    stat: &'static str,
    args: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        label: "SET 16 B",
        stat: "set",
        args: &["SET", "s", "0123456789abcdef"],
    },
    Case {
        label: "GET 16 B",
        stat: "get",
        args: &["GET", "s"],
    },
    Case {
        label: "AI.TENSORSET FLOAT 2x2 VALUES",
        stat: "ai.tensorset",
        args: &[
            "AI.TENSORSET",
            "t",
            "FLOAT",
            "2",
            "2",
            "VALUES",
            "1",
            "2",
            "3",
            "4",
        ],
    },
    Case {
        label: "AI.TENSORGET 2x2 VALUES",
        stat: "ai.tensorget",
        args: &["AI.TENSORGET", "t", "VALUES"],
    },
    Case {
        label: "AI.TENSORGET 1x1x28x28 BLOB",
        stat: "ai.tensorget",
        args: &["AI.TENSORGET", "img", "BLOB"],
    },
    Case {
        label: "AI.MODELEXECUTE mnist.onnx",
        stat: "",
        args: &[
            "AI.MODELEXECUTE",
            "mnist",
            "INPUTS",
            "1",
            "img",
            "OUTPUTS",
            "1",
            "out",
        ],
    },
];

/// Runs the cases under each module configuration; prints nothing if redis-benchmark is missing.
pub fn section(configs: &[(String, Vec<String>)], start: fn(&[String]) -> Target) {
    if Command::new("redis-benchmark")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("(redis-benchmark not installed: reference-method figures skipped)\n");
        return;
    }
    let runs: usize = std::env::var("REFERENCE_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    super::title(&format!(
        "The reference method (redis-benchmark, 50 clients, 40000 requests, median of {runs})"
    ));
    println!("| module arguments | command | pipeline | requests/s | p50 ms | p99 ms | µs/call |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (config, args) in configs {
        let target = start(args);
        for pipeline in [1, 16] {
            for case in CASES {
                // Model runs: the per-pipeline rows say nothing more than the unpipelined ones.
                if case.stat.is_empty() && pipeline > 1 {
                    continue;
                }
                // Tensor and string commands do not depend on the module's run configuration.
                if !case.stat.is_empty() && config != &configs[0].0 {
                    continue;
                }
                let mut results: Vec<(f64, f64, f64, Option<f64>)> = (0..runs.max(1))
                    .map(|_| {
                        target.control().cmd("CONFIG RESETSTAT");
                        let (rps, p50, p99) = redis_benchmark(target.port, pipeline, case.args);
                        let usec = (!case.stat.is_empty())
                            .then(|| super::usec_per_call(&mut target.control(), case.stat))
                            .flatten();
                        (rps, p50, p99, usec)
                    })
                    .collect();
                results.sort_by(|a, b| a.0.total_cmp(&b.0));
                let (rps, p50, p99, usec) = results[results.len() / 2];
                let usec = usec.map_or("—".to_string(), |u| format!("{u:.2}"));
                println!(
                    "| {config} | {} | {pipeline} | {rps:.0} | {p50:.3} | {p99:.3} | {usec} |",
                    case.label
                );
            }
        }
    }
    println!();
}

/// (requests/s, p50 ms, p99 ms) of one redis-benchmark run, from its CSV line (test, rps,
/// avg, min, p50, p95, p99, max).
fn redis_benchmark(port: u16, pipeline: usize, args: &[&str]) -> (f64, f64, f64) {
    let output = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args([
            "-c",
            "50",
            "-n",
            "40000",
            "-P",
            &pipeline.to_string(),
            "--csv",
        ])
        .args(args)
        .output()
        .expect("run redis-benchmark");
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().last().unwrap_or_default().replace('"', "");
    let fields: Vec<f64> = line
        .split(',')
        .skip(1)
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    assert!(
        fields.len() >= 6,
        "redis-benchmark {args:?}: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (fields[0], fields[3], fields[5])
}
