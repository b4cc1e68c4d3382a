//! Command grammars and configuration of the RedisAI-compatible module, over plain byte slices.
//!
//! Everything here is testable without Redis: the module crate opens keys and replies, this crate
//! decides what a command means and which exact error it gets.
#![forbid(unsafe_code)]

pub mod config;
pub mod tensor_cmd;
pub mod version;

/// Upper-case command names, used in arity errors whatever the Redis version.
pub mod names {
    pub const TENSORSET: &str = "AI.TENSORSET";
    pub const TENSORGET: &str = "AI.TENSORGET";
}
