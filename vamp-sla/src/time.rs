//! Timestamps as they appear in log lines, turned into unix milliseconds.
//!
//! Hand-written and small on purpose (no date crate): RFC 3339, HAProxy's
//! accept date (`%t`, `10/Oct/2000:13:55:36.123`, optionally followed by a
//! `+0000` offset as in `%T`), and unix seconds as a number or numeric text.

/// The latest instant accepted: 9999-12-31T23:59:59.999Z.
const MAX_MS: u64 = 253_402_300_799_999;

/// Unix seconds (possibly fractional) to milliseconds; `None` when negative,
/// not finite or after the year 9999.
///
/// ```
/// assert_eq!(vamp_sla::time::seconds_to_ms(1_700_000_000.25), Some(1_700_000_000_250));
/// assert_eq!(vamp_sla::time::seconds_to_ms(-1.0), None);
/// ```
pub fn seconds_to_ms(seconds: f64) -> Option<u64> {
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    let ms = (seconds * 1000.0).round();
    if ms > MAX_MS as f64 {
        return None;
    }
    Some(ms as u64)
}

/// Parses a timestamp written as text: RFC 3339 (`2024-05-01T12:00:00.5Z`,
/// `2024-05-01 12:00:00+02:00`), HAProxy's accept date
/// (`01/May/2024:12:00:00.500`, read as UTC unless an offset follows) or unix
/// seconds (`1714564800.5`). Returns unix milliseconds.
///
/// ```
/// use vamp_sla::time::parse_timestamp;
/// assert_eq!(parse_timestamp("1970-01-01T00:00:01.5Z"), Some(1500));
/// assert_eq!(parse_timestamp("1970-01-01T01:00:00+01:00"), Some(0));
/// assert_eq!(parse_timestamp("01/Jan/1970:00:00:02.250"), Some(2250));
/// assert_eq!(parse_timestamp("3.5"), Some(3500));
/// assert_eq!(parse_timestamp("yesterday"), None);
/// ```
pub fn parse_timestamp(text: &str) -> Option<u64> {
    let t = text.trim().as_bytes();
    let first = *t.first()?;
    if t.len() >= 11 && t[2] == b'/' {
        return haproxy_date(t);
    }
    if t.len() >= 19 && t[4] == b'-' {
        return rfc3339(t);
    }
    if first.is_ascii_digit() || first == b'.' {
        let s = std::str::from_utf8(t).ok()?;
        return seconds_to_ms(s.parse::<f64>().ok()?);
    }
    None
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Reads `.ddd…` at `at`; returns (milliseconds, bytes consumed).
fn fraction(b: &[u8], at: usize) -> (u64, usize) {
    if b.get(at) != Some(&b'.') {
        return (0, 0);
    }
    let mut ms = 0u64;
    let mut scale = 100u64;
    let mut i = at + 1;
    while let Some(&c) = b.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        ms += u64::from(c - b'0') * scale;
        scale /= 10;
        i += 1;
    }
    if i == at + 1 {
        return (0, 0); // a lone dot is not a fraction
    }
    (ms, i - at)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[allow(clippy::too_many_arguments)]
fn to_ms(
    y: u32,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
    ms: u64,
    offset_min: i64,
) -> Option<u64> {
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60
    {
        return None;
    }
    let days = days_from_civil(i64::from(y), mo, d);
    let secs =
        days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s) - offset_min * 60;
    let total = secs.checked_mul(1000)?.checked_add(ms as i64)?;
    u64::try_from(total).ok().filter(|v| *v <= MAX_MS)
}

/// `+hh:mm`, `+hhmm`, `Z` at `at`, which must end the text; minutes east of UTC.
fn offset(b: &[u8], at: usize, colon: bool) -> Option<i64> {
    let rest = &b[at..];
    match rest.first() {
        None => None,
        Some(b'Z' | b'z') if rest.len() == 1 => Some(0),
        Some(&sign @ (b'+' | b'-')) => {
            let h = digits(rest, 1, 2)?;
            let (m, len) = if colon && rest.get(3) == Some(&b':') {
                (digits(rest, 4, 2)?, 6)
            } else {
                (digits(rest, 3, 2)?, 5)
            };
            if rest.len() != len || h > 23 || m > 59 {
                return None;
            }
            let v = i64::from(h * 60 + m);
            Some(if sign == b'-' { -v } else { v })
        }
        _ => None,
    }
}

fn rfc3339(b: &[u8]) -> Option<u64> {
    let y = digits(b, 0, 4)?;
    let mo = digits(b, 5, 2)?;
    let d = digits(b, 8, 2)?;
    if b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let h = digits(b, 11, 2)?;
    let mi = digits(b, 14, 2)?;
    let s = digits(b, 17, 2)?;
    let (ms, used) = fraction(b, 19);
    let off = offset(b, 19 + used, true)?;
    to_ms(y, mo, d, h, mi, s, ms, off)
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn haproxy_date(b: &[u8]) -> Option<u64> {
    // dd/Mon/yyyy:HH:MM:SS[.mmm][ +zzzz]
    let d = digits(b, 0, 2)?;
    let mon = b.get(3..6)?;
    let mo = MONTHS.iter().position(|m| m.as_slice() == mon)? as u32 + 1;
    if b.get(6) != Some(&b'/')
        || b.get(11) != Some(&b':')
        || b.get(14) != Some(&b':')
        || b.get(17) != Some(&b':')
    {
        return None;
    }
    let y = digits(b, 7, 4)?;
    let h = digits(b, 12, 2)?;
    let mi = digits(b, 15, 2)?;
    let s = digits(b, 18, 2)?;
    let (ms, used) = fraction(b, 20);
    let end = 20 + used;
    let off = match b.get(end) {
        None => 0,
        Some(b' ') => offset(b, end + 1, false)?,
        _ => return None,
    };
    to_ms(y, mo, d, h, mi, s, ms, off)
}

/// Formats unix milliseconds as RFC 3339 in UTC, with milliseconds only
/// when they are not zero.
///
/// ```
/// use vamp_sla::time::format_rfc3339;
/// assert_eq!(format_rfc3339(1_714_564_800_000), "2024-05-01T12:00:00Z");
/// assert_eq!(format_rfc3339(1_500), "1970-01-01T00:00:01.500Z");
/// ```
pub fn format_rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // civil_from_days (H. Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, mi, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let frac = ms % 1000;
    if frac == 0 {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:03}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn format_parses_back(ms in 0u64..=MAX_MS) {
            prop_assert_eq!(parse_timestamp(&format_rfc3339(ms)), Some(ms));
        }
    }

    #[test]
    fn rfc3339_forms() {
        assert_eq!(
            parse_timestamp("2024-05-01T12:00:00Z"),
            Some(1_714_564_800_000)
        );
        assert_eq!(
            parse_timestamp("2024-05-01t12:00:00.123456z"),
            Some(1_714_564_800_123)
        );
        assert_eq!(
            parse_timestamp("2024-05-01 14:00:00+02:00"),
            Some(1_714_564_800_000)
        );
        assert_eq!(
            parse_timestamp("2024-05-01T11:30:00-00:30"),
            Some(1_714_564_800_000)
        );
        assert_eq!(
            parse_timestamp("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000)
        );
        assert_eq!(parse_timestamp("2023-02-29T00:00:00Z"), None);
        assert_eq!(
            parse_timestamp("2024-05-01T12:00:00"),
            None,
            "an offset is required"
        );
        assert_eq!(parse_timestamp("2024-05-01T12:00:00Zjunk"), None);
        assert_eq!(parse_timestamp("2024-13-01T12:00:00Z"), None);
        assert_eq!(parse_timestamp("1969-12-31T23:59:59Z"), None);
    }

    #[test]
    fn haproxy_forms() {
        assert_eq!(
            parse_timestamp("01/May/2024:12:00:00.123"),
            Some(1_714_564_800_123)
        );
        assert_eq!(
            parse_timestamp("01/May/2024:14:00:00 +0200"),
            Some(1_714_564_800_000)
        );
        assert_eq!(parse_timestamp("01/Foo/2024:12:00:00"), None);
        assert_eq!(parse_timestamp("01/May/2024:12:00:00 junk"), None);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_timestamp("1714564800"), Some(1_714_564_800_000));
        assert_eq!(parse_timestamp(" 1.25 "), Some(1250));
        assert_eq!(parse_timestamp(""), None);
        assert_eq!(seconds_to_ms(f64::NAN), None);
        assert_eq!(seconds_to_ms(1e300), None);
    }
}
