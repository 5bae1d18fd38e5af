//! Statistics for distribution checks: Pearson's χ² goodness-of-fit test.
//!
//! A `distribution` operation sends *n* requests and counts which backend served each. For the
//! backends with weight > 0, the expected count of backend *i* is `n·wᵢ/Σw`. The statistic
//! `χ² = Σ (oᵢ − eᵢ)² / eᵢ` is compared with the χ² distribution with `k − 1` degrees of freedom;
//! the check fails when the p-value is below α.
//!
//! **False-fail rate.** On a mesh that splits exactly as configured, one attempt fails with
//! probability ≈ α (the test is asymptotic; it is accurate when every expected count is at least 5,
//! which the runner enforces). With `attempts` independent retries the check only fails if every
//! attempt fails, so the false-fail rate is ≈ α^attempts. The defaults (α = 0.001, 2 attempts)
//! give ≈ 10⁻⁶ per check. Weight-0 backends are judged exactly: a single request there fails.

use statrs::distribution::{ChiSquared, ContinuousCDF};

/// The upper tail `P(X ≥ statistic)` of the χ² distribution with `df` degrees of freedom (statrs's
/// regularised incomplete gamma function), or NaN if `df` is 0.
fn p_value(statistic: f64, df: usize) -> f64 {
    ChiSquared::new(df as f64).map_or(f64::NAN, |d| d.sf(statistic))
}

/// Result of a χ² goodness-of-fit test.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct ChiSquare {
    /// The statistic.
    pub statistic: f64,
    /// Degrees of freedom.
    pub degrees_of_freedom: usize,
    /// The p-value.
    pub p_value: f64,
}

/// Pearson's χ² test of `observed` counts against expected `shares` (which must sum to 1).
///
/// Returns `None` if fewer than two categories or any share is not positive.
#[must_use]
pub fn chi_square(observed: &[u64], shares: &[f64]) -> Option<ChiSquare> {
    if observed.len() != shares.len() || observed.len() < 2 || shares.iter().any(|s| *s <= 0.0) {
        return None;
    }
    let n: u64 = observed.iter().sum();
    let n = n as f64;
    let statistic: f64 = observed
        .iter()
        .zip(shares)
        .map(|(o, s)| {
            let e = n * s;
            (*o as f64 - e).powi(2) / e
        })
        .sum();
    let df = observed.len() - 1;
    Some(ChiSquare {
        statistic,
        degrees_of_freedom: df,
        p_value: p_value(statistic, df),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_match_tables() {
        // χ²(1) critical value 3.841 at p = 0.05; χ²(2) 5.991; χ²(1) 10.828 at p = 0.001.
        assert!((p_value(3.841, 1) - 0.05).abs() < 1e-3);
        assert!((p_value(5.991, 2) - 0.05).abs() < 1e-3);
        assert!((p_value(10.828, 1) - 0.001).abs() < 1e-4);
        assert!((p_value(0.0, 3) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_sixty_forty_split_fails_a_seventy_five_twenty_five_check() {
        let r = chi_square(&[240, 160], &[0.75, 0.25]).unwrap();
        assert!(r.p_value < 1e-6, "{r:?}");
        let ok = chi_square(&[302, 98], &[0.75, 0.25]).unwrap();
        assert!(ok.p_value > 0.05, "{ok:?}");
        assert!(chi_square(&[1], &[1.0]).is_none());
    }
}
