/**
 * Deterministic hashing and random numbers, identical on every machine and thread count: seeded
 * orders and MinHash in the corpus nodes, random models and deterministic training in the ML nodes
 * reproduce their artifact hashes.
 */

/** FNV-1a over UTF-16 code units, 32 bits. */
export function fnv1a32(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** MurmurHash3's 32-bit finaliser: a good bijective mixer. */
export function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stable pseudo-random key for ordering items by (seed, salt, id); ties broken by the id itself. */
export function orderKey(seed: number, salt: string, id: string): number {
  return fmix32(fnv1a32(id, fnv1a32(`${seed}:${salt}`)));
}

/** Indices 0..n-1 in a seeded order decided by each item's id (independent of input order). */
export function seededOrder(ids: readonly string[], seed: number, salt: string): number[] {
  const keys = ids.map((id) => orderKey(seed, salt, id));
  return ids.map((_, i) => i).sort((a, b) => (keys[a] as number) - (keys[b] as number) || ((ids[a] as string) < (ids[b] as string) ? -1 : (ids[a] as string) > (ids[b] as string) ? 1 : a - b));
}

/** mulberry32 with a mixed seed and the distributions the ML nodes draw from. */
export class Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number;

  constructor(seed: number) {
    // Mix the seed so that nearby seeds give unrelated streams.
    this.next = mulberry32(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ 0x27d4eb2f);
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  fill(out: Float32Array, lo: number, hi: number): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.next();
    return out;
  }

  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = xs[i] as T;
      xs[i] = xs[j] as T;
      xs[j] = t;
    }
    return xs;
  }
}
