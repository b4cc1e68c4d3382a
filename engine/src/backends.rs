//! The backend registry: which backends are loaded, where plugins are looked for, and the seam
//! between the engine and a backend (a plugin in production, an in-process double in tests).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use redisai_backend_api::host::{LoadedModel, Plugin};
use redisai_backend_api::host_script::LoadedScript;
use redisai_backend_api::{BackendConfig, ModelOptions, ScriptCall, ScriptHost, TensorRef};
use redisai_core::{Backend, Tensor};

/// A model built by a backend, as the engine runs it.
pub trait ModelRunner: Send + Sync {
    /// Input names (ONNX graph inputs, TF node names, ...).
    fn inputs(&self) -> &[String];
    /// Output names.
    fn outputs(&self) -> &[String];
    /// Runs once; one entry per output, `None` where the model produced no tensor.
    fn run(&self, inputs: &[TensorRef<'_>]) -> Result<Vec<Option<Tensor>>, String>;
}

/// A script compiled by a backend (TORCH), as the engine runs it.
pub trait ScriptRunner: Send + Sync {
    /// Runs one function; `host` serves its Redis and model calls. One entry per output.
    fn run(
        &self,
        call: &ScriptCall<'_>,
        host: &dyn ScriptHost,
        n_outputs: usize,
    ) -> Result<Vec<Option<Tensor>>, String>;
}

impl ScriptRunner for LoadedScript {
    fn run(
        &self,
        call: &ScriptCall<'_>,
        host: &dyn ScriptHost,
        n_outputs: usize,
    ) -> Result<Vec<Option<Tensor>>, String> {
        LoadedScript::run(self, call, host, n_outputs)
    }
}

/// A loaded backend.
pub trait BackendLibrary: Send + Sync {
    /// The runtime's version.
    fn version(&self) -> String;
    /// INFO MODULES fields (names without `ai_`).
    fn info(&self) -> Vec<(String, String)>;
    /// Builds a model; the error text is the client's reply.
    fn create_model(
        &self,
        blob: &[u8],
        options: &ModelOptions,
    ) -> Result<Box<dyn ModelRunner>, String>;
    /// Compiles a script (TORCH only); the error text is the client's reply.
    fn create_script(
        &self,
        _source: &[u8],
        _entry_points: &[String],
        _options: &ModelOptions,
    ) -> Result<Box<dyn ScriptRunner>, String> {
        Err("ERR this backend does not run scripts".into())
    }
}

impl ModelRunner for LoadedModel {
    fn inputs(&self) -> &[String] {
        LoadedModel::inputs(self)
    }
    fn outputs(&self) -> &[String] {
        LoadedModel::outputs(self)
    }
    fn run(&self, inputs: &[TensorRef<'_>]) -> Result<Vec<Option<Tensor>>, String> {
        LoadedModel::run(self, inputs)
    }
}

struct PluginLibrary(Arc<Plugin>);

impl BackendLibrary for PluginLibrary {
    fn version(&self) -> String {
        self.0.version()
    }
    fn info(&self) -> Vec<(String, String)> {
        self.0.info()
    }
    fn create_model(
        &self,
        blob: &[u8],
        options: &ModelOptions,
    ) -> Result<Box<dyn ModelRunner>, String> {
        Ok(Box::new(self.0.create_model(blob, options)?))
    }
    fn create_script(
        &self,
        source: &[u8],
        entry_points: &[String],
        options: &ModelOptions,
    ) -> Result<Box<dyn ScriptRunner>, String> {
        Ok(Box::new(self.0.create_script(
            source,
            entry_points,
            options,
        )?))
    }
}

/// Load-time settings every backend receives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendSettings {
    pub intra_op_parallelism: u32,
    pub inter_op_parallelism: u32,
    pub model_execution_timeout_ms: u64,
    pub backend_memory_limit_mb: u64,
}

/// Why a backend could not be loaded (logged; the client gets RedisAI's generic reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The backend is loaded already (RedisAI refuses a second load).
    AlreadyLoaded(Backend),
    /// The library is missing, broken or not a backend.
    Library(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::AlreadyLoaded(b) => write!(f, "backend {} already loaded", b.name()),
            LoadError::Library(msg) => write!(f, "could not load backend: {msg}"),
        }
    }
}

/// The loaded backends and the plugin search path.
pub struct Registry {
    loaded: Mutex<[Option<Arc<dyn BackendLibrary>>; 4]>,
    /// Why the last lazy load of each backend failed (for the server log).
    failures: Mutex<[Option<String>; 4]>,
    backends_path: RwLock<String>,
    settings: BackendSettings,
}

impl Registry {
    /// A registry with nothing loaded, looking for plugins under `backends_path`.
    pub fn new(backends_path: String, settings: BackendSettings) -> Registry {
        Registry {
            loaded: Mutex::new([None, None, None, None]),
            failures: Mutex::new([None, None, None, None]),
            backends_path: RwLock::new(backends_path),
            settings,
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, [Option<Arc<dyn BackendLibrary>>; 4]> {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The backend, if loaded.
    pub fn get(&self, backend: Backend) -> Option<Arc<dyn BackendLibrary>> {
        self.slots()[backend.code() as usize].clone()
    }

    /// BACKENDSPATH as set.
    pub fn backends_path(&self) -> String {
        self.backends_path
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// AI.CONFIG BACKENDSPATH (stored verbatim, not validated).
    pub fn set_backends_path(&self, path: String) {
        *self
            .backends_path
            .write()
            .unwrap_or_else(|p| p.into_inner()) = path;
    }

    /// `path` as RedisAI resolves it: absolute as is, relative under BACKENDSPATH.
    pub fn resolve(&self, path: &str) -> PathBuf {
        if path.starts_with('/') {
            PathBuf::from(path)
        } else {
            Path::new(&self.backends_path()).join(path)
        }
    }

    /// Installs an already-built backend (tests use an in-process double).
    pub fn install(
        &self,
        backend: Backend,
        library: Arc<dyn BackendLibrary>,
    ) -> Result<(), LoadError> {
        let mut slots = self.slots();
        let slot = &mut slots[backend.code() as usize];
        if slot.is_some() {
            return Err(LoadError::AlreadyLoaded(backend));
        }
        *slot = Some(library);
        Ok(())
    }

    /// Loads a backend plugin from `path` (module argument or AI.CONFIG LOADBACKEND).
    pub fn load(&self, backend: Backend, path: &str) -> Result<(), LoadError> {
        // One load at a time: the lock is held across dlopen so two loads cannot race.
        let mut slots = self.slots();
        let slot = &mut slots[backend.code() as usize];
        if slot.is_some() {
            return Err(LoadError::AlreadyLoaded(backend));
        }
        let config = BackendConfig {
            library_path: self.resolve(path),
            intra_op_parallelism: self.settings.intra_op_parallelism,
            inter_op_parallelism: self.settings.inter_op_parallelism,
            model_execution_timeout_ms: self.settings.model_execution_timeout_ms,
            backend_memory_limit_mb: self.settings.backend_memory_limit_mb,
        };
        let plugin = Plugin::load(&config).map_err(LoadError::Library)?;
        *slot = Some(Arc::new(PluginLibrary(plugin)));
        Ok(())
    }

    /// The backend, loading it from its default path under BACKENDSPATH when it is not loaded
    /// yet (the lazy load of MODELSTORE and RDB loading).
    pub fn get_or_load(&self, backend: Backend) -> Result<Arc<dyn BackendLibrary>, LoadError> {
        if let Some(b) = self.get(backend) {
            return Ok(b);
        }
        match self.load(backend, backend.default_library()) {
            Ok(()) | Err(LoadError::AlreadyLoaded(_)) => {}
            Err(e) => {
                self.failures.lock().unwrap_or_else(|p| p.into_inner())[backend.code() as usize] =
                    Some(e.to_string());
                return Err(e);
            }
        }
        self.get(backend)
            .ok_or_else(|| LoadError::Library("backend vanished".into()))
    }

    /// Why the last lazy load of `backend` failed, if it did (taken: reported once).
    pub fn take_load_failure(&self, backend: Backend) -> Option<String> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())[backend.code() as usize].take()
    }

    /// The loaded backends, in RDB code order (TF, TFLITE, TORCH, ONNX).
    pub fn loaded(&self) -> Vec<(Backend, Arc<dyn BackendLibrary>)> {
        let slots = self.slots();
        Backend::ALL
            .into_iter()
            .filter_map(|b| slots[b.code() as usize].clone().map(|l| (b, l)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_under_backends_path() {
        let r = Registry::new("/opt/ai/backends".into(), BackendSettings::default());
        assert_eq!(
            r.resolve("x/y.so"),
            PathBuf::from("/opt/ai/backends/x/y.so")
        );
        assert_eq!(r.resolve("/abs/y.so"), PathBuf::from("/abs/y.so"));
        r.set_backends_path("rel".into());
        assert_eq!(r.resolve("y.so"), PathBuf::from("rel/y.so"));
    }

    #[test]
    fn missing_library_is_an_error_not_a_crash() {
        let r = Registry::new("/nonexistent".into(), BackendSettings::default());
        assert!(matches!(
            r.load(Backend::Onnx, "nosuch.so"),
            Err(LoadError::Library(_))
        ));
        assert!(r.get(Backend::Onnx).is_none());
        assert!(matches!(
            r.get_or_load(Backend::Tf),
            Err(LoadError::Library(_))
        ));
    }

    #[test]
    fn a_library_that_is_not_a_backend_is_refused() {
        // libc is a real shared object without the backend's entry point.
        let r = Registry::new("/".into(), BackendSettings::default());
        let libc = [
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
        ]
        .into_iter()
        .find(|p| Path::new(p).exists());
        if let Some(libc) = libc {
            match r.load(Backend::Onnx, libc) {
                Err(LoadError::Library(msg)) => assert!(msg.contains("not a RedisAI backend")),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}
