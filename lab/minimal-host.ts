// Profile minimal-host: nodes like Talos, Bottlerocket or Flatcar, whose own filesystem has no
// iptables, iptables-save, iptables-legacy*, iptables-nft*, nft or ipvsadm (kube-proxy brings its
// own in its image). The node's "init" process starts in its own mount namespace (ip netns exec
// gives it one, a slave of the root's) where /usr/sbin is an overlay whose upper layer holds
// whiteouts for those tools: they are absent from the node's view (`nsenter -t INIT -m --
// iptables-save` exits 127), while the kernel keeps every rule kube-proxy wrote and the probe
// image (this machine's own view) still has its tools.
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { spawnDetachedIn, waitFor } from './lab-process.js';

/** Names hidden from a minimal host's view; glob patterns over /usr/sbin (/sbin is a link to it). */
export const MINIMAL_HOST_HIDDEN = ['iptables*', 'ip6tables*', 'arptables*', 'ebtables*', 'xtables*', 'nft', 'ipvsadm*'] as const;

// Fixed text; $1 is the whiteout directory (a path the lab owns), the rest are the patterns.
const INIT_SCRIPT = `set -e
wh=$1; shift
mkdir -p "$wh"
for pattern in "$@"; do
  for f in /usr/sbin/$pattern; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    n=\${f##*/}
    [ -e "$wh/$n" ] || mknod "$wh/$n" c 0 0
  done
done
mount -t overlay ndlab-minimal-host -o "lowerdir=$wh:/usr/sbin" /usr/sbin
exec sleep infinity`;

/** Starts a minimal-host node's init in NETNS; resolves with its PID once the tools are hidden. */
export async function startMinimalHostInit(netns: string, labDir: string, logPath: string): Promise<number> {
  const whiteouts = join(labDir, 'minimal-host', 'whiteouts');
  const pid = spawnDetachedIn(netns, 'sh', ['-c', INIT_SCRIPT, 'minimal-host-init', whiteouts, ...MINIMAL_HOST_HIDDEN], logPath);
  // The script execs sleep only after the overlay is mounted.
  const ready = await waitFor(() => {
    try {
      return readlinkSync(`/proc/${pid}/exe`).endsWith('/sleep');
    } catch {
      return false;
    }
  }, 10_000);
  if (!ready) throw new Error(`minimal-host: the init of ${netns} did not hide the node's iptables/nft/ipvsadm (see ${logPath})`);
  return pid;
}
