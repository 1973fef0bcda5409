//! The default artifacts (spec workflows §6): the JavaScript breeds
//! `metrics` and `health` and the daemon workflows running them, written
//! once on first start with an empty store.

use serde_json::{json, Value};
use vamp_model::Kind;

use crate::artifacts::{ApiKind, Stored};
use crate::events::Event;
use crate::Shared;

const COMMON: &str = include_str!("defaults/common.js");

fn script(name: &str) -> String {
    let own = match name {
        "metrics" => include_str!("defaults/metrics.js"),
        _ => include_str!("defaults/health.js"),
    };
    format!("{COMMON}{own}")
}

/// Writes the four artifacts (with their archive events) when the store is empty.
pub fn write(shared: &Shared) {
    if ApiKind::ALL
        .iter()
        .any(|k| !shared.artifacts.names(*k).is_empty())
    {
        return;
    }
    for name in ["metrics", "health"] {
        let breed = json!({"kind": "breed", "name": name,
            "deployable": {"type": super::JAVASCRIPT, "definition": script(name)}});
        let workflow = json!({"kind": "workflow", "name": name, "breed": name, "schedule": "daemon",
            "environment_variables": {"VAMP_WORKFLOW_EXECUTION_PERIOD": "5", "VAMP_WORKFLOW_EXECUTION_TIMEOUT": "7"}});
        for (kind, api, doc) in [
            (Kind::Breed, ApiKind::Breeds, breed),
            (Kind::Workflow, ApiKind::Workflows, workflow),
        ] {
            let Ok(d) = crate::engine::read_one(&doc.to_string(), Some(kind)) else {
                continue;
            };
            if shared.artifacts.put(api, name, Stored::Doc(d)).is_ok() {
                shared.bus.publish(Event::new(
                    "archive",
                    [
                        format!("{}:{name}", api.as_str()),
                        "archive:create".to_owned(),
                    ],
                    Some(Value::String(doc.to_string())),
                ));
            }
        }
    }
}
