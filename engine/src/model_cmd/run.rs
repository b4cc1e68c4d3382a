//! AI.MODELEXECUTE and the deprecated AI.MODELRUN grammars (SPEC §3.7, §3.8).
//!
//! The caller checks MULTI/Lua first, then the arity (`modelexecute_arity` / `modelrun_arity`),
//! then looks up the model key (`ERR model key is empty` / WRONGTYPE), and only then parses the
//! rest against the model's input and output counts, as RedisAI does.

use redisai_core::numparse::parse_i64;
use redisai_core::{Error, Result};

use crate::names::{MODELEXECUTE, MODELRUN};

/// The keys and options of a model run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecuteArgs<'a> {
    /// Input tensor keys, in the model's input order.
    pub inputs: Vec<&'a [u8]>,
    /// Output tensor keys, in the model's output order.
    pub outputs: Vec<&'a [u8]>,
    /// TIMEOUT in milliseconds, counted from enqueue time.
    pub timeout_ms: Option<u64>,
}

/// Checks the argument count of AI.MODELEXECUTE (at least 8), before the model key is looked up.
pub fn modelexecute_arity(argv: &[&[u8]]) -> Result<()> {
    if argv.len() < 8 {
        return Err(Error::WrongArity(MODELEXECUTE));
    }
    Ok(())
}

/// Parses `AI.MODELEXECUTE <key> INPUTS <n> <in>... OUTPUTS <m> <out>... [TIMEOUT <ms>]` once
/// the model is known, checking the counts against the model's (SPEC §3.7 rows 4-17, in order).
pub fn parse_modelexecute<'a>(
    argv: &[&'a [u8]],
    model_inputs: usize,
    model_outputs: usize,
) -> Result<ExecuteArgs<'a>> {
    modelexecute_arity(argv)?;
    if !argv[2].eq_ignore_ascii_case(b"INPUTS") {
        return Err(Error::InputsNotSpecified);
    }
    let n = parse_i64(argv[3]).ok_or(Error::InvalidInputCount)?;
    if n <= 0 {
        return Err(Error::InputCountNotPositive);
    }
    if n as u64 != model_inputs as u64 {
        return Err(Error::InputsMismatch);
    }
    let mut pos = 4usize.saturating_add(model_inputs);
    let inputs = argv.get(4..pos).ok_or(Error::ExecuteInputKeys)?;
    if !argv
        .get(pos)
        .is_some_and(|a| a.eq_ignore_ascii_case(b"OUTPUTS"))
    {
        return Err(Error::OutputsNotSpecified);
    }
    pos += 1;
    let m = argv
        .get(pos)
        .and_then(|a| parse_i64(a))
        .ok_or(Error::InvalidOutputCount)?;
    if m <= 0 {
        return Err(Error::OutputCountNotPositive);
    }
    if m as u64 != model_outputs as u64 {
        return Err(Error::OutputsMismatch);
    }
    pos += 1;
    let end = pos.saturating_add(model_outputs);
    let outputs = argv.get(pos..end).ok_or(Error::ExecuteOutputKeys)?;
    pos = end;
    let mut timeout_ms = None;
    if let Some(&token) = argv.get(pos) {
        if !token.eq_ignore_ascii_case(b"TIMEOUT") {
            return Err(Error::invalid_argument(token));
        }
        let value = argv.get(pos + 1).ok_or(Error::TimeoutMissing)?;
        timeout_ms = Some(parse_timeout(value)?);
        if let Some(extra) = argv.get(pos + 2) {
            return Err(Error::invalid_argument(extra));
        }
    }
    Ok(ExecuteArgs {
        inputs: inputs.to_vec(),
        outputs: outputs.to_vec(),
        timeout_ms,
    })
}

/// Checks the argument count of AI.MODELRUN (at least 6), before the model key is looked up.
pub fn modelrun_arity(argv: &[&[u8]]) -> Result<()> {
    if argv.len() < 6 {
        return Err(Error::WrongArity(MODELRUN));
    }
    Ok(())
}

/// Parses the deprecated `AI.MODELRUN <key> [TIMEOUT <ms>] INPUTS <in>... OUTPUTS <out>...`
/// (no counts) once the model is known (SPEC §3.8): every token after INPUTS up to the first
/// OUTPUTS is an input, every later token an output; the counts must equal the model's.
pub fn parse_modelrun<'a>(
    argv: &[&'a [u8]],
    model_inputs: usize,
    model_outputs: usize,
) -> Result<ExecuteArgs<'a>> {
    modelrun_arity(argv)?;
    let mut pos = 2;
    let mut timeout_ms = None;
    if argv[pos].eq_ignore_ascii_case(b"TIMEOUT") {
        timeout_ms = Some(parse_timeout(argv[pos + 1])?);
        pos += 2;
    }
    if !argv[pos].eq_ignore_ascii_case(b"INPUTS") {
        return Err(Error::InputsNotSpecified);
    }
    let keys = &argv[pos + 1..];
    let (inputs, outputs) = match keys.iter().position(|a| a.eq_ignore_ascii_case(b"OUTPUTS")) {
        Some(at) => (&keys[..at], &keys[at + 1..]),
        None => (keys, &[][..]),
    };
    if inputs.len() != model_inputs {
        return Err(Error::InputsMismatch);
    }
    if outputs.len() != model_outputs {
        return Err(Error::OutputsMismatch);
    }
    Ok(ExecuteArgs {
        inputs: inputs.to_vec(),
        outputs: outputs.to_vec(),
        timeout_ms,
    })
}

/// A TIMEOUT value: a strict integer > 0, else `ERR Invalid value for TIMEOUT`.
fn parse_timeout(value: &[u8]) -> Result<u64> {
    match parse_i64(value) {
        Some(ms) if ms > 0 => Ok(ms as u64),
        _ => Err(Error::InvalidTimeout),
    }
}
