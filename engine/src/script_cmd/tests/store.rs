//! AI.SCRIPTSTORE, AI.SCRIPTSET, AI.SCRIPTGET, AI.SCRIPTDEL, AI._SCRIPTSCAN and the AOF rewrite.

use redisai_core::script::ScriptRecord;
use redisai_core::Error;

use super::super::*;
use super::{argv, SOURCE};

#[test]
fn scriptstore_error_table() {
    use Error::*;
    let table: &[(&str, Error)] = &[
        // Row 1: argc < 8 (the golden cases and the flow tests').
        ("AI.SCRIPTSTORE", WrongArity("AI.SCRIPTSTORE")),
        ("AI.SCRIPTSTORE nope", WrongArity("AI.SCRIPTSTORE")),
        ("AI.SCRIPTSTORE nope SOURCE", WrongArity("AI.SCRIPTSTORE")),
        ("AI.SCRIPTSTORE more CPU", WrongArity("AI.SCRIPTSTORE")),
        (
            "AI.SCRIPTSTORE sx CPU SOURCE <src>",
            WrongArity("AI.SCRIPTSTORE"),
        ),
        (
            "AI.SCRIPTSTORE ket CPU SOURCE return 1",
            WrongArity("AI.SCRIPTSTORE"),
        ),
        (
            "AI.SCRIPTSTORE sx CPU ENTRY_POINTS 1 bar",
            WrongArity("AI.SCRIPTSTORE"),
        ),
        (
            "AI.SCRIPTSTORE sx CPU ENTRY_POINTS 1 bar SOURCE",
            WrongArity("AI.SCRIPTSTORE"),
        ),
        // Row 2: no ENTRY_POINTS where expected (right after the device, or after TAG <tag>).
        (
            "AI.SCRIPTSTORE ket CPU NO_ENTRY_POINTS 2 bar bar_variadic SOURCE <src>",
            MissingEntryPoints,
        ),
        (
            "AI.SCRIPTSTORE k CPU SOURCE <src> ENTRY_POINTS 1 bar",
            MissingEntryPoints,
        ),
        (
            "AI.SCRIPTSTORE k CPU TAG t SOURCE <src> x y",
            MissingEntryPoints,
        ),
        (
            "AI.SCRIPTSTORE k CPU TAG ENTRY_POINTS 1 bar SOURCE <src>",
            MissingEntryPoints,
        ),
        (
            "AI.SCRIPTSTORE k CPU TAG t TAG t ENTRY_POINTS 1 bar SOURCE <src>",
            MissingEntryPoints,
        ),
        // Row 3: the count is not a number (an integral double is one).
        (
            "AI.SCRIPTSTORE ket CPU ENTRY_POINTS ENTRY_POINTS bar bar_variadic SOURCE <src>",
            EntryPointsCount,
        ),
        (
            "AI.SCRIPTSTORE k CPU ENTRY_POINTS 1.5 bar SOURCE <src>",
            EntryPointsCount,
        ),
        (
            "AI.SCRIPTSTORE k CPU ENTRY_POINTS <empty> bar SOURCE <src>",
            EntryPointsCount,
        ),
        (
            "AI.SCRIPTSTORE k CPU ENTRY_POINTS 99999999999999999999 bar SOURCE <src>",
            EntryPointsCount,
        ),
        (
            "AI.SCRIPTSTORE k CPU TAG t ENTRY_POINTS nan bar SOURCE <src>",
            EntryPointsCount,
        ),
        // Row 4: fewer names than the count (a negative count is a huge one).
        (
            "AI.SCRIPTSTORE k CPU ENTRY_POINTS 5 a b c d",
            MissingEntryPoints,
        ),
        (
            "AI.SCRIPTSTORE k CPU ENTRY_POINTS 9 bar SOURCE <src> x y",
            MissingEntryPoints,
        ),
        (
            "AI.SCRIPTSTORE k CPU ENTRY_POINTS -1 bar SOURCE <src>",
            MissingEntryPoints,
        ),
        (
            "AI.SCRIPTSTORE k CPU ENTRY_POINTS -9223372036854775808 bar SOURCE <src>",
            MissingEntryPoints,
        ),
        (
            "AI.SCRIPTSTORE k CPU ENTRY_POINTS 9223372036854775807 bar SOURCE <src>",
            MissingEntryPoints,
        ),
        // Row 5: SOURCE missing or without a value (golden: the count swallows SOURCE).
        (
            "AI.SCRIPTSTORE sx CPU ENTRY_POINTS 2 bar SOURCE <src>",
            MissingScriptSource,
        ),
        (
            "AI.SCRIPTSTORE ket CPU ENTRY_POINTS 2 bar bar_variadic SOURCE",
            MissingScriptSource,
        ),
        (
            "AI.SCRIPTSTORE k CPU ENTRY_POINTS 1 bar SOURCES <src>",
            MissingScriptSource,
        ),
        (
            "AI.SCRIPTSTORE k CPU ENTRY_POINTS 1 bar TAG t SOURCE <src>",
            MissingScriptSource,
        ),
        (
            "AI.SCRIPTSTORE k CPU ENTRY_POINTS 0 SOURCES <src> x",
            MissingScriptSource,
        ),
    ];
    for (cmd, expected) in table {
        assert_eq!(
            parse_scriptstore(&argv(cmd)).as_ref(),
            Err(expected),
            "{cmd}"
        );
    }
}

#[test]
fn scriptstore_parses() {
    let a = argv(
        "AI.SCRIPTSTORE s1 CPU TAG st1 ENTRY_POINTS 4 bar bar_variadic scale two_out SOURCE <src>",
    );
    let parsed = parse_scriptstore(&a).unwrap();
    assert_eq!(
        parsed,
        ScriptStoreArgs {
            key: b"s1",
            device: b"CPU",
            tag: b"st1",
            entry_points: vec![&b"bar"[..], b"bar_variadic", b"scale", b"two_out"],
            source: SOURCE.as_bytes(),
        }
    );
    assert_eq!(
        parsed.into_record(),
        ScriptRecord {
            device: "CPU".into(),
            tag: b"st1".to_vec(),
            source: SOURCE.as_bytes().to_vec(),
            entry_points: vec![
                b"bar".to_vec(),
                b"bar_variadic".to_vec(),
                b"scale".to_vec(),
                b"two_out".to_vec()
            ],
        }
    );
    // (command, device, tag, entry points, source)
    type Row<'a> = (&'a str, &'a str, &'a str, &'a [&'a str], &'a str);
    let table: &[Row] = &[
        // Keywords are case-insensitive; the device is not validated (the backend does).
        (
            "ai.scriptstore k xpu tag t entry_points 1 bar source s",
            "xpu",
            "t",
            &["bar"],
            "s",
        ),
        // An integral double count; arguments after the source are ignored.
        (
            "AI.SCRIPTSTORE k GPU:1 ENTRY_POINTS 2.0 a b SOURCE s extra",
            "GPU:1",
            "",
            &["a", "b"],
            "s",
        ),
        (
            "AI.SCRIPTSTORE k CPU ENTRY_POINTS 1e0 a SOURCE s",
            "CPU",
            "",
            &["a"],
            "s",
        ),
        // No entry points at all; keywords as names and as the source.
        (
            "AI.SCRIPTSTORE k CPU ENTRY_POINTS 0 SOURCE s x",
            "CPU",
            "",
            &[],
            "s",
        ),
        (
            "AI.SCRIPTSTORE k CPU ENTRY_POINTS 2 SOURCE TAG SOURCE SOURCE",
            "CPU",
            "",
            &["SOURCE", "TAG"],
            "SOURCE",
        ),
        (
            "AI.SCRIPTSTORE k CPU TAG <empty> ENTRY_POINTS 1 f SOURCE <empty>",
            "CPU",
            "",
            &["f"],
            "",
        ),
    ];
    for (cmd, device, tag, entry_points, source) in table {
        let a = argv(cmd);
        let p = parse_scriptstore(&a).unwrap_or_else(|e| panic!("{cmd}: {e}"));
        assert_eq!(p.key, b"k", "{cmd}");
        assert_eq!(p.device, device.as_bytes(), "{cmd}");
        assert_eq!(p.tag, tag.as_bytes(), "{cmd}");
        let names: Vec<&[u8]> = entry_points.iter().map(|n| n.as_bytes()).collect();
        assert_eq!(p.entry_points, names, "{cmd}");
        assert_eq!(p.source, source.as_bytes(), "{cmd}");
    }
}

#[test]
fn records_keep_c_strings_as_redisai_does() {
    let a: Vec<&[u8]> = vec![
        b"AI.SCRIPTSTORE",
        b"k",
        b"CPU\0x",
        b"TAG",
        b"t\0ag",
        b"ENTRY_POINTS",
        b"2",
        b"f\0g",
        b"\xffh",
        b"SOURCE",
        b"def f(a):\n    return a\n\0junk",
    ];
    let record = parse_scriptstore(&a).unwrap().into_record();
    assert_eq!(record.device, "CPU");
    assert_eq!(record.tag, b"t\0ag");
    assert_eq!(record.entry_points, vec![b"f".to_vec(), b"\xffh".to_vec()]);
    assert_eq!(record.source, b"def f(a):\n    return a\n");
}

#[test]
fn scriptset_table() {
    use Error::*;
    let errors: &[(&str, Error)] = &[
        // Exactly 5 or 7 arguments.
        ("AI.SCRIPTSET", WrongArity("AI.SCRIPTSET")),
        ("AI.SCRIPTSET k CPU SOURCE", WrongArity("AI.SCRIPTSET")),
        (
            "AI.SCRIPTSET k CPU TAG t SOURCE",
            WrongArity("AI.SCRIPTSET"),
        ),
        ("AI.SCRIPTSET k CPU x SOURCE s", WrongArity("AI.SCRIPTSET")),
        (
            "AI.SCRIPTSET k CPU TAG t SOURCE s x",
            WrongArity("AI.SCRIPTSET"),
        ),
        // SOURCE missing where expected.
        ("AI.SCRIPTSET k CPU TAG t", MissingScriptSource),
        ("AI.SCRIPTSET k CPU BLOB s", MissingScriptSource),
        ("AI.SCRIPTSET k CPU TAG SOURCE", MissingScriptSource),
        ("AI.SCRIPTSET k CPU X SOURCE s y", MissingScriptSource),
        ("AI.SCRIPTSET k CPU TAG t SOURCES s", MissingScriptSource),
    ];
    for (cmd, expected) in errors {
        assert_eq!(parse_scriptset(&argv(cmd)).as_ref(), Err(expected), "{cmd}");
    }
    // (command, device, tag, source); never entry points.
    let parses: &[(&str, &str, &str, &str)] = &[
        ("AI.SCRIPTSET s_old CPU SOURCE <src>", "CPU", "", SOURCE),
        ("ai.scriptset k gpu:0 tag v1 source s", "gpu:0", "v1", "s"),
        // Arguments after the source are ignored.
        ("AI.SCRIPTSET k CPU SOURCE s x y", "CPU", "", "s"),
        (
            "AI.SCRIPTSET k CPU TAG <empty> SOURCE <empty>",
            "CPU",
            "",
            "",
        ),
    ];
    for (cmd, device, tag, source) in parses {
        let a = argv(cmd);
        let p = parse_scriptset(&a).unwrap_or_else(|e| panic!("{cmd}: {e}"));
        assert_eq!(
            (p.device, p.tag, p.source),
            (device.as_bytes(), tag.as_bytes(), source.as_bytes()),
            "{cmd}"
        );
        assert!(p.entry_points.is_empty());
    }
}

#[test]
fn scriptget_del_scan() {
    use ScriptGetReply::*;
    fn arity<T>(name: &'static str) -> Result<T, Error> {
        Err(Error::WrongArity(name))
    }
    for cmd in ["AI.SCRIPTGET", "AI.SCRIPTGET s META SOURCE x"] {
        assert_eq!(parse_scriptget(&argv(cmd)), arity("AI.SCRIPTGET"), "{cmd}");
    }
    let table: &[(&str, ScriptGetReply)] = &[
        ("AI.SCRIPTGET s1", MetaAndSource),
        ("AI.SCRIPTGET s1 META", Meta),
        ("AI.SCRIPTGET s1 SOURCE", Source),
        ("AI.SCRIPTGET s1 META SOURCE", MetaAndSource),
        ("AI.SCRIPTGET s1 source meta", MetaAndSource),
        ("AI.SCRIPTGET s1 Meta Meta", Meta),
        // Unknown options are ignored.
        ("AI.SCRIPTGET s1 BLOB", MetaAndSource),
        ("AI.SCRIPTGET s1 BLOB SOURCE", Source),
        ("AI.SCRIPTGET s1 META x", Meta),
    ];
    for (cmd, reply) in table {
        let parsed = parse_scriptget(&argv(cmd)).unwrap();
        assert_eq!(parsed.key, b"s1", "{cmd}");
        assert_eq!(parsed.reply, *reply, "{cmd}");
    }
    for cmd in ["AI.SCRIPTDEL", "AI.SCRIPTDEL a b"] {
        assert_eq!(scriptdel_arity(&argv(cmd)), arity("AI.SCRIPTDEL"), "{cmd}");
    }
    assert_eq!(scriptdel_arity(&argv("AI.SCRIPTDEL s_del")), Ok(()));
    assert_eq!(
        scriptscan_arity(&argv("AI._SCRIPTSCAN x")),
        arity("AI._SCRIPTSCAN")
    );
    assert_eq!(scriptscan_arity(&argv("AI._SCRIPTSCAN")), Ok(()));
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
fn aof_rewrite_matches_redisai_for_entry_points() {
    let aof = include_bytes!("../../../../tests/golden/aof-rewrite-example.aof");
    let commands = resp_commands(aof);
    let golden = commands
        .iter()
        .find(|c| c[0] == b"AI.SCRIPTSTORE")
        .expect("a script in the AOF");
    let record = parse_scriptstore(golden).unwrap().into_record();
    assert_eq!(record.entry_points, vec![b"bar".to_vec()]);
    assert_eq!(record.source, SOURCE.as_bytes());
    let ours = scriptstore_command(golden[1], &record);
    assert_eq!(ours.argv(), *golden);
}

#[test]
fn aof_rewrite_replays_to_the_same_record() {
    let with_entry_points = ScriptRecord {
        device: "GPU:1".into(),
        tag: b"v\x001".to_vec(),
        source: SOURCE.as_bytes().to_vec(),
        entry_points: vec![
            b"bar".to_vec(),
            b"SOURCE".to_vec(),
            b"ENTRY_POINTS".to_vec(),
        ],
    };
    let command = scriptstore_command(b"k", &with_entry_points);
    assert_eq!(command.name, "AI.SCRIPTSTORE");
    let argv = command.argv();
    assert_eq!(
        parse_scriptstore(&argv).unwrap().into_record(),
        with_entry_points
    );

    // No entry points (AI.SCRIPTSET, RDB v0-v2): AI.SCRIPTSET, with the tag even when empty.
    for tag in [&b""[..], b"t1", b"SOURCE"] {
        let without = ScriptRecord {
            device: "CPU".into(),
            tag: tag.to_vec(),
            source: b"def bar(a, b):\n    return a + b\n".to_vec(),
            entry_points: Vec::new(),
        };
        let command = scriptstore_command(b"s_old", &without);
        assert_eq!(command.name, "AI.SCRIPTSET");
        let argv = command.argv();
        assert_eq!(
            argv,
            vec![
                &b"AI.SCRIPTSET"[..],
                b"s_old",
                b"CPU",
                b"TAG",
                tag,
                b"SOURCE",
                &without.source
            ]
        );
        assert_eq!(parse_scriptset(&argv).unwrap().into_record(), without);
    }
}
