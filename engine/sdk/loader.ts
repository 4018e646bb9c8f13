import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlIdent, sqlString } from '../store/duckdb.js';
import { writeDatasetFromQuery } from './dataset.js';
import type { LineProblem } from './jsonl-diagnose.js';
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
  /** Finds the exact line behind a DuckDB error (JSON Lines only). */
  diagnose?: (requiredString?: string) => Promise<LineProblem | null>;
  signal: AbortSignal;
}

const ROW = '__forge_row';

/**
 * Maps any tabular input onto the dataset contract (`id`, `text`, `source`, then the remaining
 * columns), failing with the file and the line or field when the input does not fit it.
 */
export async function loadTable(conn: DuckDBConnection, spec: LoadSpec, out: OutputBuilder): Promise<number> {
  const located = async (fallback: string, field?: string): Promise<NodeError> => {
    const problem = spec.diagnose ? await spec.diagnose(field ? spec.textField : undefined) : null;
    if (problem) return new NodeError(problem.message, { file: spec.file, line: problem.line, field: problem.field ?? field });
    return new NodeError(cleanDuckDbMessage(fallback), { file: spec.file, field });
  };

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
    throw new NodeError(`no column "${spec.textField}" (columns: ${columns.map((c) => c.name).join(', ') || 'none'}); set the text field param`, {
      file: spec.file,
      field: spec.textField,
    });
  }
  if (text.type !== 'VARCHAR') throw await located(`column "${spec.textField}" has type ${text.type}, expected text`, spec.textField);
  if (spec.idField && !names.has(spec.idField)) {
    throw new NodeError(`no column "${spec.idField}" for ids (columns: ${[...names].join(', ')})`, { file: spec.file, field: spec.idField });
  }

  const idExpr = spec.idField ? `CAST(t.${sqlIdent(spec.idField)} AS VARCHAR)` : `${sqlString(`${spec.source}:`)} || t.${ROW}`;
  const excluded = [ROW, 'id', 'text', 'source', spec.textField, spec.idField].filter((c): c is string => !!c && (names.has(c) || c === ROW));
  const rest = `t.* EXCLUDE (${[...new Set(excluded)].map(sqlIdent).join(', ')})`;
  const query = `SELECT ${idExpr} AS id, t.${sqlIdent(spec.textField)} AS text, ${sqlString(spec.source)} AS source, ${rest}
    FROM (SELECT *, row_number() OVER () AS ${ROW} FROM ${spec.relation}) t`;

  try {
    const nulls = await conn.runAndReadAll(
      `SELECT count(*) FILTER (WHERE ${sqlIdent(spec.textField)} IS NULL)::BIGINT AS missing, count(*)::BIGINT AS n FROM ${spec.relation}`,
    );
    const row = nulls.getRowObjects()[0] ?? {};
    if (Number(row.n ?? 0) === 0) throw new NodeError('no records in the file', { file: spec.file, line: 1 });
    if (Number(row.missing ?? 0) > 0) throw await located(`${String(row.missing)} record(s) have no "${spec.textField}"`, spec.textField);
    if (spec.idField) {
      const dup = await conn.runAndReadAll(
        `SELECT CAST(${sqlIdent(spec.idField)} AS VARCHAR) AS id, count(*)::BIGINT AS n FROM ${spec.relation} GROUP BY 1 HAVING count(*) > 1 LIMIT 1`,
      );
      const d = dup.getRowObjects()[0];
      if (d) throw new NodeError(`id ${JSON.stringify(d.id)} appears ${String(d.n)} times; ids must be unique`, { file: spec.file, field: spec.idField });
    }
    const { rows } = await writeDatasetFromQuery(conn, query, out);
    return rows;
  } catch (err) {
    if (err instanceof NodeError) throw err;
    throwIfAborted(spec.signal);
    throw await located((err as Error).message);
  }
}

/** DuckDB appends a caret diagram pointing into our generated SQL; users need only the first line. */
export function cleanDuckDbMessage(message: string): string {
  return message.split('\n')[0]?.trim() ?? message;
}
