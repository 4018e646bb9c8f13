import { describe, expect, it } from 'vitest';
import { bm25PoolScores, lexicalTokens, reciprocalRankFusion } from './lexical.js';
import { rankQuality, thresholdForTarget, wilsonInterval } from '../vectors/rank-metrics.js';

describe('BM25 pool scores', () => {
  const seeds = ['get_user_info(user_id): retrieve user details by id from the REST API', 'create_order endpoint: POST /orders with a JSON body, returns the order id'];
  const pool = [
    'The fox ran across the field in the evening light, and the farmer watched.',
    'delete_user endpoint: DELETE /users/{user_id} removes the user; returns 204',
    'ls lists directory contents; with -l it uses a long listing format',
    'get_order_info(order_id): retrieve order details from the REST API by id',
  ];

  it('ranks API-like documents above prose and man-page text', () => {
    const s = bm25PoolScores(seeds, pool, { m: 1 });
    expect(s[3]!).toBeGreaterThan(s[2]!);
    expect(s[1]!).toBeGreaterThan(s[0]!);
    expect(Math.max(...s)).toBeLessThanOrEqual(1);
    expect(s[0]!).toBeLessThan(s[3]! / 2);
  });

  it('mean of the m best counts missing seed matches as zero', () => {
    const one = bm25PoolScores(seeds, pool, { m: 1 });
    const two = bm25PoolScores(seeds, pool, { m: 2 });
    for (let i = 0; i < pool.length; i++) expect(two[i]!).toBeLessThanOrEqual(one[i]! + 1e-12);
  });

  it('keeps identifiers whole', () => {
    expect(lexicalTokens('Call get_user_info(ID=7)')).toEqual(['call', 'get_user_info', 'id', '7']);
  });
});

describe('rank fusion and ranking metrics', () => {
  it('fuses ranks, with ties sharing the better rank', () => {
    const f = reciprocalRankFusion([
      [3, 2, 1],
      [1, 2, 3],
    ]);
    expect(f[1]).toBeCloseTo(2 / 62, 12);
    expect(f[0]).toBeCloseTo(f[2]!, 12);
    const tied = reciprocalRankFusion([[5, 5, 1]]);
    expect(tied[0]).toBe(tied[1]);
  });

  it('average precision, recall at precision and R-precision', () => {
    // ranking: + + - + - -
    const q = rankQuality([0.9, 0.8, 0.7, 0.6, 0.5, 0.4], [true, true, false, true, false, false]);
    expect(q.averagePrecision).toBeCloseTo((1 + 1 + 3 / 4) / 3, 12);
    expect(q.recallAtP90).toBeCloseTo(2 / 3, 12);
    expect(q.recallAtP80).toBeCloseTo(2 / 3, 12);
    expect(q.precisionAtR).toBeCloseTo(2 / 3, 12);
    expect(thresholdForTarget([0.9, 0.8, 0.7, 0.6], [true, true, false, true], { metric: 'precision', value: 0.75 })?.threshold).toBe(0.6);
  });

  it('Wilson interval contains the proportion and narrows with n', () => {
    const [lo, hi] = wilsonInterval(8, 10);
    expect(lo).toBeLessThan(0.8);
    expect(hi).toBeGreaterThan(0.8);
    const [lo2, hi2] = wilsonInterval(800, 1000);
    expect(hi2 - lo2).toBeLessThan(hi - lo);
    expect(wilsonInterval(0, 10)[0]).toBe(0);
  });
});
