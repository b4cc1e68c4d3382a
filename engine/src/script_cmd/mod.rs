//! Grammars of the script commands (SPEC §3.9-3.15) and the AOF rewrite of a script (§10.3),
//! over `argv: &[&[u8]]` including the command name. They return borrowed slices of `argv` or
//! the exact `Error`, in RedisAI's validation order; keys are opened by the caller.
//!
//! What is checked elsewhere: MULTI/Lua (the module, first), the script key (`ERR script key is
//! empty` / WRONGTYPE, the module, between the arity and the parse of AI.SCRIPTEXECUTE and
//! AI.SCRIPTRUN, and after the script is compiled for AI.SCRIPTSTORE / AI.SCRIPTSET), the
//! compile errors and entry-point checks (the TORCH backend), and the input tensors.

mod get;
mod run;
mod store;

pub use get::{parse_scriptget, scriptdel_arity, scriptscan_arity, ScriptGetArgs, ScriptGetReply};
pub use run::{
    parse_scriptexecute, parse_scriptrun, scriptexecute_arity, scriptrun_arity, ScriptExecuteArgs,
};
pub use store::{parse_scriptset, parse_scriptstore, scriptstore_command, ScriptStoreArgs};

#[cfg(test)]
mod tests;
