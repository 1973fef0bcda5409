//! Workflow schedules and statuses as written (spec workflows §1.1-1.2):
//! `daemon`, `{event: tags}` and `{time: {period, start?, repeat?}}`.

use std::time::Duration;

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

/// How a workflow is triggered.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Runs continuously.
    Daemon,
    /// One run per period, from `start`, `repeat` runs in all.
    Time {
        /// The step between runs.
        period: Period,
        /// The first run (now when absent).
        start: Option<OffsetDateTime>,
        /// How many runs (forever when absent).
        repeat: Option<u64>,
    },
    /// One run per event carrying every tag.
    Event(Vec<String>),
}

/// An ISO-8601 duration: calendar months plus a fixed part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Years (as 12 months) and months.
    pub months: i64,
    /// Weeks, days, hours, minutes and seconds.
    pub fixed: Duration,
}

impl Period {
    /// `t` plus this period (months as calendar steps, the day clamped).
    pub fn after(self, t: OffsetDateTime) -> OffsetDateTime {
        let total = i64::from(t.year()) * 12 + i64::from(u8::from(t.month())) - 1 + self.months;
        let year = i32::try_from(total.div_euclid(12)).unwrap_or(t.year());
        let month = u8::try_from(total.rem_euclid(12) + 1)
            .ok()
            .and_then(|m| time::Month::try_from(m).ok())
            .unwrap_or(t.month());
        let day = t.day().min(month.length(year));
        let date = Date::from_calendar_date(year, month, day).unwrap_or(t.date());
        t.replace_date(date) + self.fixed
    }
}

const UNDEFINED: &str =
    "Undefined workflow schedule - only daemon, event and time schedules are supported.";

/// Reads a schedule as written.
///
/// # Errors
/// The API's message for a schedule it does not take.
pub fn parse(v: &Value) -> Result<Schedule, String> {
    match v {
        Value::Null => Ok(Schedule::Daemon),
        Value::String(s) if s.trim() == "daemon" => Ok(Schedule::Daemon),
        Value::Object(m) if m.len() == 1 => {
            if let Some(e) = m.get("event") {
                let tags = match e {
                    Value::Object(x) => x.get("tags").cloned().unwrap_or(Value::Null),
                    other => other.clone(),
                };
                return Ok(Schedule::Event(tags_of(&tags)?));
            }
            let Some(t) = m.get("time") else {
                return Err(UNDEFINED.into());
            };
            let (period, start, repeat) = match t {
                Value::Object(x) => (
                    x.get("period").cloned().unwrap_or(Value::Null),
                    x.get("start").cloned().unwrap_or(Value::Null),
                    x.get("repeat").cloned().unwrap_or(Value::Null),
                ),
                other => (other.clone(), Value::Null, Value::Null),
            };
            let text = scalar(&period);
            Ok(Schedule::Time {
                period: parse_period(&text)?,
                start: parse_start(&start)?,
                repeat: match &repeat {
                    Value::Null => None,
                    r => Some(scalar(r).trim().parse::<u64>().map_err(|_| {
                        format!("Illegal workflow schedule repeat: {}.", scalar(r))
                    })?),
                },
            })
        }
        _ => Err(UNDEFINED.into()),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn tags_of(v: &Value) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(scalar).collect(),
        Value::Null => Vec::new(),
        _ => return Err(UNDEFINED.into()),
    };
    tags.sort();
    tags.dedup();
    Ok(tags)
}

/// Reads an ISO-8601 period (`P1DT2H`); an empty one is one second.
///
/// # Errors
/// `Illegal workflow schedule period: <text>.`
pub fn parse_period(text: &str) -> Result<Period, String> {
    let illegal = || format!("Illegal workflow schedule period: {text}.");
    let body = text.trim().strip_prefix('P').ok_or_else(illegal)?;
    let (date, time) = body.split_once('T').unwrap_or((body, ""));
    let mut months = 0i64;
    let mut secs = 0f64;
    for (part, units) in [(date, "YMWD"), (time, "HMS")] {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let n: f64 = number.parse().map_err(|_| illegal())?;
            number.clear();
            match (units, c) {
                ("YMWD", 'Y') => months += 12 * n as i64,
                ("YMWD", 'M') => months += n as i64,
                ("YMWD", 'W') => secs += n * 7.0 * 86_400.0,
                ("YMWD", 'D') => secs += n * 86_400.0,
                ("HMS", 'H') => secs += n * 3_600.0,
                ("HMS", 'M') => secs += n * 60.0,
                ("HMS", 'S') => secs += n,
                _ => return Err(illegal()),
            }
        }
        if !number.is_empty() {
            return Err(illegal());
        }
    }
    if months == 0 && secs <= 0.0 {
        secs = 1.0;
    }
    Ok(Period {
        months,
        fixed: Duration::from_secs_f64(secs),
    })
}

fn parse_start(v: &Value) -> Result<Option<OffsetDateTime>, String> {
    let text = match v {
        Value::Null => return Ok(None),
        other => scalar(other),
    };
    let t = text.trim();
    if t.is_empty() || t == "now" {
        return Ok(None);
    }
    OffsetDateTime::parse(t, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&t.replacen(' ', "T", 1), &Rfc3339))
        .map(Some)
        .map_err(|_| format!("Illegal workflow schedule start: {t}."))
}

/// The statuses a workflow can have.
pub const STATUSES: [&str; 6] = [
    "starting",
    "running",
    "stopping",
    "suspended",
    "suspending",
    "restarting",
];

/// Reads a status word: trimmed, lower-cased, maybe in double quotes.
///
/// # Errors
/// `Illegal workflow status: <word>.`
pub fn parse_status(word: &str) -> Result<&'static str, String> {
    let w = word.trim();
    let w = w
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(w)
        .trim()
        .to_ascii_lowercase();
    STATUSES
        .into_iter()
        .find(|s| *s == w)
        .ok_or_else(|| format!("Illegal workflow status: {}.", word.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schedules() {
        assert_eq!(parse(&json!("daemon")), Ok(Schedule::Daemon));
        assert_eq!(
            parse(&json!({"event": ["b", "a"]})),
            Ok(Schedule::Event(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            parse(&json!({"event": {"tags": "x:y"}})),
            Ok(Schedule::Event(vec!["x:y".into()]))
        );
        assert_eq!(parse(&json!("weekly")), Err(UNDEFINED.to_owned()));
        assert_eq!(
            parse(&json!({"time": "now"})),
            Err("Illegal workflow schedule period: now.".to_owned())
        );
        let Ok(Schedule::Time {
            period,
            start,
            repeat,
        }) = parse(
            &json!({"time": {"period": "P1Y2M3DT4H5M6S", "start": "2007-12-03T08:15:30Z", "repeat": 10}}),
        )
        else {
            panic!("a time schedule")
        };
        assert_eq!(period.months, 14);
        assert_eq!(
            period.fixed,
            Duration::from_secs(3 * 86_400 + 4 * 3_600 + 5 * 60 + 6)
        );
        assert_eq!(repeat, Some(10));
        assert_eq!(start.map(|s| s.year()), Some(2007));
    }

    #[test]
    fn periods_step_calendar_months() {
        assert_eq!(
            parse_period("P").map(|p| p.fixed),
            Ok(Duration::from_secs(1))
        );
        assert!(parse_period("1D").is_err() && parse_period("PT1X").is_err());
        let jan31 = OffsetDateTime::parse("2023-01-31T00:00:00Z", &Rfc3339)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let next = parse_period("P1M").map(|p| p.after(jan31)).ok();
        assert_eq!(next.map(|t| (t.month() as u8, t.day())), Some((2, 28)));
    }

    #[test]
    fn statuses() {
        assert_eq!(parse_status(" Running "), Ok("running"));
        assert_eq!(parse_status("\"suspended\""), Ok("suspended"));
        assert_eq!(
            parse_status("bogus"),
            Err("Illegal workflow status: bogus.".into())
        );
    }
}
