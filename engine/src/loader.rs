//! The loader: builds models and compiles scripts off Redis's main thread (AI.MODELSTORE,
//! AI.SCRIPTSTORE and their deprecated forms), on a few threads shared by every store.
//!
//! Jobs for one key run one at a time, in the order they were submitted: a job for a key whose
//! previous job has not finished waits behind it, so two stores to one key finish (and are
//! written, replicated and answered) in the order Redis received them. Jobs for different keys
//! run in parallel. A job does its whole work, including handing its result back to the main
//! thread, before the next job of its key starts.
//!
//! The threads start on the first job and never stop; their number does not depend on how many
//! models are stored.

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// One store's work: build, then hand the result to the main thread.
pub type Job = Box<dyn FnOnce() + Send>;

/// Loader threads: enough to build two models at once (each build is mostly single-threaded)
/// without taking more than its share of a small machine's cores.
pub const LOADER_THREADS: usize = 2;

struct Keyed {
    key: Vec<u8>,
    job: Job,
}

#[derive(Default)]
struct State {
    /// Jobs free to start (no earlier job of their key is queued or running).
    ready: VecDeque<Keyed>,
    /// Keys with a job queued or running, each with the jobs waiting behind it.
    busy: HashMap<Vec<u8>, VecDeque<Job>>,
    /// Jobs submitted and not finished (INFO `ai_loader_pending`).
    pending: usize,
    started: usize,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The loader's queue and threads.
pub struct Loader {
    shared: Arc<Shared>,
    threads: usize,
}

impl Default for Loader {
    fn default() -> Self {
        Loader::new(LOADER_THREADS)
    }
}

impl Loader {
    /// A loader that will run `threads` threads (started with the first job).
    pub fn new(threads: usize) -> Loader {
        Loader {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                wake: Condvar::new(),
            }),
            threads: threads.max(1),
        }
    }

    /// Queues `job` for `key`. `Err` (the job unrun, handed back) when no loader thread could
    /// be started; the caller then does the work itself.
    pub fn submit(&self, key: &[u8], job: Job) -> Result<(), Job> {
        let mut state = self.shared.lock();
        while state.started < self.threads {
            let shared = Arc::clone(&self.shared);
            let spawned = std::thread::Builder::new()
                .name(format!("ai-loader-{}", state.started + 1))
                .spawn(move || worker(&shared));
            match spawned {
                Ok(_) => state.started += 1,
                Err(_) if state.started > 0 => break,
                Err(_) => return Err(job),
            }
        }
        state.pending += 1;
        match state.busy.get_mut(key) {
            Some(waiting) => waiting.push_back(job),
            None => {
                state.busy.insert(key.to_vec(), VecDeque::new());
                state.ready.push_back(Keyed {
                    key: key.to_vec(),
                    job,
                });
                drop(state);
                self.shared.wake.notify_one();
            }
        }
        Ok(())
    }

    /// Jobs submitted and not finished yet.
    pub fn pending(&self) -> usize {
        self.shared.lock().pending
    }

    /// Loader threads started so far.
    pub fn threads(&self) -> usize {
        self.shared.lock().started
    }
}

fn worker(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        let Some(Keyed { key, job }) = state.ready.pop_front() else {
            state = shared.wake.wait(state).unwrap_or_else(|p| p.into_inner());
            continue;
        };
        drop(state);
        // A job answers its client itself, also when it fails; a panic must not take the
        // thread, or the key's later jobs, with it.
        let _ = catch_unwind(AssertUnwindSafe(job));
        state = shared.lock();
        state.pending -= 1;
        let next = state.busy.get_mut(&key).and_then(VecDeque::pop_front);
        match next {
            Some(job) => state.ready.push_back(Keyed { key, job }),
            None => {
                state.busy.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn jobs_of_one_key_run_in_order_one_at_a_time() {
        let loader = Loader::new(4);
        let (tx, rx) = mpsc::channel();
        let (release, gate) = mpsc::channel::<()>();
        let gate = Mutex::new(gate);
        let gate = Arc::new(gate);
        for i in 0..5 {
            let tx = tx.clone();
            let gate = Arc::clone(&gate);
            let job: Job = Box::new(move || {
                tx.send(("start", i)).unwrap();
                if i == 0 {
                    gate.lock().unwrap().recv().unwrap();
                }
                tx.send(("end", i)).unwrap();
            });
            assert!(loader.submit(b"k", job).is_ok());
        }
        assert_eq!(rx.recv().unwrap(), ("start", 0));
        // The first job holds the key: nothing else of it starts.
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
        assert_eq!(loader.pending(), 5);
        release.send(()).unwrap();
        let events: Vec<_> = (0..9).map(|_| rx.recv().unwrap()).collect();
        let mut expected = vec![("end", 0)];
        for i in 1..5 {
            expected.extend([("start", i), ("end", i)]);
        }
        assert_eq!(events, expected);
    }

    #[test]
    fn other_keys_run_while_one_is_held_and_panics_are_contained() {
        let loader = Loader::new(2);
        let (tx, rx) = mpsc::channel();
        let (release, gate) = mpsc::channel::<()>();
        let held: Job = Box::new(move || gate.recv().unwrap());
        assert!(loader.submit(b"slow", held).is_ok());
        assert!(loader
            .submit(b"bad", Box::new(|| panic!("a failing build")))
            .is_ok());
        let t = tx.clone();
        let after: Job = Box::new(move || t.send("bad again").unwrap());
        assert!(loader.submit(b"bad", after).is_ok());
        let t = tx.clone();
        assert!(loader
            .submit(b"other", Box::new(move || t.send("other").unwrap()))
            .is_ok());
        let mut got = vec![rx.recv().unwrap(), rx.recv().unwrap()];
        got.sort();
        assert_eq!(got, ["bad again", "other"]);
        assert_eq!(loader.threads(), 2);
        release.send(()).unwrap();
        for _ in 0..100 {
            if loader.pending() == 0 {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("jobs left pending");
    }
}
