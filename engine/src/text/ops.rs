//! The text and vector ops as worker jobs: AI.TOKENIZE, AI.POOL, AI.EMBED (batched across
//! requests), and AI.VADD / AI.VSIM / AI.HSET, which call the server's own commands through the
//! op's host (under Redis's lock, with the caller's ACL, on the keys the op declared).

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use redisai_backend_api::{Reply, ScriptHost};
use redisai_core::text::Pooling;
use redisai_core::{Backend, DType, Error, Result, Tensor};

use super::embedder::{embed, Embedder};
use super::pool::{normalize, pool};
use super::tokenizer::{texts_of, Tokenizer};
use crate::model::Model;
use crate::run::{RunOp, RunOutcome, RunRequest};
use crate::stats::{RunKind, RunStats};

/// One argument of a vector op's command: as given, or the bytes of the op's input tensor `i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VectorArg {
    Literal(Vec<u8>),
    Vector(usize),
}

/// A server command a vector op runs (VADD, VSIM, HSET), with its tensors filled in at run time.
#[derive(Clone)]
pub struct VectorOp {
    /// The op's name (`AI.VADD`), for errors.
    pub op: &'static str,
    /// The server command (`VADD`).
    pub command: &'static str,
    /// Its arguments after the command name.
    pub argv: Vec<VectorArg>,
    /// Accepts FLOAT vectors only (VADD / VSIM FP32), else DOUBLE too (HSET).
    pub fp32_only: bool,
    pub host: Arc<dyn ScriptHost + Send + Sync>,
}

/// What a text or vector op does.
#[derive(Clone)]
pub enum TextOp {
    /// Texts (one STRING tensor) to `outputs` INT64 tensors: ids, mask[, type ids].
    Tokenize {
        tokenizer: Arc<Tokenizer>,
        outputs: usize,
    },
    /// Token states (and a mask) to one vector per text.
    Pool {
        pooling: Pooling,
        normalize: bool,
    },
    /// Texts to vectors through an embedder's tokenizer and model (resolved when the command
    /// arrived). `split`: one `[1, D]` output per text instead of one `[N, D]`.
    Embed {
        embedder: Arc<Embedder>,
        tokenizer: Arc<Tokenizer>,
        model: Arc<Model>,
        split: bool,
    },
    Vector(VectorOp),
}

impl std::fmt::Debug for TextOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The statistics slot of the ops that belong to no stored value (never registered, so never
/// shown; the queue's own figures still count their waits).
fn builtin_stats() -> &'static Arc<RunStats> {
    static STATS: OnceLock<Arc<RunStats>> = OnceLock::new();
    STATS.get_or_init(|| {
        Arc::new(RunStats::new(
            Vec::new(),
            RunKind::Model,
            Backend::Onnx,
            "CPU".into(),
            Vec::new(),
        ))
    })
}

impl TextOp {
    pub fn name(&self) -> &'static str {
        match self {
            TextOp::Tokenize { .. } => "AI.TOKENIZE",
            TextOp::Pool { .. } => "AI.POOL",
            TextOp::Embed { .. } => "AI.EMBED",
            TextOp::Vector(v) => v.op,
        }
    }

    /// The run queue it runs on: the encoder's device for AI.EMBED, the CPU for the others.
    pub fn queue_name(&self) -> String {
        match self {
            TextOp::Embed { model, .. } => model.device().queue_name(),
            _ => "CPU".into(),
        }
    }

    pub fn stats(&self) -> &Arc<RunStats> {
        match self {
            TextOp::Embed { embedder, .. } => embedder.stats(),
            _ => builtin_stats(),
        }
    }
}

/// The bytes of a single vector: a `[D]` or `[1, D]` FLOAT tensor (DOUBLE too unless
/// `fp32_only`).
fn vector_bytes<'a>(op: &VectorOp, t: &'a Tensor) -> Result<&'a [u8]> {
    let dtype_ok = t.dtype() == DType::Float || (!op.fp32_only && t.dtype() == DType::Double);
    let shape_ok = matches!(t.shape(), [d] if *d > 0) || matches!(t.shape(), [1, d] if *d > 0);
    if dtype_ok && shape_ok {
        return Ok(t.data());
    }
    let dtypes = if op.fp32_only {
        "FLOAT"
    } else {
        "FLOAT or DOUBLE"
    };
    Err(Error::text_op(
        op.op,
        format!("the vector must be one {dtypes} vector, shaped [D] or [1, D]"),
    ))
}

fn run_vector(op: &VectorOp, inputs: &[Arc<Tensor>]) -> RunOutcome {
    let mut argv: Vec<&[u8]> = vec![op.command.as_bytes()];
    for arg in &op.argv {
        match arg {
            VectorArg::Literal(bytes) => argv.push(bytes),
            VectorArg::Vector(i) => match inputs.get(*i).map(|t| vector_bytes(op, t)) {
                Some(Ok(bytes)) => argv.push(bytes),
                Some(Err(e)) => return RunOutcome::Failed(e),
                None => return RunOutcome::Failed(Error::Internal),
            },
        }
    }
    match op.host.redis_call(&argv) {
        // RM_Call answers a command the server does not have with ENOENT (its text here).
        Reply::Error(e)
            if e.starts_with("ERR unknown command") || e == "No such file or directory" =>
        {
            RunOutcome::Failed(Error::NoVectorSets(op.op, op.command))
        }
        Reply::Error(e) => RunOutcome::Failed(Error::Backend(e)),
        reply => RunOutcome::Answered(reply),
    }
}

fn done(outputs: Vec<Tensor>) -> RunOutcome {
    match crate::limits::check_outputs(&outputs) {
        Ok(()) => RunOutcome::Done(outputs.into_iter().map(|t| Some(Arc::new(t))).collect()),
        Err(e) => RunOutcome::Failed(e),
    }
}

fn run_tokenize(tokenizer: &Tokenizer, outputs: usize, inputs: &[Arc<Tensor>]) -> RunOutcome {
    let result = (|| {
        let [texts] = inputs else {
            return Err(Error::text_op(
                "AI.TOKENIZE",
                "takes one STRING tensor of texts",
            ));
        };
        let encoded = tokenizer.encode(&texts_of("AI.TOKENIZE", texts)?)?;
        let [ids, mask, types] = encoded.tensors()?;
        Ok(vec![ids, mask, types].into_iter().take(outputs).collect())
    })();
    result.map_or_else(RunOutcome::Failed, done)
}

fn run_pool(pooling: Pooling, normalized: bool, inputs: &[Arc<Tensor>]) -> RunOutcome {
    let result = pool(&inputs[0], inputs.get(1).map(|t| &**t), pooling).and_then(|v| {
        if normalized {
            normalize(&v)
        } else {
            Ok(v)
        }
    });
    result.map_or_else(RunOutcome::Failed, |t| done(vec![t]))
}

/// Rows `start..start + n` of a FLOAT `[N, D]` tensor, as one `[n, D]` tensor or `n` `[1, D]`.
fn rows(all: &Tensor, start: usize, n: usize, split: bool) -> Result<Vec<Tensor>> {
    let dim = all.shape()[1];
    let row_bytes = dim as usize * 4;
    let part = |from: usize, count: usize| {
        let bytes = all.data()[from * row_bytes..(from + count) * row_bytes].to_vec();
        Tensor::from_parts(DType::Float, [count as i64, dim], bytes)
    };
    if split {
        (start..start + n).map(|r| part(r, 1)).collect()
    } else {
        Ok(vec![part(start, n)?])
    }
}

/// AI.EMBED requests handed over together (same embedder): the texts of every request that
/// resolved the same tokenizer and model run as one batch; each request gets its own rows.
fn run_embeds(requests: Vec<RunRequest>) {
    let mut groups: Vec<Vec<RunRequest>> = Vec::new();
    for r in requests {
        let key = |r: &RunRequest| match &r.op {
            RunOp::Text(TextOp::Embed {
                tokenizer, model, ..
            }) => Some((Arc::as_ptr(tokenizer), Arc::as_ptr(model))),
            _ => None,
        };
        match groups.iter_mut().find(|g| key(&g[0]) == key(&r)) {
            Some(g) => g.push(r),
            None => groups.push(vec![r]),
        }
    }
    for group in groups {
        run_embed_group(group);
    }
}

fn run_embed_group(group: Vec<RunRequest>) {
    let RunOp::Text(TextOp::Embed {
        embedder,
        tokenizer,
        model,
        ..
    }) = &group[0].op
    else {
        return;
    };
    let (embedder, tokenizer, model) = (
        Arc::clone(embedder),
        Arc::clone(tokenizer),
        Arc::clone(model),
    );
    // Requests whose texts are not UTF-8 fail alone; the rest run.
    let mut texts: Vec<&str> = Vec::new();
    let mut live = Vec::new();
    let mut failed = Vec::new();
    for (i, r) in group.iter().enumerate() {
        let parsed: Result<Vec<&str>> = r
            .inputs
            .iter()
            .map(|t| texts_of("AI.EMBED", t))
            .collect::<Result<Vec<_>>>()
            .map(|lists| lists.concat());
        match parsed {
            Ok(list) => {
                live.push((i, texts.len(), list.len()));
                texts.extend(list);
            }
            Err(e) => failed.push((i, e)),
        }
    }
    let started = Instant::now();
    let record = embedder.record();
    let result = if texts.is_empty() {
        Tensor::from_parts(DType::Float, [0, 0], Vec::new())
    } else {
        embed(
            &tokenizer,
            &model,
            record.pooling,
            record.normalize,
            &texts,
            record.batchsize as usize,
        )
    };
    let micros = started.elapsed().as_micros() as u64;
    let stats = embedder.stats();
    if !texts.is_empty() {
        match &result {
            Ok(_) => model.stats().record_success(micros, texts.len() as i64),
            Err(_) => model.stats().record_error(),
        }
    }
    let mut outcomes: Vec<Option<RunOutcome>> = (0..group.len()).map(|_| None).collect();
    for (i, e) in failed {
        stats.record_error();
        outcomes[i] = Some(RunOutcome::Failed(e));
    }
    for (i, start, n) in live {
        let split = matches!(&group[i].op, RunOp::Text(TextOp::Embed { split: true, .. }));
        let outcome = match &result {
            Ok(all) => rows(all, start, n, split).map_or_else(RunOutcome::Failed, done),
            Err(e) => RunOutcome::Failed(e.clone()),
        };
        match &outcome {
            RunOutcome::Done(_) => {
                stats.record_success(micros, n as i64);
                stats.latency().compute.record(micros);
            }
            _ => stats.record_error(),
        }
        outcomes[i] = Some(outcome);
    }
    for (r, outcome) in group.into_iter().zip(outcomes) {
        r.on_done
            .call(outcome.unwrap_or(RunOutcome::Failed(Error::Internal)));
    }
}

/// Runs text and vector requests (a batch only ever holds AI.EMBED requests of one embedder).
pub fn execute(batch: Vec<RunRequest>) {
    if matches!(
        batch.first().map(|r| &r.op),
        Some(RunOp::Text(TextOp::Embed { .. }))
    ) {
        return run_embeds(batch);
    }
    for r in batch {
        let RunOp::Text(op) = &r.op else {
            r.on_done.call(RunOutcome::Failed(Error::Internal));
            continue;
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match op {
            TextOp::Tokenize { tokenizer, outputs } => run_tokenize(tokenizer, *outputs, &r.inputs),
            TextOp::Pool { pooling, normalize } => run_pool(*pooling, *normalize, &r.inputs),
            TextOp::Vector(v) => run_vector(v, &r.inputs),
            TextOp::Embed { .. } => RunOutcome::Failed(Error::Internal),
        }))
        .unwrap_or(RunOutcome::Failed(Error::Internal));
        r.on_done.call(outcome);
    }
}
