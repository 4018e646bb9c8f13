import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlIdent, sqlString } from './sql.js';
import { rmSync } from 'node:fs';
import { SCRATCH_OPTIONS, writeShardsFromParquet } from './dataset.js';
import type { FieldRequirement, LineProblem } from './jsonl-diagnose.js';
import { NodeError, throwIfAborted } from './node-error.js';
import type { OutputBuilder } from './types.js';

export interface LoadSpec {
  /** A DuckDB table expression, e.g. `read_json('…')`. */
  relation: string;
  /** The file as the user wrote it, for error messages. */
  file: string;
  textField: string;
  idField?: string;
  source: string;
  /** Keep a `source` column of the input (its NULLs become `source`); otherwise `source` replaces it. */
  keepSourceColumn?: boolean;
  /**
   * Finds the exact line behind a DuckDB error, a wrong type or a missing value (formats with lines:
   * JSON Lines, CSV). Without `required` it looks for structural problems only.
   */
  diagnose?: (required?: FieldRequirement) => Promise<LineProblem | null>;
  /** Finds the lines where a duplicated id occurs first and again. */
  locateDuplicate?: (id: string) => Promise<{ line: number; firstLine: number } | null>;
  signal: AbortSignal;
}

/**
 * Maps any tabular input onto the dataset contract (`id`, `text`, `source`, then the remaining
 * columns), failing with the file and the line or field when the input does not fit it.
 */
export async function loadTable(conn: DuckDBConnection, spec: LoadSpec, out: OutputBuilder): Promise<number> {
  const located = async (fallback: string, required?: FieldRequirement): Promise<NodeError> => {
    const problem = spec.diagnose ? await spec.diagnose(required) : null;
    // A structural problem found on the way (a broken line) is not about the field that was asked for.
    if (problem) return new NodeError(problem.message, { file: spec.file, line: problem.line, field: problem.field });
    return new NodeError(cleanDuckDbMessage(fallback), { file: spec.file, field: required?.field });
  };
  const textRequirement: FieldRequirement = { field: spec.textField, string: true };

  let columns: { name: string; type: string }[];
  try {
    const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${spec.relation}`);
    columns = described.getRowObjects().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  } catch (err) {
    throwIfAborted(spec.signal);
    throw await located((err as Error).message);
  }
  const names = new Set(columns.map((c) => c.name));
  const text = columns.find((c) => c.name === spec.textField);
  if (!text) {
    // A file DuckDB could only read as something else (a ragged CSV sniffed as one column) is
    // reported at its broken line rather than as a missing column.
    const problem = spec.diagnose ? await spec.diagnose() : null;
    if (problem) throw new NodeError(problem.message, { file: spec.file, line: problem.line, field: problem.field });
    throw new NodeError(`no column "${spec.textField}" (columns: ${columns.map((c) => c.name).join(', ') || 'none'}); set the text field param`, {
      file: spec.file,
      field: spec.textField,
    });
  }
  if (text.type !== 'VARCHAR') throw await located(`column "${spec.textField}" has type ${text.type}, expected text`, textRequirement);
  if (spec.idField && !names.has(spec.idField)) {
    throw new NodeError(`no column "${spec.idField}" for ids (columns: ${[...names].join(', ')})`, { file: spec.file, field: spec.idField });
  }

  // One streaming pass into Parquet (no window function: that would hold the whole file in memory),
  // then every check runs on the columnar copy, and ids are numbered from Parquet row positions.
  const excluded = ['id', 'text', 'source', spec.textField, spec.idField].filter((c): c is string => !!c && names.has(c));
  const rest = excluded.length > 0 ? `t.* EXCLUDE (${[...new Set(excluded)].map(sqlIdent).join(', ')})` : 't.*';
  const sourceExpr = spec.keepSourceColumn && names.has('source') ? `coalesce(CAST(t.source AS VARCHAR), ${sqlString(spec.source)})` : sqlString(spec.source);
  const idExpr = spec.idField ? `CAST(t.${sqlIdent(spec.idField)} AS VARCHAR)` : 'NULL::VARCHAR';
  // Next to the output's staging folder (`staging/<execution>.<port>.load.parquet`), so discarding
  // the execution's staging removes it too.
  const firstPass = `${out.dir}.load.parquet`;
  const staged = `read_parquet(${sqlString(firstPass)}, file_row_number = true)`;

  try {
    await conn.run(
      `COPY (SELECT ${idExpr} AS id, t.${sqlIdent(spec.textField)} AS text, ${sourceExpr} AS source, ${rest} FROM ${spec.relation} t)
       TO ${sqlString(firstPass)} (${SCRATCH_OPTIONS})`,
    );
    const row = await nullCounts(conn, firstPass, staged);
    if (row.n === 0) throw new NodeError('no records in the file', { file: spec.file, line: 1 });
    if (row.missing > 0) throw await located(`${String(row.missing)} record(s) have no "${spec.textField}"`, textRequirement);
    if (spec.idField) {
      if (row.missing_ids > 0) {
        throw await located(`${String(row.missing_ids)} record(s) have no "${spec.idField}"`, { field: spec.idField, string: false });
      }
      // The duplicate that appears first in the file, so the message is the same on every run.
      const dup = await conn.runAndReadAll(`SELECT id, count(*)::BIGINT AS n FROM ${staged} GROUP BY 1 HAVING count(*) > 1 ORDER BY min(file_row_number) LIMIT 1`);
      const d = dup.getRowObjects()[0];
      if (d) {
        const id = String(d.id);
        const where = spec.locateDuplicate ? await spec.locateDuplicate(id) : null;
        const lines = where ? ` (first on line ${where.firstLine}, again on line ${where.line})` : '';
        throw new NodeError(`id ${JSON.stringify(id)} appears ${String(d.n)} times${lines}; ids must be unique`, { file: spec.file, line: where?.line, field: spec.idField });
      }
      // Rewritten rather than adopted: the parallel first pass may cut row groups differently on
      // every run, and a dataset's bytes must depend only on its rows (see writeShardsFromParquet).
      return (await writeShardsFromParquet(conn, firstPass, out)).rows;
    }
    const numbered = `${sqlString(`${spec.source}:`)} || (file_row_number + 1) AS id, * EXCLUDE (id, file_row_number)`;
    const { rows } = await writeShardsFromParquet(conn, firstPass, out, numbered);
    return rows;
  } catch (err) {
    if (err instanceof NodeError) throw err;
    throwIfAborted(spec.signal);
    throw await located((err as Error).message);
  } finally {
    rmSync(firstPass, { force: true });
  }
}

/**
 * Row count and NULL counts of `text` and `id` in the first-pass file. The Parquet footer has them
 * (DuckDB writes null counts for every column chunk), so this reads a few KB instead of scanning
 * the whole text column; a file without those statistics is scanned.
 */
async function nullCounts(conn: DuckDBConnection, file: string, staged: string): Promise<{ missing: number; missing_ids: number; n: number }> {
  const meta = await conn.runAndReadAll(
    `SELECT path_in_schema AS col, count(*)::BIGINT AS chunks, sum(row_group_num_rows)::BIGINT AS n, sum(stats_null_count)::BIGINT AS nulls,
            count(*) FILTER (WHERE stats_null_count IS NULL)::BIGINT AS unknown
     FROM parquet_metadata(${sqlString(file)}) WHERE path_in_schema IN ('id', 'text') GROUP BY 1`,
  );
  const byCol = new Map(meta.getRowObjects().map((r) => [String(r.col), { chunks: Number(r.chunks), n: Number(r.n), nulls: Number(r.nulls), unknown: Number(r.unknown) }]));
  const text = byCol.get('text');
  const id = byCol.get('id');
  if (byCol.size === 0) {
    // No row groups at all: an empty file.
    const empty = await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM ${staged}`);
    if (Number(empty.getRowObjects()[0]?.n ?? 0) === 0) return { missing: 0, missing_ids: 0, n: 0 };
  } else if (text && id && text.unknown === 0 && id.unknown === 0 && text.chunks === id.chunks && text.n === id.n) {
    return { missing: text.nulls, missing_ids: id.nulls, n: text.n };
  }
  const scanned = await conn.runAndReadAll(
    `SELECT count(*) FILTER (WHERE text IS NULL)::BIGINT AS missing, count(*) FILTER (WHERE id IS NULL)::BIGINT AS missing_ids, count(*)::BIGINT AS n FROM ${staged}`,
  );
  const r = scanned.getRowObjects()[0] ?? {};
  return { missing: Number(r.missing ?? 0), missing_ids: Number(r.missing_ids ?? 0), n: Number(r.n ?? 0) };
}

/** DuckDB appends a caret diagram pointing into our generated SQL; users need only the first line. */
export function cleanDuckDbMessage(message: string): string {
  return message.split('\n')[0]?.trim() ?? message;
}
