//! The redisai-py client (installed in the project venv by scripts/setup.sh) against the module.

mod common;

use std::path::Path;
use std::process::Command;

use common::{golden_dir, Server};

#[test]
fn redisai_py_round_trip() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `make setup` (scripts/setup.sh creates the venv)",
        python.display()
    );
    let server = Server::start();
    let output = Command::new(&python)
        .arg(root.join("tests/clients/redisai_py_roundtrip.py"))
        .arg(server.socket())
        .arg(golden_dir().join("models"))
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "redisai-py round trip failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
