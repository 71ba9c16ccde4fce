//! The course's first program: learn y = 2x - 1 from six points.
//!
//! `cargo run --release -p mote-train --example hello_line`

use std::time::Instant;

use mote_train::{Dense, Fit, Loss, Sequential, Sgd, Tensor};

fn main() -> Result<(), mote_train::Error> {
    let xs = Tensor::new(vec![-1.0, 0.0, 1.0, 2.0, 3.0, 4.0], [6, 1])?;
    let ys = Tensor::new(vec![-3.0, -1.0, 1.0, 3.0, 5.0, 7.0], [6, 1])?;
    let mut model = Sequential::new([Dense::new(1).input_shape([1])]);
    model.compile(Sgd::new(0.01), Loss::MeanSquaredError);
    print!("{}", model.summary());
    let started = Instant::now();
    let history = model.fit(&xs, &ys, Fit::epochs(500))?;
    let took = started.elapsed();
    let y = model.predict(&Tensor::new(vec![10.0], [1, 1])?)?;
    println!("predict(10) = {:.4} (2 * 10 - 1 = 19)", y.data()[0]);
    println!(
        "final loss {:.6}; 500 epochs in {:.3} ms",
        history.loss()[499],
        took.as_secs_f64() * 1e3
    );
    let dense = model.layers().next().and_then(|l| match l {
        mote_train::Layer::Dense(d) => Some(d),
        _ => None,
    });
    if let Some(dense) = dense {
        println!(
            "kernel {:?} bias {:?}",
            dense.kernel().map(Tensor::data),
            dense.bias().map(Tensor::data)
        );
    }
    Ok(())
}
