//! Unit values: memory, cpu quantities, percentages and durations.
//!
//! Each parser takes the scalar text as written and returns the canonical
//! number, or a [`UnitError`] that the reader turns into `unexpected_type`.

use std::fmt;

/// Why a unit value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a valid {unit}: {expected}")]
pub struct UnitError {
    /// The text as written.
    pub text: String,
    /// The kind of unit that was expected.
    pub unit: Unit,
    /// What a valid value looks like.
    pub expected: &'static str,
}

/// The kinds of unit value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Memory, in megabytes.
    Memory,
    /// CPU, in cores.
    Cpu,
    /// A percentage 0–100.
    Percentage,
    /// A duration in seconds.
    Duration,
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unit::Memory => "memory size",
            Unit::Cpu => "cpu quantity",
            Unit::Percentage => "percentage",
            Unit::Duration => "duration",
        })
    }
}

fn fail(text: &str, unit: Unit, expected: &'static str) -> UnitError {
    UnitError {
        text: text.to_owned(),
        unit,
        expected,
    }
}

/// Splits `text` (whitespace removed) into a non-negative decimal number and
/// the suffix that follows it. Accepts leading and trailing dots (`.5`, `64.`).
fn number_and_suffix(compact: &str) -> Option<(f64, &str)> {
    let end = compact
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(compact.len());
    let (num, suffix) = compact.split_at(end);
    // 400 characters hold the plain decimal form of any finite f64 (the
    // longest, 5e-324, takes 326), so every value written back reads again.
    if num.is_empty() || num == "." || num.matches('.').count() > 1 || num.len() > 400 {
        return None;
    }
    let value: f64 = if let Some(stripped) = num.strip_suffix('.') {
        stripped.parse().ok()?
    } else if num.starts_with('.') {
        format!("0{num}").parse().ok()?
    } else {
        num.parse().ok()?
    };
    value.is_finite().then_some((value, suffix))
}

fn compact(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Parses a memory size into megabytes.
///
/// Decimal suffixes `k`, `m`, `g` (with optional `b`, any case) and the binary
/// suffixes `Ki`, `Mi`, `Gi` as Kubernetes defines them. A bare number is
/// rejected because its unit would be a guess.
///
/// ```
/// use vamp_model::units::parse_memory;
/// assert_eq!(parse_memory("1GB").unwrap(), 1000.0);
/// assert_eq!(parse_memory(" 128 mi ").unwrap(), 134.217728);
/// assert_eq!(parse_memory("128Ki").unwrap(), 0.131072);
/// assert!(parse_memory("1").is_err());
/// assert!(parse_memory("1Tb").is_err());
/// ```
pub fn parse_memory(text: &str) -> Result<f64, UnitError> {
    const EXPECTED: &str = "write a number with a unit such as `128MB`, `1.5G` or `512Mi`";
    let c = compact(text);
    let (value, suffix) =
        number_and_suffix(&c).ok_or_else(|| fail(text, Unit::Memory, EXPECTED))?;
    let lower = suffix.to_ascii_lowercase();
    let factor = match lower.as_str() {
        "k" | "kb" => 0.001,
        "m" | "mb" => 1.0,
        "g" | "gb" => 1000.0,
        "ki" | "kib" => 1024.0 / 1_000_000.0,
        "mi" | "mib" => 1_048_576.0 / 1_000_000.0,
        "gi" | "gib" => 1_073_741_824.0 / 1_000_000.0,
        _ => return Err(fail(text, Unit::Memory, EXPECTED)),
    };
    finite(value * factor, text, Unit::Memory, EXPECTED)
}

fn finite(v: f64, text: &str, unit: Unit, expected: &'static str) -> Result<f64, UnitError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(fail(text, unit, expected))
    }
}

/// Parses a cpu quantity into cores: a number, or millicores with `m`.
///
/// ```
/// use vamp_model::units::parse_cpu;
/// assert_eq!(parse_cpu("128").unwrap(), 128.0);
/// assert_eq!(parse_cpu(" 1m ").unwrap(), 0.001);
/// assert_eq!(parse_cpu(".1").unwrap(), 0.1);
/// assert!(parse_cpu("-0.1").is_err());
/// ```
pub fn parse_cpu(text: &str) -> Result<f64, UnitError> {
    const EXPECTED: &str = "write a non-negative number of cores (`0.5`) or millicores (`500m`)";
    let c = compact(text);
    let (value, suffix) = number_and_suffix(&c).ok_or_else(|| fail(text, Unit::Cpu, EXPECTED))?;
    match suffix {
        "" => finite(value, text, Unit::Cpu, EXPECTED),
        "m" => finite(value / 1000.0, text, Unit::Cpu, EXPECTED),
        _ => Err(fail(text, Unit::Cpu, EXPECTED)),
    }
}

/// Parses a percentage written with `%` (`50%`, ` 50 %`) into 0..=100.
///
/// ```
/// use vamp_model::units::parse_percentage;
/// assert_eq!(parse_percentage(" 50 %").unwrap(), 50);
/// assert!(parse_percentage("50").is_err());
/// assert!(parse_percentage("101%").is_err());
/// ```
pub fn parse_percentage(text: &str) -> Result<u8, UnitError> {
    const EXPECTED: &str = "write a whole number from 0 to 100 followed by `%`, such as `50%`";
    let c = compact(text);
    let digits = c
        .strip_suffix('%')
        .ok_or_else(|| fail(text, Unit::Percentage, EXPECTED))?;
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(fail(text, Unit::Percentage, EXPECTED));
    }
    match digits.parse::<u8>() {
        Ok(v) if v <= 100 => Ok(v),
        _ => Err(fail(text, Unit::Percentage, EXPECTED)),
    }
}

/// Parses a duration into whole seconds. A bare integer means seconds.
///
/// ```
/// use vamp_model::units::parse_duration;
/// assert_eq!(parse_duration("20s").unwrap(), 20);
/// assert_eq!(parse_duration("5minutes").unwrap(), 300);
/// assert_eq!(parse_duration("2hrs").unwrap(), 7200);
/// assert_eq!(parse_duration("90").unwrap(), 90);
/// assert!(parse_duration("1d").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<u64, UnitError> {
    const EXPECTED: &str =
        "write whole seconds (`30`) or a number with `s`, `min`/`m` or `h`/`hr`, such as `30s`";
    let c = compact(text);
    let end = c.find(|ch: char| !ch.is_ascii_digit()).unwrap_or(c.len());
    let (num, suffix) = c.split_at(end);
    if num.is_empty() || num.len() > 15 {
        return Err(fail(text, Unit::Duration, EXPECTED));
    }
    let value: u64 = num
        .parse()
        .map_err(|_| fail(text, Unit::Duration, EXPECTED))?;
    let factor = match suffix.to_ascii_lowercase().as_str() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
        _ => return Err(fail(text, Unit::Duration, EXPECTED)),
    };
    value
        .checked_mul(factor)
        .ok_or_else(|| fail(text, Unit::Duration, EXPECTED))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn memory_forms() {
        for (text, mb) in [
            ("128mb", 128.0),
            (" 128mb ", 128.0),
            ("64.MB", 64.0),
            (".1gb", 100.0),
            ("1.5G", 1500.0),
            ("1Gi", 1073.741824),
            ("128 M", 128.0),
            ("1k", 0.001),
        ] {
            assert!((parse_memory(text).unwrap() - mb).abs() < 1e-9, "{text}");
        }
        for bad in ["1", "-1", "1Tb", ".", "", "mb", "1.2.3m", "1e400m"] {
            assert!(parse_memory(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cpu_forms() {
        assert!(parse_cpu("1e400").is_err());
        assert!(parse_cpu("-.1 ").is_err());
        assert_eq!(parse_cpu("2").unwrap(), 2.0);
    }

    #[test]
    fn percentage_and_duration_bounds() {
        assert_eq!(parse_percentage("0 %").unwrap(), 0);
        assert_eq!(parse_percentage("100%").unwrap(), 100);
        assert!(parse_percentage("1.5").is_err());
        assert!(parse_percentage("-50%").is_err());
        assert_eq!(parse_duration("1hour").unwrap(), 3600);
        assert!(parse_duration("99999999999999999999").is_err());
        assert!(parse_duration("-5s").is_err());
    }

    proptest! {
        #[test]
        fn percentage_round_trips(v in 0u8..=100) {
            prop_assert_eq!(parse_percentage(&format!("{v}%")).unwrap(), v);
        }

        #[test]
        fn memory_never_panics(s in ".{0,24}") {
            let _ = parse_memory(&s);
            let _ = parse_cpu(&s);
            let _ = parse_duration(&s);
            let _ = parse_percentage(&s);
        }

        #[test]
        fn megabytes_scale(v in 0u32..1_000_000) {
            let mb = parse_memory(&format!("{v}MB")).unwrap();
            prop_assert!((mb - f64::from(v)).abs() < 1e-9);
            let gb = parse_memory(&format!("{v}GB")).unwrap();
            prop_assert!((gb - f64::from(v) * 1000.0).abs() < 1e-6);
        }
    }
}
