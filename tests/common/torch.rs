//! TorchScript fixtures: models built from TorchScript source by the TORCH plugin's own
//! `module_from_source` (no Python), and scripts.
//!
//! The plugin (dist/backends/redisai_torch/redisai_torch.so, with libtorch beside it) is opened
//! at run time, not linked, so the integration tests build without libtorch.

use std::ffi::CStr;
use std::sync::OnceLock;

use libloading::{Library, Symbol};

use super::{module_path, ok_frame, render, Client};

type FromSource =
    unsafe extern "C" fn(*const u8, usize, *mut *mut u8, *mut usize, *mut *mut u8) -> i32;
type Free = unsafe extern "C" fn(*mut u8, usize);

/// The installed TORCH plugin, opened once.
fn plugin() -> &'static Library {
    static PLUGIN: OnceLock<Library> = OnceLock::new();
    PLUGIN.get_or_init(|| {
        let path = module_path()
            .parent()
            .expect("dist/")
            .join("backends/redisai_torch/redisai_torch.so");
        // SAFETY: our own plugin; loading it runs libtorch's initialisers, nothing else.
        unsafe { Library::new(&path) }
            .unwrap_or_else(|e| panic!("{}: {e} (run `make build-torch`)", path.display()))
    })
}

/// A TorchScript archive (as `torch.jit.save` writes) of a module with these methods.
pub fn torch_model(source: &str) -> Vec<u8> {
    let lib = plugin();
    // SAFETY: the plugin's exported functions with these signatures (backends/torch/src/lib.rs).
    let (build, free): (Symbol<FromSource>, Symbol<Free>) = unsafe {
        (
            lib.get(b"redisai_torch_module_from_source\0")
                .expect("the export"),
            lib.get(b"redisai_torch_free_archive\0")
                .expect("the export"),
        )
    };
    let (mut archive, mut len, mut err) = (std::ptr::null_mut(), 0usize, std::ptr::null_mut());
    // SAFETY: a borrowed source and writable out slots.
    let status = unsafe {
        build(
            source.as_ptr(),
            source.len(),
            &mut archive,
            &mut len,
            &mut err,
        )
    };
    if status != 0 {
        // SAFETY: a NUL-terminated message from the plugin, released once with its length.
        let text = unsafe { CStr::from_ptr(err.cast()) };
        let (message, n) = (text.to_string_lossy().into_owned(), text.to_bytes().len());
        // SAFETY: as above.
        unsafe { free(err, n + 1) };
        panic!("{message}");
    }
    // SAFETY: `len` bytes from the plugin, copied, then released once.
    let bytes = unsafe { std::slice::from_raw_parts(archive, len) }.to_vec();
    // SAFETY: as above.
    unsafe { free(archive, len) };
    bytes
}

/// Stores a script with its entry points; panics unless the reply is OK.
pub fn store_script(c: &mut Client, key: &str, entry_points: &[&str], source: &str) {
    let mut args: Vec<Vec<u8>> = vec![
        b"AI.SCRIPTSTORE".to_vec(),
        key.into(),
        b"CPU".to_vec(),
        b"ENTRY_POINTS".to_vec(),
        entry_points.len().to_string().into_bytes(),
    ];
    args.extend(entry_points.iter().map(|e| e.as_bytes().to_vec()));
    args.push(b"SOURCE".to_vec());
    args.push(source.as_bytes().to_vec());
    let reply = c.call(&args);
    assert_eq!(reply, ok_frame("OK"), "{}", render(&reply));
}
