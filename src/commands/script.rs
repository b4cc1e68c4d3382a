//! AI.SCRIPTSTORE, AI.SCRIPTSET, AI.SCRIPTGET, AI.SCRIPTDEL, AI._SCRIPTSCAN, AI.SCRIPTEXECUTE and
//! the deprecated AI.SCRIPTRUN (SPEC §3.9-3.15).

use std::sync::Arc;
use std::time::Duration;

use redis_module::{Context, RedisResult, RedisString};
use redisai_core::Backend;
use redisai_core::Error;
use redisai_engine::keys;
use redisai_engine::names::{
    SCRIPTDEL, SCRIPTEXECUTE, SCRIPTGET, SCRIPTRUN, SCRIPTSCAN, SCRIPTSET, SCRIPTSTORE,
};
use redisai_engine::run::{RunOp, ScriptOp};
use redisai_engine::script::Script;
use redisai_engine::script_cmd::{
    parse_scriptexecute, parse_scriptget, parse_scriptrun, parse_scriptset, parse_scriptstore,
    scriptdel_arity, scriptexecute_arity, scriptrun_arity, scriptscan_arity, ScriptExecuteArgs,
    ScriptGetReply, ScriptStoreArgs,
};
use redisai_engine::stats::RunKind;

use super::execute::{enqueue, tensor_at};
use super::{blocking_command, delete_typed, run, scan_reply, slices};
use crate::reply;
use crate::script_host::ModuleScriptHost;
use crate::script_type::{into_value, ScriptValue, SCRIPT_TYPE};
use crate::state::engine;

/// `AI.SCRIPTSTORE <key> <device> [TAG <tag>] ENTRY_POINTS <n> <fn>... SOURCE <source>`
pub fn scriptstore(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, SCRIPTSTORE, || {
        let argv = slices(&args);
        let parsed = parse_scriptstore(&argv)?;
        store(ctx, &args[1], parsed)
    })
}

/// Deprecated `AI.SCRIPTSET <key> <device> [TAG <tag>] SOURCE <source>` (no entry points).
pub fn scriptset(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, SCRIPTSET, || {
        let argv = slices(&args);
        let parsed = parse_scriptset(&argv)?;
        store(ctx, &args[1], parsed)
    })
}

/// Compiles the script, then checks the key's type, stores and replicates.
fn store(ctx: &Context, key_name: &RedisString, parsed: ScriptStoreArgs<'_>) -> Result<(), Error> {
    let engine = engine();
    if engine.registry.get(Backend::Torch).is_none() {
        crate::log::notice(
            ctx,
            "backend TORCH not loaded, will try loading default backend",
        );
    }
    let script = Script::create(&engine.registry, parsed.into_record(), key_name.as_slice())
        .inspect_err(|_| crate::log::load_failure(ctx, Backend::Torch))?;
    let value = into_value(script).map_err(|e| {
        crate::log::warning(ctx, &e);
        Error::QueueInit
    })?;
    let key = ctx.open_key_writable(key_name);
    key.get_value::<ScriptValue>(&SCRIPT_TYPE)
        .map_err(|_| Error::WrongType)?;
    let stats = Arc::clone(value.0.stats());
    key.set_value(&SCRIPT_TYPE, value)
        .map_err(|_| Error::WrongType)?;
    engine.stats.register(stats);
    ctx.replicate_verbatim();
    reply::ok(ctx);
    Ok(())
}

/// The script stored at `key` (a shared reference).
pub fn script_at(ctx: &Context, key: &[u8]) -> Result<Arc<Script>, Error> {
    let name = RedisString::create_from_slice(ctx.ctx, key);
    let key = ctx.open_key(&name);
    let value = key
        .get_value::<ScriptValue>(&SCRIPT_TYPE)
        .map_err(|_| Error::WrongType)?
        .ok_or(Error::ScriptKeyEmpty)?;
    Ok(Arc::clone(&value.0))
}

/// `AI.SCRIPTGET <key> [META] [SOURCE]`
pub fn scriptget(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, SCRIPTGET, || {
        let argv = slices(&args);
        let parsed = parse_scriptget(&argv)?;
        let script = script_at(ctx, parsed.key)?;
        let r = script.record();
        if parsed.reply == ScriptGetReply::Source {
            reply::bulk(ctx, &r.source);
            return Ok(());
        }
        let with_source = parsed.reply == ScriptGetReply::MetaAndSource;
        reply::array(ctx, if with_source { 8 } else { 6 });
        reply::bulk(ctx, b"device");
        reply::bulk(ctx, r.device.as_bytes());
        reply::bulk(ctx, b"tag");
        reply::bulk(ctx, &r.tag);
        reply::bulk(ctx, b"Entry Points");
        reply::array(ctx, r.entry_points.len());
        for name in &r.entry_points {
            reply::bulk(ctx, name);
        }
        if with_source {
            reply::bulk(ctx, b"source");
            reply::bulk(ctx, &r.source);
        }
        Ok(())
    })
}

/// `AI.SCRIPTDEL <key>`
pub fn scriptdel(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, SCRIPTDEL, || {
        scriptdel_arity(&slices(&args))?;
        delete_typed::<ScriptValue>(ctx, &args[1], &SCRIPT_TYPE, Error::ScriptKeyEmpty)
    })
}

/// `AI._SCRIPTSCAN`: `[key, tag]` of every script this shard knows.
pub fn scriptscan(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, SCRIPTSCAN, || {
        scriptscan_arity(&slices(&args))?;
        scan_reply(
            ctx,
            RunKind::Script,
            "SCRIPTSCAN is experimental and might be removed in future versions",
        );
        Ok(())
    })
}

/// The grammar pieces of one script run command.
struct ScriptGrammar {
    name: &'static str,
    arity: fn(&[&[u8]]) -> Result<(), Error>,
    keys: fn(&[&[u8]]) -> Vec<usize>,
    parse: for<'a> fn(&[&'a [u8]], bool) -> Result<ScriptExecuteArgs<'a>, Error>,
}

/// MULTI/Lua refusal, arity, script lookup, parse, input lookup, then the call (SPEC §3.14).
fn run_command(ctx: &Context, args: &[RedisString], grammar: &ScriptGrammar) -> RedisResult {
    blocking_command(ctx, args, grammar.name, grammar.keys, |argv| {
        (grammar.arity)(argv)?;
        let script = script_at(ctx, argv[1])?;
        let parsed = (grammar.parse)(argv, false)?;
        let inputs = parsed
            .inputs
            .iter()
            .map(|k| tensor_at(ctx, k))
            .collect::<Result<Vec<_>, _>>()?;
        let keys: Vec<Vec<u8>> = parsed.keys.iter().map(|k| k.to_vec()).collect();
        let host = Arc::new(ModuleScriptHost::new(ctx, &keys));
        let queue = script.device().queue_name();
        let op = RunOp::Script(ScriptOp {
            function: String::from_utf8_lossy(parsed.function).into_owned(),
            keys,
            args: parsed.args.iter().map(|a| a.to_vec()).collect(),
            n_outputs: parsed.outputs.len(),
            host,
            script,
        });
        let outputs = parsed.outputs.iter().map(|k| k.to_vec()).collect();
        let timeout = parsed.timeout_ms.map(Duration::from_millis);
        enqueue(ctx, op, &queue, inputs, outputs, timeout)
    })
}

/// `AI.SCRIPTEXECUTE <key> <fn> [KEYS n k...] [INPUTS n i...] [ARGS n a...] [OUTPUTS n o...]
/// [TIMEOUT ms]`
pub fn scriptexecute(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    const GRAMMAR: ScriptGrammar = ScriptGrammar {
        name: SCRIPTEXECUTE,
        arity: scriptexecute_arity,
        keys: keys::scriptexecute,
        parse: parse_scriptexecute,
    };
    run_command(ctx, &args, &GRAMMAR)
}

/// Deprecated `AI.SCRIPTRUN <key> <fn> [TIMEOUT ms] INPUTS <in>... [$ <in>...] OUTPUTS <out>...`
pub fn scriptrun(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    const GRAMMAR: ScriptGrammar = ScriptGrammar {
        name: SCRIPTRUN,
        arity: scriptrun_arity,
        keys: keys::scriptrun,
        parse: parse_scriptrun,
    };
    run_command(ctx, &args, &GRAMMAR)
}
