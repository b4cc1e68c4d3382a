//! AI.MODELEXECUTE and the deprecated AI.MODELRUN: parse and fetch on the main thread, run on the
//! device's queue, write outputs and reply on the main thread when the run is done.

use std::ffi::{c_char, c_longlong};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_module::{raw, Context, RedisResult, RedisString};
use redisai_core::{Error, Tensor};
use redisai_engine::keys;
use redisai_engine::model::Model;
use redisai_engine::model_cmd::{
    modelexecute_arity, modelrun_arity, parse_modelexecute, parse_modelrun, ExecuteArgs,
};
use redisai_engine::names::{MODELEXECUTE, MODELRUN};
use redisai_engine::run::{RunOp, RunOutcome, RunRequest};

use super::blocking_command;
use crate::blocking;
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
    blocking_command(ctx, args, grammar.name, grammar.keys, |argv| {
        (grammar.arity)(argv)?;
        let model = model_at(ctx, &args[1])?;
        let parsed = (grammar.parse)(argv, model.input_count(), model.output_count())?;
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
    let name = RedisString::create_from_slice(ctx.ctx, key);
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
    let queue = model.device().queue_name();
    let timeout = parsed.timeout_ms.map(Duration::from_millis);
    enqueue(ctx, RunOp::Model(model), &queue, inputs, outputs, timeout)
}

/// Blocks the client and queues a model run or script call on the device's queue; the outputs
/// are written to `outputs` (and replicated) when it completes.
pub fn enqueue(
    ctx: &Context,
    op: RunOp,
    queue: &str,
    inputs: Vec<Arc<Tensor>>,
    outputs: Vec<Vec<u8>>,
    timeout: Option<Duration>,
) -> Result<(), Error> {
    let queue = engine()
        .queues
        .get_or_create(queue)
        .map_err(|_| Error::QueueInit)?;
    let blocked = blocking::block(ctx);
    queue.push(RunRequest {
        op,
        inputs,
        enqueued_at: Instant::now(),
        timeout,
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
    let names: Vec<RedisString> = entries
        .iter()
        .map(|(k, _)| RedisString::create_from_slice(ctx.ctx, k))
        .collect();
    // One key (MODELEXECUTE's usual case) is checked when opened for the write below.
    let single = names.len() == 1;
    if !single {
        for name in &names {
            TensorKey::read(ctx, name.inner).check()?;
        }
    }
    for (name, (_, tensor)) in names.iter().zip(entries) {
        let Some(tensor) = tensor else {
            if single {
                TensorKey::read(ctx, name.inner).check()?;
            }
            continue;
        };
        let mut key = TensorKey::write(ctx, name.inner);
        key.check()?;
        replicate_tensorset(ctx, name.as_slice(), tensor);
        key.set(Arc::clone(tensor))?;
    }
    Ok(())
}

/// Propagates a tensor write as `AI.TENSORSET <key> <DTYPE> <dims...> BLOB <data>`.
///
/// Up to 4 dims the arguments go to `RedisModule_Replicate` as they are (buffers and integers,
/// which Redis turns into its argument objects once); more dims go through string objects made
/// here first.
pub fn replicate_tensorset(ctx: &Context, key: &[u8], tensor: &Tensor) {
    // SAFETY: the API table is filled once at module load and only read afterwards.
    let replicate = unsafe { raw::RedisModule_Replicate }.expect("module API");
    let (command, blob) = (c"AI.TENSORSET".as_ptr(), c"BLOB".as_ptr());
    let (k, k_len) = (key.as_ptr().cast::<c_char>(), key.len());
    let dtype = tensor.dtype().name();
    let (t, t_len) = (dtype.as_ptr().cast::<c_char>(), dtype.len());
    let (d, d_len) = (tensor.data().as_ptr().cast::<c_char>(), tensor.data().len());
    if tensor.shape().len() > 4 {
        let dims: Vec<String> = tensor.shape().iter().map(|d| d.to_string()).collect();
        let mut args: Vec<&[u8]> = Vec::with_capacity(dims.len() + 4);
        args.push(key);
        args.push(dtype.as_bytes());
        args.extend(dims.iter().map(|d| d.as_bytes()));
        args.push(b"BLOB");
        args.push(tensor.data());
        ctx.replicate("AI.TENSORSET", args.as_slice());
        return;
    }
    // SAFETY: each format letter matches its arguments: `b` a buffer pointer and its length
    // (size_t), `l` a long long, `c` a NUL-terminated string; every pointer is valid for the
    // call, which copies what it needs.
    unsafe {
        match *tensor.shape() {
            [] => replicate(
                ctx.ctx,
                command,
                c"bbcb".as_ptr(),
                k,
                k_len,
                t,
                t_len,
                blob,
                d,
                d_len,
            ),
            [a] => replicate(
                ctx.ctx,
                command,
                c"bblcb".as_ptr(),
                k,
                k_len,
                t,
                t_len,
                a as c_longlong,
                blob,
                d,
                d_len,
            ),
            [a, b] => replicate(
                ctx.ctx,
                command,
                c"bbllcb".as_ptr(),
                k,
                k_len,
                t,
                t_len,
                a as c_longlong,
                b as c_longlong,
                blob,
                d,
                d_len,
            ),
            [a, b, c] => replicate(
                ctx.ctx,
                command,
                c"bblllcb".as_ptr(),
                k,
                k_len,
                t,
                t_len,
                a as c_longlong,
                b as c_longlong,
                c as c_longlong,
                blob,
                d,
                d_len,
            ),
            [a, b, c, e] => replicate(
                ctx.ctx,
                command,
                c"bbllllcb".as_ptr(),
                k,
                k_len,
                t,
                t_len,
                a as c_longlong,
                b as c_longlong,
                c as c_longlong,
                e as c_longlong,
                blob,
                d,
                d_len,
            ),
            _ => unreachable!("more than 4 dims are replicated above"),
        };
    }
}
