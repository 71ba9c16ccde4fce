//! Hostile input: for every asset model, thousands of seeded mutations (bit
//! flips, truncations, rewritten offsets and lengths, swapped and copied
//! blocks) go through `Model::parse` and, when it accepts them, through a walk
//! of every view and `Interpreter::new`. Each must end in an error or a
//! success: never a panic (the test would fail) and never a hang (a watchdog
//! fails the test after 120 s).

mod support;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mote_runtime::Model;

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

fn models(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            models(&path, out);
        } else if path.extension().is_some_and(|e| e == "tflite") {
            out.push(path);
        }
    }
}

/// SplitMix64: a small seeded generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Positions worth aiming at: the FlatBuffer part of the file (the first
/// 4 KiB hold the root, vtables, most offsets and lengths) more often than
/// the weights.
fn position(rng: &mut Rng, len: usize) -> usize {
    if rng.below(4) == 0 {
        rng.below(len)
    } else {
        rng.below(len.min(4096))
    }
}

/// One mutation of `bytes`, in place (may shorten it).
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let len = bytes.len();
    if len < 8 {
        return;
    }
    match rng.below(6) {
        // Flip 1..=8 bits.
        0 => {
            for _ in 0..1 + rng.below(8) {
                let at = position(rng, len);
                bytes[at] ^= 1 << rng.below(8);
            }
        }
        // Truncate.
        1 => bytes.truncate(rng.below(len)),
        // Rewrite an aligned u32 (an offset, a length, a count) with a value
        // likely to matter.
        2 => {
            let at = position(rng, len - 4) & !3;
            let old = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
            let value = match rng.below(8) {
                0 => 0,
                1 => u32::MAX,
                2 => i32::MAX as u32,
                3 => len as u32,
                4 => (len as u32).wrapping_sub(4),
                5 => old.wrapping_add(1 + rng.below(16) as u32),
                6 => old.wrapping_sub(1 + rng.below(16) as u32),
                _ => rng.next() as u32,
            };
            bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
        }
        // Rewrite a u16 (vtable entries).
        3 => {
            let at = position(rng, len - 2) & !1;
            let value = [0u16, 2, 4, 0xFFFF, rng.next() as u16][rng.below(5)];
            bytes[at..at + 2].copy_from_slice(&value.to_le_bytes());
        }
        // Swap two aligned blocks (vectors, tables, offsets).
        4 => {
            let n = 4 << rng.below(4);
            if len > 2 * n {
                let a = position(rng, len - n) & !3;
                let b = position(rng, len - n) & !3;
                for i in 0..n {
                    bytes.swap(a + i, b + i);
                }
            }
        }
        // Copy a block over another (duplicated vtables and offsets).
        _ => {
            let n = 4 << rng.below(4);
            if len > n {
                let from = position(rng, len - n) & !3;
                let to = position(rng, len - n) & !3;
                bytes.copy_within(from..from + n, to);
            }
        }
    }
}

#[test]
fn mutated_lut_models_are_refused_or_read_never_a_panic() {
    // The LUT digits MLP (`COMPRESSION_METADATA`, 4-bit indices): mutations
    // anywhere, and as often in the file's last 512 bytes, where the
    // compression metadata and value tables are.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/digits_mlp_lut.tflite");
    let original = std::fs::read(path).unwrap();
    let len = original.len();
    assert!(Model::parse(&original).is_ok());
    let mut rng = Rng(0x006C_7574);
    let (mut refused, mut compression) = (0usize, 0usize);
    let cases = 20_000;
    for _ in 0..cases {
        let mut bytes = original.clone();
        if rng.below(2) == 0 {
            let at = len - 1 - rng.below(512);
            bytes[at] ^= 1 << rng.below(8);
            if rng.below(2) == 0 {
                let at = (len - 4 - rng.below(512)) & !3;
                let v = [0u32, 1, 2, 7, 8, 16, 255, u32::MAX][rng.below(8)];
                bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
        } else {
            mutate(&mut rng, &mut bytes);
        }
        match Model::parse(&bytes) {
            Ok(model) => {
                std::hint::black_box(support::walk::walk(&model));
            }
            Err(e) => {
                let text = e.to_string();
                assert!(!text.is_empty());
                compression += usize::from(text.contains("COMPRESSION_METADATA"));
                refused += 1;
            }
        }
    }
    eprintln!(
        "{cases} mutated LUT models: {refused} refused, {compression} by the compression checks"
    );
    assert!(refused > cases / 4, "most mutations must be caught");
    assert!(compression > 0, "the compression checks never fired");
}

#[test]
fn mutated_asset_models_are_refused_or_read_never_a_panic_or_hang() {
    let mut paths = Vec::new();
    models(&assets(), &mut paths);
    paths.sort();
    assert_eq!(paths.len(), 153, "the MANIFEST lists 153 models");
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let start = Instant::now();
        let (mut accepted, mut refused, mut cases) = (0usize, 0usize, 0usize);
        for (m, path) in paths.iter().enumerate() {
            let original = std::fs::read(path).unwrap();
            // Thousands per model; fewer for the few large ones (time).
            let count = if original.len() > 256 * 1024 {
                1000
            } else {
                4000
            };
            let mut rng = Rng(0x6D6F_7465 ^ m as u64);
            for _ in 0..count {
                let mut bytes = original.clone();
                for _ in 0..1 + rng.below(3) {
                    mutate(&mut rng, &mut bytes);
                }
                match Model::parse(&bytes) {
                    Ok(model) => {
                        std::hint::black_box(support::walk::walk(&model));
                        accepted += 1;
                    }
                    Err(e) => {
                        assert!(!e.to_string().is_empty());
                        refused += 1;
                    }
                }
                cases += 1;
            }
        }
        eprintln!(
            "{cases} mutated models: {refused} refused, {accepted} accepted and walked, in {:?}",
            start.elapsed()
        );
        assert!(refused > cases / 4, "most mutations must be caught");
        done.send(()).unwrap();
    });
    match finished.recv_timeout(Duration::from_secs(120)) {
        Ok(()) => worker.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The worker panicked: re-raise its message.
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("parsing mutated models hangs"),
    }
}
