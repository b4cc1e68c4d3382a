//! The model and script DUMP payloads captured from RedisAI 1.2.7
//! (tests/golden/dump-payloads.json) decode with `load_model` / `load_script` to the contents
//! recorded in tests/golden/rdb-contents.md, and `save_model` / `save_script` write the very same
//! sequence of module IO values.

use redisai_core::rdb::{load_model, load_script, save_model, save_script, Item, Recording};
use redisai_core::script::ScriptRecord;
use redisai_core::Backend;

/// RedisAI's default MODEL_CHUNK_SIZE (511 MiB), in effect when the payloads were captured.
const DEFAULT_CHUNK_SIZE: u64 = 511 * 1024 * 1024;

struct Expected {
    key: &'static str,
    backend: Backend,
    tag: &'static [u8],
    batchsize: u64,
    minbatchsize: u64,
    inputs: &'static [&'static [u8]],
    outputs: &'static [&'static [u8]],
    blob_len: usize,
    blob_sha256: &'static str,
}

const MODELS: [Expected; 3] = [
    Expected {
        key: "m_onnx",
        backend: Backend::Onnx,
        tag: b"iris:v1",
        batchsize: 4,
        minbatchsize: 2,
        inputs: &[b"float_input"],
        outputs: &[b"variable"],
        blob_len: 277,
        blob_sha256: "6889368882d4d1ee4929d567f726621b84c10e68677e8b9d29c35aa07eb35bbd",
    },
    Expected {
        key: "m_tf",
        backend: Backend::Tf,
        tag: b"",
        batchsize: 0,
        minbatchsize: 0,
        inputs: &[b"a", b"b"],
        outputs: &[b"mul"],
        blob_len: 150,
        blob_sha256: "aff05958dc63c5f2fd1ccd65266d910c052e9177a2928a108e0942c1ac25e1d2",
    },
    Expected {
        key: "m_torch",
        backend: Backend::Torch,
        tag: b"",
        batchsize: 0,
        minbatchsize: 0,
        inputs: &[b"a", b"b"],
        outputs: &[b""],
        blob_len: 1352,
        blob_sha256: "a13b18b02c46750857f454a6e38e73c32413ee8c7f0bf3e3fa8e63cbbfbc1302",
    },
];

#[test]
fn redisai_model_payloads_decode_and_encode_identically() {
    let json = include_str!("../../tests/golden/dump-payloads.json");
    for expected in &MODELS {
        let (encver, items) = decode_payload(&unhex(payload_hex(json, expected.key)));
        assert_eq!(encver, 4, "{}", expected.key);
        let mut source = Recording {
            items: items.clone().into(),
        };
        let model = load_model(&mut source, encver).unwrap();
        assert!(
            source.items.is_empty(),
            "{}: values left over",
            expected.key
        );
        assert_eq!(model.backend, expected.backend, "{}", expected.key);
        assert_eq!(model.device, "CPU");
        assert_eq!(model.tag, expected.tag, "{}", expected.key);
        assert_eq!(model.batchsize, expected.batchsize);
        assert_eq!(model.minbatchsize, expected.minbatchsize);
        assert_eq!(model.minbatchtimeout, 0);
        assert_eq!(model.inputs, expected.inputs, "{}", expected.key);
        assert_eq!(model.outputs, expected.outputs, "{}", expected.key);
        assert_eq!(model.blob.len(), expected.blob_len, "{}", expected.key);
        assert_eq!(
            hex(&sha256(&model.blob)),
            expected.blob_sha256,
            "{}",
            expected.key
        );

        let mut sink = Recording::default();
        save_model(&mut sink, &model, DEFAULT_CHUNK_SIZE);
        assert_eq!(
            Vec::from(sink.items),
            items,
            "{}: re-encoding differs",
            expected.key
        );
    }
}

/// The source of `s_script` (rdb-contents.md, and the transcripts' script section).
const SCRIPT_SOURCE: &str = "def bar(tensors: List[Tensor], keys: List[str], args: List[str]):
    a = tensors[0]
    b = tensors[1]
    return a + b

def bar_variadic(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] * tensors[1]

def helper(x: Tensor):
    return x + 1

def scale(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] * int(args[0])

def two_out(tensors: List[Tensor], keys: List[str], args: List[str]):
    return [tensors[0] + tensors[1], tensors[0] - tensors[1]]
";

#[test]
fn redisai_script_payload_decodes_and_encodes_identically() {
    let json = include_str!("../../tests/golden/dump-payloads.json");
    let (encver, items) = decode_payload(&unhex(payload_hex(json, "s_script")));
    assert_eq!(encver, 4);
    let mut source = Recording {
        items: items.clone().into(),
    };
    let script = load_script(&mut source, encver).unwrap();
    assert!(source.items.is_empty(), "values left over");
    let expected = ScriptRecord {
        device: "CPU".into(),
        tag: b"st1".to_vec(),
        source: SCRIPT_SOURCE.as_bytes().to_vec(),
        entry_points: ["bar", "bar_variadic", "scale", "two_out"]
            .map(|n| n.as_bytes().to_vec())
            .to_vec(),
    };
    assert_eq!(script, expected);
    // The source is the one rdb-contents.md shows.
    let contents = include_str!("../../tests/golden/rdb-contents.md");
    assert!(contents.contains(&format!("```python\n{SCRIPT_SOURCE}```")));

    let mut sink = Recording::default();
    save_script(&mut sink, &script);
    assert_eq!(Vec::from(sink.items), items, "re-encoding differs");
}

/// The `"hex"` field of `key`'s entry in dump-payloads.json.
fn payload_hex<'a>(json: &'a str, key: &str) -> &'a str {
    let entry = json.find(&format!("\"{key}\": {{")).expect("key in json");
    let field = "\"hex\": \"";
    let start = entry + json[entry..].find(field).expect("hex field") + field.len();
    let len = json[start..].find('"').expect("end of hex");
    &json[start..start + len]
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes a DUMP payload of a module value: RDB type 7 (module, v2), the module type id (its
/// low 10 bits are the encoding version), opcode-tagged values up to the EOF opcode, then the
/// 2-byte RDB version and the 8-byte CRC (not checked here).
fn decode_payload(payload: &[u8]) -> (i32, Vec<Item>) {
    let mut r = Reader {
        bytes: payload,
        pos: 0,
    };
    assert_eq!(r.byte(), 7, "RDB_TYPE_MODULE_2");
    let module_id = r.len();
    let encver = (module_id & 0x3ff) as i32;
    let mut items = Vec::new();
    loop {
        match r.len() {
            0 => break,
            2 => items.push(Item::Unsigned(r.len())),
            5 => items.push(Item::Buffer(r.string())),
            op => panic!("unexpected module opcode {op}"),
        }
    }
    assert_eq!(r.bytes.len() - r.pos, 10, "RDB version and CRC follow EOF");
    (encver, items)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        self.pos += 1;
        self.bytes[self.pos - 1]
    }

    fn take(&mut self, n: usize) -> &[u8] {
        self.pos += n;
        &self.bytes[self.pos - n..self.pos]
    }

    /// An RDB length; `Err` carries the special-encoding type of a string (`11xxxxxx`).
    fn len_or_encoding(&mut self) -> Result<u64, u8> {
        let first = self.byte();
        match first >> 6 {
            0 => Ok(u64::from(first & 0x3f)),
            1 => Ok(u64::from(first & 0x3f) << 8 | u64::from(self.byte())),
            2 if first == 0x80 => Ok(u64::from(u32::from_be_bytes(
                self.take(4).try_into().unwrap(),
            ))),
            2 if first == 0x81 => Ok(u64::from_be_bytes(self.take(8).try_into().unwrap())),
            3 => Err(first & 0x3f),
            _ => panic!("bad length byte {first:#x}"),
        }
    }

    fn len(&mut self) -> u64 {
        self.len_or_encoding().expect("a plain length")
    }

    /// An RDB string: raw, integer-encoded or LZF-compressed.
    fn string(&mut self) -> Vec<u8> {
        match self.len_or_encoding() {
            Ok(n) => self.take(n as usize).to_vec(),
            Err(0) => (self.byte() as i8).to_string().into_bytes(),
            Err(1) => i16::from_le_bytes(self.take(2).try_into().unwrap())
                .to_string()
                .into_bytes(),
            Err(2) => i32::from_le_bytes(self.take(4).try_into().unwrap())
                .to_string()
                .into_bytes(),
            Err(3) => {
                let compressed_len = self.len() as usize;
                let len = self.len() as usize;
                let out = lzf_decompress(self.take(compressed_len), len);
                assert_eq!(out.len(), len);
                out
            }
            Err(e) => panic!("unknown string encoding {e}"),
        }
    }
}

/// LZF decompression, as Redis compresses RDB strings.
fn lzf_decompress(input: &[u8], expected_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(expected_len);
    let mut i = 0;
    while i < input.len() {
        let ctrl = usize::from(input[i]);
        i += 1;
        if ctrl < 32 {
            out.extend_from_slice(&input[i..i + ctrl + 1]);
            i += ctrl + 1;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(input[i]);
                i += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + usize::from(input[i]) + 1;
            i += 1;
            let start = out.len() - back;
            for k in 0..len + 2 {
                out.push(out[start + k]);
            }
        }
    }
    out
}

/// SHA-256 (FIPS 180-4), enough to compare blobs with their recorded digests.
fn sha256(message: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut data = message.to_vec();
    data.push(0x80);
    while data.len() % 64 != 56 {
        data.push(0);
    }
    data.extend_from_slice(&(message.len() as u64 * 8).to_be_bytes());
    for block in data.chunks(64) {
        let mut w = [0u32; 64];
        for (t, word) in block.chunks(4).enumerate() {
            w[t] = u32::from_be_bytes(word.try_into().unwrap());
        }
        for t in 16..64 {
            let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
            let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16]
                .wrapping_add(s0)
                .wrapping_add(w[t - 7])
                .wrapping_add(s1);
        }
        let mut v = h;
        for t in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7]
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[t])
                .wrapping_add(w[t]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [
                t1.wrapping_add(t2),
                v[0],
                v[1],
                v[2],
                v[3].wrapping_add(t1),
                v[4],
                v[5],
                v[6],
            ];
        }
        for (x, y) in h.iter_mut().zip(v) {
            *x = x.wrapping_add(y);
        }
    }
    let mut digest = [0u8; 32];
    for (out, word) in digest.chunks_mut(4).zip(h) {
        out.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

#[test]
fn sha256_known_answers() {
    assert_eq!(
        hex(&sha256(b"")),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        hex(&sha256(b"abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        hex(&sha256(&[b'a'; 1000])),
        "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
    );
}
