import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseKeyValues } from '../../../src/parse/key-values.js';
import { parseNodeScriptOutput } from '../../../src/probe/sections.js';
import { REPO } from '../../support/lab-harness.js';
import { snapshotSection } from './snapshot-section.js';

// The node script's key=value sections as the lab's node script wrote them.
const captureSections = parseNodeScriptOutput(readFileSync(join(REPO, 'test/fixtures/tcpdump/lab-node-script-capped-pair.txt'), 'utf8'), 'FIXTURE').sections;

describe('parse/key-values: the node script\'s key=value lines', () => {
  it('meta: the kernel release and the tools found', () => {
    const fields = parseKeyValues(snapshotSection('arp-check/healthy-lab-node-1', 'lab-node-1', 'meta').stdout);
    expect(fields.get('script')).to.equal('netdiag-node/1');
    expect(fields.get('kernel')).to.equal('6.18.44-fc-v595');
    expect(fields.get('tool.ethtool')).to.equal('yes');
    expect(fields.has('netnsFile')).to.equal(false);
  });

  it("pod/KEY/pid: pid, method and the netns link (whose value holds ':' and '[')", () => {
    const fields = parseKeyValues(captureSections.get('pod/w1/pid')!.stdout);
    expect([...fields.keys()]).to.have.length(4);
    expect(Object.fromEntries(fields)).to.deep.equal({ pid: '19357', method: 'container-id', netns: 'net:[4026532605]', netnsFile: '/proc/19357/ns/net' });
  });

  it("capture/ID/meta: tcpdump's counts with their words joined by '-'", () => {
    const fields = parseKeyValues(captureSections.get('capture/fxcap/meta')!.stdout);
    expect([...fields.keys()]).to.have.length(9);
    expect(fields.get('endedBy')).to.equal('stop');
    expect(fields.get('received-by-filter')).to.equal('7');
    expect(fields.get('dropped-by-kernel')).to.equal('0');
  });

  it('a line without a key is not a field; the value keeps every "=" after the first; CRLF is one line end', () => {
    const fields = parseKeyValues('no capture x on this node\n=orphan\nfilter=host 10.0.0.1 and port=80\r\nempty=\n');
    expect([...fields.keys()]).to.deep.equal(['filter', 'empty']);
    expect(fields.get('filter')).to.equal('host 10.0.0.1 and port=80');
    expect(fields.get('empty')).to.equal('');
  });
});
