#!/usr/bin/env bash
# The main job on the embedded default: read, check and expand an example
# blueprint, then show a routing condition decision. Needs only cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vamp/target}"
cargo build -q -p vamp-cli
vamp="$CARGO_TARGET_DIR/debug/vamp"
bp=examples/sava-canary.yml

echo "== vamp check $bp"
"$vamp" check "$bp"

echo "== vamp canonical blueprint $bp (first lines)"
"$vamp" canonical blueprint "$bp" | head -n 40

echo "== does a Chrome-on-Android request match the canary condition?"
"$vamp" condition 'user-agent == Chrome and user-agent == Android' \
  --request '{"headers": {"User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/120.0 Mobile"}}'
