/**
 * Fitting loss against a mixing ratio r, as in data-mixing laws (Ye et al. 2024):
 *   exp form   L(r) = c + k·exp(t·r)   — nonlinear least squares: for a fixed t the best (c, k)
 *              is linear least squares, so SSE is minimised over t alone (a grid, then golden
 *              section), which is deterministic and has no starting-point problem;
 *   quadratic  L(r) = a + b·r + c·r²   — ordinary least squares.
 */

export interface ExpFit {
  c: number;
  k: number;
  t: number;
  sse: number;
  r2: number;
}

export interface PolyFit {
  a: number;
  b: number;
  c: number;
  sse: number;
  r2: number;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function sst(ys: readonly number[]): number {
  const m = mean(ys);
  return ys.reduce((a, y) => a + (y - m) ** 2, 0);
}

/** Least squares of y ≈ c + k·f for one basis f; returns c, k and the SSE. */
function linear2(f: readonly number[], ys: readonly number[]): { c: number; k: number; sse: number } {
  const n = f.length;
  const mf = mean(f);
  const my = mean(ys);
  let sff = 0;
  let sfy = 0;
  for (let i = 0; i < n; i++) {
    sff += ((f[i] as number) - mf) ** 2;
    sfy += ((f[i] as number) - mf) * ((ys[i] as number) - my);
  }
  const k = sff > 0 ? sfy / sff : 0;
  const c = my - k * mf;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += ((ys[i] as number) - c - k * (f[i] as number)) ** 2;
  return { c, k, sse };
}

export function fitExp(xs: readonly number[], ys: readonly number[]): ExpFit {
  if (xs.length < 3) throw new Error('the exponential form needs at least 3 points');
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const span = hi - lo || 1;
  // Centre x so exp(t·x) stays well conditioned; c, k are mapped back at the end.
  const x0 = lo;
  const at = (t: number) =>
    linear2(
      xs.map((x) => Math.exp(t * (x - x0))),
      ys,
    );
  const T = 60 / span;
  const steps = 1200;
  let best = { t: T / steps, sse: Infinity };
  for (let i = -steps; i <= steps; i++) {
    if (i === 0) continue;
    const t = (i / steps) * T;
    const { sse } = at(t);
    if (sse < best.sse) best = { t, sse };
  }
  // Golden-section search in the grid cell around the best t.
  let a = best.t - T / steps;
  let b = best.t + T / steps;
  const g = (Math.sqrt(5) - 1) / 2;
  let c1 = b - g * (b - a);
  let c2 = a + g * (b - a);
  let f1 = at(c1).sse;
  let f2 = at(c2).sse;
  for (let it = 0; it < 100; it++) {
    if (f1 < f2) {
      b = c2;
      c2 = c1;
      f2 = f1;
      c1 = b - g * (b - a);
      f1 = at(c1).sse;
    } else {
      a = c1;
      c1 = c2;
      f1 = f2;
      c2 = a + g * (b - a);
      f2 = at(c2).sse;
    }
  }
  const t = Math.abs((a + b) / 2) < 1e-12 ? best.t : (a + b) / 2;
  const fit = at(t);
  const total = sst(ys);
  // k·exp(t(x − x0)) = k·exp(−t·x0)·exp(t·x)
  return { c: fit.c, k: fit.k * Math.exp(-t * x0), t, sse: fit.sse, r2: total > 0 ? 1 - fit.sse / total : 1 };
}

export function fitQuadratic(xs: readonly number[], ys: readonly number[]): PolyFit {
  if (xs.length < 3) throw new Error('the quadratic needs at least 3 points');
  // Normal equations on centred, scaled x for conditioning.
  const mx = mean(xs);
  const sx = Math.sqrt(mean(xs.map((x) => (x - mx) ** 2))) || 1;
  const zs = xs.map((x) => (x - mx) / sx);
  const S = (p: number) => zs.reduce((a, z) => a + z ** p, 0);
  const Sy = (p: number) => zs.reduce((a, z, i) => a + z ** p * (ys[i] as number), 0);
  const A = [
    [zs.length, S(1), S(2)],
    [S(1), S(2), S(3)],
    [S(2), S(3), S(4)],
  ];
  const [p0, p1, p2] = solve3(A, [Sy(0), Sy(1), Sy(2)]);
  // y = p0 + p1 z + p2 z², z = (x − mx)/sx
  const c = p2 / sx ** 2;
  const b = p1 / sx - (2 * p2 * mx) / sx ** 2;
  const a = p0 - (p1 * mx) / sx + (p2 * mx ** 2) / sx ** 2;
  let sse = 0;
  xs.forEach((x, i) => (sse += ((ys[i] as number) - (a + b * x + c * x * x)) ** 2));
  const total = sst(ys);
  return { a, b, c, sse, r2: total > 0 ? 1 - sse / total : 1 };
}

function solve3(A: number[][], y: number[]): [number, number, number] {
  const m = A.map((row, i) => [...row, y[i] as number]);
  for (let col = 0; col < 3; col++) {
    let piv = col;
    for (let r = col + 1; r < 3; r++) if (Math.abs((m[r] as number[])[col] as number) > Math.abs((m[piv] as number[])[col] as number)) piv = r;
    [m[col], m[piv]] = [m[piv] as number[], m[col] as number[]];
    const d = (m[col] as number[])[col] as number;
    if (Math.abs(d) < 1e-300) throw new Error('the quadratic is singular (need 3 distinct x values)');
    for (let r = 0; r < 3; r++) {
      if (r === col) continue;
      const f = ((m[r] as number[])[col] as number) / d;
      for (let k = col; k < 4; k++) (m[r] as number[])[k] = ((m[r] as number[])[k] as number) - f * ((m[col] as number[])[k] as number);
    }
  }
  return [0, 1, 2].map((i) => ((m[i] as number[])[3] as number) / ((m[i] as number[])[i] as number)) as [number, number, number];
}

export const evalExp = (f: ExpFit, x: number): number => f.c + f.k * Math.exp(f.t * x);
export const evalPoly = (f: PolyFit, x: number): number => f.a + f.b * x + f.c * x * x;

/** argmin of a function on [lo, hi]: a dense grid, then golden section around the best cell. */
export function argmin(fn: (x: number) => number, lo: number, hi: number, steps = 2000): { x: number; y: number } {
  if (hi <= lo) return { x: lo, y: fn(lo) };
  let bi = 0;
  let by = Infinity;
  for (let i = 0; i <= steps; i++) {
    const y = fn(lo + ((hi - lo) * i) / steps);
    if (y < by) {
      by = y;
      bi = i;
    }
  }
  let a = lo + ((hi - lo) * Math.max(0, bi - 1)) / steps;
  let b = lo + ((hi - lo) * Math.min(steps, bi + 1)) / steps;
  const g = (Math.sqrt(5) - 1) / 2;
  for (let it = 0; it < 80; it++) {
    const c1 = b - g * (b - a);
    const c2 = a + g * (b - a);
    if (fn(c1) < fn(c2)) b = c2;
    else a = c1;
  }
  const x = (a + b) / 2;
  const y = fn(x);
  return y <= by ? { x, y } : { x: lo + ((hi - lo) * bi) / steps, y: by };
}
