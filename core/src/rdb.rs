//! RDB encoding of module values, over a small `Source`/`Sink` abstraction of Redis's module IO
//! primitives (`SaveUnsigned`, `SaveSigned`, `SaveStringBuffer` and their loaders).
//!
//! Layouts are RedisAI's, so RDB files and DUMP payloads move between RedisAI and this module.

use std::sync::Arc;

use crate::backend::Backend;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::model::{chunks, ModelRecord};
use crate::script::ScriptRecord;
use crate::tensor::Tensor;

/// Current encoding version of every RedisAI data type.
pub const ENCODING_VERSION: i32 = 4;

/// Device type code of the CPU in DLPack (the only device old tensor encodings may carry).
const DL_CPU: u64 = 1;

/// Reads module values back (implemented over `RedisModuleIO` by the module crate).
pub trait Source {
    fn load_unsigned(&mut self) -> Result<u64>;
    fn load_signed(&mut self) -> Result<i64>;
    fn load_buffer(&mut self) -> Result<Vec<u8>>;
}

/// Writes module values.
pub trait Sink {
    fn save_unsigned(&mut self, value: u64);
    fn save_signed(&mut self, value: i64);
    fn save_buffer(&mut self, bytes: &[u8]);
}

/// Writes a tensor in the encoding version 4 layout.
pub fn save_tensor(sink: &mut impl Sink, tensor: &Tensor) {
    sink.save_unsigned(tensor.dtype().code().into());
    sink.save_unsigned(tensor.dtype().bits().into());
    sink.save_signed(tensor.shape().len() as i64);
    for &dim in tensor.shape() {
        sink.save_signed(dim);
    }
    sink.save_buffer(tensor.data());
    for offset in tensor.string_offsets() {
        sink.save_unsigned(offset);
    }
}

/// Reads a tensor written with encoding version `encver` (0 to 4).
pub fn load_tensor(source: &mut impl Source, encver: i32) -> Result<Tensor> {
    match encver {
        4 => load_tensor_v4(source),
        0..=3 => load_tensor_v0(source),
        _ => Err(Error::rdb(
            "tensor",
            format!("encoding version {encver} is not supported"),
        )),
    }
}

fn load_tensor_v4(source: &mut impl Source) -> Result<Tensor> {
    let code = source.load_unsigned()?;
    let bits = source.load_unsigned()?;
    let dtype = DType::from_code_bits(code, bits)
        .ok_or_else(|| Error::rdb("tensor", format!("unknown dtype code {code} bits {bits}")))?;
    let ndim = source.load_signed()?;
    let ndim = usize::try_from(ndim).map_err(|_| Error::rdb("tensor", "negative rank"))?;
    let mut shape = Vec::new();
    for _ in 0..ndim {
        let dim = source.load_signed()?;
        if dim < 0 {
            return Err(Error::rdb("tensor", "negative dimension"));
        }
        shape.push(dim);
    }
    let data = source.load_buffer()?;
    let tensor = Tensor::from_parts(dtype, shape, data)?;
    // STRING offsets follow; they are derived from the data, so they are only checked.
    for expected in tensor.string_offsets() {
        if source.load_unsigned()? != expected {
            return Err(Error::rdb("tensor", "string offsets do not match data"));
        }
    }
    Ok(tensor)
}

/// Encoding versions 0 to 3 stored the whole DLTensor: device, dtype, lanes, shape, strides and
/// byte offset (the latter ignored).
fn load_tensor_v0(source: &mut impl Source) -> Result<Tensor> {
    let device_type = source.load_unsigned()?;
    let _device_id = source.load_unsigned()?;
    if device_type != DL_CPU {
        return Err(Error::rdb(
            "tensor",
            format!("device type {device_type} is not the CPU"),
        ));
    }
    let bits = source.load_unsigned()?;
    let code = source.load_unsigned()?;
    let _lanes = source.load_unsigned()?;
    let dtype = DType::from_code_bits(code, bits)
        .ok_or_else(|| Error::rdb("tensor", format!("unknown dtype code {code} bits {bits}")))?;
    let ndim = source.load_unsigned()?;
    let mut shape = Vec::new();
    for _ in 0..ndim {
        let dim = source.load_unsigned()?;
        shape.push(i64::try_from(dim).map_err(|_| Error::rdb("tensor", "dimension too large"))?);
    }
    for _ in 0..ndim {
        source.load_unsigned()?; // strides: always dense row-major
    }
    let _byte_offset = source.load_unsigned()?;
    let data = source.load_buffer()?;
    Tensor::from_parts(dtype, shape, data)
}

/// Writes a model in the encoding version 4 layout (SPEC §10.2): backend code, device (with a
/// trailing NUL), tag (without), BATCHSIZE, MINBATCHSIZE, MINBATCHTIMEOUT, the input and output
/// names (each with a trailing NUL, after their count), then the blob length, the number of
/// chunks and the chunks, cut by the chunking rule of [`crate::model::chunk_ranges`] with
/// `chunk_size` (MODEL_CHUNK_SIZE) bytes.
pub fn save_model(sink: &mut impl Sink, model: &ModelRecord, chunk_size: u64) {
    sink.save_unsigned(model.backend.code());
    save_c_string(sink, model.device.as_bytes());
    sink.save_buffer(&model.tag);
    sink.save_unsigned(model.batchsize);
    sink.save_unsigned(model.minbatchsize);
    sink.save_unsigned(model.minbatchtimeout);
    for names in [&model.inputs, &model.outputs] {
        sink.save_unsigned(names.len() as u64);
        for name in names {
            save_c_string(sink, name);
        }
    }
    let chunks = chunks(
        &model.blob,
        usize::try_from(chunk_size).unwrap_or(usize::MAX),
    );
    sink.save_unsigned(model.blob.len() as u64);
    sink.save_unsigned(chunks.len() as u64);
    for chunk in chunks {
        sink.save_buffer(chunk);
    }
}

/// Reads a model written with encoding version `encver` (0 to 4). Versions 2 to 4 share the
/// layout [`save_model`] writes; version 1 lacks MINBATCHTIMEOUT; version 0 also lacks it, keeps
/// the tag NUL-terminated and stores the blob as one buffer (no length, no chunks).
pub fn load_model(source: &mut impl Source, encver: i32) -> Result<ModelRecord> {
    if !(0..=4).contains(&encver) {
        return Err(Error::rdb(
            "model",
            format!("encoding version {encver} is not supported"),
        ));
    }
    let code = source.load_unsigned()?;
    let backend = Backend::from_code(code)
        .ok_or_else(|| Error::rdb("model", format!("unknown backend code {code}")))?;
    let device = String::from_utf8_lossy(&c_string(source.load_buffer()?)).into_owned();
    let tag = source.load_buffer()?;
    let tag = match encver {
        0 => c_string(tag),
        _ => tag,
    };
    let batchsize = source.load_unsigned()?;
    let minbatchsize = source.load_unsigned()?;
    let minbatchtimeout = match encver {
        0 | 1 => 0,
        _ => source.load_unsigned()?,
    };
    let inputs = load_names(source)?;
    let outputs = load_names(source)?;
    let blob = Arc::new(match encver {
        0 => source.load_buffer()?,
        _ => load_chunks(source)?,
    });
    Ok(ModelRecord {
        backend,
        device,
        tag,
        batchsize,
        minbatchsize,
        minbatchtimeout,
        inputs,
        outputs,
        blob,
    })
}

/// Writes a script in the encoding version 4 layout (SPEC §10.2): device (with a trailing NUL),
/// tag (without), source (with a trailing NUL), the number of entry points and their names (each
/// with a trailing NUL).
pub fn save_script(sink: &mut impl Sink, script: &ScriptRecord) {
    save_c_string(sink, script.device.as_bytes());
    sink.save_buffer(&script.tag);
    save_c_string(sink, &script.source);
    sink.save_unsigned(script.entry_points.len() as u64);
    for name in &script.entry_points {
        save_c_string(sink, name);
    }
}

/// Reads a script written with encoding version `encver` (0 to 4). Versions 3 and 4 share the
/// layout [`save_script`] writes; versions 1 and 2 have no entry points; version 0 also keeps
/// the tag NUL-terminated. The device, the source and the names are read as C strings (cut at
/// their first NUL).
pub fn load_script(source: &mut impl Source, encver: i32) -> Result<ScriptRecord> {
    if !(0..=4).contains(&encver) {
        return Err(Error::rdb(
            "script",
            format!("encoding version {encver} is not supported"),
        ));
    }
    let device = String::from_utf8_lossy(&c_string(source.load_buffer()?)).into_owned();
    let tag = source.load_buffer()?;
    let tag = match encver {
        0 => c_string(tag),
        _ => tag,
    };
    let script_source = c_string(source.load_buffer()?);
    let entry_points = match encver {
        3 | 4 => load_names(source)?,
        _ => Vec::new(),
    };
    Ok(ScriptRecord {
        device,
        tag,
        source: script_source,
        entry_points,
    })
}

/// Saves a string as RedisAI saves C strings: its bytes and one NUL, as one buffer.
fn save_c_string(sink: &mut impl Sink, bytes: &[u8]) {
    let mut buffer = Vec::with_capacity(bytes.len() + 1);
    buffer.extend_from_slice(bytes);
    buffer.push(0);
    sink.save_buffer(&buffer);
}

/// A loaded C string: everything before its first NUL (RedisAI reads these as C strings).
fn c_string(mut bytes: Vec<u8>) -> Vec<u8> {
    if let Some(end) = bytes.iter().position(|&b| b == 0) {
        bytes.truncate(end);
    }
    bytes
}

fn load_names(source: &mut impl Source) -> Result<Vec<Vec<u8>>> {
    let count = source.load_unsigned()?;
    let mut names = Vec::new();
    for _ in 0..count {
        names.push(c_string(source.load_buffer()?));
    }
    Ok(names)
}

/// The blob of versions 1 to 4: its length, the number of chunks, the chunks.
fn load_chunks(source: &mut impl Source) -> Result<Vec<u8>> {
    let len = source.load_unsigned()?;
    let n_chunks = source.load_unsigned()?;
    let mut blob = Vec::new();
    for _ in 0..n_chunks {
        let chunk = source.load_buffer()?;
        if (blob.len() + chunk.len()) as u64 > len {
            return Err(Error::rdb("model", "blob chunks exceed the blob length"));
        }
        blob.extend_from_slice(&chunk);
    }
    if blob.len() as u64 != len {
        return Err(Error::rdb(
            "model",
            "blob chunks do not add up to the blob length",
        ));
    }
    Ok(blob)
}

/// An in-memory `Source`/`Sink` recording the primitive calls, used by tests and tools.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Recording {
    pub items: std::collections::VecDeque<Item>,
}

/// One recorded module IO primitive.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Unsigned(u64),
    Signed(i64),
    Buffer(Vec<u8>),
}

impl Sink for Recording {
    fn save_unsigned(&mut self, value: u64) {
        self.items.push_back(Item::Unsigned(value));
    }
    fn save_signed(&mut self, value: i64) {
        self.items.push_back(Item::Signed(value));
    }
    fn save_buffer(&mut self, bytes: &[u8]) {
        self.items.push_back(Item::Buffer(bytes.to_vec()));
    }
}

impl Source for Recording {
    // Redis writes signed values with the unsigned opcode, so both loaders accept either.
    fn load_unsigned(&mut self) -> Result<u64> {
        match self.items.pop_front() {
            Some(Item::Unsigned(v)) => Ok(v),
            Some(Item::Signed(v)) => Ok(v as u64),
            other => Err(Error::rdb(
                "stream",
                format!("expected an integer, found {other:?}"),
            )),
        }
    }
    fn load_signed(&mut self) -> Result<i64> {
        self.load_unsigned().map(|v| v as i64)
    }
    fn load_buffer(&mut self) -> Result<Vec<u8>> {
        match self.items.pop_front() {
            Some(Item::Buffer(b)) => Ok(b),
            other => Err(Error::rdb(
                "stream",
                format!("expected a buffer, found {other:?}"),
            )),
        }
    }
}

#[cfg(test)]
mod script_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use Item::*;

    fn sample(dtype: DType) -> Tensor {
        let blob: &[u8] = match dtype {
            DType::String => b"a\0bc\0\0def\0",
            DType::Bool => &[1, 0, 1, 1],
            _ => &[0x11; 32][..4 * dtype.size()],
        };
        Tensor::from_blob(dtype, vec![2, 2], blob).unwrap()
    }

    fn encode(t: &Tensor) -> Recording {
        let mut rec = Recording::default();
        save_tensor(&mut rec, t);
        rec
    }

    #[test]
    fn v4_round_trips_every_dtype() {
        for dtype in DType::ALL {
            let t = sample(dtype);
            let mut rec = encode(&t);
            assert_eq!(load_tensor(&mut rec, 4).unwrap(), t);
            assert!(rec.items.is_empty());
        }
    }

    #[test]
    fn v4_layout_matches_redisai() {
        let t = Tensor::from_blob(DType::String, vec![2, 2], b"a\0bc\0\0def\0").unwrap();
        let expected = [
            Unsigned(7),
            Unsigned(8),
            Signed(2),
            Signed(2),
            Signed(2),
            Buffer(b"a\0bc\0\0def\0".to_vec()),
            Unsigned(0),
            Unsigned(2),
            Unsigned(5),
            Unsigned(6),
        ];
        assert_eq!(Vec::from(encode(&t).items), expected);
        let scalar = Tensor::from_blob(DType::Float, vec![], &3.5f32.to_le_bytes()).unwrap();
        let expected = [
            Unsigned(2),
            Unsigned(32),
            Signed(0),
            Buffer(3.5f32.to_le_bytes().to_vec()),
        ];
        assert_eq!(Vec::from(encode(&scalar).items), expected);
    }

    fn old_layout(t: &Tensor) -> Recording {
        let mut items = vec![
            Unsigned(1),
            Unsigned(0),
            Unsigned(t.dtype().bits().into()),
            Unsigned(t.dtype().code().into()),
        ];
        items.push(Unsigned(1));
        items.push(Unsigned(t.shape().len() as u64));
        items.extend(t.shape().iter().map(|&d| Unsigned(d as u64)));
        items.extend(t.shape().iter().map(|_| Unsigned(0)));
        items.push(Unsigned(0));
        items.push(Buffer(t.data().to_vec()));
        Recording {
            items: items.into(),
        }
    }

    #[test]
    fn old_versions_load_every_dtype() {
        for encver in 0..=3 {
            for dtype in DType::ALL {
                let t = sample(dtype);
                let mut rec = old_layout(&t);
                assert_eq!(
                    load_tensor(&mut rec, encver).unwrap(),
                    t,
                    "v{encver} {dtype:?}"
                );
            }
        }
    }

    #[test]
    fn bad_streams_are_errors() {
        let t = sample(DType::Int32);
        // Truncated at every position.
        let full = encode(&t);
        for cut in 0..full.items.len() {
            let mut rec = Recording {
                items: full.items.iter().take(cut).cloned().collect(),
            };
            assert!(load_tensor(&mut rec, 4).is_err(), "cut at {cut}");
        }
        // GPU tensor in an old encoding, unknown dtype, future version, wrong data length.
        let mut gpu = old_layout(&t);
        gpu.items[0] = Unsigned(2);
        assert!(load_tensor(&mut gpu, 2).is_err());
        let mut bad_dtype = encode(&t);
        bad_dtype.items[1] = Unsigned(24);
        assert!(load_tensor(&mut bad_dtype, 4).is_err());
        assert!(load_tensor(&mut encode(&t), 5).is_err());
        let mut short = encode(&t);
        short.items[5] = Buffer(vec![0; 3]);
        assert!(load_tensor(&mut short, 4).is_err());
        let mut neg = encode(&t);
        neg.items[3] = Signed(-2);
        assert!(load_tensor(&mut neg, 4).is_err());
        let mut offsets = encode(&sample(DType::String));
        offsets.items[7] = Unsigned(1);
        assert!(load_tensor(&mut offsets, 4).is_err());
    }
}

#[cfg(test)]
mod model_tests {
    use super::*;
    use Item::*;

    fn tf_model() -> ModelRecord {
        ModelRecord {
            backend: Backend::Tf,
            device: "gpu:1".into(),
            tag: b"v\x001".to_vec(),
            batchsize: 4,
            minbatchsize: 2,
            minbatchtimeout: 10,
            inputs: vec![b"a".to_vec(), b"b".to_vec()],
            outputs: vec![b"mul".to_vec()],
            blob: Arc::new((0..130u8).collect()),
        }
    }

    fn c(s: &[u8]) -> Item {
        let mut v = s.to_vec();
        v.push(0);
        Buffer(v)
    }

    #[test]
    fn v4_layout_matches_redisai() {
        let model = tf_model();
        let mut rec = Recording::default();
        save_model(&mut rec, &model, 64);
        let expected = vec![
            Unsigned(0),
            c(b"gpu:1"),
            Buffer(b"v\x001".to_vec()),
            Unsigned(4),
            Unsigned(2),
            Unsigned(10),
            Unsigned(2),
            c(b"a"),
            c(b"b"),
            Unsigned(1),
            c(b"mul"),
            Unsigned(130),
            Unsigned(3),
            Buffer(model.blob[..64].to_vec()),
            Buffer(model.blob[64..128].to_vec()),
            Buffer(model.blob[128..].to_vec()),
        ];
        assert_eq!(Vec::from(rec.items.clone()), expected);
        assert_eq!(load_model(&mut rec, 4).unwrap(), model);
        assert!(rec.items.is_empty());
    }

    #[test]
    fn v4_round_trips_every_backend_and_chunk_size() {
        for backend in Backend::ALL {
            for chunk_size in [1, 7, 64, 65, 130, 131, 1 << 20] {
                let mut model = tf_model();
                model.backend = backend;
                model.outputs = vec![Vec::new()]; // torch-style empty output name
                model.tag = Vec::new();
                let mut rec = Recording::default();
                save_model(&mut rec, &model, chunk_size);
                for encver in 2..=4 {
                    let mut copy = rec.clone();
                    assert_eq!(load_model(&mut copy, encver).unwrap(), model);
                    assert!(copy.items.is_empty());
                }
            }
        }
        // An exact multiple of the chunk size ends with an empty chunk.
        let mut rec = Recording::default();
        save_model(&mut rec, &tf_model(), 65);
        assert_eq!(rec.items[12], Unsigned(3));
        assert_eq!(rec.items.back(), Some(&Buffer(Vec::new())));
    }

    /// The layout of encoding versions 0 and 1, built by hand.
    fn old_layout(model: &ModelRecord, encver: i32) -> Recording {
        let mut items = vec![Unsigned(model.backend.code()), c(model.device.as_bytes())];
        items.push(match encver {
            0 => c(&model.tag),
            _ => Buffer(model.tag.clone()),
        });
        items.push(Unsigned(model.batchsize));
        items.push(Unsigned(model.minbatchsize));
        for names in [&model.inputs, &model.outputs] {
            items.push(Unsigned(names.len() as u64));
            items.extend(names.iter().map(|n| c(n)));
        }
        if encver == 0 {
            items.push(Buffer(model.blob.to_vec()));
        } else {
            items.extend([Unsigned(130), Unsigned(2)]);
            items.extend([
                Buffer(model.blob[..100].to_vec()),
                Buffer(model.blob[100..].to_vec()),
            ]);
        }
        Recording {
            items: items.into(),
        }
    }

    #[test]
    fn old_versions_load() {
        let mut model = tf_model();
        model.tag = b"t1".to_vec();
        model.minbatchtimeout = 0;
        for encver in [0, 1] {
            let mut rec = old_layout(&model, encver);
            assert_eq!(load_model(&mut rec, encver).unwrap(), model, "v{encver}");
            assert!(rec.items.is_empty());
        }
        // The captured v0 TF dump has no node names.
        model.inputs.clear();
        model.outputs.clear();
        let mut rec = old_layout(&model, 0);
        assert_eq!(load_model(&mut rec, 0).unwrap(), model);
    }

    #[test]
    fn bad_model_streams_are_errors() {
        let mut full = Recording::default();
        save_model(&mut full, &tf_model(), 64);
        for cut in 0..full.items.len() {
            let mut rec = Recording {
                items: full.items.iter().take(cut).cloned().collect(),
            };
            assert!(load_model(&mut rec, 4).is_err(), "cut at {cut}");
        }
        assert!(load_model(&mut full.clone(), 5).is_err());
        assert!(load_model(&mut full.clone(), -1).is_err());
        let mut bad_backend = full.clone();
        bad_backend.items[0] = Unsigned(4);
        assert!(load_model(&mut bad_backend, 4).is_err());
        let mut long = full.clone();
        long.items[11] = Unsigned(129);
        assert!(load_model(&mut long, 4).is_err());
        let mut short = full.clone();
        short.items[11] = Unsigned(131);
        assert!(load_model(&mut short, 4).is_err());
        let mut wrong_kind = full.clone();
        wrong_kind.items[1] = Unsigned(1);
        assert!(load_model(&mut wrong_kind, 4).is_err());
    }
}
