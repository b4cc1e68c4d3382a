//! Builds small frozen TensorFlow graphs (serialized `GraphDef`s) for the tests, by encoding the
//! protobuf messages directly, so no Python TensorFlow (and its dependencies) is needed.
//!
//! Field numbers (tensorflow/core/framework/*.proto):
//! - `GraphDef`: `node` = 1;
//! - `NodeDef`: `name` = 1, `op` = 2, `input` = 3 (repeated; `^name` is a control input),
//!   `attr` = 5 (`map<string, AttrValue>`: entries with key = 1, value = 2);
//! - `AttrValue`: `s` = 2, `i` = 3, `b` = 5, `type` = 6, `shape` = 7;
//! - `TensorShapeProto`: `dim` = 2 (`Dim.size` = 1, -1 for unknown), `unknown_rank` = 3.
//!
//! Attributes a graph leaves out take their op's defaults when TensorFlow imports it.

#![allow(dead_code)]

/// TensorFlow `DataType` numbers (types.proto).
pub mod dt {
    pub const FLOAT: u64 = 1;
    pub const DOUBLE: u64 = 2;
    pub const INT32: u64 = 3;
    pub const UINT8: u64 = 4;
    pub const INT16: u64 = 5;
    pub const INT8: u64 = 6;
    pub const STRING: u64 = 7;
    pub const INT64: u64 = 9;
    pub const BOOL: u64 = 10;
    pub const UINT16: u64 = 17;
    pub const HALF: u64 = 19;
}

/// The `DataType` of a RedisAI dtype.
pub fn dt_of(dtype: redisai_backend_api::DType) -> u64 {
    use redisai_backend_api::DType;
    match dtype {
        DType::Float => dt::FLOAT,
        DType::Double => dt::DOUBLE,
        DType::Int8 => dt::INT8,
        DType::Int16 => dt::INT16,
        DType::Int32 => dt::INT32,
        DType::Int64 => dt::INT64,
        DType::Uint8 => dt::UINT8,
        DType::Uint16 => dt::UINT16,
        DType::Bool => dt::BOOL,
        DType::String => dt::STRING,
    }
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn int_field(out: &mut Vec<u8>, field: u64, value: u64) {
    varint(out, field << 3);
    varint(out, value);
}

fn bytes_field(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    varint(out, (field << 3) | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// An attribute value.
pub enum Attr<'a> {
    Type(u64),
    Int(i64),
    Bool(bool),
    Str(&'a [u8]),
    /// `None`: unknown rank; `Some(dims)` with -1 for an unknown dimension.
    Shape(Option<&'a [i64]>),
}

impl Attr<'_> {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Attr::Str(s) => bytes_field(&mut out, 2, s),
            Attr::Int(i) => int_field(&mut out, 3, *i as u64),
            Attr::Bool(b) => int_field(&mut out, 5, u64::from(*b)),
            Attr::Type(t) => int_field(&mut out, 6, *t),
            Attr::Shape(shape) => {
                let mut proto = Vec::new();
                match shape {
                    None => int_field(&mut proto, 3, 1),
                    Some(dims) => {
                        for &d in dims.iter() {
                            let mut dim = Vec::new();
                            int_field(&mut dim, 1, d as u64);
                            bytes_field(&mut proto, 2, &dim);
                        }
                    }
                }
                bytes_field(&mut out, 7, &proto);
            }
        }
        out
    }
}

/// A `GraphDef` under construction.
#[derive(Default)]
pub struct GraphDef {
    bytes: Vec<u8>,
}

impl GraphDef {
    pub fn new() -> GraphDef {
        GraphDef::default()
    }

    /// Adds a node `name` running `op` on `inputs`.
    pub fn node(mut self, name: &str, op: &str, inputs: &[&str], attrs: &[(&str, Attr)]) -> Self {
        let mut node = Vec::new();
        bytes_field(&mut node, 1, name.as_bytes());
        bytes_field(&mut node, 2, op.as_bytes());
        for input in inputs {
            bytes_field(&mut node, 3, input.as_bytes());
        }
        for (key, value) in attrs {
            let mut entry = Vec::new();
            bytes_field(&mut entry, 1, key.as_bytes());
            bytes_field(&mut entry, 2, &value.encode());
            bytes_field(&mut node, 5, &entry);
        }
        bytes_field(&mut self.bytes, 1, &node);
        self
    }

    /// Adds a `Placeholder` of type `dtype`, of any shape (`None`) or of shape `dims`.
    pub fn placeholder(self, name: &str, dtype: u64, dims: Option<&[i64]>) -> Self {
        self.node(
            name,
            "Placeholder",
            &[],
            &[("dtype", Attr::Type(dtype)), ("shape", Attr::Shape(dims))],
        )
    }

    /// Adds a node applying the op `op` (with type attribute `T`) to `inputs`.
    pub fn apply(self, name: &str, op: &str, inputs: &[&str], dtype: u64) -> Self {
        self.node(name, op, inputs, &[("T", Attr::Type(dtype))])
    }

    pub fn build(self) -> Vec<u8> {
        self.bytes
    }
}

/// `x` (of `dtype`, any shape) -> `y = Identity(x)`.
pub fn identity(dtype: u64) -> Vec<u8> {
    GraphDef::new()
        .placeholder("x", dtype, None)
        .apply("y", "Identity", &["x"], dtype)
        .build()
}
