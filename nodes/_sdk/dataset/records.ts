import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { datasetSql, writeDatasetFromQuery } from '../../../engine/sdk/dataset.js';
import { sqlIdent } from '../../../engine/sdk/sql.js';
import type { ArtifactRef, OutputBuilder } from '../../../engine/sdk/types.js';

export type ColumnType = 'VARCHAR' | 'BIGINT' | 'DOUBLE' | 'BOOLEAN';
export interface Column {
  name: string;
  type: ColumnType;
}
export type Cell = string | number | boolean | null | undefined;

/** Columns from `{ name: type }` in order: `columns({ id: 'VARCHAR', tokens: 'BIGINT' })`. */
export function columns(spec: Record<string, ColumnType>): Column[] {
  return Object.entries(spec).map(([name, type]) => ({ name, type }));
}

let tableCounter = 0;

/** Creates a connection-local temp table and fills it from JS rows with DuckDB's appender. */
export async function tempTable(conn: DuckDBConnection, columns: Column[], rows: Iterable<Cell[]>, prefix = 'corpus'): Promise<string> {
  const name = `${prefix}_${process.pid}_${++tableCounter}`;
  await conn.run(`CREATE TEMP TABLE ${sqlIdent(name)} (${columns.map((c) => `${sqlIdent(c.name)} ${c.type}`).join(', ')})`);
  const app = await conn.createAppender(name, 'main', 'temp');
  try {
    for (const row of rows) {
      for (let i = 0; i < columns.length; i++) append(app, (columns[i] as Column).type, row[i]);
      app.endRow();
    }
  } finally {
    app.closeSync();
  }
  return name;
}

function append(app: DuckDBAppender, type: ColumnType, v: Cell): void {
  if (v === null || v === undefined) return app.appendNull();
  switch (type) {
    case 'VARCHAR':
      return app.appendVarchar(String(v));
    case 'BIGINT':
      return app.appendBigInt(BigInt(Math.trunc(Number(v))));
    case 'DOUBLE':
      return app.appendDouble(Number(v));
    case 'BOOLEAN':
      return app.appendBoolean(Boolean(v));
  }
}

/** Writes JS rows as a dataset artifact (Parquet shards), in the given row order. */
export async function writeRecords(conn: DuckDBConnection, out: OutputBuilder, columns: Column[], rows: Iterable<Cell[]>): Promise<number> {
  const table = await tempTable(conn, columns, rows);
  const { rows: n } = await writeDatasetFromQuery(conn, `SELECT * FROM ${sqlIdent(table)}`, out);
  await conn.run(`DROP TABLE ${sqlIdent(table)}`);
  return n;
}

/** Streams the given columns of a dataset in its stored order, chunk by chunk. */
export async function* readColumns(conn: DuckDBConnection, ref: ArtifactRef, columns: string[]): AsyncGenerator<unknown[][]> {
  const result = await conn.stream(`SELECT ${columns.map(sqlIdent).join(', ')} FROM ${datasetSql(ref)}`);
  for await (const rows of result.yieldRowsJs()) yield rows as unknown[][];
}
