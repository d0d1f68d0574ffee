// `kubectl netdiag cleanup`: deletes every probe pod this tool left behind, in every namespace.
import type { CommandContext } from '../command-runner.js';
import { connect } from '../command-runner.js';
import { PROBE_SELECTOR } from '../../probe/probe-run.js';
import { renderTable } from '../../render/table.js';
import { EXIT, type ExitCode } from '../../errors.js';
import { renderStructured } from '../../render/structured.js';

export async function runCleanup(ctx: CommandContext, dryRun: boolean): Promise<ExitCode> {
  const api = await connect(ctx);
  const pods = await api.listPods({ namespace: undefined, labelSelector: PROBE_SELECTOR });
  const rows = pods.map((p) => ({
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    node: p.spec?.nodeName ?? '',
    phase: p.status?.phase ?? '',
  }));
  const failures: string[] = [];
  if (!dryRun) {
    const results = await Promise.allSettled(rows.map((r) => api.deletePod(r.namespace, r.name, 0)));
    results.forEach((res, i) => {
      if (res.status === 'rejected') failures.push(`${rows[i]!.namespace}/${rows[i]!.name}: ${(res.reason as Error).message}`);
    });
  }
  const { output, noHeaders } = ctx.options;
  if (output === 'json' || output === 'yaml') {
    ctx.deps.stdout.write(renderStructured('CleanupReport', { dryRun, pods: rows, failures }, output));
  } else if (rows.length === 0) {
    ctx.deps.stderr.write('no probe pods found\n');
  } else {
    ctx.deps.stdout.write(renderTable(['namespace', 'name', 'node', 'phase'], rows.map((r) => [r.namespace, r.name, r.node, r.phase]), { noHeaders }));
    ctx.deps.stderr.write(`${dryRun ? 'would delete' : 'deleted'} ${rows.length - failures.length} probe pod(s)\n`);
  }
  for (const f of failures) ctx.deps.stderr.write(`error: could not delete ${f}\n`);
  return failures.length > 0 ? EXIT.cannotDiagnose : EXIT.ok;
}
