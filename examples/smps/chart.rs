//! `smps chart`: an SVG latency chart (plotters) from result files.
//!
//! The top panel is the latency distribution by percentile on a log scale (the HdrHistogram
//! style: x = 1 / (1 − p), so 90 %, 99 %, 99.9 % are evenly spaced). A portable result gives the
//! whole distribution; an SMP result gives its min, p50, p90, p99 and max only, drawn as
//! markers joined by a line. When a result carries a per-interval series, a second panel shows
//! p99 latency and throughput per interval. Several results are overlaid (mesh vs no mesh).

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use smps_load::{PortableReport, Report};
use smps_model::{PerformanceTestResult, ReadOptions};

use crate::{InputLimit, Outcome, model_error, write_file};

/// Arguments of `smps chart`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Result files: portable results (`smps run --portable`) or SMP results in any dialect.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The SVG file to write.
    #[arg(short, long)]
    output: PathBuf,
    /// Legend labels, one per input, in order (default: the file names).
    #[arg(long = "label")]
    labels: Vec<String>,
    /// Chart title.
    #[arg(long, default_value = "Latency by percentile")]
    title: String,
    #[command(flatten)]
    limit: InputLimit,
}

/// One input's data.
struct Series {
    label: String,
    /// (x = 1 / (1 − p), latency ms), increasing x.
    distribution: Vec<(f64, f64)>,
    /// Whether `distribution` holds a few summary points rather than a full histogram.
    sparse: bool,
    /// Per-interval (seconds from start, p99 ms, requests/s).
    intervals: Vec<(f64, f64, f64)>,
}

/// The largest x drawn: 99.999 %.
const X_MAX: f64 = 100_000.0;

pub(crate) fn run(args: &Args) -> Outcome {
    if !args.labels.is_empty() && args.labels.len() != args.inputs.len() {
        return Err(anyhow::anyhow!(
            "--label given {} times for {} inputs",
            args.labels.len(),
            args.inputs.len()
        )
        .into());
    }
    let mut all = Vec::with_capacity(args.inputs.len());
    for (i, path) in args.inputs.iter().enumerate() {
        let label = args
            .labels
            .get(i)
            .cloned()
            .unwrap_or_else(|| file_label(path));
        all.push(load(path, label, args.limit)?);
    }
    let svg = draw(&all, &args.title)?;
    write_file(&args.output, svg.as_bytes())?;
    Ok(())
}

fn file_label(path: &Path) -> String {
    path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

fn load(path: &Path, label: String, limit: InputLimit) -> anyhow::Result<Series> {
    let text = limit.read_text(path)?;
    let value: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    let is_portable = value
        .as_ref()
        .and_then(|v| v.get("format"))
        .and_then(|f| f.as_str())
        .is_some_and(|f| f.starts_with("smps-load/"));
    if is_portable {
        let portable: PortableReport = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: not a portable result: {e}", path.display()))?;
        let report = Report::from_portable(&portable)
            .map_err(|e| anyhow::Error::from(e).context(path.display().to_string()))?;
        return Ok(from_report(&report, label));
    }
    let result: PerformanceTestResult =
        smps_model::read_as(&text, &ReadOptions::default()).map_err(|e| model_error(path, e))?;
    let l = result.latencies_ms.ok_or_else(|| {
        anyhow::anyhow!("{}: the result has no latencies to chart", path.display())
    })?;
    Ok(Series {
        label,
        distribution: vec![
            (1.0, l.min),
            (2.0, l.p50),
            (10.0, l.p90),
            (100.0, l.p99),
            (X_MAX, l.max),
        ],
        sparse: true,
        intervals: Vec::new(),
    })
}

fn from_report(report: &Report, label: String) -> Series {
    let h = &report.measured.latency;
    let mut distribution = Vec::new();
    if !h.is_empty() {
        // 20 points per decade of 1/(1-p), up to the last sample.
        let last = (h.len() as f64).min(X_MAX);
        let mut k = 0;
        loop {
            let x = 10f64.powf(f64::from(k) / 20.0);
            if x > last {
                break;
            }
            let q = 1.0 - 1.0 / x;
            distribution.push((x, h.value_at_quantile(q) as f64 / 1000.0));
            k += 1;
        }
        distribution.push((last.max(1.0), h.max() as f64 / 1000.0));
    }
    // The last interval of a run is usually a sliver (the run ends mid-second); its rate and
    // p99 rest on a handful of responses, so slivers under half the usual length are left out.
    let nominal = report
        .intervals
        .first()
        .map_or(0.0, |s| (s.end - s.start).as_secs_f64());
    let intervals = report
        .intervals
        .iter()
        .filter(|s| (s.end - s.start).as_secs_f64() >= nominal / 2.0)
        .map(|s| (s.end.as_secs_f64(), s.latency.p99, s.rate))
        .collect();
    Series {
        label,
        distribution,
        sparse: false,
        intervals,
    }
}

fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 1.0 / x);
    if p < 1e-9 {
        "0%".to_owned()
    } else {
        let digits = (x.log10().round() as usize).saturating_sub(2);
        format!("{p:.digits$}%")
    }
}

fn draw(all: &[Series], title: &str) -> anyhow::Result<String> {
    let with_series = all.iter().any(|s| !s.intervals.is_empty());
    let height = if with_series { 900 } else { 520 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let (top, bottom) = if with_series {
            root.split_vertically(520)
        } else {
            (root.clone(), root.clone())
        };
        let y_max = all
            .iter()
            .flat_map(|s| s.distribution.iter().map(|p| p.1))
            .fold(0.0f64, f64::max)
            .max(0.001)
            * 1.1;
        let mut chart = ChartBuilder::on(&top)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .margin_right(40)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d((1.0f64..X_MAX).log_scale(), 0.0f64..y_max)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("percentile")
            .y_desc("latency (ms)")
            .x_label_formatter(&|x| percentile_label(*x))
            .draw()
            .map_err(plot_err)?;
        for (i, s) in all.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let style = color.stroke_width(2);
            let label = if s.sparse {
                format!("{} (min, p50, p90, p99; max at right edge)", s.label)
            } else {
                s.label.clone()
            };
            // A result's max has no percentile: it is a marker at the right edge, not joined.
            let joined = if s.sparse {
                &s.distribution[..s.distribution.len().saturating_sub(1)]
            } else {
                &s.distribution[..]
            };
            chart
                .draw_series(LineSeries::new(joined.iter().copied(), style))
                .map_err(plot_err)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            if s.sparse {
                chart
                    .draw_series(
                        s.distribution
                            .iter()
                            .map(|&(x, y)| Circle::new((x, y), 4, color.filled())),
                    )
                    .map_err(plot_err)?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(plot_err)?;

        if with_series {
            let t_max = all
                .iter()
                .flat_map(|s| s.intervals.iter().map(|p| p.0))
                .fold(1.0f64, f64::max);
            let p99_max = all
                .iter()
                .flat_map(|s| s.intervals.iter().map(|p| p.1))
                .fold(0.001f64, f64::max)
                * 1.1;
            let rate_max = all
                .iter()
                .flat_map(|s| s.intervals.iter().map(|p| p.2))
                .fold(1.0f64, f64::max)
                * 1.1;
            let mut series = ChartBuilder::on(&bottom)
                .caption(
                    "Per interval: p99 latency (solid) and throughput (dashed)",
                    ("sans-serif", 18),
                )
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .right_y_label_area_size(70)
                .build_cartesian_2d(0.0f64..t_max, 0.0f64..p99_max)
                .map_err(plot_err)?
                .set_secondary_coord(0.0f64..t_max, 0.0f64..rate_max);
            series
                .configure_mesh()
                .x_desc("time (s)")
                .y_desc("p99 latency (ms)")
                .draw()
                .map_err(plot_err)?;
            series
                .configure_secondary_axes()
                .y_desc("requests/s")
                .draw()
                .map_err(plot_err)?;
            for (i, s) in all.iter().enumerate() {
                let color = Palette99::pick(i).to_rgba();
                series
                    .draw_series(LineSeries::new(
                        s.intervals.iter().map(|p| (p.0, p.1)),
                        color.stroke_width(2),
                    ))
                    .map_err(plot_err)?;
                series
                    .draw_secondary_series(DashedLineSeries::new(
                        s.intervals.iter().map(|p| (p.0, p.2)),
                        6,
                        4,
                        color.stroke_width(1),
                    ))
                    .map_err(plot_err)?;
            }
        }
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}

fn plot_err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("cannot draw the chart: {e}")
}
