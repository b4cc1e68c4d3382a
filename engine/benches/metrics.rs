//! What recording the latency metrics (docs/metrics.md) costs per request, without Redis: the
//! recordings a worker and the main thread add to every AI.MODELEXECUTE (three clock reads, the
//! model's four histograms and the queue's), on one thread and with two workers recording into
//! the same model at once. Run with `make microbench` or `cargo bench -p redisai-engine --bench
//! metrics`; docs/performance.md sets the figure against a request's cost.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use redisai_core::Backend;
use redisai_engine::histogram::Histogram;
use redisai_engine::stats::{RunKind, RunStats};

/// The recordings of one request, as run::execute, the queue's worker loop and the reply
/// callback make them.
fn one_request(stats: &RunStats, queue: &Histogram) {
    let queued_at = Instant::now(); // the request is queued
    let now = Instant::now(); // a worker picks it up
    let waited = now.saturating_duration_since(queued_at).as_micros() as u64;
    queue.record(waited);
    let latency = stats.latency();
    latency.queue.record(waited);
    latency.batch.record(1);
    latency.compute.record(black_box(37));
    // The reply has been sent: end to end.
    latency.total.record(queued_at.elapsed().as_micros() as u64);
}

fn stats() -> RunStats {
    RunStats::new(
        b"m".to_vec(),
        RunKind::Model,
        Backend::Onnx,
        "CPU".into(),
        Vec::new(),
    )
}

fn metrics(c: &mut Criterion) {
    let (s, queue) = (stats(), Histogram::default());
    c.bench_function("record_one_request", |b| {
        b.iter(|| one_request(black_box(&s), black_box(&queue)))
    });
    c.bench_function("histogram_record", |b| {
        b.iter(|| queue.record(black_box(123)))
    });
    // Two workers running the same model: each request's recordings, per request.
    c.bench_function("record_one_request_two_threads", |b| {
        b.iter_custom(|iters| {
            let (s, queue) = (stats(), Histogram::default());
            let start = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    scope.spawn(|| (0..iters).for_each(|_| one_request(&s, &queue)));
                }
            });
            // Both threads ran `iters` requests in this time: the cost of one.
            Duration::from_secs_f64(start.elapsed().as_secs_f64() / 2.0)
        })
    });
}

criterion_group!(benches, metrics);
criterion_main!(benches);
