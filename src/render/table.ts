// kubectl-style tables: upper-case headers, no borders, columns three spaces apart, <none> for
// empty cells. Plain string padding: kubectl's tabwriter output is that simple.

export interface TableOptions {
  noHeaders?: boolean;
}

export function renderTable(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | null | undefined>>, options: TableOptions = {}): string {
  const cells = rows.map((row) => headers.map((_, i) => cellText(row[i])));
  const all = options.noHeaders ? cells : [headers.map((h) => h.toUpperCase()), ...cells];
  if (all.length === 0) return '';
  // A loop, not Math.max(...column): a spread of 100k+ rows overflows the call stack.
  const widths = headers.map(() => 0);
  for (const r of all) r.forEach((c, i) => (widths[i] = Math.max(widths[i]!, displayWidth(c))));
  return all
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - displayWidth(c) + 3))).join('').trimEnd())
    .join('\n') + '\n';
}

function cellText(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '<none>';
  return String(value);
}

// Colour escapes take no room on screen.
function displayWidth(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}
