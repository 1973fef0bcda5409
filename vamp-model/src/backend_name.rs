//! The codec of HAProxy names: how a Vamp name (`shop/web`, `sava:1.0`)
//! is written where HAProxy allows only `[A-Za-z0-9._:-]`, and read back.
//!
//! The router's exporter encodes frontend, backend and server names with
//! it; the SLA layer decodes the backend names (`b`) of access-log lines.
//!
//! The rule, in both directions:
//!
//! - ASCII letters, digits, `.`, `:` and `-` stand for themselves;
//! - every other byte, `_` included, is `_` followed by two **lowercase**
//!   hex digits (`/` is `_2f`, `_` is `_5f`, `é` is `_c3_a9`).
//!
//! Decoding accepts exactly these escapes: `_2F` (upper case) and `_61`
//! (an escaped plain byte) are not escapes. So a name has exactly one
//! encoding, `decode(encode(x)) == x` for every name and
//! `encode(decode(y)) == y` for every decodable `y` in the HAProxy alphabet.
//! A byte the encoder never writes and that is not `_` (a plain `/` in a
//! hand-written name) reads as itself.
//!
//! ```
//! use vamp_model::backend_name::{decode, encode};
//! assert_eq!(encode("shop/checkout/sava:1.0"), "shop_2fcheckout_2fsava:1.0");
//! assert_eq!(encode("a_b"), "a_5fb");
//! assert_eq!(decode("shop_2fweb").as_deref(), Some("shop/web"));
//! assert_eq!(decode("shop_2Fweb"), None);
//! assert_eq!(decode("virtual_hosts"), None);
//! ```

use std::borrow::Cow;

/// Whether byte `b` stands for itself in an encoded name.
///
/// ```
/// use vamp_model::backend_name::is_plain;
/// assert!(is_plain(b'a') && is_plain(b':') && !is_plain(b'_') && !is_plain(b'/'));
/// ```
pub fn is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'-')
}

/// Appends the encoding of `name` to `out`.
///
/// ```
/// let mut s = String::from("o_");
/// vamp_model::backend_name::encode_into(&mut s, "a/b");
/// assert_eq!(s, "o_a_2fb");
/// ```
pub fn encode_into(out: &mut String, name: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in name.as_bytes() {
        if is_plain(b) {
            out.push(char::from(b));
        } else {
            out.push('_');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

/// The encoding of `name`.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    encode_into(&mut out, name);
    out
}

/// The value of a lowercase hex digit.
fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// Decodes an encoded name; borrowed when it holds no escape. `None` when
/// a `_` does not start an escape of the rule (two lowercase hex digits of
/// a byte that is not plain) or the bytes are not UTF-8.
pub fn decode(text: &str) -> Option<Cow<'_, str>> {
    if !text.contains('_') {
        return Some(Cow::Borrowed(text));
    }
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'_' {
            let byte = hex(*b.get(i + 1)?)? << 4 | hex(*b.get(i + 2)?)?;
            if is_plain(byte) {
                return None;
            }
            out.push(byte);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_are_lowercase_and_complete() {
        for n in ["shop/web", "a_b", "sava:1.0.0", "[127.0.0.1:80]", "é/ü", ""] {
            assert_eq!(decode(&encode(n)).as_deref(), Some(n));
        }
        assert_eq!(encode("A b"), "A_20b");
        assert_eq!(decode("a_zz"), None);
        assert_eq!(decode("a_5"), None);
        assert_eq!(decode("a_2F"), None);
        assert_eq!(decode("a_61"), None, "`a` is written plain");
        assert_eq!(decode("a_ff"), None, "not UTF-8");
        assert_eq!(decode("a/b").as_deref(), Some("a/b"));
        assert!(matches!(decode("plain"), Some(Cow::Borrowed("plain"))));
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(name in any::<String>()) {
            let encoded = encode(&name);
            prop_assert!(encoded.bytes().all(|b| is_plain(b) || b == b'_'));
            let decoded = decode(&encoded);
            prop_assert_eq!(decoded.as_deref(), Some(name.as_str()));
        }

        #[test]
        fn encode_inverts_decode_on_encoded_text(text in "[a-z0-9_:.-]{0,16}") {
            if let Some(name) = decode(&text) {
                prop_assert_eq!(encode(&name), text);
            }
        }
    }
}
