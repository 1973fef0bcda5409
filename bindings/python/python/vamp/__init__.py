"""Vamp's engine for Python: read, check and canonicalize the Vamp YAML DSL,
parse routing conditions and match requests against them, route requests
through gateways and evaluate SLAs on samples or access logs.

Every function returns plain data (dicts, lists, str, int, float, bool, None)
in the canonical form of ``canonical-json.md``; every failure raises a
:class:`VampError` (or one of its subclasses) carrying ``code``, ``message``,
``line`` and ``column``.

>>> import vamp
>>> bp = vamp.read(open("examples/sava-canary.yml").read())[0]   # doctest: +SKIP
>>> bp["clusters"]["sava"]["gateways"]["webport"]["routes"]["sava:1.1.0"]["weight"]  # doctest: +SKIP
10
"""

from ._vamp import (
    ParseError,
    Router,
    RoutingError,
    SlaEvaluator,
    ValidationError,
    VampError,
    canonical,
    check,
    condition,
    haproxy,
    matches,
    read,
    resolve,
    to_yaml,
)

__all__ = [
    "VampError",
    "ParseError",
    "ValidationError",
    "RoutingError",
    "read",
    "check",
    "canonical",
    "condition",
    "matches",
    "Router",
    "SlaEvaluator",
    "haproxy",
    "to_yaml",
    "resolve",
]
