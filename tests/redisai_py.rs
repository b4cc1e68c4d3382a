//! The redisai-py client (installed in the project venv by scripts/setup.sh) against the module:
//! tensors, ONNX and TORCH models, DAGs, scripts (store, get, execute with keys, inputs, args and
//! outputs, in DAGs, scan, delete, the deprecated set/run) and run statistics, through the
//! client's own calls (tests/clients/redisai_py_roundtrip.py).

mod common;

use std::path::Path;
use std::process::Command;

use common::{golden_dir, Server};

#[test]
fn redisai_py_round_trip() {
    needs!("redisai_py_round_trip", "TF", "TORCH");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = common::venv_python();
    let server = Server::start();
    // A TorchScript model with two outputs, built from source by the TORCH plugin.
    let two_outputs = server.dir().join("two_outputs.pt");
    let model = common::torch::torch_model("def forward(self, a, b):\n    return a + b, a * b\n");
    std::fs::write(&two_outputs, model).expect("write the model");
    let output = Command::new(&python)
        .arg(root.join("tests/clients/redisai_py_roundtrip.py"))
        .arg(server.socket())
        .arg(golden_dir().join("models"))
        .arg(&two_outputs)
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "redisai-py round trip failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
