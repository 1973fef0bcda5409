//! Gateways: the rules of a gateway write (weights, ports, internal
//! gateways), the route events, and the seam the gateway agent plugs into.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;
use vamp_model::{
    Artifact, Code, Diagnostic, Document, Gateway, OrRef, Port, PortType, RouteCondition,
};

use crate::artifacts::{ApiKind, Stored};
use crate::events::Event;
use crate::Shared;

/// The proxy side of the server. The HAProxy agent
/// ([`crate::gateway::HaproxyGateway`]) implements it; `--gateway none`
/// uses [`NoGateway`].
pub trait GatewaySink: Send + Sync {
    /// Gateways or instances changed: the sink reads the store again soon.
    fn changed(&self);

    /// True when gateways are served: dependency values (`$db.host`,
    /// `$db.ports.NAME`) then resolve to the internal gateways.
    fn serves(&self) -> bool {
        false
    }

    /// Would the proxy accept `gateways` (the whole candidate set)? Called
    /// before a gateway write is stored.
    ///
    /// # Errors
    /// Why the proxy would refuse it.
    fn check(&self, shared: &Shared, gateways: &[Artifact<Gateway>]) -> Result<(), Diagnostic> {
        let _ = (shared, gateways);
        Ok(())
    }

    /// Runs the proxy side until `shared.stop` turns true, then cleans up.
    fn run(&self, shared: Arc<Shared>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let _ = shared;
        Box::pin(async {})
    }

    /// Figures for `/info` (`gateway_driver`).
    fn info(&self) -> Value {
        Value::Null
    }
}

/// No proxy: gateways are stored and served by the API only.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoGateway;

impl GatewaySink for NoGateway {
    fn changed(&self) {}
}

/// Every stored gateway.
pub fn all(shared: &Shared) -> Vec<Artifact<Gateway>> {
    shared
        .artifacts
        .list(ApiKind::Gateways)
        .into_iter()
        .filter_map(|(_, e)| match e.value.doc() {
            Some(Document::Gateway(g)) => Some(g.clone()),
            _ => None,
        })
        .collect()
}

/// Tells the sink that gateways or instances changed.
pub fn notify(shared: &Shared) {
    shared.gateway_sink.changed();
}

/// Asks the sink whether the stored gateways with `changed` put in (and
/// those named in `removed` left out) would be accepted.
///
/// # Errors
/// The sink's refusal.
pub fn check(
    shared: &Shared,
    changed: &[Artifact<Gateway>],
    removed: &dyn Fn(&str) -> bool,
) -> Result<(), Diagnostic> {
    if !shared.gateway_sink.serves() {
        return Ok(());
    }
    let mut candidate: Vec<Artifact<Gateway>> = all(shared)
        .into_iter()
        .filter(|g| !removed(&g.name) && !changed.iter().any(|c| c.name == g.name))
        .collect();
    candidate.extend(changed.iter().cloned());
    shared.gateway_sink.check(shared, &candidate)
}

/// True for `deployment/cluster/port` names.
pub fn is_internal(name: &str) -> bool {
    name.split('/').count() == 3
}

/// The key of [`crate::Locks`] that serializes port assignment across
/// deployments (from the reservation of internal-gateway ports to the
/// gateways stored), so that two deployments written at once never pick the
/// same free port. No deployment can be named so (`/` is illegal there).
pub const PORTS_LOCK: &str = "/gateway-ports";

/// The port numbers in use by gateways other than `except`.
fn ports_in_use(shared: &Shared, except: &str) -> Vec<u16> {
    all(shared)
        .into_iter()
        .filter(|g| g.name != except)
        .filter_map(|g| g.spec.port.and_then(|p| p.number))
        .collect()
}

/// Checks and completes a gateway before it is stored: weights filled
/// (the total must be 0% or 100%), a port from the port range when none
/// is given, no port another gateway uses.
///
/// # Errors
/// `gateway_route_weight`, `unavailable_gateway_port` or `no_available_port`.
pub fn prepare(shared: &Shared, g: &mut Artifact<Gateway>) -> Result<(), Diagnostic> {
    crate::engine::fill_weights(&mut g.spec.routes).map_err(|m| {
        Diagnostic::error(
            Code::GatewayRouteWeight,
            format!("Total route weight must be either 0% or 100%: {m}"),
        )
    })?;
    for r in g.spec.routes.values_mut() {
        if let OrRef::Inline(r) = r {
            if r.condition_strength.is_none() {
                r.condition_strength = Some(if r.condition.is_some() { 100 } else { 0 });
            }
        }
    }
    let used = ports_in_use(shared, &g.name);
    let keep = shared
        .artifacts
        .document(vamp_model::Kind::Gateway, &g.name)
        .and_then(|d| match d {
            Document::Gateway(old) => old.spec.port.and_then(|p| p.number),
            _ => None,
        });
    let kind = g.spec.port.as_ref().map_or(PortType::Http, |p| p.port_type);
    match g
        .spec
        .port
        .as_ref()
        .and_then(|p| p.number)
        .filter(|n| *n != 0)
    {
        Some(n) if used.contains(&n) => {
            return Err(Diagnostic::error(
                Code::UnavailableGatewayPort,
                format!(
                    "Gateway port '{n}' is/was in use by another gateway: '{}'.",
                    g.name
                ),
            ))
        }
        Some(_) => {}
        None => {
            let n = match keep.filter(|k| !used.contains(k)) {
                Some(k) => k,
                None => shared
                    .config
                    .port_range
                    .clone()
                    .find(|p| !used.contains(p))
                    .ok_or_else(|| {
                        Diagnostic::error(
                            Code::NoAvailablePort,
                            "no port left in vamp.gateway-driver.port-range",
                        )
                    })?,
            };
            let suffix = if kind == PortType::Tcp { "tcp" } else { "http" };
            g.spec.port = Port::parse(&format!("{n}/{suffix}"));
        }
    }
    Ok(())
}

/// The route events between two versions of a gateway:
/// `route:added|removed|weightupdated|conditionupdated` with
/// `routes:<path>` and `gateways:<name>`, the gateway JSON as value.
pub fn route_events(
    old: Option<&Artifact<Gateway>>,
    new: Option<&Artifact<Gateway>>,
) -> Vec<Event> {
    let Some(g) = new.or(old) else {
        return Vec::new();
    };
    let value = serde_json::to_value(g).unwrap_or(Value::Null);
    let empty = vamp_model::Map::new();
    let before = old.map_or(&empty, |g| &g.spec.routes);
    let after = new.map_or(&empty, |g| &g.spec.routes);
    let mut out = Vec::new();
    let mut emit = |what: &str, path: &str| {
        out.push(Event::new(
            "event",
            [
                format!("gateways:{}", g.name),
                format!("route:{what}"),
                format!("routes:{path}"),
            ],
            Some(value.clone()),
        ));
    };
    for (path, r) in after {
        match before.get(path) {
            None => emit("added", path),
            Some(o) => {
                let (a, b) = (o.as_inline(), r.as_inline());
                if a.map(|x| x.weight) != b.map(|x| x.weight) {
                    emit("weightupdated", path);
                }
                let cond = |x: Option<&vamp_model::Route>| {
                    x.and_then(|x| x.condition.as_ref()).map(|c| match c {
                        RouteCondition::Inline { definition, .. } => definition.as_str().to_owned(),
                        RouteCondition::Reference(r) => r.name.clone(),
                    })
                };
                if cond(a) != cond(b) {
                    emit("conditionupdated", path);
                }
            }
        }
    }
    for path in before.keys().filter(|p| !after.contains_key(*p)) {
        emit("removed", path);
    }
    out
}

/// Stores a gateway the deployment engine made (no archive event), with
/// route events; returns it.
///
/// # Errors
/// Port problems, or a store failure.
pub fn store_internal(
    shared: &Shared,
    mut g: Artifact<Gateway>,
) -> Result<(), crate::api::ApiError> {
    let old = match shared
        .artifacts
        .document(vamp_model::Kind::Gateway, &g.name)
    {
        Some(Document::Gateway(o)) => Some(o),
        _ => None,
    };
    prepare(shared, &mut g)?;
    if old.as_ref() == Some(&g) {
        return Ok(());
    }
    let events = route_events(old.as_ref(), Some(&g));
    shared.artifacts.put(
        ApiKind::Gateways,
        &g.name.clone(),
        Stored::Doc(Document::Gateway(g)),
    )?;
    for e in events {
        shared.bus.publish(e);
    }
    Ok(())
}

/// What dependency values resolve to while a proxy serves the gateways:
/// `$dep.host` is the gateway host, `$dep.ports.NAME` the port of the
/// internal gateway `deployment/cluster/NAME` (the stored one, else one
/// reserved now from the port range, which [`DependencyRuntime::assign`]
/// then gives that gateway).
pub struct DependencyRuntime<'a> {
    shared: &'a Shared,
    reserved: std::sync::Mutex<Vec<(String, u16)>>,
}

impl<'a> DependencyRuntime<'a> {
    /// A runtime over the stored gateways.
    pub fn new(shared: &'a Shared) -> Self {
        DependencyRuntime {
            shared,
            reserved: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Gives the internal gateways that have no port theirs: the stored
    /// one, the one reserved for a dependency, else a new reservation (so
    /// that no two of them pick the same free port).
    pub fn assign(&self, gateways: &mut [Artifact<Gateway>]) {
        for g in gateways.iter() {
            let parts: Vec<&str> = g.name.split('/').collect();
            if let [d, c, p] = parts[..] {
                if g.spec.port.as_ref().and_then(|p| p.number).is_none() {
                    let _ = crate::engine::Runtime::port(self, d, c, p);
                }
            }
        }
        let reserved = self.reserved.lock().unwrap_or_else(|e| e.into_inner());
        for g in gateways.iter_mut() {
            let Some((_, n)) = reserved.iter().find(|(name, _)| *name == g.name) else {
                continue;
            };
            if g.spec.port.as_ref().and_then(|p| p.number).is_none() {
                let kind = g.spec.port.as_ref().map_or(PortType::Http, |p| p.port_type);
                let suffix = if kind == PortType::Tcp { "tcp" } else { "http" };
                g.spec.port = Port::parse(&format!("{n}/{suffix}"));
            }
        }
    }
}

impl crate::engine::Runtime for DependencyRuntime<'_> {
    fn host(&self, _: &str, _: &str) -> Option<String> {
        Some(self.shared.config.gateway_host.clone())
    }

    fn port(&self, deployment: &str, cluster: &str, port: &str) -> Option<u16> {
        let name = format!("{deployment}/{cluster}/{port}");
        let stored = self
            .shared
            .artifacts
            .document(vamp_model::Kind::Gateway, &name)
            .and_then(|d| match d {
                Document::Gateway(g) => g.spec.port.and_then(|p| p.number),
                _ => None,
            });
        if stored.is_some() {
            return stored;
        }
        let mut reserved = self.reserved.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, n)) = reserved.iter().find(|(n, _)| *n == name) {
            return Some(*n);
        }
        let used = ports_in_use(self.shared, "");
        let n = self
            .shared
            .config
            .port_range
            .clone()
            .find(|p| !used.contains(p) && !reserved.iter().any(|(_, r)| r == p))?;
        reserved.push((name, n));
        Some(n)
    }
}
