#!/usr/bin/env bash
# `npm test`: the vitest suite, then one plain summary line ("tests: N passed, N failed") that CI
# and humans can read at a glance. Extra arguments go to vitest (e.g. a test file path).
set -uo pipefail
report="$(mktemp -t mb-vitest-XXXXXX.json)"
vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
code=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ""}`);
' "$report" 2>/dev/null || echo "tests: no report (vitest exited with $code)"
rm -f "$report"
exit "$code"
