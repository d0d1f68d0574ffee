import { expect } from 'chai';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError } from '../../../lab/api-server/selectors.js';

describe('api-server selectors', () => {
  const labels = { app: 'web', tier: 'frontend', 'app.kubernetes.io/managed-by': 'kubectl-netdiag' };

  it('parses nothing from an empty selector and matches everything', () => {
    expect(parseLabelSelector('')).to.deep.equal([]);
    expect(parseLabelSelector(null)).to.deep.equal([]);
    expect(matchesLabels([], undefined)).to.equal(true);
  });

  it('handles =, ==, !=, in, notin, exists and !exists', () => {
    const cases: [string, boolean][] = [
      ['app=web', true],
      ['app==web', true],
      ['app=db', false],
      ['app!=db', true],
      ['app!=web', false],
      ['missing!=x', true],
      ['tier in (frontend, backend)', true],
      ['tier in (backend)', false],
      ['tier notin (backend)', true],
      ['missing notin (x)', true],
      ['app.kubernetes.io/managed-by', true],
      ['missing', false],
      ['!missing', true],
      ['!app', false],
      ['app=web,tier in (frontend,x),!missing', true],
      ['app=web,tier=backend', false],
    ];
    for (const [selector, expected] of cases) {
      expect(matchesLabels(parseLabelSelector(selector), labels), selector).to.equal(expected);
    }
  });

  it('rejects label keys the real server rejects', () => {
    expect(() => parseLabelSelector('bad key=1')).to.throw(SelectorError);
  });

  it('filters pods on the supported field paths and rejects others', () => {
    const pod = { metadata: { name: 'p', namespace: 'default' }, spec: { nodeName: 'lab-node-1' }, status: { phase: 'Running' } };
    expect(matchesFields(parseFieldSelector('spec.nodeName=lab-node-1,status.phase=Running', 'pods'), pod)).to.equal(true);
    expect(matchesFields(parseFieldSelector('status.phase!=Running', 'pods'), pod)).to.equal(false);
    expect(matchesFields(parseFieldSelector('metadata.name==p', 'pods'), pod)).to.equal(true);
    expect(() => parseFieldSelector('spec.nodeName=x', 'services')).to.throw(SelectorError, 'field label not supported: spec.nodeName');
  });
});
