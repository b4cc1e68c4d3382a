//! The C interface of shim/torch_shim.cpp (see shim/shim.h) and safe handles over it.

use std::ffi::CStr;
use std::os::raw::{c_char, c_void};

use redisai_backend_api::ffi::{RaiInput, RaiOutput, RaiReply, RaiScriptHost, RaiStr};
use redisai_backend_api::{DType, OutputTensor, TensorRef};

/// A borrowed host tensor (`ShimTensor`).
#[repr(C)]
struct ShimTensor {
    code: u8,
    bits: u8,
    ndim: i32,
    shape: *const i64,
    data: *const c_void,
    nbytes: usize,
}

/// A view of an output tensor (`ShimTensorView`).
#[repr(C)]
struct ShimTensorView {
    code: u8,
    bits: u8,
    ndim: i32,
    shape: *const i64,
    data: *const c_void,
    nbytes: usize,
}

pub const DEVICE_CPU: i32 = 0;
pub const DEVICE_GPU: i32 = 1;

extern "C" {
    fn shim_abi_sizes(
        s: *mut usize,
        input: *mut usize,
        output: *mut usize,
        reply: *mut usize,
        host: *mut usize,
    );
    fn shim_free_string(s: *mut c_char);
    fn shim_version() -> *mut c_char;
    fn shim_sandbox_apply(allocation_limit: u64, err: *mut *mut c_char) -> i32;
    fn shim_set_allocation_limit(bytes: u64);
    fn shim_registered_operators() -> *mut c_char;
    fn shim_custom_class_methods() -> *mut c_char;
    fn shim_register_ops(err: *mut *mut c_char) -> i32;
    fn shim_set_threads(intra: i32, inter: i32, err: *mut *mut c_char) -> i32;
    fn shim_load_cuda(err: *mut *mut c_char) -> i32;
    fn shim_tensor_view(tensor: *mut c_void, view: *mut ShimTensorView);
    fn shim_tensor_free(tensor: *mut c_void);
    fn shim_model_load(
        blob: *const u8,
        len: usize,
        device_kind: i32,
        device_index: i32,
        err: *mut *mut c_char,
    ) -> *mut c_void;
    fn shim_model_free(model: *mut c_void);
    fn shim_model_input_count(model: *mut c_void) -> usize;
    fn shim_model_input_name(model: *mut c_void, index: usize) -> *const c_char;
    fn shim_model_output_count(model: *mut c_void) -> usize;
    fn shim_model_run(
        model: *mut c_void,
        inputs: *const ShimTensor,
        n_inputs: usize,
        outputs: *mut *mut c_void,
        max_outputs: usize,
        n_outputs: *mut usize,
        err: *mut *mut c_char,
    ) -> i32;
    fn shim_script_compile(
        source: *const u8,
        len: usize,
        entry_points: *const RaiStr,
        n_entry_points: usize,
        device_kind: i32,
        device_index: i32,
        err: *mut *mut c_char,
    ) -> *mut c_void;
    fn shim_script_free(script: *mut c_void);
    fn shim_module_from_source(
        source: *const u8,
        len: usize,
        archive: *mut *mut u8,
        archive_len: *mut usize,
        err: *mut *mut c_char,
    ) -> i32;
    fn free(p: *mut c_void);
    #[allow(clippy::too_many_arguments)]
    fn shim_script_run(
        script: *mut c_void,
        function: RaiStr,
        entry_point: i32,
        inputs: *const ShimTensor,
        n_inputs: usize,
        keys: *const RaiStr,
        n_keys: usize,
        args: *const RaiStr,
        n_args: usize,
        host: *const RaiScriptHost,
        outputs: *mut *mut c_void,
        n_outputs: usize,
        err: *mut *mut c_char,
    ) -> i32;
}

/// Takes a malloc'ed string of the shim.
fn take(s: *mut c_char, fallback: &str) -> String {
    if s.is_null() {
        return fallback.to_string();
    }
    // SAFETY: a NUL-terminated string allocated by the shim, released once here.
    let text = unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned();
    // SAFETY: as above.
    unsafe { shim_free_string(s) };
    text
}

/// Whether the shim's mirrors of the ABI structs have the Rust sizes.
pub fn abi_matches() -> bool {
    let mut sizes = [0usize; 5];
    let [a, b, c, d, e] = &mut sizes;
    // SAFETY: five writable slots.
    unsafe { shim_abi_sizes(a, b, c, d, e) };
    sizes
        == [
            size_of::<RaiStr>(),
            size_of::<RaiInput>(),
            size_of::<RaiOutput>(),
            size_of::<RaiReply>(),
            size_of::<RaiScriptHost>(),
        ]
}

/// Registers the `redis` and `redisAI` operators scripts call (once per process).
pub fn register_ops() -> Result<(), String> {
    let mut err = std::ptr::null_mut();
    // SAFETY: a writable error slot.
    match unsafe { shim_register_ops(&mut err) } {
        0 => Ok(()),
        _ => Err(take(err, "ERR could not register the script operators")),
    }
}

/// Applies the sandbox (src/policy.rs, shim/sandbox.cpp): removes what the policy refuses from
/// libtorch's registries and caps its CPU allocations (bytes; 0: no cap).
pub fn sandbox(allocation_limit: u64) -> Result<(), String> {
    let mut err = std::ptr::null_mut();
    // SAFETY: a writable error slot.
    match unsafe { shim_sandbox_apply(allocation_limit, &mut err) } {
        0 => Ok(()),
        _ => Err(take(err, "ERR could not apply the TorchScript sandbox")),
    }
}

/// Changes the cap on libtorch's CPU allocations (bytes; 0: none).
pub fn set_allocation_limit(bytes: u64) {
    // SAFETY: no preconditions.
    unsafe { shim_set_allocation_limit(bytes) }
}

/// Every operator TorchScript can call now, one schema per entry.
pub fn registered_operators() -> Vec<String> {
    // SAFETY: returns an owned string (or null).
    let text = take(unsafe { shim_registered_operators() }, "");
    text.lines().map(str::to_string).collect()
}

/// Every method of every custom class libtorch registers, one schema per entry.
pub fn custom_class_methods() -> Vec<String> {
    // SAFETY: returns an owned string (or null).
    let text = take(unsafe { shim_custom_class_methods() }, "");
    text.lines().map(str::to_string).collect()
}

/// libtorch's version.
pub fn version() -> String {
    // SAFETY: returns an owned string.
    take(unsafe { shim_version() }, "NA")
}

/// Loads libtorch's CUDA library when the install has one (`cuda/` beside the plugin, built
/// with `TORCH_CUDA=1`): `Ok(true)` when loaded, `Ok(false)` for a CPU-only install.
pub fn load_cuda() -> Result<bool, String> {
    let mut err = std::ptr::null_mut();
    // SAFETY: a writable error slot.
    match unsafe { shim_load_cuda(&mut err) } {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(take(err, "ERR could not load libtorch's CUDA library")),
    }
}

/// Sets libtorch's global thread pools (0 = default).
pub fn set_threads(intra: u32, inter: u32) -> Result<(), String> {
    let clamp = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    let mut err = std::ptr::null_mut();
    // SAFETY: a writable error slot.
    match unsafe { shim_set_threads(clamp(intra), clamp(inter), &mut err) } {
        0 => Ok(()),
        _ => Err(take(err, "ERR could not set libtorch's threads")),
    }
}

fn shim_tensors(inputs: &[TensorRef<'_>]) -> Vec<ShimTensor> {
    inputs
        .iter()
        .map(|t| ShimTensor {
            code: t.dtype.code(),
            bits: t.dtype.bits(),
            ndim: t.shape.len() as i32,
            shape: t.shape.as_ptr(),
            data: t.data.as_ptr().cast(),
            nbytes: t.data.len(),
        })
        .collect()
}

/// An output tensor of the shim: its bytes are handed to the host without a copy.
struct ShimOutput(*mut c_void, &'static [u8]);

// SAFETY: a torch tensor owned by this handle alone; libtorch tensors may be moved across threads.
unsafe impl Send for ShimOutput {}

impl AsRef<[u8]> for ShimOutput {
    fn as_ref(&self) -> &[u8] {
        self.1
    }
}

impl Drop for ShimOutput {
    fn drop(&mut self) {
        // SAFETY: the handle is owned and freed once.
        unsafe { shim_tensor_free(self.0) };
    }
}

/// Wraps a tensor handle of the shim as an output (taking ownership).
///
/// # Safety
/// `handle` must be an output handle of the shim, not owned by anyone else.
unsafe fn output(handle: *mut c_void) -> Result<OutputTensor, String> {
    let mut view = ShimTensorView {
        code: 0,
        bits: 0,
        ndim: 0,
        shape: std::ptr::null(),
        data: std::ptr::null(),
        nbytes: 0,
    };
    // SAFETY: a live handle; the view is written.
    unsafe { shim_tensor_view(handle, &mut view) };
    let shape = if view.ndim <= 0 || view.shape.is_null() {
        Vec::new()
    } else {
        // SAFETY: `ndim` sizes of the live tensor.
        unsafe { std::slice::from_raw_parts(view.shape, view.ndim as usize) }.to_vec()
    };
    let bytes: &'static [u8] = if view.nbytes == 0 || view.data.is_null() {
        &[]
    } else {
        // SAFETY: the tensor's contiguous bytes, alive until the handle is freed (the slice
        // never outlives the ShimOutput that frees it).
        unsafe { std::slice::from_raw_parts(view.data.cast::<u8>(), view.nbytes) }
    };
    let owner = ShimOutput(handle, bytes);
    let dtype = DType::from_code_bits(u64::from(view.code), u64::from(view.bits))
        .ok_or_else(|| "ERR unsupported output tensor type".to_string())?;
    Ok(OutputTensor {
        dtype,
        shape,
        data: Box::new(owner),
    })
}

/// Wraps `n` handles written by the shim.
fn outputs(handles: &[*mut c_void]) -> Result<Vec<Option<OutputTensor>>, String> {
    // Every handle is wrapped (so freed) even when one fails.
    let wrapped: Vec<Result<OutputTensor, String>> = handles
        .iter()
        // SAFETY: fresh handles owned by nobody else.
        .map(|&h| unsafe { output(h) })
        .collect();
    wrapped.into_iter().map(|r| r.map(Some)).collect()
}

/// A TorchScript archive of a module whose methods `source` defines.
pub fn module_from_source(source: &str) -> Result<Vec<u8>, String> {
    let mut archive = std::ptr::null_mut();
    let mut len = 0usize;
    let mut err = std::ptr::null_mut();
    // SAFETY: borrowed source; writable out slots.
    let status = unsafe {
        shim_module_from_source(
            source.as_ptr(),
            source.len(),
            &mut archive,
            &mut len,
            &mut err,
        )
    };
    if status != 0 {
        return Err(take(err, "ERR could not build the module"));
    }
    // SAFETY: `len` bytes malloc'ed by the shim, copied then freed once.
    let bytes = unsafe { std::slice::from_raw_parts(archive, len) }.to_vec();
    // SAFETY: as above.
    unsafe { free(archive.cast()) };
    Ok(bytes)
}

/// A TorchScript module.
pub struct Module {
    raw: *mut c_void,
    inputs: Vec<String>,
    outputs: Vec<String>,
}

// SAFETY: torch::jit::Module::forward may be called from several threads at once (inference
// only: no parameter is modified); the wrapper itself is immutable.
unsafe impl Send for Module {}
// SAFETY: as above.
unsafe impl Sync for Module {}

impl Drop for Module {
    fn drop(&mut self) {
        // SAFETY: owned and freed once.
        unsafe { shim_model_free(self.raw) };
    }
}

impl Module {
    /// Loads a `torch.jit.save` archive onto a device.
    pub fn load(blob: &[u8], device_kind: i32, device_index: i32) -> Result<Module, String> {
        let mut err = std::ptr::null_mut();
        // SAFETY: the blob is borrowed for the call; a writable error slot.
        let raw = unsafe {
            shim_model_load(
                blob.as_ptr(),
                blob.len(),
                device_kind,
                device_index,
                &mut err,
            )
        };
        if raw.is_null() {
            return Err(take(err, "ERR could not load the TorchScript model"));
        }
        // SAFETY: a live module.
        let n_inputs = unsafe { shim_model_input_count(raw) };
        let inputs = (0..n_inputs)
            .map(|i| {
                // SAFETY: index in range; the name is borrowed from the module.
                let name = unsafe { shim_model_input_name(raw, i) };
                // SAFETY: NUL-terminated, alive as long as the module.
                unsafe { CStr::from_ptr(name) }
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        // SAFETY: a live module.
        let n_outputs = unsafe { shim_model_output_count(raw) };
        Ok(Module {
            raw,
            inputs,
            outputs: vec![String::new(); n_outputs],
        })
    }

    pub fn inputs(&self) -> &[String] {
        &self.inputs
    }

    /// One empty name per output (TorchScript outputs have no names).
    pub fn outputs(&self) -> &[String] {
        &self.outputs
    }

    /// Runs `forward`; returns up to `max_outputs` tensors (Tensor, tuple and list results are
    /// flattened).
    pub fn run(
        &self,
        inputs: &[TensorRef<'_>],
        max_outputs: usize,
    ) -> Result<Vec<Option<OutputTensor>>, String> {
        let raw_inputs = shim_tensors(inputs);
        let mut handles = vec![std::ptr::null_mut(); max_outputs];
        let mut produced = 0usize;
        let mut err = std::ptr::null_mut();
        // SAFETY: borrowed inputs and `max_outputs` writable slots for the call.
        let status = unsafe {
            shim_model_run(
                self.raw,
                raw_inputs.as_ptr(),
                raw_inputs.len(),
                handles.as_mut_ptr(),
                max_outputs,
                &mut produced,
                &mut err,
            )
        };
        if status != 0 {
            return Err(take(err, "ERR the TorchScript model failed"));
        }
        outputs(&handles[..produced.min(max_outputs)])
    }
}

/// A compiled TorchScript script.
pub struct CompiledScript {
    raw: *mut c_void,
}

// SAFETY: compiled functions may be run from several threads at once; the wrapper is immutable.
unsafe impl Send for CompiledScript {}
// SAFETY: as above.
unsafe impl Sync for CompiledScript {}

impl Drop for CompiledScript {
    fn drop(&mut self) {
        // SAFETY: owned and freed once.
        unsafe { shim_script_free(self.raw) };
    }
}

/// What [`CompiledScript::run`] receives.
pub struct ScriptArgs<'a> {
    pub function: &'a str,
    pub entry_point: bool,
    pub inputs: &'a [TensorRef<'a>],
    pub keys: &'a [&'a [u8]],
    pub args: &'a [&'a [u8]],
}

impl CompiledScript {
    /// Compiles `source`, checking the entry points' signatures.
    pub fn compile(
        source: &[u8],
        entry_points: &[String],
        device_kind: i32,
        device_index: i32,
    ) -> Result<CompiledScript, String> {
        let entries: Vec<RaiStr> = entry_points
            .iter()
            .map(|e| RaiStr::new(e.as_bytes()))
            .collect();
        let mut err = std::ptr::null_mut();
        // SAFETY: borrowed strings for the call; a writable error slot.
        let raw = unsafe {
            shim_script_compile(
                source.as_ptr(),
                source.len(),
                entries.as_ptr(),
                entries.len(),
                device_kind,
                device_index,
                &mut err,
            )
        };
        if raw.is_null() {
            return Err(take(err, "ERR could not compile the script"));
        }
        Ok(CompiledScript { raw })
    }

    /// Runs a function; `host` serves its Redis and model calls during the run.
    pub fn run(
        &self,
        call: &ScriptArgs<'_>,
        host: *const RaiScriptHost,
        n_outputs: usize,
    ) -> Result<Vec<Option<OutputTensor>>, String> {
        let inputs = shim_tensors(call.inputs);
        let keys: Vec<RaiStr> = call.keys.iter().map(|k| RaiStr::new(k)).collect();
        let args: Vec<RaiStr> = call.args.iter().map(|a| RaiStr::new(a)).collect();
        let mut handles = vec![std::ptr::null_mut(); n_outputs];
        let mut err = std::ptr::null_mut();
        // SAFETY: everything is borrowed for the call; `n_outputs` writable slots; `host` is
        // valid during the call (the ABI's guarantee to the plugin).
        let status = unsafe {
            shim_script_run(
                self.raw,
                RaiStr::new(call.function.as_bytes()),
                i32::from(call.entry_point),
                inputs.as_ptr(),
                inputs.len(),
                keys.as_ptr(),
                keys.len(),
                args.as_ptr(),
                args.len(),
                host,
                handles.as_mut_ptr(),
                n_outputs,
                &mut err,
            )
        };
        if status != 0 {
            return Err(take(err, "ERR the script failed"));
        }
        outputs(&handles)
    }
}
