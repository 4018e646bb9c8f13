/**
 * MinHash signatures and LSH banding for near-duplicate detection (Broder 1997; Leskovec et al.,
 * Mining of Massive Datasets ch. 3). Shingles are hashed to 32 bits; permutation i is
 * h_i(x) = fmix32(a_i·x + b_i) with seeded odd a_i, so signatures depend only on text and seed.
 */
import { fmix32, fnv1a32, mulberry32 } from '../_sdk/rng.js';

export type ShingleUnit = 'word' | 'char';

const WORD = /[\p{L}\p{N}_]+/gu;

/** The set of shingle hashes of a text, sorted ascending (for exact Jaccard by merging). */
export function shingles(text: string, unit: ShingleUnit, n: number, lowercase = true): Uint32Array {
  const t = lowercase ? text.toLowerCase() : text;
  const set = new Set<number>();
  if (unit === 'word') {
    const words = t.match(WORD) ?? [];
    if (words.length > 0 && words.length < n) set.add(fnv1a32(words.join(' ')));
    for (let i = 0; i + n <= words.length; i++) {
      let s = words[i] as string;
      for (let j = 1; j < n; j++) s += ` ${words[i + j] as string}`;
      set.add(fnv1a32(s));
    }
  } else {
    const s = t.replace(/\s+/g, ' ').trim();
    if (s.length > 0 && s.length < n) set.add(fnv1a32(s));
    for (let i = 0; i + n <= s.length; i++) set.add(fnv1a32(s.slice(i, i + n)));
  }
  return Uint32Array.from(set).sort();
}

export function jaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) {
      inter++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return inter / (a.length + b.length - inter);
}

export class MinHasher {
  readonly a: Uint32Array;
  readonly b: Uint32Array;
  constructor(
    readonly numPerm: number,
    seed: number,
  ) {
    const rand = mulberry32(fnv1a32(`minhash:${seed}`));
    this.a = new Uint32Array(numPerm);
    this.b = new Uint32Array(numPerm);
    for (let i = 0; i < numPerm; i++) {
      this.a[i] = (Math.floor(rand() * 4294967296) | 1) >>> 0;
      this.b[i] = Math.floor(rand() * 4294967296) >>> 0;
    }
  }

  /** Empty shingle sets get an all-max signature (they match only each other). */
  signature(sh: Uint32Array): Uint32Array {
    const sig = new Uint32Array(this.numPerm).fill(0xffffffff);
    const { a, b, numPerm } = this;
    for (let k = 0; k < sh.length; k++) {
      const x = sh[k] as number;
      for (let i = 0; i < numPerm; i++) {
        const v = fmix32((Math.imul(a[i] as number, x) + (b[i] as number)) | 0);
        if (v < (sig[i] as number)) sig[i] = v;
      }
    }
    return sig;
  }
}

export function estimatedJaccard(s: Uint32Array, t: Uint32Array): number {
  let eq = 0;
  for (let i = 0; i < s.length; i++) if (s[i] === t[i]) eq++;
  return eq / s.length;
}

/** The similarity at which a pair becomes a candidate with probability 1/2: ≈ (1/b)^(1/r). */
export function lshThreshold(bands: number, rows: number): number {
  return (1 / bands) ** (1 / rows);
}

/** Probability that a pair of Jaccard s shares at least one band: 1 − (1 − s^r)^b. */
export function candidateProbability(s: number, bands: number, rows: number): number {
  return 1 - (1 - s ** rows) ** bands;
}

/**
 * A band of a signature as one number: two independent 32-bit hashes of its `rows` values make a
 * 53-bit key (exact in a double and in a BIGINT); a collision only adds a candidate, which
 * verification then rejects.
 */
export function bandKey(sig: Uint32Array, band: number, rows: number): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let r = 0; r < rows; r++) {
    const v = sig[band * rows + r] as number;
    h1 = fmix32((h1 ^ v) + 0x9e3779b9);
    h2 = fmix32(Math.imul(h2 ^ v, 0x85ebca6b) + r);
  }
  return h1 * 2097152 + (h2 >>> 11);
}

/**
 * Candidate pairs (i < j) from LSH banding. Buckets larger than `maxBucket` compare every member
 * with the first `maxBucket` only, which bounds the work on masses of identical documents (those
 * still end up in one cluster through the shared members).
 */
export function lshCandidates(sigs: Uint32Array[], bands: number, rows: number, maxBucket = 100): Array<[number, number]> {
  const seen = new Set<number>();
  const pairs: Array<[number, number]> = [];
  const n = sigs.length;
  const push = (i: number, j: number) => {
    const lo = Math.min(i, j);
    const hi = Math.max(i, j);
    const key = lo * n + hi;
    if (seen.has(key)) return;
    seen.add(key);
    pairs.push([lo, hi]);
  };
  for (let band = 0; band < bands; band++) {
    const buckets = new Map<number, number[]>();
    for (let d = 0; d < n; d++) {
      const key = bandKey(sigs[d] as Uint32Array, band, rows);
      const list = buckets.get(key);
      if (list) list.push(d);
      else buckets.set(key, [d]);
    }
    for (const list of buckets.values()) {
      if (list.length < 2) continue;
      const head = Math.min(list.length, maxBucket);
      for (let x = 0; x < head; x++) for (let y = x + 1; y < list.length; y++) push(list[x] as number, list[y] as number);
    }
  }
  return pairs.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
}

export class UnionFind {
  private readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = new Int32Array(n).map((_, i) => i);
  }
  find(x: number): number {
    let r = x;
    while (this.parent[r] !== r) r = this.parent[r] as number;
    while (this.parent[x] !== r) {
      const next = this.parent[x] as number;
      this.parent[x] = r;
      x = next;
    }
    return r;
  }
  /** The smaller index becomes the root, so a cluster's root is its first document. */
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    if (ra < rb) this.parent[rb] = ra;
    else this.parent[ra] = rb;
  }
}

export interface NearDupOptions {
  unit: ShingleUnit;
  ngram: number;
  bands: number;
  rows: number;
  threshold: number;
  verify: 'exact' | 'signature';
  seed: number;
  maxBucket?: number;
  lowercase?: boolean;
}

export interface NearDupResult {
  /** For each document: its cluster root (itself when unique). */
  root: Int32Array;
  /** Similarity of each document to its root (1 for roots). */
  similarity: Float64Array;
  candidatePairs: number;
  verifiedPairs: number;
}

export function findNearDuplicates(texts: readonly string[], opts: NearDupOptions, onProgress?: (done: number, total: number) => void): NearDupResult {
  const n = texts.length;
  const hasher = new MinHasher(opts.bands * opts.rows, opts.seed);
  const sets: Uint32Array[] = new Array(n);
  const sigs: Uint32Array[] = new Array(n);
  for (let i = 0; i < n; i++) {
    sets[i] = shingles(texts[i] as string, opts.unit, opts.ngram, opts.lowercase ?? true);
    sigs[i] = hasher.signature(sets[i] as Uint32Array);
    if (onProgress && i % 500 === 0) onProgress(i, n);
  }
  const sim = (i: number, j: number) => (opts.verify === 'exact' ? jaccard(sets[i] as Uint32Array, sets[j] as Uint32Array) : estimatedJaccard(sigs[i] as Uint32Array, sigs[j] as Uint32Array));
  const pairs = lshCandidates(sigs, opts.bands, opts.rows, opts.maxBucket ?? 100);
  const uf = new UnionFind(n);
  let verified = 0;
  for (const [i, j] of pairs) {
    if (sim(i, j) >= opts.threshold) {
      uf.union(i, j);
      verified++;
    }
  }
  const root = new Int32Array(n);
  const similarity = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = uf.find(i);
    root[i] = r;
    similarity[i] = r === i ? 1 : sim(r, i);
  }
  onProgress?.(n, n);
  return { root, similarity, candidatePairs: pairs.length, verifiedPairs: verified };
}
