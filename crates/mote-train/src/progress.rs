//! The progress reporter of `fit`: `epoch N/M - loss: X` lines, or one
//! updating bar for long runs on a terminal.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::history::Logs;

/// How much `fit` prints (Keras' `verbose`; `0`, `1`, `2` convert to it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verbosity {
    /// Lines for short runs (<= 20 epochs); for longer runs an updating bar
    /// on a terminal, else about ten lines.
    #[default]
    Auto,
    /// Nothing (`verbose(0)`).
    Silent,
    /// One line redrawn with `\r` (`verbose(1)`).
    Bar,
    /// One line per epoch (`verbose(2)`).
    Lines,
}

impl From<u8> for Verbosity {
    fn from(level: u8) -> Self {
        match level {
            0 => Verbosity::Silent,
            1 => Verbosity::Bar,
            _ => Verbosity::Lines,
        }
    }
}

enum Mode {
    Silent,
    Bar,
    /// A line every `every` epochs, and for the first and last.
    Lines {
        every: usize,
    },
}

/// Writes training progress to a sink (stderr by default).
pub(crate) struct Progress<'a> {
    out: Box<dyn Write + 'a>,
    mode: Mode,
    epochs: usize,
    last_draw: Option<Instant>,
}

const BAR_WIDTH: usize = 30;
const BAR_INTERVAL: Duration = Duration::from_millis(100);

impl<'a> Progress<'a> {
    /// `out` None means stderr (then `Auto` may choose a bar on a terminal).
    pub fn new(verbosity: Verbosity, out: Option<Box<dyn Write + 'a>>, epochs: usize) -> Self {
        let terminal = out.is_none() && std::io::stderr().is_terminal();
        let mode = match verbosity {
            Verbosity::Silent => Mode::Silent,
            Verbosity::Bar => Mode::Bar,
            Verbosity::Lines => Mode::Lines { every: 1 },
            Verbosity::Auto if epochs <= 20 => Mode::Lines { every: 1 },
            Verbosity::Auto if terminal => Mode::Bar,
            Verbosity::Auto => Mode::Lines {
                every: epochs.div_ceil(10),
            },
        };
        Progress {
            out: out.unwrap_or_else(|| Box::new(std::io::stderr())),
            mode,
            epochs,
            last_draw: None,
        }
    }

    /// Reports the end of `epoch` (1-based) with its logs and duration.
    /// Progress output is best effort: a failing sink never stops training.
    pub fn epoch_end(&mut self, epoch: usize, logs: &Logs, took: Duration) {
        let last = epoch == self.epochs;
        let mut values = String::new();
        for (name, value) in logs.iter() {
            values.push_str(&format!(" - {name}: {value:.4}"));
        }
        match self.mode {
            Mode::Silent => {}
            Mode::Lines { every } => {
                if epoch == 1 || last || epoch.is_multiple_of(every) {
                    let ms = took.as_secs_f64() * 1e3;
                    let _ = writeln!(
                        self.out,
                        "epoch {epoch}/{}{values} - {ms:.2} ms",
                        self.epochs
                    );
                }
            }
            Mode::Bar => {
                let due = self.last_draw.is_none_or(|t| t.elapsed() >= BAR_INTERVAL);
                if due || last {
                    self.last_draw = Some(Instant::now());
                    let filled = BAR_WIDTH * epoch / self.epochs.max(1);
                    let bar: String = (0..BAR_WIDTH)
                        .map(|i| {
                            if i < filled {
                                '='
                            } else if i == filled {
                                '>'
                            } else {
                                '.'
                            }
                        })
                        .collect();
                    let end = if last { "\n" } else { "" };
                    let _ = write!(
                        self.out,
                        "\repoch {epoch}/{} [{bar}]{values}{end}",
                        self.epochs
                    );
                    let _ = self.out.flush();
                }
            }
        }
    }

    /// Ends an interrupted bar line (early stop) and writes a note.
    pub fn note(&mut self, message: &str) {
        match self.mode {
            Mode::Silent => {}
            Mode::Bar => {
                let _ = writeln!(self.out, "\n{message}");
            }
            Mode::Lines { .. } => {
                let _ = writeln!(self.out, "{message}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn run(verbosity: Verbosity, epochs: usize) -> String {
        let sink = Sink::default();
        let mut p = Progress::new(verbosity, Some(Box::new(sink.clone())), epochs);
        let mut logs = Logs::default();
        logs.push("loss", 0.5);
        for e in 1..=epochs {
            p.epoch_end(e, &logs, Duration::from_millis(2));
        }
        let bytes = sink.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn lines_are_throttled_for_long_runs() {
        assert!(run(Verbosity::Auto, 3).starts_with("epoch 1/3 - loss: 0.5000 - 2.00 ms\n"));
        assert_eq!(run(Verbosity::Auto, 3).lines().count(), 3);
        // 500 epochs to a non-terminal: epoch 1 and every 50th -> 11 lines
        let text = run(Verbosity::Auto, 500);
        assert_eq!(text.lines().count(), 11, "{text}");
        assert!(text.ends_with("epoch 500/500 - loss: 0.5000 - 2.00 ms\n"));
        assert_eq!(run(Verbosity::Silent, 5), "");
    }

    #[test]
    fn bar_redraws_one_line() {
        let text = run(Verbosity::Bar, 4);
        assert!(text.starts_with("\repoch 1/4 ["), "{text:?}");
        assert!(
            text.ends_with("epoch 4/4 [==============================] - loss: 0.5000\n"),
            "{text:?}"
        );
        assert_eq!(text.matches('\n').count(), 1);
    }
}
