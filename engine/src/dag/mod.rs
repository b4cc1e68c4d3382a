//! DAG pipelines (AI.DAGEXECUTE[_RO], deprecated AI.DAGRUN[_RO]; SPEC §3.16, §3.17, §7).
//!
//! `parse` turns a command into a [`DagPlan`] on the main thread: LOAD keys and models are read
//! through the caller's [`DagKeys`] (shared references, no copies), TENSORSET ops are built, and
//! every tensor name is resolved to a version ([`Slot`]) so later ops see the newest one.
//! `exec` runs a plan: model ops go to their devices' run queues as soon as their inputs exist
//! (independent ops run concurrently), and the outcome comes back to the caller once.

pub mod builder;
pub mod exec;
pub mod parse;
pub mod single;

use std::sync::Arc;
use std::time::Duration;

use redisai_core::{Result, Tensor};

use redisai_backend_api::ScriptHost;

use crate::model::Model;
use crate::script::Script;
use crate::tensor_cmd::GetFormat;
use crate::text::{ResolvedEmbedder, TextOp, Tokenizer};

/// Which DAG command is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DagCommand {
    Execute,
    ExecuteRo,
    /// Deprecated AI.DAGRUN.
    Run,
    /// Deprecated AI.DAGRUN_RO.
    RunRo,
}

impl DagCommand {
    /// The upper-case command name (for messages).
    pub fn name(self) -> &'static str {
        match self {
            DagCommand::Execute => "AI.DAGEXECUTE",
            DagCommand::ExecuteRo => "AI.DAGEXECUTE_RO",
            DagCommand::Run => "AI.DAGRUN",
            DagCommand::RunRo => "AI.DAGRUN_RO",
        }
    }

    /// The `_RO` variants: no PERSIST, no script ops (DAGEXECUTE_RO).
    pub fn read_only(self) -> bool {
        matches!(self, DagCommand::ExecuteRo | DagCommand::RunRo)
    }

    /// The deprecated AI.DAGRUN forms (MODELRUN/SCRIPTRUN ops, no mandatory keyword).
    pub fn deprecated(self) -> bool {
        matches!(self, DagCommand::Run | DagCommand::RunRo)
    }
}

/// A tensor version inside a DAG: an index into [`DagPlan::slots`].
pub type Slot = usize;

/// Where a tensor version comes from.
#[derive(Debug, Clone)]
pub enum SlotSource {
    /// Read from the keyspace by LOAD.
    Loaded(Arc<Tensor>),
    /// Built by an AI.TENSORSET op at parse time.
    Set(Arc<Tensor>),
    /// Written by a model (or script) op when it runs.
    Produced,
}

/// One op of a DAG, with its tensors resolved to versions.
pub enum DagOp {
    /// AI.TENSORSET: replies OK; its tensor is `output`'s `SlotSource::Set`.
    TensorSet { output: Slot },
    /// AI.TENSORGET: replies the tensor in `format`, or `NA` if it was never produced.
    TensorGet { input: Slot, format: GetFormat },
    /// AI.MODELEXECUTE (or AI.MODELRUN in AI.DAGRUN).
    ModelExecute {
        model: Arc<Model>,
        inputs: Vec<Slot>,
        outputs: Vec<Slot>,
    },
    /// AI.SCRIPTEXECUTE (or AI.SCRIPTRUN in AI.DAGRUN).
    ScriptExecute {
        script: Arc<Script>,
        function: String,
        keys: Vec<Vec<u8>>,
        args: Vec<Vec<u8>>,
        inputs: Vec<Slot>,
        outputs: Vec<Slot>,
        /// Serves the script's Redis and model calls (built by [`DagKeys::script_host`]).
        host: Arc<dyn ScriptHost + Send + Sync>,
    },
    /// AI.TOKENIZE, AI.POOL, AI.EMBED, AI.VADD, AI.VSIM, AI.HSET (`crate::text`).
    Text {
        op: TextOp,
        inputs: Vec<Slot>,
        outputs: Vec<Slot>,
    },
}

impl std::fmt::Debug for DagOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DagOp::TensorSet { output } => {
                f.debug_struct("TensorSet").field("output", output).finish()
            }
            DagOp::TensorGet { input, format } => f
                .debug_struct("TensorGet")
                .field("input", input)
                .field("format", format)
                .finish(),
            DagOp::ModelExecute {
                model,
                inputs,
                outputs,
            } => f
                .debug_struct("ModelExecute")
                .field("model", model)
                .field("inputs", inputs)
                .field("outputs", outputs)
                .finish(),
            DagOp::ScriptExecute {
                function,
                keys,
                args,
                inputs,
                outputs,
                ..
            } => f
                .debug_struct("ScriptExecute")
                .field("function", function)
                .field("keys", keys)
                .field("args", args)
                .field("inputs", inputs)
                .field("outputs", outputs)
                .finish_non_exhaustive(),
            DagOp::Text {
                op,
                inputs,
                outputs,
            } => f
                .debug_struct("Text")
                .field("op", op)
                .field("inputs", inputs)
                .field("outputs", outputs)
                .finish(),
        }
    }
}

impl DagOp {
    /// The tensors a worker op reads and writes (`None` for TENSORSET/TENSORGET).
    pub fn worker_io(&self) -> Option<(&[Slot], &[Slot])> {
        match self {
            DagOp::ModelExecute {
                inputs, outputs, ..
            }
            | DagOp::ScriptExecute {
                inputs, outputs, ..
            }
            | DagOp::Text {
                inputs, outputs, ..
            } => Some((inputs, outputs)),
            _ => None,
        }
    }
}

/// How a plan answers its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanReply {
    /// One element per op (the DAG commands).
    PerOp,
    /// A single-op command (AI.MODELEXECUTE, AI.SCRIPTEXECUTE and their deprecated forms): `OK`,
    /// the op's error, or `TIMEDOUT`.
    Single,
}

/// A resolved plan, ready to run: a DAG command's, or a single-op command's (see [`single`]).
/// Every execution goes through one: parse → plan → queue → run → persist → reply.
#[derive(Debug)]
pub struct DagPlan {
    /// The DAG command parsed (single-op plans say `Execute`: they may write keys).
    pub command: DagCommand,
    pub reply: PlanReply,
    /// Every tensor version, in creation order.
    pub slots: Vec<SlotSource>,
    pub ops: Vec<DagOp>,
    /// PERSIST keys with the final version of their tensor, in PERSIST order.
    pub persist: Vec<(Vec<u8>, Slot)>,
    /// TIMEOUT; `None` also when given as 0 or negative (accepted for DAGs, meaning none).
    pub timeout: Option<Duration>,
}

/// The keyspace as the parser sees it (the module reads keys; tests pass doubles).
pub trait DagKeys {
    /// A LOAD key: `ERR tensor key is empty or in a different shard` / WRONGTYPE.
    fn tensor(&mut self, key: &[u8]) -> Result<Arc<Tensor>>;
    /// The model of an AI.MODELEXECUTE op: `ERR model key is empty` / WRONGTYPE.
    fn model(&mut self, key: &[u8]) -> Result<Arc<Model>>;
    /// The script of an AI.SCRIPTEXECUTE op: `ERR script key is empty` / WRONGTYPE.
    fn script(&mut self, key: &[u8]) -> Result<Arc<Script>>;
    /// The services a script op of this DAG gets (Redis calls limited to `keys`, the op's KEYS).
    fn script_host(&mut self, keys: &[Vec<u8>]) -> Arc<dyn ScriptHost + Send + Sync>;
    /// The largest tensor an AI.TENSORSET op without data may allocate (proto-max-bulk-len).
    fn max_tensor_bytes(&mut self) -> u64;
    /// The tokenizer of an AI.TOKENIZE op: `ERR tokenizer key is empty` / WRONGTYPE.
    fn tokenizer(&mut self, _key: &[u8]) -> Result<Arc<Tokenizer>> {
        Err(redisai_core::Error::TokenizerKeyEmpty)
    }
    /// The embedder of an AI.EMBED op with the tokenizer and model it names, as stored now:
    /// `ERR embedder key is empty`, then the tokenizer's and model's own errors.
    fn embedder(&mut self, _key: &[u8]) -> Result<ResolvedEmbedder> {
        Err(redisai_core::Error::EmbedderKeyEmpty)
    }
}
