// `kubectl netdiag smoke`: the cluster network in one go for CI: DNS from a pod, the
// kubernetes.default Service's rules on every node, every node's veth paths and a pod-to-pod path
// MTU, run in parallel; one exit code, -o json, and --junit FILE with stable finding codes.
import type { CommandContext, CommandSpec } from '../../cli/command-runner.js';
import { collectAndAnalyze, connect } from '../../cli/command-runner.js';
import type { GlobalOptions } from '../../cli/global-options.js';
import { assertDnsLabel, assertDnsSubdomain } from '../../cli/global-options.js';
import type { Finding } from '../finding.js';
import { worstSeverity } from '../finding.js';
import { vethPeerCommand } from '../veth-peer/command.js';
import { traceSvcCommand } from '../trace-svc/command.js';
import { dnsCheckCommand } from '../dns-check/command.js';
import { mtuProbeCommand } from '../mtu-probe/command.js';
import { exitCodeFor } from '../../cli/exit-code.js';
import { EXIT, InterruptedError, UserError, type ExitCode } from '../../errors.js';
import { renderTable } from '../../render/table.js';
import { renderFindings } from '../common/render-findings.js';
import { renderStructured } from '../../render/structured.js';
import { colourEnabled, paint } from '../../render/colour.js';
import type { Pod } from '../../kube/cluster-api.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../probe/probe-pod.js';
import { createLimiter } from '../../probe/bounded.js';
import type { SmokeMatrixTarget } from './matrix-command.js';

export interface SmokeTarget {
  pod: { namespace: string; name: string } | null; // --pod; null = pick one
  externalName: string | null; // --external-name: also resolve this name upstream
  junit: string | null;
  matrix?: Omit<SmokeMatrixTarget, 'junit'> | null | undefined; // --matrix: pod pairs instead of the checks
}

export interface SmokeCheckResult {
  check: string;
  target: string;
  findings: Finding[];
  error: string | null; // the check could not run at all
  durationMs: number;
}

interface PlannedCheck {
  check: string;
  target: string;
  // Each check is a whole command; the spec's types differ, so they are erased here.
  spec: CommandSpec<unknown, { findings: Finding[] }>;
  options: GlobalOptions;
}

export async function runSmoke(ctx: CommandContext, target: SmokeTarget): Promise<ExitCode> {
  try {
    return await runSmokeChecks(ctx, target);
  } catch (err) {
    // A CI job that could not run at all (exit 2 or 3) still gets a report its test tab can show.
    if (target.junit && err instanceof UserError) {
      await ctx.deps.writeFile(target.junit, renderJunitNotRun(err)).catch((e: unknown) => {
        ctx.deps.stderr.write(`warning: could not write ${target.junit}: ${(e as Error).message}\n`);
      });
    }
    throw err;
  }
}

async function runSmokeChecks(ctx: CommandContext, target: SmokeTarget): Promise<ExitCode> {
  const { deps, options } = ctx;
  if (options.fromSnapshot || options.saveSnapshot) throw new UserError('smoke does not take snapshots; run the single commands with --save-snapshot');
  if (target.matrix) {
    const { runSmokeMatrix, connCheckExplainer } = await import('./matrix-command.js');
    return runSmokeMatrix(ctx, { ...target.matrix, junit: target.junit }, { explainFailure: connCheckExplainer(ctx) });
  }
  const api = await connect(ctx);
  const nodes = (await api.listNodes()).filter((n) => (n.metadata?.labels?.['kubernetes.io/os'] ?? 'linux') === 'linux');
  const pods = await api.listPods({ namespace: undefined });
  const client = target.pod ? pods.find((p) => p.metadata?.namespace === target.pod!.namespace && p.metadata?.name === target.pod!.name) : pickClientPod(pods);
  if (target.pod && !client) throw new UserError(`pod ${target.pod.namespace}/${target.pod.name} not found`);

  const stale = pods.filter((p) => p.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE);
  if (stale.length > 0) deps.stderr.write(`warning: ${stale.length} probe pod(s) from earlier runs are still in the cluster; unless another netdiag run is in progress, kubectl netdiag cleanup removes them\n`);
  const checks: PlannedCheck[] = [];
  const erase = <A, R extends { findings: Finding[] }>(spec: CommandSpec<A, R>) => spec as unknown as CommandSpec<unknown, { findings: Finding[] }>;
  const withNamespace = (namespace: string): GlobalOptions => ({ ...options, namespace, output: 'json' });
  if (client) {
    const ns = client.metadata?.namespace ?? 'default';
    const name = client.metadata?.name ?? '';
    checks.push({
      check: 'dns-check',
      target: `pod ${ns}/${name}`,
      spec: erase(dnsCheckCommand({ pod: name, names: ['kubernetes.default', ...(target.externalName ? [target.externalName] : [])], externalName: target.externalName })),
      options: withNamespace(ns),
    });
    checks.push({ check: 'mtu-probe', target: `pod ${ns}/${name} to a pod on another node`, spec: erase(mtuProbeCommand({ pod: name, to: { kind: 'default' }, probe: true })), options: withNamespace(ns) });
  }
  checks.push({ check: 'trace-svc', target: 'service default/kubernetes on every node', spec: erase(traceSvcCommand({ service: 'kubernetes', port: undefined, fromPod: undefined, fromNode: undefined, probe: false, allNodes: true })), options: withNamespace('default') });
  for (const node of nodes) {
    const name = node.metadata?.name ?? '';
    const hasPods = pods.some((p) => p.spec?.nodeName === name && p.status?.phase === 'Running' && p.metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE);
    if (hasPods) checks.push({ check: 'veth-peer', target: `node ${name}`, spec: erase(vethPeerCommand({ kind: 'node', name })), options: withNamespace('default') });
  }

  // One bound for all checks: they run side by side, and --max-parallel counts pods in the cluster.
  const limiter = createLimiter(options.maxParallel, deps.signal);
  const results = await Promise.all(checks.map((c) => runCheck(c, { ...ctx, limiter })));
  if (deps.signal.aborted) throw new InterruptedError('signal');
  if (results.every((r) => r.error !== null)) {
    throw new UserError(`no smoke check could run: ${results[0]?.error ?? 'no checks'}`, { exitCode: EXIT.cannotDiagnose });
  }
  const findings = results.flatMap((r) => r.findings.map((f) => ({ ...f, subject: `${r.check}: ${f.subject}` })));
  for (const r of results.filter((x) => x.error !== null)) {
    findings.push({ code: 'smoke.check-failed', severity: 'error', subject: `${r.check} ${r.target}`, message: 'this check could not run', evidence: [r.error!], remedy: `run it alone for details: kubectl netdiag ${r.check} ...` });
  }
  if (target.junit) await deps.writeFile(target.junit, renderJunit(results, options.failOn === 'never' ? null : options.failOn));
  deps.stdout.write(renderSmoke(results, findings, options, colourEnabled(deps.stdout.isTTY, deps.env) && options.color !== 'never' || options.color === 'always'));
  return exitCodeFor(findings, options.failOn);
}

/** A running pod network pod, not hostNetwork, not a probe; the default namespace first. */
export function pickClientPod(pods: readonly Pod[]): Pod | undefined {
  const candidates = pods.filter((p) => p.status?.phase === 'Running' && !p.spec?.hostNetwork && p.metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE);
  return candidates.find((p) => p.metadata?.namespace === 'default') ?? candidates.find((p) => p.metadata?.namespace !== 'kube-system') ?? candidates[0];
}

async function runCheck(c: PlannedCheck, ctx: CommandContext): Promise<SmokeCheckResult> {
  const started = ctx.deps.now();
  try {
    const { collected, report } = await collectAndAnalyze(c.spec, { deps: ctx.deps, options: c.options, parallelRun: true, limiter: ctx.limiter });
    const failedNodes = collected.nodes.filter((n) => !n.ok);
    const error = collected.nodes.length > 0 && failedNodes.length === collected.nodes.length ? `no node could be diagnosed: ${failedNodes[0] && !failedNodes[0].ok ? failedNodes[0].error : ''}` : null;
    return { check: c.check, target: c.target, findings: report.findings, error, durationMs: ctx.deps.now() - started };
  } catch (err) {
    if (err instanceof InterruptedError) throw err;
    return { check: c.check, target: c.target, findings: [], error: err instanceof Error ? err.message : String(err), durationMs: ctx.deps.now() - started };
  }
}

function renderSmoke(results: readonly SmokeCheckResult[], findings: readonly Finding[], options: GlobalOptions, colour: boolean): string {
  if (options.output === 'json' || options.output === 'yaml') {
    return renderStructured('SmokeReport', { checks: results, findings }, options.output);
  }
  const rows = foldOkNodeChecks(results, options.output === 'wide').map((r) => {
    const worst = worstSeverity(r.findings);
    return [r.check, r.target, r.error ? 'could not run' : worst === null ? 'ok' : worst, r.error ?? (r.findings.map((f) => f.code).join(', ') || null), `${(r.durationMs / 1000).toFixed(1)}s`];
  });
  return `${renderTable(['check', 'target', 'result', 'findings', 'took'], rows, { noHeaders: options.noHeaders })}\n${renderFindings(findings, paint(colour))}`;
}

/** Many nodes: the per-node veth-peer checks that found nothing share one row; -o wide lists each. */
export function foldOkNodeChecks(results: readonly SmokeCheckResult[], wide: boolean): SmokeCheckResult[] {
  const ok = results.filter((r) => r.check === 'veth-peer' && r.error === null && r.findings.length === 0);
  if (wide || ok.length <= 1) return [...results];
  const folded: SmokeCheckResult = { check: 'veth-peer', target: `${ok.length} nodes, each with nothing to report`, findings: [], error: null, durationMs: Math.max(...ok.map((r) => r.durationMs)) };
  const at = results.indexOf(ok[0]!);
  return results.flatMap((r, i) => (i === at ? [folded] : ok.includes(r) ? [] : [r]));
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');

/**
 * JUnit XML: one testsuite per check; a "ran" testcase (error when the check could not run) and
 * one testcase per finding, named by its stable code, failing at or above --fail-on.
 */
export function renderJunit(results: readonly SmokeCheckResult[], failOn: Finding['severity'] | null): string {
  const rank = { info: 0, warn: 1, error: 2 } as const;
  const fails = (f: Finding) => failOn !== null && rank[f.severity] >= rank[failOn];
  const suites = results.map((r) => {
    const cases = [
      `    <testcase classname="netdiag.${xml(r.check)}" name="${xml(`ran: ${r.target}`)}" time="${(r.durationMs / 1000).toFixed(3)}">${r.error ? `\n      <error message="${xml(r.error)}"/>\n    ` : ''}</testcase>`,
      ...r.findings.map((f) => {
        const body = `${f.message}\nevidence:\n${f.evidence.join('\n')}\nfix: ${f.remedy}`;
        return `    <testcase classname="netdiag.${xml(r.check)}" name="${xml(`${f.code} ${f.subject}`)}" time="0">${fails(f) ? `\n      <failure type="${xml(f.code)}" message="${xml(`${f.severity}: ${f.message}`)}">${xml(body)}</failure>\n    ` : `\n      <system-out>${xml(`${f.severity}: ${body}`)}</system-out>\n    `}</testcase>`;
      }),
    ];
    const failures = r.findings.filter(fails).length;
    return `  <testsuite name="${xml(`${r.check} ${r.target}`)}" tests="${cases.length}" failures="${failures}" errors="${r.error ? 1 : 0}" time="${(r.durationMs / 1000).toFixed(3)}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  const totals = results.reduce((acc, r) => ({ tests: acc.tests + 1 + r.findings.length, failures: acc.failures + r.findings.filter(fails).length, errors: acc.errors + (r.error ? 1 : 0) }), { tests: 0, failures: 0, errors: 0 });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="kubectl-netdiag smoke" tests="${totals.tests}" failures="${totals.failures}" errors="${totals.errors}">\n${suites.join('\n')}\n</testsuites>\n`;
}

/** JUnit for a smoke run that stopped before its checks gave results: one failed case saying why. */
export function renderJunitNotRun(err: UserError): string {
  const body = `${err.message}${err.hint ? `\nhint: ${err.hint}` : ''}\nexit code: ${err.exitCode}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<testsuites name="kubectl-netdiag smoke" tests="1" failures="1" errors="0">',
    '  <testsuite name="smoke" tests="1" failures="1" errors="0" time="0">',
    `    <testcase classname="netdiag.smoke" name="smoke could run" time="0">`,
    `      <failure type="smoke.could-not-run" message="${xml(err.message)}">${xml(body)}</failure>`,
    '    </testcase>',
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** The flags and positionals of the command line, checked, as its target. */
export function readSmokeTarget(args: Record<string, unknown>): SmokeTarget {
  let pod: SmokeTarget['pod'] = null;
  if (args.pod !== undefined) {
    const [a, b] = String(args.pod).split('/', 2);
    if (b === undefined) throw new UserError(`--pod takes NAMESPACE/POD, not ${JSON.stringify(String(args.pod))}`);
    assertDnsLabel(a!, 'namespace');
    assertDnsSubdomain(b, 'pod name');
    pod = { namespace: a!, name: b };
  }
  const externalName = args['external-name'] === undefined ? null : String(args['external-name']);
  if (externalName !== null && !/^[A-Za-z0-9._-]+$/.test(externalName)) throw new UserError(`invalid --external-name ${JSON.stringify(externalName)}`);
  return { pod, externalName, junit: args.junit === undefined ? null : String(args.junit), matrix: readSmokeMatrix(args) };
}

function readSmokeMatrix(args: Record<string, unknown>): SmokeTarget['matrix'] {
  const given = (k: string) => (args[k] === undefined ? undefined : String(args[k]));
  if (!args.matrix) {
    const stray = ['matrix-limit', 'service', 'attempts'].find((k) => args[k] !== undefined);
    if (stray) throw new UserError(`--${stray} needs --matrix`);
    return null;
  }
  if (args.pod !== undefined || args['external-name'] !== undefined) throw new UserError('--pod and --external-name are for the default checks, not --matrix');
  const whole = (k: string, fallback: number, max: number): number => {
    const text = given(k) ?? String(fallback);
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new UserError(`invalid --${k} ${JSON.stringify(text)}: a whole number from 1 to ${max}`);
    return Number(text);
  };
  let service: { namespace: string; name: string } | null = null;
  const svc = given('service');
  if (svc !== undefined) {
    const [a, b] = svc.split('/', 2);
    if (b === undefined) throw new UserError(`--service takes NAMESPACE/SERVICE, not ${JSON.stringify(svc)}`);
    assertDnsLabel(a!, 'namespace');
    assertDnsLabel(b, 'service name');
    service = { namespace: a!, name: b };
  }
  return { limit: whole('matrix-limit', 400, 1_000_000), attempts: whole('attempts', 3, 10), service };
}
