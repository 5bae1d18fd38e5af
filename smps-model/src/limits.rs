//! What a runnable test may ask for: the bounds every crate of the family checks the same way.
//!
//! A document can spell any `int64`, but a load generator cannot send 9.2 × 10¹⁸ requests a
//! second, and a plan whose arrivals cannot be counted exactly in an `f64` cannot be paced.
//! `smps-validate` reports a config over these bounds, and `smps-load` refuses to build an
//! engine from it, with the same numbers, so `smps validate` and `smps run` agree on what is
//! runnable.
//!
//! ```
//! use smps_model::limits;
//!
//! assert!(limits::check_rate(50_000.0).is_ok());
//! let e = limits::check_rate(9.2e18).unwrap_err();
//! assert!(e.contains("10000000"), "{e}");
//! ```

use std::time::Duration;

/// The highest request rate (requests per second, all workers together) a test may ask for:
/// ten million, an order of magnitude above what the fastest generators reach on one machine.
pub const MAX_RPS: u64 = 10_000_000;

/// The most arrivals an open-loop plan may hold: 2⁵³, the largest count an `f64` represents
/// exactly, so every arrival's intended time is computed without rounding the index.
pub const MAX_PLANNED_ARRIVALS: u64 = 1 << 53;

/// The most connections one client may ask for (a generator's file-descriptor table is the
/// real bound; see `smps-load`'s up-front check).
pub const MAX_CONNECTIONS: u64 = 1_000_000;

/// Checks a requested rate against [`MAX_RPS`]; the error says what was asked and the bound.
///
/// # Errors
///
/// A sentence for the user when `rps` is not finite, negative or above [`MAX_RPS`].
pub fn check_rate(rps: f64) -> Result<(), String> {
    if !rps.is_finite() || rps < 0.0 {
        return Err(format!("a rate must be a finite number >= 0, got {rps}"));
    }
    if rps > MAX_RPS as f64 {
        return Err(format!(
            "{rps} requests per second is above the highest runnable rate, {MAX_RPS}"
        ));
    }
    Ok(())
}

/// Checks the planned arrivals of a rate held for a duration against
/// [`MAX_PLANNED_ARRIVALS`].
///
/// # Errors
///
/// A sentence for the user when `rps × duration` is over the bound.
pub fn check_planned(rps: f64, duration: Duration) -> Result<(), String> {
    let planned = rps * duration.as_secs_f64();
    if planned > MAX_PLANNED_ARRIVALS as f64 {
        return Err(format!(
            "{rps} requests per second for {duration:?} plans {planned:.3e} requests, more than the {MAX_PLANNED_ARRIVALS} a plan may hold"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_bounded_and_the_message_names_the_value_and_the_bound() {
        assert!(check_rate(0.0).is_ok());
        assert!(check_rate(MAX_RPS as f64).is_ok());
        let e = check_rate(MAX_RPS as f64 + 1.0).unwrap_err();
        assert!(e.contains("10000001") && e.contains("10000000"), "{e}");
        assert!(check_rate(f64::NAN).is_err());
        assert!(check_rate(-1.0).is_err());
    }

    #[test]
    fn planned_arrivals_are_bounded() {
        assert!(check_planned(MAX_RPS as f64, Duration::from_secs(3600)).is_ok());
        let e = check_planned(MAX_RPS as f64, Duration::from_secs(1 << 40)).unwrap_err();
        assert!(e.contains("more than"), "{e}");
    }
}
