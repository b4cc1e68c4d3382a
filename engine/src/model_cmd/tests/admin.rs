//! AI.CONFIG and AI.INFO.

use redisai_core::{Backend, Error};

use super::super::*;
use super::argv;

#[test]
fn config_table() {
    use ConfigCmd::*;
    use Error::{
        BackendsPathMissing, ChunkSizeMissing, InvalidChunkSize, UnsupportedBackend,
        UnsupportedSubcommand, WrongArity,
    };
    // The golden AI.CONFIG section, in order, plus a few more.
    let table: &[(&str, Result<ConfigCmd<'_>, Error>)] = &[
        ("AI.CONFIG GET BACKENDSPATH", Ok(Get(b"BACKENDSPATH"))),
        (
            "AI.CONFIG GET MODEL_CHUNK_SIZE",
            Ok(Get(b"MODEL_CHUNK_SIZE")),
        ),
        ("AI.CONFIG GET FOO", Ok(Get(b"FOO"))),
        ("AI.CONFIG GET", Err(WrongArity("AI.CONFIG"))),
        ("AI.CONFIG", Err(WrongArity("AI.CONFIG"))),
        ("AI.CONFIG FOO", Err(UnsupportedSubcommand)),
        ("AI.CONFIG MODEL_CHUNK_SIZE", Err(ChunkSizeMissing)),
        ("AI.CONFIG MODEL_CHUNK_SIZE abc", Err(InvalidChunkSize)),
        ("AI.CONFIG MODEL_CHUNK_SIZE 0", Err(InvalidChunkSize)),
        ("AI.CONFIG MODEL_CHUNK_SIZE -5", Err(InvalidChunkSize)),
        ("AI.CONFIG MODEL_CHUNK_SIZE 64.0", Err(InvalidChunkSize)),
        (
            "AI.CONFIG MODEL_CHUNK_SIZE 536870912",
            Ok(ModelChunkSize(536870912)),
        ),
        (
            "AI.CONFIG model_chunk_size 64 extra",
            Ok(ModelChunkSize(64)),
        ),
        ("AI.CONFIG LOADBACKEND", Err(WrongArity("AI.CONFIG"))),
        ("AI.CONFIG LOADBACKEND TF", Err(WrongArity("AI.CONFIG"))),
        ("AI.CONFIG LOADBACKEND FOO", Err(WrongArity("AI.CONFIG"))),
        (
            "AI.CONFIG LOADBACKEND TF redisai_tensorflow/redisai_tensorflow.so",
            Ok(LoadBackend(
                Backend::Tf,
                b"redisai_tensorflow/redisai_tensorflow.so",
            )),
        ),
        (
            "AI.CONFIG loadbackend onnx /x.so",
            Ok(LoadBackend(Backend::Onnx, b"/x.so")),
        ),
        (
            "AI.CONFIG LOADBACKEND TFLITE a b",
            Ok(LoadBackend(Backend::TfLite, b"a")),
        ),
        ("AI.CONFIG LOADBACKEND FOO x.so", Err(UnsupportedBackend)),
        ("AI.CONFIG BACKENDSPATH", Err(BackendsPathMissing)),
        ("AI.CONFIG BACKENDSPATH /opt/b", Ok(BackendsPath(b"/opt/b"))),
        ("AI.CONFIG backendspath <empty>", Ok(BackendsPath(b""))),
    ];
    for (cmd, expected) in table {
        assert_eq!(&parse_config(&argv(cmd)), expected, "{cmd}");
    }
}

#[test]
fn info_table() {
    let info = |key: &'static [u8], reset, latency| {
        Ok(InfoArgs {
            key,
            reset,
            latency,
        })
    };
    let table: &[(&str, Result<InfoArgs<'_>, Error>)] = &[
        ("AI.INFO", Err(Error::WrongArity("AI.INFO"))),
        (
            "AI.INFO m_tf RESETSTAT extra",
            Err(Error::WrongArity("AI.INFO")),
        ),
        ("AI.INFO m_tf", info(b"m_tf", false, false)),
        ("AI.INFO m_tf RESETSTAT", info(b"m_tf", true, false)),
        ("AI.INFO m_tf resetstat", info(b"m_tf", true, false)),
        ("AI.INFO m_tf FOO", info(b"m_tf", false, false)),
        ("AI.INFO m_tf LATENCY", info(b"m_tf", false, true)),
        ("AI.INFO m_tf latency", info(b"m_tf", false, true)),
        (
            "AI.INFO m_tf LATENCY extra",
            Err(Error::WrongArity("AI.INFO")),
        ),
    ];
    for (cmd, expected) in table {
        assert_eq!(&parse_info(&argv(cmd)), expected, "{cmd}");
    }
}

#[test]
fn metrics_table() {
    assert_eq!(parse_metrics(&argv("AI.METRICS")), Ok(()));
    assert_eq!(
        parse_metrics(&argv("AI.METRICS extra")),
        Err(Error::WrongArity("AI.METRICS"))
    );
}
