//! Reading a TFLite flatbuffer (the `tflite` schema bindings of `tract-tflite`), and cutting it
//! into segments that `tract-tflite` translates on its own.
//!
//! A segment is the model's own flatbuffer, copied, with its main subgraph edited in place: the
//! operator list shrunk to the segment's operators and new input and output lists. Flatbuffer
//! offsets only point forward, so the edits are: rewriting the operator offset vector within its
//! own bytes (it only shrinks), and appending the two new `int32` vectors at the end of the copy,
//! then pointing the subgraph's `inputs` / `outputs` fields at them. Everything else (tensors,
//! buffers, operator options) is left where it is, so nothing needs to be re-encoded.

use tract_tflite::internal::*;
use tract_tflite::tflite::{self, BuiltinOperator, SubGraph};

use crate::tensors::tensor_from_bytes;

/// A parsed model: its main (first) subgraph.
pub(crate) struct Flat<'a> {
    pub buf: &'a [u8],
    pub model: tflite::Model<'a>,
    pub graph: SubGraph<'a>,
    pub tensors: flatbuffers::Vector<'a, flatbuffers::ForwardsUOffset<tflite::Tensor<'a>>>,
    pub operators: flatbuffers::Vector<'a, flatbuffers::ForwardsUOffset<tflite::Operator<'a>>>,
}

impl<'a> Flat<'a> {
    /// Verifies the flatbuffer and checks that its main subgraph has every part a model needs.
    pub fn parse(buf: &'a [u8]) -> Result<Flat<'a>, String> {
        let model = tflite::root_as_model(buf).map_err(|e| e.to_string())?;
        let graph = model
            .subgraphs()
            .filter(|s| !s.is_empty())
            .ok_or("no subgraph")?
            .get(0);
        let tensors = graph.tensors().ok_or("no tensors")?;
        let operators = graph.operators().ok_or("no operators")?;
        if graph.inputs().is_none() || graph.outputs().is_none() {
            return Err("no inputs or outputs".into());
        }
        if model.operator_codes().is_none() {
            return Err("no operator codes".into());
        }
        let flat = Flat {
            buf,
            model,
            graph,
            tensors,
            operators,
        };
        // Every tensor index the graph uses must exist (-1 marks an omitted optional input).
        let n = flat.tensors.len() as i32;
        let in_range = |i: i32| (-1..n).contains(&i);
        let io_ok = flat
            .inputs()
            .chain(flat.outputs())
            .all(|i| (0..n).contains(&i));
        let ops_ok = flat.operators.iter().all(|op| {
            op.inputs().is_some_and(|v| v.iter().all(in_range))
                && op
                    .outputs()
                    .is_some_and(|v| v.iter().all(|i| (0..n).contains(&i)))
        });
        if !io_ok || !ops_ok {
            return Err("tensor index out of range".into());
        }
        Ok(flat)
    }

    pub fn inputs(&self) -> impl Iterator<Item = i32> + 'a {
        self.graph.inputs().into_iter().flatten()
    }

    pub fn outputs(&self) -> impl Iterator<Item = i32> + 'a {
        self.graph.outputs().into_iter().flatten()
    }

    pub fn operator(&self, index: usize) -> tflite::Operator<'a> {
        self.operators.get(index)
    }

    /// The operator's inputs (-1 for an omitted optional input).
    pub fn op_inputs(&self, index: usize) -> Vec<i32> {
        self.operator(index)
            .inputs()
            .map(|v| v.iter().collect())
            .unwrap_or_default()
    }

    pub fn op_outputs(&self, index: usize) -> Vec<i32> {
        self.operator(index)
            .outputs()
            .map(|v| v.iter().collect())
            .unwrap_or_default()
    }

    /// The builtin code of operator `index`, read as TFLite does (codes above 127 live in the
    /// newer `builtin_code` field); `None` for a custom operator or a bad opcode index.
    pub fn opcode(&self, index: usize) -> Option<BuiltinOperator> {
        let codes = self.model.operator_codes()?;
        let at = self.operator(index).opcode_index() as usize;
        if at >= codes.len() {
            return None;
        }
        let code = codes.get(at);
        let deprecated = code.deprecated_builtin_code() as i32;
        let builtin = code.builtin_code().0.max(deprecated);
        (builtin != BuiltinOperator::CUSTOM.0).then_some(BuiltinOperator(builtin))
    }

    /// A readable name of operator `index`'s kind, for messages.
    pub fn opcode_name(&self, index: usize) -> String {
        if let Some(code) = self.opcode(index) {
            return code
                .variant_name()
                .map(str::to_string)
                .unwrap_or_else(|| format!("builtin operator {}", code.0));
        }
        let custom = self.model.operator_codes().and_then(|codes| {
            let at = self.operator(index).opcode_index() as usize;
            (at < codes.len()).then(|| codes.get(at).custom_code())?
        });
        format!("custom operator {}", custom.unwrap_or("?"))
    }

    pub fn tensor(&self, index: i32) -> tflite::Tensor<'a> {
        self.tensors.get(index as usize)
    }

    /// The tensor's name as the interpreter reports it ("" when it has none).
    pub fn name(&self, index: i32) -> String {
        self.tensor(index).name().unwrap_or_default().to_string()
    }

    /// The declared shape (a missing shape is a scalar).
    pub fn shape(&self, index: i32) -> TractResult<TVec<usize>> {
        let shape = self.tensor(index).shape();
        shape
            .into_iter()
            .flatten()
            .map(|d| usize::try_from(d).map_err(|_| format_err!("negative dimension {d}")))
            .collect()
    }

    /// The tensor's element type, with its (per-tensor) quantization as `tract-tflite` reads it.
    pub fn datum_type(&self, index: i32) -> TractResult<DatumType> {
        let tensor = self.tensor(index);
        let dt = DatumType::try_from(tensor.type_())?;
        let q = tensor.quantization();
        let (Some(scale), Some(zp)) = (q.and_then(|q| q.scale()), q.and_then(|q| q.zero_point()))
        else {
            return Ok(dt);
        };
        if scale.is_empty() || zp.is_empty() || !matches!(dt, DatumType::I8 | DatumType::U8) {
            return Ok(dt);
        }
        Ok(dt.quantize(QParams::ZpScale {
            zero_point: zp.get(0) as i32,
            scale: scale.get(0),
        }))
    }

    /// The per-channel (or single) scales and zero points of a quantized tensor.
    pub fn quantization(&self, index: i32) -> Option<(Vec<f32>, Vec<i64>)> {
        let q = self.tensor(index).quantization()?;
        let scale: Vec<f32> = q.scale()?.iter().collect();
        let zp: Vec<i64> = q.zero_point()?.iter().collect();
        (!scale.is_empty() && !zp.is_empty()).then_some((scale, zp))
    }

    /// The fact `tract-tflite` gives the tensor (declared shape and type).
    pub fn fact(&self, index: i32) -> TractResult<TypedFact> {
        Ok(self.datum_type(index)?.fact(self.shape(index)?))
    }

    /// The constant data of a tensor, when it has some.
    fn data(&self, index: i32) -> Option<&'a [u8]> {
        let buffer = self.tensor(index).buffer() as usize;
        let buffers = self.model.buffers()?;
        if buffer == 0 || buffer >= buffers.len() {
            return None;
        }
        buffers
            .get(buffer)
            .data()
            .map(|d| d.bytes())
            .filter(|d| !d.is_empty())
    }

    pub fn is_constant(&self, index: i32) -> bool {
        self.data(index).is_some()
    }

    /// A constant tensor's value.
    pub fn constant(&self, index: i32) -> TractResult<Tensor> {
        let data = self
            .data(index)
            .with_context(|| format!("tensor {} is not a constant", self.name(index)))?;
        tensor_from_bytes(self.datum_type(index)?, &self.shape(index)?, data)
    }

    /// A copy of the model whose main subgraph runs only `operators` (indices, in order), from
    /// `inputs` to `outputs` (tensor indices).
    pub fn segment(&self, operators: &[usize], inputs: &[i32], outputs: &[i32]) -> Vec<u8> {
        let mut blob = self.buf.to_vec();
        // The operator vector: [len][offset 0]...; each offset is relative to its own slot.
        let elements = self.offset_of(self.operators.bytes());
        for (slot, &op) in operators.iter().enumerate() {
            let old_slot = elements + 4 * op;
            let target = old_slot + read_u32(self.buf, old_slot) as usize;
            let new_slot = elements + 4 * slot;
            write_u32(&mut blob, new_slot, (target - new_slot) as u32);
        }
        write_u32(&mut blob, elements - 4, operators.len() as u32);
        self.repoint(&mut blob, SubGraph::VT_INPUTS, inputs);
        self.repoint(&mut blob, SubGraph::VT_OUTPUTS, outputs);
        blob
    }

    /// Appends an `int32` vector to `blob` and points the subgraph field `field` at it.
    fn repoint(&self, blob: &mut Vec<u8>, field: flatbuffers::VOffsetT, values: &[i32]) {
        let table = &self.graph._tab;
        // `parse` checked that the subgraph has this field.
        let field_at = table.loc() + table.vtable().get(field) as usize;
        blob.resize(blob.len().next_multiple_of(4), 0);
        let vector_at = blob.len();
        blob.extend_from_slice(&(values.len() as u32).to_le_bytes());
        for v in values {
            blob.extend_from_slice(&v.to_le_bytes());
        }
        write_u32(blob, field_at, (vector_at - field_at) as u32);
    }

    /// Where `part` (a slice of the model's buffer) starts in it.
    fn offset_of(&self, part: &[u8]) -> usize {
        part.as_ptr() as usize - self.buf.as_ptr() as usize
    }
}

fn read_u32(blob: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(blob[at..at + 4].try_into().expect("4 bytes"))
}

fn write_u32(blob: &mut [u8], at: usize, value: u32) {
    blob[at..at + 4].copy_from_slice(&value.to_le_bytes());
}
