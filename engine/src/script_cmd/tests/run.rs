//! AI.SCRIPTEXECUTE (standalone and in a DAG) and AI.SCRIPTRUN.

use redisai_core::Error;

use super::super::*;
use super::argv;

fn unexpected(token: &str) -> Error {
    Error::script_unexpected_argument(token.as_bytes())
}

#[test]
fn scriptexecute_error_table() {
    use Error::*;
    // (command, in a DAG, error)
    let table: &[(&str, bool, Error)] = &[
        // Row 1 (the arity check alone answers it too, see below).
        ("AI.SCRIPTEXECUTE", false, WrongArity("AI.SCRIPTEXECUTE")),
        ("AI.SCRIPTEXECUTE s1", false, WrongArity("AI.SCRIPTEXECUTE")),
        ("AI.SCRIPTEXECUTE s1", true, WrongArity("AI.SCRIPTEXECUTE")),
        // Row 3: standalone, the first scope is KEYS or INPUTS (argc 3 included).
        ("AI.SCRIPTEXECUTE s1 bar", false, ScriptFirstScope),
        (
            "AI.SCRIPTEXECUTE s1 bar OUTPUTS 2 a a",
            false,
            ScriptFirstScope,
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar ARGS 1 x INPUTS 1 a",
            false,
            ScriptFirstScope,
        ),
        ("AI.SCRIPTEXECUTE s1 bar TIMEOUT 5", false, ScriptFirstScope),
        ("AI.SCRIPTEXECUTE s1 bar FOO", false, ScriptFirstScope),
        (
            "AI.SCRIPTEXECUTE s1 bar |> INPUTS 1 a",
            false,
            ScriptFirstScope,
        ),
        // Row 4: KEYS followed by fewer than 2 arguments.
        ("AI.SCRIPTEXECUTE s1 bar KEYS", false, KeysMissing),
        ("AI.SCRIPTEXECUTE s1 bar KEYS 1", false, KeysMissing),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a KEYS 1",
            false,
            KeysMissing,
        ),
        ("AI.SCRIPTEXECUTE s1 bar KEYS 1", true, KeysMissing),
        // Row 5: KEYS count not an integer or <= 0 (golden: `KEYS x`).
        (
            "AI.SCRIPTEXECUTE s1 bar KEYS x INPUTS 2 ia ib OUTPUTS 1 so1",
            false,
            KeysCount,
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar KEYS not_number key",
            false,
            KeysCount,
        ),
        ("AI.SCRIPTEXECUTE s1 bar KEYS 0 k", false, KeysCount),
        ("AI.SCRIPTEXECUTE s1 bar KEYS -1 k", false, KeysCount),
        ("AI.SCRIPTEXECUTE s1 bar KEYS 1.0 k", false, KeysCount),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a KEYS 01 k",
            false,
            KeysCount,
        ),
        // Row 6: fewer keys than the count.
        ("AI.SCRIPTEXECUTE s1 bar KEYS 2 key", false, KeysArgs),
        ("AI.SCRIPTEXECUTE s1 bar KEYS 3 a b", false, KeysArgs),
        (
            "AI.SCRIPTEXECUTE s1 bar KEYS 9223372036854775807 a",
            false,
            KeysArgs,
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a KEYS 2 k",
            true,
            KeysArgs,
        ),
        // Row 8: INPUTS / ARGS / OUTPUTS without a count.
        ("AI.SCRIPTEXECUTE s1 bar INPUTS", false, ScriptScopeNoCount),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a ARGS",
            false,
            ScriptScopeNoCount,
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar KEYS 1 k OUTPUTS",
            false,
            ScriptScopeNoCount,
        ),
        ("AI.SCRIPTEXECUTE s1 bar OUTPUTS", true, ScriptScopeNoCount),
        // Rows 9-11: a count that is not an integer (ARGS says "keys", sic).
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS x a",
            false,
            ScriptScopeCount("inputs"),
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1.0 a",
            false,
            ScriptScopeCount("inputs"),
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a ARGS x",
            false,
            ScriptScopeCount("keys"),
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar ARGS <empty> x",
            true,
            ScriptScopeCount("keys"),
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a OUTPUTS y",
            false,
            ScriptScopeCount("outputs"),
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a OUTPUTS 99999999999999999999 o",
            false,
            ScriptScopeCount("outputs"),
        ),
        // Row 12: fewer items than the count.
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 3 a b",
            false,
            ScriptScopeArgs("inputs"),
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 9223372036854775807 a",
            false,
            ScriptScopeArgs("inputs"),
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a ARGS 2 x",
            false,
            ScriptScopeArgs("args"),
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a OUTPUTS 5 o",
            false,
            ScriptScopeArgs("outputs"),
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar OUTPUTS 2 o",
            true,
            ScriptScopeArgs("outputs"),
        ),
        // Row 13: a scope repeated.
        (
            "AI.SCRIPTEXECUTE s1 bar KEYS 1 k INPUTS 1 a KEYS 1 k",
            false,
            ScriptScopeRepeated("KEYS"),
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a INPUTS 1 b",
            false,
            ScriptScopeRepeated("INPUTS"),
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a ARGS 1 x ARGS 1 y",
            false,
            ScriptScopeRepeated("ARGS"),
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a OUTPUTS 1 o outputs 1 p",
            false,
            ScriptScopeRepeated("OUTPUTS"),
        ),
        // A repeated scope is refused before its own arguments are read.
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a INPUTS x",
            false,
            ScriptScopeRepeated("INPUTS"),
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar KEYS 1 k KEYS",
            true,
            ScriptScopeRepeated("KEYS"),
        ),
        // Row 14: an unknown token.
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a FOO",
            false,
            unexpected("FOO"),
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 2 a b OUTPUT 1 c",
            false,
            unexpected("OUTPUT"),
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a TIMEOUTS 5",
            false,
            unexpected("TIMEOUTS"),
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a |> x",
            false,
            unexpected("|>"),
        ),
        ("AI.SCRIPTEXECUTE s1 bar FOO", true, unexpected("FOO")),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a LIST_INPUTS 1 b",
            true,
            unexpected("LIST_INPUTS"),
        ),
        // Row 15: TIMEOUT without a value.
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a TIMEOUT",
            false,
            ScriptTimeoutMissing,
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar TIMEOUT",
            true,
            ScriptTimeoutMissing,
        ),
        // Row 16: TIMEOUT not an integer or <= 0.
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a TIMEOUT 0",
            false,
            InvalidTimeout,
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a TIMEOUT -5",
            false,
            InvalidTimeout,
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a TIMEOUT x",
            false,
            InvalidTimeout,
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a TIMEOUT 1.5",
            false,
            InvalidTimeout,
        ),
        // ... checked before what follows it (row 17) and before the DAG rule (row 18).
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a TIMEOUT x OUTPUTS 1 o",
            false,
            InvalidTimeout,
        ),
        ("AI.SCRIPTEXECUTE s1 bar TIMEOUT 0", true, InvalidTimeout),
        // Row 17: anything after the TIMEOUT value.
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a TIMEOUT 5 OUTPUTS 1 b",
            false,
            ScriptAfterTimeout,
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a TIMEOUT 5 5",
            false,
            ScriptAfterTimeout,
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar TIMEOUT 5 x",
            true,
            ScriptAfterTimeout,
        ),
        // Row 18: TIMEOUT inside a DAG, once the op is parsed.
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 1 a TIMEOUT 5",
            true,
            TimeoutInDag,
        ),
        ("AI.SCRIPTEXECUTE s1 bar TIMEOUT 1000", true, TimeoutInDag),
    ];
    for (cmd, in_dag, expected) in table {
        assert_eq!(
            parse_scriptexecute(&argv(cmd), *in_dag).as_ref(),
            Err(expected),
            "{cmd} (in DAG: {in_dag})"
        );
    }
    // The arity check the module runs before it looks the script up.
    for (cmd, ok) in [
        ("AI.SCRIPTEXECUTE", false),
        ("AI.SCRIPTEXECUTE s1", false),
        ("AI.SCRIPTEXECUTE s1 bar", true),
    ] {
        let expected = if ok {
            Ok(())
        } else {
            Err(Error::WrongArity("AI.SCRIPTEXECUTE"))
        };
        assert_eq!(scriptexecute_arity(&argv(cmd)), expected, "{cmd}");
    }
}

/// The parsed lists of a command, as strings: (keys, inputs, args, outputs).
type Lists<'a> = (&'a [&'a str], &'a [&'a str], &'a [&'a str], &'a [&'a str]);

fn strs<'a>(list: &[&'a [u8]]) -> Vec<&'a str> {
    list.iter()
        .map(|a| std::str::from_utf8(a).unwrap())
        .collect()
}

#[test]
fn scriptexecute_parses() {
    // (command, in a DAG, (keys, inputs, args, outputs), timeout)
    let table: &[(&str, bool, Lists, Option<u64>)] = &[
        // The golden successes.
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 2 ia ib OUTPUTS 1 so1",
            false,
            (&[], &["ia", "ib"], &[], &["so1"]),
            None,
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar KEYS 1 ia INPUTS 2 ia ib ARGS 1 z OUTPUTS 1 so2 TIMEOUT 1000",
            false,
            (&["ia"], &["ia", "ib"], &["z"], &["so2"]),
            Some(1000),
        ),
        (
            "AI.SCRIPTEXECUTE s1 scale INPUTS 1 ia ARGS 1 3 OUTPUTS 1 so3",
            false,
            (&[], &["ia"], &["3"], &["so3"]),
            None,
        ),
        (
            "AI.SCRIPTEXECUTE s1 two_out INPUTS 2 ia ib OUTPUTS 2 so4 so5",
            false,
            (&[], &["ia", "ib"], &[], &["so4", "so5"]),
            None,
        ),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 2 ia ib",
            false,
            (&[], &["ia", "ib"], &[], &[]),
            None,
        ),
        // KEYS first; scopes in any order after the first; keywords in any case.
        (
            "ai.scriptexecute s f keys 2 k1 k2 outputs 1 o args 2 x y inputs 1 i timeout 7",
            false,
            (&["k1", "k2"], &["i"], &["x", "y"], &["o"]),
            Some(7),
        ),
        // Keywords as list items; a list item that looks like a count.
        (
            "AI.SCRIPTEXECUTE s f INPUTS 2 OUTPUTS TIMEOUT ARGS 1 KEYS",
            false,
            (&[], &["OUTPUTS", "TIMEOUT"], &["KEYS"], &[]),
            None,
        ),
        // Empty lists; negative counts read as 0 (RedisAI does not reject them).
        (
            "AI.SCRIPTEXECUTE s f INPUTS 0 OUTPUTS 0",
            false,
            (&[], &[], &[], &[]),
            None,
        ),
        (
            "AI.SCRIPTEXECUTE s f INPUTS -1 ARGS -5 OUTPUTS 1 o",
            false,
            (&[], &[], &[], &["o"]),
            None,
        ),
        (
            "AI.SCRIPTEXECUTE s f INPUTS -9223372036854775808 OUTPUTS -1",
            false,
            (&[], &[], &[], &[]),
            None,
        ),
        // In a DAG: any scope first, or none.
        ("AI.SCRIPTEXECUTE s f", true, (&[], &[], &[], &[]), None),
        (
            "AI.SCRIPTEXECUTE s1 bar INPUTS 2 tmp ia OUTPUTS 1 dag_out",
            true,
            (&[], &["tmp", "ia"], &[], &["dag_out"]),
            None,
        ),
        (
            "AI.SCRIPTEXECUTE s f OUTPUTS 1 o ARGS 1 a KEYS 1 k INPUTS 1 i",
            true,
            (&["k"], &["i"], &["a"], &["o"]),
            None,
        ),
    ];
    for (cmd, in_dag, (keys, inputs, args, outputs), timeout) in table {
        let a = argv(cmd);
        let p = parse_scriptexecute(&a, *in_dag).unwrap_or_else(|e| panic!("{cmd}: {e}"));
        assert_eq!((p.key, p.function), (a[1], a[2]), "{cmd}");
        assert_eq!(strs(&p.keys), *keys, "{cmd}");
        assert_eq!(strs(&p.inputs), *inputs, "{cmd}");
        assert_eq!(strs(&p.args), *args, "{cmd}");
        assert_eq!(strs(&p.outputs), *outputs, "{cmd}");
        assert_eq!(p.timeout_ms, *timeout, "{cmd}");
    }
}

#[test]
fn scriptrun_table() {
    use Error::*;
    let errors: &[(&str, bool, Error)] = &[
        ("AI.SCRIPTRUN", false, WrongArity("AI.SCRIPTRUN")),
        ("AI.SCRIPTRUN s", false, WrongArity("AI.SCRIPTRUN")),
        ("AI.SCRIPTRUN s", true, WrongArity("AI.SCRIPTRUN")),
        // TIMEOUT: once, with a valid value.
        (
            "AI.SCRIPTRUN s f TIMEOUT 5 TIMEOUT 6 INPUTS a",
            false,
            ScriptRunTimeoutRepeated,
        ),
        (
            "AI.SCRIPTRUN s f TIMEOUT 5 INPUTS a TIMEOUT 6",
            false,
            ScriptRunTimeoutRepeated,
        ),
        ("AI.SCRIPTRUN s f TIMEOUT", false, TimeoutMissing),
        ("AI.SCRIPTRUN s f INPUTS a TIMEOUT", false, TimeoutMissing),
        ("AI.SCRIPTRUN s f TIMEOUT 0 INPUTS a", false, InvalidTimeout),
        ("AI.SCRIPTRUN s f TIMEOUT x INPUTS a", false, InvalidTimeout),
        // INPUTS / OUTPUTS sections.
        (
            "AI.SCRIPTRUN s f INPUTS a OUTPUTS b INPUTS c",
            false,
            ScriptRunInputsSection,
        ),
        (
            "AI.SCRIPTRUN s f OUTPUTS b INPUTS c",
            false,
            ScriptRunInputsSection,
        ),
        (
            "AI.SCRIPTRUN s f INPUTS INPUTS a",
            false,
            ScriptRunInputsKeyword,
        ),
        (
            "AI.SCRIPTRUN s f INPUTS a inputs b",
            false,
            ScriptRunInputsKeyword,
        ),
        (
            "AI.SCRIPTRUN s f INPUTS a OUTPUTS b OUTPUTS c",
            false,
            ScriptRunOutputsKeyword,
        ),
        (
            "AI.SCRIPTRUN s f OUTPUTS OUTPUTS",
            true,
            ScriptRunOutputsKeyword,
        ),
        // The variadic marker: only among the inputs, once.
        ("AI.SCRIPTRUN s f $ a", false, ScriptRunVariadicOutside),
        (
            "AI.SCRIPTRUN s f INPUTS a OUTPUTS $ b",
            false,
            ScriptRunVariadicOutside,
        ),
        (
            "AI.SCRIPTRUN s f INPUTS a $ b $ c",
            false,
            ScriptRunVariadicRepeated,
        ),
        // A token before INPUTS/OUTPUTS.
        (
            "AI.SCRIPTRUN s f foo INPUTS a",
            false,
            ScriptRunUnrecognized,
        ),
        ("AI.SCRIPTRUN s f TIMEOUT 5 x", false, ScriptRunUnrecognized),
        // TIMEOUT inside AI.DAGRUN, once the op is parsed.
        (
            "AI.SCRIPTRUN s f TIMEOUT 5 INPUTS a OUTPUTS b",
            true,
            TimeoutInDag,
        ),
        (
            "AI.SCRIPTRUN s f INPUTS a OUTPUTS b TIMEOUT 5",
            true,
            TimeoutInDag,
        ),
    ];
    for (cmd, in_dag, expected) in errors {
        assert_eq!(
            parse_scriptrun(&argv(cmd), *in_dag).as_ref(),
            Err(expected),
            "{cmd} (in DAG: {in_dag})"
        );
    }
    // (command, inputs, outputs, timeout)
    type Row<'a> = (&'a str, &'a [&'a str], &'a [&'a str], Option<u64>);
    let parses: &[Row] = &[
        // Golden (the legacy-mode error comes from the backend at run time).
        (
            "AI.SCRIPTRUN s_old bar INPUTS ia ib OUTPUTS s_old_out",
            &["ia", "ib"],
            &["s_old_out"],
            None,
        ),
        // `$` is skipped: the inputs stay one flat list.
        (
            "AI.SCRIPTRUN s f INPUTS a $ b c OUTPUTS o",
            &["a", "b", "c"],
            &["o"],
            None,
        ),
        (
            "AI.SCRIPTRUN s f INPUTS $ a OUTPUTS o",
            &["a"],
            &["o"],
            None,
        ),
        ("AI.SCRIPTRUN s f INPUTS a $", &["a"], &[], None),
        // TIMEOUT anywhere; no INPUTS or no OUTPUTS at all; keywords in any case.
        ("AI.SCRIPTRUN s f", &[], &[], None),
        (
            "ai.scriptrun s f timeout 9 inputs a outputs b",
            &["a"],
            &["b"],
            Some(9),
        ),
        (
            "AI.SCRIPTRUN s f INPUTS a OUTPUTS b TIMEOUT 5",
            &["a"],
            &["b"],
            Some(5),
        ),
        (
            "AI.SCRIPTRUN s f INPUTS a TIMEOUT 5 b",
            &["a", "b"],
            &[],
            Some(5),
        ),
        ("AI.SCRIPTRUN s f OUTPUTS o p", &[], &["o", "p"], None),
        ("AI.SCRIPTRUN s f INPUTS OUTPUTS", &[], &[], None),
    ];
    for (cmd, inputs, outputs, timeout) in parses {
        let a = argv(cmd);
        let p = parse_scriptrun(&a, false).unwrap_or_else(|e| panic!("{cmd}: {e}"));
        assert_eq!((p.key, p.function), (a[1], a[2]), "{cmd}");
        assert_eq!(strs(&p.inputs), *inputs, "{cmd}");
        assert_eq!(strs(&p.outputs), *outputs, "{cmd}");
        assert!(p.keys.is_empty() && p.args.is_empty());
        assert_eq!(p.timeout_ms, *timeout, "{cmd}");
        if timeout.is_none() {
            assert_eq!(parse_scriptrun(&a, true).as_ref(), Ok(&p), "{cmd} in a DAG");
        }
    }
    assert_eq!(
        scriptrun_arity(&argv("AI.SCRIPTRUN s")),
        Err(WrongArity("AI.SCRIPTRUN"))
    );
    assert_eq!(scriptrun_arity(&argv("AI.SCRIPTRUN s f")), Ok(()));
}
