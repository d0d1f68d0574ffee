#!/usr/bin/env bash
# The whole test suite: type check, then unit, lab and e2e tests in one mocha run (one closing
# "N passed, N failed" line). Lab and e2e tests need root: they bring the lab up here and tear it
# down on exit; without root they are skipped and say why.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== type check" >&2
npx tsc --noEmit -p .
echo "== build" >&2
bash scripts/build.sh
export PATH="$PWD/bin:$PATH"

if [ "$(id -u)" = 0 ] && [ "${NETDIAG_SKIP_LAB:-}" != 1 ]; then
  trap 'npm run --silent lab:down >&2 || true' EXIT
  echo "== lab up" >&2
  npm run --silent lab:up >&2
fi

echo "== tests" >&2
npx mocha --timeout 120000 'test/**/*.test.ts'
