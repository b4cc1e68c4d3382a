//! Panic containment: nothing may unwind across an `extern "C"` boundary into Redis.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, turning a panic into `None` after logging it. Every command handler and type
/// callback goes through here.
pub fn contained<T>(what: &str, f: impl FnOnce() -> T) -> Option<T> {
    contained_in(what, "", f)
}

/// [`contained`] for a callback of a data type: the log names `<type_name> <callback>` (built
/// only if there is something to log).
pub fn contained_in<T>(type_name: &str, callback: &str, f: impl FnOnce() -> T) -> Option<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => Some(value),
        Err(payload) => {
            let detail = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let what = match callback {
                "" => type_name.to_string(),
                _ => format!("{type_name} {callback}"),
            };
            crate::log::warning_global(&format!("internal error in {what}: {detail}"));
            None
        }
    }
}
