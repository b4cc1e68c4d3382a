//! Parsed plans: options, op formats and SSA-like tensor versions (SPEC §7).

use std::sync::Arc;
use std::time::Duration;

use redisai_core::Tensor;

use super::{describe, golden_keyspace, parse, parse_with};
use crate::dag::{DagCommand, DagOp, DagPlan, SlotSource};
use crate::tensor_cmd::{DataFormat, GetFormat};

fn plan(cmd: &str) -> DagPlan {
    parse(cmd).unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

fn set_tensor(plan: &DagPlan, slot: usize) -> &Tensor {
    match &plan.slots[slot] {
        SlotSource::Set(t) => t,
        other => panic!("slot {slot} is {other:?}"),
    }
}

#[test]
fn versions_table() {
    // (command, slot sources, ops, PERSIST).
    type Row<'a> = (&'a str, &'a str, &'a str, &'a [(&'a str, usize)]);
    let table: &[Row] = &[
        // Golden, with the script op replaced by a TENSORSET.
        (
            "AI.DAGEXECUTE LOAD 2 ia ib PERSIST 1 dag_out |> AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS 1 tmp |> AI.TENSORSET dag_out FLOAT 1 VALUES 1 |> AI.TENSORGET dag_out VALUES",
            "L L P S",
            "model [0, 1] -> [2] | set 3 | get 3",
            &[("dag_out", 3)],
        ),
        (
            "AI.DAGEXECUTE ROUTING ia |> AI.TENSORSET x FLOAT 2 VALUES 1 2 |> AI.TENSORGET x META BLOB",
            "S",
            "set 0 | get 0",
            &[],
        ),
        (
            "AI.DAGEXECUTE PERSIST 1 dag_p TIMEOUT 5000 |> AI.TENSORSET dag_p INT8 2 VALUES 1 2 |> AI.TENSORGET dag_p META",
            "S",
            "set 0 | get 0",
            &[("dag_p", 0)],
        ),
        (
            "AI.DAGEXECUTE_RO LOAD 1 ia |> AI.TENSORGET ia VALUES |> AI.MODELEXECUTE m_torch INPUTS 2 ia ia OUTPUTS 1 r |> AI.TENSORGET r VALUES",
            "L P",
            "get 0 | model [0, 0] -> [1] | get 1",
            &[],
        ),
        (
            "AI.DAGEXECUTE LOAD 2 ia i3 |> AI.TENSORSET x FLOAT 1 VALUES 1 |> AI.MODELEXECUTE m_torch INPUTS 2 ia i3 OUTPUTS 1 bad |> AI.TENSORGET x VALUES",
            "L L S P",
            "set 2 | model [0, 1] -> [3] | get 2",
            &[],
        ),
        // Re-setting a name: later ops and PERSIST see the newest version.
        (
            "AI.DAGEXECUTE PERSIST 1 x |> AI.TENSORSET x FLOAT 1 VALUES 1 |> AI.TENSORGET x |> AI.TENSORSET x FLOAT 1 VALUES 2 |> AI.TENSORGET x",
            "S S",
            "set 0 | get 0 | set 1 | get 1",
            &[("x", 1)],
        ),
        // An op reading a LOADed tensor and overwriting it: inputs resolve first.
        (
            "AI.DAGEXECUTE LOAD 1 ia PERSIST 1 ia |> AI.TENSORGET ia |> AI.MODELEXECUTE m1 INPUTS 1 ia OUTPUTS 1 ia |> AI.TENSORGET ia",
            "L P",
            "get 0 | model [0] -> [1] | get 1",
            &[("ia", 1)],
        ),
        // A LOADed tensor re-set by a TENSORSET; PERSIST of a LOADed, untouched one.
        (
            "AI.DAGEXECUTE LOAD 2 ia ib PERSIST 2 ib ia |> AI.TENSORSET ia FLOAT 1 |> AI.MODELEXECUTE m12 INPUTS 1 ia OUTPUTS 2 y y |> AI.TENSORGET y",
            "L L S P P",
            "set 2 | model [2] -> [3, 4] | get 4",
            &[("ib", 1), ("ia", 2)],
        ),
        // LOAD of the same key twice.
        (
            "AI.DAGEXECUTE LOAD 2 ia ia |> AI.TENSORGET ia",
            "L L",
            "get 1",
            &[],
        ),
        // Case-insensitive keywords and op names; names themselves are case-sensitive.
        (
            "ai.dagexecute load 1 ia persist 1 IA routing r timeout 1 |> ai.tensorset IA float 1 |> Ai.TensorGet ia values",
            "L S",
            "set 1 | get 0",
            &[("IA", 1)],
        ),
        // Deprecated forms: no keyword needed; MODELRUN ops.
        (
            "AI.DAGRUN |> AI.TENSORSET x FLOAT 1 |> AI.MODELRUN m1 INPUTS x OUTPUTS y |> AI.TENSORGET y",
            "S P",
            "set 0 | model [0] -> [1] | get 1",
            &[],
        ),
        (
            "AI.DAGRUN LOAD 1 ia PERSIST 1 o |> AI.MODELRUN m_tf INPUTS ia ia OUTPUTS o",
            "L P",
            "model [0, 0] -> [1]",
            &[("o", 1)],
        ),
        ("AI.DAGRUN_RO LOAD 1 ia |> AI.TENSORGET ia VALUES", "L", "get 0", &[]),
        // Script ops (golden DAG sections): inputs resolve like a model's, outputs are new
        // versions; KEYS and ARGS are not tensor names.
        (
            "AI.DAGEXECUTE LOAD 2 ia ib PERSIST 1 dag_out |> AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS 1 tmp |> AI.SCRIPTEXECUTE s1 bar INPUTS 2 tmp ia OUTPUTS 1 dag_out |> AI.TENSORGET dag_out VALUES",
            "L L P P",
            "model [0, 1] -> [2] | script bar [2, 0] -> [3] | get 3",
            &[("dag_out", 3)],
        ),
        (
            "AI.DAGEXECUTE LOAD 1 ia PERSIST 1 never |> AI.TENSORSET never FLOAT 1 VALUES 1 |> AI.SCRIPTEXECUTE s1 bar INPUTS 2 ia never OUTPUTS 1 q |> AI.TENSORGET q VALUES",
            "L S P",
            "set 1 | script bar [0, 1] -> [2] | get 2",
            &[("never", 1)],
        ),
        (
            "AI.DAGEXECUTE ROUTING r |> AI.SCRIPTEXECUTE s1 bar KEYS 1 r ARGS 2 x y",
            "",
            "script bar [] -> []",
            &[],
        ),
        (
            "AI.DAGEXECUTE LOAD 1 ia PERSIST 1 ia |> ai.scriptexecute s1 two_out outputs 2 ia o inputs 2 ia ia |> AI.SCRIPTEXECUTE s_gpu scale INPUTS 1 ia OUTPUTS 1 ia",
            "L P P P",
            "script two_out [0, 0] -> [1, 2] | script scale [1] -> [3]",
            &[("ia", 3)],
        ),
        // AI.SCRIPTRUN ops (also in AI.DAGRUN_RO): `$` is skipped.
        (
            "AI.DAGRUN LOAD 1 ia |> AI.SCRIPTRUN s1 bar INPUTS ia $ ia OUTPUTS ia o |> AI.TENSORGET ia",
            "L P P",
            "script bar [0, 0] -> [1, 2] | get 1",
            &[],
        ),
        (
            "AI.DAGRUN_RO |> AI.TENSORSET x FLOAT 1 |> AI.SCRIPTRUN s1 legacy_fn INPUTS x OUTPUTS y",
            "S P",
            "set 0 | script legacy_fn [0] -> [1]",
            &[],
        ),
        ("AI.DAGRUN ROUTING r |> AI.TENSORSET x FLOAT 1", "S", "set 0", &[]),
    ];
    for (cmd, slots, ops, persist) in table {
        let plan = plan(cmd);
        assert_eq!(
            describe(&plan),
            (slots.to_string(), ops.to_string()),
            "{cmd}"
        );
        let expected: Vec<(Vec<u8>, usize)> = persist
            .iter()
            .map(|(k, s)| (k.as_bytes().to_vec(), *s))
            .collect();
        assert_eq!(plan.persist, expected, "{cmd}");
    }
}

#[test]
fn set_tensors_and_formats() {
    let plan = plan(
        "AI.DAGEXECUTE ROUTING r |> AI.TENSORSET x FLOAT 1 VALUES 1 |> AI.TENSORSET x FLOAT 2 VALUES 2 3 |> AI.TENSORGET x |> AI.TENSORGET x META |> AI.TENSORGET x values",
    );
    assert_eq!(set_tensor(&plan, 0).shape(), &[1]);
    assert_eq!(set_tensor(&plan, 1).shape(), &[2]);
    assert_eq!(
        set_tensor(&plan, 1).data(),
        [2f32.to_le_bytes(), 3f32.to_le_bytes()].concat()
    );
    let formats: Vec<GetFormat> = plan
        .ops
        .iter()
        .filter_map(|op| match op {
            DagOp::TensorGet { format, .. } => Some(*format),
            _ => None,
        })
        .collect();
    let format = |meta, data| GetFormat { meta, data };
    assert_eq!(
        formats,
        [
            format(true, Some(DataFormat::Blob)),
            format(true, None),
            format(false, Some(DataFormat::Values)),
        ]
    );
}

#[test]
fn loaded_tensors_and_models_are_shared() {
    let mut keys = golden_keyspace();
    let plan = parse_with(
        "AI.DAGEXECUTE_RO LOAD 1 ia |> AI.MODELEXECUTE m_torch INPUTS 2 ia ia OUTPUTS 1 r",
        &mut keys,
    )
    .unwrap();
    assert_eq!(plan.command, DagCommand::ExecuteRo);
    match &plan.slots[0] {
        SlotSource::Loaded(t) => assert!(Arc::ptr_eq(t, &keys.tensors[&b"ia"[..]])),
        other => panic!("{other:?}"),
    }
    match &plan.ops[0] {
        DagOp::ModelExecute { model, .. } => {
            assert!(Arc::ptr_eq(model, &keys.models[&b"m_torch"[..]]))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(keys.tensors_read, [b"ia".to_vec()]);
}

#[test]
fn script_ops_carry_their_call() {
    let mut keys = golden_keyspace();
    let plan = parse_with(
        "AI.DAGEXECUTE LOAD 2 ia ib |> AI.SCRIPTEXECUTE s1 scale KEYS 2 k1 {k}2 INPUTS 1 ia ARGS 3 3 ia KEYS OUTPUTS 1 o |> AI.SCRIPTEXECUTE s_gpu bar INPUTS 2 o ib |> AI.SCRIPTEXECUTE s1 bar",
        &mut keys,
    )
    .unwrap();
    let ops: Vec<_> = plan
        .ops
        .iter()
        .map(|op| match op {
            DagOp::ScriptExecute {
                script,
                function,
                keys,
                args,
                inputs,
                outputs,
                ..
            } => (
                Arc::clone(script),
                function.as_str(),
                keys.clone(),
                args.clone(),
                inputs.clone(),
                outputs.clone(),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    let bytes = |list: &[&str]| {
        list.iter()
            .map(|a| a.as_bytes().to_vec())
            .collect::<Vec<_>>()
    };
    let (script, function, op_keys, args, inputs, outputs) = &ops[0];
    assert!(Arc::ptr_eq(script, &keys.scripts[&b"s1"[..]]));
    assert_eq!(*function, "scale");
    assert_eq!(*op_keys, bytes(&["k1", "{k}2"]));
    assert_eq!(*args, bytes(&["3", "ia", "KEYS"]));
    assert_eq!(
        (inputs.as_slice(), outputs.as_slice()),
        (&[0][..], &[2][..])
    );
    let (script, function, op_keys, args, inputs, outputs) = &ops[1];
    assert!(Arc::ptr_eq(script, &keys.scripts[&b"s_gpu"[..]]));
    assert_eq!(script.device().as_str(), "GPU:0");
    assert_eq!(*function, "bar");
    assert!(op_keys.is_empty() && args.is_empty() && outputs.is_empty());
    assert_eq!(*inputs, [2, 1]);
    assert_eq!(ops[2].1, "bar");
    // One host per script op, serving that op's KEYS.
    assert_eq!(keys.hosts, [bytes(&["k1", "{k}2"]), Vec::new(), Vec::new()]);
    // The script ops of the plan are worker ops.
    assert!(plan.ops.iter().all(|op| op.worker_io().is_some()));
}

#[test]
fn timeouts() {
    let table: &[(&str, Option<Duration>)] = &[
        ("AI.DAGEXECUTE ROUTING r |> AI.TENSORSET x FLOAT 1", None),
        (
            "AI.DAGEXECUTE ROUTING r TIMEOUT 5000 |> AI.TENSORSET x FLOAT 1",
            Some(Duration::from_secs(5)),
        ),
        // Golden: TIMEOUT 0 is accepted; so is a negative one (RedisAI quirk); both mean none.
        (
            "AI.DAGEXECUTE LOAD 1 ia TIMEOUT 0 |> AI.TENSORGET ia VALUES",
            None,
        ),
        (
            "AI.DAGEXECUTE TIMEOUT -7 ROUTING r |> AI.TENSORSET x FLOAT 1",
            None,
        ),
        ("AI.DAGRUN TIMEOUT -7 |> AI.TENSORSET x FLOAT 1", None),
    ];
    for (cmd, expected) in table {
        assert_eq!(plan(cmd).timeout, *expected, "{cmd}");
    }
}
