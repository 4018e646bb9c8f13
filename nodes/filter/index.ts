import type { DuckDBConnection } from '@duckdb/node-api';
import { z } from 'zod';
import { datasetSql, writeDatasetFromQuery } from '../../engine/sdk/dataset.js';
import { cleanDuckDbMessage } from '../../engine/sdk/loader.js';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { defineNode, type OutputBuilder } from '../../engine/sdk/types.js';
import { assertSingleSelect, openConfinedDuckDb } from '../../engine/sdk/security.js';

const params = z.object({
  where: z.string().min(1).meta({ title: 'Keep rows where', description: 'A DuckDB SQL boolean expression over the columns, e.g. length(text) > 200', widget: 'code', language: 'sql' }),
});

export default defineNode({
  type: 'transform.filter',
  version: 1,
  category: 'Transforms',
  title: 'Filter',
  description: 'Keeps the rows where a SQL expression is true; everything else (false or NULL) goes to `rejected`.',
  inputs: { in: { kind: 'dataset' } },
  outputs: { out: { kind: 'dataset', title: 'kept' }, rejected: { kind: 'dataset', title: 'rejected' } },
  params,
  deterministic: true,
  codeParams: ['where'],
  confinedCode: true,
  async run(ctx) {
    const input = ctx.input('in');
    const out = ctx.output('out');
    const rejectedOut = ctx.output('rejected');
    // The expression sees only the input artifact and writes only this node's outputs (engine/security).
    const db = await openConfinedDuckDb({ read: [input.dir], write: [out.dir, rejectedOut.dir], signal: ctx.signal });
    try {
      await filterRows(db.conn, datasetSql(input), ctx.params.where, out, rejectedOut, ctx.signal, (m) => ctx.log(m), (d, t) => ctx.progress(d, t));
    } finally {
      db.close();
    }
  },
  module: import.meta.url,
});

async function filterRows(
  conn: DuckDBConnection,
  src: string,
  where: string,
  out: OutputBuilder,
  rejectedOut: OutputBuilder,
  signal: AbortSignal,
  log: (m: string) => void,
  progress: (done: number, total: number) => void,
): Promise<void> {
  const cond = `coalesce((${where}), false)`;
  await assertSingleSelect(conn, `SELECT * FROM ${src} WHERE ${cond}`, 'params.where');
  try {
    await conn.run(`SELECT * FROM ${src} WHERE ${cond} LIMIT 0`);
  } catch (err) {
    throw new NodeError(`invalid expression: ${cleanDuckDbMessage((err as Error).message)}`, { field: 'params.where' });
  }
  try {
    const kept = await writeDatasetFromQuery(conn, `SELECT * FROM ${src} WHERE ${cond}`, out);
    const rejected = await writeDatasetFromQuery(conn, `SELECT * FROM ${src} WHERE NOT ${cond}`, rejectedOut);
    log(`kept ${kept.rows}, rejected ${rejected.rows} of ${kept.rows + rejected.rows}`);
    progress(kept.rows + rejected.rows, kept.rows + rejected.rows);
  } catch (err) {
    throwIfAborted(signal);
    throw new NodeError(`expression failed on the data: ${cleanDuckDbMessage((err as Error).message)}`, { field: 'params.where' });
  }
}
