#!/usr/bin/env bash
# Every benchmark of issues #10 and #17, one after the other (several minutes in all). Figures, not pass/fail:
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
bash scripts/bundle.sh --outfile "$B/bundle/kubectl-netdiag.mjs"
export NETDIAG_BENCH_BIN=$PWD/$B/bin NETDIAG_TEST_BIN=$PWD/$B/bin NETDIAG_BENCH_BUNDLE=$PWD/$B/bundle/kubectl-netdiag.mjs
TS=(node --import ./test/ts-node-register.mjs)

bash scripts/bench/startup.sh 9
echo
"${TS[@]}" scripts/bench/rules.ts --reps 3
echo
"${TS[@]}" scripts/bench/transfer.ts
echo
"${TS[@]}" scripts/bench/memory.ts --runs 3
echo
# Issue 18: the largest tables of a 1,000-node run through cli-table3, against the hand-padded renderer.
"${TS[@]}" scripts/bench/tables.ts --reps 3
echo
# The lab is machine-global: what needs it holds the lab lock and takes its own lab down.
if [ "$(id -u)" = 0 ]; then
  flock /tmp/ndlab.lock bash -c 'trap "npm run --silent lab:down >/dev/null 2>&1" EXIT; npm run --silent lab:up >/dev/null 2>&1 && "$@"' _ "${TS[@]}" scripts/bench/fanout-reuse.ts --reps 3
else
  "${TS[@]}" scripts/bench/fanout-reuse.ts --reps 3 # prints skip: needs root
fi
echo
# Big clusters (issue 17): 10/100/1,000 nodes, 50 ms API latency, start-up in turns; its lab parts
# take the lab lock themselves. BENCH_SCALE_ARGS="--sizes 10,100" etc. narrows it.
"${TS[@]}" scripts/bench/scale.ts ${BENCH_SCALE_ARGS:-}
