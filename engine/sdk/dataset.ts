import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sqlString, sqlStringList } from './sql.js';
import { writeShardFiles, type ShardJob } from './shard-writer.js';
import type { ArtifactManifest, ArtifactRef, ColumnInfo, OutputBuilder } from './types.js';

/** Columns every dataset carries; loaders map their input onto them. */
export const REQUIRED_COLUMNS = ['id', 'text', 'source'] as const;

export const SHARD_DIR = 'shards';
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
  return ref.manifest.files.filter((f) => f.path.startsWith(`${SHARD_DIR}/`) && f.path.endsWith('.parquet')).map((f) => join(ref.dir, f.path));
}

/** A DuckDB table expression reading a dataset artifact, e.g. `FROM ${datasetSql(ref)}`. */
export function datasetSql(ref: ArtifactRef): string {
  if (ref.kind !== 'dataset') throw new Error(`expected a dataset artifact, got ${ref.kind}`);
  assertWritten(ref);
  const shards = shardPaths(ref);
  if (shards.length === 0) throw new Error(`dataset ${ref.hash} has no shards`);
  return `read_parquet(${sqlStringList(shards)})`;
}

/** Shown wherever the rows of a deferred dataset (engine/sdk/deferred.ts) are asked for. */
export const NOT_WRITTEN = 'was not written: it is a deferred dataset, computed by its only consumer in that node’s own pass. Run its node on its own (Run node) to write it';

/** A deferred dataset (engine/sdk/deferred.ts): its artifact is a recipe its consumer computes, not rows. */
export function isDeferredManifest(m: Pick<ArtifactManifest, 'kind' | 'meta'>): boolean {
  return m.kind === 'dataset' && m.meta.deferred === true;
}

/** Throws, saying what to do, when `ref` is a deferred dataset: it has a recipe, not rows. */
export function assertWritten(ref: ArtifactRef): void {
  if (isDeferredManifest(ref.manifest)) throw new Error(`dataset ${ref.hash} ${NOT_WRITTEN}`);
}

/** Rows per dataset shard when FORGE_SHARD_ROWS is not set: 2 Parquet row groups. */
export const DEFAULT_SHARD_ROWS = 2 * PARQUET_ROW_GROUP;

/**
 * Rows per shard. 65,536 rows of web text are ~60 MB of Parquet: a 1M-document pool gives 16 shards
 * (enough to keep 2-16 cores busy) and 100B tokens ~25k shards (enough for 64 cores on many machines),
 * while one shard's row groups stay small enough to write in ~100 MB of memory.
 */
export function shardRows(): number {
  const n = Number(process.env.FORGE_SHARD_ROWS);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_SHARD_ROWS;
}

/**
 * Writes the result of `query` as the dataset on `out`: an ordered list of Parquet shards of at most
 * `shardRows()` rows, plus row count and schema in the manifest. An empty result still produces one
 * (empty) shard so the schema survives.
 *
 * The query runs once on the node's (multithreaded) connection into an uncompressed scratch file,
 * which keeps row order but cuts row groups wherever thread timing puts them; the shards are then
 * cut from it by row number and written in parallel, each on one thread (see writeShardFiles), so
 * every shard's bytes, and so the artifact hash, depend only on its rows.
 */
export async function writeDatasetFromQuery(conn: DuckDBConnection, query: string, out: OutputBuilder): Promise<{ rows: number; schema: ColumnInfo[] }> {
  const dir = join(out.dir, SHARD_DIR);
  mkdirSync(dir, { recursive: true });
  const scratch = join(out.dir, `.scratch-${existingShards(dir).length}.parquet`);
  try {
    await conn.run(`COPY (${query}) TO ${sqlString(scratch)} (${SCRATCH_OPTIONS})`);
    return await writeShardsFromParquet(conn, scratch, out);
  } finally {
    rmSync(scratch, { force: true });
  }
}

/** Scratch files are read once, right away: no compression, row groups small enough to skip by row number. */
export const SCRATCH_OPTIONS = `FORMAT parquet, COMPRESSION uncompressed, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP}`;

/**
 * Cuts an order-preserving Parquet file (e.g. the output of a parallel COPY) into the dataset
 * shards of `out`, `shardRows()` rows each, written in parallel. `select` is the select list over
 * the file read with `file_row_number`, which it must drop (the default) or turn into a column.
 */
export async function writeShardsFromParquet(conn: DuckDBConnection, file: string, out: OutputBuilder, select = '* EXCLUDE (file_row_number)'): Promise<{ rows: number; schema: ColumnInfo[] }> {
  const dir = join(out.dir, SHARD_DIR);
  mkdirSync(dir, { recursive: true });
  const first = existingShards(dir).length;
  const total = await parquetRows(conn, [file]);
  const per = shardRows();
  const count = Math.max(1, Math.ceil(total / per));
  const source = `read_parquet(${sqlString(file)}, file_row_number = true)`;
  const jobs: ShardJob[] = [];
  for (let k = 0; k < count; k++) {
    const range = count === 1 ? '' : ` WHERE file_row_number >= ${k * per} AND file_row_number < ${(k + 1) * per}`;
    jobs.push({ query: `SELECT ${select} FROM ${source}${range}`, file: shardFile(dir, first + k) });
  }
  await writeShardFiles(jobs, PARQUET_OPTIONS);
  return describeShards(conn, dir, out);
}

/** The path of shard number `index` of a dataset folder's `shards/`; names sort in shard order. */
export function shardFile(shardDir: string, index: number): string {
  return join(shardDir, `part-${String(index).padStart(SHARD_DIGITS, '0')}.parquet`);
}

/** Enough digits for a 100B-token corpus (~25k shards at the default size) to sort by name. */
const SHARD_DIGITS = 6;

function existingShards(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.parquet'))
    .sort()
    .map((f) => join(dir, f));
}

/** Rows in these Parquet files, from their footers. */
export async function parquetRows(conn: DuckDBConnection, files: string[]): Promise<number> {
  const reader = await conn.runAndReadAll(`SELECT coalesce(sum(num_rows), 0)::BIGINT AS n FROM parquet_file_metadata(${sqlStringList(files)})`);
  return Number(reader.getRowObjects()[0]?.n ?? 0);
}

/** Sets rows and schema on `out` from the shards already written to `shardDir`. */
export async function describeShards(conn: DuckDBConnection, shardDir: string, out: OutputBuilder): Promise<{ rows: number; schema: ColumnInfo[] }> {
  const files = existingShards(shardDir);
  const rows = await parquetRows(conn, files);
  const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlStringList(files)})`);
  const schema = described.getRowObjects().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  out.setRows(rows);
  out.setSchema(schema);
  return { rows, schema };
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

export async function readRows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJson() as Record<string, unknown>[];
}
