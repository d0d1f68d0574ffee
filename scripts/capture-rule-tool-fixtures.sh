#!/usr/bin/env bash
# Captures the node script's host-kube-proxy output (NETDIAG_COMPRESS=0) in a throwaway network
# namespace, under busybox sh with busybox applets first on PATH as in the Alpine probe image, for
# the "could not read" unit tests (test/unit/kube-proxy/rule-dumps.test.ts). Root only.
#   readable.txt        real tools, root: the kube-proxy-like rules below are read
#   tools-missing.txt   PATH has busybox applets, nsenter and ip only: every rule tool exits 127
#   unprivileged.txt    the tools run as uid 65534 with no capabilities (nsenter is replaced by a
#                       wrapper that only runs its command, since setns itself needs CAP_SYS_ADMIN):
#                       the kernel refuses each of them
set -euo pipefail
cd "$(dirname "$0")/.."
out=test/fixtures/rule-tools
ns=ndfix-rules
busybox=$(command -v busybox) || { echo "capture: busybox is not installed" >&2; exit 2; }
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/applets" "$work/minimal" "$work/unpriv"
for a in $("$busybox" --list); do
  case $a in ip | nsenter | ping | ping6 | arping | nc | nslookup) ;; *) ln -s "$busybox" "$work/applets/$a" ;; esac
done
ln -s "$(command -v nsenter)" "$work/minimal/nsenter"
ln -s "$(command -v ip)" "$work/minimal/ip"
printf '#!/bin/sh\nwhile [ "$1" != -- ]; do shift; done; shift\nexec %s --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$@"\n' "$(command -v setpriv)" >"$work/unpriv/nsenter"
chmod 755 "$work/unpriv/nsenter"

ip netns del "$ns" 2>/dev/null || true
ip netns add "$ns"
ip netns exec "$ns" iptables-nft-restore <<'RULES'
*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-CDGGSHYLG3RE2FKL - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -d 10.96.100.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL
-A KUBE-SVC-CDGGSHYLG3RE2FKL -p tcp -m tcp -j DNAT --to-destination 10.244.1.1:8080
COMMIT
RULES
ip netns exec "$ns" sleep 300 &
pid=$!
sleep 0.3
system=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
capture() { # NAME PATH
  NETDIAG_SCRIPT=$(cat src/node-script/netdiag-node.sh) NETDIAG_HOST_PID=$pid NETDIAG_COMPRESS=0 PATH=$2 \
    "$work/applets/sh" -c 'eval "$NETDIAG_SCRIPT"' netdiag-node tok host-kube-proxy >"$out/$1.txt" 2>&1 || true
  # Fields that change per run: the date in iptables-save's header.
  sed -i -E 's/( v[0-9.]+( \([a-z_]+\))?) on .*/\1 on <date>/' "$out/$1.txt"
}
capture readable "$work/applets:$system"
capture tools-missing "$work/applets:$work/minimal"
capture unprivileged "$work/unpriv:$work/applets:$system"
{
  echo "# rule-tools fixtures"
  echo
  echo "Captured by scripts/capture-rule-tool-fixtures.sh on $(date -u +%Y-%m-%d), kernel $(uname -r),"
  echo "$(. /etc/os-release; echo "$PRETTY_NAME"), $(iptables-nft-save --version), $(nft --version),"
  echo "ipvsadm $(ipvsadm --version 2>&1 | head -n1 | cut -c1-60), $("$busybox" | head -n1 | cut -d' ' -f1-3)."
  echo "Token \`tok\`; request \`host-kube-proxy\`; NETDIAG_COMPRESS=0 (plain sections)."
} >"$out/PROVENANCE.md"
echo "capture: wrote $out" >&2
