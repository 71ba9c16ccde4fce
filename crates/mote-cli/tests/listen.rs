//! `mote listen`: TFLM's micro_speech clips give TFLM's labels and int8
//! scores; streams report detections with times; bad inputs give one line.

use std::path::PathBuf;
use std::process::{Command, Output};

fn assets() -> PathBuf {
    let dir = std::env::var_os("MOTE_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/assets")
        });
    assert!(
        dir.join("MANIFEST.md").is_file(),
        "test assets not found at {} (set MOTE_ASSETS to the shared assets folder)",
        dir.display()
    );
    dir
}

fn speech(rel: &str) -> String {
    assets()
        .join("tflm/micro_speech")
        .join(rel)
        .display()
        .to_string()
}

/// `mote listen WAV` with the micro_speech models and labels, plus `extra`.
fn listen(wav: &str, extra: &[&str]) -> Output {
    let pre = speech("audio_preprocessor_int8.tflite");
    let cls = speech("micro_speech_quantized.tflite");
    let mut args = vec!["listen", wav, "--frontend", &pre, "--model", &cls];
    args.extend_from_slice(&["--labels", "silence,unknown,yes,no"]);
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_mote"))
        .args(&args)
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

/// A failed run: non-zero exit, one line on stderr containing every `what`.
fn assert_error(out: &Output, what: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for w in what {
        assert!(err.contains(w), "'{w}' expected in: {err}");
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mote-listen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn clips_get_tflm_labels_and_scores() {
    // The MANIFEST's TFLM table, [silence, unknown, yes, no].
    let cases = [
        ("yes_1000ms.wav", "yes", [-128, -128, 127, -128]),
        ("no_1000ms.wav", "no", [-128, -114, -128, 114]),
        ("silence_1000ms.wav", "silence", [-42, -68, -68, -78]),
        ("noise_1000ms.wav", "silence", [120, -125, -126, -125]),
    ];
    for (wav, label, scores) in cases {
        let text = stdout(&listen(&speech(&format!("testdata/{wav}")), &["--json"]));
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["label"], label, "{wav}");
        let got: Vec<i64> = (0..4)
            .map(|i| json["scores"][i]["int8"].as_i64().unwrap())
            .collect();
        assert_eq!(got, scores, "{wav}");
        // The text form starts with the label.
        let text = stdout(&listen(&speech(&format!("testdata/{wav}")), &[]));
        assert_eq!(text.lines().next(), Some(label), "{wav}");
    }
}

#[test]
fn stream_reports_the_word_with_its_time() {
    let text = stdout(&listen(
        &speech("testdata/yes_1000ms.wav"),
        &["--stream", "--json"],
    ));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let detections = json["detections"].as_array().unwrap();
    assert_eq!(detections.len(), 1, "{text}");
    assert_eq!(detections[0]["label"], "yes");
    // The only full window ends at 480 + 48 * 320 samples = 0.99 s.
    assert_eq!(detections[0]["time_s"], 0.99);
    // Silence never triggers.
    let text = stdout(&listen(
        &speech("testdata/silence_1000ms.wav"),
        &["--stream"],
    ));
    assert!(text.starts_with("no detection"), "{text}");
}

#[test]
fn stereo_uses_the_first_channel_and_short_clips_are_padded() {
    let dir = scratch("stereo");
    let yes = mote_audio::wav::read(
        std::path::Path::new(&speech("testdata/yes_1000ms.wav")),
        16_000,
    )
    .unwrap()
    .samples;
    let stereo: Vec<i16> = yes.iter().flat_map(|s| [*s, s.wrapping_mul(3)]).collect();
    let path = dir.join("stereo.wav");
    std::fs::write(&path, mote_audio::wav::encode(&stereo, 2, 16_000)).unwrap();
    let text = stdout(&listen(path.to_str().unwrap(), &[]));
    assert_eq!(text.lines().next(), Some("yes"), "{text}");
    // 30 ms of audio: padded to one second with silence, still classified.
    let text = stdout(&listen(&speech("testdata/yes_30ms.wav"), &["--json"]));
    assert!(text.contains("\"label\""), "{text}");
}

#[test]
fn bad_inputs_fail_with_one_clear_line() {
    let dir = scratch("bad");
    let rate = dir.join("8k.wav");
    std::fs::write(&rate, mote_audio::wav::encode(&[0; 800], 1, 8_000)).unwrap();
    assert_error(
        &listen(rate.to_str().unwrap(), &[]),
        &["8000 Hz", "16000 Hz"],
    );
    let mut eight = mote_audio::wav::encode(&[0; 800], 1, 16_000);
    eight[34] = 8;
    let eight_path = dir.join("8bit.wav");
    std::fs::write(&eight_path, eight).unwrap();
    assert_error(&listen(eight_path.to_str().unwrap(), &[]), &["8-bit"]);
    let text_path = dir.join("text.wav");
    std::fs::write(&text_path, "not audio").unwrap();
    assert_error(&listen(text_path.to_str().unwrap(), &[]), &["RIFF"]);
    // A classifier whose input is not a whole number of 40-value frames.
    let kws = assets().join("mlperf-tiny/kws/kws_ref_model_int8.tflite");
    let pre = speech("audio_preprocessor_int8.tflite");
    let out = Command::new(env!("CARGO_BIN_EXE_mote"))
        .args([
            "listen",
            &speech("testdata/yes_1000ms.wav"),
            "--frontend",
            &pre,
        ])
        .args(["--model", kws.to_str().unwrap(), "--labels", "a,b"])
        .output()
        .unwrap();
    assert_error(&out, &["[40]", "[1, 49, 10, 1]"]);
    // Wrong number of labels.
    let pre = speech("audio_preprocessor_int8.tflite");
    let cls = speech("micro_speech_quantized.tflite");
    let out = Command::new(env!("CARGO_BIN_EXE_mote"))
        .args([
            "listen",
            &speech("testdata/yes_1000ms.wav"),
            "--frontend",
            &pre,
        ])
        .args(["--model", &cls, "--labels", "yes,no"])
        .output()
        .unwrap();
    assert_error(&out, &["4 classes", "2 labels"]);
}
