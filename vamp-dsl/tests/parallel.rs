//! Reading a large stream on several threads gives exactly what one thread
//! gives: the same documents, the same diagnostics at the same positions.

use vamp_dsl::{read, ReadOptions};

fn stream(broken_at: Option<usize>) -> String {
    let template = include_str!("../../examples/sava-canary.yml");
    let mut out = String::new();
    let mut i = 0;
    while out.len() < 600_000 {
        out.push_str("---\n");
        let doc = template
            .replace("sava-canary", &format!("shop-{i}"))
            .replace("sava:1.", &format!("sava{i}:1."))
            .replace("mysql:5.7", &format!("mysql{i}:5.7"));
        if Some(i) == broken_at {
            out.push_str(&doc.replace("sticky: route", "sticky: sideways"));
        } else {
            out.push_str(&doc);
        }
        i += 1;
    }
    out
}

fn both(src: &str) -> (vamp_dsl::Outcome, vamp_dsl::Outcome) {
    let one = read(
        src,
        ReadOptions {
            parallel: false,
            ..ReadOptions::default()
        },
    );
    let many = read(
        src,
        ReadOptions {
            parallel: true,
            ..ReadOptions::default()
        },
    );
    (one, many)
}

#[test]
fn same_documents_on_several_threads() {
    let src = stream(None);
    let pieces = vamp_dsl::yaml::split_documents(&src, 4);
    assert!(pieces.len() > 1, "a large stream splits");
    let (one, many) = both(&src);
    assert!(one.first_error().is_none());
    assert_eq!(one.documents.len(), many.documents.len());
    assert_eq!(one.documents, many.documents);
}

#[test]
fn same_diagnostics_and_positions_late_in_the_stream() {
    let src = stream(Some(230));
    let (one, many) = both(&src);
    let (a, b) = (
        one.first_error().expect("error"),
        many.first_error().expect("error"),
    );
    assert_eq!(a.code.as_str(), "illegal_gateway_sticky_value");
    assert_eq!(a, b);
    assert!(a.span.map_or(0, |s| s.line) > 10_000, "{a:?}");
    let line = src
        .lines()
        .nth(a.span.expect("span").line as usize - 1)
        .unwrap_or("");
    assert!(line.contains("sticky: sideways"), "{line}");
    assert_eq!(one.diagnostics, many.diagnostics);
}

#[test]
fn a_yaml_error_in_a_later_piece_fails_the_stream_as_on_one_thread() {
    let mut src = stream(None);
    src.push_str("---\nname: [unclosed\n");
    let (one, many) = both(&src);
    assert!(one.documents.is_empty() && many.documents.is_empty());
    assert_eq!(one.diagnostics, many.diagnostics);
}

#[test]
fn streams_with_directives_are_not_split() {
    let src = format!("%YAML 1.2\n{}", stream(None));
    assert_eq!(vamp_dsl::yaml::split_documents(&src, 4).len(), 1);
}
