//! The keyspace double of the DAG parser: models, scripts and tensors it can look up.

#![allow(unused_imports)]
use super::*;

/// A backend model never run: the parser only counts its inputs and outputs.
pub(crate) struct Unrunnable;

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

/// A compiled script never run.
pub(crate) struct UnrunnableScript;

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
pub(crate) struct NoHost;

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

/// The backend double, installed as TF (models) and TORCH (scripts).
pub(crate) struct Library;

impl BackendLibrary for Library {
    fn version(&self) -> String {
        "test".into()
    }
    fn info(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn create_model(
        &self,
        _: &[u8],
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

/// Scripts `s` (CPU) and `s2` (GPU:1), built once.
pub(crate) fn scripts() -> &'static HashMap<&'static [u8], Arc<Script>> {
    static SCRIPTS: OnceLock<HashMap<&'static [u8], Arc<Script>>> = OnceLock::new();
    SCRIPTS.get_or_init(|| {
        let registry = Registry::new("/nonexistent".into(), BackendSettings::default());
        registry.install(Backend::Torch, Arc::new(Library)).unwrap();
        let script = |key: &'static str, device: &str| {
            let record = ScriptRecord {
                device: device.into(),
                tag: Vec::new(),
                source: b"def bar(tensors: List[Tensor], keys: List[str], args: List[str]):\n"
                    .to_vec(),
                entry_points: vec![b"bar".to_vec()],
            };
            let s = Script::create(&registry, record, key.as_bytes()).unwrap();
            (key.as_bytes(), Arc::new(s))
        };
        HashMap::from([script("s", "CPU"), script("s2", "GPU:1")])
    })
}

/// Models `m` (1 input, 1 output), `m2` (2 → 1), `m12` (1 → 2) and `m0` (0 → 0), built once.
pub(crate) fn models() -> &'static HashMap<&'static [u8], Arc<Model>> {
    static MODELS: OnceLock<HashMap<&'static [u8], Arc<Model>>> = OnceLock::new();
    MODELS.get_or_init(|| {
        let registry = Registry::new("/nonexistent".into(), BackendSettings::default());
        registry.install(Backend::Tf, Arc::new(Library)).unwrap();
        let model = |key: &'static str, inputs: usize, outputs: usize| {
            let names =
                |p: &str, n: usize| (0..n).map(|i| format!("{p}{i}").into_bytes()).collect();
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
            let m = Model::create(&registry, record, key.as_bytes()).unwrap();
            (key.as_bytes(), Arc::new(m))
        };
        HashMap::from([
            model("m", 1, 1),
            model("m2", 2, 1),
            model("m12", 1, 2),
            model("m0", 0, 0),
        ])
    })
}

/// Tensors `a`, `b`, `ia`, `ib` (FLOAT 2x2) and `x` (STRING); the models of [`models`] and the
/// scripts of [`scripts`]; `plain` holds another type; every key looked up is recorded.
#[derive(Default)]
pub(crate) struct Keyspace {
    pub(crate) tensors_read: Vec<Vec<u8>>,
    pub(crate) models_read: Vec<Vec<u8>>,
    pub(crate) scripts_read: Vec<Vec<u8>>,
}

impl DagKeys for Keyspace {
    fn tensor(&mut self, key: &[u8]) -> Result<Arc<Tensor>> {
        self.tensors_read.push(key.to_vec());
        match key {
            b"a" | b"b" | b"ia" | b"ib" => Ok(Arc::new(
                Tensor::from_blob(DType::Float, vec![2, 2], &[0; 16]).unwrap(),
            )),
            b"x" => Ok(Arc::new(
                Tensor::from_blob(DType::String, vec![1], b"s\0").unwrap(),
            )),
            b"plain" => Err(Error::WrongType),
            _ => Err(Error::TensorKeyEmpty),
        }
    }
    fn model(&mut self, key: &[u8]) -> Result<Arc<Model>> {
        self.models_read.push(key.to_vec());
        match key {
            b"plain" => Err(Error::WrongType),
            _ => models().get(key).cloned().ok_or(Error::ModelKeyEmpty),
        }
    }
    fn script(&mut self, key: &[u8]) -> Result<Arc<Script>> {
        self.scripts_read.push(key.to_vec());
        if key == b"plain" || models().contains_key(key) {
            return Err(Error::WrongType);
        }
        scripts().get(key).cloned().ok_or(Error::ScriptKeyEmpty)
    }
    fn script_host(&mut self, _keys: &[Vec<u8>]) -> Arc<dyn ScriptHost + Send + Sync> {
        Arc::new(NoHost)
    }
    fn max_tensor_bytes(&mut self) -> u64 {
        1 << 16
    }
}
