//! The keyspace the DAG properties parse against: the engine's in-memory double
//! (`redisai_engine::testing`), holding tensors `a`, `b`, `ia`, `ib` (FLOAT 2x2) and `x`
//! (STRING), models `m` (1 input, 1 output), `m2` (2 → 1), `m12` (1 → 2) and `m0` (0 → 0),
//! and scripts `s` (CPU) and `s2` (GPU:1); `plain` holds another type.

#![allow(unused_imports)]
use super::*;

use redisai_engine::testing::{self, Keyspace};

/// What every case starts from (models and scripts built once).
fn template() -> &'static Keyspace {
    static TEMPLATE: OnceLock<Keyspace> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let registry = testing::registry();
        let mut keys = Keyspace {
            max_tensor_bytes: 1 << 16,
            ..Keyspace::default()
        };
        let float = Arc::new(Tensor::from_blob(DType::Float, vec![2, 2], &[0; 16]).unwrap());
        for key in ["a", "b", "ia", "ib"] {
            keys.tensors.insert(key.into(), Arc::clone(&float));
        }
        let string = Tensor::from_blob(DType::String, vec![1], b"s\0").unwrap();
        keys.tensors.insert(b"x".to_vec(), Arc::new(string));
        for (key, inputs, outputs) in [("m", 1, 1), ("m2", 2, 1), ("m12", 1, 2), ("m0", 0, 0)] {
            let model = testing::model(&registry, key.as_bytes(), inputs, outputs);
            keys.models.insert(key.into(), model);
        }
        for (key, device) in [("s", "CPU"), ("s2", "GPU:1")] {
            let script = testing::script(&registry, key.as_bytes(), device, b"", &["bar"]);
            keys.scripts.insert(key.into(), script);
        }
        keys
    })
}

/// A fresh keyspace with nothing looked up yet.
pub(crate) fn keyspace() -> Keyspace {
    let t = template();
    Keyspace {
        tensors: t.tensors.clone(),
        models: t.models.clone(),
        scripts: t.scripts.clone(),
        max_tensor_bytes: t.max_tensor_bytes,
        ..Keyspace::default()
    }
}
