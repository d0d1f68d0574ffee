import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { isIPv6 } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { UserError } from '../errors.js';

export interface KubeconfigOptions {
  kubeconfig?: string; // --kubeconfig
  context?: string; // --context
}

export interface KubeconfigEnv {
  KUBECONFIG?: string;
  HOME?: string;
  KUBERNETES_SERVICE_HOST?: string;
  KUBERNETES_SERVICE_PORT?: string;
}

interface RawKubeconfig {
  clusters?: Array<{ name: string }>;
  users?: Array<{ name: string }>;
  contexts?: Array<{ name: string; context?: { namespace?: string } }>;
  'current-context'?: string;
}

/**
 * Loads a kubeconfig the way kubectl does: --kubeconfig, else every file in KUBECONFIG merged with
 * the first file winning for each name and for current-context, else ~/.kube/config, else the
 * in-cluster service account.
 */
export function loadKubeConfig(options: KubeconfigOptions, env: KubeconfigEnv): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  const files = kubeconfigFiles(options, env);
  if (files.length > 0) {
    const merged = mergeKubeconfigFiles(files);
    kc.loadFromString(JSON.stringify(merged));
  } else if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) {
    loadInCluster(kc, env.KUBERNETES_SERVICE_HOST, env.KUBERNETES_SERVICE_PORT);
  } else {
    throw new UserError('no kubeconfig found and not running inside a cluster', {
      hint: 'pass --kubeconfig FILE, set KUBECONFIG, or create ~/.kube/config',
    });
  }
  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new UserError(`context "${options.context}" does not exist in the kubeconfig`, {
        hint: known.length > 0 ? `known contexts: ${known.join(', ')}` : undefined,
      });
    }
    kc.setCurrentContext(options.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new UserError('the kubeconfig has no current context with a cluster', {
      hint: 'pick one with --context NAME (kubectl config get-contexts lists them)',
    });
  }
  return kc;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The pod's service account, as kubectl uses it inside a pod. client-node's loadFromCluster reads
 * process.env itself; building it here keeps the environment a seam the caller passes in.
 */
function loadInCluster(kc: k8s.KubeConfig, host: string, port: string): void {
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(SERVICE_ACCOUNT_DIR, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    namespace = undefined;
  }
  kc.loadFromOptions({
    clusters: [{ name: 'in-cluster', server, caFile: join(SERVICE_ACCOUNT_DIR, 'ca.crt'), skipTLSVerify: false }],
    users: [{ name: 'in-cluster', authProvider: { name: 'tokenFile', config: { tokenFile: join(SERVICE_ACCOUNT_DIR, 'token') } } }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster', namespace }],
    currentContext: 'in-cluster',
  });
}

function kubeconfigFiles(options: KubeconfigOptions, env: KubeconfigEnv): string[] {
  if (options.kubeconfig) {
    if (!existsSync(options.kubeconfig)) {
      throw new UserError(`kubeconfig file ${options.kubeconfig} does not exist`);
    }
    return [options.kubeconfig];
  }
  if (env.KUBECONFIG) {
    // kubectl skips KUBECONFIG entries that do not exist.
    return env.KUBECONFIG.split(delimiter).filter((f) => f !== '' && existsSync(f));
  }
  const home = env.HOME ? join(env.HOME, '.kube', 'config') : '';
  return home && existsSync(home) ? [home] : [];
}

/** kubectl's merge rule: for every name, and for current-context, the first file that sets it wins. */
export function mergeKubeconfigFiles(files: readonly string[]): Record<string, unknown> {
  const parsed = files.map((file) => {
    try {
      return k8s.loadYaml<RawKubeconfig>(readFileSync(file, 'utf8')) ?? {};
    } catch (err) {
      throw new UserError(`kubeconfig file ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
  });
  return mergeKubeconfigs(parsed);
}

export function mergeKubeconfigs(configs: readonly RawKubeconfig[]): Record<string, unknown> {
  const pick = <T extends { name: string }>(key: 'clusters' | 'users' | 'contexts'): T[] => {
    const seen = new Map<string, T>();
    for (const cfg of configs) {
      for (const item of (cfg[key] ?? []) as T[]) {
        if (item && typeof item.name === 'string' && !seen.has(item.name)) seen.set(item.name, item);
      }
    }
    return [...seen.values()];
  };
  const current = configs.find((c) => c['current-context'])?.['current-context'];
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: pick('clusters'),
    users: pick('users'),
    contexts: pick('contexts'),
    'current-context': current ?? '',
  };
}
