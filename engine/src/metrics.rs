//! The Prometheus text exposition (format 0.0.4) of every model's and script's statistics and of
//! the device queues, as AI.METRICS replies it (docs/metrics.md). Pure: the module hands in the
//! statistics entries and a view of each queue.

use std::fmt::Write;
use std::sync::Arc;

use crate::histogram::Snapshot;
use crate::stats::{RunKind, RunStats};

/// What the exposition shows of one device queue.
#[derive(Debug, Clone)]
pub struct QueueView {
    /// The queue's name (the upper-cased device string, e.g. `CPU`).
    pub name: String,
    /// Requests waiting.
    pub pending: usize,
    /// Worker threads.
    pub workers: usize,
    /// Workers running a request now.
    pub busy: usize,
    /// The queue waits, in microseconds, of the requests its workers picked up to run (so its
    /// count is the number of those runs).
    pub wait: Snapshot,
}

/// Bucket bounds of the duration histograms: 2^4 to 2^27 microseconds (16 µs to 134 s).
const DURATION_BOUNDS_US: std::ops::RangeInclusive<u32> = 4..=27;
/// Bucket bounds of the batch-size histogram: 2^0 to 2^16.
const BATCH_BOUNDS: std::ops::RangeInclusive<u32> = 0..=16;

/// The exposition text of `stats` (models and scripts, any order: sorted by type and key here)
/// and `queues`.
pub fn render(stats: &[Arc<RunStats>], queues: &[QueueView]) -> String {
    let mut stats: Vec<&Arc<RunStats>> = stats.iter().collect();
    stats.sort_by(|a, b| (kind_name(a.kind()), a.key()).cmp(&(kind_name(b.kind()), b.key())));
    let snaps: Vec<(&RunStats, String, Stages)> = stats
        .iter()
        .map(|s| (&***s, labels(s), Stages::of(s)))
        .collect();
    let mut out = String::new();

    let entry_counters: [Scalar<RunStats>; 4] = [
        (
            "redisai_runs_total",
            "counter",
            "Runs of the model or script, successful and failed (AI.INFO calls).",
            |s| Some(s.calls()),
        ),
        (
            "redisai_run_errors_total",
            "counter",
            "Runs that failed (AI.INFO errors).",
            |s| Some(s.errors()),
        ),
        (
            "redisai_run_timeouts_total",
            "counter",
            "Requests whose TIMEOUT passed before a worker picked them up (not run).",
            |s| Some(s.timeouts()),
        ),
        (
            "redisai_run_samples_total",
            "counter",
            "Models: the sum of dim 0 of the first output of successful runs (AI.INFO samples).",
            |s| (s.kind() == RunKind::Model).then(|| s.samples().max(0) as u64),
        ),
    ];
    let rows: Vec<(&RunStats, &str)> = snaps.iter().map(|(s, l, _)| (*s, l.as_str())).collect();
    scalars(&mut out, &entry_counters, &rows);
    let stages: [(&str, &str, Pick); 3] = [
        ("redisai_queue_wait_seconds",
         "Time from queueing to a worker picking the request up (auto-batching waits included).",
         |s| &s.queue),
        ("redisai_compute_seconds",
         "Time the backend ran (for a batch: the batch's run, counted for each request in it).",
         |s| &s.compute),
        ("redisai_request_seconds",
         "Time from the command's arrival to its reply (a DAG counts for each model and script it runs).",
         |s| &s.total),
    ];
    for (name, help, pick) in stages {
        family(&mut out, name, "histogram", help);
        for (_, l, st) in &snaps {
            duration_histogram(&mut out, name, l, pick(st));
        }
    }
    family(
        &mut out,
        "redisai_batch_size",
        "histogram",
        "Models: the dim 0 of each backend run (several requests when auto-batching joins them).",
    );
    for (s, l, st) in &snaps {
        if s.kind() == RunKind::Model {
            histogram(
                &mut out,
                "redisai_batch_size",
                l,
                &st.batch,
                BATCH_BOUNDS.map(|k| (1u64 << k, (1u64 << k).to_string())),
                st.batch.sum().to_string(),
            );
        }
    }

    let queues: Vec<(&QueueView, String)> = queues
        .iter()
        .map(|q| (q, format!("device=\"{}\"", escape(&q.name))))
        .collect();
    let queue_scalars: [Scalar<QueueView>; 4] = [
        (
            "redisai_queue_pending",
            "gauge",
            "Requests waiting in the device queue.",
            |q| Some(q.pending as u64),
        ),
        (
            "redisai_queue_workers",
            "gauge",
            "Worker threads of the device queue.",
            |q| Some(q.workers as u64),
        ),
        (
            "redisai_queue_workers_busy",
            "gauge",
            "Workers running a request now.",
            |q| Some(q.busy as u64),
        ),
        (
            "redisai_queue_runs_total",
            "counter",
            "Requests the device queue's workers picked up to run.",
            |q| Some(q.wait.count()),
        ),
    ];
    let rows: Vec<(&QueueView, &str)> = queues.iter().map(|(q, l)| (*q, l.as_str())).collect();
    scalars(&mut out, &queue_scalars, &rows);
    family(
        &mut out,
        "redisai_queue_device_wait_seconds",
        "histogram",
        "Queue wait of every request the device queue ran.",
    );
    for (q, l) in &queues {
        duration_histogram(&mut out, "redisai_queue_device_wait_seconds", l, &q.wait);
    }
    out
}

/// A family of one number per row: name, type, help, and the row's value (`None`: no sample).
type Scalar<T> = (
    &'static str,
    &'static str,
    &'static str,
    fn(&T) -> Option<u64>,
);

/// Writes each family of `families` with a sample per row that has a value.
fn scalars<T>(out: &mut String, families: &[Scalar<T>], rows: &[(&T, &str)]) {
    for (name, kind, help, value) in families {
        family(out, name, kind, help);
        for (row, labels) in rows {
            if let Some(v) = value(row) {
                sample(out, name, labels, v);
            }
        }
    }
}

/// Picks one histogram of an entry's [`Stages`].
type Pick = fn(&Stages) -> &Snapshot;

/// The histograms of one entry, read once.
struct Stages {
    queue: Snapshot,
    compute: Snapshot,
    total: Snapshot,
    batch: Snapshot,
}

impl Stages {
    fn of(s: &RunStats) -> Stages {
        let l = s.latency();
        Stages {
            queue: l.queue.snapshot(),
            compute: l.compute.snapshot(),
            total: l.total.snapshot(),
            batch: l.batch.snapshot(),
        }
    }
}

fn kind_name(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Model => "MODEL",
        RunKind::Script => "SCRIPT",
        RunKind::Embedder => "EMBEDDER",
    }
}

fn labels(s: &RunStats) -> String {
    format!(
        "model=\"{}\",type=\"{}\",backend=\"{}\",device=\"{}\"",
        escape(&String::from_utf8_lossy(s.key())),
        kind_name(s.kind()),
        s.backend().name(),
        escape(s.device()),
    )
}

/// A label value as the text format writes it: `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &str, value: u64) {
    let _ = writeln!(out, "{name}{{{labels}}} {value}");
}

/// A microseconds histogram, in seconds.
fn duration_histogram(out: &mut String, name: &str, labels: &str, snap: &Snapshot) {
    let bounds = DURATION_BOUNDS_US.map(|k| (1u64 << k, seconds(1u64 << k)));
    histogram(out, name, labels, snap, bounds, seconds(snap.sum()));
}

fn histogram(
    out: &mut String,
    name: &str,
    labels: &str,
    snap: &Snapshot,
    bounds: impl Iterator<Item = (u64, String)>,
    sum: String,
) {
    for (bound, le) in bounds {
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels},le=\"{le}\"}} {}",
            snap.count_at_most(bound)
        );
    }
    let count = snap.count();
    let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
    let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
    let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
}

/// Microseconds as seconds, exactly (`16` → `0.000016`).
fn seconds(us: u64) -> String {
    let frac = us % 1_000_000;
    if frac == 0 {
        format!("{}", us / 1_000_000)
    } else {
        let digits = format!("{frac:06}");
        format!("{}.{}", us / 1_000_000, digits.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redisai_core::Backend;

    #[test]
    fn seconds_are_exact_decimals() {
        assert_eq!(seconds(0), "0");
        assert_eq!(seconds(16), "0.000016");
        assert_eq!(seconds(1_500_000), "1.5");
        assert_eq!(seconds(134_217_728), "134.217728");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn exposition_of_a_model_a_script_and_a_queue() {
        let m = Arc::new(RunStats::new(
            b"m\"1".to_vec(),
            RunKind::Model,
            Backend::Onnx,
            "CPU".into(),
            Vec::new(),
        ));
        m.record_success(100, 2);
        m.latency().queue.record(20);
        m.latency().compute.record(100);
        m.latency().total.record(150);
        m.latency().batch.record(2);
        let s = Arc::new(RunStats::new(
            b"s".to_vec(),
            RunKind::Script,
            Backend::Torch,
            "CPU".into(),
            Vec::new(),
        ));
        s.record_error();
        s.record_timeout();
        let waits = crate::histogram::Histogram::default();
        (0..5).for_each(|_| waits.record(10));
        let q = QueueView {
            name: "CPU".into(),
            pending: 1,
            workers: 2,
            busy: 1,
            wait: waits.snapshot(),
        };
        let text = render(&[Arc::clone(&s), Arc::clone(&m)], &[q]);
        let model = "model=\"m\\\"1\",type=\"MODEL\",backend=\"ONNX\",device=\"CPU\"";
        let script = "model=\"s\",type=\"SCRIPT\",backend=\"TORCH\",device=\"CPU\"";
        for line in [
            format!("redisai_runs_total{{{model}}} 1"),
            format!("redisai_runs_total{{{script}}} 1"),
            format!("redisai_run_errors_total{{{script}}} 1"),
            format!("redisai_run_timeouts_total{{{script}}} 1"),
            format!("redisai_run_samples_total{{{model}}} 2"),
            format!("redisai_queue_wait_seconds_bucket{{{model},le=\"0.000016\"}} 0"),
            format!("redisai_queue_wait_seconds_bucket{{{model},le=\"0.000032\"}} 1"),
            format!("redisai_compute_seconds_sum{{{model}}} 0.0001"),
            format!("redisai_request_seconds_count{{{model}}} 1"),
            format!("redisai_batch_size_bucket{{{model},le=\"2\"}} 1"),
            format!("redisai_batch_size_sum{{{model}}} 2"),
            "redisai_queue_pending{device=\"CPU\"} 1".to_string(),
            "redisai_queue_workers{device=\"CPU\"} 2".to_string(),
            "redisai_queue_workers_busy{device=\"CPU\"} 1".to_string(),
            "redisai_queue_runs_total{device=\"CPU\"} 5".to_string(),
            "redisai_queue_device_wait_seconds_count{device=\"CPU\"} 5".to_string(),
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
        // Models sort before scripts; scripts have no samples or batch sizes.
        assert!(text.find(model).unwrap() < text.find(script).unwrap());
        assert!(!text.contains(&format!("redisai_run_samples_total{{{script}}}")));
        assert!(!text.contains(&format!("redisai_batch_size_count{{{script}}}")));
        // Every family is declared once, before its samples.
        let types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE")).collect();
        let mut unique = types.clone();
        unique.dedup();
        assert_eq!(types.len(), unique.len());
    }
}
