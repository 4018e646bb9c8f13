import { Rng } from '../_sdk/rng.js';

/**
 * Exact t-SNE (van der Maaten & Hinton 2008) to 2-D, seeded. Exact rather than Barnes-Hut: the
 * projection node samples at most a few thousand points, where the O(n²) step is a few milliseconds
 * per hundred points squared and the result has no approximation knob to explain. Memory is two
 * n × n float32 matrices (P and the kernel), ~32 MB at 2,000 points; MAX_TSNE_POINTS bounds it.
 */

export const MAX_TSNE_POINTS = 5000;

export interface TsneOptions {
  perplexity: number;
  iterations: number;
  seed: number;
  /** Called every 50 iterations. */
  onIteration?: (iteration: number) => void;
}

const EXAGGERATION = 12;
const EXAGGERATION_ITERS = 250;

/**
 * Conditional probabilities p_{j|i} with a per-point Gaussian whose width a binary search fits to
 * the perplexity (2^entropy), then symmetrised: P = (P + Pᵀ) / 2n.
 */
function affinities(x: Float64Array, n: number, d: number, perplexity: number): Float32Array {
  const P = new Float32Array(n * n);
  const dist = new Float64Array(n);
  const row = new Float64Array(n);
  const target = Math.log(Math.min(perplexity, (n - 1) / 3));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const t = (x[i * d + k] as number) - (x[j * d + k] as number);
        s += t * t;
      }
      dist[j] = s;
    }
    let beta = 1;
    let lo = -Infinity;
    let hi = Infinity;
    for (let step = 0; step < 64; step++) {
      // Shift by the nearest distance so exp() cannot underflow to all zeros.
      let min = Infinity;
      for (let j = 0; j < n; j++) if (j !== i && (dist[j] as number) < min) min = dist[j] as number;
      let sum = 0;
      let weighted = 0;
      for (let j = 0; j < n; j++) {
        const v = j === i ? 0 : Math.exp(-beta * ((dist[j] as number) - min));
        row[j] = v;
        sum += v;
        weighted += v * ((dist[j] as number) - min);
      }
      const entropy = Math.log(sum) + (beta * weighted) / sum;
      const diff = entropy - target;
      if (Math.abs(diff) < 1e-5) break;
      if (diff > 0) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = lo === -Infinity ? beta / 2 : (beta + lo) / 2;
      }
    }
    let sum = 0;
    for (let j = 0; j < n; j++) sum += row[j] as number;
    for (let j = 0; j < n; j++) P[i * n + j] = (row[j] as number) / sum;
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = Math.max(((P[i * n + j] as number) + (P[j * n + i] as number)) / (2 * n), 1e-12);
      P[i * n + j] = v;
      P[j * n + i] = v;
    }
  }
  return P;
}

/** Rows (n × d) → n × 2 coordinates. */
export function tsne2d(rows: readonly (readonly number[])[], opts: TsneOptions): number[][] {
  const n = rows.length;
  if (n > MAX_TSNE_POINTS) throw new Error(`t-SNE of ${n} points: at most ${MAX_TSNE_POINTS} (lower maxPoints)`);
  if (n < 3) return rows.map(() => [0, 0]);
  const d = rows[0]?.length ?? 0;
  const x = new Float64Array(n * d);
  rows.forEach((r, i) => x.set(r, i * d));
  const P = affinities(x, n, d, opts.perplexity);

  const rng = new Rng(opts.seed);
  const y = new Float64Array(2 * n);
  for (let i = 0; i < 2 * n; i++) y[i] = 1e-4 * rng.normal();
  const velocity = new Float64Array(2 * n);
  const gains = new Float64Array(2 * n).fill(1);
  const grad = new Float64Array(2 * n);
  const kernel = new Float32Array(n * n);
  // Learning rate n / exaggeration (Belkina et al. 2019), never below the classic 200.
  const eta = Math.max(200, n / EXAGGERATION);

  for (let it = 0; it < opts.iterations; it++) {
    const exaggeration = it < EXAGGERATION_ITERS ? EXAGGERATION : 1;
    const momentum = it < EXAGGERATION_ITERS ? 0.5 : 0.8;
    let z = 0;
    for (let i = 0; i < n; i++) {
      const yi0 = y[2 * i] as number;
      const yi1 = y[2 * i + 1] as number;
      for (let j = i + 1; j < n; j++) {
        const a = yi0 - (y[2 * j] as number);
        const b = yi1 - (y[2 * j + 1] as number);
        const q = 1 / (1 + a * a + b * b);
        kernel[i * n + j] = q;
        kernel[j * n + i] = q;
        z += 2 * q;
      }
    }
    grad.fill(0);
    for (let i = 0; i < n; i++) {
      const yi0 = y[2 * i] as number;
      const yi1 = y[2 * i + 1] as number;
      let g0 = 0;
      let g1 = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const q = kernel[i * n + j] as number;
        const m = (exaggeration * (P[i * n + j] as number) - q / z) * q;
        g0 += m * (yi0 - (y[2 * j] as number));
        g1 += m * (yi1 - (y[2 * j + 1] as number));
      }
      grad[2 * i] = 4 * g0;
      grad[2 * i + 1] = 4 * g1;
    }
    // Delta-bar-delta gains, as in the reference implementation.
    for (let k = 0; k < 2 * n; k++) {
      const g = grad[k] as number;
      const v = velocity[k] as number;
      gains[k] = Math.sign(g) !== Math.sign(v) ? (gains[k] as number) + 0.2 : Math.max(0.01, (gains[k] as number) * 0.8);
      velocity[k] = momentum * v - eta * (gains[k] as number) * g;
      y[k] = (y[k] as number) + (velocity[k] as number);
    }
    let c0 = 0;
    let c1 = 0;
    for (let i = 0; i < n; i++) {
      c0 += y[2 * i] as number;
      c1 += y[2 * i + 1] as number;
    }
    for (let i = 0; i < n; i++) {
      y[2 * i] = (y[2 * i] as number) - c0 / n;
      y[2 * i + 1] = (y[2 * i + 1] as number) - c1 / n;
    }
    if (opts.onIteration && it % 50 === 0) opts.onIteration(it);
  }
  return Array.from({ length: n }, (_, i) => [y[2 * i] as number, y[2 * i + 1] as number]);
}
