#!/usr/bin/env bash
# Makes sure redis-server is installed (tests and `redis: embedded` start their own), then runs the
# given command. Installs Debian's redis-server when missing and running as root; otherwise stops
# with the one line that says how to install it.
set -euo pipefail
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "moments-bridge: redis-server not found; installing Debian's redis-server" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >&2
    # Debian's package starts a system service on 6379; we only need the binary.
    (service redis-server stop || true) >/dev/null 2>&1
  else
    echo "moments-bridge: redis-server is not installed — install it with 'sudo apt-get install redis-server' (or 'brew install redis'), or set redis.url to an existing Redis." >&2
    exit 1
  fi
fi
exec "$@"
