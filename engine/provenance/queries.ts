import type { ErrorLocation } from '../graph/errors.js';
import type { ArtifactManifest } from '../sdk/types.js';
import type { ProvenanceDb } from './db.js';
import type { EnvironmentInfo, ExecutionStatus, PortHash, RunStatus } from './events.js';

export interface LastResult {
  executionId: string;
  nodeType: string;
  nodeVersion: number;
  codeHash: string;
  params: Record<string, unknown>;
  cacheKey: string;
  inputs: PortHash[];
  /** path → content hash */
  files: Record<string, string>;
  seed: number | null;
}

export interface RunRow {
  id: string;
  graphHash: string;
  graphPath: string | null;
  graphName: string | null;
  trigger: string;
  mode: string;
  target: string | null;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  executed: number;
  cached: number;
  failed: number;
}

export interface ExecutionRow {
  id: string;
  runId: string;
  nodeId: string;
  nodeType: string;
  nodeVersion: number;
  codeHash: string;
  params: Record<string, unknown>;
  cacheKey: string;
  cached: boolean;
  reusedExecutionId: string | null;
  status: ExecutionStatus;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  error: string | null;
  errorLocation: ErrorLocation | null;
  logs: string[];
  device: string | null;
  inputs: PortHash[];
  outputs: PortHash[];
  files: { path: string; hash: string; bytes: number }[];
}

export interface RunDetail extends RunRow {
  environment: EnvironmentInfo | null;
  executions: ExecutionRow[];
}

export interface LineageStep {
  artifact: string;
  kind: string | null;
  execution: ExecutionRow | null;
}

export interface RunDiff {
  a: string;
  b: string;
  graphChanged: boolean;
  nodes: {
    nodeId: string;
    inA: boolean;
    inB: boolean;
    paramsChanged: { field: string; a: unknown; b: unknown }[];
    codeChanged: boolean;
    outputsChanged: boolean;
    statusA: string | null;
    statusB: string | null;
  }[];
}

/** One point of a node's row-count history: a dataset output of one succeeded execution. */
export interface RowCountPoint {
  executionId: string;
  runId: string;
  finishedAt: string | null;
  /** Served from the cache (its count is the reused execution's). */
  cached: boolean;
  port: string;
  rows: number;
}

interface RawExec {
  id: string;
  run_id: string;
  node_id: string;
  node_type: string;
  node_version: number;
  code_hash: string;
  params: string;
  cache_key: string;
  cached: number;
  reused_execution_id: string | null;
  status: ExecutionStatus;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  error: string | null;
  error_location: string | null;
  logs: string | null;
  device: string | null;
}

/** Runs with their graph's name and how many nodes executed, were cached and failed (what `toRunRow` reads). */
const RUNS_WITH_COUNTS = `SELECT r.*, g.name AS graph_name,
    (SELECT count(*) FROM executions e WHERE e.run_id = r.id AND e.cached = 0 AND e.status != 'skipped') AS executed,
    (SELECT count(*) FROM executions e WHERE e.run_id = r.id AND e.cached = 1) AS cached_n,
    (SELECT count(*) FROM executions e WHERE e.run_id = r.id AND e.status = 'failed') AS failed
  FROM runs r LEFT JOIN graphs g ON g.hash = r.graph_hash`;

export class ProvenanceQueries {
  constructor(private readonly p: ProvenanceDb) {}

  listRuns(limit = 50): RunRow[] {
    const rows = this.p
      .stmt(
        `${RUNS_WITH_COUNTS}
         ORDER BY r.started_at DESC, r.rowid DESC LIMIT ?`,
      )
      .all(limit) as Record<string, unknown>[];
    return rows.map(toRunRow);
  }

  /** Accepts a full run id or an unambiguous prefix; `latest` (or `-1`) is the newest run. */
  resolveRunId(idOrPrefix: string): string {
    if (idOrPrefix === 'latest' || idOrPrefix === '-1') {
      const r = this.p.stmt('SELECT id FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1').get() as { id: string } | undefined;
      if (!r) throw new Error('no runs recorded in this workspace yet');
      return r.id;
    }
    const matches = this.p.stmt('SELECT id FROM runs WHERE id LIKE ? LIMIT 2').all(`${idOrPrefix}%`) as { id: string }[];
    if (matches.length === 0) throw new Error(`no run matches "${idOrPrefix}"`);
    if (matches.length > 1) throw new Error(`"${idOrPrefix}" matches several runs; give more of the id`);
    return (matches[0] as { id: string }).id;
  }

  run(runId: string): RunDetail {
    const raw = this.p.stmt(`${RUNS_WITH_COUNTS} WHERE r.id = ?`).get(runId) as Record<string, unknown> | undefined;
    if (!raw) throw new Error(`no run ${runId}`);
    const execs = this.p.stmt('SELECT * FROM executions WHERE run_id = ? ORDER BY started_at, rowid').all(runId) as RawExec[];
    return {
      ...toRunRow(raw),
      environment: raw.environment ? (JSON.parse(String(raw.environment)) as EnvironmentInfo) : null,
      executions: execs.map((e) => this.toExecution(e)),
    };
  }

  execution(id: string): ExecutionRow | null {
    const e = this.p.stmt('SELECT * FROM executions WHERE id = ?').get(id) as RawExec | undefined;
    return e ? this.toExecution(e) : null;
  }

  /** The newest succeeded, non-cached execution with this cache key whose outputs all still exist. */
  findCached(cacheKey: string, exists: (hash: string) => boolean): { executionId: string; outputs: PortHash[] } | null {
    const candidates = this.p.stmt("SELECT id FROM executions WHERE cache_key = ? AND status = 'succeeded' AND cached = 0 ORDER BY finished_at DESC LIMIT 5").all(cacheKey) as { id: string }[];
    for (const c of candidates) {
      const outputs = this.outputsOf(c.id);
      if (outputs.every((o) => exists(o.hash))) return { executionId: c.id, outputs };
    }
    return null;
  }

  /**
   * The newest succeeded result of a node instance (executed or served from cache), with what it was
   * made from: the baseline a plan compares against to say why a node will run.
   */
  lastResultOf(nodeId: string): LastResult | null {
    const r = this.p
      .stmt(
        `SELECT e.id, e.node_type, e.node_version, e.code_hash, e.params, e.cache_key, g.doc
         FROM executions e JOIN runs r ON r.id = e.run_id LEFT JOIN graphs g ON g.hash = r.graph_hash
         WHERE e.node_id = ? AND e.status = 'succeeded' AND e.cache_key != 'pinned'
         ORDER BY e.finished_at DESC, e.rowid DESC LIMIT 1`,
      )
      .get(nodeId) as { id: string; node_type: string; node_version: number; code_hash: string; params: string; cache_key: string; doc: string | null } | undefined;
    if (!r) return null;
    const inputs = this.p.stmt('SELECT port, artifact_hash AS hash FROM execution_inputs WHERE execution_id = ? ORDER BY port').all(r.id) as PortHash[];
    const files = this.p.stmt('SELECT path, hash FROM execution_files WHERE execution_id = ? ORDER BY path').all(r.id) as { path: string; hash: string }[];
    const seed = r.doc ? (JSON.parse(r.doc) as { seed?: unknown }).seed : undefined;
    return {
      executionId: r.id,
      nodeType: r.node_type,
      nodeVersion: r.node_version,
      codeHash: r.code_hash,
      params: JSON.parse(r.params) as Record<string, unknown>,
      cacheKey: r.cache_key,
      inputs,
      files: Object.fromEntries(files.map((f) => [f.path, f.hash])),
      seed: typeof seed === 'number' ? seed : null,
    };
  }

  /**
   * The row counts of each node's dataset outputs over its last `limit` succeeded executions (run or
   * cached), oldest first: what the canvas draws as a node's sparkline. One query for many nodes.
   */
  rowHistory(nodeIds: readonly string[], limit: number): Record<string, RowCountPoint[]> {
    const rows = this.p
      .stmt(
        `WITH recent AS (
           SELECT e.id, e.run_id, e.node_id, e.finished_at, e.cached, e.rowid AS rid,
             ROW_NUMBER() OVER (PARTITION BY e.node_id ORDER BY e.finished_at DESC, e.rowid DESC) AS n
           FROM executions e
           WHERE e.status = 'succeeded' AND e.node_id IN (SELECT value FROM json_each(?)))
         SELECT r.node_id, r.id, r.run_id, r.finished_at, r.cached, o.port, a.rows
         FROM recent r JOIN execution_outputs o ON o.execution_id = r.id JOIN artifacts a ON a.hash = o.artifact_hash
         WHERE r.n <= ? AND a.kind = 'dataset' AND a.rows IS NOT NULL
         ORDER BY r.node_id, r.finished_at, r.rid, o.port`,
      )
      .all(JSON.stringify(nodeIds), limit) as { node_id: string; id: string; run_id: string; finished_at: string | null; cached: number; port: string; rows: number }[];
    const out: Record<string, RowCountPoint[]> = Object.fromEntries(nodeIds.map((id) => [id, []]));
    for (const r of rows) out[r.node_id]?.push({ executionId: r.id, runId: r.run_id, finishedAt: r.finished_at, cached: r.cached === 1, port: r.port, rows: r.rows });
    return out;
  }

  outputsOf(executionId: string): PortHash[] {
    return this.p.stmt('SELECT port, artifact_hash AS hash FROM execution_outputs WHERE execution_id = ? ORDER BY port').all(executionId) as PortHash[];
  }

  artifact(hash: string): { hash: string; kind: string; bytes: number; rows: number | null; manifest: ArtifactManifest; producerExecutionId: string | null } | null {
    const r = this.p.stmt('SELECT * FROM artifacts WHERE hash = ?').get(hash) as Record<string, unknown> | undefined;
    if (!r) return null;
    return {
      hash: String(r.hash),
      kind: String(r.kind),
      bytes: Number(r.bytes),
      rows: r.rows === null ? null : Number(r.rows),
      manifest: JSON.parse(String(r.manifest)) as ArtifactManifest,
      producerExecutionId: r.producer_execution_id === null ? null : String(r.producer_execution_id),
    };
  }

  resolveArtifactHash(prefix: string): string {
    const full = prefix.startsWith('sha256:') ? prefix : `sha256:${prefix}`;
    const m = this.p.stmt('SELECT hash FROM artifacts WHERE hash LIKE ? LIMIT 2').all(`${full}%`) as { hash: string }[];
    if (m.length === 0) throw new Error(`no artifact matches "${prefix}"`);
    if (m.length > 1) throw new Error(`"${prefix}" matches several artifacts; give more of the hash`);
    return (m[0] as { hash: string }).hash;
  }

  /**
   * The chain that produced an artifact: its producing execution, then recursively the producers
   * of that execution's inputs, nearest first.
   */
  lineage(hash: string): LineageStep[] {
    const steps: LineageStep[] = [];
    const seen = new Set<string>();
    const queue = [hash];
    while (queue.length > 0) {
      const h = queue.shift() as string;
      if (seen.has(h)) continue;
      seen.add(h);
      const art = this.artifact(h);
      const exec = art?.producerExecutionId ? this.execution(art.producerExecutionId) : null;
      steps.push({ artifact: h, kind: art?.kind ?? null, execution: exec });
      for (const i of exec?.inputs ?? []) queue.push(i.hash);
    }
    return steps;
  }

  diff(a: string, b: string): RunDiff {
    const ra = this.run(a);
    const rb = this.run(b);
    const byNode = (r: RunDetail) => new Map(r.executions.map((e) => [e.nodeId, e]));
    const ea = byNode(ra);
    const eb = byNode(rb);
    const ids = [...new Set([...ea.keys(), ...eb.keys()])].sort();
    return {
      a,
      b,
      graphChanged: ra.graphHash !== rb.graphHash,
      nodes: ids.map((nodeId) => {
        const x = ea.get(nodeId);
        const y = eb.get(nodeId);
        const fields = [...new Set([...Object.keys(x?.params ?? {}), ...Object.keys(y?.params ?? {})])].sort();
        const paramsChanged = fields.filter((f) => JSON.stringify(x?.params[f]) !== JSON.stringify(y?.params[f])).map((f) => ({ field: f, a: x?.params[f], b: y?.params[f] }));
        const outA = JSON.stringify(x?.outputs ?? []);
        const outB = JSON.stringify(y?.outputs ?? []);
        return {
          nodeId,
          inA: !!x,
          inB: !!y,
          paramsChanged: x && y ? paramsChanged : [],
          codeChanged: !!x && !!y && x.codeHash !== y.codeHash && x.codeHash !== '' && y.codeHash !== '',
          outputsChanged: outA !== outB,
          statusA: x ? (x.cached ? 'cached' : x.status) : null,
          statusB: y ? (y.cached ? 'cached' : y.status) : null,
        };
      }),
    };
  }

  private toExecution(e: RawExec): ExecutionRow {
    const inputs = this.p.stmt('SELECT port, artifact_hash AS hash FROM execution_inputs WHERE execution_id = ? ORDER BY port').all(e.id) as PortHash[];
    const files = this.p.stmt('SELECT path, hash, bytes FROM execution_files WHERE execution_id = ? ORDER BY path').all(e.id) as ExecutionRow['files'];
    return {
      id: e.id,
      runId: e.run_id,
      nodeId: e.node_id,
      nodeType: e.node_type,
      nodeVersion: e.node_version,
      codeHash: e.code_hash,
      params: JSON.parse(e.params) as Record<string, unknown>,
      cacheKey: e.cache_key,
      cached: e.cached === 1,
      reusedExecutionId: e.reused_execution_id,
      status: e.status,
      startedAt: e.started_at,
      finishedAt: e.finished_at,
      durationMs: e.duration_ms,
      error: e.error,
      errorLocation: e.error_location ? (JSON.parse(e.error_location) as ErrorLocation) : null,
      logs: e.logs ? e.logs.split('\n') : [],
      device: e.device,
      inputs,
      outputs: this.outputsOf(e.id),
      files,
    };
  }
}

function toRunRow(r: Record<string, unknown>): RunRow {
  return {
    id: String(r.id),
    graphHash: String(r.graph_hash),
    graphPath: (r.graph_path as string | null) ?? null,
    graphName: (r.graph_name as string | null) ?? null,
    trigger: String(r.trigger),
    mode: String(r.mode),
    target: (r.target as string | null) ?? null,
    status: r.status as RunStatus,
    startedAt: String(r.started_at),
    finishedAt: (r.finished_at as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    executed: Number(r.executed ?? 0),
    cached: Number(r.cached_n ?? 0),
    failed: Number(r.failed ?? 0),
  };
}
