//! Lenient field (de)serialisers shared by every SMP message.
//!
//! Real SMP files write the same value in many ways (smps-formats.md §7): numbers as strings,
//! int64 as strings, doubles as `"NaN"`, `null` for "not set". These helpers accept all of them
//! and reject anything else with a message naming what was expected; the field's path is added
//! by `serde_path_to_error` in [`crate::read`].

use std::collections::BTreeMap;
use std::fmt;

use serde::Serializer;
use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};

/// An integer written as a JSON number, a decimal string, or an integral float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Int64(pub(crate) i64);

impl<'de> Deserialize<'de> for Int64 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IntVisitor).map(Int64)
    }
}

struct IntVisitor;

impl<'de> Visitor<'de> for IntVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer (number or decimal string)")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| {
            E::custom(format_args!(
                "integer {v} overflows a 64-bit signed integer"
            ))
        })
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| {
            E::custom(format_args!(
                "integer {v} overflows a 64-bit signed integer"
            ))
        })
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| {
            E::custom(format_args!(
                "integer {v} overflows a 64-bit signed integer"
            ))
        })
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        // proto3 JSON parsers accept integral floats such as 10.0 or 1e3.
        if v.fract() == 0.0 && (-9.223_372_036_854_775E18..9.223_372_036_854_775E18).contains(&v) {
            Ok(v as i64)
        } else {
            Err(E::custom(format_args!(
                "expected an integer, found the fractional number {v}"
            )))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        let t = v.trim();
        if let Ok(n) = t.parse::<i64>() {
            return Ok(n);
        }
        if !t.is_empty()
            && t.trim_start_matches(['-', '+'])
                .bytes()
                .all(|b| b.is_ascii_digit())
        {
            return Err(E::custom(format_args!(
                "integer \"{v}\" overflows a 64-bit signed integer"
            )));
        }
        match t.parse::<f64>() {
            Ok(f) if f.is_finite() => self.visit_f64(f),
            _ => Err(E::custom(format_args!(
                "expected an integer, found \"{v}\""
            ))),
        }
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<i64, E> {
        Err(E::custom(format_args!(
            "expected an integer, found the boolean {v}"
        )))
    }

    fn visit_unit<E: de::Error>(self) -> Result<i64, E> {
        Ok(0)
    }

    fn visit_none<E: de::Error>(self) -> Result<i64, E> {
        Ok(0)
    }
}

/// int64 fields: number, string or `null` (→ 0).
pub(crate) fn int64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(IntVisitor)
}

/// int32 fields: as [`int64`], with a range check.
pub(crate) fn int32<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    let v = d.deserialize_any(IntVisitor)?;
    i32::try_from(v)
        .map_err(|_| de::Error::custom(format_args!("integer {v} overflows a 32-bit integer")))
}

/// double fields: numbers, numeric strings, `"NaN"`, `"Infinity"`, `"-Infinity"`, `null` (→ 0).
pub(crate) fn double<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = f64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number (or \"NaN\", \"Infinity\", \"-Infinity\")")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
            match v.trim() {
                "NaN" | "nan" | ".nan" | ".NaN" => Ok(f64::NAN),
                "Infinity" | "inf" | "+Infinity" | ".inf" | "+.inf" => Ok(f64::INFINITY),
                "-Infinity" | "-inf" | "-.inf" => Ok(f64::NEG_INFINITY),
                t => t
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .ok_or_else(|| E::custom(format_args!("expected a number, found \"{v}\""))),
            }
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<f64, E> {
            Err(E::custom(format_args!(
                "expected a number, found the boolean {v}"
            )))
        }
        fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
            Ok(0.0)
        }
        fn visit_none<E: de::Error>(self) -> Result<f64, E> {
            Ok(0.0)
        }
    }
    d.deserialize_any(V)
}

/// bool fields: `true`/`false`, the strings `"true"`/`"false"`, or `null` (→ false).
pub(crate) fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
            match v.trim() {
                "true" | "True" | "TRUE" => Ok(true),
                "false" | "False" | "FALSE" | "" => Ok(false),
                _ => Err(E::custom(format_args!("expected a boolean, found \"{v}\""))),
            }
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
            Err(E::custom(format_args!(
                "expected a boolean, found the number {v}"
            )))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
            self.visit_i64(v as i64)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
            Err(E::custom(format_args!(
                "expected a boolean, found the number {v}"
            )))
        }
        fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_none<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }
    }
    d.deserialize_any(V)
}

/// A string that may have been written as a bare scalar (`version: 1.2` in YAML).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct LenientString(pub(crate) String);

impl<'de> Deserialize<'de> for LenientString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(StringVisitor)
            .map(LenientString)
    }
}

struct StringVisitor;

impl<'de> Visitor<'de> for StringVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }

    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }
}

/// string fields: strings, bare scalars (converted to text) or `null` (→ "").
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(StringVisitor)
}

/// `map<string, string>` fields: an object of scalars, or `null` (→ empty).
pub(crate) fn string_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let m: Option<BTreeMap<String, LenientString>> = Option::deserialize(d)?;
    Ok(m.unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect())
}

/// repeated fields: a sequence or `null` (→ empty).
pub(crate) fn vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// repeated string fields that some dialects write as one string (`endpointUrl: http://…`).
pub(crate) fn string_or_seq<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of strings")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(vec![v.to_owned()])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
            while let Some(s) = seq.next_element::<LenientString>()? {
                out.push(s.0);
            }
            Ok(out)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(V)
}

/// Reads the `{"seconds": .., "nanos": ..}` object Go's `encoding/json` writes for protobuf
/// `Duration` and `Timestamp` messages; other keys are ignored.
pub(crate) fn seconds_nanos<'de, A: de::MapAccess<'de>>(
    mut map: A,
) -> Result<(i64, i64), A::Error> {
    let (mut seconds, mut nanos) = (0, 0);
    while let Some(key) = map.next_key::<String>()? {
        match key.as_str() {
            "seconds" => seconds = map.next_value::<Int64>()?.0,
            "nanos" => nanos = map.next_value::<Int64>()?.0,
            _ => {
                map.next_value::<de::IgnoredAny>()?;
            }
        }
    }
    Ok((seconds, nanos))
}

/// Writes an int64 as proto3 JSON does: a decimal string.
pub(crate) fn ser_int64<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Writes a double as proto3 JSON does: a number, or `"NaN"` / `"Infinity"` / `"-Infinity"`.
pub(crate) fn ser_double<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_nan() {
        s.serialize_str("NaN")
    } else if v.is_infinite() {
        s.serialize_str(if *v > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        s.serialize_f64(*v)
    }
}

/// Whether a value equals its type's default (proto3 omits those on output).
pub(crate) fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// proto3 omits a double only when it is exactly +0.0; NaN is kept.
pub(crate) fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0 && v.is_sign_positive()
}

/// Schema for int64 fields: a number or a decimal string, as proto3 JSON allows.
#[cfg(feature = "schema")]
pub(crate) fn schema_int64(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "A 64-bit integer: a number, or a decimal string (proto3 JSON writes a string).",
        "anyOf": [
            { "type": "integer", "minimum": -9_223_372_036_854_775_808_i64, "maximum": 9_223_372_036_854_775_807_i64 },
            { "type": "string", "pattern": "^[-+]?[0-9]{1,19}$" }
        ]
    })
}

/// Schema for double fields: a number, or one of proto3 JSON's special strings.
#[cfg(feature = "schema")]
pub(crate) fn schema_double(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "A number; proto3 JSON also allows \"NaN\", \"Infinity\" and \"-Infinity\".",
        "anyOf": [
            { "type": "number" },
            { "type": "string", "enum": ["NaN", "Infinity", "-Infinity"] }
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(serde::Deserialize, Debug)]
    struct Probe {
        #[serde(default, deserialize_with = "int64")]
        i: i64,
        #[serde(default, deserialize_with = "int32")]
        j: i32,
        #[serde(default, deserialize_with = "double")]
        d: f64,
        #[serde(default, deserialize_with = "string")]
        s: String,
    }

    fn probe(v: serde_json::Value) -> Result<Probe, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn integers_accept_numbers_strings_and_integral_floats() {
        assert_eq!(probe(json!({"i": 10})).unwrap().i, 10);
        assert_eq!(probe(json!({"i": "10"})).unwrap().i, 10);
        assert_eq!(probe(json!({"i": 10.0})).unwrap().i, 10);
        assert_eq!(probe(json!({"i": -1})).unwrap().i, -1);
        assert_eq!(probe(json!({"i": null})).unwrap().i, 0);
        assert_eq!(
            probe(json!({"i": 9_223_372_036_854_775_807_i64}))
                .unwrap()
                .i,
            i64::MAX
        );
        let e = probe(json!({"i": "9223372036854775808"})).unwrap_err();
        assert!(e.to_string().contains("overflows"), "{e}");
        let e = probe(json!({"i": 9_223_372_036_854_775_808_u64})).unwrap_err();
        assert!(e.to_string().contains("overflows"), "{e}");
        assert!(probe(json!({"i": 1.5})).is_err());
        assert!(probe(json!({"i": "ten"})).is_err());
        assert!(probe(json!({"j": 3_000_000_000_i64})).is_err());
        assert_eq!(probe(json!({"j": "7"})).unwrap().j, 7);
    }

    #[test]
    fn doubles_accept_proto3_special_strings() {
        assert!(probe(json!({"d": "NaN"})).unwrap().d.is_nan());
        assert_eq!(probe(json!({"d": "Infinity"})).unwrap().d, f64::INFINITY);
        assert_eq!(
            probe(json!({"d": "-Infinity"})).unwrap().d,
            f64::NEG_INFINITY
        );
        assert_eq!(probe(json!({"d": "2.5"})).unwrap().d, 2.5);
        assert!(probe(json!({"d": "fast"})).is_err());
        assert!(probe(json!({"d": true})).is_err());
    }

    #[test]
    fn strings_accept_scalars_and_null() {
        assert_eq!(probe(json!({"s": 1.5})).unwrap().s, "1.5");
        assert_eq!(probe(json!({"s": null})).unwrap().s, "");
        assert!(probe(json!({"s": [1]})).is_err());
    }
}
