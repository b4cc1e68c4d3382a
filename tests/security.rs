//! Models and scripts are code from clients (docs/security.md): each attack of the threat model,
//! tried as a hostile client would through a real redis-server, is refused with a clear error,
//! touches no file, loads no library, takes no memory beyond the limits and leaves the server
//! and its data intact.
//!
//! - TorchScript scripts and models that read, write or map files (`torch.from_file`,
//!   `torch.save`, also from `__setstate__` while an archive loads);
//! - TF graphs with `ReadFile` / `WriteFile` (also as a control dependency);
//! - AI.CONFIG from a user without @dangerous (the category where the server has module ACL
//!   categories, the documented `-ai.config` rule on Redis 7.0), LOADBACKEND of a library outside
//!   the start-up BACKENDSPATH (for every user), AI.CONFIG from a script;
//! - one request asking for terabytes (ONNX ConstantOfShape, TORCH, TF Fill), under an
//!   address-space limit so that a failed defence cannot take the machine down; the limit
//!   following maxmemory; outputs over proto-max-bulk-len;
//! - requests orphaned in a batch by MODELDEL, FLUSHALL or an overwrite;
//! - scripts reaching undeclared keys through SORT ... GET, KEYS, SCAN or RANDOMKEY.

mod common;

#[path = "../backends/tf/tests/common/graphdef.rs"]
mod graphdef;

use std::time::{Duration, Instant};

use common::fixtures::{numbers, onnx, store_model, store_onnx};
use common::torch::torch_model;
use common::{info_number, ok_frame, render, rss, Client, Frame, Server};
use graphdef::{dt, fill_floats, write_file, GraphDef};

const ALL_BACKENDS: [&str; 8] = [
    "ONNX",
    "redisai_onnxruntime/redisai_onnxruntime.so",
    "TF",
    "redisai_tensorflow/redisai_tensorflow.so",
    "TORCH",
    "redisai_torch/redisai_torch.so",
    "TFLITE",
    "redisai_tflite/redisai_tflite.so",
];

fn ok(c: &mut Client, line: &str) {
    let reply = c.cmd(line);
    assert_eq!(reply, ok_frame("OK"), "{line}: {}", render(&reply));
}

fn error_text(frame: &Frame) -> String {
    match frame {
        Frame::Error(e) => e.to_string(),
        other => panic!("expected an error, got {}", render(other)),
    }
}

/// A connection of `app`, a user with every command but @dangerous ones on `app:*` keys.
fn app_user(server: &Server) -> Client {
    let mut admin = server.client();
    ok(
        &mut admin,
        "ACL SETUSER app reset on >pw +@all -@dangerous ~app:*",
    );
    let mut c = server.client();
    ok(&mut c, "AUTH app pw");
    c
}

fn store_script(c: &mut Client, key: &str, entry: &str, source: &str) -> Frame {
    c.call(&[
        "AI.SCRIPTSTORE",
        key,
        "CPU",
        "ENTRY_POINTS",
        "1",
        entry,
        "SOURCE",
        source,
    ])
}

fn forbidden(kind: &str, operator: &str) -> String {
    format!("ERR {kind} uses a forbidden operator: {operator}")
}

#[test]
fn torchscript_cannot_reach_files() {
    needs!("torchscript_cannot_reach_files", "TF", "TFLITE", "TORCH");
    let server = Server::with(&ALL_BACKENDS, &[]);
    let mut c = app_user(&server);
    // The repro: read /etc/passwd into a tensor.
    let read = "def readf(tensors: List[Tensor], keys: List[str], args: List[str]):\n    \
                return torch.from_file(args[0], False, int(args[1]), dtype=0)\n";
    let reply = store_script(&mut c, "app:fs", "readf", read);
    assert_eq!(error_text(&reply), forbidden("script", "aten::from_file"));
    let reply =
        c.cmd("AI.SCRIPTEXECUTE app:fs readf KEYS 1 app:k ARGS 2 /etc/passwd 32 OUTPUTS 1 app:o");
    assert!(render(&reply).starts_with('-'), "{}", render(&reply));
    assert_eq!(render(&c.cmd("EXISTS app:fs app:o")), ":0");

    // Writing a file, from a script, from a model's forward, and from __setstate__ while the
    // archive loads.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("owned");
    let path = target.to_str().unwrap();
    let write = format!(
        "def writef(tensors: List[Tensor], keys: List[str], args: List[str]):\n    \
         torch.save(tensors[0], '{path}')\n    return tensors[0]\n"
    );
    let reply = store_script(&mut c, "app:w", "writef", &write);
    assert_eq!(error_text(&reply), forbidden("script", "aten::save"));
    let models = [
        (
            format!("def forward(self, x):\n    torch.save(x, '{path}')\n    return x\n"),
            "aten::save",
        ),
        (
            format!("def forward(self, x):\n    return torch.from_file('{path}', True, 4, dtype=0)\n"),
            "aten::from_file",
        ),
        (
            format!(
                "def __getstate__(self):\n    return (1,)\n\
                 def __setstate__(self, state: Tuple[int]):\n    torch.save(torch.zeros(1), '{path}')\n\
                 def forward(self, x):\n    return x\n"
            ),
            "aten::save",
        ),
    ];
    for (source, operator) in models {
        let reply = store_model(&mut c, "app:m", "TORCH", "CPU", &[], &torch_model(&source));
        assert_eq!(error_text(&reply), forbidden("model", operator), "{source}");
    }
    assert!(
        !target.exists(),
        "a model or script created {}",
        target.display()
    );
    assert_eq!(render(&c.cmd("EXISTS app:m app:w")), ":0");
    // Ordinary TorchScript still works for the same user.
    let add = "def add(tensors: List[Tensor], keys: List[str], args: List[str]):\n    \
               return tensors[0] + tensors[0]\n";
    assert_eq!(store_script(&mut c, "app:add", "add", add), ok_frame("OK"));
    ok(&mut c, "AI.TENSORSET app:x FLOAT 2 VALUES 1 2");
    ok(
        &mut c,
        "AI.SCRIPTEXECUTE app:add add INPUTS 1 app:x OUTPUTS 1 app:y",
    );
    assert_eq!(numbers(&c.cmd("AI.TENSORGET app:y VALUES")), [2.0, 4.0]);
    assert!(server.log().lines().all(|l| !l.contains("panic")));
}

#[test]
fn tf_graphs_cannot_reach_files() {
    needs!("tf_graphs_cannot_reach_files", "TF", "TFLITE", "TORCH");
    let server = Server::with(&ALL_BACKENDS, &[]);
    let mut c = app_user(&server);
    let read = GraphDef::new()
        .placeholder("x", dt::FLOAT, None)
        .string_const("path", b"/etc/passwd")
        .node("contents", "ReadFile", &["path"], &[])
        .build();
    let reply = store_model(
        &mut c,
        "app:read",
        "TF",
        "CPU",
        &["INPUTS", "1", "x", "OUTPUTS", "1", "contents"],
        &read,
    );
    assert_eq!(error_text(&reply), forbidden("model", "ReadFile"));
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("owned");
    let write = write_file(target.to_str().unwrap());
    let reply = store_model(
        &mut c,
        "app:write",
        "TF",
        "CPU",
        &["INPUTS", "1", "x", "OUTPUTS", "1", "y"],
        &write,
    );
    assert_eq!(error_text(&reply), forbidden("model", "WriteFile"));
    assert!(!target.exists());
    assert_eq!(render(&c.cmd("EXISTS app:read app:write")), ":0");
}

/// Whether the server put AI.CONFIG in @dangerous (module ACL categories: Redis 7.2+, Valkey 8).
fn config_is_dangerous(c: &mut Client) -> bool {
    match c.cmd("ACL CAT dangerous") {
        Frame::Array(items) => items
            .iter()
            .any(|i| matches!(i, Frame::BulkString(s) if s.eq_ignore_ascii_case(b"ai.config"))),
        _ => false,
    }
}

#[test]
fn ai_config_is_an_administrators_command() {
    needs!("ai_config_is_an_administrators_command", "TF", "TORCH");
    // Without TFLITE, which the attempts below try to load.
    let server = Server::with(&ALL_BACKENDS[..6], &[]);
    let mut admin = server.client();
    let mut app = app_user(&server);
    if config_is_dangerous(&mut admin) {
        let reply = app.cmd("AI.CONFIG BACKENDSPATH /tmp");
        assert!(
            error_text(&reply).starts_with("NOPERM"),
            "{}",
            render(&reply)
        );
    } else {
        // Redis 7.0: the ACL rule docs/security.md gives closes it.
        ok(&mut admin, "ACL SETUSER app -ai.config");
        let reply = app.cmd("AI.CONFIG BACKENDSPATH /tmp");
        assert!(
            error_text(&reply).starts_with("NOPERM"),
            "{}",
            render(&reply)
        );
    }
    assert_ne!(
        admin.cmd("AI.CONFIG GET BACKENDSPATH"),
        Frame::BulkString(b"/tmp".to_vec())
    );

    // Even the default user cannot load a library outside the start-up BACKENDSPATH: not by an
    // absolute path, not through `..`, not by moving BACKENDSPATH first.
    let outside = server.dir().join("evil.so");
    std::fs::write(&outside, b"\x7fELF not a real library").unwrap();
    let dir = server.dir().to_str().unwrap().to_string();
    let attempts: [&[&str]; 3] = [
        &[
            "AI.CONFIG",
            "LOADBACKEND",
            "TFLITE",
            outside.to_str().unwrap(),
        ],
        &[
            "AI.CONFIG",
            "LOADBACKEND",
            "TFLITE",
            "../../../../../../../../../../tmp/../etc/passwd",
        ],
        &["AI.CONFIG", "LOADBACKEND", "TFLITE", "evil.so"],
    ];
    for (i, attempt) in attempts.iter().enumerate() {
        if i == 2 {
            ok(&mut admin, &format!("AI.CONFIG BACKENDSPATH {dir}"));
        }
        assert_eq!(render(&admin.call(attempt)), "-ERR error loading backend");
    }
    let log = server.log();
    assert!(
        log.contains("not under the BACKENDSPATH set at start-up"),
        "{log}"
    );
    assert!(
        !log.contains("not a RedisAI backend"),
        "a library outside was opened:\n{log}"
    );

    // A script cannot call AI.CONFIG (or any keyless command) through redis.execute.
    let script = "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    \
                  redis.execute('AI.CONFIG', 'BACKENDSPATH', '/tmp')\n    return tensors[0]\n";
    assert_eq!(store_script(&mut admin, "s", "f", script), ok_frame("OK"));
    ok(&mut admin, "AI.TENSORSET x FLOAT 1 VALUES 1");
    let reply = admin.cmd("AI.SCRIPTEXECUTE s f KEYS 1 x INPUTS 1 x OUTPUTS 1 y");
    assert!(
        error_text(&reply).contains("ERR scripts may not call 'ai.config'"),
        "{}",
        render(&reply)
    );
    assert_eq!(
        bulk_text(&admin.cmd("AI.CONFIG GET BACKENDSPATH")),
        dir.as_str()
    );
}

fn bulk_text(frame: &Frame) -> String {
    match frame {
        Frame::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("expected a bulk string, got {}", render(other)),
    }
}

fn allocation_refused(requested: u64, limit: u64) -> String {
    format!(
        "ERR backend allocation of {requested} bytes exceeds the limit of {limit} bytes \
         (BACKEND_ALLOCATION_LIMIT)"
    )
}

const GIB: u64 = 1024 * 1024 * 1024;

/// Repeats `line` (deleting its `out` key in between) until it fails with `want`: the module
/// follows CONFIG SET within a second.
fn until_error(c: &mut Client, line: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        c.cmd("DEL out");
        let reply = c.cmd(line);
        if matches!(&reply, Frame::Error(e) if *e == want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not followed: {}",
            render(&reply)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn one_request_cannot_take_the_hosts_memory() {
    needs!(
        "one_request_cannot_take_the_hosts_memory",
        "TF",
        "TFLITE",
        "TORCH"
    );
    // 8 GiB of address space for everything: a defence that fails cannot fill the machine.
    let server = Server::with_address_space(&ALL_BACKENDS, &[], 8 * GIB);
    let mut c = server.client();
    let limit = 2048 * 1024 * 1024; // the default BACKEND_ALLOCATION_LIMIT, 2048 MB
    assert_eq!(
        info_number(&mut c, "modules", "ai_backend_allocation_limit"),
        2048
    );
    let blob = onnx("constant_of_shape.onnx");
    assert_eq!(store_onnx(&mut c, "cos", "CPU", &[], &blob), ok_frame("OK"));
    let fill = torch_model("def forward(self, n):\n    return torch.ones([int(n.item())])\n");
    assert_eq!(
        store_model(&mut c, "fill", "TORCH", "CPU", &[], &fill),
        ok_frame("OK")
    );
    let tf_fill = fill_floats();
    let reply = store_model(
        &mut c,
        "tffill",
        "TF",
        "CPU",
        &["INPUTS", "1", "dims", "OUTPUTS", "1", "y"],
        &tf_fill,
    );
    assert_eq!(reply, ok_frame("OK"));
    ok(&mut c, "AI.TENSORSET keep FLOAT 2 VALUES 1 2");
    let before = rss(&mut c);
    // 4 TB of floats: each backend refuses at once.
    ok(&mut c, "AI.TENSORSET s INT64 1 VALUES 1000000000000");
    for model in ["cos", "fill", "tffill"] {
        let started = Instant::now();
        let reply = c.cmd(&format!("AI.MODELEXECUTE {model} INPUTS 1 s OUTPUTS 1 out"));
        assert_eq!(
            error_text(&reply),
            allocation_refused(4_000_000_000_000, limit),
            "{model}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{model}: {:?}",
            started.elapsed()
        );
    }
    assert!(
        rss(&mut c) < before + 256 * 1024 * 1024,
        "the server's memory grew"
    );
    assert_eq!(render(&c.cmd("EXISTS out")), ":0");
    assert_eq!(numbers(&c.cmd("AI.TENSORGET keep VALUES")), [1.0, 2.0]);
    assert_eq!(render(&c.cmd("DBSIZE")), ":5");

    // maxmemory lowers the limit (followed within a second).
    ok(&mut c, "CONFIG SET maxmemory 64mb");
    ok(&mut c, "AI.TENSORSET s INT64 1 VALUES 20000000");
    let want = allocation_refused(80_000_000, 64 * 1024 * 1024);
    until_error(
        &mut c,
        "AI.MODELEXECUTE cos INPUTS 1 s OUTPUTS 1 out",
        &want,
    );
    ok(&mut c, "CONFIG SET maxmemory 0");

    // Outputs larger than proto-max-bulk-len are not stored (AI.TENSORSET refuses them too).
    ok(&mut c, "CONFIG SET proto-max-bulk-len 1mb");
    ok(&mut c, "AI.TENSORSET s INT64 1 VALUES 300000");
    let want = "ERR tensor size exceeds the maximum of 1048576 bytes (proto-max-bulk-len)";
    until_error(&mut c, "AI.MODELEXECUTE cos INPUTS 1 s OUTPUTS 1 out", want);
    assert_eq!(render(&c.cmd("EXISTS out")), ":0");
    let mut server = server;
    assert!(server.alive());
}

/// Sends `line` without waiting for the reply.
fn send(c: &mut Client, line: &str) {
    let args: Vec<&str> = line.split(' ').collect();
    c.send(&args);
}

fn blocked_clients(c: &mut Client) -> u64 {
    info_number(c, "clients", "blocked_clients")
}

#[test]
fn requests_held_for_a_batch_are_answered_when_their_model_goes() {
    let server = Server::with(&ALL_BACKENDS[..2], &[]);
    let mut admin = server.client();
    let blob = onnx("batch_mul2.onnx");
    ok(&mut admin, "AI.TENSORSET x FLOAT 1 3 VALUES 1 2 3");
    for end in ["AI.MODELDEL m", "FLUSHALL", "OVERWRITE"] {
        let options = ["BATCHSIZE", "8", "MINBATCHSIZE", "4"];
        assert_eq!(
            store_onnx(&mut admin, "m", "CPU", &options, &blob),
            ok_frame("OK")
        );
        ok(&mut admin, "AI.TENSORSET x FLOAT 1 3 VALUES 1 2 3");
        let mut waiting: Vec<Client> = (0..2).map(|_| server.client()).collect();
        for (i, c) in waiting.iter_mut().enumerate() {
            send(c, &format!("AI.MODELEXECUTE m INPUTS 1 x OUTPUTS 1 y{i}"));
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while blocked_clients(&mut admin) < 2 {
            assert!(Instant::now() < deadline, "the clients did not block");
            std::thread::sleep(Duration::from_millis(20));
        }
        match end {
            "OVERWRITE" => {
                assert_eq!(
                    store_onnx(&mut admin, "m", "CPU", &[], &blob),
                    ok_frame("OK")
                )
            }
            line => assert!(!render(&admin.cmd(line)).starts_with('-'), "{line}"),
        }
        for c in &mut waiting {
            // The batch of what was there ran: each request gets its own result.
            assert_eq!(c.read(), ok_frame("OK"), "after {end}");
        }
        assert_eq!(blocked_clients(&mut admin), 0, "after {end}");
    }
}

#[test]
fn scripts_reach_only_their_declared_keys() {
    needs!(
        "scripts_reach_only_their_declared_keys",
        "TF",
        "TFLITE",
        "TORCH"
    );
    let server = Server::with(&ALL_BACKENDS, &[]);
    let mut c = server.client();
    assert_eq!(render(&c.cmd("RPUSH list 3 1 2")), ":3");
    ok(&mut c, "SET undeclared_1 secret");
    ok(&mut c, "AI.TENSORSET x FLOAT 1 VALUES 1");
    let calls = [
        (
            "sort_get",
            "redis.execute('SORT', keys[0], 'BY', 'nosort', 'GET', 'undeclared_*')",
            "sort",
        ),
        (
            "sort_by",
            "redis.execute('SORT', keys[0], 'BY', 'undeclared_*')",
            "sort",
        ),
        ("keys", "redis.execute('KEYS', '*')", "keys"),
        ("scan", "redis.execute('SCAN', '0')", "scan"),
        ("randomkey", "redis.execute('RANDOMKEY')", "randomkey"),
        ("flushall", "redis.execute('FLUSHALL')", "flushall"),
    ];
    for (name, call, command) in calls {
        let source = format!(
            "def {name}(tensors: List[Tensor], keys: List[str], args: List[str]):\n    \
             {call}\n    return tensors[0]\n"
        );
        assert_eq!(store_script(&mut c, name, name, &source), ok_frame("OK"));
        let reply = c.cmd(&format!(
            "AI.SCRIPTEXECUTE {name} {name} KEYS 1 list INPUTS 1 x OUTPUTS 1 y"
        ));
        let text = error_text(&reply);
        assert!(
            text.contains(&format!("ERR scripts may not call '{command}'")),
            "{name}: {text}"
        );
        assert!(!text.contains("secret"), "{name}: {text}");
    }
    // A plain sort of a declared key still works.
    let sort = "def sort(tensors: List[Tensor], keys: List[str], args: List[str]):\n    \
                redis.execute('SORT', keys[0], 'STORE', keys[0])\n    return tensors[0]\n";
    assert_eq!(store_script(&mut c, "sort", "sort", sort), ok_frame("OK"));
    ok(
        &mut c,
        "AI.SCRIPTEXECUTE sort sort KEYS 1 list INPUTS 1 x OUTPUTS 1 y",
    );
    assert_eq!(render(&c.cmd("LRANGE list 0 -1")), "*[$b'1', $b'2', $b'3']");
    assert_eq!(render(&c.cmd("EXISTS undeclared_1 list")), ":2");
}

#[test]
fn allow_operators_opens_the_policy_for_trusted_setups() {
    needs!(
        "allow_operators_opens_the_policy_for_trusted_setups",
        "TF",
        "TFLITE",
        "TORCH"
    );
    let mut args = ALL_BACKENDS.to_vec();
    args.extend(["ALLOW_OPERATORS", "aten::from_file"]);
    let server = Server::with(&args, &[]);
    let mut c = server.client();
    let read = "def readf(tensors: List[Tensor], keys: List[str], args: List[str]):\n    \
                return torch.from_file(args[0], False, int(args[1]), dtype=0)\n";
    assert_eq!(store_script(&mut c, "fs", "readf", read), ok_frame("OK"));
    let write = "def writef(tensors: List[Tensor], keys: List[str], args: List[str]):\n    \
                 torch.save(tensors[0], '/nonexistent/x')\n    return tensors[0]\n";
    let reply = store_script(&mut c, "w", "writef", write);
    assert_eq!(error_text(&reply), forbidden("script", "aten::save"));
}
