//! The MODEL_EXECUTION_TIMEOUT kill switch: a run longer than the timeout is terminated through
//! its `RunOptions` (ONNX Runtime checks the flag between nodes, and between iterations of loops)
//! and fails with ONNX Runtime's `Exiting due to terminate flag being set to true.`
//!
//! One watchdog thread per process, started on the first watched run. Runs register their
//! options with a deadline; the thread wakes every tick (a tenth of the timeout, between 10 and
//! 100 ms, like RedisAI's cron at hz 10), terminates what has expired, and sleeps again.
//! Registering a run never wakes the thread: the hot path costs one uncontended lock.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ort::session::RunOptions;

struct Watched {
    deadline: Instant,
    options: Arc<RunOptions>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    /// Runs in progress by registration order, which is also deadline order (one timeout).
    runs: BTreeMap<u64, Watched>,
    thread_started: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Terminates runs that take longer than the timeout.
pub struct Watchdog {
    timeout: Option<Duration>,
    shared: Arc<Shared>,
}

/// A run being watched; dropping it (when the run returns) stops watching.
pub struct Watch<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        self.shared.lock().runs.remove(&self.id);
    }
}

impl Watchdog {
    /// A watchdog for `timeout_ms` milliseconds (0: runs are never terminated).
    pub fn new(timeout_ms: u64) -> Watchdog {
        Watchdog {
            timeout: (timeout_ms > 0).then(|| Duration::from_millis(timeout_ms)),
            shared: Arc::default(),
        }
    }

    /// Watches a run that uses `options` until the returned guard is dropped.
    pub fn watch(&self, options: Arc<RunOptions>) -> Result<Option<Watch<'_>>, String> {
        let Some(timeout) = self.timeout else {
            return Ok(None);
        };
        let mut state = self.shared.lock();
        if !state.thread_started {
            let shared = Arc::clone(&self.shared);
            let tick = (timeout / 10).clamp(Duration::from_millis(10), Duration::from_millis(100));
            std::thread::Builder::new()
                .name("onnx-watchdog".into())
                .spawn(move || watch_loop(&shared, tick))
                .map_err(|e| format!("ERR cannot start the ONNX watchdog thread: {e}"))?;
            state.thread_started = true;
        }
        let id = state.next_id;
        state.next_id += 1;
        let deadline = Instant::now() + timeout;
        state.runs.insert(id, Watched { deadline, options });
        drop(state);
        Ok(Some(Watch {
            shared: &self.shared,
            id,
        }))
    }
}

fn watch_loop(shared: &Shared, tick: Duration) {
    loop {
        std::thread::sleep(tick);
        let now = Instant::now();
        shared.lock().runs.retain(|_, run| {
            if run.deadline > now {
                return true;
            }
            // Setting a flag cannot meaningfully fail; a run that cannot be stopped just ends.
            let _ = run.options.terminate();
            false
        });
    }
}
