//! The allocation limit of the TFLite backend: tract sizes every value of a plan from the shapes
//! alone, so a model whose values exceed the limit is refused before it runs, at store time for
//! fixed shapes and before each run for a batched model.

mod common;

use common::builder::{i32_bytes, Builder, Options};
use common::*;
use redisai_backend_api::sandbox::allocation_refused;
use redisai_backend_api::DType;
use tract_tflite::tflite::{BuiltinOperator as Op, TensorType as T};

/// x [1] -> BROADCAST_TO(shape) -> y: a value of `elements` floats.
fn broadcast_model(elements: i32) -> Vec<u8> {
    let mut b = Builder::default();
    let x = b.tensor("x", T::FLOAT32, &[1]);
    let shape = b.constant("shape", T::INT32, &[1], i32_bytes(&[elements]));
    let y = b.tensor("y", T::FLOAT32, &[elements]);
    b.op(Op::BROADCAST_TO, &[x, shape], &[y], Options::None);
    b.io(&[x], &[y]);
    b.finish()
}

#[test]
fn a_model_whose_values_exceed_the_limit_is_refused_at_store_time() {
    let model = store(&broadcast_model(4));
    let x = tensor(DType::Float, &[1], &["2"]);
    assert_eq!(
        f32s(run(&model, &[&x]).unwrap()[0].as_ref().unwrap()),
        [2.0; 4]
    );
    let elements = (ALLOCATION_LIMIT / 4 + 1) as i32;
    let err = plugin()
        .create_model(&broadcast_model(elements), &cpu())
        .expect_err("refused");
    assert_eq!(
        err,
        allocation_refused(elements as u64 * 4, ALLOCATION_LIMIT)
    );
}

/// BROADCAST_TO(constant, constant shape) -> y: a constant tract may fold while it builds.
fn constant_broadcast_model(elements: i32) -> Vec<u8> {
    let mut b = Builder::default();
    let x = b.tensor("x", T::FLOAT32, &[1]);
    let one = b.constant("one", T::FLOAT32, &[1], common::builder::f32_bytes(&[1.0]));
    let shape = b.constant("shape", T::INT32, &[1], i32_bytes(&[elements]));
    let big = b.tensor("big", T::FLOAT32, &[elements]);
    let y = b.tensor("y", T::FLOAT32, &[elements]);
    b.op(Op::BROADCAST_TO, &[one, shape], &[big], Options::None);
    b.op(Op::ADD, &[big, x], &[y], Options::Add);
    b.io(&[x], &[y]);
    b.finish()
}

#[test]
fn constants_too_large_are_refused_before_they_are_computed() {
    // 8 GB of constant: refused from the shapes, never folded.
    let elements = 2_000_000_000;
    let started = std::time::Instant::now();
    let err = plugin()
        .create_model(&constant_broadcast_model(elements), &cpu())
        .expect_err("refused");
    assert_eq!(
        err,
        allocation_refused(elements as u64 * 4, ALLOCATION_LIMIT)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
