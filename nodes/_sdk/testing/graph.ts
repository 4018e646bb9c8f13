// Test helpers for corpus nodes: run a small graph through the real engine (scheduler, worker pool,
// artifact store, provenance) in a temp folder, then read what it published.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Engine } from '../../../engine/engine.js';
import { defaultRegistry } from '../../../composition/registry.js';
import type { NodeOutcome, RunSummary } from '../../../engine/exec/events.js';
import { GraphLoadError, type Diagnostic } from '../../../engine/graph/errors.js';
import { GRAPH_FORMAT, GRAPH_VERSION, type GraphDocument, type GraphEdge, type GraphNode } from '../../../engine/graph/document.js';
import { LocalExecutor } from '../../../engine/exec/executor.js';
import type { NodeRegistry } from '../../../engine/registry.js';
import type { ArtifactRef } from '../../../engine/sdk/types.js';
import { tempDir } from './temp.js';

export { cleanupTempDirs, tempDir } from './temp.js';

/** Node tests read the data bundled in resources/ (see its ATTRIBUTION.md), so a fresh clone runs them. */
export const RESOURCES = join(dirname(new URL(import.meta.url).pathname), '../../../resources');
export const TOKENIZER = join(RESOURCES, 'models/all-MiniLM-L6-v2-tokenizer/tokenizer.json');
export const DATASETS = join(RESOURCES, 'data');

export interface GraphRun {
  dir: string;
  engine: Engine;
  summary: RunSummary;
  outcome(nodeId: string): NodeOutcome;
  artifact(nodeId: string, port: string): ArtifactRef;
  metrics(nodeId: string, port?: string): Record<string, number | string>;
  json(nodeId: string, port: string, file: string): unknown;
  /** Rows of a dataset output, via DuckDB, ordered as stored. */
  rows(nodeId: string, port?: string): Promise<Record<string, unknown>[]>;
  stagingLeft(): string[];
  close(): void;
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const abs = join(dir, rel);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
}

export function graph(nodes: Partial<GraphNode>[], edges: [string, string][] = [], seed = 0): GraphDocument {
  const es: GraphEdge[] = edges.map(([from, to]) => {
    const [fn, fp] = from.split('.') as [string, string];
    const [tn, tp] = to.split('.') as [string, string];
    return { from: { node: fn, port: fp }, to: { node: tn, port: tp } };
  });
  return { format: GRAPH_FORMAT, version: GRAPH_VERSION, seed, nodes: nodes.map((n) => ({ params: {}, ...n }) as GraphNode), edges: es };
}

let executor: LocalExecutor | undefined;

/**
 * One worker pool for every run of a test file: starting worker threads (and the TypeScript loader
 * in them) is most of a small run's time. Close it in `afterAll(closeExecutor)`.
 */
export function sharedExecutor(): LocalExecutor {
  executor ??= new LocalExecutor(1);
  return executor;
}

export async function closeExecutor(): Promise<void> {
  await executor?.close();
  executor = undefined;
}

export async function runGraph(
  doc: GraphDocument,
  opts: { dir?: string; files?: Record<string, string>; registry?: NodeRegistry; engine?: Engine; trust?: boolean; continueOnFailure?: boolean } = {},
): Promise<GraphRun> {
  const dir = opts.dir ?? tempDir();
  if (opts.files) writeFiles(dir, opts.files);
  const engine = opts.engine ?? Engine.open(dir, opts.registry ?? defaultRegistry());
  // The bundled data lives outside the temp project: granted the way a user would with `--allow`.
  const summary = await engine.run(doc, { baseDir: dir, trigger: 'test', executor: sharedExecutor(), allow: [RESOURCES], trust: opts.trust, continueOnFailure: opts.continueOnFailure });
  const outcome = (nodeId: string) => {
    const o = summary.nodes.find((n) => n.nodeId === nodeId);
    if (!o) throw new Error(`no outcome for ${nodeId}: ${summary.nodes.map((n) => n.nodeId).join(', ')}`);
    return o;
  };
  const artifact = (nodeId: string, port: string) => {
    const o = outcome(nodeId);
    const out = o.outputs.find((x) => x.port === port);
    if (!out) throw new Error(`${nodeId} has no output ${port} (state ${o.state}${o.error ? `: ${o.error}` : ''})`);
    return engine.ws.store.ref(out.hash);
  };
  const json = (nodeId: string, port: string, file: string) => JSON.parse(readFileSync(join(artifact(nodeId, port).dir, file), 'utf8')) as unknown;
  return {
    dir,
    engine,
    summary,
    outcome,
    artifact,
    json,
    metrics: (nodeId, port = 'metrics') => json(nodeId, port, 'metrics.json') as Record<string, number | string>,
    async rows(nodeId, port = 'out') {
      const { duckdbInstance } = await import('../../../engine/store/duckdb.js');
      const { datasetSql, readRows } = await import('../../../engine/sdk/dataset.js');
      const inst = await duckdbInstance({ tempDirectory: join(dir, '.forge', 'tmp', 'test-duckdb') });
      const conn = await inst.connect();
      try {
        return await readRows(conn, `SELECT * FROM ${datasetSql(artifact(nodeId, port))}`);
      } finally {
        conn.closeSync();
      }
    },
    stagingLeft() {
      try {
        return readdirSync(join(dir, '.forge', 'staging'));
      } catch {
        return [];
      }
    },
    close() {
      engine.close();
    },
  };
}

/**
 * Runs `doc` (in a fresh workspace unless `opts.dir` says otherwise), hands the run to `read` and
 * closes it: the second run of the determinism and cache tests.
 */
export async function withGraphRun<T>(doc: GraphDocument, opts: Parameters<typeof runGraph>[1], read: (run: GraphRun) => T): Promise<T> {
  const run = await runGraph(doc, opts);
  try {
    return read(run);
  } finally {
    run.close();
  }
}

/**
 * The diagnostics with which the engine refuses to run a graph (invalid params, edges, types): the
 * same `run` call as `runGraph`, which must throw before executing anything.
 */
export async function refusedDiagnostics(doc: GraphDocument, opts: { registry?: NodeRegistry } = {}): Promise<Diagnostic[]> {
  const dir = tempDir();
  const engine = Engine.open(dir, opts.registry ?? defaultRegistry());
  try {
    await engine.run(doc, { baseDir: dir, trigger: 'test', executor: sharedExecutor() });
  } catch (err) {
    if (err instanceof GraphLoadError) return err.diagnostics;
    throw err;
  } finally {
    engine.close();
  }
  throw new Error('the engine ran a graph that should have been refused');
}
