//! The Gateway API rules [`crate::validate::Validator`] checks on HTTPRoute and GRPCRoute
//! manifests beyond their OpenAPI schema: stand-ins for the CRDs' CEL rules a mesh route relies
//! on, located by JSON Pointer (see the `validate` module docs for the list).

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Severity, Violation};

fn err(out: &mut Vec<Violation>, object: &str, path: String, rule: &str, msg: String) {
    out.push(Violation::rule(object, path, rule, Severity::Error, msg));
}

fn regex_ok(out: &mut Vec<Violation>, object: &str, path: String, what: &str, re: &str) {
    if let Err(e) = regex::Regex::new(re) {
        err(
            out,
            object,
            path,
            "gamma.regex",
            format!("{what} regular expression does not compile: {e}"),
        );
    }
}

fn arr<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = (usize, &'a Value)> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Appends the rule findings of one route manifest.
pub(crate) fn rules(manifest: &Value, object: &str, out: &mut Vec<Violation>) {
    let Some(spec) = manifest.get("spec") else {
        return;
    };
    for (i, p) in arr(spec, "parentRefs") {
        if str_of(p, "kind") == Some("Service") && str_of(p, "group") != Some("") {
            err(
                out,
                object,
                format!("/spec/parentRefs/{i}/group"),
                "gamma.parent-service",
                "a Service parentRef needs group \"\" (the core group); without it the parent \
                 defaults to gateway.networking.k8s.io and names no Service"
                    .into(),
            );
        }
    }
    let mut names = BTreeSet::new();
    for (r, rule) in arr(spec, "rules") {
        let base = format!("/spec/rules/{r}");
        if let Some(name) = str_of(rule, "name")
            && !names.insert(name.to_string())
        {
            err(
                out,
                object,
                format!("{base}/name"),
                "gamma.rule-name-unique",
                format!("rule name `{name}` is used by an earlier rule of this route"),
            );
        }
        let mut prefix_matches = 0usize;
        let mut matches = 0usize;
        for (m, mm) in arr(rule, "matches") {
            matches += 1;
            let mb = format!("{base}/matches/{m}");
            if let Some(path) = mm.get("path") {
                let kind = str_of(path, "type").unwrap_or("PathPrefix");
                let value = str_of(path, "value").unwrap_or("/");
                match kind {
                    "Exact" | "PathPrefix" if !value.starts_with('/') => err(
                        out,
                        object,
                        format!("{mb}/path/value"),
                        "gamma.path-absolute",
                        format!("a {kind} path must start with `/`, got `{value}`"),
                    ),
                    "RegularExpression" => {
                        regex_ok(out, object, format!("{mb}/path/value"), "path", value);
                    }
                    _ => {}
                }
                if kind == "PathPrefix" {
                    prefix_matches += 1;
                }
            }
            for key in ["headers", "queryParams"] {
                for (h, hm) in arr(mm, key) {
                    if str_of(hm, "type") == Some("RegularExpression") {
                        regex_ok(
                            out,
                            object,
                            format!("{mb}/{key}/{h}/value"),
                            key,
                            str_of(hm, "value").unwrap_or(""),
                        );
                    }
                }
            }
        }
        let kinds: Vec<(usize, &str)> = arr(rule, "filters")
            .filter_map(|(i, f)| str_of(f, "type").map(|t| (i, t)))
            .collect();
        let has = |t: &str| kinds.iter().find(|(_, k)| *k == t).map(|(i, _)| *i);
        if let Some(i) = has("RequestRedirect") {
            if rule
                .get("backendRefs")
                .and_then(Value::as_array)
                .is_some_and(|b| !b.is_empty())
            {
                err(
                    out,
                    object,
                    format!("{base}/filters/{i}"),
                    "gamma.redirect-without-backends",
                    "a rule with a RequestRedirect filter must not have backendRefs".into(),
                );
            }
            if has("URLRewrite").is_some() {
                err(
                    out,
                    object,
                    format!("{base}/filters/{i}"),
                    "gamma.redirect-or-rewrite",
                    "RequestRedirect and URLRewrite cannot both be in one rule".into(),
                );
            }
        }
        for (i, f) in arr(rule, "filters") {
            let modifier = f
                .get("requestRedirect")
                .or_else(|| f.get("urlRewrite"))
                .and_then(|x| x.get("path"));
            if modifier.and_then(|p| str_of(p, "type")) == Some("ReplacePrefixMatch")
                && (matches == 0 || prefix_matches != matches)
            {
                err(
                    out,
                    object,
                    format!("{base}/filters/{i}"),
                    "gamma.replace-prefix-needs-prefix-match",
                    "a ReplacePrefixMatch path modifier needs every match of its rule to be a \
                     PathPrefix path match"
                        .into(),
                );
            }
        }
    }
}
