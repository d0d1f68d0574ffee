// One section of a node's raw output in a saved snapshot (test/fixtures/snapshots/CHECK/NAME), for
// parser tests over lab captures: the snapshot's PROVENANCE.md says how each was taken.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseNodeScriptOutput, type RawSection } from '../../../src/probe/sections.js';

const SNAPSHOTS = fileURLToPath(new URL('../../fixtures/snapshots/', import.meta.url));

export function snapshotSection(snapshot: string, nodeName: string, section: string): RawSection {
  const dir = `${SNAPSHOTS}${snapshot}/`;
  const file = JSON.parse(readFileSync(`${dir}snapshot.json`, 'utf8')) as { nodes: Array<{ nodeName: string; ok: boolean; token?: string; rawFile?: string }> };
  const node = file.nodes.find((n) => n.nodeName === nodeName);
  if (!node?.ok || !node.token) throw new Error(`snapshot ${snapshot} has no output from ${nodeName}`);
  const raw = readFileSync(`${dir}${node.rawFile ?? `nodes/${nodeName}.txt`}`, 'utf8');
  const found = parseNodeScriptOutput(raw, node.token).sections.get(section);
  if (!found) throw new Error(`snapshot ${snapshot} ${nodeName} has no section ${section}`);
  return found;
}
