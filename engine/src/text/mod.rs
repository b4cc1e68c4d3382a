//! Text in, vectors out (`docs/embeddings.md`): tokenizers and embedders as stored values, the
//! AI.TOKENIZE / AI.POOL / AI.EMBED ops, and the vector-store ops of DAGs (AI.VADD, AI.VSIM,
//! AI.HSET). Everything here runs on the run queues' workers, as model runs do.

pub mod cmd;
pub mod embedder;
pub mod ops;
pub mod pool;
pub mod tokenizer;

pub use embedder::Embedder;
pub use ops::{TextOp, VectorArg, VectorOp};
pub use tokenizer::Tokenizer;

/// An embedder with the tokenizer and model it names, as stored when a command arrived.
pub type ResolvedEmbedder = (
    std::sync::Arc<Embedder>,
    std::sync::Arc<Tokenizer>,
    std::sync::Arc<crate::model::Model>,
);
