#!/usr/bin/env bash
# The main job against the lab cluster: bring it up, run kubectl netdiag through the real kubectl
# binary, and take the lab down again (also on failure or Ctrl-C).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH"
[ -f dist/cli/main.js ] || bash scripts/build.sh
trap 'npm run --silent lab:down >&2' EXIT
npm run --silent lab:up >&2 || exit 3
export KUBECONFIG="$PWD/.lab/kubeconfig"

run() {
  printf '\n$ %s\n' "$*"
  "$@"
  printf '(exit %d)\n' "$?"
}
run kubectl get nodes -o wide
run kubectl get pods -A -o wide
run kubectl netdiag veth-peer web-1
run kubectl netdiag veth-peer --node lab-node-3 -o wide
run kubectl netdiag veth-peer web-2 -o dot
run kubectl netdiag trace-svc web --from team-b/client-1 --probe
run kubectl netdiag arp-check web-1 --probe
run kubectl netdiag mtu-probe web-1
run kubectl netdiag dns-check client-1 -n team-b --name api
run kubectl netdiag node-check --all
run kubectl netdiag node-diff lab-node-1 lab-node-2
run kubectl netdiag smoke
run kubectl netdiag cleanup
