//! The tensor value: an immutable, dense, row-major, little-endian buffer with a dtype and shape.
//!
//! Tensors are shared by reference count (`Arc<Tensor>`) between the keyspace, replies and model
//! runs, so their data is never copied after creation.

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::numparse::{parse_f64, parse_i64};
use crate::shape::Shape;

mod edit;

/// One element of a tensor, as TENSORGET VALUES replies it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// INT*, UINT* and BOOL elements (RESP integers).
    Int(i64),
    /// FLOAT and DOUBLE elements (RESP2 `%.17g` bulk strings).
    Float(f64),
    /// STRING elements, without their NUL terminator.
    Str(&'a [u8]),
}

/// A dense tensor. STRING tensors keep every element NUL-terminated in `data`, exactly as
/// RedisAI persists them; element offsets are derived on the fly, never stored (they would cost
/// eight bytes per element).
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    dtype: DType,
    shape: Shape,
    data: Vec<u8>,
    len: usize,
}

/// Number of elements of a shape (1 for a 0-d tensor); `None` on a negative dim or overflow.
pub fn element_count(shape: &[i64]) -> Option<u64> {
    shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(u64::try_from(d).ok()?))
}

/// Bytes of the data buffer of a tensor of this dtype and shape when it holds no data
/// (STRING: one NUL per element); `None` on overflow.
pub fn zeroed_byte_size(dtype: DType, shape: &[i64]) -> Option<u64> {
    element_count(shape)?.checked_mul(dtype.size() as u64)
}

impl Tensor {
    /// A tensor whose elements are all zero (STRING: all empty strings).
    /// The caller bounds the size first (see [`zeroed_byte_size`]).
    pub fn zeroed(dtype: DType, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        let len = element_count(&shape).ok_or(Error::InvalidShape)?;
        let bytes = len.checked_mul(dtype.size() as u64);
        let bytes = bytes
            .and_then(|b| usize::try_from(b).ok())
            .ok_or(Error::InvalidShape)?;
        Ok(Tensor {
            dtype,
            shape,
            data: vec![0; bytes],
            len: len as usize,
        })
    }

    /// A tensor from raw bytes, validated as AI.TENSORSET ... BLOB does.
    pub fn from_blob(dtype: DType, shape: impl Into<Shape>, blob: &[u8]) -> Result<Tensor> {
        let shape = shape.into();
        let len = element_count(&shape).ok_or(Error::DataLength)?;
        if !data_fits(dtype, len, blob) {
            return Err(match dtype {
                DType::String => Error::StringBlob,
                _ => Error::DataLength,
            });
        }
        if dtype == DType::Bool && blob.iter().any(|&b| b > 1) {
            return Err(Error::BoolBlob);
        }
        Ok(Tensor {
            dtype,
            shape,
            data: blob.to_vec(),
            len: len as usize,
        })
    }

    /// A tensor from VALUES arguments, parsed and range-checked as RedisAI does (including its
    /// tested quirk: signed integer types reject negative values).
    pub fn from_values(dtype: DType, shape: impl Into<Shape>, values: &[&[u8]]) -> Result<Tensor> {
        let shape = shape.into();
        if element_count(&shape) != Some(values.len() as u64) {
            return Err(Error::ValuesCount);
        }
        let data = if dtype == DType::String {
            strings_from_values(values)?
        } else {
            numbers_from_values(dtype, values)?
        };
        Ok(Tensor {
            dtype,
            shape,
            data,
            len: values.len(),
        })
    }

    /// Rebuilds a tensor from persisted parts (RDB), checking that they are consistent.
    pub fn from_parts(dtype: DType, shape: impl Into<Shape>, data: Vec<u8>) -> Result<Tensor> {
        let shape = shape.into();
        let len = element_count(&shape).ok_or_else(|| Error::rdb("tensor", "bad shape"))?;
        if !data_fits(dtype, len, &data) {
            return Err(Error::rdb("tensor", "data does not match dtype and shape"));
        }
        if dtype == DType::Bool && data.iter().any(|&b| b > 1) {
            return Err(Error::rdb("tensor", "BOOL elements must be 0 or 1"));
        }
        Ok(Tensor {
            dtype,
            shape,
            data,
            len: len as usize,
        })
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Dimensions (empty for a 0-d tensor).
    pub fn shape(&self) -> &[i64] {
        &self.shape
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the tensor has no elements (only backends produce such tensors).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The raw data buffer (the BLOB reply).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// STRING element start offsets, as RedisAI persists them (nothing for other dtypes).
    pub fn string_offsets(&self) -> impl Iterator<Item = u64> + '_ {
        let is_string = self.dtype == DType::String;
        let strings = match self.data.split_last() {
            Some((_, body)) if is_string => body,
            _ => &[][..],
        };
        let starts = strings
            .iter()
            .enumerate()
            .filter(|(_, &b)| b == 0)
            .map(|(i, _)| i as u64 + 1);
        let first = usize::from(is_string && self.len > 0);
        std::iter::once(0).take(first).chain(starts)
    }

    /// Approximate heap footprint, for MEMORY USAGE.
    pub fn memory_usage(&self) -> usize {
        std::mem::size_of::<Tensor>() + self.data.capacity() + self.shape.heap_bytes()
    }

    /// Element `i` (row-major); `None` past the end. STRING elements are found by scanning.
    pub fn value(&self, i: usize) -> Option<Value<'_>> {
        self.values().nth(i)
    }

    /// Iterates over all elements.
    pub fn values(&self) -> Values<'_> {
        Values {
            tensor: self,
            index: 0,
            rest: &self.data,
        }
    }
}

/// Iterator over the elements of a tensor.
pub struct Values<'a> {
    tensor: &'a Tensor,
    index: usize,
    rest: &'a [u8],
}

impl<'a> Iterator for Values<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Value<'a>> {
        if self.index >= self.tensor.len {
            return None;
        }
        let i = self.index;
        self.index += 1;
        let d = &self.tensor.data;
        Some(match self.tensor.dtype {
            DType::Float => Value::Float(f32::from_le_bytes(array(d, i)).into()),
            DType::Double => Value::Float(f64::from_le_bytes(array(d, i))),
            DType::Int8 => Value::Int(i8::from_le_bytes(array(d, i)).into()),
            DType::Int16 => Value::Int(i16::from_le_bytes(array(d, i)).into()),
            DType::Int32 => Value::Int(i32::from_le_bytes(array(d, i)).into()),
            DType::Int64 => Value::Int(i64::from_le_bytes(array(d, i))),
            DType::Uint8 | DType::Bool => Value::Int(d[i].into()),
            DType::Uint16 => Value::Int(u16::from_le_bytes(array(d, i)).into()),
            DType::String => {
                let end = self.rest.iter().position(|&b| b == 0)?;
                let (element, rest) = self.rest.split_at(end);
                self.rest = &rest[1..];
                Value::Str(element)
            }
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.tensor.len - self.index.min(self.tensor.len);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Values<'_> {}

fn array<const N: usize>(data: &[u8], i: usize) -> [u8; N] {
    data[i * N..(i + 1) * N]
        .try_into()
        .expect("slice of N bytes")
}

/// True when `data` holds exactly `len` elements of `dtype`: `len` NUL-terminated strings for
/// STRING, `len * size` bytes otherwise.
fn data_fits(dtype: DType, len: u64, data: &[u8]) -> bool {
    match dtype {
        DType::String => string_count(data) == Some(len),
        _ => len.checked_mul(dtype.size() as u64) == Some(data.len() as u64),
    }
}

/// Number of NUL-terminated strings filling `blob` exactly (it must end with a NUL), or `None`.
fn string_count(blob: &[u8]) -> Option<u64> {
    match blob.last() {
        None => Some(0),
        Some(0) => Some(blob.iter().filter(|&&b| b == 0).count() as u64),
        Some(_) => None,
    }
}

fn strings_from_values(values: &[&[u8]]) -> Result<Vec<u8>> {
    let total: usize = values.iter().map(|v| v.len() + 1).sum();
    let mut data = Vec::with_capacity(total);
    for v in values {
        let body = v.strip_suffix(b"\0").unwrap_or(v);
        if v.is_empty() || body.contains(&0) {
            return Err(Error::NullInString);
        }
        data.extend_from_slice(body);
        data.push(0);
    }
    Ok(data)
}

/// Parses numeric VALUES straight into the tensor's buffer (one allocation, one loop per
/// dtype).
fn numbers_from_values(dtype: DType, values: &[&[u8]]) -> Result<Vec<u8>> {
    let mut data = Vec::with_capacity(values.len() * dtype.size());
    match dtype {
        DType::Float => {
            for v in values {
                let f = parse_f64(v).ok_or(Error::InvalidValue)? as f32;
                data.extend_from_slice(&f.to_le_bytes());
            }
        }
        DType::Double => {
            for v in values {
                data.extend_from_slice(&parse_f64(v).ok_or(Error::InvalidValue)?.to_le_bytes());
            }
        }
        _ => {
            // RedisAI compares the value cast to unsigned with the type's maximum, so every
            // negative number is rejected, for signed types too. Its flow tests depend on that.
            let max: u64 = match dtype {
                DType::Int8 => i8::MAX as u64,
                DType::Int16 => i16::MAX as u64,
                DType::Int32 => i32::MAX as u64,
                DType::Int64 => i64::MAX as u64,
                DType::Uint8 => u8::MAX.into(),
                DType::Uint16 => u16::MAX.into(),
                _ => 1, // BOOL
            };
            let size = dtype.size();
            for v in values {
                let n = parse_i64(v)
                    .and_then(|n| u64::try_from(n).ok())
                    .filter(|&n| n <= max)
                    .ok_or(Error::InvalidValue)?;
                data.extend_from_slice(&n.to_le_bytes()[..size]);
            }
        }
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    fn from_values(dtype: DType, shape: &[i64], v: &[&str]) -> Result<Tensor> {
        let owned = vals(v);
        let refs: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        Tensor::from_values(dtype, shape.to_vec(), &refs)
    }

    /// dtype, shape, VALUES, expected data or error.
    type ValuesCase<'a> = (DType, &'a [i64], &'a [&'a str], Result<&'a [u8]>);
    /// dtype, shape, BLOB, expected error.
    type BlobCase<'a> = (DType, &'a [i64], &'a [u8], Option<Error>);

    #[test]
    fn values_table() {
        use Error::*;
        let cases: &[ValuesCase] = &[
            (
                DType::Float,
                &[2, 2],
                &["1.5", "-2", "3.25", "0"],
                Ok(b"\x00\x00\xc0?\x00\x00\x00\xc0\x00\x00P@\x00\x00\x00\x00"),
            ),
            (DType::Float, &[1], &["nan"], Err(InvalidValue)),
            (
                DType::Float,
                &[2],
                &["1e39", "-1e39"],
                Ok(b"\x00\x00\x80\x7f\x00\x00\x80\xff"),
            ),
            (DType::Float, &[1], &["1e400"], Err(InvalidValue)),
            (DType::Float, &[1], &[""], Err(InvalidValue)),
            (DType::Double, &[1], &["1e309"], Err(InvalidValue)),
            (DType::Int8, &[1], &["-1"], Err(InvalidValue)),
            (DType::Int8, &[2], &["-128", "5"], Err(InvalidValue)),
            (DType::Int8, &[1], &["127"], Ok(b"\x7f")),
            (DType::Int8, &[1], &["128"], Err(InvalidValue)),
            (DType::Int8, &[1], &["1.5"], Err(InvalidValue)),
            (DType::Int16, &[1], &["32768"], Err(InvalidValue)),
            (DType::Int32, &[1], &["2147483648"], Err(InvalidValue)),
            (
                DType::Int64,
                &[1],
                &["9223372036854775807"],
                Ok(b"\xff\xff\xff\xff\xff\xff\xff\x7f"),
            ),
            (
                DType::Int64,
                &[1],
                &["9223372036854775808"],
                Err(InvalidValue),
            ),
            (
                DType::Int64,
                &[1],
                &["-9223372036854775808"],
                Err(InvalidValue),
            ),
            (DType::Uint8, &[1], &["256"], Err(InvalidValue)),
            (DType::Uint8, &[1], &["255"], Ok(b"\xff")),
            (DType::Uint16, &[1], &["65535"], Ok(b"\xff\xff")),
            (DType::Uint16, &[1], &["-1"], Err(InvalidValue)),
            (DType::Bool, &[2], &["1", "0"], Ok(b"\x01\x00")),
            (DType::Bool, &[1], &["2"], Err(InvalidValue)),
            (DType::Bool, &[1], &["true"], Err(InvalidValue)),
            (DType::Float, &[2], &["1"], Err(ValuesCount)),
            (DType::Float, &[2], &["1", "2", "3"], Err(ValuesCount)),
            (DType::Float, &[], &["7"], Ok(b"\x00\x00\xe0@")),
            (DType::String, &[3], &["a", "b\0", "\0"], Ok(b"a\0b\0\0")),
            (DType::String, &[1], &["a\0b"], Err(NullInString)),
            (DType::String, &[1], &[""], Err(NullInString)),
            (DType::String, &[1], &["a\0\0"], Err(NullInString)),
        ];
        for (dtype, shape, values, expected) in cases {
            let got = from_values(*dtype, shape, values);
            match expected {
                Ok(bytes) => assert_eq!(
                    got.map(|t| t.data().to_vec()),
                    Ok(bytes.to_vec()),
                    "{dtype:?} {values:?}"
                ),
                Err(e) => assert_eq!(got, Err(e.clone()), "{dtype:?} {values:?}"),
            }
        }
    }

    #[test]
    fn blob_table() {
        use Error::*;
        let cases: &[BlobCase] = &[
            (DType::Float, &[2], b"\0\0\0\0", Some(DataLength)),
            (DType::Float, &[2], &[0; 12], Some(DataLength)),
            (DType::Float, &[2], &[0; 8], None),
            (DType::Int32, &[], b"*\0\0\0", None),
            (DType::Bool, &[3], b"\x01\x00\x01", None),
            (DType::Bool, &[3], b"\x01\x02\x01", Some(BoolBlob)),
            (DType::Bool, &[3], b"\x01\x00\x02", Some(BoolBlob)),
            (DType::String, &[2], b"ab\0cd", Some(StringBlob)),
            (DType::String, &[2], b"ab\0cd\0ef\0", Some(StringBlob)),
            (DType::String, &[3], b"x\0yy\0zzz\0", None),
            (DType::String, &[1], b"", Some(StringBlob)),
            (DType::String, &[2], b"\0\0", None),
        ];
        for (dtype, shape, blob, err) in cases {
            let got = Tensor::from_blob(*dtype, shape.to_vec(), blob);
            match err {
                None => assert_eq!(
                    got.map(|t| t.data().to_vec()),
                    Ok(blob.to_vec()),
                    "{dtype:?} {blob:?}"
                ),
                Some(e) => assert_eq!(got, Err(e.clone()), "{dtype:?} {blob:?}"),
            }
        }
    }

    #[test]
    fn values_read_back() {
        let t = Tensor::from_blob(DType::Int8, vec![4], b"\x80\xff\x00\x7f").unwrap();
        assert_eq!(
            t.values().collect::<Vec<_>>(),
            [-128, -1, 0, 127].map(Value::Int)
        );
        let s = Tensor::from_blob(DType::String, vec![2, 2], b"a\0bc\0\0def\0").unwrap();
        let got: Vec<_> = s.values().collect();
        assert_eq!(got, [&b"a"[..], b"bc", b"", b"def"].map(Value::Str));
        assert_eq!(s.string_offsets().collect::<Vec<_>>(), [0, 2, 5, 6]);
        assert_eq!(s.value(3), Some(Value::Str(b"def")));
        assert_eq!(s.value(4), None);
        let f = from_values(DType::Float, &[2], &["0.1", "16777217"]).unwrap();
        assert_eq!(
            f.values().collect::<Vec<_>>(),
            [Value::Float(0.1f32 as f64), Value::Float(16777216.0)]
        );
    }

    #[test]
    fn zeroed_tensors() {
        let t = Tensor::zeroed(DType::String, vec![2]).unwrap();
        assert_eq!(t.data(), b"\0\0");
        assert_eq!(
            t.values().collect::<Vec<_>>(),
            [Value::Str(b""), Value::Str(b"")]
        );
        let t = Tensor::zeroed(DType::Int32, vec![3]).unwrap();
        assert_eq!(t.data(), &[0; 12]);
        assert_eq!(zeroed_byte_size(DType::Double, &[i64::MAX, 2]), None);
        assert_eq!(element_count(&[]), Some(1));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn round_trip(dtype: DType, texts: &[String]) -> Vec<Value<'static>> {
            let refs: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
            let t = Tensor::from_values(dtype, vec![refs.len() as i64], &refs).unwrap();
            t.values()
                .map(|v| match v {
                    Value::Int(n) => Value::Int(n),
                    Value::Float(f) => Value::Float(f),
                    Value::Str(_) => unreachable!(),
                })
                .collect()
        }

        proptest! {
            #[test]
            fn in_range_integers_round_trip(v in proptest::collection::vec(0i64..=i64::MAX, 1..16)) {
                let texts: Vec<String> = v.iter().map(i64::to_string).collect();
                prop_assert_eq!(round_trip(DType::Int64, &texts), v.iter().map(|&n| Value::Int(n)).collect::<Vec<_>>());
                let small: Vec<String> = v.iter().map(|n| (n % 256).to_string()).collect();
                let expected: Vec<Value> = v.iter().map(|n| Value::Int(n % 256)).collect();
                prop_assert_eq!(round_trip(DType::Uint8, &small), expected);
            }

            #[test]
            fn doubles_round_trip(v in proptest::collection::vec(any::<f64>().prop_filter("finite", |f| f.is_finite()), 1..16)) {
                let texts: Vec<String> = v.iter().map(|f| format!("{f:e}")).collect();
                let expected: Vec<Value> = v.iter().map(|&f| Value::Float(f)).collect();
                prop_assert_eq!(round_trip(DType::Double, &texts), expected);
            }

            #[test]
            fn out_of_range_integers_are_rejected(n in any::<i64>(), dtype in proptest::sample::select(vec![DType::Int8, DType::Int16, DType::Int32, DType::Uint8, DType::Uint16, DType::Bool])) {
                let max: i64 = match dtype { DType::Int8 => 127, DType::Int16 => 32767, DType::Int32 => i32::MAX.into(), DType::Uint8 => 255, DType::Uint16 => 65535, _ => 1 };
                let text = n.to_string();
                let got = Tensor::from_values(dtype, vec![1], &[text.as_bytes()]);
                prop_assert_eq!(got.is_ok(), (0..=max).contains(&n));
            }

            #[test]
            fn string_blobs_split_on_nul(parts in proptest::collection::vec(proptest::collection::vec(1u8..=255, 0..8), 1..8)) {
                let mut blob = Vec::new();
                for p in &parts { blob.extend_from_slice(p); blob.push(0); }
                let t = Tensor::from_blob(DType::String, vec![parts.len() as i64], &blob).unwrap();
                let got: Vec<Vec<u8>> = t.values().map(|v| match v { Value::Str(s) => s.to_vec(), _ => unreachable!() }).collect();
                prop_assert_eq!(got, parts);
            }
        }
    }
}
