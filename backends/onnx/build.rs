//! Reads the pinned ONNX Runtime version from `scripts/versions.env` (the plugin loads
//! `lib/libonnxruntime.so.<version>`) and compiles the C++ allocation trampoline, which turns a
//! refused allocation into the C++ exception ONNX Runtime expects from an allocator.

use std::path::Path;

fn main() {
    let versions = Path::new("../../scripts/versions.env");
    println!("cargo:rerun-if-changed={}", versions.display());
    let text = std::fs::read_to_string(versions)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", versions.display()));
    let version = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("ONNXRUNTIME_VERSION="))
        .map(|v| v.trim().trim_matches('"').to_string())
        .expect("ONNXRUNTIME_VERSION missing from scripts/versions.env");
    println!("cargo:rustc-env=ONNXRUNTIME_VERSION={version}");

    println!("cargo:rerun-if-changed=src/alloc_throw.cpp");
    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .warnings(true)
        .file("src/alloc_throw.cpp")
        .compile("redisai_ort_alloc_throw");
}
