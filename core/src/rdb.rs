//! RDB encoding of module values, over a small `Source`/`Sink` abstraction of Redis's module IO
//! primitives (`SaveUnsigned`, `SaveSigned`, `SaveStringBuffer` and their loaders).
//!
//! Layouts are RedisAI's, so RDB files and DUMP payloads move between RedisAI and this module.

use crate::dtype::DType;
use crate::error::{Error, Result};
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
