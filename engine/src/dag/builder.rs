//! DAGs built op by op, as the C API for other modules builds them (`RedisAI_DAG*`, SPEC §2):
//! tensors loaded by the caller, AI.TENSORSET / AI.TENSORGET ops, model and script ops, and ops
//! parsed from a DAG string with the DAG commands' own op grammar. [`DagBuilder::plan`] resolves
//! the names exactly as a DAG command's are resolved, so a built DAG runs through the same
//! executor (`exec`).

use std::sync::Arc;

use redisai_backend_api::ScriptHost;
use redisai_core::{Error, Result, Tensor};

use super::parse::{parse_op, resolve_built, NamedOp};
use super::{DagCommand, DagKeys, DagOp, DagPlan};
use crate::model::Model;
use crate::script::Script;
use crate::tensor_cmd::GetFormat;

/// Which kind of op an error of [`DagBuilder::add_ops`] came from (the C API reports each
/// kind with its own error code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// The string itself, or an op that is none of the others.
    Dag,
    TensorSet,
    TensorGet,
    Model,
    Script,
}

/// A model or script op being built: its inputs and outputs named one by one.
pub struct RunOpBuilder {
    kind: RunOpKind,
    pub inputs: Vec<Vec<u8>>,
    pub outputs: Vec<Vec<u8>>,
}

enum RunOpKind {
    Model(Arc<Model>),
    Script {
        script: Arc<Script>,
        function: String,
        host: Arc<dyn ScriptHost + Send + Sync>,
    },
}

impl RunOpBuilder {
    /// A model op (inputs and outputs are added by name).
    pub fn model(model: Arc<Model>) -> RunOpBuilder {
        RunOpBuilder {
            kind: RunOpKind::Model(model),
            inputs: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// A call of `function` of `script`, served by `host`.
    pub fn script(
        script: Arc<Script>,
        function: String,
        host: Arc<dyn ScriptHost + Send + Sync>,
    ) -> RunOpBuilder {
        RunOpBuilder {
            kind: RunOpKind::Script {
                script,
                function,
                host,
            },
            inputs: Vec::new(),
            outputs: Vec::new(),
        }
    }
}

/// A DAG under construction.
#[derive(Default)]
pub struct DagBuilder {
    loaded: Vec<(Vec<u8>, Arc<Tensor>)>,
    ops: Vec<NamedOp<Vec<u8>>>,
}

impl DagBuilder {
    pub fn new() -> DagBuilder {
        DagBuilder::default()
    }

    /// Loads `tensor` under `name` (as LOAD does); false when that name is loaded already.
    pub fn load(&mut self, name: &[u8], tensor: Arc<Tensor>) -> bool {
        if self.loaded.iter().any(|(n, _)| n == name) {
            return false;
        }
        self.loaded.push((name.to_vec(), tensor));
        true
    }

    /// An AI.TENSORSET op of `tensor` under `name`.
    pub fn tensor_set(&mut self, name: &[u8], tensor: Arc<Tensor>) {
        self.ops.push(NamedOp::Set {
            name: name.to_vec(),
            tensor,
        });
    }

    /// An AI.TENSORGET op of `name`: an output of the DAG.
    pub fn tensor_get(&mut self, name: &[u8]) {
        self.ops.push(NamedOp::Get {
            name: name.to_vec(),
            format: GetFormat {
                meta: true,
                data: None,
            },
        });
    }

    /// Whether `op` may be added: a model op must name as many inputs and outputs as the model
    /// has (scripts take any number).
    pub fn check_run_op(op: &RunOpBuilder) -> Result<()> {
        if let RunOpKind::Model(model) = &op.kind {
            if op.inputs.len() != model.input_count() {
                return Err(Error::OpInputsMismatch);
            }
            if op.outputs.len() != model.output_count() {
                return Err(Error::OpOutputsMismatch);
            }
        }
        Ok(())
    }

    /// Adds a model or script op that passes [`DagBuilder::check_run_op`].
    pub fn add_run_op(&mut self, op: RunOpBuilder) -> Result<()> {
        DagBuilder::check_run_op(&op)?;
        self.ops.push(match op.kind {
            RunOpKind::Model(model) => NamedOp::Model {
                model,
                inputs: op.inputs,
                outputs: op.outputs,
            },
            RunOpKind::Script {
                script,
                function,
                host,
            } => NamedOp::Script {
                script,
                function,
                keys: Vec::new(),
                args: Vec::new(),
                inputs: op.inputs,
                outputs: op.outputs,
                host,
            },
        });
        Ok(())
    }

    /// Adds the ops of `tokens`, a DAG string split into words (`|> AI.TENSORSET ... |> ...`):
    /// the ops of AI.DAGEXECUTE, each parsed by its own grammar (models and scripts are read
    /// through `keys`). All or nothing: on the first failing op nothing is added.
    pub fn add_ops(
        &mut self,
        tokens: &[&[u8]],
        keys: &mut impl DagKeys,
    ) -> std::result::Result<(), (Error, OpKind)> {
        if tokens.first().copied() != Some(&b"|>"[..]) {
            return Err((Error::DagOpStart, OpKind::Dag));
        }
        let mut parsed = Vec::new();
        for op in tokens[1..].split(|t| *t == &b"|>"[..]) {
            let kind = match op.first().map(|n| n.to_ascii_uppercase()).as_deref() {
                Some(b"AI.TENSORSET") => OpKind::TensorSet,
                Some(b"AI.TENSORGET") => OpKind::TensorGet,
                Some(b"AI.MODELEXECUTE") => OpKind::Model,
                Some(b"AI.SCRIPTEXECUTE") => OpKind::Script,
                _ => OpKind::Dag,
            };
            let named = parse_op(DagCommand::Execute, op, keys).map_err(|e| (e, kind))?;
            parsed.push(named.into_owned());
        }
        self.ops.extend(parsed);
        Ok(())
    }

    /// Number of ops (LOADs are not ops).
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True when there is no op.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The plan to run: `ERR DAG is empty` without ops, `ERR INPUT key cannot be found in DAG`
    /// for an input no earlier op or LOAD names.
    pub fn plan(&self) -> Result<DagPlan> {
        if self.ops.is_empty() {
            return Err(Error::DagEmpty);
        }
        let loaded = self
            .loaded
            .iter()
            .map(|(n, t)| (n.as_slice(), Arc::clone(t)))
            .collect();
        resolve_built(loaded, self.ops.iter().map(NamedOp::borrowed).collect())
    }
}

/// The outputs of a built DAG: the tensor slot each AI.TENSORGET op reads, in op order.
pub fn output_slots(plan: &DagPlan) -> Vec<usize> {
    plan.ops
        .iter()
        .filter_map(|op| match op {
            DagOp::TensorGet { input, .. } => Some(*input),
            _ => None,
        })
        .collect()
}
