"""Builds the benchmark stream shared by the Python and Node benchmarks:
examples/sava-canary.yml repeated with renamed blueprints and breeds until the
stream reaches ~1 MB (about 500 documents)."""

from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "sava-canary.yml"
TARGET_BYTES = 1_000_000


def blueprint_stream(target_bytes: int = TARGET_BYTES) -> str:
    base = EXAMPLE.read_text()
    docs, size, i = [], 0, 0
    while size < target_bytes:
        doc = base.replace("name: sava-canary", f"name: sava-canary-{i}").replace("sava:1.", f"sava-{i}:1.")
        docs.append(doc)
        size += len(doc) + 4
        i += 1
    return "---\n".join(docs)


if __name__ == "__main__":
    import sys

    sys.stdout.write(blueprint_stream())
