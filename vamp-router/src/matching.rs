//! Whether a request matches a condition, by the matching semantics of
//! `canonical-json.md`.
//!
//! | node | matches when |
//! | --- | --- |
//! | `user_agent V` | the User-Agent header contains V; the browser names `Chrome`, `Firefox` (contain the name), `Edge` (`Edge` or `Edg/`), `Safari` (`Safari` and `Version`) and `IE` (`MSIE` or `Trident/`) are looked up case-insensitively first |
//! | `host V` | the host ([`Request::effective_host`]) equals V |
//! | `cookie N` / `header N` | a cookie / header N is present |
//! | `cookie_contains N V` / `header_contains N V` | cookie / header N is present and its value contains V |
//! | `acl V` | one of the raw HAProxy ACL forms listed at [`matches()`]; any other is [`Code::UnsupportedAcl`] |
//!
//! Matching never allocates (except to build the error of an unsupported
//! ACL).
//!
//! ```
//! use vamp_model::Condition;
//! use vamp_router::{matching::matches, request::Request};
//!
//! let cond = Condition::And(vec![
//!     Condition::UserAgent("firefox".into()),
//!     Condition::Cookie("vamp".into()),
//! ]);
//! let headers = [("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0")];
//! let cookies = [("vamp", "1")];
//! let req = Request { headers: (&headers).into(), cookies: (&cookies).into(), ..Request::default() };
//! assert_eq!(matches(&cond, &req), Ok(true));
//! ```

use vamp_model::{Code, Condition, Diagnostic};

use crate::request::Request;

/// Whether `req` matches `cond`.
///
/// Every node is evaluated (there is no short-circuit), so a condition that
/// holds an unsupported ACL is an error whatever the request. A header or
/// cookie written more than once matches when any of its values does.
///
/// Raw ACLs (`acl` nodes) are evaluated when they have one of these forms
/// (`H` a header name, compared case-insensitively; `c` a cookie name; `v` a
/// pattern, bare or between `'` or `"`; comparisons are case-sensitive):
///
/// | ACL | matches when |
/// | --- | --- |
/// | `req.fhdr(H) -m sub v`, `hdr_sub(H) v` | header H contains v |
/// | `req.hdr(H) v`, `hdr(H) v` | header H equals v |
/// | `req.hdr_cnt(H) gt 0` / `req.hdr_cnt(H) eq 0` | header H is present / absent |
/// | `req.cook(c) -m found` / `req.cook_cnt(c) eq 0` | cookie c is present / absent |
/// | `req.cook_sub(c) v` | cookie c contains v |
/// | `path_beg v` / `path v` | the path (up to `?`) starts with / equals v |
///
/// In these forms the header `host` is the request's host
/// ([`Request::effective_host`]), so `req.hdr(host) v` agrees with `host == v`.
///
/// # Errors
/// [`Code::UnsupportedAcl`] for an ACL of any other form.
///
/// ```
/// use vamp_model::{Code, Condition};
/// use vamp_router::{matching::matches, request::Request};
///
/// let path = Request { path: Some("/api/v1?x=1"), ..Request::default() };
/// assert_eq!(matches(&Condition::Acl("path_beg /api".into()), &path), Ok(true));
/// assert_eq!(matches(&Condition::Acl("path /api/v1".into()), &path), Ok(true));
///
/// let err = matches(&Condition::Acl("ssl_fc".into()), &path).unwrap_err();
/// assert_eq!(err.code, Code::UnsupportedAcl);
/// ```
pub fn matches(cond: &Condition, req: &Request<'_>) -> Result<bool, Diagnostic> {
    Ok(match cond {
        Condition::And(args) => {
            let mut all = true;
            for arg in args {
                all &= matches(arg, req)?;
            }
            all
        }
        Condition::Or(args) => {
            let mut any = false;
            for arg in args {
                any |= matches(arg, req)?;
            }
            any
        }
        Condition::Not(arg) => !matches(arg, req)?,
        Condition::UserAgent(value) => user_agent(req, value),
        Condition::Host(value) => req.effective_host() == Some(value.as_str()),
        Condition::Cookie(name) => req.cookie(name).is_some(),
        Condition::Header(name) => req.header(name).is_some(),
        Condition::CookieContains { name, value } => {
            req.cookie_values(name).any(|v| v.contains(value.as_str()))
        }
        Condition::HeaderContains { name, value } => {
            req.header_values(name).any(|v| v.contains(value.as_str()))
        }
        Condition::Acl(text) => acl(text)?.eval(req),
    })
}

/// Checks that [`matches()`] can evaluate every node of `cond`: that each raw
/// ACL has a supported form. Routing compiles a condition once with this.
///
/// # Errors
/// [`Code::UnsupportedAcl`] for the first ACL (in source order) that cannot
/// be evaluated.
///
/// ```
/// use vamp_model::{Code, Condition};
/// use vamp_router::matching::check;
///
/// let ok = Condition::Or(vec![
///     Condition::Acl("req.cook(vamp) -m found".into()),
///     Condition::Acl("req.fhdr(User-Agent) -m sub 'Mozilla 5'".into()),
/// ]);
/// assert!(check(&ok).is_ok());
/// let bad = Condition::Not(Box::new(Condition::Acl("src 10.0.0.0/8".into())));
/// assert_eq!(check(&bad).unwrap_err().code, Code::UnsupportedAcl);
/// ```
pub fn check(cond: &Condition) -> Result<(), Diagnostic> {
    match cond {
        Condition::And(args) | Condition::Or(args) => args.iter().try_for_each(check),
        Condition::Not(arg) => check(arg),
        Condition::Acl(text) => acl(text).map(|_| ()),
        Condition::UserAgent(_)
        | Condition::Host(_)
        | Condition::Cookie(_)
        | Condition::Header(_)
        | Condition::CookieContains { .. }
        | Condition::HeaderContains { .. } => Ok(()),
    }
}

fn user_agent(req: &Request<'_>, value: &str) -> bool {
    let browser = |name: &str| value.eq_ignore_ascii_case(name);
    req.header_values("User-Agent").any(|ua| {
        if browser("Chrome") {
            ua.contains("Chrome")
        } else if browser("Firefox") {
            ua.contains("Firefox")
        } else if browser("Edge") {
            ua.contains("Edge") || ua.contains("Edg/")
        } else if browser("Safari") {
            ua.contains("Safari") && ua.contains("Version")
        } else if browser("IE") {
            ua.contains("MSIE") || ua.contains("Trident/")
        } else {
            ua.contains(value)
        }
    })
}

/// A raw ACL of an evaluable form, borrowing from the ACL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Acl<'a> {
    HeaderContains(&'a str, &'a str),
    HeaderEquals(&'a str, &'a str),
    HeaderPresent(&'a str, bool),
    CookiePresent(&'a str, bool),
    CookieContains(&'a str, &'a str),
    PathBegins(&'a str),
    PathEquals(&'a str),
}

impl Acl<'_> {
    fn eval(self, req: &Request<'_>) -> bool {
        match self {
            Acl::HeaderContains(h, v) => acl_header(req, h).any(|x| x.contains(v)),
            Acl::HeaderEquals(h, v) => acl_header(req, h).any(|x| x == v),
            Acl::HeaderPresent(h, present) => acl_header(req, h).next().is_some() == present,
            Acl::CookiePresent(c, present) => req.cookie(c).is_some() == present,
            Acl::CookieContains(c, v) => req.cookie_values(c).any(|x| x.contains(v)),
            Acl::PathBegins(v) => path(req).is_some_and(|p| p.starts_with(v)),
            Acl::PathEquals(v) => path(req) == Some(v),
        }
    }
}

/// The values of header `name` as the ACL forms see them: `host` is the
/// request's host.
fn acl_header<'a, 'n>(
    req: &Request<'a>,
    name: &'n str,
) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
    let is_host = name.eq_ignore_ascii_case("host");
    let host = if is_host { req.effective_host() } else { None };
    host.into_iter()
        .chain(req.header_values(name).filter(move |_| !is_host))
}

/// The path without its query string, as HAProxy's `path` fetch has it.
fn path<'a>(req: &Request<'a>) -> Option<&'a str> {
    req.path.map(|p| p.split_once('?').map_or(p, |(p, _)| p))
}

const SUPPORTED: &str = "`req.fhdr(H) -m sub 'v'`, `req.hdr(H) v`, `req.hdr_cnt(H) gt 0`, \
    `req.hdr_cnt(H) eq 0`, `req.cook(c) -m found`, `req.cook_cnt(c) eq 0`, `req.cook_sub(c) v`, \
    `hdr_sub(H) v`, `hdr(H) v`, `path_beg v` and `path v`";

/// Reads a raw ACL of one of the evaluable forms.
fn acl(text: &str) -> Result<Acl<'_>, Diagnostic> {
    parse_acl(text).ok_or_else(|| {
        Diagnostic::error(
            Code::UnsupportedAcl,
            format!(
                "the raw ACL `{text}` cannot be evaluated here; it is passed to HAProxy as written"
            ),
        )
        .with_help(format!("the router evaluates {SUPPORTED}"))
    })
}

fn parse_acl(text: &str) -> Option<Acl<'_>> {
    let mut words = [""; 4];
    let mut n = 0;
    for word in Words(text) {
        *words.get_mut(n)? = word?;
        n += 1;
    }
    let (fetch, arg) = fetch(words[0])?;
    Some(match (&words[..n], fetch, arg) {
        ([_, "-m", "sub", v], "req.fhdr", Some(h)) => Acl::HeaderContains(h, unquote(v)?),
        ([_, v], "hdr_sub", Some(h)) => Acl::HeaderContains(h, unquote(v)?),
        ([_, v], "req.hdr" | "hdr", Some(h)) => Acl::HeaderEquals(h, unquote(v)?),
        ([_, "gt", "0"], "req.hdr_cnt", Some(h)) => Acl::HeaderPresent(h, true),
        ([_, "eq", "0"], "req.hdr_cnt", Some(h)) => Acl::HeaderPresent(h, false),
        ([_, "-m", "found"], "req.cook", Some(c)) => Acl::CookiePresent(c, true),
        ([_, "eq", "0"], "req.cook_cnt", Some(c)) => Acl::CookiePresent(c, false),
        ([_, v], "req.cook_sub", Some(c)) => Acl::CookieContains(c, unquote(v)?),
        ([_, v], "path_beg", None) => Acl::PathBegins(unquote(v)?),
        ([_, v], "path", None) => Acl::PathEquals(unquote(v)?),
        _ => return None,
    })
}

/// Splits `name(arg)` into the fetch name and its single argument.
fn fetch(word: &str) -> Option<(&str, Option<&str>)> {
    let Some((name, rest)) = word.split_once('(') else {
        return Some((word, None));
    };
    let arg = rest.strip_suffix(')')?;
    if arg.is_empty() || arg.contains(['(', ')', ',', '\'', '"', '\\']) {
        return None;
    }
    Some((name, Some(arg)))
}

/// A pattern bare or wholly between `'` or `"`, without escapes.
fn unquote(word: &str) -> Option<&str> {
    for q in ['\'', '"'] {
        if let Some(inner) = word.strip_prefix(q) {
            let inner = inner.strip_suffix(q)?;
            return (!inner.contains([q, '\\'])).then_some(inner);
        }
    }
    (!word.contains(['\'', '"', '\\'])).then_some(word)
}

/// The words of an ACL: split at whitespace outside quotes. An unterminated
/// quote yields `None`.
struct Words<'a>(&'a str);

impl<'a> Iterator for Words<'a> {
    type Item = Option<&'a str>;

    fn next(&mut self) -> Option<Self::Item> {
        let s = self.0.trim_start();
        if s.is_empty() {
            self.0 = s;
            return None;
        }
        let mut quote = None;
        let mut end = s.len();
        for (i, c) in s.char_indices() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '\'' || c == '"' => quote = Some(c),
                None if c.is_whitespace() => {
                    end = i;
                    break;
                }
                None => {}
            }
        }
        let (word, rest) = s.split_at(end);
        self.0 = rest;
        Some(if quote.is_some() { None } else { Some(word) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(text: &str) -> Condition {
        vamp_model::condition::parse(text).unwrap()
    }

    /// Matches `text` against a request built from `headers`, `cookies`,
    /// `host` and `path`.
    fn expect(text: &str, headers: &[(&str, &str)], cookies: &[(&str, &str)], expected: bool) {
        let req = Request {
            headers: headers.into(),
            cookies: cookies.into(),
            ..Request::default()
        };
        assert_eq!(
            matches(&cond(text), &req),
            Ok(expected),
            "{text} on {headers:?} {cookies:?}"
        );
    }

    const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";
    const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    const SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15";
    const EDGE: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0";
    const IE: &str = "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko";

    #[test]
    fn browsers_are_looked_up_first() {
        fn ua(v: &str) -> [(&str, &str); 1] {
            [("User-Agent", v)]
        }
        expect("user-agent == firefox", &ua(FIREFOX), &[], true);
        expect("user-agent == FIREFOX", &ua(CHROME), &[], false);
        expect("user-agent == firefox", &ua("firefox-bot"), &[], false);
        expect("user-agent == chrome", &ua(CHROME), &[], true);
        expect("user-agent == Safari", &ua(SAFARI), &[], true);
        expect("user-agent == Safari", &ua(CHROME), &[], false);
        expect("user-agent == Edge", &ua(EDGE), &[], true);
        expect("user-agent == ie", &ua(IE), &[], true);
        expect("user-agent == ie", &ua(FIREFOX), &[], false);
        expect("user-agent == Gecko/2010", &ua(FIREFOX), &[], true);
        expect("user-agent == gecko", &ua(FIREFOX), &[], false);
        expect("user-agent != firefox", &[], &[], true);
        expect("useragent == x", &[("user-agent", "x")], &[], true);
    }

    #[test]
    fn hosts_cookies_and_headers() {
        let req = Request {
            host: Some("localhost"),
            ..Request::default()
        };
        assert_eq!(matches(&cond("host == localhost"), &req), Ok(true));
        assert_eq!(matches(&cond("host == LOCALHOST"), &req), Ok(false));
        expect("host == localhost", &[("Host", "localhost")], &[], true);
        expect(
            "host == localhost",
            &[("Host", "localhost:8080")],
            &[],
            false,
        );
        expect("has header x-id", &[("X-Id", "")], &[], true);
        expect(
            "header X-ID has 12",
            &[("x-id", "a"), ("X-Id", "123")],
            &[],
            true,
        );
        expect("header x has A", &[("x", "a")], &[], false);
        expect("has cookie vamp", &[], &[("Vamp", "1")], false);
        expect(
            "cookie vamp has 1",
            &[],
            &[("vamp", "0"), ("vamp", "01")],
            true,
        );
        expect("cookie vamp misses 1", &[], &[], true);
    }

    #[test]
    fn acl_forms() {
        let h = [
            ("User-Agent", CHROME),
            ("page", "10"),
            ("Host", "example.com"),
        ];
        let c = [("vamp", "12345")];
        for (acl, expected) in [
            ("< req.fhdr(User-Agent) -m sub 'Chrome' >", true),
            ("< req.fhdr(user-agent) -m sub \"Gecko) Chrome\" >", true),
            ("< req.fhdr(User-Agent) -m sub 'chrome' >", false),
            ("< hdr_sub(user-agent) Windows >", true),
            ("< hdr(page) 10 >", true),
            ("< hdr(page) 1 >", false),
            ("< req.hdr(host) example.com >", true),
            ("< req.hdr(Host) 'example.com' >", true),
            ("< req.hdr_cnt(page) gt 0 >", true),
            ("< req.hdr_cnt(page) eq 0 >", false),
            ("< req.hdr_cnt(other) eq 0 >", true),
            ("< req.cook(vamp) -m found >", true),
            ("< req.cook(other) -m found >", false),
            ("< req.cook_cnt(vamp) eq 0 >", false),
            ("< req.cook_cnt(other) eq 0 >", true),
            ("< req.cook_sub(vamp) 234 >", true),
            ("< req.cook_sub(vamp) 6 >", false),
            ("< path_beg /api >", false),
            ("< path / >", false),
        ] {
            expect(acl, &h, &c, expected);
        }
        let req = Request {
            host: Some("localhost"),
            path: Some("/api/v1?q=1"),
            ..Request::default()
        };
        for (acl, expected) in [
            ("req.hdr(host) localhost", true),
            ("hdr(HOST) localhost", true),
            ("req.hdr_cnt(host) gt 0", true),
            ("path_beg /api", true),
            ("path_beg /v1", false),
            ("path /api/v1", true),
            ("path /api", false),
        ] {
            assert_eq!(
                matches(&Condition::Acl(acl.into()), &req),
                Ok(expected),
                "{acl}"
            );
        }
    }

    #[test]
    fn other_acls_are_unsupported_whatever_the_request() {
        for acl in [
            "ssl_fc",
            "src 10.0.0.0/8",
            "path_beg /a /b",
            "hdr(x)",
            "hdr(x) -i a",
            "req.fhdr(x) -m str 'a'",
            "req.fhdr(x,1) -m sub a",
            "req.hdr_cnt(x) gt 1",
            "req.cook(c) -m found extra",
            "hdr(x) 'a",
            "hdr(x) 'it''s'",
            "hdr(x) \"a\\\"b\"",
            "hdr x",
            "hdr() x",
            "path_beg(x) /a",
        ] {
            let e = matches(&Condition::Acl(acl.into()), &Request::default()).unwrap_err();
            assert_eq!(e.code, Code::UnsupportedAcl, "{acl}");
            assert!(e.message.contains(acl), "{}", e.message);
        }
        // No short-circuit: the unsupported ACL is found after a false `and`
        // argument and a true `or` argument.
        let c = cond("has cookie a and < ssl_fc >");
        assert_eq!(
            matches(&c, &Request::default()).unwrap_err().code,
            Code::UnsupportedAcl
        );
        let c = cond("misses cookie a or < ssl_fc >");
        assert_eq!(
            matches(&c, &Request::default()).unwrap_err().code,
            Code::UnsupportedAcl
        );
        assert_eq!(super::check(&c).unwrap_err().code, Code::UnsupportedAcl);
        assert!(super::check(&cond("<path v> and not has cookie a")).is_ok());
    }

    #[test]
    fn words_split_outside_quotes() {
        let words: Vec<_> = Words(" a 'b c'  \"d e\"f ").collect();
        assert_eq!(words, [Some("a"), Some("'b c'"), Some("\"d e\"f")]);
        assert_eq!(Words("a 'b").collect::<Vec<_>>(), [Some("a"), None]);
        assert_eq!(unquote("'a b'"), Some("a b"));
        assert_eq!(unquote("\"\""), Some(""));
        assert_eq!(unquote("a'b"), None);
    }
}
