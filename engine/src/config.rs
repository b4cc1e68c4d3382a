//! Module arguments (`loadmodule redisai.so KEY VALUE ...`, SPEC §9.1).

use redisai_core::numparse::parse_i64;
use redisai_core::{Backend, Error, Result};

/// Default bytes per chunk of a serialized model (MODELGET, RDB, AOF): RedisAI's 511 MiB
/// (SPEC §3), not 512 MiB.
pub const DEFAULT_MODEL_CHUNK_SIZE: i64 = 535_822_336;
/// Default ONNX kill-switch, in milliseconds.
pub const DEFAULT_MODEL_EXECUTION_TIMEOUT: i64 = 5000;
/// Default BACKEND_ALLOCATION_LIMIT, in MB: the largest single allocation a backend may make
/// (a serialized ONNX model cannot exceed 2 GB either; docs/security.md).
pub const DEFAULT_BACKEND_ALLOCATION_LIMIT: i64 = 2048;

/// Settings fixed at load time (and the runtime-settable ones' initial values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Base directory of backend plugins; `None` means `<module dir>/backends`.
    pub backends_path: Option<String>,
    /// Backends to load at start-up, with the path as given.
    pub backends: Vec<(Backend, String)>,
    pub threads_per_queue: i64,
    pub intra_op_parallelism: i64,
    pub inter_op_parallelism: i64,
    pub model_chunk_size: i64,
    pub model_execution_timeout: i64,
    pub backend_memory_limit: i64,
    /// BACKEND_ALLOCATION_LIMIT (MB): the largest single allocation of any backend (lowered to
    /// maxmemory when that is set and smaller).
    pub backend_allocation_limit: i64,
    /// ALLOW_OPERATORS: operators the backends' sandbox policies refuse, allowed anyway.
    pub allow_operators: Vec<String>,
    /// UNRESTRICTED_LOADBACKEND: whether run-time backend loads may open libraries outside the
    /// start-up BACKENDSPATH.
    pub unrestricted_loadbackend: bool,
    /// MODEL_WARMUP: warm-up runs of every model stored without `WARMUP <n>` (or loaded from an
    /// RDB file, or replicated), 0 to [`redisai_core::model::MAX_WARMUP`].
    pub model_warmup: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            backends_path: None,
            backends: Vec::new(),
            threads_per_queue: 1,
            intra_op_parallelism: 0,
            inter_op_parallelism: 0,
            model_chunk_size: DEFAULT_MODEL_CHUNK_SIZE,
            model_execution_timeout: DEFAULT_MODEL_EXECUTION_TIMEOUT,
            backend_memory_limit: 0,
            backend_allocation_limit: DEFAULT_BACKEND_ALLOCATION_LIMIT,
            allow_operators: Vec::new(),
            unrestricted_loadbackend: false,
            model_warmup: 0,
        }
    }
}

/// Every module argument key, as RedisAI spells it.
pub const KEYS: [&str; 15] = [
    "BACKENDSPATH",
    "TF",
    "TFLITE",
    "TORCH",
    "ONNX",
    "THREADS_PER_QUEUE",
    "INTRA_OP_PARALLELISM",
    "INTER_OP_PARALLELISM",
    "MODEL_CHUNK_SIZE",
    "MODEL_EXECUTION_TIMEOUT",
    "BACKEND_MEMORY_LIMIT",
    "BACKEND_ALLOCATION_LIMIT",
    "ALLOW_OPERATORS",
    "UNRESTRICTED_LOADBACKEND",
    "MODEL_WARMUP",
];

/// Parses module arguments. Keys are case-insensitive; each must appear with a valid value.
/// Returns the config and the log lines RedisAI prints for the accepted settings.
pub fn parse_module_args(args: &[&[u8]]) -> Result<(Config, Vec<String>)> {
    if args.len() % 2 != 0 {
        return Err(Error::ModuleArgumentsOdd);
    }
    let mut config = Config::default();
    let mut log = Vec::new();
    for pair in args.chunks(2) {
        let (key, value) = (
            String::from_utf8_lossy(pair[0]),
            String::from_utf8_lossy(pair[1]),
        );
        let bad = || Error::ModuleArgument {
            key: key.to_string(),
            value: value.to_string(),
        };
        let upper = key.to_ascii_uppercase();
        let number = |min: i64| parse_i64(pair[1]).filter(|&n| n >= min).ok_or_else(bad);
        match upper.as_str() {
            "BACKENDSPATH" => config.backends_path = Some(value.to_string()),
            "THREADS_PER_QUEUE" => config.threads_per_queue = number(1)?,
            "INTRA_OP_PARALLELISM" => config.intra_op_parallelism = number(1)?,
            "INTER_OP_PARALLELISM" => config.inter_op_parallelism = number(1)?,
            "MODEL_CHUNK_SIZE" => config.model_chunk_size = number(1)?,
            "MODEL_EXECUTION_TIMEOUT" => config.model_execution_timeout = number(1000)?,
            "BACKEND_MEMORY_LIMIT" => config.backend_memory_limit = number(1)?,
            "BACKEND_ALLOCATION_LIMIT" => config.backend_allocation_limit = number(1)?,
            "MODEL_WARMUP" => {
                config.model_warmup = number(0)
                    .ok()
                    .filter(|&n| n as u64 <= redisai_core::model::MAX_WARMUP)
                    .ok_or_else(bad)?
            }
            "ALLOW_OPERATORS" => {
                config.allow_operators = redisai_backend_api::sandbox::parse_allow_list(&value)
            }
            "UNRESTRICTED_LOADBACKEND" => {
                config.unrestricted_loadbackend = match value.to_ascii_lowercase().as_str() {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(bad()),
                }
            }
            _ => match Backend::parse(upper.as_bytes()) {
                Some(backend) if !value.is_empty() => {
                    config.backends.push((backend, value.to_string()))
                }
                _ => return Err(bad()),
            },
        }
        log.push(format!("Setting {upper} parameter to: {value}"));
    }
    Ok((config, log))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &str) -> Result<Config> {
        let argv: Vec<&[u8]> = args
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::as_bytes)
            .collect();
        parse_module_args(&argv).map(|(c, _)| c)
    }

    #[test]
    fn defaults_and_values() {
        assert_eq!(parse(""), Ok(Config::default()));
        let c =
            parse("threads_per_queue 4 MODEL_CHUNK_SIZE 100 BACKENDSPATH /x ONNX a/b.so").unwrap();
        assert_eq!(c.threads_per_queue, 4);
        assert_eq!(c.model_chunk_size, 100);
        assert_eq!(c.backends_path.as_deref(), Some("/x"));
        assert_eq!(c.backends, vec![(Backend::Onnx, "a/b.so".to_string())]);
        let c = parse(
            "BACKEND_ALLOCATION_LIMIT 64 ALLOW_OPERATORS aten::save,ReadFile UNRESTRICTED_LOADBACKEND YES",
        )
        .unwrap();
        assert_eq!(c.backend_allocation_limit, 64);
        assert_eq!(c.allow_operators, vec!["aten::save", "ReadFile"]);
        assert!(c.unrestricted_loadbackend);
        assert!(
            !parse("UNRESTRICTED_LOADBACKEND no")
                .unwrap()
                .unrestricted_loadbackend
        );
        let c = parse("INTRA_OP_PARALLELISM 2 INTER_OP_PARALLELISM 3 MODEL_EXECUTION_TIMEOUT 1000 BACKEND_MEMORY_LIMIT 7").unwrap();
        assert_eq!((c.intra_op_parallelism, c.inter_op_parallelism), (2, 3));
        assert_eq!(
            (c.model_execution_timeout, c.backend_memory_limit),
            (1000, 7)
        );
        assert_eq!(parse("MODEL_WARMUP 3").unwrap().model_warmup, 3);
    }

    #[test]
    fn rejections() {
        assert_eq!(parse("THREADS_PER_QUEUE"), Err(Error::ModuleArgumentsOdd));
        let cases = [
            ("FOO", "1"),
            ("THREADS_PER_QUEUE", "0"),
            ("THREADS_PER_QUEUE", "x"),
            ("INTRA_OP_PARALLELISM", "0"),
            ("MODEL_CHUNK_SIZE", "-1"),
            ("MODEL_EXECUTION_TIMEOUT", "999"),
            ("BACKEND_MEMORY_LIMIT", "1.5"),
            ("BACKEND_ALLOCATION_LIMIT", "0"),
            ("UNRESTRICTED_LOADBACKEND", "1"),
            ("MODEL_WARMUP", "-1"),
            ("MODEL_WARMUP", "1001"),
        ];
        for (k, v) in cases {
            let err = Error::ModuleArgument {
                key: k.into(),
                value: v.into(),
            };
            assert_eq!(parse(&format!("{k} {v}")), Err(err.clone()));
            assert_eq!(
                err.to_string(),
                format!("ERR error processing argument: {k} {v}")
            );
        }
    }
}
