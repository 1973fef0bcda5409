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

/// The character at byte index `i`, if any.
fn char_at(s: &str, i: usize) -> Option<char> {
    s.get(i..)?.chars().next()
}

/// The byte index after the name starting at `i`.
fn name_end(s: &str, i: usize) -> usize {
    s.get(i..).map_or(i, |rest| {
        rest.char_indices()
            .find(|(_, c)| !is_name_char(*c))
            .map_or(s.len(), |(j, _)| i + j)
    })
}

/// Parses a reference body (without `$`/braces) starting at byte `i`;
/// returns the part and the byte index after it. Tries global, then
/// three-part, then `.host`, then local.
fn reference(s: &str, i: usize, braced: bool) -> Option<(Part, usize)> {
    let j = name_end(s, i);
    if j == i {
        return None;
    }
    let first = &s[i..j];
    let b = s.as_bytes();
    // global: scheme://path
    if s.get(j..j + 3) == Some("://") {
        let start = j + 3;
        let mut k = start;
        while let Some(c) = char_at(s, k) {
            if c.is_whitespace() || (braced && c == '}') || (!braced && c == '$') {
                break;
            }
            k += c.len_utf8();
        }
        if k > start {
            return Some((
                Part::Global {
                    scheme: first.to_owned(),
                    path: s[start..k].to_owned(),
                },
                k,
            ));
        }
        return None;
    }
    if b.get(j) == Some(&b'.') {
        let k = name_end(s, j + 1);
        if k > j + 1 {
            let second = &s[j + 1..k];
            if b.get(k) == Some(&b'.') {
                let l = name_end(s, k + 1);
                if l > k + 1 {
                    return Some((
                        Part::Trait {
                            cluster: first.to_owned(),
                            group: second.to_owned(),
                            name: s[k + 1..l].to_owned(),
                        },
                        l,
                    ));
                }
            }
            if second == "host" {
                return Some((Part::Host(first.to_owned()), k));
            }
        }
    }
    Some((Part::Local(first.to_owned()), j))
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
    let b = value.as_bytes();
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    while i < b.len() {
        let Some(dollar) = b[i..].iter().position(|&c| c == b'$').map(|p| i + p) else {
            text.push_str(&value[i..]);
            break;
        };
        text.push_str(&value[i..dollar]);
        i = dollar;
        if b.get(i + 1) == Some(&b'$') {
            text.push('$');
            i += 2;
            continue;
        }
        let err = |message: &str| InterpolationError {
            offset: value[..i].chars().count(),
            message: message.to_owned(),
        };
        let (part, next) = if b.get(i + 1) == Some(&b'{') {
            let mut j = i + 2;
            while b.get(j) == Some(&b' ') {
                j += 1;
            }
            let (part, mut k) = reference(value, j, true).ok_or_else(|| {
                err("`${` must be followed by a name such as `${db.host}`, then `}`")
            })?;
            while b.get(k) == Some(&b' ') {
                k += 1;
            }
            if b.get(k) != Some(&b'}') {
                return Err(err(
                    "`${...}` holds a name (`db.host`, `db.ports.port`, `NAME`) or `scheme://path` and ends with `}`",
                ));
            }
            (part, k + 1)
        } else {
            reference(value, i + 1, false).ok_or_else(|| {
                err("`$` must start a reference such as `$NAME` or `$db.host`; write `$$` for a literal `$`")
            })?
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
