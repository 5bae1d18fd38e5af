//! Go-style duration strings (`30s`, `1h30m`, `500ms`, `1.5h`, `10µs`).
//!
//! SMP's `PerformanceTestConfig.duration` is a plain string in the protos, and every producer
//! in the field (Meshery, mesheryctl, the SMP GitHub action) writes Go's `time.Duration`
//! syntax there. [`GoDuration`] parses that grammar exactly, keeps the text it was read from so
//! that writing it back gives the same bytes, and exposes the value as a signed nanosecond count
//! or a [`std::time::Duration`].

use std::fmt;
use std::str::FromStr;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration written in Go's `time.ParseDuration` syntax.
///
/// The grammar is an optional sign followed by one or more `<decimal><unit>` pairs, where the
/// decimal may have a fraction (`1.5h`) and the unit is one of `ns`, `us`, `µs` (or `μs`),
/// `ms`, `s`, `m` and `h`. A bare number such as `30` is rejected: it is the most common mistake
/// in hand-written SMP files, and guessing its unit would silently change the test.
///
/// Two durations compare equal when they denote the same length of time (`90m == 1h30m`); the
/// original spelling is kept only for writing back ([`GoDuration::as_str`]).
///
/// # Examples
///
/// ```
/// use smps_model::GoDuration;
///
/// let d: GoDuration = "1h30m".parse()?;
/// assert_eq!(d.as_nanos(), 5_400_000_000_000);
/// assert_eq!(d.as_str(), "1h30m");
/// assert_eq!(d, GoDuration::from_std(std::time::Duration::from_secs(90 * 60))?);
/// assert!("30".parse::<GoDuration>().is_err());
/// # Ok::<(), smps_model::DurationError>(())
/// ```
#[derive(Clone, Debug)]
pub struct GoDuration {
    nanos: i64,
    text: String,
}

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// The string was empty.
    #[error("empty duration: expected a Go duration such as `30s` or `1h30m`")]
    Empty,
    /// A number was given without a unit (for example `30`).
    #[error(
        "missing unit in duration `{text}`: write a unit such as `{text}s` (units: ns, us, µs, ms, s, m, h)"
    )]
    MissingUnit {
        /// The rejected text.
        text: String,
    },
    /// The unit is not one of Go's.
    #[error("unknown unit `{unit}` in duration `{text}` (units: ns, us, µs, ms, s, m, h)")]
    UnknownUnit {
        /// The rejected text.
        text: String,
        /// The unit found.
        unit: String,
    },
    /// The text is not a duration at all.
    #[error("invalid duration `{text}`: expected a Go duration such as `30s` or `1h30m`")]
    Invalid {
        /// The rejected text.
        text: String,
    },
    /// The value does not fit in Go's 64-bit nanosecond range (about ±292 years).
    #[error("duration `{text}` is out of range (at most about 292 years)")]
    Overflow {
        /// The rejected text.
        text: String,
    },
}

const NANOS_PER_MICRO: u128 = 1_000;
const NANOS_PER_MILLI: u128 = 1_000_000;
const NANOS_PER_SEC: u128 = 1_000_000_000;
const NANOS_PER_MIN: u128 = 60 * NANOS_PER_SEC;
const NANOS_PER_HOUR: u128 = 60 * NANOS_PER_MIN;

impl GoDuration {
    /// Parses Go duration syntax.
    ///
    /// # Errors
    ///
    /// Returns a [`DurationError`] naming what is wrong: no unit, an unknown unit, garbage, or
    /// a value outside Go's `int64` nanosecond range.
    pub fn parse(text: &str) -> Result<Self, DurationError> {
        let nanos = parse_nanos(text)?;
        Ok(GoDuration {
            nanos,
            text: text.to_owned(),
        })
    }

    /// Builds a duration from a signed nanosecond count; it is spelled as Go's
    /// `Duration.String()` would (`1h30m0s`, `1.5s`, `500ms`).
    pub fn from_nanos(nanos: i64) -> Self {
        GoDuration {
            nanos,
            text: format_go(nanos),
        }
    }

    /// Builds a duration from a [`std::time::Duration`].
    ///
    /// # Errors
    ///
    /// [`DurationError::Overflow`] when it exceeds Go's range (about 292 years).
    pub fn from_std(duration: std::time::Duration) -> Result<Self, DurationError> {
        let nanos = i64::try_from(duration.as_nanos()).map_err(|_| DurationError::Overflow {
            text: format!("{duration:?}"),
        })?;
        Ok(Self::from_nanos(nanos))
    }

    /// Signed length in nanoseconds.
    pub fn as_nanos(&self) -> i64 {
        self.nanos
    }

    /// Length in (possibly fractional, possibly negative) seconds.
    pub fn as_secs_f64(&self) -> f64 {
        self.nanos as f64 / 1e9
    }

    /// The length as a [`std::time::Duration`], or `None` when negative.
    pub fn to_std(&self) -> Option<std::time::Duration> {
        u64::try_from(self.nanos)
            .ok()
            .map(std::time::Duration::from_nanos)
    }

    /// Whether the duration is negative.
    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// Whether the duration is zero.
    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// The text the duration was read from (or Go's spelling, when built from a number).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for GoDuration {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl Eq for GoDuration {}

impl std::hash::Hash for GoDuration {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.nanos.hash(state);
    }
}

impl PartialOrd for GoDuration {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GoDuration {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for GoDuration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => NANOS_PER_MICRO,
        "ms" => NANOS_PER_MILLI,
        "s" => NANOS_PER_SEC,
        "m" => NANOS_PER_MIN,
        "h" => NANOS_PER_HOUR,
        _ => return None,
    })
}

fn parse_nanos(text: &str) -> Result<i64, DurationError> {
    let invalid = || DurationError::Invalid {
        text: text.to_owned(),
    };
    let overflow = || DurationError::Overflow {
        text: text.to_owned(),
    };
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let (negative, mut rest) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if rest.is_empty() {
        return Err(invalid());
    }
    // Total in nanoseconds, kept as u128 so that every intermediate step is exact.
    let mut total: u128 = 0;
    while !rest.is_empty() {
        // Integer part.
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_digits, after_int) = rest.split_at(int_len);
        let mut frac_digits = "";
        let mut after_number = after_int;
        if let Some(after_dot) = after_int.strip_prefix('.') {
            let frac_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            frac_digits = &after_dot[..frac_len];
            after_number = &after_dot[frac_len..];
        }
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(invalid());
        }
        let unit_len = after_number
            .char_indices()
            .find(|&(_, c)| c == '.' || c.is_ascii_digit())
            .map_or(after_number.len(), |(i, _)| i);
        let (unit, after_unit) = after_number.split_at(unit_len);
        if unit.is_empty() {
            return Err(DurationError::MissingUnit {
                text: text.to_owned(),
            });
        }
        let scale = unit_nanos(unit).ok_or_else(|| DurationError::UnknownUnit {
            text: text.to_owned(),
            unit: unit.to_owned(),
        })?;
        let mut int_value: u128 = 0;
        for b in int_digits.bytes() {
            int_value = int_value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u128::from(b - b'0')))
                .filter(|&v| v <= i64::MAX as u128 + 1)
                .ok_or_else(overflow)?;
        }
        let mut part = int_value.checked_mul(scale).ok_or_else(overflow)?;
        // Fraction: exact up to nanosecond precision; further digits are truncated like Go.
        let mut frac_scale = scale;
        for b in frac_digits.bytes() {
            if frac_scale < 10 {
                break;
            }
            frac_scale /= 10;
            part += u128::from(b - b'0') * frac_scale;
        }
        total = total.checked_add(part).ok_or_else(overflow)?;
        if total > i64::MAX as u128 + 1 {
            return Err(overflow());
        }
        rest = after_unit;
    }
    if negative {
        if total == i64::MAX as u128 + 1 {
            return Ok(i64::MIN);
        }
        Ok(-(total as i64))
    } else {
        i64::try_from(total).map_err(|_| overflow())
    }
}

/// Formats like Go's `time.Duration.String()`.
fn format_go(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".to_owned();
    }
    let negative = nanos < 0;
    let u = nanos.unsigned_abs();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if u < 1_000_000_000 {
        // Sub-second: one unit with a fraction.
        let (unit, scale) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        push_fraction(&mut out, u, scale);
        out.push_str(unit);
        return out;
    }
    let hours = u / 3_600_000_000_000;
    let rem = u % 3_600_000_000_000;
    let minutes = rem / 60_000_000_000;
    let sec_nanos = rem % 60_000_000_000;
    if hours > 0 {
        out.push_str(&hours.to_string());
        out.push('h');
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&minutes.to_string());
        out.push('m');
    }
    push_fraction(&mut out, sec_nanos, 1_000_000_000);
    out.push('s');
    out
}

fn push_fraction(out: &mut String, value: u64, scale: u64) {
    out.push_str(&(value / scale).to_string());
    let frac = value % scale;
    if frac > 0 {
        let width = scale.ilog10() as usize;
        let digits = format!("{frac:0width$}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }
}

struct DurationVisitor;

impl<'de> Visitor<'de> for DurationVisitor {
    type Value = GoDuration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Go duration string such as \"30s\" or \"1h30m\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        GoDuration::parse(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Err(E::custom(format_args!(
            "bare number {v} is not a duration: write a unit, for example \"{v}s\""
        )))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Err(E::custom(format_args!(
            "bare number {v} is not a duration: write a unit, for example \"{v}s\""
        )))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(E::custom(format_args!(
            "bare number {v} is not a duration: write a unit, for example \"{v}s\""
        )))
    }

    /// The `google.protobuf.Duration` message as Go's `encoding/json` writes it
    /// (`{"seconds": 30, "nanos": 0}`), used by the 2020 protos.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let (seconds, nanos) = crate::de::seconds_nanos(map)?;
        let total = seconds
            .checked_mul(1_000_000_000)
            .and_then(|s| s.checked_add(nanos))
            .ok_or_else(|| de::Error::custom("duration out of range"))?;
        Ok(GoDuration::from_nanos(total))
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for GoDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "GoDuration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A Go duration string such as `30s`, `1h30m` or `500ms`.",
            "type": "string",
            "pattern": "^[-+]?([0-9]*(\\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nanos(s: &str) -> i64 {
        GoDuration::parse(s).unwrap().as_nanos()
    }

    #[test]
    fn parses_every_unit_and_combination() {
        assert_eq!(nanos("30s"), 30_000_000_000);
        assert_eq!(nanos("30m"), 1_800_000_000_000);
        assert_eq!(nanos("1h30m"), 5_400_000_000_000);
        assert_eq!(nanos("500ms"), 500_000_000);
        assert_eq!(nanos("1.5h"), 5_400_000_000_000);
        assert_eq!(nanos("10µs"), 10_000);
        assert_eq!(nanos("10μs"), 10_000);
        assert_eq!(nanos("10us"), 10_000);
        assert_eq!(nanos("7ns"), 7);
        assert_eq!(nanos("0s"), 0);
        assert_eq!(nanos("-5s"), -5_000_000_000);
        assert_eq!(nanos("+5s"), 5_000_000_000);
        assert_eq!(nanos(".5s"), 500_000_000);
        assert_eq!(nanos("1.s"), 1_000_000_000);
        assert_eq!(nanos("2h45m10.5s"), 9_910_500_000_000);
        assert_eq!(nanos("1.0000000009s"), 1_000_000_000);
    }

    #[test]
    fn rejects_bare_numbers_garbage_and_overflow() {
        assert!(matches!(
            GoDuration::parse("30"),
            Err(DurationError::MissingUnit { .. })
        ));
        assert!(matches!(
            GoDuration::parse("abc"),
            Err(DurationError::Invalid { .. })
        ));
        assert!(matches!(
            GoDuration::parse("5d"),
            Err(DurationError::UnknownUnit { .. })
        ));
        assert!(matches!(GoDuration::parse(""), Err(DurationError::Empty)));
        assert!(GoDuration::parse("-").is_err());
        assert!(GoDuration::parse("s").is_err());
        assert!(GoDuration::parse("1.2.3s").is_err());
        assert!(matches!(
            GoDuration::parse("3000000h"),
            Err(DurationError::Overflow { .. })
        ));
        assert!(matches!(
            GoDuration::parse("99999999999999999999999999s"),
            Err(DurationError::Overflow { .. })
        ));
        assert_eq!(nanos("-2562047h47m16.854775808s"), i64::MIN);
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(GoDuration::from_nanos(0).as_str(), "0s");
        assert_eq!(
            GoDuration::from_nanos(5_400_000_000_000).as_str(),
            "1h30m0s"
        );
        assert_eq!(GoDuration::from_nanos(1_500_000_000).as_str(), "1.5s");
        assert_eq!(GoDuration::from_nanos(500_000_000).as_str(), "500ms");
        assert_eq!(GoDuration::from_nanos(1_500).as_str(), "1.5µs");
        assert_eq!(GoDuration::from_nanos(61_000_000_000).as_str(), "1m1s");
        assert_eq!(GoDuration::from_nanos(-61_000_000_000).as_str(), "-1m1s");
        assert_eq!(
            GoDuration::from_nanos(i64::MIN).as_str(),
            "-2562047h47m16.854775808s"
        );
    }

    #[test]
    fn keeps_the_original_spelling_and_compares_by_length() {
        let a = GoDuration::parse("90m").unwrap();
        let b = GoDuration::parse("1h30m").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "90m");
        assert_eq!(a.to_string(), "90m");
    }

    #[test]
    fn formatted_text_parses_back_to_the_same_value() {
        for n in [
            1,
            999,
            1_000,
            1_234_567,
            59_999_999_999,
            3_600_000_000_001,
            -7,
        ] {
            let d = GoDuration::from_nanos(n);
            assert_eq!(GoDuration::parse(d.as_str()).unwrap().as_nanos(), n);
        }
    }
}
