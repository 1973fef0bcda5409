#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, docs, unit, integration,
# property and real-component tests (HAProxy, Docker), and the shared DSL
# conformance corpus. Installs what it needs on a bare Debian machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

say() { printf '\n==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1; fi
}

# --- system packages: HAProxy (real gateway), Docker + busybox (real orchestrator)
need=()
command -v haproxy >/dev/null || need+=(haproxy)
command -v dockerd >/dev/null || need+=(docker.io)
[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need+=(busybox-static)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --- Docker daemon, without bridge networking (containers use host networking)
if [ -z "${VAMP_SKIP_DOCKER:-}" ] && ! docker info >/dev/null 2>&1; then
  say "starting dockerd"
  as_root sh -c 'nohup dockerd --bridge=none --iptables=false --ip-masq=false >/tmp/vamp-dockerd.log 2>&1 &' || true
  for _ in $(seq 1 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || echo "warning: dockerd did not start (see /tmp/vamp-dockerd.log)" >&2
fi

# --- Rust: a stable target dir so later runs reuse the build
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vamp/target}"
export CARGO_TERM_COLOR=never
export RUST_BACKTRACE=1

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

say "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

say "cargo test"
cargo test --workspace --quiet 2>&1 | tee /tmp/vamp-cargo-test.log
grep -E '^test result: ' /tmp/vamp-cargo-test.log | awk '{p+=$4; f+=$6} END {printf "cargo: %d passed, %d failed\n", p, f}'

say "DSL conformance corpus"
cargo build -p vamp-cli --quiet
gaps=()
[ -f tests/conformance-gaps.txt ] && gaps=(--known-gaps tests/conformance-gaps.txt)
python3 "$ROOT/../shared/conformance/check.py" --vamp "$CARGO_TARGET_DIR/debug/vamp" "${gaps[@]}"
