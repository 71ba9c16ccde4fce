//! The compression report: what a model costs (file, weights, zeros, arena,
//! gzip size as a proxy for what sparsity buys in storage, host latency) and
//! what it computes on data, so compressed variants can be compared side by
//! side — including which classes and which examples a compression hurts
//! relative to the baseline ([`class_deltas`], [`regressions`]), and the whole
//! comparison as one self-contained HTML page ([`html`]).

use std::fmt::Write as _;
use std::io::Write;
use std::time::Instant;

use mote_runtime::{Interpreter, Model, OpResolver, TensorType};

/// The cost of one model.
#[derive(Clone, Debug, PartialEq)]
pub struct Cost {
    /// Bytes of the `.tflite` file.
    pub file_bytes: usize,
    /// Bytes of the file after gzip (level 9).
    pub gzip_bytes: usize,
    /// Weight elements (inputs 1 of FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D).
    pub weights: usize,
    /// Weight elements equal to zero.
    pub zero_weights: usize,
    /// Bytes those weights take.
    pub weight_bytes: usize,
    /// The weights' element type (`"int8"`, `"float32"`, or `"mixed"`).
    pub weight_type: String,
    /// Arena bytes mote-runtime needs.
    pub arena_bytes: usize,
}

/// The interpreter's arena for `model`, grown until it fits.
fn arena_for(model: &Model<'_>) -> Result<Vec<u8>, mote_runtime::Error> {
    let mut size = 1 << 16;
    loop {
        let mut arena = vec![0u8; size];
        match Interpreter::new(model, &mut arena, &OpResolver::all()) {
            Ok(_) => return Ok(arena),
            // Grow to what the planner asks for (or double), up to 2 GiB.
            Err(e @ mote_runtime::Error::ArenaTooSmall { needed, .. }) => {
                size = if needed > size {
                    needed.saturating_add(1024)
                } else {
                    size.saturating_mul(2)
                };
                if size > 1 << 31 {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Measures `bytes` (a `.tflite` file).
pub fn cost(bytes: &[u8]) -> Result<Cost, mote_runtime::Error> {
    let model = Model::parse(bytes)?;
    let graph = model.main();
    let (mut weights, mut zero_weights, mut weight_bytes) = (0, 0, 0);
    let mut types: Vec<TensorType> = Vec::new();
    for i in 0..graph.operator_count() {
        let Some(op) = graph.operator(i) else {
            continue;
        };
        use mote_runtime::BuiltinOperator as B;
        if ![B::FULLY_CONNECTED, B::CONV_2D, B::DEPTHWISE_CONV_2D].contains(&op.builtin()) {
            continue;
        }
        let Some(w) = op.inputs().get(1).and_then(|t| graph.tensor(t)) else {
            continue;
        };
        let data = w.data();
        let size = match w.dtype() {
            TensorType::Float32 => 4,
            TensorType::Int8 => 1,
            _ => continue,
        };
        weights += data.len() / size;
        zero_weights += data
            .chunks_exact(size)
            .filter(|c| c.iter().all(|&b| b == 0) || c == &[0, 0, 0, 0x80])
            .count();
        weight_bytes += data.len();
        if !types.contains(&w.dtype()) {
            types.push(w.dtype());
        }
    }
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let gzip_bytes = gzip
        .write_all(bytes)
        .and_then(|()| gzip.finish())
        .map_or(0, |v| v.len());
    let mut arena = arena_for(&model)?;
    let arena_bytes = Interpreter::new(&model, &mut arena, &OpResolver::all())?.arena_used();
    Ok(Cost {
        file_bytes: bytes.len(),
        gzip_bytes,
        weights,
        zero_weights,
        weight_bytes,
        weight_type: match types[..] {
            [] => "none".into(),
            [t] => t.name().into(),
            _ => "mixed".into(),
        },
        arena_bytes,
    })
}

/// Why a report cannot be made.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ReportError {
    /// The model is not valid, or the runtime cannot run it.
    Model(mote_runtime::Error),
    /// The examples do not have the model input's size.
    InputSize {
        /// Values of one model input.
        expected: usize,
        /// Values of one example.
        found: usize,
    },
    /// The model's output is not one score per class.
    NotClassVector {
        /// Values the model outputs per example.
        values: usize,
    },
    /// Examples and labels are not equally many.
    LabelCount {
        /// Examples.
        examples: usize,
        /// Labels.
        labels: usize,
    },
    /// A label is not a class index of the model's output.
    Label {
        /// The example's row.
        row: usize,
        /// Its label.
        label: f32,
        /// Classes the model scores.
        classes: usize,
    },
}

impl std::fmt::Display for ReportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReportError::Model(e) => write!(f, "{e}"),
            ReportError::InputSize { expected, found } => write!(
                f,
                "the examples have {found} value(s) each, but the model input has {expected}"
            ),
            ReportError::NotClassVector { values } => write!(
                f,
                "its output has {values} value(s) per example, not a vector of class scores (accuracy needs at least 2 classes)"
            ),
            ReportError::LabelCount { examples, labels } => {
                write!(f, "{examples} examples but {labels} labels")
            }
            ReportError::Label {
                row,
                label,
                classes,
            } => write!(
                f,
                "label {label} of row {row} is not a class index in 0..{classes}"
            ),
        }
    }
}

impl std::error::Error for ReportError {}

impl From<mote_runtime::Error> for ReportError {
    fn from(e: mote_runtime::Error) -> Self {
        ReportError::Model(e)
    }
}

/// Runs a one-input, one-output model on each sample of `xs` (`sample_len`
/// floats each, the model input's size) and returns the outputs as floats:
/// int8 edges are quantized and dequantized with the model's own parameters.
pub fn run_float(bytes: &[u8], xs: &[f32], sample_len: usize) -> Result<Vec<f32>, ReportError> {
    let model = Model::parse(bytes)?;
    let mut arena = arena_for(&model)?;
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all())?;
    let (input, output) = (interpreter.input_tensor(0)?, interpreter.output_tensor(0)?);
    let expected = input.shape().elements();
    if sample_len != expected || !xs.len().is_multiple_of(sample_len.max(1)) {
        return Err(ReportError::InputSize {
            expected,
            found: sample_len,
        });
    }
    let q = |t: &mote_runtime::Tensor<'_>| {
        t.quantization()
            .map_or((1.0, 0), |q| (q.scale(0), q.zero_point(0) as i32))
    };
    let (in_q, out_q) = (q(&input), q(&output));
    let mut ys = Vec::new();
    for x in xs.chunks(sample_len.max(1)) {
        if input.dtype() == TensorType::Int8 {
            for (s, v) in interpreter.input_mut::<i8>(0)?.iter_mut().zip(x) {
                *s = ((v / in_q.0).round() + in_q.1 as f32).clamp(-128.0, 127.0) as i8;
            }
        } else {
            interpreter.input_mut::<f32>(0)?.copy_from_slice(x);
        }
        interpreter.invoke()?;
        if output.dtype() == TensorType::Int8 {
            ys.extend(
                interpreter
                    .output::<i8>(0)?
                    .iter()
                    .map(|&v| (i32::from(v) - out_q.1) as f32 * out_q.0),
            );
        } else {
            ys.extend_from_slice(interpreter.output::<f32>(0)?);
        }
    }
    Ok(ys)
}

/// The fraction of rows of `outputs` (`classes` wide) whose largest entry is at `labels`.
pub fn accuracy(outputs: &[f32], classes: usize, labels: &[f32]) -> f64 {
    let hits = outputs
        .chunks(classes.max(1))
        .zip(labels)
        .filter(|(p, &label)| {
            let best = (0..p.len()).fold(0, |b, i| if p[i] > p[b] { i } else { b });
            best == label as usize
        })
        .count();
    hits as f64 / labels.len().max(1) as f64
}

/// The mean squared difference of two equally long output sets.
pub fn mse(a: &[f32], b: &[f32]) -> f64 {
    let sum: f64 = a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum();
    sum / a.len().max(1) as f64
}

/// The median host latency of one invoke of `bytes`, in microseconds, on
/// `sample` (the model input's floats; zeros if `None`), after one warm-up
/// invoke, over as many invokes as fit in about 0.2 s (5 to 2000).
pub fn latency_us(bytes: &[u8], sample: Option<&[f32]>) -> Result<f64, ReportError> {
    let model = Model::parse(bytes)?;
    let mut arena = arena_for(&model)?;
    let mut interpreter = Interpreter::new(&model, &mut arena, &OpResolver::all())?;
    if let Some(x) = sample {
        let input = interpreter.input_tensor(0)?;
        let q = input
            .quantization()
            .map_or((1.0, 0), |q| (q.scale(0), q.zero_point(0) as i32));
        if input.dtype() == TensorType::Int8 {
            for (s, v) in interpreter.input_mut::<i8>(0)?.iter_mut().zip(x) {
                *s = ((v / q.0).round() + q.1 as f32).clamp(-128.0, 127.0) as i8;
            }
        } else if input.dtype() == TensorType::Float32 {
            let slot = interpreter.input_mut::<f32>(0)?;
            let n = slot.len().min(x.len());
            slot[..n].copy_from_slice(&x[..n]);
        }
    }
    let start = Instant::now();
    interpreter.invoke()?;
    let warm_up = start.elapsed().as_secs_f64().max(1e-7);
    let invokes = ((0.2 / warm_up) as usize).clamp(5, 2000);
    let mut times = Vec::with_capacity(invokes);
    for _ in 0..invokes {
        let start = Instant::now();
        interpreter.invoke()?;
        times.push(start.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// What a classifier predicted on labelled examples.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Classes the model scores.
    pub classes: usize,
    /// Each example's true class.
    pub labels: Vec<usize>,
    /// Each example's predicted class (the first largest score).
    pub predictions: Vec<usize>,
    /// Each example's largest score.
    pub scores: Vec<f32>,
}

/// One class's share of correct predictions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassAccuracy {
    /// The class.
    pub class: usize,
    /// Examples of that class.
    pub examples: usize,
    /// Of those, predicted right.
    pub correct: usize,
}

impl ClassAccuracy {
    /// `correct / examples` (0 for a class without examples).
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.examples.max(1) as f64
    }
}

impl Evaluation {
    /// Reads `outputs` (one row of `classes` scores per label) against
    /// `labels` (class indices as floats).
    pub fn new(outputs: &[f32], classes: usize, labels: &[f32]) -> Result<Self, ReportError> {
        if classes < 2 {
            return Err(ReportError::NotClassVector { values: classes });
        }
        if outputs.len() != classes * labels.len() {
            return Err(ReportError::LabelCount {
                examples: outputs.len() / classes,
                labels: labels.len(),
            });
        }
        let mut evaluation = Evaluation {
            classes,
            labels: Vec::with_capacity(labels.len()),
            predictions: Vec::with_capacity(labels.len()),
            scores: Vec::with_capacity(labels.len()),
        };
        for (row, (p, &label)) in outputs.chunks(classes).zip(labels).enumerate() {
            if !(label >= 0.0 && label.fract() == 0.0 && (label as usize) < classes) {
                return Err(ReportError::Label {
                    row,
                    label,
                    classes,
                });
            }
            let best = (0..p.len()).fold(0, |b, i| if p[i] > p[b] { i } else { b });
            evaluation.labels.push(label as usize);
            evaluation.predictions.push(best);
            evaluation.scores.push(p[best]);
        }
        Ok(evaluation)
    }

    /// Examples predicted right, over all.
    pub fn accuracy(&self) -> f64 {
        let hits = self
            .labels
            .iter()
            .zip(&self.predictions)
            .filter(|(l, p)| l == p)
            .count();
        hits as f64 / self.labels.len().max(1) as f64
    }

    /// The accuracy of each class, in class order.
    pub fn per_class(&self) -> Vec<ClassAccuracy> {
        let mut classes: Vec<ClassAccuracy> = (0..self.classes)
            .map(|class| ClassAccuracy {
                class,
                examples: 0,
                correct: 0,
            })
            .collect();
        for (&l, &p) in self.labels.iter().zip(&self.predictions) {
            classes[l].examples += 1;
            classes[l].correct += usize::from(l == p);
        }
        classes
    }
}

/// How one class fares in a variant against the baseline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassDelta {
    /// The class.
    pub class: usize,
    /// Its examples.
    pub examples: usize,
    /// The baseline's accuracy on them.
    pub baseline: f64,
    /// The variant's accuracy on them.
    pub variant: f64,
}

impl ClassDelta {
    /// `variant - baseline` (negative: the compression hurts this class).
    pub fn delta(&self) -> f64 {
        self.variant - self.baseline
    }
}

/// Each class's accuracy in `variant` against `baseline` (same examples),
/// the most hurt first (largest drop; ties in class order).
pub fn class_deltas(baseline: &Evaluation, variant: &Evaluation) -> Vec<ClassDelta> {
    let mut deltas: Vec<ClassDelta> = baseline
        .per_class()
        .iter()
        .zip(variant.per_class())
        .map(|(b, v)| ClassDelta {
            class: b.class,
            examples: b.examples,
            baseline: b.accuracy(),
            variant: v.accuracy(),
        })
        .collect();
    deltas.sort_by(|a, b| a.delta().total_cmp(&b.delta()).then(a.class.cmp(&b.class)));
    deltas
}

/// An example the baseline got right and a variant got wrong.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Regression {
    /// Its row in the examples.
    pub index: usize,
    /// Its true class.
    pub label: usize,
    /// The baseline's prediction (right, so equal to `label`).
    pub baseline: usize,
    /// The variant's prediction.
    pub predicted: usize,
    /// The variant's score of its prediction.
    pub score: f32,
}

/// The examples `baseline` got right and `variant` got wrong, in row order.
pub fn regressions(baseline: &Evaluation, variant: &Evaluation) -> Vec<Regression> {
    (0..baseline.labels.len().min(variant.labels.len()))
        .filter(|&i| {
            baseline.predictions[i] == baseline.labels[i]
                && variant.predictions[i] != variant.labels[i]
        })
        .map(|i| Regression {
            index: i,
            label: baseline.labels[i],
            baseline: baseline.predictions[i],
            predicted: variant.predictions[i],
            score: variant.scores[i],
        })
        .collect()
}

/// The examples `variant` got right that `baseline` got wrong.
pub fn fixes(baseline: &Evaluation, variant: &Evaluation) -> usize {
    regressions(variant, baseline).len()
}

/// One model of the report: its name, cost and, with data, its results.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// The name shown (its file path).
    pub name: String,
    /// File, weight and arena bytes.
    pub cost: Cost,
    /// Multiply-accumulates per inference.
    pub macs: u64,
    /// Median host latency per invoke, µs.
    pub latency_us: Option<f64>,
    /// Mean squared output difference to the first model's.
    pub mse_vs_first: Option<f64>,
    /// Its predictions on labelled examples.
    pub evaluation: Option<Evaluation>,
}

/// Example rows shown per variant in the HTML page (all are counted).
pub const SHOWN_REGRESSIONS: usize = 50;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Colors of the plot's points, one per variant (cycled).
const COLORS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// The accuracy-vs-size plot: one filled point per variant at its file bytes
/// and a ring at its gzip bytes (log size axis), as an inline SVG.
pub fn svg_plot(variants: &[Variant]) -> String {
    let points: Vec<(usize, &Variant, f64)> = variants
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((i, v, v.evaluation.as_ref()?.accuracy())))
        .collect();
    let (w, h, left, right, top, bottom) = (640.0, 360.0, 64.0, 24.0, 16.0, 48.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    if points.is_empty() {
        svg.push_str(r#"<text x="20" y="40">no labelled data: accuracy not measured</text></svg>"#);
        return svg;
    }
    let sizes: Vec<f64> = points
        .iter()
        .flat_map(|(_, v, _)| [v.cost.file_bytes as f64, v.cost.gzip_bytes as f64])
        .filter(|&s| s > 0.0)
        .collect();
    let lo = sizes.iter().copied().fold(f64::INFINITY, f64::min).max(1.0);
    let hi = sizes.iter().copied().fold(0.0, f64::max).max(lo * 1.01);
    let (x0, x1) = ((lo / 1.25).log10(), (hi * 1.25).log10());
    let accs: Vec<f64> = points.iter().map(|p| 100.0 * p.2).collect();
    let a_lo = accs.iter().copied().fold(f64::INFINITY, f64::min);
    let a_hi = accs.iter().copied().fold(0.0, f64::max);
    let pad = ((a_hi - a_lo) * 0.15).max(0.5);
    let (y0, y1) = ((a_lo - pad).max(0.0), (a_hi + pad).min(100.0));
    let px = |s: f64| left + (s.max(1.0).log10() - x0) / (x1 - x0) * (w - left - right);
    let py = |a: f64| top + (y1 - a) / (y1 - y0).max(1e-9) * (h - top - bottom);
    let (bx, by) = (h - bottom, w - right);
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{bx}\" x2=\"{by}\" y2=\"{bx}\" stroke=\"#333\"/>\
<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{bx}\" stroke=\"#333\"/>"
    );
    // Size ticks at 1, 2, 5 x 10^k inside the axis range (every digit when
    // that gives fewer than three).
    let ticks = |digits: &[f64]| -> Vec<f64> {
        ((x0.floor() as i32)..=(x1.ceil() as i32))
            .flat_map(|k| digits.iter().map(move |m| m * 10f64.powi(k)))
            .filter(|s| s.log10() >= x0 && s.log10() <= x1)
            .collect()
    };
    let mut size_ticks = ticks(&[1.0, 2.0, 5.0]);
    if size_ticks.len() < 3 {
        size_ticks = ticks(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
    }
    {
        for s in size_ticks {
            let x = px(s);
            let label = if s >= 1e6 {
                format!("{} MB", s / 1e6)
            } else if s >= 1e3 {
                format!("{} kB", s / 1e3)
            } else {
                format!("{s} B")
            };
            let _ = write!(
                svg,
                "<line x1=\"{x:.1}\" y1=\"{bx}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#333\"/>\
<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text>",
                bx + 4.0,
                bx + 18.0
            );
        }
    }
    for i in 0..=4 {
        let a = y0 + (y1 - y0) * f64::from(i) / 4.0;
        let y = py(a);
        let _ = write!(
            svg,
            "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{left}\" y2=\"{y:.1}\" stroke=\"#333\"/>\
<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{a:.1} %</text>",
            left - 4.0,
            left - 6.0,
            y + 4.0
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">size (bytes, log scale): ● .tflite file, ○ gzip</text>\
<text x=\"14\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {:.1})\">accuracy</text>",
        (left + w - right) / 2.0,
        h - 8.0,
        (top + bx) / 2.0,
        (top + bx) / 2.0
    );
    for (i, v, acc) in &points {
        let color = COLORS[i % COLORS.len()];
        let (x, y, xg) = (
            px(v.cost.file_bytes as f64),
            py(100.0 * acc),
            px(v.cost.gzip_bytes as f64),
        );
        let name = escape(&v.name);
        let _ = write!(
            svg,
            "<line x1=\"{xg:.1}\" y1=\"{y:.1}\" x2=\"{x:.1}\" y2=\"{y:.1}\" stroke=\"{color}\" stroke-dasharray=\"2 2\"/>\
<circle cx=\"{xg:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"white\" stroke=\"{color}\" stroke-width=\"2\"><title>{name}: gzip {} B, {:.2} %</title></circle>\
<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"{color}\"><title>{name}: {} B, {:.2} %</title></circle>\
<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{color}\" text-anchor=\"{}\">{}</text>",
            v.cost.gzip_bytes,
            100.0 * acc,
            v.cost.file_bytes,
            100.0 * acc,
            if x > 0.7 * w { x - 8.0 } else { x + 8.0 },
            y - 6.0,
            if x > 0.7 * w { "end" } else { "start" },
            escape(short_name(&v.name)),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The file name of a path (what the plot labels points with).
fn short_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

fn percent(v: f64) -> String {
    format!("{:.2} %", 100.0 * v)
}

/// The comparison as one self-contained HTML page (inline CSS and SVG, no
/// scripts, no external fonts): the cost and accuracy table, the
/// accuracy-vs-size plot, per-class accuracy with each variant's delta to the
/// first model, the classes each variant hurts most, and the examples the
/// first model got right and each variant got wrong.
pub fn html(variants: &[Variant]) -> String {
    let mut out = String::new();
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<title>mote compare</title>\n<style>\n\
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 72em; }\n\
table { border-collapse: collapse; margin: 1em 0; }\n\
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }\n\
th:first-child, td:first-child { text-align: left; }\n\
td.bad { background: #fbd5d5; } td.good { background: #d5f5d9; }\n\
caption { text-align: left; font-weight: bold; padding-bottom: 0.3em; }\n\
</style>\n</head>\n<body>\n<h1>Compression report</h1>\n",
    );
    let baseline = variants.first();
    let _ = writeln!(
        out,
        "<p>Baseline (first model): <code>{}</code>. {} variant(s).</p>",
        baseline.map_or(String::new(), |b| escape(&b.name)),
        variants.len().saturating_sub(1)
    );
    out.push_str(
        "<table id=\"variants\">\n<caption>Cost and accuracy</caption>\n<tr><th>model</th>\
<th>weights</th><th>file B</th><th>gzip B</th><th>weight B</th><th>zeros</th><th>arena B</th>\
<th>MACs</th><th>latency µs</th><th>accuracy</th><th>Δ vs first</th><th>MSE vs first</th></tr>\n",
    );
    let base_acc = baseline
        .and_then(|b| b.evaluation.as_ref())
        .map(Evaluation::accuracy);
    for v in variants {
        let acc = v.evaluation.as_ref().map(Evaluation::accuracy);
        let delta = acc.zip(base_acc).map(|(a, b)| a - b);
        let class = |d: Option<f64>| match d {
            Some(d) if d < -1e-12 => " class=\"bad\"",
            Some(d) if d > 1e-12 => " class=\"good\"",
            _ => "",
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1} %</td><td>{}</td>\
<td>{}</td><td>{}</td><td>{}</td><td{}>{}</td><td>{}</td></tr>",
            escape(&v.name),
            escape(&v.cost.weight_type),
            v.cost.file_bytes,
            v.cost.gzip_bytes,
            v.cost.weight_bytes,
            100.0 * v.cost.zero_weights as f64 / v.cost.weights.max(1) as f64,
            v.cost.arena_bytes,
            v.macs,
            v.latency_us.map_or("-".into(), |l| format!("{l:.1}")),
            acc.map_or("-".into(), percent),
            class(delta),
            delta.map_or("-".into(), |d| format!("{:+.2}", 100.0 * d)),
            v.mse_vs_first.map_or("-".into(), |m| format!("{m:.3e}")),
        );
    }
    out.push_str("</table>\n<h2>Accuracy against size</h2>\n");
    out.push_str(&svg_plot(variants));
    out.push('\n');
    let Some(base) = baseline.and_then(|b| b.evaluation.as_ref()) else {
        out.push_str("<p>No labelled data (--x and --y): accuracy, per-class results and examples not measured.</p>\n</body>\n</html>\n");
        return out;
    };
    // Per-class accuracy: baseline column, then each variant's delta in points.
    out.push_str(
        "<h2>Per-class accuracy</h2>\n<p>Compression does not hurt all classes alike. \
Each variant's column is its accuracy on the class and, in parentheses, the change in \
percentage points against the first model (red: worse).</p>\n\
<table id=\"per-class\">\n<caption>Accuracy per class (Δ vs first, points)</caption>\n<tr><th>class</th><th>examples</th>",
    );
    for v in variants {
        let _ = write!(out, "<th>{}</th>", escape(short_name(&v.name)));
    }
    out.push_str("</tr>\n");
    let per_class: Vec<Option<Vec<ClassAccuracy>>> = variants
        .iter()
        .map(|v| v.evaluation.as_ref().map(Evaluation::per_class))
        .collect();
    let base_classes = base.per_class();
    for (c, b) in base_classes.iter().enumerate() {
        let _ = write!(out, "<tr><td>{c}</td><td>{}</td>", b.examples);
        for (i, pc) in per_class.iter().enumerate() {
            match pc.as_ref().and_then(|p| p.get(c)) {
                Some(a) if i == 0 => {
                    let _ = write!(out, "<td>{}</td>", percent(a.accuracy()));
                }
                Some(a) => {
                    let d = a.accuracy() - b.accuracy();
                    let class = if d < -1e-12 {
                        " class=\"bad\""
                    } else if d > 1e-12 {
                        " class=\"good\""
                    } else {
                        ""
                    };
                    let _ = write!(
                        out,
                        "<td{class}>{} ({:+.1})</td>",
                        percent(a.accuracy()),
                        100.0 * d
                    );
                }
                None => out.push_str("<td>-</td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n<h2>What each compression hurts</h2>\n");
    for v in &variants[1..] {
        let Some(e) = &v.evaluation else { continue };
        let deltas = class_deltas(base, e);
        let lost = regressions(base, e);
        let hurt: Vec<String> = deltas
            .iter()
            .filter(|d| d.delta() < -1e-12)
            .take(3)
            .map(|d| format!("class {} ({:+.1} points)", d.class, 100.0 * d.delta()))
            .collect();
        let _ = writeln!(
            out,
            "<h3>{}</h3>\n<p>Most hurt: {}. {} example(s) the first model got right are now wrong; {} it got wrong are now right.</p>",
            escape(&v.name),
            if hurt.is_empty() {
                "no class loses accuracy".to_string()
            } else {
                hurt.join(", ")
            },
            lost.len(),
            fixes(base, e),
        );
        if lost.is_empty() {
            continue;
        }
        out.push_str(
            "<table class=\"regressions\">\n<tr><th>example (row)</th><th>true label</th><th>first model's prediction</th>\
<th>variant's prediction</th><th>variant's score</th></tr>\n",
        );
        for r in lost.iter().take(SHOWN_REGRESSIONS) {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"bad\">{}</td><td>{:.3}</td></tr>",
                r.index, r.label, r.baseline, r.predicted, r.score
            );
        }
        out.push_str("</table>\n");
        if lost.len() > SHOWN_REGRESSIONS {
            let _ = writeln!(
                out,
                "<p>… and {} more (all of them in <code>mote compare --json</code>).</p>",
                lost.len() - SHOWN_REGRESSIONS
            );
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_counts_argmax_hits() {
        // Rows [0.1, 0.9] -> 1 (label 1: hit), [0.8, 0.2] -> 0 (label 1: miss).
        assert_eq!(accuracy(&[0.1, 0.9, 0.8, 0.2], 2, &[1.0, 1.0]), 0.5);
    }

    /// Six examples of 3 classes (labels 0 0 1 1 2 2), one-hot scores.
    fn predicted(classes: &[usize]) -> Evaluation {
        let outputs: Vec<f32> = classes
            .iter()
            .flat_map(|&c| (0..3).map(move |k| f32::from(k == c)))
            .collect();
        Evaluation::new(&outputs, 3, &[0.0, 0.0, 1.0, 1.0, 2.0, 2.0]).unwrap()
    }

    #[test]
    fn per_class_deltas_put_the_most_hurt_class_first() {
        // Baseline predicts 0 0 1 1 2 0: classes 0, 1 right, class 2 half (1 of 2).
        // Variant predicts  0 2 1 1 2 2: class 0 half, class 1 right, class 2 right.
        // Deltas: class 0 -0.5, class 1 0, class 2 +0.5.
        let base = predicted(&[0, 0, 1, 1, 2, 0]);
        let variant = predicted(&[0, 2, 1, 1, 2, 2]);
        let deltas = class_deltas(&base, &variant);
        let got: Vec<(usize, usize, f64, f64)> = deltas
            .iter()
            .map(|d| (d.class, d.examples, d.baseline, d.delta()))
            .collect();
        assert_eq!(
            got,
            vec![(0, 2, 1.0, -0.5), (1, 2, 1.0, 0.0), (2, 2, 0.5, 0.5)]
        );
        // Overall both get 5 of 6.
        assert_eq!(base.accuracy(), variant.accuracy());
        // Example 1 (a 0) was right and is now a 2; example 5 went the other way.
        assert_eq!(
            regressions(&base, &variant),
            vec![Regression {
                index: 1,
                label: 0,
                baseline: 0,
                predicted: 2,
                score: 1.0
            }]
        );
        assert_eq!(fixes(&base, &variant), 1);
    }

    #[test]
    fn outputs_that_are_not_class_vectors_and_bad_labels_are_refused() {
        assert_eq!(
            Evaluation::new(&[0.5, 0.7], 1, &[0.0, 0.0]),
            Err(ReportError::NotClassVector { values: 1 })
        );
        assert_eq!(
            Evaluation::new(&[0.5, 0.5], 2, &[0.0, 1.0]),
            Err(ReportError::LabelCount {
                examples: 1,
                labels: 2
            })
        );
        assert_eq!(
            Evaluation::new(&[0.5, 0.5], 2, &[2.0]),
            Err(ReportError::Label {
                row: 0,
                label: 2.0,
                classes: 2
            })
        );
    }

    #[test]
    fn the_page_is_self_contained_and_shows_the_per_class_table() {
        let cost = Cost {
            file_bytes: 1000,
            gzip_bytes: 500,
            weights: 10,
            zero_weights: 0,
            weight_bytes: 40,
            weight_type: "float32".into(),
            arena_bytes: 100,
        };
        let variant = |name: &str, e: Evaluation| Variant {
            name: name.into(),
            cost: cost.clone(),
            macs: 10,
            latency_us: Some(1.0),
            mse_vs_first: Some(0.0),
            evaluation: Some(e),
        };
        let page = html(&[
            variant("a<b>.tflite", predicted(&[0, 0, 1, 1, 2, 0])),
            variant("dir/v.tflite", predicted(&[0, 2, 1, 1, 2, 2])),
        ]);
        assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
        assert!(page.contains("<table id=\"per-class\">"));
        assert!(page.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        // Class 0 in the variant: 50 %, 50 points down.
        assert!(
            page.contains("<td class=\"bad\">50.00 % (-50.0)</td>"),
            "{page}"
        );
        assert!(page.contains("Most hurt: class 0 (-50.0 points)"));
        assert!(page.contains("a&lt;b&gt;.tflite"));
        for external in ["<script", "src=", "href=", "@import", "url("] {
            assert!(!page.contains(external), "{external}");
        }
    }

    #[test]
    fn mse_is_the_mean_squared_difference() {
        // (1 - 0)^2 + (2 - 4)^2 = 5, over 2.
        assert_eq!(mse(&[1.0, 2.0], &[0.0, 4.0]), 2.5);
    }
}
