import json
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def canary() -> str:
    return (EXAMPLES / "sava-canary.yml").read_text()


def fixture(name: str):
    """A fixture file of bindings/fixtures (shared with the Node tests)."""
    return json.loads((ROOT / "bindings" / "fixtures" / name).read_text())


def position(text: str, needle: str, offset: int = 0) -> tuple[int, int]:
    """1-based line and column of `needle` (plus `offset` characters) in `text`."""
    i = text.index(needle) + offset
    line = text.count("\n", 0, i) + 1
    column = i - (text.rfind("\n", 0, i) + 1) + 1
    return line, column


def vamp_cli() -> str | None:
    """The `vamp` command, to compare `vamp.canonical` with what it prints."""
    if os.environ.get("VAMP_CLI"):
        return os.environ["VAMP_CLI"]
    for target in (os.environ.get("CARGO_TARGET_DIR"), str(ROOT / "target")):
        if target and (Path(target) / "debug" / "vamp").exists():
            return str(Path(target) / "debug" / "vamp")
    return shutil.which("vamp")


def gateway_of_example(text: str, port: int = 9050) -> str:
    """The example blueprint's `sava/webport` gateway as a stand-alone gateway
    document (the router compiles gateways), built from its canonical form."""
    import vamp

    bp = vamp.read(text)[0]
    gw = bp["clusters"]["sava"]["gateways"]["webport"]
    lines = ["kind: gateway", "name: sava", f"port: {port}/http", f"sticky: {gw['sticky'] or 'none'}", "routes:"]
    for name, route in gw["routes"].items():
        lines.append(f"  {name}:")
        if route["weight"] is not None:
            lines.append(f"    weight: {route['weight']}%")
        if route["condition"]:
            lines.append(f"    condition: {route['condition']['definition']}")
        if route["condition_strength"] is not None:
            lines.append(f"    condition_strength: {route['condition_strength']}%")
    return "\n".join(lines) + "\n"
