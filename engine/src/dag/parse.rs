//! AI.DAGEXECUTE[_RO] and the deprecated AI.DAGRUN[_RO] grammars (SPEC §3.16, §3.17, §7).
//!
//! Three passes, in RedisAI's order, so the first failing check is the one reported:
//! 1. the options before the first `|>` (LOAD keys are read as soon as they are parsed) and the
//!    split of the rest into ops;
//! 2. every op, with its own grammar (models and scripts are looked up between arity and parse,
//!    as the standalone commands do);
//! 3. name resolution: every tensor name becomes a version ([`Slot`]); an op's inputs resolve to
//!    the newest version before its outputs create new ones, PERSIST keys to the final one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use redisai_backend_api::ScriptHost;
use redisai_core::numparse::parse_i64;
use redisai_core::{Error, Result, Tensor};

use super::{DagCommand, DagKeys, DagOp, DagPlan, PlanReply, Slot, SlotSource};
use crate::model::Model;
use crate::model_cmd::{
    modelexecute_arity, modelrun_arity, parse_modelexecute, parse_modelrun, ExecuteArgs,
};
use crate::names::{MODELEXECUTE, MODELRUN, SCRIPTEXECUTE, SCRIPTRUN, TENSORGET, TENSORSET};
use crate::script::Script;
use crate::script_cmd::{
    parse_scriptexecute, parse_scriptrun, scriptexecute_arity, scriptrun_arity, ScriptExecuteArgs,
};
use crate::tensor_cmd::{parse_tensorget_format, parse_tensorset, tensorget_arity, GetFormat};
use crate::text::cmd::{parse_embed, parse_pool, parse_tokenize, parse_vector_op};
use crate::text::{TextOp, VectorOp};

/// Whether `token` is the op separator `|>`.
fn is_separator(token: &[u8]) -> bool {
    token == b"|>"
}

/// Parses and resolves a DAG command (`argv` includes the command name). MULTI/Lua is the
/// caller's check (row 0); everything else is reported here, before anything runs.
pub fn parse_dag(command: DagCommand, argv: &[&[u8]], keys: &mut impl DagKeys) -> Result<DagPlan> {
    if command.deprecated() {
        if argv.len() < 4 {
            return Err(Error::WrongArity(command.name()));
        }
    } else if argv.len() < 6 {
        return Err(Error::DagMissingArguments(command.name()));
    }
    let header = parse_header(command, argv, &mut |name| keys.tensor(name))?;
    let ops = header
        .ops
        .iter()
        .map(|op| parse_op(command, op, keys))
        .collect::<Result<Vec<_>>>()?;
    resolve(command, header, ops)
}

/// Whether the options of a DAG command and its split into ops are well formed, judged without
/// the keyspace (every LOAD key taken to exist): what its key positions may trust
/// ([`crate::keys::dag`]). The ops' own grammars are not checked (they need the models).
pub fn header_is_well_formed(command: DagCommand, argv: &[&[u8]]) -> bool {
    let arity = if command.deprecated() { 4 } else { 6 };
    argv.len() >= arity && parse_header(command, argv, &mut |_| Ok(())).is_ok()
}

/// The options of a DAG and its ops' arguments, before the ops are parsed; `T` is what a LOAD
/// key is read as.
struct Header<'a, T> {
    loaded: Vec<(&'a [u8], T)>,
    persist: Vec<&'a [u8]>,
    timeout: Option<Duration>,
    /// Each op's arguments, its name first (possibly empty: `|> |>`).
    ops: Vec<&'a [&'a [u8]]>,
}

/// Rows 2-19: LOAD / PERSIST / ROUTING / TIMEOUT, each at most once and only before the first
/// `|>`; ops run to the next `|>`; a trailing `|>` or anything else is unexpected.
fn parse_header<'a, T>(
    command: DagCommand,
    argv: &'a [&'a [u8]],
    read: &mut impl FnMut(&[u8]) -> Result<T>,
) -> Result<Header<'a, T>> {
    let mut header = Header {
        loaded: Vec::new(),
        persist: Vec::new(),
        timeout: None,
        ops: Vec::new(),
    };
    let (mut load, mut persist, mut routing, mut timeout) = (false, false, false, false);
    let mut pos = 1;
    while pos < argv.len() {
        let token = argv[pos];
        let options = header.ops.is_empty();
        if options && !load && token.eq_ignore_ascii_case(b"LOAD") {
            pos = parse_load(argv, pos, read, &mut header.loaded)?;
            load = true;
        } else if options && !persist && token.eq_ignore_ascii_case(b"PERSIST") {
            if command.read_only() {
                return Err(Error::DagPersistReadOnly);
            }
            pos = parse_persist(argv, pos, &mut header.persist)?;
            persist = true;
        } else if options && !routing && token.eq_ignore_ascii_case(b"ROUTING") {
            if pos + 1 == argv.len() {
                return Err(Error::DagRoutingMissing);
            }
            pos += 2;
            routing = true;
        } else if options && !timeout && token.eq_ignore_ascii_case(b"TIMEOUT") {
            let value = argv.get(pos + 1).ok_or(Error::TimeoutMissing)?;
            let ms = parse_i64(value).ok_or(Error::InvalidTimeout)?;
            // RedisAI compares a pointer instead of the value: 0 and negatives pass (§13.3).
            // RedisAI accepts 0 and negative values for DAGs and then never times out.
            header.timeout = (ms > 0).then(|| Duration::from_millis(ms as u64));
            pos += 2;
            timeout = true;
        } else if is_separator(token) && pos + 1 < argv.len() {
            let start = pos + 1;
            let end = argv[start..]
                .iter()
                .position(|a| is_separator(a))
                .map_or(argv.len(), |len| start + len);
            header.ops.push(&argv[start..end]);
            pos = end;
        } else {
            return Err(Error::dag_unexpected_argument(token));
        }
    }
    // The deprecated AI.DAGRUN forms need none of the keywords.
    if !(command.deprecated() || load || persist || routing) {
        return Err(Error::DagNoKeyword);
    }
    if header.ops.is_empty() {
        return Err(Error::DagEmpty);
    }
    Ok(header)
}

/// How many of the `count` names after `LOAD <count>` / `PERSIST <count>` are present.
fn list_len(argv: &[&[u8]], pos: usize, count: i64) -> usize {
    let available = argv.len() - (pos + 2);
    usize::try_from(count).map_or(available, |n| n.min(available))
}

/// `LOAD <n> <key>...` at `pos`: each key is read from the keyspace in turn (rows 2-6; `|>` is
/// not special here, as in RedisAI). Returns the position after the list.
fn parse_load<'a, T>(
    argv: &'a [&'a [u8]],
    pos: usize,
    read: &mut impl FnMut(&[u8]) -> Result<T>,
    loaded: &mut Vec<(&'a [u8], T)>,
) -> Result<usize> {
    if argv.len() - pos < 3 {
        return Err(Error::DagLoadMissing);
    }
    let count = parse_i64(argv[pos + 1])
        .filter(|&n| n > 0)
        .ok_or(Error::DagLoadCount)?;
    let len = list_len(argv, pos, count);
    for &name in &argv[pos + 2..pos + 2 + len] {
        loaded.push((name, read(name)?));
    }
    if len as u64 != count as u64 {
        return Err(Error::DagLoadKeys);
    }
    Ok(pos + 2 + len)
}

/// `PERSIST <n> <key>...` at `pos` (rows 8-12). Returns the position after the list.
fn parse_persist<'a>(
    argv: &'a [&'a [u8]],
    pos: usize,
    persist: &mut Vec<&'a [u8]>,
) -> Result<usize> {
    if argv.len() - pos < 3 {
        return Err(Error::DagPersistMissing);
    }
    let count = parse_i64(argv[pos + 1])
        .filter(|&n| n > 0)
        .ok_or(Error::DagPersistCount)?;
    let len = list_len(argv, pos, count);
    for &name in &argv[pos + 2..pos + 2 + len] {
        if persist.contains(&name) {
            return Err(Error::DagPersistUnique);
        }
        persist.push(name);
    }
    if len as u64 != count as u64 {
        return Err(Error::DagPersistKeys);
    }
    Ok(pos + 2 + len)
}

/// An op with its tensors still named (`N`: borrowed from a command's arguments, or owned by
/// the C API's DAG builder, `super::builder`).
pub(crate) enum NamedOp<N> {
    Set {
        name: N,
        tensor: Arc<Tensor>,
    },
    Get {
        name: N,
        format: GetFormat,
    },
    Model {
        model: Arc<Model>,
        inputs: Vec<N>,
        outputs: Vec<N>,
    },
    Script {
        script: Arc<Script>,
        function: String,
        keys: Vec<Vec<u8>>,
        args: Vec<Vec<u8>>,
        inputs: Vec<N>,
        outputs: Vec<N>,
        host: Arc<dyn ScriptHost + Send + Sync>,
    },
    Text {
        op: TextOp,
        inputs: Vec<N>,
        outputs: Vec<N>,
    },
}

impl NamedOp<&[u8]> {
    /// The op with names of its own.
    pub(crate) fn into_owned(self) -> NamedOp<Vec<u8>> {
        let owned = |names: Vec<&[u8]>| names.into_iter().map(<[u8]>::to_vec).collect();
        match self {
            NamedOp::Set { name, tensor } => NamedOp::Set {
                name: name.to_vec(),
                tensor,
            },
            NamedOp::Get { name, format } => NamedOp::Get {
                name: name.to_vec(),
                format,
            },
            NamedOp::Model {
                model,
                inputs,
                outputs,
            } => NamedOp::Model {
                model,
                inputs: owned(inputs),
                outputs: owned(outputs),
            },
            NamedOp::Script {
                script,
                function,
                keys,
                args,
                inputs,
                outputs,
                host,
            } => NamedOp::Script {
                script,
                function,
                keys,
                args,
                inputs: owned(inputs),
                outputs: owned(outputs),
                host,
            },
            NamedOp::Text {
                op,
                inputs,
                outputs,
            } => NamedOp::Text {
                op,
                inputs: owned(inputs),
                outputs: owned(outputs),
            },
        }
    }
}

impl NamedOp<Vec<u8>> {
    /// The op borrowing its names (the builder's ops are resolved without being consumed).
    pub(crate) fn borrowed(&self) -> NamedOp<&[u8]> {
        fn names(names: &[Vec<u8>]) -> Vec<&[u8]> {
            names.iter().map(Vec::as_slice).collect()
        }
        match self {
            NamedOp::Set { name, tensor } => NamedOp::Set {
                name,
                tensor: Arc::clone(tensor),
            },
            NamedOp::Get { name, format } => NamedOp::Get {
                name,
                format: *format,
            },
            NamedOp::Model {
                model,
                inputs,
                outputs,
            } => NamedOp::Model {
                model: Arc::clone(model),
                inputs: names(inputs),
                outputs: names(outputs),
            },
            NamedOp::Script {
                script,
                function,
                keys,
                args,
                inputs,
                outputs,
                host,
            } => NamedOp::Script {
                script: Arc::clone(script),
                function: function.clone(),
                keys: keys.clone(),
                args: args.clone(),
                inputs: names(inputs),
                outputs: names(outputs),
                host: Arc::clone(host),
            },
            NamedOp::Text {
                op,
                inputs,
                outputs,
            } => NamedOp::Text {
                op: op.clone(),
                inputs: names(inputs),
                outputs: names(outputs),
            },
        }
    }
}

/// Rows 20-24: one op, by name (case-insensitive), with its own grammar.
pub(crate) fn parse_op<'a>(
    command: DagCommand,
    op: &[&'a [u8]],
    keys: &mut impl DagKeys,
) -> Result<NamedOp<&'a [u8]>> {
    let Some(name) = op.first() else {
        return Err(Error::DagUnsupportedCommand);
    };
    let name = name.to_ascii_uppercase();
    match (name.as_slice(), command.deprecated()) {
        (b"AI.TENSORSET", _) => {
            if op.len() < 4 {
                return Err(Error::DagOpWrongArity(TENSORSET));
            }
            let tensor = parse_tensorset(op, || keys.max_tensor_bytes())?;
            Ok(NamedOp::Set {
                name: op[1],
                tensor: Arc::new(tensor),
            })
        }
        (b"AI.TENSORGET", _) => {
            tensorget_arity(op).map_err(|_| Error::DagOpWrongArity(TENSORGET))?;
            let format = parse_tensorget_format(&op[2..])?;
            Ok(NamedOp::Get {
                name: op[1],
                format,
            })
        }
        (b"AI.MODELEXECUTE", false) => {
            modelexecute_arity(op)?;
            let model = keys.model(op[1])?;
            let args = parse_modelexecute(op, model.input_count(), model.output_count())?;
            model_op(model, args)
        }
        (b"AI.MODELRUN", true) => {
            modelrun_arity(op)?;
            let model = keys.model(op[1])?;
            let args = parse_modelrun(op, model.input_count(), model.output_count())?;
            model_op(model, args)
        }
        (b"AI.SCRIPTEXECUTE", false) => {
            if command.read_only() {
                return Err(Error::DagScriptInReadOnly);
            }
            scriptexecute_arity(op)?;
            let script = keys.script(op[1])?;
            let args = parse_scriptexecute(op, true)?;
            Ok(script_op(script, args, keys))
        }
        // Allowed in AI.DAGRUN_RO too, as RedisAI does.
        (b"AI.SCRIPTRUN", true) => {
            scriptrun_arity(op)?;
            let script = keys.script(op[1])?;
            let args = parse_scriptrun(op, true)?;
            Ok(script_op(script, args, keys))
        }
        (
            b"AI.TOKENIZE" | b"AI.POOL" | b"AI.EMBED" | b"AI.VADD" | b"AI.VSIM" | b"AI.HSET",
            false,
        ) => text_op(command, &name, op, keys),
        (b"AI.MODELRUN", false) => Err(Error::DagDeprecatedOp(MODELRUN)),
        (b"AI.SCRIPTRUN", false) => Err(Error::DagDeprecatedOp(SCRIPTRUN)),
        (b"AI.MODELEXECUTE", true) => Err(Error::DagNewOpInDagRun(MODELEXECUTE)),
        (b"AI.SCRIPTEXECUTE", true) => Err(Error::DagNewOpInDagRun(SCRIPTEXECUTE)),
        _ => Err(Error::DagUnsupportedCommand),
    }
}

/// A text or vector op (`crate::text`): its grammar, then the values it names.
fn text_op<'a>(
    command: DagCommand,
    name: &[u8],
    op: &[&'a [u8]],
    keys: &mut impl DagKeys,
) -> Result<NamedOp<&'a [u8]>> {
    let text = |op: TextOp, inputs: Vec<&'a [u8]>, outputs: Vec<&'a [u8]>| NamedOp::Text {
        op,
        inputs,
        outputs,
    };
    match name {
        b"AI.TOKENIZE" => {
            let args = parse_tokenize(op, false)?;
            let tokenizer = keys.tokenizer(args.tokenizer)?;
            let outputs = args.outputs.len();
            Ok(text(
                TextOp::Tokenize { tokenizer, outputs },
                vec![args.input],
                args.outputs,
            ))
        }
        b"AI.POOL" => {
            let args = parse_pool(op, false)?;
            Ok(text(
                TextOp::Pool {
                    pooling: args.pooling,
                    normalize: args.normalize,
                },
                args.inputs,
                vec![args.output],
            ))
        }
        b"AI.EMBED" => {
            let args = parse_embed(op, false)?;
            let (embedder, tokenizer, model) = keys.embedder(args.embedder)?;
            Ok(text(
                TextOp::Embed {
                    embedder,
                    tokenizer,
                    model,
                    split: false,
                },
                args.inputs,
                args.outputs,
            ))
        }
        _ => {
            let args = parse_vector_op(op)?;
            if args.writes && command.read_only() {
                return Err(Error::DagWriteOpInReadOnly(args.op));
            }
            let host = keys.script_host(&[args.key.to_vec()]);
            Ok(text(
                TextOp::Vector(VectorOp {
                    op: args.op,
                    command: args.command,
                    argv: args.argv,
                    fp32_only: args.fp32_only,
                    host,
                }),
                args.tensors,
                Vec::new(),
            ))
        }
    }
}

/// A model op; RedisAI parses an op's TIMEOUT, then refuses it inside a DAG.
fn model_op<'a>(model: Arc<Model>, args: ExecuteArgs<'a>) -> Result<NamedOp<&'a [u8]>> {
    if args.timeout_ms.is_some() {
        return Err(Error::TimeoutInDag);
    }
    Ok(NamedOp::Model {
        model,
        inputs: args.inputs,
        outputs: args.outputs,
    })
}

/// A script op (its TIMEOUT was refused by its parser), with the host serving its KEYS.
fn script_op<'a>(
    script: Arc<Script>,
    args: ScriptExecuteArgs<'a>,
    keys: &mut impl DagKeys,
) -> NamedOp<&'a [u8]> {
    let owned = |list: &[&[u8]]| list.iter().map(|a| a.to_vec()).collect::<Vec<_>>();
    let op_keys = owned(&args.keys);
    let host = keys.script_host(&op_keys);
    NamedOp::Script {
        script,
        function: String::from_utf8_lossy(args.function).into_owned(),
        keys: op_keys,
        args: owned(&args.args),
        inputs: args.inputs,
        outputs: args.outputs,
        host,
    }
}

/// Tensor versions being assigned: every version's source, and each name's newest version.
struct Versions<'a> {
    slots: Vec<SlotSource>,
    latest: HashMap<&'a [u8], Slot>,
}

impl<'a> Versions<'a> {
    /// A new version of `name`, which later ops see.
    fn create(&mut self, name: &'a [u8], source: SlotSource) -> Slot {
        let slot = self.slots.len();
        self.slots.push(source);
        self.latest.insert(name, slot);
        slot
    }

    /// The newest version of `name`.
    fn find(&self, name: &[u8]) -> Option<Slot> {
        self.latest.get(name).copied()
    }
}

/// A model or script op's inputs, resolved to their newest versions (row 25), then its
/// outputs, each a new version.
fn resolve_io<'a>(
    versions: &mut Versions<'a>,
    inputs: &[&[u8]],
    outputs: &[&'a [u8]],
) -> Result<(Vec<Slot>, Vec<Slot>)> {
    let inputs = inputs
        .iter()
        .map(|name| versions.find(name).ok_or(Error::DagInputNotFound))
        .collect::<Result<Vec<_>>>()?;
    let outputs = outputs
        .iter()
        .map(|name| versions.create(name, SlotSource::Produced))
        .collect();
    Ok((inputs, outputs))
}

/// The plan of ops built through the C API (`super::builder`): `loaded` tensors, then `ops`,
/// resolved as a DAG command's are (no PERSIST, no TIMEOUT).
pub(crate) fn resolve_built(
    loaded: Vec<(&[u8], Arc<Tensor>)>,
    ops: Vec<NamedOp<&[u8]>>,
) -> Result<DagPlan> {
    let header = Header {
        loaded,
        persist: Vec::new(),
        timeout: None,
        ops: Vec::new(),
    };
    resolve(DagCommand::Execute, header, ops)
}

/// Rows 25-26: names to versions (SSA-like), then PERSIST keys to their final version.
fn resolve(
    command: DagCommand,
    header: Header<'_, Arc<Tensor>>,
    ops: Vec<NamedOp<&[u8]>>,
) -> Result<DagPlan> {
    let mut versions = Versions {
        slots: Vec::with_capacity(header.loaded.len() + ops.len()),
        latest: HashMap::new(),
    };
    for (name, tensor) in header.loaded {
        versions.create(name, SlotSource::Loaded(tensor));
    }
    let input =
        |versions: &Versions<'_>, name: &[u8]| versions.find(name).ok_or(Error::DagInputNotFound);
    let mut plan_ops = Vec::with_capacity(ops.len());
    for op in ops {
        plan_ops.push(match op {
            NamedOp::Set { name, tensor } => DagOp::TensorSet {
                output: versions.create(name, SlotSource::Set(tensor)),
            },
            NamedOp::Get { name, format } => DagOp::TensorGet {
                input: input(&versions, name)?,
                format,
            },
            NamedOp::Model {
                model,
                inputs,
                outputs,
            } => {
                let (inputs, outputs) = resolve_io(&mut versions, &inputs, &outputs)?;
                DagOp::ModelExecute {
                    model,
                    inputs,
                    outputs,
                }
            }
            NamedOp::Script {
                script,
                function,
                keys,
                args,
                inputs,
                outputs,
                host,
            } => {
                let (inputs, outputs) = resolve_io(&mut versions, &inputs, &outputs)?;
                DagOp::ScriptExecute {
                    script,
                    function,
                    keys,
                    args,
                    inputs,
                    outputs,
                    host,
                }
            }
            NamedOp::Text {
                op,
                inputs,
                outputs,
            } => {
                let (inputs, outputs) = resolve_io(&mut versions, &inputs, &outputs)?;
                DagOp::Text {
                    op,
                    inputs,
                    outputs,
                }
            }
        });
    }
    let persist = header
        .persist
        .iter()
        .map(|name| match versions.find(name) {
            Some(slot) => Ok((name.to_vec(), slot)),
            None => Err(Error::DagPersistNotFound),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(DagPlan {
        command,
        reply: PlanReply::PerOp,
        slots: versions.slots,
        ops: plan_ops,
        persist,
        timeout: header.timeout,
    })
}

#[cfg(test)]
mod tests;
