//! The environment of a workflow run (spec workflows §2.4): a few of the
//! server's variables, the server defaults, the breed's variables and the
//! workflow's, a later name winning, each value interpolated.

use serde_json::{Map, Value};
use vamp_model::{Breed, TraitValue};

/// What the environment is built from.
#[derive(Debug)]
pub struct Sources<'a> {
    /// Inherited variables (PATH, HOME, ...) and NODE_PATH.
    pub base: &'a [(String, String)],
    /// The server's defaults (VAMP_URL, ...).
    pub defaults: Vec<(String, String)>,
    /// The breed.
    pub breed: &'a Breed,
    /// The workflow's variables.
    pub workflow_vars: &'a vamp_model::Map<TraitValue>,
    /// The workflow's name.
    pub name: &'a str,
    /// Base64 of the trigger data, for `${data}`.
    pub data: Option<&'a str>,
    /// The configuration keys, for `${config://key}`.
    pub config: &'a Map<String, Value>,
}

fn var_name(name: &str, t: &TraitValue) -> String {
    t.alias.clone().unwrap_or_else(|| name.to_owned())
}

/// Interpolates `${workflow}`, `${namespace}`, `${data}`, `${config://k}`
/// and `$X`/`${X}` (breed variables); anything unresolved becomes "".
pub fn interpolate(text: &str, s: &Sources<'_>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (key, len) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(j) => (&inner[..j], j + 2),
                None => {
                    out.push('$');
                    rest = after;
                    continue;
                }
            }
        } else {
            let j = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..j], j)
        };
        if key.is_empty() {
            out.push('$');
        } else {
            out.push_str(&resolve(key, s));
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

fn resolve(key: &str, s: &Sources<'_>) -> String {
    match key {
        "workflow" => s.name.to_owned(),
        "namespace" => String::new(),
        "data" => s.data.unwrap_or_default().to_owned(),
        _ => {
            if let Some(k) = key.strip_prefix("config://") {
                return match s.config.get(k) {
                    Some(Value::String(v)) => v.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(v) => v.to_string(),
                };
            }
            if key.contains("://") {
                return String::new();
            }
            s.breed
                .environment_variables
                .get(key)
                .and_then(|t| t.value.clone())
                .unwrap_or_default()
        }
    }
}

/// The whole environment, in order, each name once (the last one wins).
pub fn build(s: &Sources<'_>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = s.base.to_vec();
    let mut set = |k: String, v: String| {
        out.retain(|(x, _)| *x != k);
        out.push((k, v));
    };
    for (k, v) in &s.defaults {
        set(k.clone(), interpolate(v, s));
    }
    for vars in [&s.breed.environment_variables, s.workflow_vars] {
        for (k, t) in vars {
            if let Some(v) = &t.value {
                set(var_name(k, t), interpolate(v, s));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tv(v: &str) -> TraitValue {
        TraitValue {
            value: Some(v.into()),
            alias: None,
            span: None,
        }
    }

    #[test]
    fn workflow_variables_win_and_values_interpolate() {
        let mut breed: Breed =
            serde_json::from_value(serde_json::json!({"name": "b", "deployable": {"type": "application/javascript", "definition": ""}}))
                .unwrap_or_else(|e| panic!("{e}"));
        breed.environment_variables.insert("A".into(), tv("breed"));
        breed
            .environment_variables
            .insert("B".into(), tv("b-${workflow}"));
        let mut wf = vamp_model::Map::new();
        wf.insert("A".into(), tv("wf $B ${config://k} ${es://x}."));
        let mut config = Map::new();
        config.insert("k".into(), Value::from(7));
        let env = build(&Sources {
            base: &[("PATH".into(), "/bin".into())],
            defaults: vec![("VAMP_API_CACHE".into(), "false".into())],
            breed: &breed,
            workflow_vars: &wf,
            name: "w",
            data: None,
            config: &config,
        });
        let get = |k: &str| env.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
        assert_eq!(get("A"), Some("wf b-${workflow} 7 ."));
        assert_eq!(get("B"), Some("b-w"));
        assert_eq!(get("PATH"), Some("/bin"));
        assert_eq!(get("VAMP_API_CACHE"), Some("false"));
    }
}
