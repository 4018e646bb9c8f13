import type { DuckDBConnection } from '@duckdb/node-api';
import { shardPaths, writeDatasetFromQuery } from '../../../engine/sdk/dataset.js';
import { NodeError, throwIfAborted } from '../../../engine/sdk/node-error.js';
import type { ArtifactRef, ColumnInfo, OutputBuilder } from '../../../engine/sdk/types.js';
import { sqlIdent, sqlString } from '../../../engine/sdk/sql.js';

/**
 * Row-position helpers for ML nodes: they read a dataset's texts in row order into JavaScript,
 * compute something per row (an embedding, a score), and join the results back by position.
 * Position = row index over the dataset's shards in manifest order, via Parquet's file_row_number,
 * so it is exact and independent of DuckDB's threading.
 */

export const POS = '__forge_pos';

let tmpCounter = 0;
/** A connection-unique temp table name (the DuckDB instance is shared within a thread). */
export function tempName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${tmpCounter++}`;
}

/** A table expression over the dataset with an extra BIGINT column `__forge_pos` (0-based row index). */
export async function positionedSql(conn: DuckDBConnection, ref: ArtifactRef): Promise<string> {
  const parts = await positionedShards(conn, ref);
  return `(${parts.map((p) => p.sql).join(' UNION ALL ')})`;
}

/** One shard of a dataset as a table expression with `__forge_pos`, plus its row count. */
export interface PositionedShard {
  sql: string;
  rows: number;
}

/** The dataset's shards in manifest order, each positioned as in `positionedSql`, for shard-at-a-time passes. */
export async function positionedShards(conn: DuckDBConnection, ref: ArtifactRef): Promise<PositionedShard[]> {
  const shards = shardPaths(ref);
  if (shards.length === 0) throw new NodeError(`dataset ${ref.hash.slice(0, 19)} has no shards`);
  const meta = await conn.runAndReadAll(`SELECT file_name, num_rows::BIGINT AS n FROM parquet_file_metadata([${shards.map(sqlString).join(', ')}])`);
  const counts = new Map(meta.getRowObjectsJS().map((r) => [String(r.file_name), Number(r.n)]));
  let offset = 0;
  return shards.map((s) => {
    const rows = counts.get(s) ?? 0;
    const sql = `SELECT * EXCLUDE (file_row_number), file_row_number::BIGINT + ${offset} AS ${POS} FROM read_parquet(${sqlString(s)}, file_row_number = true)`;
    offset += rows;
    return { sql, rows };
  });
}

/**
 * Writes each output one input shard at a time: `queries[port](shard)` selects that shard's rows
 * (ordered within it), so no query sorts the whole dataset — a global ORDER BY with the texts runs
 * out of DuckDB's memory on large pools. Returns each output's total rows.
 */
export async function writePerShard(
  conn: DuckDBConnection,
  shards: readonly PositionedShard[],
  queries: Record<string, { out: OutputBuilder; query: (shardSql: string) => string }>,
  signal?: AbortSignal,
): Promise<Record<string, number>> {
  const rows: Record<string, number> = Object.fromEntries(Object.keys(queries).map((p) => [p, 0]));
  for (const shard of shards) {
    if (signal) throwIfAborted(signal);
    // writeDatasetFromQuery appends shards and reports the output's rows so far.
    for (const [port, q] of Object.entries(queries)) rows[port] = (await writeDatasetFromQuery(conn, q.query(shard.sql), q.out)).rows;
  }
  return rows;
}

export function hasColumn(ref: ArtifactRef, name: string): boolean {
  return (ref.manifest.schema ?? []).some((c) => c.name === name);
}

export function requireColumn(ref: ArtifactRef, name: string, port: string, field: string): ColumnInfo {
  const col = (ref.manifest.schema ?? []).find((c) => c.name === name);
  if (!col) {
    const have = (ref.manifest.schema ?? []).map((c) => c.name).join(', ');
    throw new NodeError(`input "${port}" has no column "${name}" (columns: ${have})`, { field });
  }
  return col;
}

/**
 * One column of the dataset as strings in row order (NULL → null), in chunks of exactly `maxRows`
 * rows (the last may be shorter; chunks span shard boundaries), so a caller that handles a chunk at a time holds at most
 * that many texts whatever the dataset's size. Sorted a shard at a time: one ORDER BY over all
 * shards makes DuckDB hold every text at once, which passes its memory limit (768 MB by default)
 * at about 800k web pages. Nothing else may run on `conn` while the generator is suspended.
 */
export async function* readStringColumnChunks(conn: DuckDBConnection, ref: ArtifactRef, column: string, maxRows: number): AsyncGenerator<(string | null)[]> {
  const shards = await positionedShards(conn, ref);
  yield* readStringChunks(
    conn,
    shards.map((shard) => `SELECT CAST(${sqlIdent(column)} AS VARCHAR) AS v FROM (${shard.sql}) ORDER BY ${POS}`),
    maxRows,
  );
}

/**
 * The first column of each query, in query order, as chunks of at most `maxRows` values: DuckDB
 * streams the rows, so only one chunk is ever held (a chunk may span two queries).
 */
export async function* readStringChunks(conn: DuckDBConnection, queries: readonly string[], maxRows: number): AsyncGenerator<(string | null)[]> {
  if (!(maxRows >= 1)) throw new Error(`readStringChunks: maxRows must be ≥ 1, got ${maxRows}`);
  let chunk: (string | null)[] = [];
  for (const query of queries) {
    const result = await conn.stream(query);
    for await (const rows of result.yieldRowsJs()) {
      for (const row of rows) {
        chunk.push(row[0] as string | null);
        if (chunk.length === maxRows) {
          yield chunk;
          chunk = [];
        }
      }
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** The whole column at once; for datasets that fit in memory (seeds, training sets). */
export async function readStringColumn(conn: DuckDBConnection, ref: ArtifactRef, column: string): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for await (const chunk of readStringColumnChunks(conn, ref, column, 1 << 16)) for (const v of chunk) out.push(v);
  return out;
}

export interface NewColumn {
  name: string;
  type: 'DOUBLE' | 'FLOAT' | 'VARCHAR' | 'BIGINT' | 'BOOLEAN';
  values: ArrayLike<number | string | boolean | null>;
}

/**
 * Loads per-row values (aligned with dataset positions) into a temp table `(pos, cols…)` and
 * returns its name; join on `${POS}`. Values for a column that already exists in the dataset replace it.
 * `table` names it when a query naming it is built before the values exist (a shard's query).
 */
export async function loadColumns(conn: DuckDBConnection, rows: number, cols: readonly NewColumn[], table = tempName('forge_cols')): Promise<string> {
  await conn.run(`CREATE TEMP TABLE ${sqlIdent(table)} (pos BIGINT, ${cols.map((c) => `${sqlIdent(c.name)} ${c.type}`).join(', ')})`);
  const app = await conn.createAppender(table, 'main', 'temp');
  try {
    for (let i = 0; i < rows; i++) {
      app.appendBigInt(BigInt(i));
      for (const c of cols) {
        const v = c.values[i];
        if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) app.appendNull();
        else if (c.type === 'VARCHAR') app.appendVarchar(String(v));
        else if (c.type === 'BIGINT') app.appendBigInt(BigInt(v as number));
        else if (c.type === 'BOOLEAN') app.appendBoolean(Boolean(v));
        else if (c.type === 'FLOAT') app.appendFloat(v as number);
        else app.appendDouble(v as number);
      }
      app.endRow();
    }
    app.flushSync();
  } finally {
    app.closeSync();
  }
  return table;
}

/** `SELECT` list of the dataset's own columns minus any that `cols` replaces, prefixed by `alias.`. */
export function keptColumns(ref: ArtifactRef, alias: string, replaced: readonly string[]): string {
  const drop = new Set([...replaced]);
  const names = (ref.manifest.schema ?? []).map((c) => c.name).filter((n) => !drop.has(n));
  return names.map((n) => `${alias}.${sqlIdent(n)}`).join(', ');
}

export async function dropTemp(conn: DuckDBConnection, table: string): Promise<void> {
  await conn.run(`DROP TABLE IF EXISTS temp.main.${sqlIdent(table)}`);
}

/** Ids (as strings) and texts of a dataset, in row order; NULL texts become ''. */
export async function readIdsAndTexts(conn: DuckDBConnection, ref: ArtifactRef, textColumn: string): Promise<{ ids: string[]; texts: string[] }> {
  const src = await positionedSql(conn, ref);
  const r = await conn.runAndReadAll(`SELECT CAST(id AS VARCHAR) AS id, CAST(${sqlIdent(textColumn)} AS VARCHAR) AS t FROM ${src} ORDER BY ${POS}`);
  const cols = r.getColumnsJS() as (string | null)[][];
  // An empty result has no column arrays at all.
  return { ids: (cols[0] ?? []).map((v) => v ?? ''), texts: (cols[1] ?? []).map((v) => v ?? '') };
}
