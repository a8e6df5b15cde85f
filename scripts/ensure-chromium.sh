#!/usr/bin/env bash
# Makes sure Debian's chromium is installed (the dashboard browser test drives it with
# playwright-core), then runs the given command. Installs it when missing and running as root;
# otherwise says how to install it and goes on (only the browser test needs it).
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "moments-bridge: chromium not found; installing Debian's chromium (for the dashboard browser test)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2
  else
    echo "moments-bridge: chromium is not installed — the dashboard browser test needs it: 'sudo apt-get install chromium' (or set CHROMIUM_PATH)." >&2
  fi
fi
exec "$@"
