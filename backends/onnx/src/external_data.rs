//! Refuses models whose tensors keep their data in external files.
//!
//! RedisAI's ONNX Runtime was built with DISABLE_EXTERNAL_INITIALIZERS, which fails session
//! creation with `Initializer tensors with external data is not allowed.`; the PyPI build is not,
//! and would read such files relative to the server's working directory. So the model is
//! checked here, before ONNX Runtime sees it: a small walk over the protobuf wire format that
//! visits every TensorProto a model can hold (initializers, sparse initializers, Constant-style
//! tensor attributes, in the main graph, in every subgraph and in model-local functions).
//!
//! A blob that is not valid protobuf is left to ONNX Runtime, which reports its own error.

/// The error text, as RedisAI's ONNX Runtime gives it.
pub const EXTERNAL_DATA_REFUSED: &str = "Initializer tensors with external data is not allowed.";

use crate::proto::{Fields, Value};

/// Nesting deeper than this is not inspected further (ONNX Runtime refuses it anyway).
const MAX_DEPTH: u32 = 64;

// Field numbers, from onnx.proto.
const MODEL_GRAPH: u64 = 7;
const MODEL_FUNCTIONS: u64 = 25;
const GRAPH_NODE: u64 = 1;
const GRAPH_INITIALIZER: u64 = 5;
const GRAPH_SPARSE_INITIALIZER: u64 = 15;
const NODE_ATTRIBUTE: u64 = 5;
const FUNCTION_NODE: u64 = 7;
const ATTR_T: u64 = 5;
const ATTR_G: u64 = 6;
const ATTR_TENSORS: u64 = 10;
const ATTR_GRAPHS: u64 = 11;
const ATTR_SPARSE_TENSOR: u64 = 22;
const ATTR_SPARSE_TENSORS: u64 = 23;
const SPARSE_VALUES: u64 = 1;
const SPARSE_INDICES: u64 = 2;
const TENSOR_EXTERNAL_DATA: u64 = 13;
const TENSOR_DATA_LOCATION: u64 = 14;
/// `TensorProto.DataLocation.EXTERNAL`.
const LOCATION_EXTERNAL: u64 = 1;

/// What a message is, for the walk.
#[derive(Clone, Copy)]
enum Kind {
    Model,
    Graph,
    Node,
    Function,
    Attribute,
    Sparse,
    Tensor,
}

/// The kind of the sub-message in `field` of a `kind` message, if the walk must visit it.
fn child(kind: Kind, field: u64) -> Option<Kind> {
    use Kind::*;
    match (kind, field) {
        (Model, MODEL_GRAPH) => Some(Graph),
        (Model, MODEL_FUNCTIONS) => Some(Function),
        (Graph, GRAPH_NODE) | (Function, FUNCTION_NODE) => Some(Node),
        (Graph, GRAPH_INITIALIZER) => Some(Tensor),
        (Graph, GRAPH_SPARSE_INITIALIZER) => Some(Sparse),
        (Node, NODE_ATTRIBUTE) => Some(Attribute),
        (Attribute, ATTR_T | ATTR_TENSORS) => Some(Tensor),
        (Attribute, ATTR_G | ATTR_GRAPHS) => Some(Graph),
        (Attribute, ATTR_SPARSE_TENSOR | ATTR_SPARSE_TENSORS) => Some(Sparse),
        (Sparse, SPARSE_VALUES | SPARSE_INDICES) => Some(Tensor),
        _ => None,
    }
}

/// Whether a `kind` message (or anything inside it) holds a tensor with external data.
fn has_external_data(buf: &[u8], kind: Kind, depth: u32) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    // Malformed input ends the walk: ONNX Runtime will refuse the blob with its own message.
    for (field, value) in (Fields { buf }) {
        match (kind, field, value) {
            (Kind::Tensor, TENSOR_DATA_LOCATION, Value::Varint(LOCATION_EXTERNAL)) => return true,
            (Kind::Tensor, TENSOR_EXTERNAL_DATA, Value::Bytes(_)) => return true,
            (_, _, Value::Bytes(bytes)) => {
                if let Some(sub) = child(kind, field) {
                    if has_external_data(bytes, sub, depth + 1) {
                        return true;
                    }
                }
            }
            _ => {}
        }
    }
    false
}

/// Whether the serialized ModelProto `blob` keeps any tensor data in external files.
pub fn model_has_external_data(blob: &[u8]) -> bool {
    has_external_data(blob, Kind::Model, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(number: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![(number << 3 | 2) as u8, payload.len() as u8];
        out.extend_from_slice(payload);
        out
    }

    fn external_tensor() -> Vec<u8> {
        // name "W", data_location EXTERNAL
        let mut t = field(8, b"W");
        t.extend([(TENSOR_DATA_LOCATION << 3) as u8, 1]);
        t
    }

    #[test]
    fn finds_external_initializers_everywhere() {
        let tensor = external_tensor();
        let graph = field(GRAPH_INITIALIZER, &tensor);
        assert!(model_has_external_data(&field(MODEL_GRAPH, &graph)));

        // in a Loop body: model.graph.node.attribute.g.initializer
        let attribute = field(ATTR_G, &graph);
        let node = field(NODE_ATTRIBUTE, &attribute);
        let outer = field(GRAPH_NODE, &node);
        assert!(model_has_external_data(&field(MODEL_GRAPH, &outer)));

        // a Constant's tensor attribute with an external_data entry
        let entry = field(1, b"location");
        let tensor = field(TENSOR_EXTERNAL_DATA, &entry);
        let node = field(NODE_ATTRIBUTE, &field(ATTR_T, &tensor));
        assert!(model_has_external_data(&field(
            MODEL_GRAPH,
            &field(GRAPH_NODE, &node)
        )));
    }

    #[test]
    fn plain_models_and_garbage_pass() {
        let tensor = field(8, b"W");
        let graph = field(GRAPH_INITIALIZER, &tensor);
        assert!(!model_has_external_data(&field(MODEL_GRAPH, &graph)));
        assert!(!model_has_external_data(b"not a model"));
        assert!(!model_has_external_data(&[0xff; 16]));
        assert!(!model_has_external_data(b""));
    }
}
