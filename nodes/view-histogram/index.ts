import { z } from 'zod';
import { datasetSql } from '../../engine/sdk/dataset.js';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { sqlIdent } from '../../engine/sdk/sql.js';
import { round, writeChart, writeMetrics, type MetricValue } from '../_sdk/report.js';

const params = z.object({
  column: z.string().min(1).default('tokens').meta({
    title: 'Column',
    description: 'A numeric column (scores, tokens, lengths). "chars" and "words" are computed from text when the dataset has no such column',
  }),
  groupBy: z.string().optional().meta({ title: 'Colour by column', description: 'e.g. source: one stacked bar segment per value' }),
  bins: z.number().int().min(2).max(200).default(30).meta({ title: 'Bins' }),
  logY: z.boolean().default(false).meta({ title: 'Log count axis' }),
  title: z.string().optional().meta({ title: 'Chart title' }),
});

export default defineNode({
  type: 'view.histogram',
  version: 1,
  category: 'Views',
  title: 'Histogram',
  description:
    'Histogram of a numeric column (scores, token counts, lengths), optionally stacked by a column such as source; binned in DuckDB so it scales, plus summary metrics (count, mean, quantiles).',
  inputs: { in: { kind: 'dataset' } },
  outputs: { chart: { kind: 'chart', title: 'histogram' }, metrics: { kind: 'metrics', title: 'summary' } },
  params,
  deterministic: true,
  async run(ctx) {
    const p = ctx.params;
    const ref = ctx.input('in');
    const cols = new Map((ref.manifest.schema ?? []).map((c) => [c.name, c.type]));
    let expr: string;
    if (cols.has(p.column)) {
      const type = cols.get(p.column) as string;
      if (!/INT|DOUBLE|FLOAT|DECIMAL|REAL|NUMERIC|BOOLEAN/i.test(type)) throw new NodeError(`column "${p.column}" is ${type}, not numeric`, { field: 'params.column' });
      expr = `CAST(${sqlIdent(p.column)} AS DOUBLE)`;
    } else if (p.column === 'chars') expr = 'CAST(length(text) AS DOUBLE)';
    else if (p.column === 'words') expr = `CAST(len(regexp_extract_all(text, '[\\p{L}\\p{N}_]+')) AS DOUBLE)`;
    else throw new NodeError(`no column "${p.column}" (columns: ${[...cols.keys()].join(', ')})`, { field: 'params.column' });
    if (p.groupBy && !cols.has(p.groupBy)) throw new NodeError(`no column "${p.groupBy}" to colour by`, { field: 'params.groupBy' });
    const group = p.groupBy ? `coalesce(CAST(${sqlIdent(p.groupBy)} AS VARCHAR), '(none)')` : `'all'`;
    const conn = await ctx.duckdb();
    await conn.run(`CREATE TEMP TABLE v AS SELECT ${expr} AS v, ${group} AS g FROM ${datasetSql(ref)} WHERE ${expr} IS NOT NULL AND isfinite(${expr})`);
    const s = (
      await conn.runAndReadAll(
        `SELECT count(*)::BIGINT AS n, min(v) AS lo, max(v) AS hi, avg(v) AS mean, stddev_pop(v) AS sd, quantile_cont(v, 0.5) AS p50, quantile_cont(v, 0.1) AS p10, quantile_cont(v, 0.9) AS p90, quantile_cont(v, 0.99) AS p99 FROM v`,
      )
    ).getRowObjectsJS()[0] as Record<string, number | bigint | null>;
    const n = Number(s.n ?? 0);
    if (n === 0) throw new NodeError(`no numeric values in "${p.column}"`, { field: 'params.column' });
    const lo = Number(s.lo);
    const hi = Number(s.hi);
    const width = hi > lo ? (hi - lo) / p.bins : 1;
    const rows = (
      await conn.runAndReadAll(`SELECT g, least(CAST(floor((v - ${lo}) / ${width}) AS BIGINT), ${p.bins - 1}) AS b, count(*)::BIGINT AS c FROM v GROUP BY ALL ORDER BY g, b`)
    ).getRowObjectsJS();
    const values = rows.map((r) => {
      const b = Number(r.b);
      return { group: String(r.g), bin_start: round(lo + b * width, 6), bin_end: round(lo + (b + 1) * width, 6), count: Number(r.c) };
    });
    const label = p.column;
    const spec = {
      title: { text: p.title ?? `Distribution of ${label}`, subtitle: `${n.toLocaleString('en-US')} rows; median ${round(Number(s.p50), 3)}, mean ${round(Number(s.mean), 3)}` },
      data: { values },
      mark: { type: 'bar', tooltip: true },
      encoding: {
        x: { field: 'bin_start', type: 'quantitative', bin: { binned: true, step: round(width, 9) }, title: label },
        x2: { field: 'bin_end' },
        y: { field: 'count', type: 'quantitative', stack: true, ...(p.logY ? { scale: { type: 'symlog' } } : {}) },
        ...(p.groupBy ? { color: { field: 'group', type: 'nominal', title: p.groupBy } } : {}),
      },
      width: 420,
      height: 220,
    };
    await writeChart(ctx.output('chart'), spec, { rows: n, column: label });
    const m: Record<string, MetricValue> = {
      column: label,
      count: n,
      min: lo,
      max: hi,
      mean: round(Number(s.mean), 6),
      std: round(Number(s.sd), 6),
      p10: Number(s.p10),
      p50: Number(s.p50),
      p90: Number(s.p90),
      p99: Number(s.p99),
    };
    if (p.groupBy) {
      const per = (await conn.runAndReadAll('SELECT g, count(*)::BIGINT AS n, avg(v) AS mean FROM v GROUP BY g ORDER BY g')).getRowObjectsJS();
      for (const r of per) {
        m[`${String(r.g)}.count`] = Number(r.n);
        m[`${String(r.g)}.mean`] = round(Number(r.mean), 6);
      }
    }
    writeMetrics(ctx.output('metrics'), m);
    ctx.log(`${n} values of ${label} in ${p.bins} bins over [${lo}, ${hi}]`);
  },
  module: import.meta.url,
});
