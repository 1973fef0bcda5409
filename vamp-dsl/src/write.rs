//! Writing documents as DSL YAML that reads back to the same documents
//! (the directory store's files, `vamp import compose --output yaml`).
//!
//! Each artifact type is serialized (its canonical JSON), then the fields
//! the DSL writes shorter are replaced, chosen by type: a reference as its
//! name where the DSL reads a name (`breed: web:1`), ports and traits as
//! their written values (`debug[WEB_DEBUG]: 'true'`), weights as
//! percentages, memory with its unit, a condition or rewrite as its text.
//! Nothing is decided from key names, so a cluster or route called
//! `weight` or `memory` is written like any other.

use serde::Serialize;
use serde_json::{Map as JsonMap, Value};
use vamp_model::{
    Argument, Artifact, Blueprint, Breed, Cluster, Deployable, Document, Escalation, Gateway,
    GatewayService, Map, OrRef, Port, Rewrite, Route, RouteCondition, Scale, Service, Sla, Spec,
    TraitValue, Workflow,
};

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
    let dsl = match document {
        Document::Breed(b) => breed(b),
        Document::Blueprint(a) => artifact(a, blueprint(&a.spec)),
        Document::Gateway(a) => artifact(a, gateway(&a.spec)),
        Document::Condition(a) => artifact(a, Mapping::of(&a.spec).done()),
        Document::Rewrite(a) => artifact(a, rewrite(&a.spec)),
        Document::Scale(a) => artifact(a, scale(&a.spec)),
        Document::Sla(a) => artifact(a, sla(&a.spec)),
        Document::Escalation(a) => artifact(a, escalation(&a.spec)),
        Document::Workflow(a) => artifact(a, workflow(&a.spec)),
        Document::Rollout(a) => artifact(a, rollout(&a.spec)),
    };
    let mut out = String::new();
    emit(&dsl, 0, &mut out);
    out
}

/// A DSL mapping: the canonical JSON of a value without what the DSL
/// leaves unwritten (nothing, an empty map or list), whose fields are then
/// replaced by their shorter written forms, in place.
struct Mapping(JsonMap<String, Value>);

/// What the DSL does not write.
fn unwritten(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn json(v: &impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

impl Mapping {
    fn of(v: &impl Serialize) -> Self {
        let mut m = match json(v) {
            Value::Object(m) => m,
            _ => JsonMap::new(),
        };
        m.retain(|_, v| !unwritten(v));
        Mapping(m)
    }

    /// Replaces a field by its written form (or drops it when that is
    /// unwritten).
    fn set(&mut self, key: &str, v: Value) -> &mut Self {
        if unwritten(&v) {
            self.0.shift_remove(key);
        } else {
            self.0.insert(key.to_owned(), v);
        }
        self
    }

    /// Writes the entries of a free-form map in place of the field.
    fn flatten(&mut self, key: &str, entries: &Map<Value>) -> &mut Self {
        let Some(at) = self.0.keys().position(|k| k == key) else {
            return self;
        };
        self.0.shift_remove(key);
        for (i, (k, v)) in entries.iter().enumerate() {
            self.0.shift_insert(at + i, k.clone(), v.clone());
        }
        self
    }

    fn done(&mut self) -> Value {
        Value::Object(std::mem::take(&mut self.0))
    }
}

fn artifact<T: Spec>(a: &Artifact<T>, spec: Value) -> Value {
    let mut m = JsonMap::new();
    m.insert(
        "kind".to_owned(),
        Value::String(T::KIND.as_str().to_owned()),
    );
    m.insert("name".to_owned(), Value::String(a.name.clone()));
    if !a.metadata.is_empty() {
        m.insert("metadata".to_owned(), json(&a.metadata));
    }
    if let Value::Object(spec) = spec {
        m.extend(spec);
    }
    Value::Object(m)
}

/// `name` where the DSL reads a name, the artifact written inline otherwise.
fn named<T>(r: &OrRef<T>, inline: impl Fn(&T) -> Value) -> Value {
    match r {
        OrRef::Reference(r) => Value::String(r.name.clone()),
        OrRef::Inline(t) => inline(t),
    }
}

/// `{reference: name}`, or the artifact written inline.
fn referenced<T>(r: &OrRef<T>, inline: impl Fn(&T) -> Value) -> Value {
    match r {
        OrRef::Reference(r) => json(r),
        OrRef::Inline(t) => inline(t),
    }
}

/// `name[ALIAS]: value`.
fn traits(traits: &Map<TraitValue>) -> Value {
    let mut out = JsonMap::new();
    for (k, t) in traits {
        let key = match &t.alias {
            Some(a) => format!("{k}[{a}]"),
            None => k.clone(),
        };
        out.insert(key, json(&t.value));
    }
    Value::Object(out)
}

/// A port as written (`8080/tcp`).
fn port(p: &Port) -> Value {
    Value::String(p.value.clone())
}

fn ports(ports: &Map<Port>) -> Value {
    Value::Object(ports.iter().map(|(k, p)| (k.clone(), port(p))).collect())
}

/// `- KEY: value`.
fn arguments(arguments: &[Argument]) -> Value {
    arguments
        .iter()
        .map(|a| {
            let mut m = JsonMap::new();
            m.insert(a.key.clone(), Value::String(a.value.clone()));
            Value::Object(m)
        })
        .collect()
}

/// Seconds as a duration the DSL reads (`30s`).
fn seconds(s: u64) -> Value {
    Value::String(format!("{s}s"))
}

/// A rollout: percentages with `%`, durations with their unit.
fn rollout(r: &vamp_model::rollout::Rollout) -> Value {
    use vamp_model::rollout::Metric;
    let metrics = r
        .analysis
        .metrics
        .iter()
        .map(|m| match *m {
            Metric::ResponseTime { max_increase } => {
                serde_json::json!({"response_time": {"max_increase": percent(Some(max_increase))}})
            }
            Metric::ErrorRate { max, max_increase } => {
                let limits = Mapping::of(&serde_json::json!({
                    "max": percent(max), "max_increase": percent(max_increase)
                }))
                .done();
                serde_json::json!({ "error_rate": limits })
            }
        })
        .collect::<Vec<_>>();
    let analysis = Mapping::of(&r.analysis)
        .set("max_wait", seconds(r.analysis.max_wait))
        .set("confidence", percent(Some(r.analysis.confidence)))
        .set("metrics", Value::Array(metrics))
        .done();
    Mapping::of(r)
        .set("steps", r.steps.iter().map(|&s| percent(Some(s))).collect())
        .set("interval", seconds(r.interval))
        .set("analysis", analysis)
        .done()
}

fn percent(p: Option<u8>) -> Value {
    p.map_or(Value::Null, |n| Value::String(format!("{n}%")))
}

/// A deployable without a type is its definition.
fn deployable(d: &Deployable) -> Value {
    match d.deployable_type {
        None => Value::String(d.definition.clone()),
        Some(_) => json(d),
    }
}

fn breed(b: &Breed) -> Value {
    Mapping::of(b)
        .set("deployable", deployable(&b.deployable))
        .set("ports", ports(&b.ports))
        .set("environment_variables", traits(&b.environment_variables))
        .set("constants", traits(&b.constants))
        .set("arguments", arguments(&b.arguments))
        .set(
            "dependencies",
            b.dependencies
                .iter()
                .map(|(alias, d)| (alias.clone(), named(d, breed)))
                .collect::<JsonMap<_, _>>()
                .into(),
        )
        .done()
}

fn scale(s: &Scale) -> Value {
    let memory = serde_json::Number::from_f64(s.memory)
        .map_or(Value::Null, |n| Value::String(format!("{}MB", plain(&n))));
    Mapping::of(s).set("memory", memory).done()
}

fn rewrite(r: &Rewrite) -> Value {
    let mut m = JsonMap::new();
    m.insert(
        "path".to_owned(),
        Value::String(format!("{} if {}", r.path, r.condition)),
    );
    Value::Object(m)
}

fn route(r: &Route) -> Value {
    let condition = match &r.condition {
        Some(RouteCondition::Inline { definition, .. }) => {
            Value::String(definition.as_str().to_owned())
        }
        Some(c) => json(c),
        None => Value::Null,
    };
    Mapping::of(r)
        .set("weight", percent(r.weight))
        .set("condition", condition)
        .set("condition_strength", percent(r.condition_strength))
        .set(
            "rewrites",
            r.rewrites.iter().map(|w| referenced(w, rewrite)).collect(),
        )
        .done()
}

fn gateway_service(s: &GatewayService) -> Value {
    Mapping::of(s).set("port", port(&s.port)).done()
}

fn gateway(g: &Gateway) -> Value {
    let mut m = Mapping::of(g);
    m.set("port", g.port.as_ref().map_or(Value::Null, port))
        .set(
            "service",
            g.service.as_ref().map_or(Value::Null, gateway_service),
        );
    // Routes are written even when there are none.
    let routes = g
        .routes
        .iter()
        .map(|(k, r)| (k.clone(), referenced(r, route)))
        .collect();
    m.0.insert("routes".to_owned(), Value::Object(routes));
    m.done()
}

/// Gateways by key; one keyed by its port number is keyed by the port as
/// written (`8082/tcp`) instead of carrying a `port`.
fn gateways(gateways: &Map<Gateway>) -> Value {
    let mut out = JsonMap::new();
    for (key, g) in gateways {
        let mut written = gateway(g);
        let mut key = key.clone();
        if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
            if let Some(Value::String(p)) =
                written.as_object_mut().and_then(|o| o.shift_remove("port"))
            {
                key = p;
            }
        }
        out.insert(key, written);
    }
    Value::Object(out)
}

fn escalations(list: &[Escalation]) -> Value {
    list.iter().map(escalation).collect()
}

fn escalation(e: &Escalation) -> Value {
    let mut m = Mapping::of(e);
    match e {
        Escalation::ToAll(list) | Escalation::ToOne(list) => {
            m.set("escalations", escalations(list));
        }
        Escalation::Generic { parameters, .. } => {
            m.flatten("parameters", parameters);
        }
        Escalation::Scale { .. } | Escalation::Reference(_) => {}
    }
    m.done()
}

fn sla(s: &Sla) -> Value {
    let mut m = Mapping::of(s);
    m.set("escalations", escalations(s.escalations()));
    if let Sla::Generic { parameters, .. } = s {
        m.flatten("parameters", parameters);
    }
    m.done()
}

fn service(s: &Service) -> Value {
    Mapping::of(s)
        .set("breed", named(&s.breed, breed))
        .set("environment_variables", traits(&s.environment_variables))
        .set(
            "scale",
            s.scale.as_ref().map_or(Value::Null, |r| named(r, scale)),
        )
        .set("arguments", arguments(&s.arguments))
        .done()
}

fn cluster(c: &Cluster) -> Value {
    Mapping::of(c)
        .set("services", c.services.iter().map(service).collect())
        .set("gateways", gateways(&c.gateways))
        .set("sla", c.sla.as_ref().map_or(Value::Null, sla))
        .done()
}

fn blueprint(b: &Blueprint) -> Value {
    Mapping::of(b)
        .set("gateways", gateways(&b.gateways))
        .set(
            "clusters",
            b.clusters
                .iter()
                .map(|(k, c)| (k.clone(), cluster(c)))
                .collect::<JsonMap<_, _>>()
                .into(),
        )
        .set("environment_variables", traits(&b.environment_variables))
        .done()
}

fn workflow(w: &Workflow) -> Value {
    let mut m = Mapping::of(w);
    m.set("breed", named(&w.breed, breed))
        .set(
            "scale",
            w.scale.as_ref().map_or(Value::Null, |r| named(r, scale)),
        )
        .set("environment_variables", traits(&w.environment_variables))
        .set("arguments", arguments(&w.arguments));
    // A schedule is written whenever there is one, even an empty one.
    if !w.schedule.is_null() && !m.0.contains_key("schedule") {
        let at = m.0.keys().position(|k| k == "breed").map_or(0, |i| i + 1);
        m.0.shift_insert(at, "schedule".to_owned(), w.schedule.clone());
    }
    m.done()
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
