//! Checks an imported graph against the policy (`policy.rs`): every operation of the graph and
//! every node of every function of its library.

use prost::Message;
use redisai_backend_api::sandbox::{forbidden_operator, CodeKind};

use crate::policy::operator_allowed;
use crate::tf::Graph;

/// The parts of `tensorflow.FunctionDef` (function.proto) the check reads.
#[derive(Clone, PartialEq, Message)]
pub struct FunctionDef {
    #[prost(message, repeated, tag = "3")]
    pub node_def: Vec<NodeDef>,
}

/// The parts of `tensorflow.NodeDef` (node_def.proto) the check reads.
#[derive(Clone, PartialEq, Message)]
pub struct NodeDef {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub op: String,
}

/// `tensorflow.OpList` (op_def.proto), as `TF_GetAllOpList` returns it.
#[derive(Clone, PartialEq, Message)]
pub struct OpList {
    #[prost(message, repeated, tag = "1")]
    pub op: Vec<OpDef>,
}

/// The parts of `tensorflow.OpDef` the backend's tests read.
#[derive(Clone, PartialEq, Message)]
pub struct OpDef {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, repeated, tag = "2")]
    pub input_arg: Vec<ArgDef>,
    #[prost(message, repeated, tag = "4")]
    pub attr: Vec<ArgDef>,
}

/// The name of an `OpDef.ArgDef` or `OpDef.AttrDef`.
#[derive(Clone, PartialEq, Message)]
pub struct ArgDef {
    #[prost(string, tag = "1")]
    pub name: String,
}

/// `Err` with the policy's reply when the graph uses an op type outside the policy.
pub fn check(graph: &Graph) -> Result<(), String> {
    let refuse = |op: &str| Err(forbidden_operator(CodeKind::Model, op));
    for op in graph.op_types() {
        if !operator_allowed(&op) {
            return refuse(&op);
        }
    }
    for bytes in graph.function_defs()? {
        let function = FunctionDef::decode(bytes.as_slice())
            .map_err(|e| format!("ERR TF returned a malformed function: {e}"))?;
        if let Some(node) = function.node_def.iter().find(|n| !operator_allowed(&n.op)) {
            return refuse(&node.op);
        }
    }
    Ok(())
}

/// Every op TensorFlow registers (for the backend's tests of the policy).
pub fn registered_ops() -> Vec<OpDef> {
    OpList::decode(crate::tf::all_ops().as_slice())
        .map(|list| list.op)
        .unwrap_or_default()
}
