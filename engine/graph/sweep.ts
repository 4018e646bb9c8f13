import type { z } from 'zod';
import type { SweepSpec } from './document.js';

export type Variant = Record<string, number | string | boolean>;

/**
 * The variants one node's sweep produces, keyed `<nodeId>.<param path>`, in a stable order.
 * Dirichlet samples are drawn from the graph seed, so the same graph sweeps the same points.
 */
export function sweepVariants(nodeId: string, sweep: SweepSpec, seed: number): Variant[] {
  if (sweep.dirichlet) {
    const { params, samples, alpha } = sweep.dirichlet;
    const rand = mulberry32(hashSeed(`${seed}:${nodeId}`));
    const out: Variant[] = [];
    for (let s = 0; s < samples; s++) {
      const g = params.map(() => gamma(alpha, rand));
      const total = g.reduce((a, b) => a + b, 0);
      // Rounded shares keep variant ids short; the last share absorbs rounding so they sum to 1.
      const shares = g.map((x) => Math.round((x / total) * 1e4) / 1e4);
      shares[shares.length - 1] = Math.round((1 - shares.slice(0, -1).reduce((a, b) => a + b, 0)) * 1e4) / 1e4;
      out.push(Object.fromEntries(params.map((p, i) => [`${nodeId}.${p}`, shares[i] as number])));
    }
    return out;
  }
  return (sweep.values ?? []).map((v) => ({ [`${nodeId}.${sweep.param as string}`]: v }));
}

export function getPath(obj: Record<string, unknown>, path: string): unknown {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = obj;
  for (const key of keys.slice(0, -1)) {
    const next = cur[key];
    if (next === null || typeof next !== 'object') cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1] as string] = value;
}

/** Whether a zod object schema declares the (first segment of the) path, so defaults can be swept too. */
export function hasSchemaPath(schema: z.ZodType, path: string): boolean {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  return !!shape && (path.split('.')[0] as string) in shape;
}

/** True when two variants agree on every key they share. */
export function consistent(a: Variant, b: Variant): boolean {
  for (const [k, v] of Object.entries(b)) if (k in a && a[k] !== v) return false;
  return true;
}

export function variantLabel(v: Variant): string {
  return Object.entries(v)
    .map(([k, x]) => `${k}=${String(x)}`)
    .join(',');
}

function hashSeed(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

function mulberry32(a: number): () => number {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Marsaglia–Tsang gamma sampler (with the alpha < 1 boost). */
function gamma(alpha: number, rand: () => number): number {
  if (alpha < 1) return gamma(alpha + 1, rand) * Math.pow(rand(), 1 / alpha);
  const d = alpha - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      const u1 = rand() || 1e-12;
      const u2 = rand();
      x = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rand();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}
