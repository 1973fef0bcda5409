//! The engine calls every front end makes the same way (the `vamp` command,
//! the Python and Node bindings), next to `vamp_dsl::api`'s reading calls.

use std::path::Path;

use serde_json::Value;
use vamp_dsl::api::{one_or_many, read_documents};
use vamp_model::{Diagnostic, Document, Kind};

use crate::directory::DirectoryStore;
use crate::resolve::resolve_blueprint;

/// The deployments of the blueprints of `bytes`, resolved against the
/// directory store at `store` (a folder of YAML artifacts), in canonical
/// JSON: one deployment's object, or a list of them for several blueprints
/// ([`one_or_many`]).
pub fn resolve(bytes: &[u8], store: &Path) -> Result<Value, Vec<Diagnostic>> {
    let documents = read_documents(bytes, Some(Kind::Blueprint))?;
    let store = DirectoryStore::open(store).map_err(|e| vec![e.to_diagnostic()])?;
    let deployments = documents
        .iter()
        .filter_map(|d| match d {
            Document::Blueprint(b) => Some(resolve_blueprint(b, &store)),
            _ => None,
        })
        .map(|r| r.map(|d| serde_json::to_value(&d).unwrap_or(Value::Null)))
        .collect::<Result<Vec<Value>, Diagnostic>>()
        .map_err(|d| vec![d])?;
    Ok(one_or_many(deployments))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLUEPRINT: &str = "kind: blueprint\nname: shop\nclusters:\n  web:\n    services:\n      - breed:\n          name: web:1.0\n          deployable: shop/web:1.0\n";

    /// A fresh folder for one test's store.
    fn store(test: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("vamp-deploy-api-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn resolve_gives_one_object_or_a_list() {
        let dir = store("one-or-many");
        let one = resolve(BLUEPRINT.as_bytes(), &dir).unwrap();
        assert_eq!(one["name"], "shop");
        let two = format!(
            "{BLUEPRINT}---\n{}",
            BLUEPRINT.replace("name: shop", "name: blog")
        );
        let many = resolve(two.as_bytes(), &dir).unwrap();
        let names: Vec<&Value> = many
            .as_array()
            .unwrap()
            .iter()
            .map(|d| &d["name"])
            .collect();
        assert_eq!(names, ["shop", "blog"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn resolve_reports_reading_and_resolving_errors() {
        let dir = store("errors");
        let errors = resolve(b"name: [", &dir).unwrap_err();
        assert_eq!(errors[0].code.as_str(), "yaml_parsing");
        let missing = "name: shop\nclusters:\n  web: web:1.0\n";
        let errors = resolve(missing.as_bytes(), &dir).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code.as_str(), "unresolved_dependency");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
