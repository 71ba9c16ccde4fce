//! The audio part of `mote demo`: hear "yes" and "no" from TFLM's example
//! clips and show their feature frames as a small picture.

use std::path::Path;

use anyhow::{Context, Result};
use mote_audio::{wav, Classification, DetectorConfig, Listener, SAMPLE_RATE};
use mote_runtime::{Interpreter, Model, OpResolver};

const LABELS: [&str; 4] = ["silence", "unknown", "yes", "no"];
/// Shades from quiet to loud.
const SHADES: [char; 5] = [' ', '░', '▒', '▓', '█'];

/// Runs the audio part with the shared assets at `assets`; says so and
/// returns `Ok` when they are not there (a fresh clone has none).
pub fn run_audio_part(assets: &Path) -> Result<()> {
    print!("{}", audio_part(assets)?);
    Ok(())
}

/// The audio part's text.
fn audio_part(assets: &Path) -> Result<String> {
    use std::fmt::Write;
    let mut text = String::new();
    let dir = assets.join("tflm/micro_speech");
    let pre_path = dir.join("audio_preprocessor_int8.tflite");
    let cls_path = dir.join("micro_speech_quantized.tflite");
    if !pre_path.is_file() || !cls_path.is_file() {
        writeln!(
            text,
            "Audio: skipped — the micro_speech models are not at {} (set MOTE_ASSETS to the shared assets).",
            dir.display()
        )?;
        return Ok(text);
    }
    writeln!(
        text,
        "Audio: TFLM's micro_speech front-end (signal ops) and classifier, on mote's runtime."
    )?;
    let pre_bytes = std::fs::read(&pre_path).with_context(|| pre_path.display().to_string())?;
    let cls_bytes = std::fs::read(&cls_path).with_context(|| cls_path.display().to_string())?;
    let pre = Model::parse(&pre_bytes).with_context(|| pre_path.display().to_string())?;
    let cls = Model::parse(&cls_bytes).with_context(|| cls_path.display().to_string())?;
    let (mut a1, mut a2) = (vec![0u8; 64 << 10], vec![0u8; 64 << 10]);
    let frontend = Interpreter::new(&pre, &mut a1, &OpResolver::all())?;
    let classifier = Interpreter::new(&cls, &mut a2, &OpResolver::all())?;
    let mut storage = [0i8; 1960];
    let mut listener = Listener::new(
        frontend,
        classifier,
        &mut storage,
        DetectorConfig::default(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    for word in ["yes", "no"] {
        let path = dir.join("testdata").join(format!("{word}_1000ms.wav"));
        let clip = wav::read(&path, SAMPLE_RATE).with_context(|| path.display().to_string())?;
        listener.reset().map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut scores = Vec::new();
        listener
            .push(&clip.samples, |c: &Classification<'_>| {
                scores = c.scores.to_vec()
            })
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let best = scores
            .iter()
            .enumerate()
            .rev()
            .max_by_key(|(_, s)| **s)
            .map_or(0, |(i, _)| i);
        let probability = scores
            .get(best)
            .map_or(0.0, |s| (f32::from(*s) + 128.0) / 256.0);
        writeln!(
            text,
            "  {word}_1000ms.wav -> heard \"{}\" ({:.1} %)",
            LABELS.get(best).unwrap_or(&"?"),
            probability * 100.0
        )?;
        text.push_str(&picture(listener.features().as_slice(), 40));
    }
    Ok(text)
}

/// The feature frames (`[frame][channel]`, int8) as text: time runs left to
/// right, frequency bottom to top, 4 channels per row.
fn picture(features: &[i8], channels: usize) -> String {
    let frames = features.len() / channels.max(1);
    let rows = channels / 4;
    let mut out = String::new();
    for row in (0..rows).rev() {
        out.push_str("    |");
        for frame in 0..frames {
            let start = frame * channels + row * 4;
            let sum: i32 = features[start..start + 4]
                .iter()
                .map(|v| i32::from(*v))
                .sum();
            // Mean over 4 channels, -128..127, mapped onto the shades.
            let level = ((sum / 4 + 128) * SHADES.len() as i32 / 256).clamp(0, 4);
            out.push(SHADES[level as usize]);
        }
        out.push_str("|\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picture_puts_loud_high_channels_at_the_top() {
        // Two frames of 8 channels: frame 0 loud in channels 4..8, frame 1 quiet.
        let mut f = vec![-128i8; 16];
        f[4..8].fill(127);
        assert_eq!(picture(&f, 8), "    |█ |\n    |  |\n");
    }

    #[test]
    fn missing_assets_are_skipped() {
        let text = audio_part(Path::new("/nonexistent/assets")).unwrap();
        assert!(text.contains("skipped"), "{text}");
        assert!(run_audio_part(Path::new("/nonexistent/assets")).is_ok());
    }

    #[test]
    fn hears_yes_and_no() {
        let assets = std::env::var_os("MOTE_ASSETS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/assets")
            });
        assert!(
            assets.join("MANIFEST.md").is_file(),
            "test assets not found at {} (set MOTE_ASSETS)",
            assets.display()
        );
        let text = audio_part(&assets).unwrap();
        assert!(text.contains("heard \"yes\" (99.6 %)"), "{text}");
        assert!(text.contains("heard \"no\" (94.5 %)"), "{text}");
        // Two pictures of 10 rows of 49 frames.
        assert_eq!(
            text.lines().filter(|l| l.starts_with("    |")).count(),
            20,
            "{text}"
        );
    }
}
