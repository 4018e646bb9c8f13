import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExactSearcher, buildHnsw, hnswSearch, recallAtK } from '../_sdk/vectors/knn.js';
import { Rng } from '../_sdk/rng.js';
import { cleanupTempDirs, makeDataset, makeEmbeddings, readDataset, runNode } from '../_sdk/testing/harness.js';
import knnIndex from '../knn-index/index.js';
import retriever from './index.js';

afterAll(cleanupTempDirs);

function randomUnit(n: number, dim: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const v = rng.normal();
      x[i * dim + j] = v;
      s += v * v;
    }
    for (let j = 0; j < dim; j++) x[i * dim + j] = x[i * dim + j]! / Math.sqrt(s);
  }
  return x;
}

function bruteForce(base: Float32Array, nb: number, q: Float32Array, nq: number, dim: number, k: number): { idx: number[][]; score: number[][] } {
  const idx: number[][] = [];
  const score: number[][] = [];
  for (let i = 0; i < nq; i++) {
    const s = Array.from({ length: nb }, (_, b) => {
      let d = 0;
      for (let j = 0; j < dim; j++) d += q[i * dim + j]! * base[b * dim + j]!;
      return { b, d };
    }).sort((a, c) => c.d - a.d);
    idx.push(s.slice(0, k).map((x) => x.b));
    score.push(s.slice(0, k).map((x) => x.d));
  }
  return { idx, score };
}

describe('k-NN search', () => {
  it('exact search (ONNX MatMul + TopK, blocked) equals brute force', async () => {
    const dim = 16;
    const base = randomUnit(3000, dim, 1);
    const q = randomUnit(40, dim, 2);
    const searcher = await ExactSearcher.open({ provider: 'cpu' });
    const res = await searcher.search(base, 3000, q, 40, dim, 7, { baseBlock: 1000, queryBatch: 16 });
    await searcher.close();
    const ref = bruteForce(base, 3000, q, 40, dim, 7);
    for (let i = 0; i < 40; i++) {
      expect(Array.from(res.indices.subarray(i * 7, i * 7 + 7))).toEqual(ref.idx[i]);
      ref.score[i]!.forEach((s, j) => expect(Math.abs(s - res.scores[i * 7 + j]!)).toBeLessThan(1e-5));
    }
  });

  it('HNSW finds ≥ 95% of the exact top-10 on clustered data', async () => {
    const dim = 32;
    const n = 4000;
    // Points around 40 centres, like embeddings of documents on a few topics.
    const centres = randomUnit(40, dim, 3);
    const noise = randomUnit(n, dim, 4);
    const base = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) {
        const v = centres[(i % 40) * dim + j]! + 0.6 * noise[i * dim + j]!;
        base[i * dim + j] = v;
        s += v * v;
      }
      for (let j = 0; j < dim; j++) base[i * dim + j] = base[i * dim + j]! / Math.sqrt(s);
    }
    const q = base.slice(0, 100 * dim);
    const index = buildHnsw(base, n, dim, { connectivity: 16, expansionAdd: 64, expansionSearch: 64 }, 1);
    const approx = hnswSearch(index, q, 100, dim, 10, 1);
    const searcher = await ExactSearcher.open({ provider: 'cpu' });
    const exact = await searcher.search(base, n, q, 100, dim, 10);
    await searcher.close();
    const rows = Array.from({ length: 100 }, (_, i) => i);
    expect(recallAtK(approx, exact, rows)).toBeGreaterThanOrEqual(0.95);
    // Scores are inner products (1 − usearch's distance).
    expect(approx.scores[0]).toBeCloseTo(1, 5);
  });
});

// Hand-made 2-D unit vectors: similarities are cosines of known angles.
const SEEDS = [
  [1, 0],
  [0, 1],
];
const POOL = [
  [1, 0], // p1: 1 to s1
  [0.5, Math.sqrt(3) / 2], // p2: 0.5 to s1, 0.866 to s2
  [-1, 0], // p3: -1 to s1, 0 to s2
  [0.6, 0.8], // p4: 0.6 / 0.8
  [0.8, -0.6], // p5: 0.8 / -0.6
];

async function fixture() {
  const poolData = await makeDataset(POOL.map((_, i) => ({ id: `p${i + 1}`, text: `pool ${i + 1}`, source: 'pool' })));
  const seeds = await makeEmbeddings(['s1', 's2'], SEEDS);
  const pool = await makeEmbeddings(
    POOL.map((_, i) => `p${i + 1}`),
    POOL,
    { dataset: poolData.hash },
  );
  return { seeds, pool, poolData };
}

async function retrieve(params: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const f = await fixture();
  const run = await runNode(retriever, { inputs: { ...f, ...extra }, params });
  const rows = (await readDataset(run.outputs.retrieved!)).map((r) => [r.id, Number((r.similarity as number).toFixed(4)), r.nearest_seed]);
  const rest = (await readDataset(run.outputs.rest!)).map((r) => r.id);
  const metrics = JSON.parse(readFileSync(join(run.outputs.metrics!.dir, 'metrics.json'), 'utf8')) as Record<string, unknown>;
  return { rows, rest, metrics, run };
}

describe('retriever node', () => {
  it('pool mode, max similarity with a threshold: score and nearest seed per document', async () => {
    const { rows, rest, metrics } = await retrieve({ mode: 'pool', threshold: 0.8 });
    expect(rows).toEqual([
      ['p1', 1, 's1'],
      ['p2', 0.866, 's2'],
      ['p4', 0.8, 's2'],
      ['p5', 0.8, 's1'],
    ]);
    expect(rest).toEqual(['p3']);
    expect(metrics).toMatchObject({ pool_rows: 5, seed_rows: 2, retrieved: 4, rest: 1, threshold: 0.8 });
  });

  it('pool mode with a target count keeps the best documents', async () => {
    const { rows, rest } = await retrieve({ mode: 'pool', targetCount: 2 });
    expect(rows.map((r) => r[0])).toEqual(['p1', 'p2']);
    expect(rest).toEqual(['p3', 'p4', 'p5']);
  });

  it('mean of the top-m similarities', async () => {
    const { rows } = await retrieve({ mode: 'pool', aggregate: 'mean-top-m', m: 2, threshold: 0.6 });
    // p2: (0.866 + 0.5) / 2, p4: (0.8 + 0.6) / 2
    expect(rows).toEqual([
      ['p2', 0.683, 's2'],
      ['p4', 0.7, 's2'],
    ]);
  });

  it('per-seed top-k', async () => {
    expect((await retrieve({ mode: 'per-seed', k: 1 })).rows).toEqual([
      ['p1', 1, 's1'],
      ['p2', 0.866, 's2'],
    ]);
    const k2 = await retrieve({ mode: 'per-seed', k: 2 });
    expect(k2.rows.map((r) => r[0])).toEqual(['p1', 'p2', 'p4', 'p5']);
    expect(k2.rest).toEqual(['p3']);
  });

  it('HNSW search through a cached index gives the same result and reports recall', async () => {
    const f = await fixture();
    const idx = await runNode(knnIndex, { inputs: { in: f.seeds }, params: { connectivity: 4, expansionAdd: 16 } });
    expect(idx.outputs.out!.manifest.meta).toMatchObject({ type: 'hnsw', dim: 2, count: 2, embeddings: f.seeds.hash });
    const run = await runNode(retriever, { inputs: { ...f, index: idx.outputs.out! }, params: { mode: 'pool', threshold: 0.8, search: 'hnsw' } });
    expect((await readDataset(run.outputs.retrieved!)).map((r) => r.id)).toEqual(['p1', 'p2', 'p4', 'p5']);
    expect(run.outputs.metrics!.manifest.meta.recall_at_1).toBe(1);
    // An index over the wrong embeddings is refused.
    await expect(runNode(retriever, { inputs: { ...f, index: idx.outputs.out! }, params: { mode: 'per-seed', search: 'hnsw' } })).rejects.toThrow(/index was built over other embeddings/);
  });

  it('refuses mismatched dimensions and a pool dataset that is not the embedded one', async () => {
    const f = await fixture();
    const wide = await makeEmbeddings(['s1'], [[1, 0, 0]]);
    await expect(runNode(retriever, { inputs: { ...f, seeds: wide }, params: { threshold: 0.5 } })).rejects.toThrow(/3 dimensions, pool embeddings 2/);
    const other = await makeDataset(POOL.map((_, i) => ({ id: `q${i + 1}`, text: 'x', source: 'pool' })));
    await expect(runNode(retriever, { inputs: { ...f, poolData: other }, params: { threshold: 0.5 } })).rejects.toThrow(/not aligned with the pool dataset/);
    const short = await makeDataset([{ id: 'p1', text: 'x', source: 'pool' }]);
    await expect(runNode(retriever, { inputs: { ...f, poolData: short }, params: { threshold: 0.5 } })).rejects.toThrow(/5 rows but the pool dataset has 1/);
    expect(() => retriever.params.parse({ mode: 'pool' })).toThrow(/needs a threshold, a target count or a target precision/);
  });

  it('picks the similarity threshold for a target precision from a label column, ignoring unlabelled rows', async () => {
    const labels = [true, true, false, false, null];
    const poolData = await makeDataset(POOL.map((_, i) => ({ id: `p${i + 1}`, text: `pool ${i + 1}`, source: 'pool', is_agent: labels[i] })));
    const seeds = await makeEmbeddings(['s1', 's2'], SEEDS);
    const pool = await makeEmbeddings(
      POOL.map((_, i) => `p${i + 1}`),
      POOL,
      { dataset: poolData.hash },
    );
    const run = await runNode(retriever, { inputs: { seeds, pool, poolData }, params: { mode: 'pool', target: { metric: 'precision', value: 1 }, labelColumn: 'is_agent' } });
    expect((await readDataset(run.outputs.retrieved!)).map((r) => r.id)).toEqual(['p1', 'p2']);
    const metrics = JSON.parse(readFileSync(join(run.outputs.metrics!.dir, 'metrics.json'), 'utf8')) as Record<string, unknown>;
    expect(metrics.threshold).toBeCloseTo(Math.sqrt(3) / 2, 6);
    expect(String(metrics.threshold_reason)).toMatch(/precision ≥ 1 on 4 labelled rows/);
  });

  describe('threshold from a validation split (no labels)', () => {
    // Seeds and general text as 2-D unit vectors: leave-one-out max similarities are s1 0.8, s2 0.96, s3 0.96; general g1 0.936, g2 −0.6.
    const VSEEDS = [
      [1, 0],
      [0.8, 0.6],
      [0.6, 0.8],
    ];
    const GENERAL = [
      [0.28, 0.96],
      [-1, 0],
    ];
    async function run(target: { metric: 'precision' | 'recall'; value: number }) {
      const poolData = await makeDataset(POOL.map((_, i) => ({ id: `p${i + 1}`, text: `pool ${i + 1}`, source: 'pool' })));
      const seeds = await makeEmbeddings(['s1', 's2', 's3'], VSEEDS);
      const pool = await makeEmbeddings(
        POOL.map((_, i) => `p${i + 1}`),
        POOL,
        { dataset: poolData.hash },
      );
      const general = await makeEmbeddings(['g1', 'g2'], GENERAL);
      const r = await runNode(retriever, { inputs: { seeds, pool, poolData, general }, params: { mode: 'pool', target } });
      const metrics = JSON.parse(readFileSync(join(r.outputs.metrics!.dir, 'metrics.json'), 'utf8')) as Record<string, unknown>;
      return { ids: (await readDataset(r.outputs.retrieved!)).map((x) => x.id), metrics };
    }

    it('a precision target takes the lowest threshold above every general text', async () => {
      const { ids, metrics } = await run({ metric: 'precision', value: 1 });
      // Ranking s2 s3 (0.96) g1 (0.936) s1 (0.8) g2: precision 1 holds only down to 0.96.
      expect(metrics.threshold).toBeCloseTo(0.96, 6);
      expect(metrics.threshold_source).toBe('validation');
      expect(String(metrics.threshold_reason)).toMatch(/precision ≥ 1 on a validation split of 3 seeds \(each against the other seeds\) vs 2 general texts: recall there 0.667/);
      // Pool similarities: p1 1, p2 0.993, p3 −0.6, p4 1, p5 0.8.
      expect(ids).toEqual(['p1', 'p2', 'p4']);
    });

    it('a recall target keeps every seed, so the threshold drops to the least similar seed', async () => {
      const { metrics } = await run({ metric: 'recall', value: 1 });
      expect(metrics.threshold).toBeCloseTo(0.8, 6);
      expect(String(metrics.threshold_reason)).toMatch(/recall ≥ 1 on a validation split .*precision there 0.750/);
    });

    it('needs labels or general text', async () => {
      const f = await fixture();
      await expect(runNode(retriever, { inputs: f, params: { mode: 'pool', target: { metric: 'recall', value: 0.9 } } })).rejects.toThrow(/connect general text embeddings/);
    });
  });
});
