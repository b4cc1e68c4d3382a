//! TorchScript scripts through the plugin ABI: the entry-point convention and its store-time
//! checks, legacy positional calls, output rules, and the redis / redisAI extensions served by a
//! host double.

mod common;

use common::*;
use redisai_backend_api::{DType, Reply};

const SCRIPT: &str = "\
def bar(tensors: List[Tensor], keys: List[str], args: List[str]):
    a = tensors[0]
    b = tensors[1]
    return a + b

def bar_variadic(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] * tensors[1]

def helper(x: Tensor):
    return x + 1

def scale(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] * int(args[0])

def two_out(tensors: List[Tensor], keys: List[str], args: List[str]):
    return [tensors[0] + tensors[1], tensors[0] - tensors[1]]

def bad_sig(tensors: List[Tensor], keys: List[str], args: List[Tensor]):
    return tensors[0]

def not_tensor(tensors: List[Tensor], keys: List[str], args: List[str]):
    return (tensors[0], 3)

def legacy_list(a: Tensor, rest: List[Tensor]):
    return a + rest[0] + rest[1]

def legacy_int(a: int):
    return a
";

const ENTRIES: [&str; 5] = ["bar", "bar_variadic", "scale", "two_out", "not_tensor"];

fn ia() -> redisai_core::Tensor {
    tensor(DType::Float, &[2, 2], &["2", "3", "2", "3"])
}

#[test]
fn entry_points_follow_the_convention() {
    let s = script(SCRIPT, &ENTRIES);
    let host = FakeHost::default();
    let (a, b) = (ia(), ia());
    let out = call(&s, &host, "bar", &[&a, &b], &[], &[], 1).unwrap();
    assert_eq!(f32s(out[0].as_ref().unwrap()), [4.0, 6.0, 4.0, 6.0]);
    let out = call(&s, &host, "scale", &[&a], &[], &["3"], 1).unwrap();
    assert_eq!(f32s(out[0].as_ref().unwrap()), [6.0, 9.0, 6.0, 9.0]);
    let out = call(&s, &host, "two_out", &[&a, &b], &[], &[], 2).unwrap();
    assert_eq!(f32s(out[1].as_ref().unwrap()), [0.0; 4]);
    // No OUTPUTS: the result is ignored.
    assert!(call(&s, &host, "bar", &[&a, &b], &[], &[], 0)
        .unwrap()
        .is_empty());
}

#[test]
fn store_time_checks_have_redisai_texts() {
    let cases: [(&str, &[&str], &str); 4] = [
        (
            SCRIPT,
            &["nosuchfn"],
            "Function nosuchfn does not exist in the given script.",
        ),
        (
            SCRIPT,
            &["helper"],
            "Wrong number of inputs in function helper. Expected 3 but was 1",
        ),
        (
            SCRIPT,
            &["bad_sig"],
            "Wrong inputs type in function bad_sig. Expected signature similar to: def \
             bad_sig(tensors: List[Tensor], keys: List[str], args: List[str])",
        ),
        (
            "def bar(:\n",
            &["bar"],
            "expected ident but found ':' here:",
        ),
    ];
    for (source, entries, expected) in cases {
        let err = try_script(source, entries).unwrap_err();
        assert!(err.starts_with(expected), "{err}");
    }
    let err = try_script("return 1", &[]).unwrap_err();
    assert!(
        err.starts_with("expected def but found 'return' here:"),
        "{err}"
    );
    // Scripts without entry points (AI.SCRIPTSET) compile as they are.
    assert!(try_script(SCRIPT, &[]).is_ok());
    // The source is a C string: what follows a NUL byte is not compiled.
    assert!(try_script("def f(a: Tensor):\n    return a\n\0garbage(", &[]).is_ok());
}

#[test]
fn run_errors_have_redisai_texts() {
    let s = script(SCRIPT, &ENTRIES);
    let host = FakeHost::default();
    let (a, b) = (ia(), ia());
    let c = tensor(DType::Float, &[3], &["1", "2", "3"]);
    let err = call(&s, &host, "nosuchfn", &[&a, &b], &[], &[], 1).unwrap_err();
    assert_eq!(err, "Function does not exist: nosuchfn");
    let err = call(&s, &host, "bar", &[&a], &[], &[], 1).unwrap_err();
    assert!(
        err.starts_with("The following operation failed in the TorchScript interpreter."),
        "{err}"
    );
    assert!(err.contains("list index out of range"), "{err}");
    let err = call(&s, &host, "bar", &[&a, &c], &[], &[], 1).unwrap_err();
    assert!(
        err.contains("The size of tensor a (2) must match the size of tensor b (3)"),
        "{err}"
    );
    let err = call(&s, &host, "bar", &[&a, &b], &[], &[], 2).unwrap_err();
    assert_eq!(err, "Function returned unexpected number of outputs - bar");
    let err = call(&s, &host, "not_tensor", &[&a, &b], &[], &[], 2).unwrap_err();
    assert_eq!(err, "Function returned non-tensor valuesnot_tensor");
}

#[test]
fn legacy_mode_is_positional() {
    let s = script(SCRIPT, &ENTRIES);
    let (a, b) = (ia(), ia());
    let out = call_legacy(&s, "helper", &[&a], 1).unwrap();
    assert_eq!(f32s(out[0].as_ref().unwrap()), [3.0, 4.0, 3.0, 4.0]);
    // A List[Tensor] parameter takes all remaining tensors.
    let out = call_legacy(&s, "legacy_list", &[&a, &b, &a], 1).unwrap();
    assert_eq!(f32s(out[0].as_ref().unwrap()), [6.0, 9.0, 6.0, 9.0]);
    let err = call_legacy(&s, "bar", &[&a, &b], 1).unwrap_err();
    assert_eq!(err, "Wrong number of inputs provided to function: bar");
    let err = call_legacy(&s, "legacy_int", &[&a], 1).unwrap_err();
    assert_eq!(
        err,
        "Unsupported input type in function definition: legacy_int"
    );
    let err = call_legacy(&s, "nosuchfn", &[&a], 1).unwrap_err();
    assert_eq!(err, "Function does not exist: nosuchfn");
}

const REDIS_SCRIPT: &str = "\
def set_get(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute('SET', keys[0], args[0])
    value = redis.execute('GET', keys[0])
    return torch.tensor(int(str(value)))

def as_list(tensors: List[Tensor], keys: List[str], args: List[str]):
    values = redis.asList(redis.execute('LRANGE', keys[0], '0', '-1'))
    total = 0
    for v in values:
        total += int(str(v))
    return torch.tensor(total)

def as_int(tensors: List[Tensor], keys: List[str], args: List[str]):
    n = redis.execute('INCR', keys[0])
    return torch.tensor(int(str(n)))

def list_arg(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute('HSET', [keys[0], 'f', 'v'])
    return tensors[0]

def fails(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute('SET', keys[0])
    return tensors[0]

def nil(tensors: List[Tensor], keys: List[str], args: List[str]):
    v = redis.execute('GET', keys[0])
    if isinstance(v, str):
        return torch.tensor(1)
    return torch.tensor(0)

def model(tensors: List[Tensor], keys: List[str], args: List[str]):
    return redisAI.model_execute(keys[0], [tensors[0]], 2)

def model_fails(tensors: List[Tensor], keys: List[str], args: List[str]):
    return redisAI.model_execute('nokey', [tensors[0]], 1)
";

const REDIS_ENTRIES: [&str; 8] = [
    "set_get",
    "as_list",
    "as_int",
    "list_arg",
    "fails",
    "nil",
    "model",
    "model_fails",
];

#[test]
fn redis_execute_reaches_the_host() {
    let s = script(REDIS_SCRIPT, &REDIS_ENTRIES);
    let host = FakeHost::default();
    host.replies
        .lock()
        .unwrap()
        .extend([Reply::String(b"OK".to_vec()), Reply::String(b"42".to_vec())]);
    let out = call(&s, &host, "set_get", &[], &["k"], &["42"], 1).unwrap();
    assert_eq!(
        out[0].as_ref().unwrap(),
        &tensor(DType::Int64, &[], &["42"])
    );
    let calls = host.calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        [
            vec![b"SET".to_vec(), b"k".to_vec(), b"42".to_vec()],
            vec![b"GET".to_vec(), b"k".to_vec()]
        ]
    );

    let host = FakeHost::default();
    host.replies.lock().unwrap().push(Reply::Array(vec![
        Reply::String(b"1".to_vec()),
        Reply::String(b"2".to_vec()),
        Reply::String(b"39".to_vec()),
    ]));
    let out = call(&s, &host, "as_list", &[], &["l"], &[], 1).unwrap();
    assert_eq!(
        out[0].as_ref().unwrap(),
        &tensor(DType::Int64, &[], &["42"])
    );

    let host = FakeHost::default();
    host.replies.lock().unwrap().push(Reply::Integer(7));
    let out = call(&s, &host, "as_int", &[], &["n"], &[], 1).unwrap();
    assert_eq!(out[0].as_ref().unwrap(), &tensor(DType::Int64, &[], &["7"]));

    let host = FakeHost::default();
    let a = ia();
    call(&s, &host, "list_arg", &[&a], &["h"], &[], 1).unwrap();
    assert_eq!(host.calls.lock().unwrap()[0].len(), 4);

    let host = FakeHost::default();
    host.replies.lock().unwrap().push(Reply::Nil);
    let out = call(&s, &host, "nil", &[], &["x"], &[], 1).unwrap();
    assert_eq!(out[0].as_ref().unwrap(), &tensor(DType::Int64, &[], &["0"]));
}

#[test]
fn redis_errors_become_script_errors() {
    let s = script(REDIS_SCRIPT, &REDIS_ENTRIES);
    let host = FakeHost::default();
    host.replies
        .lock()
        .unwrap()
        .push(Reply::Error("Invalid argument".into()));
    let a = ia();
    let err = call(&s, &host, "fails", &[&a], &["k"], &[], 1).unwrap_err();
    assert!(
        err.contains("Redis command returned an error: Invalid argument"),
        "{err}"
    );
}

#[test]
fn model_execute_runs_a_host_model() {
    let s = script(REDIS_SCRIPT, &REDIS_ENTRIES);
    let host = FakeHost::default();
    let a = ia();
    let out = call(&s, &host, "model", &[&a], &["plus_one"], &[], 2).unwrap();
    assert_eq!(out.len(), 2);
    assert_eq!(f32s(out[1].as_ref().unwrap()), [3.0, 4.0, 3.0, 4.0]);
    let err = call(&s, &host, "model_fails", &[&a], &[], &[], 1).unwrap_err();
    assert!(err.contains("ERR model key is empty"), "{err}");
}

#[test]
fn scripts_run_concurrently() {
    let s = std::sync::Arc::new(script(SCRIPT, &ENTRIES));
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let s = std::sync::Arc::clone(&s);
            std::thread::spawn(move || {
                let v = i.to_string();
                let a = tensor(DType::Float, &[1], &[&v]);
                for _ in 0..50 {
                    let out =
                        call(&s, &FakeHost::default(), "bar", &[&a, &a], &[], &[], 1).unwrap();
                    assert_eq!(f32s(out[0].as_ref().unwrap()), [2.0 * i as f32]);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}
