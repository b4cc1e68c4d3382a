//! AI.DAGEXECUTE, AI.DAGEXECUTE_RO and the deprecated AI.DAGRUN, AI.DAGRUN_RO.

use std::sync::Arc;
use std::time::Instant;

use redis_module::{Context, RedisResult, RedisString};
use redisai_backend_api::ScriptHost;
use redisai_core::{Error, Result, Tensor};
use redisai_engine::dag::exec::{complete_now, needs_workers, start, DagOutcome, OpResult};
use redisai_engine::dag::parse::parse_dag;
use redisai_engine::dag::{DagCommand, DagKeys, DagOp, Slot};
use redisai_engine::keys;
use redisai_engine::model::Model;
use redisai_engine::script::Script;
use redisai_engine::tensor_cmd::GetFormat;

use super::blocking_command;
use super::execute::{model_at, tensor_at, write_tensors};
use super::script::script_at;
use super::tensor::max_bulk_len;
use crate::blocking;
use crate::reply;
use crate::script_host::ModuleScriptHost;
use crate::state::engine;

/// `AI.DAGEXECUTE [LOAD n k...] [PERSIST n k...] [ROUTING k] [TIMEOUT ms] |> op |> ...`
pub fn dagexecute(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    dag_command(ctx, &args, DagCommand::Execute)
}

/// `AI.DAGEXECUTE_RO`: no PERSIST, no scripts; runs on read-only replicas.
pub fn dagexecute_ro(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    dag_command(ctx, &args, DagCommand::ExecuteRo)
}

/// Deprecated `AI.DAGRUN`.
pub fn dagrun(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    dag_command(ctx, &args, DagCommand::Run)
}

/// Deprecated `AI.DAGRUN_RO`.
pub fn dagrun_ro(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    dag_command(ctx, &args, DagCommand::RunRo)
}

/// The keyspace seen by the DAG parser.
struct ModuleKeys<'c>(&'c Context);

impl DagKeys for ModuleKeys<'_> {
    fn tensor(&mut self, key: &[u8]) -> Result<Arc<Tensor>> {
        tensor_at(self.0, key)
    }

    fn model(&mut self, key: &[u8]) -> Result<Arc<Model>> {
        model_at(self.0, &RedisString::create_from_slice(self.0.ctx, key))
    }

    fn script(&mut self, key: &[u8]) -> Result<Arc<Script>> {
        script_at(self.0, key)
    }

    fn script_host(&mut self, keys: &[Vec<u8>]) -> Arc<dyn ScriptHost + Send + Sync> {
        Arc::new(ModuleScriptHost::new(self.0, keys))
    }

    fn max_tensor_bytes(&mut self) -> u64 {
        max_bulk_len(self.0)
    }
}

/// What the reply needs of each op once the DAG has run.
enum ReplyOp {
    Set,
    Get(Slot, GetFormat),
    Run,
}

/// The parts of a plan the reply needs (the plan itself goes to the executor).
struct ReplyPlan {
    ops: Vec<ReplyOp>,
    persist: Vec<(Vec<u8>, Slot)>,
}

fn dag_command(ctx: &Context, args: &[RedisString], command: DagCommand) -> RedisResult {
    blocking_command(ctx, args, command.name(), keys::dag, |argv| {
        let enqueued_at = Instant::now();
        let plan = parse_dag(command, argv, &mut ModuleKeys(ctx))?;
        let shape = ReplyPlan {
            ops: plan
                .ops
                .iter()
                .map(|op| match op {
                    DagOp::TensorSet { .. } => ReplyOp::Set,
                    DagOp::TensorGet { input, format } => ReplyOp::Get(*input, *format),
                    DagOp::ModelExecute { .. } | DagOp::ScriptExecute { .. } => ReplyOp::Run,
                })
                .collect(),
            persist: plan.persist.clone(),
        };
        if !needs_workers(&plan) {
            complete(ctx, &shape, complete_now(&plan));
            return Ok(());
        }
        let blocked = blocking::block(ctx);
        let submit = Arc::new(
            |queue: &str, request| match engine().queues.get_or_create(queue) {
                Ok(q) => q.push(request),
                Err(_) => {
                    (request.on_done)(redisai_engine::run::RunOutcome::Failed(Error::QueueInit))
                }
            },
        );
        start(
            plan,
            enqueued_at,
            submit,
            Box::new(move |outcome| {
                blocked.finish(Box::new(move |ctx| complete(ctx, &shape, outcome)));
            }),
        );
        Ok(())
    })
}

/// On the main thread: persists (when every op succeeded) and replies one element per op.
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
            .map(|(k, slot)| (k.as_slice(), outcome.tensors[*slot].clone()))
            .collect();
        write_tensors(ctx, &entries).err()
    };
    reply::array(ctx, shape.ops.len() + usize::from(persist_error.is_some()));
    for (op, result) in shape.ops.iter().zip(&outcome.results) {
        match (op, result) {
            (ReplyOp::Set, _) => reply::ok(ctx),
            (ReplyOp::Get(slot, format), OpResult::Done) => match &outcome.tensors[*slot] {
                Some(tensor) => reply::tensor(ctx, tensor, *format),
                None => reply::simple(ctx, "NA"),
            },
            (ReplyOp::Run, OpResult::Done) => reply::ok(ctx),
            (_, OpResult::Failed(e)) => reply::error(ctx, e),
            (_, _) => reply::simple(ctx, "NA"),
        }
    }
    if let Some(e) = persist_error {
        reply::error(ctx, &e);
    }
}
