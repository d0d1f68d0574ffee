#!/usr/bin/env bash
# One-file builds of the CLI (see scripts/bundle.ts): the ESM bundle for npm and krew, or with
# --sea the CommonJS entry for the single executable.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import ./test/ts-node-register.mjs scripts/bundle.ts "$@"
