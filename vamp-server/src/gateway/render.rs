//! What HAProxy should run: the stored gateways and the live instances of
//! every deployment, rendered by `vamp-router`'s HAProxy export. The one
//! call into the export is [`export`]; when the router's signature changes
//! (conditions carried parsed by the artifacts), only it changes.

use std::collections::BTreeMap;
use std::path::Path;

use vamp_model::{
    Artifact, ConditionText, Diagnostic, Document, Gateway, Intention, Kind, Map, Rewrite,
};
use vamp_router::engine::{CompileOptions, Instance, Targets};
use vamp_router::export::haproxy::{self, ExportOptions, Rendered};

use crate::artifacts::ApiKind;
use crate::Shared;

/// A configuration ready for HAProxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Desired {
    /// `haproxy.cfg`, with the agent's `stats socket` in `global`.
    pub(crate) config: String,
    /// Weight tables: path → content.
    pub(crate) maps: BTreeMap<String, String>,
    /// The gateways it serves (name → gateway JSON, for events).
    pub(crate) gateways: BTreeMap<String, serde_json::Value>,
    /// The public ports it binds (internal gateways take theirs from the port range).
    pub(crate) ports: Vec<u16>,
}

/// Routes `d/c/breed/port` → the running instances of that service.
pub(crate) fn targets(shared: &Shared) -> Targets {
    let mut out = Targets::new();
    for name in shared.artifacts.names(ApiKind::Deployments) {
        let Some(record) = shared.artifacts.deployment(&name) else {
            continue;
        };
        for (cname, c) in &record.deployment.spec.clusters {
            for s in &c.services {
                if s.status.intention != Intention::Deploy {
                    continue;
                }
                for port in c.gateways.keys() {
                    let route = format!("{name}/{cname}/{}/{port}", s.breed.name);
                    let instances = s
                        .instances
                        .iter()
                        .filter_map(|i| Some(Instance::at(&i.name, &i.host, *i.ports.get(port)?)))
                        .collect();
                    out.insert(route, instances);
                }
            }
        }
    }
    out
}

/// Where a rendered configuration points.
pub(crate) struct Files<'a> {
    /// The folder of the weight tables.
    pub(crate) maps: &'a Path,
    /// The runtime API socket.
    pub(crate) stats: &'a Path,
    /// The syslog address of the access log.
    pub(crate) log: &'a str,
    /// The shared virtual-hosts frontend's port, if any.
    pub(crate) virtual_hosts_port: Option<u16>,
}

/// Renders `gateways` with the instances `shared` knows, pointing at `files`.
///
/// # Errors
/// What the export refuses (ports, conditions, names).
pub(crate) fn desired(
    shared: &Shared,
    gateways: &[Artifact<Gateway>],
    files: &Files<'_>,
) -> Result<Desired, Diagnostic> {
    let mut conditions: Map<ConditionText> = Map::new();
    let mut rewrites: Map<Rewrite> = Map::new();
    for (kind, api) in [
        (Kind::Condition, ApiKind::Conditions),
        (Kind::Rewrite, ApiKind::Rewrites),
    ] {
        for n in shared.artifacts.names(api) {
            match shared.artifacts.document(kind, &n) {
                Some(Document::Condition(c)) => {
                    conditions.insert(n, c.spec.definition);
                }
                Some(Document::Rewrite(r)) => {
                    rewrites.insert(n, r.spec);
                }
                _ => {}
            }
        }
    }
    let targets = targets(shared);
    let options = ExportOptions {
        bind_address: shared.config.gateway_host.clone(),
        virtual_hosts_port: files.virtual_hosts_port,
        log_target: format!("{} len 8192 format raw local0", files.log),
        split_maps: Some(files.maps.display().to_string()),
        ..ExportOptions::default()
    };
    let named: Vec<(&str, &Gateway)> = gateways
        .iter()
        .map(|g| (g.name.as_str(), &g.spec))
        .collect();
    let rendered = export(&named, &conditions, &rewrites, &targets, &options)?;
    let config = rendered.config.replacen(
        "\nglobal\n",
        &format!(
            "\nglobal\n    stats socket {} mode 600 level admin expose-fd listeners\n",
            files.stats.display()
        ),
        1,
    );
    let virtual_hosts_port = files
        .virtual_hosts_port
        .filter(|_| config.contains("\nfrontend virtual_hosts\n"));
    Ok(Desired {
        config,
        maps: rendered.maps.into_iter().collect(),
        gateways: gateways
            .iter()
            .map(|g| {
                (
                    g.name.clone(),
                    serde_json::to_value(g).unwrap_or(serde_json::Value::Null),
                )
            })
            .collect(),
        ports: gateways
            .iter()
            .filter(|g| !crate::gateways::is_internal(&g.name))
            .filter_map(|g| g.spec.port.as_ref()?.number)
            .chain(virtual_hosts_port)
            .collect(),
    })
}

/// The adapter over `vamp_router::export::haproxy`.
fn export(
    gateways: &[(&str, &Gateway)],
    conditions: &Map<ConditionText>,
    rewrites: &Map<Rewrite>,
    targets: &Targets,
    options: &ExportOptions,
) -> Result<Rendered, Diagnostic> {
    let compile = CompileOptions {
        conditions: Some(conditions),
        rewrites: Some(rewrites),
        targets: Some(targets),
    };
    haproxy::export_split(gateways, &compile, options)
}
