import type { DuckDBConnection } from '@duckdb/node-api';
import { z } from 'zod';
import { datasetSql, REQUIRED_COLUMNS, writeDatasetFromQuery } from '../../engine/sdk/dataset.js';
import { cleanDuckDbMessage } from '../../engine/sdk/loader.js';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { mapShards, shardSql } from '../../engine/sdk/shards.js';
import { defineNode, type ArtifactRef, type OutputBuilder, type RunContext } from '../../engine/sdk/types.js';
import { assertSingleSelect, openConfinedDuckDb } from '../../engine/sdk/security.js';

const params = z.object({
  query: z.string().min(1).meta({
    title: 'Query',
    description: 'DuckDB SQL over the inputs, which are tables named a, b and c. The result must have id, text and source columns.',
    widget: 'code',
    language: 'sql',
  }),
  perShard: z.boolean().default(false).meta({
    title: 'Row-wise: run once per shard of a',
    description:
      'For queries that map, filter or join each row of a on its own: the query runs once per shard of a (as table a; b and c stay whole), in parallel, resumable shard by shard and split over queue workers. Aggregates, DISTINCT, ORDER BY and LIMIT then apply within each shard.',
  }),
});
type Params = z.output<typeof params>;

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
  shardable: { input: 'a', when: (p) => p.perShard === true },
  async run(ctx) {
    const inputs = ['a', 'b', 'c'].map((name) => [name, ctx.optionalInput(name)] as const).filter((e): e is [string, ArtifactRef] => e[1] !== undefined);
    const out = ctx.output('out');
    // User SQL sees only its input artifacts and writes only its own output (engine/security).
    const confine = { read: inputs.map(([, ref]) => ref.dir), write: [out.dir], signal: ctx.signal };
    const db = await openConfinedDuckDb(confine);
    try {
      const query = await checkedQuery(db.conn, inputs, ctx.params.query);
      if (ctx.params.perShard) {
        const writer = await openConfinedDuckDb({ ...confine, threads: 1 });
        try {
          await runPerShard(ctx, db.conn, writer.instance, inputs, query);
        } finally {
          writer.close();
        }
      } else await runWhole(db.conn, query, out, ctx.signal, (m) => ctx.log(m));
    } finally {
      db.close();
    }
  },
  module: import.meta.url,
});

/** Binds the inputs as tables a, b, c, and checks the query is one read-only SELECT with the dataset columns. */
async function checkedQuery(conn: DuckDBConnection, inputs: [string, ArtifactRef][], rawQuery: string): Promise<string> {
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
  return query;
}

async function runWhole(conn: DuckDBConnection, query: string, out: OutputBuilder, signal: AbortSignal, log: (m: string) => void): Promise<void> {
  try {
    const { rows } = await writeDatasetFromQuery(conn, query, out);
    log(`${rows} rows`);
  } catch (err) {
    throwIfAborted(signal);
    throw new NodeError(cleanDuckDbMessage((err as Error).message), { field: 'params.query' });
  }
}

/**
 * Output shard i is the query with table a bound to input shard i (engine/sdk/shards.ts); the
 * writer instance has no views, so every table is a CTE, and the user's query (which may have its
 * own WITH) stays a subquery.
 */
async function runPerShard(ctx: RunContext<Params>, conn: DuckDBConnection, writer: Parameters<typeof mapShards>[4], inputs: [string, ArtifactRef][], query: string): Promise<void> {
  const [, a] = inputs[0] as [string, ArtifactRef];
  const others = inputs.slice(1).map(([name, ref]) => `, ${name} AS (SELECT * FROM ${datasetSql(ref)})`);
  try {
    const { outputs, shards, executed } = await mapShards(ctx, conn, a, { out: (shard) => `WITH a AS (SELECT * FROM ${shardSql(shard)})${others.join('')} SELECT * FROM (${query})` }, writer);
    ctx.log(`${(outputs.out as { rows: number }).rows} rows from ${shards} shards of a (${executed.length} computed)`);
  } catch (err) {
    throwIfAborted(ctx.signal);
    if (err instanceof NodeError) throw err;
    throw new NodeError(cleanDuckDbMessage((err as Error).message), { field: 'params.query' });
  }
}
