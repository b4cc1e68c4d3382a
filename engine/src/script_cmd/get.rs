//! AI.SCRIPTGET, AI.SCRIPTDEL and AI._SCRIPTSCAN grammars (SPEC §3.12, §3.13, §3.9).

use redisai_core::{Error, Result};

use crate::names::{SCRIPTDEL, SCRIPTGET, SCRIPTSCAN};

/// What AI.SCRIPTGET replies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptGetReply {
    /// `SOURCE` only: the source as one bulk string.
    Source,
    /// `META` only: `device`, `tag`, `Entry Points` (6 elements).
    Meta,
    /// Both options, or neither: the metadata and `source` (8 elements).
    MetaAndSource,
}

/// A parsed `AI.SCRIPTGET <key> [META] [SOURCE]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptGetArgs<'a> {
    /// The script key (`ERR script key is empty` / WRONGTYPE are the caller's).
    pub key: &'a [u8],
    pub reply: ScriptGetReply,
}

/// Parses `AI.SCRIPTGET <key> [META] [SOURCE]` (SPEC §3.12): 2 to 4 arguments; options are
/// case-insensitive, in any order; unknown ones are ignored.
pub fn parse_scriptget<'a>(argv: &[&'a [u8]]) -> Result<ScriptGetArgs<'a>> {
    if !(2..=4).contains(&argv.len()) {
        return Err(Error::WrongArity(SCRIPTGET));
    }
    let has = |option: &[u8]| argv[2..].iter().any(|a| a.eq_ignore_ascii_case(option));
    let reply = match (has(b"META"), has(b"SOURCE")) {
        (false, true) => ScriptGetReply::Source,
        (true, false) => ScriptGetReply::Meta,
        _ => ScriptGetReply::MetaAndSource,
    };
    Ok(ScriptGetArgs {
        key: argv[1],
        reply,
    })
}

/// Checks the argument count of `AI.SCRIPTDEL <key>`.
pub fn scriptdel_arity(argv: &[&[u8]]) -> Result<()> {
    if argv.len() != 2 {
        return Err(Error::WrongArity(SCRIPTDEL));
    }
    Ok(())
}

/// Checks the argument count of `AI._SCRIPTSCAN` (no arguments).
pub fn scriptscan_arity(argv: &[&[u8]]) -> Result<()> {
    if argv.len() != 1 {
        return Err(Error::WrongArity(SCRIPTSCAN));
    }
    Ok(())
}
