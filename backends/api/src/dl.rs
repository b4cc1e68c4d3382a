//! DLPack conversions both sides of the ABI share: borrowed inputs in, owned outputs out.

use std::os::raw::c_void;

use redisai_core::{DType, Tensor};

use crate::ffi::*;
use crate::types::{OutputTensor, TensorRef};

/// A borrowed [`RaiInput`] view of a tensor (valid while `t` is borrowed).
pub(crate) fn raw_input(i: &TensorRef<'_>) -> RaiInput {
    RaiInput {
        tensor: DLTensor {
            data: i.data.as_ptr().cast_mut().cast(),
            device: DLDevice {
                device_type: DLDeviceType::CPU,
                device_id: 0,
            },
            ndim: i.shape.len() as i32,
            dtype: DLDataType {
                code: DLDataTypeCode(i.dtype.code()),
                bits: i.dtype.bits(),
                lanes: 1,
            },
            // The receiver only reads inputs (ABI rule).
            shape: i.shape.as_ptr().cast_mut(),
            strides: std::ptr::null_mut(),
            byte_offset: 0,
        },
        nbytes: i.data.len() as u64,
    }
}

/// `n` empty output slots.
pub(crate) fn empty_slots(n: usize) -> OutputSlots {
    OutputSlots(
        (0..n)
            .map(|_| RaiOutput {
                tensor: std::ptr::null_mut(),
                nbytes: 0,
            })
            .collect(),
    )
}

/// Output slots filled by the other side; releases their tensors whatever happens.
pub(crate) struct OutputSlots(pub(crate) Vec<RaiOutput>);

impl Drop for OutputSlots {
    fn drop(&mut self) {
        for slot in &mut self.0 {
            let t = std::mem::replace(&mut slot.tensor, std::ptr::null_mut());
            if t.is_null() {
                continue;
            }
            // SAFETY: a DLManagedTensor handed over by the other side, released exactly once.
            if let Some(deleter) = unsafe { (*t).deleter } {
                // SAFETY: as above.
                unsafe { deleter(t) };
            }
        }
    }
}

impl OutputSlots {
    /// Copies the filled slots into host tensors (`None` for empty slots).
    pub(crate) fn import_all(&self) -> Result<Vec<Option<Tensor>>, String> {
        self.0
            .iter()
            .map(|slot| {
                if slot.tensor.is_null() {
                    return Ok(None);
                }
                // SAFETY: a live DLManagedTensor (released by `self` on drop).
                unsafe { import(&(*slot.tensor).dl_tensor, slot.nbytes) }.map(Some)
            })
            .collect()
    }
}

/// Fills `n_outputs` raw slots from `produced` (extra slots stay empty).
///
/// # Safety
/// `outputs` must point to `n_outputs` writable slots (or `n_outputs` be 0).
pub(crate) unsafe fn fill_slots(
    outputs: *mut RaiOutput,
    n_outputs: usize,
    produced: Vec<Option<OutputTensor>>,
) {
    let slots: &mut [RaiOutput] = if n_outputs == 0 || outputs.is_null() {
        &mut []
    } else {
        // SAFETY: the caller passes `n_outputs` writable slots.
        unsafe { std::slice::from_raw_parts_mut(outputs, n_outputs) }
    };
    for slot in slots.iter_mut() {
        *slot = RaiOutput {
            tensor: std::ptr::null_mut(),
            nbytes: 0,
        };
    }
    for (slot, out) in slots.iter_mut().zip(produced) {
        if let Some(out) = out {
            *slot = export(out);
        }
    }
}

/// Reads `n` borrowed inputs.
///
/// # Safety
/// `inputs` must point to `n` inputs valid for `'a` (or `n` be 0).
pub(crate) unsafe fn input_views<'a>(
    inputs: *const RaiInput,
    n: usize,
) -> Result<Vec<TensorRef<'a>>, String> {
    if n == 0 || inputs.is_null() {
        return Ok(Vec::new());
    }
    // SAFETY: the caller guarantees `n` valid inputs for 'a.
    let inputs: &'a [RaiInput] = unsafe { std::slice::from_raw_parts(inputs, n) };
    inputs
        .iter()
        // SAFETY: inputs are valid for 'a.
        .map(|i| unsafe { input_view(i) })
        .collect()
}

/// Reads a borrowed input as a [`TensorRef`].
///
/// # Safety
/// `input` must describe memory valid for `'a` (the host guarantees it during `model_run`).
pub(crate) unsafe fn input_view<'a>(input: &'a RaiInput) -> Result<TensorRef<'a>, String> {
    let t = &input.tensor;
    let dtype = DType::from_code_bits(u64::from(t.dtype.code.0), u64::from(t.dtype.bits))
        .filter(|_| t.dtype.lanes == 1)
        .ok_or_else(|| "ERR unsupported input tensor type".to_string())?;
    if t.device.device_type != DLDeviceType::CPU {
        return Err("ERR input tensor is not in host memory".into());
    }
    let ndim = usize::try_from(t.ndim).map_err(|_| "ERR bad input tensor".to_string())?;
    let shape: &[i64] = if ndim == 0 || t.shape.is_null() {
        &[]
    } else {
        // SAFETY: DLPack: `shape` holds `ndim` entries.
        unsafe { std::slice::from_raw_parts(t.shape, ndim) }
    };
    if !t.strides.is_null() {
        return Err("ERR input tensor is not contiguous".into());
    }
    let len = usize::try_from(input.nbytes).map_err(|_| "ERR bad input tensor".to_string())?;
    let data = if len == 0 || t.data.is_null() {
        &[][..]
    } else {
        // SAFETY: the host guarantees `nbytes` readable bytes from data + byte_offset.
        unsafe { std::slice::from_raw_parts(t.data.cast::<u8>().add(t.byte_offset as usize), len) }
    };
    Ok(TensorRef { dtype, shape, data })
}

/// What a [`DLManagedTensor`] exported by a backend owns.
struct Exported {
    managed: DLManagedTensor,
    shape: Vec<i64>,
    _output: OutputTensor,
}

unsafe extern "C" fn delete_exported(t: *mut DLManagedTensor) {
    if t.is_null() {
        return;
    }
    // SAFETY: `managed` is the first field of a boxed `Exported` (repr(Rust) keeps it addressable
    // through manager_ctx, which points to the box).
    let ctx = unsafe { (*t).manager_ctx };
    // SAFETY: manager_ctx is the Box<Exported> leaked by `export`, freed exactly once here.
    drop(unsafe { Box::from_raw(ctx.cast::<Exported>()) });
}

/// Hands an output to the host as a DLManagedTensor without copying its bytes.
pub(crate) fn export(output: OutputTensor) -> RaiOutput {
    let nbytes = output.bytes().len() as u64;
    let data = output.bytes().as_ptr().cast_mut().cast::<c_void>();
    let dtype = DLDataType {
        code: DLDataTypeCode(output.dtype.code()),
        bits: output.dtype.bits(),
        lanes: 1,
    };
    let mut boxed = Box::new(Exported {
        managed: DLManagedTensor {
            dl_tensor: DLTensor {
                data,
                device: DLDevice {
                    device_type: DLDeviceType::CPU,
                    device_id: 0,
                },
                ndim: output.shape.len() as i32,
                dtype,
                shape: std::ptr::null_mut(),
                strides: std::ptr::null_mut(),
                byte_offset: 0,
            },
            manager_ctx: std::ptr::null_mut(),
            deleter: Some(delete_exported),
        },
        shape: output.shape.clone(),
        _output: output,
    });
    boxed.managed.dl_tensor.shape = boxed.shape.as_mut_ptr();
    let raw = Box::into_raw(boxed);
    // SAFETY: `raw` is a valid, uniquely owned allocation.
    unsafe {
        (*raw).managed.manager_ctx = raw.cast();
        RaiOutput {
            tensor: &raw mut (*raw).managed,
            nbytes,
        }
    }
}

/// Copies a backend's output into a host tensor, validating what the backend claims.
///
/// # Safety
/// `t` must describe `nbytes` readable bytes at `data + byte_offset`, and `ndim` shape entries.
pub(crate) unsafe fn import(t: &DLTensor, nbytes: u64) -> Result<Tensor, String> {
    let dtype = DType::from_code_bits(u64::from(t.dtype.code.0), u64::from(t.dtype.bits))
        .filter(|_| t.dtype.lanes == 1 && t.device.device_type == DLDeviceType::CPU)
        .ok_or_else(|| "ERR backend returned an unsupported tensor type".to_string())?;
    let ndim = usize::try_from(t.ndim).map_err(|_| "ERR backend returned a bad tensor")?;
    let shape = if ndim == 0 {
        Vec::new()
    } else {
        // SAFETY: `shape` holds `ndim` entries (DLPack).
        unsafe { std::slice::from_raw_parts(t.shape, ndim) }.to_vec()
    };
    let len = usize::try_from(nbytes).map_err(|_| "ERR backend returned a bad tensor")?;
    let data = if len == 0 {
        Vec::new()
    } else {
        // SAFETY: the backend guarantees `nbytes` readable bytes.
        unsafe { std::slice::from_raw_parts(t.data.cast::<u8>().add(t.byte_offset as usize), len) }
            .to_vec()
    };
    Tensor::from_parts(dtype, shape, data)
        .map_err(|_| "ERR backend returned a tensor whose data does not match its shape".into())
}
