//! MLPerf Tiny streaming wake word (SWW): mote's front-end against a numpy
//! port of the benchmark's `get_lfbe_func` (`tools/sww_mel_check.py`), frame by
//! frame, and the whole pipeline's behaviour with the reference model: the
//! 1 s marvin clip is marvin, and streaming over `short_wav_easy10s.wav`
//! detects each wake word of `sww_short_test.json` and nothing else, by the
//! rules of the benchmark's `evaluate.py`.

use std::path::PathBuf;
use std::process::Command;

use mote_audio::sww::{quantize, SWW_BANDS, SWW_HOP, SWW_WINDOW};
use mote_audio::{
    wav, Classification, DetectorConfig, Framer, SwwFrontEnd, SwwListener, SWW_DETECTOR,
};
use mote_conformance::{assets, python, root, run, Case, Engine};
use mote_runtime::{Interpreter, Model, OpResolver, TensorType};
use mote_train::npy::Array;

/// The model's input quantization (`str_ww_ref_model.tflite`).
const SCALE: f32 = 0.003_701_042_6;

fn sww(name: &str) -> PathBuf {
    let path = assets().join("mlperf-tiny/sww").join(name);
    assert!(path.is_file(), "SWW asset missing: {}", path.display());
    path
}

fn first_channel(name: &str) -> Vec<i16> {
    let path = sww(name);
    let clip = wav::read(&path, 16_000).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(clip.channels, 2, "{name} is stereo");
    clip.samples
}

/// mote's float features, every frame of the stream.
fn our_features(samples: &[i16]) -> Vec<[f32; SWW_BANDS]> {
    let mut frontend = SwwFrontEnd::new();
    let mut framer = Framer::<SWW_WINDOW, SWW_HOP>::new();
    let mut frames = Vec::new();
    for s in samples {
        if let Some(w) = framer.push(*s) {
            let mut out = [0.0; SWW_BANDS];
            frontend.frame(w, &mut out);
            frames.push(out);
        }
    }
    frames
}

/// The numpy reference's features of a WAV's first channel.
fn numpy_features(name: &str) -> Vec<Vec<f32>> {
    let out = Command::new(python())
        .arg(root().join("tools/sww_mel_check.py"))
        .arg("--features")
        .arg(sww(name))
        .output()
        .expect("run tools/sww_mel_check.py");
    assert!(
        out.status.success(),
        "sww_mel_check.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON features")
}

#[test]
fn features_match_the_numpy_reference() {
    for name in ["marvin_617de221_0.wav", "short_wav_easy10s.wav"] {
        let samples = first_channel(name);
        let ours = our_features(&samples);
        let theirs = numpy_features(name);
        assert_eq!(ours.len(), theirs.len(), "{name}: frames");
        assert_eq!(ours.len(), 1 + (samples.len() - SWW_WINDOW) / SWW_HOP);
        let (mut max_diff, mut off_by_one, mut values) = (0.0f32, 0, 0);
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            let (mut qa, mut qb) = ([0i8; SWW_BANDS], [0i8; SWW_BANDS]);
            quantize(a, SCALE, -128, &mut qa);
            quantize(b, SCALE, -128, &mut qb);
            for (band, (x, y)) in a.iter().zip(b).enumerate() {
                max_diff = max_diff.max((x - y).abs());
                assert!(
                    (x - y).abs() < 1e-4,
                    "{name} frame {i} band {band}: {x} vs {y}"
                );
            }
            for (x, y) in qa.iter().zip(qb) {
                assert!(
                    (i16::from(*x) - i16::from(y)).abs() <= 1,
                    "{name} frame {i}"
                );
                off_by_one += usize::from(*x != y);
                values += 1;
            }
        }
        eprintln!(
            "{name}: {} frames, max |feature diff| {max_diff:.2e}, int8 differing by 1: {off_by_one} of {values}",
            ours.len()
        );
    }
}

/// Every classification of a stream (hop, end of window in ms, scores), and
/// every detection (time in ms, class).
type Stream = (Vec<(usize, u64, Vec<i8>)>, Vec<(u64, usize)>);

/// Every classification of the stream: (hop, end of window in ms, scores).
fn stream(samples: &[i16]) -> Stream {
    stream_with(samples, SWW_DETECTOR)
}

/// Every classification of the stream and every detection (time in ms, class).
fn stream_with(samples: &[i16], config: DetectorConfig) -> Stream {
    let bytes = std::fs::read(sww("str_ww_ref_model.tflite")).unwrap();
    let model = Model::parse(&bytes).unwrap();
    let mut arena = vec![0u8; 256 * 1024];
    let classifier = Interpreter::new(&model, &mut arena, &OpResolver::all()).unwrap();
    let mut storage = vec![0i8; 1200];
    let mut listener = SwwListener::new(classifier, &mut storage, config).unwrap();
    assert_eq!(listener.classes(), 3);
    let (mut all, mut detections) = (Vec::new(), Vec::new());
    // Chunks of 160 samples (10 ms), as a device would receive them.
    for chunk in samples.chunks(160) {
        listener
            .push(chunk, |c: &Classification<'_>| {
                all.push((c.hop, c.end_ms, c.scores.to_vec()));
                if let Some(d) = c.detection {
                    detections.push((c.end_ms, d.class));
                }
            })
            .unwrap();
    }
    (all, detections)
}

#[test]
fn marvin_clip_is_marvin() {
    let samples = first_channel("marvin_617de221_0.wav");
    let (all, _) = stream(&samples);
    // 1 s gives 30 frames: exactly one classification, on the whole clip.
    assert_eq!(all.len(), 1);
    let scores = &all[0].2;
    eprintln!("marvin_617de221_0.wav scores (marvin, silent, other): {scores:?}");
    let best = (0..3).rev().max_by_key(|c| scores[*c]).unwrap();
    assert_eq!(best, 0, "marvin expected, scores {scores:?}");
}

/// `sww_short_test.json`'s wake-word windows, in seconds.
fn windows() -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(sww("sww_short_test.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json[0]["wav_file"], "short_wav_easy10s.wav");
    json[0]["detection_windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w[0].as_f64().unwrap(), w[1].as_f64().unwrap()))
        .collect()
}

/// The whole stream's scores equal TFLM's on the numpy reference's features
/// (quantized the same way), window by window: front-end and classifier
/// together against an independent front-end and TFLM.
#[test]
fn stream_scores_equal_tflm_on_reference_features() {
    let name = "short_wav_easy10s.wav";
    let (all, _) = stream(&first_channel(name));
    let theirs = numpy_features(name);
    let quantized: Vec<[i8; SWW_BANDS]> = theirs
        .iter()
        .map(|f| {
            let mut q = [0i8; SWW_BANDS];
            quantize(f, SCALE, -128, &mut q);
            q
        })
        .collect();
    let case = Case {
        model: sww("str_ww_ref_model.tflite"),
        steps: (0..=quantized.len() - 30)
            .map(|i| {
                vec![Array {
                    shape: vec![1, 30, 1, 40],
                    dtype: TensorType::Int8,
                    data: quantized[i..i + 30]
                        .iter()
                        .flatten()
                        .map(|v| *v as u8)
                        .collect(),
                }]
            })
            .collect(),
    };
    let expected = run(Engine::Tflm, &[case]).remove(0).unwrap();
    assert_eq!(all.len(), expected.steps.len());
    for ((hop, _, ours), step) in all.iter().zip(&expected.steps) {
        let tflm: Vec<i8> = step[0].data.iter().map(|b| *b as i8).collect();
        assert_eq!(ours, &tflm, "window ending at hop {hop}");
    }
}

/// Stream `short_wav_easy10s.wav` with `config`; returns (detection times in
/// s, the highest marvin int8 score within each wake-word window or 0.5 s
/// after it), and checks `evaluate.py`'s rules: a detection is false unless it
/// falls within a window or 1 s after it. Detection times are the end of the
/// newest 64 ms window, which is where `evaluate.py` places each output (to
/// within 16 ms).
fn evaluate(config: DetectorConfig) -> (Vec<f64>, Vec<i8>) {
    let samples = first_channel("short_wav_easy10s.wav");
    let (all, detections) = stream_with(&samples, config);
    assert_eq!(all.len(), 1 + (samples.len() - SWW_WINDOW) / SWW_HOP - 29);
    assert!(detections.iter().all(|(_, class)| *class == 0));
    let times: Vec<f64> = detections.iter().map(|(t, _)| *t as f64 / 1000.0).collect();
    let windows = windows();
    assert_eq!(windows.len(), 3);
    for t in &times {
        assert!(
            windows
                .iter()
                .any(|(start, stop)| (*start..=stop + 1.0).contains(t)),
            "false detection at {t} s (threshold {})",
            config.threshold
        );
    }
    let peaks = windows
        .iter()
        .map(|(start, stop)| {
            all.iter()
                .filter(|(_, t, _)| (*start..=stop + 0.5).contains(&(*t as f64 / 1000.0)))
                .map(|(_, _, s)| s[0])
                .max()
                .unwrap()
        })
        .collect();
    (times, peaks)
}

/// The benchmark's own rule (`evaluate.py`: marvin probability > 0.95, no
/// smoothing; the reference submission's `out > 115`): wake words 1 and 2 are
/// found, nothing is falsely detected, and wake word 3 is missed, because the
/// reference model's marvin score peaks at int8 100 (0.89) there: 100 with
/// the numpy front-end and TFLM too (test above), 104 with LiteRT (see
/// docs/audio.md). The model's miss, not the front-end's.
#[test]
fn benchmark_threshold_finds_two_of_three_and_no_false_detection() {
    let (times, peaks) = evaluate(mote_audio::SWW_BENCHMARK_DETECTOR);
    eprintln!("threshold 0.95: detections {times:?}, marvin peaks per window {peaks:?}");
    let windows = windows();
    let found: Vec<bool> = windows
        .iter()
        .map(|(start, stop)| times.iter().any(|t| (*start..=stop + 0.5).contains(t)))
        .collect();
    assert_eq!(found, [true, true, false], "detections {times:?}");
    assert_eq!(
        times.len(),
        2,
        "one detection per found wake word: {times:?}"
    );
    // Wake word 1 is detected inside its window; 2 at 0.26 s after its end.
    assert!((windows[0].0..=windows[0].1).contains(&times[0]));
    assert!(peaks[0] > 115 && peaks[1] > 115);
    assert!(peaks[2] <= 115, "third wake word peak {}", peaks[2]);
}

/// mote's default (threshold 0.5, chosen on the calibration samples): all three
/// wake words are found, each once, and nothing else.
#[test]
fn default_detector_finds_all_three_wake_words_and_nothing_else() {
    let (times, _) = evaluate(SWW_DETECTOR);
    eprintln!("threshold 0.5: detections {times:?}");
    let found: Vec<usize> = windows()
        .iter()
        .map(|(start, stop)| {
            times
                .iter()
                .filter(|t| (*start..=stop + 0.5).contains(*t))
                .count()
        })
        .collect();
    assert_eq!(found, [1, 1, 1], "detections {times:?}");
    assert_eq!(times.len(), 3, "{times:?}");
}

/// Outside the wake words (and the second after each), the reference model's
/// marvin score stays below the third wake word's peak, so a lower threshold
/// would find all three on this file without a false detection; the margin is
/// measured and printed, not tuned into a default.
#[test]
fn marvin_scores_outside_the_wake_words_stay_below_the_weakest_peak() {
    let samples = first_channel("short_wav_easy10s.wav");
    let (all, _) = stream(&samples);
    let windows = windows();
    let outside = all
        .iter()
        .filter(|(_, t, _)| {
            let t = *t as f64 / 1000.0;
            !windows
                .iter()
                .any(|(start, stop)| (*start..=stop + 1.0).contains(&t))
        })
        .map(|(_, _, s)| s[0])
        .max()
        .unwrap();
    let near = |(start, stop): (f64, f64)| {
        all.iter()
            .filter(|(_, t, _)| (start..=stop + 0.5).contains(&(*t as f64 / 1000.0)))
            .map(|(_, t, s)| (s[0], *t))
            .max()
            .unwrap()
    };
    let third = near(windows[2]);
    eprintln!("highest marvin int8 outside the wake words: {outside}; third wake word peak {third:?} (int8, ms)");
    assert!(
        outside < third.0,
        "outside {outside} vs third peak {third:?}"
    );
}
