import MiniSearch from 'minisearch';

/**
 * Lexical relevance of pool documents to a seed set, for retrieval in pool mode.
 *
 * BM25 (MiniSearch's BM25+ ranking) indexes the pool and runs every seed as a query. Raw BM25
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
  progress?(done: number, total: number): void;
  signal?: AbortSignal;
}

export function bm25PoolScores(seeds: readonly string[], pool: readonly string[], o: Bm25Options): Float64Array {
  const ms = new MiniSearch<{ id: number; text: string }>({ fields: ['text'], idField: 'id', tokenize: lexicalTokens, processTerm: (t) => (t.length > 1 ? t : null) });
  ms.addAll(pool.map((text, id) => ({ id, text })));
  const df = new Map<string, number>();
  for (const text of pool) for (const t of new Set(lexicalTokens(text))) df.set(t, (df.get(t) ?? 0) + 1);
  const n = pool.length;
  const m = Math.max(1, o.m);
  // Best m normalised scores per pool document, kept sorted descending.
  const best = Array.from({ length: n }, () => [] as number[]);
  seeds.forEach((seed, qi) => {
    if (o.signal?.aborted) throw o.signal.reason instanceof Error ? o.signal.reason : new Error('aborted');
    const tf = new Map<string, number>();
    for (const t of lexicalTokens(seed)) if (t.length > 1) tf.set(t, (tf.get(t) ?? 0) + 1);
    const terms = [...tf.entries()]
      .filter(([t]) => df.has(t))
      .map(([t, c]) => ({ t, w: (1 + Math.log(c)) * Math.log(1 + n / df.get(t)!) }))
      .sort((a, b) => b.w - a.w || (a.t < b.t ? -1 : 1))
      .slice(0, MAX_QUERY_TERMS)
      .map((x) => x.t);
    if (terms.length > 0) {
      const hits = ms.search(terms.join(' '), { combineWith: 'OR', bm25: { k: o.k1 ?? 1.2, b: o.b ?? 0.75, d: 0.5 } });
      const top = hits[0]?.score ?? 0;
      if (top > 0) {
        for (const h of hits) {
          const list = best[h.id as number]!;
          const s = h.score / top;
          if (list.length < m) {
            list.push(s);
            list.sort((a, b) => b - a);
          } else if (s > list[m - 1]!) {
            list[m - 1] = s;
            list.sort((a, b) => b - a);
          }
        }
      }
    }
    o.progress?.(qi + 1, seeds.length);
  });
  // Fewer than m matching seeds count as zeros: a document that one seed happens to match is weaker evidence.
  return Float64Array.from(best, (list) => list.reduce((s, v) => s + v, 0) / m);
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
