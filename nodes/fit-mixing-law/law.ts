/**
 * Multi-domain data mixing laws (Ye et al. 2024, arXiv 2403.16952): per benchmark,
 *   L(r) = c + k·exp(Σ_j t_j·r_j)
 * over domain shares r on the simplex. Since Σ r_j = 1, one t is redundant with k; the last
 * domain's t is fixed at 0. For a fixed c the law is linear in log(L − c), so c is searched on a
 * grid (then refined by golden section) with (log k, t) from least squares, and the result is
 * polished by damped Gauss-Newton on the original residuals: deterministic, no starting point.
 * The RegMix-style baseline (arXiv 2407.01492) is a ridge regression on the shares and their
 * pairwise products.
 */

export interface LawFit {
  c: number;
  k: number;
  /** One per domain; the last is 0 by construction. */
  t: number[];
  sse: number;
  r2: number;
}

export interface RidgeFit {
  weights: number[];
  lambda: number;
  sse: number;
  r2: number;
}

/** Solves (AᵀA + λI)x = Aᵀb by Gaussian elimination with partial pivoting. */
export function lstsq(A: readonly (readonly number[])[], b: readonly number[], lambda = 0): number[] {
  const p = A[0]?.length ?? 0;
  const M = Array.from({ length: p }, (_, i) => Array.from({ length: p + 1 }, (_, j) => (j === i ? lambda : 0)));
  A.forEach((row, r) => {
    for (let i = 0; i < p; i++) {
      const ri = row[i] as number;
      const Mi = M[i] as number[];
      for (let j = 0; j < p; j++) Mi[j] = (Mi[j] as number) + ri * (row[j] as number);
      Mi[p] = (Mi[p] as number) + ri * (b[r] as number);
    }
  });
  for (let col = 0; col < p; col++) {
    let piv = col;
    for (let r = col + 1; r < p; r++) if (Math.abs((M[r] as number[])[col] as number) > Math.abs((M[piv] as number[])[col] as number)) piv = r;
    [M[col], M[piv]] = [M[piv] as number[], M[col] as number[]];
    const pr = M[col] as number[];
    const d = pr[col] as number;
    if (Math.abs(d) < 1e-300) continue;
    for (let r = 0; r < p; r++) {
      if (r === col) continue;
      const row = M[r] as number[];
      const f = (row[col] as number) / d;
      if (f === 0) continue;
      for (let j = col; j <= p; j++) row[j] = (row[j] as number) - f * (pr[j] as number);
    }
  }
  return M.map((row, i) => {
    const d = row[i] as number;
    return Math.abs(d) < 1e-300 ? 0 : (row[p] as number) / d;
  });
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function r2Of(ys: readonly number[], sse: number): number {
  const m = sum(ys) / ys.length;
  const sst = ys.reduce((a, y) => a + (y - m) ** 2, 0);
  return sst > 0 ? 1 - sse / sst : 1;
}

export function evalLaw(f: LawFit, r: readonly number[]): number {
  return f.c + f.k * Math.exp(r.reduce((a, x, j) => a + x * (f.t[j] as number), 0));
}

/** Design row for the law's linear part: 1, then every share but the last. */
const lawRow = (r: readonly number[]) => [1, ...r.slice(0, -1)];

function sseOf(f: LawFit, R: readonly (readonly number[])[], ys: readonly number[]): number {
  return R.reduce((a, r, i) => a + ((ys[i] as number) - evalLaw(f, r)) ** 2, 0);
}

function fitForC(c: number, R: readonly (readonly number[])[], ys: readonly number[]): LawFit {
  const X = R.map(lawRow);
  const beta = lstsq(
    X,
    ys.map((y) => Math.log(y - c)),
    1e-9,
  );
  const t = [...beta.slice(1), 0];
  const f: LawFit = { c, k: Math.exp(beta[0] as number), t, sse: 0, r2: 0 };
  f.sse = sseOf(f, R, ys);
  return f;
}

export function fitLaw(R: readonly (readonly number[])[], ys: readonly number[]): LawFit {
  const m = R[0]?.length ?? 0;
  if (ys.length < m + 1) throw new Error(`the law has ${m + 1} parameters and needs at least ${m + 1} points (got ${ys.length})`);
  const ymin = Math.min(...ys);
  const spread = Math.max(...ys) - ymin || Math.abs(ymin) || 1;
  // c below every observed loss: ymin − spread·10^u, u from −3 to 2.
  const cAt = (u: number) => ymin - spread * 10 ** u;
  let best = fitForC(cAt(-3), R, ys);
  let bestU = -3;
  for (let i = 1; i <= 100; i++) {
    const u = -3 + (5 * i) / 100;
    const f = fitForC(cAt(u), R, ys);
    if (f.sse < best.sse) {
      best = f;
      bestU = u;
    }
  }
  let lo = Math.max(-3, bestU - 0.05);
  let hi = Math.min(2, bestU + 0.05);
  const g = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 40; i++) {
    const a = hi - g * (hi - lo);
    const b = lo + g * (hi - lo);
    if (fitForC(cAt(a), R, ys).sse < fitForC(cAt(b), R, ys).sse) hi = b;
    else lo = a;
  }
  const refined = fitForC(cAt((lo + hi) / 2), R, ys);
  if (refined.sse < best.sse) best = refined;
  best = gaussNewton(best, R, ys);
  best.r2 = r2Of(ys, best.sse);
  return best;
}

/** Levenberg-style damped Gauss-Newton on θ = (c, log k, t_1..t_{m-1}); keeps only improvements. */
function gaussNewton(start: LawFit, R: readonly (readonly number[])[], ys: readonly number[]): LawFit {
  let cur = start;
  let lambda = 1e-3;
  for (let it = 0; it < 30; it++) {
    const theta = [cur.c, Math.log(cur.k), ...cur.t.slice(0, -1)];
    const J: number[][] = [];
    const res: number[] = [];
    R.forEach((r, i) => {
      const e = cur.k * Math.exp(r.reduce((a, x, j) => a + x * (cur.t[j] as number), 0));
      J.push([1, e, ...r.slice(0, -1).map((x) => e * x)]);
      res.push((ys[i] as number) - cur.c - e);
    });
    const step = lstsq(J, res, lambda);
    const next = theta.map((v, i) => v + (step[i] as number));
    const cand: LawFit = { c: next[0] as number, k: Math.exp(next[1] as number), t: [...next.slice(2), 0], sse: 0, r2: 0 };
    cand.sse = sseOf(cand, R, ys);
    if (Number.isFinite(cand.sse) && cand.sse < cur.sse) {
      const gain = cur.sse - cand.sse;
      cur = cand;
      lambda = Math.max(lambda / 10, 1e-12);
      if (gain < 1e-14 * (1 + cur.sse)) break;
    } else {
      lambda *= 10;
      if (lambda > 1e8) break;
    }
  }
  return cur;
}

/** RegMix-style features: the shares and their pairwise products (the simplex makes 1 redundant). */
export function ridgeFeatures(r: readonly number[]): number[] {
  const f = [...r];
  for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++) f.push((r[i] as number) * (r[j] as number));
  return f;
}

export function fitRidge(R: readonly (readonly number[])[], ys: readonly number[], lambda: number): RidgeFit {
  const X = R.map(ridgeFeatures);
  const weights = lstsq(X, ys, lambda);
  const f: RidgeFit = { weights, lambda, sse: 0, r2: 0 };
  f.sse = R.reduce((a, r, i) => a + ((ys[i] as number) - evalRidge(f, r)) ** 2, 0);
  f.r2 = r2Of(ys, f.sse);
  return f;
}

export function evalRidge(f: RidgeFit, r: readonly number[]): number {
  return ridgeFeatures(r).reduce((a, x, i) => a + x * (f.weights[i] as number), 0);
}

/**
 * Points of the simplex on a grid of step 1/n, restricted to each share's observed range (the fits
 * are not trusted beyond the sampled region).
 */
export function simplexGrid(m: number, n: number, lo: readonly number[], hi: readonly number[]): number[][] {
  const out: number[][] = [];
  const rec = (prefix: number[], left: number) => {
    const j = prefix.length;
    if (j === m - 1) {
      const last = left / n;
      if (last >= (lo[j] as number) - 1e-9 && last <= (hi[j] as number) + 1e-9) out.push([...prefix.map((v) => v / n), last]);
      return;
    }
    for (let v = 0; v <= left; v++) {
      const s = v / n;
      if (s < (lo[j] as number) - 1e-9 || s > (hi[j] as number) + 1e-9) continue;
      rec([...prefix, v], left - v);
    }
  };
  rec([], n);
  return out;
}

export function argminOn(grid: readonly number[][], fn: (r: number[]) => number): { r: number[]; y: number } {
  let best = { r: grid[0] as number[], y: Infinity };
  for (const r of grid) {
    const y = fn(r);
    if (y < best.y) best = { r, y };
  }
  return best;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const f = pos - i;
  return (sorted[i] as number) * (1 - f) + (sorted[Math.min(i + 1, sorted.length - 1)] as number) * f;
}
