//! Building a model's tract graph from its flatbuffer, in operator order.
//!
//! The model's inputs become sources. Operators this backend builds itself ([`ops::is_native`])
//! are wired one by one; every run of consecutive other operators becomes a segment (see
//! [`Flat::segment`]) that `tract-tflite` translates into a graph of its own, which is then
//! spliced in: its sources replaced by the wires of the tensors they stand for, and every other
//! node wired again, so its output facts are computed from the actual inputs. That re-wiring is
//! also what makes batching possible: when the inputs' first dimension is a symbol, it flows
//! through every operator that allows it, and building fails where one does not.

use std::collections::{HashMap, HashSet};

use tract_tflite::internal::tract_core::ops::cast::cast;
use tract_tflite::internal::*;
use tract_tflite::tflite::BuiltinOperator as Op;

use crate::flat::Flat;
use crate::ops::{self, Ctx};

/// The operators `tract-tflite` 0.23.9 translates (its registry, minus those built here).
const DELEGATED: &[Op] = &[
    Op::ABS,
    Op::ADD,
    Op::AVERAGE_POOL_2D,
    Op::BATCH_MATMUL,
    Op::BROADCAST_TO,
    Op::CEIL,
    Op::CONCATENATION,
    Op::CONV_2D,
    Op::COS,
    Op::DEPTHWISE_CONV_2D,
    Op::DIV,
    Op::EQUAL,
    Op::EXP,
    Op::EXPAND_DIMS,
    Op::FLOOR,
    Op::GREATER,
    Op::GREATER_EQUAL,
    Op::HARD_SWISH,
    Op::LEAKY_RELU,
    Op::LESS,
    Op::LESS_EQUAL,
    Op::LOG,
    Op::LOGICAL_AND,
    Op::LOGICAL_NOT,
    Op::LOGICAL_OR,
    Op::LOGISTIC,
    Op::MAXIMUM,
    Op::MAX_POOL_2D,
    Op::MEAN,
    Op::MINIMUM,
    Op::MUL,
    Op::NOT_EQUAL,
    Op::PAD,
    Op::PADV2,
    Op::REDUCE_MAX,
    Op::REDUCE_MIN,
    Op::REDUCE_PROD,
    Op::RELU,
    Op::RELU6,
    Op::RESHAPE,
    Op::RESIZE_BILINEAR,
    Op::RESIZE_NEAREST_NEIGHBOR,
    Op::RSQRT,
    Op::SELECT,
    Op::SELECT_V2,
    Op::SHAPE,
    Op::SIN,
    Op::SLICE,
    Op::SQRT,
    Op::SQUARE,
    Op::SQUEEZE,
    Op::STRIDED_SLICE,
    Op::SUB,
    Op::SUM,
    Op::TANH,
    Op::TRANSPOSE,
];

/// How an operator gets into the graph.
enum Step {
    Native(usize),
    Delegated(Vec<usize>),
}

/// The steps of a model, or the reason it cannot be built (an operator nobody translates).
fn plan(flat: &Flat) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for index in 0..flat.operators.len() {
        if ops::is_native(flat, index) {
            steps.push(Step::Native(index));
        } else if flat
            .opcode(index)
            .is_some_and(|code| DELEGATED.contains(&code))
        {
            match steps.last_mut() {
                Some(Step::Delegated(run)) => run.push(index),
                _ => steps.push(Step::Delegated(vec![index])),
            }
        } else {
            return Err(format!("unsupported operator: {}", flat.opcode_name(index)));
        }
    }
    Ok(steps)
}

/// Builds the graph of `flat`. With `batch`, the first dimension of every input is the symbol
/// `N` instead of its declared size.
pub(crate) fn build(flat: &Flat, batch: bool) -> TractResult<TypedModel> {
    let steps = plan(flat).map_err(TractError::msg)?;
    let mut target = TypedModel::default();
    let batch_dim = target.symbols.sym("N").to_dim();
    let mut env = HashMap::new();
    for input in flat.inputs() {
        let mut fact = flat.fact(input)?;
        if batch {
            ensure!(fact.rank() > 0, "a scalar input has no batch dimension");
            fact.shape.set(0, batch_dim.clone());
        }
        let name = target.unique_name(flat.name(input)).into_owned();
        let source = target.add_source(name, fact)?;
        env.insert(input, source);
    }
    // Which operators read each tensor: a segment exports what later operators need.
    let mut readers: HashMap<i32, Vec<usize>> = HashMap::new();
    for index in 0..flat.operators.len() {
        for input in flat.op_inputs(index) {
            readers.entry(input).or_default().push(index);
        }
    }
    let graph_outputs: HashSet<i32> = flat.outputs().collect();
    let mut ctx = Ctx {
        flat,
        target: &mut target,
        env: &mut env,
    };
    for step in steps {
        match step {
            Step::Native(index) => ops::wire(&mut ctx, index)
                .with_context(|| format!("building {}", flat.opcode_name(index)))?,
            Step::Delegated(run) => delegate(&mut ctx, &run, &readers, &graph_outputs)?,
        }
    }
    let outputs = flat
        .outputs()
        .map(|o| ctx.wire(o))
        .collect::<TractResult<Vec<_>>>()?;
    ctx.target.select_output_outlets(&outputs)?;
    Ok(target)
}

/// Translates the operators `run` with `tract-tflite` and splices them into the graph.
fn delegate(
    ctx: &mut Ctx,
    run: &[usize],
    readers: &HashMap<i32, Vec<usize>>,
    graph_outputs: &HashSet<i32>,
) -> TractResult<()> {
    let flat = ctx.flat;
    let members: HashSet<usize> = run.iter().copied().collect();
    let produced: HashSet<i32> = run.iter().flat_map(|&i| flat.op_outputs(i)).collect();
    let mut inputs = Vec::new();
    for &index in run {
        for input in flat.op_inputs(index) {
            let fed = input < 0 || produced.contains(&input) || flat.is_constant(input);
            if !fed && !inputs.contains(&input) {
                inputs.push(input);
            }
        }
    }
    let mut outputs = Vec::new();
    for &index in run {
        for output in flat.op_outputs(index) {
            let read_later = readers
                .get(&output)
                .is_some_and(|r| r.iter().any(|i| !members.contains(i)));
            if (read_later || graph_outputs.contains(&output)) && !outputs.contains(&output) {
                outputs.push(output);
            }
        }
    }
    if outputs.is_empty() {
        return Ok(());
    }
    let blob = flat.segment(run, &inputs, &outputs);
    let segment = tract_tflite::tflite()
        .model_for_read(&mut &blob[..])
        .map_err(|e| format_err!("{}", e.root_cause()))
        .with_context(|| format!("translating {}", flat.opcode_name(run[0])))?;
    ensure!(
        segment.inputs.len() == inputs.len() && segment.outputs.len() == outputs.len(),
        "segment with unexpected inputs or outputs"
    );
    let wires = inputs
        .iter()
        .map(|&i| ctx.wire(i))
        .collect::<TractResult<TVec<_>>>()?;
    let spliced = splice(ctx.target, &segment, &wires)?;
    for (output, mut wire) in outputs.into_iter().zip(spliced) {
        // What leaves a segment has the type the model declares (e.g. `tract-tflite` keeps an
        // operator's input quantization where TFLite requantizes, or computes SHAPE as TDim).
        let declared = flat.datum_type(output)?;
        let actual = ctx.target.outlet_fact(wire)?.datum_type;
        if actual != declared && convertible(actual, declared) {
            let name = ctx
                .target
                .unique_name(format!("{}.cast", flat.name(output)));
            wire = ctx.target.wire_node(name, cast(declared), &[wire])?[0];
        }
        ctx.env.insert(output, wire);
    }
    Ok(())
}

/// Whether tract's `Cast` converts `from` values to `to` ones: between numbers, and between
/// floats and quantized integers or two quantizations (not a quantized integer to a plain one).
fn convertible(from: DatumType, to: DatumType) -> bool {
    let number = |dt: DatumType| dt.is_number() || dt == DatumType::TDim;
    match (from.is_quantized(), to.is_quantized()) {
        (true, true) => true,
        (true, false) => to.is_float(),
        (false, true) => from.is_float(),
        (false, false) => number(from) && number(to),
    }
}

/// Wires the nodes of `segment` into `target`, its sources replaced by `inputs`; returns the
/// wires of its outputs.
fn splice(
    target: &mut TypedModel,
    segment: &TypedModel,
    inputs: &[OutletId],
) -> TractResult<TVec<OutletId>> {
    let mut mapping: HashMap<OutletId, OutletId> = segment
        .inputs
        .iter()
        .copied()
        .zip(inputs.iter().copied())
        .collect();
    for id in segment.eval_order()? {
        let node = segment.node(id);
        if segment.inputs.iter().any(|o| o.node == id) {
            continue;
        }
        let wires = node
            .inputs
            .iter()
            .map(|i| mapping.get(i).copied().context("unmapped segment input"))
            .collect::<TractResult<TVec<_>>>()?;
        let name = target.unique_name(&node.name).into_owned();
        let outputs = target
            .wire_node(name, node.op.clone(), &wires)
            .with_context(|| format!("wiring {}", node.name))?;
        for (slot, wire) in outputs.into_iter().enumerate() {
            mapping.insert(OutletId::new(id, slot), wire);
        }
    }
    segment
        .outputs
        .iter()
        .map(|o| mapping.get(o).copied().context("unmapped segment output"))
        .collect()
}
