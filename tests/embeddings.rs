//! Text in, vectors out, through a real server (docs/embeddings.md): tokenizers and embedders as
//! values, AI.TOKENIZE / AI.POOL / AI.EMBED against the reference vectors of all-MiniLM-L6-v2
//! and Python's token ids, persistence, replication, bad input, batching across clients, and the
//! vector-set ops of DAGs (AI.VADD, AI.VSIM, AI.HSET) on Redis 8, with the clear error where the
//! server has no vector sets.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::embeddings::{
    cosine, embed_then, floats, has_vector_sets, redis8, references, server_with_embedder,
    store_all, store_tokenizer, tensor_blob, tokenizer_json,
};
use common::{
    bulk, field_pairs, integer, is_error, ok_frame, render, venv_python, wait_until, Client, Frame,
    Server,
};

/// A STRING tensor's BLOB: every text NUL-terminated (empty texts included).
fn string_blob(texts: &[&str]) -> Vec<u8> {
    texts.iter().flat_map(|t| t.bytes().chain([0])).collect()
}

fn set_texts(c: &mut Client, key: &str, texts: &[&str]) {
    let n = texts.len().to_string();
    let reply = c.call(&[
        "AI.TENSORSET".as_bytes(),
        key.as_bytes(),
        b"STRING",
        n.as_bytes(),
        b"BLOB",
        &string_blob(texts),
    ]);
    assert_eq!(reply, ok_frame("OK"));
}

fn error_text(frame: &Frame) -> String {
    match frame {
        Frame::Error(e) => e.clone(),
        other => panic!("not an error: {}", render(other)),
    }
}

fn int64s(blob: &[u8]) -> Vec<i64> {
    blob.chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

#[test]
fn one_call_and_dag_forms_match_the_reference_vectors() {
    let server = server_with_embedder(None);
    let mut c = server.client();
    let refs = references();
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
    let check = |form: &str, i: usize, v: &[f32]| {
        let (int8, fp32) = (cosine(v, &refs[i].int8), cosine(v, &refs[i].fp32));
        assert!(
            int8 >= 0.9999,
            "{form} {i} {:?}: cosine {int8} with int8",
            texts[i]
        );
        assert!(
            fp32 >= 0.99,
            "{form} {i} {:?}: cosine {fp32} with fp32",
            texts[i]
        );
    };
    // One call, one output key per text.
    let keys: Vec<String> = (0..texts.len()).map(|i| format!("v{i}")).collect();
    let mut args: Vec<&str> = vec!["AI.EMBED", "e", "INPUTS"];
    let n = texts.len().to_string();
    args.push(&n);
    args.extend(&texts);
    args.extend(["OUTPUTS", &n]);
    args.extend(keys.iter().map(String::as_str));
    assert_eq!(c.call(&args), ok_frame("OK"));
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(
            render(&c.cmd(&format!("AI.TENSORGET {key} META"))),
            "*[$b'dtype', $b'FLOAT', $b'shape', *[:1, :384]]"
        );
        check("AI.EMBED", i, &floats(&tensor_blob(&mut c, key)));
    }
    // One call, all vectors in one [N, 384] tensor.
    let mut one: Vec<&str> = args[..4 + texts.len()].to_vec();
    one.extend(["OUTPUTS", "1", "all"]);
    assert_eq!(c.call(&one), ok_frame("OK"));
    let all = floats(&tensor_blob(&mut c, "all"));
    for (i, v) in all.chunks(384).enumerate() {
        check("AI.EMBED OUTPUTS 1", i, v);
    }
    // The DAG form: tokenizer, encoder and pooling as separate ops, in one round trip.
    let blob = string_blob(&texts);
    let dag: Vec<&[u8]> = [
        "AI.DAGEXECUTE ROUTING x |> AI.TENSORSET t STRING",
        &n,
        "BLOB",
    ]
    .iter()
    .flat_map(|s| s.split(' ').map(str::as_bytes))
    .chain([blob.as_slice()])
    .chain(
        "|> AI.TOKENIZE tok INPUTS 1 t OUTPUTS 3 ids mask types \
         |> AI.MODELEXECUTE m INPUTS 3 ids mask types OUTPUTS 1 states \
         |> AI.POOL MEAN NORMALIZE INPUTS 2 states mask OUTPUTS 1 v |> AI.TENSORGET v BLOB"
            .split(' ')
            .map(str::as_bytes),
    )
    .collect();
    let reply = c.call(&dag);
    let Frame::Array(items) = &reply else {
        panic!("{}", render(&reply));
    };
    assert_eq!(items.len(), 5, "{}", render(&reply));
    assert!(
        items[..4].iter().all(|i| *i == ok_frame("OK")),
        "{}",
        render(&reply)
    );
    for (i, v) in floats(&bulk(&items[4])).chunks(384).enumerate() {
        check("DAG", i, v);
    }
    // AI.EMBED inside a DAG takes STRING tensors.
    let reply = c.call(&[
        &b"AI.DAGEXECUTE"[..],
        b"ROUTING",
        b"x",
        b"|>",
        b"AI.TENSORSET",
        b"t",
        b"STRING",
        b"2",
        b"BLOB",
        &string_blob(&texts[..2]),
        b"|>",
        b"AI.EMBED",
        b"e",
        b"INPUTS",
        b"1",
        b"t",
        b"OUTPUTS",
        b"1",
        b"v",
        b"|>",
        b"AI.TENSORGET",
        b"v",
        b"BLOB",
    ]);
    let Frame::Array(items) = &reply else {
        panic!("{}", render(&reply));
    };
    assert_eq!(floats(&bulk(&items[2])), all[..768].to_vec());
    // Statistics: the embedder's calls and texts, the encoder's runs.
    let info = field_pairs(&c.cmd("AI.INFO e"));
    let field = |name: &str| {
        info.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(render(&field("type")), "$b'EMBEDDER'");
    assert_eq!(integer(&field("calls")), 3);
    assert_eq!(integer(&field("samples")), 2 * texts.len() as i64 + 2);
}

#[test]
fn token_ids_equal_python_tokenizers() {
    let server = Server::start();
    let mut c = server.client();
    store_tokenizer(&mut c, "tok", &[]);
    let long = "word ".repeat(400);
    let mut texts: Vec<String> = references().into_iter().map(|r| r.text).collect();
    texts.extend(
        [
            "",
            " ",
            "\t\n  spaced\r\n out  ",
            "Ünïcödé naïve café résumé",
            "Привет, мир",
            "مرحبا بالعالم",
            "हिन्दी पाठ",
            "🙂🚀 emoji 👩‍👩‍👧",
            "mixed 中文 and English, 日本語も",
            "a\u{0301} combining",
            "zero\u{200b}width",
            "tab\tseparated\tvalues",
            "don't won't y'all",
            "http://example.com/a?b=c&d=e",
            "1,234.56 + 7e-3 = ?",
            long.as_str(),
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let mut python = Command::new(venv_python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/clients/tokenize_reference.py"
        ))
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/embeddings/tokenizer.json"
        ))
        .arg("256")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python");
    python
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&texts).unwrap().as_bytes())
        .unwrap();
    let out = python.wait_with_output().unwrap();
    assert!(out.status.success());
    let expected: Vec<Vec<i64>> = serde_json::from_slice(&out.stdout).unwrap();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    set_texts(&mut c, "texts", &refs);
    assert_eq!(
        c.cmd("AI.TOKENIZE tok INPUTS 1 texts OUTPUTS 3 ids mask types"),
        ok_frame("OK")
    );
    let longest = expected.iter().map(Vec::len).max().unwrap();
    assert_eq!(longest, 256, "the long text is truncated at MAXLEN");
    let meta = render(&c.cmd("AI.TENSORGET ids META"));
    assert_eq!(
        meta,
        format!(
            "*[$b'dtype', $b'INT64', $b'shape', *[:{}, :{longest}]]",
            texts.len()
        )
    );
    let ids = int64s(&tensor_blob(&mut c, "ids"));
    let mask = int64s(&tensor_blob(&mut c, "mask"));
    let types = int64s(&tensor_blob(&mut c, "types"));
    for (i, want) in expected.iter().enumerate() {
        let row = &ids[i * longest..(i + 1) * longest];
        let row_mask = &mask[i * longest..(i + 1) * longest];
        let n = row_mask.iter().filter(|&&m| m == 1).count();
        assert_eq!(&row[..n], want.as_slice(), "text {i}: {:?}", texts[i]);
        assert!(row[n..].iter().all(|&id| id == 0), "padding of text {i}");
        assert!(row_mask[..n].iter().all(|&m| m == 1));
    }
    assert!(types.iter().all(|&t| t == 0));
    // A smaller MAXLEN truncates, keeping [SEP] last.
    store_tokenizer(&mut c, "tok8", &["MAXLEN", "8"]);
    set_texts(&mut c, "one", &[&long]);
    assert_eq!(
        c.cmd("AI.TOKENIZE tok8 INPUTS 1 one OUTPUTS 2 i m"),
        ok_frame("OK")
    );
    let ids = int64s(&tensor_blob(&mut c, "i"));
    assert_eq!(ids.len(), 8);
    assert_eq!((ids[0], ids[7]), (101, 102));
    assert_eq!(
        render(&c.cmd("AI.TOKENIZERGET tok8")),
        "*[$b'kind', $b'WordPiece', $b'vocab_size', :30522, $b'maxlen', :8]"
    );
    assert_eq!(bulk(&c.cmd("AI.TOKENIZERGET tok8 BLOB")), tokenizer_json());
}

/// Everything that must be equal after a reload: the values' replies and DUMP payloads.
fn text_state(c: &mut Client) -> Vec<String> {
    [
        "AI.TOKENIZERGET tok META BLOB",
        "AI.EMBEDDERGET e",
        "DUMP tok",
        "DUMP e",
        "TYPE tok",
        "TYPE e",
    ]
    .iter()
    .map(|cmd| render(&c.cmd(cmd)))
    .collect()
}

#[test]
fn tokenizers_and_embedders_persist_and_replicate_byte_for_byte() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let args = ["ONNX", "redisai_onnxruntime/redisai_onnxruntime.so"];
    let mut master = Server::with(&args, &["--port", &port.to_string(), "--appendonly", "yes"]);
    let mut c = master.client();
    store_all(&mut c);
    assert_eq!(
        c.cmd("AI.EMBEDDERSTORE e TOKENIZER tok MODEL m POOLING CLS BATCHSIZE 7 TAG v2"),
        ok_frame("OK")
    );
    let before = text_state(&mut c);
    assert_eq!(before[4], "+AI_TOKNZR");
    assert_eq!(before[5], "+AI_EMBEDR");
    assert_eq!(
        before[1],
        "*[$b'tokenizer', $b'tok', $b'model', $b'm', $b'pooling', $b'CLS', $b'normalize', :0, $b'batchsize', :7, $b'tag', $b'v2']"
    );
    let usage = integer(&c.cmd("MEMORY USAGE tok"));
    assert!(
        usage > tokenizer_json().len() as i64,
        "MEMORY USAGE {usage}"
    );
    let embed = |c: &mut Client| {
        assert_eq!(
            c.cmd("AI.EMBED e INPUTS 1 hello OUTPUTS 1 v"),
            ok_frame("OK")
        );
        tensor_blob(c, "v")
    };
    let vector = embed(&mut c);
    // A replica gets them by full sync, then follows a new store and a delete.
    let replica = Server::with(&args, &[]);
    let mut r = replica.client();
    assert_eq!(
        r.cmd(&format!("REPLICAOF 127.0.0.1 {port}")),
        ok_frame("OK")
    );
    wait_until("full sync", || text_state(&mut r) == before);
    store_tokenizer(&mut c, "tok2", &["MAXLEN", "64"]);
    assert_eq!(
        c.cmd("AI.EMBEDDERSTORE e2 TOKENIZER tok2 MODEL m"),
        ok_frame("OK")
    );
    assert_eq!(c.cmd("AI.EMBEDDERDEL e2"), ok_frame("OK"));
    wait_until("replication of stores", || {
        render(&r.cmd("AI.TOKENIZERGET tok2")).ends_with(":64]")
            && render(&r.cmd("EXISTS e2")) == ":0"
    });
    // DEBUG RELOAD, an AOF rewrite and a restart from the AOF, RESTORE of the DUMP payloads.
    assert_eq!(c.cmd("DEBUG RELOAD"), ok_frame("OK"));
    assert_eq!(text_state(&mut c), before);
    assert_eq!(embed(&mut c), vector);
    assert_eq!(
        render(&c.cmd("BGREWRITEAOF")),
        "+Background append only file rewriting started"
    );
    wait_until("AOF rewrite", || {
        common::info_number(&mut c, "persistence", "aof_rewrite_in_progress") == 0
    });
    master.restart(
        "NOSAVE",
        &[
            "--port",
            &port.to_string(),
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            "no",
        ],
    );
    let mut c = master.client();
    assert_eq!(text_state(&mut c), before);
    assert_eq!(embed(&mut c), vector);
    let dump_tok = bulk(&c.cmd("DUMP tok"));
    let dump_e = bulk(&c.cmd("DUMP e"));
    assert_eq!(c.cmd("DEL tok e"), Frame::Integer(2));
    assert_eq!(
        c.call(&[&b"RESTORE"[..], b"tok", b"0", &dump_tok]),
        ok_frame("OK")
    );
    assert_eq!(
        c.call(&[&b"RESTORE"[..], b"e", b"0", &dump_e]),
        ok_frame("OK")
    );
    assert_eq!(text_state(&mut c), before);
    assert_eq!(embed(&mut c), vector);
    // A corrupt payload is refused and the server lives on.
    let mut bad = dump_tok.clone();
    bad[20] ^= 0xff;
    assert!(is_error(&c.call(&[&b"RESTORE"[..], b"tok3", b"0", &bad])));
    assert_eq!(c.cmd("PING"), ok_frame("PONG"));
}

#[test]
fn bad_tokenizers_and_texts_are_refused_and_leave_keys_unchanged() {
    let server = server_with_embedder(None);
    let mut c = server.client();
    let before = render(&c.cmd("AI.TOKENIZERGET tok BLOB"));
    for (blob, start) in [
        (&b"not json"[..], "ERR invalid tokenizer: "),
        (b"{}", "ERR invalid tokenizer: "),
        (
            b"{\"model\": {\"type\": \"BPE\", \"vocab\": 7}}",
            "ERR invalid tokenizer: ",
        ),
        (b"\xff\xfe\x00", "ERR invalid tokenizer: "),
    ] {
        let reply = c.call(&[&b"AI.TOKENIZERSTORE"[..], b"tok", b"BLOB", blob]);
        assert!(error_text(&reply).starts_with(start), "{}", render(&reply));
    }
    // Over 64 MiB: refused before parsing.
    let huge = vec![b' '; (64 << 20) + 1];
    let reply = c.call(&[&b"AI.TOKENIZERSTORE"[..], b"tok", b"BLOB", &huge]);
    assert_eq!(
        error_text(&reply),
        "ERR tokenizer is larger than the maximum of 67108864 bytes"
    );
    assert_eq!(render(&c.cmd("AI.TOKENIZERGET tok BLOB")), before);
    // Wrong kinds of keys, missing keys, bad arguments.
    assert_eq!(c.cmd("SET s x"), ok_frame("OK"));
    let table = [
        (
            "AI.TOKENIZERGET s",
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        ("AI.TOKENIZERGET nope", "ERR tokenizer key is empty"),
        (
            "AI.EMBEDDERGET tok",
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            "AI.EMBED nope INPUTS 1 x OUTPUTS 1 v",
            "ERR embedder key is empty",
        ),
        (
            "AI.EMBED e INPUTS 1 x OUTPUTS 1 s",
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            "AI.EMBEDDERSTORE e2 TOKENIZER nope MODEL m",
            "ERR tokenizer key is empty",
        ),
        (
            "AI.EMBEDDERSTORE e2 TOKENIZER tok MODEL nope",
            "ERR model key is empty",
        ),
        (
            "AI.EMBEDDERSTORE e2 TOKENIZER m MODEL m",
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        (
            "AI.EMBEDDERSTORE e2 TOKENIZER tok MODEL m POOLING MAX",
            "ERR Invalid argument for POOLING",
        ),
        (
            "AI.TOKENIZE tok INPUTS 1 nope OUTPUTS 2 a b",
            "ERR tensor key is empty or in a different shard",
        ),
        (
            "AI.POOL MEAN INPUTS 1 nope OUTPUTS 1 v",
            "ERR tensor key is empty or in a different shard",
        ),
        (
            "AI.TOKENIZERSTORE t MAXLEN 0 BLOB {}",
            "ERR Invalid argument for MAXLEN",
        ),
    ];
    for (line, text) in table {
        assert_eq!(error_text(&c.cmd(line)), text, "{line}");
    }
    assert_eq!(render(&c.cmd("EXISTS e2 v s2")), ":0");
    // Texts that are not UTF-8, or hold a NUL: refused, outputs untouched.
    assert_eq!(c.cmd("SET out keep"), ok_frame("OK"));
    let reply = c.call(&[
        &b"AI.EMBED"[..],
        b"e",
        b"INPUTS",
        b"2",
        b"ok",
        b"\xff\xfe",
        b"OUTPUTS",
        b"1",
        b"out",
    ]);
    assert_eq!(
        error_text(&reply),
        "ERR AI.EMBED: text 1 is not valid UTF-8"
    );
    let reply = c.call(&[
        &b"AI.EMBED"[..],
        b"e",
        b"INPUTS",
        b"1",
        b"a\0b",
        b"OUTPUTS",
        b"1",
        b"out",
    ]);
    assert_eq!(
        error_text(&reply),
        "ERR AI.EMBED: text 0 contains a NUL byte"
    );
    assert_eq!(bulk(&c.cmd("GET out")), b"keep");
    // Ops on tensors of the wrong kind.
    assert_eq!(c.cmd("AI.TENSORSET f FLOAT 2 VALUES 1 2"), ok_frame("OK"));
    let reply = c.cmd("AI.TOKENIZE tok INPUTS 1 f OUTPUTS 2 a b");
    assert_eq!(
        error_text(&reply),
        "ERR AI.TOKENIZE: texts must be a STRING tensor"
    );
    let reply = c.cmd("AI.POOL MEAN INPUTS 1 f OUTPUTS 1 v");
    assert_eq!(
        error_text(&reply),
        "ERR AI.POOL: token states must be FLOAT [N, L, D] (or [N, D])"
    );
    // A DAG whose text op fails persists nothing.
    set_texts(&mut c, "bad", &["ok"]);
    let reply = c.cmd(
        "AI.DAGEXECUTE LOAD 1 f PERSIST 1 ids |> AI.TOKENIZE tok INPUTS 1 f OUTPUTS 2 ids mask",
    );
    assert_eq!(
        render(&reply),
        "*[-ERR AI.TOKENIZE: texts must be a STRING tensor]"
    );
    assert_eq!(render(&c.cmd("EXISTS ids")), ":0");
    // A huge batch is refused by the output limit, the keys stay as they were.
    assert_eq!(c.cmd("CONFIG SET proto-max-bulk-len 1mb"), ok_frame("OK"));
    let many: Vec<String> = (0..800).map(|i| format!("text number {i}")).collect();
    let mut args: Vec<&str> = vec!["AI.EMBED", "e", "INPUTS", "800"];
    args.extend(many.iter().map(String::as_str));
    args.extend(["OUTPUTS", "1", "out"]);
    let reply = c.call(&args);
    assert_eq!(
        error_text(&reply),
        "ERR tensor size exceeds the maximum of 1048576 bytes (proto-max-bulk-len)"
    );
    assert_eq!(bulk(&c.cmd("GET out")), b"keep");
    // An embedder whose model was deleted says so.
    assert_eq!(c.cmd("CONFIG SET proto-max-bulk-len 512mb"), ok_frame("OK"));
    assert_eq!(c.cmd("AI.MODELDEL m"), ok_frame("OK"));
    assert_eq!(
        error_text(&c.cmd("AI.EMBED e INPUTS 1 x OUTPUTS 1 v")),
        "ERR model key is empty"
    );
    assert_eq!(c.cmd("PING"), ok_frame("PONG"));
}

#[test]
fn concurrent_clients_texts_share_encoder_runs() {
    let server = server_with_embedder(None);
    let mut c = server.client();
    assert_eq!(c.cmd("AI.INFO m RESETSTAT"), ok_frame("OK"));
    let clients = 4;
    let per_client = 25;
    std::thread::scope(|s| {
        for t in 0..clients {
            let server = &server;
            s.spawn(move || {
                let mut c = server.client();
                for i in 0..per_client {
                    let text = format!("client {t} says hello number {i}");
                    c.send(&[
                        "AI.EMBED",
                        "e",
                        "INPUTS",
                        "1",
                        &text,
                        "OUTPUTS",
                        "1",
                        &format!("v{t}"),
                    ]);
                }
                for _ in 0..per_client {
                    assert_eq!(c.read(), ok_frame("OK"));
                }
            });
        }
    });
    let info = field_pairs(&c.cmd("AI.INFO m"));
    let field = |name: &str| integer(&info.iter().find(|(k, _)| k == name).unwrap().1);
    let requests = (clients * per_client) as i64;
    assert_eq!(field("samples"), requests, "every text ran once");
    assert!(
        field("calls") < requests,
        "{} encoder runs for {requests} requests",
        field("calls")
    );
    // Batched or alone, a text gets the same vector.
    assert_eq!(
        c.cmd("AI.EMBED e INPUTS 1 hello OUTPUTS 1 alone"),
        ok_frame("OK")
    );
    let alone = floats(&tensor_blob(&mut c, "alone"));
    let reply = c.call(&[
        "AI.EMBED",
        "e",
        "INPUTS",
        "3",
        "hello",
        "world, again and again",
        "hello",
        "OUTPUTS",
        "1",
        "three",
    ]);
    assert_eq!(reply, ok_frame("OK"));
    let three = floats(&tensor_blob(&mut c, "three"));
    assert!(cosine(&alone, &three[..384]) > 0.99999);
    assert!(cosine(&alone, &three[768..]) > 0.99999);
}

/// Ingest and search through DAGs on a server with vector sets.
fn vector_ops_work(c: &mut Client) {
    let docs = [
        (
            "doc:1",
            "Paris is the capital and most populous city of France.",
            "geo",
        ),
        ("doc:2", "Dogs are loyal companions.", "pets"),
        (
            "doc:3",
            "Transformers use self-attention over token sequences.",
            "ml",
        ),
    ];
    for (id, text, topic) in docs {
        let attrs = format!("{{\"topic\":\"{topic}\"}}");
        let ops = [
            "AI.VADD",
            "docs",
            "v",
            id,
            "SETATTR",
            &attrs,
            "CAS",
            "|>",
            "AI.HSET",
            id,
            "embedding",
            "v",
        ];
        let reply = c.call(&embed_then("AI.DAGEXECUTE", "docs", text, &ops));
        assert_eq!(render(&reply), "*[+OK, +OK, :1, :1]", "{id}");
    }
    assert_eq!(integer(&c.cmd("VCARD docs")), 3);
    // The hash field holds exactly the vector's FP32 bytes.
    let reply = c.call(&[
        "AI.EMBED", "e", "INPUTS", "1", docs[1].1, "OUTPUTS", "1", "v2",
    ]);
    assert_eq!(reply, ok_frame("OK"));
    assert_eq!(bulk(&c.cmd("HGET doc:2 embedding")), tensor_blob(c, "v2"));
    // A paraphrase finds its document first, with VSIM's score ((cosine + 1) / 2).
    let query = |c: &mut Client, text: &str, extra: &[&str]| {
        let mut ops = vec!["AI.VSIM", "docs", "v", "WITHSCORES"];
        ops.extend(extra);
        c.call(&embed_then("AI.DAGEXECUTE_RO", "docs", text, &ops))
    };
    let reply = query(c, "Which city is the capital of France?", &["COUNT", "1"]);
    let Frame::Array(items) = &reply else {
        panic!("{}", render(&reply));
    };
    let Frame::Array(hits) = &items[2] else {
        panic!("{}", render(&reply));
    };
    assert_eq!(bulk(&hits[0]), b"doc:1");
    let score: f64 = String::from_utf8(bulk(&hits[1])).unwrap().parse().unwrap();
    assert!(score > 0.8 && score <= 1.0, "score {score}");
    let filtered = query(
        c,
        "Which city is the capital of France?",
        &["COUNT", "3", "FILTER", ".topic == \"pets\""],
    );
    assert!(
        render(&filtered).contains("doc:2") && !render(&filtered).contains("doc:1"),
        "{}",
        render(&filtered)
    );
    // Writes are refused in read-only DAGs; a vector that is not one FLOAT row is refused.
    let reply = c.cmd(
        "AI.DAGEXECUTE_RO ROUTING docs |> AI.TENSORSET v FLOAT 2 VALUES 1 2 |> AI.VADD docs v x",
    );
    assert_eq!(
        error_text(&reply),
        "ERR AI.VADD command cannot be specified in a read-only DAG"
    );
    let reply = c
        .cmd("AI.DAGEXECUTE ROUTING docs |> AI.TENSORSET v INT32 2 VALUES 1 2 |> AI.VADD docs v x");
    assert_eq!(
        render(&reply),
        "*[+OK, -ERR AI.VADD: the vector must be one FLOAT vector, shaped [D] or [1, D]]"
    );
    // The server's own errors come back as the op's error.
    let reply = c
        .cmd("AI.DAGEXECUTE ROUTING docs |> AI.TENSORSET v FLOAT 2 VALUES 1 2 |> AI.VADD docs v x");
    assert!(
        render(&reply).starts_with("*[+OK, -ERR"),
        "{}",
        render(&reply)
    );
    assert_eq!(integer(&c.cmd("VCARD docs")), 3);
    // The calling user's ACL applies to the vector set.
    assert_eq!(
        c.cmd("ACL SETUSER reader on nopass ~docs ~v* ~e ~tok ~m +@all -vadd"),
        ok_frame("OK")
    );
    assert_eq!(c.cmd("AUTH reader x"), ok_frame("OK"));
    let reply = c
        .cmd("AI.DAGEXECUTE ROUTING docs |> AI.TENSORSET v FLOAT 2 VALUES 1 2 |> AI.VADD docs v x");
    assert!(render(&reply).contains("NOPERM"), "{}", render(&reply));
    let reply = query(c, "dogs", &["COUNT", "1"]);
    assert!(render(&reply).contains("doc:2"), "{}", render(&reply));
}

#[test]
fn vector_set_ops_on_redis_8() {
    let server = server_with_embedder(Some(&redis8()));
    vector_ops_work(&mut server.client());
}

#[test]
fn vector_ops_on_the_suites_server_work_or_fail_clearly() {
    let server = server_with_embedder(None);
    let mut c = server.client();
    if has_vector_sets(&mut c) {
        return vector_ops_work(&mut c);
    }
    let reply = c.cmd(
        "AI.DAGEXECUTE ROUTING docs |> AI.TENSORSET v FLOAT 2 VALUES 1 2 |> AI.VSIM docs v COUNT 1",
    );
    assert_eq!(
        render(&reply),
        "*[+OK, -ERR AI.VSIM needs a server with vector sets (Redis 8 or later): the VSIM command is not available]"
    );
    // Hashes exist everywhere.
    let reply =
        c.cmd("AI.DAGEXECUTE ROUTING h |> AI.TENSORSET v FLOAT 2 VALUES 1 2 |> AI.HSET h f v");
    assert_eq!(render(&reply), "*[+OK, :1]");
    assert_eq!(floats(&bulk(&c.cmd("HGET h f"))), vec![1.0, 2.0]);
}

#[test]
fn embedding_needs_read_access_to_the_tokenizer_and_model() {
    let server = server_with_embedder(None);
    let mut c = server.client();
    assert_eq!(
        c.cmd("ACL SETUSER limited on nopass ~e* ~v* +@all"),
        ok_frame("OK")
    );
    assert_eq!(c.cmd("AUTH limited x"), ok_frame("OK"));
    let reply = c.cmd("AI.EMBED e INPUTS 1 hello OUTPUTS 1 v");
    assert_eq!(
        error_text(&reply),
        "NOPERM this user has no permissions to access the 'tok' key"
    );
    let reply = c.cmd("AI.EMBEDDERSTORE e3 TOKENIZER tok MODEL m");
    assert_eq!(
        error_text(&reply),
        "NOPERM this user has no permissions to access the 'tok' key"
    );
    assert_eq!(render(&c.cmd("EXISTS e3")), ":0");
}

/// Redis 8.2 aborts when a command called by a module blocks its caller, as VSIM (threaded by
/// default) and VADD with CAS do: scripts' calls run them on the calling thread instead.
#[test]
fn a_script_calling_the_vector_set_commands_keeps_the_server_up() {
    needs!(
        "a_script_calling_the_vector_set_commands_keeps_the_server_up",
        "TORCH"
    );
    let mut server =
        Server::with_binary(&redis8(), &["TORCH", "redisai_torch/redisai_torch.so"], &[]);
    let mut c = server.client();
    let source = "
def search(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute('VADD', keys[0], 'VALUES', '2', '1', '0', 'a', 'CAS')
    redis.execute('VADD', keys[0], 'VALUES', '2', '0', '1', 'b', 'CAS')
    found = redis.asList(redis.execute('VSIM', keys[0], 'VALUES', '2', '1', '0.1', 'COUNT', '1'))
    return torch.tensor(len(found))
";
    common::torch::store_script(&mut c, "s", &["search"], source);
    assert_eq!(
        c.cmd("AI.SCRIPTEXECUTE s search KEYS 1 vs OUTPUTS 1 out"),
        ok_frame("OK")
    );
    assert_eq!(render(&c.cmd("AI.TENSORGET out VALUES")), "*[:1]");
    assert_eq!(integer(&c.cmd("VCARD vs")), 2);
    assert!(server.alive());
}
