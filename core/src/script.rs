//! The persisted and replied description of a script (SPEC §3.10-3.13, §10.2).

/// Everything RedisAI persists about a script (RDB, AOF) and replies with in AI.SCRIPTGET.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScriptRecord {
    /// Device string as given at store time (`CPU`, `GPU:1`, ...).
    pub device: String,
    /// Tag (empty when none was given).
    pub tag: Vec<u8>,
    /// TorchScript source (RedisAI keeps it as a C string: cut at the first NUL byte).
    pub source: Vec<u8>,
    /// Declared entry points (none for AI.SCRIPTSET scripts and RDB encver 0-2).
    pub entry_points: Vec<Vec<u8>>,
}

impl ScriptRecord {
    /// Whether `function` is a declared entry point (called as `fn(tensors, keys, args)`);
    /// other functions run in RedisAI's legacy positional mode.
    pub fn is_entry_point(&self, function: &[u8]) -> bool {
        self.entry_points.iter().any(|e| e == function)
    }
}
