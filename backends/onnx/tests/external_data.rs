//! A model whose initializer keeps its data in an external file is refused at store time, even
//! when that file exists where ONNX Runtime would look for it (the working directory).

mod common;

use common::*;

#[test]
fn external_initializers_are_refused() {
    let plugin = plugin(5000, 0);
    let Some(dir) = fixtures() else {
        return;
    };
    let blob = std::fs::read(dir.join("external_data.onnx")).unwrap();
    // external_data.bin lies next to the model: make that the working directory (this test is
    // alone in its process, so nothing else depends on the working directory).
    assert!(dir.join("external_data.bin").exists());
    std::env::set_current_dir(&dir).unwrap();
    let err = plugin.create_model(&blob, &cpu()).unwrap_err();
    assert_eq!(
        err,
        "Initializer tensors with external data is not allowed."
    );
}
