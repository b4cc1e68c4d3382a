//! Fuzz-style property tests of every command grammar of the engine, of the key-position
//! functions and of the auto-batching policy.
//!
//! Arguments are sequences of 0 to 30 tokens drawn from the grammar's own keywords (in mixed
//! case), numbers (valid, negative, huge, floats, hex, with spaces or leading zeros), `|>`, key
//! names and arbitrary bytes. Three cases in four start from a near-valid command of the
//! grammar, used as is or mutated (tokens replaced, inserted, deleted, duplicated, swapped,
//! recased), so the deep rows of each grammar are reached too.
//!
//! Properties:
//! * every grammar entry point (`tensor_cmd`, `model_cmd`, `script_cmd`, `dag::parse::parse_dag`
//!   against a `DagKeys` double, `config::parse_module_args`) never panics and returns `Ok` or an error
//!   whose text is non-empty, on one line, and starts with `ERR `, `WRONGTYPE ` or is one of the
//!   documented bare texts of `redisai_core::error` (see [`BARE_TEXTS`]). The errors that echo a
//!   client token (`Invalid argument: <t>`, `... Unexpected argument:  <t>`, the module argument
//!   error) carry it verbatim, so only their fixed part is held to one line: the module one-lines
//!   every error reply (`src/reply.rs`, `error_text`);
//! * what a grammar accepts is consistent (counts match the model, BLOB present, batching
//!   options in order, scripts' AOF rewrite replaying to the same record, DAG plans whose slots
//!   all exist and whose inputs precede their outputs, ...);
//! * the key positions (`keys::modelexecute`, `keys::modelrun`, `keys::scriptexecute`,
//!   `keys::scriptrun`, `keys::dag`) never panic, are strictly increasing and within
//!   `1..argv.len()`; for a command its grammar accepts they include every key the command
//!   opens (the model or script, the inputs and outputs, a script's KEYS, the DAG's LOAD,
//!   PERSIST, model and script keys); for a command its grammar refuses they are only the keys
//!   that are certain: the model or script key alone (a DAG with malformed options: none), and
//!   lists only when the parser accepts them as given;
//! * the batching policy `take_next`, run on random queues of fake requests (random models,
//!   params, dims, dtypes, enqueue times) and pushes, never panics, never loses nor duplicates a
//!   request (what it returns plus what is left is what was pushed), keeps the rest in FIFO
//!   order, never batches more rows than BATCHSIZE nor incompatible requests, never runs a group
//!   that is not ready, waits only when nothing can run, and wakes up with something to run at
//!   the deadline it gave.
//!
//! Bugs these properties found are fixed and pinned by regression tests: `keys::modelrun` missed
//! an output key spelled `OUTPUTS`; `keys::modelexecute` read tokens of a malformed command as
//! keys; `take_next` overflowed with a BATCHSIZE of 2^63 or more (RDB
//! only).
//!
//! Case counts: each property runs `FUZZ_CASES` cases (default 256: under a second for the
//! whole file in a debug build; that is what CI runs). The long run (100,000 cases per property,
//! about 10 s in release), as `make fuzz` does:
//!
//! ```text
//! FUZZ_CASES=100000 cargo test --release -p redisai-engine --test fuzz_grammars
//! ```
//!
//! Layout: this file holds the properties and their regression tests; `fuzz_grammars/` the
//! pieces they are made of: `errors.rs` (the texts an error may have), `tokens.rs` (tokens and
//! mutations), `templates.rs` (each grammar's keywords and near-valid commands), `keyspace.rs`
//! (the DAG parser's keyspace double) and `batching.rs` (fake requests for the batching policy).
//!
//! Failures are not persisted to regression files: proptest prints the shrunk input, which
//! belongs in a deterministic test next to the grammar it breaks.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};

use redisai_core::{Backend, DType, Error, Result, Tensor};
use redisai_engine::batching::{take_next, BatchItem, BatchParams, Next};
use redisai_engine::config::{parse_module_args, KEYS as MODULE_KEYS};
use redisai_engine::dag::parse::parse_dag;
use redisai_engine::dag::{DagCommand, DagOp, SlotSource};
use redisai_engine::keys;
use redisai_engine::model_cmd::{
    modeldel_arity, modelexecute_arity, modelrun_arity, modelscan_arity, modelstore_command,
    parse_config, parse_info, parse_modelexecute, parse_modelget, parse_modelrun, parse_modelset,
    parse_modelstore, ConfigCmd,
};
use redisai_engine::script_cmd::{
    parse_scriptexecute, parse_scriptget, parse_scriptrun, parse_scriptset, parse_scriptstore,
    scriptdel_arity, scriptexecute_arity, scriptrun_arity, scriptscan_arity, scriptstore_command,
    ScriptGetReply,
};
use redisai_engine::tensor_cmd::{
    parse_tensorget_format, parse_tensorset, tensorget_arity, tensorset_arity, tensorset_command,
};

/// Cases per property when `FUZZ_CASES` is not set.
const DEFAULT_CASES: u32 = 256;

fn config() -> ProptestConfig {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

#[path = "fuzz_grammars/batching.rs"]
mod batching;
#[path = "fuzz_grammars/errors.rs"]
mod errors;
#[path = "fuzz_grammars/keyspace.rs"]
mod keyspace;
#[path = "fuzz_grammars/templates.rs"]
mod templates;
#[path = "fuzz_grammars/tokens.rs"]
mod tokens;

use batching::*;
use errors::*;
use keyspace::*;
use templates::*;
use tokens::*;

// ---------------------------------------------------------------------------------------------
// Key positions

/// Key positions are strictly increasing, never the command name, never past the end.
fn check_positions(argv: &[&[u8]], positions: &[usize]) -> std::result::Result<(), TestCaseError> {
    prop_assert!(
        positions.iter().all(|&i| 1 <= i && i < argv.len()),
        "{:?} of {}: {}",
        positions,
        argv.len(),
        show(argv)
    );
    prop_assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "{:?}: {}",
        positions,
        show(argv)
    );
    Ok(())
}

/// The key position of a malformed model or script command: its model or script key alone.
fn first_key(argv: &[&[u8]]) -> Vec<usize> {
    if argv.len() > 1 {
        vec![1]
    } else {
        Vec::new()
    }
}

/// Errors of a DAG's options and split into ops: what the DAG's key positions are judged by.
fn is_header_error(command: DagCommand, e: &Error) -> bool {
    if let Error::WrongArity(name) = e {
        return *name == command.name();
    }
    matches!(
        e,
        Error::DagMissingArguments(_)
            | Error::DagLoadMissing
            | Error::DagLoadCount
            | Error::DagLoadKeys
            | Error::DagPersistReadOnly
            | Error::DagPersistMissing
            | Error::DagPersistCount
            | Error::DagPersistUnique
            | Error::DagPersistKeys
            | Error::DagRoutingMissing
            | Error::TimeoutMissing
            | Error::InvalidTimeout
            | Error::DagUnexpectedArgument(_)
            | Error::DagNoKeyword
            | Error::DagEmpty
    )
}

/// The names at `positions`.
fn names_at<'a>(argv: &[&'a [u8]], positions: &[usize]) -> Vec<&'a [u8]> {
    positions.iter().map(|&i| argv[i]).collect()
}

// Properties

proptest! {
    #![proptest_config(config())]

    #[test]
    fn tensorset_never_panics(
        argv in commands("AI.TENSORSET", TENSOR_WORDS, tensorset_op(key_name().boxed())),
        limit in prop_oneof![9 => Just(1u64 << 20), 1 => Just(0u64)],
    ) {
        let argv = refs(&argv);
        check(&argv, &tensorset_arity(&argv))?;
        let result = parse_tensorset(&argv, || limit);
        check(&argv, &result)?;
        if let Ok(t) = result {
            prop_assert!(argv.len() >= 4);
            prop_assert_eq!(Ok(t.dtype()), DType::parse(argv[2]));
            prop_assert!(t.shape().iter().all(|&d| d > 0));
            prop_assert_eq!(t.values().count(), t.len());
            // What the AOF rewrite and the replication of outputs write parses back to it.
            let command = tensorset_command(argv[1], &t);
            prop_assert_eq!(parse_tensorset(&command.argv(), || limit), Ok(t), "{}", show(&argv));
        }
    }

    #[test]
    fn tensorget_never_panics(argv in commands("AI.TENSORGET", TENSOR_WORDS, tensorget_op(key_name().boxed()))) {
        let argv = refs(&argv);
        let arity = tensorget_arity(&argv);
        check(&argv, &arity)?;
        let format = parse_tensorget_format(argv.get(2..).unwrap_or_default());
        check(&argv, &format)?;
        if let Ok(f) = format {
            prop_assert!(f.meta || f.data.is_some());
        }
    }

    #[test]
    fn modelstore_never_panics(
        argv in commands("AI.MODELSTORE", MODEL_WORDS, modelstore_template()),
        chunk in prop_oneof![Just(1usize), Just(3), Just(1 << 20)],
    ) {
        let argv = refs(&argv);
        let result = parse_modelstore(&argv);
        check(&argv, &result)?;
        if let Ok(m) = result {
            prop_assert_eq!(m.key, argv[1]);
            prop_assert!(!m.blob.is_empty());
            prop_assert_eq!(m.backend == Backend::Tf, !m.inputs.is_empty());
            prop_assert_eq!(m.backend == Backend::Tf, !m.outputs.is_empty());
            prop_assert!(m.minbatchsize == 0 || m.batchsize > 0);
            prop_assert!(m.minbatchtimeout == 0 || m.minbatchsize > 0);
            prop_assert!(m.device.as_str().len() <= 9);
            let len = m.blob_len();
            let record = m.into_record();
            prop_assert_eq!(record.blob.len(), len);
            // The AOF rewrite, in chunks of any MODEL_CHUNK_SIZE, replays to the same record.
            let command = modelstore_command(argv[1], &record, chunk);
            let replayed = parse_modelstore(&command.argv()).map(|m| m.into_record());
            prop_assert_eq!(replayed, Ok(record), "{}", show(&argv));
        }
    }

    #[test]
    fn modelset_never_panics(argv in commands("AI.MODELSET", MODEL_WORDS, modelset_template())) {
        let argv = refs(&argv);
        let result = parse_modelset(&argv);
        check(&argv, &result)?;
        if let Ok(m) = result {
            prop_assert_eq!(m.key, argv[1]);
            prop_assert!(!m.blob.is_empty());
            prop_assert!(m.backend == Backend::Tf || (m.inputs.is_empty() && m.outputs.is_empty()));
            prop_assert!(m.minbatchsize == 0 || m.batchsize > 0);
            prop_assert!(m.minbatchtimeout == 0 || m.minbatchsize > 0);
            prop_assert!(m.backend != Backend::TfLite || m.batchsize == 0);
        }
    }

    #[test]
    fn modelget_del_scan_never_panic(
        argv in commands("AI.MODELGET", MODEL_WORDS, (key_name(), vec(select(vec!["META", "BLOB", "FOO"]), 0..3))
            .prop_map(|(k, opts)| join(vec![vec![bytes("AI.MODELGET"), k], toks(&opts)])).boxed()),
    ) {
        let argv = refs(&argv);
        let result = parse_modelget(&argv);
        check(&argv, &result)?;
        if let Ok(args) = result {
            prop_assert!(args.meta || args.blob);
        }
        check(&argv, &modeldel_arity(&argv))?;
        check(&argv, &modelscan_arity(&argv))?;
    }

    /// AI.MODELEXECUTE against models of 0 to 4 inputs and outputs; what it accepts has the
    /// model's counts and exactly the key positions `keys::modelexecute` reports.
    #[test]
    fn modelexecute_never_panics(
        argv in commands("AI.MODELEXECUTE", MODEL_WORDS, modelexecute_op(key_name().boxed())),
        counts in prop_oneof![
            4 => (0usize..5, 0usize..5),
            1 => select(vec![(usize::MAX, 1usize), (1, usize::MAX), (usize::MAX, usize::MAX)]),
        ],
        matched in any::<bool>(),
    ) {
        let argv = refs(&argv);
        let (mut ni, mut no) = counts;
        if matched {
            // The counts the command gives, so that the deep rows are reached.
            let given = |i: usize| argv.get(i).and_then(|a| std::str::from_utf8(a).ok()?.parse::<usize>().ok());
            ni = given(3).unwrap_or(ni);
            no = given(ni.saturating_add(5)).unwrap_or(no);
        }
        check(&argv, &modelexecute_arity(&argv))?;
        let result = parse_modelexecute(&argv, ni, no);
        check(&argv, &result)?;
        let positions = keys::modelexecute(&argv);
        check_positions(&argv, &positions)?;
        if let Ok(args) = &result {
            prop_assert_eq!(args.inputs.len(), ni);
            prop_assert_eq!(args.outputs.len(), no);
            prop_assert!(args.timeout_ms.is_none_or(|t| t > 0));
            let expected: Vec<usize> = std::iter::once(1)
                .chain(4..4 + ni)
                .chain(6 + ni..6 + ni + no)
                .collect();
            prop_assert_eq!(&positions, &expected);
        }
        // Malformed (refused with the counts the command gives): the model key alone.
        if matched && result.is_err() {
            prop_assert_eq!(&positions, &first_key(&argv), "{}", show(&argv));
        }
        // Never more than the model key unless the parser accepts the lists as given.
        if positions.len() > 1 {
            let given = |i: usize| std::str::from_utf8(argv[i]).ok()?.parse::<usize>().ok();
            let n = given(3).unwrap_or(0);
            let m = given(n + 5).unwrap_or(0);
            let args = parse_modelexecute(&argv, n, m);
            prop_assert!(args.is_ok(), "keys {:?} of a refused command: {}", positions, show(&argv));
            let args = args.unwrap();
            let names: Vec<&[u8]> = args.inputs.iter().chain(&args.outputs).copied().collect();
            prop_assert_eq!(names_at(&argv, &positions[1..]), names);
        }
    }

    /// AI.MODELRUN likewise; the keys it reports include the model and every input and output.
    #[test]
    fn modelrun_never_panics(
        argv in commands("AI.MODELRUN", MODEL_WORDS, modelrun_op(key_name().boxed())),
        counts in (0usize..5, 0usize..5),
        matched in any::<bool>(),
    ) {
        let argv = refs(&argv);
        let (mut ni, mut no) = counts;
        if matched && argv.len() >= 6 {
            // The counts the command gives (as the grammar splits it).
            let start = if argv[2].eq_ignore_ascii_case(b"TIMEOUT") { 4 } else { 2 };
            if let Some(keys) = argv.get(start + 1..) {
                match keys.iter().position(|a| a.eq_ignore_ascii_case(b"OUTPUTS")) {
                    Some(at) => (ni, no) = (at, keys.len() - at - 1),
                    None => (ni, no) = (keys.len(), 0),
                }
            }
        }
        check(&argv, &modelrun_arity(&argv))?;
        let result = parse_modelrun(&argv, ni, no);
        check(&argv, &result)?;
        let positions = keys::modelrun(&argv);
        check_positions(&argv, &positions)?;
        if let Ok(args) = &result {
            prop_assert_eq!(args.inputs.len(), ni);
            prop_assert_eq!(args.outputs.len(), no);
            prop_assert!(args.timeout_ms.is_none_or(|t| t > 0));
            if ni > 0 && no > 0 {
                let start = if args.timeout_ms.is_some() { 4 } else { 2 };
                let expected: Vec<usize> = std::iter::once(1)
                    .chain(start + 1..start + 1 + ni)
                    .chain(start + 2 + ni..argv.len())
                    .collect();
                prop_assert_eq!(&positions, &expected, "{}", show(&argv));
            }
        }
        // Malformed (refused with the counts the command gives): the model key alone.
        if matched && result.is_err() {
            prop_assert_eq!(&positions, &first_key(&argv), "{}", show(&argv));
        }
        // Never more than the model key unless the parser accepts the lists as given.
        if positions.len() > 1 {
            let start = if argv[2].eq_ignore_ascii_case(b"TIMEOUT") { 4 } else { 2 };
            let at = (start + 1..argv.len()).find(|&j| argv[j].eq_ignore_ascii_case(b"OUTPUTS"));
            prop_assert!(at.is_some(), "{}", show(&argv));
            let at = at.unwrap();
            let args = parse_modelrun(&argv, at - start - 1, argv.len() - at - 1);
            prop_assert!(args.is_ok(), "keys {:?} of a refused command: {}", positions, show(&argv));
            let args = args.unwrap();
            let names: Vec<&[u8]> = args.inputs.iter().chain(&args.outputs).copied().collect();
            prop_assert_eq!(names_at(&argv, &positions[1..]), names);
        }
    }

    #[test]
    fn config_and_info_never_panic(
        argv in commands("AI.CONFIG", ADMIN_WORDS, config_template()),
        info in commands("AI.INFO", ADMIN_WORDS, (key_name(), proptest::option::of(Just("RESETSTAT")))
            .prop_map(|(k, r)| join(vec![vec![bytes("AI.INFO"), k], r.map(|r| toks(&[r])).unwrap_or_default()])).boxed()),
    ) {
        let argv = refs(&argv);
        let result = parse_config(&argv);
        check(&argv, &result)?;
        if let Ok(ConfigCmd::ModelChunkSize(n)) = result {
            prop_assert!(n > 0 && n <= i64::MAX as u64);
        }
        let info = refs(&info);
        let result = parse_info(&info);
        check(&info, &result)?;
        if let Ok(args) = result {
            prop_assert_eq!(args.key, info[1]);
        }
    }

    #[test]
    fn module_args_never_panic(
        args in prop_oneof![
            vec(token(&MODULE_KEYS), 0..30),
            vec((keyword(&MODULE_KEYS), prop_oneof![number(), Just(bytes("/x/b.so")), Just(Vec::new())]), 0..8)
                .prop_map(|pairs| pairs.into_iter().flat_map(|(k, v)| [k, v]).collect()),
        ],
    ) {
        let argv = refs(&args);
        let result = parse_module_args(&argv);
        check(&argv, &result)?;
        if let Ok((config, log)) = result {
            prop_assert_eq!(argv.len() % 2, 0);
            prop_assert_eq!(log.len(), argv.len() / 2);
            prop_assert!(config.threads_per_queue >= 1);
            prop_assert!(config.model_chunk_size >= 1);
            prop_assert!(config.model_execution_timeout >= 1000);
            prop_assert!(config.backends.iter().all(|(_, path)| !path.is_empty()));
        }
    }

    /// DAGs: never a panic; an accepted plan is consistent, and every key it opens is among the
    /// keys `keys::dag` reports.
    #[test]
    fn dag_never_panics((command, argv) in dag_commands()) {
        let argv = refs(&argv);
        let mut keyspace = keyspace();
        let result = parse_dag(command, &argv, &mut keyspace);
        let positions = keys::dag(command, &argv);
        check_positions(&argv, &positions)?;
        match result {
            Err(e) => {
                // Malformed options or split (errors the keyspace plays no part in): no key.
                // An op's TIMEOUT is refused with the same texts as the DAG's.
                let op_timeout = argv.iter().skip_while(|a| **a != b"|>").any(|a| a.eq_ignore_ascii_case(b"TIMEOUT"));
                let timeout_error = matches!(e, Error::TimeoutMissing | Error::InvalidTimeout);
                if is_header_error(command, &e) && !(op_timeout && timeout_error) {
                    prop_assert!(positions.is_empty(), "{:?} of a malformed DAG ({}): {}", positions, e, show(&argv));
                }
                check(&argv, &Err::<(), _>(e))?
            }
            Ok(plan) => {
                prop_assert_eq!(plan.command, command);
                prop_assert!(!plan.ops.is_empty());
                prop_assert!(plan.timeout.is_none_or(|t| !t.is_zero()));
                let loaded = plan.slots.iter().filter(|s| matches!(s, SlotSource::Loaded(_))).count();
                prop_assert_eq!(loaded, keyspace.tensors_read.len());
                for op in &plan.ops {
                    match op {
                        DagOp::TensorSet { output } => {
                            prop_assert!(matches!(plan.slots.get(*output), Some(SlotSource::Set(_))));
                        }
                        DagOp::TensorGet { input, format } => {
                            prop_assert!(*input < plan.slots.len());
                            prop_assert!(format.meta || format.data.is_some());
                        }
                        DagOp::ModelExecute { model, inputs, outputs } => {
                            prop_assert_eq!(inputs.len(), model.input_count());
                            prop_assert_eq!(outputs.len(), model.output_count());
                            for o in outputs {
                                prop_assert!(matches!(plan.slots.get(*o), Some(SlotSource::Produced)));
                                prop_assert!(inputs.iter().all(|i| i < o), "an input resolved after an output");
                            }
                        }
                        DagOp::ScriptExecute { inputs, outputs, .. } => {
                            prop_assert!(!command.read_only() || command.deprecated());
                            for o in outputs {
                                prop_assert!(matches!(plan.slots.get(*o), Some(SlotSource::Produced)));
                                prop_assert!(inputs.iter().all(|i| i < o), "an input resolved after an output");
                            }
                        }
                        DagOp::Text { inputs, outputs, .. } => {
                            prop_assert!(!command.deprecated());
                            for o in outputs {
                                prop_assert!(matches!(plan.slots.get(*o), Some(SlotSource::Produced)));
                                prop_assert!(inputs.iter().all(|i| i < o), "an input resolved after an output");
                            }
                        }
                    }
                }
                prop_assert!(plan.persist.iter().all(|(_, slot)| *slot < plan.slots.len()));
                prop_assert!(!command.read_only() || plan.persist.is_empty());
                let reported = names_at(&argv, &positions);
                let opened = keyspace.tensors_read.iter()
                    .chain(&keyspace.models_read)
                    .chain(&keyspace.scripts_read)
                    .chain(plan.persist.iter().map(|(k, _)| k));
                for key in opened {
                    prop_assert!(
                        reported.contains(&key.as_slice()),
                        "key {:?} not reported by keys::dag {:?}: {}", String::from_utf8_lossy(key), positions, show(&argv)
                    );
                }
            }
        }
    }

    /// Key positions of any command, whatever its name.
    #[test]
    fn key_positions_never_panic(
        argv in prop_oneof![
            soup("AI.MODELEXECUTE", MODEL_WORDS),
            soup("AI.DAGEXECUTE", DAG_WORDS),
            dag_commands().prop_map(|(_, argv)| argv),
            commands("AI.MODELRUN", MODEL_WORDS, modelrun_op(key_name().boxed())),
            commands("AI.MODELEXECUTE", MODEL_WORDS, modelexecute_op(key_name().boxed())),
            soup("AI.SCRIPTEXECUTE", SCRIPT_WORDS),
            commands("AI.SCRIPTEXECUTE", SCRIPT_WORDS, scriptexecute_op(key_name().boxed(), key_name().boxed(), key_name().boxed())),
            commands("AI.SCRIPTRUN", SCRIPT_WORDS, scriptrun_op(key_name().boxed(), key_name().boxed(), key_name().boxed())),
        ],
    ) {
        let argv = refs(&argv);
        for positions in [
            keys::modelexecute(&argv),
            keys::modelrun(&argv),
            keys::scriptexecute(&argv),
            keys::scriptrun(&argv),
            keys::dag(DagCommand::Execute, &argv),
            keys::dag(DagCommand::ExecuteRo, &argv),
            keys::dag(DagCommand::Run, &argv),
            keys::dag(DagCommand::RunRo, &argv),
        ] {
            check_positions(&argv, &positions)?;
        }
    }

    /// AI.SCRIPTSTORE and AI.SCRIPTSET: what they accept is consistent, and its AOF rewrite
    /// replays (through the grammar it names) to the same record.
    #[test]
    fn scriptstore_never_panics(
        argv in prop_oneof![
            commands("AI.SCRIPTSTORE", SCRIPT_WORDS, scriptstore_template()),
            commands("AI.SCRIPTSET", SCRIPT_WORDS, scriptset_template()),
        ],
    ) {
        let argv = refs(&argv);
        for (set, result) in [(false, parse_scriptstore(&argv)), (true, parse_scriptset(&argv))] {
            check(&argv, &result)?;
            let Ok(args) = result else { continue };
            prop_assert_eq!(args.key, argv[1]);
            let min_argc = if set { 5 } else { 8 };
            prop_assert!(argv.len() >= min_argc);
            prop_assert!(!set || args.entry_points.is_empty());
            let record = args.into_record();
            prop_assert!(!record.device.contains('\0') && !record.source.contains(&0));
            let command = scriptstore_command(argv[1], &record);
            let replay = command.argv();
            let replayed = if record.entry_points.is_empty() {
                parse_scriptset(&replay)
            } else {
                parse_scriptstore(&replay)
            };
            prop_assert_eq!(replayed.map(|r| r.into_record()), Ok(record), "AOF of {}", show(&argv));
        }
    }

    #[test]
    fn scriptget_del_scan_never_panic(
        argv in commands("AI.SCRIPTGET", SCRIPT_WORDS, (key_name(), vec(select(vec!["META", "SOURCE", "FOO"]), 0..3))
            .prop_map(|(k, opts)| join(vec![vec![bytes("AI.SCRIPTGET"), k], toks(&opts)])).boxed()),
    ) {
        let argv = refs(&argv);
        let result = parse_scriptget(&argv);
        check(&argv, &result)?;
        if let Ok(args) = result {
            prop_assert_eq!(args.key, argv[1]);
            let has = |o: &[u8]| argv[2..].iter().any(|a| a.eq_ignore_ascii_case(o));
            prop_assert_eq!(args.reply == ScriptGetReply::Source, has(b"SOURCE") && !has(b"META"));
        }
        check(&argv, &scriptdel_arity(&argv))?;
        check(&argv, &scriptscan_arity(&argv))?;
    }

    /// AI.SCRIPTEXECUTE, standalone and as a DAG op: what it accepts is consistent, and
    /// `keys::scriptexecute` reports exactly the script, its KEYS, INPUTS and OUTPUTS.
    #[test]
    fn scriptexecute_never_panics(
        argv in commands("AI.SCRIPTEXECUTE", SCRIPT_WORDS, scriptexecute_op(key_name().boxed(), key_name().boxed(), key_name().boxed())),
    ) {
        let argv = refs(&argv);
        check(&argv, &scriptexecute_arity(&argv))?;
        let positions = keys::scriptexecute(&argv);
        check_positions(&argv, &positions)?;
        if parse_scriptexecute(&argv, false).is_err() {
            prop_assert_eq!(&positions, &first_key(&argv), "{}", show(&argv));
        }
        for in_dag in [false, true] {
            let result = parse_scriptexecute(&argv, in_dag);
            check(&argv, &result)?;
            let Ok(args) = result else { continue };
            prop_assert!(argv.len() >= 3);
            prop_assert_eq!((args.key, args.function), (argv[1], argv[2]));
            prop_assert!(args.timeout_ms.is_none_or(|t| t > 0));
            prop_assert!(!in_dag || args.timeout_ms.is_none());
            // Inside a DAG the script's keys are the DAG's (`keys::dag`).
            if in_dag {
                continue;
            }
            let opened: Vec<&[u8]> = std::iter::once(args.key)
                .chain(args.keys.iter().chain(&args.inputs).chain(&args.outputs).copied())
                .collect();
            prop_assert_eq!(positions.len(), opened.len(), "{:?}: {}", positions, show(&argv));
            let reported = names_at(&argv, &positions);
            for key in opened {
                prop_assert!(
                    reported.contains(&key),
                    "key {:?} not reported by keys::scriptexecute {:?}: {}",
                    String::from_utf8_lossy(key), positions, show(&argv)
                );
            }
            // Every token is the key, the function, a keyword, a count or a list member.
            let items = args.keys.len() + args.inputs.len() + args.args.len() + args.outputs.len();
            prop_assert!(argv.len() >= 3 + items);
        }
    }

    /// AI.SCRIPTRUN likewise with `keys::scriptrun`.
    #[test]
    fn scriptrun_never_panics(
        argv in commands("AI.SCRIPTRUN", SCRIPT_WORDS, scriptrun_op(key_name().boxed(), key_name().boxed(), key_name().boxed())),
    ) {
        let argv = refs(&argv);
        check(&argv, &scriptrun_arity(&argv))?;
        let positions = keys::scriptrun(&argv);
        check_positions(&argv, &positions)?;
        if parse_scriptrun(&argv, false).is_err() {
            prop_assert_eq!(&positions, &first_key(&argv), "{}", show(&argv));
        }
        for in_dag in [false, true] {
            let result = parse_scriptrun(&argv, in_dag);
            check(&argv, &result)?;
            let Ok(args) = result else { continue };
            prop_assert_eq!((args.key, args.function), (argv[1], argv[2]));
            prop_assert!(args.keys.is_empty() && args.args.is_empty());
            prop_assert!(!in_dag || args.timeout_ms.is_none());
            if in_dag {
                continue;
            }
            let opened: Vec<&[u8]> = std::iter::once(args.key)
                .chain(args.inputs.iter().chain(&args.outputs).copied())
                .collect();
            prop_assert_eq!(positions.len(), opened.len(), "{:?}: {}", positions, show(&argv));
            let reported = names_at(&argv, &positions);
            for key in opened {
                prop_assert!(reported.contains(&key), "key {:?} not reported: {}", String::from_utf8_lossy(key), show(&argv));
            }
        }
    }

    /// The batching policy over random queues and pushes.
    #[test]
    fn batching_policy_loses_nothing(
        (params, initial, steps) in vec(batch_params(), 1..3).prop_flat_map(|params| {
            let n = params.len();
            (
                Just(params),
                vec(request_spec(n), 0..12),
                vec(prop_oneof![3 => (0u64..40).prop_map(Step::Take), 1 => request_spec(n).prop_map(Step::Push)], 0..24),
            )
        }),
    ) {
        let base = Instant::now();
        let mut clock = 0u64; // ms since base
        let mut next_id = 0;
        let mut pushed = Vec::new();
        let mut ran: Vec<usize> = Vec::new();
        let mut make = |spec: &RequestSpec, clock: u64| {
            let (model, inputs, offset) = spec.clone();
            let r = FakeRequest {
                id: next_id,
                model: model.map(|m| (m, params[m])),
                inputs,
                // Initial requests were queued at any time in the last 100 ms; pushed ones now.
                at: base + Duration::from_millis(clock.saturating_sub(offset)),
            };
            next_id += 1;
            r
        };
        let mut queue: VecDeque<FakeRequest> = VecDeque::new();
        clock += 100;
        for spec in &initial {
            let r = make(spec, clock);
            pushed.push(r.id);
            queue.push_back(r);
        }
        let far_future = steps.len() as u64 * 40 + 10_000;
        let steps = steps.into_iter().chain((0..initial.len() + 30).map(|_| Step::Take(far_future)));
        for step in steps {
            match step {
                Step::Push(spec) => {
                    let mut r = make(&spec, clock);
                    r.at = base + Duration::from_millis(clock);
                    pushed.push(r.id);
                    queue.push_back(r);
                }
                Step::Take(advance) => {
                    clock += advance;
                    let now = base + Duration::from_millis(clock);
                    let before = queue.clone();
                    let next = take_next(&mut queue, now);
                    check_decision(&before, &queue, &next, now)?;
                    match next {
                        Next::Run(items) => ran.extend(items.iter().map(|r| r.id)),
                        Next::Wait(Some(deadline)) => {
                            // The deadline is honest: just past it, something runs.
                            let mut copy = queue.clone();
                            let later = deadline + Duration::from_millis(1);
                            let next = take_next(&mut copy, later);
                            prop_assert!(matches!(next, Next::Run(_)), "nothing runs after the deadline: {:?}", next);
                        }
                        Next::Wait(None) | Next::Empty => {}
                    }
                }
            }
        }
        // Everything pushed either ran once or is still queued; what is left can only be
        // waiting forever (MINBATCHSIZE never reached, no MINBATCHTIMEOUT).
        let mut all: Vec<usize> = ran.iter().copied().chain(queue.iter().map(|r| r.id)).collect();
        all.sort_unstable();
        prop_assert_eq!(all, pushed);
        for r in &queue {
            prop_assert!(batchable(r));
            prop_assert_eq!(r.model.map(|(_, p)| p.minbatchtimeout_ms), Some(0), "request {} starves", r.id);
        }
    }
}

/// AI.MODELRUN takes every token after the first OUTPUTS as an output key, a later `OUTPUTS`
/// (any case) included; `keys::modelrun` once skipped every `OUTPUTS` token, so such an output
/// key was written without being reported to Redis (cluster slot checks, ACL key patterns,
/// COMMAND GETKEYS). RedisAI's key-position callback has that gap.
#[test]
fn regression_modelrun_reports_an_output_key_named_outputs() {
    let argv: Vec<&[u8]> = vec![
        b"AI.MODELRUN",
        b"m",
        b"INPUTS",
        b"a",
        b"OUTPUTS",
        b"outputs",
    ];
    let args = parse_modelrun(&argv, 1, 1).unwrap();
    assert_eq!(args.outputs, vec![&b"outputs"[..]]);
    assert_eq!(keys::modelrun(&argv), vec![1, 3, 5]);
}

/// `AI.MODELEXECUTE m{1} TIMEOUT 1000 INPUTS 2 a{1} b{1} OUTPUTS 1 c{1}` (TIMEOUT in the wrong
/// place) once reported `INPUTS`, `2`, `OUTPUTS` and `1` as keys (1000 read as the input count),
/// so a cluster answered CROSSSLOT instead of the command's own `INPUTS not specified`.
#[test]
fn regression_malformed_modelexecute_reports_the_model_key_alone() {
    let line = "AI.MODELEXECUTE m{1} TIMEOUT 1000 INPUTS 2 a{1} b{1} OUTPUTS 1 c{1}";
    let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
    assert_eq!(keys::modelexecute(&argv), vec![1]);
    assert_eq!(
        parse_modelexecute(&argv, 2, 1).err(),
        Some(Error::InputsNotSpecified)
    );
}

/// A BATCHSIZE of 2^63 or more (an RDB or RESTORE payload can carry any u64; commands stop at
/// i64::MAX) makes the group-building guard `total.saturating_add(size) <= batchsize` always
/// true, so `total += size` overflows once the rows pass u64::MAX: a panic in debug builds
/// (`attempt to add with overflow`, engine/src/batching.rs), a wrapped total in release, where the
/// batch then fails in `concat`. The rows need requests whose dim 0 is near i64::MAX (tensors
/// with a 0 dim after the first, e.g. [i64::MAX, 0], also loadable from RDB).
#[test]
fn regression_take_next_overflows_past_u64_rows() {
    let t = Instant::now();
    let params = BatchParams {
        batchsize: u64::MAX,
        minbatchsize: 0,
        minbatchtimeout_ms: 0,
    };
    let request = |id, dim0| FakeRequest {
        id,
        model: Some((0, params)),
        inputs: vec![(DType::Float, vec![dim0, 0])],
        at: t,
    };
    let mut queue: VecDeque<FakeRequest> =
        [request(0, i64::MAX), request(1, i64::MAX), request(2, 2)].into();
    let Next::Run(batch) = take_next(&mut queue, t) else {
        panic!("a batch runs");
    };
    let rows: u128 = batch.iter().map(|r| u128::from(rows(r))).sum();
    assert!(rows <= u128::from(u64::MAX));
}
