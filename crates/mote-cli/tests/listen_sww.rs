//! `mote listen --frontend sww`: MLPerf Tiny's streaming wake word with the
//! built-in front-end and the reference model. The 1 s marvin clip is marvin;
//! the 10 s stream gives one detection in the first wake word's window and one
//! within 0.5 s after the second's (the third is too weak for the benchmark's
//! 0.95, see crates/mote-conformance/tests/sww.rs), each with its time.

use std::path::PathBuf;
use std::process::{Command, Output};

fn sww(name: &str) -> String {
    let dir = std::env::var_os("MOTE_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/assets")
        });
    let path = dir.join("mlperf-tiny/sww").join(name);
    assert!(
        path.is_file(),
        "SWW asset missing: {} (set MOTE_ASSETS to the shared assets folder)",
        path.display()
    );
    path.display().to_string()
}

/// `mote listen WAV --frontend sww` with the reference model and labels, plus `extra`.
fn listen(wav: &str, extra: &[&str]) -> Output {
    let model = sww("str_ww_ref_model.tflite");
    Command::new(env!("CARGO_BIN_EXE_mote"))
        .args(["listen", &sww(wav), "--frontend", "sww", "--model", &model])
        .args(["--labels", "marvin,silent,other"])
        .args(extra)
        .output()
        .expect("run mote")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "mote failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn marvin_clip_is_marvin() {
    let text = stdout(&listen("marvin_617de221_0.wav", &["--json"]));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["label"], "marvin", "{text}");
    assert!(
        json["scores"][0]["probability"].as_f64().unwrap() > 0.95,
        "{text}"
    );
    let text = stdout(&listen("marvin_617de221_0.wav", &[]));
    assert_eq!(text.lines().next(), Some("marvin"), "{text}");
}

#[test]
fn stream_prints_each_detection_with_its_time() {
    let text = stdout(&listen("short_wav_easy10s.wav", &["--stream", "--json"]));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["seconds"], 10.0);
    let detections = json["detections"].as_array().unwrap();
    let times: Vec<f64> = detections
        .iter()
        .map(|d| d["time_s"].as_f64().unwrap())
        .collect();
    assert!(detections.iter().all(|d| d["label"] == "marvin"), "{text}");
    assert!(detections
        .iter()
        .all(|d| d["probability"].as_f64().unwrap() >= 0.5));
    // sww_short_test.json: [1.0, 1.648], [4.0, 4.762], [7.0, 7.359]; a
    // detection counts up to 0.5 s after its window.
    assert_eq!(times.len(), 3, "{text}");
    assert!((1.0..=1.648 + 0.5).contains(&times[0]), "{text}");
    assert!((4.0..=4.762 + 0.5).contains(&times[1]), "{text}");
    assert!((7.0..=7.359 + 0.5).contains(&times[2]), "{text}");
    // Times are ends of 64 ms windows on the 32 ms grid: (hop * 512 + 1024) / 16000.
    for t in &times {
        let samples = t * 16_000.0 - 1024.0;
        assert_eq!(samples % 512.0, 0.0, "{t}");
    }
    // The text form: one line per detection, time first.
    let text = stdout(&listen("short_wav_easy10s.wav", &["--stream"]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0]
            .trim_start()
            .starts_with(&format!("{:.3} s  marvin", times[0])),
        "{text}"
    );
    // The benchmark's own rule (0.95) misses the third: the model's score
    // peaks at 0.89 there (the same in TFLM).
    let text = stdout(&listen(
        "short_wav_easy10s.wav",
        &["--stream", "--threshold", "0.95"],
    ));
    assert_eq!(text.lines().count(), 2, "{text}");
}

#[test]
fn a_model_path_still_works_and_sww_errors_are_one_line() {
    // A classifier whose input is not a whole number of 40-band frames.
    let kws = PathBuf::from(sww("str_ww_ref_model.tflite"))
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("kws/kws_ref_model_int8.tflite")
        .display()
        .to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_mote"))
        .args(["listen", &sww("marvin_617de221_0.wav"), "--frontend", "sww"])
        .args(["--model", &kws, "--labels", "a,b"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("sww front-end") && err.contains("[40]"),
        "{err}"
    );
    // Wrong labels.
    let out = listen("marvin_617de221_0.wav", &["--labels", "marvin,other"]);
    assert!(!out.status.success());
    // A .tflite front-end path is still a path: a missing file is named.
    let out = Command::new(env!("CARGO_BIN_EXE_mote"))
        .args([
            "listen",
            &sww("marvin_617de221_0.wav"),
            "--frontend",
            "no_such.tflite",
        ])
        .args([
            "--model",
            &sww("str_ww_ref_model.tflite"),
            "--labels",
            "m,s,o",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("no_such.tflite"),
        "{err}"
    );
}
