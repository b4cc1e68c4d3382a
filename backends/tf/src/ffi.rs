//! The part of TensorFlow's C API the plugin uses, declared by hand from the headers the
//! `tensorflow-cpu` wheel ships (`tensorflow/include/tensorflow/c/{c_api,tf_tensor,tf_status,
//! tf_buffer,tf_datatype,tf_tstring}.h` and `tsl/platform/ctstring_internal.h`). This C API has
//! been stable across TensorFlow 2.x. build.rs links `libtensorflow_cc.so.2` and
//! `libtensorflow_framework.so.2`.
//!
//! Enums (`TF_DataType`, `TF_Code`) are plain `c_int`s: TensorFlow may return values this file
//! does not name, which a Rust enum could not hold.

#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_void};

macro_rules! opaque {
    ($($name:ident),*) => {$(
        /// An opaque TensorFlow object, only handled through pointers.
        #[repr(C)]
        pub struct $name {
            _private: [u8; 0],
        }
    )*};
}

opaque!(
    TF_Status,
    TF_Graph,
    TF_Operation,
    TF_ImportGraphDefOptions,
    TF_SessionOptions,
    TF_Session,
    TF_Tensor,
    TF_Function
);

/// `TF_DataType` (tf_datatype.h).
pub type TF_DataType = c_int;
pub const TF_FLOAT: TF_DataType = 1;
pub const TF_DOUBLE: TF_DataType = 2;
pub const TF_INT32: TF_DataType = 3;
pub const TF_UINT8: TF_DataType = 4;
pub const TF_INT16: TF_DataType = 5;
pub const TF_INT8: TF_DataType = 6;
pub const TF_STRING: TF_DataType = 7;
pub const TF_INT64: TF_DataType = 9;
pub const TF_BOOL: TF_DataType = 10;
pub const TF_UINT16: TF_DataType = 17;

/// `TF_Code` (tf_status.h); 0 is `TF_OK`.
pub type TF_Code = c_int;
pub const TF_OK: TF_Code = 0;

/// `TF_Buffer` (tf_buffer.h): a borrowed or owned block of bytes (serialized protobufs).
#[repr(C)]
pub struct TF_Buffer {
    pub data: *const c_void,
    pub length: usize,
    pub data_deallocator: Option<unsafe extern "C" fn(data: *mut c_void, length: usize)>,
}

/// `TF_Output` (c_api.h): output `index` of an operation.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct TF_Output {
    pub oper: *mut TF_Operation,
    pub index: c_int,
}

/// `TF_TString` (ctstring_internal.h): one element of a `TF_STRING` tensor, a 24-byte union of
/// an inline small string and pointer-based representations (hence 8-byte alignment). Only
/// handled through the `TF_String*` functions.
#[repr(C, align(8))]
pub struct TF_TString {
    _raw: [u8; 24],
}

impl TF_TString {
    /// Zeroed storage for one element, to be initialised with `TF_StringInit`.
    pub const ZEROED: TF_TString = TF_TString { _raw: [0; 24] };
}

const _: () = assert!(std::mem::size_of::<TF_TString>() == 24);

/// The deallocator `TF_NewTensor` calls when the last reference to a tensor's buffer goes.
pub type TensorDeallocator = unsafe extern "C" fn(data: *mut c_void, len: usize, arg: *mut c_void);

extern "C" {
    pub fn TF_Version() -> *const c_char;

    // tf_status.h
    pub fn TF_NewStatus() -> *mut TF_Status;
    pub fn TF_DeleteStatus(status: *mut TF_Status);
    pub fn TF_GetCode(status: *const TF_Status) -> TF_Code;
    pub fn TF_Message(status: *const TF_Status) -> *const c_char;

    // Graphs (c_api.h)
    pub fn TF_NewGraph() -> *mut TF_Graph;
    pub fn TF_DeleteGraph(graph: *mut TF_Graph);
    pub fn TF_NewImportGraphDefOptions() -> *mut TF_ImportGraphDefOptions;
    pub fn TF_DeleteImportGraphDefOptions(options: *mut TF_ImportGraphDefOptions);
    pub fn TF_GraphImportGraphDef(
        graph: *mut TF_Graph,
        graph_def: *const TF_Buffer,
        options: *const TF_ImportGraphDefOptions,
        status: *mut TF_Status,
    );
    pub fn TF_GraphOperationByName(graph: *mut TF_Graph, name: *const c_char) -> *mut TF_Operation;
    pub fn TF_OperationOpType(oper: *mut TF_Operation) -> *const c_char;
    pub fn TF_GraphNextOperation(graph: *mut TF_Graph, pos: *mut usize) -> *mut TF_Operation;
    pub fn TF_GraphNumFunctions(graph: *mut TF_Graph) -> c_int;
    pub fn TF_GraphGetFunctions(
        graph: *mut TF_Graph,
        funcs: *mut *mut TF_Function,
        max_func: c_int,
        status: *mut TF_Status,
    ) -> c_int;
    pub fn TF_FunctionToFunctionDef(
        func: *mut TF_Function,
        output_func_def: *mut TF_Buffer,
        status: *mut TF_Status,
    );
    pub fn TF_DeleteFunction(func: *mut TF_Function);

    // Buffers (tf_buffer.h) and the op registry (c_api.h)
    pub fn TF_NewBuffer() -> *mut TF_Buffer;
    pub fn TF_DeleteBuffer(buffer: *mut TF_Buffer);
    pub fn TF_GetAllOpList() -> *mut TF_Buffer;

    // Sessions (c_api.h)
    pub fn TF_NewSessionOptions() -> *mut TF_SessionOptions;
    pub fn TF_DeleteSessionOptions(options: *mut TF_SessionOptions);
    pub fn TF_SetConfig(
        options: *mut TF_SessionOptions,
        proto: *const c_void,
        proto_len: usize,
        status: *mut TF_Status,
    );
    pub fn TF_NewSession(
        graph: *mut TF_Graph,
        options: *const TF_SessionOptions,
        status: *mut TF_Status,
    ) -> *mut TF_Session;
    pub fn TF_CloseSession(session: *mut TF_Session, status: *mut TF_Status);
    pub fn TF_DeleteSession(session: *mut TF_Session, status: *mut TF_Status);
    #[allow(clippy::too_many_arguments)]
    pub fn TF_SessionRun(
        session: *mut TF_Session,
        run_options: *const TF_Buffer,
        inputs: *const TF_Output,
        input_values: *const *mut TF_Tensor,
        ninputs: c_int,
        outputs: *const TF_Output,
        output_values: *mut *mut TF_Tensor,
        noutputs: c_int,
        target_opers: *const *const TF_Operation,
        ntargets: c_int,
        run_metadata: *mut TF_Buffer,
        status: *mut TF_Status,
    );

    // tf_tensor.h
    pub fn TF_NewTensor(
        dtype: TF_DataType,
        dims: *const i64,
        num_dims: c_int,
        data: *mut c_void,
        len: usize,
        deallocator: Option<TensorDeallocator>,
        deallocator_arg: *mut c_void,
    ) -> *mut TF_Tensor;
    pub fn TF_AllocateTensor(
        dtype: TF_DataType,
        dims: *const i64,
        num_dims: c_int,
        len: usize,
    ) -> *mut TF_Tensor;
    pub fn TF_DeleteTensor(tensor: *mut TF_Tensor);
    pub fn TF_TensorType(tensor: *const TF_Tensor) -> TF_DataType;
    pub fn TF_NumDims(tensor: *const TF_Tensor) -> c_int;
    pub fn TF_Dim(tensor: *const TF_Tensor, dim_index: c_int) -> i64;
    pub fn TF_TensorByteSize(tensor: *const TF_Tensor) -> usize;
    pub fn TF_TensorData(tensor: *const TF_Tensor) -> *mut c_void;
    pub fn TF_TensorElementCount(tensor: *const TF_Tensor) -> i64;

    // tf_tstring.h
    pub fn TF_StringInit(s: *mut TF_TString);
    pub fn TF_StringCopy(dst: *mut TF_TString, src: *const c_char, size: usize);
    pub fn TF_StringGetDataPointer(s: *const TF_TString) -> *const c_char;
    pub fn TF_StringGetSize(s: *const TF_TString) -> usize;
    pub fn TF_StringDealloc(s: *mut TF_TString);
}
