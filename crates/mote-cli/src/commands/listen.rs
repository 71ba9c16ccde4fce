//! `mote listen`: keyword spotting on a WAV file with a front-end and a
//! classifier, the way a device would run them: a front-end model with
//! mote-audio's `Listener`, or the built-in MLPerf Tiny streaming wake-word
//! front-end (`--frontend sww`) with its `SwwListener`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use mote_audio::sww::{SWW_HOP, SWW_WINDOW};
use mote_audio::{
    wav, Classification, DetectorConfig, Listener, SwwListener, HOP_SAMPLES, SAMPLE_RATE,
    SWW_DETECTOR, WINDOW_SAMPLES,
};
use mote_runtime::{Interpreter, Model, OpResolver};

/// Arguments of `mote listen`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
mote listen yes_1000ms.wav --frontend audio_preprocessor_int8.tflite \\\n      --model micro_speech_quantized.tflite --labels silence,unknown,yes,no\n  \
mote listen long.wav --frontend pre.tflite --model kws.tflite --labels silence,unknown,yes,no --stream --json\n  \
mote listen long.wav --frontend sww --model str_ww_ref_model.tflite --labels marvin,silent,other --stream\n\n\
The WAV must be 16-bit PCM at 16 kHz (stereo files use the first channel). Without --stream the\n\
first second is classified (shorter clips are padded with silence) and its label and scores are\n\
printed; with --stream the classifier runs after every hop (20 ms; 32 ms with sww) and each\n\
detection is printed with its time in the file (the end of the newest window).\n\n\
--frontend sww is MLPerf Tiny's streaming wake-word front-end (float log-mel, 64 ms windows every\n\
32 ms, 40 bands, 30 frames per input); its defaults: threshold 0.5 on the raw score (the value that\n\
separates the model's calibration samples), --average 1, one detection per second. The benchmark's\n\
own evaluation uses --threshold 0.95.")]
pub struct ListenArgs {
    /// The 16 kHz, 16-bit PCM WAV file.
    pub wav: PathBuf,
    /// The front-end: a model (one 30 ms window of int16 samples in, one int8 feature frame
    /// out), or `sww` for the built-in MLPerf Tiny streaming wake-word front-end.
    #[arg(long)]
    pub frontend: PathBuf,
    /// The classifier: a window of feature frames in, int8 scores out.
    #[arg(long)]
    pub model: PathBuf,
    /// Class names, comma-separated, in the classifier's output order.
    #[arg(long, value_delimiter = ',', required = true)]
    pub labels: Vec<String>,
    /// Report every detection with its time instead of classifying one clip.
    #[arg(long)]
    pub stream: bool,
    /// Least smoothed probability for a detection (--stream) [default: 0.8; sww: 0.5].
    #[arg(long)]
    pub threshold: Option<f32>,
    /// Classifications averaged before thresholding (--stream) [default: 3; sww: 1].
    #[arg(long)]
    pub average: Option<usize>,
    /// Labels that never trigger a detection (default: silence, unknown and similar).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Option<Vec<String>>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// One class's score.
#[derive(Debug, serde::Serialize)]
struct Score {
    label: String,
    int8: i8,
    probability: f32,
}

/// One detection in a stream.
#[derive(Debug, serde::Serialize)]
struct Detected {
    time_s: f64,
    label: String,
    probability: f32,
}

/// Labels that stand for "nothing to report" unless `--ignore` says otherwise.
const BACKGROUND: [&str; 8] = [
    "silence",
    "unknown",
    "_silence_",
    "_unknown_",
    "silent",
    "other",
    "background",
    "noise",
];

fn load(path: &Path) -> Result<Vec<u8>> {
    crate::read_model(path)
}

/// The name of the built-in SWW front-end for `--frontend`.
const SWW: &str = "sww";

/// Either pipeline, behind one interface.
enum Pipeline<'m, 'a, 's> {
    /// A front-end model, 30 ms windows every 20 ms.
    Model(Box<Listener<'m, 'a, 's>>),
    /// The built-in SWW front-end, 64 ms windows every 32 ms.
    Sww(Box<SwwListener<'m, 'a, 's>>),
}

impl Pipeline<'_, '_, '_> {
    fn push(&mut self, samples: &[i16], on: impl FnMut(&Classification<'_>)) -> Result<()> {
        match self {
            Pipeline::Model(l) => l.push(samples, on)?,
            Pipeline::Sww(l) => l.push(samples, on)?,
        }
        Ok(())
    }

    fn classes(&self) -> usize {
        match self {
            Pipeline::Model(l) => l.classes(),
            Pipeline::Sww(l) => l.classes(),
        }
    }

    /// Samples that give the first full window of frames.
    fn first_window_samples(&self) -> usize {
        let (frames, window, hop) = match self {
            Pipeline::Model(l) => (l.features().frames(), WINDOW_SAMPLES, HOP_SAMPLES),
            Pipeline::Sww(l) => (l.features().frames(), SWW_WINDOW, SWW_HOP),
        };
        window + frames.saturating_sub(1) * hop
    }
}

/// `--threshold` (a probability) as the detector's `int8 + 128` threshold:
/// the least score whose probability, `(int8 + 128) / 256`, reaches it.
fn threshold_u8(probability: f32) -> u8 {
    (probability.clamp(0.0, 1.0) * 256.0).ceil().min(255.0) as u8
}

/// Runs `mote listen`.
pub fn run(args: &ListenArgs) -> Result<()> {
    let clip = wav::read(&args.wav, SAMPLE_RATE).with_context(|| args.wav.display().to_string())?;
    let sww = args.frontend.as_os_str() == SWW;
    let pre_bytes = if sww {
        Vec::new()
    } else {
        load(&args.frontend)?
    };
    let cls_bytes = load(&args.model)?;
    let cls = Model::parse(&cls_bytes).with_context(|| args.model.display().to_string())?;
    let (mut a1, mut a2) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    let classifier = Interpreter::new(&cls, &mut a2, &OpResolver::all())
        .with_context(|| args.model.display().to_string())?;
    let output = classifier.output_tensor(0)?;
    let (scale, zero_point) = output
        .quantization()
        .filter(|q| q.scale_count() > 0)
        .map_or((1.0 / 256.0, -128), |q| (q.scale(0), q.zero_point(0)));
    let mut storage = vec![0i8; classifier.input_tensor(0)?.shape().elements()];
    let ignored: Vec<String> = args
        .ignore
        .clone()
        .unwrap_or_else(|| BACKGROUND.iter().map(|s| s.to_string()).collect());
    let mut ignore = 0u32;
    for (c, label) in args.labels.iter().enumerate().take(32) {
        if ignored.iter().any(|i| i.eq_ignore_ascii_case(label)) {
            ignore |= 1 << c;
        }
    }
    // Defaults: micro_speech's (average 3, 0.8, 1 s = 50 hops) or SWW's
    // (raw score, 0.5, 1 s = 32 hops).
    let defaults = if sww {
        SWW_DETECTOR
    } else {
        DetectorConfig {
            average: 3,
            threshold: threshold_u8(0.8),
            suppression_hops: 50,
            ignore: 0,
        }
    };
    let config = DetectorConfig {
        average: args.average.unwrap_or(defaults.average),
        threshold: args.threshold.map_or(defaults.threshold, threshold_u8),
        suppression_hops: defaults.suppression_hops,
        ignore,
    };
    let pre;
    let mut listener = if sww {
        Pipeline::Sww(Box::new(
            SwwListener::new(classifier, &mut storage, config)
                .map_err(|e| anyhow::anyhow!("sww front-end and {}: {e}", args.model.display()))?,
        ))
    } else {
        pre = Model::parse(&pre_bytes).with_context(|| args.frontend.display().to_string())?;
        let frontend = Interpreter::new(&pre, &mut a1, &OpResolver::all())
            .with_context(|| args.frontend.display().to_string())?;
        Pipeline::Model(Box::new(
            Listener::new(frontend, classifier, &mut storage, config).map_err(|e| {
                anyhow::anyhow!(
                    "{} and {}: {e}",
                    args.frontend.display(),
                    args.model.display()
                )
            })?,
        ))
    };
    if listener.classes() != args.labels.len() {
        bail!(
            "{}: the classifier has {} classes but {} labels were given ({})",
            args.model.display(),
            listener.classes(),
            args.labels.len(),
            args.labels.join(",")
        );
    }
    let probability = |s: i8| (scale * (f32::from(s) - zero_point as f32)).clamp(0.0, 1.0);
    if args.stream {
        let mut detections = Vec::new();
        listener.push(&clip.samples, |c: &Classification<'_>| {
            if let Some(d) = c.detection {
                detections.push(Detected {
                    time_s: c.end_ms as f64 / 1000.0,
                    label: args.labels.get(d.class).cloned().unwrap_or_default(),
                    probability: f32::from(d.score) / 256.0,
                });
            }
        })?;
        if args.json {
            let body = serde_json::json!({
                "file": args.wav.display().to_string(),
                "seconds": clip.samples.len() as f64 / f64::from(SAMPLE_RATE),
                "detections": detections,
            });
            println!("{body}");
        } else if detections.is_empty() {
            println!("no detection in {}", args.wav.display());
        } else {
            for d in &detections {
                println!("{:7.3} s  {}  {:.3}", d.time_s, d.label, d.probability);
            }
        }
        return Ok(());
    }
    // One clip: the first full window of frames, padding short clips with silence.
    let needed = listener.first_window_samples();
    let mut samples = clip.samples.clone();
    if samples.len() < needed {
        samples.resize(needed, 0);
    }
    samples.truncate(needed);
    let mut scores = Vec::new();
    listener.push(&samples, |c: &Classification<'_>| {
        scores = c.scores.to_vec()
    })?;
    let scores: Vec<Score> = scores
        .iter()
        .zip(&args.labels)
        .map(|(s, label)| Score {
            label: label.clone(),
            int8: *s,
            probability: probability(*s),
        })
        .collect();
    // The first of the highest scores, as TFLM's examples pick it.
    let best = scores
        .iter()
        .rev()
        .max_by_key(|s| s.int8)
        .map(|s| s.label.clone())
        .unwrap_or_default();
    if args.json {
        let body = serde_json::json!({
            "file": args.wav.display().to_string(),
            "label": best,
            "scores": scores,
        });
        println!("{body}");
    } else {
        println!("{best}");
        for s in &scores {
            println!("  {:<10} {:>5}  {:.4}", s.label, s.int8, s.probability);
        }
    }
    Ok(())
}
