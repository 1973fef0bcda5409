//! Trait-value interpolation syntax: `$name`, `$cluster.host`,
//! `$cluster.GROUP.NAME`, `${...}`, `$$` and global references
//! `${scheme://path}`.

/// One piece of a parsed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Literal text.
    Text(String),
    /// `$NAME`: a variable or constant of the same service.
    Local(String),
    /// `$C.host`: the host of cluster or dependency `C`.
    Host(String),
    /// `$C.GROUP.NAME`: a trait of cluster or dependency `C`.
    Trait {
        /// Cluster or dependency alias.
        cluster: String,
        /// `ports`, `environment_variables`, `constants` (or anything else, which checks reject).
        group: String,
        /// Trait name.
        name: String,
    },
    /// `${scheme://path}`: a value supplied by a runtime.
    Global {
        /// `env`, `conf`, ...
        scheme: String,
        /// The rest.
        path: String,
    },
}

impl Part {
    /// The dependency or cluster a part refers to, if any.
    pub fn cluster(&self) -> Option<&str> {
        match self {
            Part::Host(c) | Part::Trait { cluster: c, .. } => Some(c),
            _ => None,
        }
    }
}

/// A syntax error in a value: the character offset and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {offset})")]
pub struct InterpolationError {
    /// Character offset in the value.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

fn is_name_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '/' | '[' | ']' | '.' | '{' | '}' | ':' | ';' | ',' | '$')
}

fn take_name(chars: &[char], mut i: usize) -> (String, usize) {
    let start = i;
    while i < chars.len() && is_name_char(chars[i]) {
        i += 1;
    }
    (chars[start..i].iter().collect(), i)
}

/// Parses a reference body (without `$`/braces) starting at `i`; returns the
/// part and the index after it. Tries global, then three-part, then `.host`,
/// then local.
fn reference(chars: &[char], i: usize, braced: bool) -> Option<(Part, usize)> {
    let (first, j) = take_name(chars, i);
    if first.is_empty() {
        return None;
    }
    // global: scheme://path
    if chars.get(j..j + 3) == Some(&[':', '/', '/']) {
        let mut k = j + 3;
        let start = k;
        while k < chars.len() && !chars[k].is_whitespace() && !(braced && chars[k] == '}') {
            if !braced && chars[k] == '$' {
                break;
            }
            k += 1;
        }
        if k > start {
            return Some((
                Part::Global {
                    scheme: first,
                    path: chars[start..k].iter().collect(),
                },
                k,
            ));
        }
        return None;
    }
    if chars.get(j) == Some(&'.') {
        let (second, k) = take_name(chars, j + 1);
        if !second.is_empty() {
            if chars.get(k) == Some(&'.') {
                let (third, l) = take_name(chars, k + 1);
                if !third.is_empty() {
                    return Some((
                        Part::Trait {
                            cluster: first,
                            group: second,
                            name: third,
                        },
                        l,
                    ));
                }
            }
            if second == "host" {
                return Some((Part::Host(first), k));
            }
        }
    }
    Some((Part::Local(first), j))
}

/// Parses a trait value into text and references.
///
/// ```
/// use vamp_model::interpolation::{parse, Part};
/// let parts = parse("http://${db.host}:$db.ports.port/x").unwrap();
/// assert_eq!(parts[1], Part::Host("db".into()));
/// assert_eq!(parts[3], Part::Trait { cluster: "db".into(), group: "ports".into(), name: "port".into() });
/// assert_eq!(parse("5$$").unwrap(), vec![Part::Text("5$".into())]);
/// assert!(parse("5$ each").is_err());
/// ```
///
/// # Errors
/// A `$` that starts no reference, or `${` without a valid body and `}`.
pub fn parse(value: &str) -> Result<Vec<Part>, InterpolationError> {
    let chars: Vec<char> = value.chars().collect();
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '$' {
            text.push(c);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'$') {
            text.push('$');
            i += 2;
            continue;
        }
        let err = |message: &str| InterpolationError {
            offset: i,
            message: message.to_owned(),
        };
        let (part, next) = if chars.get(i + 1) == Some(&'{') {
            let mut j = i + 2;
            while chars.get(j).is_some_and(|c| *c == ' ') {
                j += 1;
            }
            let (part, mut k) = reference(&chars, j, true).ok_or_else(|| {
                err("`${` must be followed by a name such as `${db.host}`, then `}`")
            })?;
            while chars.get(k).is_some_and(|c| *c == ' ') {
                k += 1;
            }
            if chars.get(k) != Some(&'}') {
                return Err(err(
                    "`${...}` holds a name (`db.host`, `db.ports.port`, `NAME`) or `scheme://path` and ends with `}`",
                ));
            }
            (part, k + 1)
        } else {
            reference(&chars, i + 1, false)
                .ok_or_else(|| err("`$` must start a reference such as `$NAME` or `$db.host`; write `$$` for a literal `$`"))?
        };
        if !text.is_empty() {
            parts.push(Part::Text(std::mem::take(&mut text)));
        }
        parts.push(part);
        i = next;
    }
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(
            parse("$db.port").unwrap(),
            vec![Part::Local("db".into()), Part::Text(".port".into())]
        );
        assert_eq!(parse("$a.b.c.d").unwrap()[1], Part::Text(".d".into()));
        assert_eq!(
            parse("${env://HOME}/x").unwrap()[0],
            Part::Global {
                scheme: "env".into(),
                path: "HOME".into()
            }
        );
        assert_eq!(
            parse("${ db.host }:7000").unwrap()[0],
            Part::Host("db".into())
        );
        assert!(parse("$").is_err());
        assert!(parse("${a.b}").is_err());
        assert!(parse("${}").is_err());
        assert!(parse("${a").is_err());
        assert_eq!(parse("{{x}}").unwrap(), vec![Part::Text("{{x}}".into())]);
    }
}
