//! The module's one door to the keyspace: typed keys for tensors, models and scripts
//! ([`Key`]), the data types themselves (`values`), and the few operations every command is
//! made of. Nothing else in the module opens a key of one of these types.

mod key;
mod values;

use std::sync::Arc;

use redis_module::{Context, RedisString};
use redisai_core::{Error, Tensor};
use redisai_engine::model::Model;
use redisai_engine::script::Script;
use redisai_engine::tensor_cmd::tensorset_command;
use redisai_engine::text::{Embedder, Tokenizer};

pub use key::Key;
pub use values::{
    start_queue, Stored, EMBEDDER_TYPE, MODEL_TYPE, SCRIPT_TYPE, TENSOR_TYPE, TOKENIZER_TYPE,
};

/// The value of type `T` stored at `key` (a shared reference): the type's "key is empty" error
/// for a missing key, WRONGTYPE for another type.
pub fn get<T: Stored>(ctx: &Context, key: &[u8]) -> Result<Arc<T>, Error> {
    let name = crate::bytes::create(ctx.ctx, key);
    Key::<T>::read(ctx, name.inner).require()
}

/// The tensor stored at `key` (a shared reference, no copy).
pub fn tensor(ctx: &Context, key: &[u8]) -> Result<Arc<Tensor>, Error> {
    get::<Tensor>(ctx, key)
}

/// The model stored at `key`.
pub fn model(ctx: &Context, key: &[u8]) -> Result<Arc<Model>, Error> {
    get::<Model>(ctx, key)
}

/// The script stored at `key`.
pub fn script(ctx: &Context, key: &[u8]) -> Result<Arc<Script>, Error> {
    get::<Script>(ctx, key)
}

/// The tokenizer stored at `key`.
pub fn tokenizer(ctx: &Context, key: &[u8]) -> Result<Arc<Tokenizer>, Error> {
    get::<Tokenizer>(ctx, key)
}

/// The embedder stored at `key`.
pub fn embedder(ctx: &Context, key: &[u8]) -> Result<Arc<Embedder>, Error> {
    get::<Embedder>(ctx, key)
}

/// Stores `value` at `key`: WRONGTYPE (and the key unchanged) when it holds another type; then
/// the value's `stored` hook runs (models and scripts register their statistics).
pub fn store<T: Stored>(ctx: &Context, key: &[u8], value: T) -> Result<(), Error> {
    let name = crate::bytes::create(ctx.ctx, key);
    let mut opened = Key::<T>::write(ctx, name.inner);
    opened.check()?;
    let value = Arc::new(value);
    opened.set(Arc::clone(&value))?;
    value.stored();
    Ok(())
}

/// Deletes the value of type `T` at `key`: the type's "key is empty" error when there is none,
/// WRONGTYPE when the key holds something else.
pub fn delete<T: Stored>(ctx: &Context, key: &[u8]) -> Result<(), Error> {
    let name = crate::bytes::create(ctx.ctx, key);
    Key::<T>::write(ctx, name.inner).delete()
}

/// Stores each tensor under its key (skipping `None`), each write replicated as
/// `AI.TENSORSET <key> <DTYPE> <dims...> BLOB <data>`. Every key's type is checked first, so a
/// WRONGTYPE key leaves all keys unchanged.
pub fn write_tensors(ctx: &Context, entries: &[(&[u8], Option<Arc<Tensor>>)]) -> Result<(), Error> {
    let names: Vec<RedisString> = entries
        .iter()
        .map(|(k, _)| crate::bytes::create(ctx.ctx, k))
        .collect();
    // One key (a run's usual case) is checked when opened for the write below.
    let single = names.len() == 1;
    if !single {
        for name in &names {
            Key::<Tensor>::read(ctx, name.inner).check()?;
        }
    }
    for (name, (key, tensor)) in names.iter().zip(entries) {
        let Some(tensor) = tensor else {
            if single {
                Key::<Tensor>::read(ctx, name.inner).check()?;
            }
            continue;
        };
        let mut opened = Key::<Tensor>::write(ctx, name.inner);
        opened.check()?;
        crate::emit::replicate(ctx.ctx, &tensorset_command(key, tensor));
        opened.set(Arc::clone(tensor))?;
    }
    Ok(())
}
