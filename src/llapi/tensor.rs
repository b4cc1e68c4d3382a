//! `RAI_Tensor`: tensors of the C API. A `RAI_Tensor*` is the keyspace's own value pointer (the
//! pointer of an `Arc<Tensor>`, `keyspace/key.rs`), so what `RedisModule_ModuleTypeGetValue`
//! returns for an `AI_TENSOR` key is a valid handle, `RedisAI_TensorGetShallowCopy` takes one
//! more reference and `RedisAI_TensorFree` drops one.
//!
//! Tensors are shared without copies, so a tensor is changed in place only while the caller
//! holds its only reference (a new tensor, before it is shared): the setters refuse (0) a shared
//! tensor, as they refuse an index past the end or a value of the wrong type (RedisAI wrote
//! such values anyway, or nothing while answering success).

use std::ffi::{c_char, c_double, c_int, c_longlong, CStr};
use std::mem::ManuallyDrop;
use std::ptr;
use std::sync::Arc;

use redisai_core::batch::concat;
use redisai_core::tensor::zeroed_byte_size;
use redisai_core::{DType, Tensor};
use redisai_engine::limits::max_tensor_bytes;

use super::ffi;
use crate::keyspace::TENSOR_TYPE;

/// A new handle owning one reference.
pub fn into_handle(tensor: Arc<Tensor>) -> *mut Tensor {
    Arc::into_raw(tensor).cast_mut()
}

/// The tensor of a handle, borrowed.
///
/// # Safety
/// `t` is NULL or a live handle (the C API's contract) for `'a`.
pub unsafe fn borrow<'a>(t: *const Tensor) -> Option<&'a Tensor> {
    // SAFETY: the caller's contract.
    unsafe { t.as_ref() }
}

/// One more reference to the tensor of a handle.
///
/// # Safety
/// As [`borrow`].
pub unsafe fn share(t: *const Tensor) -> Option<Arc<Tensor>> {
    if t.is_null() {
        return None;
    }
    // SAFETY: a live `Arc` pointer: one more reference, taken as an owned `Arc`.
    unsafe {
        Arc::increment_strong_count(t);
        Some(Arc::from_raw(t))
    }
}

/// The tensor of a handle, to change in place: `None` unless the handle holds the only
/// reference.
///
/// # Safety
/// As [`borrow`]; the caller uses the result before any other call on the tensor.
unsafe fn unique<'a>(t: *mut Tensor) -> Option<&'a mut Tensor> {
    if t.is_null() {
        return None;
    }
    // SAFETY: a live `Arc` pointer, viewed without taking or dropping a reference.
    let mut arc = ManuallyDrop::new(unsafe { Arc::from_raw(t.cast_const()) });
    let only: *mut Tensor = Arc::get_mut(&mut arc)?;
    // SAFETY: no other reference exists, so no one else reads or writes it meanwhile.
    Some(unsafe { &mut *only })
}

/// `RAI_Tensor *RedisAI_TensorCreate(const char *dataType, long long *dims, int ndims)`: a
/// zero-filled tensor (STRING: empty strings); NULL for an unknown type, a negative dim or a
/// size over proto-max-bulk-len.
pub extern "C" fn tensor_create(
    data_type: *const c_char,
    dims: *const c_longlong,
    ndims: c_int,
) -> *mut Tensor {
    ffi("RedisAI_TensorCreate", ptr::null_mut(), || {
        if data_type.is_null() || ndims < 0 || (ndims > 0 && dims.is_null()) {
            return ptr::null_mut();
        }
        // SAFETY: a NUL-terminated string (the C API's contract).
        let name = unsafe { CStr::from_ptr(data_type) }.to_bytes();
        let Ok(dtype) = DType::parse(name) else {
            return ptr::null_mut();
        };
        let shape: Vec<i64> = match ndims {
            0 => Vec::new(),
            // SAFETY: `ndims` readable dims (the C API's contract).
            n => unsafe { std::slice::from_raw_parts(dims, n as usize) }.to_vec(),
        };
        if zeroed_byte_size(dtype, &shape).is_none_or(|b| b > max_tensor_bytes()) {
            return ptr::null_mut();
        }
        Tensor::zeroed(dtype, shape).map_or(ptr::null_mut(), |t| into_handle(Arc::new(t)))
    })
}

/// `RAI_Tensor *RedisAI_TensorCreateByConcatenatingTensors(RAI_Tensor **ts, long long n)`: the
/// tensors joined along dim 0 (same type, same other dims); NULL otherwise.
pub extern "C" fn tensor_concat(ts: *const *mut Tensor, n: c_longlong) -> *mut Tensor {
    ffi(
        "RedisAI_TensorCreateByConcatenatingTensors",
        ptr::null_mut(),
        || {
            if ts.is_null() || n <= 0 {
                return ptr::null_mut();
            }
            // SAFETY: `n` handles (the C API's contract).
            let handles = unsafe { std::slice::from_raw_parts(ts, n as usize) };
            // SAFETY: live handles (the C API's contract).
            let tensors: Option<Vec<&Tensor>> =
                handles.iter().map(|&t| unsafe { borrow(t) }).collect();
            match tensors.map(|t| concat(&t)) {
                Some(Ok(joined)) => into_handle(Arc::new(joined)),
                _ => ptr::null_mut(),
            }
        },
    )
}

/// `RAI_Tensor *RedisAI_TensorCreateBySlicingTensor(RAI_Tensor *t, long long offset, long long
/// len)`: rows `offset..offset+len` of dim 0; NULL past the end.
pub extern "C" fn tensor_slice(t: *mut Tensor, offset: c_longlong, len: c_longlong) -> *mut Tensor {
    ffi(
        "RedisAI_TensorCreateBySlicingTensor",
        ptr::null_mut(),
        || {
            // SAFETY: a live handle (the C API's contract).
            match unsafe { borrow(t) }.map(|t| t.rows(offset, len)) {
                Some(Ok(rows)) => into_handle(Arc::new(rows)),
                _ => ptr::null_mut(),
            }
        },
    )
}

/// Applies `f` to the tensor of a handle (`fallback` for NULL).
fn with<T: Copy>(name: &str, t: *const Tensor, fallback: T, f: impl FnOnce(&Tensor) -> T) -> T {
    // SAFETY: a live handle (the C API's contract).
    ffi(name, fallback, || unsafe { borrow(t) }.map_or(fallback, f))
}

/// `size_t RedisAI_TensorLength(RAI_Tensor *t)`: the number of elements.
pub extern "C" fn tensor_length(t: *mut Tensor) -> usize {
    with("RedisAI_TensorLength", t, 0, Tensor::len)
}

/// `size_t RedisAI_TensorDataSize(RAI_Tensor *t)`: bytes per element (STRING: 1).
pub extern "C" fn tensor_data_size(t: *mut Tensor) -> usize {
    with("RedisAI_TensorDataSize", t, 0, |t| t.dtype().size())
}

/// `RedisAI_TensorDataType`: the DLPack type, packed as a register holds the `DLDataType`
/// struct (`code | bits << 8 | lanes << 16`). RedisAI declared it without exporting it.
pub extern "C" fn tensor_data_type(t: *mut Tensor) -> usize {
    with("RedisAI_TensorDataType", t, 0, |t| {
        let d = t.dtype();
        usize::from(d.code()) | usize::from(d.bits()) << 8 | 1 << 16
    })
}

/// `void RedisAI_TensorFree(RAI_Tensor *t)`: drops one reference.
pub extern "C" fn tensor_free(t: *mut Tensor) {
    ffi("RedisAI_TensorFree", (), || {
        if !t.is_null() {
            // SAFETY: a live handle whose reference the caller gives up.
            drop(unsafe { Arc::from_raw(t.cast_const()) });
        }
    })
}

/// `int RedisAI_TensorSetData(RAI_Tensor *t, const char *data, size_t len)`: 1 when `len` bytes
/// of `data` are a valid BLOB for the tensor's type and shape (and the tensor is not shared),
/// else 0 and nothing changes.
pub extern "C" fn tensor_set_data(t: *mut Tensor, data: *const c_char, len: usize) -> c_int {
    ffi("RedisAI_TensorSetData", 0, || {
        // SAFETY: a live handle, used at once.
        let Some(tensor) = (unsafe { unique(t) }) else {
            return 0;
        };
        let blob: &[u8] = match (data.is_null(), len) {
            (_, 0) => &[],
            (true, _) => return 0,
            // SAFETY: `len` readable bytes (the C API's contract).
            (false, n) => unsafe { std::slice::from_raw_parts(data.cast(), n) },
        };
        c_int::from(tensor.set_data(blob).is_ok())
    })
}

/// Changes element `i` of a tensor nobody else holds; 0 when `f` refuses or `i` is negative.
fn set_element(
    name: &str,
    t: *mut Tensor,
    i: c_longlong,
    f: impl FnOnce(&mut Tensor, usize) -> bool,
) -> c_int {
    ffi(name, 0, || {
        let Ok(i) = usize::try_from(i) else { return 0 };
        // SAFETY: a live handle, used at once.
        unsafe { unique(t) }.map_or(0, |t| c_int::from(f(t, i)))
    })
}

/// `int RedisAI_TensorSetValueFromLongLong(RAI_Tensor *t, long long i, long long val)`: 1 for an
/// integer element (converted as C converts) or a BOOL element set to 0 or 1.
pub extern "C" fn tensor_set_value_from_long_long(
    t: *mut Tensor,
    i: c_longlong,
    val: c_longlong,
) -> c_int {
    set_element("RedisAI_TensorSetValueFromLongLong", t, i, |t, i| {
        t.set_int(i, val)
    })
}

/// `int RedisAI_TensorSetValueFromDouble(RAI_Tensor *t, long long i, double val)`: 1 for a
/// FLOAT or DOUBLE element.
pub extern "C" fn tensor_set_value_from_double(
    t: *mut Tensor,
    i: c_longlong,
    val: c_double,
) -> c_int {
    set_element("RedisAI_TensorSetValueFromDouble", t, i, |t, i| {
        t.set_float(i, val)
    })
}

/// Reads element `i` into `out`; 1 when `get` finds it.
fn get_element<T>(
    name: &str,
    t: *mut Tensor,
    i: c_longlong,
    out: *mut T,
    get: impl FnOnce(&Tensor, usize) -> Option<T>,
) -> c_int {
    ffi(name, 0, || {
        let Ok(i) = usize::try_from(i) else { return 0 };
        // SAFETY: a live handle (the C API's contract).
        let Some(value) = (unsafe { borrow(t) }).and_then(|t| get(t, i)) else {
            return 0;
        };
        // SAFETY: NULL or a writable value (the C API's contract).
        match unsafe { out.as_mut() } {
            Some(out) => {
                *out = value;
                1
            }
            None => 0,
        }
    })
}

/// `int RedisAI_TensorGetValueAsDouble(RAI_Tensor *t, long long i, double *val)`: 1 for an
/// element of a FLOAT or DOUBLE tensor.
pub extern "C" fn tensor_get_value_as_double(
    t: *mut Tensor,
    i: c_longlong,
    val: *mut c_double,
) -> c_int {
    get_element(
        "RedisAI_TensorGetValueAsDouble",
        t,
        i,
        val,
        Tensor::float_at,
    )
}

/// `int RedisAI_TensorGetValueAsLongLong(RAI_Tensor *t, long long i, long long *val)`: 1 for an
/// element of an integer or BOOL tensor.
pub extern "C" fn tensor_get_value_as_long_long(
    t: *mut Tensor,
    i: c_longlong,
    val: *mut c_longlong,
) -> c_int {
    get_element(
        "RedisAI_TensorGetValueAsLongLong",
        t,
        i,
        val,
        Tensor::int_at,
    )
}

/// `RAI_Tensor *RedisAI_TensorGetShallowCopy(RAI_Tensor *t)`: one more reference, same handle.
pub extern "C" fn tensor_get_shallow_copy(t: *mut Tensor) -> *mut Tensor {
    ffi("RedisAI_TensorGetShallowCopy", ptr::null_mut(), || {
        // SAFETY: a live handle (the C API's contract).
        unsafe { share(t) }.map_or(ptr::null_mut(), into_handle)
    })
}

/// `int RedisAI_TensorNumDims(RAI_Tensor *t)`.
pub extern "C" fn tensor_num_dims(t: *mut Tensor) -> c_int {
    with("RedisAI_TensorNumDims", t, 0, |t| t.shape().len() as c_int)
}

/// `long long RedisAI_TensorDim(RAI_Tensor *t, int dim)`: -1 for a dim the tensor does not have.
pub extern "C" fn tensor_dim(t: *mut Tensor, dim: c_int) -> c_longlong {
    with("RedisAI_TensorDim", t, -1, |t| {
        usize::try_from(dim)
            .ok()
            .and_then(|d| t.shape().get(d).copied())
            .unwrap_or(-1)
    })
}

/// `size_t RedisAI_TensorByteSize(RAI_Tensor *t)`: bytes of data.
pub extern "C" fn tensor_byte_size(t: *mut Tensor) -> usize {
    with("RedisAI_TensorByteSize", t, 0, |t| t.data().len())
}

/// `char *RedisAI_TensorData(RAI_Tensor *t)`: the data (owned by the tensor). Writable only
/// while the caller holds the tensor's only reference, and never for STRING tensors (whose
/// elements change through `RedisAI_TensorSetData`).
pub extern "C" fn tensor_data(t: *mut Tensor) -> *mut c_char {
    ffi("RedisAI_TensorData", ptr::null_mut(), || {
        // SAFETY: a live handle, used at once.
        if let Some(data) = unsafe { unique(t) }.and_then(Tensor::data_mut) {
            if !data.is_empty() {
                return data.as_mut_ptr().cast();
            }
        }
        // SAFETY: a live handle (the C API's contract).
        unsafe { borrow(t) }.map_or(ptr::null_mut(), |t| crate::bytes::ptr(t.data()).cast_mut())
    })
}

/// `RedisModuleType *RedisAI_TensorRedisType(void)`: the `AI_TENSOR` type.
pub extern "C" fn tensor_redis_type() -> *mut redis_module::raw::RedisModuleType {
    ffi("RedisAI_TensorRedisType", ptr::null_mut(), || {
        *TENSOR_TYPE.raw_type.borrow()
    })
}
