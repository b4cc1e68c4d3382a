//! Hot paths of AI.TENSORSET / AI.TENSORGET without Redis: VALUES parsing per dtype, BLOB ingest,
//! element read-out and `%.17g` formatting for VALUES replies, and the RDB encoding.
//! Run with `make microbench` or `cargo bench -p redisai-core --bench tensor`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use redisai_core::numfmt::format_g17;
use redisai_core::rdb::{save_tensor, Sink};
use redisai_core::{DType, Tensor, Value};
use std::hint::black_box;

const N: usize = 4096;

fn values_for(dtype: DType) -> Vec<Vec<u8>> {
    (0..N)
        .map(|i| match dtype {
            DType::Float | DType::Double => format!("{}.25", i % 1000).into_bytes(),
            DType::Bool => (i % 2).to_string().into_bytes(),
            DType::String => format!("s{i}").into_bytes(),
            _ => (i % 100).to_string().into_bytes(),
        })
        .collect()
}

fn parse_values(c: &mut Criterion) {
    let mut group = c.benchmark_group("tensorset_values");
    group.throughput(Throughput::Elements(N as u64));
    for dtype in DType::ALL {
        let owned = values_for(dtype);
        let args: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        group.bench_with_input(
            BenchmarkId::from_parameter(dtype.name()),
            &args,
            |b, args| {
                b.iter(|| Tensor::from_values(dtype, vec![N as i64], black_box(args)).unwrap())
            },
        );
    }
    group.finish();
}

fn ingest_blob(c: &mut Criterion) {
    let mut group = c.benchmark_group("tensorset_blob");
    for bytes in [16usize, 3136, 1 << 20] {
        let blob = vec![0u8; bytes];
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_with_input(BenchmarkId::from_parameter(bytes), &blob, |b, blob| {
            b.iter(|| Tensor::from_blob(DType::Uint8, vec![bytes as i64], black_box(blob)).unwrap())
        });
    }
    group.finish();
}

fn read_values(c: &mut Criterion) {
    let mut group = c.benchmark_group("tensorget_values");
    group.throughput(Throughput::Elements(N as u64));
    for dtype in [DType::Float, DType::Int64, DType::String] {
        let owned = values_for(dtype);
        let args: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let tensor = Tensor::from_values(dtype, vec![N as i64], &args).unwrap();
        group.bench_function(dtype.name(), |b| {
            b.iter(|| {
                let mut acc = 0f64;
                for v in black_box(&tensor).values() {
                    acc += match v {
                        Value::Int(n) => n as f64,
                        Value::Float(f) => f,
                        Value::Str(s) => s.len() as f64,
                    };
                }
                acc
            })
        });
    }
    group.finish();
}

/// The text of every FLOAT / DOUBLE element of a VALUES reply: values widened from f32 (FLOAT
/// tensors), short decimals and integers (DOUBLE), and a spread of magnitudes.
fn format_values(c: &mut Criterion) {
    let mut group = c.benchmark_group("tensorget_values_format");
    group.throughput(Throughput::Elements(N as u64));
    let widened: Vec<f64> = (0..N).map(|i| (i as f32 * 0.37 - 700.0).into()).collect();
    let decimals: Vec<f64> = (0..N).map(|i| i as f64 / 8.0).collect();
    let spread: Vec<f64> = (0..N)
        .map(|i| 1.234_567_890_123 * 10f64.powi(i as i32 % 60 - 30))
        .collect();
    for (name, values) in [
        ("float", &widened),
        ("double", &decimals),
        ("magnitudes", &spread),
    ] {
        group.bench_function(name, |b| {
            let mut buf = [0u8; 32];
            b.iter(|| {
                let mut bytes = 0;
                for &v in black_box(values) {
                    bytes += format_g17(v, &mut buf).map_or(0, <[u8]>::len);
                }
                bytes
            })
        });
    }
    group.finish();
}

/// Counts bytes like an RDB writer would, without keeping them.
struct CountingSink(usize);

impl Sink for CountingSink {
    fn save_unsigned(&mut self, _: u64) {
        self.0 += 8;
    }
    fn save_signed(&mut self, _: i64) {
        self.0 += 8;
    }
    fn save_buffer(&mut self, bytes: &[u8]) {
        self.0 += black_box(bytes).len();
    }
}

fn rdb_save(c: &mut Criterion) {
    let tensor = Tensor::from_blob(DType::Float, vec![1, 28, 28], &[0u8; 3136]).unwrap();
    c.bench_function("rdb_save_mnist_input", |b| {
        b.iter(|| {
            let mut sink = CountingSink(0);
            save_tensor(&mut sink, black_box(&tensor));
            sink.0
        })
    });
}

criterion_group!(
    benches,
    parse_values,
    ingest_blob,
    read_values,
    format_values,
    rdb_save
);
criterion_main!(benches);
