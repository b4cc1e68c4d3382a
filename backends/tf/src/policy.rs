//! The sandbox policy of TF models (docs/security.md): which op types a graph may contain.
//!
//! A frozen `GraphDef` is a program. TensorFlow's op registry holds, next to tensor maths, ops
//! that read and write files (`ReadFile`, `WriteFile`, `MatchingFiles`, savers and restorers,
//! readers, datasets, summary writers, memory-mapped constants, lookup tables initialised from
//! text files), call back into Python, print or debug to file URLs, load protobuf descriptors
//! from paths, or talk to other processes (`_Send`/`_Recv`, collectives, remote calls). The
//! policy refuses them by name: [`DENIED_OPERATORS`] and the families of [`DENIED_PARTS`]. The
//! backend's tests enumerate every op TensorFlow registers (`TF_GetAllOpList`) and check that
//! none whose name or arguments point at files passes.
//!
//! A model is checked after TensorFlow imported it and before a session exists: every operation
//! of the graph and every node of every function of its library (what `PartitionedCall`, `If`,
//! `While` and friends call). The ALLOW_OPERATORS module argument lists op types to allow anyway.

use std::sync::OnceLock;

/// Op types refused by name.
pub const DENIED_OPERATORS: &[&str] = &[
    "ReadFile",
    "WriteFile",
    "MatchingFiles",
    "ImmutableConst",
    "LoadAndRemapMatrix",
    "GenerateVocabRemapping",
    "PrintV2",
    "DecodeProtoV2",
    "EncodeProto",
    "ImportEvent",
    "RecordInput",
    "PyFunc",
    "PyFuncStateless",
    "EagerPyFunc",
    "RemoteCall",
    "RemoteFusedGraphExecute",
    // Reads a text file named by its `filename` attribute.
    "Skipgram",
];

/// Parts of op-type names that mark a family refused as a whole.
pub const DENIED_PARTS: &[&str] = &[
    // files: readers, savers, checkpoints, text-file tables, sharded file names
    "File",
    "Reader",
    "Save",
    "Restore",
    "Checkpoint",
    // input pipelines (file datasets, snapshots, SQL, LMDB ...)
    "Dataset",
    "Iterator",
    // summary writers (event files, SQLite)
    "Summary",
    // debuggers that write to debug URLs (file://)
    "Debug",
    // other processes and devices
    "Send",
    "Recv",
    "Collective",
    "Nccl",
    "TPU",
    "Tpu",
    "Rendezvous",
];

/// Op types whose name contains a refused part but that do nothing of the kind (tensor maths
/// and in-memory string ops), allowed.
pub const ALLOWED_DESPITE_NAME: &[&str] = &[
    "ScalarSummary",
    "HistogramSummary",
    "ImageSummary",
    "AudioSummary",
    "AudioSummaryV2",
    "TensorSummary",
    "TensorSummaryV2",
    "MergeSummary",
];

static ALLOWED_EXTRA: OnceLock<Vec<String>> = OnceLock::new();

/// Sets the ALLOW_OPERATORS list (once per process).
pub fn set_allow_list(names: &[String]) {
    let _ = ALLOWED_EXTRA.set(names.to_vec());
}

/// Whether a graph may contain an operation of type `op`.
pub fn operator_allowed(op: &str) -> bool {
    if ALLOWED_EXTRA
        .get()
        .is_some_and(|extra| extra.iter().any(|n| n == op))
    {
        return true;
    }
    if DENIED_OPERATORS.contains(&op) {
        return false;
    }
    ALLOWED_DESPITE_NAME.contains(&op) || !DENIED_PARTS.iter().any(|part| op.contains(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_types() {
        for op in [
            "Placeholder",
            "Const",
            "MatMul",
            "Conv2D",
            "ReadVariableOp",
            "PartitionedCall",
            "While",
            "ScalarSummary",
            "DecodeJpeg",
            "DecodeCSV",
        ] {
            assert!(operator_allowed(op), "{op}");
        }
        for op in [
            "ReadFile",
            "WriteFile",
            "MatchingFiles",
            "SaveV2",
            "RestoreV2",
            "MergeV2Checkpoints",
            "TFRecordReaderV2",
            "ReaderReadV2",
            "TFRecordDataset",
            "MakeIterator",
            "CreateSummaryFileWriter",
            "WriteScalarSummary",
            "DebugIdentityV2",
            "PyFunc",
            "PrintV2",
            "_Send",
            "_HostRecv",
            "CollectiveReduceV2",
            "InitializeTableFromTextFileV2",
            "ImmutableConst",
        ] {
            assert!(!operator_allowed(op), "{op}");
        }
    }
}
