//! Tests of the syntax tree, its printing and its parser.

use proptest::prelude::*;
use serde_json::json;

use super::parse::{flatten_into, MAX_DEPTH, MAX_LEN};
use super::*;
use crate::{Code, Span};

fn ua(v: &str) -> Condition {
    Condition::UserAgent(v.to_owned())
}
fn host(v: &str) -> Condition {
    Condition::Host(v.to_owned())
}
fn cookie(v: &str) -> Condition {
    Condition::Cookie(v.to_owned())
}
fn acl(v: &str) -> Condition {
    Condition::Acl(v.to_owned())
}
fn not(c: Condition) -> Condition {
    Condition::Not(Box::new(c))
}

fn check(input: &str, expected: Condition) {
    match parse(input) {
        Ok(c) => assert_eq!(c, expected, "{input:?}"),
        Err(e) => panic!("{input:?} did not parse: {e:?}"),
    }
}

/// Asserts the error's code, 1-based column and message.
fn check_err(input: &str, code: Code, column: u32, message: &str) {
    let e = parse(input).expect_err(input);
    assert_eq!(
        (
            e.code,
            e.span.map(|s| (s.line, s.column)),
            e.message.as_str()
        ),
        (code, Some((1, column)), message),
        "{input:?}"
    );
}

#[test]
fn operands_and_operators() {
    for operand in ["user-agent", "User-Agent", "user.agent", "USERAGENT"] {
        for op in ["==", "=", "is", "IS", "has", "contains"] {
            check(&format!("{operand} {op} Firefox"), ua("Firefox"));
        }
        for op in ["!=", "!", "not", "Misses"] {
            check(&format!("{operand} {op} Firefox"), not(ua("Firefox")));
        }
    }
    check("host==localhost", host("localhost"));
    check("HOST != x", not(host("x")));
    check("user-agent=!x", ua("!x"));
    check("user-agent !x", not(ua("x")));
}

#[test]
fn cookies_and_headers() {
    check("has cookie vamp", cookie("vamp"));
    check("MISSES Cookie vamp", not(cookie("vamp")));
    check("contains header ETag", Condition::Header("ETag".into()));
    check(
        "cookie vamp has 12345",
        Condition::CookieContains {
            name: "vamp".into(),
            value: "12345".into(),
        },
    );
    check(
        "header 'X Id' misses \"a \"\"b\"\"\"",
        not(Condition::HeaderContains {
            name: "X Id".into(),
            value: "a \"b\"".into(),
        }),
    );
    // Keywords are plain values where a value is expected.
    check("has cookie and", cookie("and"));
    check(
        "host == or and host == not",
        Condition::And(vec![host("or"), host("not")]),
    );
}

#[test]
fn values() {
    check("host == 'it''s'", host("it's"));
    check("host == ''", host(""));
    check(r#"host == """""#, host("\""));
    check("(host == a)", host("a"));
    check("host == a&&b", host("a&&b"));
    check("host == <x>", host("<x>"));
    check("user-agent == 'Mozilla (X11)'", ua("Mozilla (X11)"));
    check("host == ünïcödé", host("ünïcödé"));
}

#[test]
fn acls() {
    check("<a>", acl("a"));
    check("  <  water  ⇒  ice  > ", acl("water  ⇒  ice"));
    check("not<a>", not(acl("a")));
    check("!<a>", not(acl("a")));
}

#[test]
fn precedence_and_flattening() {
    let (a, b, c) = (acl("a"), acl("b"), acl("c"));
    let and = |v: Vec<Condition>| Condition::And(v);
    let or = |v: Vec<Condition>| Condition::Or(v);
    check(
        "<a> and <b> or <c>",
        or(vec![and(vec![a.clone(), b.clone()]), c.clone()]),
    );
    check(
        "<a> or <b> and <c>",
        or(vec![a.clone(), and(vec![b.clone(), c.clone()])]),
    );
    check(
        "(<a> and <b>) and <c>",
        and(vec![a.clone(), b.clone(), c.clone()]),
    );
    check(
        "<a> & (<b> && (<c>))",
        and(vec![a.clone(), b.clone(), c.clone()]),
    );
    check(
        "(<a> or <b>) OR <c>",
        or(vec![a.clone(), b.clone(), c.clone()]),
    );
    check(
        "(<a> or <b>) and <c>",
        and(vec![or(vec![a.clone(), b.clone()]), c.clone()]),
    );
    check("not <a> and <b>", and(vec![not(a.clone()), b.clone()]));
    check("!(<a> | <b>)", not(or(vec![a.clone(), b.clone()])));
    check("not not <a>", not(not(a.clone())));
    check("!!<a>", not(not(a.clone())));
    check("(<a>)and(<b>)", and(vec![a.clone(), b.clone()]));
    check(
        "<a> and not (<b> and <c>)",
        and(vec![a, not(and(vec![b, c]))]),
    );
}

#[test]
fn errors_say_what_was_expected_and_where() {
    check_err(
        "",
        Code::Parser,
        1,
        "expected a condition, found the end of the expression",
    );
    check_err(
        "   ",
        Code::Parser,
        4,
        "expected a condition, found the end of the expression",
    );
    check_err(
        "  (has cookie a",
        Code::Parser,
        16,
        "expected `)` to close the `(` at column 3, found the end of the expression",
    );
    check_err(
        "user-agent ==",
        Code::Parser,
        14,
        "expected a value after `user-agent ==`, found the end of the expression",
    );
    check_err(
        "(User-Agent IS)",
        Code::Parser,
        15,
        "expected a value after `User-Agent IS`, found `)`",
    );
    check_err(
        "host localhost",
        Code::Parser,
        6,
        "expected an operator after `host` (`==`, `=`, `is`, `has`, `contains`, `!=`, `!`, \
         `not` or `misses`), found `localhost`",
    );
    check_err(
        "has vamp",
        Code::Parser,
        5,
        "expected `cookie` or `header` after `has`, found `vamp`",
    );
    check_err(
        "misses header",
        Code::Parser,
        14,
        "expected a header name after `misses header`, found the end of the expression",
    );
    check_err(
        "cookie vamp is 1",
        Code::Parser,
        13,
        "expected `has`, `contains` or `misses` after `cookie vamp`, found `is`",
    );
    check_err(
        "header x has",
        Code::Parser,
        13,
        "expected a value after `header x has`, found the end of the expression",
    );
    check_err(
        "<a> and",
        Code::Parser,
        8,
        "expected a condition after `and`, found the end of the expression",
    );
    check_err(
        "<a> || or",
        Code::Parser,
        8,
        "expected a condition after `||`, found `or`",
    );
    check_err(
        "not",
        Code::Parser,
        4,
        "expected a condition after `not`, found the end of the expression",
    );
    check_err(
        "!= x",
        Code::Parser,
        2,
        "expected a condition after `!`, found `=`",
    );
    check_err(
        "()",
        Code::Parser,
        2,
        "expected a condition after `(`, found `)`",
    );
    check_err(
        "<a>)",
        Code::Parser,
        4,
        "unexpected `)`: there is no `(` to close",
    );
    check_err(
        "host == a b",
        Code::Parser,
        11,
        "expected `and`, `or` or the end of the expression, found `b`",
    );
    check_err(
        "true",
        Code::Parser,
        1,
        "expected a condition, found `true`",
    );
    check_err(
        "<a",
        Code::Parser,
        3,
        "expected `>` to close the raw ACL that opens at column 1",
    );
    check_err(
        "<a <b>",
        Code::Parser,
        4,
        "expected `>` to close the raw ACL that opens at column 1 (a raw ACL cannot contain `<`)",
    );
    check_err(
        "< >",
        Code::Parser,
        1,
        "expected a raw HAProxy ACL between `<` and `>`",
    );
    check_err(
        "host == 'abc",
        Code::Parser,
        13,
        "expected `'` to close the quoted value that opens at column 9",
    );
    check_err(
        "has cookie a andx has cookie b",
        Code::Parser,
        14,
        "expected `and`, `or` or the end of the expression, found `andx`",
    );
}

#[test]
fn columns_count_characters() {
    // `ü` and `⇒` are multi-byte; columns are in characters.
    check_err(
        "host == ü b",
        Code::Parser,
        11,
        "expected `and`, `or` or the end of the expression, found `b`",
    );
    check_err(
        "(<⇒> and <⇒>",
        Code::Parser,
        13,
        "expected `)` to close the `(` at column 1, found the end of the expression",
    );
    let e = parse("ü").expect_err("ü");
    assert_eq!(e.span, Some(Span::new(0, 1, 1)));
    let e = parse("<a> ü").expect_err("ü");
    assert_eq!(e.span, Some(Span::new(4, 1, 5)));
}

#[test]
fn hostile_input_is_bounded() {
    let ok = format!("{}<a>{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    check(&ok, acl("a"));
    let deep = format!(
        "{}<a>{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    check_err(
        &deep,
        Code::ResourceLimit,
        65,
        "the condition nests deeper than 64 levels of `(` and `not`",
    );
    let nots = format!("{}<a>", "not ".repeat(100_000 / 4));
    assert_eq!(parse(&nots).expect_err("deep").code, Code::ResourceLimit);
    let mixed = "(!".repeat(20_000);
    assert_eq!(parse(&mixed).expect_err("deep").code, Code::ResourceLimit);
    let long = "<a> and ".repeat(MAX_LEN / 8) + "<a>";
    assert_eq!(parse(&long).expect_err("long").code, Code::ResourceLimit);
    let wide = "<a> and ".repeat(MAX_LEN / 8 - 1) + "<a>";
    assert!(matches!(parse(&wide), Ok(Condition::And(args)) if args.len() == MAX_LEN / 8));
    let multibyte = "ü".repeat(MAX_LEN);
    let e = parse(&multibyte).expect_err("long");
    assert_eq!(e.span.map(|s| s.column), Some(MAX_LEN as u32 / 2 + 1));
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9/._-]{1,8}",
        "[a-zA-Z0-9 ()'\"=!<>&|ü⇒\t-]{0,8}",
        Just("and".to_owned()),
        Just("not".to_owned()),
        Just("'".to_owned()),
    ]
}

fn leaf() -> impl Strategy<Value = Condition> {
    prop_oneof![
        text().prop_map(Condition::UserAgent),
        text().prop_map(Condition::Host),
        text().prop_map(Condition::Cookie),
        text().prop_map(Condition::Header),
        (text(), text()).prop_map(|(name, value)| Condition::CookieContains { name, value }),
        (text(), text()).prop_map(|(name, value)| Condition::HeaderContains { name, value }),
        "[a-z0-9_.()' /ü-]{1,12}"
            .prop_map(|s| s.trim().to_owned())
            .prop_filter("an ACL is not empty", |s| !s.is_empty())
            .prop_map(Condition::Acl),
    ]
}

/// Trees as the parser builds them: `and`/`or` flattened, 2+ arguments.
fn tree() -> impl Strategy<Value = Condition> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..5).prop_map(|args| {
                let mut flat = Vec::new();
                for a in args {
                    flatten_into(&mut flat, a, true);
                }
                Condition::And(flat)
            }),
            prop::collection::vec(inner.clone(), 2..5).prop_map(|args| {
                let mut flat = Vec::new();
                for a in args {
                    flatten_into(&mut flat, a, false);
                }
                Condition::Or(flat)
            }),
            inner.prop_map(not),
        ]
    })
}

fn soup() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "(",
        ")",
        "not ",
        "!",
        " and ",
        "&&",
        "|",
        " or ",
        "'",
        "\"",
        "<",
        ">",
        "host",
        "==",
        " ",
        "user-agent",
        "has",
        "cookie",
        "header",
        "misses",
        "ü",
        "⇒",
        "x",
        "\t",
        "''",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn printed_trees_read_back(c in tree()) {
        let printed = c.to_string();
        prop_assert_eq!(parse(&printed), Ok(c), "{}", printed);
    }

    #[test]
    fn never_panics_on_arbitrary_text(s in any::<String>()) {
        let _ = parse(&s);
    }

    #[test]
    fn never_panics_on_token_soup(s in soup()) {
        if let Err(e) = parse(&s) {
            let column = e.span.map_or(0, |sp| sp.column) as usize;
            prop_assert!(column >= 1 && column <= s.chars().count() + 1);
        }
    }
}

fn s(text: &str) -> String {
    text.to_owned()
}

#[test]
fn serializes_every_node() {
    let c = Condition::Or(vec![
        Condition::Not(Box::new(Condition::Host(s("localhost")))),
        Condition::Header(s("ETag")),
        Condition::CookieContains {
            name: s("vamp"),
            value: s("12345"),
        },
        Condition::HeaderContains {
            name: s("X-Id"),
            value: s("1"),
        },
        Condition::Acl(s("req.fhdr(X) -m sub 'y'")),
    ]);
    assert_eq!(
        serde_json::to_value(&c).unwrap(),
        json!({"op": "or", "args": [
            {"op": "not", "arg": {"op": "host", "value": "localhost"}},
            {"op": "header", "name": "ETag"},
            {"op": "cookie_contains", "name": "vamp", "value": "12345"},
            {"op": "header_contains", "name": "X-Id", "value": "1"},
            {"op": "acl", "value": "req.fhdr(X) -m sub 'y'"},
        ]})
    );
    // Key order is part of the contract (op first).
    assert_eq!(
        serde_json::to_string(&Condition::CookieContains {
            name: s("a"),
            value: s("b")
        })
        .unwrap(),
        r#"{"op":"cookie_contains","name":"a","value":"b"}"#
    );
}

#[test]
fn displays_with_quotes_and_parentheses() {
    let c = Condition::And(vec![
        Condition::Or(vec![Condition::Cookie(s("a")), Condition::Cookie(s("b"))]),
        Condition::UserAgent(s("say \"hi\"")),
        Condition::Host(s("")),
        Condition::Header(s("'x")),
    ]);
    assert_eq!(
        c.to_string(),
        r#"(has cookie a or has cookie b) and user-agent == "say ""hi""" and host == "" and has header "'x""#
    );
    let or = Condition::Or(vec![
        Condition::And(vec![Condition::Cookie(s("a")), Condition::Cookie(s("b"))]),
        Condition::Not(Box::new(Condition::Not(Box::new(Condition::Acl(s("x")))))),
    ]);
    assert_eq!(
        or.to_string(),
        "has cookie a and has cookie b or not not <x>"
    );
    assert_eq!(Condition::And(vec![]).to_string(), "()");
}
