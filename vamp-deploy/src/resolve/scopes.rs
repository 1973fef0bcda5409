//! Step 3a: environment-variable scopes, breed < cluster < service, with
//! aliases.

use vamp_model::deployment::{DeployedService, Deployment};
use vamp_model::span::Span;

pub(super) struct Var<'a> {
    pub(super) name: &'a str,
    pub(super) value: Option<&'a str>,
    pub(super) alias: Option<&'a str>,
    pub(super) span: Option<Span>,
    /// True when the value comes from the breed (its span is in the breed).
    pub(super) from_breed: bool,
}

/// Scopes breed < cluster < service, in breed order.
pub(super) fn merged<'a>(d: &'a Deployment, cluster: &str, s: &'a DeployedService) -> Vec<Var<'a>> {
    let mut key = String::new();
    let blueprint_scope = !d.environment_variables.is_empty();
    let service_scope = !s.environment_variables.is_empty();
    s.breed
        .environment_variables
        .iter()
        .map(|(name, tv)| {
            let mut v = Var {
                name,
                value: tv.value.as_deref(),
                alias: tv.alias.as_deref(),
                span: tv.span,
                from_breed: true,
            };
            let blueprint = if blueprint_scope {
                key.clear();
                key.push_str(cluster);
                key.push_str(".environment_variables.");
                key.push_str(name);
                d.environment_variables.get(key.as_str())
            } else {
                None
            };
            let service = if service_scope {
                s.environment_variables.get(name.as_str())
            } else {
                None
            };
            for over in [blueprint, service].into_iter().flatten() {
                if over.value.is_some() {
                    v.value = over.value.as_deref();
                    v.span = over.span;
                    v.from_breed = false;
                }
                if over.alias.is_some() {
                    v.alias = over.alias.as_deref();
                }
            }
            v
        })
        .collect()
}
