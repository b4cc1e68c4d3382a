//! A backend plugin for the module's tests (never installed in `dist/`): an identity model that
//! panics on request, in model creation (blob `panic`) or in a run (a FLOAT input whose first
//! element is negative), so the tests can prove that a panic inside a backend becomes an error
//! reply and never crosses the ABI or kills a worker.

use redisai_backend_api::plugin::{BackendPlugin, PluginModel};
use redisai_backend_api::{BackendConfig, DType, ModelOptions, OutputTensor, TensorRef};

/// The test backend.
pub struct TestBackend;

/// One input `x`, one output `y` = `x`.
pub struct Identity {
    inputs: Vec<String>,
    outputs: Vec<String>,
}

impl BackendPlugin for TestBackend {
    type Model = Identity;

    fn init(_config: &BackendConfig) -> Result<Self, String> {
        Ok(TestBackend)
    }

    fn version(&self) -> String {
        "test".into()
    }

    fn create_model(&self, blob: &[u8], _options: &ModelOptions) -> Result<Identity, String> {
        match blob {
            b"panic" => panic!("the test backend was asked to panic while creating a model"),
            b"identity" => Ok(Identity {
                inputs: vec!["x".into()],
                outputs: vec!["y".into()],
            }),
            _ => Err("not a test model".into()),
        }
    }
}

impl PluginModel for Identity {
    fn inputs(&self) -> &[String] {
        &self.inputs
    }

    fn outputs(&self) -> &[String] {
        &self.outputs
    }

    fn run(&self, inputs: &[TensorRef<'_>]) -> Result<Vec<Option<OutputTensor>>, String> {
        let x = inputs[0];
        if x.dtype == DType::Float && x.data.len() >= 4 {
            let first = f32::from_le_bytes([x.data[0], x.data[1], x.data[2], x.data[3]]);
            if first < 0.0 {
                panic!("the test backend was asked to panic while running");
            }
        }
        Ok(vec![Some(OutputTensor::from_vec(
            x.dtype,
            x.shape.to_vec(),
            x.data.to_vec(),
        ))])
    }
}

redisai_backend_api::export_backend!(TestBackend);
