//! Deployment writes (§2 of the API contract): a blueprint merged into the
//! named deployment, a slice that undeploys services, the internal and
//! deployment gateways that follow, scale and SLA patches. Writes to one
//! deployment are serialized by a per-name lock.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use vamp_model::{
    Artifact, Blueprint, Code, DeployedCluster, Deployment, Diagnostic, Document, Gateway,
    Intention, Kind, OrRef, Phase, Scale, Sla, Status,
};

use crate::api::ApiError;
use crate::artifacts::{ApiKind, DeploymentRecord, Since, Stored};
use crate::engine::{self, Input, Lookup};
use crate::events::{now, Event};
use crate::gateways;
use crate::Shared;

/// The blueprint a deployment body stands for: an inline blueprint, a
/// reference to a stored one (`name: X` alone), or a deployment document
/// (read as a blueprint, else converted from a full deployment).
///
/// # Errors
/// What the reader reported, or `Artifact cannot be found`.
pub fn blueprint_of(shared: &Shared, input: &Input) -> Result<Artifact<Blueprint>, ApiError> {
    let keys: Vec<&str> = input
        .json
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if !keys.is_empty() && keys.iter().all(|k| matches!(*k, "name" | "kind")) {
        let name = input.name.clone().unwrap_or_default();
        return match shared.artifacts.document(Kind::Blueprint, &name) {
            Some(Document::Blueprint(b)) => Ok(b),
            _ => Err(ApiError::Message(format!(
                "Artifact cannot be found: '{name}'."
            ))),
        };
    }
    let written = input.kind.as_deref().and_then(ApiKind::parse);
    if written == Some(ApiKind::Deployments) {
        let mut json = input.json.clone();
        if let Some(m) = json.as_object_mut() {
            m.remove("kind");
        }
        let text = json.to_string();
        if let Ok(Document::Blueprint(b)) = engine::read_one(&text, Some(Kind::Blueprint)) {
            return Ok(b);
        }
        strip_runtime(&mut json);
        return engine::deployment_from_json(&json)
            .map(|d| engine::as_blueprint(&d))
            .map_err(ApiError::from);
    }
    match &input.read {
        Some(Ok(Document::Blueprint(b))) => Ok(b.clone()),
        // A blueprint in canonical JSON (what `?as_blueprint=true` answers)
        // reads back through the typed schema; otherwise the DSL's error.
        Some(Err(d)) => serde_json::from_value::<Artifact<Blueprint>>(input.json.clone())
            .map_err(|_| d.clone().into()),
        _ => Err(ApiError::Message(
            "the body is not a blueprint or a deployment".into(),
        )),
    }
}

/// Removes what the API adds to a deployment (status, instances, kind).
fn strip_runtime(json: &mut Value) {
    if let Some(m) = json.as_object_mut() {
        m.remove("kind");
        m.remove("lookup_name");
    }
    if let Some(clusters) = json.get_mut("clusters").and_then(Value::as_object_mut) {
        for c in clusters.values_mut() {
            if let Some(services) = c.get_mut("services").and_then(Value::as_array_mut) {
                for s in services {
                    if let Some(s) = s.as_object_mut() {
                        s.remove("status");
                        s.remove("instances");
                    }
                }
            }
        }
    }
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '/' | '[' | ']'))
    {
        return Err(ApiError::BadRequest(Diagnostic::error(
            Code::IllegalName,
            format!("Illegal name or reference - white space characters, '/', '[' and ']' are not allowed: {name}"),
        )));
    }
    Ok(())
}

/// The inline breeds of a blueprint.
fn inline_breeds(bp: &Artifact<Blueprint>) -> Vec<vamp_model::Breed> {
    let mut out: Vec<vamp_model::Breed> = Vec::new();
    for c in bp.spec.clusters.values() {
        for s in &c.services {
            if let OrRef::Inline(b) = &s.breed {
                if !out.iter().any(|x| x.name == b.name) {
                    out.push(b.clone());
                }
            }
        }
    }
    out
}

/// Publishes the `archive` event of a written artifact (`archive:create`
/// when `created`, else `archive:update`); nothing for kinds that are not
/// archived.
pub(crate) fn archive(shared: &Shared, kind: ApiKind, name: &str, created: bool, source: String) {
    if kind.archived() {
        let what = if created {
            "archive:create"
        } else {
            "archive:update"
        };
        shared.bus.publish(Event::new(
            "archive",
            [format!("{}:{name}", kind.as_str()), what.to_owned()],
            Some(Value::String(source)),
        ));
    }
}

/// Merges a blueprint into the deployment `name` (created when missing).
/// Returns the per-document results: `[[breed]..., deployment]`.
///
/// # Errors
/// A 400 for every resolution, weight, name or port problem; nothing is
/// written then.
pub async fn merge(
    shared: &Shared,
    name: &str,
    bp: &Artifact<Blueprint>,
    validate_only: bool,
) -> Result<Value, ApiError> {
    check_name(name)?;
    if shared.artifacts.get(ApiKind::Workflows, name).is_some() {
        return Err(ApiError::Message(
            "There cannot exist deployment and workflow with the same name".into(),
        ));
    }
    let lock = shared.locks.of(name);
    let _guard = lock.lock().await;
    let old = shared
        .artifacts
        .deployment(name)
        .unwrap_or_else(|| DeploymentRecord::new(name));
    let ports = shared.locks.of(gateways::PORTS_LOCK);
    let _ports = ports.lock().await;
    let lookup = |k: Kind, n: &str| shared.artifacts.document(k, n);
    let runtime = gateways::DependencyRuntime::new(shared);
    let plan = if shared.gateway_sink.serves() {
        engine::merge_with(&old.deployment, bp, &Lookup(&lookup), &runtime)?
    } else {
        engine::merge(&old.deployment, bp, &Lookup(&lookup))?
    };
    let mut new = old.clone();
    new.deployment = plan.deployment;
    new.deployment.name = name.to_owned();
    for (cname, c) in &new.deployment.spec.clusters {
        if let Some(r) = new.retiring.spec.clusters.get_mut(cname) {
            r.services.retain(|s| c.service(&s.breed.name).is_none());
        }
    }
    new.retiring
        .spec
        .clusters
        .retain(|_, c| !c.services.is_empty());
    let mut gws = gateways_of(&new.deployment);
    runtime.assign(&mut gws);
    check_ports(shared, name, &gws)?;
    gateways::check(shared, &gws, &|_| false)?;
    if validate_only {
        return Ok(render(&new));
    }
    let mut results = Vec::new();
    for b in inline_breeds(bp) {
        let source = serde_json::to_value(&b).unwrap_or(Value::Null);
        let bname = b.name.clone();
        let (_, existed) =
            shared
                .artifacts
                .put(ApiKind::Breeds, &bname, Stored::Doc(Document::Breed(b)))?;
        archive(
            shared,
            ApiKind::Breeds,
            &bname,
            !existed,
            source.to_string(),
        );
        results.push(json!([source]));
    }
    stamp(&old, &mut new);
    commit(shared, &new)?;
    let source = serde_json::to_value(bp).unwrap_or(Value::Null).to_string();
    archive(shared, ApiKind::Deployments, name, false, source);
    sync_gateways(shared, &new, gws)?;
    shared.reconciler.touch(name);
    results.push(render(&new));
    Ok(Value::Array(results))
}

/// Slices a blueprint's services out of the deployment `name`: they are
/// undeployed (and leave the record once nothing runs). An absent
/// deployment or an empty slice changes nothing.
///
/// # Errors
/// `invalid_route_weight` when the remaining routes do not total 100%.
pub async fn slice(
    shared: &Shared,
    name: &str,
    bp: &Artifact<Blueprint>,
    validate_only: bool,
) -> Result<Value, ApiError> {
    let lock = shared.locks.of(name);
    let _guard = lock.lock().await;
    let Some(old) = shared.artifacts.deployment(name) else {
        return Ok(Value::Bool(false));
    };
    let plan = engine::remove(&old.deployment, bp).map_err(|mut d| {
        if d.code == Code::InvalidRouteWeight {
            d.message = format!("Invalid route weight in cluster: {}", d.message);
        }
        d
    })?;
    let mut new = old.clone();
    for (cname, c) in &old.deployment.spec.clusters {
        let stays = plan.deployment.spec.clusters.get(cname);
        for s in &c.services {
            if stays.is_some_and(|k| k.service(&s.breed.name).is_some()) {
                continue;
            }
            let mut s = s.clone();
            s.status = Status::undeploy();
            let target = new
                .retiring
                .spec
                .clusters
                .entry(cname.clone())
                .or_insert_with(|| DeployedCluster {
                    services: Vec::new(),
                    gateways: vamp_model::Map::new(),
                    ..c.clone()
                });
            target.services.retain(|x| x.breed.name != s.breed.name);
            target.services.push(s);
        }
    }
    new.deployment = plan.deployment;
    if validate_only {
        return Ok(render(&new));
    }
    if new == old {
        return Ok(render(&new));
    }
    stamp(&old, &mut new);
    commit(shared, &new)?;
    sync_gateways(shared, &new, gateways_of(&new.deployment))?;
    shared.reconciler.touch(name);
    Ok(render(&new))
}

/// Writes a record (or deletes it once it is empty); no event.
///
/// # Errors
/// When the store cannot be written.
pub fn commit(shared: &Shared, record: &DeploymentRecord) -> Result<(), ApiError> {
    let name = record.deployment.name.clone();
    if record.is_empty() {
        shared.artifacts.delete(ApiKind::Deployments, &name)?;
    } else {
        shared.artifacts.put(
            ApiKind::Deployments,
            &name,
            Stored::Deployment(Box::new(record.clone())),
        )?;
    }
    Ok(())
}

/// Sets `since` times where an intention or phase changed.
pub fn stamp(old: &DeploymentRecord, new: &mut DeploymentRecord) {
    let before = statuses(old);
    let t = now();
    let mut since = BTreeMap::new();
    for (key, status) in statuses(new) {
        let prev = old.since.get(&key).cloned().unwrap_or_default();
        let entry = match before.iter().find(|(k, _)| *k == key).map(|(_, s)| s) {
            Some(s)
                if s.intention == status.intention
                    && s.phase == status.phase
                    && !prev.since.is_empty() =>
            {
                prev
            }
            Some(s) if s.intention == status.intention && !prev.since.is_empty() => Since {
                since: prev.since,
                phase_since: t.clone(),
            },
            _ => Since {
                since: t.clone(),
                phase_since: t.clone(),
            },
        };
        since.insert(key, entry);
    }
    new.since = since;
}

fn statuses(r: &DeploymentRecord) -> Vec<(String, Status)> {
    [&r.deployment, &r.retiring]
        .into_iter()
        .flat_map(|d| d.spec.clusters.iter())
        .flat_map(|(c, cl)| {
            cl.services
                .iter()
                .map(move |s| (format!("{c}/{}", s.breed.name), s.status.clone()))
        })
        .collect()
}

/// The gateways a deployment implies: `d/c/port` per cluster port with
/// routes `d/c/breed/port`, and `d/port` per deployment gateway.
pub fn gateways_of(d: &Artifact<Deployment>) -> Vec<Artifact<Gateway>> {
    let name = &d.name;
    let mut out = Vec::new();
    for (cname, c) in &d.spec.clusters {
        for (port, g) in &c.gateways {
            let mut g = g.clone();
            // Internal gateways listen on a port from the port range, with
            // the type of the breeds' port of that name (a `7000/tcp` port
            // is a TCP gateway); the gateway's own port, if any, otherwise.
            let port_type = c
                .services
                .iter()
                .find_map(|s| s.breed.ports.get(port))
                .or(g.port.as_ref())
                .map_or(vamp_model::PortType::Http, |p| p.port_type);
            g.port = Some(vamp_model::Port {
                value: String::new(),
                number: None,
                port_type,
                alias: None,
            });
            g.routes = g
                .routes
                .into_iter()
                .map(|(r, v)| (format!("{name}/{cname}/{r}/{port}"), v))
                .collect();
            out.push(Artifact::new(format!("{name}/{cname}/{port}"), g));
        }
    }
    for (key, g) in &d.spec.gateways {
        let mut g = g.clone();
        g.routes = g
            .routes
            .into_iter()
            .map(|(r, v)| (format!("{name}/{r}"), v))
            .collect();
        if g.port.as_ref().and_then(|p| p.number).is_none() {
            g.port = vamp_model::Port::parse(key);
        }
        let key = key.split('/').next().unwrap_or(key);
        out.push(Artifact::new(format!("{name}/{key}"), g));
    }
    out
}

fn check_ports(
    shared: &Shared,
    deployment: &str,
    gws: &[Artifact<Gateway>],
) -> Result<(), ApiError> {
    let prefix = format!("{deployment}/");
    for g in gws {
        let Some(n) = g.spec.port.as_ref().and_then(|p| p.number) else {
            continue;
        };
        for other in gateways::all(shared) {
            if !other.name.starts_with(&prefix)
                && other.spec.port.as_ref().and_then(|p| p.number) == Some(n)
            {
                return Err(ApiError::BadRequest(Diagnostic::error(
                    Code::UnavailableGatewayPort,
                    format!("Gateway port '{n}' is/was in use by: '{}'.", other.name),
                )));
            }
        }
    }
    Ok(())
}

/// Stores the deployment's gateways and removes its internal gateways that
/// no longer exist (deployment-level gateways stay until deleted).
///
/// # Errors
/// Port or store problems.
pub fn sync_gateways(
    shared: &Shared,
    record: &DeploymentRecord,
    gws: Vec<Artifact<Gateway>>,
) -> Result<(), ApiError> {
    let prefix = format!("{}/", record.deployment.name);
    let wanted: Vec<String> = gws.iter().map(|g| g.name.clone()).collect();
    for g in gws {
        gateways::store_internal(shared, g)?;
    }
    for name in shared.artifacts.names(ApiKind::Gateways) {
        if name.starts_with(&prefix) && gateways::is_internal(&name) && !wanted.contains(&name) {
            shared.artifacts.delete(ApiKind::Gateways, &name)?;
        }
    }
    gateways::notify(shared);
    Ok(())
}

/// The deployment as the API shows it: canonical JSON with `kind:
/// deployments`, every service's status as `{intention, since, phase:
/// {name, since, notification?}}`, services being undeployed included.
pub fn render(r: &DeploymentRecord) -> Value {
    let mut v = serde_json::to_value(&r.deployment).unwrap_or(Value::Null);
    v["kind"] = json!("deployments");
    v["lookup_name"] = json!(r.deployment.name);
    let retiring = serde_json::to_value(&r.retiring).unwrap_or(Value::Null);
    if let (Some(clusters), Some(gone)) = (
        v["clusters"].as_object_mut(),
        retiring["clusters"].as_object(),
    ) {
        for (cname, c) in gone {
            let target = clusters.entry(cname.clone()).or_insert_with(|| c.clone());
            if target != c {
                if let (Some(list), Some(extra)) =
                    (target["services"].as_array_mut(), c["services"].as_array())
                {
                    list.extend(extra.iter().cloned());
                }
            }
        }
    }
    if let Some(clusters) = v["clusters"].as_object_mut() {
        for (cname, c) in clusters.iter_mut() {
            for s in c["services"].as_array_mut().into_iter().flatten() {
                let key = format!(
                    "{cname}/{}",
                    s["breed"]["name"].as_str().unwrap_or_default()
                );
                let since = r.since.get(&key).cloned().unwrap_or_default();
                s["status"] = status_json(&s["status"], &since);
            }
        }
    }
    v
}

fn status_json(s: &Value, since: &Since) -> Value {
    let intention = if s["intention"] == "undeploy" {
        "Undeployment"
    } else {
        "Deployment"
    };
    let phase = match s["phase"].as_str() {
        Some("updating") => "Updating",
        Some("done") => "Done",
        Some("failed") => "Failed",
        _ => "Initiated",
    };
    let mut p = json!({"name": phase, "since": since.phase_since});
    if let Some(reason) = s.get("reason").filter(|r| !r.is_null()) {
        p["notification"] = reason.clone();
    }
    json!({"intention": intention, "since": since.since, "phase": p})
}

/// Sets a service's scale and redeploys it. Returns the deployment.
///
/// # Errors
/// 404 for an unknown service, or a store failure.
pub async fn set_scale(
    shared: &Shared,
    name: &str,
    cluster: &str,
    service: &str,
    scale: Scale,
    source: String,
) -> Result<Value, ApiError> {
    let lock = shared.locks.of(name);
    let _guard = lock.lock().await;
    let old = shared
        .artifacts
        .deployment(name)
        .ok_or(ApiError::NotFound)?;
    let mut new = old.clone();
    let s = new
        .deployment
        .spec
        .clusters
        .get_mut(cluster)
        .and_then(|c| c.services.iter_mut().find(|s| s.breed.name == service))
        .ok_or(ApiError::NotFound)?;
    s.scale = scale;
    s.status = Status::deploy();
    stamp(&old, &mut new);
    commit(shared, &new)?;
    shared.bus.publish(Event::new(
        "archive",
        [
            format!("deployment-service-scales:{name}"),
            "archive:update".to_owned(),
        ],
        Some(Value::String(source)),
    ));
    shared.reconciler.touch(name);
    Ok(render(&new))
}

/// Sets (or with None removes) a cluster's SLA; no resync, no event.
///
/// # Errors
/// 404 for an unknown cluster, or a store failure.
pub async fn set_sla(
    shared: &Shared,
    name: &str,
    cluster: &str,
    sla: Option<Sla>,
) -> Result<Value, ApiError> {
    let lock = shared.locks.of(name);
    let _guard = lock.lock().await;
    let mut r = shared
        .artifacts
        .deployment(name)
        .ok_or(ApiError::NotFound)?;
    let c = r
        .deployment
        .spec
        .clusters
        .get_mut(cluster)
        .ok_or(ApiError::NotFound)?;
    c.sla = sla;
    let out = serde_json::to_value(&c.sla).unwrap_or(Value::Null);
    commit(shared, &r)?;
    Ok(out)
}

/// Where a service is in its lifecycle, for the reconcile loop.
pub fn is_pending(s: &Status) -> bool {
    s.intention == Intention::Deploy && s.phase != Phase::Done
}
