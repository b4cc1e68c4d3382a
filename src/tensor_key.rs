//! Keyspace access to `AI_TENSOR` values: a key opened on the module API, its tensor read (borrowed
//! or shared) and written.
//!
//! An `AI_TENSOR` value is the pointer of an `Arc<Tensor>` (`Arc::into_raw`): the keyspace holds
//! one reference, readers take more, and no box sits around it, so storing a tensor costs no
//! allocation beyond the tensor's own. Every access goes through this file and `tensor_type.rs`.

use std::ffi::{c_int, c_void};
use std::marker::PhantomData;
use std::sync::Arc;

use redis_module::raw::{self, RedisModuleKey, RedisModuleString};
use redis_module::Context;
use redisai_core::{Error, Tensor};

use crate::tensor_type::TENSOR_TYPE;

/// Turns a tensor into a keyspace value (one reference moves into the keyspace).
pub fn into_value(tensor: Arc<Tensor>) -> *mut c_void {
    Arc::into_raw(tensor).cast_mut().cast()
}

/// Borrows the tensor of a keyspace value.
///
/// # Safety
/// `value` must come from [`into_value`] and still be held by the keyspace for `'a`.
pub unsafe fn borrow_value<'a>(value: *const c_void) -> &'a Tensor {
    // SAFETY: the pointer is a live `Arc<Tensor>` pointer (caller's contract).
    unsafe { &*value.cast::<Tensor>() }
}

/// A new reference to the tensor of a keyspace value.
///
/// # Safety
/// As [`borrow_value`].
pub unsafe fn share_value(value: *const c_void) -> Arc<Tensor> {
    let tensor = value.cast::<Tensor>();
    // SAFETY: `tensor` came from `Arc::into_raw` and the keyspace's reference is alive, so taking
    // one more reference and wrapping it is sound.
    unsafe {
        Arc::increment_strong_count(tensor);
        Arc::from_raw(tensor)
    }
}

/// Releases the keyspace's reference (the type's free callback).
///
/// # Safety
/// `value` must come from [`into_value`]; Redis releases each value exactly once.
pub unsafe fn release_value(value: *mut c_void) {
    // SAFETY: takes back the reference `into_value` gave away.
    drop(unsafe { Arc::from_raw(value.cast::<Tensor>().cast_const()) });
}

/// An open key, closed on drop. `'a` is the command call the key belongs to.
pub struct TensorKey<'a> {
    key: *mut RedisModuleKey,
    _call: PhantomData<&'a Context>,
}

impl<'a> TensorKey<'a> {
    /// Opens `name` for reading.
    pub fn read(ctx: &'a Context, name: *mut RedisModuleString) -> TensorKey<'a> {
        Self::open(ctx, name, raw::KeyMode::READ)
    }

    /// Opens `name` for writing.
    pub fn write(ctx: &'a Context, name: *mut RedisModuleString) -> TensorKey<'a> {
        Self::open(ctx, name, raw::KeyMode::READ | raw::KeyMode::WRITE)
    }

    fn open(ctx: &'a Context, name: *mut RedisModuleString, mode: raw::KeyMode) -> TensorKey<'a> {
        TensorKey {
            key: raw::open_key(ctx.ctx, name, mode),
            _call: PhantomData,
        }
    }

    /// The stored value's pointer: `Ok(None)` for an empty key, `WRONGTYPE` for a key of another
    /// type.
    fn value(&self) -> Result<Option<*mut c_void>, Error> {
        if self.key.is_null() {
            return Ok(None);
        }
        // SAFETY: an open key of this command call.
        let key_type = unsafe { raw::RedisModule_KeyType.expect("module API")(self.key) };
        if key_type == raw::REDISMODULE_KEYTYPE_EMPTY as c_int {
            return Ok(None);
        }
        // SAFETY: as above.
        let module_type =
            unsafe { raw::RedisModule_ModuleTypeGetType.expect("module API")(self.key) };
        if module_type != *TENSOR_TYPE.raw_type.borrow() {
            return Err(Error::WrongType);
        }
        // SAFETY: the key holds a value of our type.
        let value = unsafe { raw::RedisModule_ModuleTypeGetValue.expect("module API")(self.key) };
        Ok((!value.is_null()).then_some(value))
    }

    /// Checks that the key is empty or holds a tensor (`WRONGTYPE` otherwise).
    pub fn check(&self) -> Result<(), Error> {
        self.value().map(drop)
    }

    /// The stored tensor, borrowed while the key stays open.
    pub fn tensor(&self) -> Result<Option<&Tensor>, Error> {
        // SAFETY: values of this type come from `into_value` and the keyspace holds them while
        // the key is open and unchanged (`set` takes `&mut self`).
        Ok(self.value()?.map(|v| unsafe { borrow_value(v) }))
    }

    /// A shared reference to the stored tensor.
    pub fn shared(&self) -> Result<Option<Arc<Tensor>>, Error> {
        // SAFETY: as in `tensor`.
        Ok(self.value()?.map(|v| unsafe { share_value(v) }))
    }

    /// Stores `tensor` (replacing what the key held); `WRONGTYPE` if it holds another type.
    ///
    /// A tensor that replaces a tensor swaps the value in place (as SET overwrites a string),
    /// instead of deleting the key and adding it again, which costs several times more; the key
    /// loses its TTL either way, as with RedisAI.
    pub fn set(&mut self, tensor: Arc<Tensor>) -> Result<(), Error> {
        let existing = self.value()?;
        let value = into_value(tensor);
        let module_type = *TENSOR_TYPE.raw_type.borrow();
        let status = if existing.is_some() {
            let mut old: *mut c_void = std::ptr::null_mut();
            // SAFETY: an open writable key holding a value of our type; on success the keyspace
            // owns `value` and hands the old value back to us.
            let status = unsafe {
                raw::RedisModule_ModuleTypeReplaceValue.expect("module API")(
                    self.key,
                    module_type,
                    value,
                    &mut old,
                )
            };
            if status == raw::REDISMODULE_OK as c_int {
                // SAFETY: the old value left the keyspace: release its reference.
                unsafe { release_value(old) };
                self.clear_expire();
            }
            status
        } else {
            // SAFETY: an open writable key; on success the keyspace owns `value`.
            unsafe {
                raw::RedisModule_ModuleTypeSetValue.expect("module API")(
                    self.key,
                    module_type,
                    value,
                )
            }
        };
        if status == raw::REDISMODULE_OK as c_int {
            Ok(())
        } else {
            // SAFETY: Redis did not take the value: release our reference.
            unsafe { release_value(value) };
            Err(Error::WrongType)
        }
    }

    /// Removes the key's TTL, if it has one.
    fn clear_expire(&self) {
        // SAFETY: an open writable key with a value.
        unsafe {
            if raw::RedisModule_GetExpire.expect("module API")(self.key)
                != raw::REDISMODULE_NO_EXPIRE as i64
            {
                raw::RedisModule_SetExpire.expect("module API")(
                    self.key,
                    raw::REDISMODULE_NO_EXPIRE as i64,
                );
            }
        }
    }
}

impl Drop for TensorKey<'_> {
    fn drop(&mut self) {
        if !self.key.is_null() {
            // SAFETY: opened by us and closed once.
            unsafe { raw::RedisModule_CloseKey.expect("module API")(self.key) };
        }
    }
}
