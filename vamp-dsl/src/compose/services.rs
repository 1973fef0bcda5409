//! The file and its services: top-level keys, the service keys Compose
//! knows (with hints for the ones it does not), images and breed names, and
//! one service as a cluster with an inline breed.

use std::collections::HashMap;

use vamp_model::names::is_valid_name;
use vamp_model::{
    Argument, Artifact, Blueprint, Breed, Cluster, Code, Deployable, Gateway, Map, OrRef, Scale,
    Service, Span,
};

use super::dependencies::{check_cycles, Dependencies};
use super::environment::{hint_service_addresses, read_environment};
use super::interpolate::{interpolate, Mode};
use super::ports::{build_ports, read_ports, PortSpec};
use super::resources::{read_count, read_cpu, read_deploy, read_memory, Resources};
use super::{entries, map_of, scalar_text, Cx};
use crate::read::ctx::{join, nearest};
use crate::yaml::{Entry, Node};

/// Every service key of the Compose Specification and of the 2.x/3.x file
/// formats, for "did you mean" hints.
const COMPOSE_KEYS: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "label_file",
    "labels",
    "links",
    "log_driver",
    "log_opt",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "userns_mode",
    "uts",
    "volume_driver",
    "volumes",
    "volumes_from",
    "working_dir",
];

fn help_for(key: &str) -> Option<&'static str> {
    Some(match key {
        "command" | "entrypoint" => "Vamp runs the image's own command: bake it into the image",
        "healthcheck" => "Vamp health checks are HTTP or TCP checks on a port: add `health_checks` to the breed",
        "volumes" | "tmpfs" | "volumes_from" => "Vamp services are stateless containers: keep state in a service of its own or outside",
        "networks" | "network_mode" => "Vamp services reach each other through gateways: use dependencies and `$DEPENDENCY.host`",
        "restart" => "Vamp keeps the instances of a deployment running",
        "container_name" | "hostname" => "Vamp names the instances itself",
        "labels" => "Vamp sets its own container labels; keep yours in the image",
        "profiles" => "every service of the file is imported, whatever its profiles",
        _ => return None,
    })
}

pub(super) fn convert(cx: &mut Cx, root: &Node, name: Option<&str>) -> Option<Artifact<Blueprint>> {
    let Some(top) = entries(cx, root, "") else {
        cx.error(
            Code::UnexpectedType,
            root.span,
            "",
            format!(
                "a Compose file is a map with `services:`, but this is {}",
                root.type_name()
            ),
        );
        return None;
    };
    let mut services_node = None;
    let mut file_name = None;
    for e in &top {
        match e.key.as_str() {
            "services" => services_node = Some(e),
            "version" => check_version(cx, e),
            "name" => file_name = scalar_text(cx, &e.value, "name").map(|t| (t, e.value.span)),
            k if k.starts_with("x-") => {}
            "volumes" | "networks" | "secrets" | "configs" | "include" | "models" => {
                cx.not_imported(e.key_span, &e.key, None)
            }
            _ => cx.warn(
                Code::UnsupportedComposeField,
                e.key_span,
                &e.key,
                format!(
                    "`{}` is not a top-level key of a Compose file; it is ignored",
                    e.key
                ),
            ),
        }
    }
    let bp_name = match (name, file_name) {
        (Some(n), _) => cx
            .check_name(n, None, "name", "blueprint")
            .then(|| n.to_owned()),
        (None, Some((n, span))) => match interpolate(cx, n, span, "name", Mode::Fixed) {
            Some(n) => cx
                .check_name(&n, Some(span), "name", "blueprint")
                .then_some(n),
            None => None,
        },
        (None, None) => Some("compose".to_owned()),
    };
    let Some(services) = services_node else {
        let v1 = top
            .iter()
            .any(|e| e.value.get("image").is_some() || e.value.get("build").is_some());
        if v1 {
            cx.error_help(
                Code::UnsupportedComposeField,
                root.span,
                "",
                "this looks like a version 1 Compose file (services at the top level), which is not imported".to_owned(),
                "put the services under `services:` (file format 2 or later)",
            );
        } else {
            cx.error(
                Code::MissingPathValue,
                root.span,
                "services",
                "the Compose file has no `services:`: add the services to import".to_owned(),
            );
        }
        return None;
    };
    let blueprint = convert_services(cx, services)?;
    Some(Artifact::new(bp_name?, blueprint))
}

fn check_version(cx: &mut Cx, e: &Entry) {
    let Some(v) = scalar_text(cx, &e.value, "version") else {
        return;
    };
    let major = v.trim().split('.').next().unwrap_or("");
    match major {
        "2" | "3" => {}
        "1" => cx.error_help(
            Code::UnsupportedComposeField,
            e.value.span,
            "version",
            format!("Compose file version {v} is not imported"),
            "convert it to version 2 or later: put the services under `services:`",
        ),
        _ => cx.warn(
            Code::UnsupportedComposeField,
            e.value.span,
            "version",
            format!("`version: {v}` is not a Compose file version (2.x, 3.x); the file is read as the Compose Specification"),
        ),
    }
}

/// What the first pass learns about a service.
struct Known<'n> {
    pub(super) name: &'n str,
    pub(super) key_span: Span,
    pub(super) node: &'n Node,
    pub(super) breed: String,
    pub(super) image: Option<String>,
}

fn convert_services(cx: &mut Cx, services: &Entry) -> Option<Blueprint> {
    let list = map_of(
        cx,
        &services.value,
        "services",
        "a map of service names to services",
    )?;
    if list.is_empty() {
        cx.error(
            Code::NoService,
            services.value.span,
            "services",
            "the Compose file has no services: add at least one".to_owned(),
        );
        return None;
    }
    // Pass 1: names, images and breed names (dependencies refer to them).
    let mut known: Vec<Known> = Vec::new();
    for e in list.iter().filter(|e| !e.key.starts_with("x-")) {
        let path = join("services", &e.key);
        let name_ok = cx.check_name(&e.key, Some(e.key_span), &path, "cluster");
        let image = read_image(cx, e, &path);
        let tag = image
            .as_deref()
            .map_or_else(|| "latest".to_owned(), image_tag);
        let breed = format!("{}:{tag}", e.key);
        // The breed name takes the image tag, so it is checked too (an
        // absurdly long tag is `resource_limit`, as in the DSL).
        if name_ok && cx.check_name(&breed, Some(e.key_span), &join(&path, "image"), "breed") {
            known.push(Known {
                name: &e.key,
                key_span: e.key_span,
                node: &e.value,
                breed,
                image,
            });
        }
    }
    let breeds: HashMap<&str, &str> = known.iter().map(|k| (k.name, k.breed.as_str())).collect();
    // Pass 2: everything else.
    let mut clusters = Map::new();
    let mut gateways: Map<Gateway> = Map::new();
    let mut published: HashMap<u16, Span> = HashMap::new();
    let mut graph: Vec<(&str, Vec<(String, Span)>)> = Vec::new();
    for k in &known {
        let path = join("services", k.name);
        let Some(out) = convert_service(cx, k, &path, &breeds) else {
            continue;
        };
        graph.push((k.name, out.depends.clone()));
        for (number, gw, span) in out.gateways {
            if let Some(first) = published.get(&number) {
                cx.error(
                    Code::DuplicateGatewayPort,
                    span,
                    &join(&path, "ports"),
                    format!("the host port {number} is published twice (first on line {}): a Vamp gateway port is used once", first.line),
                );
                continue;
            }
            published.insert(number, span);
            gateways.insert(number.to_string(), gw);
        }
        let Some(breed) = out.breed else { continue };
        let service = Service {
            scale: out.scale.map(OrRef::Inline),
            span: Some(k.node.span),
            ..Service::new(OrRef::Inline(breed))
        };
        clusters.insert(
            k.name.to_owned(),
            Cluster {
                services: vec![service],
                span: Some(k.key_span),
                ..Cluster::default()
            },
        );
    }
    check_cycles(cx, &graph);
    Some(Blueprint {
        gateways,
        clusters,
        ..Blueprint::default()
    })
}

/// `image:` (interpolated), or the errors for a missing one.
fn read_image(cx: &mut Cx, e: &Entry, path: &str) -> Option<String> {
    let fields = entries(cx, &e.value, path)?;
    let image = fields.iter().find(|f| f.key == "image");
    let build = fields.iter().find(|f| f.key == "build");
    match image {
        Some(i) => {
            let p = join(path, "image");
            let text = scalar_text(cx, &i.value, &p);
            let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
                if i.value.as_str().is_some() {
                    cx.error(
                        Code::MissingPathValue,
                        i.value.span,
                        &p,
                        format!("`{p}` needs an image name"),
                    );
                }
                return None;
            };
            let image = interpolate(cx, text.trim(), i.value.span, &p, Mode::Fixed)?;
            if image.is_empty() || image.chars().any(char::is_whitespace) {
                cx.error(
                    Code::UnexpectedType,
                    i.value.span,
                    &p,
                    format!("`{image}` is not an image name"),
                );
                return None;
            }
            Some(image)
        }
        None => {
            let (message, help) = if build.is_some() {
                (
                    format!(
                        "the service `{}` has only `build:`, and Vamp deploys images: add `image:`",
                        e.key
                    ),
                    "build and push the image, then name it with `image: REGISTRY/NAME:TAG`",
                )
            } else {
                (
                    format!("the service `{}` has no image: add `image:`", e.key),
                    "write `image: REGISTRY/NAME:TAG`",
                )
            };
            if e.value.as_map().is_some() {
                cx.error_help(
                    Code::MissingPathValue,
                    e.value.span,
                    &join(path, "image"),
                    message,
                    help,
                );
            }
            None
        }
    }
}

/// The tag of an image reference: `latest` when none, the first 12 digits
/// of the digest for `name@sha256:...`.
pub(super) fn image_tag(image: &str) -> String {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    if let Some((_, tag)) = last.rsplit_once(':') {
        if !tag.is_empty() && is_valid_name(tag) {
            return tag.to_owned();
        }
    }
    if let Some(d) = digest {
        let hex = d.rsplit(':').next().unwrap_or(d);
        let short: String = hex.chars().take(12).collect();
        if !short.is_empty() && is_valid_name(&short) {
            return short;
        }
    }
    "latest".to_owned()
}

struct ServiceOut {
    pub(super) breed: Option<Breed>,
    pub(super) scale: Option<Scale>,
    pub(super) gateways: Vec<(u16, Gateway, Span)>,
    pub(super) depends: Vec<(String, Span)>,
}

fn convert_service(
    cx: &mut Cx,
    k: &Known<'_>,
    path: &str,
    breeds: &HashMap<&str, &str>,
) -> Option<ServiceOut> {
    let fields = map_of(cx, k.node, path, "a map of service settings")?;
    let mut ports: Vec<PortSpec> = Vec::new();
    let mut env = Map::new();
    let mut deps = Dependencies {
        breeds,
        breed_deps: Map::new(),
        services: Vec::new(),
    };
    let mut res = Resources::default();
    let mut arguments = Vec::new();
    let mut scale_key: Option<(u32, Span)> = None;
    for e in &fields {
        let p = join(path, &e.key);
        match e.key.as_str() {
            "image" => {}
            "build" => {
                if k.image.is_some() {
                    cx.warn(
                        Code::UnsupportedComposeField,
                        e.key_span,
                        &p,
                        "`build` is not imported: Vamp deploys the `image`".to_owned(),
                    );
                }
            }
            "ports" => read_ports(cx, &e.value, &p, true, &mut ports),
            "expose" => read_ports(cx, &e.value, &p, false, &mut ports),
            "environment" => read_environment(cx, &e.value, &p, &mut env),
            "env_file" => cx.warn_help(
                Code::UnsupportedComposeField,
                e.key_span,
                &p,
                format!("`{p}` is not read, so its variables are not imported"),
                "copy the variables under `environment`".to_owned(),
            ),
            "depends_on" => deps.read_depends_on(cx, &e.value, &p),
            "links" => deps.read_links(cx, &e.value, &p),
            "deploy" => read_deploy(cx, &e.value, &p, &mut res),
            "cpus" => {
                if let Some(c) = read_cpu(cx, &e.value, &p) {
                    res.cpu.get_or_insert(c);
                }
            }
            "mem_limit" => {
                if let Some(m) = read_memory(cx, &e.value, &p) {
                    res.memory.get_or_insert(m);
                }
            }
            "scale" => {
                if let Some(n) = read_count(cx, &e.value, &p) {
                    scale_key = Some((n, e.value.span));
                }
            }
            "privileged" => {
                if let Some(t) = scalar_text(cx, &e.value, &p) {
                    match t.to_ascii_lowercase().as_str() {
                        "true" | "yes" | "on" => arguments.push(Argument {
                            key: "privileged".to_owned(),
                            value: "true".to_owned(),
                        }),
                        "false" | "no" | "off" => {}
                        _ => cx.error(
                            Code::InvalidArgumentValue,
                            e.value.span,
                            &p,
                            format!("`privileged` must be `true` or `false`, not `{t}`"),
                        ),
                    }
                }
            }
            "extends" => cx.error_help(
                Code::UnsupportedComposeField,
                e.key_span,
                &p,
                format!("`{p}` is not imported, and the service would lack what it extends"),
                "write the service out in full (`docker compose config` prints the file with `extends` applied)",
            ),
            key if key.starts_with("x-") => {}
            key if COMPOSE_KEYS.contains(&key) => cx.not_imported(e.key_span, &p, help_for(key)),
            key => {
                let best = nearest(key, COMPOSE_KEYS, 0.85);
                let message = format!("`{p}` is not a Compose service key; it is ignored");
                match best {
                    Some(c) => cx.warn_help(
                        Code::UnsupportedComposeField,
                        e.key_span,
                        &p,
                        message,
                        format!("did you mean `{c}`?"),
                    ),
                    None => cx.warn(Code::UnsupportedComposeField, e.key_span, &p, message),
                }
            }
        }
    }
    match (scale_key, res.instances) {
        (Some((n, _)), None) => res.instances = Some(n),
        (Some((n, span)), Some(r)) if n != r => cx.warn(
            Code::UnsupportedComposeField,
            span,
            &join(path, "scale"),
            format!("`scale: {n}` and `deploy.replicas: {r}` disagree; `deploy.replicas` is used"),
        ),
        _ => {}
    }
    hint_service_addresses(cx, &env, &deps.breed_deps, path);
    let (breed_ports, gateways) = build_ports(cx, k.name, ports);
    let breed = k.image.clone().map(|definition| Breed {
        name: k.breed.clone(),
        deployable: Deployable {
            deployable_type: None,
            definition,
        },
        ports: breed_ports,
        environment_variables: env,
        arguments,
        dependencies: deps.breed_deps,
        span: Some(k.node.span),
        ..Breed::default()
    });
    let scale =
        (res.cpu.is_some() || res.memory.is_some() || res.instances.is_some()).then(|| Scale {
            cpu: res.cpu.unwrap_or(Scale::DEFAULT.cpu),
            memory: res.memory.unwrap_or(Scale::DEFAULT.memory),
            instances: res.instances.unwrap_or(Scale::DEFAULT.instances),
        });
    Some(ServiceOut {
        breed,
        scale,
        gateways,
        depends: deps.services,
    })
}
