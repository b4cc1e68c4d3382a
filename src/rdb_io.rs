//! Adapter of Redis's module IO (RDB, DUMP/RESTORE) to the core codec's `Source`/`Sink`.

use redis_module::raw::{self, RedisModuleIO};
use redisai_core::rdb::{Sink, Source};
use redisai_core::{Error, Result};

/// A `RedisModuleIO` handle given to a type callback.
pub struct ModuleIo(pub *mut RedisModuleIO);

fn short_read(_: impl std::fmt::Debug) -> Error {
    Error::rdb("stream", "short read")
}

impl Source for ModuleIo {
    fn load_unsigned(&mut self) -> Result<u64> {
        raw::load_unsigned(self.0).map_err(short_read)
    }
    fn load_signed(&mut self) -> Result<i64> {
        raw::load_signed(self.0).map_err(short_read)
    }
    fn load_buffer(&mut self) -> Result<Vec<u8>> {
        let buffer = raw::load_string_buffer(self.0).map_err(short_read)?;
        Ok(buffer.as_ref().to_vec())
    }
}

impl Sink for ModuleIo {
    fn save_unsigned(&mut self, value: u64) {
        raw::save_unsigned(self.0, value);
    }
    fn save_signed(&mut self, value: i64) {
        raw::save_signed(self.0, value);
    }
    fn save_buffer(&mut self, bytes: &[u8]) {
        // SAFETY: the API table is filled at load; the pointer is valid for `bytes.len()` bytes
        // (a real buffer for an empty slice: Redis 6.2 reads it).
        unsafe {
            raw::RedisModule_SaveStringBuffer.expect("module API")(
                self.0,
                crate::bytes::ptr(bytes),
                bytes.len(),
            )
        };
    }
}
