import type { DuckDBConnection } from '@duckdb/node-api';
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyDeterministic } from '../../../engine/sdk/dataset.js';
import { NodeError } from '../../../engine/sdk/node-error.js';
import type { ArtifactRef, OutputBuilder } from '../../../engine/sdk/types.js';
import { sqlIdent, sqlString } from '../../../engine/sdk/sql.js';
import type { JsonValue } from '../../../engine/sdk/hash.js';
import { EMBEDDINGS_FILE, EMBEDDINGS_META, IDS_FILE } from '../../../engine/sdk/embeddings-layout.js';
import { POS, positionedSql } from '../dataset/rows.js';

/**
 * The `embeddings` artifact layout (format `forge.embeddings` v1):
 *
 * - `embeddings.f32` — the matrix, `count × dim` float32, row-major, little-endian, no header.
 *   Row i is the embedding of row i of the source dataset.
 * - `ids.parquet` — one column `id` (the source dataset's id type), row i ↔ matrix row i.
 * - `embeddings.json` — `{ format, formatVersion, dim, count, dtype: "float32", byteOrder: "little",
 *   model, modelHash, normalized, pooling, dataset }`; `dataset` is the source dataset's artifact
 *   hash, so consumers can align rows by position when they hold the same dataset.
 *
 * The same fields (minus format) are in the artifact manifest's `meta`, for provenance and the UI.
 */

export { EMBEDDINGS_FILE, EMBEDDINGS_META, IDS_FILE } from '../../../engine/sdk/embeddings-layout.js';

export interface EmbeddingsMeta {
  dim: number;
  count: number;
  model: string;
  modelHash: string;
  normalized: boolean;
  pooling: string;
  /** Artifact hash of the dataset the rows come from. */
  dataset: string;
  [extra: string]: JsonValue;
}

/** Writes matrix + ids (taken from `source` in row order) + metadata into an embeddings output. */
export async function writeEmbeddings(conn: DuckDBConnection, out: OutputBuilder, matrix: Float32Array, source: ArtifactRef, meta: EmbeddingsMeta): Promise<void> {
  if (matrix.length !== meta.count * meta.dim) throw new Error(`embeddings: ${matrix.length} values for ${meta.count} × ${meta.dim}`);
  writeFileSync(out.file(EMBEDDINGS_FILE), new Uint8Array(matrix.buffer, matrix.byteOffset, matrix.byteLength));
  const src = await positionedSql(conn, source);
  await copyDeterministic(conn, `COPY (SELECT id FROM ${src} ORDER BY ${POS}) TO ${sqlString(out.file(IDS_FILE))} (FORMAT parquet, COMPRESSION zstd)`);
  writeFileSync(out.file(EMBEDDINGS_META), `${JSON.stringify({ format: 'forge.embeddings', formatVersion: 1, dtype: 'float32', byteOrder: 'little', ...meta }, null, 2)}\n`);
  out.setRows(meta.count);
  for (const [k, v] of Object.entries(meta)) out.setMeta(k, v);
}

export function embeddingsMeta(ref: ArtifactRef, port = 'embeddings'): EmbeddingsMeta {
  if (ref.kind !== 'embeddings') throw new NodeError(`input "${port}" is a ${ref.kind}, expected embeddings`, { field: `inputs.${port}` });
  let parsed: EmbeddingsMeta;
  try {
    parsed = JSON.parse(readFileSync(join(ref.dir, EMBEDDINGS_META), 'utf8')) as EmbeddingsMeta;
  } catch (err) {
    throw new NodeError(`input "${port}": unreadable ${EMBEDDINGS_META}: ${(err as Error).message}`, { file: join(ref.dir, EMBEDDINGS_META) });
  }
  return parsed;
}

/** Reads the whole matrix (a private, aligned copy). */
export function readEmbeddings(ref: ArtifactRef, port = 'embeddings'): { meta: EmbeddingsMeta; data: Float32Array } {
  const meta = embeddingsMeta(ref, port);
  const file = join(ref.dir, EMBEDDINGS_FILE);
  const data = new Float32Array(meta.count * meta.dim);
  const fd = openSync(file, 'r');
  try {
    const bytes = new Uint8Array(data.buffer);
    let off = 0;
    while (off < bytes.length) {
      const n = readSync(fd, bytes, off, Math.min(bytes.length - off, 1 << 26), off);
      if (n === 0) throw new NodeError(`input "${port}": ${EMBEDDINGS_FILE} is shorter than ${meta.count} × ${meta.dim} float32`, { file });
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  return { meta, data };
}

/** A table expression of the ids with their row index: `(id, __forge_pos)`. */
export function idsSql(ref: ArtifactRef): string {
  return `(SELECT id, file_row_number::BIGINT AS ${sqlIdent(POS)} FROM read_parquet(${sqlString(join(ref.dir, IDS_FILE))}, file_row_number = true))`;
}
