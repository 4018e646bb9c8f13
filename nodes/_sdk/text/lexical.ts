/**
 * Lexical relevance of pool documents to a seed set, for retrieval in pool mode.
 *
 * BM25 over an inverted index of the pool (typed-array posting lists), every seed a query. Our own
 * ~40 lines rather than a search library: libraries are built for one query at a time with
 * per-query allocations; here thousands of long queries hit the same index, and MiniSearch took
 * ~0.1 s per seed on a 2,400-document pool. Raw BM25
 * scores of different queries are not on one scale (a long seed matches more terms), so each
 * seed's scores are divided by that seed's best score over the pool; a pool document's score is
 * then the mean of its m best normalised scores over the seeds — in [0, 1], comparable across
 * documents, and with the same "max / mean-top-m" meaning as the dense retriever's.
 */

/** Word tokens: lower-cased runs of letters/digits/underscore (identifiers such as get_user_info stay whole). */
export function lexicalTokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? [];
}

/** At most this many distinct terms per query, the ones with the highest tf × idf: long seeds would otherwise scan every posting list. */
const MAX_QUERY_TERMS = 48;

export interface Bm25Options {
  /** Mean of the m best normalised seed scores (1 = max). */
  m: number;
  k1?: number;
  b?: number;
  /** Distinct terms per seed query (default MAX_QUERY_TERMS). */
  maxTerms?: number;
  /**
   * Divide a seed's scores by its score against itself as a document (`self`, default: an upper
   * bound that does not depend on the pool) or by its best pool score (`best`: every seed then
   * gets a perfect match somewhere, which inflates seeds that match nothing well).
   */
  normalize?: 'best' | 'self';
  progress?(done: number, total: number): void;
  signal?: AbortSignal;
}

interface InvertedIndex {
  /** Term → posting list: document ids and term counts, parallel arrays. */
  postings: Map<string, { docs: Int32Array; tfs: Int32Array }>;
  lengths: Float64Array;
  avgLength: number;
}

function buildIndex(pool: readonly string[]): InvertedIndex {
  const lists = new Map<string, { docs: number[]; tfs: number[] }>();
  const lengths = new Float64Array(pool.length);
  pool.forEach((text, d) => {
    const tf = new Map<string, number>();
    for (const t of lexicalTokens(text)) if (t.length > 1) tf.set(t, (tf.get(t) ?? 0) + 1);
    let len = 0;
    for (const [t, c] of tf) {
      len += c;
      let l = lists.get(t);
      if (!l) lists.set(t, (l = { docs: [], tfs: [] }));
      l.docs.push(d);
      l.tfs.push(c);
    }
    lengths[d] = len;
  });
  const postings = new Map<string, { docs: Int32Array; tfs: Int32Array }>();
  for (const [t, l] of lists) postings.set(t, { docs: Int32Array.from(l.docs), tfs: Int32Array.from(l.tfs) });
  const avgLength = lengths.reduce((a, b) => a + b, 0) / Math.max(1, pool.length);
  return { postings, lengths, avgLength };
}

export function bm25PoolScores(seeds: readonly string[], pool: readonly string[], o: Bm25Options): Float64Array {
  const idx = buildIndex(pool);
  const n = pool.length;
  const k1 = o.k1 ?? 1.2;
  const b = o.b ?? 0.75;
  const m = Math.max(1, o.m);
  // Per-document length factor of the BM25 denominator, computed once.
  const norm = Float64Array.from(idx.lengths, (len) => k1 * (1 - b + (b * len) / Math.max(idx.avgLength, 1e-9)));
  const idf = (df: number) => Math.log(1 + (n - df + 0.5) / (df + 0.5));
  // Best m normalised scores per document, row-major n × m, kept sorted descending.
  const best = new Float64Array(n * m);
  const acc = new Float64Array(n);
  seeds.forEach((seed, qi) => {
    if (o.signal?.aborted) throw o.signal.reason instanceof Error ? o.signal.reason : new Error('aborted');
    const tf = new Map<string, number>();
    for (const t of lexicalTokens(seed)) if (t.length > 1) tf.set(t, (tf.get(t) ?? 0) + 1);
    const terms = [...tf.entries()]
      .filter(([t]) => idx.postings.has(t))
      .map(([t, c]) => ({ t, w: (1 + Math.log(c)) * idf(idx.postings.get(t)!.docs.length) }))
      .sort((x, y) => y.w - x.w || (x.t < y.t ? -1 : 1))
      .slice(0, o.maxTerms ?? MAX_QUERY_TERMS);
    acc.fill(0);
    let top = 0;
    const byBest = o.normalize === 'best';
    if (!byBest) {
      let qlen = 0;
      for (const c of tf.values()) qlen += c;
      const qnorm = k1 * (1 - b + (b * qlen) / Math.max(idx.avgLength, 1e-9));
      for (const { t } of terms) {
        const f = tf.get(t)!;
        top += (idf(idx.postings.get(t)!.docs.length) * f * (k1 + 1)) / (f + qnorm);
      }
    }
    for (const { t } of terms) {
      const { docs, tfs } = idx.postings.get(t)!;
      const w = idf(docs.length);
      for (let j = 0; j < docs.length; j++) {
        const d = docs[j]!;
        const f = tfs[j]!;
        const v = acc[d]! + (w * f * (k1 + 1)) / (f + norm[d]!);
        acc[d] = v;
        if (byBest && v > top) top = v;
      }
    }
    if (top > 0) {
      for (let d = 0; d < n; d++) {
        const s = Math.min(1, acc[d]! / top);
        const base = d * m;
        if (s <= best[base + m - 1]!) continue;
        // Insert into the sorted top-m row.
        let j = m - 1;
        while (j > 0 && best[base + j - 1]! < s) {
          best[base + j] = best[base + j - 1]!;
          j--;
        }
        best[base + j] = s;
      }
    }
    o.progress?.(qi + 1, seeds.length);
  });
  // Fewer than m matching seeds count as zeros: a document that one seed happens to match is weaker evidence.
  const out = new Float64Array(n);
  for (let d = 0; d < n; d++) {
    let s = 0;
    for (let j = 0; j < m; j++) s += best[d * m + j]!;
    out[d] = s / m;
  }
  return out;
}

/**
 * Reciprocal rank fusion of several score vectors over the same documents: Σ 1 / (k + rank).
 * NaN scores rank last. Ties share the better rank, so fusion does not depend on row order.
 */
export function reciprocalRankFusion(scores: readonly ArrayLike<number>[], k = 60): Float64Array {
  const n = scores[0]?.length ?? 0;
  const out = new Float64Array(n);
  for (const s of scores) {
    if (s.length !== n) throw new Error(`rank fusion: ${s.length} scores for ${n} documents`);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => key(s[b]!) - key(s[a]!));
    let rank = 0;
    for (let j = 0; j < n; j++) {
      if (j === 0 || key(s[order[j]!]!) !== key(s[order[j - 1]!]!)) rank = j + 1;
      out[order[j]!] = out[order[j]!]! + 1 / (k + rank);
    }
  }
  return out;
}

function key(v: number): number {
  return Number.isNaN(v) ? -Infinity : v;
}
