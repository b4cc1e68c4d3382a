//! What scripts (TorchScript, SPEC §6) see of the ABI, on both sides: the call, Redis replies,
//! and the host services a running script may use.

use redisai_core::Tensor;

use crate::types::TensorRef;

/// A Redis reply, as a script's `redis.execute` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Nil,
    /// A bulk or status string.
    String(Vec<u8>),
    Integer(i64),
    Array(Vec<Reply>),
    /// An error; the script raises `Redis command returned an error: <text>`.
    Error(String),
}

/// One call of a script function.
#[derive(Debug, Clone)]
pub struct ScriptCall<'a> {
    pub function: &'a str,
    /// A declared entry point: called as `fn(tensors, keys, args)`. Otherwise the function is
    /// called positionally with the tensors only (RedisAI's legacy mode, SPEC §6.3).
    pub entry_point: bool,
    pub inputs: Vec<TensorRef<'a>>,
    pub keys: Vec<&'a [u8]>,
    pub args: Vec<&'a [u8]>,
}

/// The host's services to a running script (implemented by the module).
pub trait ScriptHost {
    /// Runs a Redis command (`argv[0]` is its name) with the calling client's permissions.
    fn redis_call(&self, argv: &[&[u8]]) -> Reply;
    /// Runs a stored model synchronously on the calling thread; one entry per output.
    fn model_execute(
        &self,
        key: &[u8],
        inputs: &[TensorRef<'_>],
        n_outputs: usize,
    ) -> Result<Vec<Option<Tensor>>, String>;
}
