#!/usr/bin/env bash
# The main job, on the embedded default (the in-memory driver; no setup):
# check and expand blueprints, resolve one against a store of artifacts,
# plan and apply a canary release, route and simulate traffic, export the
# gateway to HAProxy and replay response times through an SLA.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vamp/target}"
echo "building the vamp command..."
cargo build -q -p vamp-cli
vamp="$CARGO_TARGET_DIR/debug/vamp"
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
export VAMP_STATE_DIR="$state"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "check: every document, every problem with its line and column"
"$vamp" check examples/*.yml examples/store/*/*.yml

step "canonical: the fully expanded canary blueprint (first lines)"
"$vamp" canonical blueprint examples/sava-canary.yml | head -n 25

step "resolve: shop.yml against examples/store (references inlined, environments computed)"
"$vamp" resolve --store examples/store examples/shop.yml | python3 -c '
import json, sys
d = json.load(sys.stdin)
for cname, c in d["clusters"].items():
    for s in c["services"]:
        print("%-8s %-12s scale=%s env=%s" % (cname, s["breed"]["name"], s["scale"], s["environment"]))'

step "plan and apply the canary on the in-memory driver"
"$vamp" plan examples/sava-canary.yml
"$vamp" apply examples/sava-canary.yml
"$vamp" plan examples/sava-canary.yml
"$vamp" status sava-canary --format human

step "route: where does a Chrome-on-Android request go?"
"$vamp" route examples/gateway.yml --seed 7 \
  --request '{"headers": {"User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/120.0 Mobile"}}'

step "simulate: how a traffic mix splits (exactly and by sampling)"
"$vamp" simulate examples/gateway.yml --traffic examples/traffic.json --samples 20000 | python3 -c '
import json, sys
d = json.load(sys.stdin)
for name, r in d["routes"].items():
    print("%-34s exact %.4f  sampled %.4f" % (name, r["exact"], r["sampled"]))'

step "export: the gateway as an haproxy.cfg"
"$vamp" export haproxy examples/gateway.yml -o "$state/haproxy.cfg"
grep -cE '^(frontend|backend)' "$state/haproxy.cfg" | sed 's/^/sections: /'
if command -v haproxy >/dev/null; then haproxy -c -q -f "$state/haproxy.cfg" && echo "haproxy -c: valid"; fi

step "sla: replay response times through the canary's SLA"
"$vamp" sla evaluate --blueprint examples/sava-canary.yml --logs examples/sava-samples.jsonl

step "remove the deployment (draining first)"
"$vamp" remove sava-canary
