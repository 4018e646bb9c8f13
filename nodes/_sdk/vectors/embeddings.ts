import type { DuckDBConnection } from '@duckdb/node-api';
import { closeSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
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

/**
 * Rows per chunk for nodes that stream a matrix or a text column (embed, retrieve): the memory they
 * hold is this many rows, not the dataset. FORGE_VECTOR_CHUNK_ROWS overrides it (tests use a tiny
 * value to exercise the chunk seams); the default is a multiple of the exact searcher's 256-query
 * batch so that chunking issues the very same ONNX calls as one pass would.
 */
export const DEFAULT_VECTOR_CHUNK_ROWS = 8192;
export function vectorChunkRows(): number {
  const n = Number(process.env.FORGE_VECTOR_CHUNK_ROWS);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_VECTOR_CHUNK_ROWS;
}

/**
 * Writes an embeddings output a block of rows at a time: `append` adds rows to the matrix file as
 * they are produced, `finish` writes ids (taken from `source` in row order) and metadata, and checks
 * that exactly `meta.count` rows were appended.
 */
export class EmbeddingsWriter {
  private readonly fd: number;
  private values = 0;
  private closed = false;

  constructor(private readonly out: OutputBuilder) {
    this.fd = openSync(out.file(EMBEDDINGS_FILE), 'w');
  }

  append(rows: Float32Array): void {
    const bytes = new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength);
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    this.values += rows.length;
  }

  /** Closes the matrix file; safe to call twice (finish calls it; call it on failure paths too). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  async finish(conn: DuckDBConnection, source: ArtifactRef, meta: EmbeddingsMeta): Promise<void> {
    this.close();
    if (this.values !== meta.count * meta.dim) throw new Error(`embeddings: ${this.values} values for ${meta.count} × ${meta.dim}`);
    const src = await positionedSql(conn, source);
    await copyDeterministic(conn, `COPY (SELECT id FROM ${src} ORDER BY ${POS}) TO ${sqlString(this.out.file(IDS_FILE))} (FORMAT parquet, COMPRESSION zstd)`);
    writeFileSync(this.out.file(EMBEDDINGS_META), `${JSON.stringify({ format: 'forge.embeddings', formatVersion: 1, dtype: 'float32', byteOrder: 'little', ...meta }, null, 2)}\n`);
    this.out.setRows(meta.count);
    for (const [k, v] of Object.entries(meta)) this.out.setMeta(k, v);
  }
}

/** Writes matrix + ids (taken from `source` in row order) + metadata into an embeddings output. */
export async function writeEmbeddings(conn: DuckDBConnection, out: OutputBuilder, matrix: Float32Array, source: ArtifactRef, meta: EmbeddingsMeta): Promise<void> {
  if (matrix.length !== meta.count * meta.dim) throw new Error(`embeddings: ${matrix.length} values for ${meta.count} × ${meta.dim}`);
  const w = new EmbeddingsWriter(out);
  try {
    w.append(matrix);
  } finally {
    w.close();
  }
  await w.finish(conn, source, meta);
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

/** Reads rows [start, start + rows) of the matrix file into `into` (row-major float32). */
function readRows(fd: number, file: string, port: string, meta: EmbeddingsMeta, start: number, into: Float32Array): void {
  const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
  const base = start * meta.dim * 4;
  let off = 0;
  while (off < bytes.length) {
    const n = readSync(fd, bytes, off, Math.min(bytes.length - off, 1 << 26), base + off);
    if (n === 0) throw new NodeError(`input "${port}": ${EMBEDDINGS_FILE} is shorter than ${meta.count} × ${meta.dim} float32`, { file });
    off += n;
  }
}

/** Reads the whole matrix (a private, aligned copy). */
export function readEmbeddings(ref: ArtifactRef, port = 'embeddings'): { meta: EmbeddingsMeta; data: Float32Array } {
  const meta = embeddingsMeta(ref, port);
  const file = join(ref.dir, EMBEDDINGS_FILE);
  const data = new Float32Array(meta.count * meta.dim);
  const fd = openSync(file, 'r');
  try {
    readRows(fd, file, port, meta, 0, data);
  } finally {
    closeSync(fd);
  }
  return { meta, data };
}

/** The matrix in row order, at most `maxRows` rows per chunk (each a fresh array the caller may modify). */
export function* readEmbeddingChunks(ref: ArtifactRef, port: string, maxRows: number): Generator<{ start: number; rows: number; data: Float32Array }> {
  if (!(maxRows >= 1)) throw new Error(`readEmbeddingChunks: maxRows must be ≥ 1, got ${maxRows}`);
  const meta = embeddingsMeta(ref, port);
  const file = join(ref.dir, EMBEDDINGS_FILE);
  const fd = openSync(file, 'r');
  try {
    for (let start = 0; start < meta.count; start += maxRows) {
      const rows = Math.min(maxRows, meta.count - start);
      const data = new Float32Array(rows * meta.dim);
      readRows(fd, file, port, meta, start, data);
      yield { start, rows, data };
    }
  } finally {
    closeSync(fd);
  }
}

/** A table expression of the ids with their row index: `(id, __forge_pos)`. */
export function idsSql(ref: ArtifactRef): string {
  return `(SELECT id, file_row_number::BIGINT AS ${sqlIdent(POS)} FROM read_parquet(${sqlString(join(ref.dir, IDS_FILE))}, file_row_number = true))`;
}
