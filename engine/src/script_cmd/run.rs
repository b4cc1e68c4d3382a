//! AI.SCRIPTEXECUTE and the deprecated AI.SCRIPTRUN grammars (SPEC §3.14, §3.15), standalone
//! and as DAG ops.
//!
//! The caller checks MULTI/Lua first, then the arity (`scriptexecute_arity` /
//! `scriptrun_arity`), then looks up the script key (`ERR script key is empty` / WRONGTYPE), and
//! only then parses the rest, as RedisAI does. The function name is not checked here (a missing
//! function fails when the script runs).

use redisai_core::numparse::parse_i64;
use redisai_core::{Error, Result};

use crate::names::{SCRIPTEXECUTE, SCRIPTRUN};

/// The parts of a script run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptExecuteArgs<'a> {
    /// The script key.
    pub key: &'a [u8],
    /// The function to call.
    pub function: &'a [u8],
    /// KEYS: the keys the script declares it touches (passed to it as strings).
    pub keys: Vec<&'a [u8]>,
    /// INPUTS: input tensor keys (or DAG tensor names), in order.
    pub inputs: Vec<&'a [u8]>,
    /// ARGS: string arguments passed to the script.
    pub args: Vec<&'a [u8]>,
    /// OUTPUTS: output tensor keys (or DAG tensor names), in order.
    pub outputs: Vec<&'a [u8]>,
    /// TIMEOUT in milliseconds, counted from enqueue time (never set inside a DAG).
    pub timeout_ms: Option<u64>,
}

/// The argument lists of AI.SCRIPTEXECUTE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Keys,
    Inputs,
    Args,
    Outputs,
}

impl Scope {
    fn parse(token: &[u8]) -> Option<Scope> {
        [Scope::Keys, Scope::Inputs, Scope::Args, Scope::Outputs]
            .into_iter()
            .find(|s| token.eq_ignore_ascii_case(s.keyword().as_bytes()))
    }

    fn keyword(self) -> &'static str {
        match self {
            Scope::Keys => "KEYS",
            Scope::Inputs => "INPUTS",
            Scope::Args => "ARGS",
            Scope::Outputs => "OUTPUTS",
        }
    }

    /// The word of `ERR Invalid argument for <word> count ...` (ARGS says `keys`: sic, SPEC
    /// §13.5).
    fn count_word(self) -> &'static str {
        match self {
            Scope::Inputs => "inputs",
            Scope::Args | Scope::Keys => "keys",
            Scope::Outputs => "outputs",
        }
    }

    /// The word of `ERR number of <word> to AI.SCRIPTEXECUTE command does not match ...`.
    fn list_word(self) -> &'static str {
        match self {
            Scope::Keys => "keys",
            Scope::Inputs => "inputs",
            Scope::Args => "args",
            Scope::Outputs => "outputs",
        }
    }
}

/// The lists read so far, and which scopes were seen.
#[derive(Default)]
struct Lists<'a> {
    lists: [Vec<&'a [u8]>; 4],
    seen: [bool; 4],
}

impl<'a> Lists<'a> {
    /// Reads scope `scope`, whose keyword precedes `pos`; returns the position after it
    /// (rows 4-13).
    fn read(&mut self, argv: &[&'a [u8]], pos: usize, scope: Scope) -> Result<usize> {
        let i = scope as usize;
        if self.seen[i] {
            return Err(Error::ScriptScopeRepeated(scope.keyword()));
        }
        self.seen[i] = true;
        let items = match scope {
            Scope::Keys => keys_list(argv, pos)?,
            _ => scope_list(argv, pos, scope)?,
        };
        self.lists[i] = items.to_vec();
        Ok(pos + 1 + items.len())
    }
}

/// `KEYS <n> <key>...` with the count at `pos` (rows 4-6): at least two arguments after KEYS,
/// a count > 0, and that many keys.
fn keys_list<'a, 'b>(argv: &'b [&'a [u8]], pos: usize) -> Result<&'b [&'a [u8]]> {
    if argv.len() < pos + 2 {
        return Err(Error::KeysMissing);
    }
    let n = parse_i64(argv[pos])
        .filter(|&n| n > 0)
        .ok_or(Error::KeysCount)?;
    let first = pos + 1;
    if n as u64 > (argv.len() - first) as u64 {
        return Err(Error::KeysArgs);
    }
    Ok(&argv[first..first + n as usize])
}

/// `INPUTS|ARGS|OUTPUTS <n> <item>...` with the count at `pos` (rows 8-12). A negative count is
/// read as 0 (RedisAI does not reject it).
fn scope_list<'a, 'b>(argv: &'b [&'a [u8]], pos: usize, scope: Scope) -> Result<&'b [&'a [u8]]> {
    let count = argv.get(pos).ok_or(Error::ScriptScopeNoCount)?;
    let n = parse_i64(count).ok_or(Error::ScriptScopeCount(scope.count_word()))?;
    let n = u64::try_from(n).unwrap_or(0);
    let first = pos + 1;
    if n > (argv.len() - first) as u64 {
        return Err(Error::ScriptScopeArgs(scope.list_word()));
    }
    Ok(&argv[first..first + n as usize])
}

/// A TIMEOUT value: a strict integer > 0, else `ERR Invalid value for TIMEOUT`.
fn parse_timeout(value: &[u8]) -> Result<u64> {
    match parse_i64(value) {
        Some(ms) if ms > 0 => Ok(ms as u64),
        _ => Err(Error::InvalidTimeout),
    }
}

/// Checks the argument count of AI.SCRIPTEXECUTE (at least 3: key and function), before the
/// script key is looked up (row 1).
pub fn scriptexecute_arity(argv: &[&[u8]]) -> Result<()> {
    if argv.len() < 3 {
        return Err(Error::WrongArity(SCRIPTEXECUTE));
    }
    Ok(())
}

/// Parses `AI.SCRIPTEXECUTE <key> <function> [KEYS <n> <key>...] [INPUTS <n> <in>...]
/// [ARGS <n> <arg>...] [OUTPUTS <n> <out>...] [TIMEOUT <ms>]` once the script is known (SPEC
/// §3.14 rows 3-18, in order). Standalone (`in_dag` false), the first scope must be KEYS or
/// INPUTS (also when there is none: RedisAI read past argv there); then the scopes come in any
/// order, each at most once, and TIMEOUT must be last. Inside a DAG (`in_dag`) any scope may
/// come first, and a TIMEOUT is refused once the whole op is parsed.
pub fn parse_scriptexecute<'a>(argv: &[&'a [u8]], in_dag: bool) -> Result<ScriptExecuteArgs<'a>> {
    scriptexecute_arity(argv)?;
    let mut lists = Lists::default();
    let mut pos = 3;
    if !in_dag {
        let first = argv
            .get(pos)
            .and_then(|t| Scope::parse(t))
            .filter(|s| matches!(s, Scope::Keys | Scope::Inputs))
            .ok_or(Error::ScriptFirstScope)?;
        pos = lists.read(argv, pos + 1, first)?;
    }
    let mut timeout_ms = None;
    while let Some(&token) = argv.get(pos) {
        pos += 1;
        if token.eq_ignore_ascii_case(b"TIMEOUT") {
            let value = argv.get(pos).ok_or(Error::ScriptTimeoutMissing)?;
            timeout_ms = Some(parse_timeout(value)?);
            if pos + 1 != argv.len() {
                return Err(Error::ScriptAfterTimeout);
            }
            break;
        }
        let scope = Scope::parse(token).ok_or_else(|| Error::script_unexpected_argument(token))?;
        pos = lists.read(argv, pos, scope)?;
    }
    if in_dag && timeout_ms.is_some() {
        return Err(Error::TimeoutInDag);
    }
    let [keys, inputs, args, outputs] = lists.lists;
    Ok(ScriptExecuteArgs {
        key: argv[1],
        function: argv[2],
        keys,
        inputs,
        args,
        outputs,
        timeout_ms,
    })
}

/// Checks the argument count of AI.SCRIPTRUN (at least 3: key and function), before the script
/// key is looked up.
pub fn scriptrun_arity(argv: &[&[u8]]) -> Result<()> {
    if argv.len() < 3 {
        return Err(Error::WrongArity(SCRIPTRUN));
    }
    Ok(())
}

/// Parses the deprecated `AI.SCRIPTRUN <key> <function> [TIMEOUT <ms>] INPUTS <in>...
/// [$ <in>...] OUTPUTS <out>...` once the script is known (SPEC §3.15), as RedisAI walks it:
/// tokens after INPUTS are inputs and tokens after OUTPUTS are outputs (no counts); `$` (once,
/// among the inputs) marks where a variadic list starts and is otherwise skipped, the inputs
/// staying one flat list; TIMEOUT may come anywhere, once. Inside a DAG (`in_dag`) a TIMEOUT is
/// refused once the whole op is parsed. A TIMEOUT without a value (RedisAI read past argv)
/// answers `ERR No value provided for TIMEOUT`.
pub fn parse_scriptrun<'a>(argv: &[&'a [u8]], in_dag: bool) -> Result<ScriptExecuteArgs<'a>> {
    scriptrun_arity(argv)?;
    let (mut in_inputs, mut in_outputs, mut inputs_done, mut variadic) =
        (false, false, false, false);
    let (mut inputs, mut outputs) = (Vec::new(), Vec::new());
    let mut timeout_ms = None;
    let mut pos = 3;
    while let Some(&token) = argv.get(pos) {
        pos += 1;
        if token.eq_ignore_ascii_case(b"TIMEOUT") {
            if timeout_ms.is_some() {
                return Err(Error::ScriptRunTimeoutRepeated);
            }
            let value = argv.get(pos).ok_or(Error::TimeoutMissing)?;
            timeout_ms = Some(parse_timeout(value)?);
            pos += 1;
        } else if token.eq_ignore_ascii_case(b"INPUTS") {
            if inputs_done {
                return Err(Error::ScriptRunInputsSection);
            }
            if in_inputs {
                return Err(Error::ScriptRunInputsKeyword);
            }
            (in_inputs, in_outputs) = (true, false);
        } else if token.eq_ignore_ascii_case(b"OUTPUTS") {
            if in_outputs {
                return Err(Error::ScriptRunOutputsKeyword);
            }
            (in_inputs, in_outputs, inputs_done) = (false, true, true);
        } else if token == b"$" {
            if !in_inputs {
                return Err(Error::ScriptRunVariadicOutside);
            }
            if variadic {
                return Err(Error::ScriptRunVariadicRepeated);
            }
            variadic = true;
        } else if in_inputs {
            inputs.push(token);
        } else if in_outputs {
            outputs.push(token);
        } else {
            return Err(Error::ScriptRunUnrecognized);
        }
    }
    if in_dag && timeout_ms.is_some() {
        return Err(Error::TimeoutInDag);
    }
    Ok(ScriptExecuteArgs {
        key: argv[1],
        function: argv[2],
        keys: Vec::new(),
        inputs,
        args: Vec::new(),
        outputs,
        timeout_ms,
    })
}
