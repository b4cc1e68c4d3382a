//! AI.CONFIG, AI.INFO and AI.METRICS.

use redis_module::{Context, RedisResult, RedisString};
use redisai_core::Error;
use redisai_engine::histogram::Snapshot;
use redisai_engine::metrics::{render, QueueView};
use redisai_engine::model_cmd::{parse_config, parse_info, parse_metrics, ConfigCmd};
use redisai_engine::names::{CONFIG, INFO, METRICS};
use redisai_engine::stats::{RunKind, RunStats};

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

/// `AI.INFO <key> [RESETSTAT | LATENCY]`
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
            RunKind::Embedder => b"EMBEDDER",
        };
        let mut fields = vec![
            ("key", Item::Bulk(parsed.key)),
            ("type", Item::Bulk(kind)),
            ("backend", Item::text(stats.backend().name())),
            ("device", Item::text(stats.device())),
            ("tag", Item::Bulk(stats.tag())),
            ("duration", Item::Int(stats.duration() as i64)),
            ("samples", Item::Int(stats.samples())),
            ("calls", Item::Int(stats.calls() as i64)),
            ("errors", Item::Int(stats.errors() as i64)),
        ];
        if parsed.latency {
            fields.extend(latency_fields(&stats));
        }
        reply::fields(ctx, fields);
        Ok(())
    })
}

/// The figures `AI.INFO <key> LATENCY` adds after RedisAI's (docs/metrics.md).
fn latency_fields(stats: &RunStats) -> Vec<(&'static str, Item<'static>)> {
    let l = stats.latency();
    vec![
        ("timeouts", Item::Int(stats.timeouts() as i64)),
        ("queue_wait", stage(&l.queue.snapshot(), &DURATION_NAMES)),
        ("compute", stage(&l.compute.snapshot(), &DURATION_NAMES)),
        ("end_to_end", stage(&l.total.snapshot(), &DURATION_NAMES)),
        ("batch_size", batch_stage(&l.batch.snapshot())),
    ]
}

/// Field names of a duration histogram (microseconds) and of the batch-size one.
const DURATION_NAMES: [&str; 6] = ["sum_us", "max_us", "p50_us", "p90_us", "p99_us", "p999_us"];
const BATCH_NAMES: [&str; 6] = ["sum", "max", "p50", "p90", "p99", "p999"];

/// One histogram's count, sum, maximum and percentiles, as `name, value` pairs.
fn stage(snap: &Snapshot, names: &'static [&'static str; 6]) -> Item<'static> {
    Item::Array(stage_items(snap, names))
}

fn stage_items(snap: &Snapshot, names: &'static [&'static str; 6]) -> Vec<Item<'static>> {
    let values = [
        snap.sum(),
        snap.max(),
        snap.quantile(0.5),
        snap.quantile(0.9),
        snap.quantile(0.99),
        snap.quantile(0.999),
    ];
    let mut items = vec![Item::text("count"), Item::Int(snap.count() as i64)];
    for (name, value) in names.iter().zip(values) {
        items.push(Item::text(name));
        items.push(Item::Int(value as i64));
    }
    items
}

/// [`stage`] for batch sizes, with the distribution: `[upper bound, count]` per non-empty bucket.
fn batch_stage(snap: &Snapshot) -> Item<'static> {
    let mut items = stage_items(snap, &BATCH_NAMES);
    let distribution = snap
        .nonzero()
        .into_iter()
        .map(|(bound, count)| Item::Array(vec![Item::Int(bound as i64), Item::Int(count as i64)]))
        .collect();
    items.push(Item::text("distribution"));
    items.push(Item::Array(distribution));
    Item::Array(items)
}

/// `AI.METRICS`: the Prometheus text exposition of every model's, script's and device queue's
/// figures (docs/metrics.md), as one bulk string.
pub fn metrics(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, METRICS, || {
        parse_metrics(&slices(&args))?;
        let engine = engine();
        let queues: Vec<QueueView> = engine
            .queues
            .all()
            .iter()
            .map(|q| QueueView {
                name: q.name().to_string(),
                pending: q.len(),
                workers: q.workers().len(),
                busy: q.busy(),
                wait: q.wait(),
            })
            .collect();
        let text = render(&engine.stats.all(), &queues);
        reply::bulk(ctx, text.as_bytes());
        Ok(())
    })
}
