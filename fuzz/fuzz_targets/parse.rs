//! Any bytes: `Model::parse` returns an error or a model whose every view can
//! be walked, and the interpreter can be built on it, without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mote_runtime::Model;

#[path = "../../crates/mote-runtime/tests/support/walk.rs"]
mod walk;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = Model::parse(data) {
        std::hint::black_box(walk::walk(&model));
    }
});
