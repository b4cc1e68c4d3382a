//! A stored script: its persisted description plus the backend's compiled script.

use std::sync::Arc;

use redisai_backend_api::{Device as AbiDevice, ModelOptions, ScriptCall, ScriptHost};
use redisai_core::device::Device;
use redisai_core::script::ScriptRecord;
use redisai_core::{Backend, Error, Result, Tensor};

use crate::backends::{Registry, ScriptRunner};
use crate::stats::{RunKind, RunStats};

/// The value of an `AI_SCRIPT` key. Immutable once built; shared by reference with the runs
/// that use it, so SCRIPTDEL or an overwrite never pulls it from under a running request.
pub struct Script {
    record: ScriptRecord,
    device: Device,
    runner: Box<dyn ScriptRunner>,
    stats: Arc<RunStats>,
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Script")
            .field("device", &self.record.device)
            .field("entry_points", &self.record.entry_points.len())
            .finish_non_exhaustive()
    }
}

impl Script {
    /// Compiles the script through the TORCH backend (loading it from its default path if
    /// needed); the entry points are checked by the backend.
    pub fn create(registry: &Registry, record: ScriptRecord, key: &[u8]) -> Result<Script> {
        let device = Device::new(record.device.clone());
        let library = registry
            .get_or_load(Backend::Torch)
            .map_err(|_| Error::CouldNotLoadBackend)?;
        let options = ModelOptions {
            device: if device.is_gpu() {
                AbiDevice::Gpu(device.gpu_index().unwrap_or(0))
            } else {
                AbiDevice::Cpu
            },
            device_name: record.device.clone(),
            batchsize: 0,
            inputs: Vec::new(),
            outputs: Vec::new(),
        };
        let entry_points: Vec<String> = record
            .entry_points
            .iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect();
        let runner = library
            .create_script(&record.source, &entry_points, &options)
            .map_err(Error::Backend)?;
        let stats = Arc::new(RunStats::new(
            key.to_vec(),
            RunKind::Script,
            Backend::Torch,
            record.device.clone(),
            record.tag.clone(),
        ));
        Ok(Script {
            record,
            device,
            runner,
            stats,
        })
    }

    /// The persisted description (what SCRIPTGET, RDB and AOF show).
    pub fn record(&self) -> &ScriptRecord {
        &self.record
    }

    /// Where it runs.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Its run statistics (AI.INFO).
    pub fn stats(&self) -> &Arc<RunStats> {
        &self.stats
    }

    /// Runs one function (an entry point with `(tensors, keys, args)`, any other function in
    /// the legacy positional mode).
    pub fn run(
        &self,
        call: &ScriptCall<'_>,
        host: &dyn ScriptHost,
        n_outputs: usize,
    ) -> std::result::Result<Vec<Option<Tensor>>, String> {
        self.runner.run(call, host, n_outputs)
    }
}
