import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Rng } from '../_sdk/rng.js';
import { cleanupTempDirs, makeDataset, makeEmbeddings, readDataset, runNode } from '../_sdk/testing/harness.js';
import retriever from './index.js';

// Records which embeddings the node reads whole and the chunks it streams: in pool mode the pool
// matrix must only ever come in bounded chunks (reading it whole made the node O(N), issue 11).
const seen = vi.hoisted(() => ({ whole: [] as string[], chunks: [] as number[] }));
vi.mock('../_sdk/vectors/embeddings.js', async (importOriginal) => {
  const e = await importOriginal<typeof import('../_sdk/vectors/embeddings.js')>();
  return {
    ...e,
    readEmbeddings: (...args: Parameters<typeof e.readEmbeddings>) => {
      seen.whole.push(args[1] ?? 'embeddings');
      return e.readEmbeddings(...args);
    },
    *readEmbeddingChunks(...args: Parameters<typeof e.readEmbeddingChunks>) {
      for (const c of e.readEmbeddingChunks(...args)) {
        seen.chunks.push(c.rows);
        yield c;
      }
    },
  };
});

afterAll(cleanupTempDirs);
afterEach(() => {
  vi.unstubAllEnvs();
  seen.whole.length = 0;
  seen.chunks.length = 0;
});

const DIM = 8;
function vectors(n: number, seed: number, scale = 1): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const v = Array.from({ length: DIM }, () => rng.normal());
    const len = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return v.map((x) => (x / len) * scale);
  });
}

async function fixture(normalized: boolean) {
  const n = 23;
  const ids = Array.from({ length: n }, (_, i) => `p${i}`);
  const poolData = await makeDataset(
    ids.map((id) => ({ id, text: id, source: 'pool' })),
    { shards: 2 },
  );
  // Three times unit length unless normalized: the node must then normalise every chunk it reads.
  const pool = await makeEmbeddings(ids, vectors(n, 7, normalized ? 1 : 3), { dataset: poolData.hash, normalized });
  const seeds = await makeEmbeddings(['s0', 's1', 's2', 's3'], vectors(4, 8));
  return { seeds, pool, poolData };
}

async function retrieve(f: Awaited<ReturnType<typeof fixture>>, params: Record<string, unknown>, chunkRows?: number) {
  if (chunkRows !== undefined) vi.stubEnv('FORGE_VECTOR_CHUNK_ROWS', String(chunkRows));
  const run = await runNode(retriever, { inputs: f, params });
  const out = {
    retrieved: await readDataset(run.outputs.retrieved!),
    rest: await readDataset(run.outputs.rest!),
    metrics: run.outputs.metrics!.manifest.meta,
    whole: [...seen.whole],
    chunks: [...seen.chunks],
  };
  seen.whole.length = 0;
  seen.chunks.length = 0;
  vi.unstubAllEnvs();
  return out;
}

describe('ml.retrieve pool mode streams the pool: bounded memory whatever its size', () => {
  for (const [label, params] of [
    ['exact, max', { mode: 'pool', threshold: 0.5 }],
    ['exact, mean-top-m, unnormalised pool', { mode: 'pool', aggregate: 'mean-top-m', m: 2, threshold: 0.2 }],
    ['hnsw with recall sample', { mode: 'pool', search: 'hnsw', threshold: 0.5, recallSample: 5 }],
  ] as const) {
    it(`${label}: pool read in chunks of at most FORGE_VECTOR_CHUNK_ROWS, never whole; same output as one chunk`, async () => {
      const f = await fixture(!label.includes('unnormalised'));
      const small = await retrieve(f, params, 5);
      expect(small.chunks).toEqual([5, 5, 5, 5, 3]);
      expect(small.whole).toEqual(['seeds']);
      const whole = await retrieve(f, params);
      expect(whole.chunks).toEqual([23]);
      expect(small.retrieved.length).toBeGreaterThan(0);
      expect(small.rest.length).toBeGreaterThan(0);
      expect(small.retrieved).toEqual(whole.retrieved);
      expect(small.rest).toEqual(whole.rest);
      expect(small.metrics).toEqual(whole.metrics);
    });
  }

  it('per-seed mode still searches the whole pool matrix', async () => {
    const r = await retrieve(await fixture(true), { mode: 'per-seed', k: 3 }, 5);
    expect(r.whole).toEqual(['seeds', 'pool']);
    expect(r.chunks).toEqual([]);
  });
});
