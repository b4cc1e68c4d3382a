use super::*;

fn args(line: &str) -> Vec<&[u8]> {
    line.split(' ').map(str::as_bytes).collect()
}

fn err<T: std::fmt::Debug>(r: Result<T>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn tokenizerstore_grammar() {
    let (key, r) = parse_tokenizerstore(&args("AI.TOKENIZERSTORE t BLOB {}")).unwrap();
    assert_eq!(
        (key, r.maxlen, r.json.as_slice()),
        (&b"t"[..], 256, &b"{}"[..])
    );
    let (_, r) = parse_tokenizerstore(&args("AI.TOKENIZERSTORE t maxlen 128 blob {}")).unwrap();
    assert_eq!(r.maxlen, 128);
    let table = [
        (
            "AI.TOKENIZERSTORE t BLOB",
            "ERR wrong number of arguments for 'AI.TOKENIZERSTORE' command",
        ),
        (
            "AI.TOKENIZERSTORE t MAXLEN 0 BLOB {}",
            "ERR Invalid argument for MAXLEN",
        ),
        (
            "AI.TOKENIZERSTORE t MAXLEN 9000 BLOB {}",
            "ERR Invalid argument for MAXLEN",
        ),
        (
            "AI.TOKENIZERSTORE t MAXLEN x BLOB {}",
            "ERR Invalid argument for MAXLEN",
        ),
        ("AI.TOKENIZERSTORE t MAXLEN 12 {}", "Invalid argument: {}"),
        (
            "AI.TOKENIZERSTORE t MAXLEN 12 BLOB",
            "ERR Insufficient arguments, missing tokenizer BLOB",
        ),
        (
            "AI.TOKENIZERSTORE t BLOB {} extra",
            "Invalid argument: extra",
        ),
    ];
    for (line, text) in table {
        assert_eq!(err(parse_tokenizerstore(&args(line))), text, "{line}");
    }
    // The rewrite parses back to the same record.
    let record = TokenizerRecord {
        maxlen: 77,
        json: b"{\"a\":1}".to_vec(),
    };
    let c = tokenizerstore_command(b"k", &record);
    assert_eq!(
        parse_tokenizerstore(&c.argv()).unwrap(),
        (&b"k"[..], record.clone())
    );
}

#[test]
fn get_and_del_grammar() {
    let parts = |l| parse_tokenizerget(&args(l)).unwrap().1;
    assert_eq!(
        parts("AI.TOKENIZERGET t"),
        GetParts {
            meta: true,
            blob: false
        }
    );
    assert_eq!(
        parts("AI.TOKENIZERGET t blob"),
        GetParts {
            meta: false,
            blob: true
        }
    );
    assert_eq!(
        parts("AI.TOKENIZERGET t BLOB META"),
        GetParts {
            meta: true,
            blob: true
        }
    );
    assert_eq!(
        err(parse_tokenizerget(&args("AI.TOKENIZERGET t X"))),
        "Invalid argument: X"
    );
    assert_eq!(
        err(key_only(&args("AI.TOKENIZERDEL"), TOKENIZERDEL)),
        "ERR wrong number of arguments for 'AI.TOKENIZERDEL' command"
    );
}

#[test]
fn embedderstore_grammar() {
    let line = "AI.EMBEDDERSTORE e TOKENIZER tok MODEL m POOLING cls NORMALIZE BATCHSIZE 8 TAG v1";
    let (key, r) = parse_embedderstore(&args(line)).unwrap();
    assert_eq!(key, b"e");
    assert_eq!(
        (r.tokenizer.as_slice(), r.model.as_slice()),
        (&b"tok"[..], &b"m"[..])
    );
    assert_eq!(
        (r.pooling, r.normalize, r.batchsize, r.tag.as_slice()),
        (Pooling::Cls, true, 8, &b"v1"[..])
    );
    let (_, d) = parse_embedderstore(&args("AI.EMBEDDERSTORE e TOKENIZER tok MODEL m")).unwrap();
    assert_eq!(
        (d.pooling, d.normalize, d.batchsize),
        (Pooling::Mean, false, 32)
    );
    let c = embedderstore_command(b"e", &r);
    assert_eq!(parse_embedderstore(&c.argv()).unwrap().1, r);
    let table = [
        (
            "AI.EMBEDDERSTORE e TOKENIZER tok",
            "ERR wrong number of arguments for 'AI.EMBEDDERSTORE' command",
        ),
        (
            "AI.EMBEDDERSTORE e MODEL m TOKENIZER tok",
            "ERR AI.EMBEDDERSTORE: expected TOKENIZER at argument 2",
        ),
        (
            "AI.EMBEDDERSTORE e TOKENIZER tok M m",
            "ERR AI.EMBEDDERSTORE: expected MODEL at argument 4",
        ),
        (
            "AI.EMBEDDERSTORE e TOKENIZER tok MODEL m POOLING MAX",
            "ERR Invalid argument for POOLING",
        ),
        (
            "AI.EMBEDDERSTORE e TOKENIZER tok MODEL m POOLING",
            "ERR Invalid argument for POOLING",
        ),
        (
            "AI.EMBEDDERSTORE e TOKENIZER tok MODEL m BATCHSIZE 0",
            "ERR Invalid argument for BATCHSIZE",
        ),
        (
            "AI.EMBEDDERSTORE e TOKENIZER tok MODEL m NORMALIZE NORMALIZE",
            "ERR AI.EMBEDDERSTORE: NORMALIZE given twice",
        ),
        (
            "AI.EMBEDDERSTORE e TOKENIZER tok MODEL m FOO",
            "Invalid argument: FOO",
        ),
        (
            "AI.EMBEDDERSTORE e TOKENIZER tok MODEL m TAG",
            "ERR AI.EMBEDDERSTORE: missing TAG value",
        ),
    ];
    for (line, text) in table {
        assert_eq!(err(parse_embedderstore(&args(line))), text, "{line}");
    }
}

#[test]
fn op_grammars() {
    let t = parse_tokenize(
        &args("AI.TOKENIZE tok INPUTS 1 texts OUTPUTS 3 a b c TIMEOUT 5"),
        true,
    )
    .unwrap();
    assert_eq!(
        (t.input, t.outputs.len(), t.timeout_ms),
        (&b"texts"[..], 3, Some(5))
    );
    let p = parse_pool(
        &args("AI.POOL mean NORMALIZE INPUTS 2 h m OUTPUTS 1 v"),
        false,
    )
    .unwrap();
    assert_eq!(
        (p.pooling, p.normalize, p.inputs.len(), p.output),
        (Pooling::Mean, true, 2, &b"v"[..])
    );
    let e = parse_embed(
        &args("AI.EMBED e INPUTS 2 hello world OUTPUTS 2 v1 v2"),
        true,
    )
    .unwrap();
    assert!(e.split());
    assert!(
        !parse_embed(&args("AI.EMBED e INPUTS 2 a b OUTPUTS 1 v"), true)
            .unwrap()
            .split()
    );
    let table: [(&str, bool, &str); 10] = [
        ("AI.TOKENIZE tok INPUTS 2 a b OUTPUTS 2 x y", true, "ERR AI.TOKENIZE: takes one STRING tensor of texts"),
        ("AI.TOKENIZE tok INPUTS 1 a OUTPUTS 1 x y", true, "ERR AI.TOKENIZE: OUTPUTS must be 2 (input_ids attention_mask) or 3 (and token_type_ids)"),
        ("AI.TOKENIZE tok INPUTS 1 a OUTPUTS 2 x y TIMEOUT 5", false, "ERR TIMEOUT not allowed within a DAG command"),
        ("AI.TOKENIZE tok INPUTS 1 a OUTPUTS 5 x y", true, "ERR AI.TOKENIZE: the number of OUTPUTS does not match the number of given arguments"),
        ("AI.TOKENIZE tok INPUT 1 a OUTPUTS 2 x y", true, "ERR AI.TOKENIZE: missing INPUTS"),
        ("AI.POOL MAX INPUTS 1 h OUTPUTS 1 v", true, "ERR Invalid argument for POOLING"),
        ("AI.POOL CLS INPUTS 1 h OUTPUTS 2 v w", true, "ERR AI.POOL: OUTPUTS must be 1"),
        ("AI.EMBED e INPUTS 3 a b c OUTPUTS 2 v w", true, "ERR AI.EMBED: OUTPUTS must be 1 (all vectors in one tensor) or one per text"),
        ("AI.EMBED e INPUTS 2 a b OUTPUTS 2 v w", false, "ERR AI.EMBED: OUTPUTS must be 1 in a DAG"),
        ("AI.EMBED e INPUTS 0 OUTPUTS 1 v x", true, "ERR AI.EMBED: invalid number of INPUTS"),
    ];
    for (line, standalone, text) in table {
        let a = args(line);
        let got = match a[0] {
            b"AI.TOKENIZE" => err(parse_tokenize(&a, standalone)),
            b"AI.POOL" => err(parse_pool(&a, standalone)),
            _ => err(parse_embed(&a, standalone)),
        };
        assert_eq!(got, text, "{line}");
    }
}

#[test]
fn vector_op_grammars() {
    let v = parse_vector_op(&args("AI.VADD set vec doc:1 Q8 REDUCE 32 SETATTR {}")).unwrap();
    assert_eq!(v.key, b"set");
    assert_eq!(v.tensors, vec![&b"vec"[..]]);
    let lit = |s: &str| VectorArg::Literal(s.as_bytes().to_vec());
    assert_eq!(
        v.argv,
        vec![
            lit("set"),
            lit("REDUCE"),
            lit("32"),
            lit("FP32"),
            VectorArg::Vector(0),
            lit("doc:1"),
            lit("Q8"),
            lit("SETATTR"),
            lit("{}")
        ]
    );
    assert!(v.writes);
    let s = parse_vector_op(&args("ai.vsim set q COUNT 3 WITHSCORES")).unwrap();
    assert_eq!(
        s.argv,
        vec![
            lit("set"),
            lit("FP32"),
            VectorArg::Vector(0),
            lit("COUNT"),
            lit("3"),
            lit("WITHSCORES")
        ]
    );
    assert!(!s.writes);
    let h = parse_vector_op(&args("AI.HSET doc emb v title t")).unwrap();
    assert_eq!(h.tensors, vec![&b"v"[..], &b"t"[..]]);
    assert_eq!(
        h.argv,
        vec![
            lit("doc"),
            lit("emb"),
            VectorArg::Vector(0),
            lit("title"),
            VectorArg::Vector(1)
        ]
    );
    for (line, text) in [
        (
            "AI.VADD set vec",
            "ERR wrong number of arguments for 'AI.VADD' command",
        ),
        (
            "AI.VSIM set",
            "ERR wrong number of arguments for 'AI.VSIM' command",
        ),
        (
            "AI.HSET doc emb",
            "ERR wrong number of arguments for 'AI.HSET' command",
        ),
    ] {
        assert_eq!(err(parse_vector_op(&args(line))), text);
    }
}
