//! AI.SCRIPTSTORE, AI.SCRIPTSET, AI.SCRIPTGET, AI.SCRIPTDEL, AI._SCRIPTSCAN, AI.SCRIPTEXECUTE and
//! the deprecated AI.SCRIPTRUN (SPEC §3.9-3.15).

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_module::{Context, RedisResult, RedisString};
use redisai_core::Backend;
use redisai_core::Error;
use redisai_engine::dag::single::{script_plan, ScriptInvocation};
use redisai_engine::keys;
use redisai_engine::names::{
    SCRIPTDEL, SCRIPTEXECUTE, SCRIPTGET, SCRIPTRUN, SCRIPTSCAN, SCRIPTSET, SCRIPTSTORE,
};
use redisai_engine::script::Script;
use redisai_engine::script_cmd::{
    parse_scriptexecute, parse_scriptget, parse_scriptrun, parse_scriptset, parse_scriptstore,
    scriptdel_arity, scriptexecute_arity, scriptrun_arity, scriptscan_arity, ScriptExecuteArgs,
    ScriptGetReply, ScriptStoreArgs,
};
use redisai_engine::stats::RunKind;

use super::{blocking_command, run, scan_reply, slices};
use crate::execution::run_plan;
use crate::keyspace;
use crate::loading;
use crate::reply::{self, Item};
use crate::script_host::ModuleScriptHost;
use crate::state::engine;

/// `AI.SCRIPTSTORE <key> <device> [TAG <tag>] ENTRY_POINTS <n> <fn>... SOURCE <source>`
pub fn scriptstore(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, SCRIPTSTORE, || {
        parse_scriptstore(&slices(&args))?;
        loading::store(ctx, &args, Some(Backend::Torch), |argv| {
            build(parse_scriptstore(argv)?)
        })
    })
}

/// Deprecated `AI.SCRIPTSET <key> <device> [TAG <tag>] SOURCE <source>` (no entry points).
pub fn scriptset(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, SCRIPTSET, || {
        parse_scriptset(&slices(&args))?;
        loading::store(ctx, &args, Some(Backend::Torch), |argv| {
            build(parse_scriptset(argv)?)
        })
    })
}

/// Compiles the script (loading the TORCH backend if needed) and starts its device's run queue.
fn build(parsed: ScriptStoreArgs<'_>) -> Result<Script, Error> {
    let key = parsed.key;
    let script = Script::create(&engine().registry, parsed.into_record(), key)?;
    loading::start_queue(script.device())?;
    Ok(script)
}

/// `AI.SCRIPTGET <key> [META] [SOURCE]`
pub fn scriptget(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, SCRIPTGET, || {
        let argv = slices(&args);
        let parsed = parse_scriptget(&argv)?;
        let script = keyspace::script(ctx, parsed.key)?;
        let r = script.record();
        if parsed.reply == ScriptGetReply::Source {
            reply::bulk(ctx, &r.source);
            return Ok(());
        }
        let entry_points = r.entry_points.iter().map(|n| Item::Bulk(n)).collect();
        let mut fields = vec![
            ("device", Item::text(&r.device)),
            ("tag", Item::Bulk(&r.tag)),
            ("Entry Points", Item::Array(entry_points)),
        ];
        if parsed.reply == ScriptGetReply::MetaAndSource {
            fields.push(("source", Item::Bulk(&r.source)));
        }
        reply::fields(ctx, fields);
        Ok(())
    })
}

/// `AI.SCRIPTDEL <key>`
pub fn scriptdel(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, SCRIPTDEL, || {
        scriptdel_arity(&slices(&args))?;
        keyspace::delete::<Script>(ctx, args[1].as_slice())?;
        ctx.replicate_verbatim();
        reply::ok(ctx);
        Ok(())
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
        let received = Instant::now();
        (grammar.arity)(argv)?;
        let script = keyspace::script(ctx, argv[1])?;
        let parsed = (grammar.parse)(argv, false)?;
        let inputs = parsed
            .inputs
            .iter()
            .map(|k| keyspace::tensor(ctx, k))
            .collect::<Result<Vec<_>, _>>()?;
        let keys: Vec<Vec<u8>> = parsed.keys.iter().map(|k| k.to_vec()).collect();
        let call = ScriptInvocation {
            function: String::from_utf8_lossy(parsed.function).into_owned(),
            host: Arc::new(ModuleScriptHost::new(ctx, &keys)),
            keys,
            args: parsed.args.iter().map(|a| a.to_vec()).collect(),
            script,
        };
        let outputs = parsed.outputs.iter().map(|k| k.to_vec()).collect();
        let timeout = parsed.timeout_ms.map(Duration::from_millis);
        run_plan(ctx, script_plan(call, inputs, outputs, timeout), received)
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
