"""vamp.SlaEvaluator: the SLA engine fed with samples or log lines, giving
exactly what `vamp sla evaluate --format json` prints."""

import json
import subprocess
import threading

import pytest

import vamp
from conftest import EXAMPLES, fixture, position, vamp_cli

SAMPLES = EXAMPLES / "sava-samples.jsonl"
FIXTURES = fixture("sla.json")
EXPECTED = FIXTURES["example_outputs"]
BAD_SLA = FIXTURES["bad_sla"]


def steady(rt: float, start: int = 1000, seconds: int = 30) -> list[dict]:
    return [
        {**FIXTURES["steady"], "timestamp": t, "response_time": rt}
        for t in range(start, start + seconds)
    ]


def run_lines(canary: str, lines) -> list[dict]:
    ev = vamp.SlaEvaluator(canary)
    return ev.feed_lines(lines) + ev.finish()


def test_example_log_gives_what_the_cli_prints(canary):
    lines = SAMPLES.read_text().splitlines(keepends=True)
    assert run_lines(canary, lines) == EXPECTED
    cli = vamp_cli()
    if cli:
        out = subprocess.run(
            [cli, "sla", "evaluate", "--blueprint", str(EXAMPLES / "sava-canary.yml"),
             "--logs", str(SAMPLES), "--format", "json"],
            check=True, capture_output=True, text=True,
        ).stdout
        assert [json.loads(l) for l in out.splitlines()] == EXPECTED


def test_lines_as_text_bytes_or_samples_are_one_stream(canary):
    text = SAMPLES.read_text()
    assert run_lines(canary, text) == EXPECTED
    assert run_lines(canary, text.encode()) == EXPECTED
    assert run_lines(canary, [l.encode() for l in text.splitlines()]) == EXPECTED
    ev = vamp.SlaEvaluator(canary)
    samples = [json.loads(l) for l in text.splitlines()]
    assert ev.feed_samples(samples) + ev.finish() == EXPECTED
    assert ev.stats()["samples"] == len(samples)


def test_escalation_on_a_slow_stream(canary):
    ev = vamp.SlaEvaluator(canary)
    # the evaluation at 1000 s runs when the sample of 1001 s arrives
    out = ev.feed_samples(steady(1500.0))
    assert out == FIXTURES["slow_outputs"]
    # the cooldown holds: nothing more
    assert ev.finish() == []


def test_de_escalation_on_a_fast_stream(canary):
    ev = vamp.SlaEvaluator(canary)
    out = ev.feed_samples(steady(50.0)) + ev.finish()
    assert out == FIXTURES["fast_outputs"]


def test_period_seconds_spaces_the_evaluations(canary):
    ev = vamp.SlaEvaluator(canary, period_seconds=60)
    out = ev.feed_samples(steady(1500.0, start=1001)) + ev.finish()
    assert [o["timestamp"] for o in out] == [1020, 1020]
    assert all(o["timestamp"] % 60 == 0 for o in out)


def test_malformed_lines_are_counted_not_fatal(canary):
    ev = vamp.SlaEvaluator(canary)
    lines = FIXTURES["malformed_lines"] + [json.dumps(steady(1500.0)[0])]
    assert ev.feed_lines(lines) == []
    assert ev.feed_samples(["not a dict", None, {"cluster": "sava"}, {"when": object()}]) == []
    assert ev.stats() == FIXTURES["malformed_stats"]


def test_a_blueprint_that_does_not_read(canary):
    bad = canary.replace("upper: 1000", "upper: [1000")
    with pytest.raises(vamp.ParseError) as e:
        vamp.SlaEvaluator(bad)
    assert e.value.code == "yaml_parsing"
    assert e.value.line is not None and e.value.column is not None

    with pytest.raises(vamp.ValidationError) as e:
        vamp.SlaEvaluator(canary.replace("kind: blueprint", "kind: gateway"))
    assert e.value.code == "inconsistent_artifact_kind"
    assert (e.value.line, e.value.column) == position(canary, "kind: blueprint", 6)


def test_an_sla_with_bad_parameters():
    with pytest.raises(vamp.ValidationError) as e:
        vamp.SlaEvaluator(BAD_SLA)
    assert e.value.code == "invalid_sla"
    assert "percentile" in e.value.message
    assert e.value.line is None
    assert e.value.errors[0]["code"] == "invalid_sla"


def test_notices_list_what_is_not_monitored(canary):
    assert vamp.SlaEvaluator(canary).notices == []
    other = canary.replace("type: response_time_sliding_window", "type: my_own_sla")
    notices = vamp.SlaEvaluator(other).notices
    assert [n["cluster"] for n in notices] == ["sava"]
    assert "my_own_sla" in notices[0]["message"]


def test_large_batches_run_without_the_gil(canary):
    # Two evaluators fed from two threads give what one gives alone.
    lines = [json.dumps(s) for s in steady(1500.0, seconds=20_000)]
    results = {}

    def feed(i):
        ev = vamp.SlaEvaluator(canary)
        results[i] = ev.feed_lines(lines) + ev.finish()

    threads = [threading.Thread(target=feed, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[0] == results[1]
    assert results[0][0] == {"timestamp": 1000, "cluster": "sava", "event": "escalate"}
