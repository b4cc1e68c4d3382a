//! Section 7 (`warmup`): the first AI.MODELEXECUTE of a freshly stored model, stored without and
//! with `WARMUP 1`, against the model's steady-state latency (the median of the 20 runs that
//! follow). Every measured run, the first included, comes 50 ms after the previous command, so
//! all of them pay the same wake-up of an idle server and worker and only the model's first-run
//! costs differ. One client connection, a fresh server per round, BENCH_RUNS rounds, medians.

use std::time::{Duration, Instant};

use super::common::fixtures::{onnx, reference};
use super::{image_tensorset, median, title, Settings, Target};

/// A model's name, its blob and the AI.TENSORSET of its input `in`.
type Case<'a> = (&'a str, &'a [u8], &'a [&'a [u8]]);

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// First-run and steady latency (ms) of `blob` stored with `options`, input `input`.
fn first_and_steady(blob: &[u8], options: &[&[u8]], input: &[&[u8]]) -> (f64, f64) {
    let target = Target::start(&[]);
    target.call(input);
    let mut store: Vec<&[u8]> = vec![b"AI.MODELSTORE", b"m", b"ONNX", b"CPU"];
    store.extend_from_slice(options);
    store.extend_from_slice(&[b"BLOB", blob]);
    target.call(&store);
    let run: [&[u8]; 8] = [
        b"AI.MODELEXECUTE",
        b"m",
        b"INPUTS",
        b"1",
        input[1],
        b"OUTPUTS",
        b"1",
        b"out",
    ];
    let mut c = target.control();
    let mut timed = || {
        std::thread::sleep(Duration::from_millis(50));
        let t = Instant::now();
        let reply = c.call(&run);
        assert!(!super::common::is_error(&reply), "{reply:?}");
        ms(t)
    };
    let first = timed();
    let steady = (0..20).map(|_| timed()).collect();
    (first, median(steady))
}

pub fn section(settings: &Settings) {
    title("First AI.MODELEXECUTE after AI.MODELSTORE, without and with WARMUP 1");
    let image = reference("one.raw");
    let (mnist, mlp) = (reference("mnist.onnx"), onnx("dense_mlp.onnx"));
    let mnist_input = image_tensorset(b"in", &image);
    let flat: [&[u8]; 7] = [
        b"AI.TENSORSET",
        b"in",
        b"FLOAT",
        b"1",
        b"784",
        b"BLOB",
        &image,
    ];
    let cases: [Case; 2] = [
        ("mnist.onnx", &mnist, &mnist_input),
        ("dense_mlp.onnx", &mlp, &flat),
    ];
    println!("| model | store | first run ms | steady run ms (median) | first / steady |");
    println!("|---|---|---:|---:|---:|");
    for (name, blob, input) in cases {
        for (label, options) in [
            ("plain", &[][..]),
            ("WARMUP 1", &[&b"WARMUP"[..], b"1"][..]),
        ] {
            let rounds: Vec<(f64, f64)> = (0..settings.runs.max(1))
                .map(|_| first_and_steady(blob, options, input))
                .collect();
            let first = median(rounds.iter().map(|r| r.0).collect());
            let steady = median(rounds.iter().map(|r| r.1).collect());
            println!(
                "| {name} | {label} | {first:.3} | {steady:.3} | {:.2} |",
                first / steady
            );
        }
    }
    println!();
}
