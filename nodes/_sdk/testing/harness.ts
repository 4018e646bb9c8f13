import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { executeUnit } from '../../../engine/exec/execute-unit.js';
import type { WorkUnit } from '../../../engine/exec/work-unit.js';
import type { ArtifactKind, ArtifactRef, NodeType, OutputDescriptor } from '../../../engine/sdk/types.js';
import { duckdbInstance, sqlString } from '../../../engine/store/duckdb.js';
import { sha256 } from '../../../engine/util/hash.js';
import { tempDir } from './temp.js';

export { cleanupTempDirs, tempDir } from './temp.js';

/**
 * Runs one node's `run` in-process on hand-made input artifacts, without a workspace: the unit
 * tests of the ML nodes use it to check outputs and errors quickly. (Engine-level behaviour —
 * caching, workers, provenance — is covered by ml-pipeline.test.ts.)
 */

function listFiles(dir: string): { path: string; hash: string; bytes: number }[] {
  const out: { path: string; hash: string; bytes: number }[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const abs = join(d, name);
      if (statSync(abs).isDirectory()) walk(abs);
      else out.push({ path: relative(dir, abs).split(sep).join('/'), hash: '', bytes: statSync(abs).size });
    }
  };
  walk(dir);
  return out;
}

export function refOf(kind: ArtifactKind, dir: string, desc: Partial<OutputDescriptor> = {}): ArtifactRef {
  const files = listFiles(dir);
  const hash = sha256(`${dir}\u0000${files.map((f) => `${f.path}:${f.bytes}`).join(',')}`);
  return { hash, kind, dir, manifest: { hash, kind, files, bytes: files.reduce((s, f) => s + f.bytes, 0), rows: desc.rows, schema: desc.schema, meta: desc.meta ?? {} } };
}

/**
 * A dataset artifact from rows (DuckDB infers the column types from the JSON values). With
 * `empty`, the rows only give the schema and the dataset has none.
 */
export async function makeDataset(rows: Record<string, unknown>[], opts: { shards?: number; empty?: boolean } = {}): Promise<ArtifactRef> {
  const dir = tempDir('forge-ds-');
  const shardDir = join(dir, 'shards');
  mkdirSync(shardDir, { recursive: true });
  const inst = await duckdbInstance({ tempDirectory: join(tmpdir(), 'forge-ml-duckdb') });
  const conn = await inst.connect();
  try {
    const n = opts.shards ?? 1;
    const per = Math.ceil(rows.length / n) || 1;
    const jsonFile = join(dir, 'rows.json');
    for (let s = 0; s < n; s++) {
      const part = rows.slice(s * per, (s + 1) * per);
      writeFileSync(jsonFile, JSON.stringify(part.length > 0 ? part : rows.slice(0, 1)));
      const limit = part.length > 0 && !opts.empty ? '' : ' LIMIT 0';
      await conn.run(`COPY (SELECT * FROM read_json(${sqlString(jsonFile)}, format = 'array')${limit}) TO ${sqlString(join(shardDir, `part-${s}.parquet`))} (FORMAT parquet)`);
    }
    rmSync(jsonFile);
    const d = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(join(shardDir, 'part-0.parquet'))})`);
    const schema = d.getRowObjectsJS().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    return refOf('dataset', dir, { rows: opts.empty ? 0 : rows.length, schema, meta: {} });
  } finally {
    conn.closeSync();
  }
}

export interface NodeRun {
  outputs: Record<string, ArtifactRef>;
  logs: { level: string; message: string }[];
  device: string | null;
}

/** Runs `def` on the given inputs; outputs come back as refs usable as inputs of the next node. */
export async function runNode(def: NodeType, opts: { inputs: Record<string, ArtifactRef>; params?: Record<string, unknown>; seed?: number; baseDir?: string }): Promise<NodeRun> {
  const root = tempDir('forge-run-');
  const outputs: WorkUnit['outputs'] = {};
  for (const [port, spec] of Object.entries(def.outputs)) {
    const dir = join(root, 'out', port);
    mkdirSync(dir, { recursive: true });
    outputs[port] = { kind: spec.kind, dir };
  }
  const parsed = def.params.parse(opts.params ?? {}) as Record<string, unknown>;
  const unit: WorkUnit = {
    executionId: `test-${Date.now()}`,
    registryModule: new URL('../../../engine/registry.ts', import.meta.url).href,
    multiInputs: {},
    variant: {},
    nodeId: 'n',
    nodeType: def.type,
    params: parsed,
    seed: opts.seed ?? 1,
    baseDir: opts.baseDir ?? root,
    tmpDir: join(root, 'tmp'),
    inputs: opts.inputs,
    outputs,
  };
  mkdirSync(unit.tmpDir, { recursive: true });
  const logs: { level: string; message: string }[] = [];
  const result = await executeUnit(def, unit, { progress: () => undefined, log: (level, message) => logs.push({ level, message }) }, new AbortController().signal);
  const refs: Record<string, ArtifactRef> = {};
  for (const [port, desc] of Object.entries(result.outputs)) refs[port] = refOf(desc.kind, outputs[port]!.dir, desc);
  return { outputs: refs, logs, device: result.device };
}

/** All rows of a dataset artifact, in order, as plain JS values. */
export async function readDataset(ref: ArtifactRef): Promise<Record<string, unknown>[]> {
  const inst = await duckdbInstance({ tempDirectory: join(tmpdir(), 'forge-ml-duckdb') });
  const conn = await inst.connect();
  try {
    const files = ref.manifest.files.filter((f) => f.path.endsWith('.parquet')).map((f) => sqlString(join(ref.dir, f.path)));
    const r = await conn.runAndReadAll(`SELECT * FROM read_parquet([${files.join(', ')}])`);
    // BIGINT comes back as bigint; tests compare plain numbers.
    return r.getRowObjectsJS().map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
  } finally {
    conn.closeSync();
  }
}

/** An embeddings artifact from vectors (row-major) and ids, optionally aligned with a dataset. */
export async function makeEmbeddings(ids: (string | number)[], vectors: number[][], opts: { normalized?: boolean; model?: string; dataset?: string } = {}): Promise<ArtifactRef> {
  const dir = tempDir('forge-emb-');
  const dim = vectors[0]?.length ?? 0;
  const data = Float32Array.from(vectors.flat());
  writeFileSync(join(dir, 'embeddings.f32'), new Uint8Array(data.buffer));
  const inst = await duckdbInstance({ tempDirectory: join(tmpdir(), 'forge-ml-duckdb') });
  const conn = await inst.connect();
  try {
    const json = join(dir, 'ids.json');
    writeFileSync(json, JSON.stringify(ids.map((id) => ({ id }))));
    await conn.run(`COPY (SELECT id FROM read_json(${sqlString(json)}, format = 'array')) TO ${sqlString(join(dir, 'ids.parquet'))} (FORMAT parquet)`);
    rmSync(json);
  } finally {
    conn.closeSync();
  }
  const meta = { dim, count: ids.length, model: opts.model ?? 'test', modelHash: `sha256:${'0'.repeat(64)}`, normalized: opts.normalized ?? true, pooling: 'mean', dataset: opts.dataset ?? '' };
  writeFileSync(join(dir, 'embeddings.json'), JSON.stringify({ format: 'forge.embeddings', formatVersion: 1, dtype: 'float32', byteOrder: 'little', ...meta }));
  return refOf('embeddings', dir, { rows: ids.length, meta });
}
