//! One model run request (MODELEXECUTE is a one-op DAG) and how a worker executes a batch of them.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redisai_backend_api::{Reply, ScriptCall, ScriptHost, TensorRef};
use redisai_core::batch::{concat, split};
use redisai_core::{Backend, DType, Error, Tensor};

use crate::batching::{BatchItem, BatchParams};
use crate::histogram::Histogram;
use crate::model::Model;
use crate::script::Script;
use crate::stats::RunStats;
use crate::text::TextOp;

/// How a run ended. Delivered to the request's completion callback exactly once.
#[derive(Debug)]
pub enum RunOutcome {
    /// One entry per model output (`None`: the model produced no tensor there).
    Done(Vec<Option<Arc<Tensor>>>),
    /// The backend (or the batching) failed; the text is the client's reply.
    Failed(Error),
    /// TIMEOUT passed before a worker picked the request up; nothing ran.
    TimedOut,
    /// The request's `cancel` flag was set before a worker picked it up (another op of its DAG
    /// failed); nothing ran.
    Cancelled,
    /// An op that answers with a server reply instead of tensors (AI.VSIM, AI.VADD, AI.HSET).
    Answered(Reply),
}

/// The completion of a request (unblocks the client in the module), an obligation held by the
/// type: called exactly once with the outcome, or, if the request is dropped unanswered (a
/// defect), called by `Drop` with `ERR internal error`, so no client is left blocked.
pub struct OnDone(Option<Box<dyn FnOnce(RunOutcome) + Send>>);

impl OnDone {
    pub fn new(f: impl FnOnce(RunOutcome) + Send + 'static) -> OnDone {
        OnDone(Some(Box::new(f)))
    }

    /// Delivers the outcome.
    pub fn call(mut self, outcome: RunOutcome) {
        if let Some(f) = self.0.take() {
            f(outcome);
        }
    }
}

impl Drop for OnDone {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f(RunOutcome::Failed(Error::Internal));
        }
    }
}

/// A script function call: everything but the input tensors.
pub struct ScriptOp {
    pub script: Arc<Script>,
    pub function: String,
    pub keys: Vec<Vec<u8>>,
    pub args: Vec<Vec<u8>>,
    /// How many tensors the call must return (OUTPUTS count).
    pub n_outputs: usize,
    /// Serves the script's `redis.execute` / `redisAI.model_execute` calls.
    pub host: Arc<dyn ScriptHost + Send + Sync>,
}

/// What a request runs.
pub enum RunOp {
    Model(Arc<Model>),
    Script(ScriptOp),
    /// A text or vector op (`crate::text`).
    Text(TextOp),
}

impl std::fmt::Debug for RunOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunOp::Model(m) => m.fmt(f),
            RunOp::Script(s) => f
                .debug_struct("ScriptOp")
                .field("function", &s.function)
                .finish_non_exhaustive(),
            RunOp::Text(op) => op.fmt(f),
        }
    }
}

/// A queued model run or script call. Inputs are shared references to the tensors (no copies).
pub struct RunRequest {
    pub op: RunOp,
    pub inputs: Vec<Arc<Tensor>>,
    /// When the command arrived (its TIMEOUT counts from here).
    pub enqueued_at: Instant,
    /// When this request was queued (a DAG queues each op when its inputs exist): its queue
    /// wait counts from here.
    pub queued_at: Instant,
    pub timeout: Option<Duration>,
    /// Set when the request must not run any more (checked when a worker picks it up).
    pub cancel: Option<Arc<AtomicBool>>,
    pub on_done: OnDone,
}

impl std::fmt::Debug for RunRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunRequest")
            .field("op", &self.op)
            .field("inputs", &self.inputs.len())
            .finish_non_exhaustive()
    }
}

impl BatchItem for RunRequest {
    fn batch_model(&self) -> Option<(usize, BatchParams)> {
        match &self.op {
            RunOp::Model(model) => Some((Arc::as_ptr(model) as usize, model.batch_params()?)),
            RunOp::Text(TextOp::Embed { embedder, .. }) => {
                Some((Arc::as_ptr(embedder) as usize, embedder.batch_params()))
            }
            _ => None,
        }
    }

    fn input_signature(&self) -> Vec<(DType, &[i64])> {
        self.inputs.iter().map(|t| (t.dtype(), t.shape())).collect()
    }

    fn enqueued_at(&self) -> Instant {
        self.enqueued_at
    }
}

impl RunRequest {
    fn timed_out(&self, now: Instant) -> bool {
        self.timeout
            .is_some_and(|t| now.saturating_duration_since(self.enqueued_at) > t)
    }

    fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Acquire))
    }

    /// Whether the request must no longer run (TIMEOUT passed, or cancelled).
    pub fn expired(&self, now: Instant) -> bool {
        self.timed_out(now) || self.cancelled()
    }

    /// Microseconds from queueing to `now`.
    pub fn waited(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.queued_at).as_micros() as u64
    }

    /// The statistics entry of what it runs.
    pub fn stats(&self) -> &Arc<RunStats> {
        match &self.op {
            RunOp::Model(model) => model.stats(),
            RunOp::Script(op) => op.script.stats(),
            RunOp::Text(op) => op.stats(),
        }
    }

    /// When its TIMEOUT passes, if it has one.
    pub fn deadline(&self) -> Option<Instant> {
        self.timeout.map(|t| self.enqueued_at + t)
    }
}

/// Dim 0 of a tensor (0 for a 0-d tensor).
fn dim0(t: &Tensor) -> i64 {
    t.shape().first().copied().unwrap_or(0)
}

/// Runs the model on borrowed inputs, turning a backend panic into an error.
pub(crate) fn run_model(model: &Model, inputs: &[&Tensor]) -> Result<Vec<Option<Tensor>>, Error> {
    let views: Vec<TensorRef<'_>> = inputs.iter().map(|&t| TensorRef::from(t)).collect();
    match catch_unwind(AssertUnwindSafe(|| model.runner().run(&views))) {
        Ok(Ok(outputs)) => Ok(outputs),
        Ok(Err(msg)) => Err(Error::Backend(msg)),
        Err(_) => Err(Error::Backend(
            "ERR internal error while running the model".into(),
        )),
    }
}

/// Executes what the batching policy handed to a worker: one request, or several requests for
/// the same model with compatible inputs, concatenated on dim 0, run once and split back.
pub fn execute(batch: Vec<RunRequest>) {
    execute_recorded(batch, None)
}

/// [`execute`], recording the queue wait of each request run in `queue_wait` too (the device
/// queue's histogram), with the same clock read.
pub fn execute_recorded(batch: Vec<RunRequest>, queue_wait: Option<&Histogram>) {
    let now = Instant::now();
    let (cancelled, batch): (Vec<_>, Vec<_>) = batch
        .into_iter()
        .partition(|r| r.cancel.as_ref().is_some_and(|c| c.load(Ordering::Acquire)));
    for r in cancelled {
        r.on_done.call(RunOutcome::Cancelled);
    }
    let (expired, live): (Vec<_>, Vec<_>) = batch.into_iter().partition(|r| r.timed_out(now));
    for r in expired {
        r.stats().record_timeout();
        r.on_done.call(RunOutcome::TimedOut);
    }
    for r in &live {
        let waited = r.waited(now);
        r.stats().latency().queue.record(waited);
        if let Some(h) = queue_wait {
            h.record(waited);
        }
    }
    let Some(first) = live.first() else {
        return;
    };
    let model = match &first.op {
        RunOp::Model(model) => Arc::clone(model),
        RunOp::Script(_) => {
            // Scripts never batch: the policy hands them over one at a time.
            live.into_iter().for_each(execute_script);
            return;
        }
        RunOp::Text(_) => return crate::text::ops::execute(live),
    };
    // The run's time counts from the clock read above (what came since is bookkeeping).
    let started = now;
    let result = if live.len() == 1 {
        let inputs: Vec<&Tensor> = first.inputs.iter().map(|t| &**t).collect();
        run_model(&model, &inputs).map(|outs| vec![outs])
    } else {
        run_batched(&model, &live)
    };
    let micros = started.elapsed().as_micros() as u64;
    let stats = model.stats();
    let latency = stats.latency();
    latency.batch.record(
        live.iter()
            .map(|r| r.inputs.first().map_or(0, |t| dim0(t)))
            .sum::<i64>() as u64,
    );
    for _ in &live {
        latency.compute.record(micros);
    }
    // No request may get an output larger than a tensor may be (each its own part of a batch).
    let result = result.and_then(|per_request| {
        crate::limits::check_outputs(per_request.iter().flatten().flatten())?;
        Ok(per_request)
    });
    match result {
        Ok(per_request) => {
            for (r, outs) in live.into_iter().zip(per_request) {
                let samples = outs.first().and_then(|o| o.as_ref()).map(dim0).unwrap_or(0);
                stats.record_success(micros, samples);
                let outs = outs.into_iter().map(|o| o.map(Arc::new)).collect();
                r.on_done.call(RunOutcome::Done(outs));
            }
        }
        Err(e) => {
            for r in live {
                stats.record_error();
                r.on_done.call(RunOutcome::Failed(e.clone()));
            }
        }
    }
}

/// Runs a script call and reports it.
fn execute_script(request: RunRequest) {
    let RunOp::Script(op) = &request.op else {
        return;
    };
    let inputs: Vec<TensorRef<'_>> = request
        .inputs
        .iter()
        .map(|t| TensorRef::from(&**t))
        .collect();
    let call = ScriptCall {
        function: &op.function,
        entry_point: op.script.record().is_entry_point(op.function.as_bytes()),
        inputs,
        keys: op.keys.iter().map(Vec::as_slice).collect(),
        args: op.args.iter().map(Vec::as_slice).collect(),
    };
    let started = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| {
        op.script.run(&call, &*op.host, op.n_outputs)
    }))
    .unwrap_or_else(|_| Err("ERR internal error while running the script".into()))
    .and_then(|outs| {
        crate::limits::check_outputs(outs.iter().flatten())
            .map(|()| outs)
            .map_err(|e| e.to_string())
    });
    let micros = started.elapsed().as_micros() as u64;
    let stats = Arc::clone(op.script.stats());
    stats.latency().compute.record(micros);
    drop(call);
    let outcome = match result {
        Ok(outs) => {
            stats.record_success(micros, 0);
            RunOutcome::Done(outs.into_iter().map(|o| o.map(Arc::new)).collect())
        }
        Err(msg) => {
            stats.record_error();
            RunOutcome::Failed(Error::Backend(msg))
        }
    };
    request.on_done.call(outcome);
}

/// Runs several requests as one batch; returns each request's outputs.
fn run_batched(model: &Model, batch: &[RunRequest]) -> Result<Vec<Vec<Option<Tensor>>>, Error> {
    let n_inputs = batch[0].inputs.len();
    let mut joined = Vec::with_capacity(n_inputs);
    for i in 0..n_inputs {
        let parts: Vec<&Tensor> = batch.iter().map(|r| &*r.inputs[i]).collect();
        joined.push(concat(&parts)?);
    }
    let sizes: Vec<i64> = batch.iter().map(|r| dim0(&r.inputs[0])).collect();
    let inputs: Vec<&Tensor> = joined.iter().collect();
    let outputs = run_model(model, &inputs)?;
    let tf = model.record().backend == Backend::Tf;
    let mut per_request: Vec<Vec<Option<Tensor>>> = (0..batch.len()).map(|_| Vec::new()).collect();
    for out in outputs {
        match out {
            // RedisAI's TF backend skips 0-d outputs of a batch: nothing is written for them.
            Some(t) if tf && t.shape().is_empty() => {
                per_request.iter_mut().for_each(|r| r.push(None))
            }
            None => per_request.iter_mut().for_each(|r| r.push(None)),
            Some(t) => {
                let pieces = split(&t, &sizes).map_err(|e| match e {
                    Error::BatchSizeMismatch if tf => Error::TfBatchSizeMismatch,
                    e => e,
                })?;
                for (r, piece) in per_request.iter_mut().zip(pieces) {
                    r.push(Some(piece));
                }
            }
        }
    }
    Ok(per_request)
}
