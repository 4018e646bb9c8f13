import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { EMBEDDINGS_FILE, EMBEDDINGS_META, IDS_FILE } from '../sdk/embeddings-layout.js';
import { pca2 } from '../util/pca.js';
import { datasetSql } from '../sdk/dataset.js';
import type { ArtifactRef } from '../sdk/types.js';
import { duckdbInstance, sqlString } from './duckdb.js';

export interface ProjectedPoint {
  x: number;
  y: number;
  id: string;
  /** The source dataset's `source` column, when that dataset is still in the store. */
  group: string | null;
}

export interface EmbeddingsProjection {
  method: 'pca';
  count: number;
  dim: number;
  sampled: number;
  /** Share of the sampled variance the two components explain. */
  explained: number;
  points: ProjectedPoint[];
}

/**
 * A quick 2-D look at an embeddings artifact for the output panel: an evenly spaced sample of rows
 * projected on their top two principal components. PCA (not UMAP) because it answers in
 * milliseconds and is deterministic; view.projection is the node for a UMAP figure.
 */
export async function projectEmbeddings(ref: ArtifactRef, tmpDir: string, resolve: (hash: string) => ArtifactRef | null, maxPoints = 2000): Promise<EmbeddingsProjection> {
  const meta = JSON.parse(readFileSync(join(ref.dir, EMBEDDINGS_META), 'utf8')) as { dim: number; count: number; dataset?: string };
  const { dim, count } = meta;
  const rows = sampleRows(count, maxPoints);
  const x = readRows(join(ref.dir, EMBEDDINGS_FILE), dim, rows);
  const { coords, explained } = pca2(x, rows.length, dim);

  const instance = await duckdbInstance({ tempDirectory: join(tmpDir, 'duckdb') });
  const conn = await instance.connect();
  try {
    const source = meta.dataset ? resolve(meta.dataset) : null;
    const hasSource = source?.kind === 'dataset' && (source.manifest.schema ?? []).some((c) => c.name === 'source');
    const ids = `(SELECT CAST(id AS VARCHAR) AS id, file_row_number::BIGINT AS pos FROM read_parquet(${sqlString(join(ref.dir, IDS_FILE))}, file_row_number = true))`;
    const wanted = `(SELECT unnest([${rows.join(',') || '-1'}]::BIGINT[]) AS pos)`;
    const query =
      hasSource && source
        ? `SELECT i.pos, i.id, CAST(d.source AS VARCHAR) AS grp FROM ${ids} i JOIN ${wanted} w USING (pos) LEFT JOIN (SELECT CAST(id AS VARCHAR) AS id, source FROM ${datasetSql(source)}) d USING (id) ORDER BY i.pos`
        : `SELECT i.pos, i.id, NULL AS grp FROM ${ids} i JOIN ${wanted} w USING (pos) ORDER BY i.pos`;
    const found = new Map<number, { id: string; grp: string | null }>();
    for (const r of (await conn.runAndReadAll(query)).getRowObjectsJson()) {
      found.set(Number(r.pos), { id: String(r.id), grp: r.grp === null || r.grp === undefined ? null : String(r.grp) });
    }
    const points = rows.map((row, i) => ({ x: coords[2 * i] as number, y: coords[2 * i + 1] as number, id: found.get(row)?.id ?? String(row), group: found.get(row)?.grp ?? null }));
    return { method: 'pca', count, dim, sampled: rows.length, explained, points };
  } finally {
    conn.closeSync();
  }
}

function sampleRows(count: number, max: number): number[] {
  if (count <= max) return Array.from({ length: count }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.floor((i * count) / max));
}

function readRows(file: string, dim: number, rows: readonly number[]): Float64Array {
  const out = new Float64Array(rows.length * dim);
  const buf = new Float32Array(dim);
  const bytes = new Uint8Array(buf.buffer);
  const fd = openSync(file, 'r');
  try {
    rows.forEach((row, i) => {
      const n = readSync(fd, bytes, 0, bytes.length, row * dim * 4);
      if (n !== bytes.length) throw new Error(`${EMBEDDINGS_FILE} is shorter than its metadata says (row ${row})`);
      out.set(buf, i * dim);
    });
  } finally {
    closeSync(fd);
  }
  return out;
}
