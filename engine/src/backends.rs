//! The backend registry: which backends are loaded, where plugins are looked for, and the seam
//! between the engine and a backend (a plugin in production, an in-process double in tests).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use redisai_backend_api::host::{LoadedModel, Plugin};
use redisai_backend_api::host_script::LoadedScript;
use redisai_backend_api::{
    BackendConfig, InputSpec, ModelOptions, ScriptCall, ScriptHost, TensorRef,
};
use redisai_core::{Backend, Tensor};

/// A model built by a backend, as the engine runs it.
pub trait ModelRunner: Send + Sync {
    /// Input names (ONNX graph inputs, TF node names, ...).
    fn inputs(&self) -> &[String];
    /// Output names.
    fn outputs(&self) -> &[String];
    /// Runs once; one entry per output, `None` where the model produced no tensor.
    fn run(&self, inputs: &[TensorRef<'_>]) -> Result<Vec<Option<Tensor>>, String>;
    /// Input `index`'s declared dtype and shape, where the model declares them.
    fn input_spec(&self, _index: usize) -> Option<InputSpec> {
        None
    }
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
    /// The backend may keep `blob` (a reference, not a copy) for as long as the model lives.
    fn create_model(
        &self,
        blob: &Arc<Vec<u8>>,
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
    /// The effective allocation limit changed (bytes; 0: none).
    fn set_allocation_limit(&self, _bytes: u64) {}
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
    fn input_spec(&self, index: usize) -> Option<InputSpec> {
        LoadedModel::input_spec(self, index)
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
        blob: &Arc<Vec<u8>>,
        options: &ModelOptions,
    ) -> Result<Box<dyn ModelRunner>, String> {
        Ok(Box::new(self.0.create_model_shared(blob, options)?))
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
    fn set_allocation_limit(&self, bytes: u64) {
        self.0.set_allocation_limit(bytes)
    }
}

/// Load-time settings every backend receives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendSettings {
    pub intra_op_parallelism: u32,
    pub inter_op_parallelism: u32,
    pub model_execution_timeout_ms: u64,
    pub backend_memory_limit_mb: u64,
    /// BACKEND_ALLOCATION_LIMIT in bytes (0: none); lowered to maxmemory when that is smaller.
    pub allocation_limit_bytes: u64,
    /// ALLOW_OPERATORS.
    pub allowed_operators: Vec<String>,
    /// UNRESTRICTED_LOADBACKEND: run-time loads may open libraries outside BACKENDSPATH.
    pub unrestricted_loadbackend: bool,
}

/// The allocation limit in force: BACKEND_ALLOCATION_LIMIT, or maxmemory when that is set and
/// smaller (0 means "not set" for both).
pub fn effective_allocation_limit(configured: u64, maxmemory: u64) -> u64 {
    match (configured, maxmemory) {
        (0, m) => m,
        (c, 0) => c,
        (c, m) => c.min(m),
    }
}

/// Why a backend could not be loaded (logged; the client gets RedisAI's generic reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The backend is loaded already (RedisAI refuses a second load).
    AlreadyLoaded(Backend),
    /// The library is missing, broken or not a backend.
    Library(String),
    /// A run-time load (AI.CONFIG LOADBACKEND, a lazy load) of a library outside the start-up
    /// BACKENDSPATH, refused unless UNRESTRICTED_LOADBACKEND is set.
    OutsideBackendsPath(PathBuf),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::AlreadyLoaded(b) => write!(f, "backend {} already loaded", b.name()),
            LoadError::Library(msg) => write!(f, "could not load backend: {msg}"),
            LoadError::OutsideBackendsPath(path) => write!(
                f,
                "refused to load backend {}: not under the BACKENDSPATH set at start-up \
                 (UNRESTRICTED_LOADBACKEND is off)",
                path.display()
            ),
        }
    }
}

/// The loaded backends and the plugin search path.
pub struct Registry {
    loaded: Mutex<[Option<Arc<dyn BackendLibrary>>; 4]>,
    /// Why the last lazy load of each backend failed (for the server log).
    failures: Mutex<[Option<String>; 4]>,
    backends_path: RwLock<String>,
    /// BACKENDSPATH as given at start-up, resolved (symbolic links, `..`): run-time loads must
    /// open a library below it. `None` when it does not exist.
    trusted_root: Option<PathBuf>,
    settings: BackendSettings,
    /// maxmemory as last reported by the host (0: not set).
    maxmemory: AtomicU64,
}

impl Registry {
    /// A registry with nothing loaded, looking for plugins under `backends_path`.
    pub fn new(backends_path: String, settings: BackendSettings) -> Registry {
        Registry {
            loaded: Mutex::new([None, None, None, None]),
            failures: Mutex::new([None, None, None, None]),
            trusted_root: std::fs::canonicalize(&backends_path).ok(),
            backends_path: RwLock::new(backends_path),
            settings,
            maxmemory: AtomicU64::new(0),
        }
    }

    /// The allocation limit in force now (bytes; 0: none).
    pub fn allocation_limit(&self) -> u64 {
        effective_allocation_limit(
            self.settings.allocation_limit_bytes,
            self.maxmemory.load(Ordering::Relaxed),
        )
    }

    /// The host's maxmemory (bytes; 0: not set). When the effective allocation limit changes,
    /// every loaded backend is told.
    pub fn set_maxmemory(&self, bytes: u64) {
        let before = self.allocation_limit();
        self.maxmemory.store(bytes, Ordering::Relaxed);
        let after = self.allocation_limit();
        if after != before {
            for (_, library) in self.loaded() {
                library.set_allocation_limit(after);
            }
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

    /// Loads a backend plugin from `path` as a module argument asks: trusted, from anywhere.
    pub fn load(&self, backend: Backend, path: &str) -> Result<(), LoadError> {
        self.load_from(backend, self.resolve(path))
    }

    /// Loads a backend plugin from `path` at run time (AI.CONFIG LOADBACKEND, lazy loads): the
    /// library must lie below the start-up BACKENDSPATH (after resolving links and `..`) unless
    /// UNRESTRICTED_LOADBACKEND is set.
    pub fn load_at_runtime(&self, backend: Backend, path: &str) -> Result<(), LoadError> {
        let path = self.resolve(path);
        if self.settings.unrestricted_loadbackend {
            return self.load_from(backend, path);
        }
        // A backend already loaded is reported as such, wherever the path points.
        if self.get(backend).is_some() {
            return Err(LoadError::AlreadyLoaded(backend));
        }
        match (std::fs::canonicalize(&path), &self.trusted_root) {
            (Ok(real), Some(root)) if real.starts_with(root) => self.load_from(backend, real),
            // A missing file is reported as the loader would.
            (Err(e), _) => Err(LoadError::Library(format!("{}: {e}", path.display()))),
            _ => Err(LoadError::OutsideBackendsPath(path)),
        }
    }

    fn load_from(&self, backend: Backend, library_path: PathBuf) -> Result<(), LoadError> {
        // One load at a time: the lock is held across dlopen so two loads cannot race.
        let mut slots = self.slots();
        let slot = &mut slots[backend.code() as usize];
        if slot.is_some() {
            return Err(LoadError::AlreadyLoaded(backend));
        }
        let config = BackendConfig {
            library_path,
            intra_op_parallelism: self.settings.intra_op_parallelism,
            inter_op_parallelism: self.settings.inter_op_parallelism,
            model_execution_timeout_ms: self.settings.model_execution_timeout_ms,
            backend_memory_limit_mb: self.settings.backend_memory_limit_mb,
            allocation_limit_bytes: self.allocation_limit(),
            allowed_operators: self.settings.allowed_operators.clone(),
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
        match self.load_at_runtime(backend, backend.default_library()) {
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

    /// A fresh directory under the system's temporary directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!("redisai-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("backends/inside")).unwrap();
            std::fs::create_dir_all(dir.join("outside")).unwrap();
            std::fs::write(dir.join("backends/inside/b.so"), b"not a library").unwrap();
            std::fs::write(dir.join("outside/evil.so"), b"not a library").unwrap();
            let default = dir.join("outside").join(Backend::Onnx.default_library());
            std::fs::create_dir_all(default.parent().unwrap()).unwrap();
            std::fs::write(default, b"not a library").unwrap();
            std::os::unix::fs::symlink(dir.join("outside"), dir.join("backends/link")).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn registry(root: &Path, unrestricted: bool) -> Registry {
        let settings = BackendSettings {
            unrestricted_loadbackend: unrestricted,
            ..BackendSettings::default()
        };
        Registry::new(root.to_string_lossy().into_owned(), settings)
    }

    #[test]
    fn runtime_loads_stay_under_the_start_up_backends_path() {
        let dir = TempDir::new("loadpath");
        let root = dir.0.join("backends");
        let r = registry(&root, false);
        let outside = |result| matches!(result, Err(LoadError::OutsideBackendsPath(_)));
        let evil = dir.0.join("outside/evil.so");
        // absolute, `..` and symbolic-link escapes
        assert!(outside(
            r.load_at_runtime(Backend::Onnx, evil.to_str().unwrap())
        ));
        assert!(outside(
            r.load_at_runtime(Backend::Onnx, "../outside/evil.so")
        ));
        assert!(outside(r.load_at_runtime(Backend::Onnx, "link/evil.so")));
        // a run-time BACKENDSPATH elsewhere does not move the trusted root
        r.set_backends_path(dir.0.join("outside").to_string_lossy().into_owned());
        assert!(outside(r.load_at_runtime(Backend::Onnx, "evil.so")));
        assert!(outside(r.get_or_load(Backend::Onnx).map(|_| ())));
        // inside: the loader itself refuses the file (it is no library), not the policy
        r.set_backends_path(root.to_string_lossy().into_owned());
        assert!(matches!(
            r.load_at_runtime(Backend::Onnx, "inside/b.so"),
            Err(LoadError::Library(_))
        ));
        assert!(matches!(
            r.load_at_runtime(Backend::Onnx, "inside/missing.so"),
            Err(LoadError::Library(_))
        ));
        // start-up loads (module arguments) are trusted
        assert!(matches!(
            r.load(Backend::Onnx, evil.to_str().unwrap()),
            Err(LoadError::Library(_))
        ));
        // UNRESTRICTED_LOADBACKEND lifts the rule
        let r = registry(&root, true);
        assert!(matches!(
            r.load_at_runtime(Backend::Onnx, evil.to_str().unwrap()),
            Err(LoadError::Library(_))
        ));
    }

    #[test]
    fn allocation_limit_follows_maxmemory() {
        assert_eq!(effective_allocation_limit(0, 0), 0);
        assert_eq!(effective_allocation_limit(100, 0), 100);
        assert_eq!(effective_allocation_limit(0, 50), 50);
        assert_eq!(effective_allocation_limit(100, 50), 50);
        assert_eq!(effective_allocation_limit(100, 500), 100);
        let settings = BackendSettings {
            allocation_limit_bytes: 100,
            ..BackendSettings::default()
        };
        let r = Registry::new("/nonexistent".into(), settings);
        assert_eq!(r.allocation_limit(), 100);
        r.set_maxmemory(40);
        assert_eq!(r.allocation_limit(), 40);
        r.set_maxmemory(0);
        assert_eq!(r.allocation_limit(), 100);
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
