//! Run queues: one FIFO per device (`CPU`, `GPU:0`, `CPU:1`, ...), each served by
//! THREADS_PER_QUEUE worker threads that apply the auto-batching policy and run models.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::batching::{take_next, Next};
use crate::histogram::{Histogram, Snapshot};
use crate::run::{execute_recorded, RunRequest};

/// Reads the CPU time the calling thread has used so far (injected by the module, which may
/// call the OS; the engine itself stays free of unsafe code).
pub type ThreadCpuClock = fn() -> Duration;

/// One worker's CPU time, for INFO MODULES (`ai_queue_<DEVICE>_bthread_n<i>_used_cpu_total`),
/// and whether it is running a request now. Written by its worker only; the padding keeps two
/// workers' entries off one cache line.
#[derive(Debug, Default)]
pub struct WorkerStats {
    cpu_micros: AtomicU64,
    busy: AtomicBool,
    _pad: [u64; 7],
}

impl WorkerStats {
    /// Whether the worker is running a request now.
    pub fn busy(&self) -> bool {
        self.busy.load(Ordering::Relaxed)
    }

    /// CPU time used by the worker, as of its last job.
    pub fn cpu(&self) -> Duration {
        Duration::from_micros(self.cpu_micros.load(Ordering::Relaxed))
    }
}

#[derive(Default)]
struct Pending {
    items: VecDeque<RunRequest>,
    /// Workers waiting on the condition variable: a push only wakes one when there is one (a
    /// notification is a system call, on Redis's main thread).
    sleeping: usize,
    /// Workers watching for a push before they sleep ([`IDLE_SPIN`]): while one does, a push
    /// wakes nobody (the spinner takes the request, or sees it when it locks the queue again).
    spinning: usize,
}

/// What a queue's workers did (INFO MODULES `ai_queue_<DEVICE>_*`, AI.METRICS): the queue waits
/// of the requests they picked up to run (not the expired or cancelled ones), in microseconds.
#[derive(Debug, Default)]
struct QueueStats {
    wait: Histogram,
}

/// How long a worker that finds the queue empty after a run watches for the next request before
/// it sleeps (docs/performance.md): one client's next request usually arrives within a round
/// trip, and a sleeping worker costs the main thread a wake-up call and the request a scheduler
/// wake-up, each longer than a small model's run.
pub const IDLE_SPIN: Duration = Duration::from_micros(50);

/// A device's queue and its workers.
pub struct RunQueue {
    name: String,
    pending: Mutex<Pending>,
    /// Requests pushed so far: what a spinning worker watches, without the lock.
    pushes: AtomicU64,
    wake: Condvar,
    workers: Vec<Arc<WorkerStats>>,
    stats: QueueStats,
}

impl RunQueue {
    /// The queue's name (the upper-cased device string).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Per-worker statistics, in worker order.
    pub fn workers(&self) -> &[Arc<WorkerStats>] {
        &self.workers
    }

    /// Workers running a request now.
    pub fn busy(&self) -> usize {
        self.workers.iter().filter(|w| w.busy()).count()
    }

    /// Queue waits of the requests the workers picked up to run, in microseconds (its count is
    /// the number of those runs).
    pub fn wait(&self) -> Snapshot {
        self.stats.wait.snapshot()
    }

    /// Number of requests waiting.
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a request; a worker picks it up.
    pub fn push(&self, request: RunRequest) {
        let mut pending = self.lock();
        pending.items.push_back(request);
        self.pushes.fetch_add(1, Ordering::Release);
        let sleeping = pending.sleeping > 0 && pending.spinning == 0;
        drop(pending);
        if sleeping {
            self.wake.notify_one();
        }
    }

    /// Wakes every sleeping worker, so each re-reads the queue (a model's batching changed).
    pub fn wake_all(&self) {
        let sleeping = self.lock().sleeping > 0;
        if sleeping {
            self.wake.notify_all();
        }
    }

    fn worker_loop(self: Arc<Self>, stats: Arc<WorkerStats>, clock: ThreadCpuClock) {
        loop {
            // Once per idle period (after a run), the worker spins before it sleeps.
            let mut may_spin = true;
            let batch = {
                let mut pending = self.lock();
                loop {
                    match take_next(&mut pending.items, Instant::now()) {
                        Next::Run(batch) => {
                            // Another worker may take what is left (each push wakes only one).
                            if !pending.items.is_empty() && pending.sleeping > 0 {
                                self.wake.notify_one();
                            }
                            break batch;
                        }
                        Next::Wait(deadline) => {
                            // Requests held back for a batch still expire on time: answer them
                            // (TIMEDOUT / cancelled) instead of letting them wait for the batch.
                            let now = Instant::now();
                            let expired = take_expired(&mut pending.items, now);
                            if !expired.is_empty() {
                                break expired;
                            }
                            let deadline = deadline
                                .into_iter()
                                .chain(pending.items.iter().filter_map(RunRequest::deadline))
                                .min();
                            // Wake at the deadline (MINBATCHTIMEOUT, TIMEOUT) or when a request
                            // arrives.
                            let wait = deadline.map(|deadline| {
                                deadline
                                    .saturating_duration_since(now)
                                    .max(Duration::from_micros(100))
                            });
                            pending = self.sleep(pending, wait);
                        }
                        Next::Empty if may_spin => {
                            may_spin = false;
                            let seen = self.pushes.load(Ordering::Acquire);
                            pending.spinning += 1;
                            drop(pending);
                            self.spin_for_push(seen);
                            pending = self.lock();
                            pending.spinning -= 1;
                        }
                        Next::Empty => pending = self.sleep(pending, None),
                    }
                }
            };
            stats.busy.store(true, Ordering::Relaxed);
            let wait = Some(&self.stats.wait);
            // A failing job must never kill its worker.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                execute_recorded(batch, wait)
            }));
            stats.busy.store(false, Ordering::Relaxed);
            stats
                .cpu_micros
                .store(clock().as_micros() as u64, Ordering::Relaxed);
        }
    }
}

impl RunQueue {
    /// Watches for a push after `seen` pushes, for at most [`IDLE_SPIN`].
    fn spin_for_push(&self, seen: u64) {
        let started = Instant::now();
        while self.pushes.load(Ordering::Acquire) == seen && started.elapsed() < IDLE_SPIN {
            // Yield rather than burn: a runnable thread of this core (Redis's main thread,
            // a backend's pool thread) goes first.
            std::thread::yield_now();
        }
    }

    /// Waits for a push (or `timeout`), counted as sleeping meanwhile.
    fn sleep<'a>(
        &'a self,
        mut pending: MutexGuard<'a, Pending>,
        timeout: Option<Duration>,
    ) -> MutexGuard<'a, Pending> {
        pending.sleeping += 1;
        let mut pending = match timeout {
            Some(wait) => {
                self.wake
                    .wait_timeout(pending, wait)
                    .unwrap_or_else(|p| p.into_inner())
                    .0
            }
            None => self.wake.wait(pending).unwrap_or_else(|p| p.into_inner()),
        };
        pending.sleeping -= 1;
        pending
    }
}

/// Removes the requests that must no longer run, keeping the others in order.
fn take_expired(items: &mut VecDeque<RunRequest>, now: Instant) -> Vec<RunRequest> {
    if !items.iter().any(|r| r.expired(now)) {
        return Vec::new();
    }
    let (expired, kept): (Vec<_>, Vec<_>) = items.drain(..).partition(|r| r.expired(now));
    items.extend(kept);
    expired
}

/// All run queues of the process. Queues are created on demand and never destroyed.
pub struct RunQueues {
    threads_per_queue: usize,
    clock: ThreadCpuClock,
    queues: Mutex<Vec<Arc<RunQueue>>>,
    index: Mutex<HashMap<String, usize>>,
}

impl RunQueues {
    /// No queues yet; each new queue gets `threads_per_queue` workers.
    pub fn new(threads_per_queue: usize, clock: ThreadCpuClock) -> RunQueues {
        RunQueues {
            threads_per_queue: threads_per_queue.max(1),
            clock,
            queues: Mutex::new(Vec::new()),
            index: Mutex::new(HashMap::new()),
        }
    }

    /// The queue named `name` (an upper-cased device string), created with its workers if new.
    pub fn get_or_create(&self, name: &str) -> std::io::Result<Arc<RunQueue>> {
        let mut index = self.index.lock().unwrap_or_else(|p| p.into_inner());
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(&i) = index.get(name) {
            return Ok(Arc::clone(&queues[i]));
        }
        let workers: Vec<Arc<WorkerStats>> = (0..self.threads_per_queue)
            .map(|_| Arc::new(WorkerStats::default()))
            .collect();
        let queue = Arc::new(RunQueue {
            name: name.to_string(),
            pending: Mutex::new(Pending::default()),
            pushes: AtomicU64::new(0),
            wake: Condvar::new(),
            workers: workers.clone(),
            stats: QueueStats::default(),
        });
        for (i, stats) in workers.into_iter().enumerate() {
            let q = Arc::clone(&queue);
            let clock = self.clock;
            std::thread::Builder::new()
                .name(format!("ai-{}-{}", name.to_ascii_lowercase(), i + 1))
                .spawn(move || q.worker_loop(stats, clock))?;
        }
        index.insert(name.to_string(), queues.len());
        queues.push(Arc::clone(&queue));
        Ok(queue)
    }

    /// The queue named `name`, if it exists.
    pub fn get(&self, name: &str) -> Option<Arc<RunQueue>> {
        let index = self.index.lock().unwrap_or_else(|p| p.into_inner());
        let queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        index.get(name).map(|&i| Arc::clone(&queues[i]))
    }

    /// Every queue, in creation order.
    pub fn all(&self) -> Vec<Arc<RunQueue>> {
        self.queues
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Total number of worker threads.
    pub fn thread_count(&self) -> usize {
        self.all().len() * self.threads_per_queue
    }
}
