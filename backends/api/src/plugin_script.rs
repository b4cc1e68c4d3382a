//! The backend side of scripts: implement [`ScriptPlugin`] and [`PluginScript`], then export the
//! backend with `export_backend!(Type, scripts)`.

use std::os::raw::{c_char, c_void};

use crate::dl::{empty_slots, fill_slots, input_views, raw_input};
use crate::ffi::*;
use crate::plugin::{backend_ref, guarded, model_options, strings, BackendPlugin};
use crate::script::{Reply, ScriptCall};
use crate::types::{ModelOptions, OutputTensor, TensorRef};
use redisai_core::Tensor;

/// A backend that also compiles and runs scripts.
pub trait ScriptPlugin: BackendPlugin {
    type Script: PluginScript;

    /// Compiles `source`; every entry point must exist with the
    /// `(tensors: List[Tensor], keys: List[str], args: List[str])` signature. The error text is
    /// the client's reply.
    fn create_script(
        &self,
        source: &[u8],
        entry_points: &[String],
        options: &ModelOptions,
    ) -> Result<Self::Script, String>;
}

/// A compiled script. `run` may be called from several worker threads at once.
pub trait PluginScript: Send + Sync + 'static {
    /// Runs `call.function`; returns the tensors it produced (`n_outputs` of them; with 0 the
    /// return value is ignored).
    fn run(
        &self,
        call: &ScriptCall<'_>,
        host: HostHandle<'_>,
        n_outputs: usize,
    ) -> Result<Vec<Option<OutputTensor>>, String>;
}

/// The host's services during one script run (see [`RaiScriptHost`]).
#[derive(Clone, Copy)]
pub struct HostHandle<'a> {
    raw: &'a RaiScriptHost,
}

impl<'a> HostHandle<'a> {
    /// The raw table, for native code that calls the host itself during this run.
    pub fn as_ptr(&self) -> *const RaiScriptHost {
        self.raw
    }

    /// Runs a Redis command through the host.
    pub fn redis_call(&self, argv: &[&[u8]]) -> Reply {
        let raw: Vec<RaiStr> = argv.iter().map(|a| RaiStr::new(a)).collect();
        // SAFETY: the host's table is valid during the run; argv is borrowed for the call.
        let reply = unsafe { (self.raw.redis_call)(self.raw.ctx, raw.as_ptr(), raw.len()) };
        if reply.is_null() {
            return Reply::Error("ERR no reply".into());
        }
        // SAFETY: a reply tree owned by the host until free_reply.
        let owned = unsafe { read_reply(&*reply) };
        // SAFETY: released once, as the ABI requires.
        unsafe { (self.raw.free_reply)(self.raw.ctx, reply) };
        owned
    }

    /// Runs a stored model through the host.
    pub fn model_execute(
        &self,
        key: &[u8],
        inputs: &[TensorRef<'_>],
        n_outputs: usize,
    ) -> Result<Vec<Option<Tensor>>, String> {
        let raw: Vec<RaiInput> = inputs.iter().map(raw_input).collect();
        let mut slots = empty_slots(n_outputs);
        let mut err: *mut c_char = std::ptr::null_mut();
        // SAFETY: valid borrowed inputs, n_outputs writable slots, a writable error slot.
        let status = unsafe {
            (self.raw.model_execute)(
                self.raw.ctx,
                RaiStr::new(key),
                raw.as_ptr(),
                raw.len(),
                slots.0.as_mut_ptr(),
                n_outputs,
                &mut err,
            )
        };
        if status != 0 {
            // SAFETY: an owned error string of the host.
            return Err(unsafe { take_host_string(err, self.raw.free_string) });
        }
        slots.import_all()
    }
}

/// # Safety
/// `s` must be null or a NUL-terminated string that `free` releases.
unsafe fn take_host_string(s: *mut c_char, free: unsafe extern "C" fn(*mut c_char)) -> String {
    if s.is_null() {
        return "ERR model execution failed".into();
    }
    // SAFETY: NUL-terminated per the ABI.
    let text = unsafe { std::ffi::CStr::from_ptr(s) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: released once.
    unsafe { free(s) };
    text
}

/// Copies a host reply tree.
///
/// # Safety
/// `r` must be a valid reply tree.
unsafe fn read_reply(r: &RaiReply) -> Reply {
    // SAFETY: strings and elements of a valid tree are readable.
    unsafe {
        match r.kind {
            REPLY_STRING => Reply::String(r.string.as_bytes().to_vec()),
            REPLY_INTEGER => Reply::Integer(r.integer),
            REPLY_ERROR => Reply::Error(String::from_utf8_lossy(r.string.as_bytes()).into_owned()),
            REPLY_ARRAY if r.n_elements > 0 && !r.elements.is_null() => Reply::Array(
                std::slice::from_raw_parts(r.elements, r.n_elements)
                    .iter()
                    .map(|e| read_reply(e))
                    .collect(),
            ),
            REPLY_ARRAY => Reply::Array(Vec::new()),
            _ => Reply::Nil,
        }
    }
}

/// Adds the script entry points of `B` to its table.
pub(crate) fn add_script_entries<B: ScriptPlugin>(table: &mut BackendVTable) {
    table.script_create = Some(script_create::<B>);
    table.script_free = Some(script_free::<B>);
    table.script_run = Some(script_run::<B>);
}

unsafe extern "C" fn script_create<B: ScriptPlugin>(
    backend: *mut c_void,
    source: RaiStr,
    entry_points: *const RaiStr,
    n_entry_points: usize,
    options: *const RaiModelOptions,
    script: *mut *mut c_void,
    err: *mut *mut c_char,
) -> i32 {
    // SAFETY: the host passes the table's own backend pointer.
    let b = unsafe { backend_ref::<B>(backend) };
    // SAFETY: borrowed for the call.
    let source = unsafe { source.as_bytes() };
    // SAFETY: `n_entry_points` valid entries.
    let entry_points = unsafe { strings(entry_points, n_entry_points) };
    // SAFETY: valid options for the call.
    let options = unsafe { model_options(&*options) };
    // SAFETY: writable slots of the host.
    unsafe {
        guarded(err, || {
            let s = b.create_script(source, &entry_points, &options)?;
            *script = Box::into_raw(Box::new(s)).cast();
            Ok(())
        })
    }
}

unsafe extern "C" fn script_free<B: ScriptPlugin>(script: *mut c_void) {
    if script.is_null() {
        return;
    }
    // SAFETY: from Box::into_raw in `script_create`, freed exactly once.
    let boxed = unsafe { Box::from_raw(script.cast::<B::Script>()) };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(boxed)));
}

unsafe extern "C" fn script_run<B: ScriptPlugin>(
    script: *mut c_void,
    call: *const RaiScriptCall,
    host: *const RaiScriptHost,
    outputs: *mut RaiOutput,
    n_outputs: usize,
    err: *mut *mut c_char,
) -> i32 {
    // SAFETY: a live script of this backend.
    let s = unsafe { &*script.cast::<B::Script>() };
    // SAFETY: the host passes a valid call and host table for the duration of the call.
    let (raw, host) = unsafe { (&*call, HostHandle { raw: &*host }) };
    let run = || {
        // SAFETY: everything in `raw` is borrowed for the call.
        let call = unsafe {
            ScriptCall {
                function: std::str::from_utf8(raw.function.as_bytes())
                    .map_err(|_| "ERR function name is not UTF-8".to_string())?,
                entry_point: raw.entry_point != 0,
                inputs: input_views(raw.inputs, raw.n_inputs)?,
                keys: byte_strings(raw.keys, raw.n_keys),
                args: byte_strings(raw.args, raw.n_args),
            }
        };
        let produced = s.run(&call, host, n_outputs)?;
        // SAFETY: the host passes `n_outputs` writable slots.
        unsafe { fill_slots(outputs, n_outputs, produced) };
        Ok(())
    };
    // SAFETY: a writable error slot.
    unsafe { guarded(err, run) }
}

/// # Safety
/// `list` must point to `n` strings valid for `'a` (or `n` be 0).
unsafe fn byte_strings<'a>(list: *const RaiStr, n: usize) -> Vec<&'a [u8]> {
    if n == 0 || list.is_null() {
        return Vec::new();
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts(list, n) }
        .iter()
        // SAFETY: each entry is valid for 'a.
        .map(|s| unsafe { s.as_bytes() })
        .collect()
}
