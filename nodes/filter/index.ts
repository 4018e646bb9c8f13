import type { DuckDBConnection } from '@duckdb/node-api';
import { z } from 'zod';
import { datasetSql } from '../../engine/sdk/dataset.js';
import { cleanDuckDbMessage } from '../../engine/sdk/loader.js';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { assertSingleSelect, openConfinedDuckDb } from '../../engine/sdk/security.js';
import { mapShards, splitWhere } from '../../engine/sdk/shards.js';
import { defineNode } from '../../engine/sdk/types.js';

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
  shardable: { input: 'in' },
  deferrable: {
    input: 'in',
    relation: ({ where }, input, port) => `SELECT * FROM ${input} WHERE ${port === 'out' ? '' : 'NOT '}${keepCondition(where)}`,
    validate: ({ where }, conn, input) => checkWhere(conn, input, keepCondition(where)),
  },
  async run(ctx) {
    const input = ctx.input('in');
    const out = ctx.output('out');
    const rejectedOut = ctx.output('rejected');
    const cond = keepCondition(ctx.params.where);
    // The expression sees only the input artifact and writes only this node's outputs (engine/security):
    // one confined instance checks it, a single-threaded confined one writes the shards.
    const confine = { read: [input.dir], write: [out.dir, rejectedOut.dir], signal: ctx.signal };
    const db = await openConfinedDuckDb(confine);
    try {
      await checkWhere(db.conn, datasetSql(input), cond);
      const writer = await openConfinedDuckDb({ ...confine, threads: 1 });
      try {
        // One unit per input shard (engine/sdk/shards.ts): parallel, and resumable shard by shard;
        // one scan of each shard writes both its kept and its rejected rows.
        const { outputs } = await mapShards(ctx, db.conn, input, splitWhere(cond, ['out', 'rejected']), writer.instance);
        const kept = outputs.out as { rows: number };
        const rejected = outputs.rejected as { rows: number };
        ctx.log(`kept ${kept.rows}, rejected ${rejected.rows} of ${kept.rows + rejected.rows}`);
        ctx.progress(kept.rows + rejected.rows, kept.rows + rejected.rows);
      } catch (err) {
        throwIfAborted(ctx.signal);
        if (err instanceof NodeError) throw err;
        throw new NodeError(`expression failed on the data: ${cleanDuckDbMessage((err as Error).message)}`, { field: 'params.where' });
      } finally {
        writer.close();
      }
    } finally {
      db.close();
    }
  },
  module: import.meta.url,
});

/** NULL counts as false: such rows go to `rejected`. */
function keepCondition(where: string): string {
  return `coalesce((${where}), false)`;
}

/** One read-only SELECT that binds against the input's columns, or an error on params.where. */
async function checkWhere(conn: DuckDBConnection, input: string, cond: string): Promise<void> {
  await assertSingleSelect(conn, `SELECT * FROM ${input} WHERE ${cond}`, 'params.where');
  try {
    await conn.run(`SELECT * FROM ${input} WHERE ${cond} LIMIT 0`);
  } catch (err) {
    throw new NodeError(`invalid expression: ${cleanDuckDbMessage((err as Error).message)}`, { field: 'params.where' });
  }
}
