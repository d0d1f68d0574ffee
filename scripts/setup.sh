#!/usr/bin/env bash
# Everything a fresh Debian machine needs for kubectl-netdiag's lab, tests and demo (run as root):
# the kernel-facing tools the node script and the lab use, the npm packages, a build, and the
# plugin on PATH so `kubectl netdiag` finds it.
set -euo pipefail
cd "$(dirname "$0")/.."

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "setup: run as root (the lab builds network namespaces): sudo bash scripts/setup.sh" >&2
    exit 2
  fi
}

# Debian package -> a command it provides, so a machine that has them skips apt entirely.
# busybox: the lab runs the node script under busybox sh with busybox applets first on PATH, as
# the Alpine-based probe image (netshoot) does; the other tools are the real ones netshoot installs.
declare -A PACKAGES=(
  [iproute2]=ip [iptables]=iptables-legacy-save [nftables]=nft [ethtool]=ethtool [dnsutils]=dig
  [dnsmasq-base]=dnsmasq [iputils-ping]=ping [iputils-arping]=arping [conntrack]=conntrack
  [ipvsadm]=ipvsadm [procps]=sysctl [util-linux]=nsenter [openssl]=openssl [tcpdump]=tcpdump
  [netcat-openbsd]=nc [busybox]=busybox
)
missing=()
for pkg in "${!PACKAGES[@]}"; do
  command -v "${PACKAGES[$pkg]}" >/dev/null 2>&1 || [ -x "/usr/sbin/${PACKAGES[$pkg]}" ] || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  need_root
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v kubectl >/dev/null 2>&1; then
  echo "setup: kubectl is not on PATH; install it (https://kubernetes.io/docs/tasks/tools/)" >&2
  exit 2
fi

echo "setup: npm ci" >&2
npm ci --no-audit --no-fund --loglevel=error
bash scripts/build.sh

# kubectl discovers plugins on PATH.
if [ "$(id -u)" = 0 ]; then
  ln -sf "$PWD/bin/kubectl-netdiag" /usr/local/bin/kubectl-netdiag
  ln -sf "$PWD/bin/kubectl_complete-netdiag" /usr/local/bin/kubectl_complete-netdiag
  echo "setup: kubectl-netdiag linked into /usr/local/bin" >&2
else
  echo "setup: add $PWD/bin to PATH so kubectl finds the plugin" >&2
fi
echo "setup: done" >&2
