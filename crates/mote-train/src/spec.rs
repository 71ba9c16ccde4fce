//! Training specs: a TOML file naming the input shape, the layers, the
//! optimizer, the loss, the metrics and the fit settings (the format is
//! documented in `examples/specs/README.md`).
//!
//! ```
//! let spec = mote_train::spec::Spec::parse(r#"
//!     input_shape = [4]
//!     loss = "sparse_categorical_crossentropy"
//!     metrics = ["accuracy"]
//!     epochs = 5
//!     [optimizer]
//!     name = "adam"
//!     learning_rate = 0.01
//!     [[layers]]
//!     type = "Dense"
//!     units = 3
//!     activation = "softmax"
//! "#)?;
//! let model = spec.model()?;
//! assert_eq!(model.output_shape(), Some(&[3][..]));
//! # Ok::<(), mote_train::Error>(())
//! ```

use toml::{Table, Value};

use crate::error::{Error, Result};
use crate::layers::*;
use crate::{Activation, Adam, Loss, Metric, Model, Optimizer, RmsProp, Sequential, Sgd};

/// A parsed training spec.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Per-sample input shape (batch axis excluded).
    pub input_shape: Vec<usize>,
    /// The layers, in order.
    pub layers: Vec<Layer>,
    /// The optimizer.
    pub optimizer: Optimizer,
    /// The loss.
    pub loss: Loss,
    /// Metrics reported beside the loss.
    pub metrics: Vec<Metric>,
    /// Passes over the training data.
    pub epochs: usize,
    /// Samples per gradient step.
    pub batch_size: usize,
    /// Seed of the weights, the shuffling and dropout.
    pub seed: u64,
    /// Whether to shuffle the samples each epoch.
    pub shuffle: bool,
}

fn bad(what: impl std::fmt::Display) -> Error {
    Error::invalid("spec", what.to_string())
}

/// Reads typed values out of one TOML table, remembering which keys were used
/// so that a misspelled key is an error, not silently ignored.
struct Fields<'a> {
    table: &'a Table,
    /// Where the table is, e.g. `layer 2 (Dense)`.
    place: String,
    used: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    fn new(table: &'a Table, place: String) -> Self {
        Fields {
            table,
            place,
            used: Vec::new(),
        }
    }

    fn get(&mut self, key: &'static str) -> Option<&'a Value> {
        self.used.push(key);
        self.table.get(key)
    }

    fn usize(&mut self, key: &'static str) -> Result<Option<usize>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Integer(v)) if *v > 0 => Ok(Some(*v as usize)),
            Some(v) => Err(bad(format!(
                "{}: '{key}' must be a positive integer, got {v}",
                self.place
            ))),
        }
    }

    fn f32(&mut self, key: &'static str) -> Result<Option<f32>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Float(v)) => Ok(Some(*v as f32)),
            Some(Value::Integer(v)) => Ok(Some(*v as f32)),
            Some(v) => Err(bad(format!(
                "{}: '{key}' must be a number, got {v}",
                self.place
            ))),
        }
    }

    fn bool(&mut self, key: &'static str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Boolean(v)) => Ok(Some(*v)),
            Some(v) => Err(bad(format!(
                "{}: '{key}' must be true or false, got {v}",
                self.place
            ))),
        }
    }

    fn str(&mut self, key: &'static str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(v)) => Ok(Some(v)),
            Some(v) => Err(bad(format!(
                "{}: '{key}' must be a string, got {v}",
                self.place
            ))),
        }
    }

    /// A list of positive integers, or (for windows) one integer used for every axis.
    fn sizes(&mut self, key: &'static str) -> Result<Option<Vec<usize>>> {
        let place = self.place.clone();
        let err = |v: &Value| {
            bad(format!(
                "{place}: '{key}' must be a positive integer or a list of them, got {v}"
            ))
        };
        match self.get(key) {
            None => Ok(None),
            Some(Value::Integer(v)) if *v > 0 => Ok(Some(vec![*v as usize])),
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|item| match item {
                    Value::Integer(v) if *v > 0 => Ok(*v as usize),
                    _ => Err(err(item)),
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(v) => Err(err(v)),
        }
    }

    /// A 2-D window (`3` means `[3, 3]`).
    fn window(&mut self, key: &'static str) -> Result<Option<[usize; 2]>> {
        match self.sizes(key)?.as_deref() {
            None => Ok(None),
            Some([n]) => Ok(Some([*n, *n])),
            Some([h, w]) => Ok(Some([*h, *w])),
            Some(other) => Err(bad(format!(
                "{}: '{key}' must have 1 or 2 values, got {other:?}",
                self.place
            ))),
        }
    }

    /// A 1-D window.
    fn size1(&mut self, key: &'static str) -> Result<Option<usize>> {
        match self.sizes(key)?.as_deref() {
            None => Ok(None),
            Some([n]) => Ok(Some(*n)),
            Some(other) => Err(bad(format!(
                "{}: '{key}' must be one integer, got {other:?}",
                self.place
            ))),
        }
    }

    fn required<T>(&self, key: &'static str, value: Option<T>) -> Result<T> {
        value.ok_or_else(|| bad(format!("{}: '{key}' is required", self.place)))
    }

    fn padding(&mut self) -> Result<Option<Padding>> {
        match self.str("padding")? {
            None => Ok(None),
            Some("valid") => Ok(Some(Padding::Valid)),
            Some("same") => Ok(Some(Padding::Same)),
            Some(other) => Err(bad(format!(
                "{}: padding '{other}' is not one of valid, same",
                self.place
            ))),
        }
    }

    fn activation(&mut self) -> Result<Activation> {
        let name = self.str("activation")?.unwrap_or("linear");
        let alpha = self.f32("alpha")?;
        activation(name, alpha).map_err(|m| bad(format!("{}: {m}", self.place)))
    }

    /// Fails on any key not read.
    fn finish(self) -> Result<()> {
        let mut extra: Vec<&str> = self
            .table
            .keys()
            .map(String::as_str)
            .filter(|k| !self.used.contains(k))
            .collect();
        extra.sort_unstable();
        match extra.first() {
            None => Ok(()),
            Some(key) => Err(bad(format!(
                "{}: unknown key '{key}' (known here: {})",
                self.place,
                self.used.join(", ")
            ))),
        }
    }
}

/// Keras' activation names.
fn activation(name: &str, alpha: Option<f32>) -> std::result::Result<Activation, String> {
    Ok(match name {
        "linear" => Activation::Linear,
        "relu" => Activation::Relu,
        "relu6" => Activation::Relu6,
        "leaky_relu" => Activation::LeakyRelu(alpha.unwrap_or(0.2)),
        "sigmoid" => Activation::Sigmoid,
        "tanh" => Activation::Tanh,
        "hard_swish" => Activation::HardSwish,
        "softmax" => Activation::Softmax,
        other => {
            return Err(format!(
            "unknown activation '{other}' (known: linear, relu, relu6, leaky_relu, sigmoid, tanh, hard_swish, softmax)"
        ))
        }
    })
}

/// The layer types a spec may name.
pub const LAYER_TYPES: &[&str] = &[
    "Dense",
    "Conv1D",
    "Conv2D",
    "DepthwiseConv2D",
    "SeparableConv2D",
    "MaxPooling1D",
    "AveragePooling1D",
    "MaxPooling2D",
    "AveragePooling2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "Flatten",
    "Reshape",
    "Dropout",
    "BatchNormalization",
    "Activation",
];

/// One `[[layers]]` table as a layer.
fn layer(table: &Table, index: usize) -> Result<Layer> {
    let kind = match table.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        _ => {
            return Err(bad(format!(
                "layer {index}: 'type' is required (one of {})",
                LAYER_TYPES.join(", ")
            )))
        }
    };
    let mut f = Fields::new(table, format!("layer {index} ({kind})"));
    f.used.push("type");
    let layer: Layer = match kind {
        "Dense" => {
            let units = f.usize("units")?;
            let units = f.required("units", units)?;
            let mut dense = Dense::new(units).activation(f.activation()?);
            if let Some(b) = f.bool("use_bias")? {
                dense = dense.use_bias(b);
            }
            dense.into()
        }
        "Conv2D" => {
            let filters = f.usize("filters")?;
            let filters = f.required("filters", filters)?;
            let kernel = f.window("kernel_size")?;
            let mut conv = Conv2D::new(filters, f.required("kernel_size", kernel)?)
                .activation(f.activation()?);
            if let Some(s) = f.window("strides")? {
                conv = conv.strides(s);
            }
            if let Some(p) = f.padding()? {
                conv = conv.padding(p);
            }
            if let Some(b) = f.bool("use_bias")? {
                conv = conv.use_bias(b);
            }
            conv.into()
        }
        "SeparableConv2D" => {
            let filters = f.usize("filters")?;
            let filters = f.required("filters", filters)?;
            let kernel = f.window("kernel_size")?;
            let mut conv = SeparableConv2D::new(filters, f.required("kernel_size", kernel)?)
                .activation(f.activation()?);
            if let Some(s) = f.window("strides")? {
                conv = conv.strides(s);
            }
            if let Some(p) = f.padding()? {
                conv = conv.padding(p);
            }
            if let Some(m) = f.usize("depth_multiplier")? {
                conv = conv.depth_multiplier(m);
            }
            conv.into()
        }
        "DepthwiseConv2D" => {
            let kernel = f.window("kernel_size")?;
            let mut conv = DepthwiseConv2D::new(f.required("kernel_size", kernel)?)
                .activation(f.activation()?);
            if let Some(s) = f.window("strides")? {
                conv = conv.strides(s);
            }
            if let Some(p) = f.padding()? {
                conv = conv.padding(p);
            }
            if let Some(m) = f.usize("depth_multiplier")? {
                conv = conv.depth_multiplier(m);
            }
            if let Some(b) = f.bool("use_bias")? {
                conv = conv.use_bias(b);
            }
            conv.into()
        }
        "Conv1D" => {
            let filters = f.usize("filters")?;
            let filters = f.required("filters", filters)?;
            let kernel = f.size1("kernel_size")?;
            let mut conv = Conv1D::new(filters, f.required("kernel_size", kernel)?)
                .activation(f.activation()?);
            if let Some(s) = f.size1("strides")? {
                conv = conv.strides(s);
            }
            if let Some(p) = f.padding()? {
                conv = conv.padding(p);
            }
            if let Some(b) = f.bool("use_bias")? {
                conv = conv.use_bias(b);
            }
            conv.into()
        }
        "MaxPooling2D" | "AveragePooling2D" => {
            let pool = f.window("pool_size")?.unwrap_or([2, 2]);
            let strides = f.window("strides")?;
            let padding = f.padding()?.unwrap_or_default();
            if kind == "MaxPooling2D" {
                let mut p = MaxPooling2D::new(pool).padding(padding);
                if let Some(s) = strides {
                    p = p.strides(s);
                }
                p.into()
            } else {
                let mut p = AveragePooling2D::new(pool).padding(padding);
                if let Some(s) = strides {
                    p = p.strides(s);
                }
                p.into()
            }
        }
        "MaxPooling1D" | "AveragePooling1D" => {
            let pool = f.size1("pool_size")?.unwrap_or(2);
            let strides = f.size1("strides")?;
            let padding = f.padding()?.unwrap_or_default();
            if kind == "MaxPooling1D" {
                let mut p = MaxPooling1D::new(pool).padding(padding);
                if let Some(s) = strides {
                    p = p.strides(s);
                }
                p.into()
            } else {
                let mut p = AveragePooling1D::new(pool).padding(padding);
                if let Some(s) = strides {
                    p = p.strides(s);
                }
                p.into()
            }
        }
        "GlobalAveragePooling2D" => GlobalAveragePooling2D::new().into(),
        "GlobalAveragePooling1D" => GlobalAveragePooling1D::new().into(),
        "Flatten" => Flatten::new().into(),
        "Reshape" => {
            let target = match f.get("target_shape") {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| match v {
                        Value::Integer(n) if *n == -1 || *n > 0 => Ok(*n as isize),
                        _ => Err(bad(format!(
                            "layer {index} (Reshape): 'target_shape' holds positive integers and at most one -1, got {v}"
                        ))),
                    })
                    .collect::<Result<Vec<_>>>()?,
                _ => {
                    return Err(bad(format!(
                        "layer {index} (Reshape): 'target_shape' (a list of integers) is required"
                    )))
                }
            };
            Reshape::new(target).into()
        }
        "Dropout" => {
            let rate = f.f32("rate")?;
            let rate = f.required("rate", rate)?;
            if !(0.0..1.0).contains(&rate) {
                return Err(bad(format!(
                    "layer {index} (Dropout): rate {rate} is not in [0, 1)"
                )));
            }
            Dropout::new(rate).into()
        }
        "BatchNormalization" => {
            let mut bn = BatchNormalization::new();
            if let Some(m) = f.f32("momentum")? {
                bn = bn.momentum(m);
            }
            if let Some(e) = f.f32("epsilon")? {
                bn = bn.epsilon(e);
            }
            bn.into()
        }
        "Activation" => {
            if f.table.get("activation").is_none() {
                return Err(bad(format!(
                    "layer {index} (Activation): 'activation' is required"
                )));
            }
            ActivationLayer::new(f.activation()?).into()
        }
        other => {
            return Err(bad(format!(
                "layer {index}: unknown layer type '{other}' (known: {})",
                LAYER_TYPES.join(", ")
            )))
        }
    };
    f.finish()?;
    Ok(layer)
}

fn optimizer(table: &Table) -> Result<Optimizer> {
    let mut f = Fields::new(table, "[optimizer]".into());
    let name = f.str("name")?.unwrap_or("adam");
    let lr = f.f32("learning_rate")?;
    let optimizer: Optimizer = match name {
        "adam" => {
            let mut adam = Adam::new(lr.unwrap_or(1e-3));
            if let Some(v) = f.f32("beta_1")? {
                adam = adam.beta_1(v);
            }
            if let Some(v) = f.f32("beta_2")? {
                adam = adam.beta_2(v);
            }
            if let Some(v) = f.f32("epsilon")? {
                adam = adam.epsilon(v);
            }
            adam.into()
        }
        "sgd" => {
            let mut sgd = Sgd::new(lr.unwrap_or(0.01));
            if let Some(v) = f.f32("momentum")? {
                sgd = sgd.momentum(v);
            }
            if let Some(v) = f.bool("nesterov")? {
                sgd = sgd.nesterov(v);
            }
            sgd.into()
        }
        "rmsprop" => {
            let mut rms = RmsProp::new(lr.unwrap_or(1e-3));
            if let Some(v) = f.f32("rho")? {
                rms = rms.rho(v);
            }
            if let Some(v) = f.f32("momentum")? {
                rms = rms.momentum(v);
            }
            rms.into()
        }
        other => {
            return Err(bad(format!(
                "[optimizer]: unknown name '{other}' (known: adam, sgd, rmsprop)"
            )))
        }
    };
    f.finish()?;
    Ok(optimizer)
}

fn loss(name: &str, from_logits: bool) -> Result<Loss> {
    if from_logits && !name.ends_with("crossentropy") {
        return Err(bad(format!(
            "'from_logits' applies to the cross-entropies, not to '{name}'"
        )));
    }
    Ok(match name {
        "mean_squared_error" | "mse" => Loss::MeanSquaredError,
        "mean_absolute_error" | "mae" => Loss::MeanAbsoluteError,
        "huber" => Loss::Huber { delta: 1.0 },
        "binary_crossentropy" => Loss::BinaryCrossentropy { from_logits },
        "categorical_crossentropy" => Loss::CategoricalCrossentropy { from_logits },
        "sparse_categorical_crossentropy" => {
            Loss::SparseCategoricalCrossentropy { from_logits }
        }
        other => return Err(bad(format!(
            "unknown loss '{other}' (known: mean_squared_error, mean_absolute_error, huber, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy)"
        ))),
    })
}

fn metric(name: &str) -> Result<Metric> {
    Ok(match name {
        "accuracy" => Metric::Accuracy,
        "mae" => Metric::MeanAbsoluteError,
        "mse" => Metric::MeanSquaredError,
        "rmse" => Metric::RootMeanSquaredError,
        "precision" => Metric::Precision,
        "recall" => Metric::Recall,
        "auc" => Metric::Auc,
        other => {
            return Err(bad(format!(
                "unknown metric '{other}' (known: accuracy, mae, mse, rmse, precision, recall, auc)"
            )))
        }
    })
}

impl Spec {
    /// Parses a spec from TOML text. Every error names the key, and for a
    /// layer its index and type.
    pub fn parse(text: &str) -> Result<Spec> {
        let table: Table = text
            .parse()
            .map_err(|e: toml::de::Error| bad(e.message().to_string()))?;
        let mut f = Fields::new(&table, "spec".into());
        let input_shape = f.sizes("input_shape")?;
        let input_shape = f.required("input_shape", input_shape)?;
        let layers = match f.get("layers") {
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Table(t) => layer(t, i),
                    _ => Err(bad(format!("layer {i}: must be a [[layers]] table"))),
                })
                .collect::<Result<Vec<_>>>()?,
            _ => return Err(bad("at least one [[layers]] table is required")),
        };
        let optimizer = match f.get("optimizer") {
            None => Adam::new(1e-3).into(),
            Some(Value::Table(t)) => optimizer(t)?,
            Some(Value::String(name)) => {
                let mut t = Table::new();
                t.insert("name".into(), Value::String(name.clone()));
                optimizer(&t)?
            }
            Some(v) => return Err(bad(format!("'optimizer' must be a table, got {v}"))),
        };
        let loss_name = f.str("loss")?;
        let loss_name = f.required("loss", loss_name)?;
        let from_logits = f.bool("from_logits")?.unwrap_or(false);
        let loss = loss(loss_name, from_logits)?;
        let metrics = match f.get("metrics") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(name) => metric(name),
                    _ => Err(bad(format!("'metrics' holds strings, got {v}"))),
                })
                .collect::<Result<Vec<_>>>()?,
            Some(v) => return Err(bad(format!("'metrics' must be a list, got {v}"))),
        };
        let epochs = f.usize("epochs")?.unwrap_or(10);
        let batch_size = f.usize("batch_size")?.unwrap_or(32);
        let seed = match f.get("seed") {
            None => crate::DEFAULT_SEED,
            Some(Value::Integer(v)) if *v >= 0 => *v as u64,
            Some(v) => return Err(bad(format!("'seed' must be an integer >= 0, got {v}"))),
        };
        let shuffle = f.bool("shuffle")?.unwrap_or(true);
        f.finish()?;
        Ok(Spec {
            input_shape,
            layers,
            optimizer,
            loss,
            metrics,
            epochs,
            batch_size,
            seed,
            shuffle,
        })
    }

    /// The built, compiled model: weights seeded from `seed`. A layer that
    /// cannot take its input's shape is an error naming it and the shapes.
    pub fn model(&self) -> Result<Model> {
        let mut layers = vec![Layer::Input(Input::new(&self.input_shape))];
        layers.extend(self.layers.iter().cloned());
        let mut model = Sequential::new(layers).seeded(self.seed)?;
        model.build_checked()?;
        model
            .compile(self.optimizer.clone(), self.loss)
            .metrics(self.metrics.iter().copied());
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "input_shape = [8, 8, 1]\nloss = \"sparse_categorical_crossentropy\"\n";

    fn err(text: &str) -> String {
        Spec::parse(text)
            .and_then(|s| s.model())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_cnn_spec_builds() {
        let spec = Spec::parse(&format!(
            "{BASE}epochs = 3\nseed = 4\n[[layers]]\ntype = \"Conv2D\"\nfilters = 4\nkernel_size = 3\npadding = \"same\"\nactivation = \"relu\"\n\
             [[layers]]\ntype = \"MaxPooling2D\"\n[[layers]]\ntype = \"Flatten\"\n[[layers]]\ntype = \"Dense\"\nunits = 10\nactivation = \"softmax\"\n"
        ))
        .unwrap();
        assert_eq!((spec.epochs, spec.batch_size, spec.seed), (3, 32, 4));
        let model = spec.model().unwrap();
        // 8x8x1 -> same conv 8x8x4 -> pool 4x4x4 -> 64 -> 10
        assert_eq!(model.layer_output_shape(2), Some(&[64][..]));
        // (3*3*1 + 1) * 4 + (64 + 1) * 10 = 40 + 650
        assert_eq!(model.param_count(), 690);
    }

    #[test]
    fn errors_name_the_layer_and_the_key() {
        let e = err(&format!("{BASE}[[layers]]\ntype = \"Dense2\"\n"));
        assert!(e.contains("layer 0: unknown layer type 'Dense2'"), "{e}");
        let e = err(&format!("{BASE}[[layers]]\ntype = \"Dense\"\nunit = 3\n"));
        assert!(e.contains("layer 0 (Dense): 'units' is required"), "{e}");
        let e = err(&format!(
            "{BASE}[[layers]]\ntype = \"Dense\"\nunits = 3\nactivaton = \"relu\"\n"
        ));
        assert!(e.contains("unknown key 'activaton'"), "{e}");
        // a 5x5 valid window does not fit a 4x4 pooled map: the layer and shapes are named
        let e = err(&format!(
            "{BASE}[[layers]]\ntype = \"MaxPooling2D\"\n[[layers]]\ntype = \"Conv2D\"\nfilters = 2\nkernel_size = 5\n"
        ));
        assert!(e.contains("conv2d") && e.contains("[4, 4, 1]"), "{e}");
        let e =
            err("input_shape = [4]\nloss = \"hinge\"\n[[layers]]\ntype = \"Dense\"\nunits = 1\n");
        assert!(e.contains("unknown loss 'hinge'"), "{e}");
        let e = err("input_shape = [0]\nloss = \"mse\"\n[[layers]]\ntype = \"Dense\"\nunits = 1\n");
        assert!(e.contains("'input_shape'"), "{e}");
    }
}
