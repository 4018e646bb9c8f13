import { z } from 'zod';
import { datasetSql, writeDatasetFromQuery } from '../../engine/sdk/dataset.js';
import { defineNode } from '../../engine/sdk/types.js';

const params = z.object({
  testFraction: z.number().gt(0).lt(1).default(0.2).meta({ title: 'Test fraction' }),
});

export default defineNode({
  type: 'transform.split',
  version: 1,
  category: 'Transforms',
  title: 'Train / test split',
  description: 'Splits rows into train and test by a seeded hash of the id, so a row stays on its side when others are added.',
  inputs: { in: { kind: 'dataset' } },
  outputs: { train: { kind: 'dataset' }, test: { kind: 'dataset' } },
  params,
  deterministic: true,
  async run(ctx) {
    const src = datasetSql(ctx.input('in'));
    const bucket = `(hash(id, ${ctx.seed}::BIGINT) % 1000000)`;
    const cut = Math.round(ctx.params.testFraction * 1_000_000);
    const conn = await ctx.duckdb();
    const test = await writeDatasetFromQuery(conn, `SELECT * FROM ${src} WHERE ${bucket} < ${cut}`, ctx.output('test'));
    const train = await writeDatasetFromQuery(conn, `SELECT * FROM ${src} WHERE ${bucket} >= ${cut}`, ctx.output('train'));
    ctx.log(`train ${train.rows}, test ${test.rows}`);
  },
  module: import.meta.url,
});
