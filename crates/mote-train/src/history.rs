//! Per-epoch logs and the training history, with CSV and JSON output.

use std::path::Path;

use crate::error::{Error, Result};

/// Named values of one epoch (`loss`, `accuracy`, `val_loss` ...) in a fixed order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Logs {
    entries: Vec<(String, f32)>,
}

impl Logs {
    /// The value logged under `name`.
    pub fn get(&self, name: &str) -> Option<f32> {
        self.entries
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    }

    /// All `(name, value)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f32)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), *v))
    }

    pub(crate) fn push(&mut self, name: impl Into<String>, value: f32) {
        self.entries.push((name.into(), value));
    }
}

/// What `fit` returns: every logged value per epoch (Keras' `history.history`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    columns: Vec<(String, Vec<f32>)>,
}

impl History {
    /// Loss per epoch.
    pub fn loss(&self) -> &[f32] {
        self.get("loss").unwrap_or(&[])
    }

    /// Values of `name` per epoch (`accuracy`, `val_loss` ...).
    pub fn get(&self, name: &str) -> Option<&[f32]> {
        self.columns
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The names logged, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|(k, _)| k.as_str())
    }

    /// Number of epochs recorded.
    pub fn epochs(&self) -> usize {
        self.columns.first().map_or(0, |(_, v)| v.len())
    }

    pub(crate) fn record(&mut self, logs: &Logs) {
        for (name, value) in logs.iter() {
            match self.columns.iter_mut().find(|(k, _)| k == name) {
                Some((_, values)) => values.push(value),
                None => self.columns.push((name.to_string(), vec![value])),
            }
        }
    }

    /// CSV with a header `epoch,loss,...` and one row per epoch (epochs from 1).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("epoch");
        for (k, _) in &self.columns {
            out.push(',');
            out.push_str(k);
        }
        out.push('\n');
        for e in 0..self.epochs() {
            out.push_str(&(e + 1).to_string());
            for (_, v) in &self.columns {
                out.push(',');
                out.push_str(&v.get(e).map_or(String::new(), |x| x.to_string()));
            }
            out.push('\n');
        }
        out
    }

    /// JSON object `{"loss": [...], ...}` like Keras' `history.history`
    /// (non-finite values as `null`).
    pub fn to_json(&self) -> String {
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|(k, v)| {
                let values: Vec<String> = v
                    .iter()
                    .map(|x| {
                        if x.is_finite() {
                            x.to_string()
                        } else {
                            "null".into()
                        }
                    })
                    .collect();
                format!("\"{}\": [{}]", k.replace('"', "\\\""), values.join(", "))
            })
            .collect();
        format!("{{{}}}", columns.join(", "))
    }

    /// Writes CSV (`.csv`) or JSON (any other extension) to `path`, through a
    /// temporary file renamed into place.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let text = if path.extension().is_some_and(|e| e == "csv") {
            self.to_csv()
        } else {
            self.to_json()
        };
        write_atomically(path, text.as_bytes())
    }
}

impl History {
    /// An SVG drawing of the loss and the metrics per epoch.
    pub fn to_svg(&self) -> String {
        crate::plot::history_svg(self)
    }

    /// Writes [`History::to_svg`] to `path`, through a temporary file renamed into place.
    pub fn save_svg(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomically(path.as_ref(), self.to_svg().as_bytes())
    }
}

/// Writes `bytes` to `path` whole or not at all.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::files::write_atomic(path, bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_json() {
        let mut h = History::default();
        for (loss, acc) in [(0.5, 0.75), (0.25, 1.0)] {
            let mut logs = Logs::default();
            logs.push("loss", loss);
            logs.push("accuracy", acc);
            h.record(&logs);
        }
        assert_eq!(h.loss(), &[0.5, 0.25]);
        assert_eq!(h.to_csv(), "epoch,loss,accuracy\n1,0.5,0.75\n2,0.25,1\n");
        assert_eq!(
            h.to_json(),
            "{\"loss\": [0.5, 0.25], \"accuracy\": [0.75, 1]}"
        );
        let dir = std::env::temp_dir().join(format!("mote-history-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("h.csv");
        h.save(&file).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), h.to_csv());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
