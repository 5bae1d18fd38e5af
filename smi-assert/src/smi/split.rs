//! `split.smi-spec.io`: [`TrafficSplit`], with its [`Weight`]s and [`Quantity`].

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    Group, ObjectMeta, Version, expect_kind, field, header, metadata, parse_error, required,
    to_value,
};
use crate::error::{Error, Result};

/// A Kubernetes `resource.Quantity` (v1alpha1 TrafficSplit weights), e.g. `500m`, `1`, `1.5k`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Quantity {
    /// The text as written.
    pub text: String,
    /// The value in milli-units, rounded up (as Kubernetes does).
    pub milli: i64,
}

impl Quantity {
    /// Parses a quantity.
    ///
    /// # Errors
    ///
    /// Returns a message if `text` is not a valid quantity or does not fit in milli-units.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let (neg, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, suffix) = t.split_at(split);
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err(format!("`{text}` is not a quantity"));
        }
        let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
        let digits = format!("{int_part}{frac_part}");
        let mantissa: i128 = digits
            .parse()
            .map_err(|_| format!("`{text}` is not a quantity"))?;
        // value = mantissa / 10^frac * num_f / den_f
        let mut num_f: i128 = 1;
        let mut den_f: i128 = 10_i128.pow(u32::try_from(frac_part.len()).unwrap_or(40).min(30));
        let pow = |b: i128, e: u32| b.checked_pow(e);
        let (n, d): (Option<i128>, i128) = match suffix {
            "" => (Some(1), 1),
            "n" => (Some(1), 1_000_000_000),
            "u" => (Some(1), 1_000_000),
            "m" => (Some(1), 1000),
            "k" => (pow(10, 3), 1),
            "M" => (pow(10, 6), 1),
            "G" => (pow(10, 9), 1),
            "T" => (pow(10, 12), 1),
            "P" => (pow(10, 15), 1),
            "E" => (pow(10, 18), 1),
            "Ki" => (pow(2, 10), 1),
            "Mi" => (pow(2, 20), 1),
            "Gi" => (pow(2, 30), 1),
            "Ti" => (pow(2, 40), 1),
            "Pi" => (pow(2, 50), 1),
            "Ei" => (pow(2, 60), 1),
            s if s.starts_with(['e', 'E']) => {
                let e: i32 = s[1..]
                    .parse()
                    .map_err(|_| format!("`{text}` has a bad exponent"))?;
                if e >= 0 {
                    (pow(10, e.unsigned_abs()), 1)
                } else {
                    (Some(1), pow(10, e.unsigned_abs()).unwrap_or(i128::MAX))
                }
            }
            s => return Err(format!("`{text}` has an unknown suffix `{s}`")),
        };
        num_f = num_f.saturating_mul(n.ok_or_else(|| format!("`{text}` is too large"))?);
        den_f = den_f.saturating_mul(d);
        let top = mantissa
            .checked_mul(num_f)
            .and_then(|v| v.checked_mul(1000))
            .ok_or_else(|| format!("`{text}` is too large"))?;
        let milli = top
            .checked_add(den_f - 1)
            .ok_or_else(|| format!("`{text}` is too large"))?
            / den_f;
        let milli = i64::try_from(milli).map_err(|_| format!("`{text}` is too large"))?;
        Ok(Self {
            text: text.to_string(),
            milli: if neg { -milli } else { milli },
        })
    }
}

/// A TrafficSplit backend weight as written.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Weight {
    /// A whole number (v1alpha2+, and plain numbers in v1alpha1).
    Integer(i64),
    /// A non-whole number (the CRD's `type: number` lets it through; the spec forbids it).
    Number(f64),
    /// A quantity string (v1alpha1).
    Quantity(Quantity),
}

impl Weight {
    /// The weight normalised to milli-units, so `1` and `1000m` compare equal.
    /// `None` for non-finite numbers.
    #[must_use]
    pub fn to_milli(&self) -> Option<i64> {
        match self {
            Self::Integer(i) => i.checked_mul(1000),
            Self::Number(f) if f.is_finite() => {
                let v = (f * 1000.0).round();
                // Range-checked before the cast.
                if v.abs() < 9.0e15 {
                    Some(v as i64)
                } else {
                    None
                }
            }
            Self::Number(_) => None,
            Self::Quantity(q) => Some(q.milli),
        }
    }

    fn from_value(v: &Value, path: &str) -> Result<Self> {
        match v {
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(Self::Integer(i))
                } else {
                    Ok(Self::Number(n.as_f64().unwrap_or(f64::NAN)))
                }
            }
            Value::String(s) => Quantity::parse(s)
                .map(Self::Quantity)
                .map_err(|m| parse_error(path, m)),
            other => Err(parse_error(
                path,
                format!("weight must be a number or quantity, found {other}"),
            )),
        }
    }

    fn to_value(&self) -> Value {
        match self {
            Self::Integer(i) => json!(i),
            Self::Number(f) => json!(f),
            Self::Quantity(q) => Value::String(q.text.clone()),
        }
    }
}

/// A backend of a [`TrafficSplit`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TrafficSplitBackend {
    /// The backend Kubernetes Service.
    pub service: String,
    /// Its relative weight.
    pub weight: Weight,
}

impl TrafficSplitBackend {
    /// A backend with an integer weight.
    #[must_use]
    pub fn new(service: impl Into<String>, weight: i64) -> Self {
        Self {
            service: service.into(),
            weight: Weight::Integer(weight),
        }
    }
}

/// A reference to an HTTPRouteGroup from `TrafficSplit.spec.matches` (v1alpha3+).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TypedLocalObjectReference {
    /// API group, optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// Kind (`HTTPRouteGroup`).
    pub kind: String,
    /// Name.
    pub name: String,
}

/// The `spec` of a [`TrafficSplit`].
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TrafficSplitSpec {
    /// The root (apex) service.
    pub service: String,
    /// Backends with weights.
    pub backends: Vec<TrafficSplitBackend>,
    /// HTTPRouteGroups for A/B splits (v1alpha3+).
    pub matches: Vec<TypedLocalObjectReference>,
}

/// `split.smi-spec.io` TrafficSplit, v1alpha1–v1alpha4.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
#[non_exhaustive]
pub struct TrafficSplit {
    /// The version this object is written in.
    pub version: Version,
    /// Metadata.
    pub metadata: ObjectMeta,
    /// The spec.
    pub spec: TrafficSplitSpec,
}

impl TrafficSplit {
    /// Reads a manifest.
    ///
    /// # Errors
    ///
    /// Returns a [`Error::ParseResource`] if the manifest is not a TrafficSplit of a known version or a weight
    /// is neither a number nor a quantity.
    pub fn from_manifest(manifest: &Value) -> Result<Self> {
        let version = expect_kind(manifest, Group::Split, "TrafficSplit")?;
        let metadata = metadata(manifest)?;
        let spec = manifest
            .get("spec")
            .ok_or_else(|| parse_error("/spec", "required field is missing"))?;
        let service: String = required(spec, "/spec", "service")?;
        let raw: Vec<Value> = required(spec, "/spec", "backends")?;
        let mut backends = Vec::with_capacity(raw.len());
        for (i, b) in raw.iter().enumerate() {
            let base = format!("/spec/backends/{i}");
            let service: String = required(b, &base, "service")?;
            let w = b
                .get("weight")
                .ok_or_else(|| parse_error(format!("{base}/weight"), "required"))?;
            let weight = Weight::from_value(w, &format!("{base}/weight"))?;
            backends.push(TrafficSplitBackend { service, weight });
        }
        let matches = field(spec, "/spec", "matches")?.unwrap_or_default();
        Ok(Self {
            version,
            metadata,
            spec: TrafficSplitSpec {
                service,
                backends,
                matches,
            },
        })
    }

    /// Writes the manifest in this object's version layout.
    #[must_use]
    pub fn to_manifest(&self) -> Value {
        let mut m = header(Group::Split, self.version, "TrafficSplit", &self.metadata);
        let backends: Vec<Value> = self
            .spec
            .backends
            .iter()
            .map(|b| json!({"service": b.service, "weight": b.weight.to_value()}))
            .collect();
        let mut spec = json!({"service": self.spec.service, "backends": backends});
        if !self.spec.matches.is_empty() {
            spec["matches"] = to_value(&self.spec.matches);
        }
        m.insert("spec".into(), spec);
        Value::Object(m)
    }

    /// Expected share of each backend: `wᵢ / Σw` over normalised weights. Empty if Σw is 0.
    #[must_use]
    pub fn shares(&self) -> Vec<(String, f64)> {
        let ws: Vec<(String, i64)> = self
            .spec
            .backends
            .iter()
            .map(|b| (b.service.clone(), b.weight.to_milli().unwrap_or(0).max(0)))
            .collect();
        let total: i64 = ws.iter().map(|(_, w)| w).sum();
        if total == 0 {
            return Vec::new();
        }
        ws.into_iter()
            .map(|(s, w)| (s, w as f64 / total as f64))
            .collect()
    }
}

value_conv!(TrafficSplit);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_normalise_to_milli() {
        for (t, m) in [
            ("1", 1000),
            ("500m", 500),
            ("1500m", 1500),
            ("1.5", 1500),
            ("10m", 10),
            ("1k", 1_000_000),
            ("1Ki", 1_024_000),
            ("1e3", 1_000_000),
            ("1n", 1),
        ] {
            assert_eq!(Quantity::parse(t).map(|q| q.milli), Ok(m), "{t}");
        }
        assert!(Quantity::parse("abc").is_err());
        assert!(Quantity::parse("1.2.3").is_err());
        assert!(Quantity::parse("5x").is_err());
        assert!(Quantity::parse("99999999999999999999999999999999999E").is_err());
        assert!(Quantity::parse("").is_err());
    }
}
