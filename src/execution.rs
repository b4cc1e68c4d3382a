//! The one execution path of the module: every command that runs a model or a script (the DAG
//! commands, AI.MODELEXECUTE, AI.SCRIPTEXECUTE and their deprecated forms) hands a plan here.
//!
//! parse (the command's handler) → plan → queue (`dag::exec::start`, on the devices' run
//! queues) → run (workers) → persist and reply (here, on the main thread, in Redis's reply
//! callback). A plan without model or script ops is answered at once, without blocking.

use std::sync::Arc;
use std::time::Instant;

use redis_module::Context;
use redisai_core::{Error, Tensor};
use redisai_engine::dag::exec::{
    complete_now, needs_workers, start, DagOutcome, OnDagDone, OpResult, Submit,
};
use redisai_engine::dag::{DagOp, DagPlan, PlanReply, Slot};
use redisai_engine::run::{RunOutcome, RunRequest};
use redisai_engine::stats::RunStats;
use redisai_engine::tensor_cmd::GetFormat;
use redisai_engine::text::TextOp;

use crate::blocking;
use crate::keyspace;
use crate::reply;
use crate::state::engine;

/// What the reply needs of each op once the plan has run.
enum ReplyOp {
    Set,
    Get(Slot, GetFormat),
    Run,
}

/// The parts of a plan the reply needs (the plan itself goes to the executor).
struct ReplyPlan {
    style: PlanReply,
    ops: Vec<ReplyOp>,
    persist: Vec<(Vec<u8>, Slot)>,
    /// The models and scripts the plan runs, each once: their end-to-end time is recorded when
    /// the reply has been sent. The first apart: most plans run one, and need no allocation.
    /// (Only the main thread changes these reference counts: the statistics' counters, which
    /// workers write, are on other cache lines.)
    first_run: Option<Arc<RunStats>>,
    more_runs: Vec<Arc<RunStats>>,
}

impl ReplyPlan {
    fn runs(&self) -> impl Iterator<Item = &Arc<RunStats>> {
        self.first_run.iter().chain(&self.more_runs)
    }
}

impl ReplyPlan {
    /// The reply's part of `plan` (the PERSIST list moves here: the executor does not use it).
    fn of(plan: &mut DagPlan) -> ReplyPlan {
        let mut first_run: Option<Arc<RunStats>> = None;
        let mut more_runs: Vec<Arc<RunStats>> = Vec::new();
        for op in &plan.ops {
            let stats = match op {
                DagOp::ModelExecute { model, .. } => model.stats(),
                DagOp::ScriptExecute { script, .. } => script.stats(),
                DagOp::Text {
                    op: TextOp::Embed { embedder, .. },
                    ..
                } => embedder.stats(),
                _ => continue,
            };
            let seen = |s: &Arc<RunStats>| Arc::ptr_eq(s, stats);
            match &first_run {
                None => first_run = Some(Arc::clone(stats)),
                Some(first) if seen(first) || more_runs.iter().any(seen) => {}
                Some(_) => more_runs.push(Arc::clone(stats)),
            }
        }
        ReplyPlan {
            first_run,
            more_runs,
            style: plan.reply,
            ops: plan
                .ops
                .iter()
                .map(|op| match op {
                    DagOp::TensorSet { .. } => ReplyOp::Set,
                    DagOp::TensorGet { input, format } => ReplyOp::Get(*input, *format),
                    DagOp::ModelExecute { .. }
                    | DagOp::ScriptExecute { .. }
                    | DagOp::Text { .. } => ReplyOp::Run,
                })
                .collect(),
            persist: std::mem::take(&mut plan.persist),
        }
    }
}

/// Runs `plan` (received at `received`): answers at once when no op needs a worker, else
/// blocks the client and queues the plan's ops; the reply comes from [`complete`].
pub fn run_plan(ctx: &Context, mut plan: DagPlan, received: Instant) -> Result<(), Error> {
    let shape = ReplyPlan::of(&mut plan);
    if !needs_workers(&plan) {
        complete(ctx, &shape, complete_now(&plan));
        return Ok(());
    }
    let (blocked, measure) = blocking::block(ctx);
    let ops = plan.ops.len();
    start(
        plan,
        received,
        submit(),
        OnDagDone::new(ops, move |outcome| {
            blocked.finish(Box::new(move |ctx| {
                complete(ctx, &shape, outcome);
                let micros = received.elapsed().as_micros() as u64;
                for stats in shape.runs() {
                    stats.latency().total.record(micros);
                }
            }));
        }),
    );
    // The command's own part is done: its blocked time starts now (SLOWLOG counts each once).
    measure.start();
    Ok(())
}

/// How plans' ops reach the device queues (created on first use); a queue whose workers cannot
/// start fails the op with `ERR Could not initialize queue on requested device`.
pub fn submit() -> Submit {
    Arc::new(
        |queue: &str, request: RunRequest| match engine().queues.get_or_create(queue) {
            Ok(q) => q.push(request),
            Err(_) => request.on_done.call(RunOutcome::Failed(Error::QueueInit)),
        },
    )
}

/// On the main thread: persists (when every op succeeded) and replies, as the plan says.
fn complete(ctx: &Context, shape: &ReplyPlan, outcome: DagOutcome) {
    if outcome.timed_out {
        reply::simple(ctx, "TIMEDOUT");
        return;
    }
    let persist_error = if outcome.failed() {
        None
    } else {
        let entries: Vec<(&[u8], Option<Arc<Tensor>>)> = shape
            .persist
            .iter()
            .map(|(k, slot)| (k.as_slice(), outcome.tensors.get(*slot).cloned().flatten()))
            .collect();
        keyspace::write_tensors(ctx, &entries).err()
    };
    match shape.style {
        PlanReply::Single => match (persist_error, outcome.results.first()) {
            (Some(e), _) => reply::error(ctx, &e),
            (None, Some(OpResult::Failed(e))) => reply::error(ctx, e),
            (None, Some(OpResult::Done)) => reply::ok(ctx),
            (None, Some(OpResult::Reply(r))) => reply::server_reply(ctx, r),
            // Single ops are never cancelled; answer like a timeout if one ever is.
            (None, _) => reply::simple(ctx, "TIMEDOUT"),
        },
        PlanReply::PerOp => {
            let elements: Vec<_> = shape.ops.iter().zip(&outcome.results).collect();
            reply::array(ctx, elements.len() + usize::from(persist_error.is_some()));
            for (op, result) in elements {
                match (op, result) {
                    (ReplyOp::Set, _) => reply::ok(ctx),
                    (ReplyOp::Get(slot, format), OpResult::Done) => {
                        match outcome.tensors.get(*slot).and_then(Option::as_ref) {
                            Some(tensor) => reply::tensor(ctx, tensor, *format),
                            None => reply::simple(ctx, "NA"),
                        }
                    }
                    (ReplyOp::Run, OpResult::Done) => reply::ok(ctx),
                    (ReplyOp::Run, OpResult::Reply(r)) => reply::server_reply(ctx, r),
                    (_, OpResult::Failed(e)) => reply::error(ctx, e),
                    (_, _) => reply::simple(ctx, "NA"),
                }
            }
            if let Some(e) = persist_error {
                reply::error(ctx, &e);
            }
        }
    }
}
