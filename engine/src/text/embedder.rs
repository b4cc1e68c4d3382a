//! A stored embedder (`AI_EMBEDR`): which tokenizer and encoder model turn texts into vectors,
//! and how the token states are pooled. The keys are read when it runs, so storing a new model
//! or tokenizer under them updates the embedder.

use std::sync::Arc;

use redisai_core::text::{EmbedderRecord, Pooling};
use redisai_core::{Backend, DType, Error, Result, Tensor};

use super::pool::{normalize, pool};
use super::tokenizer::Tokenizer;
use crate::batching::BatchParams;
use crate::model::Model;
use crate::stats::{RunKind, RunStats};

const OP: &str = "AI.EMBED";

/// The value of an `AI_EMBEDR` key, immutable once built.
#[derive(Debug)]
pub struct Embedder {
    record: EmbedderRecord,
    stats: Arc<RunStats>,
}

impl Embedder {
    /// An embedder stored at `key` (its statistics are registered under it); `backend` and
    /// `device` are its encoder's, as AI.INFO shows them.
    pub fn new(record: EmbedderRecord, key: &[u8], backend: Backend, device: String) -> Embedder {
        let stats = Arc::new(RunStats::new(
            key.to_vec(),
            RunKind::Embedder,
            backend,
            device,
            record.tag.clone(),
        ));
        Embedder { record, stats }
    }

    pub fn record(&self) -> &EmbedderRecord {
        &self.record
    }

    pub fn stats(&self) -> &Arc<RunStats> {
        &self.stats
    }

    /// Concurrent requests' texts run together up to BATCHSIZE texts, without waiting.
    pub fn batch_params(&self) -> BatchParams {
        BatchParams {
            batchsize: self.record.batchsize,
            minbatchsize: 0,
            minbatchtimeout_ms: 0,
        }
    }
}

/// Which tokenizer output a model input takes, by the input's name (`input_ids`,
/// `attention_mask`, `token_type_ids`), else by its position in that order.
fn input_order(model: &Model) -> Result<Vec<usize>> {
    let count = model.input_count();
    if count == 0 || count > 3 {
        return Err(Error::text_op(
            OP,
            format!("the encoder must take 1 to 3 inputs (input_ids, attention_mask, token_type_ids), not {count}"),
        ));
    }
    let names = &model.record().inputs;
    let by_name = |name: &[u8]| {
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        if name.contains("input_ids") {
            Some(0)
        } else if name.contains("attention_mask") {
            Some(1)
        } else if name.contains("token_type_ids") {
            Some(2)
        } else {
            None
        }
    };
    let named: Option<Vec<usize>> = if names.len() == count {
        names.iter().map(|n| by_name(n)).collect()
    } else {
        None
    };
    Ok(named.unwrap_or_else(|| (0..count).collect()))
}

/// The vectors of `texts`: tokenized in batches of at most `chunk` texts, each batch one
/// encoder run, pooled (and normalized if asked); FLOAT `[texts, D]`.
pub fn embed(
    tokenizer: &Tokenizer,
    model: &Model,
    pooling: Pooling,
    normalized: bool,
    texts: &[&str],
    chunk: usize,
) -> Result<Tensor> {
    let order = input_order(model)?;
    let mut data = Vec::new();
    let mut dim = 0i64;
    for batch in texts.chunks(chunk.max(1)) {
        let encoded = tokenizer.encode(batch)?;
        let tensors = encoded.tensors()?;
        let inputs: Vec<&Tensor> = order.iter().map(|&i| &tensors[i]).collect();
        let outputs = crate::run::run_model(model, &inputs)?;
        let Some(Some(states)) = outputs.into_iter().next() else {
            return Err(Error::text_op(OP, "the encoder produced no output"));
        };
        let mask = (states.shape().len() == 3).then_some(&tensors[1]);
        let mut vectors = pool(&states, mask, pooling)
            .map_err(|e| Error::text_op(OP, format!("the encoder's first output: {e}")))?;
        if normalized {
            vectors = normalize(&vectors)?;
        }
        if vectors.shape()[0] != batch.len() as i64 {
            return Err(Error::text_op(
                OP,
                "the encoder's output does not have one row per text",
            ));
        }
        dim = vectors.shape()[1];
        data.extend_from_slice(vectors.data());
    }
    Tensor::from_parts(DType::Float, [texts.len() as i64, dim], data)
}
