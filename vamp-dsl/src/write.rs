//! Writing documents as DSL YAML that reads back to the same documents
//! (the directory store's files, `vamp import compose --output yaml`).

use serde_json::{Map as JsonMap, Value};
use vamp_model::Document;

/// Writes a document as DSL YAML that reads back to the same document.
///
/// ```
/// use vamp_dsl::{read, ReadOptions, write::to_yaml};
/// let src = "kind: breed\nname: web\ndeployable: acme/web:1\nports: {web: 8080}\nenvironment_variables:\n  debug[WEB_DEBUG]: 'true'\n  TOKEN: ~\n";
/// let doc = read(src, ReadOptions::default()).documents.remove(0);
/// let again = read(&to_yaml(&doc), ReadOptions::default()).documents.remove(0);
/// assert_eq!(serde_json::to_value(&doc).unwrap(), serde_json::to_value(&again).unwrap());
/// ```
pub fn to_yaml(document: &Document) -> String {
    let canonical = serde_json::to_value(document).unwrap_or(Value::Null);
    let dsl = to_dsl(&canonical, None);
    let mut out = String::new();
    emit(&dsl, 0, &mut out);
    out
}

/// Keys whose values are free-form and must be written as they are.
const FREE: [&str; 4] = ["metadata", "dialects", "parameters", "schedule"];

fn percent(v: &Value) -> Value {
    v.as_u64()
        .map_or(Value::Null, |n| Value::String(format!("{n}%")))
}

fn traits(v: &Value) -> Value {
    let mut out = JsonMap::new();
    for (k, t) in v.as_object().into_iter().flatten() {
        let key = match t.get("alias").and_then(Value::as_str) {
            Some(a) => format!("{k}[{a}]"),
            None => k.clone(),
        };
        out.insert(key, t.get("value").cloned().unwrap_or(Value::Null));
    }
    Value::Object(out)
}

fn reference(v: &Value) -> Option<&str> {
    let o = v.as_object()?;
    (o.len() == 1)
        .then(|| o.get("reference")?.as_str())
        .flatten()
}

/// Canonical JSON to the DSL's written form. `key` is the key holding `v`.
fn to_dsl(v: &Value, key: Option<&str>) -> Value {
    let Some(obj) = v.as_object() else {
        return match v {
            Value::Array(items) => Value::Array(items.iter().map(|i| to_dsl(i, key)).collect()),
            other => other.clone(),
        };
    };
    if let (Some(r), Some("breed" | "scale" | "sla")) = (reference(v), key) {
        return Value::String(r.to_owned());
    }
    let mut out = JsonMap::new();
    let is_scale = obj.contains_key("cpu") && obj.contains_key("memory");
    for (k, val) in obj {
        let k = k.as_str();
        if FREE.contains(&k) {
            if val.as_object().is_some_and(|o| !o.is_empty()) || (k == "schedule" && !val.is_null())
            {
                if k == "parameters" {
                    for (pk, pv) in val.as_object().into_iter().flatten() {
                        out.insert(pk.clone(), pv.clone());
                    }
                } else {
                    out.insert(k.to_owned(), val.clone());
                }
            }
            continue;
        }
        let written = match (k, val) {
            (_, Value::Null) => continue,
            ("environment_variables" | "constants", _) => {
                if val.as_object().is_some_and(|o| o.is_empty()) {
                    continue;
                }
                traits(val)
            }
            ("ports", Value::Object(ports)) => {
                if ports.is_empty() {
                    continue;
                }
                Value::Object(
                    ports
                        .iter()
                        .map(|(pk, p)| (pk.clone(), p.get("value").cloned().unwrap_or(Value::Null)))
                        .collect(),
                )
            }
            ("port", Value::Object(p)) => p.get("value").cloned().unwrap_or(Value::Null),
            ("deployable", Value::Object(d)) if d.get("type").is_none_or(Value::is_null) => {
                d.get("definition").cloned().unwrap_or(Value::Null)
            }
            ("weight" | "condition_strength", n) => percent(n),
            ("memory", Value::Number(n)) if is_scale => Value::String(format!("{}MB", plain(n))),
            ("condition", Value::Object(c)) if c.contains_key("definition") => {
                c.get("definition").cloned().unwrap_or(Value::Null)
            }
            ("rewrites", Value::Array(items)) => {
                if items.is_empty() {
                    continue;
                }
                Value::Array(
                    items
                        .iter()
                        .map(|r| match reference(r) {
                            Some(_) => r.clone(),
                            None => {
                                let p = r.get("path").and_then(Value::as_str).unwrap_or_default();
                                let c = r
                                    .get("condition")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default();
                                serde_json::json!({ "path": format!("{p} if {c}") })
                            }
                        })
                        .collect(),
                )
            }
            ("arguments", Value::Array(items)) => {
                if items.is_empty() {
                    continue;
                }
                Value::Array(
                    items
                        .iter()
                        .map(|a| {
                            let mut m = JsonMap::new();
                            let key = a
                                .get("key")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned();
                            m.insert(key, a.get("value").cloned().unwrap_or(Value::Null));
                            Value::Object(m)
                        })
                        .collect(),
                )
            }
            ("dependencies", Value::Object(deps)) => {
                if deps.is_empty() {
                    continue;
                }
                Value::Object(
                    deps.iter()
                        .map(|(a, d)| {
                            (
                                a.clone(),
                                match reference(d) {
                                    Some(r) => Value::String(r.to_owned()),
                                    None => to_dsl(d, Some("breed")),
                                },
                            )
                        })
                        .collect(),
                )
            }
            ("gateways", Value::Object(gateways)) => {
                if gateways.is_empty() {
                    continue;
                }
                // A gateway keyed by its port number has no `port` key.
                let mut out = JsonMap::new();
                for (gk, g) in gateways {
                    let mut g = to_dsl(g, Some("gateway"));
                    let mut key = gk.clone();
                    if !gk.is_empty() && gk.bytes().all(|b| b.is_ascii_digit()) {
                        if let Some(o) = g.as_object_mut() {
                            // Keyed by the port as written (`8082/tcp`).
                            if let Some(Value::String(p)) = o.remove("port") {
                                key = p;
                            }
                        }
                    }
                    out.insert(key, g);
                }
                Value::Object(out)
            }
            (_, Value::Object(m)) if m.is_empty() && k != "routes" => continue,
            (_, Value::Array(a)) if a.is_empty() => continue,
            _ => to_dsl(val, Some(k)),
        };
        out.insert(k.to_owned(), written);
    }
    Value::Object(out)
}

/// A number as the DSL reads it: never in exponent form (`5e-6` is not a
/// DSL number; `0.000005` is). Rust's `f64` display is the shortest text
/// that reads back to the same value, without an exponent.
fn plain(n: &serde_json::Number) -> String {
    match (n.as_i64(), n.as_u64(), n.as_f64()) {
        (Some(i), _, _) => i.to_string(),
        (None, Some(u), _) => u.to_string(),
        (None, None, Some(f)) => f.to_string(),
        _ => n.to_string(),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "~".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => plain(n),
        // JSON strings are valid YAML double-quoted scalars.
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Array(a) if a.is_empty() => "[]".to_owned(),
        Value::Object(o) if o.is_empty() => "{}".to_owned(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => false,
    }
}

/// Block-style YAML.
fn emit(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (k, val) in o {
                out.push_str(&pad);
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                if is_block(val) {
                    out.push_str(":\n");
                    emit(val, indent + 2, out);
                } else {
                    out.push_str(": ");
                    out.push_str(&scalar(val));
                    out.push('\n');
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for item in a {
                out.push_str(&pad);
                out.push('-');
                if is_block(item) {
                    // Write the item's block one level deeper, then join the first line to the dash.
                    let mut inner = String::new();
                    emit(item, indent + 2, &mut inner);
                    out.push(' ');
                    out.push_str(inner.trim_start());
                } else {
                    out.push(' ');
                    out.push_str(&scalar(item));
                    out.push('\n');
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}
