//! Model fixtures: the reference models vendored with the golden data, and the ONNX models the
//! project generates (tests/fixtures/make_onnx_models.py, into target/fixtures/onnx).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

use super::Frame;

/// A reference model or input of tests/golden/models (mnist.onnx, one.raw, ...).
pub fn reference(name: &str) -> Vec<u8> {
    let path = super::golden_dir().join("models").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fixtures/onnx")
}

static GENERATE: Once = Once::new();

/// A generated ONNX fixture, generating the set first if needed (the project venv's Python, made
/// by scripts/setup.sh, has the `onnx` package).
pub fn onnx(name: &str) -> Vec<u8> {
    GENERATE.call_once(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let venv = root.join(".venv/bin/python");
        let python = if venv.exists() {
            venv
        } else {
            PathBuf::from("python3")
        };
        let status = Command::new(python)
            .arg(root.join("tests/fixtures/make_onnx_models.py"))
            .arg(fixtures_dir())
            .status()
            .expect("run the fixture generator");
        assert!(
            status.success(),
            "fixture generator failed (run `make setup`)"
        );
    });
    let path = fixtures_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The elements of a TENSORGET VALUES reply (bulk strings for floats, integers otherwise) as f64.
pub fn numbers(frame: &Frame) -> Vec<f64> {
    match frame {
        Frame::Array(items) => items
            .iter()
            .map(|v| match v {
                Frame::BulkString(b) => String::from_utf8_lossy(b).parse().expect("a number"),
                Frame::Integer(n) => *n as f64,
                other => panic!("not a number: {other:?}"),
            })
            .collect(),
        other => panic!("expected an array of values, got {other:?}"),
    }
}

/// Little-endian f32 bytes.
pub fn f32_blob(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// `AI.MODELSTORE <key> <backend> <device> [options...] BLOB <blob>`; returns the reply.
pub fn store_model(
    c: &mut super::Client,
    key: &str,
    backend: &str,
    device: &str,
    options: &[&str],
    blob: &[u8],
) -> Frame {
    let mut args: Vec<&[u8]> = vec![b"AI.MODELSTORE", key.as_bytes(), backend.as_bytes()];
    args.push(device.as_bytes());
    args.extend(options.iter().map(|o| o.as_bytes()));
    args.push(b"BLOB");
    args.push(blob);
    c.call(&args)
}

/// [`store_model`] for the ONNX backend.
pub fn store_onnx(
    c: &mut super::Client,
    key: &str,
    device: &str,
    options: &[&str],
    blob: &[u8],
) -> Frame {
    store_model(c, key, "ONNX", device, options, blob)
}

/// Stores one.raw (the digit 1) at `key` as a FLOAT 1x1x28x28 tensor.
pub fn set_one_image(c: &mut super::Client, key: &str) {
    let img = reference("one.raw");
    let args: [&[u8]; 9] = [
        b"AI.TENSORSET",
        key.as_bytes(),
        b"FLOAT",
        b"1",
        b"1",
        b"28",
        b"28",
        b"BLOB",
        &img,
    ];
    let reply = c.call(&args);
    assert_eq!(reply, Frame::SimpleString(b"OK".to_vec()), "{reply:?}");
}
