//! The module in a real three-master OSS Redis Cluster on loopback, started by the test
//! (`--cluster-enabled yes`, then `redis-cli --cluster create ... --cluster-replicas 0`).
//!
//! What this proves, with the replies compared as exact text:
//! - a model and tensors under one hash tag (`{t}`) work end to end on the node that owns the
//!   slot: AI.MODELSTORE, AI.TENSORSET, AI.MODELEXECUTE, AI.TENSORGET, and AI.DAGEXECUTE with
//!   LOAD / PERSIST (and AI.DAGEXECUTE_RO with LOAD), and a script whose KEYS share the slot,
//!   writing through `redis.execute`;
//! - every keyed AI command sent to a node that does not own the slot gets
//!   `-MOVED <slot> 127.0.0.1:<owner port>` and writes nothing there;
//! - the keys the module reports (MODELEXECUTE: model, inputs, outputs; SCRIPTEXECUTE: script,
//!   KEYS, inputs, outputs; DAGs: LOAD, PERSIST, ROUTING and the model or script key of every op)
//!   are slot-checked: mixing slots gets
//!   `-CROSSSLOT Keys in request don't hash to the same slot`, from any node, and changes nothing;
//! - a malformed command reports only the keys that are certain (the model or script key; a
//!   malformed DAG none), so mixed slots get the command's own error, not CROSSSLOT;
//! - a DAG whose only key is `ROUTING {t}` is redirected to the owner of `{t}`'s slot and runs
//!   there; DAG-local tensor names are not keys; a DAG with no key at all (AI.DAGRUN) runs on any
//!   node;
//! - AI.INFO and AI._MODELSCAN are node-local: statistics and the model list live on the node
//!   that holds the model.

mod common;

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::fixtures::{numbers, onnx, store_onnx};
use common::torch::store_script;
use common::{integer, ok_frame, render, Client, Frame, Server};

/// One cluster node: its TCP port and the server (killed on drop by the harness).
struct Node {
    port: u16,
    server: Server,
}

/// A three-master cluster; the servers are killed when it drops.
struct Cluster {
    nodes: Vec<Node>,
}

/// `count` distinct free loopback ports (all listeners held until every port is chosen).
fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local address").port())
        .collect()
}

fn text(frame: &Frame) -> String {
    match frame {
        Frame::BulkString(b) | Frame::SimpleString(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("expected a string, got {other:?}"),
    }
}

impl Cluster {
    fn start() -> Cluster {
        // A client port and a cluster-bus port per node.
        let ports = free_ports(6);
        let nodes: Vec<Node> = (0..3)
            .map(|i| {
                let port = ports[2 * i].to_string();
                let bus = ports[2 * i + 1].to_string();
                let server = Server::with(
                    &[],
                    &[
                        "--port",
                        &port,
                        "--bind",
                        "127.0.0.1",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                        "--cluster-port",
                        &bus,
                        "--cluster-node-timeout",
                        "5000",
                    ],
                );
                Node {
                    port: ports[2 * i],
                    server,
                }
            })
            .collect();
        let cluster = Cluster { nodes };
        cluster.create();
        cluster.wait_until_ok();
        cluster
    }

    /// `redis-cli --cluster create`, bounded by a deadline.
    fn create(&self) {
        let mut cmd = Command::new("redis-cli");
        cmd.arg("--cluster").arg("create");
        for node in &self.nodes {
            cmd.arg(format!("127.0.0.1:{}", node.port));
        }
        cmd.args(["--cluster-replicas", "0", "--cluster-yes"]);
        let out_path = self.nodes[0].server.dir().join("cluster-create.log");
        let out = std::fs::File::create(&out_path).expect("log file");
        cmd.stdin(Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out);
        let mut child = cmd.spawn().expect("run redis-cli --cluster create");
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for redis-cli") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "redis-cli --cluster create did not finish:\n{}",
                    std::fs::read_to_string(&out_path).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(
            status.success(),
            "redis-cli --cluster create failed:\n{}",
            std::fs::read_to_string(&out_path).unwrap_or_default()
        );
    }

    /// Waits (bounded) until every node reports `cluster_state:ok` and sees three slot ranges.
    fn wait_until_ok(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        for node in &self.nodes {
            let mut c = node.server.client();
            loop {
                let info = text(&c.cmd("CLUSTER INFO"));
                let slots = match c.cmd("CLUSTER SLOTS") {
                    Frame::Array(ranges) => ranges.len(),
                    _ => 0,
                };
                if info.contains("cluster_state:ok") && slots == 3 {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "node {} did not reach cluster_state:ok:\n{info}",
                    node.port
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// A connection to node `i`.
    fn client(&self, i: usize) -> Client {
        self.nodes[i].server.client()
    }

    /// The slot of `key` (CLUSTER KEYSLOT).
    fn slot(&self, key: &str) -> i64 {
        integer(&self.client(0).call(&["CLUSTER", "KEYSLOT", key]))
    }

    /// The index of the node that owns `slot`, from CLUSTER SLOTS.
    fn owner(&self, slot: i64) -> usize {
        let Frame::Array(ranges) = self.client(0).cmd("CLUSTER SLOTS") else {
            panic!("CLUSTER SLOTS is not an array");
        };
        for range in ranges {
            let Frame::Array(fields) = range else {
                panic!("a CLUSTER SLOTS range is not an array");
            };
            let (start, end) = (integer(&fields[0]), integer(&fields[1]));
            if (start..=end).contains(&slot) {
                let Frame::Array(master) = &fields[2] else {
                    panic!("no master in a CLUSTER SLOTS range");
                };
                let port = integer(&master[1]) as u16;
                return self
                    .nodes
                    .iter()
                    .position(|n| n.port == port)
                    .expect("the owner is one of our nodes");
            }
        }
        panic!("slot {slot} is not covered");
    }

    fn moved(&self, slot: i64, owner: usize) -> String {
        format!("-MOVED {slot} 127.0.0.1:{}", self.nodes[owner].port)
    }
}

const CROSSSLOT: &str = "-CROSSSLOT Keys in request don't hash to the same slot";

fn ok(c: &mut Client, line: &str) {
    let reply = c.cmd(line);
    assert_eq!(reply, ok_frame("OK"), "{line}: {}", render(&reply));
}

#[test]
fn a_three_master_cluster_routes_slot_checks_and_runs_the_ai_commands() {
    needs!(
        "a_three_master_cluster_routes_slot_checks_and_runs_the_ai_commands",
        "TF",
        "TORCH"
    );
    let started = Instant::now();
    let cluster = Cluster::start();
    eprintln!("cluster up in {:?}", started.elapsed());

    let slot = cluster.slot("{t}");
    let owner = cluster.owner(slot);
    let others: Vec<usize> = (0..3).filter(|&i| i != owner).collect();
    // A hash tag whose slot another node owns, for the cross-slot cases.
    let (far_tag, far_slot, far_owner) = (0..)
        .map(|i| format!("{{o{i}}}"))
        .map(|tag| {
            let s = cluster.slot(&tag);
            (tag, s, cluster.owner(s))
        })
        .find(|(_, _, o)| *o != owner)
        .expect("a tag on another node");
    assert_ne!(far_slot, slot);
    let far = |name: &str| format!("{far_tag}{name}");

    // --- End to end on the owner of {t}. ---
    let mut c = cluster.client(owner);
    let blob = onnx("batch_mul2.onnx");
    let reply = store_onnx(&mut c, "{t}m", "CPU", &["TAG", "v1"], &blob);
    assert_eq!(reply, ok_frame("OK"), "{}", render(&reply));
    ok(&mut c, "AI.TENSORSET {t}x FLOAT 2 3 VALUES 1 2 3 4 5 6");
    ok(&mut c, "AI.MODELEXECUTE {t}m INPUTS 1 {t}x OUTPUTS 1 {t}y");
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET {t}y VALUES")),
        vec![2.0, 4.0, 6.0, 8.0, 10.0, 12.0]
    );
    let reply = c.cmd(
        "AI.DAGEXECUTE LOAD 1 {t}y PERSIST 1 {t}z |> AI.MODELEXECUTE {t}m INPUTS 1 {t}y OUTPUTS 1 {t}z \
         |> AI.TENSORGET {t}z VALUES",
    );
    assert_eq!(
        render(&reply),
        "*[+OK, *[$b'4', $b'8', $b'12', $b'16', $b'20', $b'24']]"
    );
    assert_eq!(
        numbers(&c.cmd("AI.TENSORGET {t}z VALUES")),
        vec![4.0, 8.0, 12.0, 16.0, 20.0, 24.0]
    );
    let reply = c.cmd(
        "AI.DAGEXECUTE_RO LOAD 1 {t}x |> AI.MODELEXECUTE {t}m INPUTS 1 {t}x OUTPUTS 1 tmp \
         |> AI.TENSORGET tmp VALUES",
    );
    assert_eq!(
        render(&reply),
        "*[+OK, *[$b'2', $b'4', $b'6', $b'8', $b'10', $b'12']]"
    );

    // A script whose KEYS share the slot runs, and writes through redis.execute.
    store_script(
        &mut c,
        "{t}s",
        &["f"],
        "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    \
         redis.execute('SET', keys[0], 'v')\n    return tensors[0] * 2\n",
    );
    ok(
        &mut c,
        "AI.SCRIPTEXECUTE {t}s f KEYS 1 {t}k INPUTS 1 {t}x OUTPUTS 1 {t}y",
    );
    assert_eq!(render(&c.cmd("GET {t}k")), "$b'v'");

    // --- A keyless DAG routed by ROUTING {t}: runs on the owner, MOVED elsewhere. ---
    let routed = "AI.DAGEXECUTE ROUTING {t} |> AI.TENSORSET a FLOAT 1 3 VALUES 1 2 3 \
                  |> AI.MODELEXECUTE {t}m INPUTS 1 a OUTPUTS 1 b |> AI.TENSORGET b VALUES";
    let tensors_only = "AI.DAGEXECUTE ROUTING {t} |> AI.TENSORSET a FLOAT 1 VALUES 7 \
                        |> AI.TENSORGET a VALUES";
    assert_eq!(
        render(&c.cmd(routed)),
        "*[+OK, +OK, *[$b'2', $b'4', $b'6']]"
    );
    assert_eq!(render(&c.cmd(tensors_only)), "*[+OK, *[$b'7']]");
    let moved = cluster.moved(slot, owner);
    for &i in &others {
        let mut other = cluster.client(i);
        for line in [routed, tensors_only] {
            assert_eq!(render(&other.cmd(line)), moved, "{line} on node {i}");
        }
        // With no key at all (the deprecated AI.DAGRUN), a DAG runs wherever it is sent.
        assert_eq!(
            render(
                &other.cmd("AI.DAGRUN |> AI.TENSORSET a FLOAT 1 VALUES 3 |> AI.TENSORGET a VALUES")
            ),
            "*[+OK, *[$b'3']]"
        );
    }

    // --- Keyed commands on a node that does not own the slot: MOVED, nothing written. ---
    let single_key = [
        "AI.TENSORSET {t}x FLOAT 1 VALUES 1",
        "AI.TENSORGET {t}x VALUES",
        "AI.MODELGET {t}m META",
        "AI.MODELDEL {t}m",
        "AI.INFO {t}m",
        "AI.MODELEXECUTE {t}m INPUTS 1 {t}x OUTPUTS 1 {t}w",
        "AI.MODELRUN {t}m INPUTS {t}x OUTPUTS {t}w",
        "AI.DAGEXECUTE LOAD 1 {t}x PERSIST 1 {t}w |> AI.MODELEXECUTE {t}m INPUTS 1 {t}x OUTPUTS 1 {t}w",
        "AI.DAGEXECUTE_RO LOAD 1 {t}x |> AI.TENSORGET {t}x VALUES",
        "AI.SCRIPTGET {t}s",
        "AI.SCRIPTEXECUTE {t}s f KEYS 1 {t}k INPUTS 1 {t}x OUTPUTS 1 {t}w",
        "AI.DAGEXECUTE LOAD 1 {t}x |> AI.SCRIPTEXECUTE {t}s f INPUTS 1 {t}x OUTPUTS 1 a",
    ];
    for &i in &others {
        let mut other = cluster.client(i);
        for line in single_key {
            assert_eq!(render(&other.cmd(line)), moved, "{line} on node {i}");
        }
        let reply = store_onnx(&mut other, "{t}m2", "CPU", &[], &blob);
        assert_eq!(render(&reply), moved);
    }
    eprintln!("observed: {moved}");

    // --- Keys in two slots: CROSSSLOT from every node, nothing written or deleted. ---
    let cross = [
        // MODELEXECUTE: input, output or model in the other slot.
        format!(
            "AI.MODELEXECUTE {{t}}m INPUTS 1 {} OUTPUTS 1 {{t}}w",
            far("x")
        ),
        format!(
            "AI.MODELEXECUTE {{t}}m INPUTS 1 {{t}}x OUTPUTS 1 {}",
            far("w")
        ),
        format!(
            "AI.MODELEXECUTE {} INPUTS 1 {{t}}x OUTPUTS 1 {{t}}w",
            far("m")
        ),
        format!("AI.MODELRUN {{t}}m INPUTS {} OUTPUTS {{t}}w", far("x")),
        // DAG: LOAD, PERSIST, ROUTING or an op's model key in the other slot.
        format!(
            "AI.DAGEXECUTE LOAD 1 {} PERSIST 1 {{t}}w \
             |> AI.MODELEXECUTE {{t}}m INPUTS 1 {} OUTPUTS 1 {{t}}w",
            far("x"),
            far("x")
        ),
        format!(
            "AI.DAGEXECUTE LOAD 1 {{t}}x PERSIST 1 {} \
             |> AI.MODELEXECUTE {{t}}m INPUTS 1 {{t}}x OUTPUTS 1 {}",
            far("w"),
            far("w")
        ),
        format!(
            "AI.DAGEXECUTE ROUTING {} |> AI.TENSORSET a FLOAT 1 3 VALUES 1 2 3 \
             |> AI.MODELEXECUTE {{t}}m INPUTS 1 a OUTPUTS 1 b |> AI.TENSORGET b VALUES",
            far("")
        ),
        format!(
            "AI.DAGEXECUTE ROUTING {{t}} PERSIST 1 {{t}}w |> AI.TENSORSET a FLOAT 1 3 VALUES 1 2 3 \
             |> AI.MODELEXECUTE {} INPUTS 1 a OUTPUTS 1 {{t}}w",
            far("m")
        ),
        format!(
            "AI.DAGEXECUTE_RO LOAD 2 {{t}}x {} |> AI.TENSORGET {{t}}x VALUES",
            far("x")
        ),
        format!(
            "AI.DAGRUN LOAD 1 {{t}}x PERSIST 1 {} |> AI.MODELRUN {{t}}m INPUTS {{t}}x OUTPUTS {}",
            far("w"),
            far("w")
        ),
        // Scripts: a declared key, an input, an output or the script in the other slot.
        format!(
            "AI.SCRIPTEXECUTE {{t}}s f KEYS 1 {} INPUTS 1 {{t}}x OUTPUTS 1 {{t}}w",
            far("k")
        ),
        format!(
            "AI.SCRIPTEXECUTE {{t}}s f KEYS 1 {{t}}k INPUTS 1 {} OUTPUTS 1 {{t}}w",
            far("x")
        ),
        format!(
            "AI.SCRIPTEXECUTE {{t}}s f KEYS 1 {{t}}k INPUTS 1 {{t}}x OUTPUTS 1 {}",
            far("w")
        ),
        format!(
            "AI.DAGEXECUTE LOAD 1 {{t}}x PERSIST 1 {{t}}w \
             |> AI.SCRIPTEXECUTE {} f INPUTS 1 {{t}}x OUTPUTS 1 {{t}}w",
            far("s")
        ),
    ];
    for i in 0..3 {
        let mut any = cluster.client(i);
        for line in &cross {
            assert_eq!(render(&any.cmd(line)), CROSSSLOT, "{line} on node {i}");
        }
    }
    eprintln!("observed: {CROSSSLOT}");

    // --- Malformed commands report only the keys that are certain: routed by the model or
    // script key (a malformed DAG by none), they answer their own error, not CROSSSLOT. ---
    let own_errors = [
        (
            format!(
                "AI.MODELEXECUTE {{t}}m TIMEOUT 1000 INPUTS 2 {{t}}x {} OUTPUTS 1 {{t}}w",
                far("x")
            ),
            "-ERR INPUTS not specified",
        ),
        (
            format!(
                "AI.MODELEXECUTE {{t}}m INPUTS 3 {{t}}x {} OUTPUTS 1 {{t}}w",
                far("x")
            ),
            "-Number of keys given as INPUTS here does not match model definition",
        ),
        (
            format!(
                "AI.SCRIPTEXECUTE {{t}}s f ARGS 1 a INPUTS 1 {} OUTPUTS 1 {{t}}w",
                far("x")
            ),
            "-ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command",
        ),
    ];
    for (line, error) in &own_errors {
        assert_eq!(render(&c.cmd(line)), *error, "{line} on the owner");
        for &i in &others {
            assert_eq!(
                render(&cluster.client(i).cmd(line)),
                moved,
                "{line} on node {i}"
            );
        }
    }
    let malformed_dag = format!(
        "AI.DAGEXECUTE PERSIST 2 {{t}}w {} FOO |> AI.TENSORSET {{t}}w FLOAT 1 VALUES 1",
        far("w")
    );
    for i in 0..3 {
        assert_eq!(
            render(&cluster.client(i).cmd(&malformed_dag)),
            "-ERR Invalid DAG command. Unexpected argument:  FOO",
            "{malformed_dag} on node {i}"
        );
    }
    assert_eq!(c.cmd("EXISTS {t}w"), Frame::Integer(0));
    assert_eq!(
        cluster.client(far_owner).call(&["EXISTS", &far("w")]),
        Frame::Integer(0)
    );
    // Only {t}m {t}x {t}y {t}z {t}s {t}k: DAG-local tensors (tmp, a, b) and refused outputs are
    // not keys.
    assert_eq!(c.cmd("DBSIZE"), Frame::Integer(6));
    for &i in &others {
        assert_eq!(cluster.client(i).cmd("DBSIZE"), Frame::Integer(0));
    }

    // --- AI.INFO and AI._MODELSCAN are node-local. ---
    let info = render(&c.cmd("AI.INFO {t}m"));
    // MODELEXECUTE, the two LOAD DAGs, the routed DAG: one call each.
    assert!(info.contains("$b'calls', :4"), "{info}");
    assert!(info.contains("$b'tag', $b'v1'"), "{info}");
    let mut far_client = cluster.client(far_owner);
    let reply = store_onnx(&mut far_client, &far("m"), "CPU", &[], &blob);
    assert_eq!(reply, ok_frame("OK"), "{}", render(&reply));
    assert_eq!(render(&c.cmd("AI._MODELSCAN")), "*[*[$b'{t}m', $b'v1']]");
    assert_eq!(
        render(&far_client.cmd("AI._MODELSCAN")),
        format!("*[*[$b'{}', $b'']]", far("m"))
    );
    let third = (0..3).find(|&i| i != owner && i != far_owner).unwrap();
    assert_eq!(render(&cluster.client(third).cmd("AI._MODELSCAN")), "*[]");
    let info = render(&far_client.call(&["AI.INFO", &far("m")]));
    assert!(info.contains("$b'calls', :0"), "{info}");
    assert_eq!(render(&far_client.cmd("AI.INFO {t}m")), moved);
    eprintln!("cluster test done in {:?}", started.elapsed());
}
