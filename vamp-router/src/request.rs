//! The HTTP request that routing decisions and condition matching look at.
//!
//! [`Request`] borrows everything it holds, so a routing engine can decide on
//! a request it has just parsed without allocating. [`OwnedRequest`] owns its
//! data (it is what the spec's request JSON reads into) and lends a
//! [`Request`] with [`OwnedRequest::as_request`].
//!
//! Header names compare case-insensitively (ASCII); cookie names, header and
//! cookie values and the host compare case-sensitively.
//!
//! ```
//! use vamp_router::request::Request;
//!
//! let headers = [("Host", "example.com"), ("User-Agent", "curl/8.0")];
//! let cookies = [("vamp", "12345")];
//! let req = Request {
//!     path: Some("/cart"),
//!     headers: (&headers).into(),
//!     cookies: (&cookies).into(),
//!     ..Request::default()
//! };
//! assert_eq!(req.header("user-agent"), Some("curl/8.0"));
//! assert_eq!(req.cookie("vamp"), Some("12345"));
//! assert_eq!(req.effective_host(), Some("example.com"));
//! ```

use serde_json::Value;
use vamp_model::{Code, Diagnostic};

/// Name/value pairs of a request (its headers or its cookies), borrowed
/// either as `&str` pairs or from owned `String` pairs, in request order.
///
/// ```
/// use vamp_router::request::Pairs;
/// let borrowed = [("a", "1"), ("b", "2")];
/// let owned = vec![("a".to_string(), "1".to_string())];
/// let p: Pairs<'_> = (&borrowed).into();
/// assert_eq!(p.len(), 2);
/// let q: Pairs<'_> = (&owned).into();
/// assert_eq!(q.iter().next(), Some(("a", "1")));
/// assert!(Pairs::default().is_empty());
/// ```
#[derive(Debug, Clone, Copy)]
pub enum Pairs<'a> {
    /// Pairs of borrowed text.
    Borrowed(&'a [(&'a str, &'a str)]),
    /// Pairs of owned text, borrowed as a whole.
    Owned(&'a [(String, String)]),
}

impl Default for Pairs<'_> {
    fn default() -> Self {
        Pairs::Borrowed(&[])
    }
}

impl<'a> Pairs<'a> {
    /// The number of pairs.
    ///
    /// ```
    /// use vamp_router::request::Pairs;
    /// assert_eq!(Pairs::from(&[("a", "1")]).len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            Pairs::Borrowed(p) => p.len(),
            Pairs::Owned(p) => p.len(),
        }
    }

    /// True when there are no pairs.
    ///
    /// ```
    /// use vamp_router::request::Pairs;
    /// assert!(Pairs::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pairs, in order.
    ///
    /// ```
    /// use vamp_router::request::Pairs;
    /// let p = Pairs::from(&[("a", "1"), ("b", "2")]);
    /// assert_eq!(p.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn iter(&self) -> PairsIter<'a> {
        PairsIter(match *self {
            Pairs::Borrowed(p) => Inner::Borrowed(p.iter()),
            Pairs::Owned(p) => Inner::Owned(p.iter()),
        })
    }
}

impl<'a> From<&'a [(&'a str, &'a str)]> for Pairs<'a> {
    fn from(p: &'a [(&'a str, &'a str)]) -> Self {
        Pairs::Borrowed(p)
    }
}

impl<'a, const N: usize> From<&'a [(&'a str, &'a str); N]> for Pairs<'a> {
    fn from(p: &'a [(&'a str, &'a str); N]) -> Self {
        Pairs::Borrowed(p)
    }
}

impl<'a> From<&'a [(String, String)]> for Pairs<'a> {
    fn from(p: &'a [(String, String)]) -> Self {
        Pairs::Owned(p)
    }
}

impl<'a> From<&'a Vec<(String, String)>> for Pairs<'a> {
    fn from(p: &'a Vec<(String, String)>) -> Self {
        Pairs::Owned(p)
    }
}

impl<'a> IntoIterator for Pairs<'a> {
    type Item = (&'a str, &'a str);
    type IntoIter = PairsIter<'a>;

    fn into_iter(self) -> PairsIter<'a> {
        self.iter()
    }
}

/// The iterator of [`Pairs::iter`]: `(name, value)` in order.
///
/// ```
/// use vamp_router::request::Pairs;
/// let mut it = Pairs::from(&[("a", "1")]).iter();
/// assert_eq!(it.next(), Some(("a", "1")));
/// assert_eq!(it.next(), None);
/// ```
#[derive(Debug, Clone)]
pub struct PairsIter<'a>(Inner<'a>);

#[derive(Debug, Clone)]
enum Inner<'a> {
    Borrowed(std::slice::Iter<'a, (&'a str, &'a str)>),
    Owned(std::slice::Iter<'a, (String, String)>),
}

impl<'a> Iterator for PairsIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            Inner::Borrowed(it) => it.next().map(|&(n, v)| (n, v)),
            Inner::Owned(it) => it.next().map(|(n, v)| (n.as_str(), v.as_str())),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            Inner::Borrowed(it) => it.size_hint(),
            Inner::Owned(it) => it.size_hint(),
        }
    }
}

/// A request, borrowing all its data: what conditions are matched against.
///
/// Every part is optional; a header or cookie may occur more than once.
///
/// ```
/// use vamp_router::request::Request;
/// let headers = [("host", "localhost:8080")];
/// let req = Request { headers: (&headers).into(), ..Request::default() };
/// // `host` falls back to the Host header; the port is not stripped.
/// assert_eq!(req.effective_host(), Some("localhost:8080"));
/// assert_eq!(req.path, None);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    /// The HTTP method (`GET`).
    pub method: Option<&'a str>,
    /// The host the request is for; when absent, the `Host` header is used.
    pub host: Option<&'a str>,
    /// The request path (`/cart`).
    pub path: Option<&'a str>,
    /// The client's address (`127.0.0.1`).
    pub client_ip: Option<&'a str>,
    /// The headers, in request order.
    pub headers: Pairs<'a>,
    /// The cookies, in request order.
    pub cookies: Pairs<'a>,
}

impl<'a> Request<'a> {
    /// The value of the first header called `name` (compared
    /// case-insensitively).
    ///
    /// ```
    /// use vamp_router::request::Request;
    /// let headers = [("X-Id", "1"), ("x-id", "2")];
    /// let req = Request { headers: (&headers).into(), ..Request::default() };
    /// assert_eq!(req.header("X-ID"), Some("1"));
    /// assert_eq!(req.header("X-Other"), None);
    /// ```
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.header_values(name).next()
    }

    /// The values of every header called `name` (compared
    /// case-insensitively), in request order.
    ///
    /// ```
    /// use vamp_router::request::Request;
    /// let headers = [("X-Id", "1"), ("x-id", "2")];
    /// let req = Request { headers: (&headers).into(), ..Request::default() };
    /// assert_eq!(req.header_values("x-id").collect::<Vec<_>>(), ["1", "2"]);
    /// ```
    pub fn header_values<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The value of the first cookie called `name` (compared
    /// case-sensitively).
    ///
    /// ```
    /// use vamp_router::request::Request;
    /// let cookies = [("vamp", "12345")];
    /// let req = Request { cookies: (&cookies).into(), ..Request::default() };
    /// assert_eq!(req.cookie("vamp"), Some("12345"));
    /// assert_eq!(req.cookie("VAMP"), None);
    /// ```
    pub fn cookie(&self, name: &str) -> Option<&'a str> {
        self.cookie_values(name).next()
    }

    /// The values of every cookie called `name` (compared case-sensitively),
    /// in request order.
    ///
    /// ```
    /// use vamp_router::request::Request;
    /// let cookies = [("a", "1"), ("b", "2"), ("a", "3")];
    /// let req = Request { cookies: (&cookies).into(), ..Request::default() };
    /// assert_eq!(req.cookie_values("a").collect::<Vec<_>>(), ["1", "3"]);
    /// ```
    pub fn cookie_values<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.cookies
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// The host the request is for: `host`, else the first `Host` header.
    /// No port is stripped.
    ///
    /// ```
    /// use vamp_router::request::Request;
    /// let headers = [("Host", "b.example")];
    /// let mut req = Request { headers: (&headers).into(), ..Request::default() };
    /// assert_eq!(req.effective_host(), Some("b.example"));
    /// req.host = Some("a.example");
    /// assert_eq!(req.effective_host(), Some("a.example"));
    /// ```
    pub fn effective_host(&self) -> Option<&'a str> {
        self.host.or_else(|| self.header("Host"))
    }
}

/// A request that owns its data; reads the request JSON of the spec and lends
/// a [`Request`].
///
/// ```
/// use vamp_router::request::OwnedRequest;
/// let json = serde_json::json!({
///     "method": "GET", "host": "example.com", "path": "/cart", "client_ip": "127.0.0.1",
///     "headers": {"User-Agent": "Mozilla/5.0 Firefox/120.0"}, "cookies": {"vamp": "12345"},
/// });
/// let owned = OwnedRequest::from_json(&json).unwrap();
/// let req = owned.as_request();
/// assert_eq!(req.method, Some("GET"));
/// assert_eq!(req.header("user-agent"), Some("Mozilla/5.0 Firefox/120.0"));
/// assert_eq!(req.cookie("vamp"), Some("12345"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedRequest {
    /// The HTTP method.
    pub method: Option<String>,
    /// The host; when absent, the `Host` header is used.
    pub host: Option<String>,
    /// The request path.
    pub path: Option<String>,
    /// The client's address.
    pub client_ip: Option<String>,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The cookies, in order.
    pub cookies: Vec<(String, String)>,
}

impl OwnedRequest {
    /// Reads the request JSON of the spec: an object whose keys `method`,
    /// `host`, `path`, `client_ip` (text), `headers` and `cookies` (objects of
    /// text) are all optional; `null` is the same as absent.
    ///
    /// # Errors
    /// [`Code::UnexpectedType`] for a value of the wrong type (the diagnostic's
    /// `path` names it, e.g. `headers.X-Id`), [`Code::UnexpectedElement`] for a
    /// key the request does not have.
    ///
    /// ```
    /// use vamp_model::Code;
    /// use vamp_router::request::OwnedRequest;
    /// let ok = OwnedRequest::from_json(&serde_json::json!({"host": null, "cookies": {}})).unwrap();
    /// assert_eq!(ok, OwnedRequest::default());
    /// let bad = OwnedRequest::from_json(&serde_json::json!({"headers": {"page": 1}})).unwrap_err();
    /// assert_eq!((bad.code, bad.path.as_str()), (Code::UnexpectedType, "headers.page"));
    /// let typo = OwnedRequest::from_json(&serde_json::json!({"header": {}})).unwrap_err();
    /// assert_eq!(typo.code, Code::UnexpectedElement);
    /// ```
    pub fn from_json(value: &Value) -> Result<OwnedRequest, Diagnostic> {
        let Value::Object(fields) = value else {
            return Err(Diagnostic::error(
                Code::UnexpectedType,
                format!("a request is a JSON object, not {}", describe(value)),
            ));
        };
        let mut request = OwnedRequest::default();
        for (key, v) in fields {
            match key.as_str() {
                "method" => request.method = text(v, key)?,
                "host" => request.host = text(v, key)?,
                "path" => request.path = text(v, key)?,
                "client_ip" => request.client_ip = text(v, key)?,
                "headers" => request.headers = pairs(v, key)?,
                "cookies" => request.cookies = pairs(v, key)?,
                _ => {
                    return Err(Diagnostic::error(
                        Code::UnexpectedElement,
                        format!(
                            "a request has no `{key}`: use `method`, `host`, `path`, \
                             `client_ip`, `headers` or `cookies`"
                        ),
                    )
                    .with_path(key.as_str()))
                }
            }
        }
        Ok(request)
    }

    /// Lends the request as a [`Request`], without allocating.
    ///
    /// ```
    /// use vamp_router::request::OwnedRequest;
    /// let owned = OwnedRequest {
    ///     headers: vec![("Host".into(), "localhost".into())],
    ///     ..OwnedRequest::default()
    /// };
    /// assert_eq!(owned.as_request().effective_host(), Some("localhost"));
    /// ```
    pub fn as_request(&self) -> Request<'_> {
        Request {
            method: self.method.as_deref(),
            host: self.host.as_deref(),
            path: self.path.as_deref(),
            client_ip: self.client_ip.as_deref(),
            headers: Pairs::Owned(&self.headers),
            cookies: Pairs::Owned(&self.cookies),
        }
    }
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn text(v: &Value, key: &str) -> Result<Option<String>, Diagnostic> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        other => Err(Diagnostic::error(
            Code::UnexpectedType,
            format!(
                "the request's `{key}` must be text, not {}",
                describe(other)
            ),
        )
        .with_path(key)),
    }
}

fn pairs(v: &Value, key: &str) -> Result<Vec<(String, String)>, Diagnostic> {
    let fields = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Object(fields) => fields,
        other => {
            return Err(Diagnostic::error(
                Code::UnexpectedType,
                format!(
                    "the request's `{key}` must be an object of names to text, not {}",
                    describe(other)
                ),
            )
            .with_path(key))
        }
    };
    fields
        .iter()
        .map(|(name, value)| match value {
            Value::String(s) => Ok((name.clone(), s.clone())),
            other => Err(Diagnostic::error(
                Code::UnexpectedType,
                format!(
                    "the value of `{key}.{name}` must be text, not {}",
                    describe(other)
                ),
            )
            .with_path(format!("{key}.{name}"))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_every_key_in_order() {
        let owned = OwnedRequest::from_json(&json!({
            "method": "GET", "host": "example.com", "path": "/cart", "client_ip": "127.0.0.1",
            "headers": {"User-Agent": "ua", "X-B": "b", "x-a": "a"},
            "cookies": {"z": "1", "a": "2"},
        }))
        .unwrap();
        assert_eq!(owned.path.as_deref(), Some("/cart"));
        assert_eq!(owned.client_ip.as_deref(), Some("127.0.0.1"));
        let req = owned.as_request();
        let names: Vec<_> = req.headers.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["User-Agent", "X-B", "x-a"]);
        assert_eq!(req.header("X-A"), Some("a"));
        assert_eq!(req.cookie("a"), Some("2"));
        assert_eq!(req.cookie("A"), None);
        assert_eq!(req.effective_host(), Some("example.com"));
    }

    #[test]
    fn wrong_shapes_are_unexpected_type() {
        for (value, path) in [
            (json!([]), ""),
            (json!("GET /"), ""),
            (json!({"method": 1}), "method"),
            (json!({"host": ["a"]}), "host"),
            (json!({"headers": "User-Agent: x"}), "headers"),
            (json!({"headers": [["a", "b"]]}), "headers"),
            (json!({"cookies": {"a": null}}), "cookies.a"),
            (json!({"cookies": {"a": {"b": "c"}}}), "cookies.a"),
        ] {
            let e = OwnedRequest::from_json(&value).unwrap_err();
            assert_eq!(
                (e.code, e.path.as_str()),
                (Code::UnexpectedType, path),
                "{value}"
            );
        }
        let e = OwnedRequest::from_json(&json!({"cookie": {}})).unwrap_err();
        assert_eq!(
            (e.code, e.path.as_str()),
            (Code::UnexpectedElement, "cookie")
        );
    }

    #[test]
    fn host_falls_back_to_the_host_header_without_stripping_the_port() {
        let headers = [("HOST", "localhost:8080")];
        let req = Request {
            headers: (&headers).into(),
            ..Request::default()
        };
        assert_eq!(req.effective_host(), Some("localhost:8080"));
        assert_eq!(Request::default().effective_host(), None);
    }
}
