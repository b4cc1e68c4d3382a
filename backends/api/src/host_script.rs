//! The host side of scripts: compiling through a backend's table and running with the host's
//! services (Redis commands, stored models) exposed to the script through trampolines.

use std::ffi::CString;
use std::os::raw::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use redisai_core::Tensor;

use crate::dl::{empty_slots, fill_slots, input_views, raw_input};
use crate::ffi::*;
use crate::host::{take_string, Plugin, RawNames};
use crate::script::{Reply, ScriptCall, ScriptHost};
use crate::types::{ModelOptions, OutputTensor};

impl Plugin {
    /// Whether the backend compiles scripts.
    pub fn has_scripts(&self) -> bool {
        let t = self.table();
        t.script_create.is_some() && t.script_run.is_some() && t.script_free.is_some()
    }

    /// Compiles a script; the error is the backend's message, as the client will see it.
    pub fn create_script(
        self: &Arc<Self>,
        source: &[u8],
        entry_points: &[String],
        options: &ModelOptions,
    ) -> Result<LoadedScript, String> {
        let t = self.table();
        let (Some(create), true) = (t.script_create, self.has_scripts()) else {
            return Err("ERR this backend does not run scripts".into());
        };
        let names = RawNames::new(options);
        let raw = names.options(options);
        let entries: Vec<RaiStr> = entry_points
            .iter()
            .map(|s| RaiStr::new(s.as_bytes()))
            .collect();
        let mut handle: *mut c_void = std::ptr::null_mut();
        let mut err: *mut c_char = std::ptr::null_mut();
        // SAFETY: all pointers are valid for the duration of the call.
        let status = unsafe {
            create(
                t.backend,
                RaiStr::new(source),
                entries.as_ptr(),
                entries.len(),
                &raw,
                &mut handle,
                &mut err,
            )
        };
        if status != 0 || handle.is_null() {
            // SAFETY: error string owned by the backend.
            return Err(unsafe { take_string(err, t.free_string) });
        }
        Ok(LoadedScript {
            plugin: Arc::clone(self),
            handle,
        })
    }
}

/// A script compiled by a backend; freed through the backend when dropped.
pub struct LoadedScript {
    plugin: Arc<Plugin>,
    handle: *mut c_void,
}

// SAFETY: the ABI requires scripts to be usable from any thread, concurrently.
unsafe impl Send for LoadedScript {}
// SAFETY: as above.
unsafe impl Sync for LoadedScript {}

impl std::fmt::Debug for LoadedScript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedScript").finish_non_exhaustive()
    }
}

impl Drop for LoadedScript {
    fn drop(&mut self) {
        if let Some(free) = self.plugin.table().script_free {
            // SAFETY: the handle is live and freed exactly once.
            unsafe { free(self.handle) };
        }
    }
}

impl LoadedScript {
    /// Runs a function of the script; `host` serves its Redis and model calls.
    pub fn run(
        &self,
        call: &ScriptCall<'_>,
        host: &dyn ScriptHost,
        n_outputs: usize,
    ) -> Result<Vec<Option<Tensor>>, String> {
        let t = self.plugin.table();
        let Some(run) = t.script_run else {
            return Err("ERR this backend does not run scripts".into());
        };
        let inputs: Vec<RaiInput> = call.inputs.iter().map(raw_input).collect();
        let keys: Vec<RaiStr> = call.keys.iter().map(|k| RaiStr::new(k)).collect();
        let args: Vec<RaiStr> = call.args.iter().map(|a| RaiStr::new(a)).collect();
        let raw_call = RaiScriptCall {
            function: RaiStr::new(call.function.as_bytes()),
            entry_point: u32::from(call.entry_point),
            inputs: inputs.as_ptr(),
            n_inputs: inputs.len(),
            keys: keys.as_ptr(),
            n_keys: keys.len(),
            args: args.as_ptr(),
            n_args: args.len(),
        };
        let mut host_ref: &dyn ScriptHost = host;
        let table = RaiScriptHost {
            ctx: (&raw mut host_ref).cast(),
            redis_call: host_redis_call,
            free_reply: host_free_reply,
            model_execute: host_model_execute,
            free_string: host_free_string,
        };
        let mut slots = empty_slots(n_outputs);
        let mut err: *mut c_char = std::ptr::null_mut();
        // SAFETY: everything borrowed lives across the call; `slots` has n_outputs entries.
        let status = unsafe {
            run(
                self.handle,
                &raw_call,
                &table,
                slots.0.as_mut_ptr(),
                n_outputs,
                &mut err,
            )
        };
        if status != 0 {
            // SAFETY: error string owned by the backend.
            return Err(unsafe { take_string(err, t.free_string) });
        }
        slots.import_all()
    }
}

/// # Safety
/// `ctx` must be the `&dyn ScriptHost` slot of a running [`LoadedScript::run`].
unsafe fn host_of<'a>(ctx: *mut c_void) -> &'a dyn ScriptHost {
    // SAFETY: guaranteed by the caller.
    unsafe { *ctx.cast::<&dyn ScriptHost>() }
}

/// A reply tree and the storage its pointers point into. `root` comes first so a pointer to the
/// arena is a pointer to the root.
#[repr(C)]
struct ReplyArena {
    root: RaiReply,
    strings: Vec<Box<[u8]>>,
    lists: Vec<Box<[RaiReply]>>,
}

fn build_reply(reply: &Reply, arena: &mut ReplyArena) -> RaiReply {
    let mut node = RaiReply {
        kind: REPLY_NIL,
        integer: 0,
        string: RaiStr::new(&[]),
        elements: std::ptr::null(),
        n_elements: 0,
    };
    let text = |bytes: &[u8], arena: &mut ReplyArena| {
        let owned: Box<[u8]> = bytes.into();
        let s = RaiStr::new(&owned);
        arena.strings.push(owned);
        s
    };
    match reply {
        Reply::Nil => {}
        Reply::String(b) => {
            node.kind = REPLY_STRING;
            node.string = text(b, arena);
        }
        Reply::Error(e) => {
            node.kind = REPLY_ERROR;
            node.string = text(e.as_bytes(), arena);
        }
        Reply::Integer(i) => {
            node.kind = REPLY_INTEGER;
            node.integer = *i;
        }
        Reply::Array(items) => {
            let list: Box<[RaiReply]> = items.iter().map(|r| build_reply(r, arena)).collect();
            node.kind = REPLY_ARRAY;
            node.elements = list.as_ptr();
            node.n_elements = list.len();
            arena.lists.push(list);
        }
    }
    node
}

unsafe extern "C" fn host_redis_call(
    ctx: *mut c_void,
    argv: *const RaiStr,
    argc: usize,
) -> *mut RaiReply {
    let reply = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: called by the backend during `run`, with `argc` borrowed strings.
        let (host, args) = unsafe {
            let args: Vec<&[u8]> = if argc == 0 || argv.is_null() {
                Vec::new()
            } else {
                std::slice::from_raw_parts(argv, argc)
                    .iter()
                    .map(|s| s.as_bytes())
                    .collect()
            };
            (host_of(ctx), args)
        };
        host.redis_call(&args)
    }))
    .unwrap_or_else(|_| Reply::Error("ERR internal error while running the command".into()));
    let mut arena = Box::new(ReplyArena::empty());
    arena.root = build_reply(&reply, &mut arena);
    Box::into_raw(arena).cast()
}

impl ReplyArena {
    fn empty() -> ReplyArena {
        ReplyArena {
            root: RaiReply {
                kind: REPLY_NIL,
                integer: 0,
                string: RaiStr::new(&[]),
                elements: std::ptr::null(),
                n_elements: 0,
            },
            strings: Vec::new(),
            lists: Vec::new(),
        }
    }
}

unsafe extern "C" fn host_free_reply(_ctx: *mut c_void, reply: *mut RaiReply) {
    if !reply.is_null() {
        // SAFETY: `reply` is the root of a boxed ReplyArena from `host_redis_call`.
        drop(unsafe { Box::from_raw(reply.cast::<ReplyArena>()) });
    }
}

unsafe extern "C" fn host_model_execute(
    ctx: *mut c_void,
    key: RaiStr,
    inputs: *const RaiInput,
    n_inputs: usize,
    outputs: *mut RaiOutput,
    n_outputs: usize,
    err: *mut *mut c_char,
) -> i32 {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: called by the backend during `run` with valid borrowed arguments.
        let (host, key, views) =
            unsafe { (host_of(ctx), key.as_bytes(), input_views(inputs, n_inputs)?) };
        let produced = host.model_execute(key, &views, n_outputs)?;
        let produced: Vec<Option<OutputTensor>> = produced
            .into_iter()
            .map(|t| t.map(OutputTensor::from_tensor))
            .collect();
        // SAFETY: the backend passes `n_outputs` writable slots.
        unsafe { fill_slots(outputs, n_outputs, produced) };
        Ok::<(), String>(())
    }))
    .unwrap_or_else(|_| Err("ERR internal error while running the model".into()));
    match result {
        Ok(()) => 0,
        Err(msg) => {
            if !err.is_null() {
                let cleaned: Vec<u8> = msg.bytes().map(|b| if b == 0 { b' ' } else { b }).collect();
                // SAFETY: a writable error slot of the backend.
                unsafe { *err = CString::new(cleaned).unwrap_or_default().into_raw() };
            }
            1
        }
    }
}

unsafe extern "C" fn host_free_string(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: from CString::into_raw in `host_model_execute`.
        drop(unsafe { CString::from_raw(s) });
    }
}
