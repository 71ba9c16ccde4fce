//! Knowledge distillation: a small student MLP learns from labels and from a
//! teacher's temperature-softened probabilities,
//! `loss = α·CE(labels, student) + (1-α)·T²·KL(softmax(teacher/T) ‖ softmax(student/T))`.
//!
//! mote-train's losses take one output, so the student trains inside a graph
//! whose output is `[softmax(z), softmax(z/T)]` side by side, where `u = z/T`
//! is its last Dense layer's output and `z = u + u + ... (T times)`; the
//! categorical cross-entropy against targets `[α·y, (1-α)·T²·q_teacher]` is
//! then the loss above plus a constant (the teacher's entropy and `ln 2` from
//! Keras' normalization of the row), so the gradients are exactly the
//! distillation gradients. The temperature is therefore a positive integer.
//! The deployed student is the same network with its last layer scaled by T.

use mote_train::{
    Activation, ActivationLayer, Adam, Add, Concatenate, Dense, Fit, Graph, Layer, Loss, Model,
    Sequential, Tensor,
};

/// How to distill.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DistillConfig {
    /// Weight of the hard-label cross-entropy (the rest goes to the teacher).
    pub alpha: f32,
    /// Softmax temperature T (a positive integer).
    pub temperature: u32,
    /// Training epochs.
    pub epochs: usize,
    /// Rows per step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub learning_rate: f32,
    /// Seed of the weights and the batch order.
    pub seed: u64,
}

impl Default for DistillConfig {
    fn default() -> Self {
        DistillConfig {
            alpha: 0.1,
            temperature: 4,
            epochs: 50,
            batch_size: 32,
            learning_rate: 1e-3,
            seed: 0,
        }
    }
}

/// Each row of `probabilities` (`classes` wide) at temperature `T`:
/// `softmax(log p / T)`, i.e. `p^(1/T)` normalized — the teacher's
/// `softmax(logits / T)` without needing its logits.
pub fn soften(probabilities: &[f32], classes: usize, temperature: u32) -> Vec<f32> {
    let inv = 1.0 / temperature.max(1) as f64;
    probabilities
        .chunks(classes.max(1))
        .flat_map(|row| {
            let powered: Vec<f64> = row
                .iter()
                .map(|&p| f64::from(p.max(1e-30)).powf(inv))
                .collect();
            let sum: f64 = powered.iter().sum();
            powered.into_iter().map(move |v| (v / sum) as f32)
        })
        .collect()
}

/// The targets `[α·one_hot(label), (1-α)·T²·soften(teacher)]`, `[N, 2·classes]`.
pub fn targets(labels: &[f32], teacher: &[f32], classes: usize, config: &DistillConfig) -> Tensor {
    let soft = soften(teacher, classes, config.temperature);
    let t2 = (config.temperature * config.temperature) as f32;
    let rows = labels.len();
    Tensor::from_fn([rows, 2 * classes], |k| {
        let (r, c) = (k / (2 * classes), k % (2 * classes));
        if c < classes {
            config.alpha * f32::from(labels[r] as usize == c)
        } else {
            (1.0 - config.alpha) * t2 * soft[r * classes + c - classes]
        }
    })
}

/// The training graph: hidden ReLU layers of `hidden` units, a linear layer
/// of `classes` units (u = z/T), and the output `[softmax(z), softmax(u)]`.
pub fn training_model(
    features: usize,
    hidden: &[usize],
    classes: usize,
    temperature: u32,
) -> mote_train::Result<Model> {
    let mut graph = Graph::new([features]);
    let mut node = graph.input();
    for &units in hidden {
        node = graph.add(Dense::new(units).activation(Activation::Relu), node);
    }
    let u = graph.add(Dense::new(classes), node);
    let z = match temperature {
        0 | 1 => u,
        t => graph.add(Add::new(), vec![u; t as usize]),
    };
    let p = graph.add(ActivationLayer::new(Activation::Softmax), z);
    let q = graph.add(ActivationLayer::new(Activation::Softmax), u);
    let out = graph.add(Concatenate::new(), [p, q]);
    graph.build(out)
}

/// The deployable student of a trained `training` graph: the same Dense
/// layers with the last one scaled by T and ending in softmax.
pub fn student_of(
    training: &Model,
    features: usize,
    hidden: &[usize],
    classes: usize,
    temperature: u32,
) -> mote_train::Result<Model> {
    let mut layers: Vec<Layer> = Vec::new();
    for (i, &units) in hidden.iter().enumerate() {
        let mut dense = Dense::new(units).activation(Activation::Relu);
        if i == 0 {
            dense = dense.input_shape([features]);
        }
        layers.push(dense.into());
    }
    let mut last = Dense::new(classes).activation(Activation::Softmax);
    if hidden.is_empty() {
        last = last.input_shape([features]);
    }
    layers.push(last.into());
    let mut student = Sequential::new(layers).seeded(0)?;
    let mut weights = training.weights();
    let t = temperature.max(1) as f32;
    let n = weights.len();
    for w in &mut weights[n.saturating_sub(2)..] {
        w.data_mut().iter_mut().for_each(|v| *v *= t);
    }
    student.set_weights(weights)?;
    Ok(student)
}

/// Trains a student MLP (`hidden` ReLU layers, softmax output) on `x` and
/// class `labels` with the teacher's probabilities `teacher` (`[N, classes]`).
pub fn distill(
    x: &Tensor,
    labels: &Tensor,
    teacher: &[f32],
    hidden: &[usize],
    config: &DistillConfig,
) -> mote_train::Result<Model> {
    let features = x.row_len();
    let classes = teacher.len() / x.rows().max(1);
    let mut training =
        training_model(features, hidden, classes, config.temperature)?.seeded(config.seed)?;
    training.compile(
        Adam::new(config.learning_rate),
        Loss::CategoricalCrossentropy { from_logits: false },
    );
    let y = targets(labels.data(), teacher, classes, config);
    training.fit(
        x,
        &y,
        Fit::epochs(config.epochs)
            .batch_size(config.batch_size)
            .seed(config.seed)
            .verbose(0),
    )?;
    student_of(&training, features, hidden, classes, config.temperature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softening_flattens_probabilities() {
        // [0.8, 0.2] at T = 2: sqrt -> [0.894, 0.447], normalized [2/3, 1/3].
        let q = soften(&[0.8, 0.2], 2, 2);
        assert!((q[0] - 2.0 / 3.0).abs() < 1e-6 && (q[1] - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn the_graph_loss_is_the_distillation_loss_plus_a_constant() {
        // One sample, 3 inputs -> 4 hidden -> 3 classes, T = 3, α = 0.25.
        let config = DistillConfig {
            alpha: 0.25,
            temperature: 3,
            ..DistillConfig::default()
        };
        let mut training = training_model(3, &[4], 3, 3).unwrap().seeded(5).unwrap();
        training.compile(
            Adam::new(1e-3),
            Loss::CategoricalCrossentropy { from_logits: false },
        );
        let x = Tensor::new(vec![0.5, -1.0, 2.0], [1, 3]).unwrap();
        let teacher = [0.7, 0.2, 0.1];
        let y = targets(&[1.0], &teacher, 3, &config);
        let graph_loss = training.evaluate(&x, &y).unwrap().get("loss").unwrap();

        // The formula on the deployed student: p = softmax(z), q = softmax(z / T).
        let mut student = student_of(&training, 3, &[4], 3, 3).unwrap();
        let p = student.predict(&x).unwrap().data().to_vec();
        let q = soften(&p, 3, 3);
        let qt = soften(&teacher, 3, 3);
        let (a, t2) = (0.25f64, 9.0f64);
        let kl: f64 = (0..3)
            .map(|c| f64::from(qt[c]) * (f64::from(qt[c]) / f64::from(q[c])).ln())
            .sum();
        let formula = a * -f64::from(p[1]).ln() + (1.0 - a) * t2 * kl;
        // Constant: (1-α)·T²·H(q_teacher) + (α + (1-α)·T²)·ln 2.
        let entropy: f64 = -(0..3)
            .map(|c| f64::from(qt[c]) * f64::from(qt[c]).ln())
            .sum::<f64>();
        let constant = (1.0 - a) * t2 * entropy + (a + (1.0 - a) * t2) * std::f64::consts::LN_2;
        assert!(
            (f64::from(graph_loss) - (formula + constant)).abs() < 1e-3,
            "{graph_loss} vs {}",
            formula + constant
        );
    }
}
