//! The engine's process-wide state: backends, run queues, the loader, statistics and runtime
//! settings.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::backends::{BackendSettings, Registry};
use crate::config::Config;
use crate::loader::Loader;
use crate::queue::{RunQueues, ThreadCpuClock};
use crate::stats::StatsRegistry;

/// Everything the commands share.
pub struct Engine {
    pub registry: Registry,
    pub queues: RunQueues,
    pub stats: StatsRegistry,
    /// Builds models and scripts off the main thread.
    pub loader: Loader,
    model_chunk_size: AtomicU64,
}

impl Engine {
    /// Builds the state from the load-time configuration; `default_backends_path` is
    /// `<module dir>/backends`, used when BACKENDSPATH is not given.
    pub fn new(config: &Config, default_backends_path: String, clock: ThreadCpuClock) -> Engine {
        let settings = BackendSettings {
            intra_op_parallelism: config.intra_op_parallelism as u32,
            inter_op_parallelism: config.inter_op_parallelism as u32,
            model_execution_timeout_ms: config.model_execution_timeout as u64,
            backend_memory_limit_mb: config.backend_memory_limit as u64,
            allocation_limit_bytes: (config.backend_allocation_limit as u64)
                .saturating_mul(1024 * 1024),
            allowed_operators: config.allow_operators.clone(),
            unrestricted_loadbackend: config.unrestricted_loadbackend,
        };
        let path = config
            .backends_path
            .clone()
            .unwrap_or(default_backends_path);
        Engine {
            registry: Registry::new(path, settings),
            queues: RunQueues::new(config.threads_per_queue as usize, clock),
            stats: StatsRegistry::default(),
            loader: Loader::default(),
            model_chunk_size: AtomicU64::new(config.model_chunk_size as u64),
        }
    }

    /// MODEL_CHUNK_SIZE now (runtime-settable).
    pub fn model_chunk_size(&self) -> u64 {
        self.model_chunk_size.load(Ordering::Relaxed)
    }

    /// AI.CONFIG MODEL_CHUNK_SIZE.
    pub fn set_model_chunk_size(&self, bytes: u64) {
        self.model_chunk_size.store(bytes, Ordering::Relaxed);
    }
}
