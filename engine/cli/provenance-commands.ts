import type { Engine } from '../engine.js';
import { formatLocation } from '../graph/errors.js';
import { bytes, ms, short, table } from './format.js';

const out = (s: string) => process.stdout.write(`${s}\n`);
const json = (v: unknown) => out(JSON.stringify(v, null, 2));

export function runsCommand(engine: Engine, limit: number, asJson: boolean): number {
  const runs = engine.ws.queries.listRuns(limit);
  if (asJson) return (json(runs), 0);
  if (runs.length === 0) return (out('no runs yet'), 0);
  out(
    table(
      ['run', 'started', 'status', 'mode', 'ran', 'cached', 'failed', 'graph'],
      runs.map((r) => [
        r.id,
        r.startedAt.replace('T', ' ').slice(0, 19),
        r.status,
        r.target ? `${r.mode} ${r.target}` : r.mode,
        r.executed,
        r.cached,
        r.failed,
        r.graphName ?? r.graphPath ?? short(r.graphHash),
      ]),
    ),
  );
  return 0;
}

export function showCommand(engine: Engine, runRef: string, asJson: boolean): number {
  const run = engine.ws.queries.run(engine.ws.queries.resolveRunId(runRef));
  if (asJson) return (json(run), 0);
  out(`run ${run.id}  ${run.status}  (${run.trigger}, ${run.mode}${run.target ? ` ${run.target}` : ''})`);
  out(`graph ${run.graphName ?? ''} ${run.graphPath ?? ''} ${short(run.graphHash)}`);
  out(`started ${run.startedAt}  finished ${run.finishedAt ?? '-'}`);
  if (run.error) out(`error: ${run.error}`);
  const env = run.environment;
  if (env)
    out(
      `environment: forge ${env.engineVersion}, node ${env.node}, ${env.os} ${env.arch}, ${env.cores}× ${env.cpu}${env.threadPool ? ` (thread pool ${env.threadPool})` : ''}, ${bytes(env.memoryBytes)} RAM, GPU ${env.gpu ?? 'none'}`,
    );
  out('');
  out(
    table(
      ['node', 'type@v', 'status', 'time', 'device', 'cache key', 'outputs'],
      run.executions.map((e) => [
        e.nodeId,
        `${e.nodeType}@${e.nodeVersion}`,
        e.cached ? `cached (from ${e.reusedExecutionId?.slice(0, 8) ?? '-'})` : e.status,
        e.cached ? '' : ms(e.durationMs),
        e.device ?? '',
        e.cacheKey ? short(e.cacheKey, 10) : '',
        e.outputs.map((o) => `${o.port}=${short(o.hash, 10)}`).join(' '),
      ]),
    ),
  );
  for (const e of run.executions) {
    if (Object.keys(e.params).length > 0) out(`\n${e.nodeId} params: ${JSON.stringify(e.params)}`);
    for (const f of e.files) out(`  reads ${f.path} ${short(f.hash)} (${bytes(f.bytes)})`);
    if (e.error && e.status !== 'skipped') out(`  error [${formatLocation(e.errorLocation ?? {})}]: ${e.error}`);
    else if (e.error) out(`  ${e.status}: ${e.error}`);
    for (const l of e.logs) out(`  ${l}`);
  }
  return 0;
}

export function lineageCommand(engine: Engine, artifactRef: string, asJson: boolean): number {
  const steps = engine.ws.queries.lineage(engine.ws.queries.resolveArtifactHash(artifactRef));
  if (asJson) return (json(steps), 0);
  for (const [i, s] of steps.entries()) {
    const e = s.execution;
    out(`${'  '.repeat(Math.min(i, 1))}${short(s.artifact)} (${s.kind ?? '?'})`);
    if (!e) {
      out('    produced by: unknown (not recorded in this workspace)');
      continue;
    }
    out(`    produced by ${e.nodeId} [${e.nodeType}@${e.nodeVersion}] in run ${e.runId}, execution ${e.id.slice(0, 8)}, ${e.finishedAt ?? ''}`);
    out(`    params ${JSON.stringify(e.params)}`);
    for (const f of e.files) out(`    file ${f.path} ${short(f.hash)}`);
    for (const inp of e.inputs) out(`    input ${inp.port} ← ${short(inp.hash)}`);
  }
  return 0;
}

export function diffCommand(engine: Engine, a: string, b: string, asJson: boolean): number {
  const q = engine.ws.queries;
  const d = q.diff(q.resolveRunId(a), q.resolveRunId(b));
  if (asJson) return (json(d), 0);
  out(`diff ${d.a} → ${d.b}${d.graphChanged ? ' (graph changed)' : ' (same graph)'}`);
  const rows = d.nodes.map((n) => [
    n.nodeId,
    n.statusA ?? '(absent)',
    n.statusB ?? '(absent)',
    n.paramsChanged.map((p) => `${p.field}: ${JSON.stringify(p.a)} → ${JSON.stringify(p.b)}`).join('; ') || (n.codeChanged ? 'code changed' : ''),
    n.outputsChanged ? 'outputs differ' : 'same outputs',
  ]);
  out(table(['node', 'in A', 'in B', 'changes', 'outputs'], rows));
  return 0;
}
