//! The TFLite backend through the plugin ABI with small models written by the tests
//! (`common::builder`): every dtype, inputs and outputs by position, batching, the operators the
//! backend builds itself (QUANTIZE, DEQUANTIZE, ARG_MAX, ARG_MIN, FULLY_CONNECTED, depthwise
//! convolutions with a depth multiplier) and the errors of models it cannot build or run.

mod common;

use common::builder::{f32_bytes, i32_bytes, Builder, Options};
use common::*;
use redisai_backend_api::DType;
use redisai_core::Tensor;
use tract_tflite::tflite::{BuiltinOperator as Op, TensorType as T};

/// x [2, 3] -> RESHAPE -> [3, 2], for one element type.
fn reshape_model(ty: T) -> Vec<u8> {
    let mut b = Builder::default();
    let x = b.tensor("x", ty, &[2, 3]);
    let shape = b.constant("shape", T::INT32, &[2], i32_bytes(&[3, 2]));
    let y = b.tensor("y", ty, &[3, 2]);
    b.op(Op::RESHAPE, &[x, shape], &[y], Options::Reshape(vec![3, 2]));
    b.io(&[x], &[y]);
    b.finish()
}

/// Six sample elements of each dtype, as little-endian bytes.
fn sample(dtype: DType) -> Vec<u8> {
    match dtype {
        DType::Float => f32_bytes(&[1.5, -2.0, 0.0, 3.25, f32::MAX, -0.5]),
        DType::Double => [1.5f64, -2.0, 0.0, 3.25, f64::MIN, 1e-300]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::Int8 => [1i8, -2, 0, 127, -128, 5].map(|v| v as u8).to_vec(),
        DType::Int16 => [1i16, -2, 0, i16::MAX, i16::MIN, 5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::Int32 => i32_bytes(&[1, -2, 0, i32::MAX, i32::MIN, 5]),
        DType::Int64 => [1i64, -2, 0, i64::MAX, i64::MIN, 5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::Uint8 => vec![1, 2, 0, 255, 128, 5],
        DType::Uint16 => [1u16, 2, 0, u16::MAX, 300, 5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::Bool => vec![1, 0, 0, 1, 1, 0],
        DType::String => unreachable!(),
    }
}

#[test]
fn every_numeric_dtype_round_trips() {
    let types = [
        (DType::Float, T::FLOAT32),
        (DType::Double, T::FLOAT64),
        (DType::Int8, T::INT8),
        (DType::Int16, T::INT16),
        (DType::Int32, T::INT32),
        (DType::Int64, T::INT64),
        (DType::Uint8, T::UINT8),
        (DType::Uint16, T::UINT16),
        (DType::Bool, T::BOOL),
    ];
    for (dtype, ty) in types {
        let model = store(&reshape_model(ty));
        assert_eq!(model.inputs(), ["x"]);
        assert_eq!(model.outputs(), ["y"]);
        let x = Tensor::from_blob(dtype, vec![2, 3], &sample(dtype)).unwrap();
        let out = run_ok(&model, &[&x]);
        assert_eq!(out[0].dtype(), dtype, "{dtype:?}");
        assert_eq!(out[0].shape(), [3, 2], "{dtype:?}");
        assert_eq!(out[0].data(), x.data(), "{dtype:?}");
        // Any other dtype is refused.
        let other = if dtype == DType::Float {
            DType::Double
        } else {
            DType::Float
        };
        let wrong = Tensor::from_blob(other, vec![2, 3], &vec![0; 6 * other.size()]).unwrap();
        assert_eq!(
            run(&model, &[&wrong]).unwrap_err(),
            "Input tensor type doesn't match the type expected by the model definition"
        );
    }
}

/// a, b [n, 2] -> (a + b, a * b); `batch` declares the first dimension variable.
fn add_mul_model(batch: bool) -> Vec<u8> {
    let mut b = Builder::default();
    let x = b.tensor("a", T::FLOAT32, &[1, 2]);
    let y = b.tensor("b", T::FLOAT32, &[1, 2]);
    let sum = b.tensor("sum", T::FLOAT32, &[1, 2]);
    let prod = b.tensor("prod", T::FLOAT32, &[1, 2]);
    if batch {
        for t in [x, y, sum, prod] {
            b.signature(t, &[-1, 2]);
        }
    }
    b.op(Op::ADD, &[x, y], &[sum], Options::Add);
    b.op(Op::MUL, &[x, y], &[prod], Options::Mul);
    b.io(&[x, y], &[sum, prod]);
    b.finish()
}

#[test]
fn two_inputs_two_outputs_by_position() {
    let model = store(&add_mul_model(false));
    assert_eq!(model.inputs(), ["a", "b"]);
    assert_eq!(model.outputs(), ["sum", "prod"]);
    let a = floats(&[1, 2], &[1.0, 2.0]);
    let b = floats(&[1, 2], &[5.0, -6.0]);
    let out = run_ok(&model, &[&a, &b]);
    assert_eq!(f32s(&out[0]), [6.0, -4.0]);
    assert_eq!(f32s(&out[1]), [5.0, -12.0]);
    assert_eq!(
        run(&model, &[&a]).unwrap_err(),
        "Inconsistent number of inputs"
    );
}

#[test]
fn batches_of_any_size() {
    let model = store(&add_mul_model(true));
    for n in [1i64, 3, 8] {
        let values: Vec<f32> = (0..n * 2).map(|i| i as f32).collect();
        let a = floats(&[n, 2], &values);
        let out = run_ok(&model, &[&a, &a]);
        assert_eq!(out[0].shape(), [n, 2]);
        let doubled: Vec<f32> = values.iter().map(|v| v * 2.0).collect();
        assert_eq!(f32s(&out[0]), doubled);
        assert_eq!(out[1].shape(), [n, 2]);
    }
    // Inputs of different batch sizes cannot run together.
    let a = floats(&[2, 2], &[1.0; 4]);
    let b = floats(&[3, 2], &[1.0; 6]);
    let err = run(&model, &[&a, &b]).unwrap_err();
    assert!(err.starts_with("Failed to invoke TfLite: "), "{err}");
}

#[test]
fn fixed_shapes_are_not_resized() {
    // RESHAPE [2, 3] -> [3, 2] does not batch: only its six elements run.
    let model = store(&reshape_model(T::FLOAT32));
    let six = floats(&[6], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let out = run_ok(&model, &[&six]);
    assert_eq!(out[0].shape(), [3, 2]);
    assert_eq!(f32s(&out[0]), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let twelve = floats(&[4, 3], &[0.0; 12]);
    assert_eq!(
        run(&model, &[&twelve]).unwrap_err(),
        "Failed to resize input tensors"
    );
}

#[test]
fn quantize_dequantize_and_arg_extremes() {
    let mut b = Builder::default();
    let x = b.tensor("x", T::FLOAT32, &[2, 4]);
    let q = b.tensor("q", T::UINT8, &[2, 4]);
    b.quantize(q, &[0.5], &[10]);
    let q8 = b.tensor("q8", T::INT8, &[2, 4]);
    b.quantize(q8, &[0.1], &[-5]);
    let dq = b.tensor("dq", T::FLOAT32, &[2, 4]);
    let one = b.constant("one", T::INT32, &[], i32_bytes(&[1]));
    let minus_one = b.constant("minus_one", T::INT32, &[1], i32_bytes(&[-1]));
    let amax = b.tensor("amax", T::INT32, &[2]);
    let amin = b.tensor("amin", T::INT64, &[2]);
    b.op(Op::QUANTIZE, &[x], &[q], Options::Quantize);
    b.op(Op::QUANTIZE, &[x], &[q8], Options::Quantize);
    b.op(Op::DEQUANTIZE, &[q], &[dq], Options::Dequantize);
    b.op(Op::ARG_MAX, &[q, one], &[amax], Options::ArgMax(T::INT32));
    b.op(
        Op::ARG_MIN,
        &[x, minus_one],
        &[amin],
        Options::ArgMin(T::INT64),
    );
    b.io(&[x], &[dq, q8, amax, amin]);
    let model = store(&b.finish());

    let x = floats(&[2, 4], &[1.0, -2.0, 3.3, 0.2, 5.0, 5.0, -1.0, 2.6]);
    let out = run_ok(&model, &[&x]);
    // round(x / 0.5) + 10, back to float.
    assert_eq!(f32s(&out[0]), [1.0, -2.0, 3.5, 0.0, 5.0, 5.0, -1.0, 2.5]);
    // A quantized output is its integers.
    assert_eq!(out[1].dtype(), DType::Int8);
    let q8: Vec<i8> = out[1].data().iter().map(|&v| v as i8).collect();
    assert_eq!(q8, [5, -25, 28, -3, 45, 45, -15, 21]);
    assert_eq!(out[2].dtype(), DType::Int32);
    assert_eq!(out[2].shape(), [2]);
    assert_eq!(i32s(&out[2]), [2, 0], "the first of equal maxima");
    assert_eq!(out[3].dtype(), DType::Int64);
    assert_eq!(i64s(&out[3]), [1, 2]);
}

#[test]
fn quantized_inputs_take_their_integers() {
    let mut b = Builder::default();
    let q = b.tensor("q", T::UINT8, &[1, 3]);
    b.quantize(q, &[0.25], &[100]);
    let x = b.tensor("x", T::FLOAT32, &[1, 3]);
    b.op(Op::DEQUANTIZE, &[q], &[x], Options::Dequantize);
    b.io(&[q], &[x]);
    let model = store(&b.finish());
    let q = Tensor::from_blob(DType::Uint8, vec![1, 3], &[100, 104, 0]).unwrap();
    assert_eq!(f32s(&run_ok(&model, &[&q])[0]), [0.0, 1.0, -25.0]);
    let float = floats(&[1, 3], &[0.0; 3]);
    assert_eq!(
        run(&model, &[&float]).unwrap_err(),
        "Input tensor type doesn't match the type expected by the model definition"
    );
}

/// TFLite's FULLY_CONNECTED: rows of `depth` elements times the `[units, depth]` weights.
fn fully_connected(x: &[f32], w: &[f32], bias: Option<&[f32]>, units: usize) -> Vec<f32> {
    let depth = w.len() / units;
    x.chunks(depth)
        .flat_map(|row| {
            (0..units).map(move |u| {
                let dot: f32 = row.iter().zip(&w[u * depth..]).map(|(a, b)| a * b).sum();
                dot + bias.map_or(0.0, |b| b[u])
            })
        })
        .collect()
}

#[test]
fn fully_connected_of_any_rank_with_and_without_bias() {
    let w: Vec<f32> = (0..12).map(|i| i as f32 * 0.5 - 3.0).collect();
    let bias = [1.0f32, -2.0, 0.5];
    let x: Vec<f32> = (0..8).map(|i| i as f32 - 2.5).collect();
    // (input shape, keep_num_dims, with bias, output shape)
    let cases: [(&[i32], bool, bool, &[i64]); 4] = [
        (&[2, 2, 2], false, true, &[2, 3]),
        (&[2, 1, 4], true, true, &[2, 1, 3]),
        (&[2, 4], false, false, &[2, 3]),
        (&[8], false, true, &[2, 3]),
    ];
    for (shape, keep_num_dims, with_bias, out_shape) in cases {
        let mut b = Builder::default();
        let xt = b.tensor("x", T::FLOAT32, shape);
        let wt = b.constant("w", T::FLOAT32, &[3, 4], f32_bytes(&w));
        let bt = if with_bias {
            b.constant("bias", T::FLOAT32, &[3], f32_bytes(&bias))
        } else {
            -1
        };
        let out_dims: Vec<i32> = out_shape.iter().map(|&d| d as i32).collect();
        let y = b.tensor("y", T::FLOAT32, &out_dims);
        let options = Options::FullyConnected {
            keep_num_dims,
            relu: false,
        };
        b.op(Op::FULLY_CONNECTED, &[xt, wt, bt], &[y], options);
        b.io(&[xt], &[y]);
        let model = store(&b.finish());
        let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let out = run_ok(&model, &[&floats(&dims, &x)]);
        assert_eq!(out[0].shape(), out_shape, "{shape:?}");
        let expected = fully_connected(&x, &w, with_bias.then_some(&bias[..]), 3);
        assert_eq!(f32s(&out[0]), expected, "{shape:?}");
    }
}

#[test]
fn fully_connected_with_int8_weights_on_float_input_and_relu() {
    let mut b = Builder::default();
    let x = b.tensor("x", T::FLOAT32, &[1, 2]);
    let w = b.constant(
        "w",
        T::INT8,
        &[2, 2],
        [2i8, -4, 6, 8].map(|v| v as u8).to_vec(),
    );
    b.quantize(w, &[0.5], &[0]);
    let y = b.tensor("y", T::FLOAT32, &[1, 2]);
    let options = Options::FullyConnected {
        keep_num_dims: false,
        relu: true,
    };
    b.op(Op::FULLY_CONNECTED, &[x, w, -1], &[y], options);
    b.io(&[x], &[y]);
    let model = store(&b.finish());
    // Weights [[1, -2], [3, 4]]: [1, 1] -> [-1, 7] -> relu [0, 7].
    let out = run_ok(&model, &[&floats(&[1, 2], &[1.0, 1.0])]);
    assert_eq!(f32s(&out[0]), [0.0, 7.0]);
}

#[test]
fn depthwise_convolution_with_a_depth_multiplier() {
    let (h, w, c, m) = (3usize, 3usize, 2usize, 2usize);
    let x: Vec<f32> = (0..h * w * c).map(|i| i as f32 * 0.5 - 2.0).collect();
    let k: Vec<f32> = (0..2 * 2 * c * m).map(|i| (i % 5) as f32 - 1.5).collect();
    let bias: Vec<f32> = (0..c * m).map(|i| i as f32).collect();
    let mut b = Builder::default();
    let xt = b.tensor("x", T::FLOAT32, &[1, 3, 3, 2]);
    let kt = b.constant("k", T::FLOAT32, &[1, 2, 2, 4], f32_bytes(&k));
    let bt = b.constant("bias", T::FLOAT32, &[4], f32_bytes(&bias));
    let y = b.tensor("y", T::FLOAT32, &[1, 2, 2, 4]);
    b.op(
        Op::DEPTHWISE_CONV_2D,
        &[xt, kt, bt],
        &[y],
        Options::Depthwise { multiplier: 2 },
    );
    b.io(&[xt], &[y]);
    let model = store(&b.finish());
    let out = run_ok(&model, &[&floats(&[1, 3, 3, 2], &x)]);
    assert_eq!(out[0].shape(), [1, 2, 2, 4]);
    // out[y, x, ch·m + j] = Σ in[y + i, x + l, ch] · k[i, l, ch·m + j] + bias[ch·m + j]
    let mut expected = Vec::new();
    for oy in 0..2 {
        for ox in 0..2 {
            for o in 0..c * m {
                let ch = o / m;
                let mut sum = bias[o];
                for i in 0..2 {
                    for l in 0..2 {
                        sum += x[((oy + i) * w + ox + l) * c + ch] * k[(i * 2 + l) * c * m + o];
                    }
                }
                expected.push(sum);
            }
        }
    }
    let got = f32s(&out[0]);
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - e).abs() < 1e-4, "{got:?} vs {expected:?}");
    }
}

#[test]
fn unsupported_operators_are_refused() {
    let mut b = Builder::default();
    let x = b.tensor("x", T::FLOAT32, &[4]);
    let i = b.constant("i", T::INT32, &[1], i32_bytes(&[0]));
    let y = b.tensor("y", T::FLOAT32, &[1]);
    b.op(Op::GATHER, &[x, i], &[y], Options::None);
    b.io(&[x], &[y]);
    let err = plugin().create_model(&b.finish(), &cpu()).unwrap_err();
    assert_eq!(
        err,
        "Failed to construct interpreter: unsupported operator: GATHER"
    );
}

#[test]
fn broken_graphs_are_refused() {
    // An operator reading a tensor that nothing computes.
    let mut b = Builder::default();
    let x = b.tensor("x", T::FLOAT32, &[2]);
    let ghost = b.tensor("ghost", T::FLOAT32, &[2]);
    let y = b.tensor("y", T::FLOAT32, &[2]);
    b.op(Op::ADD, &[x, ghost], &[y], Options::Add);
    b.io(&[x], &[y]);
    let err = plugin().create_model(&b.finish(), &cpu()).unwrap_err();
    assert!(
        err.starts_with("Failed to construct interpreter: "),
        "{err}"
    );

    // A tensor index past the end.
    let mut b = Builder::default();
    let x = b.tensor("x", T::FLOAT32, &[2]);
    b.op(Op::ADD, &[x, 7], &[x], Options::Add);
    b.io(&[x], &[x]);
    let err = plugin().create_model(&b.finish(), &cpu()).unwrap_err();
    assert_eq!(err, "Failed to load model from buffer");
}
