// `kubectl netdiag explain [CODE|AREA]` and the global `--explain CODE`: the finding catalogue,
// offline (no cluster, no kubeconfig). Unknown codes are a usage error naming the closest codes.
import { FINDING_CATALOG, catalogByArea, closestCodes, findCatalogEntry, isFindingArea, type FindingCatalogEntry } from '../../checks/catalog.js';
import { renderExplainEntry, renderExplainStructured, renderExplainTable } from './explain-render.js';
import { EXIT, UserError, type ExitCode } from '../../errors.js';
import type { OutputFormat } from '../global-options.js';

export type ExplainTarget =
  | { kind: 'all' }
  | { kind: 'area'; area: FindingCatalogEntry['area'] }
  | { kind: 'code'; entry: FindingCatalogEntry };

/** CODE, AREA or AREA.* (as in a jq pattern), or nothing for the whole catalogue. */
export function readExplainTarget(query: string | undefined): ExplainTarget {
  if (query === undefined || query === '' || query === '*') return { kind: 'all' };
  const q = query.trim().toLowerCase();
  const area = q.replace(/\.\*$/, '');
  if (isFindingArea(area)) return { kind: 'area', area };
  const entry = findCatalogEntry(q);
  if (entry) return { kind: 'code', entry };
  const near = closestCodes(q);
  throw new UserError(`unknown finding code ${JSON.stringify(query)}`, {
    hint: near.length > 0 ? `did you mean ${near.join(', ')}? (kubectl netdiag explain lists every code)` : 'kubectl netdiag explain lists every code',
    exitCode: EXIT.usage,
  });
}

/** `columns`: the terminal's width when the table may wrap its TITLE column (wrapColumns). */
export function runExplain(write: (text: string) => void, target: ExplainTarget, options: { output: OutputFormat; noHeaders: boolean; columns?: number | undefined }): ExitCode {
  if (options.output === 'dot') throw new UserError('explain has no dot output', { hint: 'use -o table, wide, json or yaml', exitCode: EXIT.usage });
  const entries: FindingCatalogEntry[] =
    target.kind === 'code' ? [target.entry] : target.kind === 'area' ? FINDING_CATALOG.filter((e) => e.area === target.area).sort((a, b) => a.code.localeCompare(b.code)) : catalogByArea().flatMap((g) => g.entries);
  if (options.output === 'json' || options.output === 'yaml') write(renderExplainStructured(entries, options.output));
  else if (target.kind === 'code') write(renderExplainEntry(target.entry));
  else write(renderExplainTable(entries, { wide: options.output === 'wide', noHeaders: options.noHeaders, columns: options.columns }));
  return EXIT.ok;
}

/**
 * `--explain CODE` works anywhere on the command line, with or without a command
 * (`kubectl netdiag --explain dns.coredns-loop`, `kubectl netdiag smoke --explain svc.rules-missing`):
 * it becomes `explain CODE`, keeping only the output flags. null when the flag is absent.
 */
export function rewriteExplainFlag(argv: readonly string[]): string[] | null {
  let code: string | undefined;
  let found = false;
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg === '--explain') {
      found = true;
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('-')) {
        code = next;
        i++;
      }
    } else if (arg.startsWith('--explain=')) {
      found = true;
      code = arg.slice('--explain='.length);
    } else if ((arg === '-o' || arg === '--output') && argv[i + 1] !== undefined) {
      kept.push(arg, argv[i + 1]!);
      i++;
    } else if (/^(-o.+|--output=.+|--no-headers|-h|--help)$/.test(arg)) {
      kept.push(arg);
    }
  }
  if (!found) return null;
  return ['explain', ...(code === undefined || code === '' ? [] : [code]), ...kept];
}
