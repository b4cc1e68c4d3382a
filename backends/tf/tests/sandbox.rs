//! The TF sandbox through the plugin ABI (src/policy.rs, src/graph_check.rs): graphs with file,
//! process or network ops are refused at creation, before a session exists, also when the op
//! hides in a function of the graph's library; no file is read or written; the enumeration of
//! every op TensorFlow registers finds none that points at files and passes the policy; the
//! allocation cap fails a run cleanly and at once.

mod common;

use std::time::{Duration, Instant};

use common::graphdef::{fill_floats, write_file, GraphDef};
use common::*;
use redisai_backend_api::sandbox::{allocation_refused, forbidden_operator, CodeKind};
use redisai_backend_api::DType;
use redisai_tensorflow::graph_check::registered_ops;
use redisai_tensorflow::policy::{operator_allowed, ALLOWED_DESPITE_NAME};

fn refused(graph: &[u8], inputs: &[&str], outputs: &[&str]) -> String {
    match try_store(graph, inputs, outputs) {
        Ok(_) => panic!("the graph was accepted"),
        Err(e) => e,
    }
}

#[test]
fn a_graph_cannot_read_a_file() {
    let graph = GraphDef::new()
        .string_const("path", b"/etc/hostname")
        .node("contents", "ReadFile", &["path"], &[])
        .build();
    assert_eq!(
        refused(&graph, &[], &["contents"]),
        forbidden_operator(CodeKind::Model, "ReadFile")
    );
}

#[test]
fn a_graph_cannot_write_a_file_even_as_a_control_dependency() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("written");
    let graph = write_file(target.to_str().unwrap());
    assert_eq!(
        refused(&graph, &["x"], &["y"]),
        forbidden_operator(CodeKind::Model, "WriteFile")
    );
    assert!(!target.exists());
}

#[test]
fn forbidden_ops_inside_library_functions_are_found() {
    // `read` calls the library function `leak`, whose body is a ReadFile.
    let graph = GraphDef::new()
        .string_function("leak", "ReadFile", "contents")
        .string_const("path", b"/etc/hostname")
        .node("read", "leak", &["path"], &[])
        .build();
    assert_eq!(
        refused(&graph, &[], &["read"]),
        forbidden_operator(CodeKind::Model, "ReadFile")
    );
}

#[test]
fn refused_families() {
    for op in [
        "MatchingFiles",
        "SaveV2",
        "RestoreV2",
        "TFRecordReaderV2",
        "TFRecordDataset",
        "CreateSummaryFileWriter",
        "DebugIdentityV2",
        "PrintV2",
        "EagerPyFunc",
        "_Send",
        "CollectiveReduceV2",
        "ImmutableConst",
        "InitializeTableFromTextFileV2",
    ] {
        assert!(!operator_allowed(op), "{op}");
    }
}

/// Parts of op names that suggest files, processes or the network.
const SUSPECT_WORDS: &[&str] = &[
    "File",
    "Files",
    "Save",
    "Restore",
    "Reader",
    "Write",
    "Writer",
    "Load",
    "Path",
    "Dir",
    "Socket",
    "Url",
    "Py",
    "Print",
    "Debug",
    "Send",
    "Recv",
    "Remote",
    "Sql",
    "Lmdb",
    "Proto",
    "Checkpoint",
    "Dataset",
    "Iterator",
    "Summary",
    "Event",
    "Record",
    "Mmap",
    "Immutable",
];
/// Names of inputs and attributes that take paths, patterns or URLs.
const PATH_ARGUMENTS: &[&str] = &[
    "filename",
    "filenames",
    "file_pattern",
    "pattern",
    "path",
    "prefix",
    "logdir",
    "debug_urls",
    "descriptor_source",
    "output_stream",
    "db_uri",
    "directory",
    "dir",
    "basename",
    "url",
];

/// The words of a CamelCase op name (`TFRecordReaderV2` -> TF, Record, Reader, V2).
fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let chars: Vec<char> = name.trim_start_matches('_').chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let starts = i == 0
            || (c.is_ascii_uppercase()
                && (chars[i - 1].is_ascii_lowercase()
                    || chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase())));
        if starts || out.is_empty() {
            out.push(String::new());
        }
        out.last_mut().unwrap().push(c);
    }
    out
}

#[test]
fn no_registered_file_op_passes_the_policy() {
    let _ = plugin();
    let ops = registered_ops();
    assert!(ops.len() > 1000, "TensorFlow registers over a thousand ops");
    // What the enumeration finds and the policy allows, reviewed as harmless: in-memory string
    // and tensor ops whose names or arguments only look like files (and the summaries of
    // ALLOWED_DESPITE_NAME, which only build protobuf strings).
    let reviewed = [
        "Print",                // writes to the server's stderr only
        "TensorArrayWrite",     // an in-memory tensor array
        "TensorArrayWriteV2",   // likewise
        "TensorArrayWriteV3",   // likewise
        "RegexReplace",         // `pattern` is a regular expression
        "StaticRegexReplace",   // likewise
        "RegexFullMatch",       // likewise
        "StaticRegexFullMatch", // likewise
    ];
    let mut unreviewed = Vec::new();
    for op in &ops {
        if !operator_allowed(&op.name)
            || reviewed.contains(&op.name.as_str())
            || ALLOWED_DESPITE_NAME.contains(&op.name.as_str())
        {
            continue;
        }
        let suspect = words(&op.name)
            .iter()
            .any(|w| SUSPECT_WORDS.contains(&w.as_str()));
        let takes_path = op
            .input_arg
            .iter()
            .chain(&op.attr)
            .any(|a| PATH_ARGUMENTS.contains(&a.name.as_str()));
        if suspect || takes_path {
            unreviewed.push(op.name.clone());
        }
    }
    assert!(
        unreviewed.is_empty(),
        "ops that look like file, process or network access pass the policy; refuse them in \
         src/policy.rs or review them here: {unreviewed:#?}"
    );
}

#[test]
fn ordinary_graphs_pass_the_policy() {
    let model = reference_graph(&["mul"]);
    let a = tensor(DType::Float, &[2], &["2", "3"]);
    let out = run_one(&model, &[&a, &a]);
    assert_eq!(f32s(&out), [4.0, 9.0]);
}

#[test]
fn an_allocation_over_the_limit_fails_the_run_at_once() {
    // y = Fill(dims, 1.0): the output's size comes from the input.
    let graph = fill_floats();
    let model = store(&graph, &["dims"], &["y"]);
    let small = tensor(DType::Int64, &[1], &["4"]);
    assert_eq!(f32s(&run_one(&model, &[&small])), [1.0; 4]);
    for elements in [1_000_000_000_000u64, ALLOCATION_LIMIT / 4 + 16] {
        let dims = tensor(DType::Int64, &[1], &[&elements.to_string()]);
        let started = Instant::now();
        let err = run(&model, &[&dims]).unwrap_err();
        assert_eq!(err, allocation_refused(elements * 4, ALLOCATION_LIMIT));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the refusal took {:?}",
            started.elapsed()
        );
    }
}
