//! The C side of the ABI: `#[repr(C)]` types shared by the host and every backend.
//!
//! Rules of the road:
//! - The host calls [`INIT_SYMBOL`] once per process with [`ABI_VERSION`]; a backend built for
//!   another version refuses (returns null with an error), and so does the host when the table it
//!   gets back carries another version.
//! - Strings passed in ([`RaiStr`]) are borrowed for the duration of the call. Strings returned
//!   (`*mut c_char`: version, names, errors) are owned by the caller, who releases them with the
//!   table's `free_string`.
//! - Input tensors are borrowed `DLTensor`s in host memory, contiguous and row-major (strides are
//!   null), valid only during `model_run`. Output tensors are `DLManagedTensor`s the backend owns;
//!   the host copies them and calls their deleter.
//! - STRING tensors use type code [`STRING_CODE`] (RedisAI's DLPack fork calls it kDLString) with
//!   8 bits: NUL-terminated elements laid end to end, their total byte length in `nbytes`.
//! - The blob passed to `model_create` stays valid and unchanged until the model is released
//!   with `model_free` (the host keeps the model's one copy of it): a backend may build more
//!   sessions from it later instead of keeping a copy of its own (since ABI 4).
//! - Every function of the table may be called from any thread, concurrently.

use std::os::raw::{c_char, c_void};

pub use dlpark::ffi::{
    DLDataType, DLDataTypeCode, DLDevice, DLDeviceType, DLManagedTensor, DLTensor,
};

/// Version of this ABI. Bump on any change of the types or the table below.
pub const ABI_VERSION: u32 = 4;

/// The one symbol a backend exports, of type [`InitFn`].
pub const INIT_SYMBOL: &[u8] = b"redisai_backend_init\0";

/// DLPack type code of STRING tensors (RedisAI's fork: kDLString).
pub const STRING_CODE: u8 = 7;

/// A borrowed byte string.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RaiStr {
    pub ptr: *const u8,
    pub len: usize,
}

impl RaiStr {
    /// Borrows `bytes` for the duration of a call.
    pub fn new(bytes: &[u8]) -> RaiStr {
        RaiStr {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
        }
    }

    /// # Safety
    /// `ptr` must point to `len` readable bytes (or `len` must be 0) for the lifetime `'a`.
    pub unsafe fn as_bytes<'a>(self) -> &'a [u8] {
        if self.len == 0 {
            &[]
        } else {
            // SAFETY: the caller guarantees ptr/len describe readable memory for 'a.
            unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
        }
    }
}

/// Load-time configuration (see [`crate::BackendConfig`]).
#[repr(C)]
pub struct RaiConfig {
    pub library_path: RaiStr,
    pub intra_op_parallelism: u32,
    pub inter_op_parallelism: u32,
    pub model_execution_timeout_ms: u64,
    pub backend_memory_limit_mb: u64,
    /// Bytes one allocation of the backend may take at most (0: no limit).
    pub allocation_limit_bytes: u64,
    /// ALLOW_OPERATORS: operator names outside the sandbox policy that are allowed anyway,
    /// separated by commas (empty: none).
    pub allowed_operators: RaiStr,
}

/// Device kinds of [`RaiModelOptions::device_kind`].
pub const DEVICE_CPU: u32 = 0;
pub const DEVICE_GPU: u32 = 1;

/// Model creation options (see [`crate::ModelOptions`]).
#[repr(C)]
pub struct RaiModelOptions {
    pub device_kind: u32,
    pub device_index: u32,
    pub device_name: RaiStr,
    pub batchsize: u64,
    pub inputs: *const RaiStr,
    pub n_inputs: usize,
    pub outputs: *const RaiStr,
    pub n_outputs: usize,
}

/// An input tensor: a borrowed DLPack view plus its byte length (needed for STRING).
#[repr(C)]
pub struct RaiInput {
    pub tensor: DLTensor,
    pub nbytes: u64,
}

/// An output slot: null when the model produced nothing usable there (e.g. a non-tensor
/// ONNX output), else a tensor owned by the backend until its deleter is called.
#[repr(C)]
pub struct RaiOutput {
    pub tensor: *mut DLManagedTensor,
    pub nbytes: u64,
}

/// Which list [`BackendVTable::model_io_count`] / `model_io_name` read.
pub const IO_INPUTS: u32 = 0;
pub const IO_OUTPUTS: u32 = 1;

/// Receives one INFO field (name without the `ai_` prefix, value).
pub type InfoSink = unsafe extern "C" fn(ctx: *mut c_void, key: RaiStr, value: RaiStr);

/// The function table a backend returns from [`INIT_SYMBOL`]. Status-returning functions give 0
/// on success; on failure they return non-zero and store an owned message in `*err`.
#[repr(C)]
pub struct BackendVTable {
    /// Must equal [`ABI_VERSION`].
    pub abi_version: u32,
    /// The backend instance, passed back to the functions below.
    pub backend: *mut c_void,
    /// The runtime's version (owned string).
    pub version: unsafe extern "C" fn(backend: *mut c_void) -> *mut c_char,
    /// Reports the backend's INFO MODULES fields to `sink`.
    pub info: unsafe extern "C" fn(backend: *mut c_void, sink: InfoSink, ctx: *mut c_void),
    /// Builds a model from a serialized blob.
    pub model_create: unsafe extern "C" fn(
        backend: *mut c_void,
        blob: *const u8,
        len: usize,
        options: *const RaiModelOptions,
        model: *mut *mut c_void,
        err: *mut *mut c_char,
    ) -> i32,
    /// Releases a model.
    pub model_free: unsafe extern "C" fn(model: *mut c_void),
    /// Number of inputs ([`IO_INPUTS`]) or outputs ([`IO_OUTPUTS`]).
    pub model_io_count: unsafe extern "C" fn(model: *mut c_void, which: u32) -> usize,
    /// Name of an input or output (owned string; may be empty).
    pub model_io_name:
        unsafe extern "C" fn(model: *mut c_void, which: u32, index: usize) -> *mut c_char,
    /// The declared dtype and shape of input `index`: returns the rank, or -1 when the model
    /// declares none; when the rank is at most `max_dims`, `*dtype` and the first `rank` entries
    /// of `dims` are written (`-1` for a dimension the model leaves open). Since ABI 4.
    pub model_input_spec: unsafe extern "C" fn(
        model: *mut c_void,
        index: usize,
        dtype: *mut DLDataType,
        dims: *mut i64,
        max_dims: usize,
    ) -> i64,
    /// Runs a model: `n_inputs` borrowed inputs, `n_outputs` output slots to fill.
    pub model_run: unsafe extern "C" fn(
        model: *mut c_void,
        inputs: *const RaiInput,
        n_inputs: usize,
        outputs: *mut RaiOutput,
        n_outputs: usize,
        err: *mut *mut c_char,
    ) -> i32,
    /// Releases a string this table returned.
    pub free_string: unsafe extern "C" fn(s: *mut c_char),
    /// Changes the allocation limit (bytes; 0: none) for the allocations that follow.
    pub set_allocation_limit: unsafe extern "C" fn(backend: *mut c_void, bytes: u64),
    /// Compiles a script (null for backends without scripts: all but TORCH).
    pub script_create: Option<ScriptCreateFn>,
    /// Releases a script.
    pub script_free: Option<unsafe extern "C" fn(script: *mut c_void)>,
    /// Runs a function of a script.
    pub script_run: Option<ScriptRunFn>,
}

/// Compiles `source`, checking that every entry point exists with the
/// `(tensors: List[Tensor], keys: List[str], args: List[str])` signature.
pub type ScriptCreateFn = unsafe extern "C" fn(
    backend: *mut c_void,
    source: RaiStr,
    entry_points: *const RaiStr,
    n_entry_points: usize,
    options: *const RaiModelOptions,
    script: *mut *mut c_void,
    err: *mut *mut c_char,
) -> i32;

/// Runs `function` of a script. With `entry_point` set it is called with the
/// `(tensors, keys, args)` convention, else positionally with the tensors only (legacy mode).
/// `host` serves the script's calls back into Redis during the run.
pub type ScriptRunFn = unsafe extern "C" fn(
    script: *mut c_void,
    call: *const RaiScriptCall,
    host: *const RaiScriptHost,
    outputs: *mut RaiOutput,
    n_outputs: usize,
    err: *mut *mut c_char,
) -> i32;

/// What a script run receives.
#[repr(C)]
pub struct RaiScriptCall {
    pub function: RaiStr,
    /// Non-zero: a declared entry point (`(tensors, keys, args)`); zero: legacy positional call.
    pub entry_point: u32,
    pub inputs: *const RaiInput,
    pub n_inputs: usize,
    pub keys: *const RaiStr,
    pub n_keys: usize,
    pub args: *const RaiStr,
    pub n_args: usize,
}

/// Kinds of [`RaiReply`].
pub const REPLY_NIL: u32 = 0;
/// A bulk or status string.
pub const REPLY_STRING: u32 = 1;
pub const REPLY_INTEGER: u32 = 2;
pub const REPLY_ARRAY: u32 = 3;
/// An error: `string` holds the text the script raises.
pub const REPLY_ERROR: u32 = 4;

/// A Redis reply as a tree, owned by the host until its `free_reply`.
#[repr(C)]
pub struct RaiReply {
    pub kind: u32,
    pub integer: i64,
    pub string: RaiStr,
    pub elements: *const RaiReply,
    pub n_elements: usize,
}

/// The host's services to a running script: Redis commands and stored models. Valid only
/// during the `script_run` call that receives it, and only on that call's thread.
#[repr(C)]
pub struct RaiScriptHost {
    pub ctx: *mut c_void,
    /// Runs a Redis command (`argv[0]` is its name) with the caller's permissions; never null.
    pub redis_call:
        unsafe extern "C" fn(ctx: *mut c_void, argv: *const RaiStr, argc: usize) -> *mut RaiReply,
    /// Releases a reply of `redis_call`.
    pub free_reply: unsafe extern "C" fn(ctx: *mut c_void, reply: *mut RaiReply),
    /// Runs a stored model synchronously; `n_outputs` slots to fill (as `model_run`).
    pub model_execute: unsafe extern "C" fn(
        ctx: *mut c_void,
        key: RaiStr,
        inputs: *const RaiInput,
        n_inputs: usize,
        outputs: *mut RaiOutput,
        n_outputs: usize,
        err: *mut *mut c_char,
    ) -> i32,
    /// Releases an error string of `model_execute`.
    pub free_string: unsafe extern "C" fn(s: *mut c_char),
}

/// Type of [`INIT_SYMBOL`]: returns the backend's table, or null with an owned error in `*err`
/// (released with `free_init_error`, as no table exists then).
pub type InitFn = unsafe extern "C" fn(
    abi_version: u32,
    config: *const RaiConfig,
    err: *mut *mut c_char,
) -> *const BackendVTable;

/// Symbol that releases an init error string: `unsafe extern "C" fn(*mut c_char)`.
pub const FREE_INIT_ERROR_SYMBOL: &[u8] = b"redisai_backend_free_error\0";
