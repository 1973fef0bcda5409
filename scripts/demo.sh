#!/usr/bin/env bash
# The main job, on the embedded default (the in-memory driver; no setup):
# check and expand blueprints, resolve one against a store of artifacts,
# plan and apply a canary release, route and simulate traffic, export the
# gateway to HAProxy and replay response times through an SLA; then run the
# server (`vamp serve`), PUT a blueprint to its REST API with curl and watch
# its event stream.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vamp/target}"
# curl drives the server's REST API at the end; python3 formats output.
need=()
command -v curl >/dev/null || need+=(curl)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  sudo_=(); [ "$(id -u)" = 0 ] || sudo_=(sudo)
  echo "installing ${need[*]}..."
  "${sudo_[@]}" apt-get update -qq && "${sudo_[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
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

step "serve: the Vamp server on the in-memory driver, driven with curl"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
api="http://127.0.0.1:$port/api/v1"
"$vamp" serve --listen "127.0.0.1:$port" --store "$state/server" --gateway none &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$state"' EXIT
for _ in $(seq 1 50); do curl -fs "$api/info" -H 'Accept: application/json' >/dev/null && break; sleep 0.1; done
# The event stream, in the background: every event the server publishes.
curl -sN "$api/events/stream" > "$state/events" &
watcher=$!
sleep 0.3
echo "PUT $api/deployments/sava-canary"
curl -fs -X PUT "$api/deployments/sava-canary" -H 'Accept: application/json' \
  -H 'Content-Type: application/x-yaml' --data-binary @examples/sava-canary.yml >/dev/null
for _ in $(seq 1 50); do grep -q 'synchronization:deployed' "$state/events" && break; sleep 0.1; done
sleep 0.3
kill "$watcher" 2>/dev/null || true
echo "events seen on $api/events/stream:"
python3 - "$state/events" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("data:"):
        e = json.loads(line[5:])
        print("  %-16s %s" % (e["type"], " ".join(t for t in e["tags"] if ":" in t)))
PY
echo "GET $api/deployments/sava-canary: the services and their status"
curl -fs "$api/deployments/sava-canary" -H 'Accept: application/json' | python3 -c '
import json, sys
d = json.load(sys.stdin)
for cname, c in d["clusters"].items():
    for s in c["services"]:
        print("  %-8s %-12s %-8s %s instance(s)" % (cname, s["breed"]["name"], s["status"]["phase"]["name"] if isinstance(s["status"].get("phase"), dict) else s["status"].get("phase"), len(s.get("instances", []))))'
kill "$server"
wait "$server" 2>/dev/null || true
echo "server stopped"
