//! TORCH devices: `GPU` / `GPU:<n>` models and scripts without a CUDA device, and the plugin's
//! loading of libtorch's CUDA library (`cuda/` beside the plugin in `TORCH_CUDA=1` builds).
//! Through a real redis-server with the built module and plugin.

mod common;

use std::path::Path;

use common::fixtures::{numbers, reference, store_onnx};
use common::torch::torch_model;
use common::{module_path, ok_frame, render, Server};

const ADD: &str = "def forward(self, a, b):\n    return a + b\n";
const SCRIPT: &str =
    "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0] + 1\n";

#[test]
fn gpu_models_and_scripts_are_refused_without_a_cuda_device() {
    needs!(
        "gpu_models_and_scripts_are_refused_without_a_cuda_device",
        "TORCH"
    );
    // (A default build has no CUDA at all; a TORCH_CUDA=1 build on a machine without a driver or
    // device answers the same.)
    let server = Server::with(&["TORCH", "redisai_torch/redisai_torch.so"], &[]);
    let mut c = server.client();
    let blob = torch_model(ADD);
    for (device, n) in [("GPU", 0), ("gpu:1", 1), ("GPU:3", 3)] {
        let reply = c.call(&[
            b"AI.MODELSTORE".as_slice(),
            b"m",
            b"TORCH",
            device.as_bytes(),
            b"BLOB",
            &blob,
        ]);
        assert_eq!(
            render(&reply),
            format!("-ERR GPU requested but TORCH has no CUDA device {n}")
        );
        let reply = c.call(&[
            "AI.SCRIPTSTORE",
            "s",
            device,
            "ENTRY_POINTS",
            "1",
            "f",
            "SOURCE",
            SCRIPT,
        ]);
        assert_eq!(
            render(&reply),
            format!("-ERR GPU requested but TORCH has no CUDA device {n}")
        );
    }
    assert_eq!(render(&c.cmd("EXISTS m s")), ":0");
    // The CPU still serves.
    let reply = c.call(&[
        b"AI.MODELSTORE".as_slice(),
        b"m",
        b"TORCH",
        b"CPU",
        b"BLOB",
        &blob,
    ]);
    assert_eq!(reply, ok_frame("OK"));
    c.cmd("AI.TENSORSET a FLOAT 2 VALUES 1 2");
    c.cmd("AI.TENSORSET b FLOAT 2 VALUES 3 4");
    assert_eq!(
        render(&c.cmd("AI.MODELEXECUTE m INPUTS 2 a b OUTPUTS 1 o")),
        "+OK"
    );
    assert_eq!(numbers(&c.cmd("AI.TENSORGET o VALUES")), vec![4.0, 6.0]);
}

#[test]
fn a_plugin_whose_cuda_library_does_not_load_is_refused_with_the_reason() {
    needs!(
        "a_plugin_whose_cuda_library_does_not_load_is_refused_with_the_reason",
        "TORCH"
    );
    // The plugin's copy lives in the server's directory, outside BACKENDSPATH.
    let server = Server::with(&["UNRESTRICTED_LOADBACKEND", "yes"], &[]);
    let mut c = server.client();
    // The installed plugin, copied with a `cuda/` directory whose libtorch_cuda.so is not a
    // library (its libtorch is the installed one, through the `lib` link).
    let installed = module_path()
        .parent()
        .unwrap()
        .join("backends/redisai_torch");
    let plugin = server.dir().join("redisai_torch");
    std::fs::create_dir_all(plugin.join("cuda/torch/lib")).unwrap();
    std::fs::copy(
        installed.join("redisai_torch.so"),
        plugin.join("redisai_torch.so"),
    )
    .unwrap();
    std::os::unix::fs::symlink(installed.join("lib"), plugin.join("lib")).unwrap();
    let cuda = plugin.join("cuda/torch/lib/libtorch_cuda.so");
    std::fs::write(&cuda, b"\x7fELF, but truncated").unwrap();
    let path = plugin.join("redisai_torch.so");
    let reply = c.call(&["AI.CONFIG", "LOADBACKEND", "TORCH", path.to_str().unwrap()]);
    assert_eq!(render(&reply), "-ERR error loading backend");
    let log = server.log();
    let reason = format!("could not load libtorch's CUDA library {}", display(&cuda));
    assert!(log.contains(&reason), "{reason} missing in\n{log}");
    // Nothing else is affected.
    let reply = store_onnx(&mut c, "iris", "CPU", &[], &reference("linear_iris.onnx"));
    assert_eq!(reply, ok_frame("OK"));
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
