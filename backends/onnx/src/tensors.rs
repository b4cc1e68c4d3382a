//! Conversions between the ABI's tensors and ONNX Runtime values.
//!
//! Inputs are not copied: a numeric or BOOL input becomes an ONNX Runtime tensor over the host's
//! own buffer (ONNX Runtime only reads its inputs). The exceptions are buffers not aligned for
//! their element type and BOOL buffers holding bytes other than 0 and 1, which are converted
//! into a fresh buffer. STRING inputs are always copied: ONNX Runtime stores strings as its own
//! objects (the element pointers handed over point into the host's buffer, in place).
//!
//! Numeric outputs are not copied either: the exported tensor keeps the ONNX Runtime value and
//! lends its buffer until the host has read it. STRING outputs are laid out as NUL-terminated
//! elements in a new buffer.

use std::ffi::{c_char, c_void};
use std::ptr::{self, NonNull};

use ort::memory::{Allocator, MemoryInfo};
use ort::session::SessionInputValue;
use ort::sys::ONNXTensorElementDataType;
use ort::value::{
    DynTensor, DynTensorValueType, DynValue, PrimitiveTensorElementType, Shape, Tensor,
    TensorElementType, TensorRefMut, ValueType,
};
use ort::AsPointer;
use redisai_backend_api::{DType, OutputTensor, TensorRef};

use crate::allocator::check;

/// An ONNX Runtime error as the client sees it: the runtime's own message.
pub fn ort_message<R>(e: ort::Error<R>) -> String {
    e.message().to_string()
}

fn shape_mismatch() -> String {
    "ERR input tensor data does not match its shape".to_string()
}

/// Element types that can be read from little-endian bytes (the copying path).
trait FromBytes: PrimitiveTensorElementType + Clone + std::fmt::Debug + 'static {
    fn from_bytes(bytes: &[u8]) -> Self;
}

macro_rules! from_le_bytes {
    ($($t:ty),*) => {$(
        impl FromBytes for $t {
            fn from_bytes(bytes: &[u8]) -> Self {
                let mut raw = [0u8; std::mem::size_of::<$t>()];
                raw.copy_from_slice(bytes);
                <$t>::from_le_bytes(raw)
            }
        }
    )*};
}

from_le_bytes!(f32, f64, i8, i16, i32, i64, u8, u16);

impl FromBytes for bool {
    fn from_bytes(bytes: &[u8]) -> Self {
        bytes[0] != 0
    }
}

/// A numeric (or BOOL) input as an ONNX Runtime tensor, over the host's buffer when possible.
fn primitive_input<'a, T: FromBytes>(
    t: &TensorRef<'a>,
    must_convert: bool,
) -> Result<SessionInputValue<'a>, String> {
    let size = std::mem::size_of::<T>();
    let count = t.element_count();
    if count.checked_mul(size) != Some(t.data.len()) {
        return Err(shape_mismatch());
    }
    let shape = t.shape.to_vec();
    let aligned = t.data.as_ptr() as usize % std::mem::align_of::<T>() == 0;
    if aligned && !must_convert {
        let data = t.data.as_ptr().cast_mut().cast::<c_void>();
        // SAFETY: `data` holds `count` elements of T (checked above), is aligned for T and is
        // borrowed for 'a, which the returned value cannot outlive. ONNX Runtime only reads
        // inputs, so the mutable view never writes to the shared buffer.
        let view: TensorRefMut<'a, T> =
            unsafe { TensorRefMut::from_raw(MemoryInfo::default(), data, Shape::new(shape)) }
                .map_err(ort_message)?;
        return Ok(view.into());
    }
    let values: Vec<T> = t.data.chunks_exact(size).map(T::from_bytes).collect();
    let tensor = Tensor::from_array((shape, values)).map_err(ort_message)?;
    Ok(tensor.into())
}

/// A STRING input: ONNX Runtime copies every element into its own string objects.
fn string_input<'a>(t: &TensorRef<'a>) -> Result<SessionInputValue<'a>, String> {
    let count = t.element_count();
    if t.data.last().is_some_and(|&b| b != 0) {
        return Err(shape_mismatch());
    }
    // Each element is NUL-terminated in place: point at them.
    let mut starts: Vec<*const c_char> = Vec::with_capacity(count);
    let mut start = 0;
    for (i, _) in t.data.iter().enumerate().filter(|(_, &b)| b == 0) {
        starts.push(t.data[start..].as_ptr().cast());
        start = i + 1;
    }
    if starts.len() != count {
        return Err(shape_mismatch());
    }
    let api = ort::api();
    let allocator = Allocator::default();
    let mut raw = ptr::null_mut();
    // SAFETY: the allocator is ONNX Runtime's default one; shape and out-pointer are valid.
    unsafe {
        check((api.CreateTensorAsOrtValue)(
            allocator.ptr().cast_mut(),
            t.shape.as_ptr(),
            t.shape.len(),
            ONNXTensorElementDataType::ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING,
            &mut raw,
        ))?
    };
    let raw = NonNull::new(raw).ok_or("ERR ONNX Runtime returned no tensor")?;
    // SAFETY: a new tensor value we own, created with `allocator`.
    let value = unsafe { DynValue::from_ptr(raw, Some(&allocator)) };
    // SAFETY: the value is a STRING tensor of `count` elements and `starts` holds `count`
    // NUL-terminated strings inside the borrowed input buffer, which ONNX Runtime copies.
    unsafe {
        check((api.FillStringTensor)(
            value.ptr().cast_mut(),
            starts.as_ptr(),
            starts.len(),
        ))?
    };
    Ok(value.into())
}

/// An input of the ABI as an ONNX Runtime value.
pub fn to_input<'a>(t: &TensorRef<'a>) -> Result<SessionInputValue<'a>, String> {
    match t.dtype {
        DType::Float => primitive_input::<f32>(t, false),
        DType::Double => primitive_input::<f64>(t, false),
        DType::Int8 => primitive_input::<i8>(t, false),
        DType::Int16 => primitive_input::<i16>(t, false),
        DType::Int32 => primitive_input::<i32>(t, false),
        DType::Int64 => primitive_input::<i64>(t, false),
        DType::Uint8 => primitive_input::<u8>(t, false),
        DType::Uint16 => primitive_input::<u16>(t, false),
        // A C++ bool must be 0 or 1: anything else is normalised in a copy.
        DType::Bool => primitive_input::<bool>(t, t.data.iter().any(|&b| b > 1)),
        DType::String => string_input(t),
    }
}

pub(crate) fn dtype_of(ty: TensorElementType) -> Option<DType> {
    Some(match ty {
        TensorElementType::Float32 => DType::Float,
        TensorElementType::Float64 => DType::Double,
        TensorElementType::Int8 => DType::Int8,
        TensorElementType::Int16 => DType::Int16,
        TensorElementType::Int32 => DType::Int32,
        TensorElementType::Int64 => DType::Int64,
        TensorElementType::Uint8 => DType::Uint8,
        TensorElementType::Uint16 => DType::Uint16,
        TensorElementType::Bool => DType::Bool,
        TensorElementType::String => DType::String,
        _ => return None,
    })
}

/// The bytes of an output tensor, left where ONNX Runtime put them.
struct OrtBuffer {
    data: *const u8,
    len: usize,
    /// Owns the buffer `data` points into.
    _value: DynTensor,
}

// SAFETY: the buffer belongs to `_value` (an ONNX Runtime value, Send and Sync), is never
// written after the run, and is released only when this struct is dropped.
unsafe impl Send for OrtBuffer {}

impl AsRef<[u8]> for OrtBuffer {
    fn as_ref(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `data` points to `len` initialised bytes owned by `_value`, alive as long as
        // `self`.
        unsafe { std::slice::from_raw_parts(self.data, self.len) }
    }
}

/// The elements of a STRING output, NUL-terminated and laid end to end.
fn string_bytes(value: &DynTensor, count: usize) -> Result<Vec<u8>, String> {
    let api = ort::api();
    let mut total = 0usize;
    // SAFETY: a live STRING tensor value and a valid out-pointer.
    unsafe { check((api.GetStringTensorDataLength)(value.ptr(), &mut total))? };
    let mut content = vec![0u8; total];
    let mut offsets = vec![0usize; count];
    // SAFETY: `content` has room for `total` bytes and `offsets` for `count` entries, the
    // sizes ONNX Runtime reported for this tensor.
    unsafe {
        check((api.GetStringTensorContent)(
            value.ptr(),
            content.as_mut_ptr().cast(),
            total,
            offsets.as_mut_ptr(),
            count,
        ))?
    };
    let mut out = Vec::with_capacity(total + count);
    for (i, &start) in offsets.iter().enumerate() {
        let end = offsets.get(i + 1).copied().unwrap_or(total);
        let element = content
            .get(start..end)
            .ok_or("ERR ONNX Runtime returned malformed strings")?;
        out.extend_from_slice(element);
        out.push(0);
    }
    Ok(out)
}

/// An output of a run for the host: `None` for values that are not tensors (e.g. the sequence
/// of maps of sklearn classifiers), which RedisAI leaves unset.
pub fn to_output(value: DynValue) -> Result<Option<OutputTensor>, String> {
    let ValueType::Tensor { ty, shape, .. } = value.dtype().clone() else {
        return Ok(None);
    };
    let dtype = dtype_of(ty).ok_or_else(|| format!("ERR unsupported ONNX output type {ty}"))?;
    let tensor = value
        .downcast::<DynTensorValueType>()
        .map_err(ort_message)?;
    if !tensor.memory_info().is_cpu_accessible() {
        return Err("ERR ONNX output tensor is not in host memory".into());
    }
    let dims = shape.to_vec();
    let count = shape.num_elements();
    if dtype == DType::String {
        let bytes = string_bytes(&tensor, count)?;
        return Ok(Some(OutputTensor::from_vec(dtype, dims, bytes)));
    }
    let len = count * dtype.size();
    let data = tensor.data_ptr().cast::<u8>();
    if len > 0 && data.is_null() {
        return Err("ERR ONNX Runtime returned a tensor without data".into());
    }
    Ok(Some(OutputTensor {
        dtype,
        shape: dims,
        data: Box::new(OrtBuffer {
            data,
            len,
            _value: tensor,
        }),
    }))
}
