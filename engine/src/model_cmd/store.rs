//! AI.MODELSTORE and the deprecated AI.MODELSET grammars (SPEC §3.3, §3.4).

use std::sync::Arc;

use redisai_core::device::Device;
use redisai_core::model::{chunk_ranges, MAX_WARMUP};
use redisai_core::numparse::parse_count;
use redisai_core::{Backend, Error, ModelRecord, Result};

use crate::command::Command;
use crate::names::{MODELSET, MODELSTORE};

/// `AI.MODELSTORE <key> <BACKEND> <device> TAG <tag> BATCHSIZE <n> MINBATCHSIZE <m>
/// MINBATCHTIMEOUT <t> [INPUTS <n> <name>... OUTPUTS <m> <name>...] BLOB <chunk>...`: the
/// command that recreates `record` at `key` on AOF replay (SPEC §10.3). Every keyword is always
/// written; the node names only for TF, the one backend that takes them (the others read them
/// from the model); the blob in chunks of `chunk_size` bytes (MODEL_CHUNK_SIZE), borrowed.
pub fn modelstore_command<'a>(
    key: &'a [u8],
    record: &'a ModelRecord,
    chunk_size: usize,
) -> Command<'a> {
    let mut command = Command::new(MODELSTORE);
    command
        .arg(key)
        .arg(record.backend.name().as_bytes())
        .arg(record.device.as_bytes())
        .arg(b"TAG")
        .arg(&record.tag);
    command.arg(b"BATCHSIZE").number(record.batchsize);
    command.arg(b"MINBATCHSIZE").number(record.minbatchsize);
    command
        .arg(b"MINBATCHTIMEOUT")
        .number(record.minbatchtimeout);
    if record.backend == Backend::Tf {
        for (word, names) in [
            (&b"INPUTS"[..], &record.inputs),
            (b"OUTPUTS", &record.outputs),
        ] {
            command.arg(word).number(names.len());
            for name in names {
                command.arg(name);
            }
        }
    }
    command.arg(b"BLOB");
    for range in chunk_ranges(record.blob.len(), chunk_size) {
        command.arg(&record.blob[range]);
    }
    command
}

/// A parsed AI.MODELSTORE or AI.MODELSET: everything borrowed from `argv` except the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelStoreArgs<'a> {
    /// The model key.
    pub key: &'a [u8],
    /// The backend.
    pub backend: Backend,
    /// The device, validated (MODELSTORE strictly, MODELSET loosely) and kept as given.
    pub device: Device,
    /// The tag (empty when TAG was not given).
    pub tag: &'a [u8],
    /// BATCHSIZE (0 = no batching).
    pub batchsize: u64,
    /// MINBATCHSIZE (0 = none).
    pub minbatchsize: u64,
    /// MINBATCHTIMEOUT in milliseconds (0 = none).
    pub minbatchtimeout: u64,
    /// Input names (TF only; empty for other backends).
    pub inputs: Vec<&'a [u8]>,
    /// Output names (TF only; empty for other backends).
    pub outputs: Vec<&'a [u8]>,
    /// The BLOB arguments, in order (at least one); the model is their concatenation.
    pub blob: Vec<&'a [u8]>,
    /// `WARMUP <n>` (AI.MODELSTORE only; `None`: the MODEL_WARMUP module argument applies).
    /// Not persisted: it is what the store does, not what the model is.
    pub warmup: Option<u64>,
}

impl ModelStoreArgs<'_> {
    /// Total length of the model blob.
    pub fn blob_len(&self) -> usize {
        self.blob.iter().map(|c| c.len()).sum()
    }

    /// The model blob: every chunk joined in order.
    pub fn joined_blob(&self) -> Vec<u8> {
        self.blob.concat()
    }

    /// The record of the model to create: options as given, the blob joined. For backends other
    /// than TF the names are empty here; the backend supplies them when the model is built.
    pub fn into_record(self) -> ModelRecord {
        let names = |list: &[&[u8]]| list.iter().map(|n| n.to_vec()).collect();
        ModelRecord {
            backend: self.backend,
            device: self.device.as_str().to_owned(),
            tag: self.tag.to_vec(),
            batchsize: self.batchsize,
            minbatchsize: self.minbatchsize,
            minbatchtimeout: self.minbatchtimeout,
            inputs: names(&self.inputs),
            outputs: names(&self.outputs),
            blob: Arc::new(self.joined_blob()),
        }
    }
}

/// A cursor over the arguments after the command name, like RedisAI's ArgsCursor.
struct Cursor<'a, 'b> {
    argv: &'b [&'a [u8]],
    pos: usize,
}

impl<'a> Cursor<'a, '_> {
    fn peek(&self) -> Option<&'a [u8]> {
        self.argv.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<&'a [u8]> {
        let arg = self.peek()?;
        self.pos += 1;
        Some(arg)
    }

    /// Consumes the next argument if it is `keyword` (case-insensitively).
    fn advance_if(&mut self, keyword: &[u8]) -> bool {
        let matched = self.peek().is_some_and(|a| a.eq_ignore_ascii_case(keyword));
        self.pos += usize::from(matched);
        matched
    }

    /// The next argument as an ArgsCursor count, or `error`.
    fn count(&mut self, error: Error) -> Result<u64> {
        let value = self.peek().and_then(parse_count).ok_or(error)?;
        self.pos += 1;
        Ok(value)
    }

    fn remaining(&self) -> usize {
        self.argv.len() - self.pos
    }

    /// The next `n` arguments, or `error` when fewer are left.
    fn take(&mut self, n: u64, error: Error) -> Result<Vec<&'a [u8]>> {
        if (self.remaining() as u64) < n {
            return Err(error);
        }
        let taken = self.argv[self.pos..self.pos + n as usize].to_vec();
        self.pos += n as usize;
        Ok(taken)
    }

    fn rest(&mut self) -> Vec<&'a [u8]> {
        let rest = self.argv[self.pos..].to_vec();
        self.pos = self.argv.len();
        rest
    }
}

/// Backend, device, the cursor after the options read so far, and the tag.
type Prologue<'a, 'b> = (Backend, Device, Cursor<'a, 'b>, Option<&'a [u8]>);

/// The common start of AI.MODELSTORE and AI.MODELSET: backend, device (by `device_rule`), and
/// an optional `TAG`, leaving the cursor after them.
fn prologue<'a, 'b>(
    argv: &'b [&'a [u8]],
    device_rule: fn(&[u8]) -> Result<Device>,
) -> Result<Prologue<'a, 'b>> {
    let backend = Backend::parse(argv[2]).ok_or(Error::UnsupportedBackend)?;
    let device = device_rule(argv[3])?;
    let mut ac = Cursor { argv, pos: 4 };
    let tag = if ac.advance_if(b"TAG") {
        ac.next()
    } else {
        None
    };
    Ok((backend, device, ac, tag))
}

/// Parses `AI.MODELSTORE <key> <backend> <device> [TAG t] [BATCHSIZE n [MINBATCHSIZE m
/// [MINBATCHTIMEOUT t]]] [INPUTS <n> name... OUTPUTS <m> name...] [WARMUP <n>] BLOB <chunk>...`
/// with RedisAI's strict keyword order and validation order (SPEC §3.3 rows 1-18). `WARMUP` is an
/// addition (docs/performance.md), the last option before BLOB.
pub fn parse_modelstore<'a>(argv: &[&'a [u8]]) -> Result<ModelStoreArgs<'a>> {
    if argv.len() < 6 {
        return Err(Error::WrongArity(MODELSTORE));
    }
    let (backend, device, mut ac, tag) = prologue(argv, Device::parse)?;
    let mut batchsize = 0;
    if ac.advance_if(b"BATCHSIZE") {
        batchsize = ac.count(Error::InvalidBatchSize)?;
    }
    let mut minbatchsize = 0;
    if ac.advance_if(b"MINBATCHSIZE") {
        minbatchsize = ac.count(Error::InvalidMinBatchSize)?;
        if batchsize == 0 && minbatchsize > 0 {
            return Err(Error::MinBatchSizeWithoutBatchSize);
        }
    }
    let mut minbatchtimeout = 0;
    if ac.advance_if(b"MINBATCHTIMEOUT") {
        minbatchtimeout = ac.count(Error::InvalidMinBatchTimeout)?;
        if minbatchsize == 0 && minbatchtimeout > 0 {
            return Err(Error::MinBatchTimeoutWithoutMinBatchSize);
        }
    }
    let mut keyword = ac.next().ok_or(Error::MissingModelBlob)?;
    let (mut inputs, mut outputs) = (Vec::new(), Vec::new());
    if backend == Backend::Tf {
        if !keyword.eq_ignore_ascii_case(b"INPUTS") {
            return Err(Error::TfInputsNotSpecified);
        }
        let n = ac.count(Error::InvalidInputCount)?;
        if n == 0 {
            return Err(Error::InvalidInputCount);
        }
        inputs = ac.take(n, Error::ModelInputsArgs)?;
        if !ac.advance_if(b"OUTPUTS") {
            return Err(Error::TfOutputsNotSpecified);
        }
        let n = ac.count(Error::InvalidOutputCount)?;
        if n == 0 {
            return Err(Error::InvalidOutputCount);
        }
        outputs = ac.take(n, Error::ModelOutputsArgs)?;
        // At the end RedisAI keeps looking at the OUTPUTS keyword, hence "expected BLOB".
        keyword = ac.next().unwrap_or(b"OUTPUTS");
    } else if keyword.eq_ignore_ascii_case(b"INPUTS") {
        return Err(Error::InputsNotForBackend);
    }
    let mut warmup = None;
    if keyword.eq_ignore_ascii_case(b"WARMUP") {
        let runs = ac.count(Error::InvalidWarmup)?;
        if runs > MAX_WARMUP {
            return Err(Error::InvalidWarmup);
        }
        warmup = Some(runs);
        keyword = ac.next().ok_or(Error::MissingModelBlob)?;
    }
    if !keyword.eq_ignore_ascii_case(b"BLOB") {
        return Err(Error::ExpectedBlob);
    }
    if ac.remaining() == 0 {
        return Err(Error::MissingModelBlob);
    }
    Ok(ModelStoreArgs {
        key: argv[1],
        backend,
        device,
        tag: tag.unwrap_or_default(),
        batchsize,
        minbatchsize,
        minbatchtimeout,
        inputs,
        outputs,
        blob: ac.rest(),
        warmup,
    })
}

/// Parses the deprecated `AI.MODELSET <key> <backend> <device> [TAG t] [BATCHSIZE n
/// [MINBATCHSIZE m [MINBATCHTIMEOUT t]]] [INPUTS name... OUTPUTS name...] BLOB <chunk>...`
/// (no counts; SPEC §3.4). For backends other than TF, anything between the options and BLOB
/// is ignored.
pub fn parse_modelset<'a>(argv: &[&'a [u8]]) -> Result<ModelStoreArgs<'a>> {
    if argv.len() < 4 {
        return Err(Error::WrongArity(MODELSET));
    }
    let (backend, device, mut ac, tag) = prologue(argv, Device::parse_loose)?;
    let mut batchsize = 0;
    if ac.advance_if(b"BATCHSIZE") {
        if backend == Backend::TfLite {
            return Err(Error::TfliteAutoBatching);
        }
        batchsize = ac.count(Error::InvalidBatchSize)?;
    }
    let mut minbatchsize = 0;
    if ac.advance_if(b"MINBATCHSIZE") {
        if batchsize == 0 {
            return Err(Error::MinBatchSizeWithoutBatchSize);
        }
        minbatchsize = ac.count(Error::InvalidMinBatchSize)?;
    }
    let mut minbatchtimeout = 0;
    if ac.advance_if(b"MINBATCHTIMEOUT") {
        if batchsize == 0 {
            return Err(Error::MinBatchTimeoutWithoutBatchSize);
        }
        if minbatchsize == 0 {
            return Err(Error::MinBatchTimeoutWithoutMinBatchSize);
        }
        minbatchtimeout = ac.count(Error::InvalidMinBatchTimeout)?;
    }
    if ac.remaining() == 0 {
        return Err(Error::MissingModelBlob);
    }
    let rest = &argv[ac.pos..];
    let blob_at = rest
        .iter()
        .position(|a| a.eq_ignore_ascii_case(b"BLOB"))
        .unwrap_or(rest.len());
    let options = &rest[..blob_at];
    let (mut inputs, mut outputs) = (Vec::new(), Vec::new());
    if backend == Backend::Tf {
        let Some((first, names)) = options.split_first() else {
            return Err(Error::InputsOutputsNotSpecified);
        };
        if !first.eq_ignore_ascii_case(b"INPUTS") {
            return Err(Error::InputsNotSpecified);
        }
        let outputs_at = names
            .iter()
            .position(|a| a.eq_ignore_ascii_case(b"OUTPUTS"))
            .ok_or(Error::OutputsNotSpecified)?;
        inputs = names[..outputs_at].to_vec();
        outputs = names[outputs_at + 1..].to_vec();
    }
    let blob = rest.get(blob_at + 1..).unwrap_or_default();
    if blob.is_empty() {
        return Err(Error::MissingModelBlob);
    }
    Ok(ModelStoreArgs {
        key: argv[1],
        backend,
        device,
        tag: tag.unwrap_or_default(),
        batchsize,
        minbatchsize,
        minbatchtimeout,
        inputs,
        outputs,
        blob: blob.to_vec(),
        warmup: None,
    })
}
