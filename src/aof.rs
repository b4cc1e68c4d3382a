//! Arguments of one RedisModule_EmitAOF call.

use std::ptr;

use redis_module::raw::{self, RedisModuleString};

/// Owned RedisModuleStrings for one EmitAOF call.
pub struct AofArgs(pub Vec<*mut RedisModuleString>);

impl AofArgs {
    pub fn push(&mut self, bytes: &[u8]) {
        // SAFETY: a string without context, owned by us until Drop.
        let s = unsafe {
            raw::RedisModule_CreateString.expect("module API")(
                ptr::null_mut(),
                bytes.as_ptr().cast(),
                bytes.len(),
            )
        };
        self.0.push(s);
    }
}

impl Drop for AofArgs {
    fn drop(&mut self) {
        for s in self.0.drain(..) {
            // SAFETY: created in `push` with a NULL context, freed once.
            unsafe { raw::RedisModule_FreeString.expect("module API")(ptr::null_mut(), s) };
        }
    }
}
