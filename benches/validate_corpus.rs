//! The generated corpus shared by `benches/validate.rs` and the `validate-compare` example:
//! `PerformanceTestResult` documents in canonical (camelCase) form, as JSON and as YAML, with
//! every tenth document invalid in a way any JSON Schema validator detects.

/// One generated document.
pub(crate) struct Doc {
    pub(crate) json: String,
    pub(crate) yaml: String,
    pub(crate) invalid: bool,
}

/// A small deterministic generator (SplitMix64), so the corpus is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn float(&mut self, lo: f64, hi: f64) -> f64 {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((lo + unit * (hi - lo)) * 1000.0).round() / 1000.0
    }
}

/// `n` documents; document `i` is invalid when `i % 10 == 9` (five kinds of schema error in
/// turn: a string latency, a malformed timestamp, a list as a label value, a list as the id,
/// a number where the latency object belongs). Each is an error for every JSON Schema
/// validator and for smps-validate, whose verdict follows what smps-model's readers accept:
/// a number where text belongs (`id: 39`) or a two-item latency list are read (a warning),
/// so they would not be equal work.
pub(crate) fn corpus(n: usize) -> Vec<Doc> {
    let mut rng = Rng(0x0005_EED0_F5A9);
    (0..n)
        .map(|i| {
            let min = rng.float(0.2, 2.0);
            let p50 = min + rng.float(1.0, 10.0);
            let p90 = p50 + rng.float(1.0, 20.0);
            let p99 = p90 + rng.float(1.0, 50.0);
            let max = p99 + rng.float(0.0, 100.0);
            let avg = ((min + p50 + p90) / 3.0 * 1000.0).round() / 1000.0;
            let qps = rng.float(10.0, 5000.0);
            let minute = i % 50;
            let invalid = i % 10 == 9;
            let which = (i / 10) % 5;
            let id = format!("\"{:08x}-0000-4000-8000-{:012x}\"", i, rng.next() & 0xFFFF_FFFF_FFFF);
            let id = if invalid && which == 3 { format!("[{i}]") } else { id };
            let start = format!("\"2024-05-01T10:{minute:02}:00Z\"");
            let end = if invalid && which == 1 {
                "\"2024-13-45 25:00\"".to_owned()
            } else {
                format!("\"2024-05-01T10:{minute:02}:30.5Z\"")
            };
            let p99_text = if invalid && which == 0 {
                format!("\"{p99}ms\"")
            } else {
                p99.to_string()
            };
            let label = if invalid && which == 2 { "[7]".to_owned() } else { "\"fortio\"".to_owned() };
            let lat_json = format!(
                "{{\"min\": {min}, \"average\": {avg}, \"p50\": {p50}, \"p90\": {p90}, \"p99\": {p99_text}, \"max\": {max}}}"
            );
            let lat_json = if invalid && which == 4 { format!("{min}") } else { lat_json };
            let json = format!(
                "{{\n  \"smpVersion\": \"v0.6.1\",\n  \"id\": {id},\n  \"labels\": {{\"generator\": {label}, \"run\": \"r{i}\"}},\n  \"startTime\": {start},\n  \"endTime\": {end},\n  \"latenciesMs\": {lat_json},\n  \"actualQps\": {qps},\n  \"detailsUri\": \"https://example.test/runs/{i}\",\n  \"testId\": \"test-{t}\",\n  \"meshConfigId\": \"mesh-1\",\n  \"envId\": \"env-1\"\n}}\n",
                t = i % 7
            );
            let lat_yaml = if invalid && which == 4 {
                format!(" {min}")
            } else {
                format!(
                    "\n  min: {min}\n  average: {avg}\n  p50: {p50}\n  p90: {p90}\n  p99: {p99_text}\n  max: {max}"
                )
            };
            let yaml = format!(
                "smpVersion: v0.6.1\nid: {id}\nlabels:\n  generator: {label}\n  run: r{i}\nstartTime: {start}\nendTime: {end}\nlatenciesMs:{lat_yaml}\nactualQps: {qps}\ndetailsUri: https://example.test/runs/{i}\ntestId: test-{t}\nmeshConfigId: mesh-1\nenvId: env-1\n",
                t = i % 7
            );
            Doc {
                json,
                yaml,
                invalid,
            }
        })
        .collect()
}
