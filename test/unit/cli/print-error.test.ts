// The one error printer: one `error:` line (user input and API text with newlines or terminal
// escapes cannot break it into several), an optional hint, the exit code the error carries.
import { expect } from 'chai';
import { printError } from '../../../src/cli/cli.js';
import { EXIT, InterruptedError, UserError } from '../../../src/errors.js';
import { fakeDeps } from '../../support/fake-deps.js';

describe('printError', () => {
  it('prints error and hint lines and returns the error exit code', () => {
    const deps = fakeDeps();
    const code = printError(new UserError('pod "x" not found', { hint: 'add -n team-a', exitCode: EXIT.usage }), deps, false);
    expect(code).to.equal(2);
    expect(deps.err()).to.equal('error: pod "x" not found\nhint: add -n team-a\n');
  });

  it('escapes newlines and control characters so the error stays one line', () => {
    const deps = fakeDeps();
    printError(new UserError('context "a\ntouch /tmp/x\u001b[2J" does not exist', { hint: 'known:\tb' }), deps, false);
    expect(deps.err()).to.equal('error: context "a\\ntouch /tmp/x\\x1b[2J" does not exist\nhint: known: b\n');
  });

  it('interrupted is 130; an unexpected error is 3 without a stack unless -v', () => {
    const deps = fakeDeps();
    expect(printError(new InterruptedError('SIGINT'), deps, false)).to.equal(130);
    expect(printError(new TypeError('boom'), deps, false)).to.equal(3);
    expect(deps.err()).to.equal('error: interrupted; probe pods were deleted\nerror: unexpected failure: boom\nhint: run again with -v for details, and report it\n');
    expect(deps.err()).not.to.match(/\n\s+at /);
  });
});
