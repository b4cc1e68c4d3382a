//! Module arguments and the module's INFO / MODULE LIST output, against a real redis-server.
//!
//! * Valid `loadmodule` arguments (SPEC §9.1), upper- or lower-case keys, load and show up in
//!   `INFO MODULES` (`ai_threads_per_queue:4` …), in `MODULE LIST` `args` and in the log.
//! * Invalid ones (unknown key, out-of-range value, odd count) make the load fail, with the log
//!   line `ERR error processing argument: <KEY> <VAL>` or RedisAI's "Even number …" line.
//! * `INFO MODULES` has exactly the sections and field names of SPEC §10.5, in order, and
//!   `INFO ai`, `INFO everything` and `INFO all` work with and without keys.
//! * `MODULE LIST` names the module `ai` with RedisAI's integer version (10300 for 1.3.0).

mod common;

use common::{bulk, render, Client, Frame, Server};

const ODD: &str =
    "Even number of arguments provided to module. Please provide arguments as KEY VAL pairs";

/// Sections of SPEC §10.5 with their field names, in order.
const LAYOUT: [(&str, &[&str]); 7] = [
    (
        "ai_versions",
        &[
            "ai_RedisAI_version",
            "ai_low_level_API_version",
            "ai_rdb_version",
        ],
    ),
    ("ai_git", &["ai_git_sha"]),
    (
        "ai_load_time_configs",
        &[
            "ai_threads_per_queue",
            "ai_inter_op_parallelism",
            "ai_intra_op_parallelism",
            "ai_model_execution_timeout",
            "ai_backend_memory_limit",
            "ai_backend_allocation_limit",
            "ai_model_warmup",
        ],
    ),
    ("ai_backends_info", &[]),
    (
        "ai_cpu",
        &[
            "ai_self_used_cpu_sys",
            "ai_self_used_cpu_user",
            "ai_children_used_cpu_sys",
            "ai_children_used_cpu_user",
            "ai_main_thread_used_cpu_sys",
            "ai_main_thread_used_cpu_user",
        ],
    ),
    // After RedisAI's sections (docs/metrics.md): the CPU queue, created at load.
    (
        "ai_queues",
        &[
            "ai_queue_CPU_pending",
            "ai_queue_CPU_workers",
            "ai_queue_CPU_workers_busy",
            "ai_queue_CPU_runs",
            "ai_queue_CPU_wait_us_total",
            "ai_queue_CPU_wait_p50_us",
            "ai_queue_CPU_wait_p99_us",
            "ai_queue_CPU_wait_max_us",
        ],
    ),
    // The loader of AI.MODELSTORE / AI.SCRIPTSTORE (src/loading.rs).
    ("ai_loader", &["ai_loader_threads", "ai_loader_pending"]),
];

/// `INFO <section>` as text.
fn info(c: &mut Client, section: &str) -> String {
    String::from_utf8(bulk(&c.call(&["INFO", section]))).expect("INFO is UTF-8")
}

/// The `# name` sections of an INFO text with their `field:value` lines, in order.
fn sections(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(name) = line.strip_prefix("# ") {
            out.push((name.to_string(), Vec::new()));
        } else {
            let (field, value) = line.split_once(':').expect("field:value");
            let section = out.last_mut().expect("a field after a section header");
            section.1.push((field.to_string(), value.to_string()));
        }
    }
    out
}

/// Only the module's sections (`ai_*`).
fn ai_sections(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    sections(text)
        .into_iter()
        .filter(|(name, _)| name.starts_with("ai_"))
        .collect()
}

fn field(text: &str, name: &str) -> Option<String> {
    ai_sections(text)
        .into_iter()
        .flat_map(|(_, fields)| fields)
        .find(|(f, _)| f == name)
        .map(|(_, v)| v)
}

/// Checks the exact section/field layout of SPEC §10.5 and the fixed values.
fn assert_layout(text: &str) {
    let got = ai_sections(text);
    let names: Vec<(&str, Vec<&str>)> = got
        .iter()
        .map(|(s, fields)| (s.as_str(), fields.iter().map(|(f, _)| f.as_str()).collect()))
        .collect();
    // ai_cpu ends with one field per worker of the CPU queue (created at load).
    let threads: usize = field(text, "ai_threads_per_queue")
        .expect("ai_threads_per_queue")
        .parse()
        .expect("a number");
    let workers: Vec<String> = (1..=threads)
        .map(|i| format!("ai_queue_CPU_bthread_n{i}_used_cpu_total"))
        .collect();
    let mut want: Vec<(&str, Vec<&str>)> = LAYOUT.iter().map(|(s, f)| (*s, f.to_vec())).collect();
    want[4].1.extend(workers.iter().map(String::as_str));
    assert_eq!(names, want, "{text}");
    let value = |name: &str| field(text, name).expect("present");
    assert_eq!(value("ai_RedisAI_version"), env!("CARGO_PKG_VERSION"));
    assert_eq!(value("ai_low_level_API_version"), "1");
    assert_eq!(value("ai_rdb_version"), "4");
    let sha = value("ai_git_sha");
    assert!(
        sha == "unknown" || (!sha.is_empty() && sha.bytes().all(|b| b.is_ascii_hexdigit())),
        "ai_git_sha:{sha}"
    );
    let (_, cpu_fields) = got.iter().find(|(s, _)| s == "ai_cpu").expect("ai_cpu");
    for (cpu, _) in cpu_fields {
        let v = value(cpu);
        let (secs, micros) = v.split_once('.').expect("sec.usec");
        assert!(
            !secs.is_empty()
                && secs.bytes().all(|b| b.is_ascii_digit())
                && micros.len() == 6
                && micros.bytes().all(|b| b.is_ascii_digit()),
            "{cpu}:{v}"
        );
    }
}

/// `(threads_per_queue, inter_op, intra_op, model_execution_timeout, backend_memory_limit,
/// backend_allocation_limit)`.
fn configs(text: &str) -> Vec<String> {
    LAYOUT[2]
        .1
        .iter()
        .map(|name| field(text, name).unwrap_or_else(|| panic!("{name} missing")))
        .collect()
}

/// RedisAI's integer version, MAJOR*10000 + MINOR*100 + PATCH (10300 for 1.3.0).
fn module_version() -> i64 {
    let part = |s: &str| s.parse::<i64>().expect("numeric version part");
    part(env!("CARGO_PKG_VERSION_MAJOR")) * 10000
        + part(env!("CARGO_PKG_VERSION_MINOR")) * 100
        + part(env!("CARGO_PKG_VERSION_PATCH"))
}

/// The `ai` entry of MODULE LIST as (field, value) pairs.
fn module_list_entry(c: &mut Client) -> Vec<(String, Frame)> {
    let Frame::Array(modules) = c.cmd("MODULE LIST") else {
        panic!("MODULE LIST is not an array");
    };
    let entries: Vec<Vec<(String, Frame)>> = modules.iter().map(common::field_pairs).collect();
    // Redis 8 lists its built-in modules too (vectorset): the entry named `ai`, once.
    let name = |e: &Vec<(String, Frame)>| e.iter().find(|(k, _)| k == "name").map(|(_, v)| bulk(v));
    let ours: Vec<Vec<(String, Frame)>> = entries
        .into_iter()
        .filter(|e| name(e).as_deref() == Some(&b"ai"[..]))
        .collect();
    assert_eq!(ours.len(), 1, "the ai module once: {modules:?}");
    ours.into_iter().next().expect("one")
}

#[rustfmt::skip]
const VALID: [&str; 14] = [
    "THREADS_PER_QUEUE", "4", "INTRA_OP_PARALLELISM", "2", "INTER_OP_PARALLELISM", "3",
    "MODEL_EXECUTION_TIMEOUT", "2000", "BACKEND_MEMORY_LIMIT", "100", "MODEL_CHUNK_SIZE", "1000",
    "MODEL_WARMUP", "5",
];

/// One tensor of every dtype, and one created without data.
#[rustfmt::skip]
const TENSORS: [&str; 11] = [
    "FLOAT 2 VALUES 1 0", "DOUBLE 2 VALUES 1 0", "INT8 2 VALUES 1 0", "INT16 2 VALUES 1 0",
    "INT32 2 VALUES 1 0", "INT64 2 VALUES 1 0", "UINT8 2 VALUES 1 0", "UINT16 2 VALUES 1 0",
    "BOOL 2 VALUES 1 0", "STRING 2 VALUES a b", "FLOAT 3 3",
];

fn assert_valid_args_applied(args: &[&str]) {
    let server = Server::with(args, &[]);
    let mut c = server.client();
    let text = info(&mut c, "MODULES");
    assert_layout(&text);
    assert_eq!(configs(&text), ["4", "3", "2", "2000", "100", "2048", "5"]);
    for line in [
        "ai_threads_per_queue:4",
        "ai_intra_op_parallelism:2",
        "ai_inter_op_parallelism:3",
        "ai_model_execution_timeout:2000",
        "ai_backend_memory_limit:100",
    ] {
        assert!(text.contains(&format!("{line}\r\n")), "{line} in\n{text}");
    }
    let log = server.log();
    for pair in args.chunks(2) {
        let line = format!(
            "Setting {} parameter to: {}",
            pair[0].to_uppercase(),
            pair[1]
        );
        assert!(log.contains(&line), "{line:?} not logged:\n{log}");
    }
    let entry = module_list_entry(&mut c);
    let given = &entry.iter().find(|(f, _)| f == "args").expect("args").1;
    let bulks = args
        .iter()
        .map(|a| Frame::BulkString(a.as_bytes().to_vec()));
    assert_eq!(given, &Frame::Array(bulks.collect()));
    // The module works normally with these settings.
    assert_eq!(render(&c.cmd("AI.TENSORSET t FLOAT 2 VALUES 1 2")), "+OK");
}

#[test]
fn valid_arguments_load_and_show_in_info() {
    assert_valid_args_applied(&VALID);
}

#[test]
fn lower_and_mixed_case_keys_are_accepted() {
    let lower: Vec<String> = VALID
        .iter()
        .enumerate()
        .map(|(i, a)| match i % 4 {
            0 => a.to_lowercase(),
            2 => a[..1].to_string() + &a[1..].to_lowercase(),
            _ => a.to_string(),
        })
        .collect();
    assert_valid_args_applied(&lower.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn defaults_without_arguments() {
    let server = Server::start();
    let text = info(&mut server.client(), "MODULES");
    assert_eq!(configs(&text), ["1", "0", "0", "5000", "0", "2048", "0"]);
}

/// RedisAI's default chunk is 511 MiB (SPEC §3), not 512 MiB: the golden transcript's 536870912
/// was set by its capture a few commands earlier.
#[test]
fn model_chunk_size_default_is_511_mib() {
    let server = Server::start();
    let mut c = server.client();
    assert_eq!(
        c.cmd("AI.CONFIG GET MODEL_CHUNK_SIZE"),
        Frame::Integer(535_822_336)
    );
}

#[test]
fn invalid_arguments_refuse_to_load() {
    let cases: &[&[&str]] = &[
        &["FOO", "1"],
        &["THREADS_PER_QUEUE", "0"],
        &["MODEL_EXECUTION_TIMEOUT", "999"],
        &["THREADS_PER_QUEUE", "x"],
        &["threads_per_queue", "1.5"],
        &["INTRA_OP_PARALLELISM", "0"],
        &["INTER_OP_PARALLELISM", "-1"],
        &["MODEL_CHUNK_SIZE", "0"],
        &["BACKEND_MEMORY_LIMIT", "01"],
        &["THREADS_PER_QUEUE", "2", "FOO", "1"],
    ];
    for args in cases {
        let log = match Server::try_with(args) {
            Ok(server) => panic!("{args:?} loaded; log:\n{}", server.log()),
            Err(log) => log,
        };
        let (key, value) = (args[args.len() - 2], args[args.len() - 1]);
        let line = format!("ERR error processing argument: {key} {value}");
        assert!(log.contains(&line), "{args:?}: {line:?} not in log:\n{log}");
    }
}

#[test]
fn odd_argument_count_refuses_to_load() {
    let cases: &[&[&str]] = &[
        &["THREADS_PER_QUEUE"],
        &["THREADS_PER_QUEUE", "4", "INTRA_OP_PARALLELISM"],
        &["FOO", "1", "BAR"],
    ];
    for args in cases {
        let log = match Server::try_with(args) {
            Ok(server) => panic!("{args:?} loaded; log:\n{}", server.log()),
            Err(log) => log,
        };
        assert!(log.contains(ODD), "{args:?}: {ODD:?} not in log:\n{log}");
    }
}

#[test]
fn info_modules_has_spec_layout() {
    let server = Server::start();
    let mut c = server.client();
    let text = info(&mut c, "MODULES");
    let headers: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(
        headers,
        [
            "# Modules",
            "# ai_versions",
            "# ai_git",
            "# ai_load_time_configs",
            "# ai_backends_info",
            "# ai_cpu",
            "# ai_queues",
            "# ai_loader"
        ],
        "{text}"
    );
    let version = module_version();
    let module_line = format!("module:name=ai,ver={version},");
    assert!(text.contains(&module_line), "{module_line} in\n{text}");
    assert!(
        text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'),
        "CRLF lines"
    );
    assert_layout(&text);
}

#[test]
fn info_ai_everything_and_all_with_and_without_keys() {
    let server = Server::start();
    let mut c = server.client();
    for round in ["no keys", "with tensors"] {
        if round == "with tensors" {
            for (i, spec) in TENSORS.iter().enumerate() {
                let reply = c.cmd(&format!("AI.TENSORSET t:{i} {spec}"));
                assert_eq!(render(&reply), "+OK", "{spec}");
            }
            assert_eq!(render(&c.cmd("SET plain hello")), "+OK");
            assert_eq!(render(&c.cmd("DBSIZE")), ":12");
        } else {
            assert_eq!(render(&c.cmd("DBSIZE")), ":0");
        }
        // INFO ai: the module's sections only.
        let ai = info(&mut c, "ai");
        assert_layout(&ai);
        assert_eq!(sections(&ai).len(), LAYOUT.len(), "{round}: {ai}");
        // INFO everything: server sections and the module's.
        let everything = info(&mut c, "everything");
        assert_layout(&everything);
        assert!(everything.contains("# Server\r\n") && everything.contains("# Keyspace\r\n"));
        // INFO all: every server section, none generated by modules.
        let all = info(&mut c, "all");
        assert!(
            all.contains("# Server\r\n") && all.contains("# Modules\r\n"),
            "{round}"
        );
        assert!(
            ai_sections(&all).is_empty(),
            "{round}: INFO all has module sections"
        );
        // A single module section by name.
        let cpu = info(&mut c, "ai_cpu");
        assert_eq!(sections(&cpu).len(), 1, "{round}: {cpu}");
        assert_eq!(render(&server.client().cmd("PING")), "+PONG", "{round}");
    }
}

#[test]
fn module_list_names_ai_with_integer_version() {
    let server = Server::start();
    let mut c = server.client();
    let entry = module_list_entry(&mut c);
    let names: Vec<&str> = entry.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(names, ["name", "ver", "path", "args"]);
    assert_eq!(entry[0].1, Frame::BulkString(b"ai".to_vec()));
    assert_eq!(module_version(), 10300, "1.3.0 in RedisAI's scheme");
    assert_eq!(entry[1].1, Frame::Integer(module_version()));
    assert_eq!(entry[3].1, Frame::Array(vec![]));
}
