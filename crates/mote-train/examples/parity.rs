//! Trains an imported `.tflite` model without shuffling and prints the loss
//! of every epoch: with the same initial weights and data, a framework with
//! the same semantics prints the same numbers (see `bench/train/parity.py`).
//!
//! `cargo run --release -p mote-train --example parity -- MODEL.tflite X.npy Y.npy EPOCHS [adam|sgd]`
//! (Adam 1e-3 or SGD 0.1, batch 32, sparse categorical cross-entropy).

use mote_train::data::read_npy;
use mote_train::tflite::import_bytes;
use mote_train::{Adam, Fit, Loss, Optimizer, Sgd};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (model, x, y, epochs, optimizer): (_, _, _, _, Optimizer) = match &args[..] {
        [m, x, y, e] => (m, x, y, e, Adam::new(1e-3).into()),
        [m, x, y, e, o] if o == "adam" => (m, x, y, e, Adam::new(1e-3).into()),
        [m, x, y, e, o] if o == "sgd" => (m, x, y, e, Sgd::new(0.1).into()),
        _ => return Err("usage: parity MODEL.tflite X.npy Y.npy EPOCHS [adam|sgd]".into()),
    };
    let mut model = import_bytes(&std::fs::read(model)?)?;
    let x = read_npy(x)?;
    let mut shape = vec![x.rows()];
    shape.extend_from_slice(model.input_shape().ok_or("no input shape")?);
    let x = x.reshape(shape)?;
    let y = read_npy(y)?;
    model.compile(
        optimizer,
        Loss::SparseCategoricalCrossentropy { from_logits: false },
    );
    let history = model.fit(
        &x,
        &y,
        Fit::epochs(epochs.parse()?)
            .batch_size(32)
            .shuffle(false)
            .verbose(0),
    )?;
    for loss in history.loss() {
        println!("{loss:.9}");
    }
    Ok(())
}
