//! AI.MODELEXECUTE and the deprecated AI.MODELRUN: parse and fetch on the main thread, run on the
//! device's queue, write outputs and reply on the main thread when the run is done.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_module::{Context, RedisResult, RedisString};
use redisai_core::{Error, Tensor};
use redisai_engine::keys;
use redisai_engine::model::Model;
use redisai_engine::model_cmd::{
    modelexecute_arity, modelrun_arity, parse_modelexecute, parse_modelrun, ExecuteArgs,
};
use redisai_engine::names::{MODELEXECUTE, MODELRUN};
use redisai_engine::run::{RunOutcome, RunRequest};

use super::{run, slices};
use crate::blocking::{self, cannot_block};
use crate::model_type::{ModelValue, MODEL_TYPE};
use crate::reply;
use crate::state::engine;
use crate::tensor_key::TensorKey;

/// Parses a run command against the model's input and output counts.
type ParseRun = for<'a> fn(&[&'a [u8]], usize, usize) -> Result<ExecuteArgs<'a>, Error>;

/// The grammar pieces of one run command: arity check, key positions, and the parse against the
/// model's input/output counts.
struct RunGrammar {
    name: &'static str,
    arity: fn(&[&[u8]]) -> Result<(), Error>,
    keys: fn(&[&[u8]]) -> Vec<usize>,
    parse: ParseRun,
}

/// MULTI/Lua refusal, arity, model lookup, parse, then the run (SPEC §3.7 order).
fn run_command(ctx: &Context, args: &[RedisString], grammar: &RunGrammar) -> RedisResult {
    if ctx.is_keys_position_request() {
        return super::report_keys(ctx, (grammar.keys)(&slices(args)));
    }
    run(ctx, grammar.name, || {
        if cannot_block(ctx) {
            return Err(Error::InTransaction);
        }
        let argv = slices(args);
        (grammar.arity)(&argv)?;
        let model = model_at(ctx, &args[1])?;
        let parsed = (grammar.parse)(&argv, model.input_count(), model.output_count())?;
        submit(ctx, model, parsed)
    })
}

/// `AI.MODELEXECUTE <key> INPUTS <n> <in>... OUTPUTS <m> <out>... [TIMEOUT <ms>]`
pub fn modelexecute(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    const GRAMMAR: RunGrammar = RunGrammar {
        name: MODELEXECUTE,
        arity: modelexecute_arity,
        keys: keys::modelexecute,
        parse: parse_modelexecute,
    };
    run_command(ctx, &args, &GRAMMAR)
}

/// Deprecated `AI.MODELRUN <key> [TIMEOUT <ms>] INPUTS <in>... OUTPUTS <out>...`
pub fn modelrun(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    const GRAMMAR: RunGrammar = RunGrammar {
        name: MODELRUN,
        arity: modelrun_arity,
        keys: keys::modelrun,
        parse: parse_modelrun,
    };
    run_command(ctx, &args, &GRAMMAR)
}

/// The model stored at `key` (a shared reference).
pub fn model_at(ctx: &Context, key: &RedisString) -> Result<Arc<Model>, Error> {
    let key = ctx.open_key(key);
    let value = key
        .get_value::<ModelValue>(&MODEL_TYPE)
        .map_err(|_| Error::WrongType)?
        .ok_or(Error::ModelKeyEmpty)?;
    Ok(Arc::clone(&value.0))
}

/// The tensor stored at `key` (a shared reference, no copy).
pub fn tensor_at(ctx: &Context, key: &[u8]) -> Result<Arc<Tensor>, Error> {
    let name = ctx.create_string(key);
    let key = TensorKey::read(ctx, name.inner);
    key.shared()?.ok_or(Error::TensorKeyEmpty)
}

/// Fetches the inputs, blocks the client and queues the run.
fn submit(ctx: &Context, model: Arc<Model>, parsed: ExecuteArgs<'_>) -> Result<(), Error> {
    let inputs = parsed
        .inputs
        .iter()
        .map(|k| tensor_at(ctx, k))
        .collect::<Result<Vec<_>, _>>()?;
    let outputs: Vec<Vec<u8>> = parsed.outputs.iter().map(|k| k.to_vec()).collect();
    let queue = engine()
        .queues
        .get_or_create(&model.device().queue_name())
        .map_err(|_| Error::QueueInit)?;
    let blocked = blocking::block(ctx);
    queue.push(RunRequest {
        model,
        inputs,
        enqueued_at: Instant::now(),
        timeout: parsed.timeout_ms.map(Duration::from_millis),
        cancel: None,
        on_done: Box::new(move |outcome| {
            blocked.finish(Box::new(move |ctx| complete(ctx, outcome, &outputs)));
        }),
    });
    Ok(())
}

/// On the main thread: writes and replicates the outputs, then replies.
fn complete(ctx: &Context, outcome: RunOutcome, output_keys: &[Vec<u8>]) {
    match outcome {
        RunOutcome::TimedOut => reply::simple(ctx, "TIMEDOUT"),
        // Single runs are never cancelled; answer like a timeout if one ever is.
        RunOutcome::Cancelled => reply::simple(ctx, "TIMEDOUT"),
        RunOutcome::Failed(e) => reply::error(ctx, &e),
        RunOutcome::Done(outputs) => {
            let entries: Vec<(&[u8], Option<Arc<Tensor>>)> =
                output_keys.iter().map(Vec::as_slice).zip(outputs).collect();
            match write_tensors(ctx, &entries) {
                Ok(()) => reply::ok(ctx),
                Err(e) => reply::error(ctx, &e),
            }
        }
    }
}

/// Stores each tensor under its key (skipping `None`), replicated as `AI.TENSORSET ... BLOB`.
/// Every key's type is checked first, so a WRONGTYPE key leaves all keys unchanged.
pub fn write_tensors(ctx: &Context, entries: &[(&[u8], Option<Arc<Tensor>>)]) -> Result<(), Error> {
    let names: Vec<RedisString> = entries.iter().map(|(k, _)| ctx.create_string(*k)).collect();
    for name in &names {
        TensorKey::read(ctx, name.inner).check()?;
    }
    for (name, (_, tensor)) in names.iter().zip(entries) {
        let Some(tensor) = tensor else { continue };
        let mut key = TensorKey::write(ctx, name.inner);
        replicate_tensorset(ctx, name.as_slice(), tensor);
        key.set(Arc::clone(tensor))?;
    }
    Ok(())
}

/// Propagates a tensor write as `AI.TENSORSET <key> <DTYPE> <dims...> BLOB <data>`.
pub fn replicate_tensorset(ctx: &Context, key: &[u8], tensor: &Tensor) {
    let dims: Vec<String> = tensor.shape().iter().map(|d| d.to_string()).collect();
    let mut args: Vec<&[u8]> = Vec::with_capacity(dims.len() + 4);
    args.push(key);
    args.push(tensor.dtype().name().as_bytes());
    args.extend(dims.iter().map(|d| d.as_bytes()));
    args.push(b"BLOB");
    args.push(tensor.data());
    ctx.replicate("AI.TENSORSET", args.as_slice());
}
