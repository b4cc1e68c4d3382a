//! Every error row of AI.DAGEXECUTE[_RO] (§3.16) and AI.DAGRUN[_RO] (§3.17), in their order.

use redisai_core::Error;

use super::{golden_keyspace, parse, parse_with};

fn check(table: &[(&str, Error)]) {
    for (cmd, expected) in table {
        assert_eq!(parse(cmd).err().as_ref(), Some(expected), "{cmd}");
    }
}

#[test]
fn options_error_table() {
    use Error::*;
    let unexpected = |token: &str| Error::dag_unexpected_argument(token.as_bytes());
    check(&[
        // Row 1: argc < 6, whatever the arguments (golden: a lone trailing `|>` too).
        ("AI.DAGEXECUTE", DagMissingArguments("AI.DAGEXECUTE")),
        (
            "AI.DAGEXECUTE LOAD 1 ia",
            DagMissingArguments("AI.DAGEXECUTE"),
        ),
        (
            "AI.DAGEXECUTE LOAD 1 ia |>",
            DagMissingArguments("AI.DAGEXECUTE"),
        ),
        (
            "AI.DAGEXECUTE_RO LOAD 1 ia |>",
            DagMissingArguments("AI.DAGEXECUTE_RO"),
        ),
        ("AI.DAGEXECUTE_RO", DagMissingArguments("AI.DAGEXECUTE_RO")),
        // Row 2.
        ("AI.DAGEXECUTE PERSIST 2 a b LOAD 1", DagLoadMissing),
        ("AI.DAGEXECUTE ROUTING r TIMEOUT 1 LOAD", DagLoadMissing),
        // Row 3.
        (
            "AI.DAGEXECUTE LOAD x ia |> AI.TENSORGET ia VALUES",
            DagLoadCount,
        ),
        (
            "AI.DAGEXECUTE LOAD 0 ia |> AI.TENSORGET ia VALUES",
            DagLoadCount,
        ),
        (
            "AI.DAGEXECUTE LOAD -1 ia |> AI.TENSORGET ia VALUES",
            DagLoadCount,
        ),
        (
            "AI.DAGEXECUTE LOAD 1.0 ia |> AI.TENSORGET ia VALUES",
            DagLoadCount,
        ),
        // Rows 4-5: keys are read in order, `|>` included; before the count is checked.
        (
            "AI.DAGEXECUTE LOAD 1 nokey |> AI.TENSORGET nokey VALUES",
            TensorKeyEmpty,
        ),
        (
            "AI.DAGEXECUTE LOAD 1 plain |> AI.TENSORGET plain VALUES",
            WrongType,
        ),
        (
            "AI.DAGEXECUTE LOAD 2 ia |> AI.TENSORGET ia VALUES",
            TensorKeyEmpty,
        ),
        ("AI.DAGEXECUTE ROUTING a LOAD 2 nokey", TensorKeyEmpty),
        (
            "AI.DAGEXECUTE LOAD 1 nokey FOO |> AI.TENSORGET ia",
            TensorKeyEmpty,
        ),
        // Row 6.
        ("AI.DAGEXECUTE ROUTING a LOAD 2 ia", DagLoadKeys),
        ("AI.DAGEXECUTE ROUTING a LOAD 9 ia ib", DagLoadKeys),
        // Row 7: before PERSIST's own checks.
        (
            "AI.DAGEXECUTE_RO PERSIST 1 x |> AI.TENSORSET x FLOAT 1 VALUES 1",
            DagPersistReadOnly,
        ),
        (
            "AI.DAGEXECUTE_RO ROUTING r TIMEOUT 1 PERSIST",
            DagPersistReadOnly,
        ),
        (
            "AI.DAGRUN_RO PERSIST 1 x |> AI.TENSORSET x FLOAT 1",
            DagPersistReadOnly,
        ),
        // Row 8.
        (
            "AI.DAGEXECUTE ROUTING a LOAD 1 ia PERSIST 1",
            DagPersistMissing,
        ),
        // Row 9.
        (
            "AI.DAGEXECUTE ROUTING a PERSIST not_number a",
            DagPersistCount,
        ),
        ("AI.DAGEXECUTE ROUTING a PERSIST 0 a", DagPersistCount),
        // Row 10: before the count.
        (
            "AI.DAGEXECUTE PERSIST 2 a a |> AI.TENSORSET a FLOAT 1",
            DagPersistUnique,
        ),
        ("AI.DAGEXECUTE ROUTING r PERSIST 3 a a", DagPersistUnique),
        // Row 12.
        ("AI.DAGEXECUTE ROUTING a PERSIST 2 a", DagPersistKeys),
        // Row 13.
        ("AI.DAGEXECUTE PERSIST 3 a b c ROUTING", DagRoutingMissing),
        // Rows 15-16 (0 and negative are accepted: see plans).
        (
            "AI.DAGEXECUTE ROUTING a PERSIST 1 a TIMEOUT",
            TimeoutMissing,
        ),
        (
            "AI.DAGEXECUTE ROUTING a PERSIST 1 a TIMEOUT not_number",
            InvalidTimeout,
        ),
        (
            "AI.DAGEXECUTE ROUTING a TIMEOUT 1.5 |> AI.TENSORSET a FLOAT 1",
            InvalidTimeout,
        ),
        (
            "AI.DAGEXECUTE ROUTING a TIMEOUT |> AI.TENSORSET a FLOAT 1",
            InvalidTimeout,
        ),
        // Row 17: unknown tokens, repeated options, a trailing `|>` (two spaces after ':').
        (
            "AI.DAGEXECUTE LOAD 1 ia FOO |> AI.TENSORGET ia VALUES",
            unexpected("FOO"),
        ),
        (
            "AI.DAGEXECUTE ROUTING a PERSIST 1 a BAD_ARG",
            unexpected("BAD_ARG"),
        ),
        (
            "AI.DAGEXECUTE LOAD 1 ia LOAD 1 ib |> AI.TENSORGET ia",
            unexpected("LOAD"),
        ),
        (
            "AI.DAGEXECUTE PERSIST 1 a PERSIST 1 b |> AI.TENSORGET ia",
            unexpected("PERSIST"),
        ),
        (
            "AI.DAGEXECUTE ROUTING a ROUTING b |> AI.TENSORGET ia",
            unexpected("ROUTING"),
        ),
        (
            "AI.DAGEXECUTE ROUTING a TIMEOUT 1 TIMEOUT 2 |> AI.TENSORGET a",
            unexpected("TIMEOUT"),
        ),
        (
            "AI.DAGEXECUTE LOAD 1 ia |> AI.TENSORGET ia |>",
            unexpected("|>"),
        ),
        ("AI.DAGEXECUTE LOAD 1 ia FOO |> AI.FOO", unexpected("FOO")),
        (
            "AI.DAGEXECUTE PERSIST 2 a |> AI.TENSORSET a FLOAT 1",
            unexpected("AI.TENSORSET"),
        ),
        // Row 18 (AI.DAGEXECUTE only: DAGRUN below).
        (
            "AI.DAGEXECUTE |> AI.TENSORSET x FLOAT 1 VALUES 1",
            DagNoKeyword,
        ),
        (
            "AI.DAGEXECUTE TIMEOUT 5 |> AI.TENSORSET x FLOAT 1",
            DagNoKeyword,
        ),
        (
            "AI.DAGEXECUTE_RO |> AI.TENSORSET x FLOAT 1 VALUES 1",
            DagNoKeyword,
        ),
        // Row 19.
        ("AI.DAGEXECUTE ROUTING v LOAD 1 ia", DagEmpty),
        ("AI.DAGEXECUTE LOAD 1 ia TIMEOUT 5", DagEmpty),
    ]);
}

#[test]
fn op_error_table() {
    use Error::*;
    let invalid = |token: &str| Error::invalid_argument(token.as_bytes());
    check(&[
        // Rows 20-23.
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.MODELRUN m_tf INPUTS ia ia OUTPUTS o", DagDeprecatedOp("AI.MODELRUN")),
        ("AI.DAGEXECUTE LOAD 1 ia |> ai.modelrun m_tf INPUTS ia ia OUTPUTS o", DagDeprecatedOp("AI.MODELRUN")),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTRUN s1 bar INPUTS ia ia OUTPUTS o", DagDeprecatedOp("AI.SCRIPTRUN")),
        ("AI.DAGEXECUTE_RO LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar INPUTS 2 ia ia", DagScriptInReadOnly),
        ("AI.DAGEXECUTE_RO LOAD 1 ia |> AI.SCRIPTEXECUTE", DagScriptInReadOnly),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.FOO x", DagUnsupportedCommand),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.TENSORGET ia VALUES |> SET a b", DagUnsupportedCommand),
        ("AI.DAGEXECUTE_RO LOAD 1 ia |> AI.TENSORGET ia VALUES |> AI.DAGEXECUTE", DagUnsupportedCommand),
        ("AI.DAGEXECUTE ROUTING a |> AI.NOCOMMAND a FLOAT 1 2 VALUES 5 10", DagUnsupportedCommand),
        ("AI.DAGEXECUTE LOAD 1 ia |> |> AI.TENSORGET ia", DagUnsupportedCommand),
        // Row 24, TENSORSET / TENSORGET (their arity errors have no `ERR ` in a DAG).
        ("AI.DAGEXECUTE ROUTING a |> AI.TENSORSET a FLOAT 1 |> AI.TENSORGET", DagOpWrongArity("AI.TENSORGET")),
        ("AI.DAGEXECUTE ROUTING a |> AI.TENSORSET a FLOAT 1 |> AI.TENSORGET a META BLOB extra", DagOpWrongArity("AI.TENSORGET")),
        ("AI.DAGEXECUTE ROUTING a |> AI.TENSORSET a FLOAT 1 |> AI.TENSORSET", DagOpWrongArity("AI.TENSORSET")),
        ("AI.DAGEXECUTE ROUTING a |> AI.TENSORSET a FLOAT", DagOpWrongArity("AI.TENSORSET")),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.TENSORSET x FLOAT 2 VALUES 1", ValuesCount),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.TENSORSET x FLOAT16 1", InvalidDataType),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.TENSORSET x FLOAT 0", InvalidShape),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.TENSORSET x FLOAT 1024 1024", TensorTooLarge(1 << 20)),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.TENSORGET ia FOO", UnsupportedFormat),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.TENSORGET ia BLOB VALUES", BlobAndValues),
        // Row 24, MODELEXECUTE: arity before the model, the model before the grammar.
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.MODELEXECUTE nomodel INPUTS 1 ia OUTPUTS 1 y", ModelKeyEmpty),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.MODELEXECUTE plain INPUTS 1 ia OUTPUTS 1 y", WrongType),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.MODELEXECUTE nomodel INPUTS 1 ia", WrongArity("AI.MODELEXECUTE")),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.MODELEXECUTE m_tf INPUTS 1 ia OUTPUTS 1 y", InputsMismatch),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.MODELEXECUTE m_tf INPUT 2 ia ia OUTPUTS 1 y", InputsNotSpecified),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.MODELEXECUTE m_tf INPUTS 2 ia ia OUTPUTS 2 y z", OutputsMismatch),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.MODELEXECUTE m_tf INPUTS 2 ia ia OUTPUTS 1 y FOO", invalid("FOO")),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.MODELEXECUTE m_tf INPUTS 2 ia ia OUTPUTS 1 y TIMEOUT", TimeoutMissing),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.MODELEXECUTE m_tf INPUTS 2 ia ia OUTPUTS 1 y TIMEOUT 0", InvalidTimeout),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.MODELEXECUTE m_tf INPUTS 2 ia ia OUTPUTS 1 y TIMEOUT 9 x", invalid("x")),
        // A valid op TIMEOUT is parsed, then refused (RedisAI: "not allowed within a DAG").
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.MODELEXECUTE m_tf INPUTS 2 ia ia OUTPUTS 1 y TIMEOUT 9", TimeoutInDag),
        // Row 24, SCRIPTEXECUTE: arity, then the script, then its grammar (§3.14 rows 4-18:
        // any scope may come first, or none; TIMEOUT is parsed, then refused).
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1", WrongArity("AI.SCRIPTEXECUTE")),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE noscript", WrongArity("AI.SCRIPTEXECUTE")),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE noscript bar INPUTS 2 ia ia OUTPUTS 1 q", ScriptKeyEmpty),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE noscript bar FOO", ScriptKeyEmpty),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE plain bar", WrongType),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE m_tf bar", WrongType),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar KEYS 1", KeysMissing),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar KEYS 0 k", KeysCount),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar KEYS 2 k |> AI.TENSORGET ia", KeysArgs),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar INPUTS |> AI.TENSORGET ia", ScriptScopeNoCount),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar INPUTS x ia", ScriptScopeCount("inputs")),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar ARGS x", ScriptScopeCount("keys")),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar OUTPUTS x", ScriptScopeCount("outputs")),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar INPUTS 2 ia |> AI.TENSORGET ia", ScriptScopeArgs("inputs")),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar ARGS 1", ScriptScopeArgs("args")),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar OUTPUTS 3 a b", ScriptScopeArgs("outputs")),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar INPUTS 1 ia INPUTS 1 ia", ScriptScopeRepeated("INPUTS")),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar INPUTS 1 ia FOO", Error::script_unexpected_argument(b"FOO")),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar INPUTS 1 ia TIMEOUT", ScriptTimeoutMissing),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar TIMEOUT 0", InvalidTimeout),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar TIMEOUT 5 x", ScriptAfterTimeout),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar INPUTS 1 ia OUTPUTS 1 q TIMEOUT 5", TimeoutInDag),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar INPUTS 1 nosuch |> AI.SCRIPTEXECUTE s1 bar FOO", Error::script_unexpected_argument(b"FOO")),
        // The first failing op wins, and every op is parsed before names are resolved.
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.FOO |> AI.TENSORGET", DagUnsupportedCommand),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.TENSORGET x FOO |> AI.FOO", UnsupportedFormat),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.TENSORGET nosuch VALUES |> AI.FOO", DagUnsupportedCommand),
        // Row 25.
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.TENSORGET nosuch VALUES", DagInputNotFound),
        ("AI.DAGEXECUTE ROUTING r |> AI.TENSORGET x |> AI.TENSORSET x FLOAT 1", DagInputNotFound),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.MODELEXECUTE m_tf INPUTS 2 ia nosuch OUTPUTS 1 y", DagInputNotFound),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.MODELEXECUTE m1 INPUTS 1 y OUTPUTS 1 y", DagInputNotFound),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar INPUTS 2 ia nosuch OUTPUTS 1 y", DagInputNotFound),
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar INPUTS 1 y OUTPUTS 1 y", DagInputNotFound),
        // A script op's KEYS and ARGS are not tensor names.
        ("AI.DAGEXECUTE LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar KEYS 1 ib ARGS 1 ib INPUTS 1 ia |> AI.TENSORGET ib", DagInputNotFound),
        ("AI.DAGEXECUTE PERSIST 1 nosuch |> AI.TENSORGET other", DagInputNotFound),
        // Row 26.
        ("AI.DAGEXECUTE LOAD 1 ia PERSIST 1 never |> AI.TENSORGET ia VALUES", DagPersistNotFound),
        ("AI.DAGEXECUTE PERSIST 2 x y |> AI.TENSORSET x FLOAT 1", DagPersistNotFound),
        ("AI.DAGEXECUTE LOAD 1 ia PERSIST 1 q |> AI.SCRIPTEXECUTE s1 bar INPUTS 1 ia KEYS 1 q ARGS 1 q", DagPersistNotFound),
    ]);
}

#[test]
fn deprecated_error_table() {
    use Error::*;
    check(&[
        ("AI.DAGRUN |>", WrongArity("AI.DAGRUN")),
        ("AI.DAGRUN", WrongArity("AI.DAGRUN")),
        ("AI.DAGRUN_RO |> AI.TENSORGET", WrongArity("AI.DAGRUN_RO")),
        ("AI.DAGRUN LOAD 1 ia", DagEmpty),
        ("AI.DAGRUN |> AI.TENSORGET x", DagInputNotFound),
        (
            "AI.DAGRUN FOO |> AI.TENSORGET ia",
            Error::dag_unexpected_argument(b"FOO"),
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.TENSORGET ia |>",
            Error::dag_unexpected_argument(b"|>"),
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.MODELEXECUTE m_tf INPUTS 2 ia ia OUTPUTS 1 y",
            DagNewOpInDagRun("AI.MODELEXECUTE"),
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.SCRIPTEXECUTE s1 bar INPUTS 1 ia",
            DagNewOpInDagRun("AI.SCRIPTEXECUTE"),
        ),
        (
            "AI.DAGRUN_RO LOAD 1 ia |> ai.scriptexecute s1 bar",
            DagNewOpInDagRun("AI.SCRIPTEXECUTE"),
        ),
        ("AI.DAGRUN LOAD 1 ia |> AI.FOO", DagUnsupportedCommand),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.TENSORGET",
            DagOpWrongArity("AI.TENSORGET"),
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.TENSORSET x",
            DagOpWrongArity("AI.TENSORSET"),
        ),
        // AI.MODELRUN ops.
        (
            "AI.DAGRUN LOAD 1 ia |> AI.MODELRUN m_tf INPUTS ia",
            WrongArity("AI.MODELRUN"),
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.MODELRUN nomodel INPUTS ia OUTPUTS o",
            ModelKeyEmpty,
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.MODELRUN m_tf INPUTS ia OUTPUTS o",
            InputsMismatch,
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.MODELRUN m_tf INPUTS ia ia OUTPUTS",
            OutputsMismatch,
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.MODELRUN m_tf INPUT ia ia OUTPUTS o",
            InputsNotSpecified,
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.MODELRUN m_tf TIMEOUT x INPUTS ia ia OUTPUTS o",
            InvalidTimeout,
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.MODELRUN m_tf TIMEOUT 5 INPUTS ia ia OUTPUTS o",
            TimeoutInDag,
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.MODELRUN m_tf INPUTS ia nosuch OUTPUTS o",
            DagInputNotFound,
        ),
        // AI.SCRIPTRUN ops, allowed in AI.DAGRUN_RO too: arity, script, grammar (§3.15).
        (
            "AI.DAGRUN LOAD 1 ia |> AI.SCRIPTRUN s1",
            WrongArity("AI.SCRIPTRUN"),
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.SCRIPTRUN noscript bar INPUTS ia OUTPUTS o",
            ScriptKeyEmpty,
        ),
        (
            "AI.DAGRUN_RO LOAD 1 ia |> AI.SCRIPTRUN noscript bar foo",
            ScriptKeyEmpty,
        ),
        (
            "AI.DAGRUN_RO LOAD 1 ia |> AI.SCRIPTRUN plain bar",
            WrongType,
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.SCRIPTRUN s1 bar foo INPUTS ia",
            ScriptRunUnrecognized,
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.SCRIPTRUN s1 bar INPUTS ia $ ia $ ia",
            ScriptRunVariadicRepeated,
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.SCRIPTRUN s1 bar OUTPUTS o INPUTS ia",
            ScriptRunInputsSection,
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.SCRIPTRUN s1 bar TIMEOUT 5 TIMEOUT 6",
            ScriptRunTimeoutRepeated,
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.SCRIPTRUN s1 bar TIMEOUT 0 INPUTS ia",
            InvalidTimeout,
        ),
        (
            "AI.DAGRUN_RO LOAD 1 ia |> AI.SCRIPTRUN s1 bar TIMEOUT 5 INPUTS ia OUTPUTS o",
            TimeoutInDag,
        ),
        (
            "AI.DAGRUN LOAD 1 ia |> AI.SCRIPTRUN s1 bar INPUTS ia nosuch OUTPUTS o",
            DagInputNotFound,
        ),
    ]);
}

#[test]
fn load_keys_are_read_in_order_as_parsed() {
    let mut keys = golden_keyspace();
    let err = parse_with(
        "AI.DAGEXECUTE LOAD 2 ia ib FOO |> AI.TENSORGET ia",
        &mut keys,
    );
    assert_eq!(err.err(), Some(Error::dag_unexpected_argument(b"FOO")));
    assert_eq!(keys.tensors_read, [b"ia".to_vec(), b"ib".to_vec()]);

    let mut keys = golden_keyspace();
    let err = parse_with("AI.DAGEXECUTE LOAD 3 ia nokey ib |> AI.FOO", &mut keys);
    assert_eq!(err.err(), Some(Error::TensorKeyEmpty));
    assert_eq!(keys.tensors_read, [b"ia".to_vec(), b"nokey".to_vec()]);

    // Nothing is read before the arity check, nor for a read-only PERSIST.
    let mut keys = golden_keyspace();
    assert!(parse_with("AI.DAGEXECUTE LOAD 1 ia |>", &mut keys).is_err());
    assert!(parse_with(
        "AI.DAGEXECUTE_RO PERSIST 1 x LOAD 1 ia |> AI.TENSORGET ia",
        &mut keys
    )
    .is_err());
    assert!(keys.tensors_read.is_empty());
}
