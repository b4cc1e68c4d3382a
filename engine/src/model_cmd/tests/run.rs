//! AI.MODELEXECUTE and AI.MODELRUN.

use redisai_core::Error;

use super::super::*;
use super::argv;

#[test]
fn modelexecute_error_table() {
    use Error::*;
    // The model of the golden section: m_tf, 2 inputs and 1 output.
    let table: &[(&str, Error)] = &[
        ("AI.MODELEXECUTE", WrongArity("AI.MODELEXECUTE")),
        ("AI.MODELEXECUTE m_tf", WrongArity("AI.MODELEXECUTE")),
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib",
            WrongArity("AI.MODELEXECUTE"),
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 1 ia OUTPUTS 1",
            WrongArity("AI.MODELEXECUTE"),
        ),
        // Row 4-8.
        (
            "AI.MODELEXECUTE m_tf INPUT 2 ia ib OUTPUTS 1 oc",
            InputsNotSpecified,
        ),
        (
            "AI.MODELEXECUTE m_tf OUTPUTS 1 oc INPUTS 2 ia ib",
            InputsNotSpecified,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS x ia ib OUTPUTS 1 oc",
            InvalidInputCount,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 2.0 ia ib OUTPUTS 1 oc",
            InvalidInputCount,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 0 ia ib OUTPUTS 1 oc",
            InputCountNotPositive,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS -2 ia ib OUTPUTS 1 oc",
            InputCountNotPositive,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 1 ia OUTPUTS 1 oc",
            InputsMismatch,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 3 ia ib OUTPUTS 1 oc",
            InputsMismatch,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 1 ia OUTPUTS 2 oc od",
            InputsMismatch,
        ),
        // Row 8 needs a model with more inputs than given (see below).
        // Row 9-13.
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib oc OUTPUTS 1",
            OutputsNotSpecified,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUT 1 oc",
            OutputsNotSpecified,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS x oc",
            InvalidOutputCount,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS 1.0 oc",
            InvalidOutputCount,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS 0 oc",
            OutputCountNotPositive,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS -1 oc",
            OutputCountNotPositive,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS 2 oc od",
            OutputsMismatch,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS 2 oc",
            OutputsMismatch,
        ),
        // Row 14-17.
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS 1 oc FOO",
            invalid(b"FOO"),
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS 1 oc od",
            invalid(b"od"),
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS 1 oc TIMEOUT",
            TimeoutMissing,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS 1 oc TIMEOUT 0",
            InvalidTimeout,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS 1 oc TIMEOUT x",
            InvalidTimeout,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS 1 oc TIMEOUT -5",
            InvalidTimeout,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS 1 oc TIMEOUT 1.5",
            InvalidTimeout,
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS 1 oc TIMEOUT 5 x",
            invalid(b"x"),
        ),
        (
            "AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS 1 oc TIMEOUT 5 TIMEOUT 5",
            invalid(b"TIMEOUT"),
        ),
    ];
    for (cmd, err) in table {
        let got =
            modelexecute_arity(&argv(cmd)).and_then(|()| parse_modelexecute(&argv(cmd), 2, 1));
        assert_eq!(got.err().as_ref(), Some(err), "{cmd}");
    }
    // Rows 8 and 13: the counts match the model but the arguments run out.
    let cmd = argv("AI.MODELEXECUTE m INPUTS 5 a b c OUTPUTS");
    assert_eq!(parse_modelexecute(&cmd, 5, 1), Err(ExecuteInputKeys));
    // With exactly enough arguments the inputs swallow OUTPUTS (RedisAI does the same).
    let cmd = argv("AI.MODELEXECUTE m INPUTS 5 a b c OUTPUTS 1");
    assert_eq!(parse_modelexecute(&cmd, 5, 1), Err(OutputsNotSpecified));
    let cmd = argv("AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 3 x y");
    assert_eq!(parse_modelexecute(&cmd, 1, 3), Err(ExecuteOutputKeys));
    let cmd = argv("AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 o <blob>");
    assert_eq!(
        parse_modelexecute(&cmd, 1, 1).unwrap_err().to_string(),
        "Invalid argument: \u{0}\n\u{fffd}model"
    );
}

fn invalid(token: &[u8]) -> Error {
    Error::invalid_argument(token)
}

#[test]
fn modelexecute_parses() {
    let cmd = argv("AI.MODELEXECUTE m_tf INPUTS 2 ia ib OUTPUTS 1 oc");
    assert_eq!(
        parse_modelexecute(&cmd, 2, 1),
        Ok(ExecuteArgs {
            inputs: vec![b"ia", b"ib"],
            outputs: vec![b"oc"],
            timeout_ms: None,
        })
    );
    let cmd = argv("ai.modelexecute m_torch inputs 2 ia ib outputs 1 od timeout 5000");
    let parsed = parse_modelexecute(&cmd, 2, 1).unwrap();
    assert_eq!(parsed.timeout_ms, Some(5000));
    assert_eq!(parsed.outputs, vec![&b"od"[..]]);
    // Keys may look like keywords.
    let cmd = argv("AI.MODELEXECUTE m INPUTS 2 OUTPUTS TIMEOUT OUTPUTS 2 INPUTS TIMEOUT");
    let parsed = parse_modelexecute(&cmd, 2, 2).unwrap();
    assert_eq!(parsed.inputs, vec![&b"OUTPUTS"[..], b"TIMEOUT"]);
    assert_eq!(parsed.outputs, vec![&b"INPUTS"[..], b"TIMEOUT"]);
}

#[test]
fn modelrun_table() {
    use Error::*;
    let table: &[(&str, Error)] = &[
        ("AI.MODELRUN", WrongArity("AI.MODELRUN")),
        ("AI.MODELRUN m INPUTS a OUTPUTS", WrongArity("AI.MODELRUN")),
        (
            "AI.MODELRUN m TIMEOUT 0 INPUTS a b OUTPUTS c",
            InvalidTimeout,
        ),
        (
            "AI.MODELRUN m TIMEOUT x INPUTS a b OUTPUTS c",
            InvalidTimeout,
        ),
        ("AI.MODELRUN m TIMEOUT 5 a b OUTPUTS c", InputsNotSpecified),
        ("AI.MODELRUN m a b c OUTPUTS d", InputsNotSpecified),
        ("AI.MODELRUN m INPUTS a OUTPUTS c d", InputsMismatch),
        ("AI.MODELRUN m INPUTS a b c OUTPUTS d", InputsMismatch),
        ("AI.MODELRUN m INPUTS a b c d", InputsMismatch),
        ("AI.MODELRUN m INPUTS a b OUTPUTS", OutputsMismatch),
        ("AI.MODELRUN m INPUTS a b OUTPUTS c d", OutputsMismatch),
        (
            "AI.MODELRUN m INPUTS a b OUTPUTS c OUTPUTS",
            OutputsMismatch,
        ),
    ];
    for (cmd, err) in table {
        let got = modelrun_arity(&argv(cmd)).and_then(|()| parse_modelrun(&argv(cmd), 2, 1));
        assert_eq!(got.err().as_ref(), Some(err), "{cmd}");
    }
    // Golden: AI.MODELRUN m_old INPUTS ia ib OUTPUTS o_old.
    let parsed = parse_modelrun(&argv("AI.MODELRUN m_old INPUTS ia ib OUTPUTS o_old"), 2, 1);
    assert_eq!(
        parsed,
        Ok(ExecuteArgs {
            inputs: vec![b"ia", b"ib"],
            outputs: vec![b"o_old"],
            timeout_ms: None,
        })
    );
    let parsed = parse_modelrun(
        &argv("AI.MODELRUN m timeout 20 inputs a outputs b OUTPUTS"),
        1,
        2,
    )
    .unwrap();
    assert_eq!(parsed.timeout_ms, Some(20));
    assert_eq!(parsed.outputs, vec![&b"b"[..], b"OUTPUTS"]);
}
