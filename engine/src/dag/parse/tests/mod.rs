//! Tables of exact errors (SPEC §3.16, §3.17 and the golden transcripts' DAG sections) and of
//! resolved plans, against an in-memory keyspace with models built through a backend double.

mod errors;
mod plans;

use std::sync::Arc;

use redisai_core::{DType, Result, Tensor};

use super::parse_dag;
use crate::dag::{DagCommand, DagOp, DagPlan, SlotSource};
use crate::testing::{model, registry, script, Keyspace};

fn float(shape: Vec<i64>, values: &[&str]) -> Arc<Tensor> {
    let values: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
    Arc::new(Tensor::from_values(DType::Float, shape, &values).unwrap())
}

/// The keyspace of the golden DAG sections: tensors `ia`, `ib`, `i3`; models `m_tf` and
/// `m_torch` (2 inputs, 1 output), `m1` (1 → 1), `m12` (1 → 2); scripts `s1` (CPU) and `s_gpu`
/// (GPU:0); `plain` holds a string.
fn golden_keyspace() -> Keyspace {
    let registry = registry();
    let entries = ["bar", "bar_variadic", "scale", "two_out"];
    let mut keys = Keyspace::default();
    for (key, shape, values) in [
        ("ia", vec![2, 2], &["2", "3", "2", "3"][..]),
        ("ib", vec![2, 2], &["2", "3", "2", "3"]),
        ("i3", vec![2, 3], &["1", "2", "3", "4", "5", "6"]),
    ] {
        keys.tensors.insert(key.into(), float(shape, values));
    }
    for (key, inputs, outputs) in [
        ("m_tf", 2, 1),
        ("m_torch", 2, 1),
        ("m1", 1, 1),
        ("m12", 1, 2),
    ] {
        keys.models
            .insert(key.into(), model(&registry, b"m", inputs, outputs));
    }
    for (key, device) in [("s1", "CPU"), ("s_gpu", "GPU:0")] {
        keys.scripts.insert(
            key.into(),
            script(&registry, b"s", device, b"st1", &entries),
        );
    }
    keys
}

/// Splits a command on spaces; the DAG command is argv[0].
fn argv(cmd: &str) -> Vec<&[u8]> {
    cmd.split(' ').map(str::as_bytes).collect()
}

fn command(name: &[u8]) -> DagCommand {
    match name.to_ascii_uppercase().as_slice() {
        b"AI.DAGEXECUTE" => DagCommand::Execute,
        b"AI.DAGEXECUTE_RO" => DagCommand::ExecuteRo,
        b"AI.DAGRUN" => DagCommand::Run,
        b"AI.DAGRUN_RO" => DagCommand::RunRo,
        other => panic!("not a DAG command: {}", String::from_utf8_lossy(other)),
    }
}

/// Parses `cmd` against `keys`.
fn parse_with(cmd: &str, keys: &mut Keyspace) -> Result<DagPlan> {
    let argv = argv(cmd);
    parse_dag(command(argv[0]), &argv, keys)
}

/// Parses `cmd` against a fresh [`golden_keyspace`].
fn parse(cmd: &str) -> Result<DagPlan> {
    parse_with(cmd, &mut golden_keyspace())
}

/// A plan in short: slot sources (`L`oaded, `S`et, `P`roduced) and ops.
fn describe(plan: &DagPlan) -> (String, String) {
    let slots: Vec<&str> = plan
        .slots
        .iter()
        .map(|s| match s {
            SlotSource::Loaded(_) => "L",
            SlotSource::Set(_) => "S",
            SlotSource::Produced => "P",
        })
        .collect();
    let ops: Vec<String> = plan
        .ops
        .iter()
        .map(|op| match op {
            DagOp::TensorSet { output } => format!("set {output}"),
            DagOp::TensorGet { input, .. } => format!("get {input}"),
            DagOp::ModelExecute {
                inputs, outputs, ..
            } => format!("model {inputs:?} -> {outputs:?}"),
            DagOp::ScriptExecute {
                function,
                inputs,
                outputs,
                ..
            } => format!("script {function} {inputs:?} -> {outputs:?}"),
            DagOp::Text {
                op,
                inputs,
                outputs,
            } => format!("{} {inputs:?} -> {outputs:?}", op.name()),
        })
        .collect();
    (slots.join(" "), ops.join(" | "))
}
