//! The persisted description of the text values (additions to RedisAI, `docs/embeddings.md`):
//! tokenizers (`AI_TOKNZR`) and embedders (`AI_EMBEDR`), and their RDB codecs.

use crate::error::{Error, Result};
use crate::rdb::{Sink, Source};

/// Encoding version of the text types (their own: RedisAI never had them).
pub const TEXT_ENCODING_VERSION: i32 = 1;

/// MAXLEN when AI.TOKENIZERSTORE gives none: the 256 tokens sentence-transformers' MiniLM and
/// MPNet models are trained with (a tokenizer file's own truncation is always overridden).
pub const DEFAULT_MAXLEN: u64 = 256;

/// The largest MAXLEN accepted (BERT-style models stop at 512; long-context encoders at 8192).
pub const MAX_MAXLEN: u64 = 8192;

/// The largest tokenizer file accepted (the biggest Hugging Face tokenizers are about 20 MB).
pub const MAX_TOKENIZER_BYTES: usize = 64 << 20;

/// Everything persisted about a tokenizer: the `tokenizer.json` as given, and MAXLEN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizerRecord {
    /// Texts are truncated to this many tokens (special tokens included).
    pub maxlen: u64,
    /// The Hugging Face `tokenizer.json`, byte for byte as stored.
    pub json: Vec<u8>,
}

/// How an embedder turns the encoder's token states into one vector per text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// The mean of the token states where the attention mask is 1.
    Mean,
    /// The first token's state (`[CLS]`).
    Cls,
}

impl Pooling {
    /// Parses `MEAN` / `CLS`, case-insensitively.
    pub fn parse(name: &[u8]) -> Option<Pooling> {
        if name.eq_ignore_ascii_case(b"MEAN") {
            Some(Pooling::Mean)
        } else if name.eq_ignore_ascii_case(b"CLS") {
            Some(Pooling::Cls)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Pooling::Mean => "MEAN",
            Pooling::Cls => "CLS",
        }
    }

    fn code(self) -> u64 {
        match self {
            Pooling::Mean => 0,
            Pooling::Cls => 1,
        }
    }

    fn from_code(code: u64) -> Option<Pooling> {
        match code {
            0 => Some(Pooling::Mean),
            1 => Some(Pooling::Cls),
            _ => None,
        }
    }
}

/// BATCHSIZE of an embedder when none is given: texts of concurrent requests run together up
/// to this many.
pub const DEFAULT_EMBED_BATCHSIZE: u64 = 32;

/// Everything persisted about an embedder: the keys of its tokenizer and encoder model (read
/// when it runs, so storing a new model under the key updates the embedder), the pooling, and
/// the batching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedderRecord {
    pub tokenizer: Vec<u8>,
    pub model: Vec<u8>,
    pub pooling: Pooling,
    pub normalize: bool,
    /// Most texts one encoder run takes (concurrent requests are batched up to it).
    pub batchsize: u64,
    pub tag: Vec<u8>,
}

/// Writes a tokenizer (version 1): MAXLEN, then the JSON.
pub fn save_tokenizer(sink: &mut impl Sink, record: &TokenizerRecord) {
    sink.save_unsigned(record.maxlen);
    sink.save_buffer(&record.json);
}

fn check_version(what: &'static str, encver: i32) -> Result<()> {
    if encver == TEXT_ENCODING_VERSION {
        Ok(())
    } else {
        Err(Error::rdb(
            what,
            format!("encoding version {encver} is not supported"),
        ))
    }
}

/// Reads a tokenizer written by [`save_tokenizer`] (the JSON is checked when it is parsed).
pub fn load_tokenizer(source: &mut impl Source, encver: i32) -> Result<TokenizerRecord> {
    check_version("tokenizer", encver)?;
    let maxlen = source.load_unsigned()?;
    if maxlen == 0 || maxlen > MAX_MAXLEN {
        return Err(Error::rdb("tokenizer", "bad MAXLEN"));
    }
    let json = source.load_buffer()?;
    Ok(TokenizerRecord { maxlen, json })
}

/// Writes an embedder (version 1): tokenizer key, model key, pooling code, normalize flag,
/// BATCHSIZE, tag.
pub fn save_embedder(sink: &mut impl Sink, record: &EmbedderRecord) {
    sink.save_buffer(&record.tokenizer);
    sink.save_buffer(&record.model);
    sink.save_unsigned(record.pooling.code());
    sink.save_unsigned(u64::from(record.normalize));
    sink.save_unsigned(record.batchsize);
    sink.save_buffer(&record.tag);
}

/// Reads an embedder written by [`save_embedder`].
pub fn load_embedder(source: &mut impl Source, encver: i32) -> Result<EmbedderRecord> {
    check_version("embedder", encver)?;
    let tokenizer = source.load_buffer()?;
    let model = source.load_buffer()?;
    let pooling = Pooling::from_code(source.load_unsigned()?)
        .ok_or_else(|| Error::rdb("embedder", "unknown pooling"))?;
    let normalize = match source.load_unsigned()? {
        0 => false,
        1 => true,
        _ => return Err(Error::rdb("embedder", "bad NORMALIZE flag")),
    };
    let batchsize = source.load_unsigned()?;
    let tag = source.load_buffer()?;
    Ok(EmbedderRecord {
        tokenizer,
        model,
        pooling,
        normalize,
        batchsize,
        tag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::Recording;

    #[test]
    fn tokenizer_round_trip() {
        let record = TokenizerRecord {
            maxlen: 128,
            json: b"{\"model\":{}}".to_vec(),
        };
        let mut rec = Recording::default();
        save_tokenizer(&mut rec, &record);
        assert_eq!(load_tokenizer(&mut rec, 1).unwrap(), record);
        assert!(load_tokenizer(&mut Recording::default(), 2).is_err());
    }

    #[test]
    fn embedder_round_trip_and_corruption() {
        let record = EmbedderRecord {
            tokenizer: b"tok".to_vec(),
            model: b"m".to_vec(),
            pooling: Pooling::Cls,
            normalize: true,
            batchsize: 16,
            tag: b"v1".to_vec(),
        };
        let mut rec = Recording::default();
        save_embedder(&mut rec, &record);
        assert_eq!(load_embedder(&mut rec, 1).unwrap(), record);
        // Truncated streams fail.
        let mut rec = Recording::default();
        rec.save_buffer(b"tok");
        assert!(load_embedder(&mut rec, 1).is_err());
        // An unknown pooling code fails.
        let mut rec = Recording::default();
        rec.save_buffer(b"tok");
        rec.save_buffer(b"m");
        rec.save_unsigned(7);
        assert!(load_embedder(&mut rec, 1).is_err());
    }
}
