//! Test doubles of the engine's seams, for the engine's own tests, its property tests and its
//! benchmarks (the `testing` feature): a backend whose models and scripts are never run, models
//! and scripts built through it, and an in-memory keyspace for the DAG parser.

use std::collections::HashMap;
use std::sync::Arc;

use redisai_backend_api::{ModelOptions, Reply, ScriptCall, ScriptHost, TensorRef};
use redisai_core::model::ModelRecord;
use redisai_core::script::ScriptRecord;
use redisai_core::{Backend, Error, Result, Tensor};

use crate::backends::{BackendLibrary, BackendSettings, ModelRunner, Registry, ScriptRunner};
use crate::dag::DagKeys;
use crate::model::Model;
use crate::script::Script;

/// A backend model that is never run (parsers only count its inputs and outputs).
pub struct Unrunnable;

impl ModelRunner for Unrunnable {
    fn inputs(&self) -> &[String] {
        &[]
    }
    fn outputs(&self) -> &[String] {
        &[]
    }
    fn run(&self, _: &[TensorRef<'_>]) -> std::result::Result<Vec<Option<Tensor>>, String> {
        Err("not run by the parser".into())
    }
}

/// A compiled script that is never run.
pub struct UnrunnableScript;

impl ScriptRunner for UnrunnableScript {
    fn run(
        &self,
        _: &ScriptCall<'_>,
        _: &dyn ScriptHost,
        _: usize,
    ) -> std::result::Result<Vec<Option<Tensor>>, String> {
        Err("not run by the parser".into())
    }
}

/// What a script op gets to serve its calls (never called by the parser).
pub struct NoHost;

impl ScriptHost for NoHost {
    fn redis_call(&self, _: &[&[u8]]) -> Reply {
        Reply::Nil
    }
    fn model_execute(
        &self,
        _: &[u8],
        _: &[TensorRef<'_>],
        _: usize,
    ) -> std::result::Result<Vec<Option<Tensor>>, String> {
        Err("unused".into())
    }
}

/// The backend double: builds [`Unrunnable`] models and [`UnrunnableScript`] scripts.
pub struct Library;

impl BackendLibrary for Library {
    fn version(&self) -> String {
        "test".into()
    }
    fn info(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn create_model(
        &self,
        _: &Arc<Vec<u8>>,
        _: &ModelOptions,
    ) -> std::result::Result<Box<dyn ModelRunner>, String> {
        Ok(Box::new(Unrunnable))
    }
    fn create_script(
        &self,
        _: &[u8],
        _: &[String],
        _: &ModelOptions,
    ) -> std::result::Result<Box<dyn ScriptRunner>, String> {
        Ok(Box::new(UnrunnableScript))
    }
}

/// A registry with [`Library`] installed as TF (models keep their record's names) and TORCH
/// (scripts).
pub fn registry() -> Registry {
    let registry = Registry::new("/nonexistent".into(), BackendSettings::default());
    registry.install(Backend::Tf, Arc::new(Library)).unwrap();
    registry.install(Backend::Torch, Arc::new(Library)).unwrap();
    registry
}

/// A TF model stored at `key` with `inputs` inputs and `outputs` outputs.
pub fn model(registry: &Registry, key: &[u8], inputs: usize, outputs: usize) -> Arc<Model> {
    let names = |p: &str, n: usize| (0..n).map(|i| format!("{p}{i}").into_bytes()).collect();
    let record = ModelRecord {
        backend: Backend::Tf,
        device: "CPU".into(),
        tag: Vec::new(),
        batchsize: 0,
        minbatchsize: 0,
        minbatchtimeout: 0,
        inputs: names("in", inputs),
        outputs: names("out", outputs),
        blob: Arc::new(b"graph".to_vec()),
    };
    Arc::new(Model::create(registry, record, key).unwrap())
}

/// A script stored at `key` on `device`, declaring `entry_points`.
pub fn script(
    registry: &Registry,
    key: &[u8],
    device: &str,
    tag: &[u8],
    entry_points: &[&str],
) -> Arc<Script> {
    let record = ScriptRecord {
        device: device.into(),
        tag: tag.to_vec(),
        source: b"def bar(tensors: List[Tensor], keys: List[str], args: List[str]):\n".to_vec(),
        entry_points: entry_points.iter().map(|n| n.as_bytes().to_vec()).collect(),
    };
    Arc::new(Script::create(registry, record, key).unwrap())
}

/// An in-memory keyspace for the DAG parser: the key `plain` holds another type (WRONGTYPE), so
/// does a model's key asked for as a script; every lookup is recorded.
pub struct Keyspace {
    pub tensors: HashMap<Vec<u8>, Arc<Tensor>>,
    pub models: HashMap<Vec<u8>, Arc<Model>>,
    pub scripts: HashMap<Vec<u8>, Arc<Script>>,
    /// What `max_tensor_bytes` answers.
    pub max_tensor_bytes: u64,
    /// Whether lookups are recorded (benchmarks turn it off).
    pub record: bool,
    /// Every key looked up, per kind, in order.
    pub tensors_read: Vec<Vec<u8>>,
    pub models_read: Vec<Vec<u8>>,
    pub scripts_read: Vec<Vec<u8>>,
    /// The KEYS of every `script_host` asked for, in order.
    pub hosts: Vec<Vec<Vec<u8>>>,
}

impl Default for Keyspace {
    fn default() -> Self {
        Keyspace {
            tensors: HashMap::new(),
            models: HashMap::new(),
            scripts: HashMap::new(),
            max_tensor_bytes: 1 << 20,
            record: true,
            tensors_read: Vec::new(),
            models_read: Vec::new(),
            scripts_read: Vec::new(),
            hosts: Vec::new(),
        }
    }
}

/// Records `key` in `list` when the keyspace records lookups.
fn note(record: bool, list: &mut Vec<Vec<u8>>, key: &[u8]) {
    if record {
        list.push(key.to_vec());
    }
}

impl DagKeys for Keyspace {
    fn tensor(&mut self, key: &[u8]) -> Result<Arc<Tensor>> {
        note(self.record, &mut self.tensors_read, key);
        if key == b"plain" {
            return Err(Error::WrongType);
        }
        self.tensors.get(key).cloned().ok_or(Error::TensorKeyEmpty)
    }
    fn model(&mut self, key: &[u8]) -> Result<Arc<Model>> {
        note(self.record, &mut self.models_read, key);
        if key == b"plain" {
            return Err(Error::WrongType);
        }
        self.models.get(key).cloned().ok_or(Error::ModelKeyEmpty)
    }
    fn script(&mut self, key: &[u8]) -> Result<Arc<Script>> {
        note(self.record, &mut self.scripts_read, key);
        if key == b"plain" || self.models.contains_key(key) {
            return Err(Error::WrongType);
        }
        self.scripts.get(key).cloned().ok_or(Error::ScriptKeyEmpty)
    }
    fn script_host(&mut self, keys: &[Vec<u8>]) -> Arc<dyn ScriptHost + Send + Sync> {
        if self.record {
            self.hosts.push(keys.to_vec());
        }
        Arc::new(NoHost)
    }
    fn max_tensor_bytes(&mut self) -> u64 {
        self.max_tensor_bytes
    }
}
