import { z } from 'zod';
import { NodeError, throwIfAborted } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { sqlIdent } from '../../engine/sdk/sql.js';
import { idsSql, readEmbeddings } from '../_sdk/vectors/embeddings.js';
import { datasetSql } from '../../engine/sdk/dataset.js';
import { round, tooltip, writeChart } from '../_sdk/report.js';
import { columns, writeRecords, type Cell } from '../_sdk/dataset/records.js';
import { seededOrder } from '../_sdk/rng.js';
import { pca2d, rowsOf, umap2d } from './project.js';

const params = z.object({
  method: z.enum(['umap', 'pca']).default('umap').meta({ title: 'Method', description: 'UMAP (umap-js, seeded) or the first two principal components' }),
  colorBy: z.string().min(1).default('source').meta({ title: 'Colour by column', description: 'A column of the dataset input' }),
  maxPoints: z.number().int().min(3).default(2000).meta({ title: 'Most points', description: 'A seeded sample, stratified by colour, when there are more' }),
  nNeighbors: z.number().int().min(2).max(200).default(15).meta({ title: 'UMAP neighbours' }),
  minDist: z.number().min(0).max(1).default(0.1).meta({ title: 'UMAP min distance' }),
  title: z.string().default('Embedding projection').meta({ title: 'Chart title' }),
});

export default defineNode({
  type: 'view.projection',
  version: 1,
  category: 'Views',
  title: 'Projection (UMAP)',
  description:
    "2-D projection of embeddings (UMAP via umap-js, or PCA) coloured by a column of the matching dataset, e.g. source (the Hephaestus paper's Figure 2d). Outputs a scatter chart and the projected points as a dataset.",
  inputs: { embeddings: { kind: 'embeddings' }, dataset: { kind: 'dataset', optional: true, title: 'rows for colour and tooltips' } },
  outputs: { chart: { kind: 'chart', title: 'projection' }, points: { kind: 'dataset', title: 'x, y per point' } },
  params,
  deterministic: true,
  worker: true,
  async run(ctx) {
    const p = ctx.params;
    const emb = ctx.input('embeddings');
    const { meta, data } = readEmbeddings(emb);
    if (meta.count < 3) throw new NodeError(`${meta.count} embeddings; a projection needs at least 3`, { field: 'inputs.embeddings' });
    const conn = await ctx.duckdb();
    const ds = ctx.optionalInput('dataset');
    let sql = `SELECT CAST(e.id AS VARCHAR) AS id, 'all' AS color, NULL AS text, NULL AS source FROM ${idsSql(emb)} e ORDER BY e.__forge_pos`;
    if (ds) {
      if (!(ds.manifest.schema ?? []).some((c) => c.name === p.colorBy)) {
        throw new NodeError(`the dataset has no column "${p.colorBy}" (columns: ${(ds.manifest.schema ?? []).map((c) => c.name).join(', ')})`, { field: 'params.colorBy' });
      }
      sql = `SELECT CAST(e.id AS VARCHAR) AS id, coalesce(CAST(d.${sqlIdent(p.colorBy)} AS VARCHAR), '(none)') AS color, left(d.text, 160) AS text, d.source
        FROM ${idsSql(emb)} e LEFT JOIN (SELECT * FROM ${datasetSql(ds)}) d ON CAST(d.id AS VARCHAR) = CAST(e.id AS VARCHAR) ORDER BY e.__forge_pos`;
    }
    const rows = (await conn.runAndReadAll(sql)).getRowsJS();
    const ids = rows.map((r) => String(r[0]));
    const colors = rows.map((r) => String(r[1]));
    const unmatched = ds ? rows.filter((r) => r[3] === null).length : 0;
    if (ds && unmatched === rows.length) throw new NodeError('no embedding id matches a dataset id: connect the dataset the embeddings were made from', { field: 'inputs.dataset' });

    // Stratified, seeded sample: every colour keeps its share, and at least a few points.
    let pick = ids.map((_, i) => i);
    if (ids.length > p.maxPoints) {
      const groups = new Map<string, number[]>();
      colors.forEach((c, i) => groups.set(c, [...(groups.get(c) ?? []), i]));
      pick = [];
      for (const [c, members] of [...groups].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        const quota = Math.min(members.length, Math.max(10, Math.round((p.maxPoints * members.length) / ids.length)));
        const order = seededOrder(
          members.map((i) => ids[i] as string),
          ctx.seed,
          `projection:${c}`,
        );
        pick.push(...order.slice(0, quota).map((k) => members[k] as number));
      }
      pick.sort((a, b) => a - b);
    }
    throwIfAborted(ctx.signal);
    const vectors = rowsOf(data, meta.dim, pick);
    const xy = p.method === 'umap' ? umap2d(vectors, { nNeighbors: p.nNeighbors, minDist: p.minDist, seed: ctx.seed }, (e) => ctx.progress(e, undefined, 'UMAP epochs')) : pca2d(vectors);
    const points: Cell[][] = pick.map((i, k) => [
      ids[i] as string,
      (rows[i]?.[2] as string | null) ?? '',
      (rows[i]?.[3] as string | null) ?? colors[i] ?? '',
      colors[i] as string,
      round((xy[k] as number[])[0] as number, 5),
      round((xy[k] as number[])[1] as number, 5),
    ]);
    await writeRecords(conn, ctx.output('points'), columns({ id: 'VARCHAR', text: 'VARCHAR', source: 'VARCHAR', color: 'VARCHAR', x: 'DOUBLE', y: 'DOUBLE' }), points);
    const spec = {
      title: {
        text: p.title,
        subtitle: `${p.method.toUpperCase()} of ${pick.length} of ${ids.length} ${meta.model ? `${String(meta.model)} ` : ''}embeddings, coloured by ${ds ? p.colorBy : '(no dataset)'}`,
      },
      data: { values: points.map(([id, text, , color, x, y]) => ({ id, text: String(text).slice(0, 120), [p.colorBy]: color, x, y })) },
      mark: { type: 'circle', size: 22, opacity: 0.75 },
      encoding: {
        x: { field: 'x', type: 'quantitative', axis: null, scale: { zero: false } },
        y: { field: 'y', type: 'quantitative', axis: null, scale: { zero: false } },
        color: { field: p.colorBy, type: 'nominal' },
        tooltip: tooltip(['id', 'nominal'], [p.colorBy, 'nominal'], ['text', 'nominal']),
      },
      width: 420,
      height: 360,
    };
    await writeChart(ctx.output('chart'), spec, { points: pick.length, method: p.method });
    ctx.log(`${p.method} projection of ${pick.length} of ${ids.length} points${unmatched > 0 ? `; ${unmatched} ids not in the dataset` : ''}`);
  },
  module: import.meta.url,
});
