import { z } from 'zod';
import { datasetSql, writeDatasetFromQuery } from '../../engine/sdk/dataset.js';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';

const params = z
  .object({
    mode: z.enum(['sample', 'shuffle']).default('sample').meta({ title: 'Mode', description: 'sample a subset, or shuffle all rows' }),
    rows: z.number().int().positive().optional().meta({ title: 'Rows', description: 'Sample exactly this many (or all if fewer)' }),
    fraction: z.number().gt(0).lte(1).optional().meta({ title: 'Fraction', description: 'Or sample this share of rows' }),
  })
  .refine((p) => p.mode === 'shuffle' || p.rows !== undefined || p.fraction !== undefined, { message: 'give rows or fraction to sample', path: ['rows'] });

export default defineNode({
  type: 'transform.sample',
  version: 1,
  category: 'Transforms',
  title: 'Sample / shuffle',
  description: 'Samples rows (by count or fraction) or shuffles them, deterministically from the graph seed: the same seed picks the same rows on any machine.',
  inputs: { in: { kind: 'dataset' } },
  outputs: { out: { kind: 'dataset' } },
  params,
  deterministic: true,
  async run(ctx) {
    const { mode, rows, fraction } = ctx.params;
    const ref = ctx.input('in');
    const total = ref.manifest.rows ?? 0;
    // Ordering by a seeded hash of the id is independent of thread count and shard layout.
    const order = `hash(id, ${ctx.seed}::BIGINT), id`;
    let limit = total;
    if (mode === 'sample') limit = rows !== undefined ? Math.min(rows, total) : Math.round(total * (fraction ?? 1));
    if (mode === 'sample' && rows !== undefined && fraction !== undefined) throw new NodeError('give either rows or fraction, not both', { field: 'params.fraction' });
    const conn = await ctx.duckdb();
    const out = await writeDatasetFromQuery(conn, `SELECT * FROM ${datasetSql(ref)} ORDER BY ${order} LIMIT ${limit}`, ctx.output('out'));
    ctx.log(`${mode === 'shuffle' ? 'shuffled' : 'sampled'} ${out.rows} of ${total} rows (seed ${ctx.seed})`);
  },
  module: import.meta.url,
});
