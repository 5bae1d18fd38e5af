//! RFC 3339 timestamps, normalised to UTC (the `google.protobuf.Timestamp` of the SMP protos).

use std::fmt;
use std::str::FromStr;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time with nanosecond precision, always held in UTC.
///
/// Reading accepts RFC 3339 with `Z` or any numeric offset (`+05:30`, as Meshery writes local
/// times), 0 to 9 fraction digits, and `T`, `t` or a space between date and time (YAML's
/// unquoted timestamps). It also accepts the `{"seconds": .., "nanos": ..}` object that Go's
/// `encoding/json` writes for a protobuf `Timestamp`. Writing always gives proto3's canonical
/// form: UTC with `Z` and 0, 3, 6 or 9 fraction digits.
///
/// # Examples
///
/// ```
/// use smps_model::Timestamp;
///
/// let t: Timestamp = "2022-04-26T19:56:40.358118+05:30".parse()?;
/// assert_eq!(t.to_string(), "2022-04-26T14:26:40.358118Z");
/// assert_eq!(t.unix_seconds(), 1_650_983_200);
/// # Ok::<(), smps_model::TimestampError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    seconds: i64,
    nanos: u32,
}

/// Why a timestamp was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The text does not follow RFC 3339.
    #[error(
        "invalid timestamp `{text}`: expected RFC 3339 such as `2020-03-17T14:53:05.499Z` ({reason})"
    )]
    Invalid {
        /// The rejected text.
        text: String,
        /// What was wrong.
        reason: &'static str,
    },
    /// The instant is outside years 0001 to 9999.
    #[error("timestamp out of range: years 0001 to 9999 only")]
    OutOfRange,
}

/// Seconds from 0001-01-01T00:00:00Z to the Unix epoch.
const MIN_SECONDS: i64 = -62_135_596_800;
/// Seconds from the Unix epoch to 9999-12-31T23:59:59Z.
const MAX_SECONDS: i64 = 253_402_300_799;

impl Timestamp {
    /// The Unix epoch, 1970-01-01T00:00:00Z.
    pub const UNIX_EPOCH: Timestamp = Timestamp {
        seconds: 0,
        nanos: 0,
    };

    /// Builds a timestamp from seconds and nanoseconds since the Unix epoch.
    ///
    /// # Errors
    ///
    /// [`TimestampError::OutOfRange`] when `nanos` is 1e9 or more or the instant falls outside
    /// years 0001 to 9999 (the protobuf `Timestamp` range).
    pub fn from_unix(seconds: i64, nanos: u32) -> Result<Self, TimestampError> {
        if nanos >= 1_000_000_000 || !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
            return Err(TimestampError::OutOfRange);
        }
        Ok(Timestamp { seconds, nanos })
    }

    /// Converts a [`std::time::SystemTime`].
    ///
    /// # Errors
    ///
    /// [`TimestampError::OutOfRange`] outside years 0001 to 9999.
    pub fn from_system_time(time: std::time::SystemTime) -> Result<Self, TimestampError> {
        match time.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => {
                let secs = i64::try_from(d.as_secs()).map_err(|_| TimestampError::OutOfRange)?;
                Self::from_unix(secs, d.subsec_nanos())
            }
            Err(e) => {
                let d = e.duration();
                let secs = i64::try_from(d.as_secs()).map_err(|_| TimestampError::OutOfRange)?;
                let (secs, nanos) = if d.subsec_nanos() == 0 {
                    (-secs, 0)
                } else {
                    (-secs - 1, 1_000_000_000 - d.subsec_nanos())
                };
                Self::from_unix(secs, nanos)
            }
        }
    }

    /// Parses RFC 3339 (see the type docs for what is accepted).
    ///
    /// # Errors
    ///
    /// [`TimestampError::Invalid`] naming the problem, or [`TimestampError::OutOfRange`].
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        parse_rfc3339(text)
    }

    /// Whole seconds since the Unix epoch (negative before 1970).
    pub fn unix_seconds(&self) -> i64 {
        self.seconds
    }

    /// Nanoseconds within the second, `0..1_000_000_000`.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// Nanoseconds since the Unix epoch.
    pub fn unix_nanos(&self) -> i128 {
        i128::from(self.seconds) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// Whether this is Go's zero `time.Time` (`0001-01-01T00:00:00Z`), which Go programs
    /// write for "not set".
    pub fn is_go_zero(&self) -> bool {
        self.seconds == MIN_SECONDS && self.nanos == 0
    }

    /// Adds a signed number of nanoseconds.
    ///
    /// # Errors
    ///
    /// [`TimestampError::OutOfRange`] if the result leaves years 0001 to 9999.
    pub fn checked_add_nanos(&self, nanos: i128) -> Result<Self, TimestampError> {
        let total = self.unix_nanos() + nanos;
        let seconds = total.div_euclid(1_000_000_000);
        let sub = total.rem_euclid(1_000_000_000) as u32;
        let seconds = i64::try_from(seconds).map_err(|_| TimestampError::OutOfRange)?;
        Self::from_unix(seconds, sub)
    }
}

fn invalid(text: &str, reason: &'static str) -> TimestampError {
    TimestampError::Invalid {
        text: text.to_owned(),
        reason,
    }
}

fn digits(bytes: &[u8], at: usize, n: usize) -> Option<u32> {
    let slice = bytes.get(at..at + n)?;
    let mut v = 0u32;
    for &b in slice {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(b - b'0');
    }
    Some(v)
}

fn parse_rfc3339(text: &str) -> Result<Timestamp, TimestampError> {
    let b = text.trim().as_bytes();
    let year = digits(b, 0, 4).ok_or_else(|| invalid(text, "bad year"))?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return Err(invalid(text, "date must be YYYY-MM-DD"));
    }
    let month = digits(b, 5, 2).ok_or_else(|| invalid(text, "bad month"))?;
    let day = digits(b, 8, 2).ok_or_else(|| invalid(text, "bad day"))?;
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return Err(invalid(text, "missing time: expected `T` after the date"));
    }
    let hour = digits(b, 11, 2).ok_or_else(|| invalid(text, "bad hour"))?;
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return Err(invalid(text, "time must be HH:MM:SS"));
    }
    let minute = digits(b, 14, 2).ok_or_else(|| invalid(text, "bad minute"))?;
    let second = digits(b, 17, 2).ok_or_else(|| invalid(text, "bad second"))?;
    let mut i = 19;
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let count = i - start;
        if count == 0 || count > 9 {
            return Err(invalid(text, "fraction must have 1 to 9 digits"));
        }
        nanos = digits(b, start, count).unwrap_or(0) * 10u32.pow((9 - count) as u32);
    }
    let offset_seconds: i64 = match b.get(i) {
        Some(b'Z' | b'z') => {
            i += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(b, i + 1, 2).ok_or_else(|| invalid(text, "bad offset hours"))?;
            if b.get(i + 3) != Some(&b':') {
                return Err(invalid(text, "offset must be ±HH:MM"));
            }
            let om = digits(b, i + 4, 2).ok_or_else(|| invalid(text, "bad offset minutes"))?;
            if oh > 23 || om > 59 {
                return Err(invalid(text, "offset out of range"));
            }
            i += 6;
            let s = i64::from(oh * 3600 + om * 60);
            if sign == b'-' { -s } else { s }
        }
        _ => return Err(invalid(text, "missing offset: expected `Z` or ±HH:MM")),
    };
    if i != b.len() {
        return Err(invalid(text, "unexpected text after the offset"));
    }
    if !(1..=12).contains(&month) {
        return Err(invalid(text, "month out of range"));
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err(invalid(text, "day out of range"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(invalid(text, "time of day out of range"));
    }
    let days = days_from_civil(i64::from(year), month, day);
    let local = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    Timestamp::from_unix(local - offset_seconds, nanos)
}

fn is_leap(year: u32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date for a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.seconds.div_euclid(86_400);
        let secs_of_day = self.seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            secs_of_day / 3600,
            secs_of_day / 60 % 60,
            secs_of_day % 60
        )?;
        let n = self.nanos;
        if n == 0 {
        } else if n % 1_000_000 == 0 {
            write!(f, ".{:03}", n / 1_000_000)?;
        } else if n % 1_000 == 0 {
            write!(f, ".{:06}", n / 1_000)?;
        } else {
            write!(f, ".{n:09}")?;
        }
        f.write_str("Z")
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TimestampVisitor)
    }
}

struct TimestampVisitor;

impl<'de> Visitor<'de> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 timestamp such as \"2020-03-17T14:53:05Z\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Timestamp::parse(v).map_err(E::custom)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let (seconds, nanos) = crate::de::seconds_nanos(map)?;
        let nanos = u32::try_from(nanos).map_err(|_| de::Error::custom("nanos out of range"))?;
        Timestamp::from_unix(seconds, nanos).map_err(de::Error::custom)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An RFC 3339 timestamp; written in UTC with `Z`.",
            "type": "string",
            "format": "date-time"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn normalises_offsets_to_utc() {
        assert_eq!(
            ts("2022-04-26T19:56:40.358118+05:30"),
            ts("2022-04-26T14:26:40.358118Z")
        );
        assert_eq!(
            ts("2020-01-01T00:00:00-08:00").to_string(),
            "2020-01-01T08:00:00Z"
        );
        assert_eq!(ts("1970-01-01T00:00:00Z"), Timestamp::UNIX_EPOCH);
    }

    #[test]
    fn accepts_zero_to_nine_fraction_digits() {
        assert_eq!(ts("2020-03-17T14:53:05Z").subsec_nanos(), 0);
        assert_eq!(ts("2020-03-17T14:53:05.4Z").subsec_nanos(), 400_000_000);
        assert_eq!(
            ts("2020-03-17T14:53:05.499893378Z").subsec_nanos(),
            499_893_378
        );
        assert!(Timestamp::parse("2020-03-17T14:53:05.1234567890Z").is_err());
        assert!(Timestamp::parse("2020-03-17T14:53:05.Z").is_err());
    }

    #[test]
    fn writes_canonical_fraction_widths() {
        assert_eq!(
            ts("2020-03-17T14:53:05.4Z").to_string(),
            "2020-03-17T14:53:05.400Z"
        );
        assert_eq!(
            ts("2020-03-17T14:53:05.4001Z").to_string(),
            "2020-03-17T14:53:05.400100Z"
        );
        assert_eq!(
            ts("2020-03-17T14:53:05.499893378Z").to_string(),
            "2020-03-17T14:53:05.499893378Z"
        );
    }

    #[test]
    fn handles_go_zero_time_and_range_limits() {
        let zero = ts("0001-01-01T00:00:00Z");
        assert!(zero.is_go_zero());
        assert_eq!(zero.to_string(), "0001-01-01T00:00:00Z");
        assert_eq!(ts("9999-12-31T23:59:59Z").unix_seconds(), MAX_SECONDS);
        assert!(Timestamp::parse("0001-01-01T00:00:00+00:01").is_err());
    }

    #[test]
    fn rejects_malformed_dates() {
        for bad in [
            "",
            "2020-02-30T00:00:00Z",
            "2021-02-29T00:00:00Z",
            "2020-13-01T00:00:00Z",
            "2020-01-01T24:00:00Z",
            "2020-01-01T00:00:00",
            "2020-01-01",
            "2020-01-01T00:00:00Zjunk",
            "2020-01-01T00:00:00+0530",
            "yesterday",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad} should fail");
        }
        assert!(Timestamp::parse("2020-02-29 00:00:00Z").is_ok());
    }

    #[test]
    fn civil_conversion_round_trips_over_the_whole_range() {
        let mut d = days_from_civil(1, 1, 1);
        let end = days_from_civil(9999, 12, 31);
        while d <= end {
            let (y, m, day) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, day), d);
            d += 997;
        }
    }

    #[test]
    fn adds_nanoseconds_across_seconds() {
        let t = ts("2020-01-01T00:00:00.9Z");
        assert_eq!(
            t.checked_add_nanos(200_000_000).unwrap().to_string(),
            "2020-01-01T00:00:01.100Z"
        );
        assert_eq!(
            t.checked_add_nanos(-1_000_000_000).unwrap().to_string(),
            "2019-12-31T23:59:59.900Z"
        );
    }
}
