//! The auto-batching policy of a run queue (SPEC §5.6), as a pure function of the queue and the
//! current time, so it can be tested with a fake clock.
//!
//! Differences from RedisAI, on purpose: a batch never exceeds BATCHSIZE (RedisAI could overshoot
//! by the last request's size); requests whose inputs differ from the head's in dtype, rank or
//! dims after the first are not batched with it (RedisAI ignored the dtype), they run on their
//! own later; a full batch (exactly BATCHSIZE) is ready even if MINBATCHSIZE is larger, since it
//! can never grow; and a group that is not ready yet does not hold up the requests behind it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use redisai_core::DType;

/// The auto-batching options of a model (BATCHSIZE > 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchParams {
    /// Largest batch (sum of the requests' dim 0).
    pub batchsize: u64,
    /// Smallest batch worth running (0 = run whatever is there).
    pub minbatchsize: u64,
    /// How long to wait for MINBATCHSIZE, from the first request's enqueue time (0 = forever).
    pub minbatchtimeout_ms: u64,
}

/// What the policy needs to know about a queued request.
pub trait BatchItem {
    /// Some((model identity, params)) when this item is a run of a model with BATCHSIZE > 0.
    fn batch_model(&self) -> Option<(usize, BatchParams)>;
    /// Input tensors' (dtype, shape) signature; dim 0 is the batch size.
    fn input_signature(&self) -> Vec<(DType, &[i64])>;
    /// When the request was queued.
    fn enqueued_at(&self) -> Instant;
}

/// The policy's decision.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<T> {
    /// Run these requests now, as one batch (one request, or several of the same model with
    /// compatible inputs), in their queue order. They have been removed from the queue.
    Run(Vec<T>),
    /// Nothing is runnable: sleep until this deadline (a MINBATCHTIMEOUT expiring), or until
    /// something is pushed (`None`).
    Wait(Option<Instant>),
    /// The queue is empty.
    Empty,
}

/// Dim 0 of the first input; 0 when there is none, when it is 0-d, or when the inputs disagree
/// on dim 0 (such a request is never batched).
fn batch_size(signature: &[(DType, &[i64])]) -> u64 {
    let Some(&(_, first)) = signature.first() else {
        return 0;
    };
    let Some(&b0) = first.first() else {
        return 0;
    };
    if signature
        .iter()
        .any(|(_, shape)| shape.first() != Some(&b0))
    {
        return 0;
    }
    u64::try_from(b0).unwrap_or(0)
}

/// Same number of inputs, and input by input the same dtype, rank and dims after the first.
fn compatible(a: &[(DType, &[i64])], b: &[(DType, &[i64])]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|((da, sa), (db, sb))| {
            da == db && sa.len() == sb.len() && sa.get(1..) == sb.get(1..)
        })
}

/// Decides what a worker runs next from `queue` at time `now` (see the module documentation).
///
/// The queue is walked in FIFO order. A request that is not a run of a batching model, or whose
/// batch size is 0 or at least BATCHSIZE, runs alone. Otherwise the compatible requests after it
/// (same model, compatible inputs, not already grouped with an earlier head) are added while the
/// total stays within BATCHSIZE. The group is ready when MINBATCHSIZE is 0 or reached, when it is
/// full, or when MINBATCHTIMEOUT (if set) has passed since its first request was queued; if not,
/// the walk goes on with the next ungrouped request, and the earliest timeout of the groups left
/// waiting is reported.
pub fn take_next<T: BatchItem>(queue: &mut VecDeque<T>, now: Instant) -> Next<T> {
    if queue.is_empty() {
        return Next::Empty;
    }
    let mut grouped = vec![false; queue.len()];
    let mut deadline: Option<Instant> = None;
    for head in 0..queue.len() {
        if grouped[head] {
            continue;
        }
        let Some((model, params)) = queue[head].batch_model() else {
            return run(queue, &[head]);
        };
        let signature = queue[head].input_signature();
        let b0 = batch_size(&signature);
        if b0 == 0 || b0 >= params.batchsize {
            return run(queue, &[head]);
        }
        let mut group = vec![head];
        let mut total = b0;
        for j in head + 1..queue.len() {
            if total == params.batchsize {
                break;
            }
            if grouped[j] || queue[j].batch_model().map(|(m, _)| m) != Some(model) {
                continue;
            }
            let other = queue[j].input_signature();
            let size = batch_size(&other);
            let grown = total.checked_add(size).filter(|&t| t <= params.batchsize);
            if let Some(grown) = grown.filter(|_| size > 0 && compatible(&signature, &other)) {
                group.push(j);
                total = grown;
            }
        }
        let timeout = Duration::from_millis(params.minbatchtimeout_ms);
        let first_queued = queue[head].enqueued_at();
        let timed_out =
            params.minbatchtimeout_ms > 0 && now.saturating_duration_since(first_queued) > timeout;
        let ready = params.minbatchsize == 0
            || total >= params.minbatchsize
            || total == params.batchsize
            || timed_out;
        if ready {
            return run(queue, &group);
        }
        if params.minbatchtimeout_ms > 0 {
            let expires = first_queued + timeout;
            deadline = Some(deadline.map_or(expires, |d| d.min(expires)));
        }
        for i in group {
            grouped[i] = true;
        }
    }
    Next::Wait(deadline)
}

/// Removes the items at `indices` (ascending) from the queue and returns them in that order.
fn run<T>(queue: &mut VecDeque<T>, indices: &[usize]) -> Next<T> {
    let mut items: Vec<T> = indices
        .iter()
        .rev()
        .filter_map(|&i| queue.remove(i))
        .collect();
    items.reverse();
    Next::Run(items)
}

#[cfg(test)]
mod tests;
