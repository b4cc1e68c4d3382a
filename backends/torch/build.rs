//! Builds the C++ shim (shim/torch_shim.cpp, shim/sandbox.cpp) against libtorch from the torch wheel that
//! scripts/install_torch.sh unpacks into `.build/torch` (or the directory named by
//! `$LIBTORCH_DIR`, holding `torch/` and `nvidia/cu13/lib/`), and links the plugin to it.
//!
//! - Headers: `torch/include` and `torch/include/torch/csrc/api/include`, C++17, the new C++11
//!   ABI (the wheel is built with `_GLIBCXX_USE_CXX11_ABI=1`).
//! - Libraries: `libtorch_cpu.so` and `libc10.so` (never the wheel's `libtorch.so`, which pulls
//!   in `libtorch_cuda.so` and the whole CUDA stack). Links to them and to what they load
//!   (`libgomp.so.1`, `libcudart.so.13`, `libcupti.so.13`) are made side by side in
//!   `$OUT_DIR/lib`, the link search path: libtorch finds its dependencies through its RPATH
//!   `$ORIGIN`, and Cargo puts that directory on the library path of `cargo test`.
//! - The cdylib gets the RUNPATH `$ORIGIN/lib`: installed as
//!   `dist/backends/redisai_torch/redisai_torch.so`, it loads libtorch from
//!   `dist/backends/redisai_torch/lib/` (`make build` copies the five libraries there).
//! - `TORCH_VERSION` (scripts/versions.env) is passed to the crate for its tests.

use std::path::{Path, PathBuf};

/// What the plugin needs at run time, relative to the install directory.
const LIBRARIES: [&str; 5] = [
    "torch/lib/libtorch_cpu.so",
    "torch/lib/libc10.so",
    "torch/lib/libgomp.so.1",
    "nvidia/cu13/lib/libcudart.so.13",
    "nvidia/cu13/lib/libcupti.so.13",
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let workspace = manifest.join("../..");

    let versions = workspace.join("scripts/versions.env");
    println!("cargo:rerun-if-changed={}", versions.display());
    let text = std::fs::read_to_string(&versions)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", versions.display()));
    let version = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("TORCH_VERSION="))
        .map(|v| v.trim().trim_matches('"').to_string())
        .expect("TORCH_VERSION missing from scripts/versions.env");
    println!("cargo:rustc-env=TORCH_VERSION={version}");

    println!("cargo:rerun-if-env-changed=LIBTORCH_DIR");
    let root = match std::env::var_os("LIBTORCH_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => workspace.join(".build/torch"),
    };
    for file in LIBRARIES {
        let path = root.join(file);
        if !path.is_file() {
            panic!(
                "libtorch's {} is missing: run scripts/install_torch.sh (or `make setup`), which \
                 installs the torch {version} wheel from PyPI into .build/torch, or set \
                 LIBTORCH_DIR to a directory laid out the same way",
                path.display()
            );
        }
        println!("cargo:rerun-if-changed={}", path.display());
    }

    let include = root.join("torch/include");
    for file in ["torch_shim.cpp", "shim.h", "sandbox.cpp", "sandbox.h"] {
        println!("cargo:rerun-if-changed=shim/{file}");
    }
    cc::Build::new()
        .cpp(true)
        .pic(true)
        .std("c++17")
        .warnings(false)
        .define("_GLIBCXX_USE_CXX11_ABI", "1")
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .include(manifest.join("shim"))
        .file(manifest.join("shim/torch_shim.cpp"))
        .file(manifest.join("shim/sandbox.cpp"))
        .compile("redisai_torch_shim");

    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("lib");
    std::fs::create_dir_all(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    for file in LIBRARIES {
        let target = root.join(file);
        let name = Path::new(file).file_name().expect("file name");
        link(&target, &out.join(name));
    }
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=dylib=torch_cpu");
    println!("cargo:rustc-link-lib=dylib=c10");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-rpath,$ORIGIN/lib");
}

/// (Re)creates `link` as a symlink to `target`.
fn link(target: &Path, link: &Path) {
    let target = target
        .canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", target.display()));
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(&target, link)
        .unwrap_or_else(|e| panic!("{} -> {}: {e}", link.display(), target.display()));
}
