//! Memory limits and a soak test through a real redis-server.
//!
//! - Over `maxmemory` (noeviction), the module's `deny-oom` commands (AI.TENSORSET, AI.MODELSTORE,
//!   AI.MODELEXECUTE, AI.DAGEXECUTE, ...) are refused with Redis's standard OOM error and change
//!   nothing, while reads and deletes still work.
//! - A soak of TENSORSET + MODELEXECUTE + TENSORGET + DEL cycles leaves `used_memory` and the RSS
//!   flat. CI runs a short one; the long run is `SOAK_CYCLES=100000 cargo test --release --test
//!   limits soak -- --nocapture` (or `make soak`).

mod common;

use common::fixtures::{onnx, store_onnx};
use common::{bulk, info_number, ok_frame, render, rss, Client, Frame, Server};

const OOM: &str = "-OOM command not allowed when used memory > 'maxmemory'.";

#[test]
fn deny_oom_commands_are_refused_over_maxmemory_and_reads_still_work() {
    let server = Server::with(&[], &["--maxmemory-policy", "noeviction"]);
    let mut c = server.client();
    assert_eq!(
        store_onnx(&mut c, "m", "CPU", &[], &onnx("batch_mul2.onnx")),
        ok_frame("OK")
    );
    c.cmd("AI.TENSORSET x FLOAT 1 3 VALUES 1 2 3");
    // Take the limit just under what is used now.
    let used = info_number(&mut c, "memory", "used_memory");
    assert_eq!(
        c.cmd(&format!("CONFIG SET maxmemory {}", used / 2)),
        ok_frame("OK")
    );
    let refused = [
        "AI.TENSORSET y FLOAT 1 VALUES 1",
        "AI.MODELEXECUTE m INPUTS 1 x OUTPUTS 1 y",
        "AI.DAGEXECUTE ROUTING x |> AI.TENSORSET a FLOAT 1 VALUES 1 |> AI.TENSORGET a VALUES",
        "AI.DAGRUN |> AI.TENSORSET a FLOAT 1 VALUES 1",
    ];
    for line in refused {
        assert_eq!(render(&c.cmd(line)), OOM, "{line}");
    }
    let model = onnx("batch_mul2.onnx");
    assert_eq!(render(&store_onnx(&mut c, "m2", "CPU", &[], &model)), OOM);
    assert_eq!(c.cmd("EXISTS y m2 a"), Frame::Integer(0));
    // Reads, read-only DAGs and deletes are not refused.
    assert_eq!(
        render(&c.cmd("AI.TENSORGET x VALUES")),
        "*[$b'1', $b'2', $b'3']"
    );
    assert!(render(&c.cmd("AI.MODELGET m META")).starts_with("*[$b'backend', $b'ONNX'"));
    let ro = c.cmd("AI.DAGEXECUTE_RO LOAD 1 x |> AI.MODELEXECUTE m INPUTS 1 x OUTPUTS 1 y |> AI.TENSORGET y VALUES");
    assert_eq!(render(&ro), "*[+OK, *[$b'2', $b'4', $b'6']]");
    assert_eq!(c.cmd("AI.MODELDEL m"), ok_frame("OK"));
    assert_eq!(c.cmd("CONFIG SET maxmemory 0"), ok_frame("OK"));
    assert_eq!(c.cmd("AI.TENSORSET y FLOAT 1 VALUES 1"), ok_frame("OK"));
}

#[test]
fn soak_of_execute_cycles_keeps_memory_flat() {
    let cycles: usize = std::env::var("SOAK_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let server = Server::start();
    let mut c = server.client();
    let model = onnx("batch_mul2.onnx");
    assert_eq!(
        store_onnx(&mut c, "m", "CPU", &["BATCHSIZE", "4"], &model),
        ok_frame("OK")
    );
    let cycle = |c: &mut Client, i: usize| {
        let v = (i % 1000) as f32;
        let data: Vec<u8> = [v, v, v].iter().flat_map(|f| f.to_le_bytes()).collect();
        let set: [&[u8]; 7] = [b"AI.TENSORSET", b"x", b"FLOAT", b"1", b"3", b"BLOB", &data];
        assert_eq!(c.call(&set), ok_frame("OK"));
        assert_eq!(
            c.cmd("AI.MODELEXECUTE m INPUTS 1 x OUTPUTS 1 y"),
            ok_frame("OK")
        );
        let got = bulk(&c.cmd("AI.TENSORGET y BLOB"));
        assert_eq!(got.len(), 12);
        if i % 2 == 0 {
            let dag = c.cmd("AI.DAGEXECUTE LOAD 1 x |> AI.MODELEXECUTE m INPUTS 1 x OUTPUTS 1 z |> AI.TENSORGET z BLOB");
            assert!(
                matches!(dag, Frame::Array(ref items) if items.len() == 2),
                "{dag:?}"
            );
        }
        assert_eq!(c.cmd("DEL x y"), Frame::Integer(2));
    };
    // Warm up (allocator arenas, ONNX Runtime's first-run allocations), then measure.
    for i in 0..cycles / 10 {
        cycle(&mut c, i);
    }
    let (used0, rss0) = (info_number(&mut c, "memory", "used_memory"), rss(&mut c));
    for i in 0..cycles {
        cycle(&mut c, i);
    }
    let (used1, rss1) = (info_number(&mut c, "memory", "used_memory"), rss(&mut c));
    println!("soak: {cycles} cycles, used_memory {used0} -> {used1}, rss {rss0} -> {rss1}");
    assert!(
        used1 <= used0 + (256 << 10),
        "used_memory grew: {used0} -> {used1}"
    );
    assert!(rss1 <= rss0 + (16 << 20), "RSS grew: {rss0} -> {rss1}");
    assert!(render(&c.cmd("AI.INFO m")).contains("$b'errors', :0"));
}
