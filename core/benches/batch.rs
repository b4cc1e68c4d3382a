//! Auto-batching's data side: the inputs of a batch concatenated along dim 0 and the output split
//! back per request, for 64 requests of an mnist image (1x1x28x28 FLOAT), of a [1, 784] vector
//! (the dense MLP of `make bench`) and of STRING rows. Run with `make microbench` or
//! `cargo bench -p redisai-core --bench batch`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use redisai_core::batch::{concat, split};
use redisai_core::{DType, Tensor};
use std::hint::black_box;

const REQUESTS: usize = 64;

fn requests(dtype: DType, shape: &[i64], blob: &[u8]) -> Vec<Tensor> {
    (0..REQUESTS)
        .map(|_| Tensor::from_blob(dtype, shape.to_vec(), blob).unwrap())
        .collect()
}

fn cases() -> Vec<(&'static str, Vec<Tensor>)> {
    vec![
        (
            "mnist_1x1x28x28",
            requests(DType::Float, &[1, 1, 28, 28], &[7; 3136]),
        ),
        (
            "vector_1x784",
            requests(DType::Float, &[1, 784], &[7; 3136]),
        ),
        (
            "strings_1x8",
            requests(DType::String, &[1, 8], b"a\0bb\0ccc\0\0dd\0e\0ffff\0g\0"),
        ),
    ]
}

fn concat_split(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Elements(REQUESTS as u64));
    for (name, tensors) in cases() {
        let parts: Vec<&Tensor> = tensors.iter().collect();
        let joined = concat(&parts).unwrap();
        let sizes = vec![1i64; REQUESTS];
        group.bench_with_input(BenchmarkId::new("concat", name), &parts, |b, parts| {
            b.iter(|| concat(black_box(parts)).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("split", name), &joined, |b, joined| {
            b.iter(|| split(black_box(joined), &sizes).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, concat_split);
criterion_main!(benches);
