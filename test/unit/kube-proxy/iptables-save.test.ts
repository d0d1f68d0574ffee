import { expect } from 'chai';
import { parseIptablesSave, readIptablesSaveGenerator, tokenize, parseRuleSpec, splitHostPort } from '../../../src/kube-proxy/iptables-save.js';
import { readFixture } from './kube-proxy-fixtures.js';
import { generateIptablesSave } from '../../../scripts/gen-kube-proxy-dump.js';

describe('parseIptablesSave', () => {
  describe('flannel kubeadm v1.29 full dump (real)', () => {
    const dump = parseIptablesSave(readFixture('iptables/flannel-kubeadm-v1.29-master-full.txt'));

    it('reads three committed tables and calls the dump complete', () => {
      expect([...dump.tables.keys()]).to.deep.equal(['mangle', 'filter', 'nat']);
      expect(dump.format).to.equal('save');
      expect(dump.complete).to.equal(true);
      expect(dump.warnings).to.deep.equal([]);
      expect(dump.generator).to.equal('iptables-save v1.8.4');
      for (const t of dump.tables.values()) expect(t.committed).to.equal(true);
    });

    it('keeps chain policies and counters', () => {
      const fwd = dump.tables.get('filter')?.chains.get('FORWARD');
      expect(fwd?.policy).to.equal('DROP');
      expect(fwd?.builtin).to.equal(true);
      expect(dump.tables.get('mangle')?.chains.get('PREROUTING')?.counters).to.deep.equal({ packets: 218188, bytes: 41890116 });
      expect(dump.tables.get('nat')?.chains.get('KUBE-SERVICES')?.policy).to.equal(null);
    });

    it("parses kube-dns's KUBE-SVC chain: masquerade scope, 0.5 split, endpoints", () => {
      const svc = dump.tables.get('nat')?.chains.get('KUBE-SVC-TCOU7JCQXEZGVUNU');
      expect(svc?.rules).to.have.length(3);
      const [masq, first, second] = svc?.rules ?? [];
      expect(masq?.source).to.deep.equal({ cidr: '10.244.0.0/16', negated: true });
      expect(masq?.destination).to.deep.equal({ cidr: '10.96.0.10/32', negated: false });
      expect(masq?.protocol).to.deep.equal({ name: 'udp', negated: false });
      expect(masq?.destinationPorts?.ports).to.deep.equal([{ from: 53, to: 53 }]);
      expect(masq?.target?.name).to.equal('KUBE-MARK-MASQ');
      expect(first?.comment).to.equal('kube-system/kube-dns:dns -> 10.244.0.4:53');
      expect(first?.statistic).to.deep.include({ mode: 'random', probability: 0.5 });
      expect(first?.target?.name).to.equal('KUBE-SEP-WXWGHGKZOCNYRYI7');
      expect(second?.statistic).to.equal(null);
      expect(second?.target?.name).to.equal('KUBE-SEP-LPGSDLJ3FDW46N4W');
      const sep = dump.tables.get('nat')?.chains.get('KUBE-SEP-WXWGHGKZOCNYRYI7');
      expect(sep?.rules[1]?.target).to.deep.include({ name: 'DNAT', toDestination: '10.244.0.4:53' });
      expect(sep?.rules[1]?.raw).to.equal(
        '-A KUBE-SEP-WXWGHGKZOCNYRYI7 -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination 10.244.0.4:53',
      );
    });

    it('parses marks, addrtype, conntrack negation and MASQUERADE options', () => {
      const nat = dump.tables.get('nat');
      const post = nat?.chains.get('KUBE-POSTROUTING')?.rules ?? [];
      expect(post[0]?.mark).to.deep.equal({ value: 0x4000, mask: 0x4000, negated: true });
      expect(post[1]?.target?.setXmark).to.deep.equal({ value: 0x4000, mask: 0 });
      expect(post[2]?.target?.options).to.deep.equal(['--random-fully']);
      const last = nat?.chains.get('KUBE-SERVICES')?.rules.at(-1);
      expect(last?.addrType).to.deep.equal({ srcType: null, dstType: 'LOCAL', negated: false });
      const fw = dump.tables.get('filter')?.chains.get('KUBE-FIREWALL')?.rules[0];
      expect(fw?.conntrack).to.deep.equal({ states: ['RELATED', 'ESTABLISHED', 'DNAT'], negated: true });
      expect(fw?.source).to.deep.equal({ cidr: '127.0.0.0/8', negated: true });
      expect(fw?.comment).to.equal('block incoming localnet connections');
      const docker = dump.tables.get('filter')?.chains.get('FORWARD')?.rules.find((r) => r.raw.includes('-i docker0 ! -o docker0'));
      expect(docker?.inInterface).to.deep.equal({ name: 'docker0', negated: false });
      expect(docker?.outInterface).to.deep.equal({ name: 'docker0', negated: true });
    });
  });

  describe('elided `iptables -t nat -S` excerpt (real)', () => {
    const dump = parseIptablesSave(readFixture('iptables/prod-aws-debian-40-endpoints-nat-S-elided.txt'), { ruleSpecTable: 'nat' });
    it('parses what is there and says the dump is not complete', () => {
      expect(dump.format).to.equal('rule-spec');
      expect(dump.complete).to.equal(false);
      expect(dump.elidedLines).to.be.greaterThan(5);
      expect(dump.warnings[0]).to.match(/excerpt/);
      expect(dump.tables.get('nat')?.committed).to.equal(false);
    });
    it('keeps the 40-way statistic split', () => {
      const svc = dump.tables.get('nat')?.chains.get('KUBE-SVC-RK4J2BHJ4QTMGP2E');
      expect(svc?.declared).to.equal(true);
      expect(svc?.rules).to.have.length(40);
      expect(svc?.rules[0]?.statistic?.probability).to.equal(0.02499999991);
      expect(svc?.rules[39]?.statistic).to.equal(null);
      // the chain a rule jumps to may be missing from an excerpt
      expect(dump.tables.get('nat')?.chains.has('KUBE-SEP-KWJZCBMS26B6TN3E')).to.equal(false);
    });
  });

  describe('edge cases', () => {
    it('empty input', () => {
      const d = parseIptablesSave('');
      expect(d.format).to.equal('empty');
      expect(d.tables.size).to.equal(0);
      expect(d.ruleCount).to.equal(0);
      expect(d.complete).to.equal(true);
    });

    it('a dump cut before COMMIT is incomplete, the rules before the cut are kept', () => {
      const full = readFixture('iptables/flannel-kubeadm-v1.29-master-full.txt');
      const cut = full.slice(0, full.indexOf('-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment') + 40);
      const d = parseIptablesSave(cut);
      expect(d.complete).to.equal(false);
      expect(d.warnings.join('\n')).to.match(/table nat has no COMMIT/);
      expect(d.tables.get('nat')?.committed).to.equal(false);
      expect(d.tables.get('filter')?.committed).to.equal(true);
      expect(d.tables.get('nat')?.chains.get('KUBE-SVC-TCOU7JCQXEZGVUNU')?.rules.length).to.equal(2);
    });

    it('reads -c counters on rules', () => {
      const d = parseIptablesSave('*nat\n:KUBE-SERVICES - [0:0]\n[12:720] -A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m udp --dport 53 -j KUBE-SVC-X\nCOMMIT\n');
      const r = d.tables.get('nat')?.chains.get('KUBE-SERVICES')?.rules[0];
      expect(r?.counters).to.deep.equal({ packets: 12, bytes: 720 });
      expect(r?.destination?.cidr).to.equal('10.96.0.10/32');
      expect(r?.raw.startsWith('[12:720] -A')).to.equal(true);
    });

    it('keeps unknown matches as text instead of failing', () => {
      const spec = parseRuleSpec(
        '-A KUBE-SVC-X -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-Y --mask 255.255.255.255 --rsource -j KUBE-SEP-Y',
      );
      expect(spec.unknownMatches).to.deep.equal([
        { module: 'recent', text: '--rcheck --seconds 10800 --reap --name KUBE-SEP-Y --mask 255.255.255.255 --rsource' },
      ]);
      expect(spec.target?.name).to.equal('KUBE-SEP-Y');
    });

    it('tokenizes quoted comments with escapes', () => {
      expect(tokenize('-A X -m comment --comment "a \\"quoted\\" \\\\ word" -j ACCEPT')).to.deep.equal([
        '-A', 'X', '-m', 'comment', '--comment', 'a "quoted" \\ word', '-j', 'ACCEPT',
      ]);
      expect(tokenize('-A X -m comment --comment "two  spaces" -j ACCEPT')[5]).to.equal('two  spaces');
    });

    it('parses multiport --dports, goto and REJECT --reject-with', () => {
      const a = parseRuleSpec('-A KUBE-SERVICES -p tcp -m multiport --dports 80,8000:8080 -g KUBE-SVC-Z');
      expect(a.destinationPorts?.ports).to.deep.equal([{ from: 80, to: 80 }, { from: 8000, to: 8080 }]);
      expect(a.target).to.deep.include({ kind: 'goto', name: 'KUBE-SVC-Z' });
      const b = parseRuleSpec('-A KUBE-SERVICES -d 10.96.0.9/32 -p tcp -m comment --comment "ns/a:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable');
      expect(b.target?.rejectWith).to.equal('icmp-port-unreachable');
      expect(b.comment).to.equal('ns/a:http has no endpoints');
    });

    it('splits host:port targets', () => {
      expect(splitHostPort('10.244.0.4:53')).to.deep.equal({ ip: '10.244.0.4', port: 53 });
      expect(splitHostPort('10.244.0.4')).to.deep.equal({ ip: '10.244.0.4', port: null });
      expect(splitHostPort('[fd00::4]:53')).to.deep.equal({ ip: 'fd00::4', port: 53 });
    });
  });

  it('parses a generated 200-Service dump completely', () => {
    const d = parseIptablesSave(generateIptablesSave({ services: 200, seed: 7 }));
    expect(d.complete).to.equal(true);
    const nat = d.tables.get('nat');
    const svcChains = [...(nat?.chains.keys() ?? [])].filter((c) => c.startsWith('KUBE-SVC-'));
    expect(svcChains).to.have.length(196); // every 50th Service has no endpoints
    expect(d.tables.get('filter')?.chains.get('KUBE-SERVICES')?.rules).to.have.length(4);
  });
});

describe('readIptablesSaveGenerator', () => {
  it('reads the header parseIptablesSave reads, without the rules', () => {
    const text = readFixture('iptables/flannel-kubeadm-v1.29-master-full.txt');
    expect(readIptablesSaveGenerator(text)).to.equal('iptables-save v1.8.4');
    expect(readIptablesSaveGenerator(text)).to.equal(parseIptablesSave(text).generator);
    const crlf = text.replace(/\n/g, '\r\n');
    expect(readIptablesSaveGenerator(crlf)).to.equal('iptables-save v1.8.4');
  });
  it('is null for a dump without a header', () => {
    const elided = readFixture('iptables/prod-aws-debian-40-endpoints-nat-S-elided.txt');
    expect(parseIptablesSave(elided).generator).to.equal(null);
    expect(readIptablesSaveGenerator(elided)).to.equal(null);
    expect(readIptablesSaveGenerator('')).to.equal(null);
  });
});
