//! Run contexts of the C API (`RAI_ModelRunCtx`, `RAI_ScriptRunCtx`) and their runs: on the
//! calling thread (`RedisAI_ModelRun`, `RedisAI_ScriptRun`), or queued on the device's run queue
//! like any AI.MODELEXECUTE (`RedisAI_ModelRunAsync`, `RedisAI_ScriptRunAsync`), with the
//! caller's callback on the worker thread that ran it. Both go through the engine's executor
//! (`redisai_engine::run::execute`), so they batch, are limited and counted in AI.INFO as
//! command runs are.

use std::ffi::{c_int, c_void};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use redisai_core::{Error, Tensor};
use redisai_engine::model::Model;
use redisai_engine::run::{execute, OnDone, RunOp, RunOutcome, RunRequest, ScriptOp};
use redisai_engine::script::Script;

use super::error::{code, RaiError};
use super::finish::{self, OnFinishCb};
use crate::script_host::ModuleScriptHost;
use crate::state::engine;

/// What a run context runs.
pub enum Target {
    Model(Arc<Model>),
    Script {
        script: Arc<Script>,
        function: String,
    },
}

/// A run context: the target, its inputs (`None`: a NULL the caller added) and one slot per
/// output the caller asked for, filled by a successful run.
pub struct RunCtx {
    pub target: Target,
    pub inputs: Vec<Option<Arc<Tensor>>>,
    pub outputs: Vec<Option<Arc<Tensor>>>,
}

/// The error code of a failed run of this kind of context.
fn run_code(target: &Target) -> c_int {
    match target {
        Target::Model(_) => code::EMODELRUN,
        Target::Script { .. } => code::ESCRIPTRUN,
    }
}

impl RunCtx {
    pub fn new(target: Target) -> RunCtx {
        RunCtx {
            target,
            inputs: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// The queue the target runs on.
    fn queue(&self) -> String {
        match &self.target {
            Target::Model(m) => m.device().queue_name(),
            Target::Script { script, .. } => script.device().queue_name(),
        }
    }

    /// What a request running this context runs, and on which inputs (refused with a NULL
    /// input).
    fn parts(&self) -> Result<(RunOp, Vec<Arc<Tensor>>), Error> {
        let inputs = self
            .inputs
            .iter()
            .cloned()
            .collect::<Option<Vec<_>>>()
            .ok_or(Error::NullInput)?;
        let op = match &self.target {
            Target::Model(model) => RunOp::Model(Arc::clone(model)),
            Target::Script { script, function } => RunOp::Script(ScriptOp {
                script: Arc::clone(script),
                function: function.clone(),
                keys: Vec::new(),
                args: Vec::new(),
                n_outputs: self.outputs.len(),
                host: Arc::new(ModuleScriptHost::detached()),
            }),
        };
        Ok((op, inputs))
    }

    /// Takes the outcome of a run: its outputs into the slots (as many as there are of both),
    /// or its error.
    pub fn finish(&mut self, outcome: RunOutcome) -> Option<(c_int, Error)> {
        self.outputs.iter_mut().for_each(|o| *o = None);
        match outcome {
            RunOutcome::Done(outputs) => {
                for (slot, out) in self.outputs.iter_mut().zip(outputs) {
                    *slot = out;
                }
                None
            }
            RunOutcome::Failed(e) => Some((run_code(&self.target), e)),
            // No TIMEOUT and no cancelling in the C API; answered as internal errors if ever.
            RunOutcome::TimedOut | RunOutcome::Cancelled | RunOutcome::Answered(_) => {
                Some((run_code(&self.target), Error::Internal))
            }
        }
    }
}

/// Runs contexts on the calling thread: contexts of one model together, as one batch (inputs
/// joined on dim 0, outputs split back), others one by one. The first error is reported in
/// `err`; 0 when every run succeeded.
pub fn run_now(ctxs: &mut [&mut RunCtx], err: &mut Option<&mut RaiError>) -> c_int {
    let mut failed = false;
    let mut report = |code: c_int, e: &Error| {
        failed = true;
        if let Some(err) = err.as_deref_mut() {
            err.set(code, e);
        }
    };
    let same_model = match ctxs.first().map(|c| &c.target) {
        Some(Target::Model(first)) => ctxs
            .iter()
            .all(|c| matches!(&c.target, Target::Model(m) if Arc::ptr_eq(m, first))),
        _ => false,
    };
    let groups: Vec<Vec<usize>> = if same_model {
        vec![(0..ctxs.len()).collect()]
    } else {
        (0..ctxs.len()).map(|i| vec![i]).collect()
    };
    for group in groups {
        let results: Vec<Arc<Mutex<Option<RunOutcome>>>> =
            group.iter().map(|_| Arc::new(Mutex::new(None))).collect();
        let mut batch = Vec::new();
        for (&i, slot) in group.iter().zip(&results) {
            match ctxs[i].parts() {
                Ok((op, inputs)) => {
                    let slot = Arc::clone(slot);
                    let on_done = OnDone::new(move |o| {
                        *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(o);
                    });
                    batch.push(request(op, inputs, on_done));
                }
                Err(e) => {
                    *slot.lock().unwrap_or_else(PoisonError::into_inner) =
                        Some(RunOutcome::Failed(e));
                }
            }
        }
        execute(batch);
        for (&i, slot) in group.iter().zip(&results) {
            let outcome = slot
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .unwrap_or(RunOutcome::Failed(Error::Internal));
            if let Some((code, e)) = ctxs[i].finish(outcome) {
                report(code, &e);
            }
        }
    }
    c_int::from(failed)
}

/// The caller's private data, handed back to its callback on a worker thread.
pub struct PrivateData(pub *mut c_void);

// SAFETY: the pointer is only handed back to the caller's callback; what it points to is the
// caller's, who asked for it to reach the callback on a worker thread.
unsafe impl Send for PrivateData {}

/// A request of `op` on `inputs`, received now, without TIMEOUT.
fn request(op: RunOp, inputs: Vec<Arc<Tensor>>, on_done: OnDone) -> RunRequest {
    RunRequest {
        op,
        inputs,
        enqueued_at: Instant::now(),
        queued_at: Instant::now(),
        timeout: None,
        cancel: None,
        on_done,
    }
}

/// Runs `f` on a thread of its own: callbacks of the C API always run off the caller's
/// thread, also when a run fails before it reaches a queue (a caller may wait for its callback
/// right after the call).
pub fn later(f: impl FnOnce() + Send + 'static) {
    let f = Arc::new(Mutex::new(Some(f)));
    let in_thread = Arc::clone(&f);
    let spawned = std::thread::Builder::new()
        .name("redisai-llapi".into())
        .spawn(move || {
            let f = in_thread
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(f) = f {
                f();
            }
        });
    if spawned.is_err() {
        // No thread to be had: on this one, rather than never.
        let f = f.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(f) = f {
            f();
        }
    }
}

/// Queues `ctx` on its device's run queue; when it has run, the caller's callback gets a finish
/// context holding it (`RedisAI_GetAsModelRunCtx` / `RedisAI_GetAsScriptRunCtx` take it back).
pub fn run_async(mut ctx: Box<RunCtx>, callback: OnFinishCb, private_data: *mut c_void) {
    let private_data = PrivateData(private_data);
    let parts = ctx.parts();
    let queue_name = ctx.queue();
    let done = move |outcome: RunOutcome| {
        let error = ctx.finish(outcome);
        finish::deliver_single(ctx, error, callback, private_data);
    };
    let (op, inputs) = match parts {
        Ok(parts) => parts,
        Err(e) => return later(move || done(RunOutcome::Failed(e))),
    };
    let on_done = OnDone::new(done);
    match engine().queues.get_or_create(&queue_name) {
        Ok(queue) => queue.push(request(op, inputs, on_done)),
        Err(_) => later(move || on_done.call(RunOutcome::Failed(Error::QueueInit))),
    }
}
