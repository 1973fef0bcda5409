//! A **test double** of the Kubernetes API server: plain HTTP/1.1 on
//! 127.0.0.1, JSON only, holding apps/v1 Deployments and v1 Services in
//! memory. It is not a Kubernetes; it enforces the semantics the driver
//! relies on, so tests fail where a real API server would refuse:
//!
//! - the real paths (`/apis/apps/v1/namespaces/{ns}/deployments[/{name}]`,
//!   `/api/v1/namespaces/{ns}/services[/{name}]`); anything else is 404 with
//!   a Status body;
//! - a global resourceVersion counter bumped on every write, `generation`
//!   raised only when `spec` changes, server-set `uid`, `creationTimestamp`
//!   and Service `clusterIP`;
//! - POST of a taken name → 409 `AlreadyExists`; PUT of an absent object →
//!   404 `NotFound`; PUT with a stale `resourceVersion` → 409 `Conflict`
//!   (without one: an unconditional update, as Deployments and Services allow);
//! - validation → 422 `Invalid` with `details.causes[].field`: DNS names,
//!   label syntax and length, a selector that matches the template labels
//!   and never changes, container and port names, quantities, replicas ≥ 0,
//!   an immutable clusterIP;
//! - lists filtered by `labelSelector` (`k=v`, `k==v`, `k!=v`, `k`),
//!   ordered by name, with the store's resourceVersion;
//! - Deployment status filled at once (replicas ready) as a controller would;
//! - faults: a one-shot 409 on the next write; every request is recorded.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

#[path = "http.rs"]
mod http;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

pub use http::Request;

#[derive(Default)]
struct Store {
    rv: u64,
    uid: u64,
    /// (resource, namespace, name) → object.
    objects: BTreeMap<(String, String, String), Value>,
    requests: Vec<Request>,
    conflict_next_write: bool,
}

/// The running double.
pub struct K8sDouble {
    addr: std::net::SocketAddr,
    store: Arc<Mutex<Store>>,
}

impl K8sDouble {
    /// Starts the double on a free port of 127.0.0.1.
    pub fn start() -> Self {
        let store = Arc::new(Mutex::new(Store::default()));
        let addr = http::serve(Arc::clone(&store));
        K8sDouble { addr, store }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next POST or PUT fails with 409 Conflict.
    pub fn conflict_next_write(&self) {
        self.store.lock().unwrap().conflict_next_write = true;
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.store.lock().unwrap().requests.clone()
    }

    /// A stored object (`deployments` or `services`).
    pub fn object(&self, resource: &str, ns: &str, name: &str) -> Option<Value> {
        self.store
            .lock()
            .unwrap()
            .objects
            .get(&(resource.into(), ns.into(), name.into()))
            .cloned()
    }

    /// Names of the stored objects of a resource in a namespace.
    pub fn names(&self, resource: &str, ns: &str) -> Vec<String> {
        self.store
            .lock()
            .unwrap()
            .objects
            .keys()
            .filter(|(r, n, _)| r == resource && n == ns)
            .map(|(_, _, name)| name.clone())
            .collect()
    }

    /// Another writer changes an object (bumps its resourceVersion and a label).
    pub fn touch(&self, resource: &str, ns: &str, name: &str) {
        let mut st = self.store.lock().unwrap();
        st.rv += 1;
        let rv = st.rv.to_string();
        if let Some(o) = st
            .objects
            .get_mut(&(resource.into(), ns.into(), name.into()))
        {
            o["metadata"]["resourceVersion"] = json!(rv);
            o["metadata"]["annotations"]["touched-by"] = json!("someone-else");
        }
    }
}

impl http::Api for Store {
    fn answer(&mut self, request: &http::Incoming) -> http::Reply {
        let body = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let (code, answer) = handle(self, &request.method, &request.target, body);
        (code, String::new(), answer)
    }

    fn log(&mut self) -> &mut Vec<Request> {
        &mut self.requests
    }
}

fn group_of(resource: &str) -> &'static str {
    if resource == "deployments" {
        "apps"
    } else {
        ""
    }
}

fn kind_of(resource: &str) -> &'static str {
    if resource == "deployments" {
        "Deployment"
    } else {
        "Service"
    }
}

fn qualified(resource: &str) -> String {
    match group_of(resource) {
        "" => resource.to_owned(),
        g => format!("{resource}.{g}"),
    }
}

fn status(code: u16, reason: &str, message: String, details: Value) -> (u16, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "details": details, "code": code}),
    )
}

/// A failure about object `name` of `resource`; `message` is given the
/// qualified resource (`deployments.apps`).
fn object_status(
    code: u16,
    reason: &str,
    resource: &str,
    name: &str,
    message: impl FnOnce(String) -> String,
) -> (u16, Value) {
    status(
        code,
        reason,
        message(qualified(resource)),
        json!({"name": name, "group": group_of(resource), "kind": resource}),
    )
}

fn not_found(resource: &str, name: &str) -> (u16, Value) {
    object_status(404, "NotFound", resource, name, |q| {
        format!("{q} \"{name}\" not found")
    })
}

fn handle(st: &mut Store, method: &str, target: &str, body: Value) -> (u16, Value) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query: BTreeMap<String, String> = http::parse_query(query).into_iter().collect();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (resource, ns, name) = match segs.as_slice() {
        ["apis", "apps", "v1", "namespaces", ns, "deployments"] => ("deployments", *ns, None),
        ["apis", "apps", "v1", "namespaces", ns, "deployments", n] => {
            ("deployments", *ns, Some(*n))
        }
        ["api", "v1", "namespaces", ns, "services"] => ("services", *ns, None),
        ["api", "v1", "namespaces", ns, "services", n] => ("services", *ns, Some(*n)),
        _ => {
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource".into(),
                json!({}),
            )
        }
    };
    let key = |n: &str| (resource.to_owned(), ns.to_owned(), n.to_owned());
    match (method, name) {
        ("GET", None) => {
            let selector = query.get("labelSelector").cloned().unwrap_or_default();
            let items: Vec<Value> = st
                .objects
                .iter()
                .filter(|((r, n, _), o)| r == resource && n == ns && matches(&selector, o))
                .map(|(_, o)| {
                    // Items of a real list carry no kind/apiVersion.
                    let mut o = o.clone();
                    if let Some(m) = o.as_object_mut() {
                        m.remove("kind");
                        m.remove("apiVersion");
                    }
                    o
                })
                .collect();
            (
                200,
                json!({"kind": format!("{}List", kind_of(resource)),
                       "apiVersion": if resource == "deployments" { "apps/v1" } else { "v1" },
                       "metadata": {"resourceVersion": st.rv.to_string()}, "items": items}),
            )
        }
        ("GET", Some(n)) => match st.objects.get(&key(n)) {
            Some(o) => (200, o.clone()),
            None => not_found(resource, n),
        },
        ("POST", None) => {
            if std::mem::take(&mut st.conflict_next_write) {
                return conflict(resource, body["metadata"]["name"].as_str().unwrap_or(""));
            }
            let Some(n) = body["metadata"]["name"].as_str().map(str::to_owned) else {
                return invalid(
                    resource,
                    "",
                    vec![("metadata.name", "Required value: name is required".into())],
                );
            };
            if let Some(bns) = body["metadata"]["namespace"].as_str() {
                if bns != ns {
                    return status(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request".into(), json!({}));
                }
            }
            if st.objects.contains_key(&key(&n)) {
                return object_status(409, "AlreadyExists", resource, &n, |q| {
                    format!("{q} \"{n}\" already exists")
                });
            }
            if let Err(r) = validate(resource, &n, &body, None) {
                return r;
            }
            st.rv += 1;
            st.uid += 1;
            let mut o = body;
            o["metadata"]["namespace"] = json!(ns);
            o["metadata"]["resourceVersion"] = json!(st.rv.to_string());
            o["metadata"]["uid"] = json!(format!("00000000-0000-0000-0000-{:012}", st.uid));
            o["metadata"]["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
            o["metadata"]["generation"] = json!(1);
            o["apiVersion"] = json!(if resource == "deployments" {
                "apps/v1"
            } else {
                "v1"
            });
            o["kind"] = json!(kind_of(resource));
            if resource == "services" {
                o["spec"]["clusterIP"] = json!(format!("10.96.0.{}", st.uid % 250 + 1));
            }
            simulate(&mut o);
            st.objects.insert(key(&n), o.clone());
            (201, o)
        }
        ("PUT", Some(n)) => {
            if std::mem::take(&mut st.conflict_next_write) {
                return conflict(resource, n);
            }
            let Some(cur) = st.objects.get(&key(n)).cloned() else {
                return not_found(resource, n);
            };
            if body["metadata"]["name"].as_str() != Some(n) {
                return status(
                    400,
                    "BadRequest",
                    "the name of the object does not match the name on the URL".into(),
                    json!({}),
                );
            }
            if let Some(rv) = body["metadata"]["resourceVersion"].as_str() {
                if Some(rv) != cur["metadata"]["resourceVersion"].as_str() {
                    return conflict(resource, n);
                }
            }
            if let Err(r) = validate(resource, n, &body, Some(&cur)) {
                return r;
            }
            st.rv += 1;
            let mut o = body;
            let generation = cur["metadata"]["generation"].as_i64().unwrap_or(1)
                + i64::from(o["spec"] != cur["spec"]);
            for k in ["uid", "creationTimestamp"] {
                o["metadata"][k] = cur["metadata"][k].clone();
            }
            o["metadata"]["namespace"] = json!(ns);
            o["metadata"]["generation"] = json!(generation);
            o["metadata"]["resourceVersion"] = json!(st.rv.to_string());
            o["apiVersion"] = cur["apiVersion"].clone();
            o["kind"] = cur["kind"].clone();
            if resource == "services" && o["spec"]["clusterIP"].is_null() {
                o["spec"]["clusterIP"] = cur["spec"]["clusterIP"].clone();
            }
            simulate(&mut o);
            st.objects.insert(key(n), o.clone());
            (200, o)
        }
        ("DELETE", Some(n)) => match st.objects.remove(&key(n)) {
            Some(o) => {
                st.rv += 1;
                (200, o)
            }
            None => not_found(resource, n),
        },
        _ => status(
            405,
            "MethodNotAllowed",
            format!("{method} is not supported here"),
            json!({}),
        ),
    }
}

fn conflict(resource: &str, name: &str) -> (u16, Value) {
    object_status(409, "Conflict", resource, name, |q| {
        format!("Operation cannot be fulfilled on {q} \"{name}\": the object has been modified; please apply your changes to the latest version and try again")
    })
}

fn invalid(resource: &str, name: &str, causes: Vec<(&str, String)>) -> (u16, Value) {
    let first = causes
        .first()
        .map(|(f, m)| format!("{f}: {m}"))
        .unwrap_or_default();
    status(
        422,
        "Invalid",
        format!(
            "{}.{} \"{name}\" is invalid: {first}",
            kind_of(resource),
            group_of(resource)
        )
        .replace(". \"", " \""),
        json!({"name": name, "group": group_of(resource), "kind": kind_of(resource),
               "causes": causes.iter().map(|(f, m)| json!({"reason": "FieldValueInvalid", "message": m, "field": f})).collect::<Vec<_>>()}),
    )
}

/// A controller's work, done at once: every replica ready.
fn simulate(o: &mut Value) {
    if o["kind"] != "Deployment" {
        return;
    }
    let r = o["spec"]["replicas"].as_i64().unwrap_or(1);
    o["status"] = json!({"observedGeneration": o["metadata"]["generation"], "replicas": r,
        "updatedReplicas": r, "readyReplicas": r, "availableReplicas": r});
}

fn matches(selector: &str, o: &Value) -> bool {
    let labels = &o["metadata"]["labels"];
    http::selector_matches(selector, &["==", "="], |k| labels[k].as_str())
}

fn dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(dns1123_label)
}

fn label_ok(k: &str, v: &str) -> bool {
    let name = k
        .rsplit_once('/')
        .map_or(k, |(p, n)| if dns1123_subdomain(p) { n } else { "" });
    let part = |s: &str, allow_empty: bool| {
        (allow_empty && s.is_empty())
            || (s.len() <= 63
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                && s.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric()))
    };
    part(name, false) && part(v, true)
}

fn quantity_ok(q: &Value) -> bool {
    let s = match q {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return false,
    };
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(num_end);
    !num.is_empty()
        && num.parse::<f64>().is_ok()
        && ["", "m", "k", "M", "G", "T", "Ki", "Mi", "Gi", "Ti"].contains(&suffix)
}

fn validate(
    resource: &str,
    name: &str,
    o: &Value,
    cur: Option<&Value>,
) -> Result<(), (u16, Value)> {
    let mut causes: Vec<(&str, String)> = Vec::new();
    let labels_of = |v: &Value| -> Vec<(String, String)> {
        v.as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    };
    for (k, v) in labels_of(&o["metadata"]["labels"]) {
        if !label_ok(&k, &v) {
            causes.push((
                "metadata.labels",
                format!("Invalid value: \"{v}\": a valid label must be 63 characters or less"),
            ));
        }
    }
    if resource == "deployments" {
        if !dns1123_subdomain(name) {
            causes.push((
                "metadata.name",
                format!("Invalid value: \"{name}\": a lowercase RFC 1123 subdomain"),
            ));
        }
        let sel = &o["spec"]["selector"]["matchLabels"];
        let tpl = &o["spec"]["template"]["metadata"]["labels"];
        if sel.as_object().is_none_or(|m| m.is_empty()) {
            causes.push(("spec.selector", "Required value".into()));
        } else if !labels_of(sel)
            .iter()
            .all(|(k, v)| tpl[k].as_str() == Some(v))
        {
            causes.push((
                "spec.template.metadata.labels",
                "Invalid value: `selector` does not match template `labels`".into(),
            ));
        }
        for (k, v) in labels_of(tpl) {
            if !label_ok(&k, &v) {
                causes.push((
                    "spec.template.metadata.labels",
                    format!("Invalid value: \"{v}\""),
                ));
            }
        }
        if let Some(c) = cur {
            if c["spec"]["selector"] != o["spec"]["selector"] {
                causes.push(("spec.selector", "Invalid value: field is immutable".into()));
            }
        }
        if o["spec"]["replicas"].as_i64().is_some_and(|r| r < 0) {
            causes.push((
                "spec.replicas",
                "Invalid value: must be greater than or equal to 0".into(),
            ));
        }
        let containers = o["spec"]["template"]["spec"]["containers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if containers.is_empty() {
            causes.push(("spec.template.spec.containers", "Required value".into()));
        }
        for c in &containers {
            if !c["name"].as_str().is_some_and(dns1123_label) {
                causes.push((
                    "spec.template.spec.containers[0].name",
                    "Invalid value: a lowercase RFC 1123 label".into(),
                ));
            }
            if c["image"].as_str().is_none_or(str::is_empty) {
                causes.push((
                    "spec.template.spec.containers[0].image",
                    "Required value".into(),
                ));
            }
            for p in c["ports"].as_array().cloned().unwrap_or_default() {
                let n = p["name"].as_str().unwrap_or("");
                if n.len() > 15 || !dns1123_label(n) || !n.bytes().any(|b| b.is_ascii_lowercase()) {
                    causes.push(("spec.template.spec.containers[0].ports.name", format!("Invalid value: \"{n}\": must be no more than 15 characters (IANA_SVC_NAME)")));
                }
            }
            for kind in ["requests", "limits"] {
                if let Some(m) = c["resources"][kind].as_object() {
                    if !m.values().all(quantity_ok) {
                        causes.push((
                            "spec.template.spec.containers[0].resources",
                            "Invalid value: quantities must match the regular expression".into(),
                        ));
                    }
                }
            }
        }
    } else {
        let dns1035 = dns1123_label(name) && name.starts_with(|c: char| c.is_ascii_lowercase());
        if !dns1035 {
            causes.push((
                "metadata.name",
                format!("Invalid value: \"{name}\": a DNS-1035 label"),
            ));
        }
        if o["spec"]["ports"].as_array().is_none_or(|p| p.is_empty()) {
            causes.push(("spec.ports", "Required value".into()));
        }
        if let Some(c) = cur {
            let ip = &o["spec"]["clusterIP"];
            if !ip.is_null() && *ip != c["spec"]["clusterIP"] {
                causes.push(("spec.clusterIP", "Invalid value: field is immutable".into()));
            }
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(invalid(resource, name, causes))
    }
}
