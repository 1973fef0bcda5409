#!/usr/bin/env bash
# Checks both bindings with the workspace lints, builds them (profile
# `bindings`), checks that the generated index.d.ts is committed as built,
# and runs both test suites. Installs what it needs: a venv with maturin,
# pytest and PyYAML under the cache dir, and the Node package's dev
# dependencies (the napi CLI) with npm. Needs cargo, python3 (with venv) and
# node/npm. Ends with `bindings: N passed, M failed`.
set -euo pipefail
cd "$(dirname "$0")"
BINDINGS=$(pwd)
ROOT=$(cd .. && pwd)
CACHE=${VAMP_CACHE:-$HOME/.cache/vamp}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
export CARGO_TERM_COLOR=never
mkdir -p "$CACHE"
say() { printf '\n==> %s\n' "$*"; }

say "the vamp command (to compare canonical output)"
if (cd "$ROOT" && cargo build -p vamp-cli --quiet); then
  export VAMP_CLI="$CARGO_TARGET_DIR/debug/vamp"
else
  echo "warning: the vamp command did not build; the tests comparing with it are skipped" >&2
fi

say "lints: both bindings under the workspace lints"
# vamp-node copies [workspace.lints] (napi needs unsafe_code denied, not
# forbidden): the copy must match but for that entry.
python3 - "$ROOT/Cargo.toml" "$BINDINGS/node/Cargo.toml" <<'EOF_PY'
import sys, tomllib
workspace = tomllib.load(open(sys.argv[1], "rb"))["workspace"]["lints"]
node = tomllib.load(open(sys.argv[2], "rb"))["lints"]
workspace["rust"]["unsafe_code"] = "deny"
if node != workspace:
    sys.exit(f"bindings/node/Cargo.toml [lints] differs from [workspace.lints]: {node} != {workspace}")
EOF_PY
(cd "$ROOT" && cargo clippy --quiet -p vamp-python -p vamp-node -- -D warnings)

say "python: venv, pip install ./bindings/python"
VENV="$CACHE/bindings-venv"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check maturin pytest pyyaml
export PATH="$VENV/bin:$PATH"  # the maturin build backend runs `maturin` from PATH
"$VENV/bin/pip" install -q --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps "$BINDINGS/python"

say "node: npm install, napi build (the addon and index.d.ts)"
(cd "$BINDINGS/node" && npm install --no-audit --no-fund --loglevel=error --ignore-scripts && npm run --silent build)
# index.d.ts is generated from the #[napi] annotations and committed: the
# build must not change it.
if ! git -C "$ROOT" diff --quiet -- bindings/node/index.d.ts; then
  git -C "$ROOT" diff --stat -- bindings/node/index.d.ts
  echo "error: bindings/node/index.d.ts is out of date with src/lib.rs; commit the generated file" >&2
  exit 1
fi

say "pytest"
py_log="$CACHE/bindings-pytest.log"
set +e
(cd "$BINDINGS/python" && "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests) 2>&1 | tee "$py_log"
py_rc=${PIPESTATUS[0]}

say "node --test"
node_log="$CACHE/bindings-node-test.log"
(cd "$BINDINGS/node" && node --test --test-reporter=tap __test__/) 2>&1 | tee "$node_log"
node_rc=${PIPESTATUS[0]}
say "node --test: vamp-node-client"
client_log="$CACHE/bindings-node-client-test.log"
(cd "$BINDINGS/node/client" && npm ci --no-audit --no-fund --loglevel=error && node --test --test-reporter=tap __test__/*.test.js) 2>&1 | tee "$client_log"
client_rc=${PIPESTATUS[0]}
set -e

count() { grep -Eo "[0-9]+ $1" "$2" | tail -1 | grep -Eo '[0-9]+' || echo 0; }
py_pass=$(count passed "$py_log"); py_fail=$(count failed "$py_log")
py_err=$(count error "$py_log")
node_pass=$(grep -E '^# pass ' "$node_log" | awk '{print $3}' | tail -1); node_pass=${node_pass:-0}
node_fail=$(grep -E '^# fail ' "$node_log" | awk '{print $3}' | tail -1); node_fail=${node_fail:-0}
client_pass=$(grep -E '^# pass ' "$client_log" | awk '{print $3}' | tail -1)
client_fail=$(grep -E '^# fail ' "$client_log" | awk '{print $3}' | tail -1)
node_pass=$((node_pass + ${client_pass:-0})); node_fail=$((node_fail + ${client_fail:-0}))
if [ "$client_rc" -ne 0 ] && [ "${client_fail:-0}" -eq 0 ]; then node_fail=$((node_fail + 1)); fi
passed=$((py_pass + node_pass))
failed=$((py_fail + py_err + node_fail))
# A runner that failed without counting a failure (a crash, no tests) still fails.
if [ "$py_rc" -ne 0 ] && [ "$((py_fail + py_err))" -eq 0 ]; then failed=$((failed + 1)); fi
if [ "$node_rc" -ne 0 ] && [ "$node_fail" -eq 0 ]; then failed=$((failed + 1)); fi
echo "python: $py_pass passed, $((py_fail + py_err)) failed; node: $node_pass passed, $node_fail failed"
echo "bindings: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
