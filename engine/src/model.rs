//! A stored model: its persisted description (blob and options) plus the backend's live model.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use redisai_backend_api::{Device as AbiDevice, ModelOptions};
use redisai_core::device::Device;
use redisai_core::model::ModelRecord;
use redisai_core::tensor::zeroed_byte_size;
use redisai_core::{Backend, Error, Result, Tensor};

use crate::backends::{ModelRunner, Registry};
use crate::batching::BatchParams;
use crate::stats::{RunKind, RunStats};

/// The value of an `AI__MODEL` key. Immutable once built; shared by reference with the runs
/// that use it, so MODELDEL or an overwrite never pulls it from under a running request.
pub struct Model {
    record: ModelRecord,
    device: Device,
    runner: Box<dyn ModelRunner>,
    stats: Arc<RunStats>,
    /// Set when the key no longer holds this model (deleted, replaced, flushed): requests still
    /// waiting to fill a batch of it are run with what there is, since nothing can add to it.
    orphaned: AtomicBool,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("backend", &self.record.backend)
            .field("device", &self.record.device)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// Builds the model through its backend (loading the backend from its default path if
    /// needed). For every backend but TF the input/output names are the model's own.
    pub fn create(registry: &Registry, mut record: ModelRecord, key: &[u8]) -> Result<Model> {
        let device = Device::new(record.device.clone());
        let library = registry
            .get_or_load(record.backend)
            .map_err(|_| Error::CouldNotLoadBackend)?;
        let names = |list: &[Vec<u8>]| -> Vec<String> {
            list.iter()
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .collect()
        };
        let options = ModelOptions {
            device: if device.is_gpu() {
                AbiDevice::Gpu(device.gpu_index().unwrap_or(0))
            } else {
                AbiDevice::Cpu
            },
            device_name: record.device.clone(),
            batchsize: record.batchsize,
            inputs: if record.backend == Backend::Tf {
                names(&record.inputs)
            } else {
                Vec::new()
            },
            outputs: if record.backend == Backend::Tf {
                names(&record.outputs)
            } else {
                Vec::new()
            },
        };
        let runner = library
            .create_model(&record.blob, &options)
            .map_err(Error::Backend)?;
        if record.backend != Backend::Tf {
            record.inputs = runner
                .inputs()
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect();
            record.outputs = runner
                .outputs()
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect();
        }
        let stats = Arc::new(RunStats::new(
            key.to_vec(),
            RunKind::Model,
            record.backend,
            record.device.clone(),
            record.tag.clone(),
        ));
        Ok(Model {
            record,
            device,
            runner,
            stats,
            orphaned: AtomicBool::new(false),
        })
    }

    /// The persisted description (what MODELGET, RDB and AOF show).
    pub fn record(&self) -> &ModelRecord {
        &self.record
    }

    /// Where it runs.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The backend's model.
    pub fn runner(&self) -> &dyn ModelRunner {
        &*self.runner
    }

    /// Its run statistics (AI.INFO).
    pub fn stats(&self) -> &Arc<RunStats> {
        &self.stats
    }

    /// Number of inputs a run must bind.
    pub fn input_count(&self) -> usize {
        self.record.inputs.len()
    }

    /// Number of outputs a run produces.
    pub fn output_count(&self) -> usize {
        self.record.outputs.len()
    }

    /// Auto-batching parameters, when BATCHSIZE > 0. Once the model is orphaned, MINBATCHSIZE no
    /// longer holds its requests back.
    pub fn batch_params(&self) -> Option<BatchParams> {
        let minbatchsize = if self.is_orphaned() {
            0
        } else {
            self.record.minbatchsize
        };
        (self.record.batchsize > 0).then_some(BatchParams {
            batchsize: self.record.batchsize,
            minbatchsize,
            minbatchtimeout_ms: self.record.minbatchtimeout,
        })
    }

    /// Marks the model as no longer stored under its key (see `orphaned`). The caller wakes the
    /// model's run queue so that requests held for a batch run.
    pub fn orphan(&self) {
        self.orphaned.store(true, Ordering::Release);
    }

    /// Runs the model `runs` times on zeros of its declared input shapes (a dimension the model
    /// leaves open is 1), before it is stored, so that the first client's run does not pay the
    /// backend's first-run costs. Not recorded in the model's statistics. An input without a
    /// declared shape, an input whose zeros would exceed `max_input_bytes`, or inputs whose zeros
    /// would exceed it together, refuse the warm-up (`ERR WARMUP failed: ...`), as does a
    /// failing run.
    pub fn warm_up(&self, runs: u64, max_input_bytes: u64) -> Result<(), Error> {
        let names = &self.record.inputs;
        let name = |i: usize| match names[i].is_empty() {
            true => i.to_string(),
            false => String::from_utf8_lossy(&names[i]).into_owned(),
        };
        let mut inputs = Vec::with_capacity(names.len());
        let mut total: u64 = 0;
        for i in 0..names.len() {
            let spec = self.runner.input_spec(i).ok_or_else(|| {
                Error::WarmupFailed(format!(
                    "input {} of this {} model declares no shape",
                    name(i),
                    self.record.backend.name()
                ))
            })?;
            let dims: Vec<i64> = spec
                .dims
                .iter()
                .map(|&d| if d < 0 { 1 } else { d })
                .collect();
            let bytes = zeroed_byte_size(spec.dtype, &dims);
            if bytes.is_none_or(|b| b > max_input_bytes) {
                return Err(Error::WarmupFailed(format!(
                    "input {} of shape {dims:?} exceeds the maximum of {max_input_bytes} bytes \
                     (proto-max-bulk-len)",
                    name(i)
                )));
            }
            total = total.saturating_add(bytes.unwrap_or(u64::MAX));
            if total > max_input_bytes {
                return Err(Error::WarmupFailed(format!(
                    "the inputs' zeros exceed the maximum of {max_input_bytes} bytes together \
                     (proto-max-bulk-len)"
                )));
            }
            inputs.push(Tensor::zeroed(spec.dtype, dims)?);
        }
        let refs: Vec<&Tensor> = inputs.iter().collect();
        for _ in 0..runs {
            crate::run::run_model(self, &refs).map_err(|e| {
                let detail = e.to_string();
                Error::WarmupFailed(detail.strip_prefix("ERR ").unwrap_or(&detail).to_string())
            })?;
        }
        Ok(())
    }

    /// Whether [`Model::orphan`] was called.
    pub fn is_orphaned(&self) -> bool {
        self.orphaned.load(Ordering::Acquire)
    }
}
