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

/// Natural log of the gamma function (Lanczos approximation, g = 7, n = 9), for `x > 0`.
#[must_use]
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection formula.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Regularised upper incomplete gamma function `Q(s, x)`.
#[must_use]
pub fn gamma_q(s: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x < s + 1.0 {
        // Series for P(s, x).
        let mut sum = 1.0 / s;
        let mut term = sum;
        let mut n = s;
        for _ in 0..500 {
            n += 1.0;
            term *= x / n;
            sum += term;
            if term.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        let p = sum * (-x + s * x.ln() - ln_gamma(s)).exp();
        (1.0 - p).clamp(0.0, 1.0)
    } else {
        // Continued fraction for Q(s, x) (modified Lentz).
        let tiny = 1e-300;
        let mut b = x + 1.0 - s;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..500 {
            let an = -(i as f64) * (i as f64 - s);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-15 {
                break;
            }
        }
        (h * (-x + s * x.ln() - ln_gamma(s)).exp()).clamp(0.0, 1.0)
    }
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
        p_value: gamma_q(df as f64 / 2.0, statistic / 2.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_match_tables() {
        // χ²(1) critical value 3.841 at p = 0.05; χ²(2) 5.991; χ²(1) 10.828 at p = 0.001.
        assert!((gamma_q(0.5, 3.841 / 2.0) - 0.05).abs() < 1e-3);
        assert!((gamma_q(1.0, 5.991 / 2.0) - 0.05).abs() < 1e-3);
        assert!((gamma_q(0.5, 10.828 / 2.0) - 0.001).abs() < 1e-4);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-10);
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
