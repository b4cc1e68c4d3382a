//! The backend side: implement [`BackendPlugin`] and [`PluginModel`], then call
//! [`export_backend!`](crate::export_backend) once in the backend's cdylib.
//!
//! The generated entry points convert DLPack to [`TensorRef`]s and back, turn `Err(String)` into
//! owned C strings, and catch every panic so none unwinds into the host.

use std::ffi::CString;
use std::os::raw::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use crate::dl::{fill_slots, input_views};
use crate::ffi::*;
use crate::plugin_script::{add_script_entries, ScriptPlugin};
use crate::types::{
    BackendConfig, Device, InputSpec, ModelBlob, ModelOptions, OutputTensor, TensorRef,
};

/// A backend: built once per process from the load-time configuration.
pub trait BackendPlugin: Sized + Send + Sync + 'static {
    type Model: PluginModel;

    /// Loads the runtime. An error refuses the load (`ERR error loading backend`).
    fn init(config: &BackendConfig) -> Result<Self, String>;

    /// The runtime's version, for INFO MODULES.
    fn version(&self) -> String;

    /// Extra INFO MODULES fields (names without the `ai_` prefix), in order.
    fn info(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Builds a model from its serialized blob; the error text is the reply sent to the client.
    fn create_model(&self, blob: &[u8], options: &ModelOptions) -> Result<Self::Model, String>;

    /// [`BackendPlugin::create_model`] for a blob the model may keep (the host's one copy, alive
    /// as long as the model): backends that build more sessions later keep it rather than a copy
    /// of their own. The default borrows it for the call.
    fn create_model_shared(
        &self,
        blob: ModelBlob,
        options: &ModelOptions,
    ) -> Result<Self::Model, String> {
        self.create_model(&blob, options)
    }

    /// The host's allocation limit changed (bytes; 0: none): allocations from now on follow it.
    /// Backends that enforce the limit themselves (see [`crate::sandbox`]) override this.
    fn set_allocation_limit(&self, _bytes: u64) {}
}

/// A model built by a backend. `run` may be called from several worker threads at once.
pub trait PluginModel: Send + Sync + 'static {
    /// Input names, in the order inputs are passed to `run`.
    fn inputs(&self) -> &[String];
    /// Output names, in the order `run` returns outputs.
    fn outputs(&self) -> &[String];
    /// The declared dtype and shape of input `index`, where the model declares them (the
    /// default: none).
    fn input_spec(&self, _index: usize) -> Option<InputSpec> {
        None
    }
    /// Runs the model. Returns one entry per output; `None` where the output is not a tensor.
    fn run(&self, inputs: &[TensorRef<'_>]) -> Result<Vec<Option<OutputTensor>>, String>;
}

/// Generates the exported entry points of a backend crate for `$ty: BackendPlugin`.
///
/// `export_backend!(Type)` exports a model-only backend; `export_backend!(Type, scripts)` also
/// exports its scripts (`Type: ScriptPlugin`).
#[macro_export]
macro_rules! export_backend {
    ($ty:ty) => {
        $crate::export_backend!(@with $ty, $crate::plugin::init::<$ty>);
    };
    ($ty:ty, scripts) => {
        $crate::export_backend!(@with $ty, $crate::plugin::init_with_scripts::<$ty>);
    };
    (@with $ty:ty, $init:expr) => {
        /// Entry point of the RedisAI backend ABI.
        ///
        /// # Safety
        /// Called by the host with a valid configuration and error slot.
        #[no_mangle]
        pub unsafe extern "C" fn redisai_backend_init(
            abi_version: u32,
            config: *const $crate::ffi::RaiConfig,
            err: *mut *mut ::std::os::raw::c_char,
        ) -> *const $crate::ffi::BackendVTable {
            // SAFETY: forwarded unchanged; `init` checks its arguments.
            unsafe { $init(abi_version, config, err) }
        }

        /// Releases an error string returned by `redisai_backend_init`.
        ///
        /// # Safety
        /// `s` must come from `redisai_backend_init` (or be null).
        #[no_mangle]
        pub unsafe extern "C" fn redisai_backend_free_error(s: *mut ::std::os::raw::c_char) {
            // SAFETY: forwarded unchanged.
            unsafe { $crate::plugin::free_string(s) }
        }
    };
}

/// Turns a message into an owned C string (interior NULs become spaces).
fn owned_c_string(msg: &str) -> *mut c_char {
    let cleaned: Vec<u8> = msg.bytes().map(|b| if b == 0 { b' ' } else { b }).collect();
    CString::new(cleaned)
        .expect("NUL bytes were replaced")
        .into_raw()
}

/// Stores `msg` in the caller's error slot.
///
/// # Safety
/// `err` must be null or valid for a write.
unsafe fn set_error(err: *mut *mut c_char, msg: &str) {
    if !err.is_null() {
        // SAFETY: the caller guarantees `err` is writable.
        unsafe { *err = owned_c_string(msg) };
    }
}

/// The text of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    format!("ERR backend panicked: {detail}")
}

/// Runs `f`, converting an error or a panic into a status and an error string.
///
/// # Safety
/// `err` must be null or valid for a write.
pub(crate) unsafe fn guarded(err: *mut *mut c_char, f: impl FnOnce() -> Result<(), String>) -> i32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => 0,
        Ok(Err(msg)) => {
            // SAFETY: forwarded from the caller.
            unsafe { set_error(err, &msg) };
            1
        }
        Err(payload) => {
            // SAFETY: forwarded from the caller.
            unsafe { set_error(err, &panic_message(&*payload)) };
            1
        }
    }
}

/// Releases a string handed out by this backend.
///
/// # Safety
/// `s` must be null or come from this backend's `CString::into_raw`.
pub unsafe extern "C" fn free_string(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: `s` was produced by `CString::into_raw` in this library.
        drop(unsafe { CString::from_raw(s) });
    }
}

/// Implementation of the exported init symbol.
///
/// # Safety
/// `config` must be null or point to a valid [`RaiConfig`]; `err` null or writable.
pub unsafe fn init<B: BackendPlugin>(
    abi_version: u32,
    config: *const RaiConfig,
    err: *mut *mut c_char,
) -> *const BackendVTable {
    // SAFETY: forwarded from the caller.
    unsafe { init_with::<B>(abi_version, config, err, |_| {}) }
}

/// Implementation of the exported init symbol for a backend with scripts.
///
/// # Safety
/// As [`init`].
pub unsafe fn init_with_scripts<B: ScriptPlugin>(
    abi_version: u32,
    config: *const RaiConfig,
    err: *mut *mut c_char,
) -> *const BackendVTable {
    // SAFETY: forwarded from the caller.
    unsafe { init_with::<B>(abi_version, config, err, add_script_entries::<B>) }
}

/// # Safety
/// As [`init`].
unsafe fn init_with<B: BackendPlugin>(
    abi_version: u32,
    config: *const RaiConfig,
    err: *mut *mut c_char,
    extend: fn(&mut BackendVTable),
) -> *const BackendVTable {
    if abi_version != ABI_VERSION {
        let msg = format!("backend ABI version {ABI_VERSION}, host speaks {abi_version}");
        // SAFETY: forwarded from the caller.
        unsafe { set_error(err, &msg) };
        return std::ptr::null();
    }
    if config.is_null() {
        // SAFETY: forwarded from the caller.
        unsafe { set_error(err, "missing backend configuration") };
        return std::ptr::null();
    }
    // SAFETY: checked non-null; the host keeps it valid during the call.
    let raw = unsafe { &*config };
    // SAFETY: the host passes a valid borrowed path.
    let path = unsafe { raw.library_path.as_bytes() };
    // SAFETY: the host passes a valid borrowed string.
    let allowed = unsafe { raw.allowed_operators.as_bytes() };
    let config = BackendConfig {
        library_path: PathBuf::from(String::from_utf8_lossy(path).into_owned()),
        intra_op_parallelism: raw.intra_op_parallelism,
        inter_op_parallelism: raw.inter_op_parallelism,
        model_execution_timeout_ms: raw.model_execution_timeout_ms,
        backend_memory_limit_mb: raw.backend_memory_limit_mb,
        allocation_limit_bytes: raw.allocation_limit_bytes,
        allowed_operators: crate::sandbox::parse_allow_list(&String::from_utf8_lossy(allowed)),
    };
    let mut table = std::ptr::null();
    // SAFETY: forwarded from the caller.
    let status = unsafe {
        guarded(err, || {
            let backend = B::init(&config)?;
            let mut vtable = BackendVTable {
                abi_version: ABI_VERSION,
                backend: Box::into_raw(Box::new(backend)).cast(),
                version: version::<B>,
                info: info::<B>,
                model_create: model_create::<B>,
                model_free: model_free::<B>,
                model_io_count: model_io_count::<B>,
                model_io_name: model_io_name::<B>,
                model_input_spec: model_input_spec::<B>,
                model_run: model_run::<B>,
                free_string,
                set_allocation_limit: set_allocation_limit::<B>,
                script_create: None,
                script_free: None,
                script_run: None,
            };
            extend(&mut vtable);
            // A backend lives as long as the process: the table is never freed.
            table = Box::into_raw(Box::new(vtable)).cast_const();
            Ok(())
        })
    };
    if status == 0 {
        table
    } else {
        std::ptr::null()
    }
}

/// # Safety
/// `backend` must be the pointer of a table built by [`init::<B>`].
pub(crate) unsafe fn backend_ref<'a, B: BackendPlugin>(backend: *mut c_void) -> &'a B {
    // SAFETY: `backend` came from Box::into_raw::<B> in `init` and is never freed.
    unsafe { &*backend.cast::<B>() }
}

/// # Safety
/// `model` must come from [`model_create::<B>`] and not be freed yet.
unsafe fn model_ref<'a, B: BackendPlugin>(model: *mut c_void) -> &'a B::Model {
    // SAFETY: `model` came from Box::into_raw::<B::Model> and is still alive.
    unsafe { &*model.cast::<B::Model>() }
}

unsafe extern "C" fn version<B: BackendPlugin>(backend: *mut c_void) -> *mut c_char {
    // SAFETY: the host passes the table's own backend pointer.
    let b = unsafe { backend_ref::<B>(backend) };
    let v = catch_unwind(AssertUnwindSafe(|| b.version())).unwrap_or_else(|_| "NA".into());
    owned_c_string(&v)
}

unsafe extern "C" fn info<B: BackendPlugin>(
    backend: *mut c_void,
    sink: InfoSink,
    ctx: *mut c_void,
) {
    // SAFETY: the host passes the table's own backend pointer.
    let b = unsafe { backend_ref::<B>(backend) };
    let fields = catch_unwind(AssertUnwindSafe(|| b.info())).unwrap_or_default();
    for (k, v) in fields {
        // SAFETY: the host's sink copies the borrowed strings during the call.
        unsafe { sink(ctx, RaiStr::new(k.as_bytes()), RaiStr::new(v.as_bytes())) };
    }
}

/// # Safety
/// `list` must point to `n` valid [`RaiStr`] (or `n` be 0).
pub(crate) unsafe fn strings(list: *const RaiStr, n: usize) -> Vec<String> {
    if n == 0 || list.is_null() {
        return Vec::new();
    }
    // SAFETY: the caller guarantees `n` readable entries.
    let items = unsafe { std::slice::from_raw_parts(list, n) };
    items
        .iter()
        // SAFETY: each entry is a borrowed string valid during the call.
        .map(|s| String::from_utf8_lossy(unsafe { s.as_bytes() }).into_owned())
        .collect()
}

unsafe extern "C" fn model_create<B: BackendPlugin>(
    backend: *mut c_void,
    blob: *const u8,
    len: usize,
    options: *const RaiModelOptions,
    model: *mut *mut c_void,
    err: *mut *mut c_char,
) -> i32 {
    // SAFETY: the host passes the table's own backend pointer.
    let b = unsafe { backend_ref::<B>(backend) };
    // SAFETY: the host passes `len` readable bytes, kept until `model_free` (ABI rule), and
    // valid options for the call.
    let (blob, options) = unsafe { (ModelBlob::host(blob, len), model_options(&*options)) };
    // SAFETY: `err` and `model` are writable slots of the host.
    unsafe {
        guarded(err, || {
            let m = b.create_model_shared(blob, &options)?;
            *model = Box::into_raw(Box::new(m)).cast();
            Ok(())
        })
    }
}

/// Reads model (and script) options.
///
/// # Safety
/// The strings `opts` points to must be valid during the call.
pub(crate) unsafe fn model_options(opts: &RaiModelOptions) -> ModelOptions {
    ModelOptions {
        device: if opts.device_kind == DEVICE_GPU {
            Device::Gpu(opts.device_index)
        } else {
            Device::Cpu
        },
        // SAFETY: borrowed strings valid during the call.
        device_name: String::from_utf8_lossy(unsafe { opts.device_name.as_bytes() }).into_owned(),
        batchsize: opts.batchsize,
        // SAFETY: the host passes n_inputs / n_outputs valid entries.
        inputs: unsafe { strings(opts.inputs, opts.n_inputs) },
        // SAFETY: as above.
        outputs: unsafe { strings(opts.outputs, opts.n_outputs) },
    }
}

unsafe extern "C" fn set_allocation_limit<B: BackendPlugin>(backend: *mut c_void, bytes: u64) {
    // SAFETY: the host passes the table's own backend pointer.
    let b = unsafe { backend_ref::<B>(backend) };
    let _ = catch_unwind(AssertUnwindSafe(|| b.set_allocation_limit(bytes)));
}

unsafe extern "C" fn model_free<B: BackendPlugin>(model: *mut c_void) {
    if model.is_null() {
        return;
    }
    // SAFETY: `model` came from Box::into_raw in `model_create` and is freed exactly once.
    let boxed = unsafe { Box::from_raw(model.cast::<B::Model>()) };
    // A panicking destructor must not unwind into the host.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(boxed)));
}

unsafe extern "C" fn model_io_count<B: BackendPlugin>(model: *mut c_void, which: u32) -> usize {
    // SAFETY: a live model of this backend.
    let m = unsafe { model_ref::<B>(model) };
    if which == IO_INPUTS {
        m.inputs().len()
    } else {
        m.outputs().len()
    }
}

unsafe extern "C" fn model_io_name<B: BackendPlugin>(
    model: *mut c_void,
    which: u32,
    index: usize,
) -> *mut c_char {
    // SAFETY: a live model of this backend.
    let m = unsafe { model_ref::<B>(model) };
    let list = if which == IO_INPUTS {
        m.inputs()
    } else {
        m.outputs()
    };
    owned_c_string(list.get(index).map(String::as_str).unwrap_or(""))
}

unsafe extern "C" fn model_input_spec<B: BackendPlugin>(
    model: *mut c_void,
    index: usize,
    dtype: *mut DLDataType,
    dims: *mut i64,
    max_dims: usize,
) -> i64 {
    // SAFETY: a live model of this backend.
    let m = unsafe { model_ref::<B>(model) };
    let Ok(Some(spec)) = catch_unwind(AssertUnwindSafe(|| m.input_spec(index))) else {
        return -1;
    };
    if spec.dims.len() <= max_dims {
        // SAFETY: the host passes a writable `dtype` and `max_dims` writable dims.
        unsafe {
            *dtype = DLDataType {
                code: DLDataTypeCode(spec.dtype.code()),
                bits: spec.dtype.bits(),
                lanes: 1,
            };
            std::ptr::copy_nonoverlapping(spec.dims.as_ptr(), dims, spec.dims.len());
        }
    }
    spec.dims.len() as i64
}

unsafe extern "C" fn model_run<B: BackendPlugin>(
    model: *mut c_void,
    inputs: *const RaiInput,
    n_inputs: usize,
    outputs: *mut RaiOutput,
    n_outputs: usize,
    err: *mut *mut c_char,
) -> i32 {
    // SAFETY: a live model of this backend.
    let m = unsafe { model_ref::<B>(model) };
    let run = || {
        // SAFETY: the host passes `n_inputs` inputs valid during this call.
        let views = unsafe { input_views(inputs, n_inputs) }?;
        let produced = m.run(&views)?;
        if produced.len() > n_outputs {
            return Err("ERR Model did not generate the expected number of outputs".to_string());
        }
        // SAFETY: the host passes `n_outputs` writable slots.
        unsafe { fill_slots(outputs, n_outputs, produced) };
        Ok(())
    };
    // SAFETY: the host passes a writable error slot.
    unsafe { guarded(err, run) }
}
