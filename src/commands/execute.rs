//! AI.MODELEXECUTE and the deprecated AI.MODELRUN: parse and fetch on the main thread, then a
//! one-op plan through the one execution path (`execution.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_module::{Context, RedisResult, RedisString};
use redisai_core::Error;
use redisai_engine::dag::single::model_plan;
use redisai_engine::keys;
use redisai_engine::model::Model;
use redisai_engine::model_cmd::{
    modelexecute_arity, modelrun_arity, parse_modelexecute, parse_modelrun, ExecuteArgs,
};
use redisai_engine::names::{MODELEXECUTE, MODELRUN};

use super::blocking_command;
use crate::execution::run_plan;
use crate::keyspace;

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
        let received = Instant::now();
        (grammar.arity)(argv)?;
        let model = keyspace::model(ctx, argv[1])?;
        let parsed = (grammar.parse)(argv, model.input_count(), model.output_count())?;
        submit(ctx, model, parsed, received)
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

/// Fetches the inputs and runs the model's one-op plan.
fn submit(
    ctx: &Context,
    model: Arc<Model>,
    parsed: ExecuteArgs<'_>,
    received: Instant,
) -> Result<(), Error> {
    let inputs = parsed
        .inputs
        .iter()
        .map(|k| keyspace::tensor(ctx, k))
        .collect::<Result<Vec<_>, _>>()?;
    let outputs = parsed.outputs.iter().map(|k| k.to_vec()).collect();
    let timeout = parsed.timeout_ms.map(Duration::from_millis);
    run_plan(ctx, model_plan(model, inputs, outputs, timeout), received)
}
