//! A TFLite model: its optimised tract plan and how a run goes.
//!
//! Concurrency: a tract plan is immutable; every run spawns its own state (the values of that
//! run), so worker threads run one model at once without locks.
//!
//! Shapes: TFLite's interpreter resizes its inputs to whatever shape a run brings, and the
//! model's operators then take it or not. tract plans for the shapes it was given, so:
//! - when the graph still builds with the inputs' first dimension left symbolic, the model is
//!   *batchable*: any first dimension runs;
//! - an input may come in another shape with the same elements, which is then read in the
//!   model's shape (per batch item, the first dimension being the batch size, when batchable):
//!   RedisAI's clients feed `mnist_model_quant`'s `[1, 28, 28]` input a `[1, 1, 28, 28]`
//!   tensor, which TFLite's leading RESHAPE absorbed.
//!
//! Any other shape is refused with `Failed to resize input tensors`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use redisai_backend_api::plugin::PluginModel;
use redisai_backend_api::sandbox::ALLOCATION_REFUSED_PREFIX;
use redisai_backend_api::{OutputTensor, TensorRef};
use tract_tflite::internal::*;

use crate::flat::Flat;
use crate::tensors::{dtype_of, tensor_from_bytes, to_output};
use crate::{translate, ALLOCATE_FAILED, CONSTRUCT_FAILED, GPU_FAILED, INPUT_COUNT};
use crate::{INVOKE_FAILED, LOAD_FAILED, OUTPUT_COUNT, RESIZE_FAILED, TYPE_MISMATCH};

/// The byte size of the largest value `plan` computes when its batch symbol `N` (if any) is
/// `batch`: tract sizes every value from the shapes alone, so this is known before anything is
/// allocated. `u64::MAX` when a size overflows or is not known.
fn largest_value(plan: &TypedRunnableModel, batch: i64) -> u64 {
    let model = plan.model();
    let mut values = SymbolValues::default();
    if let Some(n) = model.symbols.get("N") {
        values = values.with(&n, batch);
    }
    let size = |fact: &TypedFact| -> Option<u64> {
        fact.shape
            .iter()
            .try_fold(fact.datum_type.size_of() as u64, |bytes, dim| {
                let d = u64::try_from(dim.eval(&values).to_i64().ok()?).ok()?;
                bytes.checked_mul(d)
            })
    };
    model
        .nodes()
        .iter()
        .flat_map(|node| node.outputs.iter())
        .map(|output| size(&output.fact).unwrap_or(u64::MAX))
        .max()
        .unwrap_or(0)
}

/// The longest detail appended to an error text.
const MAX_DETAIL: usize = 400;

/// An input as the model declares it.
struct InputSpec {
    dt: DatumType,
    /// The declared shape; with batching, its first dimension is the run's.
    dims: TVec<usize>,
}

impl InputSpec {
    /// The shape a run's input is read in, or `None` when the model cannot take it.
    fn feed_shape(&self, shape: &[i64], batch: bool) -> Option<TVec<usize>> {
        let shape: TVec<usize> = shape
            .iter()
            .map(|&d| usize::try_from(d).ok())
            .collect::<Option<_>>()?;
        let count: usize = shape.iter().product();
        if batch {
            // A batch of items: the first dimension is the batch size.
            let item: usize = self.dims[1..].iter().product();
            if let Some(&first) = shape.first() {
                if first.checked_mul(item) == Some(count) {
                    let mut dims = self.dims.clone();
                    dims[0] = first;
                    return Some(dims);
                }
            }
        }
        (count == self.dims.iter().product::<usize>()).then(|| self.dims.clone())
    }
}

/// A model of the TFLite backend.
pub struct TfliteModel {
    inputs: Vec<String>,
    outputs: Vec<String>,
    specs: Vec<InputSpec>,
    batch: bool,
    plan: Arc<TypedRunnableModel>,
}

/// One line of at most [`MAX_DETAIL`] characters.
fn detail(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(MAX_DETAIL) {
        Some((end, _)) => format!("{}...", &line[..end]),
        None => line,
    }
}

/// Runs `f`, turning an error or a panic (tract asserts in places) into a message.
fn guarded<T>(f: impl FnOnce() -> TractResult<T>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(detail(&format!("{e:#}"))),
        Err(payload) => {
            // A tensor buffer over the allocation limit: its own error.
            if let Some(refusal) = crate::alloc::take_refusal() {
                return Err(refusal);
            }
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(detail(&format!("panic: {message}")))
        }
    }
}

/// `what: detail`, except for the allocation limit's error, which stands alone.
fn failed(what: &str, detail: String) -> String {
    if detail.starts_with(ALLOCATION_REFUSED_PREFIX) {
        detail
    } else {
        format!("{what}: {detail}")
    }
}

/// Builds and optimises the plan of `flat` (see [`translate::build`]).
fn compile(flat: &Flat, batch: bool, gpu: bool) -> Result<Arc<TypedRunnableModel>, String> {
    let graph =
        guarded(|| translate::build(flat, batch)).map_err(|e| failed(CONSTRUCT_FAILED, e))?;
    if gpu {
        // tract runs on the CPU only: there is no GPU delegate to set.
        return Err(GPU_FAILED.into());
    }
    guarded(|| graph.into_optimized()?.into_runnable()).map_err(|e| failed(ALLOCATE_FAILED, e))
}

impl TfliteModel {
    /// Builds a model from its flatbuffer; `gpu` models are refused once the graph is built
    /// (RedisAI's order: load, interpreter, GPU delegate, allocation).
    pub(crate) fn new(blob: &[u8], gpu: bool) -> Result<Self, String> {
        let flat = Flat::parse(blob).map_err(|_| LOAD_FAILED.to_string())?;
        let specs = guarded(|| {
            flat.inputs()
                .map(|i| {
                    Ok(InputSpec {
                        dt: flat.datum_type(i)?,
                        dims: flat.shape(i)?,
                    })
                })
                .collect::<TractResult<Vec<_>>>()
        })
        .map_err(|e| format!("{CONSTRUCT_FAILED}: {e}"))?;
        // Batchable when the graph builds with a symbolic first dimension; else fixed shapes.
        let batchable = !specs.is_empty() && specs.iter().all(|s| !s.dims.is_empty());
        let (plan, batch) = match batchable.then(|| compile(&flat, true, gpu)) {
            Some(Ok(plan)) => (plan, true),
            _ => (compile(&flat, false, gpu)?, false),
        };
        // A model whose values are too large even for one item is refused now.
        crate::alloc::LIMIT.check(largest_value(&plan, 1))?;
        Ok(TfliteModel {
            inputs: flat.inputs().map(|i| flat.name(i)).collect(),
            outputs: flat.outputs().map(|i| flat.name(i)).collect(),
            specs,
            batch,
            plan,
        })
    }

    fn input(&self, t: &TensorRef<'_>, spec: &InputSpec) -> Result<TValue, String> {
        if dtype_of(spec.dt) != Some(t.dtype) {
            return Err(TYPE_MISMATCH.into());
        }
        let shape = spec.feed_shape(t.shape, self.batch).ok_or(RESIZE_FAILED)?;
        let tensor = tensor_from_bytes(spec.dt, &shape, t.data)
            .map_err(|_| "ERR input tensor data does not match its shape".to_string())?;
        Ok(tensor.into_tvalue())
    }
}

impl PluginModel for TfliteModel {
    fn inputs(&self) -> &[String] {
        &self.inputs
    }

    fn outputs(&self) -> &[String] {
        &self.outputs
    }

    fn input_spec(&self, index: usize) -> Option<redisai_backend_api::InputSpec> {
        let spec = self.specs.get(index)?;
        Some(redisai_backend_api::InputSpec {
            dtype: crate::tensors::dtype_of(spec.dt)?,
            dims: spec.dims.iter().map(|&d| d as i64).collect(),
        })
    }

    fn run(&self, inputs: &[TensorRef<'_>]) -> Result<Vec<Option<OutputTensor>>, String> {
        if inputs.len() != self.specs.len() {
            return Err(INPUT_COUNT.into());
        }
        // Bound by position: input i feeds the model's input i.
        let values = inputs
            .iter()
            .zip(&self.specs)
            .map(|(t, spec)| self.input(t, spec))
            .collect::<Result<TVec<_>, String>>()?;
        if self.batch {
            let n = values
                .first()
                .and_then(|v| v.shape().first())
                .copied()
                .unwrap_or(1);
            crate::alloc::LIMIT.check(largest_value(&self.plan, n as i64))?;
        }
        let produced = guarded(|| self.plan.run(values)).map_err(|e| failed(INVOKE_FAILED, e))?;
        if produced.len() != self.outputs.len() {
            return Err(OUTPUT_COUNT.into());
        }
        produced
            .into_iter()
            .map(|value| to_output(value).map(Some))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dims: &[usize]) -> InputSpec {
        InputSpec {
            dt: DatumType::F32,
            dims: dims.into(),
        }
    }

    #[test]
    fn fixed_shapes_take_the_same_elements() {
        let s = spec(&[1, 28, 28]);
        assert_eq!(
            s.feed_shape(&[1, 28, 28], false).unwrap().as_slice(),
            [1, 28, 28]
        );
        assert_eq!(
            s.feed_shape(&[1, 1, 28, 28], false).unwrap().as_slice(),
            [1, 28, 28]
        );
        assert_eq!(s.feed_shape(&[784], false).unwrap().as_slice(), [1, 28, 28]);
        assert!(s.feed_shape(&[2, 28, 28], false).is_none());
        assert!(s.feed_shape(&[1, 27, 28], false).is_none());
    }

    #[test]
    fn batches_keep_their_first_dimension() {
        let s = spec(&[1, 28, 28]);
        assert_eq!(
            s.feed_shape(&[3, 28, 28], true).unwrap().as_slice(),
            [3, 28, 28]
        );
        assert_eq!(
            s.feed_shape(&[2, 1, 28, 28], true).unwrap().as_slice(),
            [2, 28, 28]
        );
        // The declared elements without a batch dimension: one item.
        assert_eq!(s.feed_shape(&[784], true).unwrap().as_slice(), [1, 28, 28]);
        assert_eq!(
            s.feed_shape(&[28, 28], true).unwrap().as_slice(),
            [1, 28, 28]
        );
        assert!(s.feed_shape(&[3, 392], true).is_none());
        assert!(s.feed_shape(&[], true).is_none());
        assert!(spec(&[4]).feed_shape(&[], true).is_none());
        assert_eq!(spec(&[4]).feed_shape(&[7], true).unwrap().as_slice(), [7]);
        assert_eq!(spec(&[1]).feed_shape(&[], true).unwrap().as_slice(), [1]);
    }

    #[test]
    fn details_are_one_short_line() {
        assert_eq!(detail("a\n\tb  c"), "a b c");
        let long = "x".repeat(1000);
        assert_eq!(detail(&long).len(), MAX_DETAIL + 3);
    }
}
