// Splits the node script's output into sections. The markers carry a per-run token, so a command
// whose output happens to contain "@@NETDIAG" cannot end a section early.
import { gunzipSync } from 'node:zlib';

// The node script sends big dumps (iptables-save, nft) as NAME.gz64: gzip, then base64. They are
// decoded here, so every reader sees NAME with the plain text, and snapshots keep the raw bytes.
const GZ64 = '.gz64';

export interface RawSection {
  name: string;
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface NodeScriptOutput {
  sections: Map<string, RawSection>;
  complete: boolean; // the DONE marker arrived: nothing was cut off
  problems: string[]; // framing errors: a section without END, an END without BEGIN
}

export function parseNodeScriptOutput(text: string, token: string): NodeScriptOutput {
  const sections = new Map<string, RawSection>();
  const problems: string[] = [];
  const begin = `@@NETDIAG ${token} BEGIN `;
  const endPrefix = `\n@@NETDIAG ${token} END `;
  const done = `@@NETDIAG ${token} DONE`;
  let pos = 0;
  let complete = false;
  while (pos < text.length) {
    const lineEnd = text.indexOf('\n', pos);
    const line = text.slice(pos, lineEnd === -1 ? text.length : lineEnd);
    if (line === done) {
      // Follow-up calls to the same node append their own framed output after a DONE.
      complete = true;
      pos = lineEnd === -1 ? text.length : lineEnd + 1;
      continue;
    }
    if (!line.startsWith(begin)) {
      // Noise outside any section (a shell warning, say): skip the line.
      pos = lineEnd === -1 ? text.length : lineEnd + 1;
      continue;
    }
    complete = false;
    const name = line.slice(begin.length);
    const bodyStart = lineEnd === -1 ? text.length : lineEnd + 1;
    const endMarker = `${endPrefix}${name} rc=`;
    const endAt = text.indexOf(endMarker, bodyStart - 1);
    if (endAt === -1) {
      problems.push(`section ${name} has no end marker (output cut off)`);
      break;
    }
    const rcStart = endAt + endMarker.length;
    const rcEnd = text.indexOf('\n', rcStart);
    const exitCode = Number.parseInt(text.slice(rcStart, rcEnd === -1 ? text.length : rcEnd), 10);
    const body = endAt < bodyStart ? '' : text.slice(bodyStart, endAt);
    if (name.endsWith('#stderr')) {
      const owner = sections.get(name.slice(0, -'#stderr'.length));
      if (owner) owner.stderr = body;
      else problems.push(`stderr for unknown section ${name}`);
    } else if (name.endsWith(GZ64)) {
      const plainName = name.slice(0, -GZ64.length);
      let stdout = '';
      try {
        stdout = gunzipSync(Buffer.from(body, 'base64')).toString('utf8');
      } catch (err) {
        problems.push(`section ${plainName} could not be decoded (gzip+base64): ${(err as Error).message}`);
      }
      sections.set(plainName, { name: plainName, exitCode: Number.isNaN(exitCode) ? -1 : exitCode, stdout, stderr: '' });
    } else {
      sections.set(name, { name, exitCode: Number.isNaN(exitCode) ? -1 : exitCode, stdout: body, stderr: '' });
    }
    pos = rcEnd === -1 ? text.length : rcEnd + 1;
  }
  if (!complete && problems.length === 0) problems.push('the node script did not finish (no DONE marker)');
  return { sections, complete, problems };
}
