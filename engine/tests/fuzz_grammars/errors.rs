//! The error texts a grammar may return, and the checks every reply is held to.

#![allow(unused_imports)]
use super::*;

/// The documented error texts without an `ERR ` prefix (RedisAI's own wording), from
/// `redisai_core::error`. `Error::Backend` (a backend's message) is not among them: no grammar
/// may produce it.
pub(crate) const BARE_TEXTS: &[&str] = &[
    "Number of keys given as INPUTS here does not match model definition",
    "Number of keys given as OUTPUTS here does not match model definition",
    "Deprecated AI.MODELRUN cannot be used in AI.DAGEXECUTE command",
    "Deprecated AI.SCRIPTRUN cannot be used in AI.DAGEXECUTE command",
    "AI.MODELEXECUTE cannot be used in a deprecated AI.DAGRUN command",
    "AI.SCRIPTEXECUTE cannot be used in a deprecated AI.DAGRUN command",
    "Unsupported command within DAG",
    "wrong number of arguments for 'AI.TENSORGET' command",
    "wrong number of arguments for 'AI.TENSORSET' command",
    "GPU requested but Torch couldn't find CUDA",
    "Even number of arguments provided to module. Please provide arguments as KEY VAL pairs",
];

/// Bare texts that end with a client token.
pub(crate) const BARE_PREFIXES: &[&str] = &["Invalid argument: "];

/// A grammar's error: non-empty, one line (but for an echoed client token), documented prefix.
pub(crate) fn check_error(e: &Error) -> std::result::Result<(), TestCaseError> {
    let text = e.to_string();
    prop_assert!(!text.is_empty(), "{:?}", e);
    // The fixed part of the text, without the client token it may echo.
    let fixed = match e {
        Error::InvalidArgument(token)
        | Error::DagUnexpectedArgument(token)
        | Error::ScriptUnexpectedArgument(token) => text
            .strip_suffix(token.as_str())
            .map(str::to_owned)
            .ok_or_else(|| TestCaseError::fail(format!("token not at the end: {text:?}")))?,
        Error::ModuleArgument { key, value } => {
            prop_assert_eq!(
                &text,
                &format!("ERR error processing argument: {key} {value}")
            );
            "ERR error processing argument:  ".to_owned()
        }
        _ => text.clone(),
    };
    prop_assert!(
        !fixed.contains(['\r', '\n', '\0']),
        "error text not on one line: {:?}",
        text
    );
    let documented = text.starts_with("ERR ")
        || text.starts_with("WRONGTYPE ")
        || BARE_TEXTS.contains(&text.as_str())
        || BARE_PREFIXES.iter().any(|p| text.starts_with(p));
    prop_assert!(documented, "undocumented error text: {:?} ({:?})", text, e);
    Ok(())
}

/// `Ok` passes; an error is checked (a failure names the command).
pub(crate) fn check<T>(
    argv: &[&[u8]],
    result: &Result<T>,
) -> std::result::Result<(), TestCaseError> {
    match result {
        Ok(_) => Ok(()),
        Err(e) => {
            check_error(e).map_err(|f| TestCaseError::fail(format!("{f}\n  argv: {}", show(argv))))
        }
    }
}

/// A command, readable: each token as a quoted, escaped string.
pub(crate) fn show(argv: &[&[u8]]) -> String {
    argv.iter()
        .map(|a| format!("{:?}", String::from_utf8_lossy(a)))
        .collect::<Vec<_>>()
        .join(" ")
}
