// Shared result types for the node-fact parsers. Parsers never throw on odd input: a whole-input
// problem (empty, truncated JSON, the tool's own error message) is a ParseFailure; a record that
// could not be read is skipped and listed, so the rest of the output still counts.

export type ParseFailureReason =
  | 'empty-input' // the command printed nothing: it did not run, or failed before output
  | 'invalid-json' // not JSON, or JSON cut off (a truncated collection)
  | 'unexpected-shape' // valid JSON, but not the array/object the tool prints
  | 'command-error' // the tool printed its own error instead of data ("no stats available")
  | 'unrecognised-text'; // text that holds none of the lines this parser knows

export interface ParseFailure {
  reason: ParseFailureReason;
  source: string; // which command's output, e.g. "ip -j -d addr show"
  message: string; // one sentence naming what could not be parsed
  excerpt: string; // a short piece of the offending input, for evidence
}

export interface SkippedRecord {
  source: string;
  position: string; // "record 3" or "line 7"
  message: string;
  raw: string;
}

export type ParseResult<T> =
  | { ok: true; value: T; skipped: SkippedRecord[] }
  | { ok: false; error: ParseFailure };

export type JsonObject = { [key: string]: unknown };

const EXCERPT_CHARS = 120;

export function excerptOf(text: string, atEnd = false): string {
  const trimmed = text.trim();
  if (trimmed.length <= EXCERPT_CHARS) return trimmed;
  return atEnd ? `...${trimmed.slice(-EXCERPT_CHARS)}` : `${trimmed.slice(0, EXCERPT_CHARS)}...`;
}

export function failure(
  reason: ParseFailureReason,
  source: string,
  message: string,
  input: string,
  excerptAtEnd = false,
): { ok: false; error: ParseFailure } {
  return { ok: false, error: { reason, source, message, excerpt: excerptOf(input, excerptAtEnd) } };
}

export function success<T>(value: T, skipped: SkippedRecord[] = []): { ok: true; value: T; skipped: SkippedRecord[] } {
  return { ok: true, value, skipped };
}

/** Parse JSON text or return a typed failure that names the command and where it broke. */
export function parseJsonInput(text: string, source: string): ParseResult<unknown> {
  if (text.trim() === '') {
    return failure('empty-input', source, `${source}: no output to parse`, text);
  }
  try {
    return success(JSON.parse(text) as unknown);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    // A cut-off collection (probe pod killed, output limit) ends mid-record: show the tail.
    return failure('invalid-json', source, `${source}: output is not complete JSON (${detail})`, text, true);
  }
}

/** parseJsonInput, then require a top-level array of objects (what every `ip -j ... show` prints). */
export function parseJsonArrayInput(text: string, source: string): ParseResult<JsonObject[]> {
  const parsed = parseJsonInput(text, source);
  if (!parsed.ok) return parsed;
  if (!Array.isArray(parsed.value)) {
    return failure('unexpected-shape', source, `${source}: expected a JSON array of records`, text);
  }
  return success(parsed.value.filter(isJsonObject));
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringField(obj: JsonObject, key: string): string | null {
  const v = obj[key];
  return typeof v === 'string' ? v : null;
}

export function numberField(obj: JsonObject, key: string): number | null {
  const v = obj[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function booleanField(obj: JsonObject, key: string): boolean | null {
  const v = obj[key];
  return typeof v === 'boolean' ? v : null;
}

export function stringArrayField(obj: JsonObject, key: string): string[] {
  const v = obj[key];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function objectField(obj: JsonObject, key: string): JsonObject | null {
  const v = obj[key];
  return isJsonObject(v) ? v : null;
}

/** Split text into lines without the trailing newline; keeps 1-based numbers for evidence. */
export function splitLines(text: string): { lineNo: number; line: string }[] {
  return text
    .split(/\r?\n/)
    .map((line, i) => ({ lineNo: i + 1, line }))
    .filter(({ line }) => line.trim() !== '');
}

/** Strict decimal integer, or null (ip and /proc never print signs or units on these fields). */
export function toInt(token: string | undefined): number | null {
  if (token === undefined || !/^-?\d+$/.test(token)) return null;
  const n = Number(token);
  return Number.isSafeInteger(n) ? n : null;
}
