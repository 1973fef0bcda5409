//! Where routes send traffic: instances and their addresses, read from
//! JSON or derived from an external route's name.

use vamp_model::{Code, Diagnostic, Map};

/// Where a route's traffic can go: a running instance (or an external
/// address, or another gateway's port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The instance's name (unique within its route).
    pub name: String,
    /// Its address; `None` when unknown (a route of a stand-alone gateway
    /// compiled without runtime information).
    pub address: Option<Address>,
    /// Its share among the route's instances (HAProxy server weight, 0–256).
    pub weight: u16,
}

/// A host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Instance {
    /// An instance at `host:port` with the default weight 100.
    ///
    /// ```
    /// let i = vamp_router::engine::Instance::at("sava-1", "10.0.0.1", 31001);
    /// assert_eq!(i.address.unwrap().port, 31001);
    /// assert_eq!(i.weight, 100);
    /// ```
    pub fn at(name: impl Into<String>, host: impl Into<String>, port: u16) -> Instance {
        Instance {
            name: name.into(),
            address: Some(Address {
                host: host.into(),
                port,
            }),
            weight: 100,
        }
    }
}

/// Route targets by route path (`shop/checkout/sava:1.0/web`), as a runtime
/// knows them.
pub type Targets = Map<Vec<Instance>>;

/// Reads targets from JSON: `{"ROUTE": [{"name": "i1", "host": "10.0.0.1",
/// "port": 31001, "weight": 100}, ...], ...}` (`weight` optional, default 100;
/// `host`/`port` optional together).
///
/// # Errors
/// [`Code::UnexpectedType`] naming the offending value.
///
/// ```
/// let t = vamp_router::engine::targets_from_json(&serde_json::json!(
///     {"shop/v1": [{"name": "a", "host": "127.0.0.1", "port": 8081}]})).unwrap();
/// assert_eq!(t["shop/v1"][0].name, "a");
/// assert!(vamp_router::engine::targets_from_json(&serde_json::json!([])).is_err());
/// ```
pub fn targets_from_json(value: &serde_json::Value) -> Result<Targets, Diagnostic> {
    use serde_json::Value;
    let bad = |path: String, what: &str| {
        Diagnostic::error(Code::UnexpectedType, format!("`{path}` must be {what}")).with_path(path)
    };
    let Value::Object(routes) = value else {
        return Err(bad(
            "targets".into(),
            "an object of route paths to lists of instances",
        ));
    };
    let mut out = Targets::new();
    for (route, list) in routes {
        let Value::Array(items) = list else {
            return Err(bad(route.clone(), "a list of instances"));
        };
        let mut instances = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let p = format!("{route}[{i}]");
            let Value::Object(f) = item else {
                return Err(bad(p, "an object with `name`, `host`, `port` and `weight`"));
            };
            let name = match f.get("name") {
                Some(Value::String(s)) => s.clone(),
                None => format!("{route}#{i}"),
                Some(_) => return Err(bad(format!("{p}.name"), "text")),
            };
            let host = match f.get("host") {
                Some(Value::String(s)) => Some(s.clone()),
                None | Some(Value::Null) => None,
                Some(_) => return Err(bad(format!("{p}.host"), "text")),
            };
            let port = match f.get("port") {
                Some(v) => Some(
                    v.as_u64()
                        .and_then(|n| u16::try_from(n).ok())
                        .ok_or_else(|| bad(format!("{p}.port"), "a port number (0–65535)"))?,
                ),
                None => None,
            };
            let weight = match f.get("weight") {
                Some(v) => v
                    .as_u64()
                    .filter(|w| *w <= 256)
                    .and_then(|w| u16::try_from(w).ok())
                    .ok_or_else(|| bad(format!("{p}.weight"), "a whole number from 0 to 256"))?,
                None => 100,
            };
            let address = match (host, port) {
                (Some(host), Some(port)) => Some(Address { host, port }),
                (None, None) => None,
                _ => return Err(bad(p, "given `host` and `port` together")),
            };
            instances.push(Instance {
                name,
                address,
                weight,
            });
        }
        out.insert(route.clone(), instances);
    }
    Ok(out)
}

/// The target of an external route `[host:port]`.
pub(super) fn external_address(route: &str) -> Option<Address> {
    let inner = route.strip_prefix('[')?.strip_suffix(']')?.trim();
    let (host, port) = inner.rsplit_once(':')?;
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    let port = port.trim().parse().ok()?;
    (!host.is_empty()).then(|| Address {
        host: host.to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_addresses() {
        assert_eq!(
            external_address("[192.168.99.100:5050]"),
            Some(Address {
                host: "192.168.99.100".into(),
                port: 5050
            })
        );
        assert_eq!(external_address("[nope]"), None);
        assert_eq!(external_address("a/b"), None);
    }
}
