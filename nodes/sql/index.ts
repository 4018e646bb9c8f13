import { z } from 'zod';
import { datasetSql, REQUIRED_COLUMNS, writeDatasetFromQuery } from '../../engine/sdk/dataset.js';
import { cleanDuckDbMessage } from '../../engine/sdk/loader.js';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';

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
  async run(ctx) {
    const conn = await ctx.duckdb();
    for (const name of ['a', 'b', 'c']) {
      const ref = ctx.optionalInput(name);
      if (ref) await conn.run(`CREATE TEMP VIEW ${name} AS SELECT * FROM ${datasetSql(ref)}`);
    }
    const query = ctx.params.query.trim().replace(/;\s*$/, '');
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
      const { rows } = await writeDatasetFromQuery(conn, query, ctx.output('out'));
      ctx.log(`${rows} rows`);
    } catch (err) {
      throwIfAborted(ctx.signal);
      throw new NodeError(cleanDuckDbMessage((err as Error).message), { field: 'params.query' });
    }
  },
  module: import.meta.url,
});
