//! AI.SCRIPTSTORE and the deprecated AI.SCRIPTSET grammars (SPEC §3.10, §3.11), and the AOF
//! rewrite of a script (§10.3).

use redisai_core::numparse::{parse_f64, parse_i64};
use redisai_core::script::ScriptRecord;
use redisai_core::{Error, Result};

use crate::command::Command;
use crate::names::{SCRIPTSET, SCRIPTSTORE};

/// A parsed AI.SCRIPTSTORE or AI.SCRIPTSET, borrowed from `argv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptStoreArgs<'a> {
    /// The script key.
    pub key: &'a [u8],
    /// The device, as given (not validated here: the TORCH backend accepts or refuses it).
    pub device: &'a [u8],
    /// The tag (empty when TAG was not given).
    pub tag: &'a [u8],
    /// The declared entry points (none for AI.SCRIPTSET).
    pub entry_points: Vec<&'a [u8]>,
    /// The TorchScript source, as given.
    pub source: &'a [u8],
}

impl ScriptStoreArgs<'_> {
    /// The record of the script to compile. RedisAI reads the device, the source and the entry
    /// points as C strings, so each is cut at its first NUL (this also keeps RDB round trips
    /// exact, as RDB stores them as C strings); the tag is kept whole.
    pub fn into_record(self) -> ScriptRecord {
        ScriptRecord {
            device: String::from_utf8_lossy(c_str(self.device)).into_owned(),
            tag: self.tag.to_vec(),
            source: c_str(self.source).to_vec(),
            entry_points: self
                .entry_points
                .iter()
                .map(|e| c_str(e).to_vec())
                .collect(),
        }
    }
}

/// `bytes` up to its first NUL.
fn c_str(bytes: &[u8]) -> &[u8] {
    bytes
        .iter()
        .position(|&b| b == 0)
        .map_or(bytes, |end| &bytes[..end])
}

/// Whether `argv[pos]` is `keyword` (case-insensitively).
fn keyword_at(argv: &[&[u8]], pos: usize, keyword: &[u8]) -> bool {
    argv.get(pos)
        .is_some_and(|a| a.eq_ignore_ascii_case(keyword))
}

/// The device, the tag and the position after them: `<key> <device> [TAG <tag>]`.
fn prologue<'a>(argv: &[&'a [u8]]) -> (&'a [u8], &'a [u8], usize) {
    let device = argv.get(2).copied().unwrap_or_default();
    if keyword_at(argv, 3, b"TAG") {
        let tag = argv.get(4).copied().unwrap_or_default();
        (device, tag, 5.min(argv.len()))
    } else {
        (device, b"", 3)
    }
}

/// `SOURCE <source>` at `pos`; anything after it is ignored, as RedisAI does.
fn source_at<'a>(argv: &[&'a [u8]], pos: usize) -> Result<&'a [u8]> {
    if !keyword_at(argv, pos, b"SOURCE") {
        return Err(Error::MissingScriptSource);
    }
    argv.get(pos + 1).copied().ok_or(Error::MissingScriptSource)
}

/// The ENTRY_POINTS count as RedisAI's ArgsCursor reads a `long long`: a strict integer or,
/// failing that, a double with an integral value (`2.0`, `1e1`), of any sign.
fn parse_entry_point_count(value: &[u8]) -> Option<i64> {
    /// 2^63: the first double past `i64::MAX`.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    parse_i64(value).or_else(|| {
        let d = parse_f64(value)?;
        (d.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&d)).then_some(d as i64)
    })
}

/// Parses `AI.SCRIPTSTORE <key> <device> [TAG <tag>] ENTRY_POINTS <n> <fn>... SOURCE <source>`
/// (SPEC §3.10 rows 1-5, in order). Arguments after the source are ignored, as RedisAI does. A
/// negative count reads as a huge one (RedisAI compares it unsigned), so the names run out.
pub fn parse_scriptstore<'a>(argv: &[&'a [u8]]) -> Result<ScriptStoreArgs<'a>> {
    if argv.len() < 8 {
        return Err(Error::WrongArity(SCRIPTSTORE));
    }
    let (device, tag, mut pos) = prologue(argv);
    if !keyword_at(argv, pos, b"ENTRY_POINTS") {
        return Err(Error::MissingEntryPoints);
    }
    let count = argv
        .get(pos + 1)
        .and_then(|a| parse_entry_point_count(a))
        .ok_or(Error::EntryPointsCount)?;
    pos += 2;
    let entry_points = usize::try_from(count)
        .ok()
        .and_then(|n| argv.get(pos..pos.checked_add(n)?))
        .ok_or(Error::MissingEntryPoints)?;
    pos += entry_points.len();
    let source = source_at(argv, pos)?;
    Ok(ScriptStoreArgs {
        key: argv[1],
        device,
        tag,
        entry_points: entry_points.to_vec(),
        source,
    })
}

/// Parses the deprecated `AI.SCRIPTSET <key> <device> [TAG <tag>] SOURCE <source>` (SPEC
/// §3.11): exactly 5 or 7 arguments; the script has no entry points. Arguments after the source
/// are ignored, as RedisAI does.
pub fn parse_scriptset<'a>(argv: &[&'a [u8]]) -> Result<ScriptStoreArgs<'a>> {
    if argv.len() != 5 && argv.len() != 7 {
        return Err(Error::WrongArity(SCRIPTSET));
    }
    let (device, tag, pos) = prologue(argv);
    let source = source_at(argv, pos)?;
    Ok(ScriptStoreArgs {
        key: argv[1],
        device,
        tag,
        entry_points: Vec::new(),
        source,
    })
}

/// The command that rebuilds `script` at `key` on AOF replay (SPEC §10.3):
/// `AI.SCRIPTSTORE <key> <device> TAG <tag> ENTRY_POINTS <n> <fn>... SOURCE <source>`, as
/// RedisAI writes it. A script without entry points (AI.SCRIPTSET, RDB encver 0-2) cannot be
/// stored with AI.SCRIPTSTORE, whose ENTRY_POINTS is mandatory (RedisAI emitted it anyway and
/// its AOF did not replay, SPEC §13.7), so it becomes
/// `AI.SCRIPTSET <key> <device> TAG <tag> SOURCE <source>`.
pub fn scriptstore_command<'a>(key: &'a [u8], script: &'a ScriptRecord) -> Command<'a> {
    let mut command = Command::new(if script.entry_points.is_empty() {
        SCRIPTSET
    } else {
        SCRIPTSTORE
    });
    command
        .arg(key)
        .arg(script.device.as_bytes())
        .arg(b"TAG")
        .arg(&script.tag);
    if !script.entry_points.is_empty() {
        command
            .arg(b"ENTRY_POINTS")
            .number(script.entry_points.len());
        for name in &script.entry_points {
            command.arg(name);
        }
    }
    command.arg(b"SOURCE").arg(&script.source);
    command
}
