//! What a running script may do in Redis (SPEC §6.2): `redis.execute` and
//! `redisAI.model_execute`, served from the worker thread under Redis's global lock.
//!
//! Unlike RedisAI, a script cannot reach past what its caller may do: every command it runs is
//! checked against the calling user's ACL rules (commands and keys), and may only touch keys the
//! script declared in KEYS (so cluster routing and key-level ACLs hold).

use std::collections::HashMap;
use std::ffi::{c_int, CString};
use std::sync::{Mutex, PoisonError};

use redis_module::raw::{self, RedisModuleCallReply, RedisModuleCtx, RedisModuleString};
use redis_module::{Context, ThreadSafeContext};
use redisai_backend_api::{Reply, ScriptHost, TensorRef};
use redisai_core::Tensor;
use redisai_engine::script_calls::{self, CommandInfo};

/// The services of one script op, bound to its caller and its declared keys.
pub struct ModuleScriptHost {
    /// The calling client's ACL user (`None`: no user to check, e.g. AOF loading).
    user: Option<Vec<u8>>,
    /// The caller's selected database.
    db: c_int,
    keys: Vec<Vec<u8>>,
}

impl ModuleScriptHost {
    /// The host of a script op called by the current client with `keys` declared.
    pub fn new(ctx: &Context, keys: &[Vec<u8>]) -> ModuleScriptHost {
        // SAFETY: reading the current client's database on the main thread.
        let db = unsafe { raw::RedisModule_GetSelectedDb.expect("module API")(ctx.ctx) };
        ModuleScriptHost {
            user: current_user(ctx),
            db,
            keys: keys.to_vec(),
        }
    }
}

impl ModuleScriptHost {
    /// The host of a script run through the C API (`src/llapi`): no client, so no ACL user to
    /// check (the calling module is trusted), database 0, and no declared key, so the script's
    /// Redis calls may not touch any key.
    pub fn detached() -> ModuleScriptHost {
        ModuleScriptHost {
            user: None,
            db: 0,
            keys: Vec::new(),
        }
    }
}

/// Locks Redis and selects the caller's database.
fn locked(
    tsc: &ThreadSafeContext<redis_module::DetachedFromClient>,
    db: c_int,
) -> redis_module::ContextGuard {
    let guard = tsc.lock();
    // SAFETY: a locked thread-safe context; the database existed when the command ran (an
    // out-of-range index is refused by Redis without effect).
    unsafe { raw::RedisModule_SelectDb.expect("module API")(guard.ctx, db) };
    guard
}

/// Whether the current client's user may read `keys` (its ACL key patterns): `NOPERM` naming the
/// first key it may not. Used where a command reads keys that a value names rather than its
/// arguments (an embedder's tokenizer and model), so no ACL check of Redis saw them.
pub fn check_read_access(ctx: &Context, keys: &[&[u8]]) -> Result<(), redisai_core::Error> {
    let Some(user) = current_user(ctx) else {
        return Ok(());
    };
    // SAFETY: the API table is filled once at module load and only read afterwards.
    let (Some(get_user), Some(check), Some(free_user)) = (unsafe {
        (
            raw::RedisModule_GetModuleUserFromUserName,
            raw::RedisModule_ACLCheckKeyPermissions,
            raw::RedisModule_FreeModuleUser,
        )
    }) else {
        return Ok(());
    };
    let name = crate::bytes::create(ctx.ctx, &user);
    // SAFETY: a live string of this command's context.
    let acl_user = unsafe { get_user(name.inner) };
    if acl_user.is_null() {
        return Err(redisai_core::Error::Backend(
            "NOPERM the calling user no longer exists".into(),
        ));
    }
    let mut refused = None;
    for key in keys {
        let key_name = crate::bytes::create(ctx.ctx, key);
        // SAFETY: a live user and string; flags: read access.
        let allowed = unsafe {
            check(
                acl_user,
                key_name.inner,
                raw::REDISMODULE_CMD_KEY_ACCESS as c_int,
            )
        };
        if allowed != raw::REDISMODULE_OK as c_int {
            refused = Some(String::from_utf8_lossy(key).into_owned());
            break;
        }
    }
    // SAFETY: the user was returned by GetModuleUserFromUserName and is released once.
    unsafe { free_user(acl_user) };
    match refused {
        Some(key) => Err(redisai_core::Error::Backend(format!(
            "NOPERM this user has no permissions to access the '{key}' key"
        ))),
        None => Ok(()),
    }
}

/// The current client's user name (Redis 7.0: RedisModule_GetCurrentUserName).
fn current_user(ctx: &Context) -> Option<Vec<u8>> {
    // SAFETY: the API table is filled once at module load and only read afterwards.
    let get = unsafe { raw::RedisModule_GetCurrentUserName }?;
    // SAFETY: called on the main thread from a command with its context.
    let name = unsafe { get(ctx.ctx) };
    if name.is_null() {
        return None;
    }
    let bytes = string_bytes(name).to_vec();
    // SAFETY: the string was returned to us and is freed once.
    unsafe { raw::RedisModule_FreeString.expect("module API")(ctx.ctx, name) };
    Some(bytes)
}

fn string_bytes<'a>(s: *const RedisModuleString) -> &'a [u8] {
    let mut len = 0usize;
    // SAFETY: a live RedisModuleString.
    let p = unsafe { raw::RedisModule_StringPtrLen.expect("module API")(s, &mut len) };
    if p.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: StringPtrLen returns `len` readable bytes, alive as long as the string.
    unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn clear_errno() {
    // SAFETY: errno is thread-local.
    unsafe { *libc::__errno_location() = 0 };
}

/// `strerror(errno)` the way RedisAI reports RM_Call failures.
fn errno_text(code: i32) -> String {
    let text = std::io::Error::from_raw_os_error(code).to_string();
    // Rust appends " (os error N)".
    text.split(" (os error").next().unwrap_or(&text).to_string()
}

/// The refusal of a key the script did not declare in KEYS.
fn undeclared(key: &[u8]) -> String {
    format!(
        "ERR the script accessed key '{}', which is not declared in KEYS",
        String::from_utf8_lossy(key)
    )
}

/// Owned RedisModuleStrings of one call.
struct Args {
    ctx: *mut RedisModuleCtx,
    items: Vec<*mut RedisModuleString>,
}

impl Args {
    fn new(ctx: *mut RedisModuleCtx, argv: &[&[u8]]) -> Args {
        let items = argv
            .iter()
            // Created in a locked thread-safe context.
            .map(|a| crate::bytes::create_raw(ctx, a))
            .collect();
        Args { ctx, items }
    }
}

impl Drop for Args {
    fn drop(&mut self) {
        for s in self.items.drain(..) {
            // SAFETY: created by `new` in the same (still locked) context, freed once.
            unsafe { raw::RedisModule_FreeString.expect("module API")(self.ctx, s) };
        }
    }
}

/// What COMMAND INFO said about each command (`name` or `name|subcommand`) scripts ran.
static COMMAND_INFO: Mutex<Option<HashMap<String, CommandInfo>>> = Mutex::new(None);

/// The categories and key presence of one COMMAND INFO entry.
fn parse_info(entry: &Reply) -> Option<CommandInfo> {
    let Reply::Array(items) = entry else {
        return None;
    };
    let first_key = match items.get(3) {
        Some(Reply::Integer(n)) => *n,
        _ => 0,
    };
    let key_specs = matches!(items.get(8), Some(Reply::Array(specs)) if !specs.is_empty());
    let categories = match items.get(6) {
        Some(Reply::Array(list)) => list
            .iter()
            .filter_map(|c| match c {
                Reply::String(s) => Some(String::from_utf8_lossy(s).into_owned()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Some(CommandInfo {
        categories,
        has_keys: first_key > 0 || key_specs,
    })
}

/// COMMAND INFO of `argv`'s command (its subcommand's, for containers such as OBJECT), cached;
/// `None` when the server does not know it.
fn command_info(ctx: *mut RedisModuleCtx, argv: &[&[u8]]) -> Option<CommandInfo> {
    let name = String::from_utf8_lossy(argv.first()?).to_ascii_lowercase();
    let sub = argv
        .get(1)
        .map(|s| format!("{name}|{}", String::from_utf8_lossy(s).to_ascii_lowercase()));
    let mut cache = COMMAND_INFO.lock().unwrap_or_else(PoisonError::into_inner);
    let cache = cache.get_or_insert_with(HashMap::new);
    if let Some(info) = sub
        .as_ref()
        .and_then(|s| cache.get(s))
        .or_else(|| cache.get(&name))
    {
        return Some(info.clone());
    }
    let args = Args::new(ctx, &[b"INFO", name.as_bytes()]);
    // SAFETY: "v": an argv array and its length, strings of the locked context.
    let reply = unsafe {
        raw::RedisModule_Call.expect("module API")(
            ctx,
            c"COMMAND".as_ptr(),
            c"v".as_ptr(),
            args.items.as_ptr(),
            args.items.len(),
        )
    };
    if reply.is_null() {
        return None;
    }
    let converted = convert(reply);
    // SAFETY: the reply of this call, released once under the lock.
    unsafe { raw::RedisModule_FreeCallReply.expect("module API")(reply) };
    let Reply::Array(entries) = converted else {
        return None;
    };
    let entry = entries.first()?;
    let info = parse_info(entry)?;
    cache.insert(name.clone(), info.clone());
    // A container's subcommands have their own categories and keys.
    if let Reply::Array(items) = entry {
        if let Some(Reply::Array(subs)) = items.get(9) {
            for sub_entry in subs {
                if let (Some(sub_info), Reply::Array(fields)) = (parse_info(sub_entry), sub_entry) {
                    if let Some(Reply::String(sub_name)) = fields.first() {
                        let key = String::from_utf8_lossy(sub_name).to_ascii_lowercase();
                        cache.insert(key, sub_info);
                    }
                }
            }
        }
    }
    sub.and_then(|s| cache.get(&s).cloned()).or(Some(info))
}

impl ModuleScriptHost {
    /// Refuses commands whose reach cannot be checked, commands the caller may not run and keys
    /// the script did not declare.
    fn check(&self, ctx: *mut RedisModuleCtx, argv: &[&[u8]], args: &Args) -> Result<(), String> {
        script_calls::check(argv, command_info(ctx, argv).as_ref()).map_err(|e| e.to_string())?;
        let argc = args.items.len() as c_int;
        let mut n_keys: c_int = 0;
        clear_errno();
        // SAFETY: the API table is filled once at module load; GetCommandKeys exists since 7.0.
        let positions = match unsafe { raw::RedisModule_GetCommandKeys } {
            // SAFETY: valid strings of a locked context.
            Some(get) => unsafe { get(ctx, args.items.as_ptr().cast_mut(), argc, &mut n_keys) },
            None => return Err("ERR this Redis version cannot check script commands".into()),
        };
        if positions.is_null() {
            let code = errno();
            if code != 0 {
                return Err(errno_text(code));
            }
        } else {
            // SAFETY: `n_keys` positions allocated by Redis, freed below.
            let list = unsafe { std::slice::from_raw_parts(positions, n_keys.max(0) as usize) };
            let outside = list
                .iter()
                .filter_map(|&p| args.items.get(p as usize))
                .map(|&k| string_bytes(k))
                .find(|k| !self.keys.iter().any(|d| d == k));
            // SAFETY: the array came from GetCommandKeys and is released once.
            unsafe { raw::RedisModule_Free.expect("module API")(positions.cast()) };
            if let Some(key) = outside {
                return Err(undeclared(key));
            }
        }
        let Some(user) = &self.user else {
            return Ok(());
        };
        let name = Args::new(ctx, &[user]);
        // SAFETY: API table read; both functions exist since Redis 7.0.
        let (Some(get_user), Some(check), Some(free_user)) = (unsafe {
            (
                raw::RedisModule_GetModuleUserFromUserName,
                raw::RedisModule_ACLCheckCommandPermissions,
                raw::RedisModule_FreeModuleUser,
            )
        }) else {
            return Err("ERR this Redis version cannot check script permissions".into());
        };
        // SAFETY: a live string of the locked context.
        let acl_user = unsafe { get_user(name.items[0]) };
        if acl_user.is_null() {
            return Err("NOPERM the calling user no longer exists".into());
        }
        // SAFETY: a live user and valid arguments.
        let allowed = unsafe { check(acl_user, args.items.as_ptr().cast_mut(), argc) };
        // SAFETY: the user was returned by GetModuleUserFromUserName and is released once.
        unsafe { free_user(acl_user) };
        if allowed != raw::REDISMODULE_OK as c_int {
            return Err(format!(
                "NOPERM this user has no permissions to run the '{}' command or its subcommand \
                 or to access one of its keys",
                String::from_utf8_lossy(string_bytes(args.items[0]))
            ));
        }
        Ok(())
    }
}

/// Converts a call reply (RESP2 shapes) into a script value.
fn convert(reply: *mut RedisModuleCallReply) -> Reply {
    // SAFETY: a live reply of the current call, read under the lock.
    let kind = unsafe { raw::RedisModule_CallReplyType.expect("module API")(reply) } as isize;
    let text = || {
        let mut len = 0usize;
        // SAFETY: as above.
        let p =
            unsafe { raw::RedisModule_CallReplyStringPtr.expect("module API")(reply, &mut len) };
        if p.is_null() {
            Vec::new()
        } else {
            // SAFETY: `len` bytes owned by the reply.
            unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }.to_vec()
        }
    };
    match kind {
        raw::REDISMODULE_REPLY_STRING => Reply::String(text()),
        raw::REDISMODULE_REPLY_ERROR => Reply::Error(String::from_utf8_lossy(&text()).into_owned()),
        raw::REDISMODULE_REPLY_INTEGER => {
            // SAFETY: as above.
            let n = unsafe { raw::RedisModule_CallReplyInteger.expect("module API")(reply) };
            Reply::Integer(n)
        }
        raw::REDISMODULE_REPLY_ARRAY => {
            // SAFETY: as above.
            let n = unsafe { raw::RedisModule_CallReplyLength.expect("module API")(reply) };
            Reply::Array(
                (0..n)
                    .map(|i| {
                        // SAFETY: index in range; elements are owned by the parent reply.
                        convert(unsafe {
                            raw::RedisModule_CallReplyArrayElement.expect("module API")(reply, i)
                        })
                    })
                    .collect(),
            )
        }
        _ => Reply::Nil,
    }
}

impl ScriptHost for ModuleScriptHost {
    fn redis_call(&self, argv: &[&[u8]]) -> Reply {
        let Some(command) = argv.first() else {
            return Reply::Error("ERR no command".into());
        };
        let Ok(name) = CString::new(*command) else {
            return Reply::Error("ERR invalid command name".into());
        };
        let argv = &script_calls::without_module_threads(argv);
        let tsc = ThreadSafeContext::new();
        let guard = locked(&tsc, self.db);
        let ctx = guard.ctx;
        let all = Args::new(ctx, argv);
        if let Err(e) = self.check(ctx, argv, &all) {
            return Reply::Error(e);
        }
        let rest = &all.items[1..];
        clear_errno();
        // SAFETY: "!SMEv": replicate, script mode (no deny-script commands, no writes when the
        // server cannot persist), refuse deny-oom commands over maxmemory, errors as replies, then
        // an argv array and its length; all strings live in the locked context.
        let reply = unsafe {
            raw::RedisModule_Call.expect("module API")(
                ctx,
                name.as_ptr(),
                c"!SMEv".as_ptr(),
                rest.as_ptr(),
                rest.len(),
            )
        };
        if reply.is_null() {
            return Reply::Error(errno_text(errno()));
        }
        let converted = convert(reply);
        // SAFETY: the reply of this call, released once under the lock.
        unsafe { raw::RedisModule_FreeCallReply.expect("module API")(reply) };
        drop(all);
        drop(guard);
        converted
    }

    fn model_execute(
        &self,
        key: &[u8],
        inputs: &[TensorRef<'_>],
        n_outputs: usize,
    ) -> Result<Vec<Option<Tensor>>, String> {
        if !self.keys.iter().any(|k| k == key) {
            return Err(undeclared(key));
        }
        let model = {
            let tsc = ThreadSafeContext::new();
            let guard = locked(&tsc, self.db);
            crate::keyspace::model(&Context::new(guard.ctx), key).map_err(|e| e.to_string())?
        };
        if inputs.len() != model.input_count() {
            return Err(format!(
                "ERR Expected {} inputs but got {}",
                model.input_count(),
                inputs.len()
            ));
        }
        let outputs = model.runner().run(inputs)?;
        if outputs.len() < n_outputs || outputs.iter().take(n_outputs).any(Option::is_none) {
            return Err("ERR Model did not generate the expected number of outputs".into());
        }
        Ok(outputs.into_iter().take(n_outputs).collect())
    }
}
