//! The execution path (model creation through the registry, run queues, auto-batching, outcomes
//! and statistics) with an in-process test double of a backend: no plugin, no Redis.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redisai_backend_api::{ModelOptions, TensorRef};
use redisai_core::model::ModelRecord;
use redisai_core::{Backend, DType, Error, Tensor};
use redisai_engine::backends::{BackendLibrary, BackendSettings, ModelRunner, Registry};
use redisai_engine::model::Model;
use redisai_engine::queue::RunQueues;
use redisai_engine::run::{OnDone, RunOp, RunOutcome, RunRequest};

/// What the double does when run.
#[derive(Clone, Copy)]
enum Behaviour {
    /// y = 2 * x (FLOAT), after sleeping a little.
    Double,
    Fail,
    Panic,
}

struct Double {
    names: (Vec<String>, Vec<String>),
    behaviour: Behaviour,
    /// Batch sizes (dim 0) of every run.
    runs: Arc<Mutex<Vec<i64>>>,
}

impl ModelRunner for Double {
    fn inputs(&self) -> &[String] {
        &self.names.0
    }
    fn outputs(&self) -> &[String] {
        &self.names.1
    }
    fn run(&self, inputs: &[TensorRef<'_>]) -> Result<Vec<Option<Tensor>>, String> {
        let x = inputs[0];
        self.runs.lock().unwrap().push(x.shape[0]);
        match self.behaviour {
            Behaviour::Fail => Err("bad input\nsecond line".into()),
            Behaviour::Panic => panic!("backend bug"),
            Behaviour::Double => {
                std::thread::sleep(Duration::from_millis(5));
                let data: Vec<u8> = x
                    .data
                    .chunks(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()) * 2.0)
                    .flat_map(f32::to_le_bytes)
                    .collect();
                let y = Tensor::from_parts(DType::Float, x.shape.to_vec(), data).unwrap();
                Ok(vec![Some(y)])
            }
        }
    }
}

struct Library {
    behaviour: Behaviour,
    runs: Arc<Mutex<Vec<i64>>>,
}

impl BackendLibrary for Library {
    fn version(&self) -> String {
        "test".into()
    }
    fn info(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn create_model(
        &self,
        blob: &Arc<Vec<u8>>,
        _: &ModelOptions,
    ) -> Result<Box<dyn ModelRunner>, String> {
        if blob.as_slice() == b"garbage" {
            return Err("not a model".into());
        }
        Ok(Box::new(Double {
            names: (vec!["x".into()], vec!["y".into()]),
            behaviour: self.behaviour,
            runs: Arc::clone(&self.runs),
        }))
    }
}

fn record(batchsize: u64, minbatchsize: u64, minbatchtimeout: u64) -> ModelRecord {
    ModelRecord {
        backend: Backend::Onnx,
        device: "CPU".into(),
        tag: Vec::new(),
        batchsize,
        minbatchsize,
        minbatchtimeout,
        inputs: Vec::new(),
        outputs: Vec::new(),
        blob: Arc::new(b"model".to_vec()),
    }
}

fn setup(behaviour: Behaviour) -> (Registry, Arc<Mutex<Vec<i64>>>) {
    let registry = Registry::new("/nonexistent".into(), BackendSettings::default());
    let runs = Arc::new(Mutex::new(Vec::new()));
    let library = Library {
        behaviour,
        runs: Arc::clone(&runs),
    };
    registry.install(Backend::Onnx, Arc::new(library)).unwrap();
    (registry, runs)
}

fn no_cpu_clock() -> Duration {
    Duration::ZERO
}

fn rows(n: usize, value: f32) -> Arc<Tensor> {
    let data: Vec<u8> = (0..n * 3).flat_map(|_| value.to_le_bytes()).collect();
    Arc::new(Tensor::from_parts(DType::Float, vec![n as i64, 3], data).unwrap())
}

fn submit(
    queues: &RunQueues,
    model: &Arc<Model>,
    input: Arc<Tensor>,
    timeout: Option<Duration>,
) -> Receiver<RunOutcome> {
    let (tx, rx) = channel();
    queues.get_or_create("CPU").unwrap().push(RunRequest {
        op: RunOp::Model(Arc::clone(model)),
        inputs: vec![input],
        enqueued_at: Instant::now(),
        queued_at: Instant::now(),
        timeout,
        cancel: None,
        on_done: OnDone::new(move |outcome| {
            let _ = tx.send(outcome);
        }),
    });
    rx
}

fn values(outcome: RunOutcome) -> Vec<f32> {
    match outcome {
        RunOutcome::Done(outputs) => outputs[0]
            .as_ref()
            .unwrap()
            .data()
            .chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect(),
        other => panic!("{other:?}"),
    }
}

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn a_model_is_built_through_the_registry_and_named_by_the_backend() {
    let (registry, _) = setup(Behaviour::Double);
    let model = Model::create(&registry, record(0, 0, 0), b"k").unwrap();
    assert_eq!(model.record().inputs, vec![b"x".to_vec()]);
    assert_eq!(model.record().outputs, vec![b"y".to_vec()]);
    let mut bad = record(0, 0, 0);
    bad.blob = Arc::new(b"garbage".to_vec());
    let err = Model::create(&registry, bad, b"k").unwrap_err();
    assert_eq!(err.to_string(), "not a model");
    // A backend that is not installed and has no plugin: RedisAI's reply.
    let mut tf = record(0, 0, 0);
    tf.backend = Backend::Tf;
    let err = Model::create(&registry, tf, b"k").unwrap_err();
    assert_eq!(err, Error::CouldNotLoadBackend);
}

#[test]
fn concurrent_requests_are_batched_up_to_batchsize_and_split_back() {
    let (registry, runs) = setup(Behaviour::Double);
    let model = Arc::new(Model::create(&registry, record(4, 4, 0), b"k").unwrap());
    let queues = RunQueues::new(1, no_cpu_clock);
    // MINBATCHSIZE 4: nothing runs until four rows are queued; 1 + 2 + 1 rows make the batch.
    let a = submit(&queues, &model, rows(1, 1.0), None);
    let b = submit(&queues, &model, rows(2, 2.0), None);
    std::thread::sleep(Duration::from_millis(50));
    assert!(runs.lock().unwrap().is_empty());
    let c = submit(&queues, &model, rows(1, 3.0), None);
    assert_eq!(values(a.recv_timeout(WAIT).unwrap()), vec![2.0; 3]);
    assert_eq!(values(b.recv_timeout(WAIT).unwrap()), vec![4.0; 6]);
    assert_eq!(values(c.recv_timeout(WAIT).unwrap()), vec![6.0; 3]);
    assert_eq!(*runs.lock().unwrap(), vec![4], "one run of the whole batch");
    let stats = model.stats();
    assert_eq!((stats.calls(), stats.samples(), stats.errors()), (3, 4, 0));
}

#[test]
fn timeout_expires_queued_requests_without_running_them() {
    let (registry, runs) = setup(Behaviour::Double);
    let model = Arc::new(Model::create(&registry, record(0, 0, 0), b"k").unwrap());
    let queues = RunQueues::new(1, no_cpu_clock);
    let receivers: Vec<_> = (0..20)
        .map(|_| {
            submit(
                &queues,
                &model,
                rows(1, 1.0),
                Some(Duration::from_millis(1)),
            )
        })
        .collect();
    let timed_out = receivers
        .into_iter()
        .map(|r| r.recv_timeout(WAIT).unwrap())
        .filter(|o| matches!(o, RunOutcome::TimedOut))
        .count();
    assert!(
        timed_out > 0,
        "5 ms runs behind each other must exceed a 1 ms TIMEOUT"
    );
    assert_eq!(runs.lock().unwrap().len() + timed_out, 20);
    assert_eq!(model.stats().calls() as usize, 20 - timed_out);
}

#[test]
fn failures_and_panics_become_errors_and_workers_survive() {
    for behaviour in [Behaviour::Fail, Behaviour::Panic] {
        let (registry, _) = setup(behaviour);
        let model = Arc::new(Model::create(&registry, record(0, 0, 0), b"k").unwrap());
        let queues = RunQueues::new(1, no_cpu_clock);
        let completed = AtomicUsize::new(0);
        for _ in 0..3 {
            match submit(&queues, &model, rows(1, 1.0), None).recv_timeout(WAIT) {
                Ok(RunOutcome::Failed(e)) => {
                    let text = e.to_string();
                    assert!(!text.contains('\n'), "one-lined: {text}");
                    completed.fetch_add(1, Ordering::Relaxed);
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(completed.load(Ordering::Relaxed), 3);
        assert_eq!(model.stats().errors(), 3);
    }
}

#[test]
fn a_request_waiting_for_a_batch_still_times_out() {
    let (registry, runs) = setup(Behaviour::Double);
    // MINBATCHSIZE 4 and no MINBATCHTIMEOUT: a lone request would wait forever for its batch.
    let model = Arc::new(Model::create(&registry, record(4, 4, 0), b"k").unwrap());
    let queues = RunQueues::new(1, no_cpu_clock);
    let started = Instant::now();
    let rx = submit(
        &queues,
        &model,
        rows(1, 1.0),
        Some(Duration::from_millis(50)),
    );
    assert!(matches!(
        rx.recv_timeout(WAIT).unwrap(),
        RunOutcome::TimedOut
    ));
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert!(runs.lock().unwrap().is_empty());
    assert_eq!(model.stats().calls(), 0);
}

#[test]
fn requests_held_for_a_batch_run_once_their_model_is_orphaned() {
    let (registry, runs) = setup(Behaviour::Double);
    // BATCHSIZE 8 MINBATCHSIZE 4, no MINBATCHTIMEOUT: two requests of one row each wait.
    let model = Arc::new(Model::create(&registry, record(8, 4, 0), b"k").unwrap());
    let queues = RunQueues::new(1, no_cpu_clock);
    let first = submit(&queues, &model, rows(1, 1.0), None);
    let second = submit(&queues, &model, rows(1, 2.0), None);
    assert!(first.recv_timeout(Duration::from_millis(100)).is_err());
    // The key was deleted: nothing can fill the batch any more, so what there is runs.
    model.orphan();
    queues.get("CPU").unwrap().wake_all();
    assert_eq!(values(first.recv_timeout(WAIT).unwrap()), vec![2.0; 3]);
    assert_eq!(values(second.recv_timeout(WAIT).unwrap()), vec![4.0; 3]);
    assert_eq!(*runs.lock().unwrap(), vec![2]);
}

#[test]
fn outputs_larger_than_a_tensor_may_be_are_refused() {
    let (registry, _) = setup(Behaviour::Double);
    let model = Arc::new(Model::create(&registry, record(0, 0, 0), b"k").unwrap());
    let queues = RunQueues::new(1, no_cpu_clock);
    // 100 rows of 3 floats: 1200 bytes, over a 1000-byte proto-max-bulk-len (the other tests'
    // tensors, which may run meanwhile, are all far smaller).
    redisai_engine::limits::set_max_tensor_bytes(1000);
    let outcome = submit(&queues, &model, rows(100, 1.0), None).recv_timeout(WAIT);
    redisai_engine::limits::set_max_tensor_bytes(512 * 1024 * 1024);
    match outcome.unwrap() {
        RunOutcome::Failed(e) => assert_eq!(e, Error::TensorTooLarge(1000)),
        other => panic!("unexpected {other:?}"),
    }
}
