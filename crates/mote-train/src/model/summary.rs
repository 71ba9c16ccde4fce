//! `summary()`: the table of layers, output shapes and parameter counts.

use super::Model;

impl Model {
    /// A Keras-like table of the layers with output shapes and parameter counts.
    pub fn summary(&self) -> String {
        let functional = self.nodes.iter().skip(1).any(|n| n.inputs.len() != 1);
        let mut rows = vec![(
            "Layer (type)".to_string(),
            "Output Shape".to_string(),
            "Param #".to_string(),
            "Connected to".to_string(),
        )];
        for node in &self.nodes[1..] {
            let shape = if self.built {
                let dims: Vec<String> = node.shape.iter().map(usize::to_string).collect();
                format!("(None, {})", dims.join(", "))
            } else {
                "?".into()
            };
            let sources: Vec<&str> = node
                .inputs
                .iter()
                .map(|&j| {
                    if j == 0 {
                        "input"
                    } else {
                        self.nodes[j].name.as_str()
                    }
                })
                .collect();
            rows.push((
                format!("{} ({})", node.name, node.layer.kind()),
                shape,
                group_thousands(node.layer.param_count()),
                sources.join(", "),
            ));
        }
        let width = |f: fn(&(String, String, String, String)) -> usize| {
            rows.iter().map(f).max().unwrap_or(0) + 2
        };
        let (w0, w1, w2) = (
            width(|r| r.0.len()),
            width(|r| r.1.len()),
            width(|r| r.2.len()),
        );
        let total_width = w0 + w1 + w2 + if functional { width(|r| r.3.len()) } else { 0 };
        let mut out = String::new();
        for (i, (a, b, c, d)) in rows.iter().enumerate() {
            let mut line = format!("{a:<w0$}{b:<w1$}{c:>w2$}");
            if functional {
                line.push_str("  ");
                line.push_str(d);
            }
            out.push_str(line.trim_end());
            out.push('\n');
            if i == 0 {
                out.push_str(&"=".repeat(total_width));
                out.push('\n');
            }
        }
        let trainable: usize = self
            .layers()
            .flat_map(|l| l.params())
            .filter(|p| p.trainable())
            .map(|p| p.value().len())
            .sum();
        let total = self.param_count();
        out.push_str(&"=".repeat(total_width));
        out.push('\n');
        out.push_str(&format!("Total params: {}\n", group_thousands(total)));
        out.push_str(&format!(
            "Trainable params: {}\n",
            group_thousands(trainable)
        ));
        out.push_str(&format!(
            "Non-trainable params: {}\n",
            group_thousands(total - trainable)
        ));
        out
    }
}

/// 12345 -> "12,345".
fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, Dense, Sequential};

    #[test]
    fn table_of_the_digits_mlp() {
        // 64*32 + 32 = 2080 and 32*10 + 10 = 330 parameters
        let model = Sequential::new([
            Dense::new(32)
                .activation(Activation::Relu)
                .input_shape([64]),
            Dense::new(10).activation(Activation::Softmax),
        ]);
        let text = model.summary();
        assert!(text.contains("dense (Dense)"), "{text}");
        assert!(
            text.contains("(None, 32)") && text.contains("2,080"),
            "{text}"
        );
        assert!(
            text.contains("dense_1 (Dense)") && text.contains("330"),
            "{text}"
        );
        assert!(text.contains("Total params: 2,410"), "{text}");
        assert_eq!(group_thousands(1234567), "1,234,567");
    }
}
