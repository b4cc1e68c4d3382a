//! The one error enum of the project. `Display` is the exact error line sent to the client
//! (without the leading `-`), so replies can be compared byte for byte with RedisAI.

/// Result alias used across the core and engine crates.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error a command can reply with. The texts are RedisAI's, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Wrong argument count; carries the upper-case command name.
    #[error("ERR wrong number of arguments for '{0}' command")]
    WrongArity(&'static str),
    /// The key holds a value of another type.
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    #[error("ERR invalid data type")]
    InvalidDataType,
    #[error("ERR invalid or negative value found in tensor shape")]
    InvalidShape,
    #[error(
        "ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command"
    )]
    BlobArgument,
    #[error("ERR wrong number of values was given in 'AI.TENSORSET' command")]
    ValuesCount,
    #[error("ERR data length does not match tensor shape and type")]
    DataLength,
    #[error("ERR BOOL tensor elements must be 0 or 1")]
    BoolBlob,
    #[error("ERR Number of string elements in data blob does not match tensor length")]
    StringBlob,
    #[error("ERR invalid value")]
    InvalidValue,
    #[error("ERR C-string value contains null character")]
    NullInString,
    /// The shape describes more bytes than a tensor may hold (an addition: RedisAI would try to
    /// allocate it).
    #[error("ERR tensor size exceeds the maximum of {0} bytes (proto-max-bulk-len)")]
    TensorTooLarge(u64),
    #[error("ERR tensor key is empty or in a different shard")]
    TensorKeyEmpty,
    #[error("ERR unsupported data format")]
    UnsupportedFormat,
    #[error("ERR both BLOB and VALUES specified")]
    BlobAndValues,
    /// A persisted value could not be decoded (logged, never sent to a client).
    #[error("ERR corrupt or unsupported {what}: {detail}")]
    Rdb { what: &'static str, detail: String },
    /// A module argument was rejected at load time (logged).
    #[error("ERR error processing argument: {key} {value}")]
    ModuleArgument { key: String, value: String },
    /// Module arguments must come in pairs (RedisAI's wording, logged).
    #[error(
        "Even number of arguments provided to module. Please provide arguments as KEY VAL pairs"
    )]
    ModuleArgumentsOdd,
}

impl Error {
    /// Shorthand for a decoding error of persisted data.
    pub fn rdb(what: &'static str, detail: impl Into<String>) -> Self {
        Error::Rdb {
            what,
            detail: detail.into(),
        }
    }
}
