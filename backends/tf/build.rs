//! Links the plugin against TensorFlow's C library, the two shared objects of the
//! `tensorflow-cpu` wheel that scripts/install_tensorflow.sh unpacks into
//! `.build/tensorflow/tensorflow/` (or the directory named by `$TENSORFLOW_LIB_DIR`):
//! `libtensorflow_cc.so.2` (graph and session API) and `libtensorflow_framework.so.2` (tensors,
//! status).
//!
//! - Link names: the wheel has no `libtensorflow_cc.so` for `-ltensorflow_cc`, so links to both
//!   libraries (by link name and by soname) are made in `$OUT_DIR/lib`, the link search path.
//!   Being inside the target directory, that path is also put on the library path of
//!   `cargo test` / `cargo run` by Cargo, so the unit and integration test binaries find
//!   TensorFlow without an installed layout.
//! - The cdylib gets the RUNPATH `$ORIGIN/lib`: installed as
//!   `dist/backends/redisai_tensorflow/redisai_tensorflow.so`, it loads TensorFlow from
//!   `dist/backends/redisai_tensorflow/lib/` (`make build` copies both libraries there).
//! - `TENSORFLOW_VERSION` (scripts/versions.env) is passed to the crate for its tests.
//! - `alloc/capped_allocator.cc`, TensorFlow's CPU allocator with a cap on one allocation, is
//!   compiled against the wheel's C++ headers (`tensorflow/include`) and linked in.

use std::path::{Path, PathBuf};

const LIBRARIES: [(&str, &str); 2] = [
    ("tensorflow_cc", "libtensorflow_cc.so.2"),
    ("tensorflow_framework", "libtensorflow_framework.so.2"),
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
        .find_map(|l| l.trim().strip_prefix("TENSORFLOW_VERSION="))
        .map(|v| v.trim().trim_matches('"').to_string())
        .expect("TENSORFLOW_VERSION missing from scripts/versions.env");
    println!("cargo:rustc-env=TENSORFLOW_VERSION={version}");

    println!("cargo:rerun-if-env-changed=TENSORFLOW_LIB_DIR");
    let lib_dir = match std::env::var_os("TENSORFLOW_LIB_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => workspace.join(".build/tensorflow/tensorflow"),
    };
    for (_, file) in LIBRARIES {
        let path = lib_dir.join(file);
        if !path.is_file() {
            panic!(
                "TensorFlow's C library {} is missing: run scripts/install_tensorflow.sh (or \
                 `make setup`), which installs the tensorflow-cpu {version} wheel from PyPI into \
                 .build/tensorflow, or set TENSORFLOW_LIB_DIR to a directory holding \
                 libtensorflow_cc.so.2 and libtensorflow_framework.so.2",
                path.display()
            );
        }
        // A reinstalled library relinks the plugin.
        println!("cargo:rerun-if-changed={}", path.display());
    }

    // The capped CPU allocator (alloc/capped_allocator.cc), against the wheel's C++ headers.
    println!("cargo:rerun-if-changed=alloc/capped_allocator.cc");
    cc::Build::new()
        .cpp(true)
        .pic(true)
        .std("c++17")
        .warnings(false)
        .define("_GLIBCXX_USE_CXX11_ABI", "1")
        .include(lib_dir.join("include"))
        .file(manifest.join("alloc/capped_allocator.cc"))
        .compile("redisai_tf_alloc");

    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("lib");
    std::fs::create_dir_all(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    for (name, file) in LIBRARIES {
        let target = lib_dir
            .join(file)
            .canonicalize()
            .unwrap_or_else(|e| panic!("{}: {e}", lib_dir.join(file).display()));
        link(&target, &out.join(format!("lib{name}.so")));
        link(&target, &out.join(file));
        println!("cargo:rustc-link-lib=dylib={name}");
    }
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-cdylib-link-arg=-Wl,-rpath,$ORIGIN/lib");
}

/// Makes `link` a symbolic link to `target`, replacing what is there.
fn link(target: &Path, link: &Path) {
    if std::fs::read_link(link).is_ok_and(|t| t == target) {
        return;
    }
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(target, link)
        .unwrap_or_else(|e| panic!("{} -> {}: {e}", link.display(), target.display()));
}
