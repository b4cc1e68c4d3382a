//! `make bench`: end-to-end benchmarks through a real redis-server with the built module
//! (dist/redisai.so, ONNX backend), printed as markdown tables (docs/performance.md):
//!
//! 1. tensors: AI.TENSORSET (BLOB, VALUES) and AI.TENSORGET (BLOB, VALUES) of 16 B, 3136 B and
//!    1 MiB FLOAT tensors next to plain SET / GET of the same bytes, 50 clients, without and with
//!    pipelining (16), with the main-thread time per call from INFO commandstats;
//! 2. models: AI.MODELEXECUTE of mnist.onnx, of a batchable dense MLP and of a tiny model, each
//!    batchable one without and with auto-batching (BATCHSIZE 64), at 1, 16, 50 and 64 clients,
//!    under RedisAI's default module arguments and the per-core setting, with the server's CPU
//!    time per request;
//! 3. a 3-op AI.DAGEXECUTE against the same 3 commands sent separately;
//! 4. the figures the original RedisAI is quoted with, measured the same way (redis-benchmark,
//!    50 clients, 40000 requests, median of 5), if redis-benchmark is installed;
//! 5. the cost of the latency metrics: the same rows on this build and on a baseline module
//!    without them (`BENCH_BASELINE_MODULE`), alternating (overhead.rs);
//! 6. the main-thread stall of AI.MODELSTORE of a ~100 MB model (store_stall.rs);
//! 7. the first run of a model stored without and with `WARMUP 1` (warmup.rs);
//! 8. side by side with the original RedisAI 1.2.7 (`BENCH_PEER_MODULE`, peer.rs);
//! 9. threads and memory with 10,000 stored models against one (many_models.rs).
//!
//! The AI.MODELEXECUTE rows show the backend limit beside them: the same model run by the ONNX
//! plugin in-process, with the same threads and settings, no Redis (limit.rs).
//!
//! The load generator (load.rs) is one thread over non-blocking TCP connections. Every cell is
//! the median (by throughput) of BENCH_RUNS runs of BENCH_SECONDS each, after a short warm-up.
//!
//!   cargo bench --bench end_to_end            (after `make build`; `make bench` does both)
//!   BENCH_RUNS=1 BENCH_SECONDS=1 cargo bench --bench end_to_end     (a quick look)
//!   BENCH_SECTIONS="tensors dag" BENCH_CLIENTS="50" cargo bench --bench end_to_end

#[path = "../../tests/common/mod.rs"]
mod common;
mod limit;
mod load;
mod many_models;
mod overhead;
mod peer;
mod reference;
mod store_stall;
mod warmup;

use std::time::Duration;

use common::fixtures::{onnx, reference as golden};
use common::{Client, Frame, Server};
use load::{encode, Encoded, Script};

/// Settings from the environment.
struct Settings {
    runs: usize,
    seconds: f64,
    warmup: f64,
    clients: Vec<usize>,
    sections: Vec<String>,
}

impl Settings {
    fn from_env() -> Settings {
        let var = |name: &str, default: &str| std::env::var(name).unwrap_or(default.into());
        Settings {
            runs: var("BENCH_RUNS", "3")
                .parse()
                .expect("BENCH_RUNS: a number"),
            seconds: var("BENCH_SECONDS", "1.5").parse().expect("BENCH_SECONDS"),
            warmup: var("BENCH_WARMUP", "0.3").parse().expect("BENCH_WARMUP"),
            clients: var("BENCH_CLIENTS", "1 16 50 64")
                .split_whitespace()
                .map(|n| n.parse().expect("BENCH_CLIENTS: numbers"))
                .collect(),
            sections: var(
                "BENCH_SECTIONS",
                "tensors models dag reference metrics store warmup peer many",
            )
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        }
    }

    fn wants(&self, section: &str) -> bool {
        self.sections.iter().any(|s| s == section)
    }
}

/// A server with the module, on a TCP port for the load and a unix socket for setup.
struct Target {
    server: Server,
    addr: String,
    port: u16,
}

impl Target {
    fn start(module_args: &[&str]) -> Target {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let server = Server::with(module_args, &["--port", &port.to_string()]);
        Target {
            server,
            addr: format!("127.0.0.1:{port}"),
            port,
        }
    }

    fn control(&self) -> Client {
        self.server.client()
    }

    fn call(&self, args: &[&[u8]]) {
        let reply = self.control().call(args);
        assert!(!common::is_error(&reply), "{reply:?}");
    }

    /// Runs `scripts` (one per connection) `runs` times; the median run by throughput, with the
    /// main-thread microseconds per call of `command` (lower-case) from INFO commandstats.
    fn measure(&self, settings: &Settings, scripts: &[Script], command: &str) -> Cell {
        let mut cells: Vec<Cell> = (0..settings.runs.max(1))
            .map(|_| {
                self.control().cmd("CONFIG RESETSTAT");
                let cpu_before = server_cpu(&mut self.control());
                let started = std::time::Instant::now();
                let measured = load::run(
                    &self.addr,
                    scripts,
                    Duration::from_secs_f64(settings.warmup),
                    Duration::from_secs_f64(settings.seconds),
                )
                .unwrap_or_else(|e| panic!("load on {command}: {e}"));
                assert!(measured.ops > 0, "no request completed ({command})");
                // The server's CPU over the run (warm-up included, at the same load) per second,
                // divided by the requests per second: CPU time per request.
                let cpu = server_cpu(&mut self.control()) - cpu_before;
                let cpu_us_per_request =
                    cpu / started.elapsed().as_secs_f64() / measured.ops_per_sec * 1e6;
                Cell {
                    measured,
                    usec_per_call: usec_per_call(&mut self.control(), command),
                    cpu_us_per_request,
                }
            })
            .collect();
        cells.sort_by(|a, b| a.measured.ops_per_sec.total_cmp(&b.measured.ops_per_sec));
        cells.swap_remove(cells.len() / 2)
    }
}

struct Cell {
    measured: load::Measured,
    usec_per_call: Option<f64>,
    /// The server process's CPU time (user + system, every thread) per request, in µs.
    cpu_us_per_request: f64,
}

impl Cell {
    fn columns(&self) -> String {
        let m = &self.measured;
        let usec = self
            .usec_per_call
            .map_or("—".to_string(), |u| format!("{u:.2}"));
        format!(
            "{:.0} | {:.3} | {:.3} | {usec}",
            m.ops_per_sec, m.p50_ms, m.p99_ms
        )
    }
}

/// The server process's CPU seconds so far (`used_cpu_sys` + `used_cpu_user` of INFO cpu).
fn server_cpu(c: &mut Client) -> f64 {
    let Frame::BulkString(info) = c.cmd("INFO cpu") else {
        return 0.0;
    };
    String::from_utf8_lossy(&info)
        .lines()
        .filter_map(|l| {
            let value = l
                .strip_prefix("used_cpu_sys:")
                .or_else(|| l.strip_prefix("used_cpu_user:"))?;
            value.trim().parse::<f64>().ok()
        })
        .sum()
}

/// `usec_per_call` of `command` in INFO commandstats.
fn usec_per_call(c: &mut Client, command: &str) -> Option<f64> {
    let Frame::BulkString(info) = c.cmd("INFO commandstats") else {
        return None;
    };
    let text = String::from_utf8_lossy(&info).into_owned();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("cmdstat_{command}:")))?;
    let field = line
        .split(',')
        .find_map(|f| f.strip_prefix("usec_per_call="))?;
    field.parse().ok()
}

/// The 1, 5 and 15 minute load averages, as `uptime` shows them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// A table's title, with the machine's load when it starts.
fn title(text: &str) {
    println!(
        "### {text}\n\n(load average at the start: {})\n",
        load_average()
    );
}

/// `AI.MODELEXECUTE <key> INPUTS 1 <input> OUTPUTS 1 out`, encoded.
fn modelexecute(key: &str, input: &str) -> Encoded {
    encode(&[
        b"AI.MODELEXECUTE",
        key.as_bytes(),
        b"INPUTS",
        b"1",
        input.as_bytes(),
        b"OUTPUTS",
        b"1",
        b"out",
    ])
}

fn repeat(command: Encoded, clients: usize, pipeline: usize) -> Vec<Script> {
    vec![Script::Repeat { command, pipeline }; clients]
}

/// Values in [-1, 1) with three decimals, the same for every run.
fn decimals(count: usize) -> Vec<Vec<u8>> {
    let mut state: u32 = 12345;
    (0..count)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let thousandths = (state >> 8) % 2000;
            format!("{:.3}", thousandths as f64 / 1000.0 - 1.0).into_bytes()
        })
        .collect()
}

fn float_blob(values: &[Vec<u8>]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|v| {
            let f: f32 = std::str::from_utf8(v).unwrap().parse().unwrap();
            f.to_le_bytes()
        })
        .collect()
}

/// Section 1: tensors and the plain string commands of the same bytes.
fn tensors(settings: &Settings) {
    let target = Target::start(&[]);
    title("Tensors and plain strings");
    println!("| payload | command | clients | pipeline | requests/s | p50 ms | p99 ms | µs/call |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    // (label, shape, clients, pipelines): 1 MiB requests and replies take milliseconds each, so
    // fewer clients keep a run's operations many.
    let payloads: [(&str, Vec<i64>, usize, &[usize]); 3] = [
        ("16 B (FLOAT 2x2)", vec![2, 2], 50, &[1, 16]),
        ("3136 B (FLOAT 1x1x28x28)", vec![1, 1, 28, 28], 50, &[1, 16]),
        ("1 MiB (FLOAT 262144)", vec![262_144], 4, &[1]),
    ];
    for (label, shape, clients, pipelines) in payloads {
        let count = shape.iter().product::<i64>() as usize;
        let values = decimals(count);
        let blob = float_blob(&values);
        let dims: Vec<Vec<u8>> = shape.iter().map(|d| d.to_string().into_bytes()).collect();
        let tensorset = |keyword: &[u8], data: &[&[u8]]| {
            let mut args: Vec<&[u8]> = vec![b"AI.TENSORSET", b"t", b"FLOAT"];
            args.extend(dims.iter().map(Vec::as_slice));
            args.push(keyword);
            args.extend_from_slice(data);
            encode(&args)
        };
        let value_args: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
        let cases: Vec<(&str, &str, Encoded)> = vec![
            ("SET", "set", encode(&[b"SET", b"s", &blob])),
            (
                "AI.TENSORSET BLOB",
                "ai.tensorset",
                tensorset(b"BLOB", &[&blob]),
            ),
            (
                "AI.TENSORSET VALUES",
                "ai.tensorset",
                tensorset(b"VALUES", &value_args),
            ),
            ("GET", "get", encode(&[b"GET", b"s"])),
            (
                "AI.TENSORGET BLOB",
                "ai.tensorget",
                encode(&[b"AI.TENSORGET", b"t", b"BLOB"]),
            ),
            (
                "AI.TENSORGET VALUES",
                "ai.tensorget",
                encode(&[b"AI.TENSORGET", b"t", b"VALUES"]),
            ),
        ];
        for &pipeline in pipelines {
            for (name, stat, command) in &cases {
                let scripts = repeat(command.clone(), clients, pipeline);
                let cell = target.measure(settings, &scripts, stat);
                println!(
                    "| {label} | {name} | {clients} | {pipeline} | {} |",
                    cell.columns()
                );
            }
        }
    }
    println!();
}

/// The module configurations of the model sections: RedisAI's defaults, and one worker per
/// core, each run on one thread.
fn configs() -> Vec<(String, Vec<String>)> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    vec![
        ("(defaults)".into(), vec![]),
        (
            format!("THREADS_PER_QUEUE {cores} INTRA_OP_PARALLELISM 1"),
            vec![
                "THREADS_PER_QUEUE".into(),
                cores.to_string(),
                "INTRA_OP_PARALLELISM".into(),
                "1".into(),
            ],
        ),
    ]
}

/// THREADS_PER_QUEUE, INTRA_OP_PARALLELISM and INTER_OP_PARALLELISM of module arguments (1, 0
/// and 0 when not given), for the in-process backend limit of the same settings.
fn queue_settings(args: &[String]) -> (usize, u32, u32) {
    let setting = |name: &str| -> u32 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map_or(0, |v| v.parse().expect("a number"))
    };
    let threads = setting("THREADS_PER_QUEUE").max(1) as usize;
    (
        threads,
        setting("INTRA_OP_PARALLELISM"),
        setting("INTER_OP_PARALLELISM"),
    )
}

fn start_with_models(args: &[String]) -> Target {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let target = Target::start(&args);
    let image = golden("one.raw");
    let (mnist, mlp, mul2) = (
        golden("mnist.onnx"),
        onnx("dense_mlp.onnx"),
        onnx("batch_mul2.onnx"),
    );
    target.call(&[b"AI.MODELSTORE", b"mnist", b"ONNX", b"CPU", b"BLOB", &mnist]);
    for (key, blob) in [(&b"mlp"[..], &mlp), (b"mul2", &mul2)] {
        target.call(&[b"AI.MODELSTORE", key, b"ONNX", b"CPU", b"BLOB", blob]);
        let batched = [key, b"_batched"].concat();
        let store: [&[u8]; 8] = [
            b"AI.MODELSTORE",
            &batched,
            b"ONNX",
            b"CPU",
            b"BATCHSIZE",
            b"64",
            b"BLOB",
            blob,
        ];
        target.call(&store);
    }
    target.call(&image_tensorset(b"img", &image));
    target.call(&[
        b"AI.TENSORSET",
        b"flat",
        b"FLOAT",
        b"1",
        b"784",
        b"BLOB",
        &image,
    ]);
    target.call(&[
        b"AI.TENSORSET",
        b"x3",
        b"FLOAT",
        b"1",
        b"3",
        b"VALUES",
        b"1",
        b"2",
        b"3",
    ]);
    target
}

/// Section 2: AI.MODELEXECUTE.
fn models(settings: &Settings) {
    title("AI.MODELEXECUTE");
    println!(
        "| module arguments | model | auto-batching | clients | requests/s | p50 ms | p99 ms | server CPU µs/request | backend limit runs/s | of the limit |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let cases: [(&str, &str, &str, &str); 5] = [
        ("mnist.onnx", "off", "mnist", "img"),
        ("dense_mlp.onnx", "off", "mlp", "flat"),
        ("dense_mlp.onnx", "BATCHSIZE 64", "mlp_batched", "flat"),
        ("batch_mul2.onnx (tiny)", "off", "mul2", "x3"),
        (
            "batch_mul2.onnx (tiny)",
            "BATCHSIZE 64",
            "mul2_batched",
            "x3",
        ),
    ];
    for (config, args) in configs() {
        let (threads, intra, inter) = queue_settings(&args);
        let target = start_with_models(&args);
        for (model, batching, key, input) in cases {
            // The in-process limit of a model run one request at a time (not the batched rows).
            let limit = (batching == "off")
                .then(|| limit::runs_per_second(key, threads, intra, inter, settings.seconds))
                .flatten();
            for &clients in &settings.clients {
                let command = modelexecute(key, input);
                let cell = target.measure(settings, &repeat(command, clients, 1), "");
                let m = &cell.measured;
                let (limit_rps, share) = match limit {
                    Some(l) => (format!("{l:.0}"), format!("{:.2}", m.ops_per_sec / l)),
                    None => ("—".into(), "—".into()),
                };
                println!(
                    "| {config} | {model} | {batching} | {clients} | {:.0} | {:.3} | {:.3} | {:.1} | {limit_rps} | {share} |",
                    m.ops_per_sec, m.p50_ms, m.p99_ms, cell.cpu_us_per_request
                );
            }
        }
    }
    println!();
}

/// Client `id`'s TENSORSET of `image`, MODELEXECUTE of mnist and TENSORGET BLOB, on keys of its
/// own: one AI.DAGEXECUTE when `dag`, else the three commands one after the other.
fn mnist_pipeline(id: usize, image: &[u8], dag: bool) -> Script {
    let (input, output) = (format!("in{{{id}}}"), format!("out{{{id}}}"));
    let (i, o) = (input.as_bytes(), output.as_bytes());
    let set = image_tensorset(i, image);
    let run: [&[u8]; 8] = [
        b"AI.MODELEXECUTE",
        b"mnist",
        b"INPUTS",
        b"1",
        i,
        b"OUTPUTS",
        b"1",
        o,
    ];
    let get: [&[u8]; 3] = [b"AI.TENSORGET", o, b"BLOB"];
    if !dag {
        return Script::Sequence(vec![encode(&set), encode(&run), encode(&get)]);
    }
    let mut args: Vec<&[u8]> = vec![b"AI.DAGEXECUTE", b"ROUTING", i, b"|>"];
    args.extend_from_slice(&set);
    args.push(b"|>");
    args.extend_from_slice(&run);
    args.push(b"|>");
    args.extend_from_slice(&get);
    Script::Sequence(vec![encode(&args)])
}

/// The median of `values` (the upper one of an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The other module of a side-by-side section, from the environment variable `var`; without it
/// the section prints why it measures nothing.
fn other_module(var: &str, what: &str) -> Option<std::path::PathBuf> {
    let module = std::env::var_os(var).map(std::path::PathBuf::from);
    if module.is_none() {
        println!("(skipped: set {var} to {what})\n");
    }
    module
}

/// The settings of one round of a side-by-side section (each round is one run per cell).
fn one_run(settings: &Settings) -> Settings {
    Settings {
        runs: 1,
        seconds: settings.seconds,
        warmup: settings.warmup,
        clients: settings.clients.clone(),
        sections: Vec::new(),
    }
}

/// Starts the models' server on `module` (REDISAI_MODULE is read when a server starts).
fn start_on(module: &std::path::Path, args: &[String]) -> Target {
    std::env::set_var("REDISAI_MODULE", module);
    let target = start_with_models(args);
    std::env::remove_var("REDISAI_MODULE");
    target
}

/// Side by side: BENCH_RUNS rounds, each starting a fresh server of `modules[0]` and of
/// `modules[1]` (set up by `start`), in alternating order, so what one server instance happens to
/// get (thread placement, memory layout) averages out; `each(i, target)` measures module i.
fn alternating_rounds(
    settings: &Settings,
    modules: [&std::path::Path; 2],
    start: impl Fn(&std::path::Path) -> Target,
    mut each: impl FnMut(usize, &Target),
) {
    for round in 0..settings.runs.max(1) {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            each(i, &start(modules[i]));
        }
    }
}

/// Section 3: one AI.DAGEXECUTE (TENSORSET |> MODELEXECUTE |> TENSORGET) against the same three
/// commands sent one after the other; each client uses keys of its own.
fn dag(settings: &Settings) {
    title("A 3-op DAG against 3 separate commands (mnist.onnx)");
    println!("| module arguments | pipeline | clients | pipelines/s | p50 ms | p99 ms |");
    println!("|---|---|---:|---:|---:|---:|");
    let image = golden("one.raw");
    let clients: Vec<usize> = settings
        .clients
        .iter()
        .copied()
        .filter(|&c| c <= 50)
        .collect();
    for (config, args) in configs() {
        let target = start_with_models(&args);
        for &n in &clients {
            for dag in [false, true] {
                let scripts: Vec<Script> =
                    (0..n).map(|id| mnist_pipeline(id, &image, dag)).collect();
                let cell = target.measure(settings, &scripts, "");
                let m = &cell.measured;
                let name = if dag {
                    "one AI.DAGEXECUTE"
                } else {
                    "3 separate commands"
                };
                println!(
                    "| {config} | {name} | {n} | {:.0} | {:.3} | {:.3} |",
                    m.ops_per_sec, m.p50_ms, m.p99_ms
                );
            }
        }
    }
    println!();
}

fn main() {
    if limit::child() {
        return;
    }
    let settings = Settings::from_env();
    println!(
        "## End-to-end benchmarks ({} run(s) of {} s per cell, median; {} cores)\n",
        settings.runs,
        settings.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    if settings.wants("tensors") {
        tensors(&settings);
    }
    if settings.wants("models") {
        models(&settings);
    }
    if settings.wants("dag") {
        dag(&settings);
    }
    if settings.wants("reference") {
        reference::section(&configs(), start_with_models);
    }
    if settings.wants("metrics") {
        overhead::section(&settings);
    }
    if settings.wants("store") {
        store_stall::section(&settings);
    }
    if settings.wants("warmup") {
        warmup::section(&settings);
    }
    if settings.wants("peer") {
        peer::section(&settings);
    }
    if settings.wants("many") {
        many_models::section();
    }
    println!("(load average at the end: {})", load_average());
}

/// `AI.TENSORSET <key> FLOAT 1 1 28 28 BLOB <image>`: an mnist input.
fn image_tensorset<'a>(key: &'a [u8], image: &'a [u8]) -> [&'a [u8]; 9] {
    [
        b"AI.TENSORSET",
        key,
        b"FLOAT",
        b"1",
        b"1",
        b"28",
        b"28",
        b"BLOB",
        image,
    ]
}
