//! AI.MODELSTORE, AI.MODELSET, AI.MODELGET, AI.MODELDEL and AI._MODELSCAN.

use redis_module::{Context, RedisResult, RedisString};
use redisai_core::model::chunks;
use redisai_core::Error;
use redisai_engine::model::Model;
use redisai_engine::model_cmd::{
    modeldel_arity, modelscan_arity, parse_modelget, parse_modelset, parse_modelstore,
    ModelStoreArgs,
};
use redisai_engine::names::{MODELDEL, MODELGET, MODELSCAN, MODELSET, MODELSTORE};
use redisai_engine::stats::RunKind;

use super::{run, scan_reply, slices};
use crate::keyspace;
use crate::loading;
use crate::reply::{self, Item};
use crate::state::engine;

/// `AI.MODELSTORE <key> <backend> <device> [TAG t] [BATCHSIZE n [MINBATCHSIZE m
/// [MINBATCHTIMEOUT t]]] [INPUTS n ... OUTPUTS m ...] BLOB <chunk>...`
pub fn modelstore(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, MODELSTORE, || {
        let parsed = parse_modelstore(&slices(&args))?;
        loading::store(ctx, &args, Some(parsed.backend), |argv| {
            build(parse_modelstore(argv)?)
        })
    })
}

/// Deprecated `AI.MODELSET` (no counts before INPUTS/OUTPUTS names).
pub fn modelset(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, MODELSET, || {
        let parsed = parse_modelset(&slices(&args))?;
        loading::store(ctx, &args, Some(parsed.backend), |argv| {
            build(parse_modelset(argv)?)
        })
    })
}

/// Builds the model (loading its backend if needed), warms it up and starts its device's run
/// queue.
fn build(parsed: ModelStoreArgs<'_>) -> Result<Model, Error> {
    let (key, warmup) = (parsed.key, parsed.warmup);
    let model = Model::create(&engine().registry, parsed.into_record(), key)?;
    warm_up(&model, key, warmup)?;
    loading::start_queue(model.device())?;
    Ok(model)
}

/// Runs the warm-up of a model about to be stored at `key`: `WARMUP <n>` when the command gave
/// it (its failure fails the store), else MODEL_WARMUP (a failure is logged and the model is
/// stored anyway; models that declare no input shapes are not warmed up). One log line says how
/// it went.
pub fn warm_up(model: &Model, key: &[u8], explicit: Option<u64>) -> Result<(), Error> {
    let runs = explicit.unwrap_or(crate::state::config().model_warmup as u64);
    if runs == 0 {
        return Ok(());
    }
    let name = String::from_utf8_lossy(key);
    let started = std::time::Instant::now();
    match model.warm_up(runs, redisai_engine::limits::max_tensor_bytes()) {
        Ok(()) => {
            crate::log::notice_global(&format!(
                "model {name}: {runs} warm-up runs in {:.1} ms",
                started.elapsed().as_secs_f64() * 1e3
            ));
            Ok(())
        }
        Err(e) if explicit.is_some() => Err(e),
        Err(e) => {
            crate::log::notice_global(&format!("model {name}: not warmed up: {e}"));
            Ok(())
        }
    }
}

/// `AI.MODELGET <key> [META] [BLOB]`
pub fn modelget(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, MODELGET, || {
        let argv = slices(&args);
        let format = parse_modelget(&argv)?;
        let model = keyspace::model(ctx, argv[1])?;
        let r = model.record();
        let parts: Vec<&[u8]> = chunks(&r.blob, engine().model_chunk_size() as usize).collect();
        let blob = match parts.as_slice() {
            [one] => Item::Bulk(one),
            _ => Item::Array(parts.iter().map(|p| Item::Bulk(p)).collect()),
        };
        if !format.meta {
            reply::item(ctx, &blob);
            return Ok(());
        }
        let mut fields = vec![
            ("backend", Item::text(r.backend.name())),
            ("device", Item::text(&r.device)),
            ("tag", Item::Bulk(&r.tag)),
            ("batchsize", Item::Int(r.batchsize as i64)),
            ("minbatchsize", Item::Int(r.minbatchsize as i64)),
            ("inputs", names(&r.inputs)),
            ("outputs", names(&r.outputs)),
            ("minbatchtimeout", Item::Int(r.minbatchtimeout as i64)),
        ];
        if format.blob {
            fields.push(("blob", blob));
        }
        reply::fields(ctx, fields);
        Ok(())
    })
}

/// A list of names as an array of bulk strings.
fn names(list: &[Vec<u8>]) -> Item<'_> {
    Item::Array(list.iter().map(|n| Item::Bulk(n)).collect())
}

/// `AI.MODELDEL <key>`
pub fn modeldel(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, MODELDEL, || {
        modeldel_arity(&slices(&args))?;
        keyspace::delete::<Model>(ctx, args[1].as_slice())?;
        ctx.replicate_verbatim();
        reply::ok(ctx);
        Ok(())
    })
}

/// `AI._MODELSCAN`: `[key, tag]` of every model this shard knows.
pub fn modelscan(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, MODELSCAN, || {
        modelscan_arity(&slices(&args))?;
        scan_reply(
            ctx,
            RunKind::Model,
            "MODELSCAN is experimental and might be removed in future versions",
        );
        Ok(())
    })
}
