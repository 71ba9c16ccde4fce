//! Embeds the model and its input chosen at build time, and a resolver over
//! exactly the operators the model uses (so only their kernels are linked):
//! `MOTE_MODEL` (a .tflite path), `MOTE_INPUT` (how the firmware fills input
//! 0, `src/input.rs`: `zeros`, the default, `bytes`, or `floats LOW HIGH` with
//! the bounds as f32 bit patterns, `0x40c90fdb`) and `MOTE_ARENA` (arena bytes, default 262144). The linker's `memory.x` is
//! `board.x` (the emulated board) or `MOTE_MEMORY` (the budget check links with
//! a real chip's sizes), copied to `OUT_DIR`: the only `memory.x` the linker
//! can find (one in the package folder would win over the search path).

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let memory = env::var_os("MOTE_MEMORY")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("board.x"));
    fs::copy(&memory, out.join("memory.x"))
        .unwrap_or_else(|e| panic!("MOTE_MEMORY {}: {e}", memory.display()));
    // cortex-m-rt's `device` feature includes a `device.x` (weak aliases of
    // named interrupt handlers); the firmware names none.
    fs::write(out.join("device.x"), "/* no named interrupt handlers */\n").expect("write device.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={}", memory.display());
    println!("cargo::rustc-check-cfg=cfg(mote_compiled)");
    for var in [
        "MOTE_MODEL",
        "MOTE_INPUT",
        "MOTE_ARENA",
        "MOTE_MEMORY",
        "MOTE_CODEGEN",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let model = env::var_os("MOTE_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            manifest.join("../../shared/assets/tflm/hello_world/hello_world_float.tflite")
        });
    println!("cargo:rerun-if-changed={}", model.display());
    let bytes = fs::read(&model).unwrap_or_else(|e| panic!("MOTE_MODEL {}: {e}", model.display()));
    fs::write(out.join("model.tflite"), &bytes).expect("write model");
    // MOTE_CODEGEN=1: the model compiled ahead of time instead of interpreted.
    if env::var_os("MOTE_CODEGEN").is_some_and(|v| v == "1") {
        let source = mote_codegen::generate(&bytes, "Model")
            .unwrap_or_else(|e| panic!("MOTE_MODEL {}: {e}", model.display()));
        fs::write(out.join("model.rs"), source).expect("write model.rs");
        println!("cargo:rustc-cfg=mote_compiled");
    }
    // Link only the kernels the model uses: a resolver over exactly its ops.
    let model = mote_runtime::Model::parse(&bytes)
        .unwrap_or_else(|e| panic!("MOTE_MODEL {}: {e}", model.display()));
    let graph = model.main();
    // Each operator's registration, by its index in the runtime's tables.
    let mut ops: Vec<String> = Vec::new();
    for op in (0..graph.operator_count()).filter_map(|i| graph.operator(i)) {
        let custom = op.code().and_then(|c| c.custom_name());
        let builtin = op.builtin();
        let entry = match custom {
            Some(name) => mote_runtime::ops::custom::ALL
                .iter()
                .position(|r| r.custom == name)
                .map(|i| format!("mote_runtime::ops::custom::ALL[{i}]")),
            None => mote_runtime::ops::ALL
                .iter()
                .position(|r| r.op == builtin)
                .map(|i| format!("mote_runtime::ops::ALL[{i}]")),
        };
        // An op the runtime lacks is left out: Interpreter::new names it at run time.
        if let Some(entry) = entry {
            if !ops.contains(&entry) {
                ops.push(entry);
            }
        }
    }
    fs::write(
        out.join("ops.rs"),
        format!(
            "static OPS: &[mote_runtime::ops::OpRegistration] = &[{}];\n",
            ops.join(", ")
        ),
    )
    .expect("write ops.rs");
    let setting = env::var("MOTE_INPUT").unwrap_or_else(|_| "zeros".into());
    let words: Vec<&str> = setting.split_whitespace().collect();
    let bits = |w: &str| u32::from_str_radix(w.trim_start_matches("0x"), 16).ok();
    let fill = match words.as_slice() {
        ["zeros"] => "Fill::Zeros".to_string(),
        ["bytes"] => "Fill::Bytes".to_string(),
        ["floats", low, high] => match (bits(low), bits(high)) {
            (Some(low), Some(high)) => {
                format!("Fill::Floats {{ low: f32::from_bits({low:#x}), high: f32::from_bits({high:#x}) }}")
            }
            _ => panic!("MOTE_INPUT {setting:?}: the bounds are not hexadecimal f32 bit patterns"),
        },
        _ => panic!("MOTE_INPUT {setting:?}: expected `zeros`, `bytes` or `floats LOW HIGH`"),
    };
    fs::write(
        out.join("fill.rs"),
        format!("const FILL: input::Fill = input::{fill};\n"),
    )
    .expect("write fill.rs");
    // Rounded up to 16 bytes: with a 16-aligned start, the layout (and so the
    // bytes used) does not depend on where the linker puts the arena.
    let arena: usize = env::var("MOTE_ARENA")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256 * 1024);
    let arena = arena.div_ceil(16) * 16;
    fs::write(
        out.join("arena.rs"),
        format!("const ARENA_BYTES: usize = {arena};\n"),
    )
    .expect("write arena.rs");
}
