import { afterAll, describe, expect, it } from 'vitest';
import { NgramModel, writeModel, type ModelHeader } from '../_sdk/models/ngram-model.js';
import { cleanupTempDirs, closeExecutor, tempDir } from '../_sdk/testing/graph.js';
import { computeDiscounts, KnCounter, type KnResult } from './kn.js';
import { afterEach } from 'vitest';

afterEach(cleanupTempDirs);
afterAll(closeExecutor);

function train(docs: number[][], order: number, vocabSize: number, prune?: number[]): KnResult {
  const c = new KnCounter({ order, vocabSize, prune });
  for (const d of docs) c.add(d);
  return c.build();
}

/** Round-trips through model.bin/model.json, so the numbers checked are what the evaluator reads. */
function saved(r: KnResult, vocabSize: number, order: number): NgramModel {
  const dir = tempDir();
  const header: ModelHeader = {
    format: 'forge-ngram-lm',
    version: 1,
    smoothing: 'interpolated-modified-kneser-ney',
    order,
    vocabSize,
    bos: vocabSize,
    eos: vocabSize + 1,
    uniformSize: vocabSize + 1,
    discounts: r.discounts,
    discountFallbackOrders: r.fallbackOrders,
    prune: [0],
    ngrams: r.ngrams,
    pruned: r.pruned,
    contexts: r.contexts,
    training: { documents: r.documents, tokens: r.tokens, predictedTokens: r.predictedTokens },
    tokenizer: { file: 'tokenizer.json', sha256: '', name: 'test' },
    files: {},
  };
  writeModel(dir, header, r.tables, r.codec);
  return NgramModel.load(dir);
}

const P = (m: NgramModel, h: number[], w: number) => Math.exp(m.logProb(h, w));

describe('modified Kneser-Ney, checked by hand', () => {
  it('discounts from counts-of-counts (Chen & Goodman)', () => {
    // n = [10, 4, 2, 1]: Y = 10/18; D1 = 1 − 2Y·4/10 = 5/9; D2 = 2 − 3Y·2/4 = 7/6; D3+ = 3 − 4Y·1/2 = 17/9
    const { d, fallback } = computeDiscounts([10, 4, 2, 1], [0.5, 1, 1.5]);
    expect(fallback).toBe(false);
    expect(d[0]).toBeCloseTo(5 / 9, 12);
    expect(d[1]).toBeCloseTo(7 / 6, 12);
    expect(d[2]).toBeCloseTo(17 / 9, 12);
    expect(computeDiscounts([3, 3, 0, 0], [0.5, 1, 1.5])).toEqual({ d: [0.5, 1, 1.5], fallback: true });
  });

  it('unigram model: discounts from the data and the uniform floor', () => {
    // One document "a b b c c c d d d d e" (ids 0..4) + EOS (id 7), vocabulary of 6 ids → |V| = 7.
    // Counts a1 b2 c3 d4 e1 EOS1: n1=3, n2=1, n3=1, n4=1 → Y = 3/5, D1 = 1 − 2·(3/5)·(1/3) = 0.6,
    // D2 = 2 − 3·(3/5)·1 = 0.2, D3+ = 3 − 4·(3/5)·1 = 0.6. S = 12.
    // γ = (0.6·3 + 0.2·1 + 0.6·2)/12 = 3.2/12; P(w) = max(c − D, 0)/12 + γ/7.
    const r = train([[0, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4]], 1, 6);
    expect(r.discounts[0]?.map((x) => +x.toFixed(12))).toEqual([0.6, 0.2, 0.6]);
    const m = saved(r, 6, 1);
    const g = 3.2 / 12;
    expect(P(m, [], 0)).toBeCloseTo(0.4 / 12 + g / 7, 6); // 0.0714286
    expect(P(m, [], 1)).toBeCloseTo(1.8 / 12 + g / 7, 6);
    expect(P(m, [], 2)).toBeCloseTo(2.4 / 12 + g / 7, 6);
    expect(P(m, [], 3)).toBeCloseTo(3.4 / 12 + g / 7, 6); // 0.3214286
    expect(P(m, [], 5)).toBeCloseTo(g / 7, 6); // never seen
    expect(P(m, [], 7)).toBeCloseTo(0.4 / 12 + g / 7, 6); // EOS
    let total = 0;
    for (let w = 0; w < 6; w++) total += P(m, [], w);
    expect(total + P(m, [], 7)).toBeCloseTo(1, 6);
  });

  it('bigram model: continuation counts, interpolation, and backoff to the unigram', () => {
    // Documents [0 1], [0 1], [1 0]; vocabulary {0, 1, 2}; BOS = 3, EOS = 4; |V| = 4.
    // Bigrams (raw): BOS·0 2, 0·1 2, 1·EOS 2, BOS·1 1, 1·0 1, 0·EOS 1 → counts-of-counts n3 = 0, so
    // both orders use the fallback discounts D = (0.5, 1, 1.5).
    // Unigram continuation counts: 0 ← {BOS, 1}, 1 ← {0, BOS}, EOS ← {1, 0}: 2 each, S = 6.
    //   γ(ε) = (1·3)/6 = 1/2; P1(0) = P1(1) = P1(EOS) = (2−1)/6 + (1/2)/4 = 7/24; P1(2) = 1/8 = 3/24.
    // Context BOS: a(BOS·0) = 2, a(BOS·1) = 1, S = 3; γ(BOS) = (1 + 0.5)/3 = 1/2.
    //   P(0|BOS) = (2−1)/3 + (1/2)(7/24) = 23/48; P(1|BOS) = (1−0.5)/3 + 7/48 = 15/48;
    //   P(2|BOS) = (1/2)(3/24) = 3/48; P(EOS|BOS) = 7/48.
    // Context 0: a(0·1) = 2, a(0·EOS) = 1 → P(1|0) = 23/48, P(EOS|0) = 15/48, P(0|0) = 7/48.
    const r = train(
      [
        [0, 1],
        [0, 1],
        [1, 0],
      ],
      2,
      3,
    );
    expect(r.fallbackOrders).toEqual([1, 2]);
    const m = saved(r, 3, 2);
    const BOS = 3;
    const EOS = 4;
    expect(P(m, [], 0)).toBeCloseTo(7 / 24, 6);
    expect(P(m, [], 2)).toBeCloseTo(3 / 24, 6);
    expect(P(m, [BOS], 0)).toBeCloseTo(23 / 48, 6);
    expect(P(m, [BOS], 1)).toBeCloseTo(15 / 48, 6);
    expect(P(m, [BOS], 2)).toBeCloseTo(3 / 48, 6);
    expect(P(m, [BOS], EOS)).toBeCloseTo(7 / 48, 6);
    expect(P(m, [0], 1)).toBeCloseTo(23 / 48, 6);
    expect(P(m, [0], EOS)).toBeCloseTo(15 / 48, 6);
    expect(P(m, [0], 0)).toBeCloseTo(7 / 48, 6);
    expect(P(m, [1], EOS)).toBeCloseTo(23 / 48, 6);
    // Context 2 was never seen: the unigram distribution.
    expect(P(m, [2], 0)).toBeCloseTo(7 / 24, 6);
    // Scoring a document: BOS 0 1 EOS → −ln(23/48 · 23/48 · 23/48).
    const s = m.scoreDocument([0, 1]);
    expect(s.predictions).toBe(3);
    expect(s.nll).toBeCloseTo(-3 * Math.log(23 / 48), 5);
  });

  it('pruning moves the whole mass of pruned n-grams into the backoff weight', () => {
    // Same corpus, prune bigrams with count ≤ 1: after BOS, 1 (count 1) is pruned.
    // γ(BOS) = (D2 = 1 for BOS·0 + 1 pruned)/3 = 2/3;
    // P(0|BOS) = (2−1)/3 + (2/3)(7/24) = 19/36; P(1|BOS) = (2/3)(7/24) = 7/36; P(2|BOS) = 3/36; P(EOS|BOS) = 7/36.
    const r = train(
      [
        [0, 1],
        [0, 1],
        [1, 0],
      ],
      2,
      3,
      [0, 1],
    );
    expect(r.pruned).toEqual([0, 3]);
    const m = saved(r, 3, 2);
    expect(P(m, [3], 0)).toBeCloseTo(19 / 36, 6);
    expect(P(m, [3], 1)).toBeCloseTo(7 / 36, 6);
    expect(P(m, [3], 2)).toBeCloseTo(3 / 36, 6);
    expect(P(m, [3], 4)).toBeCloseTo(7 / 36, 6);
  });

  it('every context of a trigram model (pruned or not) is a distribution summing to 1', () => {
    // A small synthetic corpus over 12 ids with repeated phrases.
    const docs: number[][] = [];
    let x = 1;
    for (let d = 0; d < 60; d++) {
      const doc: number[] = [];
      for (let i = 0; i < 25; i++) {
        x = (x * 1103515245 + 12345) % 2147483648;
        doc.push(i % 5 === 0 ? 0 : (x >>> 8) % 12);
      }
      docs.push(doc);
    }
    for (const prune of [undefined, [0, 1, 1], [0, 0, 2]]) {
      const r = train(docs, 3, 12, prune);
      const m = saved(r, 12, 3);
      for (const h of [[12], [12, 0], [0, 5], [3, 7], [11, 11], [2]]) {
        let total = 0;
        for (let w = 0; w < 12; w++) total += P(m, h, w);
        total += P(m, h, 13);
        expect(total).toBeCloseTo(1, 5);
      }
    }
  });
});
