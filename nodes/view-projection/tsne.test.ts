import { describe, expect, it } from 'vitest';
import { Rng } from '../_sdk/rng.js';
import { tsne2d } from './tsne.js';

/** Three Gaussian clusters of 40 points in 20-D, centres 10 apart (unit noise). */
function clusters(seed: number): { rows: number[][]; label: number[] } {
  const rng = new Rng(seed);
  const rows: number[][] = [];
  const label: number[] = [];
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < 40; i++) {
      rows.push(Array.from({ length: 20 }, (_, k) => (k % 3 === c ? 10 : 0) + rng.normal()));
      label.push(c);
    }
  }
  return { rows, label };
}

const dist = (a: number[], b: number[]) => Math.hypot((a[0] as number) - (b[0] as number), (a[1] as number) - (b[1] as number));

describe('t-SNE', () => {
  it('keeps clusters apart: every point’s 2-D nearest neighbour is in its own cluster, and clusters are far apart relative to their size', () => {
    const { rows, label } = clusters(3);
    const y = tsne2d(rows, { perplexity: 15, iterations: 500, seed: 1 });
    let sameCluster = 0;
    y.forEach((p, i) => {
      let best = -1;
      let bestD = Infinity;
      y.forEach((q, j) => {
        if (j !== i && dist(p, q) < bestD) {
          bestD = dist(p, q);
          best = j;
        }
      });
      if (label[best] === label[i]) sameCluster++;
    });
    expect(sameCluster).toBe(rows.length);
    const centre = (c: number) => {
      const pts = y.filter((_, i) => label[i] === c);
      return [pts.reduce((s, p) => s + (p[0] as number), 0) / pts.length, pts.reduce((s, p) => s + (p[1] as number), 0) / pts.length];
    };
    const centres = [0, 1, 2].map(centre);
    const spread = Math.max(...y.map((p, i) => dist(p, centres[label[i] as number] as number[])));
    for (let a = 0; a < 3; a++) for (let b = a + 1; b < 3; b++) expect(dist(centres[a] as number[], centres[b] as number[])).toBeGreaterThan(spread);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const { rows } = clusters(4);
    const a = tsne2d(rows, { perplexity: 10, iterations: 60, seed: 7 });
    const b = tsne2d(rows, { perplexity: 10, iterations: 60, seed: 7 });
    const c = tsne2d(rows, { perplexity: 10, iterations: 60, seed: 8 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
});
