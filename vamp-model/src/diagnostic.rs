//! Diagnostics: one error/warning type shared by every layer.
//!
//! A [`Diagnostic`] carries a stable [`Code`], a message that says what to do,
//! the source position of the offending node and the key path that leads to
//! it. Rendering (with the source line and a caret) happens late, in the CLI.

use std::fmt;

use serde::Serialize;

use crate::span::Span;

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident => $text:literal,)*) => {
        /// A stable, machine-readable error identity.
        ///
        /// Codes are the snake_case names of the original Vamp error classes
        /// (see `canonical-json.md`); a code is never renamed or reused.
        ///
        /// ```
        /// use vamp_model::Code;
        /// assert_eq!(Code::UnexpectedType.as_str(), "unexpected_type");
        /// assert_eq!(Code::from_name("parser"), Some(Code::Parser));
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Code {
            $($(#[$doc])* #[doc = concat!("`", $text, "`")] $variant,)*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable snake_case name of the code.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text,)* }
            }

            /// Looks a code up by its snake_case name.
            pub fn from_name(name: &str) -> Option<Code> {
                match name { $($text => Some(Code::$variant),)* _ => None }
            }
        }
    };
}

codes! {
    UnresolvedGatewayPort => "unresolved_gateway_port",
    UnresolvedEnvironmentVariable => "unresolved_environment_variable",
    NonUniqueBlueprintBreedReference => "non_unique_blueprint_breed_reference",
    UnresolvedBreedDependency => "unresolved_breed_dependency",
    RouteWeight => "route_weight",
    GatewayRouteWeight => "gateway_route_weight",
    RouteConditionStrength => "route_condition_strength",
    GatewayRouteConditionStrength => "gateway_route_condition_strength",
    MissingEnvironmentVariable => "missing_environment_variable",
    IllegalGatewayStickyValue => "illegal_gateway_sticky_value",
    StickyPortType => "sticky_port_type",
    ConditionPortType => "condition_port_type",
    DuplicateGatewayPort => "duplicate_gateway_port",
    IllegalAnonymousRoutingPortMapping => "illegal_anonymous_routing_port_mapping",
    UnsupportedGatewayName => "unsupported_gateway_name",
    UnsupportedRoutePath => "unsupported_route_path",
    InvalidGatewayPort => "invalid_gateway_port",
    UnsupportedPathRewrite => "unsupported_path_rewrite",
    UnresolvedPortReference => "unresolved_port_reference",
    NegativeFailuresNumber => "negative_failures_number",
    UnsupportedProtocol => "unsupported_protocol",
    InvalidSelector => "invalid_selector",
    NoService => "no_service",
    MalformedTrait => "malformed_trait",
    MissingPortValue => "missing_port_value",
    MissingConstantValue => "missing_constant_value",
    RecursiveDependencies => "recursive_dependencies",
    UnresolvedDependencyInTraitValue => "unresolved_dependency_in_trait_value",
    InvalidArgumentValue => "invalid_argument_value",
    UnresolvedDependency => "unresolved_dependency",
    YamlParsing => "yaml_parsing",
    MissingPathValue => "missing_path_value",
    UnexpectedType => "unexpected_type",
    UnexpectedInnerElement => "unexpected_inner_element",
    EitherReferenceOrAnonymous => "either_reference_or_anonymous",
    NotAnonymous => "not_anonymous",
    UnexpectedElement => "unexpected_element",
    IllegalName => "illegal_name",
    IllegalStrictName => "illegal_strict_name",
    InconsistentArtifactName => "inconsistent_artifact_name",
    InconsistentArtifactKind => "inconsistent_artifact_kind",
    Parser => "parser",
    UnresolvedScaleEscalationTargetCluster => "unresolved_scale_escalation_target_cluster",
    RouteSelectorOnlyRoute => "route_selector_only_route",
    UnresolvedServiceRoute => "unresolved_service_route",
    IllegalGatewayVirtualHosts => "illegal_gateway_virtual_hosts",
    RouteSelectorExternalTarget => "route_selector_external_target",
    UnsupportedMetadata => "unsupported_metadata",
    InvalidArgument => "invalid_argument",
    UnsupportedAcl => "unsupported_acl",
    ResourceLimit => "resource_limit",
    NonUniqueBreedReference => "non_unique_breed_reference",
    UnresolvedVariableValue => "unresolved_variable_value",
    InvalidRouteWeight => "invalid_route_weight",
    UnsupportedRouteWeight => "unsupported_route_weight",
    UnavailableGatewayPort => "unavailable_gateway_port",
    NoAvailablePort => "no_available_port",
    /// A key was written twice in one mapping (a warning: the last value wins).
    DuplicateKey => "duplicate_key",
    /// A stored artifact or file could not be read (I/O).
    Io => "io",
    /// A Docker Compose key that has no Vamp equivalent: a warning when it
    /// is left out of the imported blueprint, an error when leaving it out
    /// would make the blueprint wrong (`extends`, version 1 files).
    UnsupportedComposeField => "unsupported_compose_field",
    /// Docker Compose variable substitution (`${VAR:-default}`, a stray
    /// `$`, a variable without a value where Vamp cannot defer it) that
    /// cannot be carried over as written.
    ComposeInterpolation => "compose_interpolation",
    /// A rollout's `steps` that do not increase, start at 0% or end below
    /// 100%.
    InvalidRolloutStep => "invalid_rollout_step",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The document is rejected.
    Error,
    /// The document is accepted, but something looks wrong.
    Warning,
}

/// An error or warning about a document, with its stable code and position.
///
/// ```
/// use vamp_model::{Code, Diagnostic, Span};
/// let d = Diagnostic::error(Code::IllegalName, "the name `a b` contains whitespace")
///     .at(Span::new(10, 2, 3))
///     .with_path("clusters.a b")
///     .with_help("use letters, digits, `-`, `_`, `:` or `.`");
/// assert_eq!(d.code, Code::IllegalName);
/// assert_eq!(d.span.map(|s| s.line), Some(2));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Diagnostic {
    /// The stable identity of the problem.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong and what to do about it.
    pub message: String,
    /// Where in the source (None when no source position exists).
    pub span: Option<Span>,
    /// Dotted key path of the offending node (`clusters.sava.services[0]`).
    pub path: String,
    /// An optional hint (e.g. the nearest valid key for a typo).
    pub help: Option<String>,
}

impl Diagnostic {
    /// A new error with a code and message, without position.
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            span: None,
            path: String::new(),
            help: None,
        }
    }

    /// A new warning with a code and message, without position.
    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Sets the source position.
    #[must_use]
    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    /// Sets the source position when one is known.
    #[must_use]
    pub fn at_opt(mut self, span: Option<Span>) -> Self {
        if span.is_some() {
            self.span = span;
        }
        self
    }

    /// Sets the key path.
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets the hint.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// True for errors, false for warnings.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The error JSON of the command-line contract:
    /// `{"code", "message", "line", "column"}`.
    ///
    /// ```
    /// use vamp_model::{Code, Diagnostic, Span};
    /// let json = Diagnostic::error(Code::Parser, "bad").at(Span::new(0, 1, 5)).to_json();
    /// assert_eq!(json["line"], 1);
    /// assert_eq!(json["column"], 5);
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.code,
            "message": self.message,
            "line": self.span.map(|s| s.line),
            "column": self.span.map(|s| s.column),
        })
    }
}
