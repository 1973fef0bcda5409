//! The registry of stable error codes: every code any layer reports (DSL,
//! resolver, deployment operations, drivers, planner, SLA engine, CLI), each
//! with its snake_case string and a one-line "what to do" help.
//!
//! A code is a stable identity: tests and tools match on it, never on message
//! text. A code is never renamed or reused; new codes are added at the end of
//! their group. `tests/codes.rs` pins the full list.

use std::fmt;

use serde::Serialize;

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident => $text:literal, $help:literal;)*) => {
        /// A stable, machine-readable error identity.
        ///
        /// The DSL codes are the snake_case names of the original Vamp error
        /// classes (see `canonical-json.md`); drivers, planner, SLA engine and
        /// CLI add their own (see `drivers-reference.md`). A code is never
        /// renamed or reused.
        ///
        /// ```
        /// use vamp_model::Code;
        /// assert_eq!(Code::UnexpectedType.as_str(), "unexpected_type");
        /// assert_eq!(Code::from_name("parser"), Some(Code::Parser));
        /// assert_eq!(Code::DriverPortTaken, "driver_port_taken");
        /// assert!(!Code::NoBlueprint.help().is_empty());
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Code {
            $($(#[$doc])* #[doc = concat!("`", $text, "`: ", $help)] $variant,)*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable snake_case name of the code.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text,)* }
            }

            /// One line that says what to do about a problem with this code.
            pub fn help(self) -> &'static str {
                match self { $(Code::$variant => $help,)* }
            }

            /// Looks a code up by its snake_case name.
            pub fn from_name(name: &str) -> Option<Code> {
                match name { $($text => Some(Code::$variant),)* _ => None }
            }
        }
    };
}

codes! {
    // Reading and checking the DSL (canonical-json.md, "Errors").
    UnresolvedGatewayPort => "unresolved_gateway_port",
        "point the gateway at a port the cluster's breeds declare";
    UnresolvedEnvironmentVariable => "unresolved_environment_variable",
        "name an environment variable the breed declares";
    NonUniqueBlueprintBreedReference => "non_unique_blueprint_breed_reference",
        "use each breed once per blueprint, or give the copies distinct names";
    UnresolvedBreedDependency => "unresolved_breed_dependency",
        "add the breed the dependency names to the blueprint, or fix the name";
    RouteWeight => "route_weight",
        "make the route weights of a service's routes add up to at most 100%";
    GatewayRouteWeight => "gateway_route_weight",
        "make the gateway's route weights add up to at most 100%";
    RouteConditionStrength => "route_condition_strength",
        "write the condition strength as a percentage from 0% to 100%";
    GatewayRouteConditionStrength => "gateway_route_condition_strength",
        "write the gateway route's condition strength as a percentage from 0% to 100%";
    MissingEnvironmentVariable => "missing_environment_variable",
        "give the environment variable a value in the breed or the blueprint";
    IllegalGatewayStickyValue => "illegal_gateway_sticky_value",
        "set `sticky` to `route` or `instance`, or leave it out";
    StickyPortType => "sticky_port_type",
        "use `sticky` only on an HTTP port";
    ConditionPortType => "condition_port_type",
        "use conditions only on an HTTP port";
    DuplicateGatewayPort => "duplicate_gateway_port",
        "give each gateway its own port";
    IllegalAnonymousRoutingPortMapping => "illegal_anonymous_routing_port_mapping",
        "name the port an anonymous route maps to";
    UnsupportedGatewayName => "unsupported_gateway_name",
        "give the gateway a name without `/` and other reserved characters";
    UnsupportedRoutePath => "unsupported_route_path",
        "write the route as `service`, `cluster/port` or `deployment/cluster/port`";
    InvalidGatewayPort => "invalid_gateway_port",
        "use a port number from 1 to 65535, optionally with `/http` or `/tcp`";
    UnsupportedPathRewrite => "unsupported_path_rewrite",
        "write the rewrite as `path: NEW if CONDITION`";
    UnresolvedPortReference => "unresolved_port_reference",
        "refer to a port the breed declares";
    NegativeFailuresNumber => "negative_failures_number",
        "use zero or a positive number of failures";
    UnsupportedProtocol => "unsupported_protocol",
        "use `http` or `tcp`";
    InvalidSelector => "invalid_selector",
        "fix the selector expression at the position shown";
    NoService => "no_service",
        "add at least one service to the cluster";
    MalformedTrait => "malformed_trait",
        "write the trait as `NAME: VALUE` with a valid name";
    MissingPortValue => "missing_port_value",
        "give the port a number in the breed or the blueprint";
    MissingConstantValue => "missing_constant_value",
        "give the constant a value";
    RecursiveDependencies => "recursive_dependencies",
        "break the cycle in the breeds' `dependencies`";
    UnresolvedDependencyInTraitValue => "unresolved_dependency_in_trait_value",
        "refer in `$dependency.port` style values only to declared dependencies";
    InvalidArgumentValue => "invalid_argument_value",
        "give the argument a value of the type it takes";
    UnresolvedDependency => "unresolved_dependency",
        "define the referenced artifact inline or store it, then refer to it by name";
    YamlParsing => "yaml_parsing",
        "fix the YAML syntax at the position shown";
    MissingPathValue => "missing_path_value",
        "add the required key named in the message";
    UnexpectedType => "unexpected_type",
        "write the value with the type the key takes (text, number, list or mapping)";
    UnexpectedInnerElement => "unexpected_inner_element",
        "remove or rename the nested key; the message names the valid ones";
    EitherReferenceOrAnonymous => "either_reference_or_anonymous",
        "either refer to an artifact by name or define it inline, not both";
    NotAnonymous => "not_anonymous",
        "give the artifact a `name`";
    UnexpectedElement => "unexpected_element",
        "remove the key, or rename it to one that is valid here";
    IllegalName => "illegal_name",
        "use letters, digits, `-`, `_`, `:` or `.` in names";
    IllegalStrictName => "illegal_strict_name",
        "use lower-case letters, digits and `-` in this name";
    InconsistentArtifactName => "inconsistent_artifact_name",
        "use the same name in the document and where it is stored or referred to";
    InconsistentArtifactKind => "inconsistent_artifact_kind",
        "use a known kind (breed, blueprint, gateway, condition, rewrite, scale, sla, escalation, workflow, rollout)";
    Parser => "parser",
        "fix the expression at the column shown";
    UnresolvedScaleEscalationTargetCluster => "unresolved_scale_escalation_target_cluster",
        "name a cluster of the blueprint as the escalation's target";
    RouteSelectorOnlyRoute => "route_selector_only_route",
        "make a route with a selector the gateway's only route";
    UnresolvedServiceRoute => "unresolved_service_route",
        "route to a service the cluster has";
    IllegalGatewayVirtualHosts => "illegal_gateway_virtual_hosts",
        "write virtual hosts as a list of host names";
    RouteSelectorExternalTarget => "route_selector_external_target",
        "remove the selector from the external `[host:port]` route";
    UnsupportedMetadata => "unsupported_metadata",
        "write metadata as a mapping of names to text, numbers or booleans";
    InvalidArgument => "invalid_argument",
        "write the argument as `name: value` or `name=value`";
    UnsupportedAcl => "unsupported_acl",
        "use one of the ACL forms the router evaluates (see the DSL reference)";
    ResourceLimit => "resource_limit",
        "split the document or make it smaller (size, depth, aliases)";
    // Deployment operations.
    NonUniqueBreedReference => "non_unique_breed_reference",
        "use a breed once per deployment, or give the copies distinct names";
    UnresolvedVariableValue => "unresolved_variable_value",
        "give the variable a value in the blueprint or the environment";
    InvalidRouteWeight => "invalid_route_weight",
        "make the route weights add up to 100%";
    UnsupportedRouteWeight => "unsupported_route_weight",
        "set weights only on routes that exist";
    UnavailableGatewayPort => "unavailable_gateway_port",
        "choose a gateway port no other deployment uses";
    NoAvailablePort => "no_available_port",
        "free a port in the gateway port range or widen the range";
    /// A key was written twice in one mapping (a warning: the last value wins).
    DuplicateKey => "duplicate_key",
        "write each key once; the last value wins";
    /// A stored artifact or file could not be read (I/O).
    Io => "io",
        "check the path and its permissions";
    /// A Docker Compose key that has no Vamp equivalent: a warning when it
    /// is left out of the imported blueprint, an error when leaving it out
    /// would make the blueprint wrong (`extends`, version 1 files).
    UnsupportedComposeField => "unsupported_compose_field",
        "remove the Compose key or rewrite it with what Vamp supports";
    /// Docker Compose variable substitution (`${VAR:-default}`, a stray
    /// `$`, a variable without a value where Vamp cannot defer it) that
    /// cannot be carried over as written.
    ComposeInterpolation => "compose_interpolation",
        "give the variable a value with `--var NAME=VALUE`, or write `$$` for a literal `$`";
    /// A rollout's `steps` that do not increase, start at 0% or end below
    /// 100%.
    InvalidRolloutStep => "invalid_rollout_step",
        "list the candidate's weights in increasing order, above 0% and ending at 100%";
    // Drivers (drivers-reference.md).
    /// The image does not exist on the host.
    DriverImageNotFound => "driver_image_not_found",
        "build or load the image on the host first; Vamp never pulls";
    /// A port the instance needs is bound by another process.
    DriverPortTaken => "driver_port_taken",
        "stop whatever listens on the port, or let the driver pick another";
    /// The orchestrator cannot be reached.
    DriverUnavailable => "driver_unavailable",
        "start the orchestrator or point the driver at it";
    /// The orchestrator refused the credentials.
    DriverUnauthorized => "driver_unauthorized",
        "check the token, kubeconfig context or socket permissions";
    /// A concurrent change won.
    DriverConflict => "driver_conflict",
        "re-run the command if the conflict persists";
    /// The orchestrator rejected an object as invalid.
    DriverInvalidObject => "driver_invalid_object",
        "fix the blueprint value the orchestrator names";
    /// The orchestrator failed on its side.
    DriverServerError => "driver_server_error",
        "retry later; check the orchestrator's logs if it persists";
    /// The orchestrator has no such object or path.
    DriverNotFound => "driver_not_found",
        "check the URL the driver talks to";
    /// An orchestrator deployment did not finish in time and was rolled back.
    DriverDeploymentStuck => "driver_deployment_stuck",
        "check the image, its command and its health checks, then apply again";
    /// The driver cannot do what the plan asks.
    DriverUnsupported => "driver_unsupported",
        "remove the feature from the blueprint or choose another driver with `--driver`";
    /// A failure injected by a test (memory driver).
    DriverInjected => "driver_injected",
        "remove the injected failure";
    /// Local IO of a driver failed (state file, socket).
    DriverIo => "driver_io",
        "check the path and its permissions";
    /// `--driver` names no driver.
    DriverUnknown => "driver_unknown",
        "use `--driver` memory, docker, kubernetes or marathon";
    // Planner and apply.
    /// Clusters depend on each other in a cycle.
    PlanDependencyCycle => "plan_dependency_cycle",
        "break the cycle in the breeds' `dependencies`";
    /// The driver lacks a feature a service needs.
    PlanUnsupported => "plan_unsupported",
        "remove the feature or choose another driver with `--driver`";
    /// A service cannot be deployed as written.
    PlanInvalidService => "plan_invalid_service",
        "change the service as the message says";
    /// A step kept failing with transient errors until the deadline.
    ApplyDeadline => "apply_deadline",
        "re-run `vamp apply` later; it resumes where it stopped";
    /// Reconciling did not converge.
    ApplyNotConverged => "apply_not_converged",
        "check `vamp status`: something keeps changing the deployment";
    // SLA engine.
    /// A known SLA type with parameters it cannot use.
    InvalidSla => "invalid_sla",
        "fix the SLA's parameters as the message says";
    /// Two clusters with one name.
    DuplicateCluster => "duplicate_cluster",
        "give each cluster its own name";
    /// A file or document set holds no blueprint where one is needed.
    NoBlueprint => "no_blueprint",
        "pass a file that holds a blueprint";
    // Command line.
    /// Arguments that cannot be used together.
    Usage => "usage",
        "see `vamp help` for how the command is used";
    /// A deployment name that cannot name a state file.
    InvalidName => "invalid_name",
        "use letters, digits, `-`, `_` and `.` in deployment names";
    /// No deployment of that name was applied here.
    UnknownDeployment => "unknown_deployment",
        "run `vamp apply FILE` first, or check VAMP_STATE_DIR";
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

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
