//! `RAI_Error`: the error object of the C API, and RedisAI's error codes.
//!
//! The layout is the module's own (callers only hold pointers). As in RedisAI, the first error
//! set on an object wins until it is cleared, and the one-line text has every `\n` and `\r`
//! replaced by a space.

use std::ffi::{c_char, c_int, CString};
use std::ptr;

use redisai_core::error::one_line;
use redisai_core::Error;

use super::ffi;

/// RedisAI's `RedisAI_ErrorCode` values (and its internal `EKEYEMPTY`, which the keyspace
/// getters return although the public enum lacks it).
pub mod code {
    use std::ffi::c_int;

    pub const OK: c_int = 0;
    pub const EMODELCONFIGURE: c_int = 2;
    pub const EMODELCREATE: c_int = 3;
    pub const EMODELRUN: c_int = 4;
    pub const EMODELSERIALIZE: c_int = 5;
    pub const ESCRIPTCREATE: c_int = 9;
    pub const ESCRIPTRUN: c_int = 10;
    pub const EUNSUPPORTEDBACKEND: c_int = 11;
    pub const EBACKENDNOTLOADED: c_int = 12;
    pub const ETENSORSET: c_int = 14;
    pub const EDAGBUILDER: c_int = 16;
    pub const EDAGRUN: c_int = 17;
    pub const EFINISHCTX: c_int = 18;
    pub const EKEYEMPTY: c_int = 19;
}

/// An error: its code, its text and the text on one line (both NUL-terminated for C).
#[derive(Debug, Default)]
pub struct RaiError {
    code: c_int,
    detail: Option<CString>,
    detail_one_line: Option<CString>,
}

/// A C string of `text` (an interior NUL, which no error text has, ends it).
fn c_string(text: &str) -> CString {
    let bytes = text.as_bytes();
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).unwrap_or_default()
}

impl RaiError {
    /// Records `error` under `code`, unless an error is recorded already (the first one wins).
    pub fn set(&mut self, code: c_int, error: &Error) {
        if self.code != code::OK {
            return;
        }
        let text = error.to_string();
        self.code = code;
        self.detail_one_line = Some(c_string(&one_line(&text)));
        self.detail = Some(c_string(&text));
    }

    /// Back to no error.
    pub fn clear(&mut self) {
        *self = RaiError::default();
    }

    pub fn code(&self) -> c_int {
        self.code
    }

    /// A copy of this error.
    pub fn duplicate(&self) -> RaiError {
        RaiError {
            code: self.code,
            detail: self.detail.clone(),
            detail_one_line: self.detail_one_line.clone(),
        }
    }
}

/// Records `error` in the caller's error object, if it gave one.
///
/// # Safety
/// `err` is NULL or a live `RAI_Error` of `RedisAI_InitError`.
pub unsafe fn report(err: *mut RaiError, code: c_int, error: &Error) {
    // SAFETY: the caller's contract.
    if let Some(err) = unsafe { err.as_mut() } {
        err.set(code, error);
    }
}

/// `int RedisAI_InitError(RAI_Error **err)`: a new error object without error; 0 (1 for a NULL
/// `err`).
pub extern "C" fn init_error(err: *mut *mut RaiError) -> c_int {
    ffi("RedisAI_InitError", 1, || {
        if err.is_null() {
            return 1;
        }
        // SAFETY: `err` points to the caller's pointer, which receives a new object.
        unsafe { *err = Box::into_raw(Box::default()) };
        0
    })
}

/// `void RedisAI_ClearError(RAI_Error *err)`: back to no error, for reuse.
pub extern "C" fn clear_error(err: *mut RaiError) {
    ffi("RedisAI_ClearError", (), || {
        // SAFETY: NULL or a live error object (the C API's contract).
        unsafe { err.as_mut() }.map_or((), RaiError::clear)
    })
}

/// `void RedisAI_FreeError(RAI_Error *err)`.
pub extern "C" fn free_error(err: *mut RaiError) {
    ffi("RedisAI_FreeError", (), || {
        if !err.is_null() {
            // SAFETY: made by `init_error` and freed once (the C API's contract).
            drop(unsafe { Box::from_raw(err) });
        }
    })
}

fn text_of(err: *mut RaiError, one_line: bool) -> *const c_char {
    // SAFETY: NULL or a live error object (the C API's contract).
    let Some(err) = (unsafe { err.as_ref() }) else {
        return ptr::null();
    };
    let text = if one_line {
        &err.detail_one_line
    } else {
        &err.detail
    };
    text.as_ref().map_or(ptr::null(), |t| t.as_ptr())
}

/// `const char *RedisAI_GetError(RAI_Error *err)`: the text (owned by `err`), NULL without
/// error.
pub extern "C" fn get_error(err: *mut RaiError) -> *const c_char {
    ffi("RedisAI_GetError", ptr::null(), || text_of(err, false))
}

/// `const char *RedisAI_GetErrorOneLine(RAI_Error *err)`: the text on one line.
pub extern "C" fn get_error_one_line(err: *mut RaiError) -> *const c_char {
    ffi("RedisAI_GetErrorOneLine", ptr::null(), || {
        text_of(err, true)
    })
}

/// `RedisAI_ErrorCode RedisAI_GetErrorCode(RAI_Error *err)`.
pub extern "C" fn get_error_code(err: *mut RaiError) -> c_int {
    ffi("RedisAI_GetErrorCode", code::OK, || {
        // SAFETY: NULL or a live error object (the C API's contract).
        unsafe { err.as_ref() }.map_or(code::OK, RaiError::code)
    })
}

/// `void RedisAI_CloneError(RAI_Error *dest, const RAI_Error *src)`: `dest` becomes a copy of
/// `src` (RedisAI crashed on a `src` without error; here that copies "no error").
pub extern "C" fn clone_error(dest: *mut RaiError, src: *const RaiError) {
    ffi("RedisAI_CloneError", (), || {
        // SAFETY: live error objects, or NULL (the C API's contract).
        let (Some(dest), Some(src)) = (unsafe { dest.as_mut() }, unsafe { src.as_ref() }) else {
            return;
        };
        *dest = src.duplicate();
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn first_error_wins_and_one_line_replaces_newlines() {
        let mut e = RaiError::default();
        e.set(code::EMODELRUN, &Error::backend("bad\nshape\r"));
        e.set(code::EDAGRUN, &Error::DagEmpty);
        assert_eq!(e.code(), code::EMODELRUN);
        let raw: *mut RaiError = &mut e;
        // SAFETY: the texts live in `e`.
        let (full, one) = unsafe {
            (
                CStr::from_ptr(get_error(raw)).to_str().unwrap(),
                CStr::from_ptr(get_error_one_line(raw)).to_str().unwrap(),
            )
        };
        // Backend texts are one-lined already; both read the same.
        assert_eq!((full, one), ("bad shape ", "bad shape "));
        clear_error(raw);
        assert!(get_error(raw).is_null());
        assert_eq!(get_error_code(raw), code::OK);
    }
}
