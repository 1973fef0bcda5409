"""Every function of `vamp`, with its error cases (codes and positions), on
the documents of examples/."""

import json
import subprocess
import threading

import pytest
import yaml

import vamp
from conftest import EXAMPLES, position, vamp_cli


# --- read -------------------------------------------------------------------


def test_read_example_to_canonical_dicts(canary):
    docs = vamp.read(canary)
    assert isinstance(docs, list) and len(docs) == 1
    bp = docs[0]
    assert bp["kind"] == "blueprint"
    assert bp["name"] == "sava-canary"
    assert list(bp) == ["kind", "name", "metadata", "gateways", "clusters", "environment_variables", "dialects"]
    routes = bp["clusters"]["sava"]["gateways"]["webport"]["routes"]
    assert list(routes) == ["sava:1.0.0", "sava:1.1.0"]
    assert routes["sava:1.1.0"]["weight"] == 10
    assert routes["sava:1.1.0"]["condition"] == {"definition": "user-agent == Chrome and user-agent == Android"}
    # Units are converted, defaults explicit, env values are strings.
    services = bp["clusters"]["sava"]["services"]
    assert services[0]["scale"] == {"cpu": 0.5, "memory": 512.0, "instances": 2}
    assert services[1]["scale"]["memory"] == pytest.approx(536.870912)
    assert services[0]["breed"]["environment_variables"]["JVM_HEAP_SIZE"] == {"value": "800", "alias": None}
    assert bp["gateways"]["9050"]["port"]["number"] == 9050
    assert bp["clusters"]["db"]["services"][0]["scale"]["memory"] == 1000.0


def test_read_accepts_bytes_and_a_default_kind(canary):
    assert vamp.read(canary.encode()) == vamp.read(canary)
    without_kind = canary.replace("kind: blueprint\n", "")
    assert vamp.read(without_kind, kind="blueprints") == vamp.read(canary)


def test_read_stream_of_documents(canary):
    stream = canary + "---\n" + canary.replace("name: sava-canary", "name: other")
    names = [d["name"] for d in vamp.read(stream)]
    assert names == ["sava-canary", "other"]


def test_read_agrees_with_plain_yaml_on_the_structure(canary):
    plain = yaml.safe_load(canary)
    bp = vamp.read(canary)[0]
    assert list(bp["clusters"]) == list(plain["clusters"])


def test_read_error_has_code_and_position(canary):
    bad = canary.replace("weight: 10%", "weight: 10")
    with pytest.raises(vamp.ValidationError) as info:
        vamp.read(bad)
    e = info.value
    assert isinstance(e, vamp.VampError)
    assert e.code == "unexpected_type"
    assert (e.line, e.column) == position(bad, "weight: 10\n", len("weight: "))
    assert e.path.endswith("weight")
    assert "percentage" in e.message
    # Every error is there, the reported one first.
    assert [d["code"] for d in e.errors] == ["unexpected_type", "gateway_route_weight"]
    assert (e.errors[1]["line"], e.errors[1]["column"]) == position(bad, "routes:")


def test_read_yaml_syntax_error_is_a_parse_error():
    with pytest.raises(vamp.ParseError) as info:
        vamp.read("kind: blueprint\nname: [a\n")
    assert info.value.code == "yaml_parsing"
    assert info.value.line is not None and info.value.column is not None


def test_read_unknown_kind():
    with pytest.raises(vamp.ValidationError) as info:
        vamp.read("name: x\n", kind="spaceship")
    assert info.value.code == "inconsistent_artifact_kind"
    assert info.value.line is None and info.value.column is None


def test_read_rejects_non_text():
    with pytest.raises(TypeError):
        vamp.read(42)


# --- check ------------------------------------------------------------------


def test_check_valid_example_has_no_diagnostics(canary):
    assert vamp.check(canary) == []


def test_check_reports_errors_and_warnings_with_positions(canary):
    bad = canary.replace("sticky: route", "sticky: sometimes").replace(
        "      memory: 1GB", "      memory: 1GB\n      memory: 2GB"
    )
    diags = vamp.check(bad)
    by_code = {d["code"]: d for d in diags}
    sticky = by_code["illegal_gateway_sticky_value"]
    assert sticky["severity"] == "error"
    assert (sticky["line"], sticky["column"]) == position(bad, "sometimes")
    dup = by_code["duplicate_key"]
    assert dup["severity"] == "warning"
    assert (dup["line"], dup["column"]) == position(bad, "memory: 2GB")
    assert set(sticky) == {"code", "severity", "message", "line", "column", "path", "help"}


def test_check_does_not_raise_on_broken_yaml():
    diags = vamp.check("a: [\n")
    assert [d["code"] for d in diags] == ["yaml_parsing"]


# --- canonical --------------------------------------------------------------


def test_canonical_single_document_is_a_dict(canary):
    out = vamp.canonical("blueprint", canary)
    assert isinstance(out, dict)
    assert out == vamp.read(canary)[0]


def test_canonical_several_documents_is_a_list(canary):
    stream = canary + "---\n" + canary.replace("name: sava-canary", "name: other")
    out = vamp.canonical("blueprints", stream)
    assert isinstance(out, list) and [d["name"] for d in out] == ["sava-canary", "other"]


def test_canonical_matches_the_cli(canary):
    cli = vamp_cli()
    if cli is None:
        pytest.skip("the `vamp` command is not built (cargo build -p vamp-cli)")
    printed = subprocess.run(
        [cli, "canonical", "blueprint", str(EXAMPLES / "sava-canary.yml")], capture_output=True, check=True, text=True
    ).stdout
    assert vamp.canonical("blueprint", canary) == json.loads(printed)
    bad = canary.replace("weight: 10%", "weight: 10")
    printed = subprocess.run([cli, "canonical", "blueprint", "-"], input=bad, capture_output=True, text=True).stdout
    with pytest.raises(vamp.VampError) as info:
        vamp.canonical("blueprint", bad)
    expected = json.loads(printed)
    e = info.value
    assert {"code": e.code, "message": e.message, "line": e.line, "column": e.column} == expected["error"]
    assert [{k: d[k] for k in ("code", "message", "line", "column")} for d in e.errors] == expected["errors"]


def test_canonical_kind_mismatch(canary):
    with pytest.raises(vamp.ValidationError) as info:
        vamp.canonical("breed", canary)
    assert info.value.code == "inconsistent_artifact_kind"
    assert (info.value.line, info.value.column) == position(canary, "blueprint")


def test_canonical_unknown_kind(canary):
    with pytest.raises(vamp.VampError) as info:
        vamp.canonical("spaceship", canary)
    assert info.value.code == "inconsistent_artifact_kind"


def test_canonical_scale_error_position():
    text = "name: small\ncpu: 0.5\nmemory: 512\n"
    with pytest.raises(vamp.ValidationError) as info:
        vamp.canonical("scale", text)
    assert (info.value.code, info.value.line, info.value.column) == ("unexpected_type", 3, 9)


# --- condition --------------------------------------------------------------


def test_condition_of_the_example_route(canary):
    expr = vamp.read(canary)[0]["clusters"]["sava"]["gateways"]["webport"]["routes"]["sava:1.1.0"]["condition"][
        "definition"
    ]
    assert vamp.condition(expr) == {
        "op": "and",
        "args": [{"op": "user_agent", "value": "Chrome"}, {"op": "user_agent", "value": "Android"}],
    }


def test_condition_tree_shapes():
    assert vamp.condition("not has cookie vamp or header X-Id contains 12") == {
        "op": "or",
        "args": [
            {"op": "not", "arg": {"op": "cookie", "name": "vamp"}},
            {"op": "header_contains", "name": "X-Id", "value": "12"},
        ],
    }
    assert vamp.condition("< hdr_sub(X) y >") == {"op": "acl", "value": "hdr_sub(X) y"}


def test_condition_error_has_column():
    expr = "user-agent == Chrome and ("
    with pytest.raises(vamp.ParseError) as info:
        vamp.condition(expr)
    e = info.value
    assert e.code == "parser"
    assert e.line == 1
    assert 1 <= e.column <= len(expr) + 1


# --- matches ----------------------------------------------------------------

CHROME_ANDROID = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"


def test_matches_the_example_condition(canary):
    expr = "user-agent == Chrome and user-agent == Android"
    assert vamp.matches(expr, {"headers": {"User-Agent": CHROME_ANDROID}}) is True
    assert vamp.matches(expr, {"headers": {"user-agent": FIREFOX}}) is False
    assert vamp.matches(expr, {}) is False


def test_matches_hosts_cookies_and_acls():
    assert vamp.matches("host == example.com", {"headers": {"Host": "example.com"}})
    assert not vamp.matches("host == example.com", {"host": "example.com:8080"})
    assert vamp.matches("cookie vamp contains 123", {"cookies": {"vamp": "x1234"}})
    assert vamp.matches("< path_beg /api >", {"path": "/api/v1"})


def test_matches_errors():
    with pytest.raises(vamp.ParseError) as info:
        vamp.matches("host ==", {})
    assert (info.value.code, info.value.line) == ("parser", 1)
    with pytest.raises(vamp.RoutingError) as info:
        vamp.matches("< ssl_fc >", {})
    assert info.value.code == "unsupported_acl"
    with pytest.raises(vamp.RoutingError) as info:
        vamp.matches("host == a", {"headers": {"X-Id": 1}})
    assert (info.value.code, info.value.path) == ("unexpected_type", "headers.X-Id")
    with pytest.raises(vamp.RoutingError) as info:
        vamp.matches("host == a", {"header": {}})
    assert info.value.code == "unexpected_element"
    with pytest.raises(vamp.RoutingError) as info:
        vamp.matches("host == a", ["not", "a", "dict"])
    assert info.value.code == "unexpected_type"


# --- the package -------------------------------------------------------------


def test_exception_hierarchy():
    for cls in (vamp.ParseError, vamp.ValidationError, vamp.RoutingError):
        assert issubclass(cls, vamp.VampError)
    assert issubclass(vamp.VampError, Exception)
    assert vamp.VampError.__module__ == "vamp"


def test_reading_releases_the_gil(canary):
    """Threads reading at the same time all finish with the same result."""
    stream = "---\n".join([canary] * 50)
    results = []
    threads = [threading.Thread(target=lambda: results.append(len(vamp.read(stream)))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [50] * 4


def test_typing_files_ship():
    from importlib import resources

    files = {p.name for p in resources.files("vamp").iterdir()}
    assert {"py.typed", "_vamp.pyi", "__init__.py"} <= files
