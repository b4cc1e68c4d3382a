//! The main-thread parsing of the hot commands, without Redis: AI.TENSORSET (VALUES and BLOB),
//! AI.MODELEXECUTE, and building a 3-op DAG plan (TENSORSET |> MODELEXECUTE |> TENSORGET), the
//! pipeline `make bench` compares with separate commands. Run with `make microbench` or
//! `cargo bench -p redisai-engine`.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use redisai_backend_api::{ModelOptions, Reply, ScriptHost, TensorRef};
use redisai_core::model::ModelRecord;
use redisai_core::{Backend, Error, Result, Tensor};
use redisai_engine::backends::{BackendLibrary, BackendSettings, ModelRunner, Registry};
use redisai_engine::dag::parse::parse_dag;
use redisai_engine::dag::{DagCommand, DagKeys};
use redisai_engine::model::Model;
use redisai_engine::model_cmd::parse_modelexecute;
use redisai_engine::script::Script;
use redisai_engine::tensor_cmd::parse_tensorset;
use std::hint::black_box;

/// A backend whose models are never run: only their input and output counts matter here.
struct Library;

struct Unrunnable;

impl ModelRunner for Unrunnable {
    fn inputs(&self) -> &[String] {
        &[]
    }
    fn outputs(&self) -> &[String] {
        &[]
    }
    fn run(&self, _: &[TensorRef<'_>]) -> Result<Vec<Option<Tensor>>, String> {
        Err("not run".into())
    }
}

impl BackendLibrary for Library {
    fn version(&self) -> String {
        "bench".into()
    }
    fn info(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn create_model(&self, _: &[u8], _: &ModelOptions) -> Result<Box<dyn ModelRunner>, String> {
        Ok(Box::new(Unrunnable))
    }
}

/// What a script op would get to serve its calls (the benchmarked DAG has no script op).
struct NoHost;

impl ScriptHost for NoHost {
    fn redis_call(&self, _: &[&[u8]]) -> Reply {
        Reply::Nil
    }
    fn model_execute(
        &self,
        _: &[u8],
        _: &[TensorRef<'_>],
        _: usize,
    ) -> Result<Vec<Option<Tensor>>, String> {
        Err("not run".into())
    }
}

/// One model, `mnist`, with one input and one output (a TF record names them).
struct Keyspace {
    model: Arc<Model>,
}

impl DagKeys for Keyspace {
    fn tensor(&mut self, _: &[u8]) -> Result<Arc<Tensor>> {
        Err(Error::TensorKeyEmpty)
    }
    fn model(&mut self, _: &[u8]) -> Result<Arc<Model>> {
        Ok(Arc::clone(&self.model))
    }
    fn script(&mut self, _: &[u8]) -> Result<Arc<Script>> {
        Err(Error::ScriptKeyEmpty)
    }
    fn script_host(&mut self, _: &[Vec<u8>]) -> Arc<dyn ScriptHost + Send + Sync> {
        Arc::new(NoHost)
    }
    fn max_tensor_bytes(&mut self) -> u64 {
        512 << 20
    }
}

fn keyspace() -> Keyspace {
    let registry = Registry::new("/nonexistent".into(), BackendSettings::default());
    registry.install(Backend::Tf, Arc::new(Library)).unwrap();
    let record = ModelRecord {
        backend: Backend::Tf,
        device: "CPU".into(),
        tag: Vec::new(),
        batchsize: 0,
        minbatchsize: 0,
        minbatchtimeout: 0,
        inputs: vec!["Input3".into()],
        outputs: vec!["Plus214_Output_0".into()],
        blob: b"graph".to_vec(),
    };
    let model = Arc::new(Model::create(&registry, record, b"mnist").unwrap());
    Keyspace { model }
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
