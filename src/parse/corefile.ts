// CoreDNS Corefile -> server blocks and their plugin lines, and the facts dns-check reasons on:
// where CoreDNS forwards and whether the loop plugin is on.
//
// Reading is line-based and counts every brace, which is all the default Corefiles of kubeadm,
// k3s, NodeLocal DNSCache and the Kubernetes docs need (test/fixtures/dns/corefile/). Quirks:
// - A plugin is a line at depth 1, its first word; deeper lines are that plugin's own options
//   ("max_concurrent 1000" under forward).
// - `proxy` is the forward plugin of CoreDNS before 1.5 (kubeadm <= 1.12 wrote it).
// - A line at depth 0 that opens no block (k3s's `import /etc/coredns/custom/*.server`) is a
//   top-level directive, not a server block.
// - A brace inside a word (`{$UPSTREAM}`, `%{CLUSTER_DOMAIN}%`) still counts; such words open and
//   close on the same line, so the depth comes out right.
// - A server block written without braces (allowed when there is only one) is not recognised:
//   its lines stay top-level directives and it has no plugins.
import { type ParseResult, type SkippedRecord, failure, success } from './json-input.js';
import { parseIp } from '../net/ip.js';

export interface CorefileDirective {
  lineNo: number;
  name: string; // the plugin: forward, kubernetes, loop, import, ...
  args: string[]; // words after the name, braces dropped
  raw: string; // the line as written, trimmed (comments kept)
  options: string[]; // lines inside its own block, trimmed, comments dropped
}

export interface CorefileServerBlock {
  lineNo: number;
  keys: string[]; // ".:53", "consul.local:53", ...
  plugins: CorefileDirective[];
}

export interface Corefile {
  servers: CorefileServerBlock[];
  topLevel: CorefileDirective[]; // lines outside any block (import, snippets' names)
}

const SOURCE = 'Corefile';

function wordsOf(line: string): string[] {
  const words = line.replace(/[{}]/g, ' ').trim().split(/\s+/);
  return words[0] === '' ? [] : words;
}

function directiveOf(lineNo: number, rawLine: string, words: string[]): CorefileDirective {
  return { lineNo, name: words[0]!, args: words.slice(1), raw: rawLine.trim(), options: [] };
}

/**
 * An empty Corefile (no text, or only comments) reads as no server blocks; text that holds lines
 * but never opens a block is not a Corefile and fails (a ConfigMap holding something else).
 */
export function parseCorefile(text: string): ParseResult<Corefile> {
  const servers: CorefileServerBlock[] = [];
  const topLevel: CorefileDirective[] = [];
  const skipped: SkippedRecord[] = [];
  let depth = 0;
  let server: CorefileServerBlock | null = null;
  let plugin: CorefileDirective | null = null;
  let sawLine = false;
  for (const [index, rawLine] of text.split('\n').entries()) {
    const lineNo = index + 1;
    const line = rawLine.replace(/#.*$/, '').trim();
    if (line === '') continue;
    sawLine = true;
    const words = wordsOf(line);
    const opens = (line.match(/{/g) ?? []).length;
    const closes = (line.match(/}/g) ?? []).length;
    if (depth === 0 && opens > closes) {
      server = { lineNo, keys: words, plugins: [] };
      servers.push(server);
      plugin = null;
    } else if (depth === 0 && words.length > 0) {
      topLevel.push(directiveOf(lineNo, rawLine, words));
    } else if (depth === 1 && words.length > 0) {
      if (server === null) {
        // Reached depth 1 without a block-opening line at depth 0 (after a stray "}").
        server = { lineNo, keys: [], plugins: [] };
        servers.push(server);
      }
      plugin = directiveOf(lineNo, rawLine, words);
      server.plugins.push(plugin);
    } else if (depth > 1 && plugin !== null && words.length > 0) {
      plugin.options.push(line);
    }
    depth += opens - closes;
    if (depth < 0) {
      skipped.push({ source: SOURCE, position: `line ${lineNo}`, message: 'a "}" closes no open block', raw: rawLine.trim() });
    }
  }
  if (depth > 0) skipped.push({ source: SOURCE, position: 'end', message: `${depth} block(s) left open at the end`, raw: '' });
  if (sawLine && servers.length === 0) {
    return failure('unrecognised-text', SOURCE, 'Corefile: no server block ("zone:port {") found', text);
  }
  return success({ servers, topLevel }, skipped);
}

// ---------------------------------------------------------------- what dns-check reads from it

export interface CorefileForward {
  from: string;
  to: string[];
  raw: string;
}

export interface CorefileFacts {
  forwards: CorefileForward[];
  plugins: string[]; // plugin names at block depth 1
  loopPlugin: boolean;
  forwardsToResolvConf: boolean;
  forwardAddresses: string[]; // literal upstream IPs in forward lines (dns:// and :port stripped)
}

/** The literal address of a forward target: "dns://10.0.0.3:53" -> "10.0.0.3"; null for files, tls:// and names. */
export function forwardTargetAddress(target: string): string | null {
  if (target.startsWith('/') || target.startsWith('tls://')) return null;
  const bare = target.replace(/^dns:\/\//, '').replace(/^\[(.*)\](:\d+)?$/, '$1').replace(/^([0-9.]+):\d+$/, '$1');
  return parseIp(bare) !== null ? bare : null;
}

export function corefileFacts(corefile: Corefile): CorefileFacts {
  const plugins = corefile.servers.flatMap((s) => s.plugins);
  const forwards = plugins
    .filter((p) => p.name === 'forward' || p.name === 'proxy')
    .map((p) => ({ from: p.args[0] ?? '.', to: p.args.slice(1), raw: p.raw }));
  const targets = forwards.flatMap((f) => f.to);
  const names = plugins.map((p) => p.name);
  return {
    forwards,
    plugins: names,
    loopPlugin: names.includes('loop'),
    forwardsToResolvConf: targets.some((t) => t.startsWith('/')),
    forwardAddresses: targets.map(forwardTargetAddress).filter((a): a is string => a !== null),
  };
}

/**
 * Enough of the Corefile to know where CoreDNS forwards and whether the loop plugin is on. Text
 * that is not a Corefile holds no plugin, the same as an empty one; the caller that read no
 * Corefile at all (ConfigMap unreadable) passes nothing here and keeps its null.
 */
export function readCorefile(text: string): CorefileFacts {
  const parsed = parseCorefile(text);
  return corefileFacts(parsed.ok ? parsed.value : { servers: [], topLevel: [] });
}
