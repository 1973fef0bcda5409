#!/usr/bin/env bash
# Prepares DIR as a node modules folder for workflows: DIR/vamp-node-client (this package, as
# published) and DIR/highland (with its own dependencies, at the versions package-lock.json
# pins). Put DIR on NODE_PATH and `require('vamp-node-client')` and `require('highland')`
# resolve from any script, with no network. This script needs node and npm, and reaches the npm
# registry (or npm's cache: --prefer-offline) for highland; nothing else does later.
# Running it again replaces those packages and leaves anything else in DIR alone.
#
# Usage: install-runtime.sh DIR
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
for tool in node npm tar; do
  command -v "$tool" >/dev/null || { echo "install-runtime.sh: $tool is not installed" >&2; exit 1; }
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
dest=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The client's files exactly as published (package.json "files"); no network.
(cd "$here" && npm pack --silent --ignore-scripts --pack-destination "$work" >/dev/null)
mkdir -p "$work/modules/vamp-node-client"
tar -xzf "$work"/vamp-node-client-*.tgz -C "$work/modules/vamp-node-client" --strip-components=1

# Its runtime dependencies at the locked versions, without the dev and type-only packages.
mkdir -p "$work/deps"
cp "$here/package.json" "$here/package-lock.json" "$work/deps/"
(cd "$work/deps" && npm ci --omit=dev --omit=optional --omit=peer --ignore-scripts --no-audit --no-fund \
  --prefer-offline --loglevel=error >/dev/null)
rm -f "$work/deps/node_modules/.package-lock.json"
cp -R "$work/deps/node_modules/." "$work/modules/"

# Replace each package in DIR (a rename per package, after the whole set is ready).
for entry in "$work/modules"/* "$work/modules"/.[!.]*; do
  [ -e "$entry" ] || continue
  name=$(basename "$entry")
  rm -rf "${dest:?}/$name"
  mv "$entry" "$dest/$name"
done

# The folder works on its own: resolve both packages from elsewhere, with NODE_PATH only.
(cd / && NODE_PATH="$dest" node -e "require('vamp-node-client'); require('highland')" >/dev/null)
echo "vamp-node-client and highland are in $dest: put it on NODE_PATH"
