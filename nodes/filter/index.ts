import { z } from 'zod';
import { datasetSql } from '../../engine/sdk/dataset.js';
import { cleanDuckDbMessage } from '../../engine/sdk/loader.js';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { mapShards, shardSql } from '../../engine/sdk/shards.js';
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
  async run(ctx) {
    const src = datasetSql(ctx.input('in'));
    const cond = `coalesce((${ctx.params.where}), false)`;
    const conn = await ctx.duckdb();
    try {
      await conn.run(`SELECT * FROM ${src} WHERE ${cond} LIMIT 0`);
    } catch (err) {
      throw new NodeError(`invalid expression: ${cleanDuckDbMessage((err as Error).message)}`, { field: 'params.where' });
    }
    try {
      // One unit per input shard (engine/sdk/shards.ts): parallel, and resumable shard by shard.
      const { outputs } = await mapShards(ctx, conn, ctx.input('in'), {
        out: (shard) => `SELECT * FROM ${shardSql(shard)} WHERE ${cond}`,
        rejected: (shard) => `SELECT * FROM ${shardSql(shard)} WHERE NOT ${cond}`,
      });
      const kept = outputs.out as { rows: number };
      const rejected = outputs.rejected as { rows: number };
      ctx.log(`kept ${kept.rows}, rejected ${rejected.rows} of ${kept.rows + rejected.rows}`);
      ctx.progress(kept.rows + rejected.rows, kept.rows + rejected.rows);
    } catch (err) {
      throwIfAborted(ctx.signal);
      throw new NodeError(`expression failed on the data: ${cleanDuckDbMessage((err as Error).message)}`, { field: 'params.where' });
    }
  },
  module: import.meta.url,
});
