import { UMAP } from 'umap-js';
import { fnv1a32, mulberry32 } from '../_lib/rng.js';

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

/** The first two principal components (power iteration with deflation; deterministic). */
export function pca2d(rows: number[][]): number[][] {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  const mean = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (r[j] as number) / n;
  const X = rows.map((r) => r.map((v, j) => v - (mean[j] as number)));
  const comps: Float64Array[] = [];
  for (let c = 0; c < 2; c++) {
    let v = new Float64Array(d).map((_, j) => 1 / Math.sqrt(d) + (j === c ? 0.5 : 0));
    for (let it = 0; it < 200; it++) {
      const xv = X.map((r) => r.reduce((a, x, j) => a + x * (v[j] as number), 0));
      const next = new Float64Array(d);
      X.forEach((r, i) => {
        for (let j = 0; j < d; j++) next[j] = (next[j] as number) + (r[j] as number) * (xv[i] as number);
      });
      for (const p of comps) {
        const dot = next.reduce((a, x, j) => a + x * (p[j] as number), 0);
        for (let j = 0; j < d; j++) next[j] = (next[j] as number) - dot * (p[j] as number);
      }
      const norm = Math.sqrt(next.reduce((a, x) => a + x * x, 0)) || 1;
      v = next.map((x) => x / norm);
    }
    // Fix the sign so the result does not depend on the start vector.
    const big = v.reduce((bi, x, j) => (Math.abs(x) > Math.abs(v[bi] as number) ? j : bi), 0);
    if ((v[big] as number) < 0) v = v.map((x) => -x);
    comps.push(v);
  }
  return X.map((r) => comps.map((p) => r.reduce((a, x, j) => a + x * (p[j] as number), 0)));
}
