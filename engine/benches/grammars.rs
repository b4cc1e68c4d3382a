//! The main-thread parsing of the hot commands, without Redis: AI.TENSORSET (VALUES and BLOB),
//! AI.MODELEXECUTE, and building a 3-op DAG plan (TENSORSET |> MODELEXECUTE |> TENSORGET), the
//! pipeline `make bench` compares with separate commands. Run with `make microbench` or
//! `cargo bench -p redisai-engine`.

use criterion::{criterion_group, criterion_main, Criterion};
use redisai_engine::dag::parse::parse_dag;
use redisai_engine::dag::DagCommand;
use redisai_engine::model_cmd::parse_modelexecute;
use redisai_engine::tensor_cmd::parse_tensorset;
use redisai_engine::testing::{self, Keyspace};
use std::hint::black_box;

/// One model, `mnist`, with one input and one output.
fn keyspace() -> Keyspace {
    let mut keys = Keyspace {
        max_tensor_bytes: 512 << 20,
        record: false,
        ..Keyspace::default()
    };
    let model = testing::model(&testing::registry(), b"mnist", 1, 1);
    keys.models.insert(b"mnist".to_vec(), model);
    keys
}

fn words(line: &str) -> Vec<&[u8]> {
    line.split(' ').map(str::as_bytes).collect()
}

fn grammars(c: &mut Criterion) {
    let image = vec![0u8; 3136];
    let mut blob_set = words("AI.TENSORSET img FLOAT 1 1 28 28 BLOB");
    blob_set.push(&image);
    c.bench_function("tensorset_blob_1x1x28x28", |b| {
        b.iter(|| parse_tensorset(black_box(&blob_set), || 0).unwrap())
    });
    let values_set = words("AI.TENSORSET t FLOAT 2 2 VALUES 1.5 -2.25 3.125 0.1");
    c.bench_function("tensorset_values_2x2", |b| {
        b.iter(|| parse_tensorset(black_box(&values_set), || 0).unwrap())
    });
    let execute = words("AI.MODELEXECUTE mnist INPUTS 1 img OUTPUTS 1 out");
    c.bench_function("modelexecute", |b| {
        b.iter(|| parse_modelexecute(black_box(&execute), 1, 1).unwrap())
    });
    let mut keys = keyspace();
    let mut dag = words("AI.DAGEXECUTE ROUTING in{1} |> AI.TENSORSET in{1} FLOAT 1 1 28 28 BLOB");
    dag.push(&image);
    dag.extend(words(
        "|> AI.MODELEXECUTE mnist INPUTS 1 in{1} OUTPUTS 1 out{1} |> AI.TENSORGET out{1} BLOB",
    ));
    c.bench_function("dag_3_ops", |b| {
        b.iter(|| parse_dag(DagCommand::Execute, black_box(&dag), &mut keys).unwrap())
    });
}

criterion_group!(benches, grammars);
criterion_main!(benches);
