// `kubectl netdiag explain`: one catalogue entry as text, the catalogue as a table, or either as
// a FindingCatalog document (-o json|yaml).
import type { FindingCatalogEntry } from '../../checks/catalog.js';
import { FINDING_CATALOG } from '../../checks/catalog.js';
import { renderStructured } from '../../render/structured.js';
import { renderTable } from '../../render/table.js';

// Fixed, not the terminal's width: the text is the same in a pipe, a CI log and a golden file.
const WRAP_COLUMNS = 100;

export function renderExplainEntry(entry: FindingCatalogEntry): string {
  const related = relatedCodes(entry);
  const lines = [
    `${entry.code}: ${entry.title}`,
    '',
    `AREA:      ${entry.area}`,
    `SEVERITY:  ${entry.severity}`,
    ...(related.length > 0 ? [`SEE ALSO:  ${related.join(', ')}`] : []),
    '',
    ...wrap(entry.explanation, WRAP_COLUMNS),
  ];
  return `${lines.join('\n')}\n`;
}

/** The catalogue as one table, rows grouped by area; -o wide adds the area column. */
export function renderExplainTable(entries: readonly FindingCatalogEntry[], options: { wide: boolean; noHeaders: boolean; columns?: number | undefined }): string {
  const headers = options.wide ? ['code', 'area', 'severity', 'title'] : ['code', 'severity', 'title'];
  const rows = entries.map((e) => (options.wide ? [e.code, e.area, e.severity, e.title] : [e.code, e.severity, e.title]));
  return renderTable(headers, rows, { noHeaders: options.noHeaders, columns: options.wide ? undefined : options.columns, wrap: 'title' });
}

export function renderExplainStructured(entries: readonly FindingCatalogEntry[], format: 'json' | 'yaml'): string {
  // `seeds` is the project's own traceability to its incident write-ups: users cannot read them.
  return renderStructured('FindingCatalog', { entries: entries.map(({ seeds: _internal, ...entry }) => entry) }, format);
}

/** Other catalogued codes the explanation names (arp.ignore-blocks-host in arp.pod-no-reply). */
function relatedCodes(entry: FindingCatalogEntry): string[] {
  return FINDING_CATALOG.map((e) => e.code).filter((code) => code !== entry.code && new RegExp(`(^|[^\\w.-])${code.replace(/[.-]/g, '\\$&')}(?![\\w-])`).test(entry.explanation));
}

function wrap(text: string, columns: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > columns) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}
