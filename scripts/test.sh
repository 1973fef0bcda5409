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
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
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

# Every stage runs; the script fails at the end if any stage failed.
failed=()
stage() {
  local name=$1; shift
  say "$name"
  if ! "$@"; then failed+=("$name"); echo "FAILED: $name" >&2; fi
}

cargo_tests() {
  local log
  log=$(mktemp)
  local rc=0
  cargo test --workspace --no-fail-fast --quiet 2>&1 | tee "$log" || rc=1
  grep -E '^test result: ' "$log" | awk '{p+=$4; f+=$6} END {printf "cargo: %d passed, %d failed\n", p, f}'
  rm -f "$log"
  return $rc
}

conformance() {
  cargo build -p vamp-cli --quiet || return 1
  local gaps=()
  [ -f tests/conformance-gaps.txt ] && gaps=(--known-gaps tests/conformance-gaps.txt)
  python3 "$ROOT/../shared/conformance/check.py" --vamp "$CARGO_TARGET_DIR/debug/vamp" "${gaps[@]}"
}

stage "cargo fmt --check" cargo fmt --all -- --check
stage "cargo clippy" cargo clippy --workspace --all-targets --quiet -- -D warnings
stage "cargo doc" env RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
stage "cargo test" cargo_tests
stage "DSL conformance corpus" conformance
if [ -x bindings/test.sh ]; then
  stage "Python and Node bindings" bindings/test.sh
fi

if [ ${#failed[@]} -gt 0 ]; then
  printf '\nfailed stages: %s\n' "${failed[*]}" >&2
  exit 1
fi
printf '\nall stages passed\n'
