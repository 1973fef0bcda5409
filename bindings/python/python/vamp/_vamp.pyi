"""Type stubs for the native module ``vamp._vamp`` (re-exported by ``vamp``)."""

import os
from typing import Any, Literal, Mapping, Sequence, TypedDict

Json = Any
"""Plain JSON-like data: dict, list, str, int, float, bool or None."""

class Diagnostic(TypedDict):
    """One error or warning, as :func:`check` returns it."""

    code: str
    severity: Literal["error", "warning"]
    message: str
    line: int | None
    column: int | None
    path: str
    help: str | None

class Request(TypedDict, total=False):
    """An HTTP request to match a condition against; every key is optional."""

    method: str | None
    host: str | None
    path: str | None
    client_ip: str | None
    headers: Mapping[str, str] | None
    cookies: Mapping[str, str] | None

class VampError(Exception):
    """An error from Vamp: a stable ``code``, a ``message`` and the 1-based
    ``line`` and ``column`` of the offending node (None where no source
    position exists, e.g. for an unknown kind). ``errors`` lists every error
    found, this one first."""

    code: str
    message: str
    line: int | None
    column: int | None
    path: str
    help: str | None
    errors: list[Diagnostic]

class ParseError(VampError):
    """Text that does not parse (``yaml_parsing``, ``resource_limit``,
    ``parser``, ``invalid_selector``)."""

class ValidationError(VampError):
    """YAML that parses but is not a valid artifact."""

class RoutingError(VampError):
    """A request or condition the router cannot evaluate (``unsupported_acl``,
    a malformed request)."""

def read(text: str | bytes, kind: str | None = None) -> list[dict[str, Json]]:
    """Reads every document of ``text`` (a YAML stream) to its canonical dict.

    ``kind`` (``"blueprint"``, ``"breeds"``, ...) reads documents without a
    ``kind:`` key as that kind. Raises :class:`VampError` with the first error
    by the spec's phases; runs without the GIL while reading."""

def check(text: str | bytes, kind: str | None = None) -> list[Diagnostic]:
    """Every diagnostic (errors and warnings) of ``text``; empty when valid.
    Does not raise for invalid documents (only for an unknown ``kind``)."""

def canonical(kind: str, text: str | bytes) -> dict[str, Json] | list[dict[str, Json]]:
    """Exactly what ``vamp canonical KIND FILE`` prints on success: the
    canonical dict of a single document, or a list for several. Raises
    :class:`VampError` where the command prints ``{"error": ...}``."""

def condition(expression: str) -> dict[str, Json]:
    """The syntax tree of a condition, as ``vamp condition EXPR`` prints it
    (``{"op": "and", "args": [...]}``, ...). Raises :class:`ParseError`
    (code ``parser``, with the column inside the expression)."""

def matches(expression: str, request: Request | Mapping[str, Any]) -> bool:
    """Whether ``request`` matches the condition ``expression``. Raises
    :class:`ParseError` for a condition that does not parse and
    :class:`RoutingError` for a malformed request or an unsupported ACL."""

class Instance(TypedDict):
    name: str
    host: str | None
    port: int | None

class SetCookie(TypedDict):
    name: str
    value: str

class Decision(TypedDict):
    """Where one request goes; ``route`` is None when no route takes it."""

    gateway: str
    route: str | None
    reason: Literal["sticky", "condition", "weight"] | None
    instance: Instance | None
    set_cookies: list[SetCookie]
    rewrite: str | None

class Router:
    """A gateway compiled for routing decisions.

    ``text`` is YAML holding the gateway document (and any condition and
    rewrite documents its routes refer to); ``gateway`` picks one when there
    are several. ``targets`` maps route paths to instances:
    ``{"ROUTE": [{"name": "i1", "host": "10.0.0.1", "port": 31001, "weight": 100}]}``.
    ``seed`` seeds the random draws (default: random). Raises
    :class:`VampError` for a document that does not read or a gateway that
    does not compile (``gateway_route_weight``, ``unsupported_acl``, ...)."""

    def __init__(
        self,
        text: str | bytes,
        *,
        gateway: str | None = None,
        targets: Mapping[str, list[Mapping[str, Any]]] | None = None,
        seed: int | None = None,
    ) -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def routes(self) -> list[str]: ...
    def decide(self, request: Request | Mapping[str, Any], key: str | bytes | None = None) -> Decision:
        """Decides where one request goes; with ``key`` the decision is a
        stable function of the key (consistent hashing) instead of a draw."""
    def decide_many(
        self, requests: Sequence[Request | Mapping[str, Any]], keys: Sequence[str | bytes] | None = None
    ) -> list[str | None]:
        """Decides many requests in one call and returns each chosen route
        (None where no route takes it): the fast path for bulk decisions."""
    def simulate(self, traffic: Sequence[Any] | Mapping[str, Any], samples: int = 10000, seed: int = 1) -> dict[str, Json]:
        """Exact and sampled split of a traffic mix (a list of requests and/or
        ``{"share": N, "request": {...}}`` entries) over routes and instances."""

def haproxy(
    text: str | bytes,
    *,
    targets: Mapping[str, list[Mapping[str, Any]]] | None = None,
    bind_address: str | None = None,
    virtual_hosts_port: int | None = 80,
    health_checks: bool = True,
) -> str:
    """A complete ``haproxy.cfg`` for every gateway in ``text``."""

class SlaEvent(TypedDict):
    """An SLA event: ``{"timestamp", "cluster", "event"}``."""

    timestamp: int | float
    cluster: str
    event: Literal["escalate", "deescalate"]

# A scale change to apply: {"timestamp", "action", "cluster", "service",
# "from", "to"} (`from` is a Python keyword: the functional TypedDict form).
ScaleAction = TypedDict(
    "ScaleAction",
    {
        "timestamp": int | float,
        "action": Literal["scale_instances", "scale_cpu", "scale_memory"],
        "cluster": str,
        "service": str,
        "from": int | float,
        "to": int | float,
    },
)

SlaOutput = dict[str, Json]
"""One line of ``vamp sla evaluate --format json``: an :class:`SlaEvent`, a
:class:`ScaleAction`, a notice (``{"timestamp", "notice", ...}``:
``cannot_scale_further``, ``unknown_cluster``, ``no_service``,
``unknown_scale``, ``invalid_step``, ``unsupported_escalation``) or a
generic handler's action (``{"timestamp", "action", "cluster", "event",
"detail"}``)."""

class SlaStats(TypedDict):
    """What went into an :class:`SlaEvaluator` so far."""

    lines: int
    samples: int
    malformed: int
    not_route: int
    unknown_cluster: int
    unknown_service: int
    late: int

class SlaNotice(TypedDict):
    cluster: str
    message: str

class Sample(TypedDict, total=False):
    """A plain sample (``service`` optional)."""

    timestamp: int | float | str
    cluster: str
    service: str
    response_time: int | float
    status: int

class SlaEvaluator:
    """The SLA checks and escalations of every cluster of a blueprint.

    Feed it samples in time order; it returns the events and scale actions
    they cause, exactly as ``vamp sla evaluate --format json`` prints them
    (one dict per printed line), with the samples' own time (no clock).
    Raises :class:`VampError` for a blueprint that does not read (its code
    and position), :class:`ValidationError` with code ``no_blueprint`` or
    ``invalid_sla``. Evaluation runs without the GIL."""

    def __init__(self, blueprint_text: str | bytes, period_seconds: int = 1) -> None: ...
    def feed_lines(self, lines: Sequence[str | bytes] | str | bytes) -> list[SlaOutput]:
        """Log lines (HAProxy JSON records or plain samples), as a list of
        lines or one chunk of text; blank lines are skipped, malformed ones
        counted in :meth:`stats`."""
    def feed_samples(self, samples: Sequence[Sample | Mapping[str, Any]]) -> list[SlaOutput]:
        """Plain sample dicts; anything else is counted as malformed."""
    def finish(self) -> list[SlaOutput]:
        """Ends the stream: runs the evaluation due after the last sample."""
    def stats(self) -> SlaStats: ...
    @property
    def notices(self) -> list[SlaNotice]:
        """Clusters whose SLA is not monitored, and why."""

def to_yaml(text: str | bytes, kind: str | None = None) -> str:
    """Every document of ``text`` written back as DSL YAML (separated by
    ``---``) that reads back to the same canonical documents."""

def resolve(text: str | bytes, store: str | os.PathLike[str]) -> dict[str, Json] | list[dict[str, Json]]:
    """Resolves the blueprints of ``text`` against the directory store at
    ``store`` (a folder of YAML artifacts; created when missing) into
    deployments: a dict for one blueprint, a list for several. Raises
    :class:`ValidationError` with the resolver's code (``unresolved_dependency``...)."""
