#!/usr/bin/env bash
# One krew release: archive, sha256 and validated manifest (see scripts/krew-release.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import ./test/ts-node-register.mjs scripts/krew-release.ts "$@"
