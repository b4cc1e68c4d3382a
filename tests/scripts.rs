//! TorchScript scripts and models through a real redis-server with the TORCH backend:
//! AI.SCRIPTSTORE/GET/DEL/_SCRIPTSCAN/EXECUTE, the deprecated SCRIPTSET/SCRIPTRUN, scripts calling
//! Redis (`redis.execute`, `redis.asList`) with the caller's permissions and declared keys only,
//! scripts calling models (`redisAI.model_execute`), TIMEOUT behind a long script, scripts in
//! DAGs, and scripts surviving DEBUG RELOAD and AOF rewrite.

mod common;

use common::fixtures::{numbers, onnx, store_onnx};
use common::torch::{store_script, torch_model};
use common::{bulk, is_error, ok_frame, render, Client, Frame, Server};

const SCRIPT: &str = "\
def bar(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] + tensors[1]

def helper(x: Tensor):
    return x + 1

def long_func(tensors: List[Tensor], keys: List[str], args: List[str]):
    a = torch.zeros(1)
    for i in range(int(args[0])):
        a = a + 1
    return a

def set_get(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute('SET', keys[0], args[0])
    value = redis.execute('GET', keys[0])
    return torch.tensor(int(str(value)))

def list_sum(tensors: List[Tensor], keys: List[str], args: List[str]):
    total = 0
    for v in redis.asList(redis.execute('LRANGE', keys[0], '0', '-1')):
        total += int(str(v))
    return torch.tensor(total)

def touch(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute('SET', args[0], 'touched')
    return torch.tensor(1)

def wrong_arity(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute('SET', keys[0])
    return torch.tensor(1)

def model(tensors: List[Tensor], keys: List[str], args: List[str]):
    return redisAI.model_execute(keys[0], tensors, 1)

def model_by_arg(tensors: List[Tensor], keys: List[str], args: List[str]):
    return redisAI.model_execute(args[0], tensors, 1)
";

const ENTRIES: [&str; 9] = [
    "bar",
    "long_func",
    "set_get",
    "list_sum",
    "touch",
    "wrong_arity",
    "model",
    "model_by_arg",
    "helper_missing",
];

fn ok(c: &mut Client, line: &str) {
    let reply = c.cmd(line);
    assert_eq!(reply, ok_frame("OK"), "{line}: {}", render(&reply));
}

fn error_text(frame: &Frame) -> String {
    match frame {
        Frame::Error(e) => e.clone(),
        other => panic!("not an error: {}", render(other)),
    }
}

fn setup(c: &mut Client) {
    let entries: Vec<&str> = ENTRIES
        .iter()
        .copied()
        .filter(|e| *e != "helper_missing")
        .collect();
    store_script(c, "s", &entries, SCRIPT);
    ok(c, "AI.TENSORSET a FLOAT 2 2 VALUES 2 3 2 3");
    ok(c, "AI.TENSORSET b FLOAT 2 2 VALUES 1 1 1 1");
}

#[test]
fn scripts_store_get_run_and_delete() {
    needs!("scripts_store_get_run_and_delete", "TORCH");
    let server = Server::start();
    let mut c = server.client();
    setup(&mut c);
    assert_eq!(render(&c.cmd("TYPE s")), "+AI_SCRIPT");
    let meta = render(&c.cmd("AI.SCRIPTGET s META"));
    assert!(
        meta.starts_with("*[$b'device', $b'CPU', $b'tag', $b'', $b'Entry Points', *[$b'bar'"),
        "{meta}"
    );
    assert_eq!(bulk(&c.cmd("AI.SCRIPTGET s SOURCE")), SCRIPT.as_bytes());
    ok(&mut c, "AI.SCRIPTEXECUTE s bar INPUTS 2 a b OUTPUTS 1 out");
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET out VALUES")),
        [3.0, 4.0, 3.0, 4.0]
    );
    // A function that is not an entry point runs positionally (legacy mode).
    ok(
        &mut c,
        "AI.SCRIPTEXECUTE s helper INPUTS 1 a OUTPUTS 1 out2",
    );
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET out2 VALUES")),
        [3.0, 4.0, 3.0, 4.0]
    );
    assert_eq!(render(&c.cmd("AI._SCRIPTSCAN")), "*[*[$b's', $b'']]");
    ok(&mut c, "AI.SCRIPTDEL s");
    assert_eq!(render(&c.cmd("EXISTS s")), ":0");
    assert_eq!(render(&c.cmd("AI._SCRIPTSCAN")), "*[]");
    // The deprecated pair: no entry points, positional calls.
    let reply = c.call(&[
        "AI.SCRIPTSET",
        "old",
        "CPU",
        "SOURCE",
        "def f(a, b):\n    return a * b\n",
    ]);
    assert_eq!(reply, ok_frame("OK"));
    ok(&mut c, "AI.SCRIPTRUN old f INPUTS a b OUTPUTS prod");
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET prod VALUES")),
        [2.0, 3.0, 2.0, 3.0]
    );
}

#[test]
fn compile_and_run_errors_are_replies() {
    needs!("compile_and_run_errors_are_replies", "TORCH");
    let server = Server::start();
    let mut c = server.client();
    setup(&mut c);
    let bad = c.call(&[
        "AI.SCRIPTSTORE",
        "x",
        "CPU",
        "ENTRY_POINTS",
        "1",
        "f",
        "SOURCE",
        "def f(:\n",
    ]);
    assert!(
        error_text(&bad).starts_with("expected ident but found ':' here:"),
        "{bad:?}"
    );
    let sig = c.call(&[
        "AI.SCRIPTSTORE",
        "x",
        "CPU",
        "ENTRY_POINTS",
        "1",
        "f",
        "SOURCE",
        "def f(a: Tensor):\n    return a\n",
    ]);
    assert_eq!(
        error_text(&sig),
        "Wrong number of inputs in function f. Expected 3 but was 1"
    );
    assert_eq!(render(&c.cmd("EXISTS x")), ":0");
    let missing = c.cmd("AI.SCRIPTEXECUTE s nosuch INPUTS 1 a OUTPUTS 1 o");
    assert_eq!(error_text(&missing), "Function does not exist: nosuch");
    let count = c.cmd("AI.SCRIPTEXECUTE s bar INPUTS 2 a b OUTPUTS 2 o1 o2");
    assert_eq!(
        error_text(&count),
        "Function returned unexpected number of outputs - bar"
    );
    assert_eq!(render(&c.cmd("EXISTS o1")), ":0");
    let index = c.cmd("AI.SCRIPTEXECUTE s bar INPUTS 1 a OUTPUTS 1 o");
    assert!(
        error_text(&index).contains("list index out of range"),
        "{index:?}"
    );
    // Garbage source never hurts the server.
    for source in [
        "\0",
        "def",
        "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n  return redis.nope()\n",
        "\u{ff}\u{fe}",
    ] {
        let r = c.call(&[
            "AI.SCRIPTSTORE",
            "g",
            "CPU",
            "ENTRY_POINTS",
            "1",
            "f",
            "SOURCE",
            source,
        ]);
        assert!(is_error(&r), "{source:?}: {}", render(&r));
    }
    assert_eq!(render(&c.cmd("PING")), "+PONG");
}

#[test]
fn scripts_call_redis_with_declared_keys_only() {
    needs!("scripts_call_redis_with_declared_keys_only", "TORCH");
    let server = Server::start();
    let mut c = server.client();
    setup(&mut c);
    ok(
        &mut c,
        "AI.SCRIPTEXECUTE s set_get KEYS 1 k ARGS 1 42 OUTPUTS 1 v",
    );
    assert_eq!(
        render(&c.cmd("AI.TENSORGET v META VALUES")),
        "*[$b'dtype', $b'INT64', $b'shape', *[], $b'values', *[:42]]"
    );
    assert_eq!(render(&c.cmd("GET k")), "$b'42'");
    c.cmd("RPUSH l 1 2 39");
    ok(
        &mut c,
        "AI.SCRIPTEXECUTE s list_sum KEYS 1 l OUTPUTS 1 total",
    );
    assert_eq!(numbers(&c.cmd("AI.TENSORGET total VALUES")), [42.0]);
    // A key the script did not declare is refused, and nothing is written.
    let r = c.cmd("AI.SCRIPTEXECUTE s touch KEYS 1 k ARGS 1 other OUTPUTS 1 t");
    let text = error_text(&r);
    assert!(text.contains("Redis command returned an error: ERR the script accessed key 'other', which is not declared in KEYS"), "{text}");
    assert_eq!(render(&c.cmd("EXISTS other t")), ":0");
    let r = c.cmd("AI.SCRIPTEXECUTE s wrong_arity KEYS 1 k OUTPUTS 1 t");
    assert!(
        error_text(&r).contains("Redis command returned an error: Invalid argument"),
        "{r:?}"
    );
    // Blocking AI commands cannot be called from a script.
    let nested = "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    redis.execute('AI.SCRIPTEXECUTE', keys[0], 'bar', 'INPUTS', '2', keys[1], keys[1], 'OUTPUTS', '1', keys[2])\n    return tensors[0]\n";
    store_script(&mut c, "nest", &["f"], nested);
    let r = c.cmd("AI.SCRIPTEXECUTE nest f KEYS 3 s a n INPUTS 1 a OUTPUTS 1 t");
    assert!(
        error_text(&r).contains("Cannot run RedisAI command within a transaction or a LUA script"),
        "{r:?}"
    );
    assert_eq!(render(&c.cmd("PING")), "+PONG");
}

#[test]
fn scripts_run_with_the_callers_acl_permissions() {
    needs!("scripts_run_with_the_callers_acl_permissions", "TORCH");
    let server = Server::start();
    let mut admin = server.client();
    setup(&mut admin);
    ok(
        &mut admin,
        "ACL SETUSER alice on >pw ~allowed:* ~s ~a ~b +@all -del",
    );
    let mut alice = server.client();
    ok(&mut alice, "AUTH alice pw");
    // Declared and allowed.
    ok(
        &mut alice,
        "AI.SCRIPTEXECUTE s set_get KEYS 1 allowed:k ARGS 1 7 OUTPUTS 1 allowed:v",
    );
    assert_eq!(render(&admin.cmd("GET allowed:k")), "$b'7'");
    // Declaring a forbidden key is refused by Redis before the script runs.
    let r = alice.cmd("AI.SCRIPTEXECUTE s set_get KEYS 1 secret ARGS 1 7 OUTPUTS 1 allowed:v");
    assert!(error_text(&r).starts_with("NOPERM"), "{r:?}");
    // A command the user may not run is refused inside the script too.
    let script = "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    redis.execute('DEL', keys[0])\n    return torch.tensor(1)\n";
    store_script(&mut admin, "allowed:flush", &["f"], script);
    let r = alice.cmd("AI.SCRIPTEXECUTE allowed:flush f KEYS 1 allowed:k OUTPUTS 1 allowed:o");
    let text = error_text(&r);
    assert!(
        text.contains("Redis command returned an error: NOPERM"),
        "{text}"
    );
    assert_eq!(render(&admin.cmd("EXISTS s a allowed:k")), ":3");
    // Key patterns apply to what the script touches: a declared key outside alice's patterns
    // cannot be declared, so scripts cannot reach it at all; an admin's script can.
    ok(
        &mut admin,
        "AI.SCRIPTEXECUTE s set_get KEYS 1 secret ARGS 1 9 OUTPUTS 1 v",
    );
    assert_eq!(render(&admin.cmd("GET secret")), "$b'9'");
}

#[test]
fn scripts_call_stored_models() {
    needs!("scripts_call_stored_models", "TORCH");
    let server = Server::start();
    let mut c = server.client();
    setup(&mut c);
    let reply = c.call(&[
        b"AI.MODELSTORE".to_vec(),
        b"pt".to_vec(),
        b"TORCH".to_vec(),
        b"CPU".to_vec(),
        b"BLOB".to_vec(),
        torch_model("def forward(self, a, b):\n    return a * b\n"),
    ]);
    assert_eq!(reply, ok_frame("OK"));
    ok(
        &mut c,
        "AI.SCRIPTEXECUTE s model KEYS 1 pt INPUTS 2 a a OUTPUTS 1 sq",
    );
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET sq VALUES")),
        [4.0, 9.0, 4.0, 9.0]
    );
    // An ONNX model from a TorchScript script (RedisAI #648).
    assert_eq!(
        store_onnx(&mut c, "mul2", "CPU", &[], &onnx("batch_mul2.onnx")),
        ok_frame("OK")
    );
    ok(&mut c, "AI.TENSORSET x FLOAT 1 3 VALUES 1 2 3");
    ok(
        &mut c,
        "AI.SCRIPTEXECUTE s model KEYS 1 mul2 INPUTS 1 x OUTPUTS 1 y",
    );
    assert_eq!(numbers(&c.cmd("AI.TENSORGET y VALUES")), [2.0, 4.0, 6.0]);
    // The model key must be declared in KEYS like any other key the script touches.
    let r = c.cmd("AI.SCRIPTEXECUTE s model_by_arg KEYS 1 x INPUTS 1 x ARGS 1 mul2 OUTPUTS 1 y2");
    let text = error_text(&r);
    assert!(
        text.contains("ERR the script accessed key 'mul2', which is not declared in KEYS"),
        "{text}"
    );
    let r = c.cmd("AI.SCRIPTEXECUTE s model KEYS 1 nomodel INPUTS 1 x OUTPUTS 1 y2");
    assert!(error_text(&r).contains("ERR model key is empty"), "{r:?}");
}

#[test]
fn timeout_behind_a_long_script() {
    needs!("timeout_behind_a_long_script", "TORCH");
    let server = Server::start();
    let mut c = server.client();
    setup(&mut c);
    let mut other = server.client();
    // One worker: the long call holds the queue while the second waits past its TIMEOUT.
    other.send(&[
        "AI.SCRIPTEXECUTE",
        "s",
        "long_func",
        "INPUTS",
        "1",
        "a",
        "ARGS",
        "1",
        "300000",
        "OUTPUTS",
        "1",
        "long",
    ]);
    std::thread::sleep(std::time::Duration::from_millis(100));
    let r = c.cmd("AI.SCRIPTEXECUTE s bar INPUTS 2 a b OUTPUTS 1 quick TIMEOUT 1");
    assert_eq!(render(&r), "+TIMEDOUT");
    assert_eq!(other.read(), ok_frame("OK"));
    assert_eq!(numbers(&c.cmd("AI.TENSORGET long VALUES")), [300000.0]);
    assert_eq!(render(&c.cmd("EXISTS quick")), ":0");
}

#[test]
fn scripts_in_dags() {
    needs!("scripts_in_dags", "TORCH");
    let server = Server::start();
    let mut c = server.client();
    setup(&mut c);
    let r = c.cmd("AI.DAGEXECUTE LOAD 2 a b PERSIST 1 kept |> AI.SCRIPTEXECUTE s bar INPUTS 2 a b OUTPUTS 1 t |> AI.SCRIPTEXECUTE s bar INPUTS 2 t t OUTPUTS 1 kept |> AI.TENSORGET kept VALUES");
    assert_eq!(render(&r), "*[+OK, +OK, *[$b'6', $b'8', $b'6', $b'8']]");
    assert_eq!(render(&c.cmd("EXISTS t kept")), ":1");
    // Refused in read-only DAGs.
    let r = c.cmd("AI.DAGEXECUTE_RO LOAD 2 a b |> AI.SCRIPTEXECUTE s bar INPUTS 2 a b OUTPUTS 1 t");
    assert!(is_error(&r), "{}", render(&r));
    // A failing script op: its error in place, later ops not run, nothing persisted.
    let r = c.cmd("AI.DAGEXECUTE LOAD 1 a PERSIST 1 never |> AI.SCRIPTEXECUTE s bar INPUTS 1 a OUTPUTS 1 never |> AI.TENSORGET never VALUES");
    let text = render(&r);
    assert!(
        text.contains("list index out of range") && text.ends_with("+NA]"),
        "{text}"
    );
    assert_eq!(render(&c.cmd("EXISTS never")), ":0");
}

#[test]
fn scripts_survive_reload_and_aof_rewrite() {
    needs!("scripts_survive_reload_and_aof_rewrite", "TORCH");
    let mut server = Server::with(
        &[],
        &["--appendonly", "yes", "--aof-use-rdb-preamble", "no"],
    );
    let mut c = server.client();
    setup(&mut c);
    c.call(&[
        "AI.SCRIPTSET",
        "legacy",
        "CPU",
        "TAG",
        "v1",
        "SOURCE",
        "def f(a):\n    return a + 10\n",
    ]);
    let pt = torch_model("def forward(self, a, b):\n    return a - b\n");
    let mut store: Vec<&[u8]> = ["AI.MODELSTORE", "pt", "TORCH", "CPU", "TAG", "t", "BLOB"]
        .iter()
        .map(|s| s.as_bytes())
        .collect();
    store.push(&pt);
    let reply = c.call(&store);
    assert_eq!(reply, ok_frame("OK"));
    ok(&mut c, "DEBUG RELOAD");
    ok(&mut c, "AI.SCRIPTEXECUTE s bar INPUTS 2 a b OUTPUTS 1 out");
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET out VALUES")),
        [3.0, 4.0, 3.0, 4.0]
    );
    let before_s = render(&c.cmd("AI.SCRIPTGET s"));
    let before_legacy = render(&c.cmd("AI.SCRIPTGET legacy"));
    let before_pt = render(&c.cmd("AI.MODELGET pt META BLOB"));
    assert!(before_pt.contains("$b'TORCH'"), "{before_pt}");
    assert!(render(&c.cmd("BGREWRITEAOF")).starts_with('+'));
    std::thread::sleep(std::time::Duration::from_millis(1500));
    server.restart(
        "NOSAVE",
        &["--appendonly", "yes", "--aof-use-rdb-preamble", "no"],
    );
    let mut c = server.client();
    assert_eq!(render(&c.cmd("AI.SCRIPTGET s")), before_s);
    // A script without entry points replays too (as AI.SCRIPTSET).
    assert_eq!(render(&c.cmd("AI.SCRIPTGET legacy")), before_legacy);
    assert_eq!(render(&c.cmd("AI.MODELGET pt META BLOB")), before_pt);
    ok(&mut c, "AI.MODELEXECUTE pt INPUTS 2 a b OUTPUTS 1 diff");
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET diff VALUES")),
        [1.0, 2.0, 1.0, 2.0]
    );
    ok(&mut c, "AI.SCRIPTEXECUTE legacy f INPUTS 1 a OUTPUTS 1 o");
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET o VALUES")),
        [12.0, 13.0, 12.0, 13.0]
    );
}

#[test]
fn torch_models_serve_tuples_dtypes_and_batches() {
    needs!("torch_models_serve_tuples_dtypes_and_batches", "TORCH");
    let server = Server::start();
    let mut c = server.client();
    let blob = torch_model("def forward(self, a, b):\n    return a + b, a * b\n");
    let reply = c.call(&[
        b"AI.MODELSTORE".to_vec(),
        b"m".to_vec(),
        b"TORCH".to_vec(),
        b"CPU".to_vec(),
        b"BATCHSIZE".to_vec(),
        b"4".to_vec(),
        b"BLOB".to_vec(),
        blob,
    ]);
    assert_eq!(reply, ok_frame("OK"));
    let meta = render(&c.cmd("AI.MODELGET m META"));
    assert!(
        meta.contains("$b'inputs', *[$b'a', $b'b'], $b'outputs', *[$b'', $b'']"),
        "{meta}"
    );
    ok(&mut c, "AI.TENSORSET x INT32 2 1 VALUES 2 3");
    ok(&mut c, "AI.MODELEXECUTE m INPUTS 2 x x OUTPUTS 2 sum prod");
    assert_eq!(
        render(&c.cmd("AI.TENSORGET prod META VALUES")),
        "*[$b'dtype', $b'INT32', $b'shape', *[:2, :1], $b'values', *[:4, :9]]"
    );
    // Two clients at once are batched on dim 0 and split back.
    let mut other = server.client();
    ok(&mut c, "AI.TENSORSET y INT32 1 1 VALUES 5");
    other.send(&[
        "AI.MODELEXECUTE",
        "m",
        "INPUTS",
        "2",
        "y",
        "y",
        "OUTPUTS",
        "2",
        "s2",
        "p2",
    ]);
    ok(&mut c, "AI.MODELEXECUTE m INPUTS 2 x x OUTPUTS 2 s1 p1");
    assert_eq!(other.read(), ok_frame("OK"));
    assert_eq!(numbers(&c.cmd("AI.TENSORGET p2 VALUES")), [25.0]);
    // The reference model.
    let pt = common::fixtures::reference("pt-minimal.pt");
    let reply = c.call(&[
        b"AI.MODELSTORE".to_vec(),
        b"ref".to_vec(),
        b"TORCH".to_vec(),
        b"CPU".to_vec(),
        b"BLOB".to_vec(),
        pt,
    ]);
    assert_eq!(reply, ok_frame("OK"));
    ok(&mut c, "AI.TENSORSET f FLOAT 2 2 VALUES 2 3 2 3");
    ok(&mut c, "AI.MODELEXECUTE ref INPUTS 2 f f OUTPUTS 1 g");
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET g VALUES")),
        [4.0, 6.0, 4.0, 6.0]
    );
    let r = c.cmd("AI.MODELSTORE bad TORCH CPU BLOB garbage");
    assert!(
        error_text(&r).starts_with("PytorchStreamReader failed reading zip archive"),
        "{r:?}"
    );
    assert!(!error_text(&r).contains("frame #"));
}
