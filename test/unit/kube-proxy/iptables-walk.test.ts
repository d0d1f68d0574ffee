import { expect } from 'chai';
import { parseIptablesSave } from '../../../src/kube-proxy/iptables-save.js';
import {
  buildServiceChainFromIptables,
  findMasqueradeScopes,
  listProgrammedServicePorts,
} from '../../../src/kube-proxy/iptables-walk.js';
import { type ServicePacket } from '../../../src/kube-proxy/service-chain.js';
import { buildGeneratedServices, generateIptablesSave } from '../../../scripts/gen-kube-proxy-dump.js';
import { readFixture } from './kube-proxy-fixtures.js';
import { cidrContainsIp, cidrCoversCidr } from '../../../src/net/ip.js';

const flannel = parseIptablesSave(readFixture('iptables/flannel-kubeadm-v1.29-master-full.txt'));
const NODE = '192.168.157.133'; // the control-plane node of that dump (it is the apiserver endpoint)

function pkt(p: Partial<ServicePacket> & Pick<ServicePacket, 'protocol' | 'sourceIp' | 'destinationIp' | 'destinationPort'>): ServicePacket {
  return { hook: 'prerouting', ...p };
}

describe('buildServiceChainFromIptables', () => {
  describe('flannel kubeadm v1.29 dump: packet-flow table', () => {
    interface Row {
      name: string;
      packet: ServicePacket;
      outcome: string;
      targets: string[]; // ip:port with share
      masquerade?: boolean;
    }
    const rows: Row[] = [
      {
        name: 'pod -> kube-dns udp/53',
        packet: pkt({ protocol: 'udp', sourceIp: '10.244.1.5', destinationIp: '10.96.0.10', destinationPort: 53 }),
        outcome: 'dnat',
        targets: ['10.244.0.4:53@0.5', '10.244.0.5:53@0.5'],
        masquerade: false,
      },
      {
        name: 'pod -> kube-dns tcp/53',
        packet: pkt({ protocol: 'tcp', sourceIp: '10.244.1.5', destinationIp: '10.96.0.10', destinationPort: 53 }),
        outcome: 'dnat',
        targets: ['10.244.0.4:53@0.5', '10.244.0.5:53@0.5'],
        masquerade: false,
      },
      {
        name: 'host process -> kubernetes:443 (masqueraded: source outside the cluster CIDR)',
        packet: pkt({ protocol: 'tcp', sourceIp: NODE, destinationIp: '10.96.0.1', destinationPort: 443, hook: 'output' }),
        outcome: 'dnat',
        targets: ['192.168.157.133:6443@1'],
        masquerade: true,
      },
      {
        name: 'pod -> service1:fileserver, three endpoints of 1/3',
        packet: pkt({ protocol: 'tcp', sourceIp: '10.244.0.9', destinationIp: '10.108.64.11', destinationPort: 8080 }),
        outcome: 'dnat',
        targets: ['10.244.1.4:8080@0.333333333', '10.244.1.5:8080@0.333333333', '10.244.1.6:8080@0.333333333'],
      },
      {
        name: 'wrong protocol: udp to a tcp-only port',
        packet: pkt({ protocol: 'udp', sourceIp: '10.244.1.5', destinationIp: '10.96.0.1', destinationPort: 443 }),
        outcome: 'no-match',
        targets: [],
      },
      {
        name: 'wrong port on a ClusterIP',
        packet: pkt({ protocol: 'tcp', sourceIp: '10.244.1.5', destinationIp: '10.96.0.10', destinationPort: 54 }),
        outcome: 'no-match',
        targets: [],
      },
      {
        name: 'not a Service IP',
        packet: pkt({ protocol: 'tcp', sourceIp: '10.244.1.5', destinationIp: '8.8.8.8', destinationPort: 443 }),
        outcome: 'no-match',
        targets: [],
      },
    ];
    for (const row of rows) {
      it(row.name, () => {
        const sc = buildServiceChainFromIptables(flannel, row.packet);
        expect(sc.outcome).to.equal(row.outcome);
        const shares = sc.endpoints
          .map((e) => `${e.dnatTarget?.ip}:${e.dnatTarget?.port}@${Math.round(e.probability * 1e9) / 1e9}`)
          .sort();
        // statistic's u32 quantisation: 0.33333333349 * (1 - ...) -> compare with 6 decimals
        expect(shares.map((s) => s.replace(/@(.*)$/, (_, p: string) => '@' + Number(p).toFixed(6)))).to.deep.equal(
          row.targets.map((s) => s.replace(/@(.*)$/, (_, p: string) => '@' + Number(p).toFixed(6))),
        );
        if (row.masquerade !== undefined) {
          expect(sc.endpoints.length).to.be.greaterThan(0);
          for (const e of sc.endpoints) expect(e.masquerade.masquerade, e.endpointChain).to.equal(row.masquerade);
        }
        if (row.outcome === 'no-match') expect(sc.outcomeRule).to.equal(null);
      });
    }

    it('names the Service, its KUBE-SVC chain, the shared steps and the masquerade scope', () => {
      const sc = buildServiceChainFromIptables(
        flannel,
        pkt({ protocol: 'udp', sourceIp: '10.244.1.5', destinationIp: '10.96.0.10', destinationPort: 53 }),
      );
      expect(sc.mode).to.equal('iptables');
      expect(sc.servicePort).to.equal('kube-system/kube-dns:dns');
      expect(sc.serviceChain).to.equal('KUBE-SVC-TCOU7JCQXEZGVUNU');
      expect(sc.steps.map((s) => s.chain)).to.deep.equal(['PREROUTING', 'KUBE-SERVICES']);
      expect(sc.masqueradeScope?.cidr).to.equal('10.244.0.0/16');
      const ep = sc.endpoints.find((e) => e.endpointChain === 'KUBE-SEP-WXWGHGKZOCNYRYI7');
      expect(ep?.dnatTarget).to.deep.equal({ ip: '10.244.0.4', port: 53 });
      expect(ep?.probability).to.equal(0.5);
      expect(ep?.masquerade.markedBy).to.equal(null);
      expect(ep?.masquerade.decidedBy).to.equal('-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN');
      // FORWARD policy is DROP in this dump; flannel's FLANNEL-FWD accepts pod traffic
      expect(ep?.filterVerdict).to.equal('accept');
      expect(ep?.filterRule).to.match(/^-A FLANNEL-FWD -s 10.244.0.0\/16/);
      expect(sc.unmatchedShare).to.equal(0);
    });

    it('cites the rule that set the masquerade mark and the MASQUERADE rule', () => {
      const sc = buildServiceChainFromIptables(
        flannel,
        pkt({ protocol: 'udp', sourceIp: NODE, destinationIp: '10.96.0.10', destinationPort: 53, hook: 'output' }),
      );
      expect(sc.endpoints).to.have.length(2);
      for (const ep of sc.endpoints) {
        expect(ep.masquerade.markedBy).to.match(/^-A KUBE-SVC-TCOU7JCQXEZGVUNU ! -s 10.244.0.0\/16 .* -j KUBE-MARK-MASQ$/);
        expect(ep.masquerade.decidedBy).to.equal(
          '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
        );
      }
    });

    it('hairpin: an endpoint reaching its own Service is masqueraded by its KUBE-SEP rule', () => {
      const sc = buildServiceChainFromIptables(
        flannel,
        pkt({ protocol: 'udp', sourceIp: '10.244.0.4', destinationIp: '10.96.0.10', destinationPort: 53 }),
      );
      const self = sc.endpoints.find((e) => e.dnatTarget?.ip === '10.244.0.4');
      const other = sc.endpoints.find((e) => e.dnatTarget?.ip === '10.244.0.5');
      expect(self?.masquerade.masquerade).to.equal(true);
      expect(self?.masquerade.markedBy).to.match(/^-A KUBE-SEP-WXWGHGKZOCNYRYI7 -s 10.244.0.4\/32/);
      expect(other?.masquerade.masquerade).to.equal(false);
    });
  });

  describe('generated kube-proxy dump', () => {
    const opts = { services: 120, seed: 3 };
    const dump = parseIptablesSave(generateIptablesSave(opts));
    const services = buildGeneratedServices(opts);

    it('REJECTs a Service without endpoints in filter KUBE-SERVICES', () => {
      const s = services.find((x) => x.endpoints.length === 0);
      if (s === undefined) throw new Error('generator made no endpoint-less Service');
      const sc = buildServiceChainFromIptables(
        dump,
        pkt({ protocol: s.protocol, sourceIp: '10.244.3.3', destinationIp: s.clusterIp, destinationPort: s.port }),
      );
      expect(sc.outcome).to.equal('reject');
      expect(sc.outcomeRule).to.match(/has no endpoints" .* -j REJECT --reject-with icmp-port-unreachable$/);
      expect(sc.servicePort).to.equal(`${s.namespace}/${s.name}:${s.portName}`);
      expect(sc.endpoints).to.deep.equal([]);
    });

    it('NodePort from outside: KUBE-NODEPORTS -> KUBE-EXT (masquerade) -> KUBE-SVC -> 3 x 1/3', () => {
      const s = services.find((x) => x.nodePort !== null && x.endpoints.length === 3);
      if (s === undefined || s.nodePort === null) throw new Error('generator made no NodePort');
      const sc = buildServiceChainFromIptables(
        dump,
        pkt({ protocol: s.protocol, sourceIp: '203.0.113.9', destinationIp: '192.168.0.2', destinationPort: s.nodePort, destinationIsLocal: true, localAddresses: ['192.168.0.2'] }),
      );
      expect(sc.outcome).to.equal('dnat');
      expect(sc.endpoints.map((e) => `${e.dnatTarget?.ip}:${e.dnatTarget?.port}`).sort()).to.deep.equal(
        s.endpoints.map((e) => `${e.ip}:${e.port}`).sort(),
      );
      const total = sc.endpoints.reduce((a, e) => a + e.probability, 0);
      expect(total).to.be.closeTo(1, 1e-9);
      for (const e of sc.endpoints) {
        expect(e.probability).to.be.closeTo(1 / 3, 1e-6);
        expect(e.masquerade.masquerade).to.equal(true);
        expect(e.masquerade.markedBy).to.match(/-A KUBE-EXT-/);
      }
      expect(sc.steps.map((x) => x.chain)).to.include('KUBE-NODEPORTS');
    });
  });

  describe('seed 002: MASQUERADE scoped to the wrong CIDR', () => {
    // The cluster CIDR given to kube-proxy (10.28.0.0/16) also contains the node's own address
    // (10.28.252.241), so traffic from the node to a ClusterIP is not masqueraded.
    const dump = parseIptablesSave(generateIptablesSave({ services: 5, seed: 2, clusterCidr: '10.28.0.0/16', noEndpointsEvery: 0 }));
    const s = buildGeneratedServices({ services: 5, seed: 2 })[1];
    it('exposes the CIDR and shows the node traffic is not masqueraded', () => {
      if (s === undefined) throw new Error('no service');
      const scopes = findMasqueradeScopes(dump);
      expect(scopes.clusterCidr).to.equal('10.28.0.0/16');
      expect(scopes.rules.length).to.equal(5);
      const sc = buildServiceChainFromIptables(
        dump,
        pkt({ protocol: s.protocol, sourceIp: '10.28.252.241', destinationIp: s.clusterIp, destinationPort: s.port, hook: 'output' }),
      );
      expect(sc.masqueradeScope?.cidr).to.equal('10.28.0.0/16');
      expect(cidrContainsIp(sc.masqueradeScope?.cidr ?? '', '10.28.252.241')).to.equal(true);
      expect(sc.endpoints).to.have.length(3);
      for (const e of sc.endpoints) expect(e.masquerade.masquerade).to.equal(false);
      // and the pod network actually in use (10.244.0.0/16) is not covered by it
      expect(cidrCoversCidr('10.28.0.0/16', '10.244.0.0/16')).to.equal(false);
    });
  });

  describe('incomplete and empty dumps', () => {
    it('elided -S excerpt: traces what is there and says so', () => {
      const dump = parseIptablesSave(readFixture('iptables/prod-aws-debian-40-endpoints-nat-S-elided.txt'), { ruleSpecTable: 'nat' });
      const sc = buildServiceChainFromIptables(
        dump,
        pkt({ protocol: 'tcp', sourceIp: '100.96.1.1', destinationIp: '100.71.52.243', destinationPort: 80 }),
      );
      expect(sc.serviceChain).to.equal('KUBE-SVC-RK4J2BHJ4QTMGP2E');
      expect(sc.servicePort).to.equal('backend/neo-prod-ccapi-inner-lb:http');
      expect(sc.outcome).to.equal('dnat');
      // only two of the 40 KUBE-SEP chains are in the excerpt
      expect(sc.endpoints.map((e) => e.dnatTarget?.ip).sort()).to.deep.equal(['100.96.179.196', '100.97.100.231']);
      expect(sc.endpoints.find((e) => e.dnatTarget?.ip === '100.96.179.196')?.probability).to.be.closeTo(0.025, 1e-6);
      expect(sc.unmatchedShare).to.be.greaterThan(0.9);
      expect(sc.notes.join('\n')).to.match(/incomplete/);
      expect(sc.notes.join('\n')).to.match(/not in the dump/);
    });

    it('empty dump: no match, with a note', () => {
      const sc = buildServiceChainFromIptables(
        parseIptablesSave(''),
        pkt({ protocol: 'tcp', sourceIp: '10.244.1.5', destinationIp: '10.96.0.1', destinationPort: 443 }),
      );
      expect(sc.outcome).to.equal('no-match');
      expect(sc.notes).to.include('no nat table in the dump');
    });
  });
});

describe('listProgrammedServicePorts', () => {
  it('lists every Service port of the flannel dump with its endpoint count', () => {
    const ports = listProgrammedServicePorts(flannel).map((p) => `${p.servicePort} ${p.kind} ${p.protocol} ${p.ip}:${p.port} ${p.endpointCount}`);
    expect(ports).to.deep.equal([
      'default/kubernetes:https cluster-ip tcp 10.96.0.1:443 1',
      'kube-system/kube-dns:dns-tcp cluster-ip tcp 10.96.0.10:53 2',
      'kube-system/kube-dns:metrics cluster-ip tcp 10.96.0.10:9153 2',
      'kube-system/kube-dns:dns cluster-ip udp 10.96.0.10:53 2',
      'default/service1:fileserver cluster-ip tcp 10.108.64.11:8080 3',
      'default/service1:downloader cluster-ip tcp 10.108.64.11:3000 3',
    ]);
  });

  it('includes NodePorts and endpoint-less Services of a generated dump', () => {
    const opts = { services: 100, seed: 5 };
    const ports = listProgrammedServicePorts(parseIptablesSave(generateIptablesSave(opts)));
    const services = buildGeneratedServices(opts);
    expect(ports.filter((p) => p.kind === 'cluster-ip')).to.have.length(100);
    expect(ports.filter((p) => !p.hasEndpoints).map((p) => p.name).sort()).to.deep.equal(
      services.filter((s) => s.endpoints.length === 0).map((s) => s.name).sort(),
    );
    expect(ports.filter((p) => p.kind === 'node-port').length).to.equal(services.filter((s) => s.nodePort !== null).length);
  });
});
