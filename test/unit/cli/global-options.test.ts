import { expect } from 'chai';
import { normaliseArgv, parseDurationMs, readGlobalOptions } from '../../../src/cli/global-options.js';
import { UserError } from '../../../src/errors.js';
import { exitCodeFor } from '../../../src/cli/exit-code.js';
import type { Finding } from '../../../src/checks/finding.js';

describe('global options', () => {
  it('splits glued -o/-n values that yargs misreads', () => {
    expect(normaliseArgv(['veth-peer', '-ojson', '-nkube-system', '-o', 'wide', '-v'])).to.deep.equal(['veth-peer', '-o', 'json', '-n', 'kube-system', '-o', 'wide', '-v']);
  });
  it('reads kubectl durations', () => {
    expect(parseDurationMs('30', 'x')).to.equal(30_000);
    expect(parseDurationMs('1m30s', 'x')).to.equal(90_000);
    expect(parseDurationMs('250ms', 'x')).to.equal(250);
    expect(() => parseDurationMs('soon', 'request-timeout')).to.throw(UserError, /invalid duration "soon" for --request-timeout/);
  });
  it('rejects bad -o, bad --fail-on, shell-looking namespaces and conflicting snapshot flags', () => {
    expect(() => readGlobalOptions({ output: 'xml' })).to.throw(UserError, /unknown output format "xml"/);
    expect(() => readGlobalOptions({ 'fail-on': 'fatal' })).to.throw(UserError, /--fail-on/);
    expect(() => readGlobalOptions({ namespace: '$(touch /tmp/x)' })).to.throw(UserError, /invalid namespace/);
    expect(() => readGlobalOptions({ 'save-snapshot': 'a', 'from-snapshot': 'b' })).to.throw(UserError, /cannot be used together/);
  });
  it('maps findings to the exit code against --fail-on', () => {
    const f = (severity: Finding['severity']): Finding => ({ code: 'node.ip-forward-off', severity, subject: 's', message: 'm', evidence: [], remedy: 'r' });
    expect(exitCodeFor([f('warn')], 'error')).to.equal(0);
    expect(exitCodeFor([f('warn')], 'warn')).to.equal(1);
    expect(exitCodeFor([f('error')], 'never')).to.equal(0);
    expect(exitCodeFor([], 'info')).to.equal(0);
  });
});
