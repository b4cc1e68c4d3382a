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
    /// A FLOAT scalar tensor (a `Const`'s `value`).
    FloatScalar(f32),
}

impl Attr<'_> {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Attr::Str(s) => bytes_field(&mut out, 2, s),
            Attr::Int(i) => int_field(&mut out, 3, *i as u64),
            Attr::Bool(b) => int_field(&mut out, 5, u64::from(*b)),
            Attr::Type(t) => int_field(&mut out, 6, *t),
            Attr::FloatScalar(v) => {
                // TensorProto: dtype = 1, tensor_shape = 2 (empty: a scalar), float_val = 5.
                let mut tensor = Vec::new();
                int_field(&mut tensor, 1, dt::FLOAT);
                bytes_field(&mut tensor, 2, &[]);
                varint(&mut tensor, (5 << 3) | 5);
                tensor.extend_from_slice(&v.to_le_bytes());
                bytes_field(&mut out, 8, &tensor);
            }
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
    pub fn node(self, name: &str, op: &str, inputs: &[&str], attrs: &[(&str, Attr)]) -> Self {
        let encoded: Vec<(&str, Vec<u8>)> = attrs.iter().map(|(k, v)| (*k, v.encode())).collect();
        self.node_with_raw_attrs(name, op, inputs, &encoded)
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

    /// Adds a `Const` STRING scalar holding `value`.
    pub fn string_const(self, name: &str, value: &[u8]) -> Self {
        // TensorProto: dtype = 1, tensor_shape = 2 (empty: a scalar), string_val = 8.
        let mut tensor = Vec::new();
        int_field(&mut tensor, 1, dt::STRING);
        bytes_field(&mut tensor, 2, &[]);
        bytes_field(&mut tensor, 8, value);
        let mut attr = Vec::new();
        bytes_field(&mut attr, 8, &tensor); // AttrValue.tensor = 8
        self.node_with_raw_attrs(
            name,
            "Const",
            &[],
            &[("dtype", Attr::Type(dt::STRING).encode()), ("value", attr)],
        )
    }

    fn node_with_raw_attrs(
        mut self,
        name: &str,
        op: &str,
        inputs: &[&str],
        attrs: &[(&str, Vec<u8>)],
    ) -> Self {
        let mut node = Vec::new();
        bytes_field(&mut node, 1, name.as_bytes());
        bytes_field(&mut node, 2, op.as_bytes());
        for input in inputs {
            bytes_field(&mut node, 3, input.as_bytes());
        }
        for (key, value) in attrs {
            let mut entry = Vec::new();
            bytes_field(&mut entry, 1, key.as_bytes());
            bytes_field(&mut entry, 2, value);
            bytes_field(&mut node, 5, &entry);
        }
        bytes_field(&mut self.bytes, 1, &node);
        self
    }

    /// Adds a function to the graph's library (`GraphDef.library` = 2,
    /// `FunctionDefLibrary.function` = 1): `name(input: STRING) -> output: STRING`, whose body
    /// is one node `body` of op `op` applied to the input, its output `output_arg`.
    pub fn string_function(mut self, name: &str, op: &str, output_arg: &str) -> Self {
        // OpDef: name = 1, input_arg = 2, output_arg = 3; ArgDef: name = 1, type = 3.
        let arg = |arg_name: &str| {
            let mut a = Vec::new();
            bytes_field(&mut a, 1, arg_name.as_bytes());
            int_field(&mut a, 3, dt::STRING);
            a
        };
        let mut signature = Vec::new();
        bytes_field(&mut signature, 1, name.as_bytes());
        bytes_field(&mut signature, 2, &arg("input"));
        bytes_field(&mut signature, 3, &arg("output"));
        let mut body = Vec::new();
        bytes_field(&mut body, 1, b"body");
        bytes_field(&mut body, 2, op.as_bytes());
        bytes_field(&mut body, 3, b"input");
        // FunctionDef: signature = 1, node_def = 3, ret = 4 (map<string, string>).
        let mut function = Vec::new();
        bytes_field(&mut function, 1, &signature);
        bytes_field(&mut function, 3, &body);
        let mut ret = Vec::new();
        bytes_field(&mut ret, 1, b"output");
        bytes_field(&mut ret, 2, format!("body:{output_arg}:0").as_bytes());
        bytes_field(&mut function, 4, &ret);
        let mut library = Vec::new();
        bytes_field(&mut library, 1, &function);
        bytes_field(&mut self.bytes, 2, &library);
        self
    }

    pub fn build(self) -> Vec<u8> {
        self.bytes
    }
}

/// `x` (FLOAT) -> `y = Identity(x)`, with a `WriteFile(path, "owned")` as a control dependency:
/// a graph that would create a file as a side effect of any run.
pub fn write_file(path: &str) -> Vec<u8> {
    GraphDef::new()
        .placeholder("x", dt::FLOAT, None)
        .string_const("path", path.as_bytes())
        .string_const("text", b"owned")
        .node("write", "WriteFile", &["path", "text"], &[])
        .node(
            "y",
            "Identity",
            &["x", "^write"],
            &[("T", Attr::Type(dt::FLOAT))],
        )
        .build()
}

/// `dims` (INT64) -> `y = Fill(dims, 1.0)` (FLOAT): the output's size comes from the input.
pub fn fill_floats() -> Vec<u8> {
    GraphDef::new()
        .placeholder("dims", dt::INT64, None)
        .node(
            "one",
            "Const",
            &[],
            &[
                ("dtype", Attr::Type(dt::FLOAT)),
                ("value", Attr::FloatScalar(1.0)),
            ],
        )
        .node(
            "y",
            "Fill",
            &["dims", "one"],
            &[
                ("T", Attr::Type(dt::FLOAT)),
                ("index_type", Attr::Type(dt::INT64)),
            ],
        )
        .build()
}

/// `x` (of `dtype`, any shape) -> `y = Identity(x)`.
pub fn identity(dtype: u64) -> Vec<u8> {
    GraphDef::new()
        .placeholder("x", dtype, None)
        .apply("y", "Identity", &["x"], dtype)
        .build()
}
