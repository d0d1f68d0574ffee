#!/usr/bin/env bash
# Every benchmark of issue #10, one after the other (a few minutes in all). Figures, not pass/fail:
# each script prints the machine, `uptime` and medians. Parts that need root or the lab say "skip:".
# The CLI is measured from a private build of the current src/ (node_modules/.cache/netdiag-bench),
# so the benchmark never rebuilds dist/ under someone else's running tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=node_modules/.cache/netdiag-bench
rm -rf "$B"
mkdir -p "$B/bin"
npx tsc -p tsconfig.build.json --outDir "$B/dist"
cp src/node-script/netdiag-node.sh "$B/dist/node-script/netdiag-node.sh"
cp bin/kubectl-netdiag "$B/bin/kubectl-netdiag"
export NETDIAG_BENCH_BIN=$PWD/$B/bin NETDIAG_TEST_BIN=$PWD/$B/bin
TS=(node --import ./test/ts-node-register.mjs)

bash scripts/bench/startup.sh 9
echo
"${TS[@]}" scripts/bench/rules.ts --reps 3
echo
"${TS[@]}" scripts/bench/transfer.ts
echo
"${TS[@]}" scripts/bench/fanout-reuse.ts --reps 3
