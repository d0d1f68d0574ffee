#!/usr/bin/env bash
# Captures real-kernel fixtures for the trace-svc parsers (run as root on the dev machine):
#   nft:  loads kube-proxy's nftables transaction (test/fixtures/nftables/kube-proxy-overall-rules.nft)
#         into a throwaway netns and records `nft list table ip kube-proxy`.
#   dns:  starts dnsmasq in a throwaway netns and records dig outputs (NOERROR, NXDOMAIN, REFUSED,
#         SERVFAIL, +short, +noall +answer +comments +stats, timeout).
# Every namespace and process it starts is removed on exit. Only 127.0.0.1 and addresses inside
# its own namespaces are contacted.
set -euo pipefail
cd "$(dirname "$0")/.."
FIX=test/fixtures
NFT_NS=ndfix-nft
DNS_NS=ndfix-dns
DNSMASQ_PID=
RESPONDER_PID=
TMP=$(mktemp -d)

cleanup() {
	[ -n "$DNSMASQ_PID" ] && kill "$DNSMASQ_PID" 2>/dev/null || true
	[ -n "$RESPONDER_PID" ] && kill "$RESPONDER_PID" 2>/dev/null || true
	ip netns del "$NFT_NS" 2>/dev/null || true
	ip netns del "$DNS_NS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
cleanup_leftovers() { ip netns del "$NFT_NS" 2>/dev/null || true; ip netns del "$DNS_NS" 2>/dev/null || true; }
cleanup_leftovers

provenance() { # $1 = command line
	printf '# command: %s\n' "$1"
	printf '# context: captured by scripts/capture-kube-proxy-fixtures.sh on %s, kernel %s, %s, %s\n' \
		"$(. /etc/os-release && echo "$PRETTY_NAME")" "$(uname -r)" "$2" "$3"
	printf '# body below is verbatim\n'
}

# ---- nftables ----------------------------------------------------------------------------
ip netns add "$NFT_NS"
# kube-proxy creates every chain and set before the rules that reference them (knftables' fake
# used by the unit test does not care about the order, the kernel does).
grep -v '^#' "$FIX/nftables/kube-proxy-overall-rules.nft" | grep -E '^add (table|set|map|chain) ' >"$TMP/kp.nft"
grep -v '^#' "$FIX/nftables/kube-proxy-overall-rules.nft" | grep -vE '^add (table|set|map|chain) ' >>"$TMP/kp.nft"
ip netns exec "$NFT_NS" nft -f "$TMP/kp.nft"
{
	printf '# source: kube-proxy nftables layout from kubernetes/kubernetes pkg/proxy/nftables/proxier_test.go (baseRules + TestOverallNFTablesRules), loaded with nft -f\n'
	provenance 'nft list table ip kube-proxy' "$(nft --version)" "netns $NFT_NS"
	ip netns exec "$NFT_NS" nft list table ip kube-proxy
} >"$FIX/nftables/kube-proxy-overall-listing.txt"
# the same table as a support bundle often has it: `nft -a`, a "# handle N" on every line
{
	printf '# source: kube-proxy nftables layout from kubernetes/kubernetes pkg/proxy/nftables/proxier_test.go (baseRules + TestOverallNFTablesRules), loaded with nft -f\n'
	provenance 'nft -a list table ip kube-proxy' "$(nft --version)" "netns $NFT_NS"
	ip netns exec "$NFT_NS" nft -a list table ip kube-proxy
} >"$FIX/nftables/kube-proxy-overall-listing-handles.txt"
ip netns del "$NFT_NS"

# ---- dns -----------------------------------------------------------------------------------
ip netns add "$DNS_NS"
ip -n "$DNS_NS" link set lo up
ip -n "$DNS_NS" addr add 10.96.0.10/32 dev lo
ip -n "$DNS_NS" addr add 10.96.0.11/32 dev lo # silently dropped: timeout
ip -n "$DNS_NS" addr add 10.96.0.12/32 dev lo # answers SERVFAIL
ip -n "$DNS_NS" addr add 10.96.0.13/32 dev lo # nothing listens: ICMP port unreachable
ip netns exec "$DNS_NS" iptables -A INPUT -d 10.96.0.11/32 -j DROP
cat >"$TMP/dnsmasq.conf" <<'CONF'
no-resolv
no-hosts
bind-interfaces
listen-address=10.96.0.10
address=/kube-dns.kube-system.svc.cluster.local/10.96.0.10
host-record=web.default.svc.cluster.local,10.244.1.5
host-record=multi.default.svc.cluster.local,10.244.1.6
host-record=multi.default.svc.cluster.local,10.244.2.7
cname=alias.default.svc.cluster.local,web.default.svc.cluster.local
local=/cluster.local/
server=/broken.example/10.96.0.12
CONF
ip netns exec "$DNS_NS" dnsmasq --conf-file="$TMP/dnsmasq.conf" --pid-file="$TMP/dnsmasq.pid" --log-facility=- -k >/dev/null 2>&1 &
DNSMASQ_PID=$!
ip netns exec "$DNS_NS" node scripts/fixtures/servfail-responder.mjs 10.96.0.12 53 &
RESPONDER_PID=$!
sleep 0.5
DV=$(dig -v 2>&1)
DM=$(dnsmasq --version | head -1)
capture() { # name, then dig arguments
	local name=$1; shift
	{
		printf '# source: dig against dnsmasq standing in for CoreDNS in netns %s (10.96.0.10)\n' "$DNS_NS"
		provenance "dig $*" "$DV" "$DM"
		ip netns exec "$DNS_NS" dig "$@" || true
	} >"$FIX/dns/$name.txt"
}
capture lab-dig-noerror-a +tries=1 +time=2 web.default.svc.cluster.local @10.96.0.10
capture lab-dig-noerror-multi-a +tries=1 +time=2 multi.default.svc.cluster.local @10.96.0.10
capture lab-dig-cname +tries=1 +time=2 alias.default.svc.cluster.local @10.96.0.10
capture lab-dig-nxdomain +tries=1 +time=2 nope.default.svc.cluster.local @10.96.0.10
capture lab-dig-refused +tries=1 +time=2 example.com @10.96.0.10
capture lab-dig-servfail +tries=1 +time=2 www.broken.example @10.96.0.10
capture lab-dig-short +tries=1 +time=2 +short multi.default.svc.cluster.local @10.96.0.10
capture lab-dig-answer-comments-stats +tries=1 +time=2 +noall +answer +comments +stats web.default.svc.cluster.local @10.96.0.10
capture lab-dig-servfail-direct +tries=1 +time=2 web.default.svc.cluster.local @10.96.0.12
capture lab-dig-timeout +tries=1 +time=1 web.default.svc.cluster.local @10.96.0.11
capture lab-dig-port-unreachable +tries=1 +time=1 web.default.svc.cluster.local @10.96.0.13
capture lab-dig-unreachable-network +tries=1 +time=1 web.default.svc.cluster.local @10.97.0.1
capture lab-dig-tcp-refused +tcp +tries=1 +time=1 web.default.svc.cluster.local @127.0.0.1
echo "fixtures written to $FIX/nftables and $FIX/dns"
