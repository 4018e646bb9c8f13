import { z } from 'zod';
import { writeDatasetFromQuery } from '../../engine/sdk/dataset.js';
import { defineNode } from '../../engine/sdk/types.js';
import { POS, positionedSql } from '../_sdk/dataset/rows.js';

const params = z.object({
  normalize: z.enum(['exact', 'whitespace', 'lowercase', 'alphanumeric']).default('lowercase').meta({
    title: 'Normalise before hashing',
    description: 'exact: the text as is (Unicode NFC); whitespace: trim and collapse whitespace; lowercase: also lower-case; alphanumeric: also drop punctuation and symbols',
  }),
});

/** The SQL expression of the normalised text (DuckDB; RE2 regexes). */
export function normalizedSql(mode: z.output<typeof params>['normalize'], col = 'text'): string {
  const base = `nfc_normalize(coalesce(${col}, ''))`;
  const ws = (e: string) => `trim(regexp_replace(${e}, '\\s+', ' ', 'g'))`;
  switch (mode) {
    case 'exact':
      return base;
    case 'whitespace':
      return ws(base);
    case 'lowercase':
      return ws(`lower(${base})`);
    case 'alphanumeric':
      return ws(`regexp_replace(lower(${base}), '[^\\p{L}\\p{N}]+', ' ', 'g')`);
  }
}

export default defineNode({
  type: 'transform.dedup-exact',
  version: 1,
  category: 'Transforms',
  title: 'Dedup (exact)',
  description:
    'Removes exact duplicates by the SHA-256 of the normalised text, keeping the first occurrence in dataset order. Kept rows get duplicate_count; removed rows go to the second output with duplicate_of (the kept id).',
  inputs: { in: { kind: 'dataset' } },
  outputs: { out: { kind: 'dataset', title: 'unique' }, dropped: { kind: 'dataset', title: 'duplicates' } },
  params,
  deterministic: true,
  async run(ctx) {
    const ref = ctx.input('in');
    const conn = await ctx.duckdb();
    await conn.run(`CREATE TEMP TABLE t AS SELECT *, sha256(${normalizedSql(ctx.params.normalize)}) AS text_hash FROM ${await positionedSql(conn, ref)}`);
    await conn.run(`CREATE TEMP TABLE g AS SELECT text_hash, arg_min(id, ${POS}) AS keep_id, min(${POS}) AS keep_ord, count(*)::BIGINT AS n FROM t GROUP BY text_hash`);
    const kept = await writeDatasetFromQuery(
      conn,
      `SELECT t.* EXCLUDE (${POS}), g.n AS duplicate_count FROM t JOIN g ON t.text_hash = g.text_hash AND t.${POS} = g.keep_ord ORDER BY t.${POS}`,
      ctx.output('out'),
    );
    const dropped = await writeDatasetFromQuery(
      conn,
      `SELECT t.* EXCLUDE (${POS}), g.keep_id AS duplicate_of FROM t JOIN g ON t.text_hash = g.text_hash AND t.${POS} <> g.keep_ord ORDER BY t.${POS}`,
      ctx.output('dropped'),
    );
    const groups = Number((await conn.runAndReadAll('SELECT count(*) FILTER (WHERE n > 1)::BIGINT AS c FROM g')).getRowObjects()[0]?.c ?? 0);
    const rowsIn = kept.rows + dropped.rows;
    for (const port of ['out', 'dropped']) {
      const o = ctx.output(port);
      o.setMeta('rows_in', rowsIn);
      o.setMeta('kept', kept.rows);
      o.setMeta('dropped', dropped.rows);
      o.setMeta('duplicate_groups', groups);
      o.setMeta('normalize', ctx.params.normalize);
    }
    ctx.log(`${rowsIn} rows in, ${kept.rows} kept, ${dropped.rows} exact duplicates removed (${groups} groups, normalise: ${ctx.params.normalize})`);
  },
  module: import.meta.url,
});
