//! The error-code registry: the full list is pinned (a code is never renamed
//! or reused), every code is unique and reads back by its name.

use std::collections::HashSet;

use vamp_model::Code;

#[test]
fn the_full_list_is_pinned() {
    let list: String = Code::ALL
        .iter()
        .map(|c| format!("{:<45} {}\n", c.as_str(), c.help()))
        .collect();
    insta::assert_snapshot!(list);
}

#[test]
fn codes_are_unique_snake_case_and_read_back() {
    let mut seen = HashSet::new();
    for &c in Code::ALL {
        let s = c.as_str();
        assert!(seen.insert(s), "`{s}` is used twice");
        assert!(
            !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "`{s}` is not snake_case"
        );
        assert_eq!(Code::from_name(s), Some(c));
        assert_eq!(c, s);
        assert!(!c.help().is_empty(), "`{s}` has no help");
    }
    assert_eq!(Code::from_name("no_such_code"), None);
}

#[test]
fn the_spec_codes_keep_their_strings() {
    // canonical-json.md, "Errors", and drivers-reference.md.
    for s in [
        "unresolved_gateway_port",
        "yaml_parsing",
        "parser",
        "resource_limit",
        "no_available_port",
        "driver_image_not_found",
        "driver_deployment_stuck",
        "plan_dependency_cycle",
        "apply_deadline",
        "no_blueprint",
    ] {
        assert_eq!(Code::from_name(s).map(Code::as_str), Some(s));
    }
}
