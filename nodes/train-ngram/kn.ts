/**
 * Interpolated modified Kneser-Ney (Chen & Goodman 1998, as in KenLM's lmplz):
 *
 *   P_k(w | h) = max(a(hw) − D_k(a(hw)), 0) / S(h) + γ_k(h) · P_{k−1}(w | h′)
 *   γ_k(h)     = (D_k1·N1(h•) + D_k2·N2(h•) + D_k3+·N3+(h•) + Σ_{pruned w} a(hw)) / S(h)
 *   P_0(w)     = 1 / |V|
 *
 * where a is the raw count at the highest order and for n-grams that start with BOS, and the
 * continuation count |{x : x·g occurs}| otherwise; S(h) = Σ_w a(hw); h′ drops h's first token;
 * D from each order's counts-of-counts n1..n4: Y = n1/(n1+2n2), D1 = 1−2Y·n2/n1,
 * D2 = 2−3Y·n3/n2, D3+ = 3−4Y·n4/n3 (a fallback is used when these are undefined or out of
 * range, as KenLM's --discount_fallback). Pruning (KenLM's --prune) removes n-grams of order ≥ 2
 * whose adjusted count is at or below the order's threshold and moves their whole mass into γ,
 * so every distribution still sums to 1.
 */
import { KeyCodec, type ModelTables } from '../_sdk/models/ngram-model.js';

export interface KnOptions {
  order: number;
  /** Size of the tokenizer's id space; BOS = vocabSize, EOS = vocabSize + 1. */
  vocabSize: number;
  /** Threshold per order (index 0 = unigrams, must be 0); missing orders repeat the last value. */
  prune?: number[];
  discountFallback?: [number, number, number];
}

export interface KnResult {
  tables: ModelTables;
  codec: KeyCodec;
  discounts: number[][];
  fallbackOrders: number[];
  ngrams: number[];
  pruned: number[];
  contexts: number[];
  documents: number;
  tokens: number;
  predictedTokens: number;
}

/** The most entries a JS Map holds (2^24); beyond it the model needs pruning or a lower order. */
export const MAP_LIMIT = 16_777_216;

export class TooManyNgrams extends Error {}

export class KnCounter {
  readonly codec: KeyCodec;
  /** top[k−1]: raw counts of the windows of length k (full windows at k = N, BOS-started below). */
  private readonly top: Map<string, number>[];
  readonly bos: string;
  readonly eos: string;
  documents = 0;
  tokens = 0;
  predictedTokens = 0;

  constructor(readonly opts: KnOptions) {
    if (!Number.isInteger(opts.order) || opts.order < 1) throw new Error('order must be a positive integer');
    this.codec = new KeyCodec(opts.vocabSize + 2);
    this.top = Array.from({ length: opts.order }, () => new Map<string, number>());
    this.bos = this.codec.char(opts.vocabSize);
    this.eos = this.codec.char(opts.vocabSize + 1);
  }

  /** Adds one document (token ids, no BOS/EOS). */
  add(ids: ArrayLike<number>): void {
    const { order } = this.opts;
    const w = this.codec.width;
    let s = this.bos;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      if (id < 0 || id >= this.opts.vocabSize || !Number.isInteger(id)) throw new Error(`token id ${id} is outside the vocabulary (0..${this.opts.vocabSize - 1})`);
      s += this.codec.char(id);
    }
    s += this.eos;
    const len = ids.length + 2;
    for (let i = 1; i < len; i++) {
      const start = i - order + 1 > 0 ? i - order + 1 : 0;
      const key = s.slice(start * w, (i + 1) * w);
      const map = this.top[i - start] as Map<string, number>;
      map.set(key, (map.get(key) ?? 0) + 1);
      if (map.size >= MAP_LIMIT) throw new TooManyNgrams(`more than ${MAP_LIMIT} distinct ${i - start + 1}-grams`);
    }
    this.documents++;
    this.tokens += ids.length;
    this.predictedTokens += len - 1;
  }

  /** Adjusted counts per order (index k−1). */
  adjusted(): Map<string, number>[] {
    const N = this.opts.order;
    const w = this.codec.width;
    const a: Map<string, number>[] = new Array(N);
    a[N - 1] = this.top[N - 1] as Map<string, number>;
    for (let k = N - 1; k >= 1; k--) {
      const m = new Map<string, number>(this.top[k - 1]);
      for (const key of (a[k] as Map<string, number>).keys()) {
        const suffix = key.slice(w);
        m.set(suffix, (m.get(suffix) ?? 0) + 1);
      }
      a[k - 1] = m;
    }
    return a;
  }

  build(): KnResult {
    return buildModel(this, this.adjusted());
  }
}

export function computeDiscounts(n: [number, number, number, number], fallback: [number, number, number]): { d: [number, number, number]; fallback: boolean } {
  const [n1, n2, n3, n4] = n;
  const Y = n1 / (n1 + 2 * n2);
  const d: [number, number, number] = [1 - (2 * Y * n2) / n1, 2 - (3 * Y * n3) / n2, 3 - (4 * Y * n4) / n3];
  const ok = d.every((x, j) => Number.isFinite(x) && x > 0 && x < j + 1);
  return ok ? { d, fallback: false } : { d: [fallback[0], fallback[1], fallback[2]], fallback: true };
}

function buildModel(counter: KnCounter, a: Map<string, number>[]): KnResult {
  const { order: N, vocabSize } = counter.opts;
  const codec = counter.codec;
  const w = codec.width;
  const fallback = counter.opts.discountFallback ?? [0.5, 1, 1.5];
  const prune = counter.opts.prune ?? [0];
  const threshold = (k: number) => (k === 1 ? 0 : (prune[Math.min(k - 1, prune.length - 1)] ?? 0));
  const uniform = 1 / (vocabSize + 1);
  const prob: Map<string, number>[] = [];
  const gamma: Map<string, number>[] = [];
  const discounts: number[][] = [];
  const fallbackOrders: number[] = [];
  const ngrams: number[] = [];
  const pruned: number[] = [];
  const contexts: number[] = [];

  /** P_k(w | h) for key = h·w of length k, backing off through the tables built so far. */
  const lower = (k: number, key: string): number => {
    if (k === 0) return uniform;
    const p = (prob[k - 1] as Map<string, number>).get(key);
    if (p !== undefined) return p;
    const g = (gamma[k - 1] as Map<string, number>).get(key.slice(0, key.length - w)) ?? 1;
    return g * lower(k - 1, key.slice(w));
  };

  for (let k = 1; k <= N; k++) {
    const counts = a[k - 1] as Map<string, number>;
    const coc: [number, number, number, number] = [0, 0, 0, 0];
    for (const c of counts.values()) if (c >= 1 && c <= 4) coc[c - 1] = (coc[c - 1] as number) + 1;
    const { d, fallback: fb } = computeDiscounts(coc, fallback);
    if (fb) fallbackOrders.push(k);
    discounts.push(d);
    const D = (c: number) => (c <= 0 ? 0 : c === 1 ? d[0] : c === 2 ? d[1] : d[2]);
    const t = threshold(k);
    // Per context: S, and the discount mass of kept n-grams + the whole mass of pruned ones.
    const ctx = new Map<string, { s: number; free: number }>();
    // The context entry of each n-gram, in the map's iteration order (reused by the second pass).
    const ctxOf: { s: number; free: number }[] = new Array(counts.size);
    let prunedK = 0;
    let idx = 0;
    for (const [key, c] of counts) {
      const h = key.slice(0, key.length - w);
      const isPruned = k >= 2 && c <= t;
      if (isPruned) prunedK++;
      const free = isPruned ? c : D(c);
      let e = ctx.get(h);
      if (e) {
        e.s += c;
        e.free += free;
      } else {
        e = { s: c, free };
        ctx.set(h, e);
      }
      ctxOf[idx++] = e;
    }
    const g = new Map<string, number>();
    for (const [h, e] of ctx) g.set(h, e.free / e.s);
    gamma.push(g);
    const p = new Map<string, number>();
    prob.push(p);
    idx = 0;
    for (const [key, c] of counts) {
      const e = ctxOf[idx++] as { s: number; free: number };
      if (k >= 2 && c <= t) continue;
      p.set(key, Math.max(c - D(c), 0) / e.s + (e.free / e.s) * lower(k - 1, key.slice(w)));
    }
    ngrams.push(p.size);
    pruned.push(prunedK);
    contexts.push(g.size);
  }
  // To logs in place (same keys, so the maps keep their shape).
  for (const m of [...prob, ...gamma]) for (const [k, v] of m) m.set(k, Math.log(v));
  const tables: ModelTables = { logp: prob, logBackoff: gamma };
  return { tables, codec, discounts, fallbackOrders, ngrams, pruned, contexts, documents: counter.documents, tokens: counter.tokens, predictedTokens: counter.predictedTokens };
}
