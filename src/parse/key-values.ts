// The node script's `key=value` lines (meta, pod/KEY/pid, capture/ID/meta): printf output, one
// key a line. A line without '=' (a tool's own message) is not a field.

/** Each `key=value` line as key -> value; the value is everything after the first '='. A repeated key keeps its last value. */
export function parseKeyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}
