//! INFO MODULES sections (SPEC §10.5), in RedisAI's order and field names.

use std::ffi::{c_int, CString};

use redis_module::raw::{self, RedisModuleInfoCtx};
use redis_module::Context;
use redisai_core::rdb::ENCODING_VERSION;
use redisai_core::Backend;
use redisai_engine::version::{LLAPI_VERSION, VERSION};

use crate::guard::contained;
use crate::state::{config, engine};

/// Registers the INFO callback (replacing the generic one of the module macro).
pub fn register(ctx: &Context) {
    // SAFETY: called from OnLoad with the module's context; the callback is a plain function.
    unsafe { raw::RedisModule_RegisterInfoFunc.expect("module API")(ctx.ctx, Some(info_callback)) };
}

struct Info(*mut RedisModuleInfoCtx);

impl Info {
    fn section(&self, name: &str) {
        let name = CString::new(name).expect("static names");
        // SAFETY: valid info context for the duration of the callback.
        unsafe { raw::RedisModule_InfoAddSection.expect("module API")(self.0, name.as_ptr()) };
    }

    fn field(&self, name: &str, value: &str) {
        let (name, value) = (cstring(name), cstring(value));
        // SAFETY: valid info context; both strings outlive the call.
        unsafe {
            raw::RedisModule_InfoAddFieldCString.expect("module API")(
                self.0,
                name.as_ptr(),
                value.as_ptr(),
            )
        };
    }

    fn number(&self, name: &str, value: i64) {
        let name = cstring(name);
        // SAFETY: valid info context; the name outlives the call.
        unsafe {
            raw::RedisModule_InfoAddFieldLongLong.expect("module API")(self.0, name.as_ptr(), value)
        };
    }
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "")).expect("NULs removed")
}

extern "C" fn info_callback(ctx: *mut RedisModuleInfoCtx, _for_crash_report: c_int) {
    contained("INFO", || write_info(&Info(ctx)));
}

fn write_info(info: &Info) {
    let config = config();
    info.section("versions");
    info.field("RedisAI_version", VERSION);
    info.number("low_level_API_version", LLAPI_VERSION);
    info.number("rdb_version", ENCODING_VERSION.into());

    info.section("git");
    info.field("git_sha", env!("REDISAI_GIT_SHA"));

    info.section("load_time_configs");
    info.number("threads_per_queue", config.threads_per_queue);
    info.number("inter_op_parallelism", config.inter_op_parallelism);
    info.number("intra_op_parallelism", config.intra_op_parallelism);
    info.number("model_execution_timeout", config.model_execution_timeout);
    info.number("backend_memory_limit", config.backend_memory_limit);
    // Additions after RedisAI's fields (docs/security.md): the allocation limit in MB.
    info.number("backend_allocation_limit", config.backend_allocation_limit);
    // And the default warm-up runs of a stored model (docs/performance.md).
    info.number("model_warmup", config.model_warmup);

    // Fields appear here once backends are loaded.
    info.section("backends_info");
    let engine = engine();
    for (backend, library) in engine.registry.loaded() {
        for (name, value) in library.info() {
            info.field(&name, &value);
        }
        if backend == Backend::Onnx {
            // One run session slot per worker thread, as RedisAI counts them.
            info.number(
                "onnxruntime_maximum_run_sessions_number",
                engine.queues.thread_count() as i64,
            );
        }
    }

    info.section("cpu");
    let self_usage = rusage(libc::RUSAGE_SELF);
    let children = rusage(libc::RUSAGE_CHILDREN);
    let main_thread = rusage(libc::RUSAGE_THREAD); // INFO runs on the main thread
    info.field("self_used_cpu_sys", &seconds(self_usage.ru_stime));
    info.field("self_used_cpu_user", &seconds(self_usage.ru_utime));
    info.field("children_used_cpu_sys", &seconds(children.ru_stime));
    info.field("children_used_cpu_user", &seconds(children.ru_utime));
    info.field("main_thread_used_cpu_sys", &seconds(main_thread.ru_stime));
    info.field("main_thread_used_cpu_user", &seconds(main_thread.ru_utime));
    for queue in engine.queues.all() {
        for (i, worker) in queue.workers().iter().enumerate() {
            let cpu = worker.cpu();
            info.field(
                &format!("queue_{}_bthread_n{}_used_cpu_total", queue.name(), i + 1),
                &format!("{}.{:06}", cpu.as_secs(), cpu.subsec_micros()),
            );
        }
    }

    // Additions after RedisAI's sections (docs/metrics.md): each device queue's state now and
    // the queue waits of what it ran.
    info.section("queues");
    for queue in engine.queues.all() {
        let name = queue.name();
        let wait = queue.wait();
        info.number(&format!("queue_{name}_pending"), queue.len() as i64);
        info.number(
            &format!("queue_{name}_workers"),
            queue.workers().len() as i64,
        );
        info.number(&format!("queue_{name}_workers_busy"), queue.busy() as i64);
        info.number(&format!("queue_{name}_runs"), wait.count() as i64);
        info.number(&format!("queue_{name}_wait_us_total"), wait.sum() as i64);
        info.number(
            &format!("queue_{name}_wait_p50_us"),
            wait.quantile(0.5) as i64,
        );
        info.number(
            &format!("queue_{name}_wait_p99_us"),
            wait.quantile(0.99) as i64,
        );
        info.number(&format!("queue_{name}_wait_max_us"), wait.max() as i64);
    }

    // The loader of AI.MODELSTORE / AI.SCRIPTSTORE (docs/performance.md): its threads and the
    // stores submitted and not finished.
    info.section("loader");
    info.number("loader_threads", engine.loader.threads() as i64);
    info.number("loader_pending", engine.loader.pending() as i64);
}

fn rusage(who: c_int) -> libc::rusage {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own; on failure it stays zeroed.
    unsafe { libc::getrusage(who, &mut usage) };
    usage
}

fn seconds(t: libc::timeval) -> String {
    format!("{}.{:06}", t.tv_sec, t.tv_usec)
}
