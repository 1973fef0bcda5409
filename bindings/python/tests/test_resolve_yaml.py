"""vamp.to_yaml and vamp.resolve, on the example blueprint."""

import pytest

import vamp


def test_to_yaml_reads_back_to_the_same_documents(canary):
    text = vamp.to_yaml(canary)
    assert isinstance(text, str) and "sava-canary" in text
    assert vamp.read(text) == vamp.read(canary)
    two = vamp.to_yaml(canary + "---\n" + canary.replace("name: sava-canary", "name: other"))
    assert [d["name"] for d in vamp.read(two)] == ["sava-canary", "other"]


def test_to_yaml_errors(canary):
    with pytest.raises(vamp.ValidationError) as info:
        vamp.to_yaml(canary.replace("weight: 10%", "weight: 10"))
    assert info.value.code == "unexpected_type"


def test_resolve_against_a_directory_store(canary, tmp_path):
    # The example's breeds are inline; its dependency `mysql:5.7` is the
    # inline breed of cluster `db`, so an empty store resolves it.
    dep = vamp.resolve(canary, tmp_path)
    assert dep["kind"] == "deployment"
    assert dep["name"] == "sava-canary"
    svc = dep["clusters"]["sava"]["services"][0]
    assert svc["status"]["intention"] == "deploy"
    assert svc["environment"]["JVM_HEAP_SIZE"] == "1200"


def test_resolve_reports_unresolved_references(tmp_path):
    blueprint = "kind: blueprint\nname: b\nclusters:\n  web: web:1.0\n"
    with pytest.raises(vamp.ValidationError) as info:
        vamp.resolve(blueprint, tmp_path)
    assert (info.value.code, info.value.line, info.value.column) == ("unresolved_dependency", 4, 8)
