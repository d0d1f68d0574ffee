#!/bin/sh
# Records TCPMSS (MSS clamping) rule dumps from this machine's kernel for the MSS clamp parser: a
# throwaway namespace (ndfix-mss) gets the two clamping rules CNIs and admins write (clamp to the
# path MTU in mangle FORWARD; a fixed MSS on the overlay's way out in mangle POSTROUTING), then the
# dumps are read with the commands the node script runs. A namespace without any rule is recorded
# too: "nothing there". Needs root.
set -eu
OUT=${1:-test/fixtures/mss-clamp/lab}
NS=ndfix-mss EMPTY=ndfix-mss-empty
cleanup() { ip netns del $NS 2>/dev/null || true; ip netns del $EMPTY 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add $NS
ip netns add $EMPTY
ip -n $NS link add vx0 type veth peer name vx0peer
ip -n $NS link set vx0 mtu 1450 up
for save in iptables-nft iptables-legacy; do
  ip netns exec $NS $save -t mangle -A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
  ip netns exec $NS $save -t mangle -A POSTROUTING -o vx0 -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1410
  # Not a clamp: another mangle rule the parser must pass over.
  ip netns exec $NS $save -t mangle -A POSTROUTING -o vx0 -p udp -j CHECKSUM --checksum-fill
done
mkdir -p "$OUT"
ip netns exec $NS iptables-nft-save -c >"$OUT/clamps.iptables-nft-save-c"
ip netns exec $NS iptables-legacy-save -c >"$OUT/clamps.iptables-legacy-save-c"
ip netns exec $EMPTY iptables-nft-save -c >"$OUT/empty.iptables-nft-save-c"
{
  printf '{\n  "captured": "%s",\n  "kernel": "%s",\n  "iptables": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -r)" "$(iptables -V)"
  printf '  "script": "scripts/capture-mss-fixtures.sh",\n  "what": "clamps.*: mangle FORWARD --clamp-mss-to-pmtu, mangle POSTROUTING -o vx0 --set-mss 1410 and a CHECKSUM rule, in both iptables backends of %s; empty.*: %s, a namespace with no rule"\n}\n' "$NS" "$EMPTY"
} >"$OUT/meta.json"
