//! The TF backend through the plugin ABI: RedisAI's reference graph, node-name checks, every
//! dtype, STRING, inputs by position, free batch dimensions, concurrent runs, and the error
//! texts clients see (TensorFlow's own, or RedisAI's).

mod common;

use std::sync::Arc;

use common::graphdef::{dt, dt_of, identity, Attr, GraphDef};
use common::*;
use redisai_backend_api::{DType, Device, TensorRef};
use redisai_core::Tensor;

fn two_by_two() -> Tensor {
    tensor(DType::Float, &[2, 2], &["2", "3", "2", "3"])
}

#[test]
fn version_and_info_fields() {
    let plugin = plugin();
    assert_eq!(plugin.version(), TENSORFLOW_VERSION);
    assert_eq!(
        plugin.info(),
        [(
            "TensorFlow_version".to_string(),
            TENSORFLOW_VERSION.to_string()
        )]
    );
}

#[test]
fn reference_graph_multiplies() {
    let model = reference_graph(&["mul"]);
    assert_eq!(model.inputs(), ["a", "b"]);
    assert_eq!(model.outputs(), ["mul"]);
    let (a, b) = (two_by_two(), two_by_two());
    let out = run_one(&model, &[&a, &b]);
    assert_eq!(out.dtype(), DType::Float);
    assert_eq!(out.shape(), [2, 2]);
    assert_eq!(f32s(&out), [4.0, 9.0, 4.0, 9.0]);

    // Any operation is an output (port 0), several at once, in the order given.
    let model = reference_graph(&["c", "mul"]);
    let out = run(&model, &[&a, &b]).unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(f32s(out[0].as_ref().unwrap()), [4.0, 9.0, 4.0, 9.0]);
    assert_eq!(out[1], out[0]);

    // An output that is also an input is accepted at store time; TensorFlow refuses to run it.
    let model = reference_graph(&["a"]);
    let err = run(&model, &[&a, &b]).unwrap_err();
    assert_eq!(err, "a:0 is both fed and fetched.");
}

#[test]
fn input_nodes_must_be_placeholders() {
    let graph = reference_model("graph.pb");
    for name in ["nosuch", "mul", "c", ""] {
        let err = try_store(&graph, &["a", name], &["mul"]).unwrap_err();
        assert_eq!(
            err,
            format!("ERR Input node named \"{name}\" not found in TF graph.")
        );
    }
}

#[test]
fn output_nodes_must_exist() {
    let graph = reference_model("graph.pb");
    let err = try_store(&graph, &["a", "b"], &["nosuch"]).unwrap_err();
    assert_eq!(
        err,
        "ERR Output node named \"nosuch\" not found in TF graph"
    );
    // Inputs are checked first.
    let err = try_store(&graph, &["x"], &["nosuch"]).unwrap_err();
    assert_eq!(err, "ERR Input node named \"x\" not found in TF graph.");
}

#[test]
fn garbage_blob_gives_tf_text() {
    let err = try_store(b"garbage", &["a", "b"], &["mul"]).unwrap_err();
    assert_eq!(err, "Invalid GraphDef");
}

#[test]
fn incompatible_shapes_give_tf_text() {
    let model = reference_graph(&["mul"]);
    let three = tensor(DType::Float, &[3], &["1", "2", "3"]);
    let err = run(&model, &[&two_by_two(), &three]).unwrap_err();
    // The host sends it on one line: RedisAI's reply is
    // `Incompatible shapes: [2,2] vs. [3] \t [[{{node mul}}]]`.
    assert_eq!(
        err,
        "Incompatible shapes: [2,2] vs. [3]\n\t [[{{node mul}}]]"
    );
}

#[test]
fn wrong_input_dtype_gives_tf_text() {
    let model = reference_graph(&["mul"]);
    let ints = tensor(DType::Int32, &[2, 2], &["1", "2", "3", "4"]);
    let err = run(&model, &[&two_by_two(), &ints]).unwrap_err();
    assert_eq!(err, "Expects arg[1] to be float but int32 is provided");
}

#[test]
fn input_count_is_checked() {
    let model = reference_graph(&["mul"]);
    let err = run(&model, &[&two_by_two()]).unwrap_err();
    assert_eq!(err, "ERR Expected 2 inputs but got 1");
}

/// Raw little-endian bytes of six sample elements of each dtype (negatives included).
fn sample_blob(dtype: DType) -> Vec<u8> {
    fn le<T: Copy, const N: usize>(values: &[T], f: fn(T) -> [u8; N]) -> Vec<u8> {
        values.iter().flat_map(|&v| f(v)).collect()
    }
    match dtype {
        DType::Float => le(&[1.5f32, -2.0, 0.0, 3.25, f32::MAX, -0.5], f32::to_le_bytes),
        DType::Double => le(
            &[1.5f64, -2.0, 0.0, 3.25, f64::MIN, 1e-300],
            f64::to_le_bytes,
        ),
        DType::Int8 => le(&[1i8, -2, 0, 127, -128, 5], i8::to_le_bytes),
        DType::Int16 => le(&[1i16, -2, 0, i16::MAX, i16::MIN, 5], i16::to_le_bytes),
        DType::Int32 => le(&[1i32, -2, 0, i32::MAX, i32::MIN, 5], i32::to_le_bytes),
        DType::Int64 => le(&[1i64, -2, 0, i64::MAX, i64::MIN, 5], i64::to_le_bytes),
        DType::Uint8 => vec![1, 2, 0, 255, 128, 5],
        DType::Uint16 => le(&[1u16, 2, 0, u16::MAX, 300, 5], u16::to_le_bytes),
        DType::Bool => vec![1, 0, 0, 1, 1, 0],
        // Empty, long (heap-allocated by TensorFlow) and non-UTF-8 elements.
        DType::String => {
            b"a\0\0redis\0a string longer than twenty-two bytes\0\xc3\xa9\0\xff\xfe\0".to_vec()
        }
    }
}

#[test]
fn every_dtype_round_trips() {
    for dtype in DType::ALL {
        let model = store(&identity(dt_of(dtype)), &["x"], &["y"]);
        let input = Tensor::from_blob(dtype, vec![2, 3], &sample_blob(dtype)).unwrap();
        let out = run(&model, &[&input]).unwrap_or_else(|e| panic!("{}: {e}", dtype.name()));
        assert_eq!(out[0].as_ref().unwrap(), &input, "{}", dtype.name());
    }
}

#[test]
fn non_canonical_bools_are_true() {
    // The host only stores 0 and 1, but the ABI does not promise it.
    let model = store(&identity(dt::BOOL), &["x"], &["y"]);
    let input = TensorRef {
        dtype: DType::Bool,
        shape: &[3],
        data: &[0, 2, 1],
    };
    let out = model.run(&[input]).unwrap();
    assert_eq!(out[0].as_ref().unwrap().data(), [0, 1, 1]);
}

#[test]
fn scalar_and_empty_tensors() {
    let model = store(&identity(dt::INT64), &["x"], &["y"]);
    let scalar = 42i64.to_le_bytes();
    let out = model
        .run(&[TensorRef {
            dtype: DType::Int64,
            shape: &[],
            data: &scalar,
        }])
        .unwrap();
    let y = out[0].as_ref().unwrap();
    assert_eq!((y.shape(), y.data()), (&[][..], &scalar[..]));

    let out = model
        .run(&[TensorRef {
            dtype: DType::Int64,
            shape: &[0, 3],
            data: &[],
        }])
        .unwrap();
    let y = out[0].as_ref().unwrap();
    assert_eq!((y.shape(), y.data()), (&[0, 3][..], &[][..]));

    let model = store(&identity(dt::STRING), &["x"], &["y"]);
    let out = model
        .run(&[TensorRef {
            dtype: DType::String,
            shape: &[2, 0],
            data: &[],
        }])
        .unwrap();
    let y = out[0].as_ref().unwrap();
    assert_eq!((y.shape(), y.data()), (&[2, 0][..], &[][..]));
}

#[test]
fn malformed_inputs_are_refused() {
    let model = store(&identity(dt::FLOAT), &["x"], &["y"]);
    let short = TensorRef {
        dtype: DType::Float,
        shape: &[2],
        data: &[0; 7],
    };
    let err = model.run(&[short]).unwrap_err();
    assert_eq!(err, "ERR input tensor data does not match its shape");
    let model = store(&identity(dt::STRING), &["x"], &["y"]);
    for data in [&b"a\0b"[..], b"a\0", b"a\0b\0c\0"] {
        let strings = TensorRef {
            dtype: DType::String,
            shape: &[2],
            data,
        };
        let err = model.run(&[strings]).unwrap_err();
        assert_eq!(err, "ERR input tensor data does not match its shape");
    }
}

#[test]
fn strings_in_and_out() {
    // y = StringJoin([x, x], separator="-")
    let graph = GraphDef::new()
        .placeholder("x", dt::STRING, Some(&[-1]))
        .node(
            "y",
            "StringJoin",
            &["x", "x"],
            &[("N", Attr::Int(2)), ("separator", Attr::Str(b"-"))],
        )
        .build();
    let model = store(&graph, &["x"], &["y"]);
    let input = Tensor::from_blob(DType::String, vec![3], b"redis\0\0\xff\0").unwrap();
    let out = run_one(&model, &[&input]);
    assert_eq!(out.dtype(), DType::String);
    assert_eq!(out.shape(), [3]);
    assert_eq!(out.data(), b"redis-redis\0-\0\xff-\xff\0");
}

#[test]
fn inputs_are_bound_by_position() {
    let graph = GraphDef::new()
        .placeholder("a", dt::FLOAT, None)
        .placeholder("b", dt::FLOAT, None)
        .apply("diff", "Sub", &["a", "b"], dt::FLOAT)
        .apply("sum", "AddV2", &["a", "b"], dt::FLOAT)
        .build();
    let a = tensor(DType::Float, &[2], &["10", "20"]);
    let b = tensor(DType::Float, &[2], &["1", "2"]);
    let model = store(&graph, &["a", "b"], &["diff", "sum"]);
    let out = run(&model, &[&a, &b]).unwrap();
    assert_eq!(f32s(out[0].as_ref().unwrap()), [9.0, 18.0]);
    assert_eq!(f32s(out[1].as_ref().unwrap()), [11.0, 22.0]);
    // INPUTS name the placeholders in the order the run feeds them.
    let model = store(&graph, &["b", "a"], &["diff"]);
    assert_eq!(f32s(&run_one(&model, &[&a, &b])), [-9.0, -18.0]);
}

#[test]
fn free_batch_dimension() {
    // y = x + x, x of shape [-1, 3]: any batch size runs.
    let graph = GraphDef::new()
        .placeholder("x", dt::FLOAT, Some(&[-1, 3]))
        .apply("y", "AddV2", &["x", "x"], dt::FLOAT)
        .build();
    let model = store(&graph, &["x"], &["y"]);
    for batch in [1i64, 3, 8] {
        let values: Vec<String> = (0..batch * 3).map(|i| i.to_string()).collect();
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let out = run_one(&model, &[&tensor(DType::Float, &[batch, 3], &refs)]);
        assert_eq!(out.shape(), [batch, 3]);
        let expected: Vec<f32> = (0..batch * 3).map(|i| 2.0 * i as f32).collect();
        assert_eq!(f32s(&out), expected);
    }
}

#[test]
fn unsupported_output_type() {
    let graph = GraphDef::new()
        .placeholder("x", dt::FLOAT, None)
        .node(
            "h",
            "Cast",
            &["x"],
            &[
                ("SrcT", Attr::Type(dt::FLOAT)),
                ("DstT", Attr::Type(dt::HALF)),
            ],
        )
        .build();
    let model = store(&graph, &["x"], &["h"]);
    let err = run(&model, &[&two_by_two()]).unwrap_err();
    assert_eq!(err, "ERR unsupported TF output type half");
}

#[test]
fn concurrent_runs_of_one_model() {
    let model = Arc::new(reference_graph(&["mul"]));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let model = Arc::clone(&model);
            std::thread::spawn(move || {
                for i in 0..50 {
                    let v = (w * 100 + i).to_string();
                    let a = tensor(DType::Float, &[2], &[&v, "1"]);
                    let b = tensor(DType::Float, &[2], &["2", &v]);
                    let expected = 2.0 * (w * 100 + i) as f32;
                    assert_eq!(
                        f32s(&run_one(&model, &[&a, &b])),
                        [expected, expected / 2.0]
                    );
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
}

#[test]
fn gpu_is_refused() {
    let plugin = plugin();
    let graph = reference_model("graph.pb");
    for device in [Device::Gpu(0), Device::Gpu(1)] {
        let err = plugin
            .create_model(&graph, &options(device, &["a", "b"], &["mul"]))
            .unwrap_err();
        assert_eq!(err, "ERR GPU requested but TF couldn't find CUDA");
    }
}

#[test]
fn plugin_finds_tensorflow_beside_itself() {
    let plugin = built_plugin();
    let Ok(out) = std::process::Command::new("readelf")
        .arg("-d")
        .arg(&plugin)
        .output()
    else {
        eprintln!("SKIPPED: readelf is not available");
        return;
    };
    let dynamic = String::from_utf8_lossy(&out.stdout);
    assert!(
        dynamic.contains("runpath: [$ORIGIN/lib]") || dynamic.contains("rpath: [$ORIGIN/lib]"),
        "{dynamic}"
    );
    for library in LIBRARIES {
        assert!(dynamic.contains(&format!("[{library}]")), "{dynamic}");
    }
}
