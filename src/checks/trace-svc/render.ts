import type { RenderOptions } from '../../cli/command-runner.js';
import type { TraceSvcReport } from './analysis.js';
import { renderTable } from '../../render/table.js';
import { renderFindings } from '../common/render-findings.js';
import { renderStructured } from '../../render/structured.js';
import type { Painter } from '../../render/colour.js';

export function renderTraceSvc(report: TraceSvcReport, options: RenderOptions, colour: Painter): string {
  if (options.output === 'json' || options.output === 'yaml') {
    return renderStructured('TraceSvcReport', { service: report.service, ports: report.ports, endpoints: report.endpoints, nodes: report.nodes, findings: report.findings, problems: report.problems }, options.output);
  }
  const wide = options.output === 'wide';
  // The tables sit two spaces in: they wrap two columns short of the terminal.
  const columns = options.columns === undefined ? undefined : options.columns - 2;
  const s = report.service;
  const ready = report.endpoints.filter((e) => e.ready).length;
  let out = `Service ${s.namespace}/${s.name}  type ${s.type}  clusterIP ${s.clusterIPs.join(',')}  ports ${report.ports.map((p) => `${p.name ? `${p.name}:` : ''}${p.port}/${p.protocol.toUpperCase()}->${p.targetPort}${p.nodePort ? ` nodePort ${p.nodePort}` : ''}`).join(', ')}\n`;
  out += `Endpoints: ${ready} ready of ${report.endpoints.length}${s.sessionAffinity && s.sessionAffinity !== 'None' ? `  sessionAffinity ${s.sessionAffinity}` : ''}${s.internalTrafficPolicy ? `  internalTrafficPolicy ${s.internalTrafficPolicy}` : ''}\n`;

  for (const node of report.nodes) {
    out += `\nNode ${node.nodeName}: ${node.backend}${node.mode === 'none' ? ' (no kube-proxy rules)' : ''}\n`;
    for (const port of node.ports) {
      const chain = port.chain;
      out += `\n  ${port.destination}/${port.port.protocol.toUpperCase()}${VIA_TEXT[port.via](port.source)} -> ${chain ? chain.outcome.toUpperCase() : 'not traced'}${chain?.serviceChain ? ` via ${chain.serviceChain}` : ''}\n`;
      if (chain && chain.steps.length > 0) {
        const steps = chain.steps.map((st, i) => [String(i + 1), `${st.table}/${st.chain}`, wide ? st.rule : truncate(st.rule, 90), wide ? st.why : '']);
        out += indent(renderTable(wide ? ['#', 'chain', 'rule', 'why'] : ['#', 'chain', 'rule'], steps.map((r) => (wide ? r : r.slice(0, 3))), { noHeaders: options.noHeaders, columns, wrap: 'rule' }));
      }
      if (port.endpoints.length > 0) {
        out += '\n' + indent(renderTable(
          ['endpoint', 'pod', 'ready', 'in-rules', 'share', 'sep-chain', 'masq', ...(wide ? ['pkts/bytes'] : [])],
          port.endpoints.map((e) => [e.target, e.pod, e.ready === null ? 'not in API' : e.ready ? 'yes' : 'no', e.inRules ? 'yes' : 'MISSING', e.probability === null ? null : `${(e.probability * 100).toFixed(1)}%`, e.endpointChain, e.masquerade === null ? null : e.masquerade ? 'yes' : 'no', ...(wide ? [e.counters] : [])]),
          { noHeaders: options.noHeaders },
        ));
      }
      for (const note of chain?.notes ?? []) out += `  note: ${note}\n`;
    }
    if (node.routes.length > 0) {
      out += '\n' + indent(renderTable(['to endpoint', 'route on this node', 'endpoint veth'], node.routes.map((r) => [r.endpoint, r.route, r.veth]), { noHeaders: options.noHeaders, columns, wrap: 'route on this node' }));
    }
    if (node.probes.length > 0) {
      out += '\n' + indent(renderTable(['probe from', 'to', 'kind', 'result'], node.probes.map((p) => [p.from, p.to, p.what, p.ok === null ? p.detail : p.ok ? colour.green('ok') : colour.red(p.detail)]), { noHeaders: options.noHeaders, columns, wrap: 'result' }));
    }
  }
  if (report.problems.length > 0) out += `\nCould not read:\n${report.problems.map((p) => `  ${p}`).join('\n')}\n`;
  return `${out}\n${renderFindings(report.findings, colour)}`;
}

const VIA_TEXT: Record<TraceSvcReport['nodes'][number]['ports'][number]['via'], (source: string | undefined) => string> = {
  'cluster-ip': () => '',
  'node-port': () => ' (NodePort, from another node)',
  'external-ip': () => ' (external IP, from another node)',
  'load-balancer': () => ' (load-balancer IP, from another node)',
  'load-balancer-outside': (source) => ` (load-balancer IP, from ${source ?? 'outside'}: outside loadBalancerSourceRanges)`,
};

function indent(text: string): string {
  return text.split('\n').map((l) => (l ? `  ${l}` : l)).join('\n');
}

function truncate(text: string, n: number): string {
  return text.length <= n ? text : `${text.slice(0, n - 3)}...`;
}
