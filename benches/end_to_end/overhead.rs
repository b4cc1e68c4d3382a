//! Section 5 (`metrics`): what recording the latency metrics costs (docs/metrics.md). The same
//! rows run on this build's module and on a baseline module without the recording
//! (`BENCH_BASELINE_MODULE`, a module built from the commit before it, placed in dist/ so it finds
//! the same backends): every round starts a fresh server of each, in alternating order, and runs
//! every row on both; each cell is the median of BENCH_RUNS rounds. Without `BENCH_BASELINE_MODULE` the section says so and measures nothing.

use super::Settings;
use super::{alternating_rounds, configs, median, modelexecute, one_run, other_module, repeat};
use super::{start_on, title};
use crate::load::Script;

/// The rows: mnist and the tiny model (where a fixed cost per request weighs most) at 50
/// clients, and mnist at 16.
const ROWS: [(&str, &str, &str, usize); 3] = [
    ("mnist.onnx", "mnist", "img", 50),
    ("batch_mul2.onnx (tiny)", "mul2", "x3", 50),
    ("mnist.onnx", "mnist", "img", 16),
];

pub fn section(settings: &Settings) {
    title("Cost of the latency metrics (this build against a baseline without them)");
    let baseline = other_module(
        "BENCH_BASELINE_MODULE",
        "a module built without the metrics",
    );
    let Some(baseline) = baseline else {
        return;
    };
    let this = super::common::module_path();
    println!("| module arguments | model | clients | baseline requests/s | with metrics | ratio |");
    println!("|---|---|---:|---:|---:|---:|");
    let single = one_run(settings);
    for (config, args) in configs() {
        // Per row, the rates of the baseline and of this build, one of each per round.
        let mut rates: Vec<[Vec<f64>; 2]> = ROWS.iter().map(|_| [Vec::new(), Vec::new()]).collect();
        let start = |module: &std::path::Path| start_on(module, &args);
        alternating_rounds(settings, [&baseline, &this], start, |i, target| {
            for (row, (_, key, input, clients)) in ROWS.iter().enumerate() {
                let scripts: Vec<Script> = repeat(modelexecute(key, input), *clients, 1);
                let cell = target.measure(&single, &scripts, "");
                rates[row][i].push(cell.measured.ops_per_sec);
            }
        });
        for ((model, _, _, clients), [base, with]) in ROWS.iter().zip(rates) {
            let (base, with) = (median(base), median(with));
            println!(
                "| {config} | {model} | {clients} | {base:.0} | {with:.0} | {:.3} |",
                with / base
            );
        }
    }
    println!();
}
