import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { INDEX_FILE, INDEX_META } from '../_sdk/vectors/index-artifact.js';
import { hnswSearch, loadHnsw } from '../_sdk/vectors/knn.js';
import { Rng } from '../_sdk/rng.js';
import { cleanupTempDirs, makeEmbeddings, runNode } from '../_sdk/testing/harness.js';
import knnIndex from './index.js';

afterAll(cleanupTempDirs);

describe('HNSW index node', () => {
  it('indexes every row (keys = row numbers) and records what it indexed', async () => {
    const rng = new Rng(9);
    const vectors = Array.from({ length: 300 }, () => Array.from({ length: 8 }, () => rng.normal()));
    // Not normalised on purpose: the node normalises a copy.
    const emb = await makeEmbeddings(
      vectors.map((_, i) => `v${i}`),
      vectors,
      { normalized: false },
    );
    const run = await runNode(knnIndex, { inputs: { in: emb }, params: { connectivity: 8, expansionAdd: 64, threads: 1 } });
    const out = run.outputs.out!;
    expect(out.manifest.files.map((f) => f.path).sort()).toEqual([INDEX_META, INDEX_FILE]);
    expect(JSON.parse(readFileSync(join(out.dir, INDEX_META), 'utf8'))).toEqual({
      format: 'forge.index',
      formatVersion: 1,
      type: 'hnsw',
      library: 'usearch',
      metric: 'ip',
      dim: 8,
      count: 300,
      connectivity: 8,
      expansionAdd: 64,
      embeddings: emb.hash,
      normalized: true,
    });
    expect(run.logs.some((l) => /not normalised/.test(l.message))).toBe(true);
    const index = loadHnsw(join(out.dir, INDEX_FILE), 8, { connectivity: 8, expansionAdd: 64, expansionSearch: 64 });
    expect(index.size()).toBe(300);
    // Each vector's nearest neighbour by cosine is itself.
    const q = new Float32Array(
      vectors.slice(0, 20).flatMap((v) => {
        const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
        return v.map((x) => x / n);
      }),
    );
    const res = hnswSearch(index, q, 20, 8, 1, 1);
    expect(Array.from(res.indices)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    Array.from(res.scores).forEach((s) => expect(s).toBeCloseTo(1, 5));
  });
});
