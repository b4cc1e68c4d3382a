//! Command grammars and configuration of the RedisAI-compatible module, over plain byte slices.
//!
//! Everything here is testable without Redis: the module crate opens keys and replies, this crate
//! decides what a command means and which exact error it gets.
#![forbid(unsafe_code)]

pub mod backends;
pub mod batching;
pub mod command;
pub mod config;
pub mod dag;
pub mod histogram;
pub mod keys;
pub mod limits;
pub mod loader;
pub mod metrics;
pub mod model;
pub mod model_cmd;
pub mod queue;
pub mod run;
pub mod script;
pub mod script_calls;
pub mod script_cmd;
pub mod state;
pub mod stats;
pub mod tensor_cmd;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;
pub mod version;

/// Upper-case command names, used in arity errors whatever the Redis version.
pub mod names {
    pub const TENSORSET: &str = "AI.TENSORSET";
    pub const TENSORGET: &str = "AI.TENSORGET";
    pub const MODELSTORE: &str = "AI.MODELSTORE";
    pub const MODELSET: &str = "AI.MODELSET";
    pub const MODELGET: &str = "AI.MODELGET";
    pub const MODELDEL: &str = "AI.MODELDEL";
    pub const MODELEXECUTE: &str = "AI.MODELEXECUTE";
    pub const MODELRUN: &str = "AI.MODELRUN";
    pub const MODELSCAN: &str = "AI._MODELSCAN";
    pub const SCRIPTSTORE: &str = "AI.SCRIPTSTORE";
    pub const SCRIPTSET: &str = "AI.SCRIPTSET";
    pub const SCRIPTGET: &str = "AI.SCRIPTGET";
    pub const SCRIPTDEL: &str = "AI.SCRIPTDEL";
    pub const SCRIPTEXECUTE: &str = "AI.SCRIPTEXECUTE";
    pub const SCRIPTRUN: &str = "AI.SCRIPTRUN";
    pub const SCRIPTSCAN: &str = "AI._SCRIPTSCAN";
    pub const INFO: &str = "AI.INFO";
    pub const CONFIG: &str = "AI.CONFIG";
    pub const METRICS: &str = "AI.METRICS";
}
