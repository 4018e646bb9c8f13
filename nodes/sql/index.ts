import type { DuckDBConnection } from '@duckdb/node-api';
import { z } from 'zod';
import { datasetSql, REQUIRED_COLUMNS, writeDatasetFromQuery } from '../../engine/sdk/dataset.js';
import { cleanDuckDbMessage } from '../../engine/sdk/loader.js';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { defineNode, type ArtifactRef, type OutputBuilder } from '../../engine/sdk/types.js';
import { assertSingleSelect, openConfinedDuckDb } from '../../engine/sdk/security.js';

const params = z.object({
  query: z.string().min(1).meta({
    title: 'Query',
    description: 'DuckDB SQL over the inputs, which are tables named a, b and c. The result must have id, text and source columns.',
    widget: 'code',
    language: 'sql',
  }),
});

export default defineNode({
  type: 'transform.sql',
  version: 1,
  category: 'Transforms',
  title: 'SQL',
  description: 'Runs a DuckDB query over up to three input datasets (tables a, b, c) and outputs its result as a dataset.',
  inputs: { a: { kind: 'dataset' }, b: { kind: 'dataset', optional: true }, c: { kind: 'dataset', optional: true } },
  outputs: { out: { kind: 'dataset' } },
  params,
  deterministic: true,
  codeParams: ['query'],
  confinedCode: true,
  async run(ctx) {
    const inputs = ['a', 'b', 'c'].map((name) => [name, ctx.optionalInput(name)] as const).filter((e): e is [string, ArtifactRef] => e[1] !== undefined);
    const out = ctx.output('out');
    // User SQL sees only its input artifacts and writes only its own output (engine/security).
    const db = await openConfinedDuckDb({ read: inputs.map(([, ref]) => ref.dir), write: [out.dir], signal: ctx.signal });
    try {
      await runQuery(db.conn, inputs, ctx.params.query, out, ctx.signal, (m) => ctx.log(m));
    } finally {
      db.close();
    }
  },
  module: import.meta.url,
});

async function runQuery(conn: DuckDBConnection, inputs: [string, ArtifactRef][], rawQuery: string, out: OutputBuilder, signal: AbortSignal, log: (m: string) => void): Promise<void> {
  for (const [name, ref] of inputs) await conn.run(`CREATE TEMP VIEW ${name} AS SELECT * FROM ${datasetSql(ref)}`);
  const query = rawQuery.trim().replace(/;\s*$/, '');
  await assertSingleSelect(conn, query, 'params.query');
  let columns: string[];
  try {
    const d = await conn.runAndReadAll(`DESCRIBE ${query}`);
    columns = d.getRowObjects().map((r) => String(r.column_name));
  } catch (err) {
    throw new NodeError(cleanDuckDbMessage((err as Error).message), { field: 'params.query' });
  }
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) throw new NodeError(`the result lacks column(s) ${missing.join(', ')}; datasets need id, text and source`, { field: 'params.query' });
  try {
    const { rows } = await writeDatasetFromQuery(conn, query, out);
    log(`${rows} rows`);
  } catch (err) {
    throwIfAborted(signal);
    throw new NodeError(cleanDuckDbMessage((err as Error).message), { field: 'params.query' });
  }
}
