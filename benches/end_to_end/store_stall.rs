//! Section 6 (`store`): how long AI.MODELSTORE of a large model holds up the server. While one
//! connection stores a ~100 MB ONNX model (six 2048x2048 float MatMuls), another sends PING after
//! PING; the longest PING round trip is the main-thread stall. Median of BENCH_RUNS stores, each
//! on a fresh key. The model is generated once into target/fixtures/bench (the project venv's
//! `onnx` and `numpy`, as the test fixtures).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{common, title, Settings, Target};

const GENERATOR: &str = r#"
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
rng = np.random.default_rng(0)
n, layers = 2048, 6
nodes, weights, prev = [], [], "x"
for i in range(layers):
    weights.append(numpy_helper.from_array(rng.standard_normal((n, n)).astype(np.float32), f"w{i}"))
    out = "y" if i == layers - 1 else f"h{i}"
    nodes.append(helper.make_node("MatMul", [prev, f"w{i}"], [out]))
    prev = out
graph = helper.make_graph(nodes, "big_store",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])], weights)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
open(sys.argv[1], "wb").write(model.SerializeToString())
"#;

/// The ~100 MB model, generated if missing.
fn big_model() -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path: PathBuf = root.join("target/fixtures/bench/big_store.onnx");
    if !path.exists() {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        let status = Command::new(root.join(".venv/bin/python"))
            .args(["-c", GENERATOR])
            .arg(&path)
            .status()
            .expect("run the project's Python (make setup)");
        assert!(status.success(), "generating {}", path.display());
    }
    std::fs::read(&path).expect("read the big model")
}

pub fn section(settings: &Settings) {
    title("Main-thread stall of AI.MODELSTORE (a ~100 MB ONNX model)");
    let blob = big_model();
    let target = Target::start(&[]);
    let mut stores = Vec::new();
    let mut stalls = Vec::new();
    for run in 0..settings.runs.max(1) {
        let key = format!("big{run}");
        let done = AtomicBool::new(false);
        let (store, stall) = std::thread::scope(|scope| {
            let pinger = scope.spawn(|| {
                let mut c = target.control();
                let mut longest = Duration::ZERO;
                while !done.load(Ordering::Acquire) {
                    let t = Instant::now();
                    assert_eq!(c.cmd("PING"), common::ok_frame("PONG"));
                    longest = longest.max(t.elapsed());
                    std::thread::sleep(Duration::from_micros(200));
                }
                longest
            });
            std::thread::sleep(Duration::from_millis(50));
            let t = Instant::now();
            target.call(&[
                b"AI.MODELSTORE",
                key.as_bytes(),
                b"ONNX",
                b"CPU",
                b"BLOB",
                &blob,
            ]);
            let store = t.elapsed();
            std::thread::sleep(Duration::from_millis(50));
            done.store(true, Ordering::Release);
            (store, pinger.join().expect("the pinger"))
        });
        stores.push(store.as_secs_f64() * 1e3);
        stalls.push(stall.as_secs_f64() * 1e3);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("| model | MB | stores | AI.MODELSTORE ms | longest PING ms (the stall) |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| six 2048x2048 MatMuls | {:.0} | {} | {:.1} | {:.1} |\n",
        blob.len() as f64 / 1e6,
        stores.len(),
        median(stores),
        median(stalls)
    );
}
