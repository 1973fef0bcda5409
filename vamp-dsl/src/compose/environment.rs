//! `environment` (list or map) as breed environment variables, with hints
//! where Compose services address each other by name.

use vamp_model::names::{is_valid_name, MAX_NAME_LEN};
use vamp_model::{Breed, Code, Map, OrRef, Span, TraitValue};

use super::interpolate::{interpolate, Mode};
use super::{map_of, Cx};
use crate::read::ctx::{index, join};
use crate::yaml::Node;

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

pub(super) fn read_environment(cx: &mut Cx, node: &Node, path: &str, env: &mut Map<TraitValue>) {
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
pub(super) fn hint_service_addresses(
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
