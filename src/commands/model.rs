//! AI.MODELSTORE, AI.MODELSET, AI.MODELGET, AI.MODELDEL and AI._MODELSCAN.

use std::sync::Arc;

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

use super::{delete_typed, run, scan_reply, slices};
use crate::model_type::{into_value, ModelValue, MODEL_TYPE};
use crate::reply;
use crate::state::engine;

/// `AI.MODELSTORE <key> <backend> <device> [TAG t] [BATCHSIZE n [MINBATCHSIZE m
/// [MINBATCHTIMEOUT t]]] [INPUTS n ... OUTPUTS m ...] BLOB <chunk>...`
pub fn modelstore(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, MODELSTORE, || {
        let argv = slices(&args);
        let parsed = parse_modelstore(&argv)?;
        store(ctx, &args[1], parsed)
    })
}

/// Deprecated `AI.MODELSET` (no counts before INPUTS/OUTPUTS names).
pub fn modelset(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, MODELSET, || {
        let argv = slices(&args);
        let parsed = parse_modelset(&argv)?;
        store(ctx, &args[1], parsed)
    })
}

/// Builds the model, then (RedisAI's order) checks the key's type, stores and replicates.
fn store(ctx: &Context, key_name: &RedisString, parsed: ModelStoreArgs<'_>) -> Result<(), Error> {
    let engine = engine();
    if engine.registry.get(parsed.backend).is_none() {
        crate::log::notice(
            ctx,
            &format!(
                "backend {} not loaded, will try loading default backend",
                parsed.backend.name()
            ),
        );
    }
    let backend = parsed.backend;
    let record = parsed.into_record();
    let model = Model::create(&engine.registry, record, key_name.as_slice())
        .inspect_err(|_| crate::log::load_failure(ctx, backend))?;
    let value = into_value(model).map_err(|e| {
        crate::log::warning(ctx, &e);
        Error::QueueInit
    })?;
    let key = ctx.open_key_writable(key_name);
    key.get_value::<ModelValue>(&MODEL_TYPE)
        .map_err(|_| Error::WrongType)?;
    let stats = Arc::clone(value.0.stats());
    key.set_value(&MODEL_TYPE, value)
        .map_err(|_| Error::WrongType)?;
    engine.stats.register(stats);
    ctx.replicate_verbatim();
    reply::ok(ctx);
    Ok(())
}

/// `AI.MODELGET <key> [META] [BLOB]`
pub fn modelget(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, MODELGET, || {
        let argv = slices(&args);
        let format = parse_modelget(&argv)?;
        let key = ctx.open_key(&args[1]);
        let value = key
            .get_value::<ModelValue>(&MODEL_TYPE)
            .map_err(|_| Error::WrongType)?
            .ok_or(Error::ModelKeyEmpty)?;
        let r = value.0.record();
        let blob = |ctx: &Context| {
            let parts = chunks(&r.blob, engine().model_chunk_size() as usize);
            if parts.len() == 1 {
                reply::bulk(ctx, &r.blob);
            } else {
                reply::array(ctx, parts.len());
                for part in parts {
                    reply::bulk(ctx, part);
                }
            }
        };
        if !format.meta {
            blob(ctx);
            return Ok(());
        }
        reply::array(ctx, if format.blob { 18 } else { 16 });
        reply::bulk(ctx, b"backend");
        reply::bulk(ctx, r.backend.name().as_bytes());
        reply::bulk(ctx, b"device");
        reply::bulk(ctx, r.device.as_bytes());
        reply::bulk(ctx, b"tag");
        reply::bulk(ctx, &r.tag);
        reply::bulk(ctx, b"batchsize");
        reply::integer(ctx, r.batchsize as i64);
        reply::bulk(ctx, b"minbatchsize");
        reply::integer(ctx, r.minbatchsize as i64);
        for (field, names) in [("inputs", &r.inputs), ("outputs", &r.outputs)] {
            reply::bulk(ctx, field.as_bytes());
            reply::array(ctx, names.len());
            for name in names {
                reply::bulk(ctx, name);
            }
        }
        reply::bulk(ctx, b"minbatchtimeout");
        reply::integer(ctx, r.minbatchtimeout as i64);
        if format.blob {
            reply::bulk(ctx, b"blob");
            blob(ctx);
        }
        Ok(())
    })
}

/// `AI.MODELDEL <key>`
pub fn modeldel(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, MODELDEL, || {
        modeldel_arity(&slices(&args))?;
        delete_typed::<ModelValue>(ctx, &args[1], &MODEL_TYPE, Error::ModelKeyEmpty)
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
