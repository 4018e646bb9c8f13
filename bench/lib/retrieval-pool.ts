import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BagEncoder, DEFAULT_HASHED, l2normalize } from '../../nodes/_sdk/vectors/encoders.js';
import { ExactSearcher } from '../../nodes/_sdk/vectors/knn.js';
import { lexicalTokens } from '../../nodes/_sdk/text/lexical.js';
import { REPO_ROOT } from './report.js';

/** The labelled pool of the retrieval-quality bench and the scorers shared by its scripts. */

export interface Row {
  id: string;
  text: string;
  source: string;
  is_agent?: boolean;
}

export const POOL_DIR = join(REPO_ROOT, 'bench', 'out', 'retrieval-pool');

export function readJsonl(file: string): Row[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Row);
}

export function ensurePool(): void {
  if (existsSync(join(POOL_DIR, 'pool.jsonl'))) return;
  console.log('building the evaluation pool (man pages, Debian docs, prose, agent docs)…');
  execFileSync('/usr/bin/python3', [join(REPO_ROOT, 'bench', 'retrieval-quality-pool.py'), POOL_DIR], { stdio: 'inherit' });
}

/** Pool-mode dense scores: mean of the m best cosine similarities to the seeds. */
export async function denseScores(seeds: Float32Array, nSeeds: number, pool: Float32Array, nPool: number, dim: number, m: number): Promise<Float64Array> {
  const searcher = await ExactSearcher.open({ provider: 'cpu' });
  try {
    const res = await searcher.search(seeds, nSeeds, pool, nPool, dim, m);
    const out = new Float64Array(nPool);
    for (let i = 0; i < nPool; i++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += res.scores[i * m + j]!;
      out[i] = s / m;
    }
    return out;
  } finally {
    await searcher.close();
  }
}

export async function embedHashed(texts: readonly string[]): Promise<Float32Array> {
  const enc = await BagEncoder.hashed(DEFAULT_HASHED, { provider: 'cpu', batchSize: 256 });
  try {
    const { data } = await enc.encode(texts);
    l2normalize(data, enc.dim);
    return data;
  } finally {
    await enc.close();
  }
}

/** TF-IDF cosine (sublinear tf, smooth idf, L2-normalised), mean of the m best seed similarities. */
export function tfidfScores(seeds: readonly string[], pool: readonly string[], m: number): Float64Array {
  const docs = [...seeds, ...pool].map(lexicalTokens);
  const df = new Map<string, number>();
  for (const d of docs) for (const t of new Set(d)) df.set(t, (df.get(t) ?? 0) + 1);
  const N = docs.length;
  const vec = (toks: string[]) => {
    const tf = new Map<string, number>();
    for (const t of toks) tf.set(t, (tf.get(t) ?? 0) + 1);
    let norm = 0;
    const v = new Map<string, number>();
    for (const [t, c] of tf) {
      const w = (1 + Math.log(c)) * (1 + Math.log((1 + N) / (1 + df.get(t)!)));
      v.set(t, w);
      norm += w * w;
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (const [t, w] of v) v.set(t, w * inv);
    return v;
  };
  // Inverted index over the seeds; each pool document accumulates dot products with every seed.
  const postings = new Map<string, { seed: number; w: number }[]>();
  docs.slice(0, seeds.length).forEach((d, s) => {
    for (const [t, w] of vec(d)) {
      let list = postings.get(t);
      if (!list) postings.set(t, (list = []));
      list.push({ seed: s, w });
    }
  });
  const out = new Float64Array(pool.length);
  const acc = new Float64Array(seeds.length);
  for (let i = 0; i < pool.length; i++) {
    acc.fill(0);
    for (const [t, w] of vec(docs[seeds.length + i]!)) for (const p of postings.get(t) ?? []) acc[p.seed] = acc[p.seed]! + w * p.w;
    const top = Array.from(acc).sort((a, b) => b - a);
    let s = 0;
    for (let j = 0; j < m; j++) s += top[j] ?? 0;
    out[i] = s / m;
  }
  return out;
}
