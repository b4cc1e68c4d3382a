//! The sandbox policy of ONNX models (docs/security.md): the operator domains a model may use.
//!
//! ONNX Runtime runs the operators of the domains it ships (the standard `ai.onnx` domain,
//! `ai.onnx.ml`, its own `com.microsoft` contrib operators and their layout variants); any other
//! domain only exists when a custom-operator library is registered, which this backend never
//! does. A node of another domain is refused at store time, naming it (`domain:op_type`), unless
//! it calls a function the model defines itself (model-local functions, whose bodies are walked
//! too) or the ALLOW_OPERATORS module argument lists it (`domain:op_type` or just `domain`).
//! The walk covers the main graph, every subgraph (If, Loop, Scan) and every local function.

use std::collections::HashSet;
use std::sync::OnceLock;

use redisai_backend_api::sandbox::{forbidden_operator, CodeKind};

use crate::proto::{Fields, Value};

/// The domains ONNX Runtime implements ("" is `ai.onnx`).
pub const ALLOWED_DOMAINS: &[&str] = &[
    "",
    "ai.onnx",
    "ai.onnx.ml",
    "ai.onnx.preview.training",
    "ai.onnx.training",
    "com.microsoft",
    "com.microsoft.nchwc",
    "com.microsoft.experimental",
    "com.ms.internal.nhwc",
];

/// Nesting deeper than this is not inspected further (ONNX Runtime refuses it anyway).
const MAX_DEPTH: u32 = 64;

// Field numbers, from onnx.proto.
const MODEL_GRAPH: u64 = 7;
const MODEL_FUNCTIONS: u64 = 25;
const GRAPH_NODE: u64 = 1;
const NODE_OP_TYPE: u64 = 4;
const NODE_ATTRIBUTE: u64 = 5;
const NODE_DOMAIN: u64 = 7;
const ATTR_G: u64 = 6;
const ATTR_GRAPHS: u64 = 11;
const FUNCTION_NAME: u64 = 1;
const FUNCTION_NODE: u64 = 7;
const FUNCTION_DOMAIN: u64 = 10;

static ALLOWED_EXTRA: OnceLock<Vec<String>> = OnceLock::new();

/// Sets the ALLOW_OPERATORS list (once per process).
pub fn set_allow_list(names: &[String]) {
    let _ = ALLOWED_EXTRA.set(names.to_vec());
}

fn allowed_by_argument(domain: &str, op_type: &str) -> bool {
    ALLOWED_EXTRA.get().is_some_and(|extra| {
        extra
            .iter()
            .any(|n| n == domain || *n == format!("{domain}:{op_type}"))
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A node's domain and operator.
fn node_id(node: &[u8]) -> (String, String) {
    let (mut domain, mut op_type) = (String::new(), String::new());
    for (field, value) in (Fields { buf: node }) {
        match (field, value) {
            (NODE_DOMAIN, Value::Bytes(b)) => domain = text(b),
            (NODE_OP_TYPE, Value::Bytes(b)) => op_type = text(b),
            _ => {}
        }
    }
    (domain, op_type)
}

struct Walk {
    /// (domain, name) of the model-local functions.
    functions: HashSet<(String, String)>,
}

impl Walk {
    fn check_node(&self, node: &[u8], depth: u32) -> Result<(), String> {
        let (domain, op_type) = node_id(node);
        let known = ALLOWED_DOMAINS.contains(&domain.as_str())
            || self.functions.contains(&(domain.clone(), op_type.clone()))
            || allowed_by_argument(&domain, &op_type);
        if !known {
            return Err(forbidden_operator(
                CodeKind::Model,
                &format!("{domain}:{op_type}"),
            ));
        }
        for (field, value) in (Fields { buf: node }) {
            if let (NODE_ATTRIBUTE, Value::Bytes(attribute)) = (field, value) {
                for (field, value) in (Fields { buf: attribute }) {
                    if let (ATTR_G | ATTR_GRAPHS, Value::Bytes(graph)) = (field, value) {
                        self.check_nodes(graph, GRAPH_NODE, depth + 1)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks the nodes (field `node_field`) of a graph or function message.
    fn check_nodes(&self, message: &[u8], node_field: u64, depth: u32) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Ok(());
        }
        for (field, value) in (Fields { buf: message }) {
            if let (f, Value::Bytes(node)) = (field, value) {
                if f == node_field {
                    self.check_node(node, depth)?;
                }
            }
        }
        Ok(())
    }
}

/// `Err` with the policy's reply when the serialized ModelProto `blob` has a node of an operator
/// domain ONNX Runtime does not ship (and that is not one of its own functions).
pub fn check(blob: &[u8]) -> Result<(), String> {
    let mut functions = HashSet::new();
    let mut bodies = Vec::new();
    for (field, value) in (Fields { buf: blob }) {
        if let (MODEL_FUNCTIONS, Value::Bytes(function)) = (field, value) {
            let (mut domain, mut name) = (String::new(), String::new());
            for (field, value) in (Fields { buf: function }) {
                match (field, value) {
                    (FUNCTION_DOMAIN, Value::Bytes(b)) => domain = text(b),
                    (FUNCTION_NAME, Value::Bytes(b)) => name = text(b),
                    _ => {}
                }
            }
            functions.insert((domain, name));
            bodies.push(function);
        }
    }
    let walk = Walk { functions };
    for (field, value) in (Fields { buf: blob }) {
        if let (MODEL_GRAPH, Value::Bytes(graph)) = (field, value) {
            walk.check_nodes(graph, GRAPH_NODE, 0)?;
        }
    }
    for body in bodies {
        walk.check_nodes(body, FUNCTION_NODE, 0)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn field(number: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        varint(&mut out, number << 3 | 2);
        varint(&mut out, payload.len() as u64);
        out.extend_from_slice(payload);
        out
    }

    fn node(domain: &str, op: &str) -> Vec<u8> {
        let mut n = field(NODE_OP_TYPE, op.as_bytes());
        n.extend(field(NODE_DOMAIN, domain.as_bytes()));
        n
    }

    fn model_with(node: &[u8]) -> Vec<u8> {
        field(MODEL_GRAPH, &field(GRAPH_NODE, node))
    }

    #[test]
    fn standard_domains_pass_others_are_named() {
        assert_eq!(check(&model_with(&node("", "Add"))), Ok(()));
        assert_eq!(check(&model_with(&node("com.microsoft", "Gelu"))), Ok(()));
        assert_eq!(
            check(&model_with(&node("com.evil", "Exec"))),
            Err("ERR model uses a forbidden operator: com.evil:Exec".into())
        );
        // inside a Loop body: node.attribute.g.node
        let body = field(GRAPH_NODE, &node("com.evil", "Exec"));
        let mut lp = node("", "Loop");
        lp.extend(field(NODE_ATTRIBUTE, &field(ATTR_G, &body)));
        assert!(check(&model_with(&lp)).is_err());
        // garbage is left to ONNX Runtime
        assert_eq!(check(b"not a model"), Ok(()));
    }

    #[test]
    fn local_functions_are_their_own_domain() {
        let mut function = field(FUNCTION_NAME, b"Twice");
        function.extend(field(FUNCTION_DOMAIN, b"local.fns"));
        function.extend(field(FUNCTION_NODE, &node("", "Add")));
        let mut blob = model_with(&node("local.fns", "Twice"));
        blob.extend(field(MODEL_FUNCTIONS, &function));
        assert_eq!(check(&blob), Ok(()));
        // ... but their bodies are checked too
        let mut bad = field(FUNCTION_NAME, b"Twice");
        bad.extend(field(FUNCTION_DOMAIN, b"local.fns"));
        bad.extend(field(FUNCTION_NODE, &node("com.evil", "Exec")));
        let mut blob = model_with(&node("local.fns", "Twice"));
        blob.extend(field(MODEL_FUNCTIONS, &bad));
        assert!(check(&blob).is_err());
    }
}
