// The proxy kubectl would use for the API server when the kubeconfig names none: Go's
// http.ProxyFromEnvironment (golang.org/x/net/http/httpproxy), which kubectl's client-go uses.
// client-node only honours the kubeconfig's proxy-url, so the environment is read here.
import { isIP } from 'node:net';
import { cidrContainsAddress } from '../net/ip.js';

export interface ProxyEnv {
  HTTPS_PROXY?: string | undefined;
  https_proxy?: string | undefined;
  HTTP_PROXY?: string | undefined;
  http_proxy?: string | undefined;
  NO_PROXY?: string | undefined;
  no_proxy?: string | undefined;
}

/** The proxy URL for requests to `server`, or undefined to connect directly. */
export function proxyForServer(server: string, env: ProxyEnv): string | undefined {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return undefined;
  }
  const https = url.protocol === 'https:';
  // Go reads the upper-case name first; HTTPS_PROXY only for https, HTTP_PROXY only for http.
  const raw = (https ? env.HTTPS_PROXY || env.https_proxy : env.HTTP_PROXY || env.http_proxy)?.trim();
  if (!raw) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (https ? '443' : '80');
  if (host === 'localhost' || isLoopback(host)) return undefined; // Go never proxies loopback
  if (bypassedByNoProxy(host, port, env.NO_PROXY || env.no_proxy || '')) return undefined;
  // A proxy without a scheme is an http:// proxy, as in Go.
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
}

function isLoopback(host: string): boolean {
  return cidrContainsAddress('127.0.0.0/8', host) || cidrContainsAddress('::1/128', host);
}

/**
 * NO_PROXY as Go reads it: comma-separated; `*` bypasses everything; an IP or CIDR matches
 * addresses; `example.com` matches it and its subdomains, `.example.com` only subdomains; an
 * entry with `:port` matches that port only.
 */
export function bypassedByNoProxy(host: string, port: string, noProxy: string): boolean {
  for (const rawEntry of noProxy.split(',')) {
    let entry = rawEntry.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    if (entry.includes('/')) {
      if (isIP(host) !== 0 && cidrContainsAddress(entry, host)) return true;
      continue;
    }
    let entryPort: string | undefined;
    const hostPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (hostPort) {
      entry = hostPort[1]!;
      entryPort = hostPort[2];
    }
    entry = entry.replace(/^\[|\]$/g, '');
    if (entryPort !== undefined && entryPort !== port) continue;
    if (isIP(entry) !== 0) {
      if (entry === host) return true;
      continue;
    }
    if (entry.startsWith('*.')) entry = entry.slice(1);
    if (entry.startsWith('.')) {
      if (host.endsWith(entry)) return true;
    } else if (host === entry || host.endsWith(`.${entry}`)) {
      return true;
    }
  }
  return false;
}

