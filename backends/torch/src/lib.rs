//! The TORCH backend plugin: TorchScript models (`torch.jit.save` archives) and TorchScript
//! scripts (SPEC §5.3, §6) on libtorch, through the C++ shim in `shim/`.
//!
//! Scripts can call back into Redis while they run: `redis.execute`, `redis.asList` and
//! `redisAI.model_execute` are TorchScript operators of the shim that reach the host through the
//! [`RaiScriptHost`](redisai_backend_api::ffi::RaiScriptHost) table of the current run.

pub mod policy;
mod shim;

use redisai_backend_api::plugin::{BackendPlugin, PluginModel};
use redisai_backend_api::plugin_script::{HostHandle, PluginScript, ScriptPlugin};
use redisai_backend_api::{
    export_backend, BackendConfig, Device, ModelOptions, OutputTensor, ScriptCall, TensorRef,
};

use crate::shim::{CompiledScript, Module, ScriptArgs, DEVICE_CPU, DEVICE_GPU};

/// Builds a TorchScript archive (what `torch.jit.save` writes, loadable by AI.MODELSTORE) of a
/// module whose methods `source` defines, e.g. `def forward(self, a, b):\n    return a + b`.
/// Lets tests and tools make TorchScript models without Python.
pub fn module_from_source(source: &str) -> Result<Vec<u8>, String> {
    shim::module_from_source(source)
}

/// [`module_from_source`] for programs that open the plugin at run time instead of linking it
/// (the module's integration tests): on success `*archive` / `*archive_len` hold the archive,
/// released with [`redisai_torch_free_archive`]; on failure `*err` holds the message (a
/// NUL-terminated string released with the same function, `len` 0). Returns 0 on success.
///
/// # Safety
/// `source` must point to `len` readable bytes; the three out-pointers must be writable.
#[no_mangle]
pub unsafe extern "C" fn redisai_torch_module_from_source(
    source: *const u8,
    len: usize,
    archive: *mut *mut u8,
    archive_len: *mut usize,
    err: *mut *mut u8,
) -> i32 {
    // SAFETY: per the caller.
    let source = unsafe { std::slice::from_raw_parts(source, len) };
    let built = std::panic::catch_unwind(|| module_from_source(&String::from_utf8_lossy(source)))
        .unwrap_or_else(|_| Err("panic while building the archive".into()));
    let (status, bytes) = match built {
        Ok(bytes) => (0, bytes),
        Err(message) => (1, [message.as_bytes(), b"\0"].concat()),
    };
    let mut boxed = bytes.into_boxed_slice();
    let (ptr, n) = (boxed.as_mut_ptr(), boxed.len());
    std::mem::forget(boxed);
    // SAFETY: writable out-pointers per the caller.
    unsafe {
        if status == 0 {
            *archive = ptr;
            *archive_len = n;
        } else {
            *err = ptr;
        }
    }
    status
}

/// Releases what [`redisai_torch_module_from_source`] handed out (`len`: the archive's length,
/// or the error's length with its NUL).
///
/// # Safety
/// `ptr` / `len` must be one such buffer, released once.
#[no_mangle]
pub unsafe extern "C" fn redisai_torch_free_archive(ptr: *mut u8, len: usize) {
    if !ptr.is_null() {
        // SAFETY: a boxed slice of `len` bytes leaked by redisai_torch_module_from_source.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) });
    }
}

/// Every operator TorchScript can call in this process, one schema per entry (after the plugin
/// is loaded: without the ones the sandbox removed). For tests of the policy.
pub fn registered_operators() -> Vec<String> {
    shim::registered_operators()
}

/// Every method of every custom class libtorch registers, one schema per entry.
pub fn custom_class_methods() -> Vec<String> {
    shim::custom_class_methods()
}

/// Applies the sandbox in this process as the plugin does at load (tests that call the shim
/// directly).
pub fn apply_sandbox(allowed: &[String], allocation_limit: u64) -> Result<(), String> {
    policy::set_allow_list(allowed);
    shim::sandbox(allocation_limit)
}

/// The backend: libtorch with its thread pools configured.
pub struct Torch {
    version: String,
}

/// Where a model or script runs, as the shim wants it. Scripts' devices are not validated by
/// AI.SCRIPTSTORE: the backend accepts `CPU...`, `GPU` and `GPU:<n>` (SPEC §3.10).
fn device(options: &ModelOptions) -> Result<(i32, i32), String> {
    let name = options.device_name.to_ascii_uppercase();
    match options.device {
        Device::Gpu(i) if name.starts_with("GPU") => Ok((
            DEVICE_GPU,
            i32::try_from(i).map_err(|_| "ERR unsupported device")?,
        )),
        Device::Cpu if name.starts_with("CPU") => Ok((DEVICE_CPU, 0)),
        _ => Err("ERR unsupported device".into()),
    }
}

impl BackendPlugin for Torch {
    type Model = TorchModel;

    fn init(config: &BackendConfig) -> Result<Self, String> {
        if !shim::abi_matches() {
            return Err("the TORCH plugin's C++ shim was built for another ABI".into());
        }
        // Before anything asks libtorch about CUDA devices.
        shim::load_cuda()?;
        shim::set_threads(config.intra_op_parallelism, config.inter_op_parallelism)?;
        shim::register_ops()?;
        // After CUDA and the script operators are registered: the sandbox sees all of them.
        apply_sandbox(&config.allowed_operators, config.allocation_limit_bytes)?;
        Ok(Torch {
            version: shim::version(),
        })
    }

    fn version(&self) -> String {
        self.version.clone()
    }

    fn info(&self) -> Vec<(String, String)> {
        vec![("Torch_version".into(), self.version.clone())]
    }

    fn set_allocation_limit(&self, bytes: u64) {
        shim::set_allocation_limit(bytes)
    }

    fn create_model(&self, blob: &[u8], options: &ModelOptions) -> Result<TorchModel, String> {
        let (kind, index) = device(options)?;
        Ok(TorchModel(Module::load(blob, kind, index)?))
    }
}

/// A TorchScript model.
pub struct TorchModel(Module);

impl PluginModel for TorchModel {
    fn inputs(&self) -> &[String] {
        self.0.inputs()
    }

    fn outputs(&self) -> &[String] {
        self.0.outputs()
    }

    fn run(&self, inputs: &[TensorRef<'_>]) -> Result<Vec<Option<OutputTensor>>, String> {
        if inputs.len() != self.0.inputs().len() {
            return Err(format!(
                "ERR Expected {} inputs but got {}",
                self.0.inputs().len(),
                inputs.len()
            ));
        }
        let wanted = self.0.outputs().len();
        let produced = self.0.run(inputs, wanted)?;
        if produced.len() < wanted {
            return Err("ERR Model did not generate the expected number of outputs".into());
        }
        Ok(produced)
    }
}

impl ScriptPlugin for Torch {
    type Script = TorchScript;

    fn create_script(
        &self,
        source: &[u8],
        entry_points: &[String],
        options: &ModelOptions,
    ) -> Result<TorchScript, String> {
        let (kind, index) = device(options)?;
        // RedisAI keeps the source as a C string.
        let source = source.split(|&b| b == 0).next().unwrap_or_default();
        Ok(TorchScript(CompiledScript::compile(
            source,
            entry_points,
            kind,
            index,
        )?))
    }
}

/// A compiled TorchScript script.
pub struct TorchScript(CompiledScript);

impl PluginScript for TorchScript {
    fn run(
        &self,
        call: &ScriptCall<'_>,
        host: HostHandle<'_>,
        n_outputs: usize,
    ) -> Result<Vec<Option<OutputTensor>>, String> {
        let args = ScriptArgs {
            function: call.function,
            entry_point: call.entry_point,
            inputs: &call.inputs,
            keys: &call.keys,
            args: &call.args,
        };
        self.0.run(&args, host.as_ptr(), n_outputs)
    }
}

export_backend!(Torch, scripts);
