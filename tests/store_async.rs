//! AI.MODELSTORE off the main thread (src/loading.rs): while a ~100 MB model is being built, the
//! server serves other clients, and the store keeps RedisAI's semantics: what other commands see
//! of the key meanwhile, the order of two stores to one key, FLUSHALL, a client that goes away,
//! MULTI and Lua (inline there).
//!
//! The model takes hundreds of milliseconds to build and a PING microseconds; the assertions are
//! on the order of the replies, not on times.

mod common;

use common::fixtures::{onnx, reference, store_onnx};
use common::{bulk, field_pairs, integer, is_error, ok_frame, Client, Frame, Server};

/// `ai_<field>` of INFO MODULES.
fn info_number(c: &mut Client, field: &str) -> i64 {
    common::info_number(c, "MODULES", &format!("ai_{field}")) as i64
}

/// Sends `AI.MODELSTORE <key> ONNX CPU TAG <tag> BLOB <blob>` without reading the reply.
fn send_store(c: &mut Client, key: &str, tag: &str, blob: &[u8]) {
    c.send(&[
        b"AI.MODELSTORE",
        key.as_bytes(),
        b"ONNX",
        b"CPU",
        b"TAG",
        tag.as_bytes(),
        b"BLOB",
        blob,
    ]);
}

fn tag_of(c: &mut Client, key: &str) -> Vec<u8> {
    let meta = field_pairs(&c.call(&["AI.MODELGET", key, "META"]));
    let (_, tag) = meta.iter().find(|(k, _)| k == "tag").expect("a tag");
    bulk(tag)
}

/// Waits until the loader holds `n` stores.
fn until_pending(c: &mut Client, n: i64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while info_number(c, "loader_pending") < n {
        assert!(
            std::time::Instant::now() < deadline,
            "the loader never held {n} stores"
        );
    }
}

/// Waits until the loader has nothing pending (every store answered or dropped).
fn wait_idle(c: &mut Client) {
    for _ in 0..3000 {
        if info_number(c, "loader_pending") == 0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("stores still pending");
}

#[test]
fn other_clients_are_served_while_a_large_model_is_built() {
    let server = Server::start();
    let (mut storer, mut other) = (server.client(), server.client());
    let big = onnx("big_store.onnx");
    assert!(big.len() > 90_000_000, "{}", big.len());
    send_store(&mut storer, "big", "v1", &big);
    // The server received the command once the loader holds it.
    while info_number(&mut other, "loader_pending") == 0 {
        assert!(!storer.has_reply(), "{:?}", storer.read());
    }
    assert_eq!(other.cmd("PING"), ok_frame("PONG"));
    assert_eq!(other.cmd("AI.TENSORSET t FLOAT 1 VALUES 1"), ok_frame("OK"));
    // The key is not there until the store completes.
    let missing = other.cmd("AI.MODELGET big META");
    assert_eq!(
        missing,
        Frame::Error("ERR model key is empty".into()),
        "{missing:?}"
    );
    assert_eq!(
        other.cmd("AI.MODELDEL big"),
        Frame::Error("ERR model key is empty".into())
    );
    assert!(
        !storer.has_reply(),
        "the store answered before the other client's commands"
    );
    assert_eq!(storer.read(), ok_frame("OK"));
    assert_eq!(tag_of(&mut other, "big"), b"v1");
    // The loader counts the job done just after it handed the reply over.
    wait_idle(&mut other);
    assert_eq!(info_number(&mut other, "loader_threads"), 2);
    // SLOWLOG and commandstats see one call.
    let stats = String::from_utf8(bulk(&other.cmd("INFO COMMANDSTATS"))).expect("text");
    assert!(stats.contains("cmdstat_ai.modelstore:calls=1,"), "{stats}");
}

#[test]
fn two_stores_to_one_key_finish_in_the_order_received() {
    let server = Server::start();
    let (mut first, mut second, mut other) = (server.client(), server.client(), server.client());
    // The large model first, a small one second: the small build would finish first if the two
    // ran side by side.
    send_store(&mut first, "m", "first", &onnx("big_store.onnx"));
    until_pending(&mut other, 1);
    send_store(&mut second, "m", "second", &reference("mnist.onnx"));
    until_pending(&mut other, 2);
    assert_eq!(first.read(), ok_frame("OK"));
    assert_eq!(second.read(), ok_frame("OK"));
    assert_eq!(tag_of(&mut other, "m"), b"second");
    // A store to another key is not held up behind them.
    send_store(&mut first, "m", "third", &onnx("big_store.onnx"));
    until_pending(&mut other, 1);
    send_store(&mut second, "small", "s", &reference("mnist.onnx"));
    assert_eq!(second.read(), ok_frame("OK"));
    assert!(
        !first.has_reply(),
        "the small store waited for the large one"
    );
    assert_eq!(first.read(), ok_frame("OK"));
    assert_eq!(tag_of(&mut other, "m"), b"third");
}

#[test]
fn a_flushall_during_a_store_is_ordered_before_it() {
    let server = Server::start();
    let (mut storer, mut other) = (server.client(), server.client());
    assert_eq!(other.cmd("SET k v"), ok_frame("OK"));
    send_store(&mut storer, "big", "v1", &onnx("big_store.onnx"));
    until_pending(&mut other, 1);
    assert_eq!(other.cmd("FLUSHALL"), ok_frame("OK"));
    assert!(!storer.has_reply());
    assert_eq!(storer.read(), ok_frame("OK"));
    assert_eq!(integer(&other.cmd("EXISTS k big")), 1);
    assert_eq!(tag_of(&mut other, "big"), b"v1");
}

#[test]
fn a_store_whose_client_went_away_writes_nothing() {
    let mut server = Server::start();
    let mut other = server.client();
    {
        let mut storer = server.client();
        send_store(&mut storer, "gone", "v1", &onnx("big_store.onnx"));
        until_pending(&mut other, 1);
    }
    wait_idle(&mut other);
    assert_eq!(integer(&other.cmd("EXISTS gone")), 0);
    assert_eq!(integer(&other.cmd("DBSIZE")), 0);
    assert!(server.alive());
    // Nothing of it reached the log as an error.
    assert!(!server.log().contains("internal error"), "{}", server.log());
}

#[test]
fn a_failed_build_answers_its_error_and_leaves_the_key_as_it_was() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(
        store_onnx(
            &mut c,
            "m",
            "CPU",
            &["TAG", "good"],
            &reference("mnist.onnx")
        ),
        ok_frame("OK")
    );
    let reply = store_onnx(&mut c, "m", "CPU", &["TAG", "bad"], b"not a model");
    assert!(is_error(&reply), "{reply:?}");
    assert_eq!(tag_of(&mut c, "m"), b"good");
    // WRONGTYPE after the build, as RedisAI checks the key once the model is built.
    assert_eq!(c.cmd("SET s v"), ok_frame("OK"));
    let reply = store_onnx(&mut c, "s", "CPU", &[], &reference("mnist.onnx"));
    assert!(
        matches!(&reply, Frame::Error(e) if e.starts_with("WRONGTYPE")),
        "{reply:?}"
    );
}

#[test]
fn stores_in_multi_and_lua_run_inline() {
    let server = Server::start();
    let mut c = server.client();
    let mnist = reference("mnist.onnx");
    assert_eq!(c.cmd("MULTI"), ok_frame("OK"));
    assert_eq!(
        store_onnx(&mut c, "in_multi", "CPU", &["TAG", "multi"], &mnist),
        ok_frame("QUEUED")
    );
    assert_eq!(c.cmd("AI.MODELGET in_multi META"), ok_frame("QUEUED"));
    match c.cmd("EXEC") {
        Frame::Array(replies) => {
            assert_eq!(replies[0], ok_frame("OK"));
            // The next command of the transaction already sees the model.
            assert!(!is_error(&replies[1]), "{:?}", replies[1]);
        }
        other => panic!("{other:?}"),
    }
    let script = "return redis.call('AI.MODELSTORE', KEYS[1], 'ONNX', 'CPU', 'TAG', 'lua', \
                  'BLOB', ARGV[1])";
    let reply = c.call(&[
        b"EVAL".as_slice(),
        script.as_bytes(),
        b"1",
        b"from_lua",
        &mnist,
    ]);
    assert_eq!(reply, ok_frame("OK"));
    assert_eq!(tag_of(&mut c, "from_lua"), b"lua");
    assert_eq!(tag_of(&mut c, "in_multi"), b"multi");
}
