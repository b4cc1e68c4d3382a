//! Grammars of the model commands (SPEC §3.3-3.9) and of AI.INFO and AI.CONFIG (§3.18, §3.19),
//! over `argv: &[&[u8]]` including the command name. They return borrowed slices of `argv` or
//! the exact `Error`, in RedisAI's validation order; keys are opened by the caller.

mod admin;
mod get;
mod run;
mod store;

pub use admin::{parse_config, parse_info, parse_metrics, ConfigCmd, InfoArgs};
pub use get::{modeldel_arity, modelscan_arity, parse_modelget, ModelGetArgs};
pub use run::{
    modelexecute_arity, modelrun_arity, parse_modelexecute, parse_modelrun, ExecuteArgs,
};
pub use store::{modelstore_command, parse_modelset, parse_modelstore, ModelStoreArgs};

#[cfg(test)]
mod tests;
