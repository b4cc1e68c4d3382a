//! SLOWLOG of the blocking commands: a blocked command's recorded duration is its own
//! main-thread time plus its background time, each counted once, so it can never exceed the
//! latency its client measured end to end. Checked for every blocking command, many times, while
//! other clients keep the workers busy.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use common::fixtures::{reference, set_one_image, store_onnx};
use common::{have_backends, ok_frame, Frame, Server};

/// Runs of each blocking command.
const RUNS: usize = 40;
/// Clients keeping the workers busy meanwhile.
const LOADERS: usize = 3;

/// The blocking commands, with `{i}` standing for a key unique to one run.
fn commands(with_torch: bool) -> Vec<String> {
    let mut c = vec![
        "AI.MODELEXECUTE m INPUTS 1 img OUTPUTS 1 out{i}".to_string(),
        "AI.MODELRUN m INPUTS img OUTPUTS out{i}".to_string(),
        "AI.DAGEXECUTE LOAD 1 img PERSIST 1 out{i} |> AI.MODELEXECUTE m INPUTS 1 img OUTPUTS 1 out{i}"
            .to_string(),
        "AI.DAGEXECUTE_RO LOAD 1 img |> AI.MODELEXECUTE m INPUTS 1 img OUTPUTS 1 out{i} |> AI.TENSORGET out{i} META"
            .to_string(),
        "AI.DAGRUN LOAD 1 img PERSIST 1 out{i} |> AI.MODELRUN m INPUTS img OUTPUTS out{i}"
            .to_string(),
        "AI.DAGRUN_RO LOAD 1 img |> AI.MODELRUN m INPUTS img OUTPUTS out{i}".to_string(),
    ];
    if with_torch {
        c.push("AI.SCRIPTEXECUTE s bar KEYS 1 img INPUTS 2 img img OUTPUTS 1 out{i}".to_string());
        c.push("AI.SCRIPTRUN s bar INPUTS img img OUTPUTS out{i}".to_string());
    }
    c
}

#[test]
fn slowlog_never_exceeds_client_latency_under_load() {
    let with_torch = have_backends("slowlog (script commands)", &["TORCH"]);
    let server = Server::start();
    let mut c = server.client();
    let mnist = reference("mnist.onnx");
    assert_eq!(store_onnx(&mut c, "m", "CPU", &[], &mnist), ok_frame("OK"));
    set_one_image(&mut c, "img");
    if with_torch {
        let script = "def bar(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0] + tensors[1]\n";
        let reply = c.call(&[
            "AI.SCRIPTSTORE",
            "s",
            "CPU",
            "ENTRY_POINTS",
            "1",
            "bar",
            "SOURCE",
            script,
        ]);
        assert_eq!(reply, ok_frame("OK"));
    }
    c.cmd("CONFIG SET slowlog-log-slower-than 0");
    c.cmd("CONFIG SET slowlog-max-len 100000");
    c.cmd("SLOWLOG RESET");

    let stop = Arc::new(AtomicBool::new(false));
    let loaders: Vec<_> = (0..LOADERS)
        .map(|n| {
            let mut l = server.client();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let out = format!("load{n}");
                while !stop.load(Ordering::Relaxed) {
                    let reply = l.call(&[
                        "AI.MODELEXECUTE",
                        "m",
                        "INPUTS",
                        "1",
                        "img",
                        "OUTPUTS",
                        "1",
                        &out,
                    ]);
                    assert_eq!(reply, ok_frame("OK"));
                }
            })
        })
        .collect();

    c.cmd("CLIENT SETNAME probe");
    // The unique key of each run -> the latency the client measured, in microseconds.
    let mut measured: HashMap<String, u128> = HashMap::new();
    for i in 0..RUNS {
        for (n, template) in commands(with_torch).iter().enumerate() {
            let key = format!("out{n}_{i}");
            let line = template.replace("out{i}", &key);
            let t = Instant::now();
            let reply = c.cmd(&line);
            let micros = t.elapsed().as_micros() + 1;
            assert!(!common::is_error(&reply), "{line}: {reply:?}");
            measured.insert(key, micros);
        }
    }
    stop.store(true, Ordering::Relaxed);
    for l in loaders {
        l.join().expect("loader");
    }

    let Frame::Array(entries) = c.cmd("SLOWLOG GET -1") else {
        panic!("SLOWLOG GET")
    };
    let mut checked = 0;
    let mut violations = Vec::new();
    for entry in entries {
        let Frame::Array(fields) = entry else {
            continue;
        };
        let (Some(Frame::Integer(duration)), Some(Frame::Array(args)), Some(name)) =
            (fields.get(2), fields.get(3), fields.get(5))
        else {
            continue;
        };
        if common::bulk(name) != b"probe" {
            continue;
        }
        let args: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(&common::bulk(a)).into_owned())
            .collect();
        let Some(key) = args.iter().find(|a| measured.contains_key(*a)) else {
            continue;
        };
        checked += 1;
        let client = measured[key];
        if *duration as u128 > client {
            violations.push(format!(
                "{}: SLOWLOG {duration} us > client {client} us",
                args.join(" ")
            ));
        }
    }
    let expected = RUNS * commands(with_torch).len();
    assert_eq!(checked, expected, "SLOWLOG entries of the probe runs");
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}
