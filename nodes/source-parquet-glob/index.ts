import type { DuckDBConnection } from '@duckdb/node-api';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { SHARD_DIR, shardFile } from '../../engine/sdk/dataset.js';
import { NodeError } from '../../engine/sdk/node-error.js';
import { sqlIdent, sqlString } from '../../engine/sdk/sql.js';
import { defineNode } from '../../engine/sdk/types.js';
import { fileShardSource, startFileShards, writeFileShards, type FileUnit } from '../_sdk/dataset/file-shards.js';

const params = z.object({
  path: z.string().min(1).meta({ title: 'Parquet folder, file or glob', description: 'e.g. fineweb/sample/10BT/*.parquet, relative to the graph', widget: 'file' }),
  include: z.string().min(1).default('**/*.parquet').meta({ title: 'Files in a folder (glob)' }),
  textField: z.string().min(1).default('text').meta({ title: 'Text column' }),
  idField: z.string().optional().meta({ title: 'Id column', description: 'Empty: an "id" column is used when the files have one, else ids are <file>:<row>' }),
  source: z.string().optional().meta({ title: 'Source name', description: "Set: every row gets it. Empty: the files' own source column, else the file's folder" }),
});

type Params = z.output<typeof params>;

interface Column {
  name: string;
  type: string;
}

export default defineNode({
  type: 'source.parquet-glob',
  version: 1,
  category: 'Sources',
  title: 'Parquet shards (FineWeb)',
  description:
    'Reads a folder or glob of Parquet shards (FineWeb, Dolma, a previous export) shard by shard into a dataset with one output shard per input shard; the text column becomes `text`, url and metadata columns are kept.',
  ...fileShardSource('records'),
  params,
  async run(ctx) {
    const p = ctx.params;
    const { units, conn, out } = await startFileShards(ctx, 'Parquet');

    // Every shard must give the same columns, or the dataset could not be read as one table.
    let first: { unit: FileUnit; columns: Column[] } | undefined;
    const result = await writeFileShards(ctx, conn, out, units, async (unit) => {
      const columns = await describe(conn, unit);
      const query = mappedQuery(unit, columns, p);
      const mapped = await describeQuery(conn, unit, query);
      if (!first) first = { unit, columns: mapped };
      else if (!sameColumns(first.columns, mapped)) {
        throw new NodeError(`columns differ from ${first.unit.file}: ${columnList(mapped)} here, ${columnList(first.columns)} there`, { file: unit.file });
      }
      return { query };
    });

    // Null texts are counted from the written shards' Parquet statistics (a footer read, no scan).
    for (const unit of units) {
      const nulls = await nullTexts(conn, shardFile(join(out.dir, SHARD_DIR), unit.index));
      if (nulls > 0) throw new NodeError(`${nulls} row(s) have no text in column "${p.textField}"`, { file: unit.file, field: p.textField });
    }
    out.setMeta('files', units.length);
    out.setMeta('files_read', result.executed.length);
    ctx.progress(units.length, units.length, `${result.rows.toLocaleString('en-US')} rows`);
    ctx.log(`loaded ${result.rows} rows from ${units.length} Parquet file(s)`);
  },
  module: import.meta.url,
});

async function describe(conn: DuckDBConnection, unit: FileUnit): Promise<Column[]> {
  try {
    const r = await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(unit.abs)})`);
    return r.getRowObjects().map((c) => ({ name: String(c.column_name), type: String(c.column_type) }));
  } catch (err) {
    throw new NodeError(`not a readable Parquet file: ${(err as Error).message.split('\n')[0] ?? ''}`, { file: unit.file });
  }
}

async function describeQuery(conn: DuckDBConnection, unit: FileUnit, query: string): Promise<Column[]> {
  try {
    const r = await conn.runAndReadAll(`DESCRIBE ${query}`);
    return r.getRowObjects().map((c) => ({ name: String(c.column_name), type: String(c.column_type) }));
  } catch (err) {
    throw new NodeError((err as Error).message.split('\n')[0] ?? 'cannot read the file', { file: unit.file });
  }
}

/** `id`, `text`, `source`, then every other column of the file, in the file's row order. */
function mappedQuery(unit: FileUnit, columns: Column[], p: Params): string {
  const names = new Set(columns.map((c) => c.name));
  const text = columns.find((c) => c.name === p.textField);
  if (!text) throw new NodeError(`no column "${p.textField}" (columns: ${[...names].join(', ')}); set the text column param`, { file: unit.file, field: 'textField' });
  if (text.type !== 'VARCHAR') throw new NodeError(`column "${p.textField}" has type ${text.type}, expected text`, { file: unit.file, field: 'textField' });
  const idField = p.idField ?? (names.has('id') ? 'id' : undefined);
  if (idField && !names.has(idField)) throw new NodeError(`no column "${idField}" for ids (columns: ${[...names].join(', ')})`, { file: unit.file, field: 'idField' });
  const folder = dirname(unit.file);
  const sourceExpr = p.source !== undefined ? sqlString(p.source) : names.has('source') ? `coalesce(CAST(t.source AS VARCHAR), ${sqlString(folder)})` : sqlString(folder);
  const idExpr = idField ? `CAST(t.${sqlIdent(idField)} AS VARCHAR)` : `${sqlString(`${unit.file}:`)} || (t.file_row_number + 1)`;
  const excluded = [...new Set(['id', 'text', 'source', p.textField, idField].filter((c): c is string => !!c && names.has(c)))];
  const rest = `t.* EXCLUDE (${[...excluded.map(sqlIdent), 'file_row_number'].join(', ')})`;
  return `SELECT ${idExpr} AS id, t.${sqlIdent(p.textField)} AS text, ${sourceExpr} AS source, ${rest} FROM read_parquet(${sqlString(unit.abs)}, file_row_number = true) t`;
}

function sameColumns(a: Column[], b: Column[]): boolean {
  return a.length === b.length && a.every((c, i) => c.name === b[i]?.name && c.type === b[i]?.type);
}

function columnList(cs: Column[]): string {
  return cs.map((c) => `${c.name} ${c.type}`).join(', ');
}

async function nullTexts(conn: DuckDBConnection, shard: string): Promise<number> {
  const r = await conn.runAndReadAll(
    `SELECT coalesce(sum(stats_null_count), 0)::BIGINT AS nulls, count(*) FILTER (WHERE stats_null_count IS NULL)::BIGINT AS unknown FROM parquet_metadata(${sqlString(shard)}) WHERE path_in_schema = 'text'`,
  );
  const row = r.getRowObjects()[0];
  if (Number(row?.unknown ?? 0) === 0) return Number(row?.nulls ?? 0);
  const scanned = await conn.runAndReadAll(`SELECT count(*) FILTER (WHERE text IS NULL)::BIGINT AS n FROM read_parquet(${sqlString(shard)})`);
  return Number(scanned.getRowObjects()[0]?.n ?? 0);
}
