//! Reading 16-bit PCM WAV files (host side).

use std::path::Path;

/// A decoded WAV file: its rate and the samples of its first channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wav {
    /// Samples per second.
    pub sample_rate: u32,
    /// Channels in the file (only the first is kept).
    pub channels: u16,
    /// The first channel's samples.
    pub samples: Vec<i16>,
}

/// Why a WAV file was refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum WavError {
    /// The file could not be read.
    Io(std::io::Error),
    /// Not a RIFF/WAVE file.
    NotRiff,
    /// The file ends inside a chunk.
    Truncated {
        /// The chunk.
        chunk: String,
        /// Bytes it declares.
        declared: usize,
        /// Bytes present.
        present: usize,
    },
    /// No `fmt ` or `data` chunk.
    MissingChunk(&'static str),
    /// Not integer PCM (e.g. float or compressed).
    NotPcm {
        /// The format tag found (1 is PCM, 3 float, 0xFFFE extensible).
        format: u16,
    },
    /// PCM with a sample width other than 16 bits.
    NotSixteenBit {
        /// Bits per sample found.
        bits: u16,
    },
    /// No channels.
    NoChannels,
    /// A sample rate other than the one expected.
    SampleRate {
        /// The file's rate.
        found: u32,
        /// The rate needed.
        expected: u32,
    },
}

impl std::fmt::Display for WavError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::NotRiff => f.write_str("not a WAV file (no RIFF/WAVE header)"),
            Self::Truncated {
                chunk,
                declared,
                present,
            } => write!(
                f,
                "truncated WAV: chunk `{chunk}` declares {declared} bytes, the file has {present}"
            ),
            Self::MissingChunk(c) => write!(f, "WAV file has no `{c}` chunk"),
            Self::NotPcm { format } => write!(
                f,
                "WAV format {format} ({}) is not supported: only 16-bit integer PCM",
                match format {
                    3 => "float",
                    6 | 7 => "G.711",
                    2 | 17 => "ADPCM",
                    _ => "not PCM",
                }
            ),
            Self::NotSixteenBit { bits } => write!(
                f,
                "WAV has {bits}-bit samples, only 16-bit PCM is supported"
            ),
            Self::NoChannels => f.write_str("WAV declares 0 channels"),
            Self::SampleRate { found, expected } => write!(
                f,
                "WAV sample rate is {found} Hz, the front-end needs {expected} Hz"
            ),
        }
    }
}

impl std::error::Error for WavError {}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Decodes WAV bytes: 16-bit PCM, any number of channels (the first is kept),
/// any length. Refuses other formats with the mismatch named.
pub fn decode(bytes: &[u8]) -> Result<Wav, WavError> {
    if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Err(WavError::NotRiff);
    }
    let mut at = 12;
    let mut format = None;
    let mut data = None;
    while at + 8 <= bytes.len() {
        let id = String::from_utf8_lossy(bytes.get(at..at + 4).unwrap_or_default()).into_owned();
        let len = u32_at(bytes, at + 4).unwrap_or(0) as usize;
        let body = at + 8;
        let present = bytes.len() - body;
        if len > present {
            return Err(WavError::Truncated {
                chunk: id,
                declared: len,
                present,
            });
        }
        let chunk = bytes.get(body..body + len).unwrap_or_default();
        match id.as_str() {
            "fmt " => format = Some(chunk),
            "data" => data = Some(chunk),
            _ => {}
        }
        at = body + len + (len & 1);
    }
    let fmt = format.ok_or(WavError::MissingChunk("fmt "))?;
    let truncated = || WavError::Truncated {
        chunk: "fmt ".into(),
        declared: 16,
        present: fmt.len(),
    };
    let mut tag = u16_at(fmt, 0).ok_or_else(truncated)?;
    let channels = u16_at(fmt, 2).ok_or_else(truncated)?;
    let sample_rate = u32_at(fmt, 4).ok_or_else(truncated)?;
    let bits = u16_at(fmt, 14).ok_or_else(truncated)?;
    if tag == 0xFFFE {
        // WAVE_FORMAT_EXTENSIBLE: the real tag opens the sub-format GUID.
        tag = u16_at(fmt, 24).unwrap_or(0xFFFE);
    }
    if tag != 1 {
        return Err(WavError::NotPcm { format: tag });
    }
    if bits != 16 {
        return Err(WavError::NotSixteenBit { bits });
    }
    if channels == 0 {
        return Err(WavError::NoChannels);
    }
    let data = data.ok_or(WavError::MissingChunk("data"))?;
    let frame = 2 * usize::from(channels);
    let samples = data
        .chunks_exact(frame)
        .filter_map(|f| Some(i16::from_le_bytes(f.get(..2)?.try_into().ok()?)))
        .collect();
    Ok(Wav {
        sample_rate,
        channels,
        samples,
    })
}

/// Reads a WAV file and checks its rate is `expected_rate`.
pub fn read(path: &Path, expected_rate: u32) -> Result<Wav, WavError> {
    let wav = decode(&std::fs::read(path).map_err(WavError::Io)?)?;
    if wav.sample_rate != expected_rate {
        return Err(WavError::SampleRate {
            found: wav.sample_rate,
            expected: expected_rate,
        });
    }
    Ok(wav)
}

/// Writes 16-bit PCM WAV bytes (for tests and tools).
pub fn encode(samples: &[i16], channels: u16, sample_rate: u32) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut b = Vec::with_capacity(44 + samples.len() * 2);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&sample_rate.to_le_bytes());
    b.extend_from_slice(&(sample_rate * 2 * u32::from(channels)).to_le_bytes());
    b.extend_from_slice(&(2 * channels).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mono_and_stereo_keep_the_first_channel() {
        let wav = decode(&encode(&[1, -2, 3], 1, 16_000)).unwrap();
        assert_eq!((wav.sample_rate, wav.channels), (16_000, 1));
        assert_eq!(wav.samples, [1, -2, 3]);
        let wav = decode(&encode(&[1, 10, -2, 20], 2, 16_000)).unwrap();
        assert_eq!(wav.samples, [1, -2]);
    }

    #[test]
    fn refuses_other_formats_naming_the_mismatch() {
        let good = encode(&[0; 8], 1, 16_000);
        let mut float = good.clone();
        float[20] = 3;
        assert!(decode(&float).unwrap_err().to_string().contains("float"));
        let mut eight = good.clone();
        eight[34] = 8;
        assert!(decode(&eight).unwrap_err().to_string().contains("8-bit"));
        let mut adpcm = good.clone();
        adpcm[20] = 2;
        assert!(decode(&adpcm).unwrap_err().to_string().contains("ADPCM"));
        assert!(decode(&good[..good.len() - 3])
            .unwrap_err()
            .to_string()
            .contains("truncated"));
        assert!(decode(b"OggS....")
            .unwrap_err()
            .to_string()
            .contains("RIFF"));
        assert!(decode(&good[..20]).unwrap_err().to_string().contains("fmt"));
        for end in 0..good.len() {
            let _ = decode(&good[..end]);
        }
    }

    #[test]
    fn wrong_rate_is_refused() {
        let dir = std::env::temp_dir().join(format!("mote-wav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.wav");
        std::fs::write(&path, encode(&[0; 4], 1, 8_000)).unwrap();
        let err = read(&path, 16_000).unwrap_err().to_string();
        assert!(err.contains("8000 Hz") && err.contains("16000 Hz"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
