//! Walks every view of a parsed model (shared by the mutation tests and the
//! fuzz target): every accessor of every subgraph, tensor, operator, options
//! table, buffer, metadata entry and signature, then builds the interpreter.

use core::fmt::Write;

use mote_runtime::model::FieldValue;
use mote_runtime::{Interpreter, Model, OpResolver};

/// Counts what it is given, so formatting does all its work without storing it.
struct Sink(usize);

impl Write for Sink {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0 = self.0.wrapping_add(s.len());
        Ok(())
    }
}

/// Reads everything the model's views offer; returns a checksum of it.
pub fn walk(model: &Model<'_>) -> usize {
    let mut sum = model.version() as usize + model.description().len();
    let mut sink = Sink(0);
    for s in 0..model.subgraph_count() {
        let Some(graph) = model.subgraph(s) else {
            continue;
        };
        sum = sum.wrapping_add(graph.name().len());
        sum = sum.wrapping_add(graph.inputs().iter().chain(graph.outputs().iter()).count());
        for t in 0..graph.tensor_count() {
            let Some(tensor) = graph.tensor(t) else {
                continue;
            };
            let _ = write!(sink, "{} {:?}", tensor.shape(), tensor.dtype());
            if let Some(sig) = tensor.shape_signature() {
                sum = sum.wrapping_add(sig.count());
            }
            sum = sum
                .wrapping_add(tensor.byte_len())
                .wrapping_add(tensor.data().len())
                .wrapping_add(tensor.name().len())
                .wrapping_add(tensor.buffer_index() as usize)
                .wrapping_add(usize::from(tensor.is_variable()));
            if let Some(lut) = tensor.lut() {
                let mut block = [0i8; 64];
                for start in (0..tensor.shape().elements()).step_by(64) {
                    lut.decode(start, &mut block);
                    sum = block.iter().fold(sum, |a, &v| a.wrapping_add(v as usize));
                }
                sum = sum
                    .wrapping_add(usize::from(lut.bits()) + lut.stride() + lut.channels())
                    .wrapping_add(lut.values().len() + lut.packed().len())
                    .wrapping_add(usize::from(lut.channel_axis_is_last()));
            }
            if let Some(q) = tensor.quantization() {
                sum = sum.wrapping_add(q.quantized_dimension());
                for i in 0..q.scale_count() {
                    sum = sum
                        .wrapping_add(q.scale(i).to_bits() as usize)
                        .wrapping_add(q.zero_point(i) as usize);
                    if let Some((lo, hi)) = q.min_max(i) {
                        sum = sum.wrapping_add((lo + hi).to_bits() as usize);
                    }
                }
            }
        }
        for o in 0..graph.operator_count() {
            let Some(op) = graph.operator(o) else {
                continue;
            };
            sum = sum
                .wrapping_add(op.opcode_index())
                .wrapping_add(op.builtin().0 as usize)
                .wrapping_add(op.custom_options().len());
            if let Some(code) = op.code() {
                sum = sum
                    .wrapping_add(code.version() as usize)
                    .wrapping_add(code.custom_name().map_or(0, str::len));
            }
            for list in [op.inputs(), op.outputs(), op.intermediates()] {
                sum = list.iter().fold(sum, |acc, i| acc.wrapping_add(i as usize));
            }
            for options in [op.options(), op.options2()] {
                let _ = write!(sink, "{options}");
                for (_, value) in options.fields() {
                    if let FieldValue::Vector(v) = value {
                        for i in 0..v.len() {
                            sum = sum
                                .wrapping_add(v.value(i).map_or(0, |x| x.bits() as usize))
                                .wrapping_add(v.string(i).map_or(0, str::len));
                        }
                    }
                }
            }
        }
    }
    for b in 0..model.buffer_count() {
        sum = sum.wrapping_add(model.buffer(b).len());
    }
    for c in 0..model.operator_code_count() {
        sum = sum.wrapping_add(model.operator_code(c).map_or(0, |c| c.builtin().0 as usize));
    }
    for (name, bytes) in model.metadata() {
        sum = sum.wrapping_add(name.len() + bytes.len());
    }
    for i in 0..model.signature_count() {
        if let Some(sig) = model.signature(i) {
            sum = sum
                .wrapping_add(sig.key().len())
                .wrapping_add(sig.subgraph_index() as usize);
            for (name, index) in sig.inputs().chain(sig.outputs()) {
                sum = sum.wrapping_add(name.len() + index as usize);
            }
        }
    }
    let mut arena = vec![0u8; 64 * 1024];
    if let Ok(interpreter) = Interpreter::new(model, &mut arena, &OpResolver::all()) {
        sum = sum.wrapping_add(interpreter.arena_used());
    }
    sum.wrapping_add(sink.0)
}
