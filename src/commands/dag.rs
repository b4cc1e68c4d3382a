//! AI.DAGEXECUTE, AI.DAGEXECUTE_RO and the deprecated AI.DAGRUN, AI.DAGRUN_RO.

use std::sync::Arc;
use std::time::Instant;

use redis_module::{Context, RedisResult, RedisString};
use redisai_backend_api::ScriptHost;
use redisai_core::{Result, Tensor};
use redisai_engine::dag::parse::parse_dag;
use redisai_engine::dag::{DagCommand, DagKeys};
use redisai_engine::keys;
use redisai_engine::model::Model;
use redisai_engine::script::Script;
use redisai_engine::text::{ResolvedEmbedder, Tokenizer};

use super::blocking_command;
use super::tensor::max_bulk_len;
use crate::execution::run_plan;
use crate::keyspace;
use crate::script_host::ModuleScriptHost;

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
        keyspace::tensor(self.0, key)
    }

    fn model(&mut self, key: &[u8]) -> Result<Arc<Model>> {
        keyspace::model(self.0, key)
    }

    fn script(&mut self, key: &[u8]) -> Result<Arc<Script>> {
        keyspace::script(self.0, key)
    }

    fn script_host(&mut self, keys: &[Vec<u8>]) -> Arc<dyn ScriptHost + Send + Sync> {
        Arc::new(ModuleScriptHost::new(self.0, keys))
    }

    fn max_tensor_bytes(&mut self) -> u64 {
        max_bulk_len(self.0)
    }

    fn tokenizer(&mut self, key: &[u8]) -> Result<Arc<Tokenizer>> {
        keyspace::tokenizer(self.0, key)
    }

    fn embedder(&mut self, key: &[u8]) -> Result<ResolvedEmbedder> {
        super::text::resolve_embedder(self.0, key)
    }
}

fn dag_command(ctx: &Context, args: &[RedisString], command: DagCommand) -> RedisResult {
    blocking_command(
        ctx,
        args,
        command.name(),
        |argv| keys::dag(command, argv),
        |argv| {
            let received = Instant::now();
            let plan = parse_dag(command, argv, &mut ModuleKeys(ctx))?;
            run_plan(ctx, plan, received)
        },
    )
}
