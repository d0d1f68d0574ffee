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

# Exit 0/1 are answers (1 = findings); 2 and above mean a command could not do its job.
broken=0
run() {
  printf '\n$ %s\n' "$*"
  "$@"
  local rc=$?
  printf '(exit %d)\n' "$rc"
  [ "$rc" -le 1 ] || broken=$((broken + 1))
}
run kubectl get nodes -o wide
run kubectl get pods -A -o wide
run kubectl netdiag veth-peer web-1
run kubectl netdiag veth-peer --node lab-node-3 -o wide
run kubectl netdiag veth-peer web-2 -o dot
run kubectl netdiag trace-svc web --from team-b/client-1 --probe
run kubectl netdiag arp-check web-1 --probe
run kubectl netdiag mtu-probe web-1
run kubectl netdiag dns-check client-1 -n team-b --external-name www.example.test  # the lab upstream's name
run kubectl netdiag dns-check client-1 -n team-b --name api
run kubectl netdiag node-check --all
run kubectl netdiag node-diff lab-node-1 lab-node-2
run kubectl netdiag smoke --external-name www.example.test
run kubectl netdiag smoke --matrix
run kubectl netdiag conn-check web-1 web-2
run kubectl netdiag conn-check team-b/client-1 svc/api -n team-a --capture
run kubectl netdiag cleanup
if [ "$broken" -gt 0 ]; then
  echo "demo: $broken command(s) could not run" >&2
  exit 1
fi
