//! AI.MODELGET, AI.MODELDEL and AI._MODELSCAN grammars (SPEC §3.5, §3.6, §3.9).

use redisai_core::{Error, Result};

use crate::names::{MODELDEL, MODELGET, MODELSCAN};

/// What AI.MODELGET replies with: META only (16 fields), BLOB only (the blob alone), or both
/// (18 fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelGetArgs {
    /// Reply the metadata fields.
    pub meta: bool,
    /// Reply the blob.
    pub blob: bool,
}

/// Parses `AI.MODELGET <key> [META] [BLOB]` (SPEC §3.5): 2 to 4 arguments; unknown options
/// are ignored; no option (or only unknown ones) means META and BLOB.
pub fn parse_modelget(argv: &[&[u8]]) -> Result<ModelGetArgs> {
    if !(2..=4).contains(&argv.len()) {
        return Err(Error::WrongArity(MODELGET));
    }
    let has = |option: &[u8]| argv[2..].iter().any(|a| a.eq_ignore_ascii_case(option));
    let (meta, blob) = (has(b"META"), has(b"BLOB"));
    Ok(ModelGetArgs {
        meta: meta || !blob,
        blob: blob || !meta,
    })
}

/// Checks the argument count of `AI.MODELDEL <key>`.
pub fn modeldel_arity(argv: &[&[u8]]) -> Result<()> {
    if argv.len() != 2 {
        return Err(Error::WrongArity(MODELDEL));
    }
    Ok(())
}

/// Checks the argument count of `AI._MODELSCAN` (no arguments).
pub fn modelscan_arity(argv: &[&[u8]]) -> Result<()> {
    if argv.len() != 1 {
        return Err(Error::WrongArity(MODELSCAN));
    }
    Ok(())
}
