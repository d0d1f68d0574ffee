// Lab profiles: the same lab rebuilt as another kind of real cluster (node OS, container runtime,
// dataplane), so every command is checked for false alarms beyond the one idealised cluster.
// Each profile changes the kernel and the node's own files for real; see docs/lab.md.

export const LAB_PROFILES = ['minimal-host', 'systemd-resolved', 'crio', 'k3s', 'no-kube-proxy', 'nftables', 'masquerade-all'] as const;

/** Profiles that only change kube-proxy's flags: trace-svc covers them (test/profiles/kube-proxy-variants.test.ts), not the whole matrix. */
export const KUBE_PROXY_VARIANT_PROFILES: readonly string[] = ['masquerade-all'];
export type LabProfile = (typeof LAB_PROFILES)[number];

export function isLabProfile(name: string): name is LabProfile {
  return (LAB_PROFILES as readonly string[]).includes(name);
}

/** Profile names from a comma list (NDLAB_PROFILES) or repeated flags; unknown names throw. */
export function parseProfiles(names: readonly string[]): LabProfile[] {
  const out: LabProfile[] = [];
  for (const raw of names) {
    const name = raw.trim();
    if (name === '') continue;
    if (!isLabProfile(name)) throw new Error(`unknown lab profile ${name} (known: ${LAB_PROFILES.join(', ')})`);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

export function hasProfile(state: { profiles?: readonly string[] }, profile: LabProfile): boolean {
  return (state.profiles ?? []).includes(profile);
}
