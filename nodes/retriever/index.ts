import type { Index } from 'usearch';
import { z } from 'zod';
import { NodeError } from '../../engine/sdk/node-error.js';
import type { ArtifactRef } from '../../engine/sdk/types.js';
import { defineNode } from '../../engine/sdk/types.js';
import { sqlIdent } from '../../engine/sdk/sql.js';
import { POS, positionedSql, requireColumn } from '../_sdk/dataset/rows.js';
import { selectByScore, writeScoredSplit } from '../_sdk/dataset/scored-split.js';
import { embeddingsMeta, idsSql, readEmbeddingChunks, readEmbeddings, vectorChunkRows, type EmbeddingsMeta } from '../_sdk/vectors/embeddings.js';
import { l2normalize } from '../_sdk/vectors/encoders.js';
import { readIndexMeta } from '../_sdk/vectors/index-artifact.js';
import { buildHnsw, DEFAULT_HNSW, ExactSearcher, hnswSearch, loadHnsw, recallAtK, rescore, type TopK } from '../_sdk/vectors/knn.js';
import { PROVIDER_CHOICES } from '../_sdk/onnx/session.js';
import { thresholdForTarget } from '../_sdk/vectors/rank-metrics.js';
import { writeMetrics } from '../_sdk/report.js';
import { validationScores } from './validation.js';

const params = z
  .object({
    mode: z.enum(['pool', 'per-seed']).default('pool').meta({
      title: 'Mode',
      description: 'pool: score every pool document by its similarity to the seed set and keep the best; per-seed: keep the top-k pool documents of each seed',
    }),
    aggregate: z.enum(['max', 'mean-top-m']).default('max').meta({ title: 'Pool score', description: 'max: similarity to the nearest seed; mean-top-m: mean similarity to the m nearest seeds' }),
    m: z.number().int().min(1).max(1000).default(3).meta({ title: 'm (for mean-top-m)' }),
    k: z.number().int().min(1).max(10000).default(10).meta({ title: 'k (per seed)' }),
    threshold: z.number().min(-1).max(1).optional().meta({ title: 'Similarity threshold', description: 'Keep documents whose cosine similarity is at least this' }),
    targetCount: z.number().int().min(1).optional().meta({ title: 'Target count', description: 'Keep at most this many documents, best first' }),
    target: z
      .object({ metric: z.enum(['precision', 'recall']), value: z.number().gt(0).max(1) })
      .optional()
      .meta({
        title: 'Threshold for a target',
        description:
          'Choose the similarity threshold that reaches this precision (most recall) or recall (most precision), instead of a fixed threshold: on the labelled pool rows when a label column is given, else on a validation split of the seeds (each against the other seeds) vs the connected general text',
      }),
    labelColumn: z
      .string()
      .min(1)
      .optional()
      .meta({ title: 'Label column (for a target)', description: 'A boolean column of the pool dataset: true = the document is what you want to retrieve; NULL = unlabelled' }),
    search: z
      .enum(['exact', 'hnsw'])
      .default('exact')
      .meta({ title: 'Search', description: 'exact: blocked matrix products (ONNX Runtime); hnsw: approximate, from a connected HNSW index or one built in memory' }),
    expansionSearch: z.number().int().min(1).max(4096).default(DEFAULT_HNSW.expansionSearch).meta({ title: 'HNSW search beam (ef)' }),
    provider: z.enum(PROVIDER_CHOICES).default('auto').meta({ title: 'Execution provider (exact search)' }),
    threads: z.number().int().min(0).max(256).default(0).meta({ title: 'Threads', description: '0 = all cores' }),
    recallSample: z.number().int().min(0).max(100000).default(200).meta({ title: 'Recall sample', description: 'Queries checked against exact search to report the recall of HNSW (0 = skip)' }),
    scoreColumn: z.string().min(1).default('similarity').meta({ title: 'Score column' }),
    seedColumn: z.string().min(1).default('nearest_seed').meta({ title: 'Nearest-seed column' }),
  })
  .refine((p) => p.mode === 'per-seed' || p.threshold !== undefined || p.targetCount !== undefined || p.target !== undefined, {
    message: 'pool mode needs a threshold, a target count or a target precision / recall',
    path: ['threshold'],
  })
  .refine((p) => p.target === undefined || p.mode === 'pool', { message: 'a target precision / recall needs pool mode', path: ['target'] });

function prepared(ref: ArtifactRef, port: string, log: (m: string) => void): { meta: EmbeddingsMeta; data: Float32Array } {
  const e = readEmbeddings(ref, port);
  if (!e.meta.normalized) {
    log(`${port}: embeddings are not normalised; normalising a copy (cosine similarity)`);
    l2normalize(e.data, e.meta.dim);
  }
  return e;
}

export default defineNode({
  type: 'ml.retrieve',
  version: 1,
  category: 'ML',
  title: 'Retriever (k-NN)',
  description:
    'Retrieves pool documents similar to a seed set by cosine similarity: per pool document its max (or mean top-m) similarity to the seeds with a threshold and/or target count, or the top-k pool documents per seed. Exact (ONNX Runtime GEMM, CPU/GPU) or approximate (HNSW). Outputs carry the score and the nearest seed id; the rest is kept as its own output.',
  inputs: {
    seeds: { kind: 'embeddings', title: 'seed embeddings' },
    pool: { kind: 'embeddings', title: 'pool embeddings' },
    poolData: { kind: 'dataset', title: 'pool dataset' },
    index: { kind: 'index', optional: true, title: 'HNSW index (optional)', description: 'Over the seed embeddings in pool mode, over the pool embeddings in per-seed mode' },
    general: {
      kind: 'embeddings',
      optional: true,
      title: 'general text embeddings (optional)',
      description: 'Text that is not what you retrieve (e.g. held-out prose), embedded like the pool: with a target and no label column, the threshold is picked on the seeds (leave-one-out) vs these',
    },
  },
  outputs: { retrieved: { kind: 'dataset' }, rest: { kind: 'dataset' }, metrics: { kind: 'metrics' } },
  params,
  // Similarities are recomputed in float64 for the selected pairs, so outputs do not depend on the GEMM kernel.
  deterministic: true,
  worker: true,
  async run(ctx) {
    const p = ctx.params;
    const seedsRef = ctx.input('seeds');
    const poolRef = ctx.input('pool');
    const poolData = ctx.input('poolData');
    const indexRef = ctx.optionalInput('index');
    const log = (m: string) => ctx.log(m);
    const seeds = prepared(seedsRef, 'seeds', log);
    const poolMeta = embeddingsMeta(poolRef, 'pool');
    const dim = seeds.meta.dim;
    if (poolMeta.dim !== dim) throw new NodeError(`seed embeddings have ${dim} dimensions, pool embeddings ${poolMeta.dim}: embed both with the same model`, { field: 'inputs.pool' });
    if (seeds.meta.modelHash !== poolMeta.modelHash) ctx.log(`seed and pool embeddings come from different models (${seeds.meta.model} vs ${poolMeta.model}); similarities may be meaningless`, 'warn');
    const nPool = poolMeta.count;
    const nSeeds = seeds.meta.count;
    if ((poolData.manifest.rows ?? -1) !== nPool)
      throw new NodeError(`pool embeddings have ${nPool} rows but the pool dataset has ${poolData.manifest.rows}: embed the pool dataset that is connected here`, { field: 'inputs.poolData' });
    const conn = await ctx.duckdb();
    const src = await positionedSql(conn, poolData);
    if (poolMeta.dataset !== poolData.hash) {
      const bad = await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM ${src} d JOIN ${idsSql(poolRef)} e ON d.${POS} = e.${POS} WHERE d.id IS DISTINCT FROM e.id`);
      if (Number(bad.getRowObjectsJS()[0]?.n ?? 0) > 0)
        throw new NodeError('pool embeddings are not aligned with the pool dataset (ids differ by row): embed the pool dataset that is connected here', { field: 'inputs.poolData' });
    }

    // pool mode: every pool document queries the seed set; per-seed mode: every seed queries the pool.
    // In pool mode the (small) seed matrix is the base and the pool streams through in chunks, so the
    // node holds one chunk of the pool, not all of it; per-seed mode searches the whole pool matrix.
    const poolMode = p.mode === 'pool';
    const base = poolMode ? seeds : prepared(poolRef, 'pool', log);
    const baseRef = poolMode ? seedsRef : poolRef;
    const nBase = base.meta.count;
    const nq = poolMode ? nPool : nSeeds;
    const k = poolMode ? (p.aggregate === 'max' ? 1 : p.m) : p.k;
    const threads = p.threads || undefined;
    if (poolMode && !poolMeta.normalized) log('pool: embeddings are not normalised; normalising each chunk as it is read (cosine similarity)');
    const queryChunks = poolMode
      ? (function* () {
          for (const c of readEmbeddingChunks(poolRef, 'pool', vectorChunkRows())) {
            if (!poolMeta.normalized) l2normalize(c.data, dim);
            yield c;
          }
        })()
      : [{ start: 0, rows: nSeeds, data: seeds.data }];

    let seconds = 0;
    let device = 'cpu';
    let recall: number | undefined;
    let exact: ExactSearcher | undefined;
    let index: Index | undefined;
    if (p.search === 'exact') {
      exact = await ExactSearcher.open({ provider: p.provider, threads, log: (m, level) => ctx.log(m, level) });
      device = exact.device;
    } else {
      const hnsw = { ...DEFAULT_HNSW, expansionSearch: p.expansionSearch };
      if (indexRef) {
        const { meta, file } = readIndexMeta(indexRef);
        if (meta.embeddings !== baseRef.hash) {
          throw new NodeError(`the connected index was built over other embeddings; in ${p.mode} mode it must index the ${poolMode ? 'seed' : 'pool'} embeddings`, { field: 'inputs.index' });
        }
        index = loadHnsw(file, dim, { ...hnsw, connectivity: meta.connectivity, expansionAdd: meta.expansionAdd });
      } else {
        ctx.log(`no index connected: building HNSW over ${nBase} vectors in memory (connect an "HNSW index" node to cache it)`);
        index = buildHnsw(base.data, nBase, dim, hnsw, p.threads);
      }
    }
    // HNSW recall is checked on queries spread over all of them: their vectors and approximate
    // results are kept as the chunks pass, then searched exactly at the end.
    const sample = index && p.recallSample > 0 && nq > 0 ? Math.min(p.recallSample, nq) : 0;
    const sampleRows = Array.from({ length: sample }, (_, i) => Math.floor((i * nq) / sample));
    const sampleQ = new Float32Array(sample * dim);
    const sampleApprox: TopK = { nq: sample, k, indices: new Int32Array(sample * k).fill(-1), scores: new Float32Array(sample * k).fill(-Infinity) };
    let nextSample = 0;

    // Per pool document: score and nearest seed (row in the seed embeddings).
    const score = new Float64Array(nPool).fill(NaN);
    const seedPos = new Int32Array(nPool).fill(-1);
    try {
      for (const chunk of queryChunks) {
        const progress = (d: number) => ctx.progress(chunk.start + d, nq, 'searching');
        const t0 = performance.now();
        const res = exact
          ? await exact.search(base.data, nBase, chunk.data, chunk.rows, dim, k, { signal: ctx.signal, progress })
          : hnswSearch(index!, chunk.data, chunk.rows, dim, k, p.threads, 4096, progress);
        seconds += (performance.now() - t0) / 1000;
        for (; nextSample < sample && sampleRows[nextSample]! < chunk.start + chunk.rows; nextSample++) {
          const r = sampleRows[nextSample]! - chunk.start;
          sampleQ.set(chunk.data.subarray(r * dim, (r + 1) * dim), nextSample * dim);
          sampleApprox.indices.set(res.indices.subarray(r * k, (r + 1) * k), nextSample * k);
          sampleApprox.scores.set(res.scores.subarray(r * k, (r + 1) * k), nextSample * k);
        }
        rescore(res, base.data, chunk.data, dim);
        if (poolMode) {
          for (let r = 0; r < chunk.rows; r++) {
            let sum = 0;
            let cnt = 0;
            for (let j = 0; j < k; j++) {
              if (res.indices[r * k + j]! < 0) continue;
              sum += res.scores[r * k + j]!;
              cnt++;
            }
            if (cnt === 0) continue;
            const i = chunk.start + r;
            score[i] = p.aggregate === 'max' ? res.scores[r * k]! : sum / cnt;
            seedPos[i] = res.indices[r * k]!;
          }
        } else {
          for (let q = 0; q < chunk.rows; q++) {
            for (let j = 0; j < k; j++) {
              const i = res.indices[q * k + j]!;
              const s = res.scores[q * k + j]!;
              if (i < 0 || (p.threshold !== undefined && s < p.threshold)) continue;
              if (!(s <= score[i]!)) {
                score[i] = s;
                seedPos[i] = chunk.start + q;
              }
            }
          }
        }
      }
    } finally {
      await exact?.close();
    }
    if (sample > 0) {
      const searcher = await ExactSearcher.open({ provider: 'cpu', threads });
      try {
        recall = recallAtK(
          sampleApprox,
          await searcher.search(base.data, nBase, sampleQ, sample, dim, k),
          sampleRows.map((_, i) => i),
        );
      } finally {
        await searcher.close();
      }
      ctx.log(`HNSW recall@${k} on ${sample} sampled queries: ${recall.toFixed(4)}`);
    }
    ctx.setDevice(device);
    let threshold = p.threshold;
    let thresholdReason = threshold === undefined ? '' : 'fixed threshold (params.threshold)';
    let thresholdSource = 'fixed';
    const generalRef = ctx.optionalInput('general');
    if (p.target && !p.labelColumn) {
      if (!generalRef)
        throw new NodeError('a target needs labels or a validation split: give a label column of the pool dataset, or connect general text embeddings (not what you retrieve)', {
          field: 'inputs.general',
        });
      if (nSeeds < 2) throw new NodeError('a validation split needs at least 2 seeds (each seed is scored against the others)', { field: 'inputs.seeds' });
      const general = prepared(generalRef, 'general', log);
      if (general.meta.dim !== dim) throw new NodeError(`general embeddings have ${general.meta.dim} dimensions, seeds ${dim}: embed both with the same model`, { field: 'inputs.general' });
      const v = await validationScores(seeds.data, nSeeds, general.data, general.meta.count, dim, p.aggregate, p.m, threads);
      const chosen = thresholdForTarget(v.scores, v.labels, p.target);
      if (!chosen)
        throw new NodeError(`no similarity threshold reaches ${p.target.metric} ≥ ${p.target.value} on the validation split (${v.seeds} seeds vs ${v.general} general texts)`, {
          field: 'params.target',
        });
      threshold = chosen.threshold;
      // Why, in words: which rows decided, and the caveat that matters for precision targets.
      thresholdReason =
        chosen.reason.replace(/on \d+ labelled rows \(\d+ positive\)/, `on a validation split of ${v.seeds} seeds (each against the other seeds) vs ${v.general} general texts`) +
        (p.target.metric === 'precision' ? '; precision there assumes the pool has about that share of wanted documents (recall carries over)' : '');
      thresholdSource = 'validation';
      ctx.log(`similarity threshold ${threshold.toFixed(4)} chosen: ${thresholdReason}`);
    }
    if (p.target && p.labelColumn) {
      const col = requireColumn(poolData, p.labelColumn, 'poolData', 'params.labelColumn');
      if (col.type !== 'BOOLEAN') throw new NodeError(`label column "${p.labelColumn}" is ${col.type}; a target needs a BOOLEAN column (true = wanted)`, { field: 'params.labelColumn' });
      const lr = await conn.runAndReadAll(`SELECT ${sqlIdent(p.labelColumn)} AS y FROM ${src} ORDER BY ${POS}`);
      const labelVals = ((lr.getColumnsJS()[0] ?? []) as (boolean | null)[]).map((v) => v);
      const rows = labelVals.flatMap((v, i) => (v === null ? [] : [i]));
      const chosen = thresholdForTarget(
        rows.map((i) => score[i]!),
        rows.map((i) => labelVals[i] === true),
        p.target,
      );
      if (!chosen) throw new NodeError(`no similarity threshold reaches ${p.target.metric} ≥ ${p.target.value} on the ${rows.length} labelled pool rows`, { field: 'params.target' });
      threshold = chosen.threshold;
      thresholdReason = chosen.reason;
      thresholdSource = 'labels';
      ctx.log(`similarity threshold ${threshold.toFixed(4)} chosen: ${thresholdReason}`);
    }
    const candidates = selectByScore(score, threshold, p.targetCount);
    const written = await writeScoredSplit(
      conn,
      poolData,
      {
        rows: nPool,
        columns: [
          { name: 'score', type: 'DOUBLE', values: score },
          { name: 'seed_pos', type: 'BIGINT', values: Array.from(seedPos, (v) => (v < 0 ? null : v)) },
        ],
        kept: candidates,
        select: `s.score AS ${sqlIdent(p.scoreColumn)}, si.id AS ${sqlIdent(p.seedColumn)}`,
        replaced: [p.scoreColumn, p.seedColumn],
        joins: `LEFT JOIN ${idsSql(seedsRef)} si ON si.${POS} = s.seed_pos`,
      },
      ctx.output('retrieved'),
      ctx.output('rest'),
    );
    let sum = 0;
    let min = Infinity;
    for (const i of candidates) {
      sum += score[i]!;
      min = Math.min(min, score[i]!);
    }
    const metrics: Record<string, number | string> = {
      pool_rows: nPool,
      seed_rows: nSeeds,
      retrieved: written.kept,
      rest: written.rest,
      mode: p.mode,
      search: p.search,
      k,
      mean_similarity_retrieved: candidates.length > 0 ? sum / candidates.length : NaN,
      min_similarity_retrieved: candidates.length > 0 ? min : NaN,
    };
    if (threshold !== undefined) {
      metrics.threshold = threshold;
      metrics.threshold_reason = thresholdReason;
      metrics.threshold_source = thresholdSource;
    }
    if (recall !== undefined) metrics[`recall_at_${k}`] = recall;
    writeMetrics(ctx.output('metrics'), metrics);
    ctx.log(`retrieved ${written.kept} of ${nPool} pool documents (${nSeeds} seeds, ${p.search}, ${(nq / Math.max(seconds, 1e-9)).toFixed(0)} queries/s on ${device})`);
  },
  module: import.meta.url,
});
