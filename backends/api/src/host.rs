//! The host side: loads a backend's shared object and wraps its table in safe handles.

use std::ffi::CStr;
use std::os::raw::{c_char, c_void};
use std::path::Path;
use std::sync::Arc;

use libloading::os::unix::{Library, Symbol, RTLD_LOCAL, RTLD_NOW};
use redisai_core::{DType, Tensor};

use crate::dl::{empty_slots, raw_input};
use crate::ffi::*;
use crate::types::{BackendConfig, Device, InputSpec, ModelOptions, TensorRef};

/// A loaded backend. Backends are never unloaded: the library stays mapped for the process.
pub struct Plugin {
    vtable: *const BackendVTable,
    _library: Library,
}

// SAFETY: the ABI requires every table function to be callable from any thread concurrently, and
// the table itself is immutable after init.
unsafe impl Send for Plugin {}
// SAFETY: as above.
unsafe impl Sync for Plugin {}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin").finish_non_exhaustive()
    }
}

/// Takes ownership of a string returned by `free`'s library.
///
/// # Safety
/// `s` must be null or a NUL-terminated string that `free` releases.
pub(crate) unsafe fn take_string(
    s: *mut c_char,
    free: unsafe extern "C" fn(*mut c_char),
) -> String {
    if s.is_null() {
        return String::new();
    }
    // SAFETY: non-null, NUL-terminated per the ABI.
    let text = unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned();
    // SAFETY: the string came from that library and is released once.
    unsafe { free(s) };
    text
}

impl Plugin {
    /// Opens `config.library_path` (`dlopen(RTLD_NOW | RTLD_LOCAL)`), checks the ABI version and
    /// initialises the backend. Any failure is a message, never a crash.
    pub fn load(config: &BackendConfig) -> Result<Arc<Plugin>, String> {
        let path: &Path = &config.library_path;
        // SAFETY: loading a library runs its initialisers; backends are our own plugins, built
        // for this ABI, and the version handshake below refuses foreign ones.
        let library = unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL) }
            .map_err(|e| format!("{}: {e}", path.display()))?;
        // SAFETY: the symbol has the `InitFn` type by the ABI's contract.
        let init: Symbol<InitFn> = unsafe { library.get(INIT_SYMBOL) }
            .map_err(|e| format!("{}: not a RedisAI backend ({e})", path.display()))?;
        // SAFETY: as above, for the error-release symbol.
        let free_error: Symbol<unsafe extern "C" fn(*mut c_char)> =
            unsafe { library.get(FREE_INIT_ERROR_SYMBOL) }
                .map_err(|e| format!("{}: not a RedisAI backend ({e})", path.display()))?;
        let path_bytes = path.as_os_str().as_encoded_bytes();
        let allowed = config.allowed_operators.join(",");
        let raw = RaiConfig {
            library_path: RaiStr::new(path_bytes),
            intra_op_parallelism: config.intra_op_parallelism,
            inter_op_parallelism: config.inter_op_parallelism,
            model_execution_timeout_ms: config.model_execution_timeout_ms,
            backend_memory_limit_mb: config.backend_memory_limit_mb,
            allocation_limit_bytes: config.allocation_limit_bytes,
            allowed_operators: RaiStr::new(allowed.as_bytes()),
        };
        let mut err: *mut c_char = std::ptr::null_mut();
        // SAFETY: valid config and error slot for the call.
        let vtable = unsafe { init(ABI_VERSION, &raw, &mut err) };
        if vtable.is_null() {
            // SAFETY: the error string came from this library.
            let msg = unsafe { take_string(err, *free_error) };
            return Err(format!("{}: {msg}", path.display()));
        }
        // SAFETY: non-null table returned by init, valid for the life of the library.
        let version = unsafe { (*vtable).abi_version };
        if version != ABI_VERSION {
            return Err(format!(
                "{}: backend ABI version {version}, host speaks {ABI_VERSION}",
                path.display()
            ));
        }
        Ok(Arc::new(Plugin {
            vtable,
            _library: library,
        }))
    }

    pub(crate) fn table(&self) -> &BackendVTable {
        // SAFETY: checked non-null at load; never freed while the library is mapped.
        unsafe { &*self.vtable }
    }

    /// Changes the backend's allocation limit (bytes; 0: none).
    pub fn set_allocation_limit(&self, bytes: u64) {
        let t = self.table();
        // SAFETY: table function called with its own backend pointer.
        unsafe { (t.set_allocation_limit)(t.backend, bytes) }
    }

    /// The runtime's version string.
    pub fn version(&self) -> String {
        let t = self.table();
        // SAFETY: table function called with its own backend pointer.
        unsafe { take_string((t.version)(t.backend), t.free_string) }
    }

    /// The backend's INFO MODULES fields (names without the `ai_` prefix).
    pub fn info(&self) -> Vec<(String, String)> {
        unsafe extern "C" fn collect(ctx: *mut c_void, key: RaiStr, value: RaiStr) {
            // SAFETY: ctx is the Vec passed below; key/value are borrowed for this call.
            let fields = unsafe { &mut *ctx.cast::<Vec<(String, String)>>() };
            // SAFETY: borrowed strings valid during the call.
            let (k, v) = unsafe { (key.as_bytes(), value.as_bytes()) };
            fields.push((
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            ));
        }
        let mut fields: Vec<(String, String)> = Vec::new();
        let t = self.table();
        // SAFETY: the sink only touches `fields` during the call.
        unsafe { (t.info)(t.backend, collect, (&raw mut fields).cast()) };
        fields
    }

    /// Builds a model. The error is the backend's message, as the client will see it.
    /// Builds a model from a copy of `blob` (see [`Plugin::create_model_shared`]).
    pub fn create_model(
        self: &Arc<Self>,
        blob: &[u8],
        options: &ModelOptions,
    ) -> Result<LoadedModel, String> {
        self.create_model_shared(&Arc::new(blob.to_vec()), options)
    }

    /// Builds a model that keeps a reference to `blob` (the backend may read it while the model
    /// lives, instead of keeping a copy).
    pub fn create_model_shared(
        self: &Arc<Self>,
        blob: &Arc<Vec<u8>>,
        options: &ModelOptions,
    ) -> Result<LoadedModel, String> {
        let t = self.table();
        let names = RawNames::new(options);
        let raw = names.options(options);
        let mut handle: *mut c_void = std::ptr::null_mut();
        let mut err: *mut c_char = std::ptr::null_mut();
        // SAFETY: all pointers are valid for the duration of the call.
        let status = unsafe {
            (t.model_create)(
                t.backend,
                blob.as_ptr(),
                blob.len(),
                &raw,
                &mut handle,
                &mut err,
            )
        };
        if status != 0 || handle.is_null() {
            // SAFETY: error string owned by the backend.
            return Err(unsafe { take_string(err, t.free_string) });
        }
        let names = |which| -> Vec<String> {
            // SAFETY: a live model handle of this table.
            let n = unsafe { (t.model_io_count)(handle, which) };
            (0..n)
                // SAFETY: index in range; the name is an owned string of the backend.
                .map(|i| unsafe { take_string((t.model_io_name)(handle, which, i), t.free_string) })
                .collect()
        };
        Ok(LoadedModel {
            inputs: names(IO_INPUTS),
            outputs: names(IO_OUTPUTS),
            handle,
            plugin: Arc::clone(self),
            _blob: Arc::clone(blob),
        })
    }
}

/// Borrowed C views of a [`ModelOptions`]' name lists.
pub(crate) struct RawNames {
    inputs: Vec<RaiStr>,
    outputs: Vec<RaiStr>,
}

impl RawNames {
    pub(crate) fn new(options: &ModelOptions) -> RawNames {
        let raw = |list: &[String]| list.iter().map(|s| RaiStr::new(s.as_bytes())).collect();
        RawNames {
            inputs: raw(&options.inputs),
            outputs: raw(&options.outputs),
        }
    }

    /// The C options (borrowing `self` and `options`).
    pub(crate) fn options(&self, options: &ModelOptions) -> RaiModelOptions {
        let (device_kind, device_index) = match options.device {
            Device::Cpu => (DEVICE_CPU, 0),
            Device::Gpu(i) => (DEVICE_GPU, i),
        };
        RaiModelOptions {
            device_kind,
            device_index,
            device_name: RaiStr::new(options.device_name.as_bytes()),
            batchsize: options.batchsize,
            inputs: self.inputs.as_ptr(),
            n_inputs: self.inputs.len(),
            outputs: self.outputs.as_ptr(),
            n_outputs: self.outputs.len(),
        }
    }
}

/// A model built by a backend; freed through the backend when dropped.
pub struct LoadedModel {
    plugin: Arc<Plugin>,
    handle: *mut c_void,
    /// The bytes the backend may read until `model_free` (released after it, in `Drop`).
    _blob: Arc<Vec<u8>>,
    inputs: Vec<String>,
    outputs: Vec<String>,
}

// SAFETY: the ABI requires models to be usable from any thread, concurrently.
unsafe impl Send for LoadedModel {}
// SAFETY: as above.
unsafe impl Sync for LoadedModel {}

impl std::fmt::Debug for LoadedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedModel")
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .finish_non_exhaustive()
    }
}

impl Drop for LoadedModel {
    fn drop(&mut self) {
        let t = self.plugin.table();
        // SAFETY: the handle is live and freed exactly once.
        unsafe { (t.model_free)(self.handle) };
    }
}

impl LoadedModel {
    /// Input names reported by the backend.
    pub fn inputs(&self) -> &[String] {
        &self.inputs
    }

    /// Output names reported by the backend.
    pub fn outputs(&self) -> &[String] {
        &self.outputs
    }

    /// The declared dtype and shape of input `index`, if the model declares them.
    pub fn input_spec(&self, index: usize) -> Option<InputSpec> {
        let t = self.plugin.table();
        let mut dims: Vec<i64> = vec![0; 16];
        loop {
            let mut dtype = DLDataType {
                code: DLDataTypeCode(0),
                bits: 0,
                lanes: 0,
            };
            // SAFETY: a live model handle; `dims` has `dims.len()` writable entries.
            let rank = unsafe {
                (t.model_input_spec)(
                    self.handle,
                    index,
                    &mut dtype,
                    dims.as_mut_ptr(),
                    dims.len(),
                )
            };
            let rank = usize::try_from(rank).ok()?;
            if rank > dims.len() {
                dims = vec![0; rank];
                continue;
            }
            dims.truncate(rank);
            let dtype = DType::from_code_bits(dtype.code.0.into(), dtype.bits.into())?;
            return Some(InputSpec { dtype, dims });
        }
    }

    /// [`LoadedModel::run`] on host tensors.
    pub fn run_tensors(&self, inputs: &[&Tensor]) -> Result<Vec<Option<Tensor>>, String> {
        let refs: Vec<TensorRef<'_>> = inputs.iter().map(|&t| TensorRef::from(t)).collect();
        self.run(&refs)
    }

    /// Runs the model on borrowed inputs; returns one entry per output (`None` where the model
    /// produced no tensor). Output bytes are copied once, into tensors the host owns.
    pub fn run(&self, inputs: &[TensorRef<'_>]) -> Result<Vec<Option<Tensor>>, String> {
        let t = self.plugin.table();
        let raw_inputs: Vec<RaiInput> = inputs.iter().map(raw_input).collect();
        let n_outputs = self.outputs.len();
        let mut slots = empty_slots(n_outputs);
        let mut err: *mut c_char = std::ptr::null_mut();
        // SAFETY: inputs borrow live tensors for the call; `slots` has n_outputs entries.
        let status = unsafe {
            (t.model_run)(
                self.handle,
                raw_inputs.as_ptr(),
                raw_inputs.len(),
                slots.0.as_mut_ptr(),
                n_outputs,
                &mut err,
            )
        };
        if status != 0 {
            // SAFETY: error string owned by the backend.
            return Err(unsafe { take_string(err, t.free_string) });
        }
        slots.import_all()
    }
}
