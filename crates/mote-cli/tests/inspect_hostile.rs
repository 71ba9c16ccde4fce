//! `mote inspect` on damaged files: it prints the report or exits non-zero
//! with a one-line `error: ...`, never a panic.

use std::path::{Path, PathBuf};
use std::process::Command;

fn assets() -> PathBuf {
    let dir = std::env::var_os("MOTE_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/assets"));
    assert!(
        dir.join("MANIFEST.md").is_file(),
        "test assets not found at {} (set MOTE_ASSETS to the shared assets folder)",
        dir.display()
    );
    dir
}

/// SplitMix64.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[test]
fn damaged_models_give_a_one_line_error_or_a_report() {
    let original =
        std::fs::read(assets().join("tflm/micro_speech/micro_speech_quantized.tflite")).unwrap();
    let dir = std::env::temp_dir().join(format!("mote-inspect-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("damaged.tflite");
    let mut state = 0x1234_5678;
    let (mut refused, mut reported) = (0, 0);
    for case in 0..60 {
        let mut bytes = original.clone();
        match case % 3 {
            // Truncated.
            0 => bytes.truncate((next(&mut state) % bytes.len() as u64) as usize),
            // A rewritten u32 in the FlatBuffer part.
            1 => {
                let at = (next(&mut state) % 2048) as usize & !3;
                let v = next(&mut state) as u32 >> (next(&mut state) % 32);
                bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
            // Flipped bits.
            _ => {
                for _ in 0..4 {
                    let at = (next(&mut state) % 2048) as usize;
                    bytes[at] ^= 1 << (next(&mut state) % 8);
                }
            }
        }
        std::fs::write(&path, &bytes).unwrap();
        for json in [false, true] {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_mote"));
            cmd.arg("inspect").arg(&path);
            if json {
                cmd.arg("--json");
            } else {
                cmd.arg("--verbose");
            }
            let out = cmd.output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !stderr.contains("panicked"),
                "case {case}: mote panicked: {stderr}"
            );
            if out.status.success() {
                reported += 1;
                assert!(!out.stdout.is_empty(), "case {case}: no report");
            } else {
                refused += 1;
                assert_eq!(out.status.code(), Some(1), "case {case}: {stderr}");
                assert_eq!(stderr.lines().count(), 1, "case {case}: {stderr}");
                assert!(stderr.starts_with("error: "), "case {case}: {stderr}");
                assert!(stderr.contains("damaged.tflite"), "case {case}: {stderr}");
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(refused >= 40, "{refused} refused, {reported} reported");
}
