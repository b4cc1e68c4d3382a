//! Conversions between the ABI's tensors, raw little-endian bytes and tract tensors.
//!
//! Inputs are copied once, into a tract tensor of the model's element type (tract owns the
//! buffers it runs on). Outputs are not copied: the exported tensor keeps tract's tensor and lends
//! its bytes until the host has read them.

use redisai_backend_api::{DType, OutputTensor};
use tract_tflite::internal::*;

/// The RedisAI dtype of a tract element type; quantized integers are their integer type.
pub(crate) fn dtype_of(dt: DatumType) -> Option<DType> {
    Some(match dt.unquantized() {
        DatumType::F32 => DType::Float,
        DatumType::F64 => DType::Double,
        DatumType::I8 => DType::Int8,
        DatumType::I16 => DType::Int16,
        DatumType::I32 => DType::Int32,
        DatumType::I64 => DType::Int64,
        DatumType::U8 => DType::Uint8,
        DatumType::U16 => DType::Uint16,
        DatumType::Bool => DType::Bool,
        _ => return None,
    })
}

/// Decodes fixed-size little-endian elements.
fn decode<T, const N: usize>(bytes: &[u8], from: fn([u8; N]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(N)
        .map(|c| from(c.try_into().expect("N bytes")))
        .collect()
}

fn array<T: Datum>(shape: &[usize], values: Vec<T>) -> TractResult<Tensor> {
    Ok(tract_ndarray::ArrayD::from_shape_vec(shape, values)?.into_tensor())
}

/// A tract tensor of element type `dt` and `shape` from little-endian bytes (copied).
pub(crate) fn tensor_from_bytes(
    dt: DatumType,
    shape: &[usize],
    bytes: &[u8],
) -> TractResult<Tensor> {
    let count: usize = shape.iter().product();
    let size = dt.size_of();
    ensure!(
        count.checked_mul(size) == Some(bytes.len()),
        "{} bytes for {count} elements of {dt:?}",
        bytes.len()
    );
    let mut tensor = match dt.unquantized() {
        DatumType::F32 => array(shape, decode(bytes, f32::from_le_bytes))?,
        DatumType::F64 => array(shape, decode(bytes, f64::from_le_bytes))?,
        DatumType::F16 => array(shape, decode(bytes, f16::from_le_bytes))?,
        DatumType::I8 => array(shape, decode(bytes, i8::from_le_bytes))?,
        DatumType::I16 => array(shape, decode(bytes, i16::from_le_bytes))?,
        DatumType::I32 => array(shape, decode(bytes, i32::from_le_bytes))?,
        DatumType::I64 => array(shape, decode(bytes, i64::from_le_bytes))?,
        DatumType::U8 => array(shape, bytes.to_vec())?,
        DatumType::U16 => array(shape, decode(bytes, u16::from_le_bytes))?,
        DatumType::U32 => array(shape, decode(bytes, u32::from_le_bytes))?,
        DatumType::U64 => array(shape, decode(bytes, u64::from_le_bytes))?,
        DatumType::Bool => array(shape, bytes.iter().map(|&b| b != 0).collect())?,
        other => bail!("unsupported element type {other:?}"),
    };
    if dt.is_quantized() {
        // SAFETY: `tensor` holds elements of `dt.unquantized()`, which is the storage type of
        // `dt` (QI8 is i8, QU8 is u8, QI32 is i32): only the quantization parameters, which are
        // not part of the data, change.
        unsafe { tensor.set_datum_type(dt) };
    }
    Ok(tensor)
}

/// Keeps a tract output tensor alive while the host reads its bytes.
struct TractBytes(Tensor);

impl AsRef<[u8]> for TractBytes {
    fn as_ref(&self) -> &[u8] {
        // Checked plain (host memory) when the output was made.
        self.0.as_bytes()
    }
}

/// A tract output as an ABI output tensor.
pub(crate) fn to_output(value: TValue) -> Result<OutputTensor, String> {
    let tensor = value.into_tensor();
    let dt = tensor.datum_type();
    let dtype = dtype_of(dt).ok_or_else(|| format!("ERR unsupported TFLite output type {dt:?}"))?;
    let shape = tensor.shape().iter().map(|&d| d as i64).collect();
    if tensor.as_plain_ram_storage().is_some() {
        return Ok(OutputTensor {
            dtype,
            shape,
            data: Box::new(TractBytes(tensor)),
        });
    }
    let bytes = tensor
        .try_as_plain_ram()
        .map_err(|e| format!("ERR cannot read a TFLite output: {e}"))?
        .as_bytes()
        .to_vec();
    Ok(OutputTensor::from_vec(dtype, shape, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip() {
        let bytes: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let t = tensor_from_bytes(DatumType::F32, &[2], &bytes).unwrap();
        assert_eq!(
            t.try_as_plain_ram().unwrap().as_slice::<f32>().unwrap(),
            [1.5, -2.0]
        );
        let out = to_output(t.into_tvalue()).unwrap();
        assert_eq!(out.dtype, DType::Float);
        assert_eq!(out.shape, [2]);
        assert_eq!(out.bytes(), bytes);
    }

    #[test]
    fn bools_and_quantized() {
        let t = tensor_from_bytes(DatumType::Bool, &[3], &[0, 1, 7]).unwrap();
        assert_eq!(
            t.try_as_plain_ram().unwrap().as_slice::<bool>().unwrap(),
            [false, true, true]
        );
        let qdt = DatumType::U8.quantize(QParams::ZpScale {
            zero_point: 3,
            scale: 0.5,
        });
        let t = tensor_from_bytes(qdt, &[2], &[3, 5]).unwrap();
        assert_eq!(t.datum_type(), qdt);
        let f = t.cast_to::<f32>().unwrap();
        assert_eq!(
            f.try_as_plain_ram().unwrap().as_slice::<f32>().unwrap(),
            [0.0, 1.0]
        );
        assert_eq!(to_output(t.into_tvalue()).unwrap().dtype, DType::Uint8);
    }

    #[test]
    fn wrong_byte_count() {
        assert!(tensor_from_bytes(DatumType::I32, &[2], &[0; 7]).is_err());
    }
}
