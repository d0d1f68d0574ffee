// kubectl-style tables drawn by cli-table3: upper-case headers, no borders, columns three spaces
// apart, <none> for empty cells, no trailing spaces. cli-table3 measures display width (CJK and
// emoji take two cells), lays out multi-line cells and wraps the one free-text column a table
// names to the terminal's width.
import Table from 'cli-table3';
import cliTableUtils from 'cli-table3/src/utils.js';
import type { OutputStream } from './output-stream.js';

export interface TableOptions {
  noHeaders?: boolean;
  /** The terminal's width; undefined (a pipe, a file, -o wide): nothing wraps. */
  columns?: number | undefined;
  /** The header of the free-text column that wraps to `columns` (default: none wraps). */
  wrap?: string;
  /** Above this many rows, rows of plain one-line text are padded here, not by cli-table3 (see below). */
  plainRowsAbove?: number;
}

/** What a command's renderer gets besides its options: the width its tables may wrap to. */
export interface TableLayout {
  columns?: number | undefined;
}

/** Tables wrap on a terminal only, never in a pipe or a file, and never with -o wide (as kubectl's). */
export function wrapColumns(stream: OutputStream, output: string): number | undefined {
  return stream.isTTY && output !== 'wide' ? stream.columns : undefined;
}

export type Cell = string | number | null | undefined;

// No borders at all; cli-table3 puts `middle` between two cells.
const NO_BORDERS = Object.fromEntries(
  (['top', 'top-mid', 'top-left', 'top-right', 'bottom', 'bottom-mid', 'bottom-left', 'bottom-right', 'left', 'left-mid', 'mid', 'mid-mid', 'right', 'right-mid'] as const).map((name) => [name, '']),
);
const GAP = '   ';
// A wrapped column narrower than this is unreadable: then the line runs past the terminal, as kubectl's do.
const MIN_WRAP_WIDTH = 20;
// cli-table3 takes 0.07-0.36 ms a row and grows worse than linearly in one table, so rows go to
// it in chunks at fixed column widths (a row's layout then does not depend on the others).
const CHUNK_ROWS = 100;
// node-check -o wide on 1,000 nodes is 14,000 rows: 1-3 s through cli-table3 alone (BENCHMARKS.md 7).
// In a table that long, a row whose cells are all one line of printable ASCII (colour codes
// allowed) is padded here with spaces, its wrap cell split by cli-table3's own wrapping function:
// byte for byte what cli-table3 prints for it (test/unit/render/table.test.ts renders both ways).
// Every other row (CJK, emoji, several lines, a wrapped cell with colour) goes through cli-table3.
export const PLAIN_ROWS_ABOVE = 500;

/** A kubectl-style table; '' when there is nothing to print (no rows and --no-headers). */
export function renderTable(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<Cell>>, options: TableOptions = {}): string {
  const cells = rows.map((row) => headers.map((_, i) => cellText(row[i])));
  const all = options.noHeaders ? cells : [headers.map((h) => h.toUpperCase()), ...cells];
  if (all.length === 0) return '';
  // A loop, not Math.max(...column): a spread of 100k+ rows overflows the call stack.
  const widths = headers.map(() => 0);
  for (const r of all) r.forEach((c, i) => (widths[i] = Math.max(widths[i]!, displayWidth(c))));
  const wrap = wrapColumn(headers, widths, options);
  const plainAllowed = all.length > (options.plainRowsAbove ?? PLAIN_ROWS_ABOVE);
  let out = '';
  let pending: string[][] = [];
  const flush = () => {
    for (let i = 0; i < pending.length; i += CHUNK_ROWS) out += drawWithCliTable(pending.slice(i, i + CHUNK_ROWS), widths, wrap);
    pending = [];
  };
  for (const row of all) {
    const padded = plainAllowed && isPlainRow(row) ? padPlainRow(row, widths, wrap) : null;
    if (padded === null) pending.push(row);
    else {
      flush();
      out += padded;
    }
  }
  flush();
  return out;
}

function cellText(value: Cell): string {
  if (value === null || value === undefined || value === '') return '<none>';
  return String(value);
}

/** The column that wraps and its width there, or null when nothing wraps. */
function wrapColumn(headers: readonly string[], widths: number[], options: TableOptions): { index: number; width: number } | null {
  if (options.columns === undefined || options.wrap === undefined) return null;
  const index = headers.indexOf(options.wrap);
  if (index < 0) return null;
  const others = widths.reduce((sum, w, i) => (i === index ? sum : sum + w), 0) + GAP.length * (widths.length - 1);
  const width = options.columns - others;
  if (widths[index]! <= width || width < Math.max(MIN_WRAP_WIDTH, headers[index]!.length)) return null;
  widths[index] = width;
  return { index, width };
}

function drawWithCliTable(rows: string[][], widths: number[], wrap: { index: number; width: number } | null): string {
  const table = new Table({
    chars: { ...NO_BORDERS, middle: GAP },
    colWidths: widths,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
  });
  for (const row of rows) {
    table.push(row.map((content, i) => (wrap !== null && i === wrap.index && displayWidth(content) > wrap.width
      // A word longer than the column (a path, a rule) is cut at the edge rather than shortened with '…'.
      ? { content, wordWrap: true, wrapOnWordBoundary: !hasWordWiderThan(content, wrap.width) }
      : content)));
  }
  return `${table.toString().split('\n').map((line) => line.trimEnd()).join('\n')}\n`;
}

/**
 * A plain row's lines as cli-table3 draws them, or null to leave the row to cli-table3. The wrap
 * cell is split by cli-table3's own wrapping function; a cell with colour codes is left to
 * cli-table3, which carries the colour over the line breaks.
 */
function padPlainRow(row: string[], widths: number[], wrap: { index: number; width: number } | null): string | null {
  if (wrap === null || displayWidth(row[wrap.index]!) <= wrap.width) return `${padRow(row, widths)}\n`;
  const cell = row[wrap.index]!;
  if (cell.includes('\u001b')) return null;
  const lines = cliTableUtils.wordWrap(wrap.width, cell, !hasWordWiderThan(cell, wrap.width));
  if (lines.length === 0 || lines.some((line) => line.length > wrap.width)) return null;
  return lines.map((line, k) => `${padRow(row.map((c, i) => (i === wrap.index ? line : k === 0 ? c : '')), widths)}\n`).join('');
}

function padRow(row: string[], widths: number[]): string {
  let line = '';
  for (let i = 0; i < row.length - 1; i += 1) line += row[i]! + spaces(widths[i]! - displayWidth(row[i]!) + GAP.length);
  return (line + row[row.length - 1]!).trimEnd();
}

// A million rows pad with the same few runs of spaces: make each once.
const SPACES: string[] = [];
function spaces(n: number): string {
  return (SPACES[n] ??= ' '.repeat(n));
}

// cli-table3's colour escapes (SGR); cli-table3 counts them as taking no room.
// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[(?:\d*;){0,5}\d*m/g;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

function isPlainRow(row: readonly string[]): boolean {
  return row.every((c) => PRINTABLE_ASCII.test(withoutColour(c)));
}

const withoutColour = (text: string) => (text.includes('\u001b') ? text.replace(SGR, '') : text);

/** Columns a cell takes on screen, measured as cli-table3 measures it (string-width). */
export function displayWidth(text: string): number {
  const bare = withoutColour(text);
  // Printable ASCII is one column a character; string-width is slow, so only the rest goes to it.
  return PRINTABLE_ASCII.test(bare) ? bare.length : cliTableUtils.strlen(text);
}

function hasWordWiderThan(text: string, width: number): boolean {
  return text.split(/\s+/).some((word) => displayWidth(word) > width);
}
