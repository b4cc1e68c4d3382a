//! A stored tokenizer (`AI_TOKNZR`): a Hugging Face `tokenizer.json` read by the `tokenizers`
//! library (pure Rust, so the ids are the Python library's), truncating at MAXLEN and padding
//! each batch to its longest text, whatever the file says.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

use redisai_core::text::{TokenizerRecord, MAX_TOKENIZER_BYTES};
use redisai_core::{DType, Error, Result, Tensor};
use tokenizers::models::ModelWrapper;
use tokenizers::{PaddingParams, PaddingStrategy, TruncationParams};

/// The value of an `AI_TOKNZR` key. Immutable once built.
pub struct Tokenizer {
    record: TokenizerRecord,
    inner: tokenizers::Tokenizer,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("kind", &self.kind())
            .field("maxlen", &self.record.maxlen)
            .finish_non_exhaustive()
    }
}

/// A batch of texts as token ids: three `[n, len]` matrices, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub n: usize,
    /// The longest text's length in tokens (every row is padded to it).
    pub len: usize,
    pub ids: Vec<i64>,
    pub mask: Vec<i64>,
    pub type_ids: Vec<i64>,
}

impl Encoded {
    fn tensor(&self, values: &[i64]) -> Result<Tensor> {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Tensor::from_parts(DType::Int64, [self.n as i64, self.len as i64], data)
    }

    /// `input_ids`, `attention_mask`, `token_type_ids` as INT64 `[n, len]` tensors.
    pub fn tensors(&self) -> Result<[Tensor; 3]> {
        Ok([
            self.tensor(&self.ids)?,
            self.tensor(&self.mask)?,
            self.tensor(&self.type_ids)?,
        ])
    }
}

/// The library's own thread pool stays off: the run queues' workers are the parallelism.
fn no_library_threads() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| tokenizers::utils::parallelism::set_parallelism(false));
}

impl Tokenizer {
    /// Reads the JSON (`ERR invalid tokenizer: <why>` when the library cannot) and sets the
    /// truncation to MAXLEN and the padding to the longest text of each batch, keeping the
    /// file's pad token and side.
    pub fn create(record: TokenizerRecord) -> Result<Tokenizer> {
        no_library_threads();
        if record.json.len() > MAX_TOKENIZER_BYTES {
            return Err(Error::TokenizerTooLarge(MAX_TOKENIZER_BYTES));
        }
        let parsed = catch_unwind(AssertUnwindSafe(|| {
            tokenizers::Tokenizer::from_bytes(&record.json)
        }))
        .map_err(|_| Error::InvalidTokenizer("the tokenizer library failed".into()))?;
        let mut inner = parsed.map_err(|e| Error::InvalidTokenizer(e.to_string()))?;
        let truncation = TruncationParams {
            max_length: record.maxlen as usize,
            ..TruncationParams::default()
        };
        inner
            .with_truncation(Some(truncation))
            .map_err(|e| Error::InvalidTokenizer(e.to_string()))?;
        let padding = match inner.get_padding() {
            Some(p) => PaddingParams {
                strategy: PaddingStrategy::BatchLongest,
                pad_to_multiple_of: None,
                ..p.clone()
            },
            None => PaddingParams::default(),
        };
        inner.with_padding(Some(padding));
        Ok(Tokenizer { record, inner })
    }

    /// What is persisted and replied.
    pub fn record(&self) -> &TokenizerRecord {
        &self.record
    }

    /// The kind of model: `WordPiece`, `BPE`, `Unigram` or `WordLevel`.
    pub fn kind(&self) -> &'static str {
        match self.inner.get_model() {
            ModelWrapper::WordPiece(_) => "WordPiece",
            ModelWrapper::BPE(_) => "BPE",
            ModelWrapper::Unigram(_) => "Unigram",
            ModelWrapper::WordLevel(_) => "WordLevel",
        }
    }

    /// Vocabulary size, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Tokenizes `texts` as one batch (special tokens added, truncated at MAXLEN, padded to the
    /// longest).
    pub fn encode(&self, texts: &[&str]) -> Result<Encoded> {
        let failed = |why: String| Error::text_op("AI.TOKENIZE", why);
        if texts.is_empty() {
            return Ok(Encoded {
                n: 0,
                len: 0,
                ids: Vec::new(),
                mask: Vec::new(),
                type_ids: Vec::new(),
            });
        }
        let encodings = catch_unwind(AssertUnwindSafe(|| {
            self.inner.encode_batch_fast(texts.to_vec(), true)
        }))
        .map_err(|_| failed("the tokenizer library failed".into()))?
        .map_err(|e| failed(e.to_string()))?;
        let len = encodings.iter().map(|e| e.len()).max().unwrap_or(0);
        let n = encodings.len();
        let mut out = Encoded {
            n,
            len,
            ids: Vec::with_capacity(n * len),
            mask: Vec::with_capacity(n * len),
            type_ids: Vec::with_capacity(n * len),
        };
        for e in &encodings {
            if e.len() != len {
                return Err(failed("the batch was not padded".into()));
            }
            out.ids.extend(e.get_ids().iter().map(|&v| i64::from(v)));
            out.mask
                .extend(e.get_attention_mask().iter().map(|&v| i64::from(v)));
            out.type_ids
                .extend(e.get_type_ids().iter().map(|&v| i64::from(v)));
        }
        Ok(out)
    }
}

/// The texts of a STRING tensor (every element, row-major), checked to be UTF-8.
pub fn texts_of<'a>(op: &'static str, tensor: &'a Tensor) -> Result<Vec<&'a str>> {
    if tensor.dtype() != DType::String {
        return Err(Error::text_op(op, "texts must be a STRING tensor"));
    }
    tensor
        .values()
        .enumerate()
        .map(|(i, v)| match v {
            redisai_core::Value::Str(bytes) => std::str::from_utf8(bytes)
                .map_err(|_| Error::text_op(op, format!("text {i} is not valid UTF-8"))),
            _ => Err(Error::text_op(op, "texts must be a STRING tensor")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal(maxlen: u64) -> Tokenizer {
        let json = r#"{
          "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
          "normalizer": {"type": "Lowercase"},
          "pre_tokenizer": {"type": "Whitespace"},
          "post_processor": null, "decoder": null,
          "model": {"type": "WordLevel", "vocab": {"[PAD]": 0, "[UNK]": 1, "hello": 2, "world": 3},
                    "unk_token": "[UNK]"}
        }"#;
        Tokenizer::create(TokenizerRecord {
            maxlen,
            json: json.as_bytes().to_vec(),
        })
        .unwrap()
    }

    #[test]
    fn pads_to_the_longest_and_truncates() {
        let t = minimal(3);
        assert_eq!(t.kind(), "WordLevel");
        assert_eq!(t.vocab_size(), 4);
        let e = t.encode(&["Hello world", "hello", "x y z w"]).unwrap();
        assert_eq!((e.n, e.len), (3, 3));
        assert_eq!(e.ids, vec![2, 3, 0, 2, 0, 0, 1, 1, 1]);
        assert_eq!(e.mask, vec![1, 1, 0, 1, 0, 0, 1, 1, 1]);
        let [ids, mask, types] = e.tensors().unwrap();
        assert_eq!(ids.shape(), &[3, 3]);
        assert_eq!(mask.dtype(), DType::Int64);
        assert_eq!(types.data(), &[0u8; 72][..]);
    }

    #[test]
    fn refuses_what_is_not_a_tokenizer() {
        for bad in [
            &b"not json"[..],
            b"{}",
            b"[1,2]",
            b"{\"model\": 3}",
            b"\xff\xfe",
        ] {
            let e = Tokenizer::create(TokenizerRecord {
                maxlen: 8,
                json: bad.to_vec(),
            })
            .unwrap_err();
            assert!(e.to_string().starts_with("ERR invalid tokenizer: "), "{e}");
        }
        let huge = TokenizerRecord {
            maxlen: 8,
            json: vec![b' '; MAX_TOKENIZER_BYTES + 1],
        };
        assert!(matches!(
            Tokenizer::create(huge),
            Err(Error::TokenizerTooLarge(_))
        ));
    }

    #[test]
    fn texts_must_be_utf8_strings() {
        let t = Tensor::from_values(DType::String, [2], &[b"ok", b"\xff"]).unwrap();
        assert_eq!(
            texts_of("AI.EMBED", &t).unwrap_err().to_string(),
            "ERR AI.EMBED: text 1 is not valid UTF-8"
        );
        let f = Tensor::zeroed(DType::Float, [2]).unwrap();
        assert!(texts_of("AI.EMBED", &f).is_err());
    }
}
