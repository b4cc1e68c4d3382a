//! The ONNX backend through the plugin ABI, default configuration: reference models, every
//! dtype, STRING, several inputs and outputs, non-tensor outputs, and the error texts clients see.

mod common;

use std::sync::Arc;

use common::*;
use redisai_backend_api::host::Plugin;
use redisai_backend_api::{DType, Device};
use redisai_core::Tensor;

const TIMEOUT_MS: u64 = 5000;

fn backend() -> Arc<Plugin> {
    plugin(TIMEOUT_MS, 0)
}

fn iris() -> Tensor {
    tensor(DType::Float, &[1, 4], &["5.1", "3.5", "1.4", "0.2"])
}

#[test]
fn version_and_info_fields() {
    let plugin = backend();
    assert_eq!(plugin.version(), ONNXRUNTIME_VERSION);
    // mnist's weights are initializers: they live in the counting allocator while it is stored.
    let _model = store(&plugin, &reference_model("mnist.onnx"));
    let info = plugin.info();
    let names: Vec<&str> = info.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "onnxruntime_version",
            "onnxruntime_memory",
            "onnxruntime_memory_access_num"
        ]
    );
    assert_eq!(info[0].1, ONNXRUNTIME_VERSION);
    assert!(info[1].1.parse::<u64>().unwrap() > 0, "{info:?}");
    assert!(info[2].1.parse::<u64>().unwrap() > 0, "{info:?}");
}

#[test]
fn mnist_recognises_a_one() {
    let plugin = backend();
    let model = store(&plugin, &reference_model("mnist.onnx"));
    assert_eq!(model.inputs(), ["Input3"]);
    assert_eq!(model.outputs(), ["Plus214_Output_0"]);
    let image = Tensor::from_blob(
        DType::Float,
        vec![1, 1, 28, 28],
        &reference_model("one.raw"),
    )
    .unwrap();
    let out = run(&model, &[&image]).unwrap();
    let scores = out[0].as_ref().expect("a tensor");
    assert_eq!(scores.dtype(), DType::Float);
    assert_eq!(scores.shape(), [1, 10]);
    let values = f32s(scores);
    let argmax = (0..10)
        .max_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap();
    assert_eq!(argmax, 1, "{values:?}");
}

#[test]
fn linear_iris_predicts() {
    let plugin = backend();
    let model = store(&plugin, &reference_model("linear_iris.onnx"));
    assert_eq!(model.inputs(), ["float_input"]);
    assert_eq!(model.outputs(), ["variable"]);
    let out = run(&model, &[&iris()]).unwrap();
    let prediction = out[0].as_ref().unwrap();
    assert_eq!(prediction.shape(), [1, 1]);
    let value = f32s(prediction)[0];
    assert!((value - -0.090_524_08).abs() < 1e-6, "{value}");
}

#[test]
fn logreg_gives_a_label_and_no_probability_map() {
    let plugin = backend();
    let model = store(&plugin, &reference_model("logreg_iris.onnx"));
    assert_eq!(model.outputs(), ["output_label", "output_probability"]);
    let out = run(&model, &[&iris()]).unwrap();
    assert_eq!(out.len(), 2);
    let label = out[0].as_ref().unwrap();
    assert_eq!(label.dtype(), DType::Int64);
    assert_eq!(label.shape(), [1]);
    assert_eq!(label.data(), 0i64.to_le_bytes());
    assert!(out[1].is_none(), "the sequence of maps is not a tensor");
}

/// Raw little-endian bytes of six sample elements of each numeric dtype (negatives included).
fn sample_blob(dtype: DType) -> Vec<u8> {
    match dtype {
        DType::Float => [1.5f32, -2.0, 0.0, 3.25, f32::MAX, -0.5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::Double => [1.5f64, -2.0, 0.0, 3.25, f64::MIN, 1e-300]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::Int8 => [1i8, -2, 0, 127, -128, 5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::Int16 => [1i16, -2, 0, i16::MAX, i16::MIN, 5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        DType::Int32 => [1i32, -2, 0, i32::MAX, i32::MIN, 5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
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
        DType::String => b"a\0\0redis\0\xc3\xa9\0x y\0\xff\xfe\0".to_vec(),
    }
}

#[test]
fn every_dtype_round_trips() {
    let plugin = backend();
    let mut checked = 0;
    for dtype in DType::ALL {
        let Some(blob) = fixture(&format!("identity_{}.onnx", dtype.name())) else {
            return;
        };
        let model = store(&plugin, &blob);
        let input = Tensor::from_blob(dtype, vec![2, 3], &sample_blob(dtype)).unwrap();
        let out = run(&model, &[&input]).unwrap_or_else(|e| panic!("{}: {e}", dtype.name()));
        let output = out[0].as_ref().unwrap();
        assert_eq!(output, &input, "{}", dtype.name());
        checked += 1;
    }
    assert_eq!(checked, 10);
}

#[test]
fn unaligned_and_non_canonical_inputs_are_converted() {
    let plugin = backend();
    let Some(blob) = fixture("identity_INT64.onnx") else {
        return;
    };
    let model = store(&plugin, &blob);
    // A view one byte into a buffer: not aligned for i64.
    let values: Vec<u8> = [7i64, -9].iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut shifted = vec![0u8];
    shifted.extend_from_slice(&values);
    let input = redisai_backend_api::TensorRef {
        dtype: DType::Int64,
        shape: &[1, 2],
        data: &shifted[1..],
    };
    let out = model.run(&[input]).unwrap();
    assert_eq!(out[0].as_ref().unwrap().data(), values.as_slice());

    // BOOL bytes other than 0/1 reach ONNX Runtime as true.
    let model = store(&plugin, &fixture("identity_BOOL.onnx").unwrap());
    let input = redisai_backend_api::TensorRef {
        dtype: DType::Bool,
        shape: &[1, 3],
        data: &[0, 2, 1],
    };
    let out = model.run(&[input]).unwrap();
    assert_eq!(out[0].as_ref().unwrap().data(), [0, 1, 1]);
}

#[test]
fn strings_in_and_out() {
    let plugin = backend();
    let Some(blob) = fixture("string_upper.onnx") else {
        return;
    };
    let model = store(&plugin, &blob);
    let input = tensor(DType::String, &[3], &["redis", "Ai", "\0"]);
    let out = run(&model, &[&input]).unwrap();
    let upper = out[0].as_ref().unwrap();
    assert_eq!(upper.dtype(), DType::String);
    assert_eq!(upper.shape(), [3]);
    assert_eq!(upper.data(), b"REDIS\0AI\0\0");
}

#[test]
fn two_inputs_two_outputs_by_position() {
    let plugin = backend();
    let Some(blob) = fixture("two_in_two_out.onnx") else {
        return;
    };
    let model = store(&plugin, &blob);
    assert_eq!(model.inputs(), ["a", "b"]);
    assert_eq!(model.outputs(), ["sum", "prod"]);
    let a = tensor(DType::Float, &[2, 2], &["1", "2", "3", "4"]);
    let b = tensor(DType::Float, &[2, 2], &["5", "6", "7", "8"]);
    let out = run(&model, &[&a, &b]).unwrap();
    assert_eq!(f32s(out[0].as_ref().unwrap()), [6.0, 8.0, 10.0, 12.0]);
    assert_eq!(f32s(out[1].as_ref().unwrap()), [5.0, 12.0, 21.0, 32.0]);
    // Swapped inputs: the sum is the same, the first input is now b.
    let out = run(&model, &[&b, &a]).unwrap();
    assert_eq!(f32s(out[0].as_ref().unwrap()), [6.0, 8.0, 10.0, 12.0]);

    let err = run(&model, &[&a]).unwrap_err();
    assert_eq!(err, "ERR Expected 2 inputs but got 1");
}

#[test]
fn symbolic_batch_dimension() {
    let plugin = backend();
    let Some(blob) = fixture("batch_mul2.onnx") else {
        return;
    };
    let model = store(&plugin, &blob);
    for batch in [1i64, 3, 8] {
        let values: Vec<String> = (0..batch * 3).map(|i| i.to_string()).collect();
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let x = tensor(DType::Float, &[batch, 3], &refs);
        let out = run(&model, &[&x]).unwrap();
        let y = out[0].as_ref().unwrap();
        assert_eq!(y.shape(), [batch, 3]);
        let expected: Vec<f32> = (0..batch * 3).map(|i| 2.0 * i as f32).collect();
        assert_eq!(f32s(y), expected);
    }
}

#[test]
fn concurrent_runs_of_one_model() {
    let plugin = backend();
    let model = Arc::new(store(&plugin, &reference_model("mnist.onnx")));
    let image = Arc::new(
        Tensor::from_blob(
            DType::Float,
            vec![1, 1, 28, 28],
            &reference_model("one.raw"),
        )
        .unwrap(),
    );
    let expected = run(&model, &[&image]).unwrap()[0].clone().unwrap();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (model, image) = (Arc::clone(&model), Arc::clone(&image));
            std::thread::spawn(move || {
                (0..20)
                    .map(|_| run(&model, &[&image]).unwrap()[0].clone().unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for worker in workers {
        for out in worker.join().unwrap() {
            assert_eq!(out, expected);
        }
    }
}

#[test]
fn garbage_blob_is_refused_with_ort_text() {
    let plugin = backend();
    let err = plugin.create_model(b"not a model", &cpu()).unwrap_err();
    assert_eq!(err, "Failed to load model because protobuf parsing failed.");
}

#[test]
fn wrong_input_dtype_and_shape_give_ort_text() {
    let plugin = backend();
    let model = store(&plugin, &reference_model("linear_iris.onnx"));
    let ints = tensor(DType::Int32, &[1, 4], &["1", "2", "3", "4"]);
    assert_eq!(
        run(&model, &[&ints]).unwrap_err(),
        "Unexpected input data type. Actual: (tensor(int32)) , expected: (tensor(float))"
    );
    // ONNX Runtime 1.31's wording (RedisAI's 1.12 said "the inputs or the model").
    let square = tensor(DType::Float, &[2, 2], &["1", "2", "3", "4"]);
    assert_eq!(
        run(&model, &[&square]).unwrap_err(),
        "Got invalid dimensions for input: float_input for the following indices\n \
         index: 0 Got: 2 Expected: 1\n index: 1 Got: 2 Expected: 4\n \
         Please fix either the inputs/outputs or the model."
    );
}

#[test]
fn gpu_without_cuda() {
    let plugin = backend();
    for (dev, name) in [(Device::Gpu(0), "GPU"), (Device::Gpu(1), "GPU:1")] {
        let err = plugin
            .create_model(&reference_model("linear_iris.onnx"), &device(dev, name))
            .unwrap_err();
        assert_eq!(err, "ERR GPU requested but ONNX couldn't find CUDA");
    }
}
