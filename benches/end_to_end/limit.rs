//! The backend limit of the AI.MODELEXECUTE rows: the same model run in-process by its plugin
//! alone (no Redis, no network), from as many threads as the module runs workers
//! (THREADS_PER_QUEUE) with the same INTRA_OP / INTER_OP settings, as fast as they go. Each
//! AI.MODELEXECUTE row shows its throughput as a share of this.
//!
//! ONNX Runtime's thread pools are set once per process, so each limit is measured in a child
//! process: this bench binary run again with `BENCH_LIMIT_CHILD` set.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redisai_backend_api::host::Plugin;
use redisai_backend_api::{BackendConfig, Device, ModelOptions};
use redisai_core::{DType, Tensor};

use super::common::fixtures::{onnx, reference};

const CHILD: &str = "BENCH_LIMIT_CHILD";

/// The backend, model and inputs of a bench key (`mnist`, `mlp`, `mul2`: ONNX; `pt`: TORCH), if
/// the limit applies to it.
fn model_and_input(key: &str) -> Option<(&'static str, Vec<u8>, Vec<Tensor>)> {
    let onnx_model = |blob: Vec<u8>, input: Tensor| ("redisai_onnxruntime", blob, vec![input]);
    Some(match key {
        "mnist" => onnx_model(
            reference("mnist.onnx"),
            Tensor::from_blob(DType::Float, vec![1, 1, 28, 28], &reference("one.raw")).ok()?,
        ),
        "mlp" => onnx_model(
            onnx("dense_mlp.onnx"),
            Tensor::from_blob(DType::Float, vec![1, 784], &reference("one.raw")).ok()?,
        ),
        "mul2" => onnx_model(
            onnx("batch_mul2.onnx"),
            Tensor::from_values(DType::Float, vec![1, 3], &[b"1", b"2", b"3"]).ok()?,
        ),
        "pt" => {
            let a =
                Tensor::from_values(DType::Float, vec![2, 2], &[b"1", b"2", b"3", b"4"]).ok()?;
            (
                "redisai_torch",
                reference("pt-minimal.pt"),
                vec![a.clone(), a],
            )
        }
        _ => return None,
    })
}

/// Runs/s of `key` in-process with `threads` threads and the module arguments' ONNX settings
/// (`intra`, `inter`: 0 for the runtime's default), measured for `seconds` in a child process.
pub fn runs_per_second(
    key: &str,
    threads: usize,
    intra: u32,
    inter: u32,
    seconds: f64,
) -> Option<f64> {
    model_and_input(key)?;
    let exe = std::env::current_exe().ok()?;
    let out = Command::new(exe)
        .env(CHILD, format!("{key} {threads} {intra} {inter} {seconds}"))
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// The child's side: measures and prints runs/s, when this process is a child. Returns whether
/// it was.
pub fn child() -> bool {
    let Ok(spec) = std::env::var(CHILD) else {
        return false;
    };
    let parts: Vec<&str> = spec.split(' ').collect();
    let [key, threads, intra, inter, seconds] = parts[..] else {
        panic!("{CHILD}: {spec}");
    };
    let (plugin_name, blob, inputs) = model_and_input(key).expect("a known model");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = BackendConfig {
        library_path: root.join(format!("dist/backends/{plugin_name}/{plugin_name}.so")),
        intra_op_parallelism: intra.parse().expect("intra"),
        inter_op_parallelism: inter.parse().expect("inter"),
        model_execution_timeout_ms: 5000,
        backend_memory_limit_mb: 0,
        allocation_limit_bytes: 2048 << 20,
        allowed_operators: Vec::new(),
    };
    let plugin = Plugin::load(&config).expect("the plugin (make build)");
    let options = ModelOptions {
        device: Device::Cpu,
        device_name: "CPU".into(),
        batchsize: 0,
        inputs: Vec::new(),
        outputs: Vec::new(),
    };
    let model = Arc::new(plugin.create_model(&blob, &options).expect("the model"));
    let (stop, counting) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let runs = Arc::new(AtomicU64::new(0));
    let inputs = Arc::new(inputs);
    let workers: Vec<_> = (0..threads.parse::<usize>().expect("threads"))
        .map(|_| {
            let (model, inputs, stop) =
                (Arc::clone(&model), Arc::clone(&inputs), Arc::clone(&stop));
            let (runs, counting) = (Arc::clone(&runs), Arc::clone(&counting));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let refs: Vec<&Tensor> = inputs.iter().collect();
                    model.run_tensors(&refs).expect("a run");
                    if counting.load(Ordering::Relaxed) {
                        runs.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    counting.store(true, Ordering::Relaxed);
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds.parse().expect("seconds")));
    let n = runs.load(Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("a worker");
    }
    println!("{:.1}", n as f64 / elapsed);
    true
}
