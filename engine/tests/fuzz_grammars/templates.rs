//! The keywords of each grammar and near-valid commands built from them.

#![allow(unused_imports)]
use super::*;

pub(crate) static DTYPE_NAMES: [&str; 12] = [
    "FLOAT", "DOUBLE", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "BOOL", "STRING",
    "FLOAT16", "UINT32",
];

pub(crate) const TENSOR_WORDS: &[&str] = &[
    "AI.TENSORSET",
    "AI.TENSORGET",
    "FLOAT",
    "DOUBLE",
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "UINT8",
    "UINT16",
    "BOOL",
    "STRING",
    "FLOAT16",
    "BLOB",
    "VALUES",
    "META",
];

pub(crate) const MODEL_WORDS: &[&str] = &[
    "AI.MODELSTORE",
    "AI.MODELSET",
    "AI.MODELGET",
    "AI.MODELDEL",
    "AI.MODELEXECUTE",
    "AI.MODELRUN",
    "TF",
    "TFLITE",
    "TORCH",
    "ONNX",
    "CPU",
    "GPU",
    "CPU:0",
    "gpu:1",
    "GPU:",
    "CPU:123456",
    "TAG",
    "BATCHSIZE",
    "MINBATCHSIZE",
    "MINBATCHTIMEOUT",
    "INPUTS",
    "OUTPUTS",
    "BLOB",
    "META",
    "TIMEOUT",
];

pub(crate) const ADMIN_WORDS: &[&str] = &[
    "AI.CONFIG",
    "AI.INFO",
    "LOADBACKEND",
    "BACKENDSPATH",
    "MODEL_CHUNK_SIZE",
    "GET",
    "RESETSTAT",
    "TF",
    "TFLITE",
    "TORCH",
    "ONNX",
    "/usr/lib/redisai/backends",
    "redisai_onnxruntime/redisai_onnxruntime.so",
];

pub(crate) const DAG_WORDS: &[&str] = &[
    "AI.DAGEXECUTE",
    "AI.DAGEXECUTE_RO",
    "AI.DAGRUN",
    "AI.DAGRUN_RO",
    "LOAD",
    "PERSIST",
    "ROUTING",
    "TIMEOUT",
    "|>",
    "AI.TENSORSET",
    "AI.TENSORGET",
    "AI.MODELEXECUTE",
    "AI.MODELRUN",
    "AI.SCRIPTEXECUTE",
    "AI.SCRIPTRUN",
    "INPUTS",
    "OUTPUTS",
    "KEYS",
    "ARGS",
    "FLOAT",
    "INT8",
    "STRING",
    "BLOB",
    "VALUES",
    "META",
];

pub(crate) const SCRIPT_WORDS: &[&str] = &[
    "AI.SCRIPTSTORE",
    "AI.SCRIPTSET",
    "AI.SCRIPTGET",
    "AI.SCRIPTDEL",
    "AI._SCRIPTSCAN",
    "AI.SCRIPTEXECUTE",
    "AI.SCRIPTRUN",
    "CPU",
    "GPU:0",
    "TAG",
    "ENTRY_POINTS",
    "SOURCE",
    "META",
    "KEYS",
    "INPUTS",
    "ARGS",
    "OUTPUTS",
    "LIST_INPUTS",
    "TIMEOUT",
    "$",
    "bar",
    "def bar(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0]\n",
];

pub(crate) fn dtype_name() -> impl Strategy<Value = &'static str> {
    prop_oneof![9 => select(&DTYPE_NAMES[..10]), 1 => select(&DTYPE_NAMES[10..])]
}

/// A VALUES element: mostly valid for most dtypes.
pub(crate) fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => (0i64..100).prop_map(|n| n.to_string().into_bytes()),
        1 => select(vec!["1.5", "-1", "1e3", "0x10", "abc", "nan", "inf", "", "a\0"]).prop_map(bytes),
    ]
}

/// `AI.TENSORSET <name> <dtype> <dims> [BLOB <data> | VALUES <values>]`, data of the right size
/// most of the time.
pub(crate) fn tensorset_op(name: BoxedStrategy<Vec<u8>>) -> BoxedStrategy<Argv> {
    (name, dtype_name(), vec(1i64..4, 0..3), 0u8..5)
        .prop_flat_map(|(name, dtype, dims, kind)| {
            let n = dims.iter().product::<i64>() as usize;
            let count = if kind == 4 { n + 1 } else { n };
            (Just((name, dtype, dims, kind, n)), vec(value(), count))
        })
        .prop_map(|((name, dtype, dims, kind, n), values)| {
            let mut argv = vec![bytes("AI.TENSORSET"), name, bytes(dtype)];
            argv.extend(dims.iter().map(|d| d.to_string().into_bytes()));
            match kind {
                0 => {}
                1 => {
                    argv.push(bytes("BLOB"));
                    argv.push(match DType::parse(dtype.as_bytes()) {
                        Ok(DType::String) => b"s\0".repeat(n),
                        Ok(d) => vec![0; n * d.size()],
                        Err(_) => vec![0; n],
                    });
                }
                _ => {
                    argv.push(bytes("VALUES"));
                    argv.extend(values);
                }
            }
            argv
        })
        .boxed()
}

pub(crate) fn tensorget_op(name: BoxedStrategy<Vec<u8>>) -> BoxedStrategy<Argv> {
    (name, vec(select(vec!["META", "BLOB", "VALUES"]), 0..3))
        .prop_map(|(name, options)| {
            let mut argv = vec![bytes("AI.TENSORGET"), name];
            argv.extend(options.into_iter().map(bytes));
            argv
        })
        .boxed()
}

/// A count near `n`: usually `n`.
pub(crate) fn count_near(n: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => Just(n.to_string().into_bytes()),
        1 => Just((n + 1).to_string().into_bytes()),
        1 => Just(n.saturating_sub(1).to_string().into_bytes()),
        1 => number(),
    ]
}

/// `AI.MODELEXECUTE <key> INPUTS <n> <in>... OUTPUTS <m> <out>... [TIMEOUT <t>]`.
pub(crate) fn modelexecute_op(key: BoxedStrategy<Vec<u8>>) -> BoxedStrategy<Argv> {
    let names = || prop_oneof![6 => vec(key_name(), 1..3), 1 => vec(key_name(), 0..5)];
    (key, names(), names())
        .prop_flat_map(|(key, ins, outs)| {
            let (n, m) = (ins.len(), outs.len());
            (
                Just((key, ins, outs)),
                count_near(n),
                count_near(m),
                proptest::option::weighted(0.2, small_count()),
            )
        })
        .prop_map(|((key, ins, outs), n, m, timeout)| {
            join(vec![
                vec![bytes("AI.MODELEXECUTE"), key, bytes("INPUTS"), n],
                ins,
                vec![bytes("OUTPUTS"), m],
                outs,
                timeout
                    .map(|t| vec![bytes("TIMEOUT"), t])
                    .unwrap_or_default(),
            ])
        })
        .boxed()
}

/// `AI.MODELRUN <key> [TIMEOUT <t>] INPUTS <in>... OUTPUTS <out>...`.
pub(crate) fn modelrun_op(key: BoxedStrategy<Vec<u8>>) -> BoxedStrategy<Argv> {
    (
        key,
        proptest::option::weighted(0.2, number()),
        vec(key_name(), 0..4),
        vec(key_name(), 0..4),
    )
        .prop_map(|(key, timeout, ins, outs)| {
            join(vec![
                vec![bytes("AI.MODELRUN"), key],
                timeout
                    .map(|t| vec![bytes("TIMEOUT"), t])
                    .unwrap_or_default(),
                vec![bytes("INPUTS")],
                ins,
                vec![bytes("OUTPUTS")],
                outs,
            ])
        })
        .boxed()
}

/// A list of `names` with its count (near its length), or nothing.
pub(crate) fn counted(keyword: &'static str, names: BoxedStrategy<Vec<u8>>) -> BoxedStrategy<Argv> {
    proptest::option::weighted(0.6, vec(names, 0..4))
        .prop_flat_map(move |list| {
            let n = list.as_ref().map_or(0, Vec::len);
            (Just(list), count_near(n))
        })
        .prop_map(move |(list, n)| match list {
            None => Vec::new(),
            Some(list) => join(vec![vec![bytes(keyword), n], list]),
        })
        .boxed()
}

/// `AI.SCRIPTEXECUTE <key> <fn> [KEYS ..] [INPUTS ..] [ARGS ..] [OUTPUTS ..] [TIMEOUT <t>]`,
/// the scopes in the usual order (KEYS or INPUTS first) or shuffled, inputs named by `input`
/// and outputs by `output`.
pub(crate) fn scriptexecute_op(
    key: BoxedStrategy<Vec<u8>>,
    input: BoxedStrategy<Vec<u8>>,
    output: BoxedStrategy<Vec<u8>>,
) -> BoxedStrategy<Argv> {
    let scopes = vec![
        counted("KEYS", key_name().boxed()),
        counted("INPUTS", input),
        counted("ARGS", prop_oneof![3 => number(), 1 => key_name()].boxed()),
        counted("OUTPUTS", output),
    ];
    (
        key,
        select(vec!["bar", "scale", "nosuchfn"]),
        prop_oneof![3 => Just(scopes.clone()).boxed(), 1 => Just(scopes).prop_shuffle().boxed()]
            .prop_flat_map(|scopes| scopes),
        proptest::option::weighted(0.2, small_count()),
    )
        .prop_map(|(key, function, scopes, timeout)| {
            join(vec![
                vec![bytes("AI.SCRIPTEXECUTE"), key, bytes(function)],
                join(scopes),
                timeout
                    .map(|t| vec![bytes("TIMEOUT"), t])
                    .unwrap_or_default(),
            ])
        })
        .boxed()
}

/// `AI.SCRIPTRUN <key> <fn> [TIMEOUT <t>] INPUTS <in>... [$ <in>...] OUTPUTS <out>...`.
pub(crate) fn scriptrun_op(
    key: BoxedStrategy<Vec<u8>>,
    input: BoxedStrategy<Vec<u8>>,
    output: BoxedStrategy<Vec<u8>>,
) -> BoxedStrategy<Argv> {
    (
        key,
        proptest::option::weighted(0.2, number()),
        vec(input.clone(), 0..3),
        proptest::option::weighted(0.3, vec(input, 0..3)),
        vec(output, 0..3),
    )
        .prop_map(|(key, timeout, ins, variadic, outs)| {
            join(vec![
                vec![bytes("AI.SCRIPTRUN"), key, bytes("bar")],
                timeout
                    .map(|t| vec![bytes("TIMEOUT"), t])
                    .unwrap_or_default(),
                vec![bytes("INPUTS")],
                ins,
                variadic
                    .map(|v| join(vec![vec![bytes("$")], v]))
                    .unwrap_or_default(),
                vec![bytes("OUTPUTS")],
                outs,
            ])
        })
        .boxed()
}

/// A TorchScript source, sometimes with a NUL or odd bytes.
pub(crate) fn script_source() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => Just(bytes("def bar(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0]\n")),
        1 => vec(any::<u8>(), 0..12),
    ]
}

/// `AI.SCRIPTSTORE <key> <device> [TAG t] ENTRY_POINTS <n> <fn>... SOURCE <src>`.
pub(crate) fn scriptstore_template() -> BoxedStrategy<Argv> {
    (
        key_name(),
        device_name(),
        proptest::option::weighted(0.3, key_name()),
        vec(
            select(vec!["bar", "scale", "two_out", "SOURCE", "f\0g"]),
            0..4,
        ),
        script_source(),
    )
        .prop_flat_map(|(key, device, tag, names, source)| {
            let n = names.len();
            (Just((key, device, tag, names, source)), count_near(n))
        })
        .prop_map(|((key, device, tag, names, source), n)| {
            join(vec![
                vec![bytes("AI.SCRIPTSTORE"), key, bytes(device)],
                tag.map(|t| vec![bytes("TAG"), t]).unwrap_or_default(),
                vec![bytes("ENTRY_POINTS"), n],
                toks(&names),
                vec![bytes("SOURCE"), source],
            ])
        })
        .boxed()
}

/// `AI.SCRIPTSET <key> <device> [TAG t] SOURCE <src>`.
pub(crate) fn scriptset_template() -> BoxedStrategy<Argv> {
    (
        key_name(),
        device_name(),
        proptest::option::weighted(0.5, key_name()),
        script_source(),
    )
        .prop_map(|(key, device, tag, source)| {
            join(vec![
                vec![bytes("AI.SCRIPTSET"), key, bytes(device)],
                tag.map(|t| vec![bytes("TAG"), t]).unwrap_or_default(),
                vec![bytes("SOURCE"), source],
            ])
        })
        .boxed()
}

pub(crate) fn backend_name() -> impl Strategy<Value = &'static str> {
    select(vec!["TF", "TFLITE", "TORCH", "ONNX", "TF", "ONNX", "FOO"])
}

pub(crate) fn device_name() -> impl Strategy<Value = &'static str> {
    select(vec![
        "CPU",
        "GPU",
        "cpu:0",
        "GPU:12",
        "CPU:",
        "GPU:123456",
        "CUDA",
        "BLOB",
        "abcdefghijk",
    ])
}

/// A count option's value: mostly a small valid one.
pub(crate) fn small_count() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![6 => (0i64..10).prop_map(|n| n.to_string().into_bytes()), 1 => number()]
}

/// BATCHSIZE [MINBATCHSIZE [MINBATCHTIMEOUT]] with numbers.
pub(crate) fn batching_options() -> impl Strategy<Value = Argv> {
    proptest::option::weighted(
        0.5,
        (
            small_count(),
            proptest::option::weighted(
                0.6,
                (
                    small_count(),
                    proptest::option::weighted(0.6, small_count()),
                ),
            ),
        ),
    )
    .prop_map(|batch| match batch {
        None => Vec::new(),
        Some((b, min)) => {
            let mut argv = vec![bytes("BATCHSIZE"), b];
            if let Some((m, timeout)) = min {
                argv.extend([bytes("MINBATCHSIZE"), m]);
                if let Some(t) = timeout {
                    argv.extend([bytes("MINBATCHTIMEOUT"), t]);
                }
            }
            argv
        }
    })
}

/// `AI.MODELSTORE <key> <backend> <device> [TAG t] [batching] [INPUTS n .. OUTPUTS m ..] BLOB ..`
pub(crate) fn modelstore_template() -> BoxedStrategy<Argv> {
    (
        key_name(),
        backend_name(),
        device_name(),
        proptest::option::weighted(0.3, key_name()),
        batching_options(),
        proptest::option::weighted(0.6, (vec(key_name(), 1..3), vec(key_name(), 0..3))),
        prop_oneof![1 => vec(vec(any::<u8>(), 0..6), 0..1), 6 => vec(vec(any::<u8>(), 0..6), 1..3)],
    )
        .prop_flat_map(|(key, backend, device, tag, batching, io, blob)| {
            let (n, m) = io.as_ref().map_or((0, 0), |(i, o)| (i.len(), o.len()));
            (
                Just((key, backend, device, tag, batching, io, blob)),
                count_near(n),
                count_near(m),
            )
        })
        .prop_map(|((key, backend, device, tag, batching, io, blob), n, m)| {
            join(vec![
                vec![bytes("AI.MODELSTORE"), key, bytes(backend), bytes(device)],
                tag.map(|t| vec![bytes("TAG"), t]).unwrap_or_default(),
                batching,
                io.map(|(ins, outs)| {
                    join(vec![
                        vec![bytes("INPUTS"), n],
                        ins,
                        vec![bytes("OUTPUTS"), m],
                        outs,
                    ])
                })
                .unwrap_or_default(),
                vec![bytes("BLOB")],
                blob,
            ])
        })
        .boxed()
}

/// `AI.MODELSET <key> <backend> <device> [TAG t] [batching] [INPUTS .. OUTPUTS ..] BLOB ..`
pub(crate) fn modelset_template() -> BoxedStrategy<Argv> {
    (
        key_name(),
        backend_name(),
        device_name(),
        proptest::option::weighted(0.3, key_name()),
        batching_options(),
        proptest::option::weighted(0.6, (vec(key_name(), 0..3), vec(key_name(), 0..3))),
        vec(vec(any::<u8>(), 0..6), 0..3),
    )
        .prop_map(|(key, backend, device, tag, batching, io, blob)| {
            join(vec![
                vec![bytes("AI.MODELSET"), key, bytes(backend), bytes(device)],
                tag.map(|t| vec![bytes("TAG"), t]).unwrap_or_default(),
                batching,
                io.map(|(ins, outs)| {
                    join(vec![
                        vec![bytes("INPUTS")],
                        ins,
                        vec![bytes("OUTPUTS")],
                        outs,
                    ])
                })
                .unwrap_or_default(),
                vec![bytes("BLOB")],
                blob,
            ])
        })
        .boxed()
}

pub(crate) fn config_template() -> BoxedStrategy<Argv> {
    prop_oneof![
        (backend_name(), select(vec!["b.so", "/abs/b.so", ""])).prop_map(|(b, p)| toks(&[
            "AI.CONFIG",
            "LOADBACKEND",
            b,
            p
        ])),
        Just(toks(&["AI.CONFIG", "BACKENDSPATH", "/opt/backends"])),
        number().prop_map(|n| vec![bytes("AI.CONFIG"), bytes("MODEL_CHUNK_SIZE"), n]),
        select(vec!["BACKENDSPATH", "MODEL_CHUNK_SIZE", "FOO"]).prop_map(|name| toks(&[
            "AI.CONFIG",
            "GET",
            name
        ])),
    ]
    .boxed()
}

/// A DAG that mostly makes sense: LOAD of existing tensors, ops whose inputs are the loaded
/// names and whose model keys and counts match the models of the double, PERSIST of loaded
/// names; options in any order. Mutations then break it.
pub(crate) fn dag_template() -> BoxedStrategy<(DagCommand, Argv)> {
    (dag_command(), proptest::sample::subsequence(vec!["a", "b", "ia", "ib", "x"], 1..=5))
        .prop_flat_map(|(command, loaded)| {
            let input = || select(loaded.clone()).prop_map(bytes).boxed();
            let output = || select(vec!["y", "z", "a"]).prop_map(bytes).boxed();
            let model = prop_oneof![
                6 => select(vec![("m", 1, 1), ("m2", 2, 1), ("m12", 1, 2)]),
                1 => select(vec![("m0", 0, 0), ("nokey", 1, 1), ("plain", 1, 1)]),
            ];
            let model_op = (model, vec(input(), 2), vec(output(), 2)).prop_map(
                move |((key, ni, no), ins, outs): ((&str, usize, usize), Argv, Argv)| {
                    let (ins, outs) = (ins[..ni].to_vec(), outs[..no].to_vec());
                    if command.deprecated() {
                        join(vec![toks(&["AI.MODELRUN", key, "INPUTS"]), ins, toks(&["OUTPUTS"]), outs])
                    } else {
                        join(vec![
                            vec![bytes("AI.MODELEXECUTE"), bytes(key), bytes("INPUTS"), ni.to_string().into_bytes()],
                            ins,
                            vec![bytes("OUTPUTS"), no.to_string().into_bytes()],
                            outs,
                        ])
                    }
                },
            );
            let any_key = || select(vec!["m", "m2", "m12", "m0", "nokey", "plain", "s"]).prop_map(bytes).boxed();
            let script_key = || prop_oneof![6 => Just(bytes("s")), 1 => Just(bytes("s2")), 1 => any_key()].boxed();
            let script_op = if command.deprecated() {
                scriptrun_op(script_key(), input(), output())
            } else {
                scriptexecute_op(script_key(), input(), output())
            };
            let op = prop_oneof![
                4 => tensorset_op(output()),
                4 => tensorget_op(input()),
                12 => model_op,
                6 => script_op,
                1 => modelexecute_op(any_key()),
                1 => modelrun_op(any_key()),
                1 => (any_key(), vec(input(), 0..3)).prop_map(|(k, rest)| join(vec![vec![bytes("AI.SCRIPTEXECUTE"), k, bytes("f"), bytes("KEYS")], rest])),
                1 => (any_key(), vec(input(), 0..3)).prop_map(|(k, rest)| join(vec![vec![bytes("AI.SCRIPTRUN"), k, bytes("f"), bytes("INPUTS")], rest])),
                1 => Just(Vec::new()),
            ];
            let load = {
                let loaded = loaded.clone();
                let n = loaded.len();
                let count = prop_oneof![8 => Just(n.to_string().into_bytes()), 1 => count_near(n)];
                proptest::option::weighted(0.85, count).prop_map(move |n| {
                    n.map(|n| join(vec![vec![bytes("LOAD"), n], toks(&loaded)])).unwrap_or_default()
                })
            };
            let persist = proptest::option::weighted(
                if command.read_only() { 0.1 } else { 0.4 },
                proptest::sample::subsequence(loaded.clone(), 1..=loaded.len()),
            )
            .prop_map(|names| {
                names
                    .map(|names| join(vec![vec![bytes("PERSIST"), names.len().to_string().into_bytes()], toks(&names)]))
                    .unwrap_or_default()
            });
            let routing = proptest::option::weighted(0.3, key_name())
                .prop_map(|k| k.map(|k| vec![bytes("ROUTING"), k]).unwrap_or_default());
            let timeout = proptest::option::weighted(0.3, prop_oneof![4 => (1i64..1000).prop_map(|n| n.to_string().into_bytes()), 1 => number()])
                .prop_map(|t| t.map(|t| vec![bytes("TIMEOUT"), t]).unwrap_or_default());
            (
                Just(command),
                vec![load.boxed(), persist.boxed(), routing.boxed(), timeout.boxed()].prop_shuffle(),
                vec(op, 1..4),
            )
        })
        .prop_map(|(command, options, ops)| {
            let mut argv = vec![bytes(command.name())];
            argv.extend(options.into_iter().flatten());
            for op in ops {
                argv.push(bytes("|>"));
                argv.extend(op);
            }
            (command, argv)
        })
        .boxed()
}

pub(crate) fn dag_command() -> impl Strategy<Value = DagCommand> {
    select(vec![
        DagCommand::Execute,
        DagCommand::ExecuteRo,
        DagCommand::Run,
        DagCommand::RunRo,
    ])
}

/// DAG commands: near-valid (mutated) or random, with the command the argv names.
pub(crate) fn dag_commands() -> BoxedStrategy<(DagCommand, Argv)> {
    prop_oneof![
        1 => (dag_command(), vec(token(DAG_WORDS), 0..30)).prop_map(|(c, rest)| {
            (c, std::iter::once(bytes(c.name())).chain(rest).take(30).collect())
        }),
        1 => dag_template(),
        2 => (dag_template(), mutations(DAG_WORDS)).prop_map(|((c, mut argv), mutations)| {
            mutate(&mut argv, &mutations);
            (c, argv)
        }),
    ]
    .boxed()
}
