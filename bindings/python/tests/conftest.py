import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def canary() -> str:
    return (EXAMPLES / "sava-canary.yml").read_text()


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
