//! The plans of the single-op commands: AI.MODELEXECUTE / AI.MODELRUN and AI.SCRIPTEXECUTE /
//! AI.SCRIPTRUN are one-op DAGs. Their inputs are loaded tensors, their outputs produced slots
//! persisted under the OUTPUTS keys, and the plan answers as a single command
//! ([`PlanReply::Single`]). They run through the same executor as every DAG (`exec`), whose
//! fast path takes a lone ready op straight to its queue.

use std::sync::Arc;
use std::time::Duration;

use redisai_backend_api::ScriptHost;
use redisai_core::Tensor;

use super::{DagCommand, DagOp, DagPlan, PlanReply, Slot, SlotSource};
use crate::model::Model;
use crate::script::Script;

/// What a script call needs besides its tensors.
pub struct ScriptInvocation {
    pub script: Arc<Script>,
    pub function: String,
    pub keys: Vec<Vec<u8>>,
    pub args: Vec<Vec<u8>>,
    /// Serves the script's Redis and model calls.
    pub host: Arc<dyn ScriptHost + Send + Sync>,
}

/// The tensors of a single op: the loaded inputs' slots, then the outputs', and the PERSIST
/// list of the output keys.
struct Io {
    slots: Vec<SlotSource>,
    inputs: Vec<Slot>,
    outputs: Vec<Slot>,
    persist: Vec<(Vec<u8>, Slot)>,
}

impl Io {
    fn new(inputs: Vec<Arc<Tensor>>, outputs: Vec<Vec<u8>>) -> Io {
        let n = inputs.len();
        let mut slots: Vec<SlotSource> = inputs.into_iter().map(SlotSource::Loaded).collect();
        let output_slots: Vec<Slot> = (n..n + outputs.len()).collect();
        slots.extend(outputs.iter().map(|_| SlotSource::Produced));
        Io {
            slots,
            inputs: (0..n).collect(),
            persist: outputs
                .into_iter()
                .zip(output_slots.iter().copied())
                .collect(),
            outputs: output_slots,
        }
    }

    /// The plan of the op `op` builds from these inputs and outputs.
    fn plan(
        self,
        op: impl FnOnce(Vec<Slot>, Vec<Slot>) -> DagOp,
        timeout: Option<Duration>,
    ) -> DagPlan {
        DagPlan {
            command: DagCommand::Execute,
            reply: PlanReply::Single,
            ops: vec![op(self.inputs, self.outputs)],
            slots: self.slots,
            persist: self.persist,
            timeout,
        }
    }
}

/// AI.MODELEXECUTE: run `model` on `inputs`, store its outputs at the `outputs` keys.
pub fn model_plan(
    model: Arc<Model>,
    inputs: Vec<Arc<Tensor>>,
    outputs: Vec<Vec<u8>>,
    timeout: Option<Duration>,
) -> DagPlan {
    let op = |inputs, outputs| DagOp::ModelExecute {
        model,
        inputs,
        outputs,
    };
    Io::new(inputs, outputs).plan(op, timeout)
}

/// AI.SCRIPTEXECUTE: call a script function on `inputs`, store what it returns at the
/// `outputs` keys.
pub fn script_plan(
    call: ScriptInvocation,
    inputs: Vec<Arc<Tensor>>,
    outputs: Vec<Vec<u8>>,
    timeout: Option<Duration>,
) -> DagPlan {
    let op = |inputs, outputs| DagOp::ScriptExecute {
        script: call.script,
        function: call.function,
        keys: call.keys,
        args: call.args,
        inputs,
        outputs,
        host: call.host,
    };
    Io::new(inputs, outputs).plan(op, timeout)
}

/// AI.TOKENIZE, AI.POOL, AI.EMBED: run a text op on `inputs`, store its outputs at the
/// `outputs` keys.
pub fn text_plan(
    op: crate::text::TextOp,
    inputs: Vec<Arc<Tensor>>,
    outputs: Vec<Vec<u8>>,
    timeout: Option<Duration>,
) -> DagPlan {
    let op = |inputs, outputs| DagOp::Text {
        op,
        inputs,
        outputs,
    };
    Io::new(inputs, outputs).plan(op, timeout)
}
