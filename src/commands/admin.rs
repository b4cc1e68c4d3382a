//! AI.CONFIG and AI.INFO.

use redis_module::{Context, RedisResult, RedisString};
use redisai_core::Error;
use redisai_engine::model_cmd::{parse_config, parse_info, ConfigCmd};
use redisai_engine::names::{CONFIG, INFO};
use redisai_engine::stats::RunKind;

use super::{run, slices};
use crate::reply::{self, Item};
use crate::state::engine;

/// `AI.CONFIG LOADBACKEND <backend> <path> | BACKENDSPATH <path> | MODEL_CHUNK_SIZE <n> |
/// GET <name>`
pub fn config(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, CONFIG, || {
        let argv = slices(&args);
        let engine = engine();
        match parse_config(&argv)? {
            ConfigCmd::LoadBackend(backend, path) => {
                let path = String::from_utf8_lossy(path).into_owned();
                match engine.registry.load_at_runtime(backend, &path) {
                    Ok(()) => {
                        crate::log::notice(
                            ctx,
                            &format!("{} backend loaded from {path}", backend.name()),
                        );
                        reply::ok(ctx);
                    }
                    Err(e) => {
                        crate::log::warning(ctx, &e.to_string());
                        return Err(Error::BackendLoadFailed);
                    }
                }
            }
            ConfigCmd::BackendsPath(path) => {
                engine
                    .registry
                    .set_backends_path(String::from_utf8_lossy(path).into_owned());
                reply::ok(ctx);
            }
            ConfigCmd::ModelChunkSize(bytes) => {
                engine.set_model_chunk_size(bytes);
                reply::ok(ctx);
            }
            ConfigCmd::Get(name) => {
                if name.eq_ignore_ascii_case(b"BACKENDSPATH") {
                    reply::bulk(ctx, engine.registry.backends_path().as_bytes());
                } else if name.eq_ignore_ascii_case(b"MODEL_CHUNK_SIZE") {
                    reply::integer(ctx, engine.model_chunk_size() as i64);
                } else {
                    reply::null(ctx);
                }
            }
        }
        Ok(())
    })
}

/// `AI.INFO <key> [RESETSTAT]`
pub fn info(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, INFO, || {
        let argv = slices(&args);
        let parsed = parse_info(&argv)?;
        let stats = engine()
            .stats
            .get(parsed.key)
            .ok_or(Error::RunInfoNotFound)?;
        if parsed.reset {
            stats.reset();
            reply::ok(ctx);
            return Ok(());
        }
        let kind: &[u8] = match stats.kind() {
            RunKind::Model => b"MODEL",
            RunKind::Script => b"SCRIPT",
        };
        reply::fields(
            ctx,
            vec![
                ("key", Item::Bulk(parsed.key)),
                ("type", Item::Bulk(kind)),
                ("backend", Item::text(stats.backend().name())),
                ("device", Item::text(stats.device())),
                ("tag", Item::Bulk(stats.tag())),
                ("duration", Item::Int(stats.duration() as i64)),
                ("samples", Item::Int(stats.samples())),
                ("calls", Item::Int(stats.calls() as i64)),
                ("errors", Item::Int(stats.errors() as i64)),
            ],
        );
        Ok(())
    })
}
