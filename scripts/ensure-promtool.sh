#!/usr/bin/env bash
# Makes sure promtool (Debian package prometheus) is installed, then runs the given command. The
# metrics test lints the exporter with `promtool check metrics` and skips that one check without
# it, so CI installs it (when running as root) while `npm test` on a laptop does not insist.
set -euo pipefail
if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "moments-bridge: promtool not found; installing Debian's prometheus package (for the metrics lint test)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus) >&2 || echo "moments-bridge: could not install prometheus; the promtool check is skipped" >&2
  else
    echo "moments-bridge: promtool is not installed — the metrics lint check is skipped: 'sudo apt-get install prometheus'." >&2
  fi
fi
exec "$@"
