//! Safe owners of TensorFlow's C objects: status, graph, session and tensor.
//!
//! Thread safety (TensorFlow's documentation of `TF_Graph`, `tensorflow::Session`): a graph is
//! thread-safe when it is only read once sessions use it, and a session's `Run` may be called
//! from several threads at once. The plugin never changes a graph after importing it, so a
//! [`Session`] (which owns its graph) is shared by every worker running the model.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::ptr::{self, NonNull};

use crate::ffi::*;

/// A NUL-terminated C string as an owned Rust string (lossy).
///
/// # Safety
/// `s` must be null or point to a NUL-terminated string.
unsafe fn c_text(s: *const c_char) -> String {
    if s.is_null() {
        return String::new();
    }
    // SAFETY: non-null and NUL-terminated per the caller.
    unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned()
}

/// Every op TensorFlow registers, as its serialized `OpList`.
pub fn all_ops() -> Vec<u8> {
    // SAFETY: no preconditions; the buffer is owned by the caller.
    let buffer = unsafe { TF_GetAllOpList() };
    if buffer.is_null() {
        return Vec::new();
    }
    // SAFETY: the buffer holds `length` bytes at `data`; deleted once after the copy.
    unsafe {
        let b = &*buffer;
        let bytes = if b.data.is_null() {
            Vec::new()
        } else {
            std::slice::from_raw_parts(b.data.cast::<u8>(), b.length).to_vec()
        };
        TF_DeleteBuffer(buffer);
        bytes
    }
}

/// TensorFlow's version string (`TF_Version()`, e.g. `2.21.0`).
pub fn version() -> String {
    // SAFETY: TF_Version returns a static NUL-terminated string.
    unsafe { c_text(TF_Version()) }
}

/// The outcome of one TensorFlow call.
pub struct Status(NonNull<TF_Status>);

impl Status {
    pub fn new() -> Status {
        // SAFETY: no preconditions; the result is checked for null.
        let raw = unsafe { TF_NewStatus() };
        Status(NonNull::new(raw).expect("TF_NewStatus returned null"))
    }

    pub fn as_ptr(&self) -> *mut TF_Status {
        self.0.as_ptr()
    }

    /// `Ok` for `TF_OK`, else TensorFlow's message (the text clients get).
    pub fn check(&self) -> Result<(), String> {
        // SAFETY: a live status object.
        if unsafe { TF_GetCode(self.as_ptr()) } == TF_OK {
            return Ok(());
        }
        // SAFETY: TF_Message returns a string owned by the live status.
        Err(unsafe { c_text(TF_Message(self.as_ptr())) })
    }
}

impl Drop for Status {
    fn drop(&mut self) {
        // SAFETY: created by TF_NewStatus, deleted once.
        unsafe { TF_DeleteStatus(self.as_ptr()) }
    }
}

/// A graph imported from a serialized `GraphDef`.
pub struct Graph(NonNull<TF_Graph>);

/// An operation of a graph: its output 0 and its op type.
pub struct Operation {
    pub output: TF_Output,
    pub op_type: String,
}

impl Graph {
    /// Imports a serialized `GraphDef` into a new graph. The error is TensorFlow's text, e.g.
    /// `Invalid GraphDef` for bytes that are not one.
    pub fn import(graph_def: &[u8]) -> Result<Graph, String> {
        // SAFETY: no preconditions; checked for null.
        let graph = Graph(NonNull::new(unsafe { TF_NewGraph() }).ok_or("ERR TF_NewGraph failed")?);
        let buffer = TF_Buffer {
            data: graph_def.as_ptr().cast(),
            length: graph_def.len(),
            data_deallocator: None,
        };
        // SAFETY: no preconditions; checked for null.
        let options = unsafe { TF_NewImportGraphDefOptions() };
        if options.is_null() {
            return Err("ERR TF_NewImportGraphDefOptions failed".into());
        }
        let status = Status::new();
        // SAFETY: live graph, options and status; the buffer borrows `graph_def` for the call
        // only (TensorFlow parses it, no deallocator).
        unsafe {
            TF_GraphImportGraphDef(graph.0.as_ptr(), &buffer, options, status.as_ptr());
            TF_DeleteImportGraphDefOptions(options);
        }
        status.check()?;
        Ok(graph)
    }

    /// The op types of every operation of the graph.
    pub fn op_types(&self) -> Vec<String> {
        let mut types = Vec::new();
        let mut pos = 0usize;
        loop {
            // SAFETY: a live graph and a cursor TensorFlow advances.
            let oper = unsafe { TF_GraphNextOperation(self.0.as_ptr(), &mut pos) };
            if oper.is_null() {
                return types;
            }
            // SAFETY: a live operation of the graph; its type is a string the graph owns.
            types.push(unsafe { c_text(TF_OperationOpType(oper)) });
        }
    }

    /// The serialized `FunctionDef` of every function of the graph's library.
    pub fn function_defs(&self) -> Result<Vec<Vec<u8>>, String> {
        // SAFETY: a live graph.
        let count = unsafe { TF_GraphNumFunctions(self.0.as_ptr()) };
        let mut functions: Vec<*mut TF_Function> =
            vec![ptr::null_mut(); usize::try_from(count).unwrap_or(0)];
        let status = Status::new();
        // SAFETY: room for `count` functions; TensorFlow hands over new references, deleted below.
        let got = unsafe {
            TF_GraphGetFunctions(
                self.0.as_ptr(),
                functions.as_mut_ptr(),
                count,
                status.as_ptr(),
            )
        };
        functions.truncate(usize::try_from(got).unwrap_or(0));
        let result = status.check().and_then(|()| {
            functions
                .iter()
                .map(|&function| {
                    // SAFETY: no preconditions; checked for null.
                    let buffer = unsafe { TF_NewBuffer() };
                    if buffer.is_null() {
                        return Err("ERR TF_NewBuffer failed".to_string());
                    }
                    let status = Status::new();
                    // SAFETY: a live function and buffer; TensorFlow fills the buffer.
                    unsafe { TF_FunctionToFunctionDef(function, buffer, status.as_ptr()) };
                    // SAFETY: the buffer holds `length` bytes at `data` (or nothing).
                    let bytes = unsafe {
                        let b = &*buffer;
                        if b.data.is_null() || b.length == 0 {
                            Vec::new()
                        } else {
                            std::slice::from_raw_parts(b.data.cast::<u8>(), b.length).to_vec()
                        }
                    };
                    // SAFETY: created above, deleted once.
                    unsafe { TF_DeleteBuffer(buffer) };
                    status.check().map(|()| bytes)
                })
                .collect()
        });
        for function in functions {
            // SAFETY: a reference returned by TF_GraphGetFunctions, released once.
            unsafe { TF_DeleteFunction(function) };
        }
        result
    }

    /// The operation named `name`, if the graph has one.
    pub fn operation(&self, name: &str) -> Option<Operation> {
        let c_name = CString::new(name).ok()?;
        // SAFETY: live graph and NUL-terminated name.
        let oper = unsafe { TF_GraphOperationByName(self.0.as_ptr(), c_name.as_ptr()) };
        if oper.is_null() {
            return None;
        }
        // SAFETY: a live operation of the graph; its type is a string the graph owns.
        let op_type = unsafe { c_text(TF_OperationOpType(oper)) };
        Some(Operation {
            output: TF_Output { oper, index: 0 },
            op_type,
        })
    }
}

impl Drop for Graph {
    fn drop(&mut self) {
        // SAFETY: created by TF_NewGraph, deleted once (TensorFlow keeps it alive while a
        // session still refers to it).
        unsafe { TF_DeleteGraph(self.0.as_ptr()) }
    }
}

/// A session over a graph it owns.
pub struct Session {
    session: NonNull<TF_Session>,
    /// Never changed once the session exists; deleted after the session.
    _graph: Graph,
}

// SAFETY: a TF_Session's Run is thread-safe (see the module documentation), closing and deleting
// happen once in `drop`, and the graph is only read after the session is created.
unsafe impl Send for Session {}
// SAFETY: as above; `run` takes `&self` and only calls TF_SessionRun.
unsafe impl Sync for Session {}

impl Session {
    /// A session on `graph`, configured by a serialized `ConfigProto` (see `config`).
    pub fn new(graph: Graph, config: &[u8]) -> Result<Session, String> {
        // SAFETY: no preconditions; checked for null.
        let options = unsafe { TF_NewSessionOptions() };
        if options.is_null() {
            return Err("ERR TF_NewSessionOptions failed".into());
        }
        let status = Status::new();
        // SAFETY: live options and status; TensorFlow copies the config bytes.
        unsafe {
            TF_SetConfig(
                options,
                config.as_ptr().cast(),
                config.len(),
                status.as_ptr(),
            )
        };
        let session = match status.check() {
            // SAFETY: live graph, options and status; the session does not take ownership of
            // the options, deleted right after.
            Ok(()) => unsafe { TF_NewSession(graph.0.as_ptr(), options, status.as_ptr()) },
            Err(_) => ptr::null_mut(),
        };
        // SAFETY: created above, deleted once.
        unsafe { TF_DeleteSessionOptions(options) };
        status.check()?;
        let session = NonNull::new(session).ok_or("ERR TF_NewSession failed")?;
        Ok(Session {
            session,
            _graph: graph,
        })
    }

    /// Feeds `inputs` to the operations `feeds` (same length), and returns the tensors of
    /// `fetches`. The error is TensorFlow's message.
    pub fn run(
        &self,
        feeds: &[TF_Output],
        inputs: &[Tensor],
        fetches: &[TF_Output],
    ) -> Result<Vec<Tensor>, String> {
        assert_eq!(feeds.len(), inputs.len(), "one tensor per fed operation");
        let count = |n: usize| c_int::try_from(n).map_err(|_| "ERR too many tensors".to_string());
        let input_values: Vec<*mut TF_Tensor> = inputs.iter().map(|t| t.0.as_ptr()).collect();
        let mut output_values: Vec<*mut TF_Tensor> = vec![ptr::null_mut(); fetches.len()];
        let status = Status::new();
        // SAFETY: a live session; `feeds`/`fetches` are outputs of operations of its graph,
        // alive as long as the graph, which `self` owns; `input_values` are live tensors the
        // caller keeps (TensorFlow does not take them); `output_values` has room for one
        // tensor per fetch. No run options, targets or metadata.
        unsafe {
            TF_SessionRun(
                self.session.as_ptr(),
                ptr::null(),
                feeds.as_ptr(),
                input_values.as_ptr(),
                count(feeds.len())?,
                fetches.as_ptr(),
                output_values.as_mut_ptr(),
                count(fetches.len())?,
                ptr::null(),
                0,
                ptr::null_mut(),
                status.as_ptr(),
            )
        };
        // Take ownership of whatever was produced before looking at the status.
        let outputs: Vec<Option<Tensor>> = output_values
            .into_iter()
            .map(|t| NonNull::new(t).map(Tensor))
            .collect();
        status.check()?;
        outputs
            .into_iter()
            .map(|t| t.ok_or_else(|| "ERR TF returned no tensor".to_string()))
            .collect()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let status = Status::new();
        // SAFETY: created by TF_NewSession, closed and deleted once, before the graph (a
        // later field) is deleted. Errors cannot be reported from here.
        unsafe {
            TF_CloseSession(self.session.as_ptr(), status.as_ptr());
            TF_DeleteSession(self.session.as_ptr(), status.as_ptr());
        }
    }
}

/// An owned reference to a TensorFlow tensor (its buffer is reference counted by TensorFlow).
pub struct Tensor(NonNull<TF_Tensor>);

// SAFETY: a TF_Tensor is a handle on an immutable (once built), atomically reference-counted
// buffer; it can be read and deleted from any thread.
unsafe impl Send for Tensor {}
// SAFETY: as above; shared access only reads.
unsafe impl Sync for Tensor {}

/// Frees the elements of a STRING tensor built by [`Tensor::strings`] when TensorFlow drops the
/// last reference to its buffer (which may be after the run, in any thread).
unsafe extern "C" fn free_strings(data: *mut c_void, _len: usize, arg: *mut c_void) {
    // SAFETY: `arg` is the Box<Vec<TF_TString>> leaked by `Tensor::strings` (`data` points to
    // its elements), handed over once; every element was initialised with TF_StringInit.
    let mut elements = unsafe { Box::from_raw(arg.cast::<Vec<TF_TString>>()) };
    debug_assert_eq!(data, elements.as_mut_ptr().cast());
    for element in elements.iter_mut() {
        // SAFETY: an initialised TF_TString, released once.
        unsafe { TF_StringDealloc(element) };
    }
}

impl Tensor {
    /// A new tensor of `dtype` (not STRING) and shape `dims` holding a copy of `bytes`, each
    /// byte passed through `map` (used to normalise BOOL values). TensorFlow allocates the
    /// buffer (aligned as its kernels expect) and owns it: it may keep it after the run.
    pub fn from_bytes(
        dtype: TF_DataType,
        dims: &[i64],
        bytes: &[u8],
        map: Option<fn(u8) -> u8>,
    ) -> Result<Tensor, String> {
        let ndims = c_int::try_from(dims.len()).map_err(|_| "ERR too many dimensions")?;
        // SAFETY: `dims` holds `ndims` entries; TensorFlow checks `len` against the shape.
        let raw = unsafe { TF_AllocateTensor(dtype, dims.as_ptr(), ndims, bytes.len()) };
        let tensor = Tensor(NonNull::new(raw).ok_or("ERR TF could not allocate a tensor")?);
        if !bytes.is_empty() {
            // SAFETY: a fresh tensor whose buffer holds exactly `bytes.len()` bytes (allocated
            // above, non-empty here) and is not shared yet.
            let data = unsafe {
                std::slice::from_raw_parts_mut(TF_TensorData(raw).cast::<u8>(), bytes.len())
            };
            match map {
                None => data.copy_from_slice(bytes),
                Some(f) => data.iter_mut().zip(bytes).for_each(|(d, &b)| *d = f(b)),
            }
        }
        Ok(tensor)
    }

    /// A new STRING tensor of shape `dims` with `elements` (as many as the shape holds).
    pub fn strings<'a>(
        dims: &[i64],
        elements: impl ExactSizeIterator<Item = &'a [u8]>,
    ) -> Result<Tensor, String> {
        let ndims = c_int::try_from(dims.len()).map_err(|_| "ERR too many dimensions")?;
        let mut strings: Vec<TF_TString> = Vec::with_capacity(elements.len());
        for element in elements {
            strings.push(TF_TString::ZEROED);
            let slot = strings.last_mut().expect("just pushed");
            // SAFETY: `slot` is a TF_TString-sized, aligned slot; TF_StringInit makes it an
            // empty string, TF_StringCopy copies the readable `element` into it (allocating
            // when it is long).
            unsafe {
                TF_StringInit(slot);
                if !element.is_empty() {
                    TF_StringCopy(slot, element.as_ptr().cast(), element.len());
                }
            }
        }
        // TensorFlow requires no particular alignment of STRING buffers (`Tensor::IsAligned`
        // exempts DT_STRING); numeric inputs go through TF_AllocateTensor instead.
        let len = strings.len() * std::mem::size_of::<TF_TString>();
        let data = strings.as_mut_ptr().cast::<c_void>();
        let owner = Box::into_raw(Box::new(strings)).cast::<c_void>();
        // SAFETY: `data` holds `len` bytes of initialised TF_TStrings owned by `owner`, which
        // moves to TensorFlow: `free_strings` releases it when the buffer's last reference goes
        // (also when TF_NewTensor fails and returns null).
        let raw = unsafe {
            TF_NewTensor(
                TF_STRING,
                dims.as_ptr(),
                ndims,
                data,
                len,
                Some(free_strings),
                owner,
            )
        };
        Ok(Tensor(
            NonNull::new(raw).ok_or("ERR input tensor data does not match its shape")?,
        ))
    }

    pub fn dtype(&self) -> TF_DataType {
        // SAFETY: a live tensor.
        unsafe { TF_TensorType(self.0.as_ptr()) }
    }

    pub fn dims(&self) -> Vec<i64> {
        let t = self.0.as_ptr();
        // SAFETY: a live tensor; indices are below TF_NumDims.
        unsafe { (0..TF_NumDims(t)).map(|i| TF_Dim(t, i)).collect() }
    }

    pub fn element_count(&self) -> usize {
        // SAFETY: a live tensor.
        usize::try_from(unsafe { TF_TensorElementCount(self.0.as_ptr()) }).unwrap_or(0)
    }

    /// The tensor's buffer (for STRING tensors: its TF_TString elements).
    pub fn bytes(&self) -> &[u8] {
        let t = self.0.as_ptr();
        // SAFETY: a live tensor.
        let (data, len) = unsafe { (TF_TensorData(t), TF_TensorByteSize(t)) };
        if data.is_null() || len == 0 {
            return &[];
        }
        // SAFETY: TensorFlow's buffer of `len` bytes, kept alive (and unchanged: tensors
        // TensorFlow hands out are not written afterwards) by this reference.
        unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) }
    }

    /// The elements of a STRING tensor, NUL-terminated and laid end to end.
    pub fn string_bytes(&self) -> Result<Vec<u8>, String> {
        let count = self.element_count();
        let t = self.0.as_ptr();
        // SAFETY: a live tensor.
        let (data, len) = unsafe { (TF_TensorData(t), TF_TensorByteSize(t)) };
        let size = std::mem::size_of::<TF_TString>();
        if self.dtype() != TF_STRING || count.checked_mul(size).is_none_or(|n| n > len) {
            return Err("ERR TF returned a malformed STRING tensor".into());
        }
        let mut out = Vec::new();
        for i in 0..count {
            // SAFETY: the buffer holds `count` initialised TF_TStrings (checked above), alive
            // while `self` is; each element's data pointer is valid for its size.
            let element = unsafe {
                let s = data.cast::<TF_TString>().add(i);
                let (p, n) = (TF_StringGetDataPointer(s), TF_StringGetSize(s));
                if n == 0 {
                    &[][..]
                } else {
                    std::slice::from_raw_parts(p.cast::<u8>(), n)
                }
            };
            out.extend_from_slice(element);
            out.push(0);
        }
        Ok(out)
    }
}

impl Drop for Tensor {
    fn drop(&mut self) {
        // SAFETY: an owned reference, released once.
        unsafe { TF_DeleteTensor(self.0.as_ptr()) }
    }
}
