//! Section 6 (`store`): how long AI.MODELSTORE of a large model holds up the server. While one
//! connection stores a ~100 MB ONNX model (six 2048x2048 float MatMuls), another sends PING after
//! PING; the longest PING round trip is the main-thread stall. Median of BENCH_RUNS stores, each
//! on a fresh key. The model is the test fixture `big_store.onnx` (tests/fixtures).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{common, median, title, Settings, Target};

pub fn section(settings: &Settings) {
    title("Main-thread stall of AI.MODELSTORE (a ~100 MB ONNX model)");
    let blob = common::fixtures::onnx("big_store.onnx");
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
