//! The course's first program, end to end: the rule y = 2x - 1 is learned from
//! six points, written to a `.tflite` file, and run by the same `no_std`
//! interpreter a microcontroller runs.
//!
//! ```text
//! cargo run --release -p hello_line
//! ```

use mote_runtime::{Interpreter, Model, OpResolver};
use mote_train::tflite::export;
use mote_train::{Dense, Fit, Loss, Sequential, Sgd, Tensor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let xs = Tensor::new(vec![-1.0, 0.0, 1.0, 2.0, 3.0, 4.0], [6, 1])?;
    let ys = Tensor::new(vec![-3.0, -1.0, 1.0, 3.0, 5.0, 7.0], [6, 1])?;

    // Measure a guess, y = 3x - 1, with the sum of squared errors.
    let guess: Vec<f32> = xs.data().iter().map(|x| 3.0 * x - 1.0).collect();
    let loss: f32 = guess
        .iter()
        .zip(ys.data())
        .map(|(g, y)| (g - y) * (g - y))
        .sum();
    println!(
        "y = 3x - 1: squared errors sum to {loss}, root {:.2}",
        loss.sqrt()
    );

    // Let an optimizer guess: Keras' model.fit(xs, ys, epochs=500).
    let mut model = Sequential::new([Dense::new(1).input_shape([1])]);
    model.compile(Sgd::new(0.01), Loss::MeanSquaredError);
    model.fit(&xs, &ys, Fit::epochs(500))?;
    let y = model.predict(&Tensor::new(vec![10.0], [1, 1])?)?;
    println!("trained model: predict(10) = {:.4}", y.data()[0]);

    // To the device: a .tflite file, run by mote-runtime.
    let bytes = export(&model)?.to_bytes()?;
    let model = Model::parse(&bytes)?;
    let mut arena = [0u8; 512];
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all())?;
    interpreter.input_mut::<f32>(0)?[0] = 10.0;
    interpreter.invoke()?;
    println!(
        "mote-runtime:  predict(10) = {:.4}",
        interpreter.output::<f32>(0)?[0]
    );
    Ok(())
}
