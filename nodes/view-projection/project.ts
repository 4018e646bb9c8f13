import { UMAP } from 'umap-js';
import { pca2 } from '../../engine/sdk/pca.js';
import { fnv1a32, mulberry32 } from '../_sdk/rng.js';

/** Rows of a row-major matrix as number arrays (umap-js's input). */
export function rowsOf(data: Float32Array, dim: number, pick: readonly number[]): number[][] {
  return pick.map((i) => Array.from(data.subarray(i * dim, (i + 1) * dim)));
}

/** UMAP to 2-D, seeded (umap-js draws every random number from the function it is given). */
export function umap2d(rows: number[][], opts: { nNeighbors: number; minDist: number; seed: number; nEpochs?: number }, onEpoch?: (e: number) => void): number[][] {
  const u = new UMAP({
    nComponents: 2,
    nNeighbors: Math.max(2, Math.min(opts.nNeighbors, rows.length - 1)),
    minDist: opts.minDist,
    random: mulberry32(fnv1a32(`umap:${opts.seed}`)),
    nEpochs: opts.nEpochs,
  });
  const nEpochs = u.initializeFit(rows);
  for (let e = 0; e < nEpochs; e++) {
    u.step();
    if (onEpoch && e % 50 === 0) onEpoch(e);
  }
  return u.getEmbedding();
}

/** The first two principal components (the engine's PCA, shared with the embeddings preview). */
export function pca2d(rows: number[][]): number[][] {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  const x = new Float64Array(n * d);
  rows.forEach((r, i) => x.set(r, i * d));
  const { coords } = pca2(x, n, d);
  return rows.map((_, i) => [coords[2 * i] as number, coords[2 * i + 1] as number]);
}
