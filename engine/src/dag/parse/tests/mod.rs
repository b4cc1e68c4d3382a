//! Tables of exact errors (SPEC §3.16, §3.17 and the golden transcripts' DAG sections) and of
//! resolved plans, against an in-memory keyspace with models built through a backend double.

mod errors;
mod plans;

use std::collections::HashMap;
use std::sync::Arc;

use redisai_backend_api::{ModelOptions, Reply, ScriptCall, ScriptHost, TensorRef};
use redisai_core::model::ModelRecord;
use redisai_core::script::ScriptRecord;
use redisai_core::{Backend, DType, Error, Result, Tensor};

use super::parse_dag;
use crate::backends::{BackendLibrary, BackendSettings, ModelRunner, Registry, ScriptRunner};
use crate::dag::{DagCommand, DagKeys, DagOp, DagPlan, SlotSource};
use crate::model::Model;
use crate::script::Script;

/// Script ops never run in these parser tests.
struct NoHost;

impl ScriptHost for NoHost {
    fn redis_call(&self, _argv: &[&[u8]]) -> Reply {
        Reply::Nil
    }
    fn model_execute(
        &self,
        _key: &[u8],
        _inputs: &[TensorRef<'_>],
        _n_outputs: usize,
    ) -> std::result::Result<Vec<Option<Tensor>>, String> {
        Err("unused".into())
    }
}

/// A backend model that is never run (the parser only counts inputs and outputs).
struct Unrunnable;

impl ModelRunner for Unrunnable {
    fn inputs(&self) -> &[String] {
        &[]
    }
    fn outputs(&self) -> &[String] {
        &[]
    }
    fn run(&self, _: &[TensorRef<'_>]) -> Result<Vec<Option<Tensor>>, String> {
        Err("not run by the parser".into())
    }
}

/// A compiled script that is never run.
struct UnrunnableScript;

impl ScriptRunner for UnrunnableScript {
    fn run(
        &self,
        _: &ScriptCall<'_>,
        _: &dyn ScriptHost,
        _: usize,
    ) -> Result<Vec<Option<Tensor>>, String> {
        Err("not run by the parser".into())
    }
}

/// The backend double, installed as TF (models) and TORCH (scripts).
struct Library;

impl BackendLibrary for Library {
    fn version(&self) -> String {
        "test".into()
    }
    fn info(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn create_model(&self, _: &[u8], _: &ModelOptions) -> Result<Box<dyn ModelRunner>, String> {
        Ok(Box::new(Unrunnable))
    }
    fn create_script(
        &self,
        _: &[u8],
        _: &[String],
        _: &ModelOptions,
    ) -> Result<Box<dyn ScriptRunner>, String> {
        Ok(Box::new(UnrunnableScript))
    }
}

/// A TF model (its input and output names are the record's) with `inputs` and `outputs`.
fn model(registry: &Registry, inputs: usize, outputs: usize) -> Arc<Model> {
    let names = |prefix: &str, n: usize| (0..n).map(|i| format!("{prefix}{i}").into()).collect();
    let record = ModelRecord {
        backend: Backend::Tf,
        device: "CPU".into(),
        tag: Vec::new(),
        batchsize: 0,
        minbatchsize: 0,
        minbatchtimeout: 0,
        inputs: names("in", inputs),
        outputs: names("out", outputs),
        blob: b"graph".to_vec(),
    };
    Arc::new(Model::create(registry, record, b"m").unwrap())
}

/// A script on `device` declaring the golden entry points.
fn script(registry: &Registry, device: &str) -> Arc<Script> {
    let record = ScriptRecord {
        device: device.into(),
        tag: b"st1".to_vec(),
        source: b"def bar(tensors: List[Tensor], keys: List[str], args: List[str]):\n".to_vec(),
        entry_points: ["bar", "bar_variadic", "scale", "two_out"]
            .map(|n| n.as_bytes().to_vec())
            .to_vec(),
    };
    Arc::new(Script::create(registry, record, b"s").unwrap())
}

fn float(shape: Vec<i64>, values: &[&str]) -> Arc<Tensor> {
    let values: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
    Arc::new(Tensor::from_values(DType::Float, shape, &values).unwrap())
}

/// The keyspace of the golden DAG sections: tensors `ia`, `ib`, `i3`; models `m_tf` and
/// `m_torch` (2 inputs, 1 output), `m1` (1 → 1), `m12` (1 → 2); scripts `s1` (CPU) and `s_gpu`
/// (GPU:0); `plain` holds a string.
pub(super) struct Keyspace {
    pub tensors: HashMap<&'static [u8], Arc<Tensor>>,
    pub models: HashMap<&'static [u8], Arc<Model>>,
    pub scripts: HashMap<&'static [u8], Arc<Script>>,
    /// Every key read by `tensor`, in order.
    pub fetched: Vec<Vec<u8>>,
    /// The KEYS of every `script_host` asked for, in order.
    pub hosts: Vec<Vec<Vec<u8>>>,
}

impl Keyspace {
    pub fn new() -> Keyspace {
        let registry = Registry::new("/nonexistent".into(), BackendSettings::default());
        registry.install(Backend::Tf, Arc::new(Library)).unwrap();
        registry.install(Backend::Torch, Arc::new(Library)).unwrap();
        let tensors = HashMap::from([
            (&b"ia"[..], float(vec![2, 2], &["2", "3", "2", "3"])),
            (&b"ib"[..], float(vec![2, 2], &["2", "3", "2", "3"])),
            (
                &b"i3"[..],
                float(vec![2, 3], &["1", "2", "3", "4", "5", "6"]),
            ),
        ]);
        let models = HashMap::from([
            (&b"m_tf"[..], model(&registry, 2, 1)),
            (&b"m_torch"[..], model(&registry, 2, 1)),
            (&b"m1"[..], model(&registry, 1, 1)),
            (&b"m12"[..], model(&registry, 1, 2)),
        ]);
        let scripts = HashMap::from([
            (&b"s1"[..], script(&registry, "CPU")),
            (&b"s_gpu"[..], script(&registry, "GPU:0")),
        ]);
        Keyspace {
            tensors,
            models,
            scripts,
            fetched: Vec::new(),
            hosts: Vec::new(),
        }
    }
}

impl DagKeys for Keyspace {
    fn tensor(&mut self, key: &[u8]) -> Result<Arc<Tensor>> {
        self.fetched.push(key.to_vec());
        if key == b"plain" {
            return Err(Error::WrongType);
        }
        self.tensors.get(key).cloned().ok_or(Error::TensorKeyEmpty)
    }
    fn model(&mut self, key: &[u8]) -> Result<Arc<Model>> {
        if key == b"plain" {
            return Err(Error::WrongType);
        }
        self.models.get(key).cloned().ok_or(Error::ModelKeyEmpty)
    }
    fn script(&mut self, key: &[u8]) -> Result<Arc<Script>> {
        if key == b"plain" || self.models.contains_key(key) {
            return Err(Error::WrongType);
        }
        self.scripts.get(key).cloned().ok_or(Error::ScriptKeyEmpty)
    }
    fn script_host(&mut self, keys: &[Vec<u8>]) -> Arc<dyn ScriptHost + Send + Sync> {
        self.hosts.push(keys.to_vec());
        Arc::new(NoHost)
    }
    fn max_tensor_bytes(&mut self) -> u64 {
        1 << 20
    }
}

/// Splits a command on spaces; the DAG command is argv[0].
fn argv(cmd: &str) -> Vec<&[u8]> {
    cmd.split(' ').map(str::as_bytes).collect()
}

fn command(name: &[u8]) -> DagCommand {
    match name.to_ascii_uppercase().as_slice() {
        b"AI.DAGEXECUTE" => DagCommand::Execute,
        b"AI.DAGEXECUTE_RO" => DagCommand::ExecuteRo,
        b"AI.DAGRUN" => DagCommand::Run,
        b"AI.DAGRUN_RO" => DagCommand::RunRo,
        other => panic!("not a DAG command: {}", String::from_utf8_lossy(other)),
    }
}

/// Parses `cmd` against `keys`.
fn parse_with(cmd: &str, keys: &mut Keyspace) -> Result<DagPlan> {
    let argv = argv(cmd);
    parse_dag(command(argv[0]), &argv, keys)
}

/// Parses `cmd` against a fresh [`Keyspace`].
fn parse(cmd: &str) -> Result<DagPlan> {
    parse_with(cmd, &mut Keyspace::new())
}

/// A plan in short: slot sources (`L`oaded, `S`et, `P`roduced) and ops.
fn describe(plan: &DagPlan) -> (String, String) {
    let slots: Vec<&str> = plan
        .slots
        .iter()
        .map(|s| match s {
            SlotSource::Loaded(_) => "L",
            SlotSource::Set(_) => "S",
            SlotSource::Produced => "P",
        })
        .collect();
    let ops: Vec<String> = plan
        .ops
        .iter()
        .map(|op| match op {
            DagOp::TensorSet { output } => format!("set {output}"),
            DagOp::TensorGet { input, .. } => format!("get {input}"),
            DagOp::ModelExecute {
                inputs, outputs, ..
            } => format!("model {inputs:?} -> {outputs:?}"),
            DagOp::ScriptExecute {
                function,
                inputs,
                outputs,
                ..
            } => format!("script {function} {inputs:?} -> {outputs:?}"),
        })
        .collect();
    (slots.join(" "), ops.join(" | "))
}
