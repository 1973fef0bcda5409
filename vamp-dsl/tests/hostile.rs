//! Hostile input gets a clean, typed error: never a panic, a stack
//! overflow or a hang.

use vamp_dsl::{read, read_bytes, ReadOptions};
use vamp_model::{Code, Kind};

fn first_code(src: &str, kind: Kind) -> Code {
    let out = read(
        src,
        ReadOptions {
            kind: Some(kind),
            ..ReadOptions::default()
        },
    );
    out.first_error().map(|d| d.code).expect("an error")
}

#[test]
fn billion_laughs_is_a_resource_limit() {
    let mut src = String::from("name: lol\nclusters:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..=9 {
        let p = i - 1;
        src.push_str(&format!("  a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
    }
    assert_eq!(first_code(&src, Kind::Blueprint), Code::ResourceLimit);
}

#[test]
fn deep_nesting_is_a_resource_limit() {
    let flow = format!("name: deep\nclusters: {}", "[".repeat(100_000));
    assert_eq!(first_code(&flow, Kind::Blueprint), Code::ResourceLimit);
    let mut block = String::from("name: deep\nmetadata:\n");
    for depth in 1..2_000 {
        block.push_str(&" ".repeat(depth));
        block.push_str("a:\n");
    }
    assert_eq!(first_code(&block, Kind::Breed), Code::ResourceLimit);
}

#[test]
fn huge_document_is_a_resource_limit() {
    let mut src = String::from("name: big\ndeployable: x\nmetadata:\n");
    let line = format!("  k{}: {}\n", 0, "v".repeat(100));
    while src.len() < 50 * 1024 * 1024 {
        src.push_str(&line);
    }
    let out = read_bytes(
        src.as_bytes(),
        ReadOptions {
            kind: Some(Kind::Breed),
            ..ReadOptions::default()
        },
    );
    assert_eq!(out.first_error().map(|d| d.code), Some(Code::ResourceLimit));
}

#[test]
fn invalid_utf8_is_a_yaml_error_with_position() {
    let out = read_bytes(b"name: ok\ndeployable: \xc3\x28\n", ReadOptions::default());
    let d = out.first_error().expect("error");
    assert_eq!(d.code, Code::YamlParsing);
    let span = d.span.expect("position");
    assert_eq!((span.line, span.column), (2, 13));
}

#[test]
fn absurd_numbers_are_unexpected_types() {
    assert_eq!(
        first_code("name: s\ncpu: 1e400\nmemory: 1GB\n", Kind::Scale),
        Code::UnexpectedType
    );
    assert_eq!(
        first_code("name: s\ncpu: 1\nmemory: 1e400GB\n", Kind::Scale),
        Code::UnexpectedType
    );
    assert_eq!(
        first_code(
            "name: s\ncpu: 1\nmemory: 1GB\ninstances: 99999999999999999999999\n",
            Kind::Scale
        ),
        Code::UnexpectedType
    );
    let w = "name: g\nport: 8080\nroutes:\n  a:\n    weight: 1000000000000000000000%\n";
    assert_eq!(first_code(w, Kind::Gateway), Code::UnexpectedType);
    assert_eq!(
        first_code("name: g\nport: 99999999\n", Kind::Gateway),
        Code::InvalidGatewayPort
    );
}

#[test]
fn ten_thousand_character_name_is_rejected() {
    let src = format!("name: {}\ndeployable: x\n", "n".repeat(10_000));
    assert_eq!(first_code(&src, Kind::Breed), Code::ResourceLimit);
}

#[test]
fn garbage_never_panics() {
    for src in [
        "",
        "---",
        "- a\n- b",
        "? [a]\n: b",
        "a: [",
        "{",
        "!!binary x",
        "&a a: *a",
        "a: *nope",
        "\t\tx: y",
    ] {
        let _ = read(src, ReadOptions::default());
        for kind in Kind::ALL {
            let _ = read(
                src,
                ReadOptions {
                    kind: Some(kind),
                    ..ReadOptions::default()
                },
            );
        }
    }
}
