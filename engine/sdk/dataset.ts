import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sqlString, sqlStringList } from './sql.js';
import type { ArtifactRef, ColumnInfo, OutputBuilder } from './types.js';

/** Columns every dataset carries; loaders map their input onto them. */
export const REQUIRED_COLUMNS = ['id', 'text', 'source'] as const;

const SHARD_DIR = 'shards';
/**
 * Rows per Parquet row group. DuckDB's order-preserving writer buffers row groups that finish out of
 * order, so with long texts (~1 KB a row) this bounds that buffer to tens of MB per thread.
 */
export const PARQUET_ROW_GROUP = 32768;
/**
 * Options of every dataset shard. zstd level 1 writes ~2.5× faster than the default level 3 for
 * ~30 % larger files: intermediate artifacts are written far more often than they are archived.
 */
export const PARQUET_OPTIONS = `FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP}`;

export function shardPaths(ref: ArtifactRef): string[] {
  return ref.manifest.files
    .filter((f) => f.path.startsWith(`${SHARD_DIR}/`) && f.path.endsWith('.parquet'))
    .map((f) => join(ref.dir, f.path));
}

/** A DuckDB table expression reading a dataset artifact, e.g. `FROM ${datasetSql(ref)}`. */
export function datasetSql(ref: ArtifactRef): string {
  if (ref.kind !== 'dataset') throw new Error(`expected a dataset artifact, got ${ref.kind}`);
  const shards = shardPaths(ref);
  if (shards.length === 0) throw new Error(`dataset ${ref.hash} has no shards`);
  return `read_parquet(${sqlStringList(shards)})`;
}

/**
 * Writes the result of `query` as the dataset on `out`: Parquet shards (zstd) plus row count and
 * schema in the manifest. An empty result still produces one (empty) shard so the schema survives.
 */
export async function writeDatasetFromQuery(conn: DuckDBConnection, query: string, out: OutputBuilder): Promise<{ rows: number; schema: ColumnInfo[] }> {
  const dir = join(out.dir, SHARD_DIR);
  mkdirSync(dir, { recursive: true });
  // One file per COPY: DuckDB's order-preserving (batch) writer is only used without file
  // rotation (FILE_SIZE_BYTES / PER_THREAD_OUTPUT write rows in thread order, not input order).
  const file = nextShard(dir);
  await copyDeterministic(conn, `COPY (${query}) TO ${sqlString(file)} (${PARQUET_OPTIONS})`);
  return describeShard(conn, file, out);
}

let copyChain: Promise<unknown> = Promise.resolve();

/**
 * Runs a COPY … TO so that the same rows always give the same bytes. With several threads DuckDB's
 * order-preserving Parquet writer keeps the row order but cuts row groups where thread timing
 * happens to put batch boundaries, so identical rows could get different files (and artifact
 * hashes) from run to run. Writing single-threaded fixes the cut points; it costs little, since the
 * query feeding the write is usually a Parquet scan and zstd level 1 is cheap. `threads` is an
 * instance-wide setting, so these COPYs take turns (one instance per process or worker thread).
 */
export function copyDeterministic(conn: DuckDBConnection, copySql: string): Promise<void> {
  const run = copyChain.then(async () => {
    const before = String((await conn.runAndReadAll("SELECT current_setting('threads') AS t")).getRowObjects()[0]?.t ?? '1');
    await conn.run('SET threads = 1');
    try {
      await conn.run(copySql);
    } finally {
      await conn.run(`SET threads = ${Number(before) || 1}`);
    }
  });
  copyChain = run.catch(() => undefined);
  return run;
}

function nextShard(dir: string): string {
  return join(dir, `part-${String(readdirSync(dir).length).padStart(4, '0')}.parquet`);
}

async function describeShard(conn: DuckDBConnection, file: string, out: OutputBuilder): Promise<{ rows: number; schema: ColumnInfo[] }> {
  const list = sqlStringList(readdirSync(dirname(file)).filter((f) => f.endsWith('.parquet')).sort().map((f) => join(dirname(file), f)));
  const count = await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet(${list})`);
  const rows = Number(count.getRowObjects()[0]?.n ?? 0);
  const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${list})`);
  const schema = described.getRowObjects().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  out.setRows(rows);
  out.setSchema(schema);
  return { rows, schema };
}

export async function readRows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJson() as Record<string, unknown>[];
}
