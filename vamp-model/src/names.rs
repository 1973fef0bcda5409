//! Artifact-name rules.

/// True when `name` is a legal artifact, cluster or reference name: not
/// empty, no whitespace, `/`, `[` or `]`.
///
/// ```
/// use vamp_model::names::is_valid_name;
/// assert!(is_valid_name("pricing:2.1"));
/// assert!(!is_valid_name("a b"));
/// assert!(!is_valid_name("a/b"));
/// ```
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '/' | '[' | ']'))
}

/// True when `name` is a legal port or constant name: a valid name that also
/// has no `.`.
///
/// ```
/// use vamp_model::names::is_valid_strict_name;
/// assert!(is_valid_strict_name("webport"));
/// assert!(!is_valid_strict_name("web.port"));
/// ```
pub fn is_valid_strict_name(name: &str) -> bool {
    is_valid_name(name) && !name.contains('.')
}

/// The longest name we accept, in bytes; longer names are `resource_limit`.
pub const MAX_NAME_LEN: usize = 1024;

/// Splits `name[ALIAS]` into the name and the alias. `name[]` returns an
/// empty alias, which callers reject.
///
/// ```
/// use vamp_model::names::split_alias;
/// assert_eq!(split_alias("debug[SAVA_DEBUG]"), ("debug", Some("SAVA_DEBUG")));
/// assert_eq!(split_alias("plain"), ("plain", None));
/// ```
pub fn split_alias(key: &str) -> (&str, Option<&str>) {
    if let Some(inner) = key.strip_suffix(']') {
        if let Some(open) = inner.find('[') {
            return (&inner[..open], Some(&inner[open + 1..]));
        }
    }
    (key, None)
}
