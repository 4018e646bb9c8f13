import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GraphDocument } from '../graph/document.js';
import { Engine } from '../engine.js';
import { defaultRegistry } from '../../composition/registry.js';
import type { NodeRegistry } from '../registry.js';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const made: string[] = [];

/** A fresh temp folder with the bundled examples and data laid out as in the repo. */
export function tempProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'forge-test-'));
  made.push(dir);
  cpSync(join(REPO, 'resources'), join(dir, 'resources'), { recursive: true });
  return dir;
}

export function cleanupTemp(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export const QUICKSTART = 'resources/examples/quickstart.forge.json';

export function readDoc(project: string, rel = QUICKSTART): GraphDocument {
  return JSON.parse(readFileSync(join(project, rel), 'utf8')) as GraphDocument;
}

export function writeDoc(project: string, rel: string, doc: GraphDocument): void {
  writeFileSync(join(project, rel), JSON.stringify(doc, null, 2));
}

/**
 * A graph of `pool.jsonl` (source.jsonl, ids from `id`) into a chain of transform.filter nodes, one
 * per `[id, where]`: what the shard and queue tests write to a file and run through the CLI.
 */
export function filterChainGraph(seed: number, filters: readonly (readonly [id: string, where: string])[]) {
  const nodes = [{ id: 'load', type: 'source.jsonl', params: { path: 'pool.jsonl', idField: 'id' } }, ...filters.map(([id, where]) => ({ id, type: 'transform.filter', params: { where } }))];
  const edges = nodes.slice(1).map((n, i) => ({ from: { node: nodes[i]!.id, port: 'out' }, to: { node: n.id, port: 'in' } }));
  return { format: 'forge-graph', version: 2, seed, nodes, edges };
}

export function openEngine(project: string, registry?: NodeRegistry): Engine {
  return Engine.open(project, registry ?? defaultRegistry());
}

/** Runs `use` with an engine on a fresh temp project (see `tempProject`), closing the engine whatever happens. */
export async function withEngine<T>(use: (engine: Engine, project: string) => Promise<T>, registry?: NodeRegistry): Promise<T> {
  const project = tempProject();
  const engine = openEngine(project, registry);
  try {
    return await use(engine, project);
  } finally {
    engine.close();
  }
}

/** Replaces one node's params in a graph file of the project, as an edit in the canvas would. */
export function setNodeParams(project: string, nodeId: string, params: Record<string, unknown>, rel = QUICKSTART): void {
  const doc = readDoc(project, rel);
  const node = doc.nodes.find((n) => n.id === nodeId);
  if (!node) throw new Error(`${rel} has no node ${nodeId}`);
  node.params = params;
  writeDoc(project, rel, doc);
}

/** Runs a graph file of the project the way the CLI does, quietly. */
export async function runFile(engine: Engine, project: string, rel = QUICKSTART, opts: { mode?: 'all' | 'node' | 'from'; target?: string; signal?: AbortSignal; trust?: boolean } = {}) {
  const { doc, file, baseDir } = engine.loadFile(join(project, rel));
  return engine.run(doc, { file, baseDir, trigger: 'test', ...opts });
}

export interface ExecRow {
  node_id: string;
  cached: number;
  status: string;
}

/** Executions of one run straight from the provenance database, not from logs or summaries. */
export function executionsOf(engine: Engine, runId: string): ExecRow[] {
  return engine.ws.db.db.prepare('SELECT node_id, cached, status FROM executions WHERE run_id = ? ORDER BY node_id').all(runId) as ExecRow[];
}

export function executedNodes(engine: Engine, runId: string): string[] {
  return executionsOf(engine, runId)
    .filter((e) => e.cached === 0 && e.status === 'succeeded')
    .map((e) => e.node_id)
    .sort();
}

export function cachedNodes(engine: Engine, runId: string): string[] {
  return executionsOf(engine, runId)
    .filter((e) => e.cached === 1)
    .map((e) => e.node_id)
    .sort();
}

export function outputHashes(engine: Engine, runId: string): Record<string, string> {
  const rows = engine.ws.db.db
    .prepare('SELECT e.node_id, o.port, o.artifact_hash FROM executions e JOIN execution_outputs o ON o.execution_id = e.id WHERE e.run_id = ? ORDER BY e.node_id, o.port')
    .all(runId) as { node_id: string; port: string; artifact_hash: string }[];
  return Object.fromEntries(rows.map((r) => [`${r.node_id}.${r.port}`, r.artifact_hash]));
}
