import type { DuckDBConnection } from '@duckdb/node-api';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sqlString, sqlStringList } from '../store/duckdb.js';
import type { ArtifactRef, ColumnInfo, OutputBuilder } from './types.js';

/** Columns every dataset carries; loaders map their input onto them. */
export const REQUIRED_COLUMNS = ['id', 'text', 'source'] as const;

const SHARD_DIR = 'shards';
/** Shards are capped so map-style nodes can split work; DuckDB's rotation is deterministic. */
const SHARD_BYTES = '128MB';

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
  await conn.run(
    `COPY (${query}) TO ${sqlString(dir)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000, FILE_SIZE_BYTES '${SHARD_BYTES}', FILENAME_PATTERN 'part-{i}', OVERWRITE_OR_IGNORE true)`,
  );
  let files = readdirSync(dir).filter((f) => f.endsWith('.parquet'));
  if (files.length === 0) {
    // DuckDB writes no file for an empty result; keep the schema with an explicit empty shard.
    await conn.run(`COPY (SELECT * FROM (${query}) LIMIT 0) TO ${sqlString(join(dir, 'part-0.parquet'))} (FORMAT parquet)`);
    files = ['part-0.parquet'];
  }
  const list = sqlStringList(files.sort().map((f) => join(dir, f)));
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
