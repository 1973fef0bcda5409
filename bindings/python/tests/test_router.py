"""vamp.Router and vamp.haproxy, on the example blueprint's canary gateway."""

import pytest

import vamp
from conftest import gateway_of_example

CHROME_ANDROID = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"


@pytest.fixture(scope="module")
def gateway(canary):
    return gateway_of_example(canary)


@pytest.fixture(scope="module")
def canary():
    from conftest import EXAMPLES

    return (EXAMPLES / "sava-canary.yml").read_text()


def test_router_compiles_the_example_gateway(gateway):
    r = vamp.Router(gateway, seed=1)
    assert r.name == "sava"
    assert r.routes == ["sava:1.0.0", "sava:1.1.0"]
    assert "sava" in repr(r)


def test_decide_by_condition_and_sticky_cookie(gateway):
    r = vamp.Router(gateway, seed=1)
    d = r.decide({"headers": {"User-Agent": CHROME_ANDROID}})
    assert d["route"] == "sava:1.1.0" and d["reason"] == "condition"
    assert d["gateway"] == "sava"
    cookie = d["set_cookies"][0]
    assert cookie["name"] and cookie["value"]
    # The cookie pins the route, whatever the user agent.
    again = r.decide({"headers": {"User-Agent": FIREFOX}, "cookies": {cookie["name"]: cookie["value"]}})
    assert (again["route"], again["reason"], again["set_cookies"]) == ("sava:1.1.0", "sticky", [])
    assert set(d) == {"gateway", "route", "reason", "instance", "set_cookies", "rewrite"}


def test_decide_by_weight_is_seeded_and_keyed(gateway):
    a, b = vamp.Router(gateway, seed=7), vamp.Router(gateway, seed=7)
    reqs = [{"headers": {"User-Agent": FIREFOX}}] * 200
    assert [a.decide(q)["route"] for q in reqs] == [b.decide(q)["route"] for q in reqs]
    assert {a.decide(q)["reason"] for q in reqs} == {"weight"}
    keyed = {a.decide(reqs[0], key="user-42")["route"] for _ in range(20)}
    assert len(keyed) == 1


def test_decide_many_agrees_with_decide(gateway):
    reqs = [{"headers": {"User-Agent": FIREFOX if i % 3 else CHROME_ANDROID}} for i in range(3000)]
    routes = vamp.Router(gateway, seed=3).decide_many(reqs)
    one = vamp.Router(gateway, seed=3)
    assert routes == [one.decide(q)["route"] for q in reqs]
    share = routes.count("sava:1.1.0") / len(routes)
    # Chrome on Android (1/3) always, others 10%.
    assert 0.36 < share < 0.44
    keys = [f"user-{i}" for i in range(len(reqs))]
    r = vamp.Router(gateway)
    assert r.decide_many(reqs, keys=keys) == r.decide_many(reqs, keys=keys)


def test_decide_many_slow_path_reports_bad_requests(gateway):
    r = vamp.Router(gateway, seed=1)
    # Shapes outside the fast path still decide through the core's reader.
    assert r.decide_many([{"headers": None, "method": None}])[0] in r.routes
    with pytest.raises(vamp.RoutingError) as info:
        r.decide_many([{}, {"headers": {"X": 1}}])
    assert (info.value.code, info.value.path) == ("unexpected_type", "headers.X")
    with pytest.raises(vamp.RoutingError) as info:
        r.decide_many([{"header": {}}])
    assert info.value.code == "unexpected_element"
    with pytest.raises(vamp.RoutingError) as info:
        r.decide_many([{}], keys=["a", "b"])
    assert info.value.code == "unexpected_type"


def test_decide_error(gateway):
    with pytest.raises(vamp.RoutingError) as info:
        vamp.Router(gateway).decide({"cookies": {"a": ["x"]}})
    assert info.value.code == "unexpected_type"


def test_router_compile_errors(gateway):
    bad = gateway.replace("weight: 10%", "weight: 30%")
    with pytest.raises(vamp.ValidationError) as info:
        vamp.Router(bad)
    assert info.value.code == "gateway_route_weight"
    assert info.value.line is not None
    with pytest.raises(vamp.ParseError) as info:
        vamp.Router(gateway.replace("user-agent == Android", "user-agent == Android and ("))
    assert info.value.code == "parser"
    with pytest.raises(vamp.VampError) as info:
        vamp.Router("kind: scale\nname: s\ncpu: 1\nmemory: 1GB\n")
    assert info.value.code == "inconsistent_artifact_kind"
    two = gateway + "---\n" + gateway.replace("name: sava", "name: other")
    with pytest.raises(vamp.RoutingError) as info:
        vamp.Router(two)
    assert info.value.code == "unresolved_dependency"
    assert info.value.message.endswith("choose one with `gateway=`")
    assert vamp.Router(two, gateway="other").name == "other"


def test_targets_pick_instances(gateway):
    targets = {
        "sava:1.0.0": [{"name": "old-1", "host": "10.0.0.1", "port": 31001}],
        "sava:1.1.0": [{"name": "new-1", "host": "10.0.0.2", "port": 31002}],
    }
    r = vamp.Router(gateway, targets=targets, seed=1)
    d = r.decide({"headers": {"User-Agent": CHROME_ANDROID}})
    assert d["instance"] == {"name": "new-1", "host": "10.0.0.2", "port": 31002}
    with pytest.raises(vamp.RoutingError) as info:
        vamp.Router(gateway, targets=[])
    assert info.value.code == "unexpected_type"


def test_simulate(gateway):
    r = vamp.Router(gateway, seed=1)
    report = r.simulate([{"share": 3, "request": {"headers": {"User-Agent": FIREFOX}}},
                         {"headers": {"User-Agent": CHROME_ANDROID}}], samples=20000, seed=5)
    routes = report["routes"]
    assert report["samples"] == 20000
    # 3/4 Firefox at 10%, 1/4 Chrome on Android at 100%.
    assert routes["sava:1.1.0"]["exact"] == pytest.approx(0.75 * 0.1 + 0.25)
    assert abs(routes["sava:1.1.0"]["sampled"] - 0.325) < 0.02
    with pytest.raises(vamp.RoutingError) as info:
        r.simulate({"nope": 1})
    assert info.value.code == "unexpected_type"


def test_haproxy_export(gateway):
    cfg = vamp.haproxy(gateway, bind_address="0.0.0.0", health_checks=False)
    assert "frontend" in cfg and ":9050" in cfg
    assert "0.0.0.0:9050" in cfg
    with pytest.raises(vamp.VampError) as info:
        vamp.haproxy(gateway.replace("port: 9050/http\n", ""))
    assert info.value.code == "unresolved_gateway_port"
