#!/usr/bin/env bash
# Benchmark: start-up. Wall time of `kubectl netdiag --help` and of a command's own overhead up to
# its first API call (`veth-peer web-1 --kubeconfig /nonexistent` fails right at connect), next to
# `kubectl version --client` on the same machine, in the same run. Each line is the median of
# RUNS runs (default 9) after one warm-up run.
#
# usage: bash scripts/bench/startup.sh [RUNS]
#   NETDIAG_BENCH_BIN  directory holding the kubectl-netdiag to measure (default: the repo's bin/,
#                      i.e. the compiled dist/)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-9}
BIN=${NETDIAG_BENCH_BIN:-$PWD/bin}
BUNDLE=${NETDIAG_BENCH_BUNDLE:-$PWD/dist-bundle/kubectl-netdiag.mjs}

echo "== startup: $(nproc) cores, node $(node --version), $(kubectl version --client 2>/dev/null | head -n 1); uptime: $(uptime)"

# median_ms LABEL CMD...: runs CMD RUNS times (stdout/stderr discarded, exit code ignored).
median_ms() {
  local label=$1
  shift
  "$@" >/dev/null 2>&1 || true
  local times=() i t0 t1
  for ((i = 0; i < RUNS; i++)); do
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000000)))
  done
  local sorted
  sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
  local med
  med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
  printf '%-58s %6s ms   (runs: %s)\n' "$label" "$med" "$sorted"
  LAST_MEDIAN=$med
}

[ -x "$BIN/kubectl-netdiag" ] || { echo "skip: $BIN/kubectl-netdiag not found (run npm run build)"; exit 0; }

median_ms 'kubectl version --client' kubectl version --client
BASE=$LAST_MEDIAN
median_ms 'node -e 0 (bare node start)' node -e 0
median_ms 'kubectl netdiag --help (dist/)' env PATH="$BIN:$PATH" kubectl netdiag --help
HELP=$LAST_MEDIAN
median_ms 'kubectl-netdiag --help (dist/, no kubectl in front)' "$BIN/kubectl-netdiag" --help
median_ms 'kubectl netdiag veth-peer web-1 --kubeconfig /nonexistent' env PATH="$BIN:$PATH" kubectl netdiag veth-peer web-1 --kubeconfig /nonexistent
FAIL=$LAST_MEDIAN
if [ -f "$BUNDLE" ]; then
  BDIR=$(mktemp -d)
  trap 'rm -rf "$BDIR"' EXIT
  ln -s "$BUNDLE" "$BDIR/kubectl-netdiag"
  median_ms 'kubectl netdiag --help (dist-bundle/)' env PATH="$BDIR:$PATH" kubectl netdiag --help
  median_ms 'kubectl netdiag veth-peer ... /nonexistent (dist-bundle/)' env PATH="$BDIR:$PATH" kubectl netdiag veth-peer web-1 --kubeconfig /nonexistent
else
  echo "dist-bundle/kubectl-netdiag.mjs not built: bundle not measured"
fi
awk -v b="$BASE" -v h="$HELP" -v f="$FAIL" 'BEGIN { printf "ratio to kubectl version --client: --help %.1fx, veth-peer to connect error %.1fx (target <= 2x)\n", h / b, f / b }'
