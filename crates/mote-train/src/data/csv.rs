//! CSV tables of numbers with an optional label column; gzip-compressed files
//! (recognized by their magic bytes) are decompressed with `flate2`.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Which column of a CSV file holds the label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelColumn {
    /// No label: every column is a feature.
    None,
    /// The first column.
    First,
    /// The last column.
    Last,
    /// The column at this 0-based index.
    Index(usize),
}

/// Reads a CSV file of numbers into features `[rows, columns]` and labels
/// `[rows]` (empty `[rows]`-less `[0]` tensor when `label` is `None`).
/// A first line with any non-numeric field is taken as a header and skipped.
///
/// ```no_run
/// use mote_train::data::{read_csv, LabelColumn};
/// let (x, y) = read_csv("digits.csv.gz", LabelColumn::Last)?;
/// # Ok::<(), mote_train::Error>(())
/// ```
pub fn read_csv(path: impl AsRef<Path>, label: LabelColumn) -> Result<(Tensor, Tensor)> {
    let path = path.as_ref();
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::read(path).map_err(io)?;
    let text = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .map_err(io)?;
        text
    } else {
        String::from_utf8(bytes).map_err(|_| Error::Format {
            path: path.to_path_buf(),
            message: "not UTF-8 text".into(),
        })?
    };
    parse_csv(&text, label).map_err(|message| Error::Format {
        path: path.to_path_buf(),
        message,
    })
}

/// Parses CSV text; errors name the line and column.
pub(crate) fn parse_csv(text: &str, label: LabelColumn) -> Result<(Tensor, Tensor), String> {
    let mut features = Vec::new();
    let mut labels = Vec::new();
    let mut width = None;
    let mut rows = 0;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let parsed: Vec<Option<f32>> = fields.iter().map(|f| f.parse::<f32>().ok()).collect();
        if n == 0 && parsed.iter().any(Option::is_none) {
            continue; // header
        }
        if *width.get_or_insert(fields.len()) != fields.len() {
            return Err(format!(
                "line {}: {} fields, earlier lines have {}",
                n + 1,
                fields.len(),
                width.unwrap_or(0)
            ));
        }
        let label_index = match label {
            LabelColumn::None => None,
            LabelColumn::First => Some(0),
            LabelColumn::Last => Some(fields.len() - 1),
            LabelColumn::Index(i) if i < fields.len() => Some(i),
            LabelColumn::Index(i) => {
                return Err(format!(
                    "line {}: label column {i} but only {} fields",
                    n + 1,
                    fields.len()
                ))
            }
        };
        for (c, value) in parsed.iter().enumerate() {
            let Some(value) = *value else {
                return Err(format!(
                    "line {}, column {}: '{}' is not a number",
                    n + 1,
                    c + 1,
                    fields[c]
                ));
            };
            if Some(c) == label_index {
                labels.push(value);
            } else {
                features.push(value);
            }
        }
        rows += 1;
    }
    let columns = features.len().checked_div(rows).unwrap_or(0);
    let x = Tensor::new(features, [rows, columns]).map_err(|e| e.to_string())?;
    let y = Tensor::new(labels, [if label == LabelColumn::None { 0 } else { rows }])
        .map_err(|e| e.to_string())?;
    Ok((x, y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn header_labels_and_errors() {
        let text = "a,b,label\n1,2,0\n3,4,1\n";
        let (x, y) = parse_csv(text, LabelColumn::Last).unwrap();
        assert_eq!(x.shape(), &[2, 2]);
        assert_eq!(x.data(), &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(y.data(), &[0.0, 1.0]);
        let (x, y) = parse_csv(text, LabelColumn::First).unwrap();
        assert_eq!(
            (x.data(), y.data()),
            (&[2.0, 0.0, 4.0, 1.0][..], &[1.0, 3.0][..])
        );
        let err = parse_csv("1,2\n3,x\n", LabelColumn::None).unwrap_err();
        assert_eq!(err, "line 2, column 2: 'x' is not a number");
        let err = parse_csv("1,2\n3\n", LabelColumn::None).unwrap_err();
        assert!(err.starts_with("line 2: 1 fields"), "{err}");
    }

    #[test]
    fn reads_gzip() {
        let dir = std::env::temp_dir().join(format!("mote-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.csv.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"0.5,1,2\n").unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let (x, y) = read_csv(&path, LabelColumn::Last).unwrap();
        assert_eq!((x.data(), y.data()), (&[0.5, 1.0][..], &[2.0][..]));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
