//! An open key holding (or about to hold) a value of one of the module's types.
//!
//! Every value of the module is the bare pointer of an `Arc` (`Arc::into_raw`): the keyspace holds
//! one reference, readers take more (a run keeps its model and tensors alive while the key
//! changes), and no box sits around it, so storing costs no allocation beyond the value's own.

use std::ffi::{c_int, c_void};
use std::marker::PhantomData;
use std::sync::Arc;

use redis_module::raw::{self, RedisModuleKey, RedisModuleString};
use redis_module::Context;
use redisai_core::Error;

use super::values::Stored;

/// Turns a value into a keyspace value (one reference moves into the keyspace).
pub fn into_value<T: Stored>(value: Arc<T>) -> *mut c_void {
    Arc::into_raw(value).cast_mut().cast()
}

/// Borrows the value of a keyspace value.
///
/// # Safety
/// `value` must come from [`into_value::<T>`] and still be held by the keyspace for `'a`.
pub unsafe fn borrow_value<'a, T: Stored>(value: *const c_void) -> &'a T {
    // SAFETY: the pointer is a live `Arc<T>` pointer (caller's contract).
    unsafe { &*value.cast::<T>() }
}

/// A new reference to a keyspace value.
///
/// # Safety
/// As [`borrow_value`].
pub unsafe fn share_value<T: Stored>(value: *const c_void) -> Arc<T> {
    let value = value.cast::<T>();
    // SAFETY: `value` came from `Arc::into_raw` and the keyspace's reference is alive, so taking
    // one more reference and wrapping it is sound.
    unsafe {
        Arc::increment_strong_count(value);
        Arc::from_raw(value)
    }
}

/// Releases the keyspace's reference (the type's free callback, or a value replaced in place),
/// after the type's own release hook.
///
/// # Safety
/// `value` must come from [`into_value::<T>`]; each value is released exactly once.
pub unsafe fn release_value<T: Stored>(value: *mut c_void) {
    // SAFETY: takes back the reference `into_value` gave away.
    let value = unsafe { Arc::from_raw(value.cast::<T>().cast_const()) };
    value.released();
    drop(value);
}

/// What a [`Key`] is tied to: the command call it belongs to (`'a`) and its value type.
type Binding<'a, T> = PhantomData<(&'a Context, fn() -> T)>;

/// An open key, closed on drop. `'a` is the command call the key belongs to.
pub struct Key<'a, T: Stored> {
    key: *mut RedisModuleKey,
    _call: Binding<'a, T>,
}

impl<'a, T: Stored> Key<'a, T> {
    /// Opens `name` for reading.
    pub fn read(ctx: &'a Context, name: *mut RedisModuleString) -> Key<'a, T> {
        Self::open(ctx, name, raw::KeyMode::READ)
    }

    /// Opens `name` for writing.
    pub fn write(ctx: &'a Context, name: *mut RedisModuleString) -> Key<'a, T> {
        Self::open(ctx, name, raw::KeyMode::READ | raw::KeyMode::WRITE)
    }

    fn open(ctx: &'a Context, name: *mut RedisModuleString, mode: raw::KeyMode) -> Key<'a, T> {
        Key {
            key: raw::open_key(ctx.ctx, name, mode),
            _call: PhantomData,
        }
    }

    fn module_type() -> *mut raw::RedisModuleType {
        *T::redis_type().raw_type.borrow()
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
        if module_type != Self::module_type() {
            return Err(Error::WrongType);
        }
        // SAFETY: the key holds a value of our type.
        let value = unsafe { raw::RedisModule_ModuleTypeGetValue.expect("module API")(self.key) };
        Ok((!value.is_null()).then_some(value))
    }

    /// Checks that the key is empty or holds a value of this type (`WRONGTYPE` otherwise).
    pub fn check(&self) -> Result<(), Error> {
        self.value().map(drop)
    }

    /// The stored value, borrowed while the key stays open.
    pub fn get(&self) -> Result<Option<&T>, Error> {
        // SAFETY: values of this type come from `into_value` and the keyspace holds them while
        // the key is open and unchanged (`set` takes `&mut self`).
        Ok(self.value()?.map(|v| unsafe { borrow_value::<T>(v) }))
    }

    /// A shared reference to the stored value.
    pub fn shared(&self) -> Result<Option<Arc<T>>, Error> {
        // SAFETY: as in `get`.
        Ok(self.value()?.map(|v| unsafe { share_value::<T>(v) }))
    }

    /// A shared reference to the stored value; the type's "key is empty" error when there is
    /// none.
    pub fn require(&self) -> Result<Arc<T>, Error> {
        self.shared()?.ok_or_else(T::empty)
    }

    /// Stores `value` (replacing what the key held); `WRONGTYPE` if it holds another type.
    ///
    /// A value that replaces one of its type swaps in place (as SET overwrites a string) instead
    /// of deleting the key and adding it again, which costs several times more; the key loses
    /// its TTL either way, as with RedisAI.
    pub fn set(&mut self, value: Arc<T>) -> Result<(), Error> {
        let existing = self.value()?;
        let raw_value = into_value(value);
        let status = if existing.is_some() {
            let mut old: *mut c_void = std::ptr::null_mut();
            // SAFETY: an open writable key holding a value of our type; on success the keyspace
            // owns `raw_value` and hands the old value back to us.
            let status = unsafe {
                raw::RedisModule_ModuleTypeReplaceValue.expect("module API")(
                    self.key,
                    Self::module_type(),
                    raw_value,
                    &mut old,
                )
            };
            if status == raw::REDISMODULE_OK as c_int {
                // SAFETY: the old value left the keyspace: release its reference.
                unsafe { release_value::<T>(old) };
                self.clear_expire();
            }
            status
        } else {
            // SAFETY: an open writable key; on success the keyspace owns `raw_value`.
            unsafe {
                raw::RedisModule_ModuleTypeSetValue.expect("module API")(
                    self.key,
                    Self::module_type(),
                    raw_value,
                )
            }
        };
        if status == raw::REDISMODULE_OK as c_int {
            Ok(())
        } else {
            // SAFETY: Redis did not take the value: take our reference back (it never was in
            // the keyspace, so its release hook does not run).
            drop(unsafe { Arc::from_raw(raw_value.cast::<T>().cast_const()) });
            Err(Error::WrongType)
        }
    }

    /// Deletes the key's value: the type's "key is empty" error when there is none, WRONGTYPE
    /// when it holds another type.
    pub fn delete(&mut self) -> Result<(), Error> {
        self.value()?.ok_or_else(T::empty)?;
        // SAFETY: an open writable key with a value; Redis frees it through the type's callback.
        let status = unsafe { raw::RedisModule_DeleteKey.expect("module API")(self.key) };
        if status == raw::REDISMODULE_OK as c_int {
            Ok(())
        } else {
            Err(T::empty())
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

impl<T: Stored> Drop for Key<'_, T> {
    fn drop(&mut self) {
        if !self.key.is_null() {
            // SAFETY: opened by us and closed once.
            unsafe { raw::RedisModule_CloseKey.expect("module API")(self.key) };
        }
    }
}
