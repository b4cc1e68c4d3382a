//! The TFLite backend through the plugin ABI with RedisAI's reference model
//! (`mnist_model_quant.tflite`): names, results, the shapes clients feed, batches, version and
//! INFO, the error texts clients see, GPU devices and concurrent runs.

mod common;

use std::sync::Arc;

use common::*;
use redisai_backend_api::{DType, Device};
use redisai_core::Tensor;

fn mnist() -> redisai_backend_api::host::LoadedModel {
    store(&reference_model("mnist_model_quant.tflite"))
}

/// The model's probabilities for `one.raw`, computed independently (numpy, with the model's
/// dequantized weights and every activation rounded to its declared quantization), quantized
/// like the model's int8 softmax (steps of 1/256).
const ONE_PROBABILITIES: [f32; 10] = [
    0.003_906_25,
    0.554_687_5,
    0.003_906_25,
    0.015_625,
    0.132_812_5,
    0.015_625,
    0.007_812_5,
    0.039_062_5,
    0.031_25,
    0.199_218_75,
];

fn assert_probabilities(values: &[f32], expected: &[f32]) {
    assert_eq!(values.len(), expected.len());
    for (v, e) in values.iter().zip(expected) {
        // One quantization step of rounding difference at most.
        assert!(
            (v - e).abs() <= 1.0 / 256.0 + 1e-6,
            "{values:?} vs {expected:?}"
        );
    }
}

#[test]
fn version_and_info_fields() {
    let plugin = plugin();
    assert_eq!(plugin.version(), "NA");
    assert_eq!(
        plugin.info(),
        [("TensorFlowLite_version".to_string(), "NA".to_string())]
    );
}

#[test]
fn mnist_recognises_a_one() {
    let model = mnist();
    assert_eq!(model.inputs(), ["Placeholder"]);
    assert_eq!(model.outputs(), ["ArgMax", "Softmax"]);
    let out = run_ok(&model, &[&one_image()]);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].dtype(), DType::Int64);
    assert_eq!(out[0].shape(), [1]);
    assert_eq!(i64s(&out[0]), [1]);
    assert_eq!(out[1].dtype(), DType::Float);
    assert_eq!(out[1].shape(), [1, 10]);
    assert_probabilities(&f32s(&out[1]), &ONE_PROBABILITIES);
}

#[test]
fn mnist_takes_the_image_in_any_shape_of_784_elements() {
    let model = mnist();
    let raw = reference_model("one.raw");
    // The declared [1, 28, 28], and [784]: the same image.
    for shape in [vec![1, 28, 28], vec![784], vec![28, 28]] {
        let image = Tensor::from_blob(DType::Float, shape.clone(), &raw).unwrap();
        let out = run_ok(&model, &[&image]);
        assert_eq!(i64s(&out[0]), [1], "{shape:?}");
        assert_eq!(out[1].shape(), [1, 10], "{shape:?}");
    }
}

#[test]
fn mnist_runs_batches() {
    let model = mnist();
    let raw = reference_model("one.raw");
    let blank = vec![0u8; raw.len()];
    // One, blank, one: as the module concatenates requests along dim 0.
    let batch: Vec<u8> = [&raw[..], &blank, &raw].concat();
    let images = Tensor::from_blob(DType::Float, vec![3, 1, 28, 28], &batch).unwrap();
    let out = run_ok(&model, &[&images]);
    assert_eq!(out[0].shape(), [3]);
    assert_eq!(out[1].shape(), [3, 10]);
    let labels = i64s(&out[0]);
    assert_eq!((labels[0], labels[2]), (1, 1));
    let probabilities = f32s(&out[1]);
    assert_probabilities(&probabilities[..10], &ONE_PROBABILITIES);
    assert_probabilities(&probabilities[20..], &ONE_PROBABILITIES);
    // The blank image's row is its own (the same as running it alone).
    let alone = Tensor::from_blob(DType::Float, vec![1, 1, 28, 28], &blank).unwrap();
    let alone = run_ok(&model, &[&alone]);
    assert_eq!(i64s(&alone[0]), [labels[1]]);
    assert_eq!(f32s(&alone[1]), probabilities[10..20]);
}

#[test]
fn garbage_blobs_are_refused() {
    let plugin = plugin();
    for blob in [&b"not a model"[..], b"", &[0u8; 64]] {
        let err = plugin.create_model(blob, &cpu()).unwrap_err();
        assert_eq!(err, "Failed to load model from buffer");
    }
    // A truncated model too.
    let model = reference_model("mnist_model_quant.tflite");
    let err = plugin.create_model(&model[..1000], &cpu()).unwrap_err();
    assert_eq!(err, "Failed to load model from buffer");
}

#[test]
fn wrong_input_count() {
    let model = mnist();
    let image = one_image();
    assert_eq!(
        run(&model, &[&image, &image]).unwrap_err(),
        "Inconsistent number of inputs"
    );
    assert_eq!(
        run(&model, &[]).unwrap_err(),
        "Inconsistent number of inputs"
    );
}

#[test]
fn wrong_input_dtype() {
    let model = mnist();
    let raw = reference_model("one.raw");
    for dtype in [DType::Double, DType::Int32, DType::Uint8] {
        let count = 784 * dtype.size();
        let image = Tensor::from_blob(dtype, vec![1, 28, 28], &raw.repeat(2)[..count]).unwrap();
        assert_eq!(
            run(&model, &[&image]).unwrap_err(),
            "Input tensor type doesn't match the type expected by the model definition",
            "{dtype:?}"
        );
    }
}

#[test]
fn wrong_input_shape() {
    let model = mnist();
    for shape in [[1i64, 27, 28], [2, 28, 27]] {
        let count = shape.iter().product::<i64>() as usize;
        let image = floats(&shape, &vec![0.5; count]);
        assert_eq!(
            run(&model, &[&image]).unwrap_err(),
            "Failed to resize input tensors",
            "{shape:?}"
        );
    }
}

#[test]
fn gpu_devices_are_refused() {
    let plugin = plugin();
    let blob = reference_model("mnist_model_quant.tflite");
    for (dev, name) in [(Device::Gpu(0), "GPU"), (Device::Gpu(1), "GPU:1")] {
        let err = plugin.create_model(&blob, &device(dev, name)).unwrap_err();
        assert_eq!(err, "Failed to set GPU delegate");
    }
    // Loading the buffer comes first, as in RedisAI.
    let err = plugin
        .create_model(b"garbage", &device(Device::Gpu(0), "GPU"))
        .unwrap_err();
    assert_eq!(err, "Failed to load model from buffer");
    // CPU:1 is a CPU.
    assert!(plugin
        .create_model(&blob, &device(Device::Cpu, "CPU:1"))
        .is_ok());
}

#[test]
fn concurrent_runs_of_one_model() {
    let model = Arc::new(mnist());
    let image = Arc::new(one_image());
    let expected = run_ok(&model, &[&image]);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (model, image) = (Arc::clone(&model), Arc::clone(&image));
            std::thread::spawn(move || {
                (0..10)
                    .map(|_| run_ok(&model, &[&image]))
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
