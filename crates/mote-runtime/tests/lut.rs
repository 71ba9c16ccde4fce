//! The LUT-compressed digits MLP (`tests/data/digits_mlp_lut.tflite`, made by
//! `mote cluster digits_mlp_int8.tflite --clusters 16 --lut`): its
//! `COMPRESSION_METADATA` is read, the interpreter runs it, and each field
//! of the metadata set to a bad value is refused at parse time.

use std::path::Path;

use mote_runtime::{Error, Interpreter, Model, OpResolver};

fn lut_model() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/digits_mlp_lut.tflite"))
        .unwrap()
}

fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

/// File position of field `id` of the table at `table` (FlatBuffer layout).
fn field(b: &[u8], table: usize, id: usize) -> usize {
    let vtable = (table as i64 - i32::from_le_bytes(b[table..table + 4].try_into().unwrap()) as i64)
        as usize;
    let offset = u16::from_le_bytes(
        b[vtable + 4 + 2 * id..vtable + 6 + 2 * id]
            .try_into()
            .unwrap(),
    );
    assert!(offset != 0, "field {id} is absent");
    table + offset as usize
}

/// Follows the offset at `at`.
fn follow(b: &[u8], at: usize) -> usize {
    at + u32_at(b, at)
}

/// Positions of `(schema_version, [(tensor, value_buffer, index_bitwidth)])`
/// of subgraph 0 in the file.
fn metadata_fields(b: &[u8]) -> (usize, Vec<[usize; 3]>) {
    let model = Model::parse(b).unwrap();
    let (_, meta) = model
        .metadata()
        .find(|(name, _)| *name == "COMPRESSION_METADATA")
        .unwrap();
    let base = meta.as_ptr() as usize - b.as_ptr() as usize;
    let root = follow(b, base);
    let version = field(b, root, 0);
    let subgraphs = follow(b, field(b, root, 1));
    let subgraph = follow(b, subgraphs + 4);
    let luts = follow(b, field(b, subgraph, 0));
    let entries = (0..u32_at(b, luts))
        .map(|j| {
            let t = follow(b, luts + 4 + 4 * j);
            [field(b, t, 0), field(b, t, 1), field(b, t, 2)]
        })
        .collect();
    (version, entries)
}

#[test]
fn the_lut_model_reads_its_tables_and_runs() {
    let bytes = lut_model();
    let model = Model::parse(&bytes).unwrap();
    let graph = model.main();
    let luts: Vec<_> = (0..graph.tensor_count())
        .filter_map(|t| graph.tensor(t).unwrap().lut().map(|l| (t, l)))
        .collect();
    assert_eq!(luts.len(), 2);
    for (t, lut) in &luts {
        let tensor = graph.tensor(*t).unwrap();
        let units = tensor.shape().dim(0);
        assert_eq!((lut.bits(), lut.stride(), lut.channels()), (4, 16, units));
        assert!(!lut.channel_axis_is_last());
        assert_eq!(lut.packed().len(), tensor.shape().elements() / 2);
        assert_eq!(lut.values().len(), units * 16);
        // Each unit's values come from its own table.
        let depth = tensor.shape().dim(1);
        let mut row = vec![0i8; depth];
        for u in 0..units {
            lut.decode(u * depth, &mut row);
            let table = &lut.values()[u * 16..u * 16 + 16];
            assert!(row.iter().all(|v| table.contains(&(*v as u8))), "unit {u}");
        }
    }
    let mut arena = vec![0u8; 16 * 1024];
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
    interpreter.input_bytes_mut(0).unwrap().fill(0);
    interpreter.invoke().unwrap();
    assert_eq!(interpreter.output_bytes(0).unwrap().len(), 10);
}

fn refused(bytes: &[u8], what: &str) -> String {
    match Model::parse(bytes) {
        Ok(_) => panic!("{what}: accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_compression_metadata_is_refused_at_parse_time() {
    let original = lut_model();
    let (version, entries) = metadata_fields(&original);
    let edit = |at: usize, bytes: &[u8]| {
        let mut b = original.clone();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        b
    };
    let [tensor, buffer, bits] = entries[0];
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (
            edit(version, &2u32.to_le_bytes()),
            "schema_version 2",
            "schema_version",
        ),
        (edit(bits, &[0]), "0 bits", "index_bitwidth"),
        (edit(bits, &[8]), "8 bits", "index_bitwidth"),
        (edit(bits, &[3]), "3 bits on 4-bit data", "packed"),
        // Tensor 2's short buffer loses its entry first.
        (
            edit(tensor, &999i32.to_le_bytes()),
            "tensor 999",
            "buffer has",
        ),
        (
            edit(tensor, &(-1i32).to_le_bytes()),
            "tensor -1",
            "buffer has",
        ),
        (
            edit(buffer, &0u32.to_le_bytes()),
            "value buffer 0",
            "value_buffer",
        ),
        (
            edit(buffer, &99_999u32.to_le_bytes()),
            "value buffer 99999",
            "value_buffer",
        ),
        // Both entries on one tensor: the other filter's short buffer is
        // then described by none.
        (
            edit(entries[1][0], &original[tensor..tensor + 4]),
            "two entries for one tensor",
            "buffer has",
        ),
    ];
    for (bytes, what, says) in cases {
        let text = refused(&bytes, what);
        assert!(text.contains(says), "{what}: {text}");
    }
    // A value buffer of another size: the other filter's tables (32 x 16
    // values for 10 units is not 10 x stride).
    let b = edit(entries[1][1], &original[buffer..buffer + 4]);
    let text = refused(&b, "the other filter's value buffer");
    assert!(text.contains("value buffer"), "{text}");
    // The metadata entry renamed: the short buffer no longer has an excuse.
    let mut b = original.clone();
    let name = b
        .windows(20)
        .position(|w| w == b"COMPRESSION_METADATA")
        .unwrap();
    b[name] = b'X';
    assert!(matches!(Model::parse(&b), Err(Error::BufferSize { .. })));
}

#[test]
fn the_highest_index_decodes_to_the_last_table_entry() {
    // The packed bytes rewritten to 0xFF: index 15 everywhere, still inside
    // the 16-entry tables, so the model parses and decodes to entry 15.
    let original = lut_model();
    let model = Model::parse(&original).unwrap();
    let graph = model.main();
    let (t, lut) = (0..graph.tensor_count())
        .find_map(|t| graph.tensor(t).unwrap().lut().map(|l| (t, l)))
        .unwrap();
    let at = lut.packed().as_ptr() as usize - original.as_ptr() as usize;
    let mut b = original.clone();
    b[at..at + lut.packed().len()].fill(0xff);
    let model = Model::parse(&b).unwrap();
    let lut = model.main().tensor(t).unwrap().lut().unwrap();
    let mut first = [0i8; 4];
    lut.decode(0, &mut first);
    assert_eq!(first, [lut.values()[15] as i8; 4]);
}
