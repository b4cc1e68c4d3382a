//! AI.CONFIG and AI.INFO grammars (SPEC §3.18, §3.19).

use redisai_core::numparse::parse_i64;
use redisai_core::{Backend, Error, Result};

use crate::names::{CONFIG, INFO, METRICS};

/// A parsed AI.CONFIG command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigCmd<'a> {
    /// `LOADBACKEND <backend> <path>`: load a backend library (a relative path is resolved
    /// against BACKENDSPATH by the caller).
    LoadBackend(Backend, &'a [u8]),
    /// `BACKENDSPATH <path>`: stored verbatim, no validation.
    BackendsPath(&'a [u8]),
    /// `MODEL_CHUNK_SIZE <n>`, n > 0.
    ModelChunkSize(u64),
    /// `GET <name>`: BACKENDSPATH and MODEL_CHUNK_SIZE are known, any other name replies null.
    Get(&'a [u8]),
}

/// Parses `AI.CONFIG <subcommand> ...` in RedisAI's order: arity, then the subcommand
/// (case-insensitive), then its own arguments. Extra trailing arguments are ignored.
pub fn parse_config<'a>(argv: &[&'a [u8]]) -> Result<ConfigCmd<'a>> {
    let Some(&subcommand) = argv.get(1) else {
        return Err(Error::WrongArity(CONFIG));
    };
    let sub = subcommand.to_ascii_uppercase();
    match sub.as_slice() {
        b"LOADBACKEND" => {
            if argv.len() < 4 {
                return Err(Error::WrongArity(CONFIG));
            }
            let backend = Backend::parse(argv[2]).ok_or(Error::UnsupportedBackend)?;
            Ok(ConfigCmd::LoadBackend(backend, argv[3]))
        }
        b"BACKENDSPATH" => argv
            .get(2)
            .map(|path| ConfigCmd::BackendsPath(path))
            .ok_or(Error::BackendsPathMissing),
        b"MODEL_CHUNK_SIZE" => {
            let value = argv.get(2).ok_or(Error::ChunkSizeMissing)?;
            match parse_i64(value) {
                Some(n) if n > 0 => Ok(ConfigCmd::ModelChunkSize(n as u64)),
                _ => Err(Error::InvalidChunkSize),
            }
        }
        b"GET" => argv
            .get(2)
            .map(|name| ConfigCmd::Get(name))
            .ok_or(Error::WrongArity(CONFIG)),
        _ => Err(Error::UnsupportedSubcommand),
    }
}

/// A parsed `AI.INFO <key> [RESETSTAT | LATENCY]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoArgs<'a> {
    /// The model or script key (looked up in the stats registry, not the keyspace).
    pub key: &'a [u8],
    /// RESETSTAT was given: zero the counters and reply OK.
    pub reset: bool,
    /// LATENCY was given: RedisAI's reply followed by the latency figures (docs/metrics.md).
    /// Any other third token is ignored, as RedisAI does.
    pub latency: bool,
}

/// Parses `AI.INFO <key> [RESETSTAT | LATENCY]` (2 or 3 arguments).
pub fn parse_info<'a>(argv: &[&'a [u8]]) -> Result<InfoArgs<'a>> {
    if !(2..=3).contains(&argv.len()) {
        return Err(Error::WrongArity(INFO));
    }
    let option = |name: &[u8]| argv.get(2).is_some_and(|a| a.eq_ignore_ascii_case(name));
    Ok(InfoArgs {
        key: argv[1],
        reset: option(b"RESETSTAT"),
        latency: option(b"LATENCY"),
    })
}

/// Parses `AI.METRICS` (no arguments).
pub fn parse_metrics(argv: &[&[u8]]) -> Result<()> {
    if argv.len() != 1 {
        return Err(Error::WrongArity(METRICS));
    }
    Ok(())
}
