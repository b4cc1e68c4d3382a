//! The text commands (`docs/embeddings.md`): AI.TOKENIZERSTORE / GET / DEL, AI.EMBEDDERSTORE /
//! GET / DEL, and AI.TOKENIZE, AI.POOL, AI.EMBED, which run as one-op plans through the one
//! execution path, as AI.MODELEXECUTE does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_module::{raw, Context, RedisResult, RedisString};
use redisai_core::{DType, Error, Tensor};
use redisai_engine::dag::single::text_plan;
use redisai_engine::keys;
use redisai_engine::text::cmd::{
    key_only, parse_embed, parse_embedderstore, parse_pool, parse_tokenize, parse_tokenizerget,
    parse_tokenizerstore, EMBED, EMBEDDERDEL, EMBEDDERGET, EMBEDDERSTORE, POOL, TOKENIZE,
    TOKENIZERDEL, TOKENIZERGET, TOKENIZERSTORE,
};
use redisai_engine::text::tokenizer::texts_of;
use redisai_engine::text::{Embedder, ResolvedEmbedder, TextOp, Tokenizer};

use super::{blocking_command, run, slices};
use crate::execution::run_plan;
use crate::keyspace;
use crate::loading;
use crate::reply::{self, Item};
use crate::script_host::check_read_access;

/// `AI.TOKENIZERSTORE <key> [MAXLEN <n>] BLOB <tokenizer.json>`: read on the loader, as models
/// are built.
pub fn tokenizerstore(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, TOKENIZERSTORE, || {
        parse_tokenizerstore(&slices(&args))?;
        loading::store(ctx, &args, None, |argv| {
            Tokenizer::create(parse_tokenizerstore(argv)?.1)
        })
    })
}

/// `AI.TOKENIZERGET <key> [META] [BLOB]`
pub fn tokenizerget(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, TOKENIZERGET, || {
        let argv = slices(&args);
        let (key, parts) = parse_tokenizerget(&argv)?;
        let tokenizer = keyspace::tokenizer(ctx, key)?;
        let record = tokenizer.record();
        if !parts.meta {
            reply::bulk(ctx, &record.json);
            return Ok(());
        }
        let mut fields = vec![
            ("kind", Item::text(tokenizer.kind())),
            ("vocab_size", Item::Int(tokenizer.vocab_size() as i64)),
            ("maxlen", Item::Int(record.maxlen as i64)),
        ];
        if parts.blob {
            fields.push(("blob", Item::Bulk(&record.json)));
        }
        reply::fields(ctx, fields);
        Ok(())
    })
}

/// `AI.TOKENIZERDEL <key>`, `AI.EMBEDDERDEL <key>`
fn delete<T: keyspace::Stored>(
    ctx: &Context,
    args: &[RedisString],
    name: &'static str,
) -> RedisResult {
    run(ctx, name, || {
        let key = key_only(&slices(args), name)?;
        keyspace::delete::<T>(ctx, key)?;
        ctx.replicate_verbatim();
        reply::ok(ctx);
        Ok(())
    })
}

pub fn tokenizerdel(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    delete::<Tokenizer>(ctx, &args, TOKENIZERDEL)
}

pub fn embedderdel(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    delete::<Embedder>(ctx, &args, EMBEDDERDEL)
}

/// Whether the command is replayed (AOF loading, a master's stream): the keys an embedder
/// names may come later in the stream, so they are not checked then.
fn replayed(ctx: &Context) -> bool {
    let flags = raw::REDISMODULE_CTX_FLAGS_REPLICATED | raw::REDISMODULE_CTX_FLAGS_LOADING;
    crate::blocking::context_flags(ctx) & flags != 0
}

/// `AI.EMBEDDERSTORE <key> TOKENIZER <tok> MODEL <model> [POOLING MEAN|CLS] [NORMALIZE]
/// [BATCHSIZE <n>] [TAG <tag>]`: the tokenizer and the model must exist (and, in a cluster,
/// share the embedder's slot); the embedder reads them whenever it runs.
pub fn embedderstore(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, EMBEDDERSTORE, || {
        let argv = slices(&args);
        let (key, record) = parse_embedderstore(&argv)?;
        let cluster = crate::blocking::context_flags(ctx) & raw::REDISMODULE_CTX_FLAGS_CLUSTER != 0;
        if cluster
            && [&record.tokenizer, &record.model]
                .iter()
                .any(|k| keys::hash_slot(k) != keys::hash_slot(key))
        {
            return Err(Error::CrossSlot);
        }
        let (backend, device) = if replayed(ctx) {
            match keyspace::model(ctx, &record.model) {
                Ok(m) => (m.record().backend, m.record().device.clone()),
                Err(_) => (redisai_core::Backend::Onnx, "CPU".into()),
            }
        } else {
            check_read_access(ctx, &[&record.tokenizer, &record.model])?;
            keyspace::tokenizer(ctx, &record.tokenizer)?;
            let model = keyspace::model(ctx, &record.model)?;
            (model.record().backend, model.record().device.clone())
        };
        keyspace::store(ctx, key, Embedder::new(record, key, backend, device))?;
        ctx.replicate_verbatim();
        reply::ok(ctx);
        Ok(())
    })
}

/// `AI.EMBEDDERGET <key>`
pub fn embedderget(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    run(ctx, EMBEDDERGET, || {
        let argv = slices(&args);
        let embedder = keyspace::embedder(ctx, key_only(&argv, EMBEDDERGET)?)?;
        let r = embedder.record();
        reply::fields(
            ctx,
            vec![
                ("tokenizer", Item::Bulk(&r.tokenizer)),
                ("model", Item::Bulk(&r.model)),
                ("pooling", Item::text(r.pooling.name())),
                ("normalize", Item::Int(i64::from(r.normalize))),
                ("batchsize", Item::Int(r.batchsize as i64)),
                ("tag", Item::Bulk(&r.tag)),
            ],
        );
        Ok(())
    })
}

/// The embedder at `key` with the tokenizer and model it names, as stored now; the caller must
/// be allowed to read those two keys too.
pub fn resolve_embedder(ctx: &Context, key: &[u8]) -> Result<ResolvedEmbedder, Error> {
    let embedder = keyspace::embedder(ctx, key)?;
    let r = embedder.record();
    check_read_access(ctx, &[&r.tokenizer, &r.model])?;
    let tokenizer = keyspace::tokenizer(ctx, &r.tokenizer)?;
    let model = keyspace::model(ctx, &r.model)?;
    Ok((embedder, tokenizer, model))
}

/// The texts of AI.EMBED as a STRING tensor (empty texts included, unlike AI.TENSORSET VALUES).
fn texts_tensor(texts: &[&[u8]]) -> Result<Tensor, Error> {
    let mut data = Vec::with_capacity(texts.iter().map(|t| t.len() + 1).sum());
    for (i, text) in texts.iter().enumerate() {
        if text.contains(&0) {
            return Err(Error::text_op(
                EMBED,
                format!("text {i} contains a NUL byte"),
            ));
        }
        data.extend_from_slice(text);
        data.push(0);
    }
    Tensor::from_parts(DType::String, [texts.len() as i64], data)
}

fn owned(keys: &[&[u8]]) -> Vec<Vec<u8>> {
    keys.iter().map(|k| k.to_vec()).collect()
}

/// `AI.EMBED <embedder> INPUTS <n> <text>... OUTPUTS <m> <key>... [TIMEOUT <ms>]`: the texts
/// themselves are the inputs; `m` is 1 (one FLOAT `[n, D]` tensor) or `n` (one `[1, D]` each).
pub fn embed(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    blocking_command(ctx, &args, EMBED, keys::embed, |argv| {
        let received = Instant::now();
        let parsed = parse_embed(argv, true)?;
        let (embedder, tokenizer, model) = resolve_embedder(ctx, parsed.embedder)?;
        let texts = texts_tensor(&parsed.inputs)?;
        texts_of(EMBED, &texts)?;
        let op = TextOp::Embed {
            embedder,
            tokenizer,
            model,
            split: parsed.split(),
        };
        let timeout = parsed.timeout_ms.map(Duration::from_millis);
        let plan = text_plan(op, vec![Arc::new(texts)], owned(&parsed.outputs), timeout);
        run_plan(ctx, plan, received)
    })
}

/// `AI.TOKENIZE <tokenizer> INPUTS 1 <texts> OUTPUTS <2|3> <ids> <mask> [<types>] [TIMEOUT ms]`
pub fn tokenize(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    blocking_command(ctx, &args, TOKENIZE, keys::tokenize, |argv| {
        let received = Instant::now();
        let parsed = parse_tokenize(argv, true)?;
        let tokenizer = keyspace::tokenizer(ctx, parsed.tokenizer)?;
        let input = keyspace::tensor(ctx, parsed.input)?;
        let op = TextOp::Tokenize {
            tokenizer,
            outputs: parsed.outputs.len(),
        };
        let timeout = parsed.timeout_ms.map(Duration::from_millis);
        let plan = text_plan(op, vec![input], owned(&parsed.outputs), timeout);
        run_plan(ctx, plan, received)
    })
}

/// `AI.POOL <MEAN|CLS> [NORMALIZE] INPUTS <1|2> <states> [<mask>] OUTPUTS 1 <out> [TIMEOUT ms]`
pub fn pool(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    blocking_command(ctx, &args, POOL, keys::pool, |argv| {
        let received = Instant::now();
        let parsed = parse_pool(argv, true)?;
        let inputs = parsed
            .inputs
            .iter()
            .map(|k| keyspace::tensor(ctx, k))
            .collect::<Result<Vec<_>, _>>()?;
        let op = TextOp::Pool {
            pooling: parsed.pooling,
            normalize: parsed.normalize,
        };
        let timeout = parsed.timeout_ms.map(Duration::from_millis);
        let plan = text_plan(op, inputs, vec![parsed.output.to_vec()], timeout);
        run_plan(ctx, plan, received)
    })
}
