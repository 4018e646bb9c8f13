import { z } from 'zod';
import { NodeError } from '../../engine/sdk/node-error.js';
import { defineNode } from '../../engine/sdk/types.js';
import { sqlIdent } from '../../engine/sdk/sql.js';
import { positionedSql, readIdsAndTexts, requireColumn } from '../_sdk/dataset/rows.js';
import { selectByScore, writeScoredSplit } from '../_sdk/dataset/scored-split.js';
import { bm25PoolScores, reciprocalRankFusion } from '../_sdk/text/lexical.js';
import { writeMetrics } from '../_sdk/report.js';

const params = z
  .object({
    textColumn: z.string().min(1).default('text').meta({ title: 'Text column', description: 'In both the seeds and the pool' }),
    m: z.number().int().min(1).max(1000).default(3).meta({ title: 'm', description: 'A pool document scores the mean of its m best normalised BM25 scores over the seeds (1 = the best seed only)' }),
    k1: z.number().min(0).max(10).default(1.2).meta({ title: 'BM25 k1', description: 'Term-frequency saturation' }),
    b: z.number().min(0).max(1).default(0.75).meta({ title: 'BM25 b', description: 'Document-length normalisation' }),
    normalize: z
      .enum(['self', 'best'])
      .default('self')
      .meta({ title: 'Per-seed scale', description: "self: divide a seed's scores by its score against itself (an upper bound); best: by its best pool match" }),
    denseScoreColumn: z.string().min(1).default('similarity').meta({ title: 'Dense score column', description: 'Column of the "dense" input fused with BM25 by reciprocal rank fusion' }),
    rrfK: z.number().int().min(1).max(10000).default(60).meta({ title: 'RRF k', description: 'Fused score = Σ 1 / (k + rank) over BM25 and the dense scores' }),
    threshold: z.number().optional().meta({ title: 'Score threshold', description: 'Keep documents scoring at least this (BM25 scores are in [0, 1]; fused scores are at most 2 / (k + 1))' }),
    targetCount: z.number().int().min(1).optional().meta({ title: 'Target count', description: 'Keep at most this many documents, best first' }),
    scoreColumn: z.string().min(1).default('lexical_score').meta({ title: 'Score column' }),
  })
  .refine((p) => p.threshold !== undefined || p.targetCount !== undefined, { message: 'give a threshold and/or a target count', path: ['threshold'] });

export default defineNode({
  type: 'ml.bm25',
  version: 1,
  category: 'ML',
  title: 'Lexical retriever (BM25)',
  description:
    'Scores every pool document by BM25 with the seeds as queries (own inverted index), each seed’s scores divided by its score against itself, mean of the m best per document; optionally fused with a dense retriever’s scores by reciprocal rank fusion (hybrid). Keeps documents above a threshold and/or the best N.',
  inputs: {
    seeds: { kind: 'dataset', title: 'seed documents' },
    pool: { kind: 'dataset', title: 'pool documents' },
    dense: {
      kind: 'dataset',
      optional: true,
      title: 'dense scores (optional)',
      description: 'The pool with a dense similarity column (e.g. the retriever’s retrieved + rest), joined by id, for hybrid scoring',
    },
  },
  outputs: { retrieved: { kind: 'dataset' }, rest: { kind: 'dataset' }, metrics: { kind: 'metrics' } },
  params,
  deterministic: true,
  worker: true,
  async run(ctx) {
    const p = ctx.params;
    const seedsRef = ctx.input('seeds');
    const poolRef = ctx.input('pool');
    const denseRef = ctx.optionalInput('dense');
    requireColumn(seedsRef, p.textColumn, 'seeds', 'params.textColumn');
    requireColumn(poolRef, p.textColumn, 'pool', 'params.textColumn');
    if (denseRef) requireColumn(denseRef, p.denseScoreColumn, 'dense', 'params.denseScoreColumn');
    const conn = await ctx.duckdb();
    const seeds = await readIdsAndTexts(conn, seedsRef, p.textColumn);
    const pool = await readIdsAndTexts(conn, poolRef, p.textColumn);
    if (seeds.texts.length === 0) throw new NodeError('no seed documents', { field: 'inputs.seeds' });
    const t0 = performance.now();
    const lexical = bm25PoolScores(seeds.texts, pool.texts, { m: p.m, k1: p.k1, b: p.b, normalize: p.normalize, signal: ctx.signal, progress: (d, t) => ctx.progress(d, t, 'BM25 queries') });
    let score: Float64Array = lexical;
    let fused = 0;
    if (denseRef) {
      const r = await conn.runAndReadAll(`SELECT CAST(id AS VARCHAR) AS id, CAST(${sqlIdent(p.denseScoreColumn)} AS DOUBLE) AS s FROM ${await positionedSql(conn, denseRef)}`);
      const [ids = [], vals = []] = r.getColumnsJS() as [string[]?, (number | null)[]?];
      const byId = new Map<string, number>();
      ids.forEach((id, i) => byId.set(id, vals[i] ?? NaN));
      const dense = Float64Array.from(pool.ids, (id) => byId.get(id) ?? NaN);
      fused = dense.reduce((n, v) => n + (Number.isNaN(v) ? 0 : 1), 0);
      if (fused === 0) throw new NodeError(`no pool id appears in the dense input: connect the dense retriever's scored pool`, { field: 'inputs.dense' });
      if (fused < pool.ids.length) ctx.log(`${pool.ids.length - fused} pool documents have no dense score; they rank last on that side`, 'warn');
      score = reciprocalRankFusion([lexical, dense], p.rrfK);
    }
    const seconds = (performance.now() - t0) / 1000;

    const n = pool.ids.length;
    const candidates = selectByScore(score, p.threshold, p.targetCount);
    const written = await writeScoredSplit(
      conn,
      poolRef,
      { rows: n, columns: [{ name: 'score', type: 'DOUBLE', values: score }], kept: candidates, select: `s.score AS ${sqlIdent(p.scoreColumn)}`, replaced: [p.scoreColumn] },
      ctx.output('retrieved'),
      ctx.output('rest'),
    );
    const metrics: Record<string, number | string> = {
      pool_rows: n,
      seed_rows: seeds.ids.length,
      retrieved: written.kept,
      rest: written.rest,
      scoring: denseRef ? 'hybrid (BM25 + dense, reciprocal rank fusion)' : 'BM25',
      m: p.m,
    };
    if (denseRef) metrics.dense_scored = fused;
    if (p.threshold !== undefined) metrics.threshold = p.threshold;
    writeMetrics(ctx.output('metrics'), metrics);
    ctx.log(`retrieved ${written.kept} of ${n} pool documents with ${metrics.scoring} over ${seeds.ids.length} seeds in ${seconds.toFixed(1)} s`);
  },
  module: import.meta.url,
});
