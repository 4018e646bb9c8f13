import { ExactSearcher, rescore, type TopK } from '../_sdk/vectors/knn.js';

/**
 * A validation split for the similarity threshold when nobody has labelled the pool: every seed,
 * scored against the other seeds (leave-one-out), stands for a wanted document; general text (not
 * agent data), scored against all seeds, for an unwanted one. Leave-one-out rather than a fixed
 * held-out fraction because seed sets are small and every seed then counts once as a positive.
 */
export interface ValidationScores {
  scores: number[];
  labels: boolean[];
  seeds: number;
  general: number;
}

export type Aggregate = 'max' | 'mean-top-m';

/** Pool-mode score of one query from its top-k row (best first), skipping one excluded base row. */
export function aggregateRow(res: TopK, q: number, aggregate: Aggregate, m: number, exclude = -1): number {
  const take = aggregate === 'max' ? 1 : m;
  let sum = 0;
  let cnt = 0;
  let skipped = false;
  for (let j = 0; j < res.k && cnt < take; j++) {
    const i = res.indices[q * res.k + j]!;
    if (i < 0) continue;
    // Skip the query itself once (a duplicate seed elsewhere in the set still counts: it is another seed).
    if (i === exclude && !skipped) {
      skipped = true;
      continue;
    }
    sum += res.scores[q * res.k + j]!;
    cnt++;
  }
  if (cnt === 0) return NaN;
  return aggregate === 'max' ? sum : sum / cnt;
}

export async function validationScores(
  seeds: Float32Array,
  nSeeds: number,
  general: Float32Array,
  nGeneral: number,
  dim: number,
  aggregate: Aggregate,
  m: number,
  threads: number | undefined,
): Promise<ValidationScores> {
  const k = aggregate === 'max' ? 1 : m;
  const searcher = await ExactSearcher.open({ provider: 'cpu', threads });
  try {
    // One more neighbour for the seeds: their nearest is usually themselves, which is skipped.
    const self = await searcher.search(seeds, nSeeds, seeds, nSeeds, dim, Math.min(k + 1, nSeeds));
    rescore(self, seeds, seeds, dim);
    const gen = await searcher.search(seeds, nSeeds, general, nGeneral, dim, Math.min(k, nSeeds));
    rescore(gen, seeds, general, dim);
    const scores: number[] = [];
    const labels: boolean[] = [];
    for (let q = 0; q < nSeeds; q++) {
      scores.push(aggregateRow(self, q, aggregate, m, q));
      labels.push(true);
    }
    for (let q = 0; q < nGeneral; q++) {
      scores.push(aggregateRow(gen, q, aggregate, m));
      labels.push(false);
    }
    return { scores, labels, seeds: nSeeds, general: nGeneral };
  } finally {
    await searcher.close();
  }
}
