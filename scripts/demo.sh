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
run kubectl netdiag veth-peer -n kube-system -l k8s-app=kube-dns -o wide
run kubectl netdiag veth-peer --node lab-node-3
run kubectl netdiag veth-peer web-2 -o dot
run kubectl netdiag trace-svc web
run kubectl netdiag cleanup
