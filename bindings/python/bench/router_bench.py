"""Routing decisions per second from Python: `Router.decide_many` on a batch
of requests, next to one `Router.decide` call per request, on the example
blueprint's canary gateway (90/10 weights, a Chrome-on-Android condition,
sticky routes).

    python bindings/python/bench/router_bench.py [--batch N] [--rounds R]

The target is 1,000,000 decisions/s batched; ratios are against it and
against per-call decisions measured in the same run.
"""

import argparse
import sys
import time
from pathlib import Path

import vamp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import EXAMPLES, gateway_of_example  # noqa: E402

AGENTS = [
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    router = vamp.Router(gateway_of_example((EXAMPLES / "sava-canary.yml").read_text()), seed=1)
    # 1,000 distinct requests (user agent, host, path, a cookie on some),
    # repeated to the batch size; built outside the timed loop.
    distinct = [
        {
            "method": "GET",
            "host": "shop.example.com",
            "path": f"/cart/{i}",
            "headers": {"User-Agent": AGENTS[i % len(AGENTS)], "Accept": "text/html"},
            "cookies": {"session": f"s{i}"} if i % 2 else {},
        }
        for i in range(1000)
    ]
    batch = (distinct * (args.batch // len(distinct) + 1))[: args.batch]
    single = batch[:100_000]

    best_many = best_one = float("inf")
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        routes = router.decide_many(batch)
        best_many = min(best_many, time.perf_counter() - t0)
        t0 = time.perf_counter()
        for q in single:
            router.decide(q)
        best_one = min(best_one, time.perf_counter() - t0)
    assert len(routes) == len(batch) and set(routes) <= set(router.routes)

    many = len(batch) / best_many
    one = len(single) / best_one
    print(f"batch of {len(batch):,} requests, best of {args.rounds} rounds")
    print(f"Router.decide_many: {many:12,.0f} decisions/s   ratio to the 1M/s target = {many / 1e6:.2f}x")
    print(f"Router.decide:      {one:12,.0f} decisions/s   ratio decide_many/decide = {many / one:.1f}x")


if __name__ == "__main__":
    main()
