// The node script's host/cni-conf section -> the CNI network config files of every known
// directory. The script frames each existing directory with "#dir PATH" and each file with
// "### NAME" followed by its content (rc 1 when none of the directories exists: the caller keeps
// that apart from a directory that exists and holds no config).

/** Where CNI config lives, in the order the node script lists them (docs/compatibility.md). */
export const CNI_CONF_DIRS = ['/etc/cni/net.d', '/var/lib/rancher/k3s/agent/etc/cni/net.d', '/var/lib/rancher/rke2/agent/etc/cni/net.d'] as const;

/** One network config file as the container runtime would load it. */
export interface CniNetworkConfig {
  name: string; // the file name, e.g. "10-calico.conflist"
  text: string; // the content, trimmed
  validJson: boolean; // false: the runtime cannot load it (pluginType is then null too)
  pluginType: string | null; // the first plugin's type (.conflist) or the type (.conf); null: none named
}

export interface CniConfigDir {
  dir: string;
  configs: CniNetworkConfig[]; // sorted by name, the order libcni picks them in; [] for an empty directory
}

/**
 * Every directory of the listing with its config files. Output from before the "#dir" framing
 * holds /etc/cni/net.d only, and an empty listing there is an empty directory.
 */
export function parseCniConfigListing(text: string): CniConfigDir[] {
  const blocks = /^#dir /m.test(text) ? text.split(/^#dir /m).slice(1) : [`${CNI_CONF_DIRS[0]}\n${text}`];
  return blocks.map((block) => {
    const nl = block.indexOf('\n');
    const dir = (nl === -1 ? block : block.slice(0, nl)).trim();
    return { dir, configs: parseConfigFiles(nl === -1 ? '' : block.slice(nl + 1)) };
  });
}

function parseConfigFiles(listing: string): CniNetworkConfig[] {
  const configs: CniNetworkConfig[] = [];
  for (const block of listing.split(/^### /m).slice(1)) {
    const nl = block.indexOf('\n');
    const name = (nl === -1 ? block : block.slice(0, nl)).trim();
    // libcni loads only these extensions; other files (calico-kubeconfig) are not configs.
    if (!/\.(conf|conflist|json)$/.test(name)) continue;
    const text = nl === -1 ? '' : block.slice(nl + 1).trim();
    configs.push({ name, text, ...pluginTypeOf(text) });
  }
  return configs.sort((a, b) => a.name.localeCompare(b.name));
}

function pluginTypeOf(text: string): { validJson: boolean; pluginType: string | null } {
  try {
    const doc = JSON.parse(text) as { type?: unknown; plugins?: Array<{ type?: unknown }> };
    const t = doc.plugins?.[0]?.type ?? doc.type;
    return { validJson: true, pluginType: typeof t === 'string' ? t : null };
  } catch {
    return { validJson: false, pluginType: null };
  }
}
