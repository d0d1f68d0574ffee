#!/bin/sh
# kubectl-netdiag node script: runs inside the probe pod (hostNetwork, hostPID, privileged) and only
# gathers raw facts. Every input arrives as a positional argument, is checked against a closed
# pattern below, and is only ever used as a command argument, never as script text.
#
# usage: netdiag-node.sh TOKEN REQUEST...
#   TOKEN                   random per run; frames every section so output cannot forge a marker
#   host                    links, addresses, routes, neighbours, bridge ports, sysctls, uname
#   host-kube-proxy         iptables-nft-save and iptables-legacy-save, nft kube-proxy table, ipvsadm,
#                           kube-ipvs0: the probe image's own tools in the node's network namespace
#   host-files              node resolv.conf, CNI config (every known directory), bpffs mounts, conntrack usage
#   route-get:IP            the node's route toward IP
#   pod:KEY:CONTAINERID:IP  the pod's namespace (found by container id, else pinned file or process by IP): links, routes,
#                           neighbours, sysctls, ethtool -S of each interface, resolv.conf
#   podpid:KEY:CONTAINERID:IP  only find the pod's namespace (for the actions below)
#   podresolv:KEY:CONTAINERID:IP  find the pod and read its container's /etc/resolv.conf
# Actions run from WHERE = "host" (the node's namespace) or a pod KEY named earlier in the call:
#   ping:WHERE:DST:SIZE:COUNT        ping -M do -s SIZE -c COUNT DST (stdout and stderr together)
#   dig:WHERE:SERVER:PROTO:NAME      dig @SERVER NAME over udp|tcp, one try, 2 s
#   arping:WHERE:IFACE:TARGET        arping -c 2 -w 2 -I IFACE TARGET
#   tcp:WHERE:IP:PORT                a TCP connect within 2 s (nc -z)
#   capture-start:ID:WHERE:IFACE:PROTO:SRC:DST:PORT:PACKETS:SECONDS:SNAP
#                                    tcpdump of one flow (filter built here) in the background
#   capture-stop:ID:PCAPBYTES        end capture ID; its decoded packets, and the pcap when PCAPBYTES > 0
#   probe:WHERE:PROTO:IP:PORT:COUNT  COUNT (1-10) probes: tcp connects and udp datagrams (2 s each, one
#                                    "attempt N rc=RC what nc said" line each), or icmp echoes (PORT 0, ping's output)
#   counters:PHASE:WHERE             counters of WHERE (before|after): iptables-save -c (both backends, host
#                                    only), nft list ruleset, ip -s -j link, /proc/net/snmp and netstat,
#                                    conntrack -S (host only), neighbours, sysctls; sections ctr/PHASE/WHERE/*
# env: NETDIAG_HOST_PID  the PID whose namespaces are the node's (1 on a real node)
#
# Output: for each section
#   @@NETDIAG TOKEN BEGIN NAME
#   <stdout of the command, byte for byte>
#   (newline)@@NETDIAG TOKEN END NAME rc=N
# with stderr, when there is any, as a section NAME#stderr after it.

TOKEN=$1
shift 2>/dev/null || true
case $TOKEN in
  '' | *[!A-Za-z0-9]*) echo "netdiag-node: bad token" >&2; exit 2 ;;
esac
HOST_PID=${NETDIAG_HOST_PID:-1}
case $HOST_PID in
  '' | *[!0-9]*) echo "netdiag-node: bad NETDIAG_HOST_PID" >&2; exit 2 ;;
esac
SECTION_TIMEOUT=${NETDIAG_SECTION_TIMEOUT:-30}
case $SECTION_TIMEOUT in
  '' | *[!0-9]*) SECTION_TIMEOUT=30 ;;
esac

ERRF=$(mktemp 2>/dev/null || echo "/tmp/netdiag-$$.err")
trap 'rm -f "$ERRF" "$ERRF.rc"' EXIT

# A section runs under `timeout` when the image has it, so one hung command cannot hold the pod.
if command -v timeout >/dev/null 2>&1; then BOUND="timeout $SECTION_TIMEOUT"; else BOUND=""; fi

section() {
  name=$1
  shift
  printf '@@NETDIAG %s BEGIN %s\n' "$TOKEN" "$name"
  # Shell functions cannot run under `timeout`; everything else is bounded.
  # shellcheck disable=SC2086 # BOUND is our own fixed words
  case $(command -v "$1") in
    /*) $BOUND "$@" 2>"$ERRF" ;;
    *) "$@" 2>"$ERRF" ;;
  esac
  rc=$?
  printf '\n@@NETDIAG %s END %s rc=%d\n' "$TOKEN" "$name" "$rc"
  if [ -s "$ERRF" ]; then
    printf '@@NETDIAG %s BEGIN %s#stderr\n' "$TOKEN" "$name"
    cat "$ERRF"
    printf '\n@@NETDIAG %s END %s#stderr rc=0\n' "$TOKEN" "$name"
  fi
  : >"$ERRF"
}

# Large dumps (a 50k-Service iptables-save is ~85 MB) travel gzip'd and base64'd when the probe
# image has both tools (busybox and netshoot do): section NAME.gz64, decoded back to NAME by
# sections.ts. NETDIAG_COMPRESS=0 turns it off. sh has no pipefail, so the dump command's own exit
# status is passed out through a file.
if [ "${NETDIAG_COMPRESS:-1}" != 0 ] && command -v gzip >/dev/null 2>&1 && command -v base64 >/dev/null 2>&1; then
  COMPRESS=yes
else
  COMPRESS=no
fi

# iptables-nft-save of 10k Services takes ~20 s on a busy 2-core machine: the 30 s bound of small
# sections would cut a big cluster's dump short, so dumps get their own (still below --timeout).
BIG_SECTION_TIMEOUT=${NETDIAG_BIG_SECTION_TIMEOUT:-100}
case $BIG_SECTION_TIMEOUT in
  '' | *[!0-9]*) BIG_SECTION_TIMEOUT=100 ;;
esac
if [ -n "$BOUND" ]; then BIG_BOUND="timeout $BIG_SECTION_TIMEOUT"; else BIG_BOUND=""; fi

big_section() {
  if [ "$COMPRESS" != yes ]; then
    small_bound=$BOUND
    BOUND=$BIG_BOUND
    section "$@"
    BOUND=$small_bound
    return
  fi
  name=$1
  shift
  printf '@@NETDIAG %s BEGIN %s.gz64\n' "$TOKEN" "$name"
  # shellcheck disable=SC2086 # BIG_BOUND is our own fixed words
  { $BIG_BOUND "$@" 2>"$ERRF"; echo $? >"$ERRF.rc"; } | gzip -c | base64
  rc=$(cat "$ERRF.rc" 2>/dev/null) || rc=1
  case $rc in '' | *[!0-9]*) rc=1 ;; esac
  printf '\n@@NETDIAG %s END %s.gz64 rc=%d\n' "$TOKEN" "$name" "$rc"
  if [ -s "$ERRF" ]; then
    printf '@@NETDIAG %s BEGIN %s#stderr\n' "$TOKEN" "$name"
    cat "$ERRF"
    printf '\n@@NETDIAG %s END %s#stderr rc=0\n' "$TOKEN" "$name"
  fi
  : >"$ERRF"
}

# Prefix (fixed words and a checked number, so word splitting is safe): the node's network
# namespace with the probe image's own binaries. The node's mount namespace is never entered to
# run a tool: Talos, Bottlerocket and Flatcar ship no iptables/nft/ipvsadm, and an older host
# iptables-nft misreads rules a newer kube-proxy wrote (kubernetes/kubernetes#112477). Node files
# are read through /proc/HOST_PID/root instead.
IN_HOST_NET="nsenter -t $HOST_PID -n --"

SYSCTL_SCRIPT='for f in /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding \
  /proc/sys/net/bridge/bridge-nf-call-iptables /proc/sys/net/bridge/bridge-nf-call-ip6tables \
  /proc/sys/net/ipv4/conf/*/arp_ignore /proc/sys/net/ipv4/conf/*/arp_announce \
  /proc/sys/net/ipv4/conf/*/rp_filter /proc/sys/net/ipv4/conf/*/proxy_arp \
  /proc/sys/net/ipv4/conf/*/forwarding /proc/sys/net/ipv4/conf/*/route_localnet \
  /proc/sys/net/netfilter/nf_conntrack_count /proc/sys/net/netfilter/nf_conntrack_max; do
  [ -r "$f" ] && printf "%s:%s\n" "$f" "$(cat "$f")"; done; exit 0'

# ethtool -S for every interface but lo; names come from the kernel, framed one per block.
ETHTOOL_SCRIPT='for d in $(ip -o link show | sed -n "s/^[0-9]*: \([^:@]*\)[:@].*/\1/p"); do
  [ "$d" = lo ] && continue; printf "### %s\n" "$d"; ethtool -S "$d" 2>&1; ethtool -i "$d" 2>&1; done; exit 0'

# CNI config in every directory a distribution puts it (kubeadm and most CNIs; k3s; RKE2), each
# framed by "#dir PATH" so the analysis can say which one held it. rc 1: none of them exists.
CNI_CONF_SCRIPT='found=1; for d in /etc/cni/net.d /var/lib/rancher/k3s/agent/etc/cni/net.d /var/lib/rancher/rke2/agent/etc/cni/net.d; do
  cd "$1$d" 2>/dev/null || continue; found=0; printf "#dir %s\n" "$d"
  for f in *; do [ -f "$f" ] || continue; printf "### %s\n" "$f"; cat "$f"; echo; done; done; exit $found'

emit_meta() {
  printf 'script=netdiag-node/1\nhostPid=%s\nhostname=%s\nkernel=%s\ndate=%s\n' \
    "$HOST_PID" "$($IN_HOST_NET hostname 2>/dev/null || hostname)" "$(uname -r)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  for tool in ip ethtool iptables-save iptables-legacy-save iptables-nft-save nft ipvsadm conntrack ping arping dig bridge; do
    if command -v "$tool" >/dev/null 2>&1; then printf 'tool.%s=yes\n' "$tool"; else printf 'tool.%s=no\n' "$tool"; fi
  done
}

gather_host() {
  section meta emit_meta
  section host/addr $IN_HOST_NET ip -j -d addr show
  section host/route $IN_HOST_NET ip -j -d route show table all
  section host/neigh $IN_HOST_NET ip -j neigh show
  section host/bridge $IN_HOST_NET bridge -j -d link show
  section host/sysctl $IN_HOST_NET sh -c "$SYSCTL_SCRIPT"
}

gather_kube_proxy() {
  # As kube-proxy does from its own container: the image's tools read the kernel's tables through
  # netlink/xtables in the node's network namespace. Both iptables backends, nf_tables first (the
  # default of current distros and kube-proxy images), because KUBE-* chains may sit in either (or, stale, in both);
  # the analysis chooses by where they are. Plain iptables-save (one of the two on iptables >= 1.8)
  # is only asked for when a variant could not run.
  big_section host/iptables-nft $IN_HOST_NET iptables-nft-save -c
  nft_rc=$rc
  big_section host/iptables-legacy $IN_HOST_NET iptables-legacy-save -c
  if [ "$nft_rc" != 0 ] || [ "$rc" != 0 ]; then big_section host/iptables $IN_HOST_NET iptables-save -c; fi
  big_section host/nft-kube-proxy $IN_HOST_NET nft list table ip kube-proxy
  section host/ipvsadm $IN_HOST_NET ipvsadm -Ln
  section host/kube-ipvs0 $IN_HOST_NET ip -j addr show dev kube-ipvs0
}

gather_host_files() {
  section host/resolv.conf cat "/proc/$HOST_PID/root/etc/resolv.conf"
  # systemd-resolved's uplink list (absent on nodes without it): what kubelet's resolvConf points at there.
  section host/resolved-resolv.conf cat "/proc/$HOST_PID/root/run/systemd/resolve/resolv.conf"
  section host/cni-conf sh -c "$CNI_CONF_SCRIPT" cni "/proc/$HOST_PID/root"
  section host/bpffs sh -c 'grep " bpf " "$1"; exit 0' bpffs "/proc/$HOST_PID/mounts"
  section host/conntrack $IN_HOST_NET conntrack -S
}

# The PID of a pod's container: a process in the container's own cgroup, named by the runtime
# (systemd driver: crio-ID.scope, cri-containerd-ID.scope, docker-ID.scope; cgroupfs: crio-ID or
# a directory named ID; crun adds a child such as /container). Never a runtime monitor's cgroup
# (CRI-O's conmon sits in crio-conmon-ID.scope in the node's network namespace), and never a
# process in the node's network namespace: that would silently report the node's facts.
pid_by_container_id() {
  host_ns=$(readlink "/proc/$HOST_PID/ns/net" 2>/dev/null)
  for f in $(grep -l -E -- "/((crio|cri-containerd|docker)-)?$1(\.scope)?(/|\$)" /proc/[0-9]*/cgroup 2>/dev/null); do
    p=${f#/proc/}
    p=${p%/cgroup}
    ns=$(readlink "/proc/$p/ns/net" 2>/dev/null) || continue
    [ -n "$ns" ] && [ "$ns" != "$host_ns" ] || continue
    echo "$p"
    return 0
  done
  return 1
}

# A pod's network namespace pinned as a file in the node's mount view, found by the pod IP:
# CRI-O (manage_ns_lifecycle; drop_infra_ctr leaves no pause process) and containerd pin it under
# /var/run/netns or /run/netns, and it outlives the pod's processes (CrashLoopBackOff). Read
# through /proc/HOST_PID/root; /var/run is skipped when it is a link (to /run, already read).
netns_file_by_ip() {
  root=/proc/$HOST_PID/root
  host_ns=$(readlink "/proc/$HOST_PID/ns/net" 2>/dev/null)
  for dir in "$root/run/netns" "$root/var/run/netns"; do
    [ "$dir" = "$root/var/run/netns" ] && [ -L "$root/var/run" ] && continue
    [ -d "$dir" ] || continue
    for f in "$dir"/*; do
      case ${f##*/} in '' | *[!A-Za-z0-9._-]*) continue ;; esac
      [ -e "$f" ] || continue
      if nsenter "--net=$f" -- ip -o addr show 2>/dev/null | grep -q -F -- " $1/"; then
        [ "$(nsenter "--net=$f" -- readlink /proc/self/ns/net 2>/dev/null)" = "$host_ns" ] && continue
        echo "$f"
        return 0
      fi
    done
  done
  return 1
}

# Fallback: the first process whose network namespace holds the pod IP (one check per namespace).
pid_by_ip() {
  seen=" "
  host_ns=$(readlink "/proc/$HOST_PID/ns/net" 2>/dev/null)
  for d in /proc/[0-9]*; do
    ns=$(readlink "$d/ns/net" 2>/dev/null) || continue
    [ "$ns" = "$host_ns" ] && continue
    case $seen in *" $ns "*) continue ;; esac
    seen="$seen$ns "
    p=${d#/proc/}
    if nsenter -t "$p" -n -- ip -o addr show 2>/dev/null | grep -q -F -- " $1/"; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# key=FILE pairs (the namespace file to enter) of the pods found so far in this call, for the
# actions that name them.
POD_NETNS=" "

# Sets $pid (empty when only a pinned file is left) and $nsfile, the namespace to enter by path.
find_pod() {
  key=$1 cid=$2 ip=$3
  how=container-id pid="" nsfile=""
  [ "$cid" = none ] || pid=$(pid_by_container_id "$cid") || pid=""
  if [ -z "$pid" ]; then how=pinned-netns; nsfile=$(netns_file_by_ip "$ip") || nsfile=""; fi
  if [ -z "$pid$nsfile" ]; then how=pod-ip; pid=$(pid_by_ip "$ip") || pid=""; fi
  if [ -z "$pid$nsfile" ]; then
    section "pod/$key/pid" sh -c 'echo "method=none"; exit 1'
    return 1
  fi
  [ -n "$pid" ] && nsfile=/proc/$pid/ns/net
  POD_NETNS="$POD_NETNS$key=$nsfile "
  section "pod/$key/pid" printf 'pid=%s\nmethod=%s\nnetns=%s\nnetnsFile=%s\n' "$pid" "$how" "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" "$nsfile"
}

# The namespace file to enter for WHERE: the node ("host") or a pod found earlier in this call.
netns_of() {
  if [ "$1" = host ]; then echo "/proc/$HOST_PID/ns/net"; return 0; fi
  p=${POD_NETNS#* "$1"=}
  [ "$p" = "$POD_NETNS" ] && return 1
  echo "${p%% *}"
}

gather_pod() {
  find_pod "$1" "$2" "$3" || return
  section "pod/$key/addr" nsenter "--net=$nsfile" -- ip -j -d addr show
  section "pod/$key/route" nsenter "--net=$nsfile" -- ip -j -d route show table all
  section "pod/$key/neigh" nsenter "--net=$nsfile" -- ip -j neigh show
  section "pod/$key/sysctl" nsenter "--net=$nsfile" -- sh -c "$SYSCTL_SCRIPT"
  section "pod/$key/ethtool" nsenter "--net=$nsfile" -- sh -c "$ETHTOOL_SCRIPT"
  pod_resolv_conf "$key"
}

# The pod's resolv.conf, through a process of the pod found by find_pod (none left: said so).
pod_resolv_conf() {
  if [ -n "$pid" ]; then
    section "pod/$1/resolv.conf" cat "/proc/$pid/root/etc/resolv.conf"
  else
    section "pod/$1/resolv.conf" sh -c 'echo "no process left in the pod (entered through its pinned namespace): its resolv.conf cannot be read" >&2; exit 1'
  fi
}

valid_ip() {
  case $1 in '' | *[!0-9A-Fa-f.:]*) return 1 ;; esac
  return 0
}
valid_number() {
  case $1 in '' | *[!0-9]*) return 1 ;; esac
  [ "${#1}" -le 6 ]
}
valid_where() {
  case $1 in '' | *[!a-z0-9]*) return 1 ;; esac
  return 0
}
valid_name() {
  case $1 in '' | -* | *[!A-Za-z0-9._-]*) return 1 ;; esac
  return 0
}
bad_request() {
  echo "netdiag-node: bad $1 in request" >&2
  exit 2
}

# Splits "a:b:c" into $F1 $F2 ... (IPv6 addresses are not accepted in colon-separated actions).
split_fields() {
  rest=$1 F1="" F2="" F3="" F4="" F5=""
  F1=${rest%%:*}; rest=${rest#"$F1"}; rest=${rest#:}
  F2=${rest%%:*}; rest=${rest#"$F2"}; rest=${rest#:}
  F3=${rest%%:*}; rest=${rest#"$F3"}; rest=${rest#:}
  F4=$rest
  case $F4 in *:*) F5=${F4#*:}; F4=${F4%%:*} ;; esac
}

run_action() {
  kind=$1 where=$2
  shift 2
  valid_where "$where" || bad_request place
  if ! ns=$(netns_of "$where"); then
    section "$kind/$where/$(IFS=/; echo "$*")" sh -c 'echo "no namespace for this pod"; exit 1'
    return
  fi
  case $kind in
    ping) section "ping/$where/$1/$2" nsenter "--net=$ns" -- sh -c 'ping -n -M do -s "$1" -c "$2" -i 0.2 -W 1 "$0" 2>&1' "$1" "$2" "$3" ;;
    dig)
      if [ "$2" = tcp ]; then section "dig/$where/$1/tcp/$3" nsenter "--net=$ns" -- dig +tcp +tries=1 +time=2 "@$1" "$3"
      else section "dig/$where/$1/udp/$3" nsenter "--net=$ns" -- dig +notcp +tries=1 +time=2 "@$1" "$3"; fi
      ;;
    arping) section "arping/$where/$1/$2" nsenter "--net=$ns" -- arping -c 2 -w 2 -I "$1" "$2" ;;
    tcp) section "tcp/$where/$1/$2" nsenter "--net=$ns" -- nc -z -w 2 "$1" "$2" ;;
    # smoke --matrix and conn-check both probe through here: one request, one section format.
    probe)
      if [ "$1" = icmp ]; then section "probe/$where/$1/$2/$3" nsenter "--net=$ns" -- sh -c 'ping -n -c "$1" -i 0.2 -W 1 "$0" 2>&1' "$2" "$4"
      else section "probe/$where/$1/$2/$3" nsenter "--net=$ns" -- sh -c "$PROBE_SCRIPT" probe "$1" "$2" "$3" "$4"; fi
      ;;
  esac
}

# Packet capture of one flow (conn-check --capture). A start/stop pair, not one request that
# captures for a fixed window: the calls to one probe pod run one after another, and the probes
# may be sent from this very pod (source and hop on one node), so a capture holding its exec for a
# window would block the probes or race them on a guessed delay. capture-start returns once
# tcpdump says "listening on" (its filter is attached), so probes sent after it are seen; tcpdump
# then runs in the background with every fd on files (the exec ends) and bounded by its own caps
# (-c packets, timeout seconds), so a stop that never comes costs nothing. capture-stop ends it
# (SIGTERM: tcpdump flushes and prints its counts) and returns what it saw.
valid_ipv4() {
  case $1 in *[!0-9.]* | *..* | .* | *.) return 1 ;; esac
  old_ifs=$IFS; IFS=.; set -- $1; IFS=$old_ifs
  [ $# = 4 ] || return 1
  for octet in "$@"; do
    case $octet in 0 | [1-9] | [1-9][0-9] | 1[0-9][0-9] | 2[0-4][0-9] | 25[0-5]) ;; *) return 1 ;; esac
  done
}
valid_range() { # VALUE MIN MAX
  case $1 in '' | *[!0-9]*) return 1 ;; esac
  [ "${#1}" -le 9 ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}
ipv4_as_number() {
  old_ifs=$IFS; IFS=.; set -- $1; IFS=$old_ifs
  echo $(( ($1 << 24) + ($2 << 16) + ($3 << 8) + $4 ))
}

# The flow's packets both ways, ICMP errors (unreachable, time exceeded) whose quoted header is
# the flow's, and ARP for either end. Built only from checked fields.
capture_filter() { # PROTO SRC DST PORT
  a=$(ipv4_as_number "$2") b=$(ipv4_as_number "$3")
  case $1 in
    icmp) flow="icmp and host $2 and host $3" ;;
    *) flow="$1 and host $2 and host $3 and port $4" ;;
  esac
  echo "($flow) or (icmp and (icmp[0] = 3 or icmp[0] = 11) and ((icmp[20:4] = $a and icmp[24:4] = $b) or (icmp[20:4] = $b and icmp[24:4] = $a))) or (arp and (host $2 or host $3))"
}

capture_dir() { echo "${TMPDIR:-/tmp}/netdiag-capture-$1"; }
process_running() { # PID: alive and not a zombie waiting for its reaper
  [ -r "/proc/$1/stat" ] || return 1
  case $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) in Z* | X* | '') return 1 ;; esac
}
capture_pid_is_ours() { # PID DIR: the process is still our tcpdump (PIDs get reused)
  process_running "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q -F -- "$2/pcap"
}
sleep_tenth() { sleep 0.1 2>/dev/null || sleep 1; }

# Runs as a section body: prints key=value lines once tcpdump listens, else why there is no capture.
capture_start() { # ID NSFILE IFACE PROTO SRC DST PORT PACKETS SECONDS SNAP
  if ! command -v tcpdump >/dev/null 2>&1; then echo "could not capture: tcpdump not in the image"; return 127; fi
  if ! command -v timeout >/dev/null 2>&1; then echo "could not capture: timeout not in the image (the seconds cap cannot be kept)"; return 127; fi
  dir=$(capture_dir "$1")
  if ! mkdir -m 700 "$dir" 2>/dev/null; then
    # The same start again (the client retries a call whose stream dropped): the same answer while
    # that tcpdump still runs.
    pid=$(cat "$dir/pid" 2>/dev/null)
    if [ -s "$dir/info" ] && valid_number "$pid" && capture_pid_is_ours "$pid" "$dir"; then cat "$dir/info"; return 0; fi
    echo "could not capture: capture $1 already exists on this node"
    return 1
  fi
  filter=$(capture_filter "$4" "$5" "$6" "$7")
  date +%s >"$dir/started"
  # -p: no promiscuous mode on a node's NIC; --immediate-mode: packets reach tcpdump at once, not when
  # a ring block fills (else a stop loses them); -U: each is written at once, so the file is whole
  # however tcpdump ends. Every fd goes to a file so the exec can end while tcpdump runs.
  timeout "$9" nsenter "--net=$2" -- tcpdump -i "$3" -p -nn -U --immediate-mode -c "$8" -s "${10}" -w "$dir/pcap" "$filter" \
    </dev/null >"$dir/out" 2>"$dir/err" &
  cpid=$!
  echo "$cpid" >"$dir/pid"
  tries=0
  while [ "$tries" -lt 100 ]; do
    if grep -q 'listening on' "$dir/err" 2>/dev/null; then
      printf 'pid=%s\niface=%s\npackets=%s\nseconds=%s\nsnap=%s\nfilter=%s\n' "$cpid" "$3" "$8" "$9" "${10}" "$filter" >"$dir/info"
      cat "$dir/info"
      return 0
    fi
    process_running "$cpid" || break
    sleep_tenth
    tries=$((tries + 1))
  done
  kill -TERM "$cpid" 2>/dev/null
  printf 'could not capture: %s\n' "$(grep -v '^[0-9]* packets' "$dir/err" 2>/dev/null | head -n 3 | tr '\n' ' ')"
  rm -rf "$dir"
  return 1
}

capture_meta() { # ID DIR ENDED_BY PCAPBYTES
  printf 'capture=%s\nendedBy=%s\nstarted=%s\nstopped=%s\npcapBytes=%s\npcapLimit=%s\n' "$1" "$3" \
    "$(cat "$2/started" 2>/dev/null)" "$(date +%s)" "$(wc -c <"$2/pcap" 2>/dev/null || echo 0)" "$4"
  # tcpdump's own counts ("N packets captured", "... received by filter", "... dropped by kernel")
  sed -n -E 's/^([0-9]+) packets? (captured|received by filter|dropped by kernel)$/\2=\1/p' "$2/err" 2>/dev/null | tr ' ' '-'
}

capture_stop() { # ID PCAPBYTES
  dir=$(capture_dir "$1")
  if [ ! -d "$dir" ]; then
    section "capture/$1/meta" sh -c 'echo "no capture $0 on this node (never started, or already collected)"; exit 1' "$1"
    return
  fi
  pid=$(cat "$dir/pid" 2>/dev/null)
  ended=self
  if valid_number "$pid" && capture_pid_is_ours "$pid" "$dir"; then
    ended=stop
    kill -TERM "$pid" 2>/dev/null
    tries=0
    while capture_pid_is_ours "$pid" "$dir" && [ "$tries" -lt 50 ]; do sleep_tenth; tries=$((tries + 1)); done
    capture_pid_is_ours "$pid" "$dir" && kill -KILL "$pid" 2>/dev/null
  fi
  section "capture/$1/meta" capture_meta "$1" "$dir" "$ended" "$2"
  # -e: link-level header (ARP who-has/is-at, VLAN tags); -tt: epoch seconds, comparable across hops.
  big_section "capture/$1/text" tcpdump -nn -e -tt -r "$dir/pcap"
  if [ "$2" -gt 0 ]; then
    section "capture/$1/pcap-gzip-base64" sh -c 'head -c "$0" "$1" | gzip -c | base64' "$2" "$dir/pcap"
  fi
  rm -rf "$dir"
}

capture_request() { # the fields of capture-start, checked
  old_ifs=$IFS; IFS=:; set -f; set -- $1; set +f; IFS=$old_ifs
  [ $# = 10 ] || bad_request "capture field count"
  case $1 in '' | *[!A-Za-z0-9]*) bad_request "capture id" ;; esac
  [ "${#1}" -le 40 ] || bad_request "capture id"
  valid_where "$2" || bad_request place
  valid_name "$3" && [ "${#3}" -le 15 ] || bad_request "capture interface"
  case $4 in tcp | udp) valid_range "$7" 1 65535 || bad_request "capture port" ;; icmp) [ "$7" = 0 ] || bad_request "capture port" ;; *) bad_request "capture protocol" ;; esac
  valid_ipv4 "$5" && valid_ipv4 "$6" || bad_request "capture address"
  valid_range "$8" 1 100000 && valid_range "$9" 1 3600 && valid_range "${10}" 64 262144 || bad_request "capture limit"
  # The file is bounded too (it sits in the probe container's writable layer on the node's disk).
  [ $(($8 * (${10} + 16))) -le 67108864 ] || bad_request "capture limit"
  if ! ns=$(netns_of "$2"); then
    section "capture/$1/start" sh -c 'echo "could not capture: no namespace for this pod"; exit 1'
    return
  fi
  section "capture/$1/start" capture_start "$1" "$ns" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "${10}"
}

# COUNT connects (tcp) or datagrams (udp), one line each: "attempt I rc=N <what nc said>"; nc -v
# says why a connect failed (refused, timed out, no route). netshoot's OpenBSD nc takes -n -z -v;
# busybox nc has neither -z nor -v, so it connects with stdin closed instead.
PROBE_SCRIPT='proto=$1 ip=$2 port=$3 count=$4 i=0 flags="-n -z -v"
  nc -z 2>&1 </dev/null | grep -q -i -e "invalid option" -e "unrecognized option" && flags=""
  while [ "$i" -lt "$count" ]; do
    i=$((i + 1))
    if [ "$proto" = tcp ]; then out=$(nc $flags -w 2 "$ip" "$port" 2>&1 </dev/null); rc=$?
    else out=$(printf netdiag | nc -u -w 1 "$ip" "$port" 2>&1); rc=$?; fi
    printf "attempt %s rc=%s %s\n" "$i" "$rc" "$(printf %s "$out" | tr "\n" " ")"
  done; exit 0'

# Counters of one namespace, read as close together as the tools allow (ctr/PHASE/WHERE/*). The
# rule dumps are the node's (a pod rarely has rules of its own and they would only add time).
gather_counters() {
  phase=$1 where=$2
  if ! ns=$(netns_of "$where"); then
    section "ctr/$phase/$where/missing" sh -c 'echo "no namespace for this pod"; exit 1'
    return
  fi
  pre="ctr/$phase/$where"
  if [ "$where" = host ]; then
    big_section "$pre/iptables-nft" nsenter "--net=$ns" -- iptables-nft-save -c
    nft_rc=$rc
    big_section "$pre/iptables-legacy" nsenter "--net=$ns" -- iptables-legacy-save -c
    if [ "$nft_rc" != 0 ] || [ "$rc" != 0 ]; then big_section "$pre/iptables" nsenter "--net=$ns" -- iptables-save -c; fi
    big_section "$pre/nft" nsenter "--net=$ns" -- nft list ruleset
    section "$pre/conntrack" nsenter "--net=$ns" -- conntrack -S
  fi
  section "$pre/link" nsenter "--net=$ns" -- ip -s -j link show
  section "$pre/snmp" nsenter "--net=$ns" -- cat /proc/net/snmp
  section "$pre/netstat" nsenter "--net=$ns" -- cat /proc/net/netstat
  section "$pre/neigh" nsenter "--net=$ns" -- ip -j neigh show
  section "$pre/sysctl" nsenter "--net=$ns" -- sh -c "$SYSCTL_SCRIPT"
}

for request in "$@"; do
  case $request in
    host) gather_host ;;
    host-kube-proxy) gather_kube_proxy ;;
    host-files) gather_host_files ;;
    route-get:*)
      ip=${request#route-get:}
      if valid_ip "$ip"; then section "route-get/$ip" $IN_HOST_NET ip -j -d route get "$ip"; else echo "netdiag-node: bad address in request" >&2; exit 2; fi
      ;;
    pod:*)
      rest=${request#pod:}
      key=${rest%%:*}; rest=${rest#*:}
      cid=${rest%%:*}; ip=${rest#*:}
      case $key in '' | *[!a-z0-9]*) echo "netdiag-node: bad pod key" >&2; exit 2 ;; esac
      case $cid in '' | *[!0-9a-f]*) cid=none ;; esac
      valid_ip "$ip" || { echo "netdiag-node: bad pod address" >&2; exit 2; }
      gather_pod "$key" "$cid" "$ip"
      ;;
    podpid:*)
      split_fields "${request#podpid:}"
      valid_where "$F1" || bad_request "pod key"
      case $F2 in '' | *[!0-9a-f]*) F2=none ;; esac
      valid_ip "$F3" || bad_request "pod address"
      find_pod "$F1" "$F2" "$F3" || true
      ;;
    podresolv:*)
      split_fields "${request#podresolv:}"
      valid_where "$F1" || bad_request "pod key"
      case $F2 in '' | *[!0-9a-f]*) F2=none ;; esac
      valid_ip "$F3" || bad_request "pod address"
      if find_pod "$F1" "$F2" "$F3"; then pod_resolv_conf "$F1"; fi
      ;;
    ping:*)
      split_fields "${request#ping:}"
      valid_ip "$F2" && valid_number "$F3" && valid_number "$F4" || bad_request "ping argument"
      run_action ping "$F1" "$F2" "$F3" "$F4"
      ;;
    dig:*)
      split_fields "${request#dig:}"
      valid_ip "$F2" && valid_name "$F4" || bad_request "dig argument"
      case $F3 in udp | tcp) ;; *) bad_request "dig protocol" ;; esac
      run_action dig "$F1" "$F2" "$F3" "$F4"
      ;;
    arping:*)
      split_fields "${request#arping:}"
      valid_name "$F2" && valid_ip "$F3" || bad_request "arping argument"
      run_action arping "$F1" "$F2" "$F3"
      ;;
    tcp:*)
      split_fields "${request#tcp:}"
      valid_ip "$F2" && valid_number "$F3" || bad_request "tcp argument"
      run_action tcp "$F1" "$F2" "$F3"
      ;;
    capture-start:*) capture_request "${request#capture-start:}" ;;
    capture-stop:*)
      split_fields "${request#capture-stop:}"
      case $F1 in '' | *[!A-Za-z0-9]*) bad_request "capture id" ;; esac
      [ -z "$F3$F4" ] && valid_range "$F2" 0 67108864 || bad_request "capture pcap limit"
      capture_stop "$F1" "$F2"
      ;;
    probe:*)
      split_fields "${request#probe:}"
      case $F2 in tcp | udp) valid_range "$F4" 1 65535 || bad_request "probe port" ;; icmp) [ "$F4" = 0 ] || bad_request "probe port" ;; *) bad_request "probe protocol" ;; esac
      valid_ip "$F3" || bad_request "probe address"
      valid_range "$F5" 1 10 || bad_request "probe count"
      run_action probe "$F1" "$F2" "$F3" "$F4" "$F5"
      ;;
    counters:*)
      split_fields "${request#counters:}"
      case $F1 in before | after) ;; *) bad_request "counters phase" ;; esac
      valid_where "$F2" || bad_request place
      gather_counters "$F1" "$F2"
      ;;
    *) echo "netdiag-node: unknown request" >&2; exit 2 ;;
  esac
done
printf '@@NETDIAG %s DONE\n' "$TOKEN"
exit 0
