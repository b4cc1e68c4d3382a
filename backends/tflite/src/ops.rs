//! The operators this backend builds itself from tract's operators, because `tract-tflite`
//! 0.23.9 lacks them or refuses the form converters produce:
//!
//! - QUANTIZE, DEQUANTIZE: tract's `Cast` between float and quantized types (and between two
//!   quantizations);
//! - ARG_MAX, ARG_MIN: a reduction, the reduced axis removed, then the declared index type;
//! - FULLY_CONNECTED on an input of any rank (TFLite flattens it to `[batch, depth]`), without
//!   bias, with `keep_num_dims`, or with quantized weights on float inputs;
//! - DEPTHWISE_CONV_2D with a depth multiplier above 1 (a grouped convolution whose kernel is
//!   read as HWIO);
//! - SOFTMAX: `tract-tflite` gives a quantized output the input's quantization instead of the
//!   declared one, and tract's quantized softmax does not match TFLite's, so it is computed in
//!   float between a dequantization and a quantization.
//!
//! Quantized FULLY_CONNECTED and convolutions are wired as `tract-tflite` wires them: tract's
//! integer kernels with the input, weight and output zero points and scales as extra inputs.

use std::collections::HashMap;

use tract_tflite::internal::tract_core::ops::cast::{cast, wire_cast};
use tract_tflite::internal::tract_core::ops::change_axes::wire_with_rank_broadcast;
use tract_tflite::internal::tract_core::ops::cnn::{Conv, KernelFormat, PaddingSpec, PoolSpec};
use tract_tflite::internal::tract_core::ops::einsum::EinSum;
use tract_tflite::internal::tract_core::ops::math;
use tract_tflite::internal::tract_core::ops::nn::{DataFormat, Reduce, Reducer, Softmax};
use tract_tflite::internal::*;
use tract_tflite::tflite::{
    ActivationFunctionType, BuiltinOperator, FullyConnectedOptionsWeightsFormat, Padding,
};

use crate::flat::Flat;

/// What an operator is wired into: the graph being built and the wire of every tensor so far.
pub(crate) struct Ctx<'f, 'a> {
    pub flat: &'f Flat<'a>,
    pub target: &'f mut TypedModel,
    pub env: &'f mut HashMap<i32, OutletId>,
}

impl Ctx<'_, '_> {
    /// The wire of tensor `index`: computed before, or its constant (added on first use).
    pub fn wire(&mut self, index: i32) -> TractResult<OutletId> {
        if let Some(&wire) = self.env.get(&index) {
            return Ok(wire);
        }
        ensure!(index >= 0, "an omitted input is required");
        let value = self
            .flat
            .constant(index)
            .with_context(|| format!("tensor {} has no value", self.flat.name(index)))?;
        let name = self.target.unique_name(self.flat.name(index)).into_owned();
        let wire = self.target.add_const(name, value)?;
        self.env.insert(index, wire);
        Ok(wire)
    }

    fn name(&self, tensor: i32, suffix: &str) -> String {
        let base = format!("{}{suffix}", self.flat.name(tensor));
        self.target.unique_name(base).into_owned()
    }

    fn konst(&mut self, tensor: i32, suffix: &str, value: Tensor) -> TractResult<OutletId> {
        let name = self.name(tensor, suffix);
        self.target.add_const(name, value)
    }

    fn node(
        &mut self,
        tensor: i32,
        suffix: &str,
        op: impl Into<Box<dyn TypedOp>>,
        inputs: &[OutletId],
    ) -> TractResult<OutletId> {
        let name = self.name(tensor, suffix);
        Ok(self.target.wire_node(name, op, inputs)?[0])
    }

    fn fact(&self, wire: OutletId) -> TractResult<TypedFact> {
        Ok(self.target.outlet_fact(wire)?.clone())
    }
}

/// Whether operator `index` is built here rather than delegated to `tract-tflite`.
pub(crate) fn is_native(flat: &Flat, index: usize) -> bool {
    match flat.opcode(index) {
        Some(
            BuiltinOperator::QUANTIZE
            | BuiltinOperator::DEQUANTIZE
            | BuiltinOperator::ARG_MAX
            | BuiltinOperator::ARG_MIN
            | BuiltinOperator::FULLY_CONNECTED
            | BuiltinOperator::SOFTMAX,
        ) => true,
        Some(BuiltinOperator::DEPTHWISE_CONV_2D) => depth_multiplier(flat, index) != Some(1),
        _ => false,
    }
}

/// Wires operator `index` (one that [`is_native`]) and records its output's wire.
pub(crate) fn wire(ctx: &mut Ctx, index: usize) -> TractResult<()> {
    let outputs = ctx.flat.op_outputs(index);
    ensure!(outputs.len() == 1, "one output expected");
    let wire = match ctx.flat.opcode(index) {
        Some(BuiltinOperator::QUANTIZE) | Some(BuiltinOperator::DEQUANTIZE) => {
            convert(ctx, index, outputs[0])?
        }
        Some(BuiltinOperator::ARG_MAX) => arg_extreme(ctx, index, outputs[0], true)?,
        Some(BuiltinOperator::ARG_MIN) => arg_extreme(ctx, index, outputs[0], false)?,
        Some(BuiltinOperator::FULLY_CONNECTED) => fully_connected(ctx, index, outputs[0])?,
        Some(BuiltinOperator::DEPTHWISE_CONV_2D) => depthwise(ctx, index, outputs[0])?,
        Some(BuiltinOperator::SOFTMAX) => softmax(ctx, index, outputs[0])?,
        _ => bail!(
            "{} is not built by this backend",
            ctx.flat.opcode_name(index)
        ),
    };
    ctx.env.insert(outputs[0], wire);
    Ok(())
}

/// QUANTIZE / DEQUANTIZE: a cast to the output's declared (quantized or float) type.
fn convert(ctx: &mut Ctx, index: usize, output: i32) -> TractResult<OutletId> {
    let input = ctx.wire(ctx.flat.op_inputs(index)[0])?;
    let from = ctx.fact(input)?.datum_type;
    let to = ctx.flat.datum_type(output)?;
    // tract quantizes 8-bit integers only (not TFLite's 16-bit activations).
    let real = |dt: DatumType| dt.is_quantized() || dt.is_float();
    ensure!(
        real(from) && real(to),
        "unsupported conversion from {from:?} to {to:?}"
    );
    ctx.node(output, "", cast(to), &[input])
}

/// ARG_MAX / ARG_MIN over the axis given by the second input; the first extreme wins ties.
fn arg_extreme(ctx: &mut Ctx, index: usize, output: i32, max: bool) -> TractResult<OutletId> {
    let inputs = ctx.flat.op_inputs(index);
    ensure!(inputs.len() == 2, "input and axis expected");
    let mut x = ctx.wire(inputs[0])?;
    let fact = ctx.fact(x)?;
    if fact.datum_type.is_quantized() {
        // Scales are positive: the order of the real values is the order of the integers.
        x = ctx.node(output, ".dequantize", cast(f32::datum_type()), &[x])?;
    }
    let axis = ctx.flat.constant(inputs[1])?.cast_to_scalar::<i64>()?;
    let rank = fact.rank() as i64;
    ensure!((-rank..rank).contains(&axis), "axis {axis} out of range");
    let axis = axis.rem_euclid(rank) as usize;
    let reducer = if max {
        Reducer::ArgMax(false)
    } else {
        Reducer::ArgMin(false)
    };
    let reduced = ctx.node(output, ".reduce", Reduce::new(tvec!(axis), reducer), &[x])?;
    let removed = ctx.node(output, ".rm_axis", AxisOp::Rm(axis), &[reduced])?;
    let to = ctx.flat.datum_type(output)?;
    ctx.node(output, "", cast(to), &[removed])
}

/// SOFTMAX over the last axis, `beta` scaling its input, computed in float: a quantized input
/// is dequantized and the result quantized with the declared parameters (tract's own quantized
/// softmax does not give TFLite's results).
fn softmax(ctx: &mut Ctx, index: usize, output: i32) -> TractResult<OutletId> {
    let op = ctx.flat.operator(index);
    let beta = op
        .builtin_options_as_softmax_options()
        .map(|o| o.beta())
        .unwrap_or(1.0);
    let mut x = ctx.wire(ctx.flat.op_inputs(index)[0])?;
    let fact = ctx.fact(x)?;
    ensure!(fact.rank() > 0, "SOFTMAX of a scalar");
    let axes = tvec!(fact.rank() - 1);
    let output_dt = ctx.flat.datum_type(output)?;
    // In float: dequantized if need be, scaled by beta, quantized back if need be.
    if !fact.datum_type.is_float() {
        x = ctx.node(output, ".dequantize", cast(f32::datum_type()), &[x])?;
    }
    if beta != 1.0 {
        let dt = ctx.fact(x)?.datum_type;
        let beta = ctx.konst(output, ".beta", tensor0(beta).cast_to_dt(dt)?.into_owned())?;
        let prefix = ctx.name(output, ".scaled");
        x = wire_with_rank_broadcast(&prefix, ctx.target, math::mul(), &[x, beta])?[0];
    }
    let y = ctx.node(
        output,
        ".softmax",
        Softmax::new(axes, None, Default::default()),
        &[x],
    )?;
    if ctx.fact(y)?.datum_type == output_dt {
        return Ok(y);
    }
    ctx.node(output, "", cast(output_dt), &[y])
}

/// The fused activation of an operator, applied to `wire` in its own type (bounds are cast to
/// it, so quantized values are clamped at the quantized bounds).
fn activation(
    ctx: &mut Ctx,
    output: i32,
    wire: OutletId,
    kind: ActivationFunctionType,
) -> TractResult<OutletId> {
    let (low, high) = match kind {
        ActivationFunctionType::NONE => return Ok(wire),
        ActivationFunctionType::RELU => (0f32, None),
        ActivationFunctionType::RELU6 => (0f32, Some(6f32)),
        ActivationFunctionType::RELU_N1_TO_1 => (-1f32, Some(1f32)),
        other => bail!("unsupported fused activation {:?}", other.variant_name()),
    };
    let dt = ctx.fact(wire)?.datum_type;
    let clamp = |ctx: &mut Ctx, wire, bound: f32, op: Box<dyn TypedOp>, tag: &str| {
        let bound = ctx.konst(output, &format!(".{tag}"), tensor0(bound))?;
        let prefix = ctx.name(output, &format!(".{tag}"));
        let wires = wire_cast(&prefix, ctx.target, &[wire, bound], dt)?;
        Ok::<_, TractError>(wire_with_rank_broadcast(&prefix, ctx.target, op, &wires)?[0])
    };
    let mut wire = clamp(ctx, wire, low, Box::new(math::max()), "low")?;
    if let Some(high) = high {
        wire = clamp(ctx, wire, high, Box::new(math::min()), "high")?;
    }
    Ok(wire)
}

/// The six quantization inputs of tract's integer kernels: input, weight and output zero
/// points and scales (the weight ones per output channel when they differ).
fn quantization_inputs(
    ctx: &mut Ctx,
    output: i32,
    input_dt: DatumType,
    weights: i32,
    output_dt: DatumType,
) -> TractResult<TVec<OutletId>> {
    let (k_scale, k_zp) = ctx
        .flat
        .quantization(weights)
        .context("quantized weights without quantization parameters")?;
    let k_scale = if k_scale.len() > 1 {
        tensor1(&k_scale)
    } else {
        tensor0(k_scale[0])
    };
    let k_zp: Vec<i32> = k_zp.iter().map(|&z| z as i32).collect();
    let k_zp = if k_zp.iter().all(|&z| z == k_zp[0]) {
        tensor0(k_zp[0])
    } else {
        tensor1(&k_zp)
    };
    let (i_zp, i_scale) = input_dt.zp_scale();
    let (o_zp, o_scale) = output_dt.zp_scale();
    let values = [
        ("i0", tensor0(i_zp)),
        ("iscale", tensor0(i_scale)),
        ("k0", k_zp),
        ("kscale", k_scale),
        ("c0", tensor0(o_zp)),
        ("cscale", tensor0(o_scale)),
    ];
    values
        .into_iter()
        .map(|(tag, value)| ctx.konst(output, &format!(".{tag}"), value))
        .collect()
}

/// The bias input (zeros of `dt` when omitted), cast to the unquantized `dt`.
fn bias(
    ctx: &mut Ctx,
    output: i32,
    bias: Option<i32>,
    channels: usize,
    dt: DatumType,
) -> TractResult<OutletId> {
    match bias.filter(|&b| b >= 0) {
        Some(b) => {
            let wire = ctx.wire(b)?;
            if ctx.fact(wire)?.datum_type == dt {
                return Ok(wire);
            }
            ctx.node(output, ".bias", cast(dt), &[wire])
        }
        None => {
            let zeros = Tensor::zero_dt(dt, &[channels])?;
            ctx.konst(output, ".bias", zeros)
        }
    }
}

/// FULLY_CONNECTED: `x` flattened to `[batch, depth]`, times the transposed `[units, depth]`
/// weights, plus bias.
fn fully_connected(ctx: &mut Ctx, index: usize, output: i32) -> TractResult<OutletId> {
    let op = ctx.flat.operator(index);
    let options = op
        .builtin_options_as_fully_connected_options()
        .context("FULLY_CONNECTED without options")?;
    ensure!(
        options.weights_format() == FullyConnectedOptionsWeightsFormat::DEFAULT,
        "unsupported FULLY_CONNECTED weights format"
    );
    let inputs = ctx.flat.op_inputs(index);
    ensure!((2..=3).contains(&inputs.len()), "2 or 3 inputs expected");
    let x = ctx.wire(inputs[0])?;
    let mut w = ctx.wire(inputs[1])?;
    let x_fact = ctx.fact(x)?;
    let w_fact = ctx.fact(w)?;
    ensure!(w_fact.rank() == 2, "weights of rank 2 expected");
    let units = w_fact.shape[0].to_usize()?;
    let depth = w_fact.shape[1].to_usize()?;
    let shape = x_fact.shape.to_tvec();
    let (x2, outer) = flatten(ctx, output, x, &shape, depth)?;
    let output_dt = ctx.flat.datum_type(output)?;
    let bias_input = inputs.get(2).copied();
    let wire = if output_dt.is_quantized() && x_fact.datum_type.is_quantized() {
        let mut wires = tvec!(
            x2,
            w,
            bias(ctx, output, bias_input, units, i32::datum_type())?
        );
        wires.extend(quantization_inputs(
            ctx,
            output,
            x_fact.datum_type,
            inputs[1],
            output_dt,
        )?);
        let einsum = EinSum::newq("BI,OI,O,,,,,,->BO".parse()?, i32::datum_type(), output_dt);
        ctx.node(output, ".matmul", einsum, &wires)?
    } else {
        let dt = x_fact.datum_type;
        ensure!(
            dt.is_float(),
            "unsupported FULLY_CONNECTED input type {dt:?}"
        );
        if w_fact.datum_type != dt {
            // Quantized or half-precision weights on a float input: computed in float.
            w = ctx.node(output, ".weights", cast(dt), &[w])?;
        }
        let product = ctx.node(
            output,
            ".matmul",
            EinSum::new("BI,OI->BO".parse()?, dt),
            &[x2, w],
        )?;
        match bias_input.filter(|&b| b >= 0) {
            Some(_) => {
                let b = bias(ctx, output, bias_input, units, dt)?;
                let b = ctx.node(output, ".bias_rank", AxisOp::Add(0), &[b])?;
                ctx.node(output, ".add_bias", math::add(), &[product, b])?
            }
            None => product,
        }
    };
    let mut wire = activation(ctx, output, wire, options.fused_activation_function())?;
    let last_is_depth = shape.last().is_some_and(|d| *d == depth.to_dim());
    if options.keep_num_dims() && last_is_depth && shape.len() != 2 {
        let mut kept: TVec<TDim> = shape[..shape.len() - 1].into();
        kept.push(units.to_dim());
        let op = AxisOp::Reshape(0, tvec!(outer, units.to_dim()), kept);
        wire = ctx.node(output, ".keep_dims", op, &[wire])?;
    }
    Ok(wire)
}

/// `x` as TFLite's FULLY_CONNECTED reads it: `[batch, depth]`, the batch being all the other
/// elements. Returns the reshaped wire and the batch size.
fn flatten(
    ctx: &mut Ctx,
    output: i32,
    x: OutletId,
    shape: &[TDim],
    depth: usize,
) -> TractResult<(OutletId, TDim)> {
    // The trailing axes that make up `depth` (the leading ones may be symbolic)...
    let mut split = shape.len();
    let mut inner = 1usize;
    while split > 0 && inner < depth {
        split -= 1;
        match shape[split].to_usize() {
            Ok(d) => inner *= d,
            Err(_) => break,
        }
    }
    if inner != depth {
        // ...or, when there are none, all the elements in rows of `depth`.
        let total = shape.iter().product::<TDim>().to_usize()?;
        ensure!(
            total % depth == 0,
            "input {shape:?} does not match weights of depth {depth}"
        );
        let rows = (total / depth).to_dim();
        let op = AxisOp::Reshape(0, shape.into(), tvec!(rows.clone(), depth.to_dim()));
        return Ok((ctx.node(output, ".flatten", op, &[x])?, rows));
    }
    let mut wire = x;
    if shape.len() - split != 1 {
        let op = AxisOp::Reshape(split, shape[split..].into(), tvec!(depth.to_dim()));
        wire = ctx.node(output, ".flatten", op, &[wire])?;
    }
    let outer: TDim = shape[..split].iter().product();
    match split {
        0 => wire = ctx.node(output, ".batch", AxisOp::Add(0), &[wire])?,
        1 => (),
        _ => {
            let op = AxisOp::Reshape(0, shape[..split].into(), tvec!(outer.clone()));
            wire = ctx.node(output, ".batch", op, &[wire])?;
        }
    }
    Ok((wire, outer))
}

/// The depth multiplier of a depthwise convolution: kernel channels over input channels.
fn depth_multiplier(flat: &Flat, index: usize) -> Option<usize> {
    let inputs = flat.op_inputs(index);
    let x = flat.shape(*inputs.first()?).ok()?;
    let k = flat.shape(*inputs.get(1)?).ok()?;
    let (c, ck) = (*x.last()?, *k.last()?);
    (c > 0 && ck % c == 0).then(|| ck / c)
}

/// DEPTHWISE_CONV_2D with a depth multiplier `m`: the `[1, h, w, c·m]` kernel is the HWIO
/// kernel `[h, w, c, m]` of a convolution in `c` groups (output channel `i·m + j`, as in TFLite).
fn depthwise(ctx: &mut Ctx, index: usize, output: i32) -> TractResult<OutletId> {
    let op = ctx.flat.operator(index);
    let options = op
        .builtin_options_as_depthwise_conv_2_doptions()
        .context("DEPTHWISE_CONV_2D without options")?;
    let inputs = ctx.flat.op_inputs(index);
    ensure!((2..=3).contains(&inputs.len()), "2 or 3 inputs expected");
    let x = ctx.wire(inputs[0])?;
    let x_fact = ctx.fact(x)?;
    ensure!(x_fact.rank() == 4, "NHWC input expected");
    let channels = x_fact.shape[3].to_usize()?;
    let kernel = ctx.flat.constant(inputs[1])?;
    let &[1, kh, kw, ck] = kernel.shape() else {
        bail!(
            "kernel of shape [1, h, w, c·m] expected, got {:?}",
            kernel.shape()
        );
    };
    ensure!(
        ck % channels == 0,
        "kernel channels {ck} for {channels} input channels"
    );
    let output_dt = ctx.flat.datum_type(output)?;
    let quantized = output_dt.is_quantized() && x_fact.datum_type.is_quantized();
    let mut kernel = kernel.into_shape(&[kh, kw, channels, ck / channels])?;
    if !quantized && kernel.datum_type() != x_fact.datum_type {
        // Quantized or half-precision weights on a float input: computed in float.
        kernel = kernel.cast_to_dt(x_fact.datum_type)?.into_owned();
    }
    let k = ctx.konst(output, ".kernel", kernel)?;
    let padding = match options.padding() {
        Padding::SAME => PaddingSpec::SameUpper,
        Padding::VALID => PaddingSpec::Valid,
        other => bail!("unsupported padding {:?}", other.variant_name()),
    };
    let pool_spec = PoolSpec {
        data_format: DataFormat::NHWC,
        kernel_shape: tvec!(kh, kw),
        padding,
        strides: Some(tvec!(
            options.stride_h() as usize,
            options.stride_w() as usize
        )),
        dilations: Some(tvec!(
            options.dilation_h_factor() as usize,
            options.dilation_w_factor() as usize
        )),
        input_channels: channels,
        output_channels: ck,
    };
    let bias_dt = if quantized {
        i32::datum_type()
    } else {
        x_fact.datum_type
    };
    let mut wires = tvec!(
        x,
        k,
        bias(ctx, output, inputs.get(2).copied(), ck, bias_dt)?
    );
    let q_params = if quantized {
        wires.extend(quantization_inputs(
            ctx,
            output,
            x_fact.datum_type,
            inputs[1],
            output_dt,
        )?);
        Some(output_dt)
    } else {
        None
    };
    let conv = Conv {
        pool_spec,
        kernel_fmt: KernelFormat::HWIO,
        group: channels,
        q_params,
    };
    let wire = ctx.node(output, "", conv, &wires)?;
    activation(ctx, output, wire, options.fused_activation_function())
}
