//! Section 8 (`peer`): this module side by side with the original RedisAI 1.2.7
//! (`BENCH_PEER_MODULE`, built by the peer script of the project's shared inputs: its ONNX
//! Runtime 1.12 and libtorch 1.11 backends), on the same redis-server, the same load generator
//! and the same module arguments. Every round starts a fresh server of each, in alternating
//! order, and runs every row on both; each cell is the median of BENCH_RUNS rounds. Without
//! `BENCH_PEER_MODULE` the section says so and measures nothing.

use std::path::Path;

use super::common::fixtures::reference;
use super::load::{encode, Script};
use super::{alternating_rounds, configs, limit, median, mnist_pipeline, modelexecute, one_run};
use super::{other_module, queue_settings, repeat, start_on, title, Settings, Target};

/// One row: what each client sends, the command whose time per call is shown, and the bench key
/// of its model's in-process limit (limit.rs), for the rows that run one model.
struct Row {
    name: &'static str,
    command: &'static str,
    scripts: fn(usize) -> Vec<Script>,
    limit: Option<&'static str>,
}

fn mnist(clients: usize) -> Vec<Script> {
    repeat(modelexecute("mnist", "img"), clients, 1)
}

fn torch(clients: usize) -> Vec<Script> {
    (0..clients)
        .map(|_| {
            Script::Sequence(vec![encode(&[
                &b"AI.MODELEXECUTE"[..],
                b"pt",
                b"INPUTS",
                b"2",
                b"pa",
                b"pa",
                b"OUTPUTS",
                b"1",
                b"pout",
            ])])
        })
        .collect()
}

fn dag(clients: usize) -> Vec<Script> {
    let image = reference("one.raw");
    (0..clients)
        .map(|id| mnist_pipeline(id, &image, true))
        .collect()
}

fn tensorget_1mib(clients: usize) -> Vec<Script> {
    repeat(encode(&[&b"AI.TENSORGET"[..], b"big", b"BLOB"]), clients, 1)
}

fn tensorset_1mib(clients: usize) -> Vec<Script> {
    let blob = vec![0u8; 1 << 20];
    repeat(
        encode(&[
            &b"AI.TENSORSET"[..],
            b"big2",
            b"FLOAT",
            b"262144",
            b"BLOB",
            &blob,
        ]),
        clients,
        1,
    )
}

const ROWS: [Row; 5] = [
    Row {
        name: "AI.MODELEXECUTE mnist.onnx",
        command: "ai.modelexecute",
        scripts: mnist,
        limit: Some("mnist"),
    },
    Row {
        name: "AI.DAGEXECUTE (TENSORSET, MODELEXECUTE mnist, TENSORGET)",
        command: "ai.dagexecute",
        scripts: dag,
        limit: None,
    },
    Row {
        name: "AI.MODELEXECUTE pt-minimal.pt (TORCH)",
        command: "ai.modelexecute",
        scripts: torch,
        limit: Some("pt"),
    },
    Row {
        name: "AI.TENSORGET BLOB 1 MiB",
        command: "ai.tensorget",
        scripts: tensorget_1mib,
        limit: None,
    },
    Row {
        name: "AI.TENSORSET BLOB 1 MiB",
        command: "ai.tensorset",
        scripts: tensorset_1mib,
        limit: None,
    },
];

/// The models' server on `module`, with the TORCH model and the 1 MiB tensor of the rows.
fn start_with_rows(module: &Path, args: &[String]) -> Target {
    let target = start_on(module, args);
    let pt = reference("pt-minimal.pt");
    target.call(&[b"AI.MODELSTORE", b"pt", b"TORCH", b"CPU", b"BLOB", &pt]);
    target.call(&[
        b"AI.TENSORSET",
        b"pa",
        b"FLOAT",
        b"2",
        b"2",
        b"VALUES",
        b"1",
        b"2",
        b"3",
        b"4",
    ]);
    let blob = vec![0u8; 1 << 20];
    target.call(&[b"AI.TENSORSET", b"big", b"FLOAT", b"262144", b"BLOB", &blob]);
    target
}

/// What one round measured of one row on one module.
#[derive(Default)]
struct Figures {
    rps: Vec<f64>,
    cpu_us: Vec<f64>,
    main_us: Vec<f64>,
}

pub fn section(settings: &Settings) {
    title("Side by side with RedisAI 1.2.7 (50 clients)");
    let Some(peer) = other_module("BENCH_PEER_MODULE", "RedisAI 1.2.7's redisai.so") else {
        return;
    };
    let this = super::common::module_path();
    println!(
        "| module arguments | workload | RedisAI requests/s | this module | ratio | this module's backend in-process, runs/s | RedisAI server CPU µs/request | this module | RedisAI µs/call | this module |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let single = one_run(settings);
    for (config, args) in configs() {
        let (threads, intra, inter) = queue_settings(&args);
        let mut figures: Vec<[Figures; 2]> = ROWS.iter().map(|_| Default::default()).collect();
        let start = |module: &Path| start_with_rows(module, &args);
        alternating_rounds(settings, [&peer, &this], start, |i, target| {
            for (row, spec) in ROWS.iter().enumerate() {
                let cell = target.measure(&single, &(spec.scripts)(50), spec.command);
                let f = &mut figures[row][i];
                f.rps.push(cell.measured.ops_per_sec);
                f.cpu_us.push(cell.cpu_us_per_request);
                f.main_us.push(cell.usec_per_call.unwrap_or(f64::NAN));
            }
        });
        for (spec, [theirs, ours]) in ROWS.iter().zip(figures) {
            let (r0, r1) = (median(theirs.rps), median(ours.rps));
            let limit = spec
                .limit
                .and_then(|key| {
                    limit::runs_per_second(key, threads, intra, inter, settings.seconds)
                })
                .map_or("—".to_string(), |l| format!("{l:.0}"));
            println!(
                "| {config} | {} | {r0:.0} | {r1:.0} | {:.2} | {limit} | {:.1} | {:.1} | {:.1} | {:.1} |",
                spec.name,
                r1 / r0,
                median(theirs.cpu_us),
                median(ours.cpu_us),
                median(theirs.main_us),
                median(ours.main_us),
            );
        }
    }
    println!();
}
