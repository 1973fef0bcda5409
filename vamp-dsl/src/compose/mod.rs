//! Docker Compose import: a `docker-compose.yml` becomes a blueprint with
//! inline breeds.
//!
//! Compose files of versions 2.x and 3.x and the versionless Compose
//! Specification (a top-level `services:` map) are read with the DSL's own
//! spanned tree reader ([`crate::yaml`]), so hostile input gets the same
//! limits as the DSL (input size, nesting depth, alias budget, invalid UTF-8
//! through [`import_bytes`]) and every diagnostic has a stable [`Code`] and
//! the line and column of the offending node. Reading recovers: every problem
//! of the file is reported, and the blueprint is returned only when there is
//! no error.
//!
//! ```
//! use vamp_dsl::compose::{import, ImportOptions};
//! let src = "services:\n  web:\n    image: nginx:1.25\n    ports: [\"8080:80\"]\n";
//! let out = import(src, ImportOptions { name: Some("shop".into()), ..Default::default() });
//! let bp = out.blueprint.expect("no errors");
//! let json = serde_json::to_value(&bp).unwrap();
//! let breed = &json["clusters"]["web"]["services"][0]["breed"];
//! assert_eq!(breed["name"], "web:1.25");
//! assert_eq!(breed["ports"]["port_80"]["value"], "80");
//! assert_eq!(json["gateways"]["8080"]["routes"]["web/port_80"]["weight"], serde_json::Value::Null);
//! ```
//!
//! # The mapping
//!
//! | Compose | Vamp |
//! | --- | --- |
//! | the file | one blueprint, named by [`ImportOptions::name`], else the top-level `name:`, else `compose` |
//! | a service `S` | a cluster `S` (Vamp name rules: `illegal_name`) with one service whose inline breed is named `S:TAG` (`TAG` from the image, `latest` when it has none, the first 12 digits of the digest for `image@sha256:...`) |
//! | `image` | the breed's `deployable` (type left to the deploy default, Docker). `build:` without `image:` is `missing_path_value`: Vamp deploys images, so build and push it, then add `image:`. With both, `build` is ignored with a warning |
//! | `ports` (short `"80"`, `"8080:80"`, `"127.0.0.1:8080:80/tcp"`, `"[::1]:8080:80"`, ranges `"9000-9002:8000-8002"`; long `{target, published, protocol, host_ip, name, app_protocol, mode}`) and `expose` | breed ports named `port_N` (N the container port; a long-syntax `name` that is a valid port name is used instead). Ranges are expanded, at most 100 ports per entry (`resource_limit`) |
//! | a published host port `P` | a blueprint gateway `P: S/port_N` (Vamp gateways are the public entry points). Bound to a loopback address (`127.0.0.1:P:N`) the port stays internal (no gateway) with a warning, since a Vamp gateway listens on every interface; another specific address gives a gateway and a warning. A host-port range for one container port is `invalid_gateway_port`; a host port used twice is `duplicate_gateway_port` |
//! | port protocol | `http` unless told otherwise: a protocol written explicitly as `tcp` (`"5432/tcp"`, `protocol: tcp`), an `app_protocol` other than `http`, or a well-known port of a non-HTTP protocol ([`TCP_PORTS`]: databases, brokers, TLS, SSH, mail) gives `tcp`, so an HTTP-mode proxy never sits in front of MySQL. `udp` and `sctp` are `unsupported_protocol`: Vamp gateways route HTTP and TCP only |
//! | `environment` (list `K=V` / `K`, or map) | breed `environment_variables`; `K` without a value (or `K: ~`) is a place holder `~`, `K=` is the empty string; a name Vamp cannot take is `illegal_name`, a list or map value `malformed_trait` |
//! | `env_file` | not read (warning): copy its variables under `environment` |
//! | `$$`, `${VAR}`, `$VAR` in environment values | `$$`, and the Vamp global reference `${env://VAR}` (resolved from the environment at runtime, as Compose resolves it from the shell). A variable given in [`ImportOptions::variables`] is substituted instead (as Compose's `.env` file would) |
//! | `${VAR:-default}`, `${VAR-default}` | the default (Vamp has no default for a global reference), with a `compose_interpolation` warning |
//! | `${VAR:?err}`, `${VAR?err}` | `${env://VAR}`, with a warning that the requirement is not checked |
//! | `${VAR:+alt}`, `${VAR+alt}` | the empty string (as if `VAR` were unset), with a warning |
//! | a stray `$` or an unreadable `${...}` | kept as literal text (`$$`), with a warning |
//! | variables in other values (`image: app:${TAG:-1.0}`, ports, resources) | substituted at import time: from [`ImportOptions::variables`], else the default with a warning; a variable without either is a `compose_interpolation` error (Vamp cannot defer those to runtime) |
//! | `depends_on` (list, or map with `condition`) and `links` (`db` or `db:alias`) | breed `dependencies`: alias (the service name, or the link alias) to a reference to the other service's breed. An unknown service is `unresolved_breed_dependency`, a cycle `recursive_dependencies`. `condition`, `restart` and `required: false` have no Vamp equivalent (warning): Vamp starts a service once its dependencies are deployed |
//! | `deploy.replicas` (v3), `scale` (v2) | scale `instances` |
//! | `deploy.resources.limits.cpus`, `cpus` (v2) | scale `cpu` (cores) |
//! | `deploy.resources.limits.memory`, `mem_limit` (v2) | scale `memory`, converted from Docker's binary units (`512m` = 512 MiB = 536.870912 MB; a bare number is bytes) |
//! | any of these missing | the DSL defaults: cpu 1, memory 1000 MB, instances 1; a service with none of them has no scale (the deploy default) |
//! | `privileged: true` | the breed argument `privileged: "true"` |
//! | `extends` | `unsupported_compose_field` error: the service would lack what it extends (inline it first, e.g. with `docker compose config`) |
//! | `version: 1` or a file without `services:` | error (`unsupported_compose_field`, `missing_path_value`) |
//! | YAML merge keys `<<: *defaults` | merged as YAML 1.1 defines them (explicit keys win, then the merged maps in order) |
//! | `x-...` extension fields | ignored, as Compose ignores them |
//! | everything else (`command`, `entrypoint`, `healthcheck`, `volumes`, `networks`, `restart`, `labels`, top-level `volumes`/`networks`/`secrets`/`configs`, `deploy.placement`, ...) | a `unsupported_compose_field` warning naming the field; it is not imported. A key that is not a Compose key at all gets a "did you mean" hint |
//! | a second YAML document | not imported (warning) |

mod dependencies;
mod environment;
mod interpolate;
mod ports;
mod resources;
mod services;

use std::collections::HashSet;

use vamp_model::names::{is_valid_name, MAX_NAME_LEN};
use vamp_model::{Artifact, Blueprint, Code, Diagnostic, Map, Span};

use self::services::convert;
use crate::read::ctx::{join, scalar, Ctx, SHAPE};
use crate::yaml::{read_stream, Entry, Limits, Node};

/// Options for [`import`].
///
/// ```
/// use vamp_dsl::compose::ImportOptions;
/// let mut options = ImportOptions::default();
/// options.variables.insert("TAG".into(), "2.1".into());
/// assert!(options.name.is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The blueprint's name; None takes the file's top-level `name:`, else
    /// `compose`.
    pub name: Option<String>,
    /// Values of Compose variables (what a `.env` file or the shell gives
    /// Compose), substituted wherever the file uses them.
    pub variables: Map<String>,
    /// Resource limits of the YAML reader.
    pub limits: Limits,
}

/// What an import produced: the blueprint (only when there is no error) and
/// every diagnostic, errors first in source order, then warnings.
#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    /// The blueprint, None when any error was found.
    pub blueprint: Option<Artifact<Blueprint>>,
    /// Errors, then warnings, each in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl ImportOutcome {
    /// The first error, if any.
    pub fn first_error(&self) -> Option<&Diagnostic> {
        self.diagnostics.iter().find(|d| d.is_error())
    }

    /// Every error.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    /// Every warning.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }
}

/// Well-known ports of protocols that are not HTTP: a port without an
/// explicit protocol becomes a `tcp` Vamp port when its number is one of
/// these (SSH, mail, TLS, LDAP, databases, brokers, caches).
pub const TCP_PORTS: &[u16] = &[
    22, 25, 110, 143, 389, 443, 465, 587, 636, 993, 995, 1433, 1521, 1883, 2181, 3306, 4222, 5432,
    5671, 5672, 6379, 8443, 8883, 9042, 9092, 11211, 26257, 27017, 61616,
];

/// Reads raw bytes (checking size and UTF-8 first) and imports them.
///
/// ```
/// use vamp_dsl::compose::{import_bytes, ImportOptions};
/// let bad = import_bytes(b"services:\n  web:\n    image: \xff\n", ImportOptions::default());
/// let e = bad.first_error().unwrap();
/// assert_eq!((e.code.as_str(), e.span.unwrap().line), ("yaml_parsing", 3));
/// ```
pub fn import_bytes(bytes: &[u8], options: ImportOptions) -> ImportOutcome {
    match crate::read::text_of(bytes, &options.limits, "split the Compose file") {
        Ok(src) => import(src, options),
        Err(d) => failed(d),
    }
}

fn failed(d: Diagnostic) -> ImportOutcome {
    ImportOutcome {
        blueprint: None,
        diagnostics: vec![d],
    }
}

/// Imports a Compose file as a blueprint with inline breeds (see the module
/// documentation for the mapping).
///
/// ```
/// use vamp_dsl::compose::{import, ImportOptions};
/// let src = "services:\n  app:\n    build: .\n";
/// let out = import(src, ImportOptions::default());
/// let e = out.first_error().unwrap();
/// assert_eq!(e.code.as_str(), "missing_path_value");
/// assert!(e.message.contains("image:"));
/// assert!(out.blueprint.is_none());
/// ```
pub fn import(source: &str, options: ImportOptions) -> ImportOutcome {
    let docs = match read_stream(source, options.limits) {
        Ok(d) => d,
        Err(e) => return failed(e),
    };
    let mut cx = Cx {
        ctx: Ctx::default(),
        vars: &options.variables,
    };
    let mut docs = docs
        .into_iter()
        .filter(|d| !(d.root.is_null() && d.root.as_str() == Some("")));
    let Some(doc) = docs.next() else {
        return failed(
            Diagnostic::error(Code::MissingPathValue, "the input holds no Compose file")
                .at(Span::START),
        );
    };
    for w in doc.warnings {
        cx.ctx.warn(SHAPE, w);
    }
    for extra in docs {
        cx.warn(
            Code::UnsupportedComposeField,
            extra.root.span,
            "",
            "only the first YAML document of the stream is imported; this one is ignored"
                .to_owned(),
        );
    }
    let blueprint = convert(&mut cx, &doc.root, options.name.as_deref());
    let has_errors = cx.ctx.has_errors();
    ImportOutcome {
        blueprint: blueprint.filter(|_| !has_errors),
        diagnostics: cx.ctx.into_sorted(),
    }
}

/// The import's state: the DSL reader's diagnostics ([`Ctx`], every one in
/// the one phase [`SHAPE`], so errors come first in source order, then
/// warnings) and the Compose variables given.
struct Cx<'o> {
    ctx: Ctx,
    vars: &'o Map<String>,
}

impl Cx<'_> {
    fn error(&mut self, code: Code, span: Span, path: &str, message: String) {
        self.ctx.report(SHAPE, code, span, path, message);
    }

    fn error_help(&mut self, code: Code, span: Span, path: &str, message: String, help: &str) {
        self.ctx.report(SHAPE, code, span, path, message).help = Some(help.to_owned());
    }

    fn warn(&mut self, code: Code, span: Span, path: &str, message: String) {
        self.warn_opt(code, span, path, message, None);
    }

    fn warn_opt(
        &mut self,
        code: Code,
        span: Span,
        path: &str,
        message: String,
        help: Option<String>,
    ) {
        let mut d = Diagnostic::warning(code, message).at(span).with_path(path);
        d.help = help;
        self.ctx.warn(SHAPE, d);
    }

    fn warn_help(&mut self, code: Code, span: Span, path: &str, message: String, help: String) {
        self.warn_opt(code, span, path, message, Some(help));
    }

    fn wrong_type(&mut self, node: &Node, path: &str, expected: &str) {
        self.ctx.wrong_type(node, path, expected);
    }

    fn not_imported(&mut self, span: Span, path: &str, help: Option<&str>) {
        let message = format!("`{path}` has no Vamp equivalent and is not imported");
        let help = help.map(str::to_owned);
        self.warn_opt(Code::UnsupportedComposeField, span, path, message, help);
    }

    /// Checks a cluster, breed or blueprint name.
    fn check_name(&mut self, name: &str, span: Option<Span>, path: &str, what: &str) -> bool {
        let d = if name.len() > MAX_NAME_LEN {
            Diagnostic::error(
                Code::ResourceLimit,
                format!(
                    "the {what} name is {} bytes long; names are at most {MAX_NAME_LEN} bytes",
                    name.len()
                ),
            )
        } else if !is_valid_name(name) {
            Diagnostic::error(
                Code::IllegalName,
                format!("`{name}` cannot be a Vamp {what} name: names cannot be empty or contain whitespace, `/`, `[` or `]`"),
            )
            .with_help("rename it with letters, digits, `-`, `_`, `.` or `:`")
        } else {
            return true;
        };
        self.ctx.warn(SHAPE, d.at_opt(span).with_path(path));
        false
    }
}

/// The entries of a mapping with YAML merge keys (`<<`) applied: explicit
/// keys first (they win), then the merged maps' keys in order. None when
/// the node is not a map.
fn entries<'n>(cx: &mut Cx, node: &'n Node, path: &str) -> Option<Vec<&'n Entry>> {
    let own = node.as_map()?;
    if !own.iter().any(|e| e.key == "<<") {
        return Some(own.iter().collect());
    }
    let mut out: Vec<&Entry> = own.iter().filter(|e| e.key != "<<").collect();
    let mut seen: HashSet<&str> = out.iter().map(|e| e.key.as_str()).collect();
    for e in own.iter().filter(|e| e.key == "<<") {
        for src in e.value.one_or_many() {
            match entries(cx, src, path) {
                Some(merged) => {
                    for m in merged {
                        if seen.insert(m.key.as_str()) {
                            out.push(m);
                        }
                    }
                }
                None => cx.wrong_type(src, &join(path, "<<"), "a map or a list of maps to merge"),
            }
        }
    }
    Some(out)
}

/// `entries` or an `unexpected_type` error.
fn map_of<'n>(cx: &mut Cx, node: &'n Node, path: &str, what: &str) -> Option<Vec<&'n Entry>> {
    let e = entries(cx, node, path);
    if e.is_none() {
        cx.wrong_type(node, path, what);
    }
    e
}

/// [`map_of`] for a value that may be left empty: null is `None` without
/// error.
fn some_map_of<'n>(cx: &mut Cx, node: &'n Node, path: &str, what: &str) -> Option<Vec<&'n Entry>> {
    if node.is_null() {
        return None;
    }
    map_of(cx, node, path, what)
}

/// The items of a list that may be left empty: null is `None` without
/// error, anything else but a list is reported as not being `what`.
fn some_seq_of<'n>(cx: &mut Cx, node: &'n Node, path: &str, what: &str) -> Option<&'n [Node]> {
    if node.is_null() {
        return None;
    }
    let items = node.as_seq();
    if items.is_none() {
        cx.wrong_type(node, path, what);
    }
    items
}

/// The text of a scalar value (numbers and booleans as written); a list or
/// map is `unexpected_type`; null is None without error.
fn scalar_text<'n>(cx: &mut Cx, node: &'n Node, path: &str) -> Option<&'n str> {
    scalar(&mut cx.ctx, node, path).flatten()
}

#[cfg(test)]
mod tests {
    use super::interpolate::{interpolate, Mode};
    use super::resources::compose_memory_mb;
    use super::services::image_tag;
    use super::*;
    use vamp_model::PortType;

    fn run(src: &str) -> ImportOutcome {
        import(src, ImportOptions::default())
    }

    fn env_of(src: &str, vars: &[(&str, &str)]) -> (String, Vec<Code>) {
        let mut cx = Cx {
            ctx: Ctx::default(),
            vars: &vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        let out = interpolate(&mut cx, src, Span::START, "x", Mode::Env).unwrap_or_default();
        (out, cx.ctx.diags.iter().map(|(_, d)| d.code).collect())
    }

    #[test]
    fn environment_interpolation_becomes_global_references() {
        assert_eq!(env_of("${HOME}/x", &[]).0, "${env://HOME}/x");
        assert_eq!(env_of("$HOME", &[]).0, "${env://HOME}");
        assert_eq!(env_of("a$$b", &[]), ("a$$b".to_owned(), vec![]));
        assert_eq!(
            env_of("${PORT:-8080}", &[]),
            ("8080".to_owned(), vec![Code::ComposeInterpolation])
        );
        assert_eq!(env_of("${A:-${B}}", &[]).0, "${env://B}");
        assert_eq!(env_of("${X?need}", &[]).0, "${env://X}");
        assert_eq!(env_of("${X:+yes}", &[]).0, "");
        assert_eq!(env_of("5$ each", &[]).0, "5$$ each");
        assert_eq!(env_of("${TAG}", &[("TAG", "a$b")]).0, "a$$b");
        assert_eq!(env_of("${TAG:-x}", &[("TAG", "")]).0, "x");
    }

    #[test]
    fn every_converted_value_is_valid_vamp_syntax() {
        for v in [
            "$",
            "${",
            "${}",
            "${a b}",
            "$1",
            "${A:-$}",
            "x${A:?}y$$z",
            "${A-${B-${C}}}",
        ] {
            let (out, _) = env_of(v, &[]);
            assert!(
                vamp_model::interpolation::parse(&out).is_ok(),
                "{v} -> {out}"
            );
        }
    }

    #[test]
    fn image_tags() {
        assert_eq!(image_tag("mysql"), "latest");
        assert_eq!(image_tag("mysql:5.7"), "5.7");
        assert_eq!(image_tag("registry:5000/team/app"), "latest");
        assert_eq!(image_tag("registry:5000/team/app:2.1"), "2.1");
        assert_eq!(image_tag("app@sha256:0123456789abcdef0123"), "0123456789ab");
    }

    #[test]
    fn docker_memory_units_are_binary() {
        assert_eq!(compose_memory_mb("512m"), Some(536.870912));
        assert_eq!(compose_memory_mb("1000000"), Some(1.0));
        assert_eq!(compose_memory_mb("1G"), Some(1073.741824));
        assert_eq!(compose_memory_mb("12x"), None);
        assert_eq!(compose_memory_mb(""), None);
    }

    #[test]
    fn short_ports() {
        let out = run("services:\n  w:\n    image: w\n    ports: ['80', '8080:81', '127.0.0.1:9000:82', '[::1]:9001:83', '9002-9003:84-85', '3306']\n");
        let bp = out.blueprint.clone().expect("imports");
        let breed = bp.spec.clusters["w"].services[0]
            .breed
            .as_inline()
            .cloned()
            .expect("inline");
        let names: Vec<&str> = breed.ports.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "port_80",
                "port_81",
                "port_82",
                "port_83",
                "port_84",
                "port_85",
                "port_3306"
            ]
        );
        assert_eq!(breed.ports["port_3306"].port_type, PortType::Tcp);
        let gws: Vec<&str> = bp.spec.gateways.keys().map(String::as_str).collect();
        assert_eq!(gws, ["8080", "9002", "9003"]);
        assert_eq!(out.warnings().count(), 2, "{:?}", out.diagnostics);
    }

    #[test]
    fn cycles_are_found() {
        let out = run("services:\n  a:\n    image: a\n    depends_on: [b]\n  b:\n    image: b\n    links: ['a:x']\n");
        let e = out.first_error().expect("cycle");
        assert_eq!(e.code, Code::RecursiveDependencies);
        assert_eq!(e.span.map(|s| s.line), Some(7));
    }

    #[test]
    fn merge_keys_apply() {
        let out = run("x-base: &base\n  image: base:1\n  environment: {A: '1'}\nservices:\n  a:\n    <<: *base\n    environment: {B: '2'}\n");
        let bp = out.blueprint.expect("imports");
        let breed = bp.spec.clusters["a"].services[0]
            .breed
            .as_inline()
            .cloned()
            .expect("inline");
        assert_eq!(breed.name, "a:1");
        assert_eq!(breed.environment_variables.len(), 1);
        assert!(breed.environment_variables.contains_key("B"));
    }
}
