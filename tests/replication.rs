//! Replication and AOF of every type this release has (tensors of all dtypes, ONNX/TF/TFLITE/TORCH
//! models, TorchScript scripts): a replica attached after the data exists gets all of it by full
//! sync, then follows the master's writes (stores, deletes, execution outputs as AI.TENSORSET); an
//! AOF with the RDB preamble brings everything back after a restart. Scripts replicate by their
//! effects: AI.SCRIPTSTORE/SCRIPTSET/SCRIPTDEL verbatim, an AI.SCRIPTEXECUTE / AI.SCRIPTRUN / DAG
//! as the writes its script made through `redis.execute` (each once, even when the script fails
//! afterwards) and its output tensors, byte for byte.

mod common;

use common::fixtures::{onnx, reference, set_one_image, store_model, store_onnx};
use common::torch::{store_script, torch_model};
use common::{bulk, ok_frame, render, wait_until, Client, Frame, Server};

/// Every key with a description that must be equal on both sides (META + data).
fn state(c: &mut Client) -> Vec<(String, String)> {
    let keys = match c.cmd("KEYS *") {
        Frame::Array(keys) => keys,
        // e.g. -LOADING while a replica loads the master's RDB.
        other => return vec![("KEYS".into(), render(&other))],
    };
    let mut keys: Vec<String> = keys
        .iter()
        .map(|k| String::from_utf8(bulk(k)).unwrap())
        .collect();
    keys.sort();
    keys.into_iter()
        .map(|k| {
            let kind = render(&c.cmd(&format!("TYPE {k}")));
            let value = match kind.as_str() {
                "+AI_TENSOR" => render(&c.cmd(&format!("AI.TENSORGET {k} META BLOB"))),
                "+AI__MODEL" => render(&c.cmd(&format!("AI.MODELGET {k} META BLOB"))),
                "+AI_SCRIPT" => render(&c.cmd(&format!("AI.SCRIPTGET {k}"))),
                "+string" => render(&c.cmd(&format!("GET {k}"))),
                "+list" => render(&c.cmd(&format!("LRANGE {k} 0 -1"))),
                _ => render(&c.cmd(&format!("DUMP {k}"))),
            };
            (k, value)
        })
        .collect()
}

fn populate(c: &mut Client) {
    for (dtype, values) in [
        ("FLOAT", "1.5 2"),
        ("DOUBLE", "1.5 2"),
        ("INT8", "1 2"),
        ("INT16", "1 2"),
        ("INT32", "1 2"),
        ("INT64", "1 2"),
        ("UINT8", "1 2"),
        ("UINT16", "1 2"),
        ("BOOL", "1 0"),
        ("STRING", "a bc"),
    ] {
        let reply = c.cmd(&format!("AI.TENSORSET t_{dtype} {dtype} 2 VALUES {values}"));
        assert_eq!(reply, ok_frame("OK"), "{dtype}");
    }
    assert_eq!(
        store_onnx(c, "m_onnx", "CPU", &["TAG", "v1"], &reference("mnist.onnx")),
        ok_frame("OK")
    );
    let graph = reference("graph.pb");
    let io = ["INPUTS", "2", "a", "b", "OUTPUTS", "1", "mul"];
    assert_eq!(
        store_model(c, "m_tf", "TF", "CPU", &io, &graph),
        ok_frame("OK")
    );
    let tflite = reference("mnist_model_quant.tflite");
    assert_eq!(
        store_model(c, "m_tflite", "TFLITE", "CPU", &[], &tflite),
        ok_frame("OK")
    );
    let pt = torch_model("def forward(self, a, b):\n    return a * b + a\n");
    assert_eq!(
        store_model(c, "m_torch", "TORCH", "CPU", &["TAG", "pt"], &pt),
        ok_frame("OK")
    );
    store_script(
        c,
        "s",
        &["bar", "write", "fail_after_write", "model"],
        SCRIPT,
    );
    set_one_image(c, "img");
}

/// Entry points: `bar` adds, `write` writes to its two declared keys, `fail_after_write` writes
/// and then fails, `model` runs the model named by its first key.
const SCRIPT: &str = "\
def bar(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] + tensors[1]

def write(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute('SET', keys[0], args[0])
    redis.execute('RPUSH', keys[1], args[0], args[0])
    return [tensors[0] + tensors[1], tensors[0] * tensors[1]]

def fail_after_write(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute('INCR', keys[0])
    return tensors[5]

def model(tensors: List[Tensor], keys: List[str], args: List[str]):
    return redisAI.model_execute(keys[0], tensors, 1)
";

#[test]
fn a_late_replica_gets_everything_then_follows_writes_and_outputs() {
    needs!(
        "a_late_replica_gets_everything_then_follows_writes_and_outputs",
        "TF",
        "TFLITE",
        "TORCH"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let master = Server::with(&[], &["--port", &port.to_string()]);
    let mut m = master.client();
    populate(&mut m);
    let replica = Server::start();
    let mut r = replica.client();
    assert_eq!(
        r.cmd(&format!("REPLICAOF 127.0.0.1 {port}")),
        ok_frame("OK")
    );
    let expected = state(&mut m);
    wait_until("full sync", || state(&mut r) == expected);
    // Then writes: an execution's outputs, a DAG's PERSIST, a delete, a new model.
    assert_eq!(
        m.cmd("AI.MODELEXECUTE m_onnx INPUTS 1 img OUTPUTS 1 scores"),
        ok_frame("OK")
    );
    let dag = m.cmd(
        "AI.DAGEXECUTE LOAD 1 t_FLOAT PERSIST 1 prod |> \
         AI.MODELEXECUTE m_tf INPUTS 2 t_FLOAT t_FLOAT OUTPUTS 1 prod",
    );
    assert_eq!(render(&dag), "*[+OK]");
    assert_eq!(m.cmd("AI.MODELDEL m_tflite"), ok_frame("OK"));
    assert_eq!(
        store_onnx(&mut m, "m_new", "CPU:1", &[], &onnx("batch_mul2.onnx")),
        ok_frame("OK")
    );
    let expected = state(&mut m);
    wait_until("replication of writes", || state(&mut r) == expected);
    assert_eq!(
        render(&r.cmd("AI.TENSORGET prod VALUES")),
        "*[$b'2.25', $b'4']"
    );
    // The replica rebuilt the models: read-only DAGs run there.
    let ro = r.cmd("AI.DAGEXECUTE_RO LOAD 1 img |> AI.MODELEXECUTE m_onnx INPUTS 1 img OUTPUTS 1 s |> AI.TENSORGET s BLOB");
    assert_eq!(
        ro,
        Frame::Array(vec![ok_frame("OK"), m.cmd("AI.TENSORGET scores BLOB")])
    );
}

#[test]
fn an_aof_with_the_rdb_preamble_brings_every_type_back() {
    needs!(
        "an_aof_with_the_rdb_preamble_brings_every_type_back",
        "TF",
        "TFLITE",
        "TORCH"
    );
    let mut server = Server::start();
    let mut c = server.client();
    populate(&mut c);
    let expected = state(&mut c);
    assert_eq!(c.cmd("CONFIG SET aof-use-rdb-preamble yes"), ok_frame("OK"));
    assert_eq!(c.cmd("CONFIG SET appendonly yes"), ok_frame("OK"));
    wait_until("the AOF rewrite", || {
        let info = String::from_utf8(bulk(&c.cmd("INFO persistence"))).unwrap();
        info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0")
    });
    // A write after the rewrite goes to the incremental file and comes back too.
    assert_eq!(
        c.cmd("AI.MODELEXECUTE m_onnx INPUTS 1 img OUTPUTS 1 scores"),
        ok_frame("OK")
    );
    let expected_after = state(&mut c);
    assert_ne!(expected, expected_after);
    drop(c);
    server.restart(
        "NOSAVE",
        &["--appendonly", "yes", "--aof-use-rdb-preamble", "yes"],
    );
    let mut c = server.client();
    assert_eq!(state(&mut c), expected_after);
    assert_eq!(
        c.cmd("AI.MODELEXECUTE m_onnx INPUTS 1 img OUTPUTS 1 again"),
        ok_frame("OK")
    );
    assert_eq!(
        bulk(&c.cmd("AI.TENSORGET again BLOB")),
        bulk(&c.cmd("AI.TENSORGET scores BLOB"))
    );
}

fn attached_pair() -> (Server, Server) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let master = Server::with(&[], &["--port", &port.to_string()]);
    let replica = Server::start();
    let reply = replica.client().cmd(&format!("REPLICAOF 127.0.0.1 {port}"));
    assert_eq!(reply, ok_frame("OK"));
    wait_until("the replica's link", || {
        let info = String::from_utf8(bulk(&replica.client().cmd("INFO replication"))).unwrap();
        info.contains("master_link_status:up")
    });
    (master, replica)
}

/// Commands sent to the master after the replica attached, and their replies.
const SCRIPT_WRITES: [(&str, &str); 11] = [
    ("AI.TENSORSET a FLOAT 2 2 VALUES 2 3 2 3", "+OK"),
    ("AI.TENSORSET b FLOAT 2 2 VALUES 1 1 1 1", "+OK"),
    // Two output tensors and two redis.execute writes (the RPUSH would double if the command
    // were replayed on the replica besides its effects).
    (
        "AI.SCRIPTEXECUTE s write KEYS 2 k l INPUTS 2 a b ARGS 1 hello OUTPUTS 2 sum prod",
        "+OK",
    ),
    // A write made before the script fails replicates; no output is written.
    (
        "AI.SCRIPTEXECUTE s fail_after_write KEYS 1 counter INPUTS 1 a OUTPUTS 1 never",
        "<error>",
    ),
    // A model run from a script: its output.
    (
        "AI.SCRIPTEXECUTE s model KEYS 1 m_torch INPUTS 2 a b OUTPUTS 1 via_model",
        "+OK",
    ),
    // The deprecated pair; a DAG with a script op and PERSIST (DAG-local tensors stay local).
    ("AI.SCRIPTRUN legacy f INPUTS a b OUTPUTS diff", "+OK"),
    (
        "AI.DAGEXECUTE LOAD 2 a b PERSIST 1 dag_out |> \
         AI.SCRIPTEXECUTE s bar INPUTS 2 a b OUTPUTS 1 local |> \
         AI.SCRIPTEXECUTE s write KEYS 2 dk dl INPUTS 2 local b ARGS 1 x OUTPUTS 2 dag_out l2",
        "*[+OK, +OK]",
    ),
    // Overwrite, delete and re-store.
    ("AI.SCRIPTDEL legacy", "+OK"),
    ("AI.MODELDEL m_torch", "+OK"),
    ("AI.TENSORSET a FLOAT 1 VALUES 7", "+OK"),
    ("AI.SCRIPTEXECUTE s bar INPUTS 2 a a OUTPUTS 1 last", "+OK"),
];

#[test]
fn scripts_replicate_by_their_effects() {
    needs!("scripts_replicate_by_their_effects", "TORCH");
    let (master, replica) = attached_pair();
    let (mut m, mut r) = (master.client(), replica.client());
    let pt = torch_model("def forward(self, a, b):\n    return a * b + a\n");
    assert_eq!(
        store_model(&mut m, "m_torch", "TORCH", "CPU", &[], &pt),
        ok_frame("OK")
    );
    store_script(
        &mut m,
        "s",
        &["bar", "write", "fail_after_write", "model"],
        SCRIPT,
    );
    let legacy = ["AI.SCRIPTSET", "legacy", "CPU", "TAG", "old", "SOURCE"];
    let reply = m.call(&[&legacy[..], &["def f(a, b):\n    return a - b\n"]].concat());
    assert_eq!(reply, ok_frame("OK"));
    // The stores reach the replica verbatim.
    let expected = state(&mut m);
    wait_until("the stores", || state(&mut r) == expected);
    assert_eq!(
        render(&r.cmd("AI.SCRIPTGET legacy META")),
        "*[$b'device', $b'CPU', $b'tag', $b'old', $b'Entry Points', *[]]"
    );
    for (command, expected) in SCRIPT_WRITES {
        let reply = render(&m.cmd(command));
        match expected {
            "<error>" => assert!(reply.starts_with('-'), "{command}: {reply}"),
            _ => assert_eq!(reply, expected, "{command}"),
        }
    }
    let expected = state(&mut m);
    wait_until("the scripts' writes", || state(&mut r) == expected);
    // What the replica holds, by name.
    for (command, reply) in [
        ("GET k", "$b'hello'"),
        ("LRANGE l 0 -1", "*[$b'hello', $b'hello']"),
        ("GET counter", "$b'1'"),
        ("GET dk", "$b'x'"),
        ("EXISTS never local legacy m_torch", ":0"),
        ("AI.TENSORGET prod VALUES", "*[$b'2', $b'3', $b'2', $b'3']"),
        (
            "AI.TENSORGET via_model VALUES",
            "*[$b'4', $b'6', $b'4', $b'6']",
        ),
        ("AI.TENSORGET diff VALUES", "*[$b'1', $b'2', $b'1', $b'2']"),
        (
            "AI.TENSORGET dag_out VALUES",
            "*[$b'4', $b'5', $b'4', $b'5']",
        ),
        ("AI.TENSORGET last VALUES", "*[$b'14']"),
        ("AI._SCRIPTSCAN", "*[*[$b's', $b'']]"),
    ] {
        assert_eq!(render(&r.cmd(command)), reply, "replica: {command}");
    }
    // The replica got effects only: no script ran there (its run statistics are empty).
    assert_eq!(
        render(&r.cmd("AI.INFO s")),
        "*[$b'key', $b's', $b'type', $b'SCRIPT', $b'backend', $b'TORCH', $b'device', $b'CPU', \
         $b'tag', $b'', $b'duration', :0, $b'samples', :-1, $b'calls', :0, $b'errors', :0]"
    );
}
