use super::*;

#[derive(Debug, Clone, PartialEq)]
struct Req {
    id: u32,
    model: Option<(usize, BatchParams)>,
    inputs: Vec<(DType, Vec<i64>)>,
    at: Instant,
}

impl BatchItem for Req {
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

fn params(batchsize: u64, minbatchsize: u64, minbatchtimeout_ms: u64) -> BatchParams {
    BatchParams {
        batchsize,
        minbatchsize,
        minbatchtimeout_ms,
    }
}

/// A request of model `model` with one FLOAT input of shape [dim0, 2].
fn req(id: u32, model: usize, p: BatchParams, dim0: i64, at: Instant) -> Req {
    Req {
        id,
        model: Some((model, p)),
        inputs: vec![(DType::Float, vec![dim0, 2])],
        at,
    }
}

fn ids(next: &Next<Req>) -> Vec<u32> {
    match next {
        Next::Run(items) => items.iter().map(|r| r.id).collect(),
        other => panic!("expected Run, got {other:?}"),
    }
}

fn left(queue: &VecDeque<Req>) -> Vec<u32> {
    queue.iter().map(|r| r.id).collect()
}

#[test]
fn empty_queue() {
    let mut q: VecDeque<Req> = VecDeque::new();
    assert_eq!(take_next(&mut q, Instant::now()), Next::Empty);
}

#[test]
fn unbatched_requests_run_alone_in_fifo_order() {
    let t = Instant::now();
    let mut q: VecDeque<Req> = (1..=3)
        .map(|id| Req {
            id,
            model: None,
            inputs: vec![(DType::Float, vec![1, 2])],
            at: t,
        })
        .collect();
    for id in 1..=3 {
        assert_eq!(ids(&take_next(&mut q, t)), vec![id]);
    }
    assert_eq!(take_next(&mut q, t), Next::Empty);
}

#[test]
fn zero_or_large_batch_sizes_run_alone() {
    let t = Instant::now();
    let p = params(4, 0, 0);
    let mut scalar = req(1, 7, p, 1, t);
    scalar.inputs = vec![(DType::Float, vec![])];
    let mut disagree = req(2, 7, p, 1, t);
    disagree.inputs.push((DType::Float, vec![2, 2]));
    let mut none = req(3, 7, p, 1, t);
    none.inputs.clear();
    let zero = req(4, 7, p, 0, t);
    let big = req(5, 7, p, 4, t);
    let bigger = req(6, 7, p, 9, t);
    let small = req(7, 7, p, 1, t);
    let mut q: VecDeque<Req> = [scalar, disagree, none, zero, big, bigger, small.clone()].into();
    for id in 1..=6 {
        assert_eq!(ids(&take_next(&mut q, t)), vec![id], "request {id}");
    }
    assert_eq!(ids(&take_next(&mut q, t)), vec![7]);
}

#[test]
fn batch_fills_up_to_exactly_batchsize() {
    let t = Instant::now();
    let p = params(4, 0, 0);
    let mut q: VecDeque<Req> = (1..=6).map(|id| req(id, 1, p, 1, t)).collect();
    assert_eq!(ids(&take_next(&mut q, t)), vec![1, 2, 3, 4]);
    assert_eq!(ids(&take_next(&mut q, t)), vec![5, 6]);
    assert_eq!(take_next(&mut q, t), Next::Empty);
}

#[test]
fn batch_never_exceeds_batchsize_but_takes_smaller_requests() {
    let t = Instant::now();
    let p = params(4, 0, 0);
    let sizes = [(1, 3), (2, 2), (3, 2), (4, 1), (5, 1)];
    let mut q: VecDeque<Req> = sizes.iter().map(|&(id, d)| req(id, 1, p, d, t)).collect();
    assert_eq!(ids(&take_next(&mut q, t)), vec![1, 4]);
    assert_eq!(left(&q), vec![2, 3, 5]);
    assert_eq!(ids(&take_next(&mut q, t)), vec![2, 3]);
    assert_eq!(ids(&take_next(&mut q, t)), vec![5]);
}

#[test]
fn incompatible_inputs_are_left_for_later() {
    let t = Instant::now();
    let p = params(8, 0, 0);
    let head = req(1, 1, p, 1, t);
    let mut other_inner = req(2, 1, p, 1, t);
    other_inner.inputs = vec![(DType::Float, vec![1, 3])];
    let mut other_dtype = req(3, 1, p, 1, t);
    other_dtype.inputs = vec![(DType::Double, vec![1, 2])];
    let mut other_rank = req(4, 1, p, 1, t);
    other_rank.inputs = vec![(DType::Float, vec![1, 2, 1])];
    let mut two_inputs = req(5, 1, p, 1, t);
    two_inputs.inputs.push((DType::Float, vec![1, 2]));
    let other_model = req(6, 2, p, 1, t); // a re-stored model is another object
    let mut inconsistent = req(7, 1, p, 1, t);
    inconsistent.inputs = vec![(DType::Float, vec![1, 2]), (DType::Float, vec![2, 2])];
    let plain = req(8, 1, p, 1, t);
    let mate = req(9, 1, p, 2, t);
    let mut q: VecDeque<Req> = [
        head,
        other_inner,
        other_dtype,
        other_rank,
        two_inputs,
        other_model,
        inconsistent,
        plain,
        mate,
    ]
    .into();
    assert_eq!(ids(&take_next(&mut q, t)), vec![1, 8, 9]);
    assert_eq!(left(&q), vec![2, 3, 4, 5, 6, 7]);
    // Each of the others runs, none is failed; the inconsistent one (dims disagree) alone.
    for id in [2, 3, 4, 5, 6, 7] {
        assert_eq!(ids(&take_next(&mut q, t)), vec![id]);
    }
}

#[test]
fn minbatchsize_waits_for_more_requests() {
    let t = Instant::now();
    let p = params(4, 3, 0);
    let mut q: VecDeque<Req> = [req(1, 1, p, 1, t), req(2, 1, p, 1, t)].into();
    assert_eq!(take_next(&mut q, t), Next::Wait(None));
    assert_eq!(left(&q), vec![1, 2]);
    let later = t + Duration::from_secs(3600);
    assert_eq!(
        take_next(&mut q, later),
        Next::Wait(None),
        "no timeout: forever"
    );
    q.push_back(req(3, 1, p, 1, later));
    assert_eq!(ids(&take_next(&mut q, later)), vec![1, 2, 3]);
    assert!(q.is_empty());
}

#[test]
fn minbatchtimeout_expires() {
    let t = Instant::now();
    let p = params(4, 3, 10);
    let mut q: VecDeque<Req> = [
        req(1, 1, p, 1, t),
        req(2, 1, p, 1, t + Duration::from_millis(5)),
    ]
    .into();
    let deadline = t + Duration::from_millis(10);
    for now in [t, t + Duration::from_millis(5), deadline] {
        assert_eq!(take_next(&mut q, now), Next::Wait(Some(deadline)));
    }
    assert_eq!(
        ids(&take_next(&mut q, deadline + Duration::from_micros(1))),
        vec![1, 2]
    );
}

#[test]
fn full_batch_is_ready_even_below_minbatchsize() {
    let t = Instant::now();
    let p = params(2, 3, 0); // MINBATCHSIZE > BATCHSIZE is accepted by MODELSTORE
    let mut q: VecDeque<Req> = (1..=3).map(|id| req(id, 1, p, 1, t)).collect();
    assert_eq!(ids(&take_next(&mut q, t)), vec![1, 2]);
    assert_eq!(take_next(&mut q, t), Next::Wait(None));
}

#[test]
fn waiting_group_does_not_starve_other_models() {
    let t = Instant::now();
    let waiting = params(8, 4, 0);
    let free = params(8, 0, 0);
    let mut q: VecDeque<Req> = [
        req(1, 1, waiting, 1, t),
        req(2, 2, free, 1, t),
        req(3, 1, waiting, 1, t),
        Req {
            id: 4,
            model: None,
            inputs: vec![],
            at: t,
        },
        req(5, 2, free, 3, t),
    ]
    .into();
    assert_eq!(ids(&take_next(&mut q, t)), vec![2, 5]);
    assert_eq!(ids(&take_next(&mut q, t)), vec![4]);
    assert_eq!(left(&q), vec![1, 3]);
    assert_eq!(take_next(&mut q, t), Next::Wait(None));
}

#[test]
fn earliest_deadline_is_reported() {
    let t = Instant::now();
    let slow = params(8, 4, 50);
    let fast = params(8, 4, 20);
    let forever = params(8, 4, 0);
    let mut q: VecDeque<Req> = [
        req(1, 1, slow, 1, t),
        req(2, 2, forever, 1, t),
        req(3, 3, fast, 1, t + Duration::from_millis(10)),
        req(4, 1, slow, 1, t + Duration::from_millis(40)),
    ]
    .into();
    let now = t + Duration::from_millis(15);
    assert_eq!(
        take_next(&mut q, now),
        Next::Wait(Some(t + Duration::from_millis(30)))
    );
    // Model 3 times out first and runs alone; then model 1 (timed from its first request).
    let now = t + Duration::from_millis(31);
    assert_eq!(ids(&take_next(&mut q, now)), vec![3]);
    assert_eq!(
        take_next(&mut q, now),
        Next::Wait(Some(t + Duration::from_millis(50)))
    );
    assert_eq!(
        ids(&take_next(&mut q, t + Duration::from_millis(51))),
        vec![1, 4]
    );
    assert_eq!(left(&q), vec![2]);
    assert_eq!(
        take_next(&mut q, t + Duration::from_secs(9)),
        Next::Wait(None)
    );
}

#[test]
fn grouped_requests_stay_with_the_older_head() {
    let t = Instant::now();
    let p = params(10, 8, 0);
    // Head 1 holds 3 and 4 (total 7 < 8); head 2 (6) must not take them.
    let sizes = [(1, 5), (2, 6), (3, 1), (4, 1)];
    let mut q: VecDeque<Req> = sizes.iter().map(|&(id, d)| req(id, 1, p, d, t)).collect();
    assert_eq!(take_next(&mut q, t), Next::Wait(None));
    assert_eq!(left(&q), vec![1, 2, 3, 4]);
    q.push_back(req(5, 1, p, 1, t));
    assert_eq!(ids(&take_next(&mut q, t)), vec![1, 3, 4, 5]);
    assert_eq!(left(&q), vec![2]);
}

#[test]
fn what_remains_keeps_its_order() {
    let t = Instant::now();
    let p = params(3, 0, 0);
    let other = params(3, 0, 0);
    let mut q: VecDeque<Req> = [
        req(1, 1, p, 1, t),
        req(2, 2, other, 1, t),
        req(3, 1, p, 1, t),
        req(4, 2, other, 2, t),
        req(5, 1, p, 1, t),
        req(6, 1, p, 1, t),
        req(7, 2, other, 1, t),
    ]
    .into();
    assert_eq!(ids(&take_next(&mut q, t)), vec![1, 3, 5]);
    assert_eq!(left(&q), vec![2, 4, 6, 7]);
    assert_eq!(ids(&take_next(&mut q, t)), vec![2, 4]);
    assert_eq!(left(&q), vec![6, 7]);
}
