//! Findings: what is wrong (or suspicious) in a readable document, and where.

use std::fmt;

use serde::Serialize;
use serde::ser::SerializeStruct;
use serde_json::Value;

use smps_model::redact;

use crate::Location;
use crate::doc::show;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// Suspicious but readable (unknown fields, latencies that look like seconds).
    Warning,
    /// The document breaks the schema or a semantic rule.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

macro_rules! rules {
    ($( $(#[$m:meta])* $variant:ident = $id:literal, $sev:ident; )+) => {
        /// The rule a finding comes from. Each has a stable id (see [`Rule::id`]) and a default
        /// severity.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[$m])* $variant, )+
        }

        impl Rule {
            /// Every rule.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),+];

            /// The stable id (`latency-order`), used in reports and for filtering.
            #[must_use]
            pub fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)+ }
            }

            /// The severity findings of this rule have.
            #[must_use]
            pub fn severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$sev,)+ }
            }

            /// The rule with this id.
            #[must_use]
            pub fn from_id(id: &str) -> Option<Rule> {
                match id { $($id => Some(Rule::$variant),)+ _ => None }
            }
        }
    };
}

rules! {
    /// The JSON Schema of the kind (type, format, pattern, range, ...).
    Schema = "schema", Error;
    /// A field the kind does not have.
    UnknownField = "unknown-field", Warning;
    /// A key that occurs twice in one mapping (also `start_time` next to `startTime`).
    DuplicateKey = "duplicate-key", Error;
    /// The typed reader of smps-model rejected a value the schema allowed.
    ModelRead = "model-read", Error;
    /// The kind of a document could not be recognised.
    UnknownKind = "unknown-kind", Error;
    /// A document is in a Meshery or legacy shape and was checked after conversion.
    ConvertedShape = "converted-shape", Warning;
    /// Meshery's `{test, mesh}` wrapper without `test` or without `mesh`.
    WrapperIncomplete = "wrapper-incomplete", Error;
    /// Latency figures out of order (min ≤ p50 ≤ p90 ≤ p99 ≤ max).
    LatencyOrder = "latency-order", Error;
    /// The average latency outside [min, max].
    LatencyAverage = "latency-average", Error;
    /// A latency that is NaN, infinite or negative.
    LatencyValue = "latency-value", Error;
    /// Latencies small enough to be seconds written into a milliseconds field.
    LatencyUnit = "latency-unit", Warning;
    /// A timestamp that does not parse as RFC 3339.
    Timestamp = "timestamp", Error;
    /// `end_time` before `start_time`.
    TimeOrder = "time-order", Error;
    /// A duration that does not parse or is not positive.
    Duration = "duration", Error;
    /// `connections` below 1.
    Connections = "connections", Error;
    /// `rps` or `actual_qps` negative, NaN or infinite.
    Rate = "rate", Error;
    /// A rate, planned request count or connection count above what a load generator can run
    /// (the bounds of `smps_model::limits`, which smps-load refuses too).
    Limit = "limit", Error;
    /// An endpoint URL with a secret in its query (`?access_token=...`, `?api_key=...`): it
    /// works, but ends up in access logs and in other tools' results. Reports show it as
    /// `***` like every secret.
    SecretInUrl = "secret-in-url", Warning;
    /// A client without endpoint URLs.
    EndpointMissing = "endpoint-missing", Error;
    /// An endpoint that is not absolute or does not fit the client's protocol.
    Endpoint = "endpoint", Error;
    /// An enum left at 0 / `INVALID`.
    EnumUnset = "enum-unset", Error;
    /// An enum value that is not known.
    EnumUnknown = "enum-unknown", Error;
    /// An integer that does not fit its field (int32 / int64).
    IntegerOverflow = "integer-overflow", Error;
    /// A negative count, CPU or memory figure.
    NegativeResource = "negative-resource", Error;
    /// A `kubernetes_version` that is not a version.
    KubernetesVersion = "kubernetes-version", Error;
    /// A number or boolean where the field holds text (`name: 1e3`): readers take its text
    /// (`"1000"`), which may differ from what was written (see `smps_model::spelling`).
    ReadAsText = "read-as-text", Warning;
    /// A value the schema refuses in a form smps-model still reads (`cores: "4"`,
    /// `mtlsEnabled: "true"`, `p50: "2.5"`, a timestamp with a space for `T`): readers accept
    /// the document, so it is a warning with the schema's words.
    NonCanonical = "non-canonical", Warning;
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// What exactly is wrong; each variant carries the values involved.
///
/// Values taken from the document (`actual`, `value`, ...) are omitted by
/// [`Violation::masked_message`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ViolationKind {
    /// A JSON Schema keyword failed.
    Schema {
        /// The keyword (`type`, `anyOf`, `format`, `pattern`, ...).
        keyword: String,
        /// What the schema expects, in words.
        expected: String,
        /// The value found.
        actual: Value,
    },
    /// A field the document kind does not have.
    UnknownField {
        /// The key as written.
        field: String,
    },
    /// A key written twice in one mapping.
    DuplicateKey {
        /// The key as written (its last occurrence).
        field: String,
    },
    /// A required part is missing.
    Missing {
        /// What is missing.
        field: String,
    },
    /// The typed reader rejected the value.
    Unreadable {
        /// The reader's message.
        message: String,
    },
    /// The document kind could not be recognised.
    UnknownKind {
        /// Why.
        reason: String,
    },
    /// The document was converted from another shape before checking.
    Converted {
        /// The shape (`Meshery result record (fortio)`, ...).
        shape: String,
    },
    /// Two figures that must be ordered are not.
    Order {
        /// The field that must be smaller or equal.
        lower_field: String,
        /// Its value.
        lower: Value,
        /// The field that must be greater or equal.
        upper_field: String,
        /// Its value.
        upper: Value,
    },
    /// A figure outside its range.
    OutOfRange {
        /// What the value must be (`finite and not negative`, `>= 1`, `within [min, max]`).
        expected: String,
        /// The value found.
        actual: Value,
    },
    /// A value that does not parse.
    Malformed {
        /// What it should be.
        expected: String,
        /// The value found.
        actual: Value,
        /// Why it does not parse.
        reason: String,
    },
    /// Latencies that look like seconds.
    LikelySeconds {
        /// The largest latency figure.
        max: f64,
    },
    /// A number or boolean in a text field, and the text readers make of it.
    ReadAsText {
        /// The value found.
        actual: Value,
        /// The text it is read as (`smps_model::spelling::scalar_text`).
        text: String,
    },
}

impl ViolationKind {
    /// The same details with every secret hidden the way `smps_model::redact` does: user
    /// information and secret query values of URLs anywhere in a string, and the values of
    /// sensitive headers and of cookies (told by the canonical `pointer` of the finding).
    pub(crate) fn redacted(self, pointer: &[String]) -> ViolationKind {
        let n = pointer.len();
        let last = n.checked_sub(1).map(|i| pointer[i].as_str());
        let parent = n.checked_sub(2).map(|i| pointer[i].as_str());
        let secret = match (parent, last) {
            (Some("headers"), Some(name)) => redact::is_sensitive_header(name),
            (Some("cookies"), Some(_)) => true,
            _ => false,
        };
        let value = |v: Value| redact_value(v, secret, last);
        let text = |t: String| redact::text(&t).into_owned();
        match self {
            ViolationKind::Schema {
                keyword,
                expected,
                actual,
            } => ViolationKind::Schema {
                keyword,
                expected,
                actual: value(actual),
            },
            ViolationKind::Unreadable { message } => ViolationKind::Unreadable {
                message: text(message),
            },
            ViolationKind::UnknownKind { reason } => ViolationKind::UnknownKind {
                reason: text(reason),
            },
            ViolationKind::Order {
                lower_field,
                lower,
                upper_field,
                upper,
            } => ViolationKind::Order {
                lower_field,
                lower: value(lower),
                upper_field,
                upper: value(upper),
            },
            ViolationKind::OutOfRange { expected, actual } => ViolationKind::OutOfRange {
                expected,
                actual: value(actual),
            },
            ViolationKind::Malformed {
                expected,
                actual,
                reason,
            } => ViolationKind::Malformed {
                expected,
                actual: value(actual),
                reason: text(reason),
            },
            ViolationKind::ReadAsText { actual, text: _ } if secret => ViolationKind::ReadAsText {
                actual: value(actual),
                text: redact::REDACTED.to_owned(),
            },
            other => other,
        }
    }
}

/// `value` with its secrets hidden: every string when `secret`, else URLs in strings; the
/// members of a `headers` or `cookies` map (`key`) by their names.
fn redact_value(value: Value, secret: bool, key: Option<&str>) -> Value {
    match value {
        Value::String(_) | Value::Number(_) | Value::Bool(_) if secret => {
            Value::String(redact::REDACTED.to_owned())
        }
        Value::String(s) => match redact::text(&s) {
            std::borrow::Cow::Borrowed(_) => Value::String(s),
            std::borrow::Cow::Owned(r) => Value::String(r),
        },
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| redact_value(v, secret, None))
                .collect(),
        ),
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .map(|(k, v)| {
                    let member_secret = secret
                        || match key {
                            Some("headers") => redact::is_sensitive_header(&k),
                            Some("cookies") => true,
                            _ => false,
                        };
                    let v = redact_value(v, member_secret, Some(&k));
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

/// One finding: severity, rule, where (JSON pointer and line:column) and what.
///
/// # Examples
///
/// ```
/// use smps_validate::{Rule, Severity, Validator};
///
/// let validator = Validator::new()?;
/// let report = validator.report_str("latencies_ms: {p50: 5, p90: 3}\n")?;
/// let v = &report.violations()[0];
/// assert_eq!(v.rule(), Rule::LatencyOrder);
/// assert_eq!(v.severity(), Severity::Error);
/// assert_eq!(v.instance_path(), "/latencies_ms/p90");
/// assert_eq!(v.location().map(|l| (l.line(), l.column())), Some((1, 29)));
/// # Ok::<(), smps_validate::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub(crate) rule: Rule,
    pub(crate) severity: Severity,
    pub(crate) document: usize,
    pub(crate) instance_path: String,
    pub(crate) canonical_path: String,
    pub(crate) location: Option<Location>,
    pub(crate) kind: ViolationKind,
}

impl Violation {
    /// The rule that produced it.
    #[must_use]
    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// Error or warning.
    #[must_use]
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// Whether it is an error (the document is invalid).
    #[must_use]
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// 0-based index of the document in the input (YAML streams, JSON arrays).
    #[must_use]
    pub fn document(&self) -> usize {
        self.document
    }

    /// RFC 6901 JSON Pointer to the value, with the keys as the user wrote them
    /// (`/latencies_ms/p99`).
    #[must_use]
    pub fn instance_path(&self) -> &str {
        &self.instance_path
    }

    /// The same pointer with canonical proto3 JSON keys (`/latenciesMs/p99`), as the schemas
    /// name them.
    #[must_use]
    pub fn canonical_path(&self) -> &str {
        &self.canonical_path
    }

    /// Line and column of the value (or, for key problems, the key) in the source text.
    /// `None` only when the finding concerns a part that is absent from the text and has no
    /// present ancestor, which does not happen for non-empty documents.
    #[must_use]
    pub fn location(&self) -> Option<Location> {
        self.location
    }

    /// The details.
    #[must_use]
    pub fn kind(&self) -> &ViolationKind {
        &self.kind
    }

    /// A message naming the field, what was expected and what was found.
    #[must_use]
    pub fn message(&self) -> String {
        self.render(false)
    }

    /// [`Violation::message`] without any value taken from the document (for logs that must
    /// not leak secrets).
    #[must_use]
    pub fn masked_message(&self) -> String {
        self.render(true)
    }

    fn render(&self, masked: bool) -> String {
        let field = if self.instance_path.is_empty() {
            "document".to_owned()
        } else {
            format!("`{}`", self.instance_path)
        };
        let v = |value: &Value| {
            if masked {
                "a value".to_owned()
            } else {
                show(value)
            }
        };
        match &self.kind {
            ViolationKind::Schema {
                expected, actual, ..
            } => format!("{field}: expected {expected}, found {}", v(actual)),
            ViolationKind::UnknownField { field: key } => {
                format!("{field}: unknown field `{key}` (ignored by readers)")
            }
            ViolationKind::DuplicateKey { field: key } => {
                format!("{field}: key `{key}` is given more than once")
            }
            ViolationKind::Missing { field: what } => format!("{field}: missing `{what}`"),
            ViolationKind::Unreadable { message } => {
                if masked {
                    format!("{field}: cannot be read by smps-model")
                } else {
                    format!("{field}: cannot be read by smps-model: {message}")
                }
            }
            ViolationKind::UnknownKind { reason } => {
                format!("{field}: cannot tell the SMP document kind: {reason}")
            }
            ViolationKind::Converted { shape } => {
                format!(
                    "{field}: {shape}; checked after conversion, so positions point at the document"
                )
            }
            ViolationKind::Order {
                lower_field,
                lower,
                upper_field,
                upper,
            } => format!(
                "{field}: expected {lower_field} ({}) <= {upper_field} ({})",
                v(lower),
                v(upper)
            ),
            ViolationKind::OutOfRange { expected, actual } => {
                format!("{field}: expected {expected}, found {}", v(actual))
            }
            ViolationKind::Malformed {
                expected,
                actual,
                reason,
            } => {
                if masked {
                    format!("{field}: expected {expected}")
                } else {
                    format!(
                        "{field}: expected {expected}, found {} ({reason})",
                        v(actual)
                    )
                }
            }
            ViolationKind::LikelySeconds { max } => {
                let max = if masked {
                    "x".to_owned()
                } else {
                    max.to_string()
                };
                format!(
                    "{field}: every latency is below 10 (max {max}); these look like seconds in a milliseconds field (Meshery exports fortio seconds)"
                )
            }
            ViolationKind::ReadAsText { actual, text } => {
                if masked {
                    format!("{field}: a number or boolean where text is expected; quote it")
                } else {
                    format!(
                        "{field}: expected text, found {}; readers take it as the text {}, quote the value to keep it as written",
                        v(actual),
                        show(&Value::String(text.clone()))
                    )
                }
            }
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(l) = self.location {
            write!(f, "{l}: ")?;
        }
        write!(f, "{}[{}]: {}", self.severity, self.rule, self.message())
    }
}

impl Serialize for Violation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Violation", 9)?;
        st.serialize_field("severity", &self.severity)?;
        st.serialize_field("rule", &self.rule)?;
        st.serialize_field("document", &self.document)?;
        st.serialize_field("instance_path", &self.instance_path)?;
        st.serialize_field("canonical_path", &self.canonical_path)?;
        st.serialize_field("line", &self.location.map(|l| l.line()))?;
        st.serialize_field("column", &self.location.map(|l| l.column()))?;
        st.serialize_field("message", &self.message())?;
        st.serialize_field("details", &self.kind)?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_round_trip() {
        let mut ids: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
        for r in Rule::ALL {
            assert_eq!(Rule::from_id(r.id()), Some(*r));
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Rule::ALL.len());
    }

    #[test]
    fn masked_messages_leave_out_document_values() {
        let v = Violation {
            rule: Rule::Schema,
            severity: Severity::Error,
            document: 0,
            instance_path: "/clients/0/headers/Authorization".into(),
            canonical_path: "/clients/0/headers/Authorization".into(),
            location: Some(Location::new(4, 20)),
            kind: ViolationKind::Schema {
                keyword: "type".into(),
                expected: "a string".into(),
                actual: Value::from(12345),
            },
        };
        assert!(v.message().contains("12345"));
        assert!(!v.masked_message().contains("12345"));
        assert_eq!(
            v.to_string(),
            "4:20: error[schema]: `/clients/0/headers/Authorization`: expected a string, found 12345"
        );
    }
}
