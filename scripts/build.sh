#!/usr/bin/env bash
# Compiles src/ to dist/ and ships the node script beside the module that loads it.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
npx tsc -p tsconfig.build.json
cp src/node-script/netdiag-node.sh dist/node-script/netdiag-node.sh
