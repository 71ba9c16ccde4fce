//! A small SVG writer for the training history: one panel for the losses
//! (`loss`, `val_loss`) and one for every other metric, one polyline per key.

use std::fmt::Write;

use crate::history::History;

const WIDTH: f32 = 640.0;
const PANEL_HEIGHT: f32 = 240.0;
const MARGIN_LEFT: f32 = 60.0;
const MARGIN_RIGHT: f32 = 130.0;
const MARGIN_Y: f32 = 30.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
];

/// Escapes text for XML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The SVG document of `history`: loss curves on top, metric curves below.
pub(crate) fn history_svg(history: &History) -> String {
    let (losses, metrics): (Vec<&str>, Vec<&str>) = history
        .keys()
        .partition(|k| *k == "loss" || k.ends_with("_loss"));
    let panels: Vec<(&str, Vec<&str>)> = [("loss", losses), ("metrics", metrics)]
        .into_iter()
        .filter(|(_, keys)| !keys.is_empty())
        .collect();
    let height = PANEL_HEIGHT * panels.len().max(1) as f32;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let epochs = history.epochs();
    for (p, (title, keys)) in panels.iter().enumerate() {
        let top = p as f32 * PANEL_HEIGHT + MARGIN_Y;
        let bottom = (p + 1) as f32 * PANEL_HEIGHT - MARGIN_Y;
        let (left, right) = (MARGIN_LEFT, WIDTH - MARGIN_RIGHT);
        let values = keys
            .iter()
            .filter_map(|k| history.get(k))
            .flatten()
            .copied()
            .filter(|v| v.is_finite());
        let (mut lo, mut hi) = values.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        if hi - lo < 1e-12 {
            hi = lo + 1.0;
        }
        let x = |epoch: usize| {
            left + (right - left) * epoch as f32 / (epochs.saturating_sub(1)).max(1) as f32
        };
        let y = |v: f32| bottom - (bottom - top) * (v - lo) / (hi - lo);
        let _ = writeln!(
            svg,
            r#"<rect x="{left}" y="{top}" width="{}" height="{}" fill="none" stroke="gray"/>"#,
            right - left,
            bottom - top
        );
        let _ = writeln!(
            svg,
            r#"<text x="{left}" y="{}" font-weight="bold">{title}</text>"#,
            top - 8.0
        );
        for (value, anchor_y) in [(hi, top), (lo, bottom)] {
            let _ = writeln!(
                svg,
                r#"<text x="{}" y="{}" text-anchor="end">{value:.4}</text>"#,
                left - 4.0,
                anchor_y + 4.0
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{right}" y="{}" text-anchor="end">epoch {epochs}</text>"#,
            bottom + 16.0
        );
        let _ = writeln!(
            svg,
            r#"<text x="{left}" y="{}">epoch 1</text>"#,
            bottom + 16.0
        );
        for (k, key) in keys.iter().enumerate() {
            let color = COLORS[k % COLORS.len()];
            let points: Vec<String> = history
                .get(key)
                .unwrap_or(&[])
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(e, &v)| format!("{:.1},{:.1}", x(e), y(v)))
                .collect();
            let _ = writeln!(
                svg,
                r##"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/>"##,
                points.join(" ")
            );
            let _ = writeln!(
                svg,
                r##"<text x="{}" y="{}" fill="{color}">{}</text>"##,
                right + 8.0,
                top + 14.0 * (k + 1) as f32,
                escape(key)
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Logs;

    #[test]
    fn one_polyline_per_key_scaled_to_the_panel() {
        let mut h = History::default();
        for (loss, acc) in [(1.0, 0.5), (0.5, 0.75), (0.0, 1.0)] {
            let mut logs = Logs::default();
            logs.push("loss", loss);
            logs.push("accuracy", acc);
            h.record(&logs);
        }
        let svg = history_svg(&h);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        // loss 1 -> 0 over epochs 1..3: from the panel's top-left (60, 30)
        // to its bottom-right (510, 210)
        assert!(
            svg.contains(r#"points="60.0,30.0 285.0,120.0 510.0,210.0""#),
            "{svg}"
        );
        // accuracy in the second panel (y from 270 to 450), rising
        assert!(svg.contains(r#"points="60.0,450.0 285.0,360.0 510.0,270.0""#));
    }
}
