//! Per-key run statistics (AI.INFO, AI._MODELSCAN, AI._SCRIPTSCAN; SPEC §3.18, §8).
//!
//! Each stored model or script owns an `Arc<RunStats>`; the registry maps key names to the
//! entry of the value currently stored there. Storing a value registers a fresh entry (replacing
//! the key's previous one); freeing a value removes its entry only if the registry still holds
//! that very entry, so an overwritten key's old value, freed later, leaves the new one alone.
//! Like RedisAI, RENAME leaves the entry under the old name.
//!
//! Beside RedisAI's counters each entry keeps latency histograms (`AI.INFO <key> LATENCY`,
//! AI.METRICS; docs/metrics.md): queue wait, backend compute time, end-to-end time and batch
//! sizes, recorded with relaxed atomics only.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use redisai_core::Backend;

use crate::histogram::Histogram;

/// What a statistics entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunKind {
    /// A model (`type MODEL` in AI.INFO).
    Model,
    /// A script (`type SCRIPT`; backend TORCH; samples always -1).
    Script,
    /// An embedder (`type EMBEDDER`; samples: texts embedded).
    Embedder,
}

/// The counters of one model or script, updated by workers without locks.
///
/// `repr(C)` and the padding keep the counters, which workers write, off the cache line of the
/// `Arc`'s reference count, which the main thread changes for every command.
#[derive(Debug)]
#[repr(C)]
pub struct RunStats {
    key: Vec<u8>,
    device: String,
    tag: Vec<u8>,
    kind: RunKind,
    backend: Backend,
    _pad: [u64; 8],
    duration_us: AtomicU64,
    samples: AtomicI64,
    calls: AtomicU64,
    errors: AtomicU64,
    timeouts: AtomicU64,
    latency: Latency,
}

/// The latency histograms of one model or script, in microseconds (batch sizes in samples).
#[derive(Debug, Default)]
pub struct Latency {
    /// From queueing a request to a worker picking it up, for every request run (auto-batching
    /// waits included).
    pub queue: Histogram,
    /// The backend's run, for every request run (a batch's run counts for each request in it).
    pub compute: Histogram,
    /// From the command's arrival to its reply, once per command that ran the model or script.
    pub total: Histogram,
    /// Models: the dim 0 of each backend run (one value per run, not per request).
    pub batch: Histogram,
}

impl Latency {
    fn reset(&self) {
        self.queue.reset();
        self.compute.reset();
        self.total.reset();
        self.batch.reset();
    }
}

impl RunStats {
    /// A fresh entry: every counter 0.
    pub fn new(
        key: Vec<u8>,
        kind: RunKind,
        backend: Backend,
        device: String,
        tag: Vec<u8>,
    ) -> RunStats {
        RunStats {
            key,
            kind,
            backend,
            device,
            tag,
            _pad: [0; 8],
            duration_us: AtomicU64::new(0),
            samples: AtomicI64::new(0),
            calls: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
            latency: Latency::default(),
        }
    }

    /// The latency histograms.
    pub fn latency(&self) -> &Latency {
        &self.latency
    }

    /// A request whose TIMEOUT passed before a worker picked it up (it did not run).
    pub fn record_timeout(&self) {
        self.timeouts.fetch_add(1, Ordering::Relaxed);
    }

    /// Requests that timed out in the queue.
    pub fn timeouts(&self) -> u64 {
        self.timeouts.load(Ordering::Relaxed)
    }

    /// The key the value was stored under.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// Model or script.
    pub fn kind(&self) -> RunKind {
        self.kind
    }

    /// The backend (TORCH for scripts).
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The device string as stored.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// The tag (empty when none).
    pub fn tag(&self) -> &[u8] {
        &self.tag
    }

    /// A successful run: one more call, its duration added and (models) `samples` added, the dim
    /// 0 of its first output (0 when it has none).
    pub fn record_success(&self, duration_us: u64, samples: i64) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.duration_us.fetch_add(duration_us, Ordering::Relaxed);
        if self.kind != RunKind::Script {
            self.samples.fetch_add(samples, Ordering::Relaxed);
        }
    }

    /// A failed run: one more call and one more error.
    pub fn record_error(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// AI.INFO RESETSTAT: every counter and histogram back to 0.
    pub fn reset(&self) {
        self.duration_us.store(0, Ordering::Relaxed);
        self.samples.store(0, Ordering::Relaxed);
        self.calls.store(0, Ordering::Relaxed);
        self.errors.store(0, Ordering::Relaxed);
        self.timeouts.store(0, Ordering::Relaxed);
        self.latency.reset();
    }

    /// Cumulative microseconds of successful runs.
    pub fn duration(&self) -> u64 {
        self.duration_us.load(Ordering::Relaxed)
    }

    /// Models: sum of the first output's dim 0 over successful runs. Scripts: always -1.
    pub fn samples(&self) -> i64 {
        match self.kind {
            RunKind::Model | RunKind::Embedder => self.samples.load(Ordering::Relaxed),
            RunKind::Script => -1,
        }
    }

    /// Successful plus failed runs.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Failed runs.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }
}

/// The statistics entries of this shard, by key name.
#[derive(Debug, Default)]
pub struct StatsRegistry {
    entries: Mutex<HashMap<Vec<u8>, Arc<RunStats>>>,
}

impl StatsRegistry {
    fn lock(&self) -> MutexGuard<'_, HashMap<Vec<u8>, Arc<RunStats>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers `stats` under its key, replacing the key's previous entry.
    pub fn register(&self, stats: Arc<RunStats>) {
        self.lock().insert(stats.key.clone(), stats);
    }

    /// Removes the entry of `stats`' key if it is `stats` itself (same `Arc`); a newer entry
    /// registered under the same key is kept.
    pub fn remove_if_same(&self, stats: &Arc<RunStats>) {
        let mut entries = self.lock();
        if entries
            .get(&stats.key)
            .is_some_and(|current| Arc::ptr_eq(current, stats))
        {
            entries.remove(&stats.key);
        }
    }

    /// The entry registered under `key`.
    pub fn get(&self, key: &[u8]) -> Option<Arc<RunStats>> {
        self.lock().get(key).cloned()
    }

    /// `(key, tag)` of every entry of `kind`, in no particular order (RedisAI's is its hash
    /// table's).
    pub fn scan(&self, kind: RunKind) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.lock()
            .values()
            .filter(|s| s.kind == kind)
            .map(|s| (s.key.clone(), s.tag.clone()))
            .collect()
    }

    /// Every entry, in no particular order.
    pub fn all(&self) -> Vec<Arc<RunStats>> {
        self.lock().values().cloned().collect()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, kind: RunKind, tag: &str) -> Arc<RunStats> {
        let backend = match kind {
            RunKind::Model | RunKind::Embedder => Backend::Onnx,
            RunKind::Script => Backend::Torch,
        };
        Arc::new(RunStats::new(
            key.into(),
            kind,
            backend,
            "CPU".into(),
            tag.into(),
        ))
    }

    fn counters(s: &RunStats) -> (u64, i64, u64, u64) {
        (s.duration(), s.samples(), s.calls(), s.errors())
    }

    #[test]
    fn model_counters() {
        let s = entry("m", RunKind::Model, "t");
        assert_eq!(counters(&s), (0, 0, 0, 0));
        s.record_success(100, 2);
        s.record_success(50, 0);
        s.record_error();
        s.record_timeout();
        s.latency().compute.record(100);
        assert_eq!(counters(&s), (150, 2, 3, 1));
        assert_eq!(s.timeouts(), 1);
        s.reset();
        assert_eq!(counters(&s), (0, 0, 0, 0));
        assert_eq!(s.timeouts(), 0);
        assert_eq!(s.latency().compute.snapshot().count(), 0);
        assert_eq!(
            (s.key(), s.kind(), s.backend(), s.device(), s.tag()),
            (&b"m"[..], RunKind::Model, Backend::Onnx, "CPU", &b"t"[..])
        );
    }

    #[test]
    fn script_samples_are_minus_one() {
        let s = entry("s", RunKind::Script, "");
        assert_eq!(counters(&s), (0, -1, 0, 0));
        s.record_success(10, 7);
        s.record_error();
        assert_eq!(counters(&s), (10, -1, 2, 1));
        s.reset();
        assert_eq!(counters(&s), (0, -1, 0, 0));
    }

    #[test]
    fn registry_replaces_and_removes_only_the_same_entry() {
        let reg = StatsRegistry::default();
        let old = entry("k", RunKind::Model, "v1");
        reg.register(Arc::clone(&old));
        old.record_error();
        // Re-storing the key registers a fresh entry.
        let new = entry("k", RunKind::Model, "v2");
        reg.register(Arc::clone(&new));
        let got = reg.get(b"k").unwrap();
        assert!(Arc::ptr_eq(&got, &new));
        assert_eq!(got.calls(), 0);
        // Freeing the overwritten value must not remove the new entry.
        reg.remove_if_same(&old);
        assert!(Arc::ptr_eq(&reg.get(b"k").unwrap(), &new));
        reg.remove_if_same(&new);
        assert!(reg.get(b"k").is_none());
        assert!(reg.is_empty());
        reg.remove_if_same(&new); // already gone: nothing happens
        assert_eq!(reg.len(), 0);
    }

    #[test]
    fn scan_filters_by_kind() {
        let reg = StatsRegistry::default();
        reg.register(entry("m1", RunKind::Model, "a"));
        reg.register(entry("m2", RunKind::Model, ""));
        reg.register(entry("s1", RunKind::Script, "st1"));
        let mut models = reg.scan(RunKind::Model);
        models.sort();
        assert_eq!(
            models,
            vec![
                (b"m1".to_vec(), b"a".to_vec()),
                (b"m2".to_vec(), Vec::new())
            ]
        );
        assert_eq!(
            reg.scan(RunKind::Script),
            vec![(b"s1".to_vec(), b"st1".to_vec())]
        );
        assert!(reg.get(b"nokey").is_none());
    }

    #[test]
    fn counters_are_shared_across_threads() {
        let s = entry("m", RunKind::Model, "");
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..1000 {
                        s.record_success(1, 1);
                    }
                });
            }
        });
        assert_eq!(counters(&s), (4000, 4000, 4000, 0));
    }
}
