//! The one error enum of the project. `Display` is the exact error line sent to the client
//! (without the leading `-`), so replies can be compared byte for byte with RedisAI.

use crate::backend::Backend;

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

    // ---- Models: AI.MODELSTORE / AI.MODELSET (SPEC §3.3, §3.4) ----
    /// Unknown backend name (also AI.CONFIG LOADBACKEND).
    #[error("ERR unsupported backend")]
    UnsupportedBackend,
    #[error("ERR Invalid DEVICE")]
    InvalidDevice,
    #[error("ERR Invalid argument for BATCHSIZE")]
    InvalidBatchSize,
    #[error("ERR Invalid argument for MINBATCHSIZE")]
    InvalidMinBatchSize,
    #[error("ERR MINBATCHSIZE specified without BATCHSIZE")]
    MinBatchSizeWithoutBatchSize,
    #[error("ERR Invalid argument for MINBATCHTIMEOUT")]
    InvalidMinBatchTimeout,
    #[error("ERR MINBATCHTIMEOUT specified without MINBATCHSIZE")]
    MinBatchTimeoutWithoutMinBatchSize,
    /// AI.MODELSET only.
    #[error("ERR MINBATCHTIMEOUT specified without BATCHSIZE")]
    MinBatchTimeoutWithoutBatchSize,
    /// AI.MODELSET only.
    #[error("ERR Auto-batching not supported by the TFLITE backend")]
    TfliteAutoBatching,
    #[error("ERR Insufficient arguments, missing model BLOB")]
    MissingModelBlob,
    #[error("ERR INPUTS not specified for TF")]
    TfInputsNotSpecified,
    #[error("ERR OUTPUTS not specified for TF")]
    TfOutputsNotSpecified,
    /// Input count of AI.MODELSTORE (TF) or AI.MODELEXECUTE that does not parse.
    #[error("ERR Invalid argument for input_count")]
    InvalidInputCount,
    /// Output count of AI.MODELSTORE (TF) or AI.MODELEXECUTE that does not parse.
    #[error("ERR Invalid argument for output_count")]
    InvalidOutputCount,
    #[error("ERR number of model inputs does not match the number of given arguments")]
    ModelInputsArgs,
    #[error("ERR number of model outputs does not match the number of given arguments")]
    ModelOutputsArgs,
    #[error("ERR INPUTS argument should not be specified for this backend")]
    InputsNotForBackend,
    #[error("ERR Invalid argument, expected BLOB")]
    ExpectedBlob,
    /// An addition: `WARMUP <n>` of AI.MODELSTORE that is not a count of at most
    /// [`crate::model::MAX_WARMUP`].
    #[error("ERR Invalid argument for WARMUP")]
    InvalidWarmup,
    /// An addition: the warm-up runs of `WARMUP <n>` could not run (the reason follows).
    #[error("ERR WARMUP failed: {0}")]
    WarmupFailed(String),
    /// AI.MODELSET only.
    #[error("ERR Insufficient arguments, INPUTS and OUTPUTS not specified")]
    InputsOutputsNotSpecified,
    /// AI.MODELSET (TF), AI.MODELEXECUTE and AI.MODELRUN.
    #[error("ERR INPUTS not specified")]
    InputsNotSpecified,
    /// AI.MODELSET (TF), AI.MODELEXECUTE.
    #[error("ERR OUTPUTS not specified")]
    OutputsNotSpecified,
    /// The backend library is not loaded and its default one could not be loaded.
    #[error("ERR Could not load backend")]
    CouldNotLoadBackend,
    /// The run queue of a new device could not be created.
    #[error("ERR Could not initialize queue on requested device")]
    QueueInit,
    /// A GPU device was asked for but the backend found no CUDA; the text depends on the
    /// backend (see [`gpu_without_cuda_text`]).
    #[error("{}", gpu_without_cuda_text(*.0))]
    GpuWithoutCuda(Backend),

    // ---- AI.MODELGET / MODELDEL / MODELEXECUTE / MODELRUN (SPEC §3.5-3.8) ----
    #[error("ERR model key is empty")]
    ModelKeyEmpty,
    /// Blocking commands inside MULTI/EXEC or Lua (SPEC §1.4).
    #[error("ERR Cannot run RedisAI command within a transaction or a LUA script")]
    InTransaction,
    #[error("ERR Input count must be a positive integer")]
    InputCountNotPositive,
    #[error("ERR Output count must be a positive integer")]
    OutputCountNotPositive,
    /// No `ERR ` prefix, as RedisAI.
    #[error("Number of keys given as INPUTS here does not match model definition")]
    InputsMismatch,
    /// No `ERR ` prefix, as RedisAI.
    #[error("Number of keys given as OUTPUTS here does not match model definition")]
    OutputsMismatch,
    #[error(
        "ERR number of input keys to AI.MODELEXECUTE command does not match the number of given arguments"
    )]
    ExecuteInputKeys,
    #[error(
        "ERR number of output keys to AI.MODELEXECUTE command does not match the number of given arguments"
    )]
    ExecuteOutputKeys,
    /// An unexpected token (shown lossily as UTF-8); no `ERR ` prefix, as RedisAI.
    #[error("Invalid argument: {0}")]
    InvalidArgument(String),
    #[error("ERR No value provided for TIMEOUT")]
    TimeoutMissing,
    #[error("ERR Invalid value for TIMEOUT")]
    InvalidTimeout,
    /// Redis Enterprise only: an output key lives in another shard.
    #[error("ERR CROSSSLOT Keys in request don't hash to the same slot")]
    CrossSlot,
    /// A batched run returned outputs whose dim 0 is not the batch total.
    #[error("ERR Model did not generate the expected batch size")]
    BatchSizeMismatch,
    /// The TF backend's wording of [`Error::BatchSizeMismatch`].
    #[error("ERR Tensorflow batching error: model did not generate the expected batch size")]
    TfBatchSizeMismatch,
    /// Tensors that cannot be concatenated into one batch (an addition: the batching policy
    /// only groups compatible requests, so clients never see it).
    #[error("ERR tensors of a batch must have the same type and the same dims after the first")]
    BatchIncompatible,
    /// A backend returned fewer outputs than the model declares.
    #[error("ERR Model did not generate the expected number of outputs")]
    OutputsMissing,

    // ---- Scripts: AI.SCRIPTSTORE / AI.SCRIPTSET / AI.SCRIPTGET / AI.SCRIPTDEL (SPEC §3.10-3.13) ----
    #[error("ERR script key is empty")]
    ScriptKeyEmpty,
    /// AI.SCRIPTSTORE: no `ENTRY_POINTS` where expected, or fewer names than its count.
    #[error("ERR Insufficient arguments, missing script entry points")]
    MissingEntryPoints,
    /// AI.SCRIPTSTORE: the `ENTRY_POINTS` count is not a number.
    #[error("ERR Non numeric entry points number provided to AI.SCRIPTSTORE command")]
    EntryPointsCount,
    /// AI.SCRIPTSTORE / AI.SCRIPTSET: no `SOURCE` keyword where expected, or no value after it.
    #[error("ERR Insufficient arguments, missing script SOURCE")]
    MissingScriptSource,

    // ---- AI.SCRIPTEXECUTE (SPEC §3.14) ----
    /// A TIMEOUT on a model or script op inside a DAG (RedisAI refuses it after parsing it).
    #[error("ERR TIMEOUT not allowed within a DAG command")]
    TimeoutInDag,
    /// Standalone AI.SCRIPTEXECUTE whose first scope is neither KEYS nor INPUTS.
    #[error("ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command")]
    ScriptFirstScope,
    /// `KEYS` followed by fewer than 2 arguments.
    #[error("ERR Missing arguments after KEYS keyword")]
    KeysMissing,
    /// The KEYS count is not an integer or is <= 0.
    #[error("ERR Invalid or negative value found in number of KEYS")]
    KeysCount,
    /// Fewer KEYS than their count.
    #[error(
        "ERR Number of pre declared KEYS to be used in the command does not match the number of given arguments"
    )]
    KeysArgs,
    /// `INPUTS`, `ARGS` or `OUTPUTS` as the last argument (no count).
    #[error("ERR Invalid arguments provided to AI.SCRIPTEXECUTE")]
    ScriptScopeNoCount,
    /// A scope count that is not an integer; carries `inputs`, `outputs`, or `keys` for ARGS
    /// (sic: RedisAI's ARGS message reuses the KEYS wording).
    #[error("ERR Invalid argument for {0} count in AI.SCRIPTEXECUTE")]
    ScriptScopeCount(&'static str),
    /// Fewer items than a scope's count; carries `inputs`, `args`, `outputs` or `keys`.
    #[error(
        "ERR number of {0} to AI.SCRIPTEXECUTE command does not match the number of given arguments"
    )]
    ScriptScopeArgs(&'static str),
    /// A scope given twice; carries its keyword (`KEYS`, `INPUTS`, `ARGS`, `OUTPUTS`).
    #[error("ERR Already Encountered {0} scope in AI.SCRIPTEXECUTE command")]
    ScriptScopeRepeated(&'static str),
    /// An unknown token (shown lossily as UTF-8).
    #[error("ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: {0}")]
    ScriptUnexpectedArgument(String),
    #[error("ERR No value provided for TIMEOUT in AI.SCRIPTEXECUTE")]
    ScriptTimeoutMissing,
    /// Arguments after the TIMEOUT value (TIMEOUT must be last).
    #[error("ERR Encountered problem parsing AI.SCRIPTEXECUTE")]
    ScriptAfterTimeout,

    // ---- AI.SCRIPTRUN (deprecated; SPEC §3.15) ----
    #[error("ERR Already encountered an TIMEOUT section in SCRIPTRUN")]
    ScriptRunTimeoutRepeated,
    /// INPUTS after OUTPUTS.
    #[error("ERR Already encountered an INPUTS section in SCRIPTRUN")]
    ScriptRunInputsSection,
    /// INPUTS twice in a row.
    #[error("ERR Already encountered an INPUTS keyword in SCRIPTRUN")]
    ScriptRunInputsKeyword,
    #[error("ERR Already encountered an OUTPUTS keyword in SCRIPTRUN")]
    ScriptRunOutputsKeyword,
    /// `$` outside the INPUTS list.
    #[error("ERR Encountered a variable size list of tensors outside of input section")]
    ScriptRunVariadicOutside,
    /// `$` twice.
    #[error("ERR Already encountered a variable size list of tensors")]
    ScriptRunVariadicRepeated,
    /// A token before INPUTS/OUTPUTS (sic: "Unrecongnized").
    #[error("ERR Unrecongnized parameter to SCRIPTRUN")]
    ScriptRunUnrecognized,

    // ---- AI.DAGEXECUTE[_RO] / AI.DAGRUN[_RO] (SPEC §3.16, §3.17) ----
    /// AI.DAGEXECUTE[_RO] with fewer than 6 arguments; carries the command name.
    #[error("ERR missing arguments for '{0}' command")]
    DagMissingArguments(&'static str),
    #[error("ERR missing arguments after LOAD keyword in DAG command")]
    DagLoadMissing,
    #[error("ERR invalid or negative value found in number of keys to LOAD")]
    DagLoadCount,
    #[error("ERR number of keys to LOAD into DAG does not match the number of given arguments")]
    DagLoadKeys,
    #[error("ERR PERSIST cannot be specified in a read-only DAG")]
    DagPersistReadOnly,
    #[error("ERR missing arguments after PERSIST keyword in DAG command")]
    DagPersistMissing,
    #[error("ERR invalid or negative value found in number of keys to PERSIST")]
    DagPersistCount,
    #[error("ERR PERSIST keys must be unique")]
    DagPersistUnique,
    #[error(
        "ERR number of keys to PERSIST after DAG execution does not match the number of given arguments"
    )]
    DagPersistKeys,
    #[error("ERR Missing ROUTING value")]
    DagRoutingMissing,
    /// An unexpected token before the ops, or a trailing `|>` (shown lossily as UTF-8); **two**
    /// spaces after the colon, as RedisAI.
    #[error("ERR Invalid DAG command. Unexpected argument:  {0}")]
    DagUnexpectedArgument(String),
    #[error(
        "ERR AI.DAGEXECUTE and AI.DAGEXECUTE_RO commands must contain at least one out of ROUTING, LOAD, PERSIST keywords"
    )]
    DagNoKeyword,
    #[error("ERR DAG is empty")]
    DagEmpty,
    /// AI.MODELRUN / AI.SCRIPTRUN op in AI.DAGEXECUTE; no `ERR ` prefix, as RedisAI.
    #[error("Deprecated {0} cannot be used in AI.DAGEXECUTE command")]
    DagDeprecatedOp(&'static str),
    /// AI.MODELEXECUTE / AI.SCRIPTEXECUTE op in AI.DAGRUN; no `ERR ` prefix, as RedisAI.
    #[error("{0} cannot be used in a deprecated AI.DAGRUN command")]
    DagNewOpInDagRun(&'static str),
    #[error("ERR AI.SCRIPTEXECUTE command cannot be specified in a read-only DAG")]
    DagScriptInReadOnly,
    /// No `ERR ` prefix, as RedisAI.
    #[error("Unsupported command within DAG")]
    DagUnsupportedCommand,
    /// Arity of an AI.TENSORSET / AI.TENSORGET op inside a DAG: no `ERR ` prefix, as RedisAI.
    #[error("wrong number of arguments for '{0}' command")]
    DagOpWrongArity(&'static str),
    #[error("ERR INPUT key cannot be found in DAG")]
    DagInputNotFound,
    #[error("ERR PERSIST key cannot be found in DAG")]
    DagPersistNotFound,

    // ---- AI.INFO / AI.CONFIG (SPEC §3.18, §3.19) ----
    #[error("ERR cannot find run info for key")]
    RunInfoNotFound,
    #[error("ERR error loading backend")]
    BackendLoadFailed,
    #[error("ERR BACKENDSPATH: missing path argument")]
    BackendsPathMissing,
    #[error("ERR MODEL_CHUNK_SIZE: invalid chunk size")]
    InvalidChunkSize,
    #[error("ERR MODEL_CHUNK_SIZE: missing chunk size")]
    ChunkSizeMissing,
    #[error("ERR unsupported subcommand")]
    UnsupportedSubcommand,

    // ---- The C API for other modules (src/llapi, SPEC §2): RedisAI's texts ----
    /// `RedisAI_ModelRun` with no run context.
    #[error("ERR Nothing to run")]
    NothingToRun,
    /// A backend that is neither loaded nor loadable from BACKENDSPATH.
    #[error("ERR Backend not loaded: {}", .0.name())]
    BackendNotLoaded(Backend),
    /// A backend code that is none of TF (0), TFLITE (1), TORCH (2), ONNX (3).
    #[error("ERR Unsupported backend")]
    UnknownBackendCode,
    /// `RedisAI_DAGAddRunOp` of a model op with the wrong number of inputs; no `ERR ` prefix, as
    /// RedisAI.
    #[error("Number of keys given as INPUTS does not match model definition")]
    OpInputsMismatch,
    /// ... or of outputs.
    #[error("Number of keys given as OUTPUTS does not match model definition")]
    OpOutputsMismatch,
    /// `RedisAI_DAGAddOpsFromString` of a string that does not start with `|>` (the trailing
    /// space is RedisAI's).
    #[error("DAG op should start with: '|>' ")]
    DagOpStart,
    /// `RedisAI_GetAsModelRunCtx` of another run's finish context.
    #[error("Finish ctx is not a model run ctx")]
    NotModelRunCtx,
    /// `RedisAI_GetAsScriptRunCtx` of another run's finish context.
    #[error("Finish ctx is not a script run ctx")]
    NotScriptRunCtx,
    /// A run context given a NULL input tensor (RedisAI crashed on it).
    #[error("ERR a NULL tensor was given as an input")]
    NullInput,

    // ---- Text values: tokenizers, embedders and their ops (docs/embeddings.md; additions) ----
    #[error("ERR tokenizer key is empty")]
    TokenizerKeyEmpty,
    #[error("ERR embedder key is empty")]
    EmbedderKeyEmpty,
    #[error("ERR Insufficient arguments, missing tokenizer BLOB")]
    MissingTokenizerBlob,
    #[error("ERR Invalid argument for MAXLEN")]
    InvalidMaxlen,
    #[error("ERR Invalid argument for POOLING")]
    InvalidPooling,
    /// The BLOB is not a tokenizer the `tokenizers` library can read (its reason follows).
    #[error("ERR invalid tokenizer: {}", one_line(.0))]
    InvalidTokenizer(String),
    #[error("ERR tokenizer is larger than the maximum of {0} bytes")]
    TokenizerTooLarge(usize),
    /// A text op's own argument or input error: `ERR <op>: <why>`.
    #[error("ERR {op}: {why}")]
    TextOp { op: &'static str, why: String },
    /// An op that writes (AI.VADD, AI.HSET) in AI.DAGEXECUTE_RO.
    #[error("ERR {0} command cannot be specified in a read-only DAG")]
    DagWriteOpInReadOnly(&'static str),
    /// AI.VADD / AI.VSIM on a server without vector sets (Redis 7, Valkey 8).
    #[error("ERR {0} needs a server with vector sets (Redis 8 or later): the {1} command is not available")]
    NoVectorSets(&'static str, &'static str),
    /// A request or a blocked client was dropped before anything answered it (a defect; the
    /// obligation types answer with this instead of leaving a client blocked).
    #[error("ERR internal error")]
    Internal,

    /// A script's `redis.execute` of a command whose reach cannot be checked against the
    /// script's KEYS (an addition: RedisAI ran anything; docs/security.md).
    #[error("ERR scripts may not call '{command}': {why}")]
    ScriptCommandRefused { command: String, why: &'static str },

    /// A message produced by a backend (model creation or run), sent as is but on one line:
    /// every `\n` and `\r` becomes a space (SPEC §1.1).
    #[error("{}", one_line(.0))]
    Backend(String),

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

    /// A text op's error, `ERR <op>: <why>`.
    pub fn text_op(op: &'static str, why: impl Into<String>) -> Self {
        Error::TextOp {
            op,
            why: why.into(),
        }
    }

    /// `Invalid argument: <token>`, the token shown lossily as UTF-8.
    pub fn invalid_argument(token: &[u8]) -> Self {
        Error::InvalidArgument(String::from_utf8_lossy(token).into_owned())
    }

    /// `ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: <token>`, the token shown
    /// lossily.
    pub fn script_unexpected_argument(token: &[u8]) -> Self {
        Error::ScriptUnexpectedArgument(String::from_utf8_lossy(token).into_owned())
    }

    /// `ERR Invalid DAG command. Unexpected argument:  <token>`, the token shown lossily.
    pub fn dag_unexpected_argument(token: &[u8]) -> Self {
        Error::DagUnexpectedArgument(String::from_utf8_lossy(token).into_owned())
    }

    /// A backend's own message (kept verbatim; one-lined when displayed).
    pub fn backend(message: impl Into<String>) -> Self {
        Error::Backend(message.into())
    }
}

/// The text RedisAI replies when a GPU model is stored but the backend finds no CUDA:
/// `ERR GPU requested but TF couldn't find CUDA`, `ERR GPU requested but ONNX couldn't find CUDA`,
/// and Torch's, which has no `ERR ` prefix.
pub fn gpu_without_cuda_text(backend: Backend) -> &'static str {
    match backend {
        Backend::Tf => "ERR GPU requested but TF couldn't find CUDA",
        Backend::TfLite => "ERR GPU requested but TFLITE couldn't find CUDA",
        Backend::Torch => "GPU requested but Torch couldn't find CUDA",
        Backend::Onnx => "ERR GPU requested but ONNX couldn't find CUDA",
    }
}

/// `message` with every `\n` and `\r` replaced by a space (RedisAI's "one-line" error detail).
pub fn one_line(message: &str) -> std::borrow::Cow<'_, str> {
    if message.contains(['\n', '\r']) {
        message.replace(['\n', '\r'], " ").into()
    } else {
        message.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_exact() {
        use Error::*;
        let table: &[(Error, &str)] = &[
            (WrongArity("AI.MODELSTORE"), "ERR wrong number of arguments for 'AI.MODELSTORE' command"),
            (UnsupportedBackend, "ERR unsupported backend"),
            (InvalidDevice, "ERR Invalid DEVICE"),
            (InvalidBatchSize, "ERR Invalid argument for BATCHSIZE"),
            (InvalidMinBatchSize, "ERR Invalid argument for MINBATCHSIZE"),
            (MinBatchSizeWithoutBatchSize, "ERR MINBATCHSIZE specified without BATCHSIZE"),
            (InvalidMinBatchTimeout, "ERR Invalid argument for MINBATCHTIMEOUT"),
            (MinBatchTimeoutWithoutMinBatchSize, "ERR MINBATCHTIMEOUT specified without MINBATCHSIZE"),
            (MinBatchTimeoutWithoutBatchSize, "ERR MINBATCHTIMEOUT specified without BATCHSIZE"),
            (TfliteAutoBatching, "ERR Auto-batching not supported by the TFLITE backend"),
            (MissingModelBlob, "ERR Insufficient arguments, missing model BLOB"),
            (InvalidWarmup, "ERR Invalid argument for WARMUP"),
            (WarmupFailed("input x declares no shape".into()), "ERR WARMUP failed: input x declares no shape"),
            (TfInputsNotSpecified, "ERR INPUTS not specified for TF"),
            (TfOutputsNotSpecified, "ERR OUTPUTS not specified for TF"),
            (InvalidInputCount, "ERR Invalid argument for input_count"),
            (InvalidOutputCount, "ERR Invalid argument for output_count"),
            (ModelInputsArgs, "ERR number of model inputs does not match the number of given arguments"),
            (ModelOutputsArgs, "ERR number of model outputs does not match the number of given arguments"),
            (InputsNotForBackend, "ERR INPUTS argument should not be specified for this backend"),
            (ExpectedBlob, "ERR Invalid argument, expected BLOB"),
            (InputsOutputsNotSpecified, "ERR Insufficient arguments, INPUTS and OUTPUTS not specified"),
            (InputsNotSpecified, "ERR INPUTS not specified"),
            (OutputsNotSpecified, "ERR OUTPUTS not specified"),
            (CouldNotLoadBackend, "ERR Could not load backend"),
            (QueueInit, "ERR Could not initialize queue on requested device"),
            (GpuWithoutCuda(crate::Backend::Tf), "ERR GPU requested but TF couldn't find CUDA"),
            (GpuWithoutCuda(crate::Backend::Torch), "GPU requested but Torch couldn't find CUDA"),
            (GpuWithoutCuda(crate::Backend::Onnx), "ERR GPU requested but ONNX couldn't find CUDA"),
            (GpuWithoutCuda(crate::Backend::TfLite), "ERR GPU requested but TFLITE couldn't find CUDA"),
            (ModelKeyEmpty, "ERR model key is empty"),
            (InTransaction, "ERR Cannot run RedisAI command within a transaction or a LUA script"),
            (InputCountNotPositive, "ERR Input count must be a positive integer"),
            (OutputCountNotPositive, "ERR Output count must be a positive integer"),
            (InputsMismatch, "Number of keys given as INPUTS here does not match model definition"),
            (OutputsMismatch, "Number of keys given as OUTPUTS here does not match model definition"),
            (ExecuteInputKeys, "ERR number of input keys to AI.MODELEXECUTE command does not match the number of given arguments"),
            (ExecuteOutputKeys, "ERR number of output keys to AI.MODELEXECUTE command does not match the number of given arguments"),
            (Error::invalid_argument(b"FOO"), "Invalid argument: FOO"),
            (Error::invalid_argument(b"a\xffb"), "Invalid argument: a\u{fffd}b"),
            (TimeoutMissing, "ERR No value provided for TIMEOUT"),
            (InvalidTimeout, "ERR Invalid value for TIMEOUT"),
            (CrossSlot, "ERR CROSSSLOT Keys in request don't hash to the same slot"),
            (BatchSizeMismatch, "ERR Model did not generate the expected batch size"),
            (
                TfBatchSizeMismatch,
                "ERR Tensorflow batching error: model did not generate the expected batch size",
            ),
            (OutputsMissing, "ERR Model did not generate the expected number of outputs"),
            (ScriptKeyEmpty, "ERR script key is empty"),
            (TimeoutInDag, "ERR TIMEOUT not allowed within a DAG command"),
            (MissingEntryPoints, "ERR Insufficient arguments, missing script entry points"),
            (EntryPointsCount, "ERR Non numeric entry points number provided to AI.SCRIPTSTORE command"),
            (MissingScriptSource, "ERR Insufficient arguments, missing script SOURCE"),
            (ScriptFirstScope, "ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command"),
            (KeysMissing, "ERR Missing arguments after KEYS keyword"),
            (KeysCount, "ERR Invalid or negative value found in number of KEYS"),
            (KeysArgs, "ERR Number of pre declared KEYS to be used in the command does not match the number of given arguments"),
            (ScriptScopeNoCount, "ERR Invalid arguments provided to AI.SCRIPTEXECUTE"),
            (ScriptScopeCount("inputs"), "ERR Invalid argument for inputs count in AI.SCRIPTEXECUTE"),
            (ScriptScopeCount("keys"), "ERR Invalid argument for keys count in AI.SCRIPTEXECUTE"),
            (ScriptScopeCount("outputs"), "ERR Invalid argument for outputs count in AI.SCRIPTEXECUTE"),
            (ScriptScopeArgs("inputs"), "ERR number of inputs to AI.SCRIPTEXECUTE command does not match the number of given arguments"),
            (ScriptScopeArgs("args"), "ERR number of args to AI.SCRIPTEXECUTE command does not match the number of given arguments"),
            (ScriptScopeArgs("outputs"), "ERR number of outputs to AI.SCRIPTEXECUTE command does not match the number of given arguments"),
            (ScriptScopeRepeated("KEYS"), "ERR Already Encountered KEYS scope in AI.SCRIPTEXECUTE command"),
            (ScriptScopeRepeated("ARGS"), "ERR Already Encountered ARGS scope in AI.SCRIPTEXECUTE command"),
            (Error::script_unexpected_argument(b"FOO"), "ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: FOO"),
            (ScriptTimeoutMissing, "ERR No value provided for TIMEOUT in AI.SCRIPTEXECUTE"),
            (ScriptAfterTimeout, "ERR Encountered problem parsing AI.SCRIPTEXECUTE"),
            (ScriptRunTimeoutRepeated, "ERR Already encountered an TIMEOUT section in SCRIPTRUN"),
            (ScriptRunInputsSection, "ERR Already encountered an INPUTS section in SCRIPTRUN"),
            (ScriptRunInputsKeyword, "ERR Already encountered an INPUTS keyword in SCRIPTRUN"),
            (ScriptRunOutputsKeyword, "ERR Already encountered an OUTPUTS keyword in SCRIPTRUN"),
            (ScriptRunVariadicOutside, "ERR Encountered a variable size list of tensors outside of input section"),
            (ScriptRunVariadicRepeated, "ERR Already encountered a variable size list of tensors"),
            (ScriptRunUnrecognized, "ERR Unrecongnized parameter to SCRIPTRUN"),
            (DagMissingArguments("AI.DAGEXECUTE"), "ERR missing arguments for 'AI.DAGEXECUTE' command"),
            (DagMissingArguments("AI.DAGEXECUTE_RO"), "ERR missing arguments for 'AI.DAGEXECUTE_RO' command"),
            (DagLoadMissing, "ERR missing arguments after LOAD keyword in DAG command"),
            (DagLoadCount, "ERR invalid or negative value found in number of keys to LOAD"),
            (DagLoadKeys, "ERR number of keys to LOAD into DAG does not match the number of given arguments"),
            (DagPersistReadOnly, "ERR PERSIST cannot be specified in a read-only DAG"),
            (DagPersistMissing, "ERR missing arguments after PERSIST keyword in DAG command"),
            (DagPersistCount, "ERR invalid or negative value found in number of keys to PERSIST"),
            (DagPersistUnique, "ERR PERSIST keys must be unique"),
            (DagPersistKeys, "ERR number of keys to PERSIST after DAG execution does not match the number of given arguments"),
            (DagRoutingMissing, "ERR Missing ROUTING value"),
            (Error::dag_unexpected_argument(b"FOO"), "ERR Invalid DAG command. Unexpected argument:  FOO"),
            (DagNoKeyword, "ERR AI.DAGEXECUTE and AI.DAGEXECUTE_RO commands must contain at least one out of ROUTING, LOAD, PERSIST keywords"),
            (DagEmpty, "ERR DAG is empty"),
            (DagDeprecatedOp("AI.MODELRUN"), "Deprecated AI.MODELRUN cannot be used in AI.DAGEXECUTE command"),
            (DagDeprecatedOp("AI.SCRIPTRUN"), "Deprecated AI.SCRIPTRUN cannot be used in AI.DAGEXECUTE command"),
            (DagNewOpInDagRun("AI.MODELEXECUTE"), "AI.MODELEXECUTE cannot be used in a deprecated AI.DAGRUN command"),
            (DagNewOpInDagRun("AI.SCRIPTEXECUTE"), "AI.SCRIPTEXECUTE cannot be used in a deprecated AI.DAGRUN command"),
            (DagScriptInReadOnly, "ERR AI.SCRIPTEXECUTE command cannot be specified in a read-only DAG"),
            (DagUnsupportedCommand, "Unsupported command within DAG"),
            (DagOpWrongArity("AI.TENSORGET"), "wrong number of arguments for 'AI.TENSORGET' command"),
            (DagOpWrongArity("AI.TENSORSET"), "wrong number of arguments for 'AI.TENSORSET' command"),
            (DagInputNotFound, "ERR INPUT key cannot be found in DAG"),
            (DagPersistNotFound, "ERR PERSIST key cannot be found in DAG"),
            (RunInfoNotFound, "ERR cannot find run info for key"),
            (BackendLoadFailed, "ERR error loading backend"),
            (BackendsPathMissing, "ERR BACKENDSPATH: missing path argument"),
            (InvalidChunkSize, "ERR MODEL_CHUNK_SIZE: invalid chunk size"),
            (ChunkSizeMissing, "ERR MODEL_CHUNK_SIZE: missing chunk size"),
            (UnsupportedSubcommand, "ERR unsupported subcommand"),
            (NothingToRun, "ERR Nothing to run"),
            (BackendNotLoaded(crate::Backend::Tf), "ERR Backend not loaded: TF"),
            (BackendNotLoaded(crate::Backend::Onnx), "ERR Backend not loaded: ONNX"),
            (UnknownBackendCode, "ERR Unsupported backend"),
            (OpInputsMismatch, "Number of keys given as INPUTS does not match model definition"),
            (OpOutputsMismatch, "Number of keys given as OUTPUTS does not match model definition"),
            (DagOpStart, "DAG op should start with: '|>' "),
            (NotModelRunCtx, "Finish ctx is not a model run ctx"),
            (NotScriptRunCtx, "Finish ctx is not a script run ctx"),
            (NullInput, "ERR a NULL tensor was given as an input"),
            (Error::backend("Invalid GraphDef"), "Invalid GraphDef"),
            (
                Error::backend("Incompatible shapes: [2] vs. [2,2,3]\n\t [[{{node mul}}]]"),
                "Incompatible shapes: [2] vs. [2,2,3] \t [[{{node mul}}]]",
            ),
            (Error::backend("a\r\nb\n"), "a  b "),
            (TokenizerKeyEmpty, "ERR tokenizer key is empty"),
            (EmbedderKeyEmpty, "ERR embedder key is empty"),
            (MissingTokenizerBlob, "ERR Insufficient arguments, missing tokenizer BLOB"),
            (InvalidMaxlen, "ERR Invalid argument for MAXLEN"),
            (InvalidPooling, "ERR Invalid argument for POOLING"),
            (InvalidTokenizer("expected value at line 1\ncolumn 1".into()), "ERR invalid tokenizer: expected value at line 1 column 1"),
            (TokenizerTooLarge(64), "ERR tokenizer is larger than the maximum of 64 bytes"),
            (Error::text_op("AI.POOL", "hidden states must be FLOAT [N, L, D]"), "ERR AI.POOL: hidden states must be FLOAT [N, L, D]"),
            (DagWriteOpInReadOnly("AI.VADD"), "ERR AI.VADD command cannot be specified in a read-only DAG"),
            (NoVectorSets("AI.VSIM", "VSIM"), "ERR AI.VSIM needs a server with vector sets (Redis 8 or later): the VSIM command is not available"),
        ];
        for (error, text) in table {
            assert_eq!(&error.to_string(), text);
        }
    }
}
