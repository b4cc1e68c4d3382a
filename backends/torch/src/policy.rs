//! The sandbox policy of TorchScript models and scripts (docs/security.md).
//!
//! A TorchScript archive or script is a program: it may call any operator libtorch registers and
//! construct any of its custom classes. The policy decides which ones it may use:
//!
//! - operators: those of the namespaces in [`ALLOWED_NAMESPACES`] (tensor maths, TorchScript's
//!   built-ins, quantized and oneDNN kernels, the script extensions), except
//!   [`DENIED_OPERATORS`]: the operators that read or write files (found by enumerating
//!   everything libtorch registers; the backend's tests repeat that enumeration) and those that
//!   skip bounds checks. Everything else — distributed communication (`c10d`, `symm_mem`, ...),
//!   the profiler, compiler internals (`inductor`, `static_runtime`), test operators, and any
//!   namespace a later libtorch adds — is refused;
//! - custom classes (`torch.classes.<ns>.<name>`): only the packed-parameter classes quantized
//!   and oneDNN-prepacked models carry ([`ALLOWED_CLASSES`]).
//!
//! The plugin applies it in three places (the C++ side is `shim/sandbox.cpp`): at start, every
//! registered operator the policy refuses is removed from TorchScript's operator registry and
//! every refused custom class loses its methods, so no TorchScript code — not even code that
//! runs while an archive is being loaded (`__setstate__`) — can call them; after a model is
//! loaded or a script compiled, every graph of it is walked and refused with
//! `ERR model uses a forbidden operator: <name>` if anything outside the policy remains; and a
//! compilation error caused by a removed operator is reported with the same text.
//!
//! The ALLOW_OPERATORS module argument lists names (operators `ns::name`, classes
//! `__torch__.torch.classes.<ns>.<name>`) to allow anyway, for trusted setups.

use std::sync::OnceLock;

/// Namespaces whose operators models and scripts may use.
pub const ALLOWED_NAMESPACES: &[&str] = &[
    "aten",
    "prim",
    "quantized",
    "_quantized",
    "quantization",
    "onednn",
    "mkldnn",
    "mkldnn_prepacked",
    "mkl",
    "sparse",
    "onnx",
    "cuda",
    // The script extensions of this module (shim/torch_shim.cpp).
    "redis",
    "redisAI",
];

/// Operators of the allowed namespaces that are refused anyway (overload names do not matter).
pub const DENIED_OPERATORS: &[&str] = &[
    // Files: `torch.from_file` maps or creates a file (shared: writes reach it), `torch.save`
    // writes one.
    "aten::from_file",
    "aten::save",
    // Indexing without bounds checks (compiler-internal forms of index / index_put).
    "aten::_unsafe_index",
    "aten::_unsafe_index_put",
    "aten::_unsafe_masked_index",
    "aten::_unsafe_masked_index_put_accumulate",
    // Sparse tensors built without checking their indices against their size.
    "aten::_sparse_coo_tensor_unsafe",
    "aten::_sparse_compressed_tensor_unsafe",
    "aten::_sparse_csr_tensor_unsafe",
    "aten::_sparse_csc_tensor_unsafe",
    "aten::_sparse_bsr_tensor_unsafe",
    "aten::_sparse_bsc_tensor_unsafe",
    // Views of a nested tensor's buffer at offsets the caller chooses.
    "aten::_nested_view_from_buffer",
    "aten::_nested_view_from_buffer_copy",
    // Hands out the address of a tensor's memory.
    "mkldnn::data_ptr",
];

/// Custom classes models may hold (qualified as TorchScript names them).
pub const ALLOWED_CLASSES: &[&str] = &[
    "__torch__.torch.classes.quantized.LinearPackedParamsBase",
    "__torch__.torch.classes.quantized.Conv2dPackedParamsBase",
    "__torch__.torch.classes.quantized.Conv3dPackedParamsBase",
    "__torch__.torch.classes.quantized.EmbeddingPackedParamsBase",
    "__torch__.torch.classes.rnn.CellParamsBase",
    "__torch__.torch.classes.sparse.LinearPackedParamsBase",
    "__torch__.torch.classes.mkldnn.ConvOpContext",
    "__torch__.torch.classes.xnnpack.LinearOpContext",
    "__torch__.torch.classes.xnnpack.Conv2dOpContext",
    "__torch__.torch.classes.xnnpack.TransposeConv2dOpContext",
];

/// The qualified-name prefix of custom classes.
pub const CUSTOM_CLASS_PREFIX: &str = "__torch__.torch.classes.";

static ALLOWED_EXTRA: OnceLock<Vec<String>> = OnceLock::new();

/// Sets the ALLOW_OPERATORS list (once per process; later calls keep the first list).
pub fn set_allow_list(names: &[String]) {
    let _ = ALLOWED_EXTRA.set(names.to_vec());
}

fn allowed_by_argument(name: &str) -> bool {
    ALLOWED_EXTRA
        .get()
        .is_some_and(|extra| extra.iter().any(|n| n == name))
}

/// Whether a model or script may use the operator `name` (`ns::op` or `ns::op.overload`).
pub fn operator_allowed(name: &str) -> bool {
    let base = name.split('.').next().unwrap_or(name);
    if allowed_by_argument(name) || allowed_by_argument(base) {
        return true;
    }
    let Some((namespace, _)) = base.split_once("::") else {
        return false;
    };
    ALLOWED_NAMESPACES.contains(&namespace) && !DENIED_OPERATORS.contains(&base)
}

/// Whether a model may hold an object of the class `qualified` (only custom classes are
/// restricted; the classes a model defines itself are checked through their methods).
pub fn class_allowed(qualified: &str) -> bool {
    !qualified.starts_with(CUSTOM_CLASS_PREFIX)
        || ALLOWED_CLASSES.contains(&qualified)
        || allowed_by_argument(qualified)
}

/// Reads a name the C++ side passes.
///
/// # Safety
/// `name` must point to `len` readable bytes.
unsafe fn name_of<'a>(name: *const u8, len: usize) -> Option<&'a str> {
    if name.is_null() {
        return None;
    }
    // SAFETY: per the caller.
    std::str::from_utf8(unsafe { std::slice::from_raw_parts(name, len) }).ok()
}

/// [`operator_allowed`] for the C++ side (shim/sandbox.cpp): 1 allowed, 0 refused.
///
/// # Safety
/// `name` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn redisai_torch_operator_allowed(name: *const u8, len: usize) -> i32 {
    // SAFETY: forwarded from the caller.
    let name = unsafe { name_of(name, len) };
    // The checks cannot panic (plain comparisons); a name that is not UTF-8 is refused.
    i32::from(name.is_some_and(operator_allowed))
}

/// [`class_allowed`] for the C++ side: 1 allowed, 0 refused.
///
/// # Safety
/// `name` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn redisai_torch_class_allowed(name: *const u8, len: usize) -> i32 {
    // SAFETY: forwarded from the caller.
    let name = unsafe { name_of(name, len) };
    i32::from(name.is_some_and(class_allowed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators() {
        for name in [
            "aten::add",
            "aten::add.Tensor",
            "prim::If",
            "quantized::linear",
        ] {
            assert!(operator_allowed(name), "{name}");
        }
        for name in [
            "aten::from_file",
            "aten::from_file.out",
            "aten::save",
            "aten::_unsafe_index.Tensor",
            "mkldnn::data_ptr",
            "c10d::allreduce_",
            "profiler::_record_function_enter",
            "inductor::_alloc_from_pool",
            "static_runtime::to_copy",
            "_test::cat",
            "somelib::anything",
            "no_namespace",
        ] {
            assert!(!operator_allowed(name), "{name}");
        }
    }

    #[test]
    fn classes() {
        assert!(class_allowed(
            "__torch__.torch.classes.quantized.LinearPackedParamsBase"
        ));
        assert!(class_allowed("__torch__.MyModule"));
        assert!(!class_allowed(
            "__torch__.torch.classes.profiling._ScriptProfile"
        ));
        assert!(!class_allowed("__torch__.torch.classes.c10d.ProcessGroup"));
    }
}
