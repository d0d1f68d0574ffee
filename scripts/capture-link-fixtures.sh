#!/usr/bin/env bash
# Records real kernel output for the link-level parsers (src/parse/ip-*.ts, ethtool-stats.ts,
# bridge-link.ts, sysctl.ts, ping.ts) into test/fixtures/<tool>/lab/.
#
# It builds its own throwaway namespaces (prefix ndfix-), removed by a trap on exit:
#
#   ndfix-pod  eth0 10.77.1.2/32 mtu 1410 --veth-- ndfixcali0 (ee:ee:ee:ee:ee:ee, proxy_arp=1)
#              default via 169.254.1.1 onlink      /32 route on the host, Calico style
#   ndfix-pod2 eth0 10.77.2.2/24 --veth-- vethbr0 (hairpin on)  \
#   ndfix-pod3 eth0 10.77.2.3/24 --veth-- vethbr1 (hairpin off,  > br0 10.77.2.1/24 in ndfix-host
#                                          learning off)        /
#   ndfix-host ul0  192.168.77.1/24 --veth-- ul0  192.168.77.2/24 ndfix-peer   (underlay, 1500)
#              mtu0 192.168.78.1/24 --veth-- mtu0 192.168.78.2/24 ndfix-peer   (small MTU 1400)
#              vxlan0 id 42 dstport 8472 dev ul0, 10.77.0.0/32  <-> peer vxlan0 10.77.9.0/32
#
# Only addresses inside these namespaces are pinged. Run as root: sudo bash scripts/capture-link-fixtures.sh
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
FIX="$ROOT/test/fixtures"
SCRIPT_NAME="scripts/capture-link-fixtures.sh"
NS_HOST=ndfix-host
NS_POD=ndfix-pod
NS_POD2=ndfix-pod2
NS_POD3=ndfix-pod3
NS_PEER=ndfix-peer
ALL_NS=("$NS_HOST" "$NS_POD" "$NS_POD2" "$NS_POD3" "$NS_PEER")

if [ "$(id -u)" -ne 0 ]; then
  echo "capture-link-fixtures: needs root (network namespaces)" >&2
  exit 2
fi

cleanup() {
  for ns in "${ALL_NS[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
  done
}
# Leftovers of an interrupted earlier run would make "ip netns add" fail.
cleanup
trap cleanup EXIT INT TERM

IP_VERSION=$(ip -V)
ETHTOOL_VERSION=$(ethtool --version)
BRIDGE_VERSION=$(bridge -V)
PING_VERSION=$(ping -V | head -n 1)
KERNEL=$(uname -r)
CAPTURED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
DISTRO=$(. /etc/os-release && echo "$PRETTY_NAME")

json_string() { # JSON-quote one argument without jq
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

# capture TOOL NAME NETNS DESCRIPTION -- COMMAND...
# Runs COMMAND inside NETNS, writes stdout to test/fixtures/TOOL/lab/NAME and a sibling
# NAME.meta.json with the provenance. A non-zero exit status is recorded, not fatal: failing
# pings and "no stats" errors are fixtures too. stderr goes to NAME.stderr, except for ping:
# iputils prints "local error: message too long" on stderr between its stdout lines, and the
# node script collects ping with 2>&1, so ping fixtures hold both streams merged.
capture() {
  local tool=$1 name=$2 ns=$3 what=$4
  shift 5
  local dir="$FIX/$tool/lab"
  mkdir -p "$dir"
  local status=0
  rm -f "$dir/$name.stderr"
  if [ "$tool" = ping ]; then
    ip netns exec "$ns" "$@" >"$dir/$name" 2>&1 || status=$?
  else
    ip netns exec "$ns" "$@" >"$dir/$name" 2>"$dir/$name.stderr" || status=$?
  fi
  if [ -e "$dir/$name.stderr" ] && [ ! -s "$dir/$name.stderr" ]; then rm -f "$dir/$name.stderr"; fi
  if [ ! -s "$dir/$name.stderr" ]; then rm -f "$dir/$name.stderr"; fi
  {
    printf '{\n'
    printf '  "command": %s,\n' "$(json_string "ip netns exec $ns $*")"
    printf '  "netns": %s,\n' "$(json_string "$ns")"
    printf '  "what": %s,\n' "$(json_string "$what")"
    printf '  "exitStatus": %d,\n' "$status"
    printf '  "stderrFile": %s,\n' "$([ -e "$dir/$name.stderr" ] && json_string "$name.stderr" || echo null)"
    printf '  "stderrMerged": %s,\n' "$([ "$tool" = ping ] && echo true || echo false)"
    printf '  "ipVersion": %s,\n' "$(json_string "$IP_VERSION")"
    printf '  "bridgeVersion": %s,\n' "$(json_string "$BRIDGE_VERSION")"
    printf '  "ethtoolVersion": %s,\n' "$(json_string "$ETHTOOL_VERSION")"
    printf '  "pingVersion": %s,\n' "$(json_string "$PING_VERSION")"
    printf '  "kernel": %s,\n' "$(json_string "$KERNEL")"
    printf '  "distro": %s,\n' "$(json_string "$DISTRO")"
    printf '  "capturedAt": %s,\n' "$(json_string "$CAPTURED_AT")"
    printf '  "capturedBy": "captured by %s"\n' "$SCRIPT_NAME"
    printf '}\n'
  } >"$dir/$name.meta.json"
}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

echo "capture-link-fixtures: building namespaces ${ALL_NS[*]}" >&2
for ns in "${ALL_NS[@]}"; do
  ip netns add "$ns"
  in_ns "$ns" ip link set lo up
done

# --- ndfix-host <-> ndfix-peer: underlay and a small-MTU link --------------------------------
ip -n "$NS_HOST" link add ul0 type veth peer name ul0 netns "$NS_PEER"
ip -n "$NS_HOST" link add mtu0 mtu 1400 type veth peer name mtu0 mtu 1400 netns "$NS_PEER"
ip -n "$NS_HOST" addr add 192.168.77.1/24 dev ul0
ip -n "$NS_PEER" addr add 192.168.77.2/24 dev ul0
ip -n "$NS_HOST" addr add 192.168.78.1/24 dev mtu0
ip -n "$NS_PEER" addr add 192.168.78.2/24 dev mtu0
for ns in "$NS_HOST" "$NS_PEER"; do
  ip -n "$ns" link set ul0 up
  ip -n "$ns" link set mtu0 up
done
# Calico answers ARP for 169.254.1.1 only when the node has a default route.
ip -n "$NS_HOST" route add default via 192.168.77.2 dev ul0
ip -n "$NS_PEER" route add 10.77.2.0/24 via 192.168.78.1 dev mtu0
ip -n "$NS_PEER" route add 10.77.1.0/24 via 192.168.77.1 dev ul0

# --- vxlan overlay, flannel style (nolearning, static fdb + permanent neighbour) --------------
ip -n "$NS_HOST" link add vxlan0 type vxlan id 42 local 192.168.77.1 dev ul0 dstport 8472 nolearning
ip -n "$NS_PEER" link add vxlan0 type vxlan id 42 local 192.168.77.2 dev ul0 dstport 8472 nolearning
ip -n "$NS_HOST" link set vxlan0 address 0a:77:00:00:00:01 mtu 1450 up
ip -n "$NS_PEER" link set vxlan0 address 0a:77:00:00:00:02 mtu 1450 up
ip -n "$NS_HOST" addr add 10.77.0.0/32 dev vxlan0
ip -n "$NS_PEER" addr add 10.77.9.0/32 dev vxlan0
ip -n "$NS_HOST" route add 10.77.9.0/24 via 10.77.9.0 dev vxlan0 onlink
ip -n "$NS_PEER" route add 10.77.0.0/24 via 10.77.0.0 dev vxlan0 onlink
ip -n "$NS_HOST" neigh add 10.77.9.0 lladdr 0a:77:00:00:00:02 dev vxlan0 nud permanent
ip -n "$NS_PEER" neigh add 10.77.0.0 lladdr 0a:77:00:00:00:01 dev vxlan0 nud permanent
in_ns "$NS_HOST" bridge fdb append 0a:77:00:00:00:02 dev vxlan0 dst 192.168.77.2
in_ns "$NS_PEER" bridge fdb append 0a:77:00:00:00:01 dev vxlan0 dst 192.168.77.1

# --- Calico-style pod: /32, veth with proxy_arp, gateway 169.254.1.1 -------------------------
ip -n "$NS_HOST" link add ndfixcali0 type veth peer name eth0 netns "$NS_POD"
ip -n "$NS_HOST" link set ndfixcali0 address ee:ee:ee:ee:ee:ee up
ip -n "$NS_POD" link set eth0 mtu 1410 up
ip -n "$NS_HOST" link set ndfixcali0 mtu 1410
ip -n "$NS_POD" addr add 10.77.1.2/32 dev eth0
ip -n "$NS_POD" route add 169.254.1.1 dev eth0 scope link
ip -n "$NS_POD" route add default via 169.254.1.1 dev eth0
ip -n "$NS_HOST" route add 10.77.1.2/32 dev ndfixcali0 scope link
ip -n "$NS_HOST" route add blackhole 10.77.1.0/24
in_ns "$NS_HOST" sysctl -qw net.ipv4.conf.ndfixcali0.proxy_arp=1

# --- bridge-style pods: br0 with a hairpin port and a non-learning port ---------------------
ip -n "$NS_HOST" link add br0 type bridge
ip -n "$NS_HOST" addr add 10.77.2.1/24 dev br0
ip -n "$NS_HOST" link set br0 up
ip -n "$NS_HOST" link add vethbr0 type veth peer name eth0 netns "$NS_POD2"
ip -n "$NS_HOST" link add vethbr1 type veth peer name eth0 netns "$NS_POD3"
ip -n "$NS_HOST" link set vethbr0 master br0 up
ip -n "$NS_HOST" link set vethbr1 master br0 up
in_ns "$NS_HOST" bridge link set dev vethbr0 hairpin on
in_ns "$NS_HOST" bridge link set dev vethbr1 learning off
ip -n "$NS_POD2" addr add 10.77.2.2/24 dev eth0
ip -n "$NS_POD3" addr add 10.77.2.3/24 dev eth0
ip -n "$NS_POD2" link set eth0 up
ip -n "$NS_POD3" link set eth0 up
ip -n "$NS_POD2" route add default via 10.77.2.1
ip -n "$NS_POD3" route add default via 10.77.2.1
# A route with an MTU metric, the way a CNI pins the overlay MTU on a route.
ip -n "$NS_HOST" route add 10.77.8.0/24 via 192.168.77.2 dev ul0 mtu 1400

# --- sysctls: forwarding on, the seed-001 arp_ignore=2 on one port, mixed rp_filter ----------
in_ns "$NS_HOST" sysctl -qw net.ipv4.ip_forward=1
in_ns "$NS_HOST" sysctl -qw net.ipv4.conf.all.arp_announce=2
in_ns "$NS_HOST" sysctl -qw net.ipv4.conf.vethbr1.arp_ignore=2
in_ns "$NS_HOST" sysctl -qw net.ipv4.conf.all.rp_filter=1
in_ns "$NS_HOST" sysctl -qw net.ipv4.conf.ul0.rp_filter=2
in_ns "$NS_PEER" sysctl -qw net.ipv4.ip_forward=1
# Short reachable time on br0 so a STALE entry appears within the run.
in_ns "$NS_HOST" sysctl -qw net.ipv4.neigh.br0.base_reachable_time_ms=500
in_ns "$NS_HOST" sysctl -qw net.ipv4.neigh.br0.gc_stale_time=1

# --- neighbour states -------------------------------------------------------------------------
ip -n "$NS_HOST" neigh add 10.77.2.50 lladdr 02:00:00:00:02:50 dev br0 nud permanent
ip -n "$NS_HOST" neigh add 10.77.2.60 lladdr 02:00:00:00:02:60 dev br0 nud noarp
# pod3 first: by the time of the capture its entry has aged to STALE.
in_ns "$NS_HOST" ping -c 1 -W 1 10.77.2.3 >/dev/null
# An absent address pinged early: its entry ends FAILED after the 3 ARP probes.
in_ns "$NS_HOST" ping -c 1 -W 1 10.77.2.99 >/dev/null || true
in_ns "$NS_POD" ping -c 1 -W 2 169.254.1.1 >/dev/null || true
in_ns "$NS_POD" ping -c 1 -W 2 192.168.77.1 >/dev/null
sleep 4
in_ns "$NS_HOST" ping -c 1 -W 1 10.77.2.2 >/dev/null
in_ns "$NS_HOST" ping -c 1 -W 1 10.77.1.2 >/dev/null
in_ns "$NS_HOST" ping -c 1 -W 1 10.77.9.0 >/dev/null
# Another absent address pinged in the background right before the capture: INCOMPLETE.
in_ns "$NS_HOST" ping -c 1 -W 2 10.77.2.98 >/dev/null 2>&1 &
INCOMPLETE_PING=$!
sleep 0.3

echo "capture-link-fixtures: capturing" >&2
capture ip-neigh host.json "$NS_HOST" "neighbours of the host: REACHABLE, STALE, FAILED, INCOMPLETE, PERMANENT, NOARP" -- ip -j neigh show
capture ip-neigh host.txt "$NS_HOST" "same neighbours, text form" -- ip neigh show
capture ip-neigh host-nud-all.json "$NS_HOST" "nud all: also NOARP and NONE entries that plain show hides" -- ip -j neigh show nud all
capture ip-neigh host-nud-all.txt "$NS_HOST" "nud all, text form" -- ip neigh show nud all
wait "$INCOMPLETE_PING" || true
capture ip-neigh pod.json "$NS_POD" "Calico-style pod: gateway 169.254.1.1 answered by proxy_arp on the host veth" -- ip -j neigh show
capture ip-neigh pod.txt "$NS_POD" "Calico-style pod, text form" -- ip neigh show

capture ip-addr host.json "$NS_HOST" "host: veth (cali-style, bridge ports), bridge br0, vxlan0, underlay" -- ip -j -d addr show
capture ip-addr pod.json "$NS_POD" "Calico-style pod: eth0 peer of ndfixcali0 in ndfix-host" -- ip -j -d addr show
capture ip-addr pod2.json "$NS_POD2" "bridge-style pod: eth0 peer of vethbr0 in ndfix-host" -- ip -j -d addr show
capture ip-addr peer.json "$NS_PEER" "peer node: vxlan0 and underlay" -- ip -j -d addr show
capture ip-link host-vxlan0.txt "$NS_HOST" "text form of a vxlan device (flannel.1-like)" -- ip -d link show vxlan0
capture ip-link host-vethbr0.txt "$NS_HOST" "text form of a bridge-port veth" -- ip -d link show vethbr0

capture ip-route host-all.json "$NS_HOST" "all tables: main (onlink, blackhole, /32, mtu metric), local, IPv6" -- ip -j -d route show table all
capture ip-route host.txt "$NS_HOST" "main table, text form" -- ip route show
capture ip-route pod-all.json "$NS_POD" "Calico-style pod routes, all tables" -- ip -j -d route show table all
capture ip-route pod.txt "$NS_POD" "Calico-style pod routes, text form" -- ip route show
capture ip-route host-get-pod.json "$NS_HOST" "route get to the Calico-style pod" -- ip -j route get 10.77.1.2
capture ip-route host-get-vxlan.json "$NS_HOST" "route get across the vxlan (onlink)" -- ip -j route get 10.77.9.5
capture ip-route host-get-local.json "$NS_HOST" "route get to a local address" -- ip -j route get 10.77.2.1
capture ip-route host-get-blackhole.json "$NS_HOST" "route get into the blackhole" -- ip -j route get 10.77.1.77
capture ip-route pod-get-peer.json "$NS_POD" "route get from the pod via 169.254.1.1" -- ip -j route get 192.168.77.2

capture ethtool host-ndfixcali0-stats.txt "$NS_HOST" "veth stats: peer_ifindex is eth0 in ndfix-pod" -- ethtool -S ndfixcali0
capture ethtool pod-eth0-stats.txt "$NS_POD" "pod eth0 stats: peer_ifindex is ndfixcali0 in ndfix-host" -- ethtool -S eth0
capture ethtool host-ndfixcali0-driver.txt "$NS_HOST" "veth driver info" -- ethtool -i ndfixcali0
capture ethtool host-br0-driver.txt "$NS_HOST" "bridge driver info" -- ethtool -i br0
capture ethtool host-vxlan0-stats.txt "$NS_HOST" "vxlan has no NIC statistics: error on stderr" -- ethtool -S vxlan0

capture bridge-link host.json "$NS_HOST" "br0 ports: vethbr0 hairpin on, vethbr1 learning off" -- bridge -j -d link show

capture sysctl host.txt "$NS_HOST" "grep -H of the per-interface and global sysctls the tool reads" -- \
  sh -c 'grep -H . /proc/sys/net/ipv4/conf/*/arp_ignore /proc/sys/net/ipv4/conf/*/arp_announce /proc/sys/net/ipv4/conf/*/rp_filter /proc/sys/net/ipv4/conf/*/proxy_arp /proc/sys/net/ipv4/conf/*/forwarding /proc/sys/net/ipv4/ip_forward /proc/sys/net/bridge/bridge-nf-call-iptables /proc/sys/net/bridge/bridge-nf-call-ip6tables'

# --- ping -M do: pass and fail ------------------------------------------------------------------
in_ns "$NS_HOST" ip route flush cache
capture ping pod2-via-mtu1400-pass.txt "$NS_POD2" "1372+28 = 1400 fits the 1400-byte link behind the router" -- ping -M do -s 1372 -c 2 -W 1 -i 0.2 192.168.78.2
capture ping pod2-via-mtu1400-fragneeded.txt "$NS_POD2" "1400+28 > 1400: the router answers Frag needed, then the cached PMTU gives local errors" -- ping -M do -s 1400 -c 3 -W 1 -i 0.2 192.168.78.2
capture ping pod-local-mtu1410.txt "$NS_POD" "pod eth0 mtu 1410: 1472+28 fails locally" -- ping -M do -s 1472 -c 2 -W 1 -i 0.2 192.168.77.1
capture ping host-vxlan-pass.txt "$NS_HOST" "vxlan0 mtu 1450: 1422+28 fits" -- ping -M do -s 1422 -c 2 -W 1 -i 0.2 10.77.9.0
capture ping host-vxlan-fail.txt "$NS_HOST" "vxlan0 mtu 1450: 1423+28 does not" -- ping -M do -s 1423 -c 2 -W 1 -i 0.2 10.77.9.0
capture ping host-absent.txt "$NS_HOST" "absent neighbour: Destination Host Unreachable after ARP fails, 100% loss" -- ping -M do -s 56 -c 5 -W 1 -i 1 10.77.2.97

echo "capture-link-fixtures: done, fixtures in test/fixtures/*/lab/" >&2
