//! Conversions between the ABI's tensors and TensorFlow tensors.
//!
//! Inputs are copied into buffers TensorFlow allocates and owns. They are not fed over the host's
//! own buffer, even though `TF_NewTensor` could wrap it: a graph may keep a fed tensor after the
//! run (a resource variable assigned from a placeholder shares its buffer), and the host's
//! buffer is only lent for the duration of a run. STRING inputs become `TF_STRING` tensors whose
//! elements TensorFlow frees with the buffer's last reference.
//!
//! Numeric outputs are not copied: the exported tensor keeps TensorFlow's tensor and lends its
//! buffer until the host has read it. STRING outputs are laid out as NUL-terminated elements in a
//! new buffer.

use redisai_backend_api::{DType, OutputTensor, TensorRef};

use crate::ffi::*;
use crate::tf::Tensor;

fn shape_mismatch() -> String {
    "ERR input tensor data does not match its shape".to_string()
}

/// The TensorFlow type of a dtype.
pub fn tf_type(dtype: DType) -> TF_DataType {
    match dtype {
        DType::Float => TF_FLOAT,
        DType::Double => TF_DOUBLE,
        DType::Int8 => TF_INT8,
        DType::Int16 => TF_INT16,
        DType::Int32 => TF_INT32,
        DType::Int64 => TF_INT64,
        DType::Uint8 => TF_UINT8,
        DType::Uint16 => TF_UINT16,
        DType::Bool => TF_BOOL,
        DType::String => TF_STRING,
    }
}

/// The dtype of a TensorFlow type, if RedisAI has one.
pub fn dtype_of(tf_type: TF_DataType) -> Option<DType> {
    Some(match tf_type {
        TF_FLOAT => DType::Float,
        TF_DOUBLE => DType::Double,
        TF_INT8 => DType::Int8,
        TF_INT16 => DType::Int16,
        TF_INT32 => DType::Int32,
        TF_INT64 => DType::Int64,
        TF_UINT8 => DType::Uint8,
        TF_UINT16 => DType::Uint16,
        TF_BOOL => DType::Bool,
        TF_STRING => DType::String,
        _ => return None,
    })
}

/// TensorFlow's name of a type (`DataType` in types.proto, lower-cased as in its messages).
pub fn tf_type_name(tf_type: TF_DataType) -> String {
    let name = match tf_type {
        8 => "complex64",
        11 => "qint8",
        12 => "quint8",
        13 => "qint32",
        14 => "bfloat16",
        15 => "qint16",
        16 => "quint16",
        18 => "complex128",
        19 => "half",
        20 => "resource",
        21 => "variant",
        22 => "uint32",
        23 => "uint64",
        other => match dtype_of(other) {
            Some(dtype) => return dtype.name().to_ascii_lowercase(),
            None => return format!("type {other}"),
        },
    };
    name.to_string()
}

/// A C++ bool must be 0 or 1: other bytes of a BOOL tensor are true.
fn canonical_bool(b: u8) -> u8 {
    u8::from(b != 0)
}

/// An input of the ABI as a new TensorFlow tensor.
pub fn to_input(t: &TensorRef<'_>) -> Result<Tensor, String> {
    let count = t.element_count();
    if t.dtype == DType::String {
        if t.data.last().is_some_and(|&b| b != 0) {
            return Err(shape_mismatch());
        }
        let elements: Vec<&[u8]> = t.strings().collect();
        if elements.len() != count {
            return Err(shape_mismatch());
        }
        return Tensor::strings(t.shape, elements.into_iter());
    }
    if count.checked_mul(t.dtype.size()) != Some(t.data.len()) {
        return Err(shape_mismatch());
    }
    let map = (t.dtype == DType::Bool).then_some(canonical_bool as fn(u8) -> u8);
    Tensor::from_bytes(tf_type(t.dtype), t.shape, t.data, map)
}

/// A numeric output tensor, lent to the host: the bytes stay in TensorFlow's buffer, which the
/// tensor reference keeps alive until the host drops the output.
struct TfBuffer(Tensor);

impl AsRef<[u8]> for TfBuffer {
    fn as_ref(&self) -> &[u8] {
        self.0.bytes()
    }
}

/// An output of a run for the host.
pub fn to_output(tensor: Tensor) -> Result<OutputTensor, String> {
    let tf_type = tensor.dtype();
    let dtype = dtype_of(tf_type)
        .ok_or_else(|| format!("ERR unsupported TF output type {}", tf_type_name(tf_type)))?;
    let shape = tensor.dims();
    if dtype == DType::String {
        let bytes = tensor.string_bytes()?;
        return Ok(OutputTensor::from_vec(dtype, shape, bytes));
    }
    let expected = tensor.element_count().checked_mul(dtype.size());
    if expected != Some(tensor.bytes().len()) {
        return Err("ERR TF returned a tensor whose data does not match its shape".into());
    }
    Ok(OutputTensor {
        dtype,
        shape,
        data: Box::new(TfBuffer(tensor)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dtype_maps_both_ways() {
        for dtype in DType::ALL {
            assert_eq!(dtype_of(tf_type(dtype)), Some(dtype));
        }
        assert_eq!(dtype_of(19), None);
        assert_eq!(tf_type_name(19), "half");
        assert_eq!(tf_type_name(TF_UINT16), "uint16");
        assert_eq!(tf_type_name(99), "type 99");
    }
}
