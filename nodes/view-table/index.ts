import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { datasetSql } from '../../engine/sdk/dataset.js';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { sqlIdent } from '../../engine/sdk/sql.js';
import { writeChart } from '../_sdk/report.js';

const params = z.object({
  columns: z.array(z.string().min(1)).default([]).meta({ title: 'Columns', description: 'Default: id, source, text and up to three more' }),
  rows: z.number().int().min(1).max(500).default(20).meta({ title: 'Rows' }),
  order: z.enum(['first', 'random', 'column']).default('first').meta({ title: 'Which rows', description: 'the first ones, a seeded random sample, or sorted by a column' }),
  sortBy: z.string().optional().meta({ title: 'Sort by column' }),
  descending: z.boolean().default(true).meta({ title: 'Descending' }),
  maxChars: z.number().int().min(8).default(80).meta({ title: 'Longest cell (chars)' }),
});

export function cell(v: unknown, maxChars: number): string {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > maxChars ? `${flat.slice(0, maxChars - 1)}…` : flat;
}

export default defineNode({
  type: 'view.table',
  version: 1,
  category: 'Views',
  title: 'Table',
  description: 'A table of selected rows and columns of a dataset (first, seeded random, or sorted), as a Vega-Lite text table plus table.json and table.md.',
  inputs: { in: { kind: 'dataset' } },
  outputs: { chart: { kind: 'chart', title: 'table' } },
  params,
  deterministic: true,
  async run(ctx) {
    const p = ctx.params;
    const ref = ctx.input('in');
    const all = (ref.manifest.schema ?? []).map((c) => c.name);
    const base = ['id', 'source', 'text'].filter((c) => all.includes(c));
    const columns = p.columns.length > 0 ? p.columns : [...base, ...all.filter((c) => !base.includes(c)).slice(0, 3)];
    for (const c of columns) if (!all.includes(c)) throw new NodeError(`no column "${c}" (columns: ${all.join(', ')})`, { field: 'params.columns' });
    let order = '';
    if (p.order === 'random') order = `ORDER BY hash(id, ${ctx.seed}::BIGINT), id`;
    if (p.order === 'column') {
      if (!p.sortBy || !all.includes(p.sortBy)) throw new NodeError(`sort by needs a column (columns: ${all.join(', ')})`, { field: 'params.sortBy' });
      order = `ORDER BY ${sqlIdent(p.sortBy)} ${p.descending ? 'DESC' : 'ASC'} NULLS LAST, id`;
    }
    const conn = await ctx.duckdb();
    const rows = (await conn.runAndReadAll(`SELECT ${columns.map(sqlIdent).join(', ')} FROM ${datasetSql(ref)} ${order} LIMIT ${p.rows}`)).getRowObjectsJson();
    const table = rows.map((r) => Object.fromEntries(columns.map((c) => [c, cell(r[c], p.maxChars)])));
    const out = ctx.output('chart');
    writeFileSync(out.file('table.json'), `${JSON.stringify({ columns, rows: table, total: ref.manifest.rows ?? null }, null, 2)}\n`);
    const md = [`| ${columns.join(' | ')} |`, `| ${columns.map(() => '---').join(' | ')} |`, ...table.map((r) => `| ${columns.map((c) => String(r[c]).replaceAll('|', '\\|')).join(' | ')} |`)].join(
      '\n',
    );
    writeFileSync(out.file('table.md'), `${md}\n`);
    // Vega-Lite has no table mark: text marks on a column × row grid make one.
    const values = table.flatMap((r, i) => columns.map((c) => ({ row: i + 1, column: c, value: r[c] })));
    // Vega measures text without fonts; ~7 px per character of 11 px text keeps cells from clipping.
    const widthOf = (c: string) => Math.min(p.maxChars, Math.max(c.length, ...table.map((r) => String(r[c]).length))) * 7 + 12;
    const spec = {
      title: { text: `${table.length} of ${ref.manifest.rows ?? '?'} rows`, anchor: 'start' },
      data: { values },
      hconcat: columns.map((c) => ({
        width: Math.max(40, widthOf(c)),
        transform: [{ filter: { field: 'column', equal: c } }],
        mark: { type: 'text', align: 'left', baseline: 'middle', fontSize: 11, limit: widthOf(c) },
        encoding: {
          y: { field: 'row', type: 'ordinal', axis: c === columns[0] ? { title: null, ticks: false, domain: false } : null },
          x: { value: 0 },
          text: { field: 'value', type: 'nominal' },
        },
        title: { text: c, fontSize: 12, anchor: 'start' },
      })),
      spacing: 8,
      config: { view: { stroke: null } },
    };
    await writeChart(out, spec, { rows: table.length });
    out.setRows(table.length);
  },
  module: import.meta.url,
});
