"""Reading + validating a ~1 MB stream of blueprints through `vamp`, against
PyYAML's C loader merely parsing the same text, side by side in one process.

    python bindings/python/bench/read_bench.py [--rounds N]

Prints the time of each (best of N rounds) and the ratios
`pyyaml / vamp` (> 1 means vamp is faster).
"""

import argparse
import sys
import time
from pathlib import Path

import yaml

import vamp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stream import blueprint_stream  # noqa: E402


def best_of(fns, rounds):
    """Interleaved rounds, best of each: the minimum is the estimate least
    disturbed by other work on a shared machine."""
    mins = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            mins[i] = min(mins[i], time.perf_counter() - t0)
    return mins


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()

    text = blueprint_stream()
    ndocs = text.count("\n---\n") + 1
    # Setup outside the timed loops: the stream is valid and both agree on
    # the number of documents.
    assert vamp.check(text) == [], vamp.check(text)[:3]
    assert len(vamp.read(text)) == ndocs
    assert len(list(yaml.load_all(text, Loader=yaml.CSafeLoader))) == ndocs

    t_yaml, t_read, t_check = best_of(
        [
            lambda: list(yaml.load_all(text, Loader=yaml.CSafeLoader)),
            lambda: vamp.read(text),
            lambda: vamp.check(text),
        ],
        args.rounds,
    )

    mb = len(text.encode()) / 1e6
    print(f"stream: {mb:.2f} MB, {ndocs} blueprints, best of {args.rounds} rounds")
    print(f"pyyaml CSafeLoader load_all (parse only): {t_yaml * 1e3:8.1f} ms")
    print(f"vamp.read  (parse + validate + dicts):    {t_read * 1e3:8.1f} ms   ratio pyyaml/vamp.read  = {t_yaml / t_read:.2f}x")
    print(f"vamp.check (parse + validate):            {t_check * 1e3:8.1f} ms   ratio pyyaml/vamp.check = {t_yaml / t_check:.2f}x")


if __name__ == "__main__":
    main()
