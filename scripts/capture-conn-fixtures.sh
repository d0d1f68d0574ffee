#!/bin/sh
# Records conn-check's counter fixtures from this machine's kernel: two throwaway namespaces
# (ndfix-cc-a, ndfix-cc-b) joined by a veth; B drops A's pings with an INPUT rule and, in a second
# scenario, has ip_forward=0 while A routes through it. For each scenario the counters of B are read
# before and after three pings, with the commands the node script runs. Needs root.
set -eu
OUT=${1:-test/fixtures/conn-check/lab}
A=ndfix-cc-a B=ndfix-cc-b
cleanup() { ip netns del $A 2>/dev/null || true; ip netns del $B 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add $A
ip netns add $B
ip -n $A link add va type veth peer name vb netns $B
ip -n $A addr add 10.99.0.1/24 dev va
ip -n $B addr add 10.99.0.2/24 dev vb
ip -n $A link set va up
ip -n $B link set vb up
ip -n $A link set lo up
ip -n $B link set lo up
ip -n $A route add 10.99.1.0/24 via 10.99.0.2
ip netns exec $B sysctl -q -w net.ipv4.ip_forward=1
# Calico writes a per-workload chain that ends in this drop (felix rule renderer).
ip netns exec $B iptables -N cali-tw-vb
ip netns exec $B iptables -A cali-tw-vb -m comment --comment "Drop if no policies passed packet" -m mark --mark 0x0/0x10000 -j DROP
ip netns exec $B iptables -A INPUT -i vb -s 10.99.0.1/32 -p icmp -j DROP
ip netns exec $B iptables -A FORWARD -o vb -j cali-tw-vb
mkdir -p "$OUT"
snap() { # scenario phase
  ip netns exec $B iptables-save -c >"$OUT/$1-$2.iptables"
  ip netns exec $B cat /proc/net/snmp >"$OUT/$1-$2.snmp"
  ip netns exec $B cat /proc/net/netstat >"$OUT/$1-$2.netstat"
  ip netns exec $B ip -s -j link show >"$OUT/$1-$2.link.json"
  ip netns exec $B ip -j neigh show >"$OUT/$1-$2.neigh.json"
  ip netns exec $B sh -c 'for f in /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/*/forwarding; do printf "%s:%s\n" "$f" "$(cat $f)"; done' >"$OUT/$1-$2.sysctl"
  ip netns exec $B nft list ruleset >"$OUT/$1-$2.nft" 2>/dev/null || true
  ip netns exec $B conntrack -S >"$OUT/$1-$2.conntrack" 2>/dev/null || true
}
# The pings as the node script runs them (stdout and stderr together), kept as the probe's output.
ping_a() { ip netns exec $A sh -c 'ping -n -c 3 -i 0.2 -W 1 "$0" 2>&1' "$1" >"$OUT/$2-ping.txt" || true; }
snap drop before; ping_a 10.99.0.2 drop; snap drop after
ip netns exec $B sysctl -q -w net.ipv4.ip_forward=0
snap noforward before; ping_a 10.99.1.5 noforward; snap noforward after
{
  printf '{\n  "captured": "%s",\n  "kernel": "%s",\n  "iptables": "%s",\n  "iproute2": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -r)" "$(iptables -V)" "$(ip -V)"
  printf '  "script": "scripts/capture-conn-fixtures.sh",\n  "what": "counters of %s before/after 3 pings from %s: drop = INPUT DROP for 10.99.0.1 icmp; noforward = ip_forward=0 while A routes 10.99.1.5 through B"\n}\n' "$B" "$A"
} >"$OUT/meta.json"
