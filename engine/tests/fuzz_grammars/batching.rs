//! Fake run requests and the invariants of the batching policy.

#![allow(unused_imports)]
use super::*;

#[derive(Debug, Clone)]
pub(crate) struct FakeRequest {
    pub(crate) id: usize,
    pub(crate) model: Option<(usize, BatchParams)>,
    pub(crate) inputs: Vec<(DType, Vec<i64>)>,
    pub(crate) at: Instant,
}

impl BatchItem for FakeRequest {
    fn batch_model(&self) -> Option<(usize, BatchParams)> {
        self.model
    }
    fn input_signature(&self) -> Vec<(DType, &[i64])> {
        self.inputs
            .iter()
            .map(|(d, s)| (*d, s.as_slice()))
            .collect()
    }
    fn enqueued_at(&self) -> Instant {
        self.at
    }
}

/// A request as generated: model index (or none), inputs, enqueue time offset in ms.
pub(crate) type RequestSpec = (Option<usize>, Vec<(DType, Vec<i64>)>, u64);

pub(crate) fn batch_params() -> impl Strategy<Value = BatchParams> {
    (
        // The largest BATCHSIZE a command can set is i64::MAX; larger ones (RDB only) overflow the
        // policy (see `known_bug_take_next_overflows_past_u64_rows`).
        prop_oneof![8 => 2u64..12, 1 => Just(1u64), 1 => Just(i64::MAX as u64)],
        prop_oneof![2 => Just(0u64), 3 => 1u64..12, 1 => Just(u64::MAX)],
        prop_oneof![1 => Just(0u64), 2 => 1u64..60],
    )
        .prop_map(
            |(batchsize, minbatchsize, minbatchtimeout_ms)| BatchParams {
                batchsize,
                minbatchsize,
                minbatchtimeout_ms,
            },
        )
}

pub(crate) fn dim0() -> impl Strategy<Value = i64> {
    prop_oneof![8 => 1i64..4, 1 => Just(0i64), 1 => Just(-1i64), 1 => 4i64..12, 1 => Just(i64::MAX)]
}

pub(crate) fn input_signature() -> impl Strategy<Value = Vec<(DType, Vec<i64>)>> {
    let input = || {
        (
        prop_oneof![6 => Just(DType::Float), 1 => Just(DType::Int8)],
        dim0(),
        prop_oneof![6 => Just(vec![2i64]), 1 => Just(vec![]), 1 => Just(vec![3]), 1 => Just(vec![2, 2])],
        prop_oneof![9 => Just(false), 1 => Just(true)],
    )
        .prop_map(|(d, d0, inner, scalar)| {
            let shape = if scalar { Vec::new() } else { std::iter::once(d0).chain(inner).collect() };
            (d, shape)
        })
    };
    prop_oneof![
        // One input, or two with the same dim 0 (the common cases), or anything.
        4 => input().prop_map(|i| vec![i]),
        2 => (input(), input()).prop_map(|(a, mut b)| {
            if let (Some(&d0), Some(first)) = (a.1.first(), b.1.first_mut()) {
                *first = d0;
            }
            vec![a, b]
        }),
        1 => vec(input(), 0..3),
    ]
}

pub(crate) fn request_spec(models: usize) -> impl Strategy<Value = RequestSpec> {
    (
        prop_oneof![1 => Just(None), 5 => (0..models).prop_map(Some)],
        input_signature(),
        0u64..100,
    )
}

/// A step of the simulation: a worker asks for work `advance` ms later, or a request is pushed.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    Take(u64),
    Push(RequestSpec),
}

/// Dim 0 of a request when it can be batched (first input's dim 0, the same for every input,
/// > 0); 0 otherwise.
pub(crate) fn rows(r: &FakeRequest) -> u64 {
    let Some(first) = r.inputs.first().and_then(|(_, s)| s.first()) else {
        return 0;
    };
    if r.inputs.iter().any(|(_, s)| s.first() != Some(first)) {
        return 0;
    }
    u64::try_from(*first).unwrap_or(0)
}

/// Whether `r` may be part of a batch: a batching model and 0 < rows < BATCHSIZE.
pub(crate) fn batchable(r: &FakeRequest) -> bool {
    r.model
        .is_some_and(|(_, p)| (1..p.batchsize).contains(&rows(r)))
}

pub(crate) fn compatible(a: &FakeRequest, b: &FakeRequest) -> bool {
    a.inputs.len() == b.inputs.len()
        && a.inputs.iter().zip(&b.inputs).all(|((da, sa), (db, sb))| {
            da == db && sa.len() == sb.len() && sa.get(1..) == sb.get(1..)
        })
}

/// Checks one decision of the policy on `before` (the queue it was given) at `now`.
pub(crate) fn check_decision(
    before: &VecDeque<FakeRequest>,
    after: &VecDeque<FakeRequest>,
    next: &Next<FakeRequest>,
    now: Instant,
) -> std::result::Result<(), TestCaseError> {
    let ids = |q: &mut dyn Iterator<Item = &FakeRequest>| q.map(|r| r.id).collect::<Vec<_>>();
    let before_ids = ids(&mut before.iter());
    let after_ids = ids(&mut after.iter());
    match next {
        Next::Empty => {
            prop_assert!(before.is_empty());
            prop_assert!(after.is_empty());
        }
        Next::Wait(deadline) => {
            prop_assert!(!before.is_empty(), "Wait on an empty queue");
            prop_assert_eq!(&after_ids, &before_ids, "Wait changed the queue");
            // Nothing could run: every request waits for its group to fill.
            for r in before {
                prop_assert!(
                    batchable(r),
                    "request {} could run alone but the policy waits",
                    r.id
                );
                let (_, p) = r.model.unwrap();
                let timed_out = p.minbatchtimeout_ms > 0
                    && now.saturating_duration_since(r.at)
                        > Duration::from_millis(p.minbatchtimeout_ms);
                prop_assert!(
                    !timed_out
                        || before
                            .iter()
                            .any(|h| h.id < r.id && h.model.map(|m| m.0) == r.model.map(|m| m.0)),
                    "request {} timed out but waits",
                    r.id
                );
            }
            let any_timeout = before
                .iter()
                .any(|r| r.model.is_some_and(|(_, p)| p.minbatchtimeout_ms > 0));
            prop_assert_eq!(deadline.is_some(), any_timeout);
            if let Some(d) = deadline {
                prop_assert!(*d >= now, "deadline in the past");
            }
        }
        Next::Run(items) => {
            prop_assert!(!items.is_empty(), "Run of nothing");
            let run_ids = ids(&mut items.iter());
            // Conservation and order: the run is a subsequence of the queue, the rest is the
            // queue without it, in the same order.
            let mut rest = before_ids.clone();
            let mut last = None;
            for id in &run_ids {
                let at = before_ids.iter().position(|b| b == id);
                prop_assert!(at.is_some(), "request {} was not queued (or ran twice)", id);
                prop_assert!(last < at, "run out of queue order: {:?}", run_ids);
                last = at;
                rest.retain(|r| r != id);
            }
            prop_assert_eq!(&after_ids, &rest, "queue after the run");
            let head = &items[0];
            if items.len() > 1 {
                let (model, p) = head.model.expect("a batch is of a batching model");
                let mut total = 0u128;
                for r in items {
                    prop_assert_eq!(r.model.map(|m| m.0), Some(model), "batch mixes models");
                    prop_assert!(
                        batchable(r),
                        "request {} batched with rows {}",
                        r.id,
                        rows(r)
                    );
                    prop_assert!(compatible(head, r), "batch of incompatible inputs");
                    total += u128::from(rows(r));
                }
                prop_assert!(
                    total <= u128::from(p.batchsize),
                    "batch of {} rows > BATCHSIZE {}",
                    total,
                    p.batchsize
                );
            }
            if batchable(head) {
                // The group must be ready.
                let (_, p) = head.model.unwrap();
                let total: u64 = items.iter().map(rows).fold(0, u64::saturating_add);
                let timed_out = p.minbatchtimeout_ms > 0
                    && now.saturating_duration_since(head.at)
                        > Duration::from_millis(p.minbatchtimeout_ms);
                prop_assert!(
                    p.minbatchsize == 0
                        || total >= p.minbatchsize
                        || total == p.batchsize
                        || timed_out,
                    "a group of {} rows ran before MINBATCHSIZE {} or its timeout",
                    total,
                    p.minbatchsize
                );
            }
        }
    }
    Ok(())
}
