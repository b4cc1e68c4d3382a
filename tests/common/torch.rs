//! TorchScript fixtures: models built from TorchScript source by the TORCH plugin's own
//! `module_from_source` (no Python), and scripts.

use super::{ok_frame, render, Client};

/// A TorchScript archive (as `torch.jit.save` writes) of a module with these methods.
pub fn torch_model(source: &str) -> Vec<u8> {
    redisai_torch::module_from_source(source).unwrap_or_else(|e| panic!("{e}"))
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
