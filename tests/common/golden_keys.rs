//! The 17 keys of the RDB file the original RedisAI saved (tests/golden/rdb-contents.md), parsed
//! from that description, and what a client must read back from each of them.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{golden_dir, render, unhex, Client, Frame};

/// What a key holds, as rdb-contents.md describes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Contents {
    Tensor {
        dtype: String,
        shape: Vec<i64>,
        /// Integers for the integer dtypes and BOOL, strings otherwise (as TENSORGET replies).
        values: Vec<Value>,
        blob: Vec<u8>,
    },
    Model {
        backend: String,
        device: String,
        tag: String,
        batchsize: i64,
        minbatchsize: i64,
        minbatchtimeout: i64,
        inputs: Vec<String>,
        outputs: Vec<String>,
        blob_len: usize,
        blob_sha256: String,
    },
    Script {
        device: String,
        tag: String,
        entry_points: Vec<String>,
        source: String,
    },
}

/// One key of the golden RDB.
#[derive(Debug, Clone, PartialEq)]
pub struct GoldenKey {
    pub name: String,
    /// The `TYPE` reply: AI_TENSOR, AI__MODEL or AI_SCRIPT.
    pub kind: String,
    pub contents: Contents,
}

/// `name: `value`` pairs of one `- ` line; a value not in backticks runs to the end of the line
/// (`blob: 277 bytes, sha256 `...``).
fn fields(line: &str, into: &mut BTreeMap<String, String>) {
    let mut rest = line;
    while let Some((name, tail)) = rest.split_once(": ") {
        let name = name.trim_start_matches(", ").trim().to_lowercase();
        match tail.strip_prefix('`') {
            Some(quoted) => {
                let (value, after) = quoted.split_once('`').expect("closing backtick");
                into.insert(name, value.to_string());
                rest = after;
            }
            None => {
                into.insert(name, tail.to_string());
                return;
            }
        }
    }
}

fn json(fields: &BTreeMap<String, String>, name: &str) -> Value {
    let text = fields
        .get(name)
        .unwrap_or_else(|| panic!("no `{name}` field"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("`{name}`: {text}: {e}"))
}

fn text(fields: &BTreeMap<String, String>, name: &str) -> String {
    json(fields, name)
        .as_str()
        .expect("a JSON string")
        .to_string()
}

fn int(fields: &BTreeMap<String, String>, name: &str) -> i64 {
    json(fields, name).as_i64().expect("a JSON integer")
}

fn list(fields: &BTreeMap<String, String>, name: &str) -> Vec<Value> {
    json(fields, name).as_array().expect("a JSON list").clone()
}

fn strings(fields: &BTreeMap<String, String>, name: &str) -> Vec<String> {
    let items = list(fields, name);
    let item = |v: &Value| v.as_str().expect("a JSON string").to_string();
    items.iter().map(item).collect()
}

fn contents(kind: &str, f: &BTreeMap<String, String>, source: Option<String>) -> Contents {
    match kind {
        "AI_TENSOR" => Contents::Tensor {
            dtype: f["dtype"].clone(),
            shape: list(f, "shape")
                .iter()
                .map(|d| d.as_i64().expect("a dim"))
                .collect(),
            values: list(f, "values"),
            blob: unhex(&f["blob (hex)"]),
        },
        "AI__MODEL" => {
            // "277 bytes, sha256 `6889...`"
            let blob = &f["blob"];
            let (len, sha) = blob.split_once(" bytes, sha256 `").expect("blob line");
            Contents::Model {
                backend: text(f, "backend"),
                device: text(f, "device"),
                tag: text(f, "tag"),
                batchsize: int(f, "batchsize"),
                minbatchsize: int(f, "minbatchsize"),
                minbatchtimeout: int(f, "minbatchtimeout"),
                inputs: strings(f, "inputs"),
                outputs: strings(f, "outputs"),
                blob_len: len.parse().expect("blob length"),
                blob_sha256: sha.trim_end_matches('`').to_string(),
            }
        }
        "AI_SCRIPT" => Contents::Script {
            device: f["device"].clone(),
            tag: f["tag"].clone(),
            entry_points: strings(f, "entry points"),
            source: source.expect("a script has a source block"),
        },
        other => panic!("unknown type {other}"),
    }
}

/// Every key of rdb-contents.md, in its order.
pub fn rdb_contents() -> Vec<GoldenKey> {
    let text = std::fs::read_to_string(golden_dir().join("rdb-contents.md")).expect("md");
    let mut keys = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        // ## `t_uint8` (AI_TENSOR)
        let Some(heading) = line.strip_prefix("## `") else {
            continue;
        };
        let (name, kind) = heading.split_once("` (").expect("`name` (TYPE)");
        let kind = kind.trim_end_matches(')').to_string();
        let mut f = BTreeMap::new();
        let mut source = None;
        while let Some(line) = lines.next_if(|l| !l.starts_with("## ")) {
            if line.starts_with("```python") {
                let mut block = String::new();
                for code in lines.by_ref().take_while(|l| !l.starts_with("```")) {
                    block.push_str(code);
                    block.push('\n');
                }
                source = Some(block);
            } else if let Some(item) = line.strip_prefix("- ") {
                fields(item, &mut f);
            }
        }
        keys.push(GoldenKey {
            name: name.to_string(),
            contents: contents(&kind, &f, source),
            kind,
        });
    }
    keys
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn bulk(s: impl AsRef<[u8]>) -> Frame {
    Frame::BulkString(s.as_ref().to_vec())
}

fn bulks(items: &[String]) -> Frame {
    Frame::Array(items.iter().map(bulk).collect())
}

/// A model blob shown by length and digest.
fn digest(frame: &Frame) -> Frame {
    match frame {
        Frame::BulkString(b) => bulk(format!("<{} bytes sha256={}>", b.len(), sha256_hex(b))),
        other => other.clone(),
    }
}

/// The reads that show a key's contents, and the replies this key must give to them.
pub fn expected_reads(key: &GoldenKey) -> Vec<(Vec<String>, Frame)> {
    let k = key.name.clone();
    let cmd = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    let mut reads = vec![(
        cmd(&["TYPE", &k]),
        Frame::SimpleString(key.kind.clone().into()),
    )];
    match &key.contents {
        Contents::Tensor {
            dtype,
            shape,
            values,
            blob,
        } => {
            let shape = Frame::Array(shape.iter().map(|&d| Frame::Integer(d)).collect());
            let meta_blob = [bulk("dtype"), bulk(dtype), bulk("shape"), shape];
            let meta_blob = Frame::Array([&meta_blob[..], &[bulk("blob"), bulk(blob)]].concat());
            let values = values.iter().map(|v| match v {
                Value::Number(n) => Frame::Integer(n.as_i64().expect("an integer")),
                Value::String(s) => bulk(s),
                other => panic!("{other:?}"),
            });
            reads.push((cmd(&["AI.TENSORGET", &k, "META", "BLOB"]), meta_blob));
            let values = Frame::Array(values.collect());
            reads.push((cmd(&["AI.TENSORGET", &k, "VALUES"]), values));
        }
        Contents::Model {
            backend,
            device,
            tag,
            batchsize,
            minbatchsize,
            minbatchtimeout,
            inputs,
            outputs,
            blob_len,
            blob_sha256,
        } => {
            let meta = Frame::Array(vec![
                bulk("backend"),
                bulk(backend),
                bulk("device"),
                bulk(device),
                bulk("tag"),
                bulk(tag),
                bulk("batchsize"),
                Frame::Integer(*batchsize),
                bulk("minbatchsize"),
                Frame::Integer(*minbatchsize),
                bulk("inputs"),
                bulks(inputs),
                bulk("outputs"),
                bulks(outputs),
                bulk("minbatchtimeout"),
                Frame::Integer(*minbatchtimeout),
            ]);
            reads.push((cmd(&["AI.MODELGET", &k, "META"]), meta));
            let blob = bulk(format!("<{blob_len} bytes sha256={blob_sha256}>"));
            reads.push((cmd(&["AI.MODELGET", &k, "BLOB"]), blob));
        }
        Contents::Script {
            device,
            tag,
            entry_points,
            source,
        } => {
            let all = Frame::Array(vec![
                bulk("device"),
                bulk(device),
                bulk("tag"),
                bulk(tag),
                bulk("Entry Points"),
                bulks(entry_points),
                bulk("source"),
                bulk(source),
            ]);
            reads.push((cmd(&["AI.SCRIPTGET", &k]), all));
            reads.push((cmd(&["AI.SCRIPTGET", &k, "SOURCE"]), bulk(source)));
        }
    }
    reads
}

/// Runs one read of `expected_reads` on `c`; a model's BLOB comes back as length and digest.
pub fn read(c: &mut Client, command: &[String]) -> Frame {
    let reply = c.call(command);
    match command {
        [get, _, blob] if get == "AI.MODELGET" && blob == "BLOB" => digest(&reply),
        _ => reply,
    }
}

/// Every difference between what `c` serves and the golden keys, one line each.
pub fn differences(c: &mut Client, keys: &[GoldenKey]) -> Vec<String> {
    let mut out = Vec::new();
    for key in keys {
        for (command, expected) in expected_reads(key) {
            let got = read(c, &command);
            if got != expected {
                out.push(format!(
                    "{}\n  expected {}\n  got      {}",
                    command.join(" "),
                    render(&expected),
                    render(&got)
                ));
            }
        }
    }
    out
}

/// Asserts that `c` serves every golden key exactly (`when` names the moment in messages).
pub fn assert_golden_keys(c: &mut Client, keys: &[GoldenKey], when: &str) {
    let diffs = differences(c, keys);
    assert!(
        diffs.is_empty(),
        "{when}: {} reads differ:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
