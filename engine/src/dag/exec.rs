//! Running a [`DagPlan`]: TENSORSET/TENSORGET ops need no worker; each model or script op is
//! queued on its device queue (as an ordinary [`RunRequest`], so it batches with other requests) as soon
//! as all its inputs exist, so independent ops run concurrently and dependent ops in order. The
//! first failure cancels what has not started; TIMEOUT is checked when a worker picks an op up.
//! The outcome is delivered once, when nothing is in flight any more.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use redisai_backend_api::Reply;
use redisai_core::{Error, Tensor};

use super::{DagOp, DagPlan, Slot, SlotSource};
use crate::run::{OnDone, RunOp, RunOutcome, RunRequest, ScriptOp};

/// What became of one op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpResult {
    /// Never ran (its inputs were never produced, or the DAG failed or timed out first).
    NotRun,
    Done,
    Failed(Error),
    /// Done, answering with a server reply (AI.VSIM, AI.VADD, AI.HSET).
    Reply(Reply),
}

/// The result of a whole DAG, handed to the caller's completion.
#[derive(Debug)]
pub struct DagOutcome {
    /// A model op was picked up after TIMEOUT: the reply is `TIMEDOUT` and nothing is persisted.
    pub timed_out: bool,
    /// One result per op, in op order.
    pub results: Vec<OpResult>,
    /// The final value of every tensor version (`None`: never produced).
    pub tensors: Vec<Option<Arc<Tensor>>>,
}

impl DagOutcome {
    /// Whether any op failed (then nothing is persisted).
    pub fn failed(&self) -> bool {
        self.timed_out
            || self
                .results
                .iter()
                .any(|r| matches!(r, OpResult::Failed(_)))
    }
}

/// The completion of a DAG, called once with the outcome (on a worker thread, or on the caller's
/// for model-free DAGs). Like a request's [`crate::run::OnDone`], an obligation: dropped
/// unanswered (a defect), it answers an outcome whose every op failed with `ERR internal error`.
pub struct OnDagDone {
    f: Option<Box<dyn FnOnce(DagOutcome) + Send>>,
    ops: usize,
}

impl OnDagDone {
    /// `ops`: the plan's number of ops (for the outcome `Drop` makes up).
    pub fn new(ops: usize, f: impl FnOnce(DagOutcome) + Send + 'static) -> OnDagDone {
        OnDagDone {
            f: Some(Box::new(f)),
            ops,
        }
    }

    pub fn call(mut self, outcome: DagOutcome) {
        if let Some(f) = self.f.take() {
            f(outcome);
        }
    }
}

impl Drop for OnDagDone {
    fn drop(&mut self) {
        if let Some(f) = self.f.take() {
            f(DagOutcome {
                timed_out: false,
                results: vec![OpResult::Failed(Error::Internal); self.ops],
                tensors: Vec::new(),
            });
        }
    }
}

/// Queues a request on the named device queue (injected: the module uses its run queues).
pub type Submit = Arc<dyn Fn(&str, RunRequest) + Send + Sync>;

struct State {
    tensors: Vec<Option<Arc<Tensor>>>,
    results: Vec<OpResult>,
    /// Per op: inputs not produced yet.
    waiting: Vec<usize>,
    /// Model ops queued and not finished.
    in_flight: usize,
    timed_out: bool,
    on_done: Option<OnDagDone>,
}

struct DagRun {
    ops: Vec<DagOp>,
    /// Per slot: the ops that read it.
    readers: Vec<Vec<usize>>,
    enqueued_at: Instant,
    timeout: Option<std::time::Duration>,
    /// Set on the first failure: queued ops of this DAG are cancelled when picked up.
    failed: Arc<AtomicBool>,
    submit: Submit,
    state: Mutex<State>,
}

/// Whether the plan has ops that need a worker (else [`complete_now`] answers at once).
pub fn needs_workers(plan: &DagPlan) -> bool {
    plan.ops.iter().any(|op| op.worker_io().is_some())
}

fn initial_tensors(slots: &[SlotSource]) -> Vec<Option<Arc<Tensor>>> {
    slots
        .iter()
        .map(|s| match s {
            SlotSource::Loaded(t) | SlotSource::Set(t) => Some(Arc::clone(t)),
            SlotSource::Produced => None,
        })
        .collect()
}

/// Results of the ops that need no worker, given the tensors that exist.
fn settle(ops: &[DagOp], results: &mut [OpResult], tensors: &[Option<Arc<Tensor>>]) {
    for (op, result) in ops.iter().zip(results.iter_mut()) {
        match op {
            DagOp::TensorSet { .. } => *result = OpResult::Done,
            DagOp::TensorGet { input, .. } if tensors[*input].is_some() => *result = OpResult::Done,
            _ => {}
        }
    }
}

/// The outcome of a plan without model ops, computed on the spot.
pub fn complete_now(plan: &DagPlan) -> DagOutcome {
    let tensors = initial_tensors(&plan.slots);
    let mut results = vec![OpResult::NotRun; plan.ops.len()];
    settle(&plan.ops, &mut results, &tensors);
    DagOutcome {
        timed_out: false,
        results,
        tensors,
    }
}

/// What a worker op runs, and the queue it runs on (`None` for TENSORSET/TENSORGET).
fn run_op(op: &DagOp) -> Option<(RunOp, String)> {
    match op {
        DagOp::ModelExecute { model, .. } => {
            Some((RunOp::Model(Arc::clone(model)), model.device().queue_name()))
        }
        DagOp::ScriptExecute {
            script,
            function,
            keys,
            args,
            host,
            outputs,
            ..
        } => Some((
            RunOp::Script(ScriptOp {
                script: Arc::clone(script),
                function: function.clone(),
                keys: keys.clone(),
                args: args.clone(),
                n_outputs: outputs.len(),
                host: Arc::clone(host),
            }),
            script.device().queue_name(),
        )),
        DagOp::Text { op, .. } => Some((RunOp::Text(op.clone()), op.queue_name())),
        _ => None,
    }
}

/// Starts a plan: queues every model op whose inputs exist; `on_done` gets the outcome once all
/// model ops have finished or can no longer run. `enqueued_at` is when the DAG was received.
///
/// Fast path: a plan whose only op is a worker op with all its inputs (every single-op command,
/// and one-op DAGs) is queued as it is, and its outcome built when the op completes, without
/// the shared state a multi-op DAG needs to release its ops in order.
pub fn start(plan: DagPlan, enqueued_at: Instant, submit: Submit, on_done: OnDagDone) {
    let tensors = initial_tensors(&plan.slots);
    if let [op] = plan.ops.as_slice() {
        if let Some((inputs, _)) = op.worker_io() {
            if inputs.iter().all(|&s| tensors[s].is_some()) {
                return start_single(plan, tensors, enqueued_at, submit, on_done);
            }
        }
    }
    let mut readers = vec![Vec::new(); plan.slots.len()];
    let mut waiting = vec![0; plan.ops.len()];
    for (i, op) in plan.ops.iter().enumerate() {
        if let Some((inputs, _)) = op.worker_io() {
            for &slot in inputs {
                readers[slot].push(i);
                if tensors[slot].is_none() {
                    waiting[i] += 1;
                }
            }
        }
    }
    let run = Arc::new(DagRun {
        readers,
        enqueued_at,
        timeout: plan.timeout,
        failed: Arc::new(AtomicBool::new(false)),
        submit,
        state: Mutex::new(State {
            tensors,
            results: vec![OpResult::NotRun; plan.ops.len()],
            waiting,
            in_flight: 0,
            timed_out: false,
            on_done: Some(on_done),
        }),
        ops: plan.ops,
    });
    let ready: Vec<usize> = {
        let mut state = run.lock();
        let ready: Vec<usize> = (0..run.ops.len())
            .filter(|&i| run.ops[i].worker_io().is_some() && state.waiting[i] == 0)
            .collect();
        state.in_flight = ready.len();
        ready
    };
    if ready.is_empty() {
        run.finish();
        return;
    }
    for i in ready {
        run.queue(i);
    }
}

/// The fast path of [`start`]: one worker op, all inputs present.
fn start_single(
    plan: DagPlan,
    mut tensors: Vec<Option<Arc<Tensor>>>,
    enqueued_at: Instant,
    submit: Submit,
    on_done: OnDagDone,
) {
    let op = &plan.ops[0];
    let (Some((op_inputs, op_outputs)), Some((run, queue))) = (op.worker_io(), run_op(op)) else {
        return;
    };
    let inputs = op_inputs
        .iter()
        .filter_map(|&s| tensors[s].clone())
        .collect();
    let outputs = op_outputs.to_vec();
    let request = RunRequest {
        op: run,
        inputs,
        enqueued_at,
        queued_at: Instant::now(),
        timeout: plan.timeout,
        cancel: None,
        on_done: OnDone::new(move |outcome| {
            let (result, timed_out) = match outcome {
                RunOutcome::Done(produced) => {
                    for (slot, tensor) in outputs.into_iter().zip(produced) {
                        if tensor.is_some() {
                            tensors[slot] = tensor;
                        }
                    }
                    (OpResult::Done, false)
                }
                RunOutcome::Failed(e) => (OpResult::Failed(e), false),
                RunOutcome::Answered(reply) => (OpResult::Reply(reply), false),
                RunOutcome::TimedOut => (OpResult::NotRun, true),
                RunOutcome::Cancelled => (OpResult::NotRun, false),
            };
            on_done.call(DagOutcome {
                timed_out,
                results: vec![result],
                tensors,
            });
        }),
    };
    submit(&queue, request);
}

impl DagRun {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues model or script op `i` (counted in `in_flight` by the caller). An op that cannot
    /// be queued (not a worker op, an input missing: defects) finishes at once as failed, so the
    /// DAG still completes.
    fn queue(self: &Arc<Self>, i: usize) {
        let (Some((inputs, _)), Some((op, queue))) =
            (self.ops[i].worker_io(), run_op(&self.ops[i]))
        else {
            return self.op_finished(i, RunOutcome::Failed(Error::Internal));
        };
        let tensors: Option<Vec<Arc<Tensor>>> = {
            let state = self.lock();
            inputs.iter().map(|&s| state.tensors[s].clone()).collect()
        };
        let Some(tensors) = tensors else {
            return self.op_finished(i, RunOutcome::Failed(Error::Internal));
        };
        let run = Arc::clone(self);
        let request = RunRequest {
            op,
            inputs: tensors,
            enqueued_at: self.enqueued_at,
            queued_at: Instant::now(),
            timeout: self.timeout,
            cancel: Some(Arc::clone(&self.failed)),
            on_done: OnDone::new(move |outcome| run.op_finished(i, outcome)),
        };
        (self.submit)(&queue, request);
    }

    fn op_finished(self: &Arc<Self>, i: usize, outcome: RunOutcome) {
        let mut next = Vec::new();
        let done = {
            let mut state = self.lock();
            match outcome {
                RunOutcome::Done(produced) => {
                    state.results[i] = OpResult::Done;
                    if let Some((_, outputs)) = self.ops[i].worker_io() {
                        for (&slot, tensor) in outputs.iter().zip(produced) {
                            if tensor.is_some() {
                                state.tensors[slot] = tensor;
                                next.extend(self.unblocked_by(&mut state, slot));
                            }
                        }
                    }
                }
                RunOutcome::Failed(e) => {
                    state.results[i] = OpResult::Failed(e);
                    self.failed.store(true, Ordering::Release);
                }
                RunOutcome::Answered(reply) => state.results[i] = OpResult::Reply(reply),
                RunOutcome::TimedOut => {
                    state.timed_out = true;
                    self.failed.store(true, Ordering::Release);
                }
                RunOutcome::Cancelled => {}
            }
            if self.failed.load(Ordering::Acquire) {
                next.clear();
            }
            state.in_flight = state.in_flight - 1 + next.len();
            state.in_flight == 0
        };
        for op in next {
            self.queue(op);
        }
        if done {
            self.finish();
        }
    }

    /// Ops whose last missing input is `slot`.
    fn unblocked_by(&self, state: &mut State, slot: Slot) -> Vec<usize> {
        let mut ready = Vec::new();
        for &reader in &self.readers[slot] {
            state.waiting[reader] -= 1;
            if state.waiting[reader] == 0 {
                ready.push(reader);
            }
        }
        ready
    }

    fn finish(&self) {
        let (outcome, on_done) = {
            let mut state = self.lock();
            let mut results = std::mem::take(&mut state.results);
            let tensors = std::mem::take(&mut state.tensors);
            settle(&self.ops, &mut results, &tensors);
            let outcome = DagOutcome {
                timed_out: state.timed_out,
                results,
                tensors,
            };
            (outcome, state.on_done.take())
        };
        if let Some(on_done) = on_done {
            on_done.call(outcome);
        }
    }
}
