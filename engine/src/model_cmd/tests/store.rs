//! AI.MODELSTORE, AI.MODELSET, AI.MODELGET, AI.MODELDEL, AI._MODELSCAN.

use redisai_core::{Backend, Error};

use super::super::*;
use super::argv;

#[test]
fn modelstore_error_table() {
    use Error::*;
    let table: &[(&str, Error)] = &[
        // Row 1: arity (the golden cases).
        ("AI.MODELSTORE", WrongArity("AI.MODELSTORE")),
        ("AI.MODELSTORE mx", WrongArity("AI.MODELSTORE")),
        ("AI.MODELSTORE mx ONNX", WrongArity("AI.MODELSTORE")),
        ("AI.MODELSTORE mx ONNX CPU", WrongArity("AI.MODELSTORE")),
        (
            "AI.MODELSTORE mx ONNX CPU BLOB",
            WrongArity("AI.MODELSTORE"),
        ),
        // Row 2-3.
        ("AI.MODELSTORE mx FOO CPU BLOB abc", UnsupportedBackend),
        ("AI.MODELSTORE mx FOO TPU BLOB abc", UnsupportedBackend),
        ("AI.MODELSTORE mx ONNX TPU BLOB <blob>", InvalidDevice),
        (
            "AI.MODELSTORE mx ONNX GPU:123456 BLOB <blob>",
            InvalidDevice,
        ),
        ("AI.MODELSTORE mx ONNX CPU:x BLOB <blob>", InvalidDevice),
        // Row 4-8.
        (
            "AI.MODELSTORE mx ONNX CPU BATCHSIZE x BLOB <blob>",
            InvalidBatchSize,
        ),
        (
            "AI.MODELSTORE mx ONNX CPU BATCHSIZE -1 BLOB <blob>",
            InvalidBatchSize,
        ),
        (
            "AI.MODELSTORE mx ONNX CPU BATCHSIZE 2.5 BLOB <blob>",
            InvalidBatchSize,
        ),
        (
            "AI.MODELSTORE mx ONNX CPU TAG t BATCHSIZE",
            InvalidBatchSize,
        ),
        (
            "AI.MODELSTORE mx ONNX CPU BATCHSIZE 2 MINBATCHSIZE y BLOB <blob>",
            InvalidMinBatchSize,
        ),
        (
            "AI.MODELSTORE mx ONNX CPU MINBATCHSIZE -2 BLOB <blob>",
            InvalidMinBatchSize,
        ),
        (
            "AI.MODELSTORE mx ONNX CPU MINBATCHSIZE 2 BLOB <blob>",
            MinBatchSizeWithoutBatchSize,
        ),
        (
            "AI.MODELSTORE mx ONNX CPU BATCHSIZE 0 MINBATCHSIZE 1 BLOB <blob>",
            MinBatchSizeWithoutBatchSize,
        ),
        (
            "AI.MODELSTORE mx ONNX CPU BATCHSIZE 2 MINBATCHSIZE 1 MINBATCHTIMEOUT z BLOB <blob>",
            InvalidMinBatchTimeout,
        ),
        (
            "AI.MODELSTORE mx ONNX CPU MINBATCHTIMEOUT -1 BLOB <blob>",
            InvalidMinBatchTimeout,
        ),
        (
            "AI.MODELSTORE mx ONNX CPU BATCHSIZE 2 MINBATCHTIMEOUT 3 BLOB <blob>",
            MinBatchTimeoutWithoutMinBatchSize,
        ),
        (
            "AI.MODELSTORE mx ONNX CPU MINBATCHTIMEOUT 3 BLOB <blob>",
            MinBatchTimeoutWithoutMinBatchSize,
        ),
        // Row 9: nothing left after the options.
        ("AI.MODELSTORE mx ONNX CPU TAG t", MissingModelBlob),
        ("AI.MODELSTORE mx ONNX CPU BATCHSIZE 2", MissingModelBlob),
        (
            "AI.MODELSTORE mx TF CPU BATCHSIZE 2 MINBATCHSIZE 1 MINBATCHTIMEOUT 5",
            MissingModelBlob,
        ),
        // Rows 10-12 (TF inputs).
        ("AI.MODELSTORE mx TF CPU BLOB <blob>", TfInputsNotSpecified),
        (
            "AI.MODELSTORE mx TF CPU TAG t OUTPUTS 1 c BLOB <blob>",
            TfInputsNotSpecified,
        ),
        (
            "AI.MODELSTORE mx TF CPU INPUTS x a OUTPUTS 1 c BLOB <blob>",
            InvalidInputCount,
        ),
        (
            "AI.MODELSTORE mx TF CPU INPUTS 0 OUTPUTS 1 c BLOB <blob>",
            InvalidInputCount,
        ),
        (
            "AI.MODELSTORE mx TF CPU INPUTS -1 a BLOB <blob>",
            InvalidInputCount,
        ),
        ("AI.MODELSTORE mx TF CPU TAG t INPUTS", InvalidInputCount),
        (
            "AI.MODELSTORE mx TF CPU INPUTS 9 a b OUTPUTS 1 c BLOB <blob>",
            ModelInputsArgs,
        ),
        // Row 13.
        (
            "AI.MODELSTORE mx ONNX CPU INPUTS 1 a BLOB <blob>",
            InputsNotForBackend,
        ),
        (
            "AI.MODELSTORE mx TORCH CPU inputs 1 a BLOB <blob>",
            InputsNotForBackend,
        ),
        // Rows 14-16 (TF outputs).
        (
            "AI.MODELSTORE mx TF CPU INPUTS 3 a b OUTPUTS 1 mul BLOB <blob>",
            TfOutputsNotSpecified,
        ),
        (
            "AI.MODELSTORE mx TF CPU INPUTS 2 a b BLOB <blob>",
            TfOutputsNotSpecified,
        ),
        (
            "AI.MODELSTORE mx TF CPU BATCHSIZE 1 INPUTS 2 a b",
            TfOutputsNotSpecified,
        ),
        (
            "AI.MODELSTORE mx TF CPU INPUTS 2 a b OUTPUTS x c BLOB <blob>",
            InvalidOutputCount,
        ),
        (
            "AI.MODELSTORE mx TF CPU INPUTS 2 a b OUTPUTS 0 BLOB <blob>",
            InvalidOutputCount,
        ),
        (
            "AI.MODELSTORE mx TF CPU INPUTS 2 a b OUTPUTS",
            InvalidOutputCount,
        ),
        (
            "AI.MODELSTORE mx TF CPU INPUTS 2 a b OUTPUTS 4 c BLOB",
            ModelOutputsArgs,
        ),
        // Row 17: not BLOB (keywords strictly in order).
        ("AI.MODELSTORE mx ONNX CPU TAG BLOB <blob>", ExpectedBlob),
        (
            "AI.MODELSTORE mx ONNX CPU BATCHSIZE 2 TAG x BLOB <blob>",
            ExpectedBlob,
        ),
        (
            "AI.MODELSTORE mx ONNX CPU OUTPUTS 1 a BLOB <blob>",
            ExpectedBlob,
        ),
        (
            "AI.MODELSTORE mx ONNX CPU MINBATCHTIMEOUT 0 MINBATCHSIZE 0 BLOB <blob>",
            ExpectedBlob,
        ),
        ("AI.MODELSTORE mx ONNX CPU BLOBS <blob>", ExpectedBlob),
        (
            "AI.MODELSTORE mx TF CPU INPUTS 2 a b OUTPUTS 1 c",
            ExpectedBlob,
        ),
        (
            "AI.MODELSTORE mx TF CPU INPUTS 2 a b OUTPUTS 1 c TAG t BLOB <blob>",
            ExpectedBlob,
        ),
        // Row 18: BLOB is last.
        ("AI.MODELSTORE mx ONNX CPU TAG t BLOB", MissingModelBlob),
        (
            "AI.MODELSTORE mx TF CPU INPUTS 1 a OUTPUTS 1 c BLOB",
            MissingModelBlob,
        ),
    ];
    for (cmd, err) in table {
        assert_eq!(
            parse_modelstore(&argv(cmd)).err().as_ref(),
            Some(err),
            "{cmd}"
        );
    }
}

#[test]
fn modelstore_parses() {
    // The model command of the golden AOF rewrite (aof-rewrite-example.aof).
    let cmd = "AI.MODELSTORE a_model TF CPU TAG v1 BATCHSIZE 0 MINBATCHSIZE 0 MINBATCHTIMEOUT 0 \
               INPUTS 2 a b OUTPUTS 1 mul BLOB <blob>";
    let parsed = parse_modelstore(&argv(cmd)).unwrap();
    assert_eq!(parsed.key, b"a_model");
    assert_eq!(parsed.backend, Backend::Tf);
    assert_eq!(parsed.device.as_str(), "CPU");
    assert_eq!(parsed.tag, b"v1");
    assert_eq!(
        (
            parsed.batchsize,
            parsed.minbatchsize,
            parsed.minbatchtimeout
        ),
        (0, 0, 0)
    );
    assert_eq!(parsed.inputs, vec![&b"a"[..], b"b"]);
    assert_eq!(parsed.outputs, vec![&b"mul"[..]]);
    assert_eq!(parsed.blob, vec![&b"\x00\n\xffmodel"[..]]);

    // Golden: options, case-insensitive keywords, counts as integral doubles, chunked blob.
    let cmd = "ai.modelstore m onnx cpu:1 tag iris:v1 batchsize 4.0 minbatchsize 2 \
               minbatchtimeout 1e1 blob ab <empty> cd";
    let parsed = parse_modelstore(&argv(cmd)).unwrap();
    assert_eq!(parsed.backend, Backend::Onnx);
    assert_eq!(parsed.device.as_str(), "cpu:1");
    assert_eq!(parsed.device.queue_name(), "CPU:1");
    assert_eq!(
        (
            parsed.batchsize,
            parsed.minbatchsize,
            parsed.minbatchtimeout
        ),
        (4, 2, 10)
    );
    assert!(parsed.inputs.is_empty() && parsed.outputs.is_empty());
    assert_eq!(parsed.blob.len(), 3);
    assert_eq!(parsed.blob_len(), 4);
    assert_eq!(parsed.joined_blob(), b"abcd");
    let record = parsed.into_record();
    assert_eq!(record.blob.as_slice(), b"abcd");
    assert_eq!(record.tag, b"iris:v1");
    assert_eq!(record.device, "cpu:1");
    assert_eq!(record.minbatchtimeout, 10);

    // Accepted by RedisAI: MINBATCHSIZE above BATCHSIZE, TFLITE with BATCHSIZE, no tag,
    // a tag that looks like a keyword, BLOB chunks that look like keywords.
    for cmd in [
        "AI.MODELSTORE mx ONNX CPU BATCHSIZE 2 MINBATCHSIZE 3 BLOB <blob>",
        "AI.MODELSTORE mx TFLITE GPU BATCHSIZE 2 BLOB <blob>",
        "AI.MODELSTORE mx TORCH GPU:0 BLOB BLOB INPUTS",
        "AI.MODELSTORE mx TORCH CPU TAG BATCHSIZE BLOB x",
        "AI.MODELSTORE mx ONNX CPU BATCHSIZE 0 MINBATCHSIZE 0 MINBATCHTIMEOUT 0 BLOB x",
        "AI.MODELSTORE mx ONNX CPU: BLOB x",
    ] {
        parse_modelstore(&argv(cmd)).unwrap_or_else(|e| panic!("{cmd}: {e}"));
    }
    let parsed =
        parse_modelstore(&argv("AI.MODELSTORE mx TORCH CPU TAG BATCHSIZE BLOB x")).unwrap();
    assert_eq!((parsed.tag, parsed.batchsize), (&b"BATCHSIZE"[..], 0));
    let parsed = parse_modelstore(&argv("AI.MODELSTORE mx TORCH CPU BLOB x")).unwrap();
    assert_eq!(parsed.tag, b"");
}

#[test]
fn modelset_error_table() {
    use Error::*;
    let table: &[(&str, Error)] = &[
        ("AI.MODELSET", WrongArity("AI.MODELSET")),
        ("AI.MODELSET m TF", WrongArity("AI.MODELSET")),
        ("AI.MODELSET m FOO CPU BLOB x", UnsupportedBackend),
        ("AI.MODELSET m TF 01234567890 BLOB x", InvalidDevice),
        ("AI.MODELSET m TF inputs a OUTPUTS b BLOB x", InvalidDevice),
        ("AI.MODELSET m ONNX BLOB x", InvalidDevice),
        ("AI.MODELSET m ONNX TAG x", InvalidDevice),
        ("AI.MODELSET m ONNX MinBatchTimeout x", InvalidDevice),
        (
            "AI.MODELSET m TFLITE CPU BATCHSIZE 2 BLOB x",
            TfliteAutoBatching,
        ),
        (
            "AI.MODELSET m TFLITE CPU BATCHSIZE x BLOB x",
            TfliteAutoBatching,
        ),
        (
            "AI.MODELSET m ONNX CPU BATCHSIZE x BLOB x",
            InvalidBatchSize,
        ),
        (
            "AI.MODELSET m ONNX CPU MINBATCHSIZE x BLOB x",
            MinBatchSizeWithoutBatchSize,
        ),
        (
            "AI.MODELSET m ONNX CPU BATCHSIZE 0 MINBATCHSIZE 1 BLOB x",
            MinBatchSizeWithoutBatchSize,
        ),
        (
            "AI.MODELSET m ONNX CPU BATCHSIZE 2 MINBATCHSIZE x BLOB x",
            InvalidMinBatchSize,
        ),
        (
            "AI.MODELSET m ONNX CPU MINBATCHTIMEOUT x BLOB x",
            MinBatchTimeoutWithoutBatchSize,
        ),
        (
            "AI.MODELSET m ONNX CPU BATCHSIZE 2 MINBATCHTIMEOUT 5 BLOB x",
            MinBatchTimeoutWithoutMinBatchSize,
        ),
        (
            "AI.MODELSET m ONNX CPU BATCHSIZE 2 MINBATCHSIZE 0 MINBATCHTIMEOUT 5 BLOB x",
            MinBatchTimeoutWithoutMinBatchSize,
        ),
        (
            "AI.MODELSET m ONNX CPU BATCHSIZE 2 MINBATCHSIZE 1 MINBATCHTIMEOUT x BLOB x",
            InvalidMinBatchTimeout,
        ),
        ("AI.MODELSET m TF CPU", MissingModelBlob),
        ("AI.MODELSET m ONNX CPU TAG t", MissingModelBlob),
        ("AI.MODELSET m TF CPU BLOB x", InputsOutputsNotSpecified),
        ("AI.MODELSET m TF CPU BLOB", InputsOutputsNotSpecified),
        ("AI.MODELSET m TF CPU OUTPUTS b BLOB x", InputsNotSpecified),
        ("AI.MODELSET m TF CPU a INPUTS b BLOB x", InputsNotSpecified),
        (
            "AI.MODELSET m TF CPU INPUTS a b BLOB x",
            OutputsNotSpecified,
        ),
        ("AI.MODELSET m TF CPU INPUTS a b", OutputsNotSpecified),
        ("AI.MODELSET m TF CPU INPUTS a OUTPUTS b", MissingModelBlob),
        (
            "AI.MODELSET m TF CPU INPUTS a OUTPUTS b BLOB",
            MissingModelBlob,
        ),
        ("AI.MODELSET m ONNX CPU whatever", MissingModelBlob),
        ("AI.MODELSET m ONNX CPU whatever BLOB", MissingModelBlob),
    ];
    for (cmd, err) in table {
        assert_eq!(
            parse_modelset(&argv(cmd)).err().as_ref(),
            Some(err),
            "{cmd}"
        );
    }
}

#[test]
fn modelset_parses() {
    // Golden: the deprecated aliases section.
    let parsed = parse_modelset(&argv(
        "AI.MODELSET m_old TF CPU INPUTS a b OUTPUTS mul BLOB <blob>",
    ))
    .unwrap();
    assert_eq!(parsed.backend, Backend::Tf);
    assert_eq!(parsed.inputs, vec![&b"a"[..], b"b"]);
    assert_eq!(parsed.outputs, vec![&b"mul"[..]]);
    assert_eq!(parsed.blob, vec![&b"\x00\n\xffmodel"[..]]);
    let parsed = parse_modelset(&argv("AI.MODELSET m_old2 ONNX CPU BLOB <blob>")).unwrap();
    assert_eq!(parsed.backend, Backend::Onnx);
    assert!(parsed.inputs.is_empty());

    // Loose devices, options, ignored tokens for non-TF backends, empty name lists for TF.
    let cmd = "AI.MODELSET m TORCH whatever TAG t BATCHSIZE 3 MINBATCHSIZE 2 MINBATCHTIMEOUT 7 \
               INPUTS x OUTPUTS y z BLOB a b";
    let parsed = parse_modelset(&argv(cmd)).unwrap();
    assert_eq!(parsed.device.as_str(), "whatever");
    assert_eq!(parsed.tag, b"t");
    assert_eq!(
        (
            parsed.batchsize,
            parsed.minbatchsize,
            parsed.minbatchtimeout
        ),
        (3, 2, 7)
    );
    assert!(parsed.inputs.is_empty() && parsed.outputs.is_empty());
    assert_eq!(parsed.blob, vec![&b"a"[..], b"b"]);
    let parsed = parse_modelset(&argv("AI.MODELSET m TF CPU INPUTS OUTPUTS BLOB x")).unwrap();
    assert!(parsed.inputs.is_empty() && parsed.outputs.is_empty());
    let parsed = parse_modelset(&argv(
        "AI.MODELSET m TF CPU INPUTS a OUTPUTS b OUTPUTS BLOB x",
    ))
    .unwrap();
    assert_eq!(parsed.outputs, vec![&b"b"[..], b"OUTPUTS"]);
}

#[test]
fn modelget_del_scan() {
    let both = Ok(ModelGetArgs {
        meta: true,
        blob: true,
    });
    let table: &[(&str, Result<ModelGetArgs, Error>)] = &[
        ("AI.MODELGET", Err(Error::WrongArity("AI.MODELGET"))),
        (
            "AI.MODELGET m META BLOB x",
            Err(Error::WrongArity("AI.MODELGET")),
        ),
        ("AI.MODELGET m", both.clone()),
        ("AI.MODELGET m FOO", both.clone()),
        ("AI.MODELGET m META BLOB", both.clone()),
        ("AI.MODELGET m blob meta", both.clone()),
        (
            "AI.MODELGET m META",
            Ok(ModelGetArgs {
                meta: true,
                blob: false,
            }),
        ),
        (
            "AI.MODELGET m meta FOO",
            Ok(ModelGetArgs {
                meta: true,
                blob: false,
            }),
        ),
        (
            "AI.MODELGET m BLOB",
            Ok(ModelGetArgs {
                meta: false,
                blob: true,
            }),
        ),
        (
            "AI.MODELGET m BLOB BLOB",
            Ok(ModelGetArgs {
                meta: false,
                blob: true,
            }),
        ),
    ];
    for (cmd, expected) in table {
        assert_eq!(&parse_modelget(&argv(cmd)), expected, "{cmd}");
    }
    let arity = |name| Err(Error::WrongArity(name));
    assert_eq!(modeldel_arity(&argv("AI.MODELDEL")), arity("AI.MODELDEL"));
    assert_eq!(
        modeldel_arity(&argv("AI.MODELDEL m extra")),
        arity("AI.MODELDEL")
    );
    assert_eq!(modeldel_arity(&argv("AI.MODELDEL m")), Ok(()));
    assert_eq!(
        modelscan_arity(&argv("AI._MODELSCAN extra")),
        arity("AI._MODELSCAN")
    );
    assert_eq!(modelscan_arity(&argv("AI._MODELSCAN")), Ok(()));
}

/// The RESP commands of a file (arrays of bulk strings only, as in an AOF without preamble).
fn resp_commands(mut data: &[u8]) -> Vec<Vec<&[u8]>> {
    fn line<'a>(data: &mut &'a [u8]) -> &'a [u8] {
        let end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let (l, rest) = data.split_at(end);
        *data = &rest[2..];
        l
    }
    let number = |l: &[u8]| {
        std::str::from_utf8(&l[1..])
            .unwrap()
            .parse::<usize>()
            .unwrap()
    };
    let mut commands = Vec::new();
    while !data.is_empty() {
        let n = number(line(&mut data));
        let mut command = Vec::new();
        for _ in 0..n {
            let len = number(line(&mut data));
            command.push(&data[..len]);
            data = &data[len + 2..];
        }
        commands.push(command);
    }
    commands
}

#[test]
fn golden_aof_model_command_parses() {
    let aof = include_bytes!("../../../../tests/golden/aof-rewrite-example.aof");
    let commands = resp_commands(aof);
    let command = commands
        .iter()
        .find(|c| c[0] == b"AI.MODELSTORE")
        .expect("a model in the AOF");
    let parsed = parse_modelstore(command).unwrap();
    assert_eq!(parsed.key, b"a_model");
    assert_eq!(parsed.backend, Backend::Tf);
    assert_eq!(parsed.tag, b"v1");
    assert_eq!(parsed.inputs, vec![&b"a"[..], b"b"]);
    assert_eq!(parsed.outputs, vec![&b"mul"[..]]);
    assert_eq!(parsed.blob_len(), 150);
}

#[test]
fn warmup_is_the_last_option_before_blob() {
    let parse = |cmd: &str| parse_modelstore(&argv(cmd)).map(|p| p.warmup);
    assert_eq!(parse("AI.MODELSTORE m ONNX CPU BLOB <blob>"), Ok(None));
    assert_eq!(
        parse("AI.MODELSTORE m ONNX CPU WARMUP 3 BLOB <blob>"),
        Ok(Some(3))
    );
    assert_eq!(
        parse("AI.MODELSTORE m ONNX CPU TAG t BATCHSIZE 4 warmup 0 BLOB <blob>"),
        Ok(Some(0))
    );
    assert_eq!(
        parse("AI.MODELSTORE m TF CPU INPUTS 1 a OUTPUTS 1 b WARMUP 1000 BLOB <blob>"),
        Ok(Some(1000))
    );
    for bad in ["-1", "x", "1001", "1.5"] {
        assert_eq!(
            parse(&format!(
                "AI.MODELSTORE m ONNX CPU WARMUP {bad} BLOB <blob>"
            )),
            Err(Error::InvalidWarmup),
            "{bad}"
        );
    }
    assert_eq!(
        parse("AI.MODELSTORE m ONNX CPU TAG t WARMUP"),
        Err(Error::InvalidWarmup)
    );
    assert_eq!(
        parse("AI.MODELSTORE m ONNX CPU WARMUP 2 TAG t BLOB <blob>"),
        Err(Error::ExpectedBlob)
    );
    assert_eq!(
        parse("AI.MODELSTORE m ONNX CPU WARMUP 2"),
        Err(Error::MissingModelBlob)
    );
    // Not a grammar of the deprecated AI.MODELSET, which has no WARMUP.
    let set = parse_modelset(&argv("AI.MODELSET m ONNX CPU BLOB <blob>")).unwrap();
    assert_eq!(set.warmup, None);
}
