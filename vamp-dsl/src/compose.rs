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

use std::collections::{HashMap, HashSet};

use vamp_model::names::{is_valid_name, is_valid_strict_name, MAX_NAME_LEN};
use vamp_model::units::parse_cpu;
use vamp_model::{
    Argument, Artifact, Blueprint, Breed, Cluster, Code, Deployable, Diagnostic, Gateway, Map,
    OrRef, Port, PortType, Reference, Route, Scale, Service, Span, TraitValue,
};

use crate::yaml::{read_stream, Entry, Limits, Node, NodeValue};

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

/// Most ports one `ports` or `expose` entry may expand to.
const MAX_RANGE: usize = 100;

/// Deepest nesting of `${VAR:-${OTHER:-...}}` defaults that is followed.
const MAX_DEFAULT_DEPTH: usize = 8;

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
        diags: Vec::new(),
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
    cx.diags.extend(doc.warnings);
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
    let has_errors = cx.diags.iter().any(Diagnostic::is_error);
    let mut diagnostics = cx.diags;
    diagnostics.sort_by_key(|d| (!d.is_error(), d.span.map_or(0, |s| s.offset)));
    ImportOutcome {
        blueprint: blueprint.filter(|_| !has_errors),
        diagnostics,
    }
}

// ---------------------------------------------------------------------------
// Diagnostics.

struct Cx<'o> {
    diags: Vec<Diagnostic>,
    vars: &'o Map<String>,
}

impl Cx<'_> {
    fn error(&mut self, code: Code, span: Span, path: &str, message: String) {
        self.diags
            .push(Diagnostic::error(code, message).at(span).with_path(path));
    }

    fn error_help(&mut self, code: Code, span: Span, path: &str, message: String, help: &str) {
        self.diags.push(
            Diagnostic::error(code, message)
                .at(span)
                .with_path(path)
                .with_help(help),
        );
    }

    fn warn(&mut self, code: Code, span: Span, path: &str, message: String) {
        self.diags
            .push(Diagnostic::warning(code, message).at(span).with_path(path));
    }

    fn warn_help(&mut self, code: Code, span: Span, path: &str, message: String, help: String) {
        self.diags.push(
            Diagnostic::warning(code, message)
                .at(span)
                .with_path(path)
                .with_help(help),
        );
    }

    fn wrong_type(&mut self, node: &Node, path: &str, expected: &str) {
        self.error(
            Code::UnexpectedType,
            node.span,
            path,
            format!("`{path}` should be {expected}, but is {}", node.type_name()),
        );
    }

    fn not_imported(&mut self, span: Span, path: &str, help: Option<&str>) {
        let message = format!("`{path}` has no Vamp equivalent and is not imported");
        match help {
            Some(h) => self.warn_help(
                Code::UnsupportedComposeField,
                span,
                path,
                message,
                h.to_owned(),
            ),
            None => self.warn(Code::UnsupportedComposeField, span, path, message),
        }
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
        self.diags.push(d.at_opt(span).with_path(path));
        false
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
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
        let sources: Vec<&Node> = match &e.value.value {
            NodeValue::Seq(items) => items.iter().collect(),
            _ => vec![&e.value],
        };
        for src in sources {
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

/// The text of a scalar value (numbers and booleans as written); a list or
/// map is `unexpected_type`; null is None without error.
fn scalar_text<'n>(cx: &mut Cx, node: &'n Node, path: &str) -> Option<&'n str> {
    if node.is_null() {
        return None;
    }
    match node.as_str() {
        Some(t) => Some(t),
        None => {
            cx.wrong_type(node, path, "a single value");
            None
        }
    }
}

// ---------------------------------------------------------------------------
// Compose variable substitution.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// An environment value: unset variables become `${env://VAR}`, and the
    /// output is Vamp trait-value syntax (`$` written `$$`).
    Env,
    /// Any other value: substituted now, the output is plain text.
    Fixed,
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Converts Compose substitution in `text`. None when a variable cannot be
/// resolved in [`Mode::Fixed`] (reported).
fn interpolate(cx: &mut Cx, text: &str, span: Span, path: &str, mode: Mode) -> Option<String> {
    if !text.contains('$') {
        return Some(text.to_owned());
    }
    interpolate_at(cx, text, span, path, mode, 0)
}

fn push_literal(out: &mut String, text: &str, mode: Mode) {
    if mode == Mode::Env {
        out.push_str(&text.replace('$', "$$"));
    } else {
        out.push_str(text);
    }
}

fn interpolate_at(
    cx: &mut Cx,
    text: &str,
    span: Span,
    path: &str,
    mode: Mode,
    depth: usize,
) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 8);
    let mut ok = true;
    let mut stray_warned = false;
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let next = after.chars().next();
        match next {
            Some('$') => {
                out.push_str(if mode == Mode::Env { "$$" } else { "$" });
                rest = &after[1..];
            }
            Some('{') => {
                let body_start = &after[1..];
                match closing_brace(body_start) {
                    Some(end) => {
                        let body = &body_start[..end];
                        match variable(cx, body, span, path, mode, depth) {
                            Some(v) => out.push_str(&v),
                            None => ok = false,
                        }
                        rest = &body_start[end + 1..];
                    }
                    None => {
                        cx.warn(
                            Code::ComposeInterpolation,
                            span,
                            path,
                            format!("`{text}` has a `${{` without its closing `}}`; it is kept as literal text"),
                        );
                        push_literal(&mut out, &rest[at..], mode);
                        rest = "";
                    }
                }
            }
            Some(c) if is_name_start(c) => {
                let end = after
                    .find(|c: char| !is_name_char(c))
                    .unwrap_or(after.len());
                let name = &after[..end];
                match variable(cx, name, span, path, mode, depth) {
                    Some(v) => out.push_str(&v),
                    None => ok = false,
                }
                rest = &after[end..];
            }
            _ => {
                // One warning per value, however many stray `$` it holds.
                if !stray_warned {
                    stray_warned = true;
                    cx.warn_help(
                        Code::ComposeInterpolation,
                        span,
                        path,
                        format!("`{text}` has a `$` that starts no variable; it is kept as a literal `$`"),
                        "write `$$` for a literal dollar sign".to_owned(),
                    );
                }
                push_literal(&mut out, "$", mode);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    ok.then_some(out)
}

/// The byte index of the `}` closing a `${` whose body starts `body`.
fn closing_brace(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// One `${body}` or `$NAME` (body = NAME).
fn variable(
    cx: &mut Cx,
    body: &str,
    span: Span,
    path: &str,
    mode: Mode,
    depth: usize,
) -> Option<String> {
    let trimmed = body;
    let name_end = trimmed
        .char_indices()
        .find(|(i, c)| {
            if *i == 0 {
                !is_name_start(*c)
            } else {
                !is_name_char(*c)
            }
        })
        .map_or(trimmed.len(), |(i, _)| i);
    let name = &trimmed[..name_end];
    let modifier = &trimmed[name_end..];
    let (op, arg) = if modifier.is_empty() {
        ("", "")
    } else {
        let two = modifier.get(..2);
        match two {
            Some(op @ (":-" | ":?" | ":+")) => (op, &modifier[2..]),
            _ => match modifier.get(..1) {
                Some(op @ ("-" | "?" | "+")) => (op, &modifier[1..]),
                _ => ("!", ""),
            },
        }
    };
    if name.is_empty() || op == "!" {
        cx.warn(
            Code::ComposeInterpolation,
            span,
            path,
            format!("`${{{body}}}` is not a Compose variable; it is kept as literal text"),
        );
        let mut out = String::new();
        push_literal(&mut out, &format!("${{{body}}}"), mode);
        return Some(out);
    }
    let escape = |v: &str| {
        if mode == Mode::Env {
            v.replace('$', "$$")
        } else {
            v.to_owned()
        }
    };
    let nested = |cx: &mut Cx, arg: &str| -> Option<String> {
        if depth >= MAX_DEFAULT_DEPTH {
            let mut out = String::new();
            push_literal(&mut out, arg, mode);
            return Some(out);
        }
        if arg.contains('$') {
            interpolate_at(cx, arg, span, path, mode, depth + 1)
        } else {
            Some(escape(arg))
        }
    };
    if let Some(value) = cx.vars.get(name).cloned() {
        let set = !value.is_empty();
        return match op {
            ":-" if !set => nested(cx, arg),
            ":+" if set => nested(cx, arg),
            "+" => nested(cx, arg),
            ":+" => Some(String::new()),
            ":?" if !set => {
                cx.error(
                    Code::ComposeInterpolation,
                    span,
                    path,
                    format!(
                        "the variable `{name}` is required (`${{{body}}}`) but its value is empty"
                    ),
                );
                None
            }
            _ => Some(escape(&value)),
        };
    }
    match (mode, op) {
        (Mode::Env, "" | "?" | ":?") => {
            if !op.is_empty() {
                cx.warn(
                    Code::ComposeInterpolation,
                    span,
                    path,
                    format!("`${{{body}}}` becomes `${{env://{name}}}`: Vamp does not check that `{name}` is set"),
                );
            }
            Some(format!("${{env://{name}}}"))
        }
        (_, ":-" | "-") => {
            let value = nested(cx, arg)?;
            cx.warn_help(
                Code::ComposeInterpolation,
                span,
                path,
                format!("Vamp has no default for a variable: `${{{body}}}` becomes its default `{arg}`"),
                format!("to read `{name}` from the environment at runtime, write `${{env://{name}}}` in the blueprint, or give the value at import (`--var {name}=VALUE`)"),
            );
            Some(value)
        }
        (_, ":+" | "+") => {
            cx.warn(
                Code::ComposeInterpolation,
                span,
                path,
                format!("`${{{body}}}` depends on whether `{name}` is set, which Vamp cannot express: it becomes the empty string (as if `{name}` were unset)"),
            );
            Some(String::new())
        }
        _ => {
            cx.error_help(
                Code::ComposeInterpolation,
                span,
                path,
                format!("`{path}` uses the Compose variable `{name}`, which has no value here: Vamp substitutes it only in environment values"),
                &format!("give it at import (`--var {name}=VALUE`) or write the value in the file"),
            );
            None
        }
    }
}

// ---------------------------------------------------------------------------
// The file.

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

fn convert(cx: &mut Cx, root: &Node, name: Option<&str>) -> Option<Artifact<Blueprint>> {
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
    name: &'n str,
    key_span: Span,
    node: &'n Node,
    breed: String,
    image: Option<String>,
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
            breed: OrRef::Inline(breed),
            environment_variables: Map::new(),
            scale: out.scale.map(OrRef::Inline),
            arguments: Vec::new(),
            health_checks: None,
            network: None,
            dialects: Map::new(),
            span: Some(k.node.span),
        };
        clusters.insert(
            k.name.to_owned(),
            Cluster {
                metadata: Map::new(),
                services: vec![service],
                gateways: Map::new(),
                health_checks: None,
                network: None,
                sla: None,
                dialects: Map::new(),
                span: Some(k.key_span),
            },
        );
    }
    check_cycles(cx, &graph);
    Some(Blueprint {
        gateways,
        clusters,
        environment_variables: Map::new(),
        dialects: Map::new(),
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
fn image_tag(image: &str) -> String {
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
    breed: Option<Breed>,
    scale: Option<Scale>,
    gateways: Vec<(u16, Gateway, Span)>,
    depends: Vec<(String, Span)>,
}

/// A port as read from `ports` or `expose`.
struct PortSpec {
    container: u16,
    published: Option<u16>,
    port_type: PortType,
    name: Option<String>,
    span: Span,
    path: String,
}

#[derive(Default)]
struct Resources {
    cpu: Option<f64>,
    memory: Option<f64>,
    instances: Option<u32>,
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
    let mut deps: Map<OrRef<Breed>> = Map::new();
    let mut depends: Vec<(String, Span)> = Vec::new();
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
            "depends_on" => read_depends_on(cx, &e.value, &p, breeds, &mut deps, &mut depends),
            "links" => read_links(cx, &e.value, &p, breeds, &mut deps, &mut depends),
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
                let best = COMPOSE_KEYS
                    .iter()
                    .map(|c| (strsim::jaro_winkler(c, key), *c))
                    .filter(|(score, _)| *score > 0.85)
                    .max_by(|a, b| a.0.total_cmp(&b.0));
                let message = format!("`{p}` is not a Compose service key; it is ignored");
                match best {
                    Some((_, c)) => cx.warn_help(
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
    hint_service_addresses(cx, &env, &deps, path);
    let (breed_ports, gateways) = build_ports(cx, k.name, ports);
    let breed = k.image.clone().map(|definition| Breed {
        name: k.breed.clone(),
        metadata: Map::new(),
        deployable: Deployable {
            deployable_type: None,
            definition,
        },
        ports: breed_ports,
        environment_variables: env,
        constants: Map::new(),
        arguments,
        dependencies: deps,
        health_checks: None,
        span: Some(k.node.span),
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
        depends,
    })
}

// ---------------------------------------------------------------------------
// Ports.

fn parse_number(text: &str) -> Option<u16> {
    let t = text.trim();
    if t.is_empty() || t.len() > 5 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<u32>().ok().and_then(|n| u16::try_from(n).ok())
}

/// `N` or `A-B` (inclusive).
fn parse_range(text: &str) -> Option<(u16, u16)> {
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (parse_number(a)?, parse_number(b)?);
            (a <= b).then_some((a, b))
        }
        None => parse_number(text).map(|n| (n, n)),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Proto {
    Unwritten,
    Tcp,
}

fn read_ports(cx: &mut Cx, node: &Node, path: &str, publish: bool, out: &mut Vec<PortSpec>) {
    if node.is_null() {
        return;
    }
    let Some(items) = node.as_seq() else {
        cx.wrong_type(node, path, "a list of ports");
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let p = index(path, i);
        if item.as_map().is_some() {
            if publish {
                read_long_port(cx, item, &p, out);
            } else {
                cx.wrong_type(item, &p, "a port number such as `3000`");
            }
            continue;
        }
        let Some(text) = scalar_text(cx, item, &p) else {
            continue;
        };
        let Some(text) = interpolate(cx, text, item.span, &p, Mode::Fixed) else {
            continue;
        };
        read_short_port(cx, &text, item.span, &p, publish, out);
    }
}

fn protocol_of(cx: &mut Cx, proto: &str, span: Span, path: &str) -> Option<Proto> {
    match proto.trim().to_ascii_lowercase().as_str() {
        "" => Some(Proto::Unwritten),
        "tcp" => Some(Proto::Tcp),
        "udp" | "sctp" => {
            cx.error_help(
                Code::UnsupportedProtocol,
                span,
                path,
                format!(
                    "the port is {}, and Vamp gateways route HTTP and TCP only",
                    proto.trim()
                ),
                "remove the port, or publish it outside Vamp",
            );
            None
        }
        _ => {
            cx.error(
                Code::UnsupportedProtocol,
                span,
                path,
                format!("`{proto}` is not a port protocol: write `tcp`"),
            );
            None
        }
    }
}

fn port_type(proto: Proto, app_protocol: Option<&str>, number: u16) -> PortType {
    match (proto, app_protocol) {
        (_, Some(a)) if a.eq_ignore_ascii_case("http") => PortType::Http,
        (_, Some(_)) | (Proto::Tcp, _) => PortType::Tcp,
        (Proto::Unwritten, None) if TCP_PORTS.contains(&number) => PortType::Tcp,
        (Proto::Unwritten, None) => PortType::Http,
    }
}

fn is_loopback(ip: &str) -> bool {
    let ip = ip.trim().trim_start_matches('[').trim_end_matches(']');
    ip.starts_with("127.") || ip == "::1" || ip.eq_ignore_ascii_case("localhost")
}

fn is_any_address(ip: &str) -> bool {
    let ip = ip.trim().trim_start_matches('[').trim_end_matches(']');
    ip.is_empty() || ip == "0.0.0.0" || ip == "::"
}

/// What to do with a host address: Some(true) publish, Some(false) keep
/// internal (both with a warning when the address is specific).
fn host_address(cx: &mut Cx, ip: &str, span: Span, path: &str) -> bool {
    if is_any_address(ip) {
        return true;
    }
    if is_loopback(ip) {
        cx.warn_help(
            Code::UnsupportedComposeField,
            span,
            path,
            format!("the port is published on the loopback address {ip} only; a Vamp gateway listens on every interface, so no gateway is made and the port stays internal"),
            "add a blueprint gateway by hand if it should be public".to_owned(),
        );
        return false;
    }
    cx.warn(
        Code::UnsupportedComposeField,
        span,
        path,
        format!("the host address {ip} is not kept: the Vamp gateway listens on every interface"),
    );
    true
}

fn read_short_port(
    cx: &mut Cx,
    text: &str,
    span: Span,
    path: &str,
    publish: bool,
    out: &mut Vec<PortSpec>,
) {
    let (spec, proto) = match text.rsplit_once('/') {
        Some((s, p)) => (s, p),
        None => (text, ""),
    };
    let Some(proto) = protocol_of(cx, proto, span, path) else {
        return;
    };
    // [ip]:published:container, ip:published:container, published:container, container
    let (ip, published, container) = if let Some(rest) = spec.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once("]:") else {
            bad_port(cx, text, span, path);
            return;
        };
        match after.split_once(':') {
            Some((p, c)) => (ip, Some(p), c),
            None => (ip, None, after),
        }
    } else {
        let parts: Vec<&str> = spec.split(':').collect();
        match parts.as_slice() {
            [c] => ("", None, *c),
            [p, c] => ("", Some(*p), *c),
            [.., p, c] => {
                let ip_len = spec.len() - p.len() - c.len() - 2;
                (&spec[..ip_len], Some(*p), *c)
            }
            [] => ("", None, ""),
        }
    };
    if !publish && (published.is_some() || !ip.is_empty()) {
        cx.error(
            Code::UnexpectedType,
            span,
            path,
            format!("`{text}` publishes a port, which `expose` cannot: move it to `ports`"),
        );
        return;
    }
    let Some((c_from, c_to)) = parse_range(container) else {
        bad_port(cx, text, span, path);
        return;
    };
    let published = match published.map(str::trim) {
        None | Some("") => None,
        Some(p) => match parse_range(p) {
            Some(r) => Some(r),
            None => {
                bad_port(cx, text, span, path);
                return;
            }
        },
    };
    let publish_it = published.is_some() && host_address(cx, ip, span, path);
    let published = published.filter(|_| publish_it);
    expand(
        cx,
        text,
        span,
        path,
        (c_from, c_to),
        published,
        proto,
        None,
        None,
        out,
    );
}

fn bad_port(cx: &mut Cx, text: &str, span: Span, path: &str) {
    cx.error(
        Code::UnexpectedType,
        span,
        path,
        format!("`{text}` is not a Compose port: write `80`, `8080:80`, `127.0.0.1:8080:80` or `8080:80/tcp`"),
    );
}

#[allow(clippy::too_many_arguments)]
fn expand(
    cx: &mut Cx,
    text: &str,
    span: Span,
    path: &str,
    (c_from, c_to): (u16, u16),
    published: Option<(u16, u16)>,
    proto: Proto,
    app_protocol: Option<&str>,
    name: Option<String>,
    out: &mut Vec<PortSpec>,
) {
    let count = usize::from(c_to - c_from) + 1;
    if count > MAX_RANGE {
        cx.error(
            Code::ResourceLimit,
            span,
            path,
            format!("`{text}` is {count} ports; at most {MAX_RANGE} ports are imported per entry"),
        );
        return;
    }
    if let Some((p_from, p_to)) = published {
        let p_count = usize::from(p_to - p_from) + 1;
        if p_count != count {
            let message = if count == 1 {
                format!("`{text}` lets Docker pick a host port from a range, and a Vamp gateway needs one port: publish a single port")
            } else {
                format!("`{text}` maps {p_count} host ports to {count} container ports: the ranges must have the same length")
            };
            cx.error(Code::InvalidGatewayPort, span, path, message);
            return;
        }
        if p_from == 0 {
            cx.error(
                Code::InvalidGatewayPort,
                span,
                path,
                format!(
                    "`{text}` publishes host port 0: a Vamp gateway needs a port from 1 to 65535"
                ),
            );
            return;
        }
    }
    if c_from == 0 {
        cx.error(
            Code::UnexpectedType,
            span,
            path,
            format!("`{text}` has container port 0: write a port from 1 to 65535"),
        );
        return;
    }
    for i in 0..=(c_to - c_from) {
        let container = c_from + i;
        out.push(PortSpec {
            container,
            published: published.map(|(p, _)| p + i),
            port_type: port_type(proto, app_protocol, container),
            name: if count == 1 { name.clone() } else { None },
            span,
            path: path.to_owned(),
        });
    }
}

fn read_long_port(cx: &mut Cx, node: &Node, path: &str, out: &mut Vec<PortSpec>) {
    let Some(fields) = entries(cx, node, path) else {
        return;
    };
    let mut target = None;
    let mut published = None;
    let mut ip = String::new();
    let mut proto = Proto::Unwritten;
    let mut app_protocol = None;
    let mut name = None;
    let mut ok = true;
    for e in &fields {
        let p = join(path, &e.key);
        let text = match e.key.as_str() {
            "target" | "published" | "host_ip" | "protocol" | "app_protocol" | "name" | "mode" => {
                match scalar_text(cx, &e.value, &p) {
                    Some(t) => match interpolate(cx, t, e.value.span, &p, Mode::Fixed) {
                        Some(t) => t,
                        None => {
                            ok = false;
                            continue;
                        }
                    },
                    None => continue,
                }
            }
            k if k.starts_with("x-") => continue,
            _ => {
                cx.warn(
                    Code::UnsupportedComposeField,
                    e.key_span,
                    &p,
                    format!("`{p}` is not a key of a Compose port; it is ignored"),
                );
                continue;
            }
        };
        match e.key.as_str() {
            "target" => match parse_range(&text) {
                Some(r) => target = Some((r, e.value.span)),
                None => {
                    cx.error(
                        Code::UnexpectedType,
                        e.value.span,
                        &p,
                        format!("`{text}` is not a container port: write a number from 1 to 65535"),
                    );
                    ok = false;
                }
            },
            "published" => {
                if !text.trim().is_empty() {
                    match parse_range(&text) {
                        Some(r) => published = Some(r),
                        None => {
                            cx.error(
                                Code::InvalidGatewayPort,
                                e.value.span,
                                &p,
                                format!(
                                    "`{text}` is not a host port: write a number from 1 to 65535"
                                ),
                            );
                            ok = false;
                        }
                    }
                }
            }
            "host_ip" => ip = text,
            "protocol" => match protocol_of(cx, &text, e.value.span, &p) {
                Some(Proto::Unwritten) => {}
                Some(_) => proto = Proto::Tcp,
                None => ok = false,
            },
            "app_protocol" => app_protocol = Some(text),
            "name" => {
                if is_valid_strict_name(&text) && text.len() <= MAX_NAME_LEN {
                    name = Some(text);
                } else {
                    cx.warn(
                        Code::IllegalStrictName,
                        e.value.span,
                        &p,
                        format!("`{text}` cannot be a Vamp port name (no whitespace, `/`, `[`, `]` or `.`); the port is named by its number"),
                    );
                }
            }
            _ => {
                if !text.eq_ignore_ascii_case("ingress") {
                    cx.not_imported(e.key_span, &p, None);
                }
            }
        }
    }
    let Some((range, _)) = target else {
        if ok {
            cx.error(
                Code::MissingPathValue,
                node.span,
                &join(path, "target"),
                format!("the port at `{path}` has no `target`: add the container port"),
            );
        }
        return;
    };
    if !ok {
        return;
    }
    let publish_it = published.is_some() && host_address(cx, &ip, node.span, path);
    let published = published.filter(|_| publish_it);
    expand(
        cx,
        &format!("target {}", range.0),
        node.span,
        path,
        range,
        published,
        proto,
        app_protocol.as_deref(),
        name,
        out,
    );
}

/// Breed ports (one per container port) and blueprint gateways (one per
/// published port).
fn build_ports(
    cx: &mut Cx,
    cluster: &str,
    specs: Vec<PortSpec>,
) -> (Map<Port>, Vec<(u16, Gateway, Span)>) {
    let mut ports: Map<Port> = Map::new();
    let mut by_number: HashMap<u16, String> = HashMap::new();
    let mut gateways = Vec::new();
    let mut seen_published: HashMap<u16, Span> = HashMap::new();
    for s in specs {
        let port_name = match by_number.get(&s.container) {
            Some(n) => {
                // The same container port again: tcp wins, so an HTTP-mode
                // proxy never carries what someone marked as TCP.
                if s.port_type == PortType::Tcp {
                    if let Some(p) = ports.get_mut(n) {
                        if p.port_type != PortType::Tcp {
                            *p = port_value(s.container, PortType::Tcp);
                        }
                    }
                }
                n.clone()
            }
            None => {
                let fallback = format!("port_{}", s.container);
                let name = match s.name.clone() {
                    Some(n) if !ports.contains_key(&n) => n,
                    _ => fallback,
                };
                let name = if ports.contains_key(&name) {
                    format!("port_{}_{}", s.container, ports.len())
                } else {
                    name
                };
                by_number.insert(s.container, name.clone());
                ports.insert(name.clone(), port_value(s.container, s.port_type));
                name
            }
        };
        let Some(host) = s.published else { continue };
        if let Some(first) = seen_published.get(&host) {
            cx.error(
                Code::DuplicateGatewayPort,
                s.span,
                &s.path,
                format!("the host port {host} is published twice (first on line {}): a Vamp gateway port is used once", first.line),
            );
            continue;
        }
        seen_published.insert(host, s.span);
        let tcp = ports
            .get(&port_name)
            .is_some_and(|p| p.port_type == PortType::Tcp);
        let value = if tcp {
            format!("{host}/tcp")
        } else {
            host.to_string()
        };
        let mut routes = Map::new();
        routes.insert(
            format!("{cluster}/{port_name}"),
            OrRef::Inline(Route {
                span: Some(s.span),
                ..Route::default()
            }),
        );
        gateways.push((
            host,
            Gateway {
                port: Port::parse(&value),
                service: None,
                sticky: None,
                virtual_hosts: Vec::new(),
                selector: None,
                routes,
                span: Some(s.span),
                routes_span: Some(s.span),
            },
            s.span,
        ));
    }
    (ports, gateways)
}

fn port_value(number: u16, port_type: PortType) -> Port {
    Port {
        value: match port_type {
            PortType::Http => number.to_string(),
            PortType::Tcp => format!("{number}/tcp"),
        },
        number: Some(number),
        port_type,
        alias: None,
    }
}

// ---------------------------------------------------------------------------
// Environment.

fn check_env_name(cx: &mut Cx, name: &str, span: Span, path: &str) -> bool {
    if name.len() > MAX_NAME_LEN {
        return cx.check_name(name, Some(span), path, "environment variable");
    }
    if !is_valid_name(name) {
        cx.error(
            Code::IllegalName,
            span,
            path,
            format!("`{name}` cannot be a Vamp environment variable name: it cannot be empty or contain whitespace, `/`, `[` or `]`"),
        );
        return false;
    }
    true
}

fn insert_env(
    cx: &mut Cx,
    env: &mut Map<TraitValue>,
    name: &str,
    value: Option<String>,
    span: Span,
    path: &str,
) {
    if value.is_none() {
        cx.warn_help(
            Code::MissingEnvironmentVariable,
            span,
            path,
            format!("`{name}` has no value: Compose passes it from the shell, Vamp makes it a place holder (`~`) that the blueprint must fill before it deploys"),
            format!("set it at blueprint level (`environment_variables: {{CLUSTER.{name}: VALUE}}`), or write `{name}: ${{env://{name}}}` to read it from the environment at runtime"),
        );
    }
    if let Some(old) = env.get(name) {
        let line = old.span.map_or(0, |s| s.line);
        cx.warn(
            Code::DuplicateKey,
            span,
            path,
            format!(
                "the variable `{name}` is set twice (lines {line} and {}); the last value wins",
                span.line
            ),
        );
        env.shift_remove(name);
    }
    env.insert(
        name.to_owned(),
        TraitValue {
            value,
            alias: None,
            span: Some(span),
        },
    );
}

fn read_environment(cx: &mut Cx, node: &Node, path: &str, env: &mut Map<TraitValue>) {
    if node.is_null() {
        return;
    }
    if let Some(items) = node.as_seq() {
        for (i, item) in items.iter().enumerate() {
            let p = index(path, i);
            let Some(text) = item.as_str().filter(|_| !item.is_null()) else {
                if !item.is_null() {
                    cx.error(
                        Code::MalformedTrait,
                        item.span,
                        &p,
                        format!(
                            "`{p}` must be `NAME=VALUE` or `NAME`, not {}",
                            item.type_name()
                        ),
                    );
                }
                continue;
            };
            let (name, value) = match text.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (text, None),
            };
            let ep = join(path, name);
            if !check_env_name(cx, name, item.span, &ep) {
                continue;
            }
            let value = match value {
                Some(v) => match interpolate(cx, v, item.span, &ep, Mode::Env) {
                    Some(v) => Some(v),
                    None => continue,
                },
                None => None,
            };
            insert_env(cx, env, name, value, item.span, &ep);
        }
        return;
    }
    let Some(fields) = map_of(
        cx,
        node,
        path,
        "a list of `NAME=VALUE` or a map of names to values",
    ) else {
        return;
    };
    for e in fields {
        let ep = join(path, &e.key);
        if !check_env_name(cx, &e.key, e.key_span, &ep) {
            continue;
        }
        let value = if e.value.is_null() {
            None
        } else {
            let Some(text) = e.value.as_str() else {
                cx.error(
                    Code::MalformedTrait,
                    e.value.span,
                    &ep,
                    format!(
                        "`{ep}` must be a single value (text or number), not {}",
                        e.value.type_name()
                    ),
                );
                continue;
            };
            match interpolate(cx, text, e.value.span, &ep, Mode::Env) {
                Some(v) => Some(v),
                None => continue,
            }
        };
        insert_env(cx, env, &e.key, value, e.value.span, &ep);
    }
}

/// Compose services reach each other by service name (`db:3306`); Vamp
/// services reach a dependency through its gateway (`$db.host`). Values that
/// name a dependency as a host get a warning with the Vamp form.
fn hint_service_addresses(
    cx: &mut Cx,
    env: &Map<TraitValue>,
    deps: &Map<OrRef<Breed>>,
    path: &str,
) {
    for (name, tv) in env {
        let Some(value) = tv.value.as_deref() else {
            continue;
        };
        for alias in deps.keys() {
            let as_host = |v: &str| {
                v.strip_prefix(alias.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
            };
            let named = as_host(value)
                || ["://", "@"].iter().any(|sep| {
                    value
                        .match_indices(sep)
                        .any(|(i, _)| as_host(&value[i + sep.len()..]))
                });
            if named {
                cx.warn_help(
                    Code::UnsupportedComposeField,
                    tv.span.unwrap_or(Span::START),
                    &join(&join(path, "environment"), name),
                    format!("`{value}` names the service `{alias}` as a host; Vamp services do not resolve each other by name"),
                    format!("reach it through its gateway: `${alias}.host:${alias}.ports.PORT`, with PORT a port name of its breed (such as `port_3306`)"),
                );
                break;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Dependencies.

#[allow(clippy::too_many_arguments)]
fn add_dependency(
    cx: &mut Cx,
    alias: &str,
    target: &str,
    span: Span,
    path: &str,
    breeds: &HashMap<&str, &str>,
    deps: &mut Map<OrRef<Breed>>,
    depends: &mut Vec<(String, Span)>,
) {
    let Some(breed) = breeds.get(target) else {
        cx.error_help(
            Code::UnresolvedBreedDependency,
            span,
            path,
            format!("`{target}` is not a service of this file"),
            "name a service defined under `services:`",
        );
        return;
    };
    if !cx.check_name(alias, Some(span), path, "dependency") {
        return;
    }
    depends.push((target.to_owned(), span));
    if deps.contains_key(alias) {
        return;
    }
    deps.insert(
        alias.to_owned(),
        OrRef::Reference(Reference {
            name: (*breed).to_owned(),
            span: Some(span),
        }),
    );
}

fn read_depends_on(
    cx: &mut Cx,
    node: &Node,
    path: &str,
    breeds: &HashMap<&str, &str>,
    deps: &mut Map<OrRef<Breed>>,
    depends: &mut Vec<(String, Span)>,
) {
    if node.is_null() {
        return;
    }
    if let Some(items) = node.as_seq() {
        for (i, item) in items.iter().enumerate() {
            let p = index(path, i);
            if let Some(name) = scalar_text(cx, item, &p) {
                add_dependency(cx, name, name, item.span, &p, breeds, deps, depends);
            }
        }
        return;
    }
    let Some(fields) = map_of(
        cx,
        node,
        path,
        "a list of service names or a map of services to conditions",
    ) else {
        return;
    };
    for e in fields {
        let p = join(path, &e.key);
        add_dependency(cx, &e.key, &e.key, e.key_span, &p, breeds, deps, depends);
        if e.value.is_null() {
            continue;
        }
        let Some(opts) = map_of(cx, &e.value, &p, "a map with `condition`") else {
            continue;
        };
        for o in opts {
            let op = join(&p, &o.key);
            let value = o.value.as_str().unwrap_or_default();
            let harmless = match o.key.as_str() {
                "condition" => value == "service_started",
                "required" => value.eq_ignore_ascii_case("true"),
                "restart" => value.eq_ignore_ascii_case("false"),
                _ => false,
            };
            if !harmless {
                cx.not_imported(
                    o.key_span,
                    &op,
                    Some("Vamp starts a service once the services it depends on are deployed"),
                );
            }
        }
    }
}

fn read_links(
    cx: &mut Cx,
    node: &Node,
    path: &str,
    breeds: &HashMap<&str, &str>,
    deps: &mut Map<OrRef<Breed>>,
    depends: &mut Vec<(String, Span)>,
) {
    if node.is_null() {
        return;
    }
    let Some(items) = node.as_seq() else {
        cx.wrong_type(node, path, "a list of `SERVICE` or `SERVICE:ALIAS`");
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let p = index(path, i);
        if let Some(text) = scalar_text(cx, item, &p) {
            let (target, alias) = text.split_once(':').unwrap_or((text, text));
            add_dependency(cx, alias, target, item.span, &p, breeds, deps, depends);
        }
    }
}

/// Reports the first cycle of `depends_on`/`links` as
/// `recursive_dependencies`.
fn check_cycles(cx: &mut Cx, graph: &[(&str, Vec<(String, Span)>)]) {
    let index: HashMap<&str, usize> = graph
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (*n, i))
        .collect();
    // 0 unvisited, 1 on the stack, 2 done
    let mut state = vec![0u8; graph.len()];
    for start in 0..graph.len() {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some(top) = stack.last_mut() {
            let (node, next) = *top;
            let edges = &graph[node].1;
            let Some((target, span)) = edges.get(next) else {
                state[node] = 2;
                stack.pop();
                continue;
            };
            top.1 += 1;
            let Some(&t) = index.get(target.as_str()) else {
                continue;
            };
            match state[t] {
                0 => {
                    state[t] = 1;
                    stack.push((t, 0));
                }
                1 => {
                    let from = stack.iter().position(|(n, _)| *n == t).unwrap_or(0);
                    let mut names: Vec<&str> =
                        stack[from..].iter().map(|(n, _)| graph[*n].0).collect();
                    names.push(graph[t].0);
                    cx.error(
                        Code::RecursiveDependencies,
                        *span,
                        &join("services", graph[node].0),
                        format!(
                            "the services depend on each other in a cycle: {}",
                            names.join(" -> ")
                        ),
                    );
                    return;
                }
                _ => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Scale.

fn read_cpu(cx: &mut Cx, node: &Node, path: &str) -> Option<f64> {
    let text = scalar_text(cx, node, path)?;
    let text = interpolate(cx, text, node.span, path, Mode::Fixed)?;
    match parse_cpu(&text) {
        Ok(c) => Some(c),
        Err(_) => {
            cx.error(
                Code::UnexpectedType,
                node.span,
                path,
                format!("`{text}` is not a number of cpus: write e.g. `0.5`"),
            );
            None
        }
    }
}

/// Docker's memory units (binary, a bare number is bytes) in megabytes.
fn compose_memory_mb(text: &str) -> Option<f64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let mb = n * factor / 1_000_000.0;
    (mb.is_finite() && mb >= 0.0).then_some(mb)
}

fn read_memory(cx: &mut Cx, node: &Node, path: &str) -> Option<f64> {
    let text = scalar_text(cx, node, path)?;
    let text = interpolate(cx, text, node.span, path, Mode::Fixed)?;
    match compose_memory_mb(&text) {
        Some(m) => Some(m),
        None => {
            cx.error(
                Code::UnexpectedType,
                node.span,
                path,
                format!("`{text}` is not a memory size: write e.g. `512m` or `1g` (a bare number is bytes)"),
            );
            None
        }
    }
}

fn read_count(cx: &mut Cx, node: &Node, path: &str) -> Option<u32> {
    let text = scalar_text(cx, node, path)?;
    let text = interpolate(cx, text, node.span, path, Mode::Fixed)?;
    match text.trim().parse::<u32>() {
        Ok(n) => Some(n),
        Err(_) => {
            cx.error(
                Code::UnexpectedType,
                node.span,
                path,
                format!("`{text}` is not a number of instances: write a whole number"),
            );
            None
        }
    }
}

fn read_deploy(cx: &mut Cx, node: &Node, path: &str, res: &mut Resources) {
    if node.is_null() {
        return;
    }
    let Some(fields) = map_of(cx, node, path, "a map of deploy settings") else {
        return;
    };
    for e in fields {
        let p = join(path, &e.key);
        match e.key.as_str() {
            "replicas" => {
                if let Some(n) = read_count(cx, &e.value, &p) {
                    res.instances = Some(n);
                }
            }
            "resources" => read_resources(cx, &e.value, &p, res),
            "mode" if e.value.as_str() == Some("replicated") => {}
            k if k.starts_with("x-") => {}
            _ => cx.not_imported(e.key_span, &p, None),
        }
    }
}

fn read_resources(cx: &mut Cx, node: &Node, path: &str, res: &mut Resources) {
    if node.is_null() {
        return;
    }
    let Some(fields) = map_of(cx, node, path, "a map with `limits`") else {
        return;
    };
    for e in fields {
        let p = join(path, &e.key);
        match e.key.as_str() {
            "limits" if !e.value.is_null() => {
                let Some(limits) = map_of(cx, &e.value, &p, "a map with `cpus` and `memory`")
                else {
                    continue;
                };
                for l in limits {
                    let lp = join(&p, &l.key);
                    match l.key.as_str() {
                        "cpus" => res.cpu = read_cpu(cx, &l.value, &lp).or(res.cpu),
                        "memory" => res.memory = read_memory(cx, &l.value, &lp).or(res.memory),
                        k if k.starts_with("x-") => {}
                        _ => cx.not_imported(l.key_span, &lp, None),
                    }
                }
            }
            "limits" => {}
            "reservations" => cx.not_imported(
                e.key_span,
                &p,
                Some("a Vamp scale is what a service gets: write the amounts under `limits`"),
            ),
            k if k.starts_with("x-") => {}
            _ => cx.not_imported(e.key_span, &p, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str) -> ImportOutcome {
        import(src, ImportOptions::default())
    }

    fn env_of(src: &str, vars: &[(&str, &str)]) -> (String, Vec<Code>) {
        let mut cx = Cx {
            diags: Vec::new(),
            vars: &vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        let out = interpolate(&mut cx, src, Span::START, "x", Mode::Env).unwrap_or_default();
        (out, cx.diags.iter().map(|d| d.code).collect())
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
