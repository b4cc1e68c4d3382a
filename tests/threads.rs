//! The server's threads do not grow with the number of stored models: the ONNX backend's
//! sessions share the environment's thread pools (docs/backends.md), so a thousand models cost
//! no more threads than one (benches count them at scale; this checks it at 40).

mod common;

use common::fixtures::{reference, set_one_image, store_onnx};
use common::{bulk, ok_frame, Client, Server};

/// The server's threads (`/proc/<pid>/task/*/comm`), leaving out jemalloc's background threads:
/// the allocator starts those as its arenas come into use, whatever the module does.
fn threads(c: &mut Client) -> Vec<String> {
    let info = String::from_utf8_lossy(&bulk(&c.cmd("INFO server"))).into_owned();
    let pid = info
        .lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .expect("process_id")
        .trim()
        .to_string();
    let mut names: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("proc tasks")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_string())
        .filter(|name| name != "jemalloc_bg_thd")
        .collect();
    names.sort();
    names
}

/// Stores mnist at `key` and runs it from `clients` connections at once (so a model with
/// several workers builds extra sessions).
fn store_and_run(c: &mut Client, key: &str, clients: &mut [Client]) {
    assert_eq!(
        store_onnx(c, key, "CPU", &[], &reference("mnist.onnx")),
        ok_frame("OK")
    );
    let run = [
        "AI.MODELEXECUTE",
        key,
        "INPUTS",
        "1",
        "img",
        "OUTPUTS",
        "1",
        "out",
    ];
    for k in clients.iter_mut() {
        k.send(&run);
    }
    for k in clients.iter_mut() {
        assert_eq!(k.read(), ok_frame("OK"));
    }
}

fn check(args: &[&str]) {
    let server = Server::with(args, &[]);
    let mut c = server.client();
    set_one_image(&mut c, "img");
    let mut clients: Vec<Client> = (0..4).map(|_| server.client()).collect();
    store_and_run(&mut c, "m0", &mut clients);
    let one = threads(&mut c);
    for i in 1..40 {
        store_and_run(&mut c, &format!("m{i}"), &mut clients);
    }
    let forty = threads(&mut c);
    // Counted, not compared by name: a new thread may not have set its name yet.
    assert_eq!(
        forty.len(),
        one.len(),
        "{args:?}: threads with one model {one:?}, with 40 {forty:?}"
    );
}

#[test]
fn threads_do_not_grow_with_the_number_of_models() {
    check(&[]);
    check(&["THREADS_PER_QUEUE", "2", "INTRA_OP_PARALLELISM", "1"]);
    check(&[
        "THREADS_PER_QUEUE",
        "2",
        "INTRA_OP_PARALLELISM",
        "2",
        "INTER_OP_PARALLELISM",
        "2",
    ]);
}
