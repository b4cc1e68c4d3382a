//! Grammars of the text commands and ops (`docs/embeddings.md`), in RedisAI's style: a key
//! first, upper-case keywords matched case-insensitively, `INPUTS <n> ...` / `OUTPUTS <m> ...`
//! lists, errors as `ERR <what>`. Emitters of the commands that recreate the values (AOF rewrite)
//! sit beside their parsers.

use redisai_core::numparse::parse_i64;
use redisai_core::text::{
    EmbedderRecord, Pooling, TokenizerRecord, DEFAULT_EMBED_BATCHSIZE, DEFAULT_MAXLEN, MAX_MAXLEN,
};
use redisai_core::{Error, Result};

use super::ops::VectorArg;
use crate::command::Command;

pub const TOKENIZERSTORE: &str = "AI.TOKENIZERSTORE";
pub const TOKENIZERGET: &str = "AI.TOKENIZERGET";
pub const TOKENIZERDEL: &str = "AI.TOKENIZERDEL";
pub const TOKENIZE: &str = "AI.TOKENIZE";
pub const POOL: &str = "AI.POOL";
pub const EMBEDDERSTORE: &str = "AI.EMBEDDERSTORE";
pub const EMBEDDERGET: &str = "AI.EMBEDDERGET";
pub const EMBEDDERDEL: &str = "AI.EMBEDDERDEL";
pub const EMBED: &str = "AI.EMBED";
pub const VADD: &str = "AI.VADD";
pub const VSIM: &str = "AI.VSIM";
pub const HSET: &str = "AI.HSET";

fn is(token: &[u8], keyword: &str) -> bool {
    token.eq_ignore_ascii_case(keyword.as_bytes())
}

/// `AI.TOKENIZERSTORE <key> [MAXLEN <n>] BLOB <tokenizer.json>`
pub fn parse_tokenizerstore<'a>(argv: &[&'a [u8]]) -> Result<(&'a [u8], TokenizerRecord)> {
    if argv.len() < 4 {
        return Err(Error::WrongArity(TOKENIZERSTORE));
    }
    let mut pos = 2;
    let mut maxlen = DEFAULT_MAXLEN;
    if is(argv[pos], "MAXLEN") {
        maxlen = argv
            .get(pos + 1)
            .and_then(|v| parse_i64(v))
            .filter(|&n| n > 0 && n as u64 <= MAX_MAXLEN)
            .ok_or(Error::InvalidMaxlen)? as u64;
        pos += 2;
    }
    match argv.get(pos) {
        Some(t) if is(t, "BLOB") => {}
        Some(t) => return Err(Error::invalid_argument(t)),
        None => return Err(Error::MissingTokenizerBlob),
    }
    match &argv[pos + 1..] {
        [json] => Ok((
            argv[1],
            TokenizerRecord {
                maxlen,
                json: json.to_vec(),
            },
        )),
        [] => Err(Error::MissingTokenizerBlob),
        [_, extra, ..] => Err(Error::invalid_argument(extra)),
    }
}

/// The AOF rewrite of a tokenizer.
pub fn tokenizerstore_command<'a>(key: &'a [u8], record: &'a TokenizerRecord) -> Command<'a> {
    let mut c = Command::new(TOKENIZERSTORE);
    c.arg(key)
        .arg(b"MAXLEN")
        .number(record.maxlen)
        .arg(b"BLOB")
        .arg(&record.json);
    c
}

/// What a GET of a value replies with: `META` fields, the `BLOB`, or both (no option: `META`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetParts {
    pub meta: bool,
    pub blob: bool,
}

/// `AI.TOKENIZERGET <key> [META] [BLOB]`
pub fn parse_tokenizerget<'a>(argv: &[&'a [u8]]) -> Result<(&'a [u8], GetParts)> {
    if !(2..=4).contains(&argv.len()) {
        return Err(Error::WrongArity(TOKENIZERGET));
    }
    let (mut meta, mut blob) = (false, false);
    for &a in &argv[2..] {
        if is(a, "META") {
            meta = true;
        } else if is(a, "BLOB") {
            blob = true;
        } else {
            return Err(Error::invalid_argument(a));
        }
    }
    Ok((
        argv[1],
        GetParts {
            meta: meta || !blob,
            blob,
        },
    ))
}

/// `AI.TOKENIZERDEL <key>`, `AI.EMBEDDERDEL <key>`, `AI.EMBEDDERGET <key>`: the key only.
pub fn key_only<'a>(argv: &[&'a [u8]], name: &'static str) -> Result<&'a [u8]> {
    match argv {
        [_, key] => Ok(key),
        _ => Err(Error::WrongArity(name)),
    }
}

/// `AI.EMBEDDERSTORE <key> TOKENIZER <tokenizer key> MODEL <model key> [POOLING MEAN|CLS]
/// [NORMALIZE] [BATCHSIZE <n>] [TAG <tag>]` (the options in any order, each once).
pub fn parse_embedderstore<'a>(argv: &[&'a [u8]]) -> Result<(&'a [u8], EmbedderRecord)> {
    if argv.len() < 6 {
        return Err(Error::WrongArity(EMBEDDERSTORE));
    }
    let keyword = |pos: usize, word: &str| -> Result<&'a [u8]> {
        if !is(argv[pos], word) {
            return Err(Error::text_op(
                EMBEDDERSTORE,
                format!("expected {word} at argument {pos}"),
            ));
        }
        Ok(argv[pos + 1])
    };
    let mut record = EmbedderRecord {
        tokenizer: keyword(2, "TOKENIZER")?.to_vec(),
        model: keyword(4, "MODEL")?.to_vec(),
        pooling: Pooling::Mean,
        normalize: false,
        batchsize: DEFAULT_EMBED_BATCHSIZE,
        tag: Vec::new(),
    };
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut pos = 6;
    while pos < argv.len() {
        let token = argv[pos];
        let upper = token.to_ascii_uppercase();
        if seen.contains(&upper.as_slice()) {
            return Err(Error::text_op(
                EMBEDDERSTORE,
                format!("{} given twice", String::from_utf8_lossy(&upper)),
            ));
        }
        let value = argv.get(pos + 1);
        match upper.as_slice() {
            b"NORMALIZE" => {
                record.normalize = true;
                seen.push(b"NORMALIZE");
                pos += 1;
                continue;
            }
            b"POOLING" => {
                record.pooling = value
                    .and_then(|v| Pooling::parse(v))
                    .ok_or(Error::InvalidPooling)?;
                seen.push(b"POOLING");
            }
            b"BATCHSIZE" => {
                record.batchsize = value
                    .and_then(|v| parse_i64(v))
                    .filter(|&n| n > 0 && n <= 65536)
                    .ok_or(Error::InvalidBatchSize)? as u64;
                seen.push(b"BATCHSIZE");
            }
            b"TAG" => {
                record.tag = value
                    .ok_or_else(|| Error::text_op(EMBEDDERSTORE, "missing TAG value"))?
                    .to_vec();
                seen.push(b"TAG");
            }
            _ => return Err(Error::invalid_argument(token)),
        }
        pos += 2;
    }
    Ok((argv[1], record))
}

/// The AOF rewrite of an embedder (every option written).
pub fn embedderstore_command<'a>(key: &'a [u8], r: &'a EmbedderRecord) -> Command<'a> {
    let mut c = Command::new(EMBEDDERSTORE);
    c.arg(key)
        .arg(b"TOKENIZER")
        .arg(&r.tokenizer)
        .arg(b"MODEL")
        .arg(&r.model)
        .arg(b"POOLING")
        .arg(r.pooling.name().as_bytes());
    if r.normalize {
        c.arg(b"NORMALIZE");
    }
    c.arg(b"BATCHSIZE")
        .number(r.batchsize)
        .arg(b"TAG")
        .arg(&r.tag);
    c
}

/// An op's INPUTS, its OUTPUTS and the position after them.
type IoLists<'a> = (Vec<&'a [u8]>, Vec<&'a [u8]>, usize);

/// `INPUTS <n> <name>... OUTPUTS <m> <name>...` from `pos`.
fn io_lists<'a>(op: &'static str, argv: &[&'a [u8]], pos: usize) -> Result<IoLists<'a>> {
    let list = |pos: usize, word: &str| -> Result<(Vec<&'a [u8]>, usize)> {
        match argv.get(pos) {
            Some(t) if is(t, word) => {}
            _ => return Err(Error::text_op(op, format!("missing {word}"))),
        }
        let n = argv
            .get(pos + 1)
            .and_then(|v| parse_i64(v))
            .filter(|&n| n > 0)
            .ok_or_else(|| Error::text_op(op, format!("invalid number of {word}")))?
            as usize;
        let items = argv.get(pos + 2..pos + 2 + n).ok_or_else(|| {
            Error::text_op(
                op,
                format!("the number of {word} does not match the number of given arguments"),
            )
        })?;
        Ok((items.to_vec(), pos + 2 + n))
    };
    let (inputs, pos) = list(pos, "INPUTS")?;
    let (outputs, pos) = list(pos, "OUTPUTS")?;
    Ok((inputs, outputs, pos))
}

/// An optional trailing `TIMEOUT <ms>` (standalone commands only).
fn trailing_timeout(
    op: &'static str,
    argv: &[&[u8]],
    pos: usize,
    allow: bool,
) -> Result<Option<u64>> {
    match &argv[pos..] {
        [] => Ok(None),
        [t, ms] if allow && is(t, "TIMEOUT") => parse_i64(ms)
            .filter(|&n| n > 0)
            .map(|n| Some(n as u64))
            .ok_or(Error::InvalidTimeout),
        [t, ..] if is(t, "TIMEOUT") && !allow => Err(Error::TimeoutInDag),
        [t, ..] => Err(Error::text_op(
            op,
            format!("unexpected argument {}", String::from_utf8_lossy(t)),
        )),
    }
}

/// A parsed `AI.TOKENIZE <tokenizer> INPUTS 1 <texts> OUTPUTS <2|3> <ids> <mask> [<types>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizeArgs<'a> {
    pub tokenizer: &'a [u8],
    pub input: &'a [u8],
    pub outputs: Vec<&'a [u8]>,
    pub timeout_ms: Option<u64>,
}

pub fn parse_tokenize<'a>(argv: &[&'a [u8]], standalone: bool) -> Result<TokenizeArgs<'a>> {
    if argv.len() < 8 {
        return Err(Error::WrongArity(TOKENIZE));
    }
    let (inputs, outputs, pos) = io_lists(TOKENIZE, argv, 2)?;
    let [input] = inputs[..] else {
        return Err(Error::text_op(TOKENIZE, "takes one STRING tensor of texts"));
    };
    if !(2..=3).contains(&outputs.len()) {
        return Err(Error::text_op(
            TOKENIZE,
            "OUTPUTS must be 2 (input_ids attention_mask) or 3 (and token_type_ids)",
        ));
    }
    Ok(TokenizeArgs {
        tokenizer: argv[1],
        input,
        outputs,
        timeout_ms: trailing_timeout(TOKENIZE, argv, pos, standalone)?,
    })
}

/// A parsed `AI.POOL <MEAN|CLS> [NORMALIZE] INPUTS <1|2> <states> [<mask>] OUTPUTS 1 <out>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolArgs<'a> {
    pub pooling: Pooling,
    pub normalize: bool,
    pub inputs: Vec<&'a [u8]>,
    pub output: &'a [u8],
    pub timeout_ms: Option<u64>,
}

pub fn parse_pool<'a>(argv: &[&'a [u8]], standalone: bool) -> Result<PoolArgs<'a>> {
    if argv.len() < 6 {
        return Err(Error::WrongArity(POOL));
    }
    let pooling = Pooling::parse(argv[1]).ok_or(Error::InvalidPooling)?;
    let normalize = is(argv[2], "NORMALIZE");
    let (inputs, outputs, pos) = io_lists(POOL, argv, 2 + usize::from(normalize))?;
    if inputs.len() > 2 {
        return Err(Error::text_op(
            POOL,
            "INPUTS are the token states and, optionally, the attention mask",
        ));
    }
    let [output] = outputs[..] else {
        return Err(Error::text_op(POOL, "OUTPUTS must be 1"));
    };
    Ok(PoolArgs {
        pooling,
        normalize,
        inputs,
        output,
        timeout_ms: trailing_timeout(POOL, argv, pos, standalone)?,
    })
}

/// A parsed `AI.EMBED <embedder> INPUTS <n> <text or tensor>... OUTPUTS <m> <name>...`: the
/// inputs are the texts themselves in the standalone command, STRING tensors in a DAG; `m` is
/// 1 (one `[N, D]` tensor) or the number of texts (one `[1, D]` each; standalone only, where the
/// number of texts is known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedArgs<'a> {
    pub embedder: &'a [u8],
    pub inputs: Vec<&'a [u8]>,
    pub outputs: Vec<&'a [u8]>,
    pub timeout_ms: Option<u64>,
}

impl EmbedArgs<'_> {
    /// One output per text.
    pub fn split(&self) -> bool {
        self.outputs.len() > 1
    }
}

pub fn parse_embed<'a>(argv: &[&'a [u8]], standalone: bool) -> Result<EmbedArgs<'a>> {
    if argv.len() < 7 {
        return Err(Error::WrongArity(EMBED));
    }
    let (inputs, outputs, pos) = io_lists(EMBED, argv, 2)?;
    let ok = if standalone {
        outputs.len() == 1 || outputs.len() == inputs.len()
    } else {
        outputs.len() == 1
    };
    if !ok {
        let why = if standalone {
            "OUTPUTS must be 1 (all vectors in one tensor) or one per text"
        } else {
            "OUTPUTS must be 1 in a DAG"
        };
        return Err(Error::text_op(EMBED, why));
    }
    Ok(EmbedArgs {
        embedder: argv[1],
        inputs,
        outputs,
        timeout_ms: trailing_timeout(EMBED, argv, pos, standalone)?,
    })
}

/// A parsed vector op of a DAG: the key, the tensors it reads (by name) and the server
/// command's arguments with [`VectorArg::Vector`] where a tensor's bytes go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorArgs<'a> {
    pub op: &'static str,
    pub command: &'static str,
    pub key: &'a [u8],
    pub tensors: Vec<&'a [u8]>,
    pub argv: Vec<VectorArg>,
    pub fp32_only: bool,
    pub writes: bool,
}

/// `AI.VADD <key> <tensor> <element> [REDUCE <dim>] [<VADD option>...]`,
/// `AI.VSIM <key> <tensor> [<VSIM option>...]`, `AI.HSET <key> <field> <tensor> [<field>
/// <tensor>...]`. Options are passed to the server's command as given.
pub fn parse_vector_op<'a>(argv: &[&'a [u8]]) -> Result<VectorArgs<'a>> {
    let name = argv
        .first()
        .map(|n| n.to_ascii_uppercase())
        .unwrap_or_default();
    let lit = |a: &[u8]| VectorArg::Literal(a.to_vec());
    match name.as_slice() {
        b"AI.VADD" => {
            let [_, key, tensor, element, options @ ..] = argv else {
                return Err(Error::WrongArity(VADD));
            };
            let mut out = vec![lit(key)];
            // VADD takes REDUCE before the vector.
            let mut rest: Vec<&[u8]> = Vec::new();
            let mut i = 0;
            while i < options.len() {
                if is(options[i], "REDUCE") && i + 1 < options.len() {
                    out.push(lit(options[i]));
                    out.push(lit(options[i + 1]));
                    i += 2;
                } else {
                    rest.push(options[i]);
                    i += 1;
                }
            }
            out.extend([lit(b"FP32"), VectorArg::Vector(0), lit(element)]);
            out.extend(rest.into_iter().map(lit));
            Ok(VectorArgs {
                op: VADD,
                command: "VADD",
                key,
                tensors: vec![tensor],
                argv: out,
                fp32_only: true,
                writes: true,
            })
        }
        b"AI.VSIM" => {
            let [_, key, tensor, options @ ..] = argv else {
                return Err(Error::WrongArity(VSIM));
            };
            let mut out = vec![lit(key), lit(b"FP32"), VectorArg::Vector(0)];
            out.extend(options.iter().map(|o| lit(o)));
            Ok(VectorArgs {
                op: VSIM,
                command: "VSIM",
                key,
                tensors: vec![tensor],
                argv: out,
                fp32_only: true,
                writes: false,
            })
        }
        b"AI.HSET" => {
            let [_, key, pairs @ ..] = argv else {
                return Err(Error::WrongArity(HSET));
            };
            if pairs.is_empty() || pairs.len() % 2 != 0 {
                return Err(Error::WrongArity(HSET));
            }
            let mut out = vec![lit(key)];
            let mut tensors = Vec::new();
            for pair in pairs.chunks(2) {
                out.push(lit(pair[0]));
                out.push(VectorArg::Vector(tensors.len()));
                tensors.push(pair[1]);
            }
            Ok(VectorArgs {
                op: HSET,
                command: "HSET",
                key,
                tensors,
                argv: out,
                fp32_only: false,
                writes: true,
            })
        }
        _ => Err(Error::DagUnsupportedCommand),
    }
}

#[cfg(test)]
mod tests;
