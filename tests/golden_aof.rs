//! The AOF the original RedisAI 1.2.7 rewrote (tests/golden/aof-rewrite-example.aof: the base
//! file of a BGREWRITEAOF with `--aof-use-rdb-preamble no`, holding `AI.SCRIPTSTORE`,
//! `AI.MODELSTORE` of a TF model and `AI.TENSORSET`, see the note at the end of
//! tests/golden/transcripts.md) replayed by a real server, laid out both ways Redis 7.0 reads an
//! AOF: as an old single-file `appendonly.aof` (migrated into `appendonlydir` at start-up) and as
//! the multi-part layout the original wrote (base file named by a manifest). Every key reads back
//! as the original stored it and runs; this module's own rewrite of the replayed keys holds the
//! very same commands as the original's, and replays again after a restart.

mod common;

use std::time::{Duration, Instant};

use common::golden_keys::{assert_golden_keys, rdb_contents, Contents, GoldenKey};
use common::{bulk, golden_dir, ok_frame, render, Client, Server};
use serde_json::json;

/// The keys the golden AOF holds, from the note in transcripts.md: `AI.TENSORSET a_tensor FLOAT 2
/// VALUES 1 2`, `AI.MODELSTORE a_model TF CPU TAG v1 INPUTS 2 a b OUTPUTS 1 mul BLOB <graph.pb>`,
/// `AI.SCRIPTSTORE a_script CPU ENTRY_POINTS 1 bar SOURCE <the script of s_script>`.
fn aof_keys() -> Vec<GoldenKey> {
    let rdb = rdb_contents();
    let find = |name: &str| {
        rdb.iter()
            .find(|k| k.name == name)
            .unwrap()
            .contents
            .clone()
    };
    let Contents::Script { source, .. } = find("s_script") else {
        panic!("s_script is a script")
    };
    let Contents::Model {
        blob_len,
        blob_sha256,
        ..
    } = find("m_tf")
    else {
        panic!("m_tf is a model")
    };
    let strings = |s: &[&str]| s.iter().map(|s| s.to_string()).collect();
    vec![
        GoldenKey {
            name: "a_tensor".into(),
            kind: "AI_TENSOR".into(),
            contents: Contents::Tensor {
                dtype: "FLOAT".into(),
                shape: vec![2],
                values: vec![json!("1"), json!("2")],
                blob: vec![0, 0, 0x80, 0x3f, 0, 0, 0, 0x40],
            },
        },
        GoldenKey {
            name: "a_model".into(),
            kind: "AI__MODEL".into(),
            contents: Contents::Model {
                backend: "TF".into(),
                device: "CPU".into(),
                tag: "v1".into(),
                batchsize: 0,
                minbatchsize: 0,
                minbatchtimeout: 0,
                inputs: strings(&["a", "b"]),
                outputs: strings(&["mul"]),
                blob_len,
                blob_sha256,
            },
        },
        GoldenKey {
            name: "a_script".into(),
            kind: "AI_SCRIPT".into(),
            contents: Contents::Script {
                device: "CPU".into(),
                tag: "".into(),
                entry_points: strings(&["bar"]),
                source,
            },
        },
    ]
}

fn golden_aof() -> Vec<u8> {
    std::fs::read(golden_dir().join("aof-rewrite-example.aof")).expect("the golden AOF")
}

/// The commands of an AOF file (RESP arrays of bulk strings, back to back).
fn commands(mut aof: &[u8]) -> Vec<Vec<Vec<u8>>> {
    fn line(rest: &mut &[u8]) -> usize {
        let end = rest.windows(2).position(|w| w == b"\r\n").expect("CRLF");
        let n = std::str::from_utf8(&rest[1..end]).unwrap().parse().unwrap();
        *rest = &rest[end + 2..];
        n
    }
    let mut out = Vec::new();
    while !aof.is_empty() {
        assert_eq!(aof[0], b'*', "an array header");
        let mut args = Vec::new();
        for _ in 0..line(&mut aof) {
            assert_eq!(aof[0], b'$', "a bulk header");
            let len = line(&mut aof);
            args.push(aof[..len].to_vec());
            aof = &aof[len + 2..];
        }
        out.push(args);
    }
    out
}

fn show(commands: &[Vec<Vec<u8>>]) -> String {
    let arg = |a: &Vec<u8>| match a.len() {
        0..=40 => common::py_bytes_repr(a),
        n => format!("<{n} bytes>"),
    };
    let line = |c: &Vec<Vec<u8>>| c.iter().map(arg).collect::<Vec<_>>().join(" ");
    commands.iter().map(line).collect::<Vec<_>>().join("\n")
}

/// How the golden file is put in the server's directory before it starts.
const LAYOUTS: [(&str, &[(&str, &str)]); 2] = [
    // Redis 7.0 migrates an old single-file AOF into appendonlydir and uses it as the base.
    ("old single file", &[("appendonly.aof", "<golden>")]),
    // The layout the original wrote: base and (empty) incremental file named by a manifest.
    (
        "manifest",
        &[
            ("appendonlydir/appendonly.aof.2.base.aof", "<golden>"),
            ("appendonlydir/appendonly.aof.2.incr.aof", ""),
            (
                "appendonlydir/appendonly.aof.manifest",
                "file appendonly.aof.2.base.aof seq 2 type b\n\
                 file appendonly.aof.2.incr.aof seq 2 type i\n",
            ),
        ],
    ),
];

const AOF_FLAGS: [&str; 4] = ["--appendonly", "yes", "--aof-use-rdb-preamble", "no"];

fn wait_for_rewrite(c: &mut Client) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let info = String::from_utf8(bulk(&c.cmd("INFO persistence"))).unwrap();
        if info.contains("aof_rewrite_in_progress:0")
            && info.contains("aof_rewrite_scheduled:0")
            && info.contains("aof_last_bgrewrite_status:ok")
        {
            return;
        }
        assert!(Instant::now() < deadline, "the AOF rewrite did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The newest base file of the server's appendonlydir.
fn base_file(server: &Server) -> Vec<u8> {
    let dir = server.dir().join("appendonlydir");
    let manifest = std::fs::read_to_string(dir.join("appendonly.aof.manifest")).unwrap();
    let base = manifest
        .lines()
        .find(|l| l.ends_with(" type b"))
        .and_then(|l| l.split(' ').nth(1))
        .expect("a base file in the manifest");
    std::fs::read(dir.join(base)).unwrap()
}

/// Runs on the replayed keys: the TF model, the script's entry point and a DAG of both.
fn run(c: &mut Client, when: &str) {
    for (command, expected) in [
        (
            "AI.MODELEXECUTE a_model INPUTS 2 a_tensor a_tensor OUTPUTS 1 sq",
            "+OK",
        ),
        ("AI.TENSORGET sq VALUES", "*[$b'1', $b'4']"),
        (
            "AI.SCRIPTEXECUTE a_script bar INPUTS 2 a_tensor sq OUTPUTS 1 sum",
            "+OK",
        ),
        ("AI.TENSORGET sum VALUES", "*[$b'2', $b'6']"),
        (
            "AI.DAGEXECUTE LOAD 1 a_tensor |> \
             AI.SCRIPTEXECUTE a_script bar INPUTS 2 a_tensor a_tensor OUTPUTS 1 d |> \
             AI.MODELEXECUTE a_model INPUTS 2 d d OUTPUTS 1 e |> AI.TENSORGET e VALUES",
            "*[+OK, +OK, *[$b'4', $b'16']]",
        ),
    ] {
        assert_eq!(render(&c.cmd(command)), expected, "{when}: {command}");
    }
}

#[test]
fn the_golden_aof_replays_in_both_layouts() {
    needs!("the_golden_aof_replays_in_both_layouts", "TF", "TORCH");
    let golden = golden_aof();
    let keys = aof_keys();
    for (layout, files) in LAYOUTS {
        let files: Vec<(&str, &[u8])> = files
            .iter()
            .map(|&(path, contents)| match contents {
                "<golden>" => (path, golden.as_slice()),
                other => (path, other.as_bytes()),
            })
            .collect();
        let server = Server::with_files(&[], &AOF_FLAGS, &files);
        let mut c = server.client();
        assert_eq!(render(&c.cmd("DBSIZE")), ":3", "{layout}");
        assert_golden_keys(&mut c, &keys, layout);
        run(&mut c, layout);
        assert!(
            server.log().contains("DB loaded from"),
            "{layout}: {}",
            server.log()
        );
    }
}

#[test]
fn our_rewrite_of_the_golden_aof_holds_the_same_commands() {
    needs!(
        "our_rewrite_of_the_golden_aof_holds_the_same_commands",
        "TF",
        "TORCH"
    );
    let golden = golden_aof();
    let mut server = Server::with_files(&[], &AOF_FLAGS, &[("appendonly.aof", &golden)]);
    let mut c = server.client();
    assert_golden_keys(&mut c, &aof_keys(), "replayed");
    assert!(render(&c.cmd("BGREWRITEAOF")).starts_with('+'));
    wait_for_rewrite(&mut c);
    // The same commands, byte for byte; only their order (the dict's) may differ.
    let mut ours = commands(&base_file(&server));
    let mut theirs = commands(&golden);
    assert_eq!(theirs.len(), 4, "{}", show(&theirs));
    ours.sort();
    theirs.sort();
    assert!(
        ours == theirs,
        "our rewrite:\n{}\nRedisAI's:\n{}",
        show(&ours),
        show(&theirs)
    );
    // Our rewrite replays too.
    drop(c);
    server.restart("NOSAVE", &AOF_FLAGS);
    let mut c = server.client();
    assert_eq!(render(&c.cmd("DBSIZE")), ":3");
    assert_golden_keys(&mut c, &aof_keys(), "replayed from our rewrite");
    run(&mut c, "replayed from our rewrite");
    assert_eq!(c.cmd("PING"), ok_frame("PONG"));
}
