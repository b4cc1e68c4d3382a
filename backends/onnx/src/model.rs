//! An ONNX model: its sessions and how a run goes.
//!
//! Concurrency: `ort`'s `Session::run` takes `&mut self` (ONNX Runtime's `Run` is not safe to call
//! concurrently on one session for every execution provider), while RedisAI runs one model from
//! several worker threads at once (THREADS_PER_QUEUE, several queues). A `Mutex<Session>` would
//! serialise those runs, so each model keeps a small pool of sessions instead: a run takes an
//! idle session, or builds one more from the kept blob when all are busy, and gives it back
//! afterwards. The pool only grows to the number of runs that were ever in flight together
//! (bounded by the worker threads), and a single worker never needs more than the first
//! session. If building an extra session fails (e.g. under BACKEND_MEMORY_LIMIT), the run waits
//! for a busy one instead.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use ort::ep::{self, ExecutionProvider};
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{RunOptions, Session, SessionInputValue};
use redisai_backend_api::plugin::PluginModel;
use redisai_backend_api::sandbox::ALLOCATION_REFUSED_PREFIX;
use redisai_backend_api::{Device, InputSpec, ModelBlob, OutputTensor, TensorRef};

use crate::allocator::MEMORY_LIMIT_EXCEEDED;
use crate::tensors::{dtype_of, ort_message, to_input, to_output};
use crate::Runtime;

/// Never more sessions per model than this, whatever the concurrency.
const MAX_SESSIONS: usize = 64;

/// Where external initializers would be looked up if one slipped through the model check:
/// a directory that does not exist, so no file is ever read.
const NO_EXTERNAL_DATA_DIR: &str = "/nonexistent/redisai-onnx-external-data-is-not-allowed";

/// The allocation limit's own error line, when `message` (ONNX Runtime's) carries it.
fn allocation_refusal(message: &str) -> Option<String> {
    let at = message.find(ALLOCATION_REFUSED_PREFIX)?;
    let line = message[at..].lines().next().unwrap_or_default();
    Some(line.to_string())
}

/// The message of a session creation error, as the client sees it.
fn creation_error(message: String) -> String {
    if let Some(refusal) = allocation_refusal(&message) {
        return refusal;
    }
    if message.contains(MEMORY_LIMIT_EXCEEDED) {
        return format!("Exception during initialization: {MEMORY_LIMIT_EXCEEDED}");
    }
    message
}

/// The message of a run error, as the client sees it.
fn run_error(message: String) -> String {
    if let Some(refusal) = allocation_refusal(&message) {
        return refusal;
    }
    if message.contains(MEMORY_LIMIT_EXCEEDED) {
        return MEMORY_LIMIT_EXCEEDED.to_string();
    }
    message
}

/// Builds the sessions of one model.
struct SessionFactory {
    runtime: Arc<Runtime>,
    blob: ModelBlob,
    device: Device,
}

impl SessionFactory {
    fn build(&self) -> Result<Session, String> {
        let mut builder = Session::builder(&self.runtime.env)
            .map_err(ort_message)?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(ort_message)?
            .with_config_entry(
                "session.model_external_initializers_file_folder_path",
                NO_EXTERNAL_DATA_DIR,
            )
            .map_err(ort_message)?;
        // No thread pools of its own: the environment's are shared (lib.rs `thread_pools`).
        builder = match self.device {
            // CPU sessions allocate through the backend's counting allocator (no arena of their
            // own), so INFO and BACKEND_MEMORY_LIMIT see their memory.
            Device::Cpu => builder
                .with_env_allocators()
                .map_err(ort_message)?
                .with_execution_providers([ep::CPU::default().with_arena_allocator(false).build()])
                .map_err(ort_message)?,
            Device::Gpu(index) => {
                let cuda = ep::CUDA::default()
                    .with_device_id(index as i32)
                    .build()
                    .error_on_failure();
                builder
                    .with_execution_providers([cuda])
                    .map_err(ort_message)?
            }
        };
        builder
            .commit_from_memory(&self.blob)
            .map_err(|e| creation_error(ort_message(e)))
    }
}

#[derive(Default)]
struct PoolState {
    idle: Vec<Session>,
    /// Sessions in existence (idle or in use).
    total: usize,
}

/// The sessions of one model (see the module documentation).
struct SessionPool {
    factory: SessionFactory,
    state: Mutex<PoolState>,
    returned: Condvar,
}

/// A session taken from the pool; it goes back when dropped.
struct PooledSession<'a> {
    pool: &'a SessionPool,
    session: Option<Session>,
}

impl Drop for PooledSession<'_> {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            self.pool.lock().idle.push(session);
            self.pool.returned.notify_one();
        }
    }
}

impl SessionPool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take(&self) -> Result<PooledSession<'_>, String> {
        let mut state = self.lock();
        loop {
            if let Some(session) = state.idle.pop() {
                return Ok(PooledSession {
                    pool: self,
                    session: Some(session),
                });
            }
            if state.total < MAX_SESSIONS {
                state.total += 1;
                drop(state);
                match self.factory.build() {
                    Ok(session) => {
                        return Ok(PooledSession {
                            pool: self,
                            session: Some(session),
                        })
                    }
                    Err(e) => {
                        state = self.lock();
                        state.total -= 1;
                        if state.total == 0 {
                            return Err(e);
                        }
                        // Others exist: wait for one of them (the loop checks `idle` first).
                        if !state.idle.is_empty() {
                            continue;
                        }
                    }
                }
            }
            state = self
                .returned
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// A model of the ONNX backend.
pub struct OnnxModel {
    inputs: Vec<String>,
    /// The inputs' declared element types and shapes (`None`: not a tensor of a RedisAI dtype).
    input_specs: Vec<Option<InputSpec>>,
    outputs: Vec<String>,
    pool: SessionPool,
}

impl OnnxModel {
    /// Builds the model's first session from `blob`, kept to build the others on demand.
    pub(crate) fn new(
        runtime: Arc<Runtime>,
        blob: ModelBlob,
        device: Device,
    ) -> Result<Self, String> {
        let factory = SessionFactory {
            runtime,
            blob,
            device,
        };
        let session = factory.build()?;
        let inputs = session
            .inputs()
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        let input_specs = session
            .inputs()
            .iter()
            .map(|o| {
                let dtype = dtype_of(o.dtype().tensor_type()?)?;
                let dims = o
                    .dtype()
                    .tensor_shape()?
                    .iter()
                    .map(|&d| d.max(-1))
                    .collect();
                Some(InputSpec { dtype, dims })
            })
            .collect();
        let outputs = session
            .outputs()
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        Ok(OnnxModel {
            inputs,
            input_specs,
            outputs,
            pool: SessionPool {
                factory,
                state: Mutex::new(PoolState {
                    idle: vec![session],
                    total: 1,
                }),
                returned: Condvar::new(),
            },
        })
    }

    /// Whether the loaded runtime can run models on CUDA devices.
    pub(crate) fn cuda_available() -> bool {
        ep::CUDA::is_available().unwrap_or(false)
    }
}

impl PluginModel for OnnxModel {
    fn inputs(&self) -> &[String] {
        &self.inputs
    }

    fn outputs(&self) -> &[String] {
        &self.outputs
    }

    fn input_spec(&self, index: usize) -> Option<InputSpec> {
        self.input_specs.get(index).cloned().flatten()
    }

    fn run(&self, inputs: &[TensorRef<'_>]) -> Result<Vec<Option<OutputTensor>>, String> {
        if inputs.len() != self.inputs.len() {
            return Err(format!(
                "ERR Expected {} inputs but got {}",
                self.inputs.len(),
                inputs.len()
            ));
        }
        // Bound by position: input i feeds the session's input i.
        let values = inputs
            .iter()
            .map(to_input)
            .collect::<Result<Vec<SessionInputValue<'_>>, String>>()?;
        let options = Arc::new(RunOptions::new().map_err(ort_message)?);
        let mut pooled = self.pool.take()?;
        let session = pooled.session.as_mut().expect("a pooled session");
        let watch = self
            .pool
            .factory
            .runtime
            .watchdog
            .watch(Arc::clone(&options))?;
        let produced: Vec<_> = match session.run_with_options(values.as_slice(), &options) {
            Ok(outputs) => outputs.into_iter().map(|(_, value)| value).collect(),
            Err(e) => return Err(run_error(ort_message(e))),
        };
        drop(watch);
        drop(pooled);
        produced.into_iter().map(to_output).collect()
    }
}
