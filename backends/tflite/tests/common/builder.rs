//! Writes small TFLite flatbuffers for the tests (the schema bindings of `tract-tflite`), so no
//! TensorFlow converter is needed: one subgraph, tensors, constant buffers, builtin operators.

use flatbuffers::{FlatBufferBuilder, UnionWIPOffset, WIPOffset};
use tract_tflite::tflite::*;

/// Options of the operators the tests use.
pub enum Options {
    None,
    Add,
    Mul,
    Reshape(Vec<i32>),
    ArgMax(TensorType),
    ArgMin(TensorType),
    FullyConnected { keep_num_dims: bool, relu: bool },
    Depthwise { multiplier: i32 },
    Quantize,
    Dequantize,
}

struct TensorSpec {
    name: String,
    ty: TensorType,
    shape: Vec<i32>,
    signature: Option<Vec<i32>>,
    buffer: u32,
    quantization: Option<(Vec<f32>, Vec<i64>)>,
}

struct OpSpec {
    code: BuiltinOperator,
    inputs: Vec<i32>,
    outputs: Vec<i32>,
    options: Options,
}

/// A model under construction.
pub struct Builder {
    tensors: Vec<TensorSpec>,
    buffers: Vec<Vec<u8>>,
    ops: Vec<OpSpec>,
    inputs: Vec<i32>,
    outputs: Vec<i32>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            tensors: Vec::new(),
            // Buffer 0 is the empty sentinel of every non-constant tensor.
            buffers: vec![Vec::new()],
            ops: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
        }
    }
}

impl Builder {
    /// A tensor computed at run time (or a model input).
    pub fn tensor(&mut self, name: &str, ty: TensorType, shape: &[i32]) -> i32 {
        self.tensors.push(TensorSpec {
            name: name.into(),
            ty,
            shape: shape.to_vec(),
            signature: None,
            buffer: 0,
            quantization: None,
        });
        self.tensors.len() as i32 - 1
    }

    /// A constant tensor holding `data` (little-endian elements).
    pub fn constant(&mut self, name: &str, ty: TensorType, shape: &[i32], data: Vec<u8>) -> i32 {
        let t = self.tensor(name, ty, shape);
        self.buffers.push(data);
        self.tensors[t as usize].buffer = self.buffers.len() as u32 - 1;
        t
    }

    /// Quantization parameters (one per tensor, or one per output channel).
    pub fn quantize(&mut self, tensor: i32, scale: &[f32], zero_point: &[i64]) {
        self.tensors[tensor as usize].quantization = Some((scale.to_vec(), zero_point.to_vec()));
    }

    /// The shape signature (-1 marks a dimension that may vary).
    pub fn signature(&mut self, tensor: i32, signature: &[i32]) {
        self.tensors[tensor as usize].signature = Some(signature.to_vec());
    }

    pub fn op(&mut self, code: BuiltinOperator, inputs: &[i32], outputs: &[i32], options: Options) {
        self.ops.push(OpSpec {
            code,
            inputs: inputs.to_vec(),
            outputs: outputs.to_vec(),
            options,
        });
    }

    pub fn io(&mut self, inputs: &[i32], outputs: &[i32]) {
        self.inputs = inputs.to_vec();
        self.outputs = outputs.to_vec();
    }

    /// The model's flatbuffer.
    pub fn finish(self) -> Vec<u8> {
        let mut fb = FlatBufferBuilder::new();
        let mut codes: Vec<BuiltinOperator> = Vec::new();
        for op in &self.ops {
            if !codes.contains(&op.code) {
                codes.push(op.code);
            }
        }
        let code_tables: Vec<_> = codes
            .iter()
            .map(|&code| {
                let args = OperatorCodeArgs {
                    deprecated_builtin_code: code.0.min(127) as i8,
                    builtin_code: code,
                    version: 1,
                    custom_code: None,
                };
                OperatorCode::create(&mut fb, &args)
            })
            .collect();
        let tensors: Vec<_> = self
            .tensors
            .iter()
            .map(|t| {
                let shape = Some(fb.create_vector(&t.shape));
                let shape_signature = t.signature.as_ref().map(|s| fb.create_vector(s));
                let name = Some(fb.create_string(&t.name));
                let quantization = t.quantization.as_ref().map(|(scale, zp)| {
                    let args = QuantizationParametersArgs {
                        scale: Some(fb.create_vector(scale)),
                        zero_point: Some(fb.create_vector(zp)),
                        ..Default::default()
                    };
                    QuantizationParameters::create(&mut fb, &args)
                });
                let args = TensorArgs {
                    shape,
                    type_: t.ty,
                    buffer: t.buffer,
                    name,
                    quantization,
                    shape_signature,
                    ..Default::default()
                };
                Tensor::create(&mut fb, &args)
            })
            .collect();
        let ops: Vec<_> = self
            .ops
            .iter()
            .map(|op| {
                let (options_type, options) = options(&mut fb, &op.options);
                let args = OperatorArgs {
                    opcode_index: codes.iter().position(|&c| c == op.code).unwrap() as u32,
                    inputs: Some(fb.create_vector(&op.inputs)),
                    outputs: Some(fb.create_vector(&op.outputs)),
                    builtin_options_type: options_type,
                    builtin_options: options,
                    ..Default::default()
                };
                Operator::create(&mut fb, &args)
            })
            .collect();
        let subgraph_args = SubGraphArgs {
            tensors: Some(fb.create_vector(&tensors)),
            inputs: Some(fb.create_vector(&self.inputs)),
            outputs: Some(fb.create_vector(&self.outputs)),
            operators: Some(fb.create_vector(&ops)),
            name: Some(fb.create_string("main")),
        };
        let subgraph = SubGraph::create(&mut fb, &subgraph_args);
        let buffers: Vec<_> = self
            .buffers
            .iter()
            .map(|data| {
                let data = (!data.is_empty()).then(|| fb.create_vector(data));
                Buffer::create(&mut fb, &BufferArgs { data })
            })
            .collect();
        let model_args = ModelArgs {
            version: 3,
            operator_codes: Some(fb.create_vector(&code_tables)),
            subgraphs: Some(fb.create_vector(&[subgraph])),
            description: Some(fb.create_string("redisai-tflite test model")),
            buffers: Some(fb.create_vector(&buffers)),
            ..Default::default()
        };
        let model = Model::create(&mut fb, &model_args);
        finish_model_buffer(&mut fb, model);
        fb.finished_data().to_vec()
    }
}

fn options(
    fb: &mut FlatBufferBuilder,
    options: &Options,
) -> (BuiltinOptions, Option<WIPOffset<UnionWIPOffset>>) {
    let (kind, table) = match options {
        Options::None => return (BuiltinOptions::NONE, None),
        Options::Add => (
            BuiltinOptions::AddOptions,
            AddOptions::create(fb, &Default::default()).as_union_value(),
        ),
        Options::Mul => (
            BuiltinOptions::MulOptions,
            MulOptions::create(fb, &Default::default()).as_union_value(),
        ),
        Options::Reshape(shape) => {
            let new_shape = Some(fb.create_vector(shape));
            let args = ReshapeOptionsArgs { new_shape };
            (
                BuiltinOptions::ReshapeOptions,
                ReshapeOptions::create(fb, &args).as_union_value(),
            )
        }
        Options::ArgMax(output_type) => {
            let args = ArgMaxOptionsArgs {
                output_type: *output_type,
            };
            (
                BuiltinOptions::ArgMaxOptions,
                ArgMaxOptions::create(fb, &args).as_union_value(),
            )
        }
        Options::ArgMin(output_type) => {
            let args = ArgMinOptionsArgs {
                output_type: *output_type,
            };
            (
                BuiltinOptions::ArgMinOptions,
                ArgMinOptions::create(fb, &args).as_union_value(),
            )
        }
        Options::FullyConnected {
            keep_num_dims,
            relu,
        } => {
            let args = FullyConnectedOptionsArgs {
                keep_num_dims: *keep_num_dims,
                fused_activation_function: if *relu {
                    ActivationFunctionType::RELU
                } else {
                    ActivationFunctionType::NONE
                },
                ..Default::default()
            };
            (
                BuiltinOptions::FullyConnectedOptions,
                FullyConnectedOptions::create(fb, &args).as_union_value(),
            )
        }
        Options::Depthwise { multiplier } => {
            let args = DepthwiseConv2DOptionsArgs {
                padding: Padding::VALID,
                stride_w: 1,
                stride_h: 1,
                depth_multiplier: *multiplier,
                fused_activation_function: ActivationFunctionType::NONE,
                dilation_w_factor: 1,
                dilation_h_factor: 1,
            };
            (
                BuiltinOptions::DepthwiseConv2DOptions,
                DepthwiseConv2DOptions::create(fb, &args).as_union_value(),
            )
        }
        Options::Quantize => (
            BuiltinOptions::QuantizeOptions,
            QuantizeOptions::create(fb, &Default::default()).as_union_value(),
        ),
        Options::Dequantize => (
            BuiltinOptions::DequantizeOptions,
            DequantizeOptions::create(fb, &Default::default()).as_union_value(),
        ),
    };
    (kind, Some(table))
}

/// Little-endian bytes of f32 values.
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Little-endian bytes of i32 values.
pub fn i32_bytes(values: &[i32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}
