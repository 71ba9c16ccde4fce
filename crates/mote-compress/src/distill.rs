//! Knowledge distillation: a student learns from labels and from a teacher's
//! temperature-softened outputs,
//! `loss = α·CE(labels, student) + (1-α)·T²·KL(softmax(teacher/T) ‖ softmax(student/T))`,
//! both terms averaged over the batch (Keras' `sum_over_batch_size`), as in
//! Keras' distillation example (`keras.io/examples/vision/knowledge_distillation`).
//!
//! The student is a training spec ([`Spec`]: layers, optimizer, epochs,
//! batch size, seed), the same one `mote train` trains on labels alone, so the
//! two differ only in the loss: same initial weights, same batches. mote-train's
//! losses take one output, so the student trains inside a graph whose output
//! is `[softmax(z), softmax(z / T)]` side by side, `z` being the student's
//! logits (its last layer without the softmax); the categorical cross-entropy
//! against targets `[α·y, (1-α)·T²·softmax(teacher / T)]` is the loss above
//! plus a constant (the teacher's entropy, and `ln 2` from Keras'
//! normalization of the row), so the gradients are the distillation
//! gradients. The trained weights go back into the spec's own model.
//!
//! The teacher's logits: [`teacher_logits`] runs a `.tflite` teacher without
//! its final SOFTMAX; a teacher whose outputs are probabilities otherwise
//! gives `ln p` (its logits up to a constant per row, which softmax ignores).

use mote_runtime::BuiltinOperator;
use mote_train::spec::Spec;
use mote_train::tflite::builder::Scalar;
use mote_train::tflite::ModelDef;
use mote_train::{
    Activation, ActivationLayer, Concatenate, Fit, Graph, Layer, Loss, Model, Rescaling, Tensor,
};

use crate::report::{run_float, ReportError};

/// Why distillation cannot run.
#[derive(Debug)]
#[non_exhaustive]
pub enum DistillError {
    /// A setting out of range (T ≤ 0, α outside [0, 1]).
    Config(String),
    /// Teacher, student, examples and labels do not fit together.
    Shape(String),
    /// The teacher could not be read or run.
    Teacher(String),
    /// The training engine refused the student or the data.
    Train(mote_train::Error),
}

impl std::fmt::Display for DistillError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DistillError::Config(what) | DistillError::Shape(what) => f.write_str(what),
            DistillError::Teacher(what) => write!(f, "teacher: {what}"),
            DistillError::Train(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for DistillError {}

impl From<mote_train::Error> for DistillError {
    fn from(e: mote_train::Error) -> Self {
        DistillError::Train(e)
    }
}

impl From<ReportError> for DistillError {
    fn from(e: ReportError) -> Self {
        DistillError::Teacher(e.to_string())
    }
}

/// The two settings of the distillation loss; everything else comes from the
/// student's spec.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DistillConfig {
    /// Weight of the hard-label cross-entropy, in [0, 1] (the rest goes to the teacher).
    pub alpha: f32,
    /// Softmax temperature T > 0.
    pub temperature: f32,
}

impl Default for DistillConfig {
    /// α = 0.1, T = 4.
    fn default() -> Self {
        DistillConfig {
            alpha: 0.1,
            temperature: 4.0,
        }
    }
}

impl DistillConfig {
    /// Checks T > 0 (finite) and α in [0, 1].
    pub fn check(&self) -> Result<(), DistillError> {
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(DistillError::Config(format!(
                "temperature {} must be a positive number",
                self.temperature
            )));
        }
        if !(0.0..=1.0).contains(&self.alpha) {
            return Err(DistillError::Config(format!(
                "alpha {} is not in [0, 1]",
                self.alpha
            )));
        }
        Ok(())
    }
}

/// How [`teacher_logits`] read the teacher's logits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogitSource {
    /// The input of the final SOFTMAX (times its beta): exact.
    BeforeSoftmax,
    /// `ln p` of outputs that are probabilities: logits up to a constant per row.
    LogProbabilities,
    /// The outputs themselves (no softmax at the end, not probabilities).
    Outputs,
}

/// The teacher `.tflite`'s logits on `xs` (rows of `sample_len`), and where
/// they came from. A final SOFTMAX is cut off and its input read (times its
/// beta); outputs that are rows of probabilities give `ln p`; other outputs
/// are taken as logits.
pub fn teacher_logits(
    bytes: &[u8],
    xs: &[f32],
    sample_len: usize,
) -> Result<(Vec<f32>, LogitSource), DistillError> {
    let parsed =
        mote_runtime::Model::parse(bytes).map_err(|e| DistillError::Teacher(e.to_string()))?;
    let mut def =
        ModelDef::from_model(&parsed).map_err(|e| DistillError::Teacher(e.to_string()))?;
    let last = def.operators.last();
    let cut = match last {
        Some(op)
            if op.op == BuiltinOperator::SOFTMAX
                && def.outputs.len() == 1
                && op.outputs.first() == def.outputs.first() =>
        {
            let beta = op
                .options
                .scalars
                .iter()
                .find_map(|(field, v)| match (field, v) {
                    (0, Scalar::F32(b)) if *b > 0.0 => Some(*b),
                    _ => None,
                })
                .unwrap_or(1.0);
            Some((op.inputs[0], beta))
        }
        _ => None,
    };
    if let Some((logits, beta)) = cut {
        def.operators.pop();
        def.outputs = vec![logits];
        let cut_bytes = def
            .to_bytes()
            .map_err(|e| DistillError::Teacher(e.to_string()))?;
        let mut z = run_float(&cut_bytes, xs, sample_len)?;
        if beta != 1.0 {
            z.iter_mut().for_each(|v| *v *= beta);
        }
        return Ok((z, LogitSource::BeforeSoftmax));
    }
    let out = run_float(bytes, xs, sample_len)?;
    let rows = xs.len() / sample_len.max(1);
    let classes = out.len() / rows.max(1);
    let probabilities = classes > 1
        && out
            .chunks(classes)
            .all(|r| r.iter().all(|&p| p >= 0.0) && (r.iter().sum::<f32>() - 1.0).abs() < 1e-3);
    if probabilities {
        // ln p = z - logsumexp(z): the logits up to a constant per row.
        let logs = out.iter().map(|&p| p.max(f32::MIN_POSITIVE).ln()).collect();
        Ok((logs, LogitSource::LogProbabilities))
    } else {
        Ok((out, LogitSource::Outputs))
    }
}

/// Each row of `logits` (`classes` wide) as `softmax(logits / T)`.
pub fn soften(logits: &[f32], classes: usize, temperature: f32) -> Vec<f32> {
    let inv = 1.0 / f64::from(temperature);
    logits
        .chunks(classes.max(1))
        .flat_map(|row| {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let e: Vec<f64> = row
                .iter()
                .map(|&z| (f64::from(z - max) * inv).exp())
                .collect();
            let sum: f64 = e.iter().sum();
            e.into_iter().map(move |v| (v / sum) as f32)
        })
        .collect()
}

/// The targets `[α·one_hot(label), (1-α)·T²·softmax(teacher / T)]`, `[N, 2·classes]`.
pub fn targets(
    labels: &[f32],
    teacher_logits: &[f32],
    classes: usize,
    config: &DistillConfig,
) -> Tensor {
    let soft = soften(teacher_logits, classes, config.temperature);
    let t2 = config.temperature * config.temperature;
    Tensor::from_fn([labels.len(), 2 * classes], |k| {
        let (r, c) = (k / (2 * classes), k % (2 * classes));
        if c < classes {
            config.alpha * f32::from(labels[r] as usize == c)
        } else {
            (1.0 - config.alpha) * t2 * soft[r * classes + c - classes]
        }
    })
}

/// The student's layers with the final softmax removed (a Dense's softmax
/// becomes linear; a trailing Softmax layer is dropped): they compute the logits.
fn logit_layers(layers: &[Layer]) -> Vec<Layer> {
    let mut layers = layers.to_vec();
    match layers.last() {
        Some(Layer::Dense(d)) if d.activation_function() == Activation::Softmax => {
            let linear = d.clone().activation(Activation::Linear);
            *layers.last_mut().expect("not empty") = linear.into();
        }
        Some(Layer::Activation(a)) if a.activation_function() == Activation::Softmax => {
            layers.pop();
        }
        _ => {}
    }
    layers
}

/// The training graph of a student `spec`: its layers up to the logits `z`,
/// then `[softmax(z), softmax(z / T)]`. Its weights are the spec's model's,
/// in the same order.
pub fn training_model(spec: &Spec, temperature: f32) -> Result<Model, DistillError> {
    let mut graph = Graph::new(&spec.input_shape);
    let mut z = graph.input();
    for layer in logit_layers(&spec.layers) {
        z = graph.add(layer, [z]);
    }
    let p = graph.add(ActivationLayer::new(Activation::Softmax), [z]);
    let u = graph.add(Rescaling::new(1.0 / temperature, 0.0), [z]);
    let q = graph.add(ActivationLayer::new(Activation::Softmax), [u]);
    let out = graph.add(Concatenate::new(), [p, q]);
    Ok(graph.build(out)?)
}

/// Trains the student of `spec` on `x` (`[N, ...]`), class `labels` (`[N]`)
/// and the teacher's `teacher_logits` (`[N, classes]`, e.g. from
/// [`teacher_logits`]) with the spec's optimizer, epochs, batch size, seed and
/// shuffling, starting from the weights `spec.model()` draws. Returns the
/// spec's model (ending as the spec says, e.g. in softmax) with the trained weights.
pub fn distill(
    spec: &Spec,
    x: &Tensor,
    labels: &Tensor,
    teacher_logits: &[f32],
    config: &DistillConfig,
) -> Result<Model, DistillError> {
    config.check()?;
    let mut student = spec.model()?;
    let classes = student
        .output_shape()
        .map_or(0, |s| s.iter().product::<usize>());
    let rows = x.rows();
    if rows == 0 || labels.len() != rows {
        return Err(DistillError::Shape(format!(
            "{rows} examples and {} labels: they must match and not be empty",
            labels.len()
        )));
    }
    if teacher_logits.len() != rows * classes {
        return Err(DistillError::Shape(format!(
            "the teacher gives {} values per example, the student {classes} classes",
            teacher_logits.len() as f64 / rows as f64
        )));
    }
    if let Some(&bad) = labels
        .data()
        .iter()
        .find(|&&l| !(l >= 0.0 && l.fract() == 0.0 && (l as usize) < classes))
    {
        return Err(DistillError::Shape(format!(
            "label {bad} is not one of the student's {classes} classes"
        )));
    }
    let mut training = training_model(spec, config.temperature)?;
    training.set_weights(student.weights())?;
    training.compile(
        spec.optimizer.clone(),
        Loss::CategoricalCrossentropy { from_logits: false },
    );
    let y = targets(labels.data(), teacher_logits, classes, config);
    training.fit(
        x,
        &y,
        Fit::epochs(spec.epochs)
            .batch_size(spec.batch_size)
            .seed(spec.seed)
            .shuffle(spec.shuffle)
            .verbose(0),
    )?;
    student.set_weights(training.weights())?;
    Ok(student)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mote_train::Adam;

    const SPEC: &str = "input_shape = [3]\nloss = \"sparse_categorical_crossentropy\"\nepochs = 2\nbatch_size = 2\nseed = 5\n\
        [[layers]]\ntype = \"Dense\"\nunits = 4\nactivation = \"relu\"\n\
        [[layers]]\ntype = \"Dense\"\nunits = 3\nactivation = \"softmax\"\n";

    #[test]
    fn softening_flattens_the_softmax() {
        // logits ln [0.8, 0.2] at T = 2: softmax = sqrt -> [0.894, 0.447], normalized [2/3, 1/3].
        let q = soften(&[0.8f32.ln(), 0.2f32.ln()], 2, 2.0);
        assert!((q[0] - 2.0 / 3.0).abs() < 1e-6 && (q[1] - 1.0 / 3.0).abs() < 1e-6);
        // T = 0.5 sharpens: [0.64, 0.04] / 0.68
        let q = soften(&[0.8f32.ln(), 0.2f32.ln()], 2, 0.5);
        assert!((q[0] - 0.64 / 0.68).abs() < 1e-6);
    }

    #[test]
    fn the_graph_loss_is_the_distillation_loss_plus_a_constant() {
        // One sample, 3 inputs -> 4 hidden -> 3 classes, T = 2.5, α = 0.25.
        let config = DistillConfig {
            alpha: 0.25,
            temperature: 2.5,
        };
        let spec = Spec::parse(SPEC).unwrap();
        let mut student = spec.model().unwrap();
        let mut training = training_model(&spec, 2.5).unwrap();
        training.set_weights(student.weights()).unwrap();
        training.compile(
            Adam::new(1e-3),
            Loss::CategoricalCrossentropy { from_logits: false },
        );
        let x = Tensor::new(vec![0.5, -1.0, 2.0], [1, 3]).unwrap();
        let teacher = [1.5f32, -0.5, 0.25];
        let y = targets(&[1.0], &teacher, 3, &config);
        let graph_loss = training.evaluate(&x, &y).unwrap().get("loss").unwrap();

        // The formula on the student itself: p = softmax(z), q = softmax(z / T) = soften(ln p).
        let p = student.predict(&x).unwrap().data().to_vec();
        let logp: Vec<f32> = p.iter().map(|v| v.ln()).collect();
        let q = soften(&logp, 3, 2.5);
        let qt = soften(&teacher, 3, 2.5);
        let (a, t2) = (0.25f64, 6.25f64);
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
            (f64::from(graph_loss) - (formula + constant)).abs() < 1e-4,
            "{graph_loss} vs {}",
            formula + constant
        );
    }

    #[test]
    fn alpha_one_is_training_on_labels_alone() {
        // With α = 1 the teacher term vanishes: the distilled student is the
        // spec trained by `fit` on the labels (same initial weights, same
        // batches), up to float rounding of the two graphs.
        let spec = Spec::parse(SPEC).unwrap();
        let x = Tensor::from_fn([6, 3], |k| ((k * 7) % 5) as f32 * 0.3 - 0.6);
        let labels = Tensor::new(vec![0.0, 1.0, 2.0, 1.0, 0.0, 2.0], [6]).unwrap();
        let teacher = vec![0.0; 18];
        let config = DistillConfig {
            alpha: 1.0,
            temperature: 3.0,
        };
        let distilled = distill(&spec, &x, &labels, &teacher, &config).unwrap();
        let mut alone = spec.model().unwrap();
        alone
            .fit(&x, &labels, Fit::epochs(2).batch_size(2).seed(5).verbose(0))
            .unwrap();
        for (a, b) in distilled.weights().iter().zip(alone.weights()) {
            for (u, v) in a.data().iter().zip(b.data()) {
                assert!((u - v).abs() < 1e-6, "{u} vs {v}");
            }
        }
        // ... and the distilled weights moved from their start.
        let start = spec.model().unwrap().weights();
        assert_ne!(distilled.weights()[0].data(), start[0].data());
    }

    #[test]
    fn bad_settings_and_shapes_are_refused() {
        let spec = Spec::parse(SPEC).unwrap();
        let x = Tensor::zeros([2, 3]);
        let labels = Tensor::new(vec![0.0, 1.0], [2]).unwrap();
        let run = |teacher: &[f32], alpha: f32, temperature: f32| {
            distill(
                &spec,
                &x,
                &labels,
                teacher,
                &DistillConfig { alpha, temperature },
            )
            .unwrap_err()
            .to_string()
        };
        let six = [0.0; 6];
        assert_eq!(
            run(&six, 0.5, 0.0),
            "temperature 0 must be a positive number"
        );
        assert_eq!(
            run(&six, 0.5, -1.0),
            "temperature -1 must be a positive number"
        );
        assert_eq!(run(&six, 1.5, 4.0), "alpha 1.5 is not in [0, 1]");
        assert_eq!(
            run(&[0.0; 4], 0.5, 4.0),
            "the teacher gives 2 values per example, the student 3 classes"
        );
    }
}
