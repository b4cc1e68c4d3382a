//! MODEL_EXECUTION_TIMEOUT: a run longer than the timeout is terminated with ONNX Runtime's
//! error text; runs within it are not disturbed.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use redisai_backend_api::DType;

/// Short, so the test is quick (the module itself accepts >= 1000 ms).
const TIMEOUT_MS: u64 = 300;

#[test]
fn endless_runs_are_terminated() {
    let plugin = plugin(TIMEOUT_MS, 0);
    let Some(blob) = fixture("loop_forever.onnx") else {
        return;
    };
    let model = Arc::new(store(&plugin, &blob));
    let x = Arc::new(tensor(DType::Float, &[1], &["0"]));
    // Two at once: each is watched on its own.
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let (model, x) = (Arc::clone(&model), Arc::clone(&x));
            std::thread::spawn(move || {
                let started = Instant::now();
                (run(&model, &[&x]), started.elapsed())
            })
        })
        .collect();
    for handle in runs {
        let (result, elapsed) = handle.join().unwrap();
        let err = result.expect_err("an endless loop cannot succeed");
        assert!(
            err.contains("Exiting due to terminate flag being set to true"),
            "{err}"
        );
        assert!(elapsed >= Duration::from_millis(TIMEOUT_MS), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    }

    // The session that was terminated runs again normally.
    let quick = store(&plugin, &reference_model("linear_iris.onnx"));
    let iris = tensor(DType::Float, &[1, 4], &["5.1", "3.5", "1.4", "0.2"]);
    for _ in 0..3 {
        assert!(run(&quick, &[&iris]).is_ok());
    }
    let err = run(&model, &[&x]).unwrap_err();
    assert!(err.contains("Exiting due to terminate flag"), "{err}");
}
