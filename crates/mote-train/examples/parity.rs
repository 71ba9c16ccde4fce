//! Trains an imported `.tflite` model without shuffling and prints the loss
//! of every epoch: with the same initial weights and data, a framework with
//! the same semantics prints the same numbers (see `bench/train/parity.py`).
//!
//! `cargo run --release -p mote-train --example parity -- MODEL.tflite X.npy Y.npy EPOCHS [adam|sgd] [TEST_X.npy TEST_Y.npy]`
//! (Adam 1e-3 or SGD 0.1, batch 32, sparse categorical cross-entropy); with
//! test data, a last line `accuracy A` (percent on the test rows after training).

use mote_train::data::read_npy;
use mote_train::tflite::import_bytes;
use mote_train::{Adam, Fit, Loss, Metric, Optimizer, Sgd};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: parity MODEL.tflite X.npy Y.npy EPOCHS [adam|sgd] [TEST_X.npy TEST_Y.npy]";
    let (model, x, y, epochs, optimizer): (_, _, _, _, Optimizer) = match &args[..] {
        [m, x, y, e] => (m, x, y, e, Adam::new(1e-3).into()),
        [m, x, y, e, o, ..] if o == "adam" => (m, x, y, e, Adam::new(1e-3).into()),
        [m, x, y, e, o, ..] if o == "sgd" => (m, x, y, e, Sgd::new(0.1).into()),
        _ => return Err(usage.into()),
    };
    let test = match &args[4.min(args.len())..] {
        [] | [_] => None,
        [_, tx, ty] => Some((tx, ty)),
        _ => return Err(usage.into()),
    };
    let mut model = import_bytes(&std::fs::read(model)?)?;
    let x = read_npy(x)?;
    let mut shape = vec![x.rows()];
    shape.extend_from_slice(model.input_shape().ok_or("no input shape")?);
    let x = x.reshape(shape.clone())?;
    let y = read_npy(y)?;
    model
        .compile(
            optimizer,
            Loss::SparseCategoricalCrossentropy { from_logits: false },
        )
        .metrics([Metric::Accuracy]);
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
    if let Some((tx, ty)) = test {
        let tx = read_npy(tx)?;
        shape[0] = tx.rows();
        let tx = tx.reshape(shape)?;
        let logs = model.evaluate(&tx, &read_npy(ty)?)?;
        println!(
            "accuracy {:.4}",
            logs.get("accuracy").unwrap_or(0.0) * 100.0
        );
    }
    Ok(())
}
