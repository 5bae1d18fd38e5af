//! Compiled JSON Schemas, one per kind, made strict, and the translation of jsonschema errors
//! into findings.

use serde_json::{Map, Value, json};
use smps_model::Kind;

use crate::doc::{Pointer, get};
use crate::violation::{Rule, ViolationKind};
use crate::{Error, Result};

/// All kinds, in a fixed order (index = [`kind_index`]).
pub(crate) const KINDS: [Kind; 5] = [
    Kind::PerformanceTestConfig,
    Kind::PerformanceTestResult,
    Kind::ServiceMeshConfig,
    Kind::EnvironmentConfig,
    Kind::ServiceMesh,
];

pub(crate) fn kind_index(kind: Kind) -> usize {
    KINDS.iter().position(|k| *k == kind).unwrap_or(0)
}

/// A compiled schema with the (strict) schema document it came from.
#[derive(Debug)]
pub(crate) struct CompiledSchema {
    pub(crate) schema: Value,
    pub(crate) validator: jsonschema::Validator,
    /// The same schema as a direct checker for the fast path.
    pub(crate) plan: crate::plan::Plan,
}

/// A finding from the schema, before it is located.
#[derive(Debug)]
pub(crate) struct RawFinding {
    pub(crate) rule: Rule,
    pub(crate) pointer: Pointer,
    pub(crate) at_key: bool,
    pub(crate) kind: ViolationKind,
}

impl CompiledSchema {
    pub(crate) fn new(kind: Kind) -> Result<Self> {
        let mut schema = smps_model::schema_for(kind);
        make_strict(&mut schema);
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| Error::CompileSchema {
                kind,
                message: e.to_string(),
            })?;
        let plan = crate::plan::Plan::compile(&schema, &schema);
        Ok(CompiledSchema {
            schema,
            validator,
            plan,
        })
    }

    /// Every schema finding for `value`, with pointers relative to `value`. With
    /// `likely_invalid` the errors are collected at once, without the (cheaper) validity test
    /// that usually comes first; the findings are the same.
    pub(crate) fn check(&self, value: &Value, likely_invalid: bool, out: &mut Vec<RawFinding>) {
        if !likely_invalid && self.validator.is_valid(value) {
            return;
        }
        for e in self.validator.iter_errors(value) {
            let pointer = Pointer::parse(e.instance_path().as_str());
            match e.kind() {
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                    for key in unexpected {
                        out.push(RawFinding {
                            rule: Rule::UnknownField,
                            pointer: pointer.child(key.clone()),
                            at_key: true,
                            kind: ViolationKind::UnknownField { field: key.clone() },
                        });
                    }
                }
                kind => {
                    let keyword = kind.keyword().to_owned();
                    let schema_path = Pointer::parse(e.schema_path().as_str());
                    let mut parent = schema_path.clone();
                    parent.0.pop();
                    let instance = e.instance();
                    if keyword == "type"
                        && get(&self.schema, &parent).is_some_and(wants_text)
                        && (instance.is_number() || instance.is_boolean())
                    {
                        // Readers take its text (smps_model::spelling): a warning, not an error.
                        if let Some(text) = smps_model::spelling::scalar_text(instance) {
                            out.push(RawFinding {
                                rule: Rule::ReadAsText,
                                pointer,
                                at_key: false,
                                kind: ViolationKind::ReadAsText {
                                    actual: instance.clone().into_owned(),
                                    text,
                                },
                            });
                            continue;
                        }
                    }
                    let expected = get(&self.schema, &parent)
                        .map_or_else(|| keyword.clone(), |s| describe(&self.schema, s, 0));
                    let is_overflow = matches!(keyword.as_str(), "maximum" | "minimum")
                        && get(&self.schema, &parent)
                            .and_then(|s| s.get(OVERFLOW_MARK))
                            .is_some();
                    out.push(RawFinding {
                        rule: if is_overflow {
                            Rule::IntegerOverflow
                        } else {
                            Rule::Schema
                        },
                        pointer,
                        at_key: false,
                        kind: ViolationKind::Schema {
                            keyword,
                            expected,
                            actual: e.instance().clone().into_owned(),
                        },
                    });
                }
            }
        }
    }
}

impl CompiledSchema {
    /// Whether the field at `pointer` (canonical segments under a document of `kind`; a root
    /// alias such as `kubernetes` counts as its field) is a free text field.
    pub(crate) fn wants_text_at(&self, kind: Kind, pointer: &[String]) -> bool {
        let mut node = &self.schema;
        for (depth, seg) in pointer.iter().enumerate() {
            let seg = match smps_model::spelling::root_alias(kind, seg) {
                Some(canonical) if depth == 0 => canonical,
                _ => seg.as_str(),
            };
            match self.child(node, seg) {
                Some(next) => node = next,
                None => return false,
            }
        }
        wants_text(self.deref(node))
    }

    /// A `$ref` resolved against this schema's `$defs`.
    fn deref<'s>(&'s self, node: &'s Value) -> &'s Value {
        node.get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .and_then(|name| self.schema.get("$defs")?.get(name))
            .unwrap_or(node)
    }

    /// The schema of member or item `seg` of `node`: a property, an array item, a map value,
    /// or the first `anyOf` branch that has one.
    fn child<'s>(&'s self, node: &'s Value, seg: &str) -> Option<&'s Value> {
        let node = self.deref(node);
        if let Some(p) = node.get("properties").and_then(|p| p.get(seg)) {
            return Some(p);
        }
        if let Some(items) = node.get("items") {
            return seg.parse::<usize>().is_ok().then_some(items);
        }
        if let Some(values @ Value::Object(_)) = node.get("additionalProperties") {
            return Some(values);
        }
        node.get("anyOf")?
            .as_array()?
            .iter()
            .find_map(|branch| self.child(branch, seg))
    }
}

/// Whether a schema node is a free text field: its type is `string` (or `string` and `null`),
/// with no format, pattern or enumeration (timestamps and durations refuse numbers).
fn wants_text(node: &Value) -> bool {
    if ["format", "pattern", "enum"]
        .iter()
        .any(|k| node.get(k).is_some())
    {
        return false;
    }
    match node.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(types)) => {
            types.iter().any(|t| t == "string")
                && types.iter().all(|t| t == "string" || t == "null")
        }
        _ => false,
    }
}

/// Marks integer schemas whose bounds we added for the type's width.
const OVERFLOW_MARK: &str = "x-smps-integer-width";

/// Tightens a generated schema the way the validator wants it:
/// * `additionalProperties: false` on every object schema with `properties` (unknown fields
///   become findings, reported as warnings);
/// * `null` allowed for every field and map value (proto3 JSON: `null` means "default");
/// * int32 bounds on `format: int32` integers (schemars only names the format).
fn make_strict(schema: &mut Value) {
    let Value::Object(root) = schema else { return };
    if let Some(Value::Object(defs)) = root.get_mut("$defs") {
        for def in defs.values_mut() {
            strict_node(def);
        }
    }
    strict_node(schema);
}

fn strict_node(node: &mut Value) {
    let Value::Object(obj) = node else { return };
    if obj.get("format").and_then(Value::as_str) == Some("int32") {
        obj.insert("minimum".into(), json!(i32::MIN));
        obj.insert("maximum".into(), json!(i32::MAX));
        obj.insert(OVERFLOW_MARK.into(), json!(32));
    }
    if obj.get("type").and_then(Value::as_str) == Some("integer")
        && obj.get("maximum") == Some(&json!(i64::MAX))
    {
        obj.insert(OVERFLOW_MARK.into(), json!(64));
    }
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        for p in props.values_mut() {
            collapse_nullable(p);
            strict_node(p);
        }
        // smps-model also reads the legacy singular `endpoint_url: "http://..."`.
        if let Some(urls) = props.get_mut("endpointUrls") {
            if urls.get("type") == Some(&json!("array")) {
                let array = urls.clone();
                *urls = json!({"anyOf": [array, {"type": "string"}]});
            }
        }
        obj.entry("additionalProperties")
            .or_insert(Value::Bool(false));
    } else if let Some(ap @ Value::Object(_)) = obj.get_mut("additionalProperties") {
        strict_node(ap);
        allow_null(ap);
    }
    if let Some(items) = obj.get_mut("items") {
        strict_node(items);
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(branches)) = obj.get_mut(key) {
            for b in branches {
                strict_node(b);
            }
        }
    }
}

/// `anyOf: [X, {type: null}]` → `X`. The parsers drop `null` fields (proto3 JSON: "default"),
/// and without the `anyOf` errors inside `X` keep their precise instance paths.
fn collapse_nullable(node: &mut Value) {
    let Value::Object(obj) = node else { return };
    let Some(Value::Array(branches)) = obj.get("anyOf") else {
        return;
    };
    if branches.len() != 2 {
        return;
    }
    let is_null = |b: &Value| b.get("type") == Some(&json!("null"));
    let keep = match (is_null(&branches[0]), is_null(&branches[1])) {
        (false, true) => branches[0].clone(),
        (true, false) => branches[1].clone(),
        _ => return,
    };
    obj.remove("anyOf");
    if let Value::Object(k) = keep {
        for (key, v) in k {
            obj.insert(key, v);
        }
    }
}

fn allow_null(node: &mut Value) {
    let Value::Object(obj) = node else { return };
    if let Some(t) = obj.get_mut("type") {
        match t {
            Value::String(s) if s != "null" => {
                *t = json!([s.clone(), "null"]);
            }
            Value::Array(a) if !a.contains(&json!("null")) => a.push(json!("null")),
            _ => {}
        }
        return;
    }
    if let Some(Value::Array(branches)) = obj.get_mut("anyOf") {
        if !branches
            .iter()
            .any(|b| b.get("type") == Some(&json!("null")))
        {
            branches.push(json!({"type": "null"}));
        }
        return;
    }
    if let Some(r) = obj.remove("$ref") {
        let mut branch = Map::new();
        branch.insert("$ref".into(), r);
        obj.insert("anyOf".into(), json!([branch, {"type": "null"}]));
    }
}

/// What a schema node accepts, in words.
fn describe(root: &Value, node: &Value, depth: usize) -> String {
    if depth > 4 {
        return "a valid value".into();
    }
    if let Some(r) = node.get("$ref").and_then(Value::as_str) {
        let target = r
            .strip_prefix('#')
            .map(Pointer::parse)
            .and_then(|p| get(root, &p));
        return target.map_or_else(|| "a valid value".into(), |t| describe(root, t, depth + 1));
    }
    if let Some(Value::Array(branches)) = node.get("anyOf").or_else(|| node.get("oneOf")) {
        let parts: Vec<String> = branches
            .iter()
            .filter(|b| b.get("type") != Some(&json!("null")))
            .map(|b| describe(root, b, depth + 1))
            .collect();
        return parts.join(" or ");
    }
    if let Some(Value::Array(options)) = node.get("enum") {
        let shown: Vec<String> = options.iter().take(6).map(ToString::to_string).collect();
        let more = if options.len() > 6 { ", ..." } else { "" };
        return format!("one of {}{more}", shown.join(", "));
    }
    let types: Vec<&str> = match node.get("type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    };
    let mut out = types
        .iter()
        .map(|t| match *t {
            "integer" => "an integer",
            "number" => "a number",
            "string" => "a string",
            "boolean" => "a boolean",
            "object" => "an object",
            "array" => "an array",
            _ => "a value",
        })
        .collect::<Vec<_>>()
        .join(" or ");
    if out.is_empty() {
        out = "a valid value".into();
    }
    if let Some(f) = node.get("format").and_then(Value::as_str) {
        if f == "date-time" {
            out = "an RFC 3339 timestamp string".into();
        } else if !f.starts_with("int") {
            out.push_str(&format!(" in format {f}"));
        }
    }
    if let Some(p) = node.get("pattern").and_then(Value::as_str) {
        out.push_str(&format!(" matching `{p}`"));
    }
    if let (Some(min), Some(max)) = (node.get("minimum"), node.get("maximum")) {
        out.push_str(&format!(" in [{min}, {max}]"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_compiles_strict() {
        for k in KINDS {
            let c = CompiledSchema::new(k).unwrap();
            assert!(c.validator.is_valid(&json!({})));
            assert!(!c.validator.is_valid(&json!({"noSuchField": 1})));
        }
    }

    #[test]
    fn null_is_accepted_in_user_maps_and_int32_is_bounded() {
        let c = CompiledSchema::new(Kind::PerformanceTestConfig).unwrap();
        assert!(
            c.validator
                .is_valid(&json!({"labels": {"a": null}, "clients": [{"connections": 5}]}))
        );
        let mut out = Vec::new();
        c.check(
            &json!({"clients": [{"connections": 3_000_000_000_i64}]}),
            false,
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].rule, Rule::IntegerOverflow);
        assert_eq!(out[0].pointer.to_string(), "/clients/0/connections");
    }

    #[test]
    fn findings_describe_the_expectation() {
        let c = CompiledSchema::new(Kind::PerformanceTestResult).unwrap();
        let doc = json!({"latenciesMs": {"p99": "16.945ms"}, "bogus": 1});
        let mut out = Vec::new();
        c.check(&doc, false, &mut out);
        // The hint changes how, not what.
        let mut hinted = Vec::new();
        c.check(&doc, true, &mut hinted);
        assert_eq!(format!("{out:?}"), format!("{hinted:?}"));
        let mut none = Vec::new();
        c.check(&json!({"latenciesMs": {"p99": 16.9}}), true, &mut none);
        assert!(none.is_empty(), "{none:?}");
        assert_eq!(out.len(), 2, "{out:?}");
        let unknown = out.iter().find(|f| f.rule == Rule::UnknownField).unwrap();
        assert!(unknown.at_key);
        assert_eq!(unknown.pointer.to_string(), "/bogus");
        let schema = out.iter().find(|f| f.rule == Rule::Schema).unwrap();
        assert_eq!(schema.pointer.to_string(), "/latenciesMs/p99");
        match &schema.kind {
            ViolationKind::Schema { expected, .. } => {
                assert!(expected.starts_with("a number or one of"), "{expected}");
            }
            other => panic!("{other:?}"),
        }
    }
}
