//! The latency-vs-rate chart of `smps search` (plotters, SVG): every trial as a point (green
//! pass, red fail, grey generator-limited), the latency bound as a dashed line, the found rate
//! as a vertical line.

use std::time::Duration;

use plotters::prelude::*;
use smps_load::{SearchReport, Verdict};

fn plot_err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("cannot draw the chart: {e}")
}

/// The chart of a search as SVG text.
pub(crate) fn draw(
    report: &SearchReport,
    percentile: f64,
    bound: Duration,
) -> anyhow::Result<String> {
    let bound_ms = bound.as_secs_f64() * 1000.0;
    let x_max = report.trials.iter().map(|t| t.rps).fold(1.0f64, f64::max) * 1.1;
    // Far-over-capacity trials can be seconds slow; the interesting part is near the bound.
    let y_max = report
        .trials
        .iter()
        .map(|t| t.latency_ms)
        .fold(bound_ms, f64::max)
        .min(bound_ms * 4.0)
        * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("p{percentile} latency by offered rate"),
                ("sans-serif", 22),
            )
            .margin(12)
            .margin_right(40)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0f64..x_max, 0.0f64..y_max)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("offered rate (requests/s)")
            .y_desc(format!("p{percentile} latency (ms, corrected)"))
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, bound_ms), (x_max, bound_ms)],
                8,
                6,
                BLACK.stroke_width(1),
            ))
            .map_err(plot_err)?
            .label(format!("objective: {bound_ms:.3} ms"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        if let Some(rate) = report.rate {
            chart
                .draw_series(LineSeries::new(
                    [(rate, 0.0), (rate, y_max)],
                    BLUE.stroke_width(2),
                ))
                .map_err(plot_err)?
                .label(format!("highest sustainable rate: {rate:.1}/s"))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
        }
        // The curve through the passing and failing trials, in rate order.
        let mut curve: Vec<(f64, f64)> = report
            .trials
            .iter()
            .filter(|t| t.verdict != Verdict::GeneratorLimited)
            .map(|t| (t.rps, t.latency_ms.min(y_max)))
            .collect();
        curve.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(LineSeries::new(curve, BLACK.mix(0.3).stroke_width(1)))
            .map_err(plot_err)?;
        for (verdict, color, name) in [
            (Verdict::Pass, GREEN, "pass"),
            (Verdict::Fail, RED, "fail"),
            (
                Verdict::GeneratorLimited,
                RGBColor(128, 128, 128),
                "generator-limited",
            ),
        ] {
            let points: Vec<(f64, f64)> = report
                .trials
                .iter()
                .filter(|t| t.verdict == verdict)
                .map(|t| (t.rps, t.latency_ms.min(y_max)))
                .collect();
            if points.is_empty() {
                continue;
            }
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(move |p| Circle::new(p, 5, color.filled())),
                )
                .map_err(plot_err)?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, color.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}
